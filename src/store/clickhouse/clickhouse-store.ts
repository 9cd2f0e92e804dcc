/**
 * The ClickHouse flow store: one MergeTree table partitioned by UTC day (ORDER BY flow time), or,
 * with a cluster, one such table per shard behind a Distributed table that inserts and queries go
 * through. No ZooKeeper: the store runs the DDL on every shard URL itself (schema.ts).
 *
 * Each write() encodes its batch as RowBinary (insert.ts) and goes in an INSERT, together with the
 * writes queued while earlier INSERTs ran (at most MAX_INSERTS_IN_FLIGHT at once): fewer, larger
 * parts. Bodies go uncompressed. Into a Distributed table the insert is synchronous
 * (insert_distributed_sync), so a resolved write is on its shards, not in a local queue. Retention drops whole day partitions on every shard
 * (ALTER TABLE ... DROP PARTITION), by age and by the bytes system.parts reports.
 *
 * No rollup table yet: ClickHouse sums tens of millions of rows per second, and the raw scan
 * answers every filter and dimension exactly; a SummingMergeTree by minute is the next step if
 * dashboards over weeks get slow.
 *
 * Version: `SELECT version()` at open chooses the SQL (schema.ts ServerCaps). Everything here is
 * written for 18.16 (no query parameters, no boolean literals, no DateTime64) and runs unchanged
 * on current ClickHouse.
 */
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  type ClickHouseClient,
  ClickHouseLogLevel,
  type ClickHouseSettings,
  createClient,
} from '@clickhouse/client';
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
import { flowTimeMs } from '../duckdb/append.js';
import { rowToRecord } from '../duckdb/row-record.js';
import { DIMENSION_COLUMN, METRIC_COLUMN, SUMS } from '../sql/aggregates.js';
import { CLICKHOUSE_DIALECT, clickHouseString as chString, filterToSql } from '../sql/filter-sql.js';
import { encodeRowBinary, SEQ_PER_MS } from './insert.js';
import {
  type ClickHouseStoreOptions,
  type ResolvedClickHouseOptions,
  resolveClickHouseOptions,
} from './options.js';
import {
  createDistributedTableSql,
  createLocalTableSql,
  INSERT_COLUMNS,
  missingColumnsSql,
  RECORD_SELECT,
  type ServerCaps,
  serverCaps,
} from './schema.js';

const DAY_MS = 86_400_000;
/** Date covers 1970-01-01 to 2105: outside it the day bound is left out (ts still bounds). */
const DATE_MAX_MS = Date.UTC(2105, 0, 1);

/** Settings of every request: numbers as JSON numbers, synchronous Distributed inserts. */
const SETTINGS: ClickHouseSettings = {
  output_format_json_quote_64bit_integers: 0,
  insert_distributed_sync: 1,
};

/** health()'s partitions and bytes are at most this old while writes go on. */
const STATS_INTERVAL_MS = 2000;

/**
 * INSERTs running at once; writes arriving meanwhile wait and go together in the next one. Each
 * INSERT is a new part of about 250 files (83 columns, most Nullable): on 18.16 over ext4 the
 * server's time per insert (file creation, later merges) was 40 to 300 ms whatever its size, so
 * fewer, larger inserts are what raises the rate (bench/clickhouse-insert.ts).
 */
const MAX_INSERTS_IN_FLIGHT = 2;
/** Rows merged into one INSERT at most (about 75 MB of RowBinary); a larger batch goes alone. */
const MAX_INSERT_ROWS = 200_000;

interface PendingWrite {
  body: Buffer;
  records: readonly FlowRecord[];
  resolve: () => void;
  reject: (err: Error) => void;
}

type Row = Record<string, unknown>;

function finite(v: number, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${what} must be a finite number`);
  return v;
}

function count(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be a non-negative integer`);
  return v;
}

function num(v: unknown): number {
  return Number(v ?? 0);
}

function sumsOf(r: Row): { bits: number; packets: number; flows: number } {
  return { bits: num(r.m_bits), packets: num(r.m_packets), flows: num(r.m_flows) };
}

function keyOf(dimension: Dimension, v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (dimension === 'protocol') return protocolKeyword(num(v)) ?? num(v);
  if (typeof v === 'number') return v;
  return String(v);
}

