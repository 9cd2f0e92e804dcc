/**
 * A bad enrichment option, found while compiling the configuration (never on the hot path).
 * `path` is where the value sits in the options object ("tags[2].dstports[0]") so the config loader
 * can prefix it with the section name and the file position.
 */
export class EnrichOptionError extends Error {
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'EnrichOptionError';
    this.path = path;
  }
}

/** A value as an operator wrote it, for error texts: strings quoted, objects named. */
export function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'a mapping';
  return String(v);
}

/** The entries of a list option, or an error naming the option. */
export function listOption(v: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(v)) throw new EnrichOptionError(path, `expected a list, got ${shown(v)}`);
  return v;
}

/** A plain mapping with only `allowed` keys: a mistyped key is an error, not a silently ignored rule. */
export function mappingOption(v: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new EnrichOptionError(path, `expected a mapping, got ${shown(v)}`);
  }
  for (const key of Object.keys(v)) {
    if (!allowed.includes(key)) {
      throw new EnrichOptionError(path, `unknown key "${key}" (expected one of ${allowed.join(', ')})`);
    }
  }
  return v as Record<string, unknown>;
}
