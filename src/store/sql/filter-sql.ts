/**
 * Compiles a FilterExpr (query/filter-ast.ts) to a SQL boolean expression over the flow table of
 * store/duckdb/schema.ts. No bind parameters are needed and none is used, so it must be safe by
 * construction: field names come from fixed whitelists (never from the AST's strings), numbers must
 * be finite, strings are single-quoted with quotes doubled, CIDRs become integer ranges.
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

function ubigint(v: bigint): string {
  return `${v.toString()}::UBIGINT`;
}

function quoted(column: string): string {
  return `"${column}"`;
}

function leaf(sql: string): string {
  return `coalesce(${sql}, false)`;
}

function cidrSql(field: AddressField, network: string, prefix: number, family: 4 | 6): string {
  if (!ADDRESS_FIELDS.has(field)) throw new FilterSqlError(`unknown address field ${String(field)}`);
  const b = cidrBounds(network, prefix, family);
  if (b === null) throw new FilterSqlError(`invalid IPv${family} network ${network}/${prefix}`);
  const fam = quoted(`${field}_fam`);
  const hi = quoted(`${field}_hi`);
  const lo = quoted(`${field}_lo`);
  if (family === 4) {
    return leaf(`${fam} = 4 AND ${lo} BETWEEN ${ubigint(b.first)} AND ${ubigint(b.last)}`);
  }
  const hf = highHalf(b.first);
  const hl = highHalf(b.last);
  if (prefix <= 64) return leaf(`${fam} = 6 AND ${hi} BETWEEN ${ubigint(hf)} AND ${ubigint(hl)}`);
  return leaf(
    `${fam} = 6 AND ${hi} = ${ubigint(hf)} AND ${lo} BETWEEN ${ubigint(lowHalf(b.first))} AND ${ubigint(lowHalf(b.last))}`,
  );
}

/** The WHERE fragment for `f`; `TRUE` for no filter. Throws FilterSqlError on an invalid AST. */
export function filterToSql(f: FilterExpr | null): string {
  if (f === null) return 'TRUE';
  switch (f.kind) {
    case 'any':
      return 'TRUE';
    case 'and':
      return `(${filterToSql(f.left)} AND ${filterToSql(f.right)})`;
    case 'or':
      return `(${filterToSql(f.left)} OR ${filterToSql(f.right)})`;
    case 'not':
      return `(NOT ${filterToSql(f.expr)})`;
    case 'num':
      if (!NUMERIC_COLUMNS.has(f.field)) throw new FilterSqlError(`unknown numeric field ${String(f.field)}`);
      if (!OPS.has(f.op)) throw new FilterSqlError(`unknown operator ${String(f.op)}`);
      return leaf(`${quoted(f.field)} ${f.op} ${sqlNumber(f.value)}`);
    case 'str':
      if (!STRING_COLUMNS.has(f.field)) throw new FilterSqlError(`unknown string field ${String(f.field)}`);
      if (f.op !== '=' && f.op !== '!=') throw new FilterSqlError(`unknown operator ${String(f.op)}`);
      // Codes and names compare case-insensitively (filter-ast.ts).
      return leaf(`lower(${quoted(f.field)}) ${f.op} ${sqlString(f.value.toLowerCase())}`);
    case 'cidr':
      return cidrSql(f.field, f.network, f.prefix, f.family);
    case 'tag':
      return leaf(`list_contains("tags", ${sqlString(f.value)})`);
    case 'flags': {
      const mask = sqlNumber(f.mask);
      if (!Number.isInteger(f.mask) || f.mask < 0)
        throw new FilterSqlError(`invalid TCP flag mask ${f.mask}`);
      return leaf(`"protocolint" = 6 AND ("tcpflagsint" & ${mask}) = ${mask}`);
    }
    default:
      throw new FilterSqlError(`unknown filter node ${JSON.stringify((f as { kind?: unknown }).kind)}`);
  }
}
