/**
 * sFlow v5 datagrams stored as raw UDP payloads. Expected values were read with tshark
 * (`text2pcap -u 6343,6343` around the payload, then `tshark -V`), except where noted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultDecoderSettings, type ExporterDecodeSettings } from '../../../src/decode/settings.js';
import { decodeSflow } from '../../../src/decode/sflow/sflow.js';
import { CollectingSink } from '../../helpers/collecting-sink.js';
import { corpusPath } from '../../helpers/corpus.js';
import { datagramOf } from '../../helpers/datagram.js';

const RECEIVED = Date.UTC(2024, 0, 1, 12, 0, 0, 250);

function decodeFile(name: string, exporter?: Partial<ExporterDecodeSettings>): CollectingSink {
  const sink = new CollectingSink();
  const settings = defaultDecoderSettings(
    exporter
      ? {
          exporterSettings: () => ({
            defaultSampleRate: null,
            sampleRateOverride: null,
            keyByPort: false,
            ...exporter,
          }),
        }
      : {},
  );
  decodeSflow(datagramOf(corpusPath(`sflow/${name}`), '198.51.100.9', RECEIVED), settings, sink);
  return sink;
}

function rawPayload(name: string): Buffer {
  return datagramOf(corpusPath(`sflow/${name}`)).payload;
}

test('logstash_sflow_flow_sample.dat: IPv4 raw header sample, agent address is the exporter', () => {
  const sink = decodeFile('logstash_sflow_flow_sample.dat');
  assert.deepEqual(sink.errors, []);
  assert.deepEqual(sink.datagrams, [{ exporter: '10.1.240.66', protocol: 'sflow5', bytes: 276 }]);
  assert.deepEqual(sink.sequences, [
    { exporter: '10.1.240.66', stream: 'sflow:1', sequence: 47612, units: 1 },
  ]);
  assert.equal(sink.records.length, 1);
  const r = sink.records[0];
  assert.equal(r.flowsrcip, '10.1.240.66', 'agent address, not the UDP source 198.51.100.9');
  assert.equal(r.flowtype, 'sflow');
  assert.equal(r.flowversion, 5);
  assert.equal(r.timestamp, Math.floor(RECEIVED / 1000));
  assert.equal(r.start, RECEIVED);
  assert.equal(r.end, RECEIVED);
  assert.equal(r.duration, 0);
  assert.equal(r.uptime, 385095408);
  assert.equal(r.samplerate, 2048);
  assert.equal(r.packets, 1);
  assert.equal(r.bits, 490 * 8, 'frame length 490 as sent');
  assert.equal(r.input, 1073741823, 'input 0x3FFFFFFF (internal) kept as raw ifIndex');
  assert.equal(r.output, 944);
  assert.equal(r.ipversion, 4);
  assert.equal(r.srcip, '10.243.27.17');
  assert.equal(r.dstip, '10.243.0.45');
  assert.equal(r.protocolint, 6);
  assert.equal(r.srcport, 5672);
  assert.equal(r.dstport, 59451);
  assert.equal(r.tcpflagsint, 0x18, 'PSH+ACK');
  assert.equal(r.tos, 0);
  assert.equal(r.fragmented, false, 'DF set, no MF, offset 0');
  assert.equal(r.dstvlan, 1852, 'extended switch dst VLAN');
  assert.equal(sink.samplingUnknownCount, 0);
});

test('sampling rate: override wins, 0 falls back to the default and counts as unknown', () => {
  const forced = decodeFile('logstash_sflow_flow_sample.dat', { sampleRateOverride: 100 });
  assert.equal(forced.records[0].samplerate, 100);
  assert.equal(forced.samplingUnknownCount, 0);

  const bytes = Buffer.from(rawPayload('logstash_sflow_flow_sample.dat'));
  // sampling_rate of the first (only) flow sample: datagram header 28 + sample header 8 + 8.
  bytes.writeUInt32BE(0, 28 + 8 + 8);
  const sink = new CollectingSink();
  decodeSflow(
    datagramOf(bytes),
    defaultDecoderSettings({
      exporterSettings: () => ({ defaultSampleRate: 512, sampleRateOverride: null, keyByPort: false }),
    }),
    sink,
  );
  assert.equal(sink.records[0].samplerate, 512);
  assert.equal(sink.samplingUnknownCount, 1);

  const none = new CollectingSink();
  decodeSflow(datagramOf(bytes), defaultDecoderSettings(), none);
  assert.equal(none.records[0].samplerate, null);
  assert.equal(none.samplingUnknownCount, 1);
});

test('telegraf sflow_drop_1036.bin: discarded packet sample (sflow_drops.txt)', () => {
  const sink = decodeFile('telegraf_sflow_issue_15375_sflow_drop_1036.bin');
  assert.deepEqual(sink.errors, []);
  assert.deepEqual(sink.sequences, [
    { exporter: '192.168.119.184', stream: 'sflow:100000', sequence: 3, units: 1 },
  ]);
  assert.equal(sink.records.length, 1);
  const r = sink.records[0];
  // tshark 4.0 does not dissect sample type 5; values as in telegraf's expected.out for this file
  // (in_snmp=1, out_snmp=2, reason=1) and from the hex: reason 1 = host_unreachable.
  assert.equal(r.flowsrcip, '192.168.119.184');
  assert.equal(r.input, 1);
  assert.equal(r.output, 2);
  assert.equal(r.forwardingstatus, 'dropped: host unreachable');
  assert.equal(r.uptime, 12414);
  assert.equal(r.samplerate, null, 'discards are rate-limited, not sampled');
  assert.equal(r.packets, 1);
  assert.equal(r.srcip, null);
  assert.equal(sink.samplingUnknownCount, 0);
});

test('logstash_sflow_counters_sample.dat: 9 generic interface counter records', () => {
  const sink = decodeFile('logstash_sflow_counters_sample.dat');
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.records.length, 0, 'counter samples are not flow records');
  assert.equal(sink.counterSamples.length, 9);
  assert.deepEqual(
    sink.counterSamples.map((c) => c.ifIndex),
    [768, 912, 80, 960, 736, 896, 928, 832, 880],
  );
  const down = sink.counterSamples[0];
  assert.equal(down.agent, '10.243.29.150');
  assert.equal(down.subAgentId, 1);
  assert.equal(down.sequence, 7072);
  assert.equal(down.receivedAtMs, RECEIVED);
  assert.equal(down.ifDirection, null, 'direction 0 = unknown');
  assert.equal(down.ifAdminUp, true);
  assert.equal(down.ifOperUp, false);
  assert.equal(down.ifInUnknownProtos, null, '4294967295 = not supported');
  const c = sink.counterSamples[1];
  assert.deepEqual(
    { ...c },
    {
      agent: '10.243.29.150',
      subAgentId: 1,
      sequence: 7072,
      receivedAtMs: RECEIVED,
      ifIndex: 912,
      ifType: 6,
      ifSpeed: 0,
      ifDirection: 1,
      ifAdminUp: true,
      ifOperUp: true,
      ifInOctets: 9805092084,
      ifInUcastPkts: 83193312,
      ifInMulticastPkts: 27403808,
      ifInBroadcastPkts: 10125,
      ifInDiscards: 1296340,
      ifInErrors: 0,
      ifInUnknownProtos: 0,
      ifOutOctets: 8075321090,
      ifOutUcastPkts: 55699966,
      ifOutMulticastPkts: 27404355,
      ifOutBroadcastPkts: 1156,
      ifOutDiscards: 0,
      ifOutErrors: 0,
      ifPromiscuousMode: false,
    },
  );
  assert.equal(sink.counterSamples[2].ifSpeed, 1000000000);
  assert.equal(sink.counterSamples[2].ifIndex, 80);
});

test('logstash_sflow_1_counters_sample.dat: one counter sample', () => {
  const sink = decodeFile('logstash_sflow_1_counters_sample.dat');
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.counterSamples.length, 1);
  const c = sink.counterSamples[0];
  assert.equal(c.agent, '10.1.240.66');
  assert.equal(c.subAgentId, 4);
  assert.equal(c.ifIndex, 896);
  assert.equal(c.ifInOctets, 50839502302);
  assert.equal(c.ifOutOctets, 55005441713);
  assert.equal(c.ifInDiscards, 701697);
});

test('telegraf issue 18876: expanded counter sample, 64-bit octets and promiscuous mode', () => {
  const sink = decodeFile('telegraf_sflow_issue_18876_message.bin');
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.counterSamples.length, 1);
  const c = sink.counterSamples[0];
  assert.equal(c.agent, '172.16.254.196');
  assert.equal(c.sequence, 17628);
  assert.equal(c.ifIndex, 1258293248);
  assert.equal(c.ifType, 1);
  assert.equal(c.ifSpeed, 10000000000);
  assert.equal(c.ifInOctets, 59347538341644);
  assert.equal(c.ifOutOctets, 89572325677612);
  assert.equal(c.ifInErrors, 58690);
  assert.equal(c.ifPromiscuousMode, true);
});

test('telegraf sflow_v5.bin: counter record after a port name record (1005) skipped by length', () => {
  // tshark 4.0 misreads record 1005 (a string) and everything after it; values here are from the
  // hex: if_counters at offset 0x48.
  const sink = decodeFile('telegraf_sflow_v5_example_sflow_v5.bin');
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.counterSamples.length, 1);
  const c = sink.counterSamples[0];
  assert.equal(c.ifIndex, 3);
  assert.equal(c.ifSpeed, 1000000000);
  assert.equal(c.ifInOctets, 3910);
  assert.equal(c.ifInUcastPkts, 28);
  assert.equal(c.ifInMulticastPkts, null);
  assert.equal(c.ifOutOctets, 3946);
  assert.equal(c.ifOutUcastPkts, 29);
});
