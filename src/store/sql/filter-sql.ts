/**
 * Compiles a FilterExpr (query/filter-ast.ts) to a SQL boolean expression over the flow table of
 * store/duckdb/schema.ts. No bind parameters are needed and none is used, so it must be safe by
 * construction: field names come from fixed whitelists (never from the AST's strings), numbers must
 * be finite, strings are quoted by the dialect (DuckDB: quotes doubled; ClickHouse: backslash and
 * quote escaped), CIDRs become integer ranges. A SqlDialect holds the few spellings that differ.
 *
 * Two-valued logic: a comparison on an unknown (NULL) field is false, so `not` of it is true, as
 * in memory; every leaf is wrapped in coalesce(..., false) so SQL's NULL never leaks through `not`.
 */
import type { AddressField, FilterExpr, NumericField, StringField } from '../../query/filter-ast.js';
import { cidrBounds, highHalf, lowHalf } from './address-int.js';

const NUMERIC_COLUMNS: ReadonlySet<NumericField> = new Set<NumericField>([
  'srcport',
  'dstport',
  'protocolint',
  'srcas',
  'dstas',
  'input',
  'output',
  'srcvlan',
  'dstvlan',
  'tos',
  'ipversion',
  'samplerate',
  'flowversion',
  'packets',
  'bits',
  'duration',
  'icmptype',
  'icmpcode',
  'srcmask',
  'dstmask',
]);

const STRING_COLUMNS: ReadonlySet<StringField> = new Set<StringField>([
  'flowtype',
  'flowsrcname',
  'site',
  'srccountry',
  'dstcountry',
  'inputname',
  'outputname',
  'flowdirection',
  'fwevent',
  'natevent',
]);

const ADDRESS_FIELDS: ReadonlySet<AddressField> = new Set<AddressField>([
  'srcip',
  'dstip',
  'nexthop',
  'bgpnexthop',
  'flowsrcip',
  'postnatsrcip',
  'postnatdstip',
]);

const OPS: ReadonlySet<string> = new Set(['=', '!=', '<', '<=', '>', '>=']);

/** A filter that cannot be compiled (unknown field, non-finite number, bad CIDR). */
export class FilterSqlError extends Error {}

/** A SQL string literal: single quotes doubled, NUL refused (DuckDB strings cannot hold it). */
export function sqlString(v: string): string {
  if (v.includes('\0')) throw new FilterSqlError('filter string contains a NUL character');
  return `'${v.replaceAll("'", "''")}'`;
}

function sqlNumber(v: number): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new FilterSqlError(`filter value ${String(v)} is not a finite number`);
  }
  return String(v);
}

/**
 * The spellings that differ between SQL engines. Everything else filterToSql writes (quoted
 * column names, comparisons, AND/OR/NOT, BETWEEN, coalesce, lower) is common to DuckDB and
 * ClickHouse.
 */
export interface SqlDialect {
  /** The boolean literals (ClickHouse 18.16 has none: 1 and 0). */
  true: string;
  false: string;
  /** An unsigned 64-bit literal (an address half; above 2^63 it must not read as signed). */
  uint64(v: bigint): string;
  /** Whether the list column `column` holds the string literal `literal`. */
  listContains(column: string, literal: string): string;
  /** `column` AND `mask`, bitwise. */
  bitAnd(column: string, mask: string): string;
  /** A string literal of `v`; throws FilterSqlError for a value the engine cannot hold. */
  string(v: string): string;
}

export const DUCKDB_DIALECT: SqlDialect = {
  true: 'TRUE',
  false: 'false',
  uint64: (v) => `${v.toString()}::UBIGINT`,
  listContains: (column, literal) => `list_contains(${column}, ${literal})`,
  bitAnd: (column, mask) => `(${column} & ${mask})`,
  string: sqlString,
};

/**
 * A ClickHouse string literal: there a backslash escapes, so backslash and quote are escaped
 * (with only quotes doubled, a value ending in a backslash would end the literal early); NUL is
 * written as its escape (ClickHouse strings hold it).
 */
