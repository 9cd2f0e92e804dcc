import type { RecordOutput } from '../deliver/output.js';
import type { FlowRecord } from '../record/flow-record.js';

export interface RecordBatcherOptions {
  /** Records per batch (output.batchsize). */
  batchSize: number;
  /** Records allowed to wait for a slow output (output.queue); beyond it batches are dropped. */
  maxQueued: number;
  /** A partial batch is handed on after this long, so a quiet exporter's records still flow. */
  flushIntervalMs: number;
  /** Told when writing a batch failed (the batch is counted dropped). */
  onError: (err: unknown) => void;
}

/**
 * Records into batches, batches toward the output one at a time. Memory is bounded: when the
 * output is slower than decode and `maxQueued` records already wait, the new batch is dropped
 * whole and counted ("output_drops"); decode never waits on an output.
 */
export class RecordBatcher {
  private current: FlowRecord[] = [];
  private readonly pending: FlowRecord[][] = [];
  private queued = 0;
  private writing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  /** Records dropped because the output queue was full or the output failed. */
  drops = 0;
  /** Records handed to the output. */
  written = 0;

  constructor(
    private readonly output: RecordOutput,
    private readonly opts: RecordBatcherOptions,
  ) {
    this.timer = setInterval(() => this.flush(), opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Records waiting for the output (partial batch included). */
  get depth(): number {
    return this.queued + this.current.length;
  }

  add(rec: FlowRecord): void {
    this.current.push(rec);
    if (this.current.length >= this.opts.batchSize) this.flush();
  }

  /** Hands the partial batch on now. */
  flush(): void {
    const batch = this.current;
    if (batch.length === 0) return;
    this.current = [];
    if (this.queued + batch.length > this.opts.maxQueued) {
      this.drops += batch.length;
      return;
    }
    this.pending.push(batch);
    this.queued += batch.length;
    if (this.writing === null) this.writing = this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    for (let batch = this.pending.shift(); batch !== undefined; batch = this.pending.shift()) {
      try {
        await this.output.write(batch);
        this.written += batch.length;
      } catch (err) {
        this.drops += batch.length;
        this.opts.onError(err);
      }
      this.queued -= batch.length;
    }
    this.writing = null;
  }

  /** Flushes the partial batch and waits until the output has taken everything. */
  async drain(): Promise<void> {
    this.flush();
    while (this.writing !== null) await this.writing;
  }

  /** Drains, stops the timer and closes the output. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.drain();
    await this.output.close();
  }
}
