/** Messages between DuckDbWorkerStore (the collector's thread) and store-worker.ts. */
import type {
  FlowsQuery,
  RetentionPolicy,
  StoreHealth,
  TimeRange,
  TimeseriesQuery,
  TopQuery,
} from '../contract.js';
import type { PartitionColumns } from './append.js';

/** DuckDB's memory_limit unless configured (`store.memorylimit`). */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = 256 * 1024 * 1024;

export interface StoreWorkerData {
  dir: string;
  partitionSec?: number;
  memoryLimitBytes?: number;
}

export type StoreCall = { id: number } & (
  | { op: 'open' }
  | { op: 'write'; parts: PartitionColumns[]; records: number }
  | { op: 'flows'; query: FlowsQuery }
  | { op: 'top'; query: TopQuery }
  | { op: 'timeseries'; query: TimeseriesQuery }
  | { op: 'exporters'; range: TimeRange }
  | { op: 'retention'; policy: RetentionPolicy; nowMs: number }
  | { op: 'close' }
);

/** Every reply carries the store's health, so health() on the other side is never stale. */
export type StoreReply = { id: number; health: StoreHealth } & (
  | { ok: true; result: unknown }
  /** A failed write hands its column chunks back (transferred), so it can be retried. */
  | { ok: false; error: string; errorName: string; parts?: PartitionColumns[] }
);
