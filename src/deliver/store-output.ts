/**
 * Records into a FlowStore, off the decode path. `write()` only queues (it never waits on the
 * store), so a slow or failing store costs memory up to `maxQueued` records, then drops that are
 * counted, never a blocked receive. Queued batches are merged into store writes of up to
 * `batchSize` records, several in flight (see run()); records count as queued until their write
 * has committed. A failed write puts its records back at the head of the queue, retried every
 * `retryIntervalMs`: a store that comes back loses nothing that fitted.
 */
import type { FlowRecord } from '../record/flow-record.js';
import type { FlowStore, RetentionPolicy, StoreHealth } from '../store/contract.js';
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

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class StoreOutput implements RecordOutput {
  readonly name: string;
  private readonly pending: (readonly FlowRecord[])[] = [];
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

  private dispatch(records: readonly FlowRecord[], onFailure: () => void): void {
    const write: Promise<void> = this.store
      .write(records)
      .then(
        () => {
          this.lastError = null;
          this.queued -= records.length;
          this.written += records.length;
        },
        (err: unknown) => {
          this.lastError = message(err);
          this.opts.onError(err, 'write');
          this.pending.unshift(records);
          onFailure();
        },
      )
      .finally(() => this.inFlight.delete(write));
    this.inFlight.add(write);
  }

  /** Takes the head batches merged up to batchSize records (a larger single batch goes whole). */
  private nextWrite(): readonly FlowRecord[] {
    let n = 1;
    let total = (this.pending[0] as readonly FlowRecord[]).length;
    while (
      n < this.pending.length &&
      total + (this.pending[n] as readonly FlowRecord[]).length <= this.opts.batchSize
    ) {
      total += (this.pending[n] as readonly FlowRecord[]).length;
      n++;
    }
    const taken = this.pending.splice(0, n);
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
