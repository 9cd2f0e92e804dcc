/**
 * Schema introspection shared by the environment/flag overrides and the error messages: which
 * key a path names, what type its value has (to coerce text), and the closest known key to a typo.
 */
import type { z } from 'zod';

export type ValueKind = 'number' | 'boolean' | 'string' | 'list' | 'object-list' | 'object' | 'other';

export interface KeyInfo {
  kind: ValueKind;
  nullable: boolean;
  /** Keys of an object (kind 'object'). */
  keys: string[];
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
}

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** Strips default/prefault/optional/nullable/pipe wrappers, noting whether null is accepted. */
function unwrap(s: z.ZodType): { schema: z.ZodType; nullable: boolean } {
  let nullable = false;
  for (let i = 0; i < 16; i++) {
    const d = defOf(s);
    if (d.type === 'nullable') nullable = true;
    if (
      d.innerType &&
      ['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(d.type)
    ) {
      s = d.innerType;
    } else if (d.type === 'pipe' && d.in) {
      s = d.in;
    } else {
      break;
    }
  }
  return { schema: s, nullable };
}

function info(s: z.ZodType): KeyInfo {
  const { schema, nullable } = unwrap(s);
  const d = defOf(schema);
  let kind: ValueKind = 'other';
  let keys: string[] = [];
  if (d.type === 'number' || d.type === 'int') kind = 'number';
  else if (d.type === 'boolean') kind = 'boolean';
  else if (d.type === 'string' || d.type === 'enum') kind = 'string';
  else if (d.type === 'object') {
    kind = 'object';
    keys = Object.keys(d.shape ?? {});
  } else if (d.type === 'array' && d.element) {
    kind = info(d.element).kind === 'object' ? 'object-list' : 'list';
  }
  return { kind, nullable, keys };
}

/** The schema reached by `path` (array indices step into the element), or null if no such key. */
export function schemaAt(root: z.ZodType, path: readonly (string | number)[]): z.ZodType | null {
  let s = root;
  for (const seg of path) {
    const d = defOf(unwrap(s).schema);
    if (d.type === 'object' && typeof seg === 'string' && d.shape && Object.hasOwn(d.shape, seg)) {
      s = d.shape[seg];
    } else if (d.type === 'array' && d.element && typeof seg === 'number') {
      s = d.element;
    } else {
      return null;
    }
  }
  return s;
}

export function keyInfo(root: z.ZodType, path: readonly (string | number)[]): KeyInfo | null {
  const s = schemaAt(root, path);
  return s ? info(s) : null;
}

/** "exporters[2].match" */
export function dottedKey(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** Every dotted key path of objects in the schema (not stepping into lists). */
function allKeys(root: z.ZodType, prefix: string[] = []): string[][] {
  const i = info(schemaAt(root, prefix) ?? root);
  if (i.kind !== 'object') return [];
  return i.keys.flatMap((k) => [[...prefix, k], ...allKeys(root, [...prefix, k])]);
}

/**
 * The known key closest to `key` under `parent`: a sibling within a small edit distance, or the
 * same key name in another section (udpbuffer under general → flow.udpbuffer).
 */
export function suggestKey(
  root: z.ZodType,
  parent: readonly (string | number)[],
  key: string,
): string | null {
  const siblings = keyInfo(root, parent)?.keys ?? [];
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const s of siblings) {
    const d = distance(key.toLowerCase(), s);
    if (d < bestDistance) {
      best = s;
      bestDistance = d;
    }
  }
  if (best !== null) return dottedKey([...parent, best]);
  const elsewhere = allKeys(root).find((p) => p[p.length - 1] === key.toLowerCase());
  return elsewhere ? dottedKey(elsewhere) : null;
}
