/**
 * The DuckDB flow table: one row per record, in every per-day partition file.
 *
 * Addresses: the `inet` extension is not bundled (../shared/docs/TOOLS.md), so each address column
 * `x` is stored as its text (`x`, for output and grouping) plus `x_fam` (4 / 6), `x_hi`, `x_lo`
 * (UBIGINT halves of the 128-bit value). IPv4 is stored as family 4 with hi = 0 and lo = the 32-bit
 * address (not ::ffff:-mapped), so a v4 CIDR is one range on `x_lo` and never matches a v6 row.
 *
 * `ts` is the flow time the record is partitioned and range-filtered by (end, else start, else
 * timestamp × 1000). Every scalar field of FlowRecord has its column; the nested enrichment objects,
 * class lists and user extra fields (rare, and never filtered or grouped on) go together into one
 * JSON column `more`, NULL when the record has none. A full JSON line per row was tried first: it
 * cost 9× the disk and 4.5× the append time (bench/duckdb-append.ts).
 */

/** Address columns a CIDR filter can use (the filter AST's AddressField names). */
export const ADDRESS_COLUMNS = [
  'srcip',
  'dstip',
  'nexthop',
  'bgpnexthop',
  'flowsrcip',
  'postnatsrcip',
  'postnatdstip',
] as const;

/** Column name and DuckDB type, in table (and appender) order. */
export const FLOW_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['ts', 'DOUBLE NOT NULL'],
  ['timestamp', 'DOUBLE'],
  ['start', 'DOUBLE'],
  ['end', 'DOUBLE'],
  ['duration', 'DOUBLE'],
  ...ADDRESS_COLUMNS.flatMap(
    (a) =>
      [
        [a, 'VARCHAR'],
        [`${a}_fam`, 'UTINYINT'],
        [`${a}_hi`, 'UBIGINT'],
        [`${a}_lo`, 'UBIGINT'],
      ] as const,
  ),
  ['srcport', 'INTEGER'],
  ['dstport', 'INTEGER'],
  ['protocolint', 'INTEGER'],
  ['ipversion', 'INTEGER'],
  ['bits', 'DOUBLE'],
  ['packets', 'DOUBLE'],
  ['samplerate', 'DOUBLE'],
  ['weight', 'DOUBLE NOT NULL'],
  ['tos', 'INTEGER'],
  ['tcpflagsint', 'INTEGER'],
  ['icmptype', 'INTEGER'],
  ['icmpcode', 'INTEGER'],
  ['srcmask', 'INTEGER'],
  ['dstmask', 'INTEGER'],
  ['input', 'UINTEGER'],
  ['output', 'UINTEGER'],
  ['srcvlan', 'INTEGER'],
  ['dstvlan', 'INTEGER'],
  ['srcas', 'UINTEGER'],
  ['dstas', 'UINTEGER'],
  ['flowversion', 'INTEGER'],
  ['flowtype', 'VARCHAR'],
  ['flowsrcname', 'VARCHAR'],
  ['site', 'VARCHAR'],
  ['srccountry', 'VARCHAR'],
  ['dstcountry', 'VARCHAR'],
  ['inputname', 'VARCHAR'],
  ['outputname', 'VARCHAR'],
  ['flowdirection', 'VARCHAR'],
  ['fwevent', 'VARCHAR'],
  ['natevent', 'VARCHAR'],
  ['tags', 'VARCHAR[]'],
  ['uptime', 'DOUBLE'],
  ['revbits', 'DOUBLE'],
  ['revpackets', 'DOUBLE'],
  ['forwardingstatus', 'VARCHAR'],
  ['fragmented', 'BOOLEAN'],
  ['postnatsrcport', 'INTEGER'],
  ['postnatdstport', 'INTEGER'],
  ['action', 'VARCHAR'],
  ['srcasorg', 'VARCHAR'],
  ['dstasorg', 'VARCHAR'],
  ['srcinternal', 'BOOLEAN'],
  ['dstinternal', 'BOOLEAN'],
  ['bogonsrc', 'BOOLEAN'],
  ['bogondst', 'BOOLEAN'],
  ['inputalias', 'VARCHAR'],
  ['outputalias', 'VARCHAR'],
  ['more', 'VARCHAR'],
];

export const FLOWS_TABLE = 'flows';

/** DDL of the flow table inside the attached partition `catalog`. */
export function createFlowsTableSql(catalog: string): string {
  const cols = FLOW_COLUMNS.map(([name, type]) => `"${name}" ${type}`).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${catalog}.${FLOWS_TABLE} (${cols})`;
}

/** Columns `flows()` reads back to rebuild a record (the text addresses, not their integers). */
export const RECORD_COLUMNS: readonly string[] = FLOW_COLUMNS.map(([name]) => name).filter(
  (name) => name !== 'ts' && !/_(fam|hi|lo)$/.test(name),
);

/**
 * Per-minute rollup, one per partition, appended at write time from each batch (several rows may
 * share a minute and key: queries sum them). Dashboards over days read this instead of raw rows
 * when the range is minute-aligned, there is no filter and the dimension is one of these columns.
 */
export const ROLLUP_TABLE = 'flows_1m';

/** Group-by columns of the rollup (flow table names, so a Dimension maps to the same column). */
export const ROLLUP_KEYS = [
  'flowsrcip',
  'flowsrcname',
  'flowtype',
  'protocolint',
  'input',
  'output',
  'srcas',
  'dstas',
  'srccountry',
  'dstcountry',
] as const;

/**
 * Hourly rollup, one per partition: the per-minute rows of each hour summed once the hour is
 * complete in flow time (see DuckDbStore.compact), so a dashboard over days reads one row per hour
 * and key instead of one per minute, key and write. Same columns as the minute rollup.
 */
export const ROLLUP_HOUR_TABLE = 'flows_1h';

export function createRollupTableSql(catalog: string, table: string = ROLLUP_TABLE): string {
  const keyType = new Map(FLOW_COLUMNS);
  const keys = ROLLUP_KEYS.map(
    (k) => `"${k}" ${(keyType.get(k) ?? 'VARCHAR').replace(' NOT NULL', '')}`,
  ).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${catalog}.${table} (bucket DOUBLE NOT NULL, ${keys},
    m_bits DOUBLE, m_packets DOUBLE, m_flows DOUBLE, records BIGINT, first_ms DOUBLE, last_ms DOUBLE)`;
}
