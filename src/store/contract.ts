/**
 * What every flow store does (DuckDB, the embedded default; ClickHouse later). The conformance
 * suite in test/store/store-conformance.ts is written once against this interface: a new store
 * only has to pass it. Times are flow time (record start/end, epoch ms UTC), never arrival time.
 */
import type { FilterExpr } from '../query/filter-ast.js';
import type { FlowRecord } from '../record/flow-record.js';
import type { FlowRecordJson } from '../record/json.js';

/** Half-open interval [fromMs, toMs) of flow time. A flow is in range when its `end` (or `start`) is. */
export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/**
 * What top-N and time series add up. `bits`/`packets` are estimates: as exported × samplerate ×
 * weight (samplerate null counts as 1, and such records are reported in `unsampledUnknown`);
 * `flows` counts records × weight, never scaled by samplerate.
 */
export type Metric = 'bits' | 'packets' | 'flows';

/** What top-N and time series can group by. */
export type Dimension =
  | 'srcip'
  | 'dstip'
  | 'srcport'
  | 'dstport'
  | 'protocol'
  | 'srcas'
  | 'dstas'
  | 'srccountry'
  | 'dstcountry'
  | 'exporter'
  | 'input'
  | 'output'
  | 'flowtype';

/** Every metric, in the order the API documents them. */
export const METRICS: readonly Metric[] = ['bits', 'packets', 'flows'];

/** Every dimension a store must group by (the conformance suite checks each one). */
export const DIMENSIONS: readonly Dimension[] = [
  'srcip',
  'dstip',
  'srcport',
  'dstport',
  'protocol',
  'srcas',
  'dstas',
  'srccountry',
  'dstcountry',
  'exporter',
  'input',
  'output',
  'flowtype',
];

export interface FlowsQuery {
  range: TimeRange;
  filter: FilterExpr | null;
  /** At most this many records, newest (by end) first. */
  limit: number;
}

export interface TopQuery {
  range: TimeRange;
  filter: FilterExpr | null;
  dimension: Dimension;
  /** Ordered by this, descending. */
  metric: Metric;
  limit: number;
}

export interface TopRow {
  /** The dimension's value (an address string, a port, "tcp", an AS number, ...); null = unknown. */
  key: string | number | null;
  bits: number;
  packets: number;
  flows: number;
}

export interface TimeseriesQuery {
  range: TimeRange;
  filter: FilterExpr | null;
  /** Bucket width in seconds (buckets aligned on multiples of it since the epoch, UTC). */
  bucketSec: number;
  /** Split into one series per value of this dimension (the `limit` largest by `metric`); null = one series. */
  groupBy: Dimension | null;
  metric: Metric;
  limit: number;
}

export interface TimeseriesPoint {
  bucketMs: number;
  /** The group's key when grouped, else null. */
  key: string | number | null;
  bits: number;
  packets: number;
  flows: number;
}

export interface ExporterSummary {
  exporter: string;
  name: string | null;
  flowtype: string;
  records: number;
  bits: number;
  packets: number;
  firstMs: number;
  lastMs: number;
}

export interface RetentionPolicy {
  /** Drop partitions whose newest flow is older than this (ms before now); null = keep. */
  maxAgeMs: number | null;
  /** Drop the oldest partitions until the store is at most this big (bytes); null = no bound. */
  maxBytes: number | null;
}

export interface StoreHealth {
  ready: boolean;
  /** Last write error, null when the last write succeeded. */
  lastError: string | null;
  recordsWritten: number;
  partitions: number;
  bytes: number;
}

/** A batch already in a store's own compact form (see FlowStore.prepare). */
export interface PreparedBatch {
  readonly records: number;
}

export interface FlowStore {
  readonly name: string;
  open(): Promise<void>;
  /** Appends a batch (bulk: never one insert per row). Resolves when durable in the store. */
  write(batch: readonly FlowRecord[]): Promise<void>;
  /**
   * Optional: lays the batch out in the store's compact form now, so the record objects can be
   * collected while the write waits, and a failed write can be retried from it.
   */
  prepare?(batch: readonly FlowRecord[]): PreparedBatch;
  /** Writes a prepared batch; after a failure the same batch may be written again. */
  writePrepared?(batch: PreparedBatch): Promise<void>;
  flows(q: FlowsQuery): Promise<FlowRecordJson[]>;
  top(q: TopQuery): Promise<TopRow[]>;
  timeseries(q: TimeseriesQuery): Promise<TimeseriesPoint[]>;
  exporters(range: TimeRange): Promise<ExporterSummary[]>;
  /** Applies retention now; returns the partitions dropped. */
  applyRetention(policy: RetentionPolicy, nowMs: number): Promise<number>;
  health(): StoreHealth;
  close(): Promise<void>;
}
