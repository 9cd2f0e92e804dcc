/**
 * One batch to several outputs (JSON lines and the store). Each output has its own lane: a bounded
 * queue (in records) written one batch at a time, so a slow output only fills its own lane and
 * drops (counted per lane) while the others keep up. `write()` never waits on an output.
 */
import type { FlowRecord } from '../record/flow-record.js';
import type { RecordOutput } from './output.js';

export interface FanoutTarget {
  output: RecordOutput;
  /** Records allowed to wait for this output; beyond it its batches are dropped and counted. */
  maxQueued: number;
}

export interface LaneStats {
  name: string;
  depth: number;
  written: number;
  drops: number;
}

class Lane {
  private readonly pending: (readonly FlowRecord[])[] = [];
  private queued = 0;
  private running: Promise<void> | null = null;
  written = 0;
  drops = 0;

  constructor(
    readonly target: FanoutTarget,
    private readonly onError: (output: string, err: unknown) => void,
  ) {}

  get depth(): number {
    return this.queued;
  }

  push(batch: readonly FlowRecord[]): void {
    if (this.queued + batch.length > this.target.maxQueued) {
      this.drops += batch.length;
      return;
    }
    this.pending.push(batch);
    this.queued += batch.length;
    this.running ??= this.run();
  }

  private async run(): Promise<void> {
    for (let batch = this.pending.shift(); batch !== undefined; batch = this.pending.shift()) {
      try {
        await this.target.output.write(batch);
        this.written += batch.length;
      } catch (err) {
        this.drops += batch.length;
        this.onError(this.target.output.name, err);
      }
      this.queued -= batch.length;
    }
    this.running = null;
  }

  async drain(): Promise<void> {
    while (this.running !== null) await this.running;
  }
}

export class FanoutOutput implements RecordOutput {
  readonly name: string;
  private readonly lanes: Lane[];

  /** `onError`: a batch an output failed to write (it is counted dropped in that lane). */
  constructor(targets: readonly FanoutTarget[], onError: (output: string, err: unknown) => void) {
    this.lanes = targets.map((t) => new Lane(t, onError));
    this.name = targets.map((t) => t.output.name).join('+');
  }

  write(batch: readonly FlowRecord[]): Promise<void> {
    for (const lane of this.lanes) lane.push(batch);
    return Promise.resolve();
  }

  /** Per output, in the order given. */
  laneStats(): LaneStats[] {
    return this.lanes.map((l) => ({
      name: l.target.output.name,
      depth: l.depth,
      written: l.written,
      drops: l.drops,
    }));
  }

  async drain(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.drain()));
  }

  /** Drains every lane, then closes every output (all of them, even if one fails to close). */
  async close(): Promise<void> {
    await this.drain();
    const results = await Promise.allSettled(this.lanes.map((l) => l.target.output.close()));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }
}
