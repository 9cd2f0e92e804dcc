/**
 * The embedded flow store: DuckDB, one database FILE per time partition (a UTC day by default,
 * `flows-2024-01-01.duckdb` under `dir`), all ATTACHed to one in-memory DuckDB instance.
 *
 * Why files and not one table per day in one file: DuckDB never shrinks a file after DELETE or DROP
 * TABLE (../shared/docs/TOOLS.md), so retention by size could not free disk; a whole partition is
 * DETACHed and its file unlinked. Every existing file is attached at open(); new ones when a record
 * of their period arrives. A record goes to the partition of its flow time (end, else start, else
 * timestamp), so a late record lands in its own older partition. Queries UNION ALL the partitions
 * overlapping the range. Every operation goes through one queue: writes are serialised (callers
 * batch) and a query never sees a half-appended batch.
 *
 * A batch is appended (data chunks) straight into its partition together with its per-minute
 * rollup rows (summed in append.ts) in one transaction. Top-N, time series and exporters read
 * the rollup when it gives the same answer (no filter, minute-aligned range and buckets, a rollup
 * dimension), so dashboards over days do not scan raw rows.
 */
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DuckDBAppender,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBType,
} from '@duckdb/node-api';
import type { FilterExpr } from '../../query/filter-ast.js';
import type { FlowRecord } from '../../record/flow-record.js';
import { type FlowRecordJson, toJsonObject } from '../../record/json.js';
import { protocolKeyword } from '../../record/protocols.js';
import type {
  Dimension,
  ExporterSummary,
  FlowStore,
  FlowsQuery,
  RetentionPolicy,
  StoreHealth,
  TimeRange,
  TimeseriesPoint,
  TimeseriesQuery,
  TopQuery,
  TopRow,
} from '../contract.js';
import { lockDirectory } from '../dir-lock.js';
import { DIMENSION_COLUMN, METRIC_COLUMN, SUMS } from '../sql/aggregates.js';
import { filterToSql, sqlString } from '../sql/filter-sql.js';
import {
  appendChunk,
  appendRollup,
  type ColumnChunk,
  fillPartitions,
  type PartitionColumns,
  type RollupRow,
} from './append.js';
import { rowToRecord } from './row-record.js';
import {
  createFlowsTableSql,
  createRollupTableSql,
  FLOWS_TABLE,
  RECORD_COLUMNS,
  ROLLUP_HOUR_TABLE,
  ROLLUP_KEYS,
  ROLLUP_TABLE,
} from './schema.js';
import { DEFAULT_DUCKDB_MEMORY_LIMIT } from './worker-protocol.js';

export interface DuckDbStoreOptions {
  /** Data directory (created if missing). */
  dir: string;
  /** Partition width in seconds; default 86400 (one file per UTC day). */
  partitionSec?: number;
  /**
   * DuckDB's memory_limit in bytes (its buffer pool: cached blocks, appends, query state; large
   * queries spill to `<dir>/.tmp`). Default 256 MiB; DuckDB's own default is 80 % of the RAM.
   */
  memoryLimitBytes?: number;
}

interface Partition {
  startMs: number;
  alias: string;
  file: string;
  /** Hours before this (ms) are summed in the hourly rollup (compact()); startMs when none. */
  hourlyUntilMs: number;
  /** Newest flow time committed here (ms); -Infinity when empty. */
  newestMs: number;
}

const HOUR_MS = 3_600_000;
/**
 * An hour is summed into the hourly rollup once the newest flow time of its partition is this far
 * past its end. Records later than that still count: their rollup rows go to the hourly table
 * directly (commit()), so the two tables never miss or double a record.
 */
const COMPACT_LAG_MS = 15 * 60_000;
const ROLLUP_COLUMNS = `bucket, ${ROLLUP_KEYS.map((k) => `"${k}"`).join(', ')}, m_bits, m_packets, m_flows, records, first_ms, last_ms`;

