/**
 * The records the store benches write: the akvorado NetFlow v5 capture decoded, copied into
 * batches with times and source addresses shifted so every row differs, all in one UTC day
 * (one partition). Built before timing.
 */
import { readCaptureFile } from '../src/capture/capture-reader.js';
import { detectProtocol, FlowDecoder } from '../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import { FlowRecord } from '../src/record/flow-record.js';
import { CollectingSink } from '../test/helpers/collecting-sink.js';
import { corpusPath } from '../test/helpers/corpus.js';

/** Between 2 and 50 batches of `batchSize`, about `maxRecords` records in all. */
export function storeBenchBatches(batchSize: number, maxRecords: number): FlowRecord[][] {
  const sink = new CollectingSink();
  const decoder = new FlowDecoder(defaultDecoderSettings());
  for (const d of readCaptureFile(corpusPath('netflow5/akvorado_netflow_nfv5.pcap'))) {
    if (detectProtocol(d.payload) !== null) decoder.decode(d, sink);
  }
  if (sink.records.length === 0) throw new Error('no records decoded');
  const base = Date.UTC(2024, 0, 1, 1);
  const batches: FlowRecord[][] = [];
  const batchCount = Math.max(2, Math.min(50, Math.ceil(maxRecords / batchSize)));
  for (let b = 0; b < batchCount; b++) {
    const batch: FlowRecord[] = [];
    for (let i = 0; i < batchSize; i++) {
      const src = sink.records[(b * batchSize + i) % sink.records.length] as FlowRecord;
      const r = Object.assign(new FlowRecord(), src);
      r.end = base + b * 60_000 + i;
      r.start = r.end - 1000;
      r.srcip = `10.${b % 256}.${(i >> 8) & 255}.${i & 255}`;
      batch.push(r);
    }
    batches.push(batch);
  }
  return batches;
}
