/**
 * The effective configuration: defaults < YAML file < environment < flags. Every problem is
 * reported at once, each naming where the value came from (file:line, environment variable,
 * flag), the dotted key and what is wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { environmentOverrides, flagOverrides } from './env.js';
import { ConfigError } from './errors.js';
import { dottedKey, suggestKey } from './keys.js';
import { configSchema, SECRET_KEYS, showValue } from './schema.js';
import type { FlowgateConfig } from './types.js';

export const DEFAULT_CONFIG_FILE = '/etc/flowgate/flowgate.yaml';

export interface LoadOptions {
  /** YAML file; when absent: $FLOWGATE_CONFIG, else DEFAULT_CONFIG_FILE if it exists, else none. */
  file?: string | null;
  env?: NodeJS.ProcessEnv;
  /** Dotted keys ("flow.udpbuffer"); text values are coerced like environment values. */
  flags?: Record<string, unknown>;
  /** How a flag key is named in messages ("flow.listen" → "--listen"); default "--set". */
  flagLabels?: Record<string, string>;
  /** Tests only: where the default file is looked for. */
  defaultFile?: string;
}

export interface LoadedConfig<T = FlowgateConfig> {
  config: T;
  /** The file read, or null when running on defaults (and environment/flags). */
  file: string | null;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  return loadConfigWith(configSchema, SECRET_KEYS, opts);
}

interface FileSource {
  name: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

/** loadConfig against any schema and secret list (tests exercise secrets with their own). */
export function loadConfigWith<T>(
  schema: z.ZodType<T>,
  secretKeys: readonly string[],
  opts: LoadOptions = {},
): LoadedConfig<T> {
  const env = opts.env ?? process.env;
  const file = chooseFile(opts, env);
  const problems: string[] = [];

  let raw: Record<string, unknown> = {};
  let source: FileSource | null = null;
  if (file !== null) {
    const read = readYaml(file);
    if ('problems' in read) throw new ConfigError(read.problems);
    source = read.source;
    const js = toPlainValue(source);
    if (js !== null && js !== undefined) {
      if (typeof js !== 'object' || Array.isArray(js)) {
        throw new ConfigError([`${file}:1: expected a mapping of sections, got ${showValue(js)}`]);
      }
      raw = js as Record<string, unknown>;
    }
  }

  const fromEnv = environmentOverrides(env, schema);
  const fromFlags = flagOverrides(opts.flags ?? {}, schema, opts.flagLabels);
  problems.push(...fromEnv.problems, ...fromFlags.problems);
  const origins = new Map<string, string>();
  for (const o of [...fromEnv.overrides, ...fromFlags.overrides]) {
    setIn(raw, o.path, o.value);
    origins.set(o.path.join('.'), o.source);
  }

  const result = schema.safeParse(raw);
  if (result.success && problems.length === 0) return { config: result.data, file };
  if (!result.success) {
    const ctx = { schema, raw, source, origins, secretKeys };
    const described = result.error.issues.flatMap((issue) => describeIssue(issue, ctx));
    // File problems in file order (zod reports in schema order), then environment and flags.
    const lineNo = (p: string) =>
      source && p.startsWith(`${source.name}:`)
        ? Number.parseInt(p.slice(source.name.length + 1), 10)
        : Infinity;
    problems.push(...described.sort((a, b) => lineNo(a) - lineNo(b)));
  }
  throw new ConfigError(problems);
}

function chooseFile(opts: LoadOptions, env: NodeJS.ProcessEnv): string | null {
  if (opts.file) return opts.file;
  if (env.FLOWGATE_CONFIG) return env.FLOWGATE_CONFIG;
  const fallback = opts.defaultFile ?? DEFAULT_CONFIG_FILE;
  return existsSync(fallback) ? fallback : null;
}

function readYaml(file: string): { source: FileSource } | { problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { problems: [`${file}: cannot read the configuration file${code ? ` (${code})` : ''}`] };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const line = lines.linePos(e.pos[0]).line;
        return `${file}:${line}: YAML syntax: ${e.message.split('\n')[0]}`;
      }),
    };
  }
  return { source: { name: file, doc, lines } };
}

/**
 * The document as plain values. The yaml library refuses a document whose aliases expand past
 * maxAliasCount ("billion laughs") by throwing a bare ReferenceError; a configuration file must
 * fail like any other bad file, with a ConfigError naming it.
 */
function toPlainValue(source: FileSource): unknown {
  try {
    return source.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ConfigError([`${source.name}:1: YAML aliases: ${(e as Error).message}`]);
  }
}

function setIn(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = obj;
  for (const seg of path.slice(0, -1)) {
    const next = o[seg];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) o[seg] = {};
    o = o[seg] as Record<string, unknown>;
  }
  o[path[path.length - 1]] = value;
}

function getIn(obj: unknown, path: readonly PropertyKey[]): unknown {
  let o = obj;
  for (const seg of path) {
    if (o === null || typeof o !== 'object') return undefined;
    o = (o as Record<PropertyKey, unknown>)[seg];
  }
  return o;
}

interface IssueContext {
  schema: z.ZodType;
  raw: Record<string, unknown>;
  source: FileSource | null;
  origins: Map<string, string>;
  secretKeys: readonly string[];
}

function describeIssue(issue: z.core.$ZodIssue, ctx: IssueContext): string[] {
  const parent = issue.path as (string | number)[];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const path = [...parent, k];
      const hint = suggestKey(ctx.schema, parent, k);
      return `${where(path, ctx, true)}: ${dottedKey(path)}: unknown key${hint ? ` (did you mean ${hint}?)` : ''}`;
    });
  }
  const dotted = dottedKey(parent);
  let what = issue.message;
  if (ctx.secretKeys.includes(parent.join('.'))) {
    what = 'invalid value (not shown: the key is a secret)';
  } else if (issue.code === 'invalid_type' && getIn(ctx.raw, parent) === undefined) {
    what = 'required key missing';
  }
  return [`${where(parent, ctx)}: ${dotted === '' ? '(top level)' : dotted}: ${what}`];
}

/** "flowgate.yaml:12", "environment variable FLOWGATE_FLOW_UDPBUFFER", "flag --listen", or "defaults". */
function where(path: readonly (string | number)[], ctx: IssueContext, atKey = false): string {
  for (let n = path.length; n > 0; n--) {
    const origin = ctx.origins.get(path.slice(0, n).join('.'));
    if (origin) return origin;
  }
  if (ctx.source === null) return 'defaults';
  return `${ctx.source.name}:${lineOf(ctx.source, path, atKey)}`;
}

/** Line of the deepest YAML node along `path`: its value if present (and not atKey), else its key. */
function lineOf(source: FileSource, path: readonly (string | number)[], atKey: boolean): number {
  let node: unknown = source.doc.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      if (isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
      if (atKey && i === path.length - 1) break;
      node = pair.value;
      const range = (node as Node | null)?.range;
      if (range) offset = range[0];
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      const range = (node as Node | null)?.range;
      if (!range) break;
      offset = range[0];
    } else {
      break;
    }
  }
  return source.lines.linePos(offset).line;
}
