/**
 * The ClickHouse flow table: the DuckDB store's columns (duckdb/schema.ts, one list for both
 * stores) in ClickHouse types, plus `day` (the UTC day of `ts`, the partition key, so retention
 * drops whole days) and `tags_null` (an Array cannot be Nullable: it tells a null tag list from
 * an empty one). Addresses are text + family + two UInt64 halves, as in DuckDB, because 18.16 has
 * no IPv4/IPv6 types and the filter compiler (sql/filter-sql.ts) ranges over the halves.
 *
 * Schema changes are additive: open() adds every column the table lacks (ALTER TABLE ADD COLUMN,
 * on each shard's local table and on the Distributed table), so an older table keeps its rows.
 */
import { FLOW_COLUMNS } from '../duckdb/schema.js';

/** What the server can do, from `SELECT version()` at open. */
export interface ServerCaps {
  version: string;
  major: number;
  /**
   * MODERN BRANCH (19.x and later): LowCardinality without the experimental setting. 18.16 keeps
   * plain strings; both read and filter the same.
   */
  lowCardinality: boolean;
}

export function serverCaps(version: string): ServerCaps {
  const major = Number.parseInt(version.split('.')[0] ?? '', 10);
  if (!Number.isFinite(major)) throw new Error(`ClickHouse version "${version}" not understood`);
  return { version, major, lowCardinality: major >= 19 };
}

/** Strings with a handful of values per store: dictionary-encoded where the server can. */
const LOW_CARDINALITY = new Set([
  'flowtype',
  'flowsrcname',
  'site',
  'srccountry',
  'dstcountry',
  'flowdirection',
]);

function chType(name: string, duckType: string, caps: ServerCaps): string {
  const notNull = duckType.endsWith(' NOT NULL');
  const base = duckType.replace(' NOT NULL', '');
  // Address integers are never NULL: family 0 marks a missing address, and no filter matches it.
  if (/_(fam|hi|lo)$/.test(name)) return base === 'UTINYINT' ? 'UInt8' : 'UInt64';
  const t: Record<string, string> = {
    DOUBLE: 'Float64',
    INTEGER: 'Int32',
    UINTEGER: 'UInt32',
    BOOLEAN: 'UInt8',
    VARCHAR: 'String',
  };
  if (base === 'VARCHAR[]') return 'Array(String)';
  const ch = t[base];
  if (ch === undefined) throw new Error(`no ClickHouse type for ${name} ${duckType}`);
  if (notNull) return ch;
  if (caps.lowCardinality && LOW_CARDINALITY.has(name)) return `LowCardinality(Nullable(${ch}))`;
  return `Nullable(${ch})`;
}

/** Column name and ClickHouse type, in table (and insert) order. */
export function flowColumns(caps: ServerCaps): Array<[string, string]> {
  const cols: Array<[string, string]> = [['day', 'Date']];
  for (const [name, type] of FLOW_COLUMNS) {
    cols.push([name, chType(name, type, caps)]);
    if (name === 'tags') cols.push(['tags_null', 'UInt8']);
  }
  // Write order: ties on flow time come back in the order they were written, as from DuckDB,
  // and the same on every query (ClickHouse reads parts in parallel, in no fixed order).
  cols.push(['seq', 'UInt64']);
  return cols;
}

/** Column names in insert order (the same on every server version). */
export const INSERT_COLUMNS: readonly string[] = flowColumns(serverCaps('18.16')).map(([n]) => n);

/** Columns flows() reads back to rebuild a record (row-record.ts), quoted. */
export const RECORD_SELECT: string = [
  ...FLOW_COLUMNS.map(([n]) => n).filter((n) => n !== 'ts' && !/_(fam|hi|lo)$/.test(n)),
  'tags_null',
]
  .map((n) => `"${n}"`)
  .join(', ');

function columnList(caps: ServerCaps): string {
  return flowColumns(caps)
    .map(([n, t]) => `"${n}" ${t}`)
    .join(', ');
}

/** The MergeTree table: one partition per UTC day, rows sorted by flow time within it. */
export function createLocalTableSql(db: string, table: string, caps: ServerCaps): string {
  return `CREATE TABLE IF NOT EXISTS ${db}.${table} (${columnList(caps)})
    ENGINE = MergeTree() PARTITION BY day ORDER BY (ts) SETTINGS index_granularity = 8192`;
}

/**
 * The Distributed table over each shard's local table. Rows are spread by exporter and source
 * address; the key hashes the address integers because a Nullable sharding key is refused.
 */
export function createDistributedTableSql(
  db: string,
  table: string,
  cluster: string,
  localTable: string,
  caps: ServerCaps,
): string {
  return `CREATE TABLE IF NOT EXISTS ${db}.${table} (${columnList(caps)})
    ENGINE = Distributed(${cluster}, ${db}, ${localTable}, cityHash64(flowsrcip_lo, srcip_hi, srcip_lo))`;
}

/** ALTER statements adding the columns `existing` lacks, in table order (after their predecessor). */
export function missingColumnsSql(
  db: string,
  table: string,
  existing: ReadonlySet<string>,
  caps: ServerCaps,
): string[] {
  const out: string[] = [];
  let previous: string | null = null;
  for (const [name, type] of flowColumns(caps)) {
    if (!existing.has(name)) {
      const where = previous === null ? '' : ` AFTER "${previous}"`;
      const dflt = name === 'tags_null' ? ' DEFAULT 1' : '';
      out.push(`ALTER TABLE ${db}.${table} ADD COLUMN "${name}" ${type}${dflt}${where}`);
    }
    previous = name;
  }
  return out;
}
