/**
 * Every decoder hands the header's export time (the exporter's wall clock) to the sink with the
 * datagram: what /stats compares with the arrival time to find exporters whose clock is off.
 * Expected values are the header fields of the captures as `xxd` shows them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { corpusPath } from '../helpers/corpus.js';
import { datagramOf } from '../helpers/datagram.js';

function exportTimes(payloads: Buffer[]): (number | null)[] {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const p of payloads) decoder.decode(datagramOf(p), sink);
  assert.equal(sink.exportTimesMs.length, sink.datagrams.length, 'one export time per datagram');
  return sink.exportTimesMs;
}

const capture = (relative: string): Buffer => readFileSync(corpusPath(relative));

test('NetFlow v5: unix_secs + unix_nsecs in ms (logstash_netflow5.dat: 0x55451990 s, 0x10b57740 ns)', () => {
  assert.deepEqual(exportTimes([capture('netflow5/logstash_netflow5.dat')]), [
    Date.UTC(2015, 4, 2, 18, 38, 8, 280),
  ]);
});

test('NetFlow v9: unix_secs in ms (logstash_nf9_cisco_asa_1_tpl.dat: 0x56178d45)', () => {
  assert.deepEqual(exportTimes([capture('netflow9/logstash_nf9_cisco_asa_1_tpl.dat')]), [
    Date.UTC(2015, 9, 9, 9, 47, 49),
  ]);
});

test('IPFIX: export time in ms (telegraf_ipfix_example_ipfix_0.bin: 0x635834a3)', () => {
  assert.deepEqual(exportTimes([capture('ipfix/telegraf_ipfix_example_ipfix_0.bin')]), [
    Date.UTC(2022, 9, 25, 19, 10, 27),
  ]);
});

test('the export time follows the header field when it is rewritten (v5, v9, IPFIX)', () => {
  const stamp = 1_800_000_000;
  const v5 = Buffer.from(capture('netflow5/telegraf_netflow_v5_example_netflow_v5.bin'));
  v5.writeUInt32BE(stamp, 8);
  v5.writeUInt32BE(999_999_999, 12);
  const v9 = Buffer.from(capture('netflow9/logstash_nf9_cisco_asa_1_tpl.dat'));
  v9.writeUInt32BE(stamp, 8);
  const ipfix = Buffer.from(capture('ipfix/telegraf_ipfix_example_ipfix_0.bin'));
  ipfix.writeUInt32BE(stamp, 4);
  assert.deepEqual(exportTimes([v5, v9, ipfix]), [stamp * 1000 + 999, stamp * 1000, stamp * 1000]);
});

test('sFlow has no export time: null (telegraf_sflow_v5_example_sflow_v5.bin)', () => {
  assert.deepEqual(exportTimes([capture('sflow/telegraf_sflow_v5_example_sflow_v5.bin')]), [null]);
});

test('a header cut short before its export time gives null, the datagram is still counted', () => {
  const v5 = capture('netflow5/logstash_netflow5.dat').subarray(0, 10);
  const v9 = capture('netflow9/logstash_nf9_cisco_asa_1_tpl.dat').subarray(0, 10);
  const ipfix = capture('ipfix/telegraf_ipfix_example_ipfix_0.bin').subarray(0, 6);
  assert.deepEqual(exportTimes([v5, v9, ipfix]), [null, null, null]);
});
