/**
 * JSON-lines serialisation speed of the flow record (record/json.ts), the cost every record pays
 * on the way to stdout/files. Records come from a real capture (decoded once), then are
 * serialised in a loop. Usage: npx tsx bench/json-serialize.ts [seconds]
 */
import { readCaptureFile } from '../src/capture/capture-reader.js';
import { FlowDecoder } from '../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import type { FlowRecord } from '../src/record/flow-record.js';
import { toJsonLine } from '../src/record/json.js';
import { CollectingSink } from '../test/helpers/collecting-sink.js';

const seconds = Number(process.argv[2] ?? 3);
const sink = new CollectingSink();
const decoder = new FlowDecoder(defaultDecoderSettings());
for (const file of [
  'ipfix/ipfixcol2_example_flows.ipfix',
  'sflow/overflowd_sflow.pcap',
  'netflow5/overflowd_netflow_4M.pcap',
]) {
  for (const d of readCaptureFile(new URL(`../../shared/testdata/${file}`, import.meta.url).pathname)) {
    decoder.decode(d, sink);
  }
}
const records: FlowRecord[] = sink.records;
let bytes = 0;
for (let i = 0; i < 20000; i++) bytes += toJsonLine(records[i % records.length]).length; // warm-up
const t0 = process.hrtime.bigint();
let n = 0;
const deadline = t0 + BigInt(seconds * 1e9);
while (process.hrtime.bigint() < deadline) {
  for (let i = 0; i < 10000; i++) bytes += toJsonLine(records[(n + i) % records.length]).length;
  n += 10000;
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(
  `toJsonLine: ${Math.round(n / secs).toLocaleString('en')} records/s (${records.length} distinct records, avg ${Math.round(bytes / n)} bytes)`,
);