export function clickHouseString(v: string): string {
  return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\0', '\\0')}'`;
}

/**
 * ClickHouse (18.16 and later): a literal above 2^63 is read as UInt64 without a cast, `has` is
 * list_contains, `bitAnd` is `&` (18.16 has no operator for it).
 */
export const CLICKHOUSE_DIALECT: SqlDialect = {
  true: '1',
  false: '0',
  uint64: (v) => v.toString(),
  listContains: (column, literal) => `has(${column}, ${literal})`,
  bitAnd: (column, mask) => `bitAnd(${column}, ${mask})`,
  string: clickHouseString,
};

function quoted(column: string): string {
  return `"${column}"`;
}

function leaf(sql: string, d: SqlDialect): string {
  return `coalesce(${sql}, ${d.false})`;
}

function cidrSql(field: AddressField, network: string, prefix: number, family: 4 | 6, d: SqlDialect): string {
  const ubigint = d.uint64;
  if (!ADDRESS_FIELDS.has(field)) throw new FilterSqlError(`unknown address field ${String(field)}`);
  const b = cidrBounds(network, prefix, family);
  if (b === null) throw new FilterSqlError(`invalid IPv${family} network ${network}/${prefix}`);
  const fam = quoted(`${field}_fam`);
  const hi = quoted(`${field}_hi`);
  const lo = quoted(`${field}_lo`);
  if (family === 4) {
    return leaf(`${fam} = 4 AND ${lo} BETWEEN ${ubigint(b.first)} AND ${ubigint(b.last)}`, d);
  }
  const hf = highHalf(b.first);
  const hl = highHalf(b.last);
  if (prefix <= 64) return leaf(`${fam} = 6 AND ${hi} BETWEEN ${ubigint(hf)} AND ${ubigint(hl)}`, d);
  return leaf(
    `${fam} = 6 AND ${hi} = ${ubigint(hf)} AND ${lo} BETWEEN ${ubigint(lowHalf(b.first))} AND ${ubigint(lowHalf(b.last))}`,
    d,
  );
}

/**
 * The WHERE fragment for `f` in `dialect` (DuckDB by default); true for no filter. Throws
 * FilterSqlError on an invalid AST.
 */
export function filterToSql(f: FilterExpr | null, dialect: SqlDialect = DUCKDB_DIALECT): string {
  const d = dialect;
  if (f === null) return d.true;
  switch (f.kind) {
    case 'any':
      return d.true;
    case 'and':
      return `(${filterToSql(f.left, d)} AND ${filterToSql(f.right, d)})`;
    case 'or':
      return `(${filterToSql(f.left, d)} OR ${filterToSql(f.right, d)})`;
    case 'not':
      return `(NOT ${filterToSql(f.expr, d)})`;
    case 'num':
      if (!NUMERIC_COLUMNS.has(f.field)) throw new FilterSqlError(`unknown numeric field ${String(f.field)}`);
      if (!OPS.has(f.op)) throw new FilterSqlError(`unknown operator ${String(f.op)}`);
      return leaf(`${quoted(f.field)} ${f.op} ${sqlNumber(f.value)}`, d);
    case 'str':
      if (!STRING_COLUMNS.has(f.field)) throw new FilterSqlError(`unknown string field ${String(f.field)}`);
      if (f.op !== '=' && f.op !== '!=') throw new FilterSqlError(`unknown operator ${String(f.op)}`);
      // Codes and names compare case-insensitively (filter-ast.ts).
      return leaf(`lower(${quoted(f.field)}) ${f.op} ${d.string(f.value.toLowerCase())}`, d);
    case 'cidr':
      return cidrSql(f.field, f.network, f.prefix, f.family, d);
    case 'tag':
      return leaf(d.listContains('"tags"', d.string(f.value)), d);
    case 'flags': {
      const mask = sqlNumber(f.mask);
      if (!Number.isInteger(f.mask) || f.mask < 0)
        throw new FilterSqlError(`invalid TCP flag mask ${f.mask}`);
      return leaf(`"protocolint" = 6 AND ${d.bitAnd('"tcpflagsint"', mask)} = ${mask}`, d);
    }
    default:
      throw new FilterSqlError(`unknown filter node ${JSON.stringify((f as { kind?: unknown }).kind)}`);
  }
}
