import type { FlowRecord } from '../record/flow-record.js';
import type { RecordOutput } from './output.js';

/**
 * `output.discard`: records are counted and dropped. What remains is receive, decode, enrichment,
 * detection and the stats: a detection-only collector, or the decode benchmark's "no output".
 */
export class DiscardOutput implements RecordOutput {
  readonly name = 'discard';
  records = 0;

  async write(batch: readonly FlowRecord[]): Promise<void> {
    this.records += batch.length;
  }

  async close(): Promise<void> {}
}
