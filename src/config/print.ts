/** The effective configuration as YAML (`flowgate config print`), secrets masked. */
import { stringify } from 'yaml';
import { SECRET_KEYS } from './schema.js';

export const MASK = '********';

/**
 * A copy of `config` with every set secret replaced by MASK (unset ones stay null: "not set" is
 * useful). A `*` segment of a secret key matches every list item or mapping key
 * (`notify.webhooks.*.headers.*`).
 */
export function maskSecrets<T>(config: T, secretKeys: readonly string[] = SECRET_KEYS): T {
  const copy = structuredClone(config);
  for (const key of secretKeys) mask(copy, key.split('.'));
  return copy;
}

function mask(o: unknown, path: readonly string[]): void {
  if (o === null || typeof o !== 'object') return;
  const obj = o as Record<string, unknown>;
  const [seg, ...rest] = path as [string, ...string[]];
  const keys = seg === '*' ? Object.keys(obj) : [seg];
  for (const k of keys) {
    if (rest.length > 0) mask(obj[k], rest);
    else if (obj[k] !== null && obj[k] !== undefined) obj[k] = MASK;
  }
}

export function printConfig(config: unknown, secretKeys: readonly string[] = SECRET_KEYS): string {
  return stringify(maskSecrets(config, secretKeys), { lineWidth: 0 });
}