/** A write waiting to be merged into the next transaction (see write()). */
interface PendingWrite {
  parts: readonly PartitionColumns[];
  records: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Rows merged into one transaction, at most. A move of a row group (122,880 rows) or more goes
 * straight to the partition file without the WAL; more than a few row groups only costs memory.
 */
const MAX_MERGED_ROWS = 4 * 122_880;

const FILE_RE = /^flows-(\d{4}-\d{2}-\d{2})(?:T(\d{2})(\d{2})(\d{2}))?\.duckdb$/;

const ROLLUP_SUMS = 'sum(m_bits) AS m_bits, sum(m_packets) AS m_packets, sum(m_flows) AS m_flows';
const ROLLUP_DIMENSIONS: ReadonlySet<string> = new Set(ROLLUP_KEYS);

const RECORD_SELECT = RECORD_COLUMNS.map((c) => `"${c}"`).join(', ');

function finite(v: number, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${what} must be a finite number`);
  return v;
}

function count(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be a non-negative integer`);
  return v;
}

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : Number(v ?? 0);
}

function sumsOf(r: Record<string, unknown>): { bits: number; packets: number; flows: number } {
  return { bits: num(r.m_bits), packets: num(r.m_packets), flows: num(r.m_flows) };
}

function keyOf(dimension: Dimension, v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (dimension === 'protocol') return protocolKeyword(num(v)) ?? num(v);
  if (typeof v === 'bigint' || typeof v === 'number') return Number(v);
  return String(v);
}

/** SQL: `column` is one of `keys` (group keys as DuckDB returned them; null matches NULL). */
function keyIn(column: string, keys: readonly unknown[]): string {
  const literals: string[] = [];
  let orNull = false;
  for (const k of keys) {
    if (k === null || k === undefined) orNull = true;
    else if (typeof k === 'string') literals.push(sqlString(k));
    else if ((typeof k === 'number' && Number.isFinite(k)) || typeof k === 'bigint') literals.push(String(k));
    else throw new TypeError(`unexpected group key ${String(k)}`);
  }
  // list_contains, not IN: DuckDB plans `IN (...)` as a hash join against the scan, about twice
  // as slow over 10 M rows; list_contains is a plain per-row filter.
  const terms = literals.length > 0 ? [`list_contains([${literals.join(', ')}], ${column})`] : [];
  if (orNull) terms.push(`${column} IS NULL`);
  return `(${terms.join(' OR ')})`;
}

