/** The effective configuration as YAML (`flowgate config print`), secrets masked. */
import { stringify } from 'yaml';
import { SECRET_KEYS } from './schema.js';

export const MASK = '********';

/** A copy of `config` with every set secret replaced by MASK (unset ones stay null: "not set" is useful). */
export function maskSecrets<T>(config: T, secretKeys: readonly string[] = SECRET_KEYS): T {
  const copy = structuredClone(config);
  for (const key of secretKeys) {
    const path = key.split('.');
    let o: unknown = copy;
    for (const seg of path.slice(0, -1))
      o = o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[seg] : undefined;
    const last = path[path.length - 1];
    if (o !== null && typeof o === 'object') {
      const obj = o as Record<string, unknown>;
      if (obj[last] !== null && obj[last] !== undefined) obj[last] = MASK;
    }
  }
  return copy;
}

export function printConfig(config: unknown, secretKeys: readonly string[] = SECRET_KEYS): string {
  return stringify(maskSecrets(config, secretKeys), { lineWidth: 0 });
}
