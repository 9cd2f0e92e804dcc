/**
 * sFlow v5 captures read with the capture reader. Expected values from
 * `tshark -r FILE -V -d udp.port==6343,sflow` (tshark 4.0).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCaptureFile } from '../../../src/capture/capture-reader.js';
import { defaultDecoderSettings } from '../../../src/decode/settings.js';
import { decodeSflow } from '../../../src/decode/sflow/sflow.js';
import type { FlowRecord } from '../../../src/record/flow-record.js';
import { CollectingSink } from '../../helpers/collecting-sink.js';
import { corpusFiles, corpusPath } from '../../helpers/corpus.js';

interface Decoded {
  sink: CollectingSink;
  sflowDatagrams: number;
  otherDatagrams: number;
}

function decodeCapture(path: string): Decoded {
  const sink = new CollectingSink();
  const settings = defaultDecoderSettings();
  let sflowDatagrams = 0;
  let otherDatagrams = 0;
  for (const d of readCaptureFile(path)) {
    // sFlow starts with the u32 version 5 (NetFlow v5 with the u16 5): the facade's detection rule.
    if (d.payload.length < 4 || d.payload.readUInt32BE(0) !== 5) {
      otherDatagrams++;
      continue;
    }
    sflowDatagrams++;
    decodeSflow(d, settings, sink);
  }
  return { sink, sflowDatagrams, otherDatagrams };
}

function capture(name: string): Decoded {
  return decodeCapture(corpusPath(`sflow/${name}`));
}

/** The fields every sFlow sample record of the akvorado 172.16.0.3 captures share. */
function assertAkvoradoSshSample(r: FlowRecord, file: string): void {
  assert.equal(r.flowsrcip, '172.16.0.3', `${file} flowsrcip`);
  assert.equal(r.flowtype, 'sflow');
  assert.equal(r.flowversion, 5);
  assert.equal(r.uptime, 930960704, `${file} uptime`);
  assert.equal(r.samplerate, 1024, `${file} samplerate`);
  assert.equal(r.input, 27, `${file} input`);
  assert.equal(r.bits, 1518 * 8, `${file} bits (frame length incl. FCS)`);
  assert.equal(r.packets, 1);
  assert.equal(r.ipversion, 6);
  assert.equal(r.srcip, '2a0c:8880:2:0:185:21:130:38', `${file} srcip`);
  assert.equal(r.dstip, '2a0c:8880:2:0:185:21:130:39', `${file} dstip`);
  assert.equal(r.protocolint, 6);
  assert.equal(r.srcport, 46026);
  assert.equal(r.dstport, 22);
  assert.equal(r.tcpflagsint, 0x10, `${file} ACK`);
  assert.equal(r.tos, 0x08, `${file} traffic class`);
  assert.equal(r.srcvlan, 100);
  assert.equal(r.dstvlan, 100);
  assert.equal(r.fragmented, false);
  assert.equal(r.timestamp, 1662715598, `${file} capture time`);
  assert.equal(r.duration, 0);
}

test('every sFlow capture decodes without throwing', () => {
  for (const file of corpusFiles('sflow')) {
    if (!file.endsWith('.pcap') && !file.endsWith('.dat') && !file.endsWith('.bin')) continue;
    assert.doesNotThrow(() => decodeCapture(file), file);
  }
});