function columnTypes(a: DuckDBAppender): DuckDBType[] {
  const types: DuckDBType[] = [];
  for (let c = 0; c < a.columnCount; c++) types.push(a.columnType(c));
  return types;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export class DuckDbStore implements FlowStore {
  readonly name = 'duckdb';
  private readonly dir: string;
  private readonly partitionMs: number;
  private instance: DuckDBInstance | null = null;
  private conn: DuckDBConnection | null = null;
  private readonly partitions = new Map<number, Partition>();
  /** Writes not yet in a transaction, and whether one is running. */
  private readonly pendingWrites: PendingWrite[] = [];
  private writing: Promise<void> | null = null;
  /** Releases the directory lock (dir-lock.ts); set while open. */
  private unlock: (() => void) | null = null;
  /** The flow table's column types (the same for every partition), asked once. */
  private flowTypes: DuckDBType[] | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private lastError: string | null = null;
  private recordsWritten = 0;
  /** Aggregate queries answered from the per-minute rollup (tests, diagnostics). */
  rollupQueries = 0;
  /** Partition reads answered (in part) from the hourly rollup (tests, diagnostics). */
  hourlyRollupQueries = 0;

  private readonly memoryLimitBytes: number;

  constructor(options: DuckDbStoreOptions) {
    this.dir = options.dir;
    this.memoryLimitBytes = Math.floor(options.memoryLimitBytes ?? DEFAULT_DUCKDB_MEMORY_LIMIT);
    const sec = options.partitionSec ?? 86400;
    if (!Number.isInteger(sec) || sec <= 0) throw new RangeError('partitionSec must be a positive integer');
    this.partitionMs = sec * 1000;
  }

  async open(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    this.unlock = lockDirectory(this.dir);
    try {
      await this.openPartitions();
    } catch (err) {
      // Nothing stays open or locked after a failed open (a damaged file, a locked partition).
      this.conn?.closeSync();
      this.instance?.closeSync();
      this.conn = null;
      this.instance = null;
      this.partitions.clear();
      this.unlock();
      this.unlock = null;
      throw err;
    }
  }

  private async openPartitions(): Promise<void> {
    this.instance = await DuckDBInstance.create(':memory:');
    this.conn = await this.instance.connect();
    // DuckDB folds the WAL into the file every 16 MB by default: ~40k of our rows, less than a row
    // group (122,880 rows), so each checkpoint recompressed the same partial row group of ~80
    // columns again and sustained writes fell to ~23k records/s. 128 MB writes each row group
    // about once (docs/benchmarks.md); the WAL, counted in health().bytes, stays below that.
    await this.conn.run(`SET checkpoint_threshold = '128MB'`);
    // Bounded, so the collector's RSS is too: DuckDB would otherwise cache up to 80 % of the RAM.
    await this.conn.run(`SET memory_limit = '${this.memoryLimitBytes}B'`);
    await this.conn.run(`SET temp_directory = '${join(this.dir, '.tmp').replaceAll("'", "''")}'`);
    for (const name of readdirSync(this.dir).sort()) {
      const m = FILE_RE.exec(name);
      if (m === null) continue;
      const startMs = Date.parse(`${m[1]}T${m[2] ?? '00'}:${m[3] ?? '00'}:${m[4] ?? '00'}Z`);
      if (Number.isFinite(startMs)) await this.attach(startMs);
    }
  }

  /**
   * Lays the batch out in column chunks now (on the caller's thread) and resolves once it is
   * committed. Writes that arrive while a transaction runs are merged into the next one (up to
   * MAX_MERGED_ROWS), so under load transactions grow by themselves: large ones skip the WAL, and
   * small batches from the caller never mean small commits.
   */
  write(batch: readonly FlowRecord[]): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    let parts: PartitionColumns[];
    try {
      parts = fillPartitions(batch, this.partitionMs);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.writeColumns(parts, batch.length);
  }

  /** Writes rows already laid out by fillPartitions (the store worker receives them so). */
  writeColumns(parts: readonly PartitionColumns[], records: number): Promise<void> {
    if (this.conn === null) {
      this.lastError = 'DuckDB store is not open';
      return Promise.reject(new Error(this.lastError));
    }
    return new Promise((resolve, reject) => {
      this.pendingWrites.push({ parts, records, resolve, reject });
      this.startWriting();
    });
  }

  private startWriting(): void {
    if (this.writing !== null || this.pendingWrites.length === 0) return;
    let n = 0;
    let rows = 0;
    while (n < this.pendingWrites.length && (n === 0 || rows < MAX_MERGED_ROWS)) {
      rows += (this.pendingWrites[n] as PendingWrite).records;
      n++;
    }
    const group = this.pendingWrites.splice(0, n);
    this.writing = this.exclusive(() => this.commit(group))
      .then(
        () => {
          for (const w of group) w.resolve();
        },
        (err: unknown) => {
          for (const w of group) w.reject(err);
        },
      )
      .finally(() => {
        this.writing = null;
        this.startWriting();
      });
  }

  /**
   * One transaction per partition (DuckDB writes one attached database per transaction): the
   * rows, appended as data chunks, and their per-minute rollup rows, so the two never disagree.
   * Should a later partition fail after an earlier one committed, the retried records repeat there
   * (rare: records of two days in one merge, and a failing disk).
   */
  private async commit(group: readonly PendingWrite[]): Promise<void> {
    try {
      const byPartition = new Map<number, { chunks: ColumnChunk[]; rollup: RollupRow[] }>();
      for (const w of group) {
        for (const part of w.parts) {
          let m = byPartition.get(part.start);
          if (m === undefined) {
            m = { chunks: [], rollup: [] };
            byPartition.set(part.start, m);
          }
          m.chunks.push(...part.chunks);
          m.rollup.push(...part.rollup);
        }
      }
      const conn = this.connection();
      for (const [start, m] of [...byPartition].sort((a, b) => a[0] - b[0])) {
        const p = this.partitions.get(start) ?? (await this.attach(start));
        await conn.run('BEGIN TRANSACTION');
        try {
          const appender = await conn.createAppender(FLOWS_TABLE, 'main', p.alias);
          try {
            this.flowTypes ??= columnTypes(appender);
            for (const chunk of m.chunks) appendChunk(appender, this.flowTypes, chunk);
            appender.flushSync();
          } finally {
            appender.closeSync();
          }
          const rollupAppender = await conn.createAppender(ROLLUP_TABLE, 'main', p.alias);
          try {
            appendRollup(rollupAppender, m.rollup);
            rollupAppender.flushSync();
          } finally {
            rollupAppender.closeSync();
          }
          // Late records of hours already summed: their sums go to the hourly rollup as well.
          const late = m.rollup
            .filter((r) => r.bucket < p.hourlyUntilMs)
            .map((r) => ({ ...r, bucket: Math.floor(r.bucket / HOUR_MS) * HOUR_MS }));
          if (late.length > 0) {
            const hourly = await conn.createAppender(ROLLUP_HOUR_TABLE, 'main', p.alias);
            try {
              appendRollup(hourly, late);
              hourly.flushSync();
            } finally {
              hourly.closeSync();
            }
          }
          await conn.run('COMMIT');
          for (const r of m.rollup) if (r.lastMs > p.newestMs) p.newestMs = r.lastMs;
        } catch (err) {
          await conn.run('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
      this.recordsWritten += group.reduce((n, w) => n + w.records, 0);
      this.lastError = null;
      for (const start of byPartition.keys()) await this.compact(this.partitions.get(start) as Partition);
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }

  /**
   * Sums the minute rollup of every hour of `p` that is complete in flow time (its end at least
   * COMPACT_LAG_MS before the newest flow committed there) into the hourly rollup, in one
   * transaction that also moves the mark, so a crash leaves either both or neither.
   */
  private async compact(p: Partition): Promise<void> {
    if (this.partitionMs % HOUR_MS !== 0) return;
    const until = Math.min(
      Math.floor((p.newestMs - COMPACT_LAG_MS) / HOUR_MS) * HOUR_MS,
      p.startMs + this.partitionMs,
    );
    if (!(until > p.hourlyUntilMs)) return;
    const conn = this.connection();
    const keys = ROLLUP_KEYS.map((k) => `"${k}"`).join(', ');
    await conn.run('BEGIN TRANSACTION');
    try {
      await conn.run(
        `INSERT INTO ${p.alias}.${ROLLUP_HOUR_TABLE} (${ROLLUP_COLUMNS})
         SELECT floor(bucket / ${HOUR_MS}) * ${HOUR_MS} AS hour, ${keys}, sum(m_bits), sum(m_packets),
           sum(m_flows), sum(records), min(first_ms), max(last_ms)
         FROM ${p.alias}.${ROLLUP_TABLE} WHERE bucket >= ${p.hourlyUntilMs} AND bucket < ${until}
         GROUP BY ALL`,
      );
      await conn.run('COMMIT');
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    p.hourlyUntilMs = until;
  }

  async flows(q: FlowsQuery): Promise<FlowRecordJson[]> {
    const limit = count(q.limit, 'limit');
    return this.exclusive(async () => {
      const src = this.source(q.range, q.filter);
      if (src === null || limit === 0) return [];
      // Two steps: DuckDB's top-N over `SELECT *` reads all ~80 columns of every matching row
      // (2-3 s for 1.7 M matches in 10 M rows). First the time of the limit-th newest match from
      // the filter and `ts` columns only, then the whole rows from that time on: rows are stored
      // roughly in flow-time order, so the second scan skips all but the newest row groups.
      const edge = await this.rows(
        `SELECT min(ts) AS t FROM (SELECT ts FROM ${src} ORDER BY ts DESC LIMIT ${limit})`,
      );
      const newest = edge[0]?.t;
      if (newest === null || newest === undefined) return [];
      const tail = this.source({ fromMs: num(newest), toMs: q.range.toMs }, q.filter);
      if (tail === null) return [];
      const rows = await this.rows(`SELECT ${RECORD_SELECT} FROM ${tail} ORDER BY ts DESC LIMIT ${limit}`);
      return rows.map((r) => toJsonObject(rowToRecord(r)));
    });
  }

  async top(q: TopQuery): Promise<TopRow[]> {
    const limit = count(q.limit, 'limit');
    const key = DIMENSION_COLUMN[q.dimension];
    const metric = METRIC_COLUMN[q.metric];
    if (key === undefined || metric === undefined) throw new RangeError('unknown dimension or metric');
    return this.exclusive(async () => {
      const v = this.view(q.range, q.filter, key, null);
      if (v === null) return [];
      const rows = await this.rows(
        `SELECT ${key} AS k, ${v.sums} FROM ${v.src} GROUP BY k ORDER BY ${metric} DESC, k ASC NULLS LAST LIMIT ${limit}`,
      );
      return rows.map((r) => ({ key: keyOf(q.dimension, r.k), ...sumsOf(r) }));
    });
  }

  async timeseries(q: TimeseriesQuery): Promise<TimeseriesPoint[]> {
    const limit = count(q.limit, 'limit');
    const width = finite(q.bucketSec, 'bucketSec') * 1000;
    if (width <= 0 || !Number.isInteger(width)) throw new RangeError('bucketSec must be positive');
    const metric = METRIC_COLUMN[q.metric];
    if (metric === undefined) throw new RangeError('unknown metric');
    const dimension = q.groupBy;
    const key = dimension === null ? null : DIMENSION_COLUMN[dimension];
    if (key === undefined) throw new RangeError('unknown dimension');
    return this.exclusive(async () => {
      const v = this.view(q.range, q.filter, key, q.bucketSec);
      if (v === null) return [];
      const bucket = `(floor(${v.time} / ${width}) * ${width})`;
      if (dimension === null || key === null) {
        const rows = await this.rows(`SELECT ${bucket} AS b, ${v.sums} FROM ${v.src} GROUP BY b ORDER BY b`);
        return rows.map((r) => ({ bucketMs: num(r.b), key: null, ...sumsOf(r) }));
      }
      // The largest groups first, then their buckets with the keys as literals: a CTE read twice
      // was materialised, or joined back against every row, 1-4 s over 10 M rows; the literals
      // are a filter on the scan (docs/benchmarks.md, query latency).
      const top = await this.rows(
        `SELECT ${key} AS k, ${v.sums} FROM ${v.src} GROUP BY k ORDER BY ${metric} DESC, k ASC NULLS LAST LIMIT ${limit}`,
      );
      if (top.length === 0) return [];
      const keys = top.map((r) => r.k);
      const rows = await this.rows(
        `SELECT ${bucket} AS b, ${key} AS k, ${v.sums} FROM ${v.src} WHERE ${keyIn(key, keys)}
         GROUP BY b, k ORDER BY b, k ASC NULLS LAST`,
      );
      return rows.map((r) => ({ bucketMs: num(r.b), key: keyOf(dimension, r.k), ...sumsOf(r) }));
    });
  }

  exporters(range: TimeRange): Promise<ExporterSummary[]> {
    return this.exclusive(async () => {
      const v = this.view(range, null, '"flowsrcip"', null);
      if (v === null) return [];
      const rollup = v.time === 'bucket';
      const rows = await this.rows(
        `SELECT flowsrcip, max(flowsrcname) AS fname, flowtype, ${rollup ? 'sum(records)' : 'count(*)'} AS records,
           ${v.sums}, min(${rollup ? 'first_ms' : 'ts'}) AS first_ms, max(${rollup ? 'last_ms' : 'ts'}) AS last_ms
         FROM ${v.src} GROUP BY flowsrcip, flowtype ORDER BY flowsrcip, flowtype`,
      );
      return rows.map((r) => ({
        exporter: String(r.flowsrcip ?? ''),
        name: r.fname === null || r.fname === undefined ? null : String(r.fname),
        flowtype: String(r.flowtype),
        records: num(r.records),
        bits: num(r.m_bits),
        packets: num(r.m_packets),
        firstMs: num(r.first_ms),
        lastMs: num(r.last_ms),
      }));
    });
  }

  applyRetention(policy: RetentionPolicy, nowMs: number): Promise<number> {
    return this.exclusive(async () => {
      let dropped = 0;
      const ordered = [...this.partitions.values()].sort((a, b) => a.startMs - b.startMs);
      const kept: Partition[] = [];
      for (const p of ordered) {
        if (policy.maxAgeMs !== null) {
          const rows = await this.rows(`SELECT max(ts) AS newest FROM ${p.alias}.${FLOWS_TABLE}`);
          const newest = rows[0]?.newest;
          // An empty partition is as old as its period's end.
          const newestMs =
            newest === null || newest === undefined ? p.startMs + this.partitionMs : num(newest);
          if (newestMs < nowMs - policy.maxAgeMs) {
            await this.drop(p);
            dropped++;
            continue;
          }
        }
        kept.push(p);
      }
      if (policy.maxBytes !== null) {
        let total = kept.reduce((sum, p) => sum + this.partitionBytes(p), 0);
        for (const p of kept) {
          if (total <= policy.maxBytes) break;
          total -= this.partitionBytes(p);
          await this.drop(p);
          dropped++;
        }
      }
      return dropped;
    });
  }

  health(): StoreHealth {
    let bytes = 0;
    for (const p of this.partitions.values()) bytes += this.partitionBytes(p);
    return {
      ready: this.conn !== null,
      lastError: this.lastError,
      recordsWritten: this.recordsWritten,
      partitions: this.partitions.size,
      bytes,
    };
  }

  async close(): Promise<void> {
    // Writes already accepted are committed first (a close never loses them).
    while (this.writing !== null) await this.writing;
    return this.exclusive(async () => {
      const conn = this.conn;
      if (conn === null) {
        this.unlock?.();
        this.unlock = null;
        return;
      }
      // Fold each WAL into its file so a reopen (or a copy of the directory) needs nothing else.
      for (const p of this.partitions.values()) await conn.run(`CHECKPOINT ${p.alias}`);
      conn.closeSync();
      this.instance?.closeSync();
      this.conn = null;
      this.instance = null;
      this.partitions.clear();
      this.unlock?.();
      this.unlock = null;
    });
  }

  /** A DuckDB setting as the store runs with it, e.g. memory_limit (tests, diagnostics). */
  async setting(name: string): Promise<string> {
    const rows = await this.exclusive(() => this.rows(`SELECT current_setting(${sqlString(name)}) AS v`));
    return String(rows[0]?.v);
  }

  /** Paths of the partition files currently attached (tests, diagnostics). */
  partitionFiles(): string[] {
    return [...this.partitions.values()].sort((a, b) => a.startMs - b.startMs).map((p) => p.file);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private connection(): DuckDBConnection {
    if (this.conn === null) throw new Error('DuckDB store is not open');
    return this.conn;
  }

  private async rows(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection().runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  private fileName(startMs: number): string {
    const iso = new Date(startMs).toISOString();
    const day = iso.slice(0, 10);
    if (this.partitionMs % 86_400_000 === 0) return `flows-${day}.duckdb`;
    return `flows-${day}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.duckdb`;
  }

  private async attach(startMs: number): Promise<Partition> {
    const p: Partition = {
      startMs,
      // From a number: a safe SQL identifier ("-" for pre-1970 times would not be).
      alias: `p_${startMs < 0 ? `m${-startMs}` : startMs}`,
      file: join(this.dir, this.fileName(startMs)),
      hourlyUntilMs: startMs,
      newestMs: Number.NEGATIVE_INFINITY,
    };
    const conn = this.connection();
    await conn.run(`ATTACH ${sqlString(p.file)} AS ${p.alias}`);
    await conn.run(createFlowsTableSql(p.alias));
    await conn.run(createRollupTableSql(p.alias));
    await conn.run(createRollupTableSql(p.alias, ROLLUP_HOUR_TABLE));
    // Where compaction got to survives a restart in the data itself: the last hour summed.
    const [marks] = await this.rows(
      `SELECT (SELECT max(bucket) FROM ${p.alias}.${ROLLUP_HOUR_TABLE}) AS hourly,
              (SELECT max(last_ms) FROM ${p.alias}.${ROLLUP_TABLE}) AS newest`,
    );
    if (marks?.hourly !== null && marks?.hourly !== undefined) p.hourlyUntilMs = num(marks.hourly) + HOUR_MS;
    if (marks?.newest !== null && marks?.newest !== undefined) p.newestMs = num(marks.newest);
    this.partitions.set(startMs, p);
    return p;
  }

  private async drop(p: Partition): Promise<void> {
    await this.connection().run(`DETACH ${p.alias}`);
    this.partitions.delete(p.startMs);
    for (const path of [p.file, `${p.file}.wal`]) {
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }

  private partitionBytes(p: Partition): number {
    return fileSize(p.file) + fileSize(`${p.file}.wal`);
  }

  /**
   * Where an aggregate reads from: the per-minute rollup when it gives the same answer (no filter,
   * minute-aligned range and buckets, a rollup key as dimension), else the raw rows.
   */
  private view(
    range: TimeRange,
    filter: FilterExpr | null,
    keyColumn: string | null,
    bucketSec: number | null,
  ): { src: string; sums: string; time: string; measures: string } | null {
    const rollup =
      (filter === null || filter.kind === 'any') &&
      range.fromMs % 60_000 === 0 &&
      range.toMs % 60_000 === 0 &&
      (bucketSec === null || bucketSec % 60 === 0) &&
      (keyColumn === null || ROLLUP_DIMENSIONS.has(keyColumn.replaceAll('"', '')));
    if (rollup) {
      // Hourly rows only where every bucket asked for is whole hours (or there are no buckets).
      const src = this.rollupSource(range, bucketSec === null || bucketSec % 3600 === 0);
      if (src !== null) this.rollupQueries++;
      return src === null
        ? null
        : { src, sums: ROLLUP_SUMS, time: 'bucket', measures: 'm_bits, m_packets, m_flows' };
    }
    const src = this.source(range, filter, FLOWS_TABLE, 'ts');
    return src === null
      ? null
      : { src, sums: SUMS, time: 'ts', measures: 'bits, packets, samplerate, weight' };
  }

  /**
   * Rollup rows of `range` (whole minutes): the hourly rollup for whole hours inside the range
   * that are already summed there (when `hourly`), the minute rollup for the rest.
   */
  private rollupSource(range: TimeRange, hourly: boolean): string | null {
    const from = finite(range.fromMs, 'range.fromMs');
    const to = finite(range.toMs, 'range.toMs');
    const parts: string[] = [];
    for (const p of [...this.partitions.values()].sort((a, b) => a.startMs - b.startMs)) {
      if (p.startMs >= to || p.startMs + this.partitionMs <= from) continue;
      const hFrom = Math.ceil(Math.max(from, p.startMs) / HOUR_MS) * HOUR_MS;
      const hTo = Math.min(Math.floor(to / HOUR_MS) * HOUR_MS, p.hourlyUntilMs);
      if (hourly && hFrom < hTo) {
        this.hourlyRollupQueries++;
        parts.push(
          `SELECT * FROM ${p.alias}.${ROLLUP_HOUR_TABLE} WHERE bucket >= ${hFrom} AND bucket < ${hTo}`,
        );
        parts.push(
          `SELECT * FROM ${p.alias}.${ROLLUP_TABLE} WHERE bucket >= ${from} AND bucket < ${to}
             AND NOT (bucket >= ${hFrom} AND bucket < ${hTo})`,
        );
      } else {
        parts.push(`SELECT * FROM ${p.alias}.${ROLLUP_TABLE} WHERE bucket >= ${from} AND bucket < ${to}`);
      }
    }
    if (parts.length === 0) return null;
    return `(${parts.join(' UNION ALL ')})`;
  }

  /** The filtered rows of the partitions overlapping `range`, as a parenthesised subquery; null if none. */
  private source(
    range: TimeRange,
    filter: FilterExpr | null,
    table = FLOWS_TABLE,
    time = 'ts',
  ): string | null {
    const from = finite(range.fromMs, 'range.fromMs');
    const to = finite(range.toMs, 'range.toMs');
    const where = filterToSql(filter);
    const parts: string[] = [];
    for (const p of [...this.partitions.values()].sort((a, b) => a.startMs - b.startMs)) {
      if (p.startMs >= to || p.startMs + this.partitionMs <= from) continue;
      parts.push(
        `SELECT * FROM ${p.alias}.${table} WHERE ${time} >= ${from} AND ${time} < ${to} AND ${where}`,
      );
    }
    if (parts.length === 0) return null;
    return `(${parts.join(' UNION ALL ')})`;
  }
}
