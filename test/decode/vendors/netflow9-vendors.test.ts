/**
 * NetFlow v9 per vendor: each capture chain is replayed in the order of
 * ../shared/testdata/PROVENANCE.md ("Replay order") through one decoder, and field values of the
 * first, a middle and the last record are asserted.
 *
 * Expected values were taken from tshark 4.0 (the independent decoder): the chain's payloads were
 * wrapped into one pcap in replay order (Ethernet/IPv4/UDP 2055 around each payload; pcaps joined
 * with `mergecap -a`) and read with `tshark -T json -d udp.port==2055,cflow`. Conversions applied by
 * hand: bits = octets × 8; v9 FIRST/LAST_SWITCHED are uptime-relative in tshark and were turned into
 * epoch ms as unix_secs × 1000 − (sysUptime − switched) from the same packet header; flowDirection
 * 0/1 = ingress/egress; ports of ICMP flows are null (tshark shows the type/code the exporter
 * packed into the destination port). Where tshark cannot tell (options-template sampling, which it
 * does not apply to data records), the value was checked by hand against the options data tshark
 * prints, and the comment says so.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertRecords, replayChain } from '../../helpers/replay.js';

const NF9 = (f: string) => `netflow9/${f}`;

test('Cisco ASA 1 (NSEL): 14 teardown events, postNAT addresses, ICMP type/code, flowStart and event time', () => {
  const r = replayChain([NF9('logstash_nf9_cisco_asa_1_tpl.dat'), NF9('logstash_nf9_cisco_asa_1_data.dat')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 14);
  // NF_F_FW_EVENT 2 = flow deleted; bytes are NSEL permanent octets (IE 85) -> bits.
  // start = flowStartMilliseconds 152, end = the event time (observationTimeMilliseconds 323).
  assertRecords('asa_1', r.records, {
    0: {
      srcip: '192.168.14.1',
      dstip: '2.2.2.11',
      srcport: null,
      dstport: null,
      protocolint: 1,
      icmptype: 0,
      icmpcode: 0,
      bits: 448,
      input: 3,
      output: 2,
      postnatsrcip: '192.168.14.1',
      postnatdstip: '2.2.2.11',
      // 227 is 0 on the wire: an ICMP flow has no source port, and an all-zero post-NAT value
      // is "not translated" (firewall-events.ts postNatPort), so null.
      postnatsrcport: null,
      postnatdstport: 17549,
      fwevent: 'teardown',
      start: 1444384067569,
      end: 1444384069599,
      flowversion: 9,
    },
    7: {
      srcip: '2.2.2.11',
      dstip: '192.168.14.1',
      protocolint: 1,
      icmptype: 8,
      icmpcode: 0,
      bits: 448,
      input: 2,
      output: 3,
      postnatsrcport: 17805,
      postnatdstport: null, // 0 on the wire, as record 0's 227
      fwevent: 'teardown',
      start: 1444384068609,
    },
    13: {
      srcip: '164.164.37.11',
      dstip: '192.168.23.20',
      icmptype: 0,
      postnatdstip: '192.168.23.20',
      postnatdstport: 18061,
      fwevent: 'teardown',
      start: 1444384069479,
      end: 1444384071509,
    },
  });
  assert.ok(r.records.every((x) => x.fwevent === 'teardown'));
});

test('Cisco ASA 2 (NSEL): create/update/teardown events, initiator/responder octets -> bits/revbits', () => {
  const r = replayChain([
    NF9('logstash_nf9_cisco_asa_2_tpl_26x.dat'),
    NF9('logstash_nf9_cisco_asa_2_tpl_27x.dat'),
    NF9('logstash_nf9_cisco_asa_2_data.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 19);
  // tshark: firewall_event 2 (deleted) x8, 5 (update) x7, 1 (created) x4; this capture has no deny (3).
  const events = r.records.map((x) => x.fwevent);
  assert.deepEqual(
    { teardown: 8, update: 7, create: 4 },
    {
      teardown: events.filter((e) => e === 'teardown').length,
      update: events.filter((e) => e === 'update').length,
      create: events.filter((e) => e === 'create').length,
    },
  );
  assertRecords('asa_2', r.records, {
    // initiatorOctets 81 / responderOctets 763 (NSEL 231/232), event time 13:50:33.015.
    0: {
      srcip: '192.168.0.2',
      dstip: '192.168.0.17',
      srcport: 61775,
      dstport: 80,
      protocolint: 6,
      bits: 648,
      revbits: 6104,
      input: 3,
      output: 4,
      postnatsrcip: '192.168.0.2',
      postnatdstip: '192.168.0.17',
      postnatsrcport: 61775,
      postnatdstport: 80,
      fwevent: 'teardown',
      start: 1469109032955,
      end: 1469109033015,
    },
    // An update (firewall_event 5): responder 6207 octets so far, event time 13:50:33.035.
    1: {
      srcport: 61776,
      fwevent: 'update',
      bits: 648,
      revbits: 49656,
      start: 1469109032955,
      end: 1469109033035,
    },
    // A create (firewall_event 1) carries no byte counts; start = end = the event time 13:50:33.385.
    7: {
      srcip: '192.168.0.1',
      dstip: '192.168.0.18',
      srcport: 56649,
      fwevent: 'create',
      bits: null,
      revbits: null,
      start: 1469109033385,
      end: 1469109033385,
    },
    18: {
      srcport: 56651,
      postnatsrcport: 56651,
      bits: 552,
      revbits: 113424,
      fwevent: 'teardown',
      start: 1469109036395,
    },
  });
});

test('Cisco ACI: 3 records, interface ids, vlan, direction, uptime times', () => {
  const r = replayChain([
    NF9('logstash_nf9_cisco_aci_tpl256-258.dat'),
    NF9('logstash_nf9_cisco_aci_data256.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 3);
  assertRecords('aci', r.records, {
    0: {
      srcip: '10.154.231.145',
      dstip: '10.154.231.146',
      srcport: 179,
      dstport: 49411,
      protocolint: 6,
      bits: 792,
      packets: 2,
      input: 369139712,
      srcvlan: 0,
      flowdirection: 'ingress',
      start: 1539602884019,
      end: 1539602903066,
    },
    2: {
      srcip: '10.154.230.177',
      dstip: '10.154.230.178',
      dstport: 36441,
      input: 369143808,
      start: 1539602885007,
      end: 1539602904035,
    },
  });
});

test('Cisco ASR9k: options template 256 + its data are exporter state, not flows', () => {
  const r = replayChain([
    NF9('logstash_nf9_cisco_asr9k_opttpl256.dat'),
    NF9('logstash_nf9_cisco_asr9k_data256.dat'),
  ]);
  // tshark: 19 options data records of template 256, no flow records.
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 0);
});

test('Cisco ASR9k template 260: 21 records with AS, masks, BGP next hop, direction', () => {
  const r = replayChain([
    NF9('logstash_nf9_cisco_asr9k_tpl260.dat'),
    NF9('logstash_nf9_cisco_asr9k_data260.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 21);
  assertRecords('asr9k_260', r.records, {
    0: {
      srcip: '10.0.9.146',
      dstip: '10.0.31.81',
      srcport: 54017,
      dstport: 443,
      protocolint: 6,
      bits: 320,
      packets: 1,
      tos: 0,
      srcmask: 16,
      dstmask: 20,
      input: 110,
      output: 158,
      srcas: 0,
      dstas: 64496,
      bgpnexthop: '10.0.14.33',
      flowdirection: 'egress',
      start: 1481018933940,
      end: 1481018933940,
    },
    10: {
      srcip: '10.0.33.122',
      dstip: '10.0.1.136',
      bits: 109280,
      packets: 325,
      srcas: 64497,
      bgpnexthop: '0.0.0.0',
      flowdirection: 'ingress',
      start: 1481018924489,
      end: 1481018944383,
    },
    20: { srcip: '10.0.29.46', srcas: 15169, dstas: 64498, start: 1481018932377, end: 1481018933964 },
  });
  // The sampler options (257/334) are not part of this chain: the rate is unknown, not 1.
  assert.ok(r.records.every((x) => x.samplerate === null));
  assert.equal(r.sink.samplingUnknownCount, 21);
});

test('Cisco ASR1001-X: template 259 and data in one packet, 25 records', () => {
  const r = replayChain([NF9('logstash_nf9_cisco_asr1001x_tpl259.dat')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 25);
  assertRecords('asr1001x', r.records, {
    0: {
      srcip: '10.111.111.242',
      dstip: '10.12.100.13',
      srcport: 52444,
      dstport: 53218,
      protocolint: 6,
      bits: 7720,
      packets: 7,
      tos: 0,
      input: 4,
      output: 16,
      nexthop: '10.10.5.100',
      flowdirection: 'egress',
      start: 1507580540637,
      end: 1507580540731,
    },
    12: { srcip: '10.12.106.83', dstport: 61440, tos: 184, nexthop: '10.10.3.114', flowdirection: 'ingress' },
    24: {
      srcip: '10.12.150.13',
      dstip: '10.100.101.43',
      bits: 10720,
      start: 1507580540652,
      end: 1507580540692,
    },
  });
});

test('Cisco 1941/K9: 29 records, vlan and next hop, no time fields -> start/end null', () => {
  const r = replayChain([NF9('logstash_nf9_cisco_1941K9.dat')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 29);
  assertRecords('1941K9', r.records, {
    0: {
      srcip: '192.168.0.111',
      dstip: '62.217.193.1',
      srcport: 37301,
      dstport: 53,
      protocolint: 17,
      bits: 600,
      packets: 1,
      tos: 0,
      input: 17,
      srcvlan: 0,
      nexthop: '0.0.0.0',
      flowdirection: 'ingress',
      start: null,
      end: null,
    },
    14: {
      srcip: '172.217.23.232',
      bits: 44408,
      packets: 10,
      tos: 48,
      nexthop: '192.168.0.157',
      flowdirection: 'egress',
    },
    28: { dstip: '169.45.214.246', dstport: 5222, nexthop: '109.166.216.93' },
  });
});

test('Cisco NBAR: ICMP type from the packed destination port, UDP ports, times', () => {
  const r = replayChain([
    NF9('logstash_nf9_cisco_nbar_tpl262.dat'),
    NF9('logstash_nf9_cisco_nbar_data262.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 5);
  assertRecords('nbar', r.records, {
    // L4_DST_PORT 2048 = ICMP echo request (type 8 << 8 | code 0).
    0: {
      srcip: '10.30.18.62',
      dstip: '10.30.19.180',
      protocolint: 1,
      srcport: null,
      dstport: null,
      icmptype: 8,
      icmpcode: 0,
      bits: 352,
      srcmask: 23,
      flowdirection: 'ingress',
      start: 1487070619368,
      end: 1487070619368,
    },
    1: { srcport: 34220, dstport: 161, protocolint: 17, bits: 848 },
    4: {
      srcip: '10.10.172.60',
      srcport: 45269,
      dstport: 161,
      bits: 22352,
      packets: 36,
      start: 1487070619936,
      end: 1487070620008,
    },
  });
});

test('Cisco WLC: 19 station records with octets, packets and direction', () => {
  const r = replayChain([NF9('logstash_nf9_cisco_wlc_tpl.dat'), NF9('logstash_nf9_cisco_wlc_data261.dat')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 19);
  // The WLC exports the station address as staIPv4Address (IE 366), not as a source address.
  assertRecords('wlc', r.records, {
    0: { bits: 26560, packets: 83, flowdirection: 'ingress' },
    9: { bits: 1177160, packets: 773, flowdirection: 'ingress' },
    18: { bits: 647791040, packets: 53362, flowdirection: 'egress' },
  });
});

test('layer2SegmentId template: one record with vlan 3174', () => {
  const r = replayChain([
    NF9('logstash_nf9_field_layer2segmentid_tpl.dat'),
    NF9('logstash_nf9_field_layer2segmentid_data.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 1);
  assertRecords('layer2segmentid', r.records, {
    0: {
      srcip: '192.168.200.136',
      dstip: '80.82.237.40',
      srcport: 61926,
      dstport: 445,
      protocolint: 6,
      bits: 416,
      packets: 1,
      input: 7,
      srcvlan: 3174,
      flowdirection: 'ingress',
      start: 1516095887000,
      end: 1516095887000,
    },
  });
});

test('H3C: 16 flowsets of one record each, 64-bit counters, uptime times', () => {
  const r = replayChain([NF9('logstash_nf9_h3c_tpl3281.dat'), NF9('logstash_nf9_h3c_data3281.dat')]);
  assert.deepEqual(r.errors, []);
  // tshark stops after flowset 1 (it reads H3C's 2-byte IPV4_ROUTER_SC as an IPv4 address:
  // "Malformed Packet"); record 15 was decoded by hand from the template (80-byte records).
  assert.equal(r.records.length, 16);
  assertRecords('h3c', r.records, {
    0: {
      srcip: '10.22.166.30',
      dstip: '10.22.163.21',
      protocolint: 6,
      bits: 8216696,
      packets: 697,
      srcmask: 24,
      dstmask: 24,
      input: 2662,
      output: 1590,
      nexthop: '10.21.25.142',
      flowdirection: 'ingress',
      start: 1526894614158,
      end: 1526894703677,
      // SAMPLING_INTERVAL 0: not sampled-rate information.
      samplerate: null,
    },
    15: {
      srcip: '10.22.166.36',
      dstip: '10.21.75.38',
      bits: 40736,
      packets: 9,
      output: 1743,
      nexthop: '10.21.17.78',
      start: 1526894643922,
      end: 1526894703928,
    },
  });
});

test('H3C NetStream with a variable-length string: the record after it still decodes', () => {
  const r = replayChain([
    NF9('logstash_nf9_h3c_netstream_varstring_tpl3281.dat'),
    NF9('logstash_nf9_h3c_netstream_varstring_data3281.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 1);
  assertRecords('h3c_varstring', r.records, {
    0: {
      srcip: '20.20.20.20',
      dstip: '20.20.255.255',
      srcport: 137,
      dstport: 137,
      protocolint: 17,
      bits: 5616,
      packets: 9,
      srcmask: 32,
      dstmask: 32,
      input: 17,
      output: 0,
      start: 1531877673274,
      end: 1531877702969,
    },
  });
});

test('MAC address template: 29 records (one options record skipped)', () => {
  const r = replayChain([NF9('logstash_nf9_macaddr_tpl.dat'), NF9('logstash_nf9_macaddr_data.dat')]);
  assert.deepEqual(r.errors, []);
  // tshark: 30 data records, the first of options template 259 (nProbe flowsexp).
  assert.equal(r.records.length, 29);
  assertRecords('macaddr', r.records, {
    0: { srcip: '172.16.32.1', dstip: '172.16.32.201', srcport: 65058, dstport: 22, protocolint: 6 },
    14: { srcip: '172.16.32.201', dstip: '172.16.32.1', srcport: 443, dstport: 59162 },
    28: { srcport: 25, dstport: 59169 },
  });
});

test('nProbe + softflowd: two exporters templates interleaved, IPv4 and IPv6', () => {
  const r = replayChain([
    NF9('logstash_nf9_nprobe_tpl.dat'),
    NF9('logstash_nf9_softflowd_tpl_data.dat'),
    NF9('logstash_nf9_nprobe_data.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 8);
  assertRecords('nprobe+softflowd', r.records, {
    0: {
      srcip: '172.16.32.100',
      dstip: '172.16.32.248',
      srcport: 123,
      dstport: 123,
      protocolint: 17,
      bits: 608,
      packets: 1,
      start: 1444331026140,
      end: 1444331026141,
    },
    // softflowd's IPv6 template 2048: ICMPv6 type 134 (0x8600 = 34304 in the destination port).
    6: {
      srcip: 'fe80::20c:29ff:fe83:3b6e',
      dstip: 'ff02::1',
      protocolint: 58,
      ipversion: 6,
      icmptype: 134,
      icmpcode: 0,
      bits: 5376,
      packets: 7,
    },
    // nProbe: FIRST_SWITCHED 0 (tshark prints it as 1970-01-01) = boot time, sysUptime 33990 ms
    // before the header's 19:06:29 -> 1444331155010; LAST_SWITCHED 5.
    7: {
      srcip: '172.16.32.201',
      dstip: '172.16.32.1',
      srcport: 22,
      dstport: 65058,
      tos: 16,
      tcpflagsint: 24,
      bits: 1600,
      packets: 2,
      start: 1444331155010,
      end: 1444331155015,
    },
  });
});

test('Graylog sequence 2: templates then two data packets', () => {
  const r = replayChain([
    NF9('graylog_netflow-v9-2-1.dat'),
    NF9('graylog_netflow-v9-2-2.dat'),
    NF9('graylog_netflow-v9-2-3.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 2);
  assertRecords('graylog-2', r.records, {
    0: {
      srcip: '192.168.124.1',
      dstip: '239.255.255.250',
      srcport: 3072,
      dstport: 1900,
      protocolint: 17,
      bits: 22544,
      packets: 8,
      start: 1369122678713,
      end: 1369122678715,
    },
    1: { srcip: '192.168.124.20', dstip: '121.161.231.32', dstport: 9090, bits: 2784, start: 1369122708811 },
  });
});

const FLUENT_RECORD = {
  srcip: '192.168.0.1',
  dstip: '192.168.0.2',
  srcport: 80,
  dstport: 32822,
  protocolint: 6,
  bits: 480,
  packets: 1,
  tos: 0,
  srcmask: 24,
  dstmask: 24,
  input: 54,
  output: 29,
  srcas: 0,
  dstas: 65000,
  bgpnexthop: '192.168.0.3',
  flowdirection: 'ingress',
  start: 1455249729053,
  end: 1455249729053,
} as const;

test('fluent-plugin-netflow: uptime times; flowStartMilliseconds gives the same instant', () => {
  const plain = replayChain([NF9('fluent_netflow.v9.template.dump'), NF9('fluent_netflow.v9.dump')]);
  assert.deepEqual(plain.errors, []);
  assert.equal(plain.records.length, 1);
  assertRecords('fluent', plain.records, { 0: { ...FLUENT_RECORD, samplerate: null } });
  const ms = replayChain([
    NF9('fluent_netflow.v9.template.flowStartMilliseconds.dump'),
    NF9('fluent_netflow.v9.flowStartMilliseconds.dump'),
  ]);
  assert.deepEqual(ms.errors, []);
  assertRecords('fluent flowStartMilliseconds', ms.records, { 0: FLUENT_RECORD });
});

test('fluent sampler options: sampler 1 random 1-in-5000 applies to the data record', () => {
  // Options chain (PROVENANCE) alone: exporter state, no flow.
  const opts = replayChain([
    NF9('fluent_netflow.v9.sampler_template.dump'),
    NF9('fluent_netflow.v9.sampler.dump'),
  ]);
  assert.deepEqual(opts.errors, []);
  assert.equal(opts.records.length, 0);
  // tshark: options data SamplerID 1, SamplerRandomInterval 5000; the data record has SamplerID 1.
  const r = replayChain([
    NF9('fluent_netflow.v9.sampler_template.dump'),
    NF9('fluent_netflow.v9.sampler.dump'),
    NF9('fluent_netflow.v9.template.dump'),
    NF9('fluent_netflow.v9.dump'),
  ]);
  assert.deepEqual(r.errors, []);
  assertRecords('fluent sampler', r.records, { 0: { ...FLUENT_RECORD, samplerate: 5000 } });
});

const AKVORADO_DATA = {
  0: {
    srcip: '198.38.121.178',
    dstip: '91.170.143.87',
    srcport: 443,
    dstport: 19624,
    protocolint: 6,
    bits: 12000,
    packets: 1,
    srcmask: 24,
    dstmask: 14,
    input: 335,
    output: 450,
    bgpnexthop: '194.149.174.63',
    flowdirection: 'ingress',
    start: 1647285925050,
    end: 1647285925050,
  },
  3: {
    srcip: '74.125.100.234',
    dstip: '88.120.219.117',
    dstport: 52300,
    bits: 11584,
    srcmask: 16,
    input: 461,
    output: 451,
    bgpnexthop: '194.149.174.61',
    start: 1647285925052,
  },
} as const;

test('akvorado template/data: 4 records, sampling unknown without options', () => {
  const r = replayChain([NF9('akvorado_netflow_template.pcap'), NF9('akvorado_netflow_data.pcap')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 4);
  assertRecords('akvorado', r.records, AKVORADO_DATA);
  assert.ok(r.records.every((x) => x.samplerate === null));
  assert.equal(r.sink.samplingUnknownCount, 4);
});

test('akvorado options sampling: options template -> options data -> template -> data = 1-in-30000', () => {
  const r = replayChain([
    NF9('akvorado_netflow_options-template.pcap'),
    NF9('akvorado_netflow_options-data.pcap'),
    NF9('akvorado_netflow_template.pcap'),
    NF9('akvorado_netflow_data.pcap'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 4);
  // tshark: options data SamplerID 1, SamplerRandomInterval 30000; every data record SamplerID 1.
  assertRecords('akvorado options', r.records, AKVORADO_DATA);
  assert.deepEqual(
    r.records.map((x) => x.samplerate),
    [30000, 30000, 30000, 30000],
  );
  assert.equal(r.sink.samplingUnknownCount, 0);
});

test('akvorado multiple sampling rates: each record gets its own sampler id rate', () => {
  const r = replayChain([
    NF9('akvorado_netflow_multiplesamplingrates-options-template.pcap'),
    NF9('akvorado_netflow_multiplesamplingrates-options-data.pcap'),
    NF9('akvorado_netflow_multiplesamplingrates-template.pcap'),
    NF9('akvorado_netflow_multiplesamplingrates-data.pcap'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 12);
  // tshark: sampler 1 = 1-in-2000 (SPM_1OUT2000), sampler 2 = 1-in-4000; record 1 has
  // SamplerID 2, records 2-12 SamplerID 1.
  assert.deepEqual(
    r.records.map((x) => x.samplerate),
    [4000, ...Array(11).fill(2000)],
  );
  assertRecords('akvorado multiple rates', r.records, {
    0: {
      srcip: 'ffff::68',
      dstip: 'ffff::1a',
      ipversion: 6,
      srcport: 443,
      dstport: 52616,
      protocolint: 6,
      bits: 10784,
      packets: 18,
      tos: 64,
      srcmask: 48,
      dstmask: 56,
      input: 97,
      output: 6,
      bgpnexthop: 'ffff::2',
      flowdirection: 'ingress',
      start: 1701360969980,
      end: 1701360974891,
    },
    6: {
      srcip: 'ffff::7d',
      dstip: 'ffff::35',
      bits: 6152,
      srcmask: 32,
      bgpnexthop: 'ffff::3',
      start: 1701360973063,
    },
    11: { srcip: 'ffff::6b', dstport: 51998, bits: 576, input: 97, output: 7, end: 1701360973104 },
  });
});

test('akvorado ICMP: ICMPv6 and ICMPv4 type/code, ports null', () => {
  const r = replayChain([NF9('akvorado_netflow_icmp-template.pcap'), NF9('akvorado_netflow_icmp-data.pcap')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 4);
  assertRecords('akvorado icmp', r.records, {
    // Destination port 32768 = ICMPv6 echo request 128/0.
    0: {
      srcip: '2001:db8::',
      dstip: '2001:db8::1',
      protocolint: 58,
      srcport: null,
      dstport: null,
      icmptype: 128,
      icmpcode: 0,
      bits: 832,
      packets: 1,
      start: 1685867993216,
      end: 1685867993216,
    },
    2: {
      srcip: '203.0.113.4',
      dstip: '203.0.113.5',
      protocolint: 1,
      srcport: null,
      dstport: null,
      icmptype: 8,
      icmpcode: 0,
      bits: 672,
    },
    3: { srcip: '203.0.113.5', dstip: '203.0.113.4', icmptype: 0, icmpcode: 0, start: 1685867995034 },
  });
});

test('ipt_NETFLOW reduced-size encoding: 12 records of template 260, the rest unknown templates', () => {
  const r = replayChain([NF9('logstash_nf9_iptnetflow_reduced_size_encoding_tpldata260.dat')]);
  // tshark agrees: data flowsets of templates 259 (x5) and 262 (x1) have no template in the file.
  assert.deepEqual(
    r.errors.map((e) => e.kind),
    Array(6).fill('template_unknown'),
  );
  assert.match(r.errors[0].message, /template 259\b/);
  assert.ok(r.errors.some((e) => /template 262\b/.test(e.message)));
  assert.equal(r.records.length, 12);
  assertRecords('iptnetflow', r.records, {
    0: {
      srcip: '37.122.1.226',
      dstip: '193.151.198.166',
      srcport: 27622,
      dstport: 36025,
      protocolint: 6,
      bits: 1248,
      packets: 3,
      input: 7,
      output: 7,
      nexthop: '193.151.192.17',
      start: 1518932805000,
      end: 1518932813996,
    },
    6: { srcip: '10.233.151.8', dstip: '52.198.214.72', bits: 14472, packets: 15, start: 1518932809560 },
    11: { srcip: '2.17.140.47', dstport: 38164, output: 8, nexthop: '10.232.5.1', end: 1518932813992 },
  });
});

test('template with 0-length fields: 10 IGMP records with zero counters', () => {
  const r = replayChain([NF9('logstash_nf9_0length_fields_tpl_data.dat')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 10);
  assertRecords('0length', r.records, {
    0: {
      srcip: '239.255.255.250',
      dstip: '192.168.1.80',
      protocolint: 2,
      bits: 0,
      packets: 0,
      srcmask: 32,
      dstmask: 32,
      input: 3,
      output: 2,
      flowdirection: 'egress',
      start: 1482456888299,
      end: 1482456888299,
    },
    9: { srcip: '192.168.1.33', dstip: '239.255.255.250', input: 2, output: 3, start: 1482456891569 },
  });
});

test('pmacct 101 (ASR9k custom primitives): 51 records over 40 packets', () => {
  const r = replayChain([NF9('pmacct_101-NFv9-CISCO-cust_primitives_traffic-00.pcap')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 51);
  assertRecords('pmacct 101', r.records, {
    0: {
      srcip: '138.187.58.13',
      dstip: '138.187.57.33',
      srcport: 10000,
      dstport: 58779,
      protocolint: 6,
      bits: 480,
      packets: 1,
      input: 143,
      output: 142,
      flowdirection: 'ingress',
      start: 1677577598553,
      end: 1677577598553,
      // The exporter is the IP source of the capture (tshark ip.src).
      flowsrcip: '138.187.57.55',
    },
    25: { dstip: '138.187.57.78', dstport: 60261, start: 1677577649399 },
    50: { dstport: 58013, start: 1677577724859 },
  });
});

test('pmacct 102 (two source ids, sampler id without options): rate unknown', () => {
  const r = replayChain([NF9('pmacct_102-NFv9-CISCO-f2rd-pretag-sampling-reload_traffic-00.pcap')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 35);
  assertRecords('pmacct 102', r.records, {
    0: {
      srcip: '213.3.216.138',
      dstip: '213.3.216.137',
      srcport: 44187,
      dstport: 179,
      protocolint: 6,
      bits: 480,
      tos: 192,
      srcmask: 32,
      input: 203,
      bgpnexthop: '0.0.0.0',
      start: 1677577599650,
    },
    17: { srcip: '213.3.216.142', srcport: 179, dstport: 46694, bits: 512, input: 188 },
    34: {
      srcip: '10.10.0.35',
      dstip: '10.10.0.43',
      bits: 544,
      input: 163,
      output: 308,
      start: 1677577724204,
    },
  });
  // Every record names sampler 1, but the capture holds no sampler options: unknown, never 1.
  assert.ok(r.records.every((x) => x.samplerate === null));
  assert.equal(r.sink.samplingUnknownCount, 35);
});

test('pmacct 111 (NFv9 source of the mixed test): 11 records', () => {
  const r = replayChain([NF9('pmacct_111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources_traffic-00.pcap')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 11);
  assertRecords('pmacct 111', r.records, {
    0: { srcip: '138.187.58.13', dstip: '138.187.57.33', dstport: 58779, bits: 480, start: 1677577598553 },
    10: { dstip: '138.187.57.78', dstport: 62849, start: 1677577619196 },
  });
});

test('ndpi_netflowv9.pcap: no template in the capture, every data flowset is template_unknown', () => {
  const r = replayChain([NF9('ndpi_netflowv9.pcap')]);
  // tshark: 0 templates, 23 data flowsets "no template found" (templates 258, 259, 260, 262, 263).
  assert.equal(r.records.length, 0);
  assert.equal(r.errors.length, 23);
  assert.ok(r.errors.every((e) => e.kind === 'template_unknown' && e.exporter === '192.168.2.134'));
  assert.match(r.errors[0].message, /template 259 from 192\.168\.2\.134 source id 1 unknown/);
  assert.deepEqual([...new Set(r.errors.map((e) => /template (\d+)/.exec(e.message)?.[1]))].sort(), [
    '258',
    '259',
    '260',
    '262',
    '263',
  ]);
});