test('akvorado data-1140.pcap: 5 flow samples with extended router/gateway data', () => {
  const { sink, sflowDatagrams } = capture('akvorado_sflow_data-1140.pcap');
  assert.equal(sflowDatagrams, 1);
  assert.deepEqual(sink.errors, []);
  assert.deepEqual(sink.sequences, [
    { exporter: '172.16.0.3', stream: 'sflow:0', sequence: 812646826, units: 1 },
  ]);
  assert.equal(sink.datagrams[0].exporter, '172.16.0.3', 'agent, not the UDP source 192.0.2.100');
  assert.equal(sink.records.length, 5);
  assert.deepEqual(
    sink.records.map((r) => [r.input, r.output, r.samplerate]),
    [
      [27, 28, 1024],
      [49001, 25, 1024],
      [27, 28, 1024],
      [28, 49001, 1024],
      [27, 28, 1024],
    ],
  );
  assertAkvoradoSshSample(sink.records[0], 'data-1140 sample 1');
  assert.equal(sink.records[0].output, 28);

  const r = sink.records[1];
  assert.equal(r.srcip, '104.26.8.24');
  assert.equal(r.dstip, '45.90.161.46');
  assert.equal(r.ipversion, 4);
  assert.equal(r.srcport, 443);
  assert.equal(r.dstport, 56876);
  assert.equal(r.tcpflagsint, 0x18, 'PSH+ACK');
  assert.equal(r.bits, 439 * 8);
  assert.equal(r.fragmented, false, 'DF only');
  assert.equal(r.srcvlan, null, 'extended switch src VLAN 0xFFFFFFFF = unknown, header untagged');
  assert.equal(r.dstvlan, 100);
  assert.equal(r.nexthop, '45.90.161.46', 'extended router next hop');
  assert.equal(r.srcmask, 20);
  assert.equal(r.dstmask, 27);
  assert.equal(r.bgpnexthop, null, 'gateway next hop 0.0.0.0 = none');
  assert.equal(r.srcas, 13335);
  assert.equal(r.dstas, 39421, 'empty destination AS path: the router AS');
});

test('akvorado data-discard-interface.pcap: output format 1 = dropped, reason 1', () => {
  const { sink } = capture('akvorado_sflow_data-discard-interface.pcap');
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.records.length, 1);
  const r = sink.records[0];
  assertAkvoradoSshSample(r, 'discard-interface');
  assert.equal(r.output, null);
  assert.equal(r.forwardingstatus, 'dropped: host unreachable');
});

test('akvorado data-local-interface.pcap: output 0x3FFFFFFF kept as ifIndex 1073741823', () => {
  const { sink } = capture('akvorado_sflow_data-local-interface.pcap');
  assert.deepEqual(sink.errors, []);
  const r = sink.records[0];
  assertAkvoradoSshSample(r, 'local-interface');
  assert.equal(r.output, 1073741823);
  assert.equal(r.forwardingstatus, null);
});

test('akvorado data-multiple-interfaces.pcap: output 0x80000007 = 7 interfaces, no single output', () => {
  const { sink } = capture('akvorado_sflow_data-multiple-interfaces.pcap');
  assert.deepEqual(sink.errors, []);
  const r = sink.records[0];
  assertAkvoradoSshSample(r, 'multiple-interfaces');
  assert.equal(r.output, null);
  assert.equal(r.forwardingstatus, null);
});

test('akvorado data-sflow-expanded-sample.pcap: expanded flow sample with AS path', () => {
  const { sink } = capture('akvorado_sflow_data-sflow-expanded-sample.pcap');
  assert.deepEqual(sink.errors, []);
  assert.deepEqual(sink.sequences, [
    { exporter: '49.49.49.49', stream: 'sflow:0', sequence: 115694180, units: 1 },
  ]);
  assert.equal(sink.records.length, 1);
  const r = sink.records[0];
  assert.equal(r.flowsrcip, '49.49.49.49');
  assert.equal(r.samplerate, 1000);
  assert.equal(r.input, 29001);
  assert.equal(r.output, 1285816721);
  assert.equal(r.bits, 126 * 8);
  assert.equal(r.srcip, '52.52.52.52');
  assert.equal(r.dstip, '53.53.53.53');
  assert.equal(r.srcport, 22);
  assert.equal(r.dstport, 52237);
  assert.equal(r.protocolint, 6);
  assert.equal(r.tcpflagsint, 0x18);
  assert.equal(r.srcvlan, 809);
  assert.equal(r.nexthop, '54.54.54.54');
  assert.equal(r.bgpnexthop, '54.54.54.54');
  assert.equal(r.srcmask, 32);
  assert.equal(r.dstmask, 22);
  assert.equal(r.srcas, 203476);
  assert.equal(r.dstas, 203361, 'last AS of the sequence 8218 29605 203361');
});

