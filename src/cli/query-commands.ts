/**
 * `flowgate query` and `flowgate top`: ask the running collector's HTTP API (they never open the
 * store themselves: DuckDB allows one process per file, and that is the collector).
 */
import { readFileSync } from 'node:fs';
import type { FlowgateConfig } from '../config/types.js';
import { formatHostPort, parseListenAddress } from '../receive/listen-address.js';
import { DEFAULT_RANGE_MS, parseTime, QueryParamError } from '../serve/query-params.js';
import type { TopRow } from '../store/contract.js';
import type { Output } from './config-command.js';

/** A query over days of raw rows can take a while; a dead socket must not hang the terminal. */
const REQUEST_TIMEOUT_MS = 60_000;

export interface ApiClientOptions {
  /** Base URL of the API (default from api.listen). */
  api?: string;
  /** File holding the bearer token (default: api.token, e.g. from FLOWGATE_API_TOKEN_FILE). */
  tokenFile?: string;
}

export interface QueryCommandOptions extends ApiClientOptions {
  from?: string;
  to?: string;
  limit?: string;
}

export interface TopCommandOptions extends QueryCommandOptions {
  metric?: string;
}

/** Where the collector's API is, from `api.listen` (a wildcard address is reached on loopback). */
export function defaultApiUrl(config: FlowgateConfig): string {
  const { host, port } = parseListenAddress(config.api.listen);
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${formatHostPort(reachable, port)}`;
}

class CommandError extends Error {}

function token(config: FlowgateConfig, opts: ApiClientOptions): string | null {
  if (opts.tokenFile === undefined) return config.api.token;
  try {
    return readFileSync(opts.tokenFile, 'utf8').trim();
  } catch (err) {
    throw new CommandError(`--token-file ${opts.tokenFile}: ${(err as Error).message}`);
  }
}

/** from/to resolved here (not by the API) so the table can show rates over the exact range. */
function range(opts: QueryCommandOptions): { fromMs: number; toMs: number } {
  try {
    const toMs = opts.to === undefined ? Date.now() : parseTime(opts.to, '--to');
    const fromMs = opts.from === undefined ? toMs - DEFAULT_RANGE_MS : parseTime(opts.from, '--from');
    return { fromMs, toMs };
  } catch (err) {
    if (err instanceof QueryParamError) throw new CommandError(err.message);
    throw err;
  }
}

async function apiGet(
  config: FlowgateConfig,
  opts: ApiClientOptions,
  path: string,
  params: Record<string, string | undefined>,
): Promise<unknown> {
  const base = (opts.api ?? defaultApiUrl(config)).replace(/\/+$/, '');
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, v);
  const headers: Record<string, string> = {};
  const secret = token(config, opts);
  if (secret !== null) headers.authorization = `Bearer ${secret}`;
  let res: Response;
  try {
    res = await fetch(`${base}${path}?${query}`, {
      headers,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new CommandError(`no collector API at ${base}: is \`flowgate collect\` running? (${cause})`);
  }
  const body = (await res.json().catch(() => null)) as {
    error?: string;
    message?: string;
    position?: number;
  } | null;
  if (res.ok && body !== null) return body;
  if (res.status === 401)
    throw new CommandError(
      `${base} refused the request (401): give the API token with --token-file, api.token or FLOWGATE_API_TOKEN_FILE`,
    );
  const why = body?.error ?? body?.message ?? res.statusText;
  const err = new CommandError(`${base}${path}: ${res.status} ${why}`);
  if (typeof body?.position === 'number')
    (err as CommandError & { position?: number }).position = body.position;
  throw err;
}

function reportError(err: unknown, filter: string, out: Output): number {
  if (!(err instanceof CommandError)) throw err;
  out.err(`flowgate: ${err.message}\n`);
  const position = (err as CommandError & { position?: number }).position;
  if (position !== undefined) out.err(`  ${filter}\n  ${' '.repeat(position)}^\n`);
  return 1;
}

/** `flowgate query [FILTER]`: matching records as JSON lines, newest first. */
export async function runQuery(
  filter: string,
  opts: QueryCommandOptions,
  config: FlowgateConfig,
  out: Output,
): Promise<number> {
  try {
    const r = range(opts);
    const body = (await apiGet(config, opts, '/api/flows', {
      from: String(r.fromMs),
      to: String(r.toMs),
      filter,
      limit: opts.limit,
    })) as { flows: unknown[] };
    let text = '';
    for (const f of body.flows) text += `${JSON.stringify(f)}\n`;
    out.out(text);
    return 0;
  } catch (err) {
    return reportError(err, filter, out);
  }
}

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

/** (1234567, "b/s") -> "1.23 Mb/s": three significant digits, SI prefixes (network rates are decimal). */
export function humanSi(value: number, unit = ''): string {
  // A few bits/s averaged over a long range: still say how many.
  if (value !== 0 && Math.abs(value) < 1) return `${value.toPrecision(3)} ${unit}`.trimEnd();
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 && Number.isInteger(v) ? 0 : Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0;
  return `${v.toFixed(digits)} ${SI[i]}${unit}`.trimEnd();
}

/** The top-N table: key, average bits/s over the range, packets and flows (estimates). */
export function formatTopTable(dimension: string, rows: readonly TopRow[], rangeMs: number): string {
  const seconds = rangeMs / 1000;
  const lines = [[dimension.toUpperCase(), 'BITS/S', 'PACKETS', 'FLOWS']];
  for (const r of rows)
    lines.push([
      r.key === null ? '(unknown)' : String(r.key),
      humanSi(r.bits / seconds, 'b/s'),
      humanSi(Math.round(r.packets)),
      humanSi(Math.round(r.flows)),
    ]);
  const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  return lines
    .map((l) => l.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
    .join('\n');
}

/** `flowgate top DIMENSION [FILTER]`: a readable table. */
export async function runTop(
  dimension: string,
  filter: string,
  opts: TopCommandOptions,
  config: FlowgateConfig,
  out: Output,
): Promise<number> {
  try {
    const r = range(opts);
    const body = (await apiGet(config, opts, '/api/top', {
      from: String(r.fromMs),
      to: String(r.toMs),
      filter,
      dimension,
      metric: opts.metric,
      limit: opts.limit,
    })) as { rows: TopRow[] };
    const span = `${new Date(r.fromMs).toISOString()} - ${new Date(r.toMs).toISOString()}`;
    out.out(`top ${dimension} by ${opts.metric ?? 'bits'}, ${span}\n`);
    out.out(`${formatTopTable(dimension, body.rows, r.toMs - r.fromMs)}\n`);
    return 0;
  } catch (err) {
    return reportError(err, filter, out);
  }
}
