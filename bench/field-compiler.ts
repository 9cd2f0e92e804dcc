/**
 * Records/s of a compiled NetFlow v9 template (20 fields, Cisco IOS-like) on one core:
 * `read` alone, and `read` + `finishRecord`. Run: npx tsx bench/field-compiler.ts
 */

import { DEFAULT_EXPORTER_SETTINGS, defaultDecoderSettings } from '../src/decode/settings.js';
import type { DecodeSink } from '../src/decode/sink.js';
import { type CompiledTemplate, RecordScratch, type TemplateField } from '../src/decode/template/contract.js';
import { compileInterpretedTemplate, compileTemplate } from '../src/decode/template/field-compiler.js';
import { finishRecord } from '../src/decode/template/record-finish.js';
import { FlowRecord } from '../src/record/flow-record.js';

const FIELDS: [number, number][] = [
  [8, 4],
  [12, 4],
  [15, 4],
  [7, 2],
  [11, 2],
  [4, 1],
  [5, 1],
  [6, 1],
  [10, 2],
  [14, 2],
  [1, 4],
  [2, 4],
  [22, 4],
  [21, 4],
  [9, 1],
  [13, 1],
  [16, 2],
  [17, 2],
  [61, 1],
  [48, 1],
];
const template: TemplateField[] = FIELDS.map(([id, length]) => ({ id, enterprise: 0, length }));
const recordLength = FIELDS.reduce((a, [, l]) => a + l, 0);
const COUNT = 1024;
const buf = Buffer.alloc(recordLength * COUNT);
for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24;

const scratch = new RecordScratch();
const ctx = {
  protocol: 'netflow9' as const,
  exporter: '192.0.2.1',
  exportTimeSec: 1_700_000_000,
  sysUptimeMs: 3_000_000_000,
  receivedAtMs: 1_700_000_000_000,
  systemInitTimeMs: null,
};
let kept = 0;
const sink: DecodeSink = {
  record: () => {},
  error: () => {},
  datagram: () => {},
  sequence: () => {},
  samplingUnknown: () => {},
  counters: () => {},
};
const lookup = () => 1000;

function run(compiled: CompiledTemplate, withFinish: boolean, rounds: number): number {
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) {
    for (let off = 0; off < buf.length; ) {
      const rec = new FlowRecord();
      off = compiled.read(buf, off, buf.length, rec, scratch);
      if (withFinish) finishRecord(rec, scratch, ctx, lookup, DEFAULT_EXPORTER_SETTINGS, sink);
      if (rec.bits !== null) kept++;
    }
  }
  // CPU time, not wall time: on a shared machine wall time mostly measures the neighbours.
  const c = process.cpuUsage(c0);
  return (rounds * COUNT) / ((c.user + c.system) / 1e6);
}

const fmt = (n: number) => `${(n / 1e6).toFixed(2)}M records/s`;
const readers: [string, CompiledTemplate][] = [
  ['generated', compileTemplate(template, 'netflow9', defaultDecoderSettings())],
  ['operation table', compileInterpretedTemplate(template, 'netflow9', defaultDecoderSettings())],
];
for (const [name, compiled] of readers) {
  run(compiled, true, 200); // warm up
  console.log(
    `${name}: read ${fmt(run(compiled, false, 2000))}, read + finish ${fmt(run(compiled, true, 2000))}`,
  );
}
void kept;