test('akvorado data-sflow-ipv4-data.pcap: raw header plus IPv4 data record', () => {
  const { sink } = capture('akvorado_sflow_data-sflow-ipv4-data.pcap');
  assert.deepEqual(sink.errors, []);
  assert.deepEqual(sink.sequences, [
    { exporter: '49.49.49.49', stream: 'sflow:1', sequence: 52291006, units: 1 },
  ]);
  const r = sink.records[0];
  assert.equal(r.samplerate, 256);
  assert.equal(r.input, null, 'input 0 = unknown');
  assert.equal(r.output, 182);
  assert.equal(r.bits, 1390 * 8, 'raw header frame length wins over the IPv4 data length');
  assert.equal(r.srcip, '50.50.50.50');
  assert.equal(r.dstip, '51.51.51.51');
  assert.equal(r.protocolint, 17);
  assert.equal(r.srcport, 46622);
  assert.equal(r.dstport, 58631);
  assert.equal(r.dstvlan, 3001);
  assert.equal(r.srcvlan, null);
  assert.equal(r.tcpflagsint, null, 'UDP');
});

test('akvorado data-icmpv4.pcap and data-icmpv6.pcap: ICMP type/code', () => {
  const v4 = capture('akvorado_sflow_data-icmpv4.pcap').sink;
  assert.deepEqual(v4.errors, []);
  const a = v4.records[0];
  assert.deepEqual(v4.sequences, [{ exporter: '127.0.0.1', stream: 'sflow:1402', sequence: 1, units: 1 }]);
  assert.equal(a.srcip, '203.0.113.4');
  assert.equal(a.dstip, '203.0.113.5');
  assert.equal(a.protocolint, 1);
  assert.equal(a.icmptype, 8);
  assert.equal(a.icmpcode, 0);
  assert.equal(a.srcport, null);
  assert.equal(a.dstport, null);
  assert.equal(a.bits, 102 * 8);
  assert.equal(a.samplerate, 1);
  assert.equal(a.input, 1073741823);
  assert.equal(a.output, 1073741823);
  assert.equal(a.srcvlan, null, 'extended switch VLAN 0 = none');

  const v6 = capture('akvorado_sflow_data-icmpv6.pcap').sink;
  assert.deepEqual(v6.errors, []);
  const b = v6.records[0];
  assert.equal(b.ipversion, 6);
  assert.equal(b.srcip, 'fe80::d05b:45ff:feee:5ecf');
  assert.equal(b.dstip, '2001:db8::');
  assert.equal(b.protocolint, 58);
  assert.equal(b.icmptype, 135, 'neighbor solicitation');
  assert.equal(b.icmpcode, 0);
  assert.equal(b.bits, 90 * 8);
  assert.equal(b.uptime, 35000);
});

test('akvorado data-encap-vxlan.pcap: the outer (underlay) packet is what is reported', () => {
  const { sink } = capture('akvorado_sflow_data-encap-vxlan.pcap');
  assert.deepEqual(sink.errors, []);
  const r = sink.records[0];
  assert.equal(r.srcip, '192.168.108.40');
  assert.equal(r.dstip, '192.168.15.14');
  assert.equal(r.protocolint, 17);
  assert.equal(r.srcport, 45833);
  assert.equal(r.dstport, 4789);
  assert.equal(r.bits, 172 * 8);
  assert.equal(r.uptime, 197000);
});

test('overflowd_sflow.pcap: 1000 datagrams, 5855 flow samples, 502 counter samples (HP ProCurve)', () => {
  const { sink, sflowDatagrams } = capture('overflowd_sflow.pcap');
  assert.equal(sflowDatagrams, 1000);
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.records.length, 5855);
  assert.equal(sink.counterSamples.length, 502);
  assert.equal(new Set(sink.records.map((r) => r.flowsrcip)).size, 1);
  const r = sink.records[0];
  assert.equal(r.flowsrcip, '192.168.1.1');
  assert.equal(sink.sequences[0].sequence, 5908);
  assert.equal(r.samplerate, 300);
  assert.equal(r.input, 48);
  assert.equal(r.output, 47);
  assert.equal(r.srcip, '192.168.1.2');
  assert.equal(r.dstip, '192.168.1.3');
  assert.equal(r.srcport, 60565);
  assert.equal(r.dstport, 36875);
  assert.equal(r.tcpflagsint, 0x10);
  assert.equal(r.bits, 1518 * 8);
  assert.equal(r.srcvlan, 1);
});

