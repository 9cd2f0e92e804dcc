/**
 * Overrides from the environment (FLOWGATE_<SECTION>_<KEY>, deeper keys add segments) and from
 * flags (dotted keys). Keys contain no underscores, so each `_` is one level. Text values are
 * coerced to the key's type; a value that does not coerce is passed on as text, so the schema
 * reports it with the key ("expected a positive integer, got "big"").
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { dottedKey, type KeyInfo, keyInfo, suggestKey } from './keys.js';

export const ENV_PREFIX = 'FLOWGATE_';

export interface Override {
  path: string[];
  value: unknown;
  /** "environment variable FLOWGATE_FLOW_UDPBUFFER", "flag --listen" */
  source: string;
}

export interface Overrides {
  overrides: Override[];
  problems: string[];
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Text from the environment or --set as a value of the key's type; null when it cannot be (problem). */
export function coerceText(text: string, key: KeyInfo): { value: unknown } | { problem: string } {
  const t = text.trim();
  if (key.nullable && t === '') return { value: null };
  switch (key.kind) {
    case 'number':
      return { value: NUMBER.test(t) ? Number(t) : text };
    case 'boolean': {
      const l = t.toLowerCase();
      if (l === 'true' || l === '1') return { value: true };
      if (l === 'false' || l === '0') return { value: false };
      return { value: text };
    }
    case 'list':
      return {
        value: t
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      };
    case 'object-list':
      // A list of mappings has no natural flat text form: take YAML/JSON flow syntax.
      try {
        return { value: t === '' ? [] : parseYaml(t) };
      } catch (e) {
        return {
          problem: `expected a list in YAML flow syntax ([{match: 10.0.0.0/8, name: edge}]): ${firstLine(e)}`,
        };
      }
    case 'object':
      return { problem: 'names a section, not a key: set its keys one by one' };
    default:
      return { value: text };
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/** Reads a secret file: content with one trailing newline removed (what `echo x > file` leaves). */
export function readSecretFile(file: string): { value: string } | { problem: string } {
  try {
    return { value: readFileSync(file, 'utf8').replace(/\r?\n$/, '') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { problem: `cannot read ${file}${code ? ` (${code})` : ''}` };
  }
}

export function environmentOverrides(env: NodeJS.ProcessEnv, schema: z.ZodType): Overrides {
  const overrides: Override[] = [];
  const problems: string[] = [];
  const sections = keyInfo(schema, [])?.keys ?? [];
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const tokens = name.slice(ENV_PREFIX.length).toLowerCase().split('_');
    // Only variables that start with a section name are ours: Kubernetes injects FLOWGATE_PORT,
    // FLOWGATE_SERVICE_HOST, ... for a Service named flowgate, and those must not be errors.
    if (!sections.includes(tokens[0])) continue;
    const source = `environment variable ${name}`;
    let path = tokens;
    let key = keyInfo(schema, path);
    let text: string = raw;
    if (
      (key === null || key.kind === 'object') &&
      tokens.length > 1 &&
      tokens[tokens.length - 1] === 'file'
    ) {
      const target = tokens.slice(0, -1);
      const targetKey = keyInfo(schema, target);
      if (targetKey !== null && targetKey.kind !== 'object') {
        const secret = readSecretFile(raw);
        if ('problem' in secret) {
          problems.push(`${source}: ${dottedKey(target)}: ${secret.problem}`);
          continue;
        }
        path = target;
        key = targetKey;
        text = secret.value;
      }
    }
    if (key === null) {
      problems.push(`${source}: ${unknownKey(schema, path)}`);
      continue;
    }
    const coerced = coerceText(text, key);
    if ('problem' in coerced) problems.push(`${source}: ${dottedKey(path)}: ${coerced.problem}`);
    else overrides.push({ path, value: coerced.value, source });
  }
  return { overrides, problems };
}

/** Flags as dotted keys; text values are coerced like environment values, others taken as they are. */
export function flagOverrides(
  flags: Record<string, unknown>,
  schema: z.ZodType,
  labels: Record<string, string> = {},
): Overrides {
  const overrides: Override[] = [];
  const problems: string[] = [];
  for (const [dotted, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const source = `flag ${labels[dotted] ?? '--set'}`;
    const path = dotted.split('.');
    const key = keyInfo(schema, path);
    if (key === null) {
      problems.push(`${source}: ${unknownKey(schema, path)}`);
      continue;
    }
    if (typeof value !== 'string') {
      overrides.push({ path, value, source });
      continue;
    }
    const coerced = coerceText(value, key);
    if ('problem' in coerced) problems.push(`${source}: ${dotted}: ${coerced.problem}`);
    else overrides.push({ path, value: coerced.value, source });
  }
  return { overrides, problems };
}

/** "flow.udpbufer: unknown key (did you mean flow.udpbuffer?)", for the deepest unknown segment. */
export function unknownKey(schema: z.ZodType, path: readonly string[]): string {
  let known = 0;
  while (known < path.length && keyInfo(schema, path.slice(0, known + 1)) !== null) known++;
  const parent = path.slice(0, known);
  const hint = suggestKey(schema, parent, path[known] ?? '');
  return `${dottedKey(path.slice(0, known + 1))}: unknown key${hint ? ` (did you mean ${hint}?)` : ''}`;
}
