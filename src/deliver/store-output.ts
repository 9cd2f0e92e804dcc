/**
 * Records into a FlowStore, off the decode path. `write()` only queues (it never waits on the
 * store), so a slow or failing store costs memory up to `maxQueued` records, then drops that are
 * counted, never a blocked receive. Queued batches are merged into store writes of up to
 * `batchSize` records, several in flight (see run()); records count as queued until their write
 * has committed. A failed write puts its records back at the head of the queue, retried every
 * `retryIntervalMs`: a store that comes back loses nothing that fitted.
 */
import type { FlowRecord } from '../record/flow-record.js';
import type { FlowStore, PreparedBatch, RetentionPolicy, StoreHealth } from '../store/contract.js';
import type { RecordOutput } from './output.js';

/** Retention drops whole partitions (days): checking hourly is plenty. */
export const RETENTION_INTERVAL_MS = 3_600_000;
/** Store writes handed over and not yet settled, at most (memory is bounded by maxQueued anyway). */
const MAX_WRITES_IN_FLIGHT = 64;

export interface StoreOutputOptions {
  /** Records per store write (store.batchsize). */
  batchSize: number;
  /** Records allowed to wait for the store (store.queue); beyond it new batches are dropped. */
  maxQueued: number;
  /** Wait between retries of a failed write (store.retryinterval). */
  retryIntervalMs: number;
  /** Applied at start and every `retentionIntervalMs`; null = never. */
  retention: RetentionPolicy | null;
  retentionIntervalMs?: number;
  /** Told about each failed write or retention run (the records stay queued). */
  onError: (err: unknown, what: 'write' | 'retention') => void;
  /** Told after retention dropped partitions. */
  onRetention?: (dropped: number) => void;
}

export interface StoreOutputStats {
  name: string;
  /** Records waiting for the store. */
  queueDepth: number;
  /** Records dropped because the queue was full (or the store still failed at shutdown). */
  drops: number;
  /** Records the store accepted. */
  written: number;
}

function isPrepared(b: readonly FlowRecord[] | PreparedBatch): b is PreparedBatch {
  return !Array.isArray(b);
}

