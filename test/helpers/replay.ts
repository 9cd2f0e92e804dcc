/**
 * Replays a chain of capture files (template files first, then data, in the order of
 * ../shared/testdata/PROVENANCE.md "Replay order") through ONE FlowDecoder, so templates and
 * sampling options learnt from one file apply to the data of the next.
 */
import assert from 'node:assert/strict';
import { readCaptureFile } from '../../src/capture/capture-reader.js';
import type { Datagram } from '../../src/decode/datagram.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { type DecoderSettings, defaultDecoderSettings } from '../../src/decode/settings.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { CollectingSink } from './collecting-sink.js';
import { corpusPath } from './corpus.js';

/**
 * Raw payload files (.dat/.bin/.dump) carry no receive time (the reader uses the file's mtime):
 * a fixed one keeps `timestamp` reproducible wherever the corpus was unpacked.
 */
export const RAW_RECEIVED_AT_MS = Date.UTC(2024, 0, 1);

export interface ReplayResult {
  records: FlowRecord[];
  errors: CollectingSink['errors'];
  sink: CollectingSink;
  datagrams: number;
}

/** Every datagram of the files (paths relative to testdata), in the given order. */
export function chainDatagrams(files: readonly string[]): Datagram[] {
  const out: Datagram[] = [];
  for (const f of files) {
    const raw = !f.endsWith('.pcap') && !f.endsWith('.pcapng');
    for (const d of readCaptureFile(corpusPath(f))) {
      out.push(raw && !f.endsWith('.ipfix') ? { ...d, receivedAtMs: RAW_RECEIVED_AT_MS } : d);
    }
  }
  return out;
}

/** Decodes the files in order with one decoder; records and errors of the whole chain. */
export function replayChain(
  files: readonly string[],
  settings: DecoderSettings = defaultDecoderSettings(),
): ReplayResult {
  const decoder = new FlowDecoder(settings);
  const sink = new CollectingSink();
  const datagrams = chainDatagrams(files);
  for (const d of datagrams) decoder.decode(d, sink);
  return { records: sink.records, errors: sink.errors, sink, datagrams: datagrams.length };
}

/** The expected fields of some records, by index in the chain's output. */
export type ExpectedRecords = Record<number, Partial<FlowRecord>>;

/**
 * Asserts only the listed fields of the listed records, so a failure names the capture, the record
 * index and the field (deepStrictEqual prints the differing keys).
 */
export function assertRecords(
  label: string,
  records: readonly FlowRecord[],
  expected: ExpectedRecords,
): void {
  for (const [index, want] of Object.entries(expected)) {
    const rec = records[Number(index)];
    if (rec === undefined) throw new Error(`${label}: record ${index} missing (${records.length} decoded)`);
    const got: Record<string, unknown> = {};
    for (const key of Object.keys(want)) got[key] = rec[key as keyof FlowRecord];
    assert.deepStrictEqual(got, want, `${label}: record ${index}`);
  }
}
