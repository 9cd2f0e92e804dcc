/** Hostile and damaged input: the decoder reports, never throws, never loops on absurd counts. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readCaptureFile } from '../../../src/capture/capture-reader.js';
import { DEFAULT_DECODE_LIMITS, defaultDecoderSettings } from '../../../src/decode/settings.js';
import { decodeSflow } from '../../../src/decode/sflow/sflow.js';
import type { FlowRecord } from '../../../src/record/flow-record.js';
import { CollectingSink } from '../../helpers/collecting-sink.js';
import { corpusPath } from '../../helpers/corpus.js';
import { datagramOf } from '../../helpers/datagram.js';

function firstPayload(name: string): Buffer {
  for (const d of readCaptureFile(corpusPath(`sflow/${name}`))) return Buffer.from(d.payload);
  throw new Error(`${name}: no datagram`);
}

const SAMPLES: [string, Buffer][] = [
  ['data-1140', firstPayload('akvorado_sflow_data-1140.pcap')],
  ['expanded-sample', firstPayload('akvorado_sflow_data-sflow-expanded-sample.pcap')],
  ['counters', readFileSync(corpusPath('sflow/logstash_sflow_counters_sample.dat'))],
  ['drop', readFileSync(corpusPath('sflow/telegraf_sflow_issue_15375_sflow_drop_1036.bin'))],
];

function assertSane(rec: FlowRecord, what: string): void {
  for (const port of [rec.srcport, rec.dstport]) {
    assert.ok(
      port === null || (Number.isInteger(port) && port >= 0 && port <= 65535),
      `${what}: port ${port}`,
    );
  }
  assert.ok(rec.protocolint === null || (rec.protocolint >= 0 && rec.protocolint <= 255), what);
  assert.ok(rec.bits === null || (Number.isFinite(rec.bits) && rec.bits > 0), `${what}: bits ${rec.bits}`);
  assert.equal(rec.packets, 1, what);
  assert.equal(rec.flowtype, 'sflow', what);
}

function decode(bytes: Buffer, settings = defaultDecoderSettings()): CollectingSink {
  const sink = new CollectingSink();
  decodeSflow(datagramOf(bytes), settings, sink);
  return sink;
}

test('every prefix of real datagrams decodes without throwing; cut datagrams report an error', () => {
  for (const [name, full] of SAMPLES) {
    const whole = decode(full);
    assert.deepEqual(whole.errors, [], `${name} whole`);
    for (let n = 0; n < full.length; n++) {
      const sink = decode(full.subarray(0, n));
      for (const r of sink.records) assertSane(r, `${name} prefix ${n}`);
      assert.ok(sink.records.length <= whole.records.length, `${name} prefix ${n}`);
      // A cut datagram is never silently accepted as complete.
      assert.ok(sink.errors.length > 0, `${name} prefix ${n} of ${full.length}: no error reported`);
    }
  }
});

test('random bit flips decode without throwing', () => {
  let seed = 0x2545f491;
  const rand = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  for (const [name, full] of SAMPLES) {
    for (let i = 0; i < 1500; i++) {
      const bytes = Buffer.from(full);
      const flips = 1 + Math.floor(rand() * 8);
      for (let f = 0; f < flips; f++) {
        const bit = Math.floor(rand() * bytes.length * 8);
        bytes[bit >> 3] ^= 1 << (bit & 7);
      }
      const sink = decode(bytes);
      for (const r of sink.records) assertSane(r, `${name} flip run ${i}`);
      assert.ok(sink.records.length <= DEFAULT_DECODE_LIMITS.maxSflowSamplesPerDatagram);
    }
  }
});

test('tcpdump sflow_print-segv.pcap bytes past the UDP length: absurd counts are refused', () => {
  // The whole IP payload of the capture (the 868 bytes that crashed tcpdump), not only the 8 the
  // UDP length allows: ethernet header at 40, IP at 54 (total length 896), UDP payload at 82.
  const file = readFileSync(corpusPath('sflow/tcpdump_sflow_print-segv.pcap'));
  const payload = file.subarray(82, 54 + 896);
  const sink = decode(payload);
  assert.deepEqual(sink.errorKinds(), ['too_many_records', 'bad_length']);
  assert.match(sink.errors[0].message, /768 records, more than the limit of 64/);
  assert.equal(sink.errors[0].exporter, '10.0.0.250');
  assert.equal(sink.records.length, 0);
});

test('sample count above the limit: datagram skipped with too_many_records', () => {
  const [, full] = SAMPLES[0];
  const settings = defaultDecoderSettings({
    limits: { ...DEFAULT_DECODE_LIMITS, maxSflowSamplesPerDatagram: 4 },
  });
  const sink = decode(full, settings);
  assert.deepEqual(sink.errorKinds(), ['too_many_records']);
  assert.match(sink.errors[0].message, /5 samples, more than the limit of 4/);
  assert.equal(sink.records.length, 0);
  assert.equal(sink.datagrams.length, 1, 'still counted for the agent');
});

test('record count above the limit: that sample skipped, the others decoded', () => {
  const [, full] = SAMPLES[0];
  const settings = defaultDecoderSettings({
    limits: { ...DEFAULT_DECODE_LIMITS, maxSflowRecordsPerSample: 2 },
  });
  const sink = decode(full, settings);
  // data-1140: samples 1, 3 and 5 carry 2 records, samples 2 and 4 (with extended router and
  // gateway) 4 (tshark "Flow record:").
  assert.deepEqual(sink.errorKinds(), ['too_many_records', 'too_many_records']);
  assert.equal(sink.records.length, 3);
  assert.deepEqual(
    sink.records.map((r) => r.input),
    [27, 27, 27],
  );
});

test('a 4-billion sample count with no limit ends at the end of the datagram', () => {
  const bytes = Buffer.from(SAMPLES[0][1]);
  bytes.writeUInt32BE(0xffffffff, 24); // num_samples of an IPv4-agent datagram
  const settings = defaultDecoderSettings({
    limits: {
      ...DEFAULT_DECODE_LIMITS,
      maxSflowSamplesPerDatagram: 2 ** 32,
      maxSflowRecordsPerSample: 2 ** 32,
    },
  });
  const started = Date.now();
  const sink = decode(bytes, settings);
  assert.ok(Date.now() - started < 1000);
  assert.equal(sink.records.length, 5);
  assert.deepEqual(sink.errorKinds(), ['truncated']);
  assert.match(sink.errors[0].message, /ends after 5 of 4294967295 samples/);
});

test('not sFlow v5 or an unknown agent address type: reported, nothing decoded', () => {
  const v4 = Buffer.from(SAMPLES[0][1]);
  v4.writeUInt32BE(4, 0);
  assert.deepEqual(decode(v4).errorKinds(), ['unknown_version']);
  const badType = Buffer.from(SAMPLES[0][1]);
  badType.writeUInt32BE(7, 4);
  const sink = decode(badType);
  assert.deepEqual(sink.errorKinds(), ['record_invalid']);
  assert.equal(sink.errors[0].exporter, '192.0.2.1', 'no agent: the UDP source');
  assert.deepEqual(decode(Buffer.alloc(3)).errorKinds(), ['truncated']);
});