function countOf(b: readonly FlowRecord[] | PreparedBatch): number {
  return isPrepared(b) ? b.records : b.length;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class StoreOutput implements RecordOutput {
  readonly name: string;
  /** Batches as they arrived, or prepared (a failed write of a store that prepares) for a retry. */
  private readonly pending: (readonly FlowRecord[] | PreparedBatch)[] = [];
  private queued = 0;
  private drops = 0;
  private written = 0;
  private lastError: string | null = null;
  private running: Promise<void> | null = null;
  /** Writes handed to the store and not settled yet (their records still count as queued). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Wakes the run loop while it waits on writes in flight: new records to hand over. */
  private arrived: (() => void) | null = null;
  private retentionDue: boolean;
  private closing = false;
  /** Cuts a retry wait short (close). */
  private wake: (() => void) | null = null;
  private readonly retentionTimer: NodeJS.Timeout | null;

  constructor(
    private readonly store: FlowStore,
    private readonly opts: StoreOutputOptions,
  ) {
    this.name = `store:${store.name}`;
    this.retentionDue = opts.retention !== null;
    this.retentionTimer =
      opts.retention === null
        ? null
        : setInterval(() => {
            this.retentionDue = true;
            this.kick();
          }, opts.retentionIntervalMs ?? RETENTION_INTERVAL_MS);
    this.retentionTimer?.unref();
    this.kick();
  }

  /** Queues the batch (or drops and counts it when the queue is full); never waits on the store. */
  write(batch: readonly FlowRecord[]): Promise<void> {
    if (batch.length === 0) return Promise.resolve();
    if (this.closing || this.queued + batch.length > this.opts.maxQueued) {
      this.drops += batch.length;
      return Promise.resolve();
    }
    this.pending.push(batch);
    this.queued += batch.length;
    this.kick();
    return Promise.resolve();
  }

  stats(): StoreOutputStats {
    return { name: this.store.name, queueDepth: this.queued, drops: this.drops, written: this.written };
  }

  /**
   * The store's health as this output sees it: a write that failed here makes it not ready until
   * one succeeds, even if the store itself did not notice (e.g. it was closed under us).
   */
  health(): StoreHealth {
    const h = this.store.health();
    return { ...h, ready: h.ready && this.lastError === null, lastError: this.lastError ?? h.lastError };
  }

  /** Waits until everything queued so far is in the store (or dropped at close). */
  async drain(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /**
   * Writes what is queued (one more attempt if the store is failing: shutdown must not hang on a
   * dead store), then stops. Does not close the store: its owner does, after the API stopped.
   */
  async close(): Promise<void> {
    this.closing = true;
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer);
    this.retentionDue = false;
    this.wake?.();
    this.kick();
    await this.drain();
  }

  private kick(): void {
    this.arrived?.();
    if (this.running !== null) return;
    if (this.pending.length === 0 && !this.retentionDue) return;
    this.running = this.run().finally(() => {
      this.running = null;
      // Something may have arrived while the loop was finishing.
      if (this.pending.length > 0 || this.retentionDue) this.kick();
    });
  }

  /**
   * Hands queued records to the store as soon as they arrive, up to MAX_WRITES_IN_FLIGHT writes
   * at once: a store may accept a write long before it has committed the previous one (DuckDB
   * stages it in memory while the previous move runs on its own threads), and records handed over
   * early are no longer JavaScript objects the garbage collector has to trace. A failed write puts
   * its records back at the head of the queue and pauses new writes for `retryIntervalMs`.
   */
  private async run(): Promise<void> {
    let failing = false;
    while (this.pending.length > 0 || this.retentionDue || this.inFlight.size > 0) {
      if (this.retentionDue && this.inFlight.size === 0) {
        await this.retain();
        continue;
      }
      if (
        !failing &&
        !this.retentionDue &&
        this.pending.length > 0 &&
        this.inFlight.size < MAX_WRITES_IN_FLIGHT
      ) {
        this.dispatch(this.nextWrite(), () => {
          failing = true;
        });
        continue;
      }
      if (this.inFlight.size > 0) {
        // A write settling, or new records to hand over.
        await Promise.race([...this.inFlight, new Promise<void>((resolve) => (this.arrived = resolve))]);
        this.arrived = null;
        continue;
      }
      if (failing) {
        if (this.closing) {
          this.drops += this.queued;
          this.pending.length = 0;
          this.queued = 0;
          return;
        }
        await this.sleep(this.opts.retryIntervalMs);
        failing = false;
      }
    }
  }

  /**
   * Hands one write to the store. A store that prepares gets the records laid out in its compact
   * form first: only that is kept for a retry, so the record objects can be collected while the
   * write waits (they would otherwise live, and be traced by the garbage collector, until commit).
   */
  private dispatch(next: readonly FlowRecord[] | PreparedBatch, onFailure: () => void): void {
    const { store } = this;
    let retry: readonly FlowRecord[] | PreparedBatch = next;
    let attempt: Promise<void>;
    if (store.prepare !== undefined && store.writePrepared !== undefined) {
      const prepared = isPrepared(next) ? next : store.prepare(next);
      retry = prepared;
      attempt = store.writePrepared(prepared);
    } else {
      attempt = store.write(next as readonly FlowRecord[]);
    }
    const records = countOf(next);
    const write: Promise<void> = attempt
      .then(
        () => {
          this.lastError = null;
          this.queued -= records;
          this.written += records;
        },
        (err: unknown) => {
          this.lastError = message(err);
          this.opts.onError(err, 'write');
          this.pending.unshift(retry);
          onFailure();
        },
      )
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  /**
   * Takes the head batches merged up to batchSize records (a larger single batch goes whole); a
   * prepared batch (a retry) goes alone.
   */
  private nextWrite(): readonly FlowRecord[] | PreparedBatch {
    const head = this.pending[0] as readonly FlowRecord[] | PreparedBatch;
    if (isPrepared(head)) return this.pending.shift() as PreparedBatch;
    let n = 1;
    let total = head.length;
    for (; n < this.pending.length; n++) {
      const b = this.pending[n] as readonly FlowRecord[] | PreparedBatch;
      if (isPrepared(b) || total + b.length > this.opts.batchSize) break;
      total += b.length;
    }
    const taken = this.pending.splice(0, n) as (readonly FlowRecord[])[];
    return n === 1 ? (taken[0] as readonly FlowRecord[]) : taken.flat();
  }

  private async retain(): Promise<void> {
    this.retentionDue = false;
    if (this.opts.retention === null) return;
    try {
      const dropped = await this.store.applyRetention(this.opts.retention, Date.now());
      if (dropped > 0) this.opts.onRetention?.(dropped);
    } catch (err) {
      this.opts.onError(err, 'retention');
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
