/**
 * The DuckDB store on its own thread: the same store (duckdb-store.ts) run by store-worker.ts,
 * behind the FlowStore contract. write() lays the batch out in column chunks here (cheap, and the
 * records can be collected right after) and transfers the buffers; everything DuckDB does runs on
 * the worker (and DuckDB's own threads), so the thread that receives and decodes datagrams never
 * waits for an appender flush, a row-group compression or a commit. This is what lets a 2-core
 * machine receive and store at the same time (docs/benchmarks.md, bench/udp-duckdb.ts).
 *
 * A worker that stops unexpectedly fails the calls in flight and every later one (reported in
 * health(), so /readyz and /stats show it). It is not restarted: what stops it (out of memory, a
 * native fault) usually takes the process with it, and a restart would hide that.
 */
import { Worker } from 'node:worker_threads';
import type { FlowRecord } from '../../record/flow-record.js';
import type { FlowRecordJson } from '../../record/json.js';
import { workerUrl } from '../../threads/worker-url.js';
import type {
  ExporterSummary,
  FlowStore,
  FlowsQuery,
  PreparedBatch,
  RetentionPolicy,
  StoreHealth,
  TimeRange,
  TimeseriesPoint,
  TimeseriesQuery,
  TopQuery,
  TopRow,
} from '../contract.js';
import { fillPartitions, type PartitionColumns, transferables } from './append.js';
import type { StoreCall, StoreReply, StoreWorkerData } from './worker-protocol.js';

// Distributive: `Omit` over the union keeps each call's own fields.
type CallBody = StoreCall extends infer C ? (C extends StoreCall ? Omit<C, 'id'> : never) : never;

/** A batch laid out in column chunks, ready to transfer to the store's thread. */
interface PreparedColumns extends PreparedBatch {
  parts: PartitionColumns[];
}

export class DuckDbWorkerStore implements FlowStore {
  readonly name = 'duckdb';
  private worker: Worker | null = null;
  private opened = false;
  /** Why the worker is gone for good ('closed' after close()); null while it may run. */
  private stopped: string | null = null;
  private nextId = 1;
  private readonly calls = new Map<
    number,
    {
      resolve: (v: unknown) => void;
      reject: (e: Error) => void;
      onPartsBack?: ((parts: PartitionColumns[]) => void) | undefined;
    }
  >();
  private last: StoreHealth = { ready: false, lastError: null, recordsWritten: 0, partitions: 0, bytes: 0 };

  constructor(private readonly options: StoreWorkerData) {}

  async open(): Promise<void> {
    try {
      await this.call({ op: 'open' });
      this.opened = true;
    } catch (err) {
      // A store that cannot open (locked, damaged) must not leave a thread keeping the process up.
      await this.stopWorker();
      throw err;
    }
  }

  write(batch: readonly FlowRecord[]): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    return this.writePrepared(this.prepare(batch));
  }

  /** The column chunks of the batch (~0.5 kB a record instead of a few kB of objects). */
  prepare(batch: readonly FlowRecord[]): PreparedColumns {
    return {
      records: batch.length,
      parts: fillPartitions(batch, (this.options.partitionSec ?? 86400) * 1000),
    };
  }

  /**
   * Transfers the chunks to the store's thread; a failed write transfers them back, so the same
   * prepared batch can be written again.
   */
  writePrepared(batch: PreparedBatch): Promise<void> {
    const p = batch as PreparedColumns;
    if (p.records === 0) return Promise.resolve();
    return this.call({ op: 'write', parts: p.parts, records: p.records }, transferables(p.parts), (back) => {
      p.parts = back;
    }) as Promise<void>;
  }

  flows(query: FlowsQuery): Promise<FlowRecordJson[]> {
    return this.call({ op: 'flows', query }) as Promise<FlowRecordJson[]>;
  }

  top(query: TopQuery): Promise<TopRow[]> {
    return this.call({ op: 'top', query }) as Promise<TopRow[]>;
  }

  timeseries(query: TimeseriesQuery): Promise<TimeseriesPoint[]> {
    return this.call({ op: 'timeseries', query }) as Promise<TimeseriesPoint[]>;
  }

  exporters(range: TimeRange): Promise<ExporterSummary[]> {
    return this.call({ op: 'exporters', range }) as Promise<ExporterSummary[]>;
  }

  applyRetention(policy: RetentionPolicy, nowMs: number): Promise<number> {
    return this.call({ op: 'retention', policy, nowMs }) as Promise<number>;
  }

  health(): StoreHealth {
    return { ...this.last, ready: this.last.ready && this.worker !== null };
  }

  /**
   * Closes the store in the worker, which then ends by itself. Never terminate() a worker that
   * holds DuckDB objects: their finalizers abort the whole process.
   */
  async close(): Promise<void> {
    if (!this.opened) return;
    await this.stopWorker();
  }

  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    this.opened = false;
    this.stopped = 'closed';
    this.last = { ...this.last, ready: false };
    if (worker === null) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    const id = this.nextId++;
    const closed = new Promise((resolve, reject) => this.calls.set(id, { resolve, reject }));
    worker.postMessage({ op: 'close', id } as StoreCall);
    try {
      await closed;
    } finally {
      await exited;
    }
  }

  private call(
    body: CallBody,
    transfer: ArrayBuffer[] = [],
    onPartsBack?: (parts: PartitionColumns[]) => void,
  ): Promise<unknown> {
    if (body.op === 'open' ? this.opened || this.stopped !== null : !this.opened || this.worker === null) {
      const why =
        this.stopped === null || this.stopped === 'closed' ? 'DuckDB store is not open' : this.stopped;
      this.last = { ...this.last, lastError: why };
      return Promise.reject(new Error(why));
    }
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, onPartsBack });
      worker.postMessage({ ...body, id } as StoreCall, transfer);
    });
  }

  private start(): Worker {
    const worker = new Worker(workerUrl(import.meta.url, 'store-worker'), { workerData: this.options });
    this.worker = worker;
    worker.on('message', (reply: StoreReply) => {
      this.last = reply.health;
      const call = this.calls.get(reply.id);
      if (call === undefined) return;
      this.calls.delete(reply.id);
      if (reply.ok) call.resolve(reply.result);
      else {
        if (reply.parts !== undefined) call.onPartsBack?.(reply.parts);
        const err = new Error(reply.error);
        err.name = reply.errorName;
        call.reject(err);
      }
    });
    const fail = (err: Error): void => {
      if (this.worker !== worker) return;
      this.worker = null;
      if (this.stopped === null) this.stopped = `store worker stopped: ${err.message}`;
      this.last = { ...this.last, ready: false, lastError: this.stopped };
      for (const call of this.calls.values()) call.reject(err);
      this.calls.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`store worker exited with code ${code}`)));
    return worker;
  }
}