/** SQL: `column` is one of `keys` (as returned by a grouped query; null matches NULL). */
function keyIn(column: string, keys: readonly unknown[]): string {
  const literals: string[] = [];
  let orNull = false;
  for (const k of keys) {
    if (k === null || k === undefined) orNull = true;
    else if (typeof k === 'string') literals.push(chString(k));
    else if (typeof k === 'number' && Number.isFinite(k)) literals.push(String(k));
    else throw new TypeError(`unexpected group key ${String(k)}`);
  }
  const terms = literals.length > 0 ? [`${column} IN (${literals.join(', ')})`] : [];
  if (orNull) terms.push(`${column} IS NULL`);
  return `(${terms.join(' OR ')})`;
}

function isoDay(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** Where-clause of a range: flow time, plus the day partitions it can touch (pruning). */
function rangeSql(range: TimeRange): string {
  const from = finite(range.fromMs, 'range.fromMs');
  const to = finite(range.toMs, 'range.toMs');
  const terms = [`"ts" >= ${from}`, `"ts" < ${to}`];
  if (from >= 0 && from < DATE_MAX_MS) terms.push(`"day" >= toDate('${isoDay(from)}')`);
  if (to > 0 && to < DATE_MAX_MS) terms.push(`"day" <= toDate('${isoDay(to)}')`);
  return terms.join(' AND ');
}

export class ClickHouseStore implements FlowStore {
  readonly name = 'clickhouse';
  private readonly o: ResolvedClickHouseOptions;
  private client: ClickHouseClient | null = null;
  /** One client per shard URL (DDL, system.parts, DROP PARTITION); [client] without a cluster. */
  private shardClients: ClickHouseClient[] = [];
  private caps: ServerCaps | null = null;
  private lastError: string | null = null;
  private recordsWritten = 0;
  private partitionCount = 0;
  private byteCount = 0;
  /** The seq millisecond of the last write (insert.ts): the next write starts past it. */
  private lastSeqMs = 0;
  /** Writes encoded and waiting for an INSERT (pump()). */
  private pending: PendingWrite[] = [];
  private inFlight = 0;
  private readonly inserts = new Set<Promise<void>>();
  /** Day numbers (ms / DAY_MS) of the partitions the last stats refresh saw. */
  private knownDays = new Set<number>();
  private lastStatsMs = 0;
  private statsTimer: NodeJS.Timeout | null = null;
  private statsRefresh: Promise<void> | null = null;

  constructor(options: ClickHouseStoreOptions) {
    this.o = resolveClickHouseOptions(options);
  }

  /** The server version and what the store chose from it (null before open). */
  serverCaps(): ServerCaps | null {
    return this.caps;
  }

  private newClient(url: string): ClickHouseClient {
    return createClient({
      url,
      username: this.o.username,
      password: this.o.password,
      database: 'default',
      request_timeout: this.o.requestTimeoutMs,
      // Inserts go uncompressed: gzip cost Node more time than it saved on loopback and LAN (bench).
      compression: { request: false, response: true },
      clickhouse_settings: SETTINGS,
      // The store reports its own errors (with the password removed); the client would log each too.
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  /** An Error whose message names what failed and never contains the password. */
  private failure(what: string, err: unknown): Error {
    let msg = err instanceof Error ? err.message : String(err);
    if (this.o.password !== '') msg = msg.replaceAll(this.o.password, '***');
    return new Error(`ClickHouse ${what} failed: ${msg}`);
  }

  private get qualified(): string {
    return `${this.o.database}.${this.o.table}`;
  }

  /** The INSERT of every write: the columns named, so an older table's order does not matter. */
  private get insertSql(): string {
    const cols = INSERT_COLUMNS.map((c) => `"${c}"`).join(', ');
    return `INSERT INTO ${this.qualified} (${cols}) FORMAT RowBinary`;
  }

  private get qualifiedLocal(): string {
    return `${this.o.database}.${this.o.localTable}`;
  }

  async open(): Promise<void> {
    this.client = this.newClient(this.o.url);
    const shardUrls = this.o.cluster?.shards ?? [this.o.url];
    this.shardClients = shardUrls.map((u) =>
      u === this.o.url ? (this.client as ClickHouseClient) : this.newClient(u),
    );
    try {
      const [v] = await this.rows(this.client, 'SELECT version() AS v');
      this.caps = serverCaps(String(v?.v ?? ''));
      await this.createSchema();
      await this.refreshStats();
      this.lastError = null;
    } catch (err) {
      const e = this.failure(`open of ${this.o.url} (${this.qualified})`, err);
      this.lastError = e.message;
      await this.closeClients();
      throw e;
    }
  }

  /** Database, local table on every shard, Distributed table where queries go; missing columns added. */
  private async createSchema(): Promise<void> {
    const caps = this.caps as ServerCaps;
    const db = this.o.database;
    for (const c of this.shardClients) {
      await c.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
      await c.command({ query: createLocalTableSql(db, this.o.localTable, caps) });
      await this.migrate(c, this.o.localTable);
    }
    const cluster = this.o.cluster;
    if (cluster === null) return;
    // The Distributed table on every shard (and the query URL), so any of them can be the entry.
    const entries = this.shardClients.includes(this.client as ClickHouseClient)
      ? this.shardClients
      : [...this.shardClients, this.client as ClickHouseClient];
    for (const c of entries) {
      await c.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
      await c.command({
        query: createDistributedTableSql(db, this.o.table, cluster.name, this.o.localTable, caps),
      });
      await this.migrate(c, this.o.table);
    }
  }

  private async migrate(c: ClickHouseClient, table: string): Promise<void> {
    const cols = await this.rows(
      c,
      `SELECT name FROM system.columns WHERE database = ${chString(this.o.database)} AND table = ${chString(table)}`,
    );
    const existing = new Set(cols.map((r) => String(r.name)));
    for (const sql of missingColumnsSql(this.o.database, table, existing, this.caps as ServerCaps)) {
      await c.command({ query: sql });
    }
  }

  /**
   * Encodes the batch now (so seq follows call order) and queues it; it goes in the next INSERT,
   * with every other write queued meanwhile (at most MAX_INSERT_ROWS, never splitting a batch).
   * Resolves once that INSERT succeeded; rejects, as every write in it does, when it failed.
   */
  async write(batch: readonly FlowRecord[]): Promise<void> {
    if (batch.length === 0) return;
    if (this.client === null) {
      this.lastError = 'ClickHouse store is not open';
      throw new Error(this.lastError);
    }
    const seqMs = Math.max(Date.now(), this.lastSeqMs + 1);
    this.lastSeqMs = seqMs + Math.floor(batch.length / SEQ_PER_MS);
    const done = new Promise<void>((resolve, reject) => {
      this.pending.push({ body: encodeRowBinary(batch, seqMs), records: batch, resolve, reject });
    });
    this.pump();
    await done;
  }

  /** Starts INSERTs for queued writes while fewer than MAX_INSERTS_IN_FLIGHT are running. */
  private pump(): void {
    while (this.inFlight < MAX_INSERTS_IN_FLIGHT && this.pending.length > 0) {
      let rows = 0;
      let n = 0;
      while (n < this.pending.length) {
        const next = (this.pending[n] as PendingWrite).records.length;
        if (n > 0 && rows + next > MAX_INSERT_ROWS) break;
        rows += next;
        n++;
      }
      const writes = this.pending.splice(0, n);
      this.inFlight++;
      const running: Promise<void> = this.insert(writes, rows).finally(() => {
        this.inFlight--;
        this.inserts.delete(running);
        this.pump();
      });
      this.inserts.add(running);
    }
  }

  /** One INSERT of `writes` (RowBinary bodies sent one after another); settles each write. */
  private async insert(writes: PendingWrite[], rows: number): Promise<void> {
    try {
      const client = this.client;
      if (client === null) throw new Error('store closed');
      const res = await client.exec({
        query: this.insertSql,
        values: Readable.from(
          writes.map((w) => w.body),
          { objectMode: false },
        ),
      });
      // The response body is empty; it must still be read for the connection to be reused.
      res.stream.resume();
      await finished(res.stream);
    } catch (err) {
      const e = this.failure(`insert of ${rows} records into ${this.qualified} at ${this.o.url}`, err);
      this.lastError = e.message;
      for (const w of writes) w.reject(e);
      return;
    }
    this.recordsWritten += rows;
    this.lastError = null;
    // A new day is a new partition: health() shows it as soon as the write resolves. Otherwise
    // the figures are refreshed in the background, at most every STATS_INTERVAL_MS (a system.parts
    // query per write on every shard was a third of the server's time at 10 writes per second).
    if (writes.some((w) => this.hasNewDay(w.records))) await this.refreshStats().catch(() => undefined);
    else this.scheduleStats();
    for (const w of writes) w.resolve();
  }

  /** Whether `batch` has a record in a day partition the last refresh did not see. */
  private hasNewDay(batch: readonly FlowRecord[]): boolean {
    let last = Number.NaN;
    for (let i = 0; i < batch.length; i++) {
      const d = Math.floor(flowTimeMs(batch[i] as FlowRecord) / DAY_MS);
      if (d === last) continue;
      last = d;
      if (!this.knownDays.has(d)) return true;
    }
    return false;
  }

  /** A trailing refresh STATS_INTERVAL_MS after the last one, unless one is already due. */
  private scheduleStats(): void {
    if (this.statsTimer !== null) return;
    const wait = Math.max(0, this.lastStatsMs + STATS_INTERVAL_MS - Date.now());
    this.statsTimer = setTimeout(() => {
      this.statsTimer = null;
      this.statsRefresh = this.refreshStats()
        .catch(() => undefined)
        .finally(() => {
          this.statsRefresh = null;
        });
    }, wait);
    this.statsTimer.unref();
  }

  /** Partitions and bytes of the active parts on every shard (system.parts), for health(). */
  private async refreshStats(): Promise<void> {
    this.lastStatsMs = Date.now();
    const perPartition = await this.partitionBytes();
    this.partitionCount = perPartition.size;
    this.byteCount = [...perPartition.values()].reduce((s, b) => s + b, 0);
    this.knownDays = new Set(
      [...perPartition.keys()].map((d) => Math.floor(Date.parse(`${d}T00:00:00Z`) / DAY_MS)),
    );
  }

  /** Bytes on disk per day partition ('YYYY-MM-DD'), summed over the shards. */
  private async partitionBytes(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const c of this.shardClients) {
      const rows = await this.rows(
        c,
        `SELECT partition, sum(bytes_on_disk) AS bytes FROM system.parts
         WHERE database = ${chString(this.o.database)} AND table = ${chString(this.o.localTable)} AND active
         GROUP BY partition`,
      );
      for (const r of rows) {
        const p = String(r.partition).replaceAll("'", '');
        out.set(p, (out.get(p) ?? 0) + num(r.bytes));
      }
    }
    return out;
  }

  private async rows(c: ClickHouseClient, query: string): Promise<Row[]> {
    const rs = await c.query({ query, format: 'JSONEachRow' });
    return (await rs.json()) as Row[];
  }

  private async select(what: string, query: string): Promise<Row[]> {
    if (this.client === null) throw new Error('ClickHouse store is not open');
    try {
      return await this.rows(this.client, query);
    } catch (err) {
      throw this.failure(what, err);
    }
  }

  private where(range: TimeRange, filter: FilterExpr | null): string {
    return `${rangeSql(range)} AND ${filterToSql(filter, CLICKHOUSE_DIALECT)}`;
  }

  async flows(q: FlowsQuery): Promise<FlowRecordJson[]> {
    const limit = count(q.limit, 'limit');
    if (limit === 0) return [];
    const rows = await this.select(
      'flows query',
      `SELECT ${RECORD_SELECT} FROM ${this.qualified} WHERE ${this.where(q.range, q.filter)}
       ORDER BY "ts" DESC, "seq" ASC LIMIT ${limit}`,
    );
    return rows.map((r) => {
      r.tags = num(r.tags_null) === 1 ? null : r.tags;
      return toJsonObject(rowToRecord(r));
    });
  }

  async top(q: TopQuery): Promise<TopRow[]> {
    const limit = count(q.limit, 'limit');
    const key = DIMENSION_COLUMN[q.dimension];
    const metric = METRIC_COLUMN[q.metric];
    if (key === undefined || metric === undefined) throw new RangeError('unknown dimension or metric');
    const rows = await this.select(
      'top query',
      `SELECT ${key} AS k, ${SUMS} FROM ${this.qualified} WHERE ${this.where(q.range, q.filter)}
       GROUP BY k ORDER BY ${metric} DESC, k ASC NULLS LAST LIMIT ${limit}`,
    );
    return rows.map((r) => ({ key: keyOf(q.dimension, r.k), ...sumsOf(r) }));
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
    const where = this.where(q.range, q.filter);
    // 18.16 has no toStartOfInterval; epoch-aligned buckets are plain arithmetic on ms anyway.
    const bucket = `(floor("ts" / ${width}) * ${width})`;
    if (dimension === null || key === null) {
      const rows = await this.select(
        'timeseries query',
        `SELECT ${bucket} AS b, ${SUMS} FROM ${this.qualified} WHERE ${where} GROUP BY b ORDER BY b`,
      );
      return rows.map((r) => ({ bucketMs: num(r.b), key: null, ...sumsOf(r) }));
    }
    const top = await this.select(
      'timeseries query',
      `SELECT ${key} AS k, ${SUMS} FROM ${this.qualified} WHERE ${where}
       GROUP BY k ORDER BY ${metric} DESC, k ASC NULLS LAST LIMIT ${limit}`,
    );
    if (top.length === 0) return [];
    const rows = await this.select(
      'timeseries query',
      `SELECT ${bucket} AS b, ${key} AS k, ${SUMS} FROM ${this.qualified}
       WHERE ${where} AND ${keyIn(
         key,
         top.map((r) => r.k),
       )}
       GROUP BY b, k ORDER BY b, k ASC NULLS LAST`,
    );
    return rows.map((r) => ({ bucketMs: num(r.b), key: keyOf(dimension, r.k), ...sumsOf(r) }));
  }

  async exporters(range: TimeRange): Promise<ExporterSummary[]> {
    const rows = await this.select(
      'exporters query',
      `SELECT "flowsrcip" AS exporter, max("flowsrcname") AS fname, "flowtype" AS ftype, count() AS records,
         ${SUMS}, min("ts") AS first_ms, max("ts") AS last_ms
       FROM ${this.qualified} WHERE ${this.where(range, null)}
       GROUP BY exporter, ftype ORDER BY exporter, ftype`,
    );
    return rows.map((r) => ({
      exporter: String(r.exporter ?? ''),
      name: r.fname === null || r.fname === undefined ? null : String(r.fname),
      flowtype: String(r.ftype),
      records: num(r.records),
      bits: num(r.m_bits),
      packets: num(r.m_packets),
      firstMs: num(r.first_ms),
      lastMs: num(r.last_ms),
    }));
  }

  async applyRetention(policy: RetentionPolicy, nowMs: number): Promise<number> {
    try {
      const bytes = await this.partitionBytes();
      const days = [...bytes.keys()].sort();
      const dropped = new Set<string>();
      if (policy.maxAgeMs !== null && days.length > 0) {
        const newest = await this.rows(
          this.client as ClickHouseClient,
          `SELECT toString("day") AS d, max("ts") AS newest FROM ${this.qualified} GROUP BY d`,
        );
        const newestOf = new Map(newest.map((r) => [String(r.d), num(r.newest)]));
        for (const d of days) {
          // An empty partition is as old as its day's end.
          const t = newestOf.get(d) ?? Date.parse(`${d}T00:00:00Z`) + DAY_MS;
          if (t < nowMs - policy.maxAgeMs) dropped.add(d);
        }
      }
      if (policy.maxBytes !== null) {
        let total = days.filter((d) => !dropped.has(d)).reduce((s, d) => s + (bytes.get(d) ?? 0), 0);
        for (const d of days) {
          if (total <= policy.maxBytes) break;
          if (dropped.has(d)) continue;
          total -= bytes.get(d) ?? 0;
          dropped.add(d);
        }
      }
      for (const d of dropped) {
        for (const c of this.shardClients) {
          await c.command({ query: `ALTER TABLE ${this.qualifiedLocal} DROP PARTITION ${chString(d)}` });
        }
      }
      await this.refreshStats();
      return dropped.size;
    } catch (err) {
      throw this.failure(`retention on ${this.qualified}`, err);
    }
  }

  health(): StoreHealth {
    return {
      ready: this.client !== null,
      lastError: this.lastError,
      recordsWritten: this.recordsWritten,
      partitions: this.partitionCount,
      bytes: this.byteCount,
    };
  }

  private async closeClients(): Promise<void> {
    // Queued writes still go in (or fail) before the clients close.
    while (this.inserts.size > 0) await Promise.all(this.inserts);
    if (this.statsTimer !== null) clearTimeout(this.statsTimer);
    this.statsTimer = null;
    await this.statsRefresh;
    const all = new Set([...this.shardClients, ...(this.client === null ? [] : [this.client])]);
    this.client = null;
    this.shardClients = [];
    for (const c of all) await c.close();
  }

  async close(): Promise<void> {
    await this.closeClients();
  }
}
