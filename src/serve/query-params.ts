/**
 * Query-string parameters of the query routes into store queries. Every problem is a
 * QueryParamError with a message an operator can act on (it becomes HTTP 400); a filter syntax
 * error keeps the column it points at.
 */
import type { FilterExpr } from '../query/filter-ast.js';
import { FilterSyntaxError, parseFilter } from '../query/filter-parse.js';
import { MAX_DATE_MS } from '../record/date-range.js';
import { DIMENSIONS, type Dimension, METRICS, type Metric, type TimeRange } from '../store/contract.js';

export { DIMENSIONS, METRICS };

/** Without `from`, a query covers the last hour. */
export const DEFAULT_RANGE_MS = 3_600_000;
/** Default time-series resolution: about this many points over the range. */
const TARGET_POINTS = 120;
/** Bucket widths (s) chosen by default: minute multiples read the per-minute rollup. */
const NICE_BUCKETS = [
  1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
];
/** A bucket finer than this over the range would be too many points to return. */
const MAX_POINTS = 10_000;

export class QueryParamError extends Error {
  override readonly name = 'QueryParamError';
  constructor(
    message: string,
    /** Column of a filter syntax error (0-based), else null. */
    readonly position: number | null = null,
    /** The accepted values when one of a list was expected. */
    readonly allowed: readonly string[] | null = null,
  ) {
    super(message);
  }
}

export type QueryString = Record<string, string | string[] | undefined>;

/** A parameter given once (a repeated parameter is refused rather than guessed). */
function single(q: QueryString, name: string): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw new QueryParamError(`${name} is given ${v.length} times: give it once`);
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** Epoch milliseconds (digits) or an ISO 8601 date-time. */
export function parseTime(text: string, name: string): number {
  if (/^-?\d+$/.test(text)) {
    const ms = Number(text);
    if (Math.abs(ms) > MAX_DATE_MS)
      throw new QueryParamError(`${name} ${text} is out of range: epoch milliseconds within ±${MAX_DATE_MS}`);
    return ms;
  }
  // Date.parse also takes "March 7" and friends: only ISO 8601 is promised.
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new QueryParamError(
      `${name} "${text}" is neither epoch milliseconds nor an ISO 8601 time (e.g. 2024-05-01T12:00:00Z)`,
    );
  return ms;
}

export function parseRange(q: QueryString, nowMs: number): TimeRange {
  const toText = single(q, 'to');
  const fromText = single(q, 'from');
  const toMs = toText === undefined ? nowMs : parseTime(toText, 'to');
  const fromMs = fromText === undefined ? toMs - DEFAULT_RANGE_MS : parseTime(fromText, 'from');
  if (fromMs >= toMs)
    throw new QueryParamError(
      `from (${new Date(fromMs).toISOString()}) must be before to (${new Date(toMs).toISOString()})`,
    );
  return { fromMs, toMs };
}

/** null when no filter (or an empty one) is given: every record. */
export function parseFilterParam(q: QueryString): FilterExpr | null {
  const text = single(q, 'filter');
  if (text === undefined) return null;
  // The parser takes NUL inside a value, but a DuckDB string cannot hold it (filterToSql refuses).
  const nul = text.indexOf('\0');
  if (nul >= 0) throw new QueryParamError(`filter has a NUL character at column ${nul + 1}`, nul);
  try {
    return parseFilter(text);
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw new QueryParamError(err.message, err.position);
    throw err;
  }
}

export function parseLimit(q: QueryString, fallback: number, max: number): number {
  const text = single(q, 'limit');
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max)
    throw new QueryParamError(`limit "${text}" must be an integer from 1 to ${max}`);
  return Number(text);
}

function oneOf<T extends string>(q: QueryString, name: string, allowed: readonly T[], fallback: T): T {
  const text = single(q, name);
  if (text === undefined) return fallback;
  const v = allowed.find((a) => a === text.toLowerCase());
  if (v === undefined)
    throw new QueryParamError(`${name} "${text}" is not one of ${allowed.join(', ')}`, null, allowed);
  return v;
}

export function parseDimension(q: QueryString, name: string, fallback: Dimension): Dimension {
  return oneOf(q, name, DIMENSIONS, fallback);
}

export function parseMetric(q: QueryString): Metric {
  return oneOf(q, 'metric', METRICS, 'bits');
}

/** null when no `groupby` is given: one series. */
export function parseGroupBy(q: QueryString): Dimension | null {
  return single(q, 'groupby') === undefined ? null : parseDimension(q, 'groupby', 'srcip');
}

/** Bucket width in seconds: as given, else the nice width giving about 120 points over the range. */
export function parseBucket(q: QueryString, range: TimeRange): number {
  const spanSec = (range.toMs - range.fromMs) / 1000;
  const text = single(q, 'bucket');
  if (text === undefined) {
    const want = spanSec / TARGET_POINTS;
    return NICE_BUCKETS.find((b) => b >= want) ?? Math.ceil(want / 86_400) * 86_400;
  }
  // Above 2^53 the number is no longer the one written (and 400 digits read as Infinity).
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text)))
    throw new QueryParamError(`bucket "${text}" must be a positive number of seconds`);
  const bucket = Number(text);
  if (spanSec / bucket > MAX_POINTS)
    throw new QueryParamError(
      `bucket ${bucket} s over this range gives more than ${MAX_POINTS} points: use at least ${Math.ceil(spanSec / MAX_POINTS)} s`,
    );
  return bucket;
}
