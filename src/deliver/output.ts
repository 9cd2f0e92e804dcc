import type { FlowRecord } from '../record/flow-record.js';

/**
 * Where batches of records end up (JSON lines today; stores and Kafka later). One batch is
 * written at a time: the promise resolves when the output can take the next one, which is how
 * a slow output pushes back on the batcher.
 */
export interface RecordOutput {
  readonly name: string;
  write(batch: readonly FlowRecord[]): Promise<void>;
  /** Flushes and releases what the output holds. */
  close(): Promise<void>;
}
