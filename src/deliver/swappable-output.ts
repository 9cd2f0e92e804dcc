import type { FlowRecord } from '../record/flow-record.js';
import type { RecordOutput } from './output.js';

/**
 * An output that can be replaced while records flow (configuration reload): the batch being
 * written finishes on the old output, which is then closed (flushed: an uploader delivers or
 * spools what it holds) before the new one takes the next batch. Writes that arrive meanwhile
 * wait; nothing is dropped or written twice.
 */
export class SwappableOutput implements RecordOutput {
  private current: RecordOutput;
  /** The write or swap in progress: every operation runs after the previous one. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(initial: RecordOutput) {
    this.current = initial;
  }

  get name(): string {
    return this.current.name;
  }

  /** The output in use now. */
  get output(): RecordOutput {
    return this.current;
  }

  write(batch: readonly FlowRecord[]): Promise<void> {
    const run = this.chain.then(() => this.current.write(batch));
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * Replaces the output: `open` is called once the old output is closed (an uploader's spool
   * directory is then free for the new one). If `open` fails the old settings are gone, so the
   * error is returned and `fallback` (the old configuration, opened again) takes over.
   */
  swap(open: () => Promise<RecordOutput>, fallback: () => Promise<RecordOutput>): Promise<void> {
    const run = this.chain.then(async () => {
      await this.current.close();
      try {
        this.current = await open();
      } catch (err) {
        this.current = await fallback();
        throw err;
      }
    });
    this.chain = run.catch(() => {});
    return run;
  }

  close(): Promise<void> {
    const run = this.chain.then(() => this.current.close());
    this.chain = run.catch(() => {});
    return run;
  }
}