test('tcpdump sflow-print-v6.pcap: IPv6 agent, 13 flow and 48 counter samples', () => {
  const { sink, sflowDatagrams } = capture('tcpdump_sflow-print-v6.pcap');
  assert.equal(sflowDatagrams, 25);
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.records.length, 13);
  assert.equal(sink.counterSamples.length, 48);
  assert.deepEqual([...new Set(sink.datagrams.map((d) => d.exporter))], ['30::1:1:1']);
  const r = sink.records[0];
  assert.equal(r.flowsrcip, '30::1:1:1');
  assert.equal(r.samplerate, 1);
  assert.equal(r.input, 7001);
  assert.equal(r.output, null, 'multiple interfaces, count unknown');
  assert.equal(r.srcvlan, 10);
  assert.equal(r.dstvlan, 10);
  assert.equal(r.srcip, '10.10.10.2');
  assert.equal(r.dstip, '50.1.1.2');
  assert.equal(r.protocolint, 63);
  assert.equal(r.bits, 64 * 8);
  const c = sink.counterSamples[0];
  assert.equal(c.agent, '30::1:1:1');
  assert.equal(c.ifIndex, 23001);
});

test('tcpdump sflow_multiple_counter_30_pdus.pcap: counters from 6 agents, NetFlow v5 on 6343 left alone', () => {
  const { sink, sflowDatagrams, otherDatagrams } = capture('tcpdump_sflow_multiple_counter_30_pdus.pcap');
  assert.equal(sflowDatagrams, 25);
  assert.equal(otherDatagrams, 5);
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.records.length, 0);
  // tshark: 144 counter samples, 142 of them with generic interface counters.
  assert.equal(sink.counterSamples.length, 142);
  assert.equal(new Set(sink.datagrams.map((d) => d.exporter)).size, 6);
  const perAgent: Record<string, number> = {};
  for (const c of sink.counterSamples) perAgent[c.agent] = (perAgent[c.agent] ?? 0) + 1;
  assert.deepEqual(perAgent, { '15.184.8.4': 8, '15.184.1.195': 68, '15.184.1.194': 48, '15.184.1.129': 18 });
  assert.deepEqual(
    { ...sink.counterSamples[0] },
    {
      agent: '15.184.8.4',
      subAgentId: 2,
      sequence: 87096,
      receivedAtMs: sink.counterSamples[0].receivedAtMs,
      ifIndex: 55,
      ifType: 117,
      ifSpeed: 1000000000,
      ifDirection: 1,
      ifAdminUp: true,
      ifOperUp: true,
      ifInOctets: 820721,
      ifInUcastPkts: 9601,
      ifInMulticastPkts: 0,
      ifInBroadcastPkts: 1302,
      ifInDiscards: 0,
      ifInErrors: 0,
      ifInUnknownProtos: 0,
      ifOutOctets: 178785248,
      ifOutUcastPkts: 9736,
      ifOutMulticastPkts: 132958,
      ifOutBroadcastPkts: 2213534,
      ifOutDiscards: 0,
      ifOutErrors: 0,
      ifPromiscuousMode: false,
    },
  );
  assert.equal(sink.sequences[0].stream, 'sflow:2');
  assert.equal(sink.sequences[0].sequence, 204720);
});

test('tcpdump sflow_print-segv.pcap: malformed datagram is counted, not fatal', () => {
  // The UDP length says 8 bytes: the reader hands over only the sFlow version and address type.
  const { sink } = capture('tcpdump_sflow_print-segv.pcap');
  assert.deepEqual(sink.errorKinds(), ['truncated']);
  assert.equal(sink.records.length, 0);
});
