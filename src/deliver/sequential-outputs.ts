import type { FlowRecord } from '../record/flow-record.js';
import type { RecordOutput } from './output.js';

/**
 * Several outputs that share one queue lane, each given every batch in turn (stdout and a rotated
 * file): the slowest one paces both, which is what one lane means.
 */
export class SequentialOutputs implements RecordOutput {
  readonly name: string;

  constructor(private readonly outputs: readonly RecordOutput[]) {
    this.name = outputs.map((o) => o.name).join(' + ');
  }

  async write(batch: readonly FlowRecord[]): Promise<void> {
    for (const o of this.outputs) await o.write(batch);
  }

  async close(): Promise<void> {
    for (const o of this.outputs) await o.close();
  }
}
