/**
 * IPFIX per vendor: each capture chain is replayed in the order of
 * ../shared/testdata/PROVENANCE.md ("Replay order") through one decoder, and field values of the
 * first, a middle and the last record are asserted.
 *
 * Expected values were taken from tshark 4.0 (the independent decoder): payload files of a chain
 * were wrapped into one pcap in replay order (Ethernet/IPv4/UDP around each payload; pcaps joined
 * with `mergecap -a`) and read with `tshark -T json -d udp.port==P,cflow`. Conversions applied by
 * hand: bits = octets × 8; RFC 5103 reverse elements (enterprise 29305, tshark "(Reverse Type N)")
 * -> revbits/revpackets; absolute times to epoch ms; flowDirection 0/1 = ingress/egress.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertRecords, replayChain } from '../../helpers/replay.js';

const IPFIX = (f: string) => `ipfix/${f}`;

test('Mikrotik RouterOS: 46 records, postNAT addresses, IPv6, no absolute times', () => {
  const r = replayChain([
    IPFIX('logstash_ipfix_mikrotik_tpl.dat'),
    IPFIX('logstash_ipfix_mikrotik_data258.dat'),
    IPFIX('logstash_ipfix_mikrotik_data259.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 46);
  assertRecords('mikrotik', r.records, {
    // Mikrotik sends flowStart/EndSysUpTime (22/21) but no systemInitTimeMilliseconds (160), and
    // an IPFIX header has no uptime: start/end cannot be placed in time, so they stay null.
    0: {
      srcip: '10.10.8.197',
      dstip: '192.168.128.17',
      srcport: 123,
      dstport: 123,
      protocolint: 17,
      bits: 1216,
      packets: 2,
      input: 13,
      output: 7,
      nexthop: '192.168.224.1',
      postnatsrcip: '192.168.230.216',
      postnatdstip: '192.168.128.17',
      start: null,
      end: null,
      flowversion: 10,
    },
    23: {
      srcip: '10.10.8.1',
      dstip: '255.255.255.255',
      srcport: 51931,
      dstport: 5678,
      bits: 2640,
      nexthop: '255.255.255.255',
      postnatsrcip: '10.10.8.1',
    },
    45: {
      srcip: 'fe80::ff:fe00:1201',
      dstip: 'fe80::ff:fe00:1201',
      ipversion: 6,
      srcport: 5678,
      bits: 2960,
      input: 17,
      nexthop: 'ff02::1',
    },
  });
});

test('Juniper MX240: options template 512 + options data are exporter state, not flows', () => {
  const r = replayChain([
    IPFIX('logstash_ipfix_juniper_mx240_junos151r6s3_opttpl512.dat'),
    IPFIX('logstash_ipfix_juniper_mx240_junos151r6s3_data512.dat'),
  ]);
  // tshark: one options data record of template 512, no flow.
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 0);
});

test('OpenBSD pflow: 26 records, second-resolution absolute times', () => {
  const r = replayChain([
    IPFIX('logstash_ipfix_openbsd_pflow_tpl.dat'),
    IPFIX('logstash_ipfix_openbsd_pflow_data.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 26);
  assertRecords('pflow', r.records, {
    0: {
      srcip: '192.168.0.17',
      dstip: '192.168.0.1',
      srcport: 64020,
      dstport: 80,
      protocolint: 6,
      bits: 2984,
      packets: 7,
      tos: 0,
      input: 1,
      output: 1,
      start: 1469107799000,
      end: 1469107799000,
    },
    13: { srcip: '192.168.0.1', srcport: 80, dstport: 64023, bits: 58552, packets: 9, end: 1469107801000 },
    25: { dstport: 64026, bits: 51400, packets: 8, start: 1469107799000, end: 1469107801000 },
  });
});

test('YAF: options + several templates; biflow reverse elements -> revbits/revpackets', () => {
  const r = replayChain([
    IPFIX('logstash_ipfix_yaf_tpls_option_tpl.dat'),
    IPFIX('logstash_ipfix_yaf_tpl45841.dat'),
    IPFIX('logstash_ipfix_yaf_data45841.dat'),
    IPFIX('logstash_ipfix_yaf_data45873.dat'),
    IPFIX('logstash_ipfix_yaf_data53248.dat'),
  ]);
  assert.deepEqual(r.errors, []);
  // tshark: 3 data records, the last of options template 53248 (YAF process statistics).
  assert.equal(r.records.length, 2);
  assertRecords('yaf', r.records, {
    // octetTotalCount 132 / reverse 200, packetTotalCount 2 / reverse 2.
    0: {
      srcip: '172.16.32.201',
      dstip: '172.16.32.100',
      srcport: 46086,
      dstport: 53,
      protocolint: 17,
      bits: 1056,
      packets: 2,
      revbits: 1600,
      revpackets: 2,
      tos: 0,
      srcvlan: 0,
      start: 1482670715818,
      end: 1482670715819,
    },
    // 172 / reverse 92 octets, 4 / 2 packets; forward ToS 0x02 (the reverse ToS 0 is not ours).
    1: {
      srcip: '172.16.32.100',
      dstip: '172.16.32.215',
      srcport: 63499,
      dstport: 9997,
      protocolint: 6,
      bits: 1376,
      packets: 4,
      revbits: 736,
      revpackets: 2,
      tos: 2,
      start: 1482670713345,
      end: 1482670714347,
    },
  });
});

test('Ixia IxFlow: templates 256 and 271 with enterprise fields, AS numbers', () => {
  const a = replayChain([IPFIX('logstash_ipfix_ixia_tpldata256.dat')]);
  assert.deepEqual(a.errors, []);
  assert.equal(a.records.length, 1);
  assertRecords('ixia 256', a.records, {
    0: {
      srcip: '119.103.128.175',
      dstip: '202.170.60.247',
      srcport: 51695,
      dstport: 36197,
      protocolint: 17,
      bits: 2880,
      packets: 4,
      input: 1,
      output: 1,
      srcas: 4134,
      dstas: 24090,
      start: 1540470259882,
      end: 1540470272022,
    },
  });
  const b = replayChain([IPFIX('logstash_ipfix_ixia_tpldata271.dat')]);
  assert.deepEqual(b.errors, []);
  assert.equal(b.records.length, 2);
  assertRecords('ixia 271', b.records, {
    0: { srcip: '61.227.100.96', srcas: 3462, dstas: 24090, bits: 1056, packets: 2, input: 45 },
    1: {
      srcip: '202.170.60.252',
      dstip: '104.244.42.130',
      dstport: 443,
      bits: 0,
      packets: 0,
      srcas: 24090,
      dstas: 13414,
      start: 1540470251502,
      end: 1540470252028,
    },
  });
});

test('telegraf IPFIX example chain: 29 records, uniflow and biflow templates', () => {
  const r = replayChain([0, 1, 2, 3, 4, 5, 6].map((i) => IPFIX(`telegraf_ipfix_example_ipfix_${i}.bin`)));
  assert.deepEqual(r.errors, []);
  // tshark: 31 data records, 2 of them options data.
  assert.equal(r.records.length, 29);
  assertRecords('telegraf example', r.records, {
    0: {
      srcip: '192.168.119.100',
      dstip: '44.233.90.52',
      srcport: 51008,
      dstport: 443,
      protocolint: 6,
      bits: 416,
      packets: 1,
      revbits: null,
      start: 1666345513807,
      end: 1666345513807,
    },
    // QUIC: 43 packets out, 68 (70228 octets) back.
    6: {
      dstip: '34.149.140.181',
      srcport: 57795,
      protocolint: 17,
      bits: 46824,
      packets: 43,
      revbits: 561824,
      revpackets: 68,
      start: 1666345513832,
      end: 1666345514328,
    },
    28: {
      dstip: '192.168.119.17',
      srcport: 50077,
      dstport: 53,
      bits: 960,
      packets: 2,
      revbits: 1312,
      revpackets: 2,
      start: 1666345527739,
    },
  });
});

test('telegraf IPFIX options chain: only options data, no flow records and no errors', () => {
  const files = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => IPFIX(`telegraf_ipfix_options_message-00${i}.bin`));
  const r = replayChain(files);
  // tshark: 1 options template, 126 options data records.
  assert.deepEqual(r.errors, []);
  assert.equal(r.datagrams, 9);
  assert.equal(r.records.length, 0);
});

test('akvorado ipfixprobe biflow (RFC 5103): reverse octets/packets, nanosecond times', () => {
  const r = replayChain([
    IPFIX('akvorado_netflow_ipfixprobe-templates.pcap'),
    IPFIX('akvorado_netflow_ipfixprobe-data.pcap'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 4);
  // flowStart/EndNanoseconds are truncated to the millisecond (06:06:15.106758999 -> .106);
  // tshark prints the nanoseconds.
  assertRecords('ipfixprobe', r.records, {
    0: {
      srcip: '10.10.1.4',
      dstip: '10.10.1.1',
      srcport: 56166,
      dstport: 53,
      protocolint: 17,
      bits: 496,
      packets: 1,
      revbits: 1024,
      revpackets: 1,
      input: 10,
      start: 1254722767492,
      end: 1254722767526,
      flowsrcip: '127.0.0.1',
    },
    2: {
      dstip: '74.53.140.153',
      srcport: 1470,
      dstport: 25,
      protocolint: 6,
      bits: 173384,
      packets: 28,
      revbits: 12368,
      revpackets: 25,
      tcpflagsint: 27,
      start: 1254722767529,
      end: 1254722775106,
    },
    3: {
      srcip: '192.168.1.1',
      protocolint: 1,
      bits: 18432,
      packets: 4,
      revbits: 0,
      revpackets: 0,
      start: 1254722770695,
      end: 1254722770696,
    },
  });
});

// Juniper inline monitoring (RFC 7133) exports a sampled frame in dataLinkFrameSection (IE 315)
// instead of flow keys; tshark dissects that frame: the record's addresses, ports and VLAN are
// those of the frame (of the inner packet when the frame is a tunnel).

test('akvorado Juniper datalink: flow keys from the sampled Ethernet frame', () => {
  const r = replayChain([
    IPFIX('akvorado_netflow_datalink-template.pcap'),
    IPFIX('akvorado_netflow_datalink-data.pcap'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 1);
  // tshark: frame b4:02:16:55:92:f4 -> 18:2a:d3:6e:50:3f, 802.1Q VLAN 231, IPv4 51.51.51.51 ->
  // 52.52.52.52, UDP 55501 -> 11777, ingress on ifIndex 582; dataLinkFrameSize 312 = 114: one
  // frame of 114 octets.
  assertRecords('datalink', r.records, {
    0: {
      bits: 114 * 8,
      packets: 1,
      input: 582,
      output: 0,
      flowdirection: 'ingress',
      srcvlan: 231,
      srcip: '51.51.51.51',
      dstip: '52.52.52.52',
      protocolint: 17,
      srcport: 55501,
      dstport: 11777,
    },
  });
});

test('akvorado Juniper CPID: one record from ifIndex 737, IPIP-in-IPv6 frame', () => {
  const r = replayChain([
    IPFIX('akvorado_netflow_juniper-cpid-template.pcap'),
    IPFIX('akvorado_netflow_juniper-cpid-data.pcap'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 1);
  // tshark: outer IPv6 fc30:2200:1b::f -> fc30:2200:23:e009:: (next header 4, IPIP), inner IPv4
  // 8.8.8.8 -> 213.36.140.101 ICMP echo request. The inner packet is the user's traffic.
  assertRecords('juniper cpid', r.records, {
    0: {
      input: 737,
      flowdirection: 'ingress',
      srcip: '8.8.8.8',
      dstip: '213.36.140.101',
      protocolint: 1,
      icmptype: 8,
      icmpcode: 0,
    },
  });
});

test('akvorado SRv6: one record, inner IPv4 of the encapsulated frame', () => {
  const r = replayChain([
    IPFIX('akvorado_netflow_ipfix-srv6-template.pcap'),
    IPFIX('akvorado_netflow_ipfix-srv6-data.pcap'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 1);
  // tshark: IPv6 fc30:2200:1b::f -> fc30:2200:23:e009:: (IPIP) carrying 8.8.8.8 -> 213.36.140.100
  // ICMP echo reply.
  assertRecords('srv6', r.records, {
    0: { srcip: '8.8.8.8', dstip: '213.36.140.100', protocolint: 1, icmptype: 0, icmpcode: 0 },
  });
});

test('akvorado EoMPLS with control word: 10 records from sampled frames', () => {
  const r = replayChain([
    IPFIX('akvorado_netflow_ethernet-over-mpls-with-control-word-template.pcap'),
    IPFIX('akvorado_netflow_ethernet-over-mpls-with-control-word-data.pcap'),
  ]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 10);
  // tshark, record 1: VLAN 1000, 198.51.100.19:80 -> 198.51.100.20:43908 TCP, ifIndex 1091,
  // dataLinkFrameSize 1458.
  // Records 3 and 4: Ethernet, MPLS labels 300012 and 17 (bottom), PW control word 0x00000000
  // (RFC 4385), then the customer Ethernet frame: 198.51.100.3:443 -> 198.51.100.4:28911 TCP and
  // 198.51.100.1:443 -> 198.51.100.2:55427 TCP ACK, both TOS 0x20. tshark's heuristic takes record
  // 4's control word for a MAC address; `-d mpls.label==17,pwethcw` makes it dissect both.
  // Akvorado's test of this capture expects the same record 4.
  assertRecords('eompls', r.records, {
    0: {
      bits: 1458 * 8,
      packets: 1,
      input: 1091,
      flowdirection: 'ingress',
      srcvlan: 1000,
      srcip: '198.51.100.19',
      dstip: '198.51.100.20',
      protocolint: 6,
      srcport: 80,
      dstport: 43908,
    },
    2: {
      input: 1022,
      srcvlan: null,
      srcip: '198.51.100.3',
      dstip: '198.51.100.4',
      protocolint: 6,
      srcport: 443,
      dstport: 28911,
      tos: 0x20,
    },
    3: {
      input: 1022,
      srcip: '198.51.100.1',
      dstip: '198.51.100.2',
      protocolint: 6,
      srcport: 443,
      dstport: 55427,
      tcpflagsint: 0x10,
      tos: 0x20,
    },
  });
});

test('pmacct 100 (Cisco ASR9k): 12 records, MPLS-labelled IPv4 and IPv6, flowDirection 255 -> null', () => {
  const r = replayChain([IPFIX('pmacct_100-IPFIXv10-CISCO_traffic-00.pcap')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 12);
  // IE 61 is 0 (ingress) or 1 (egress); the exporter sends 255, which tshark shows as is: unknown.
  assertRecords('pmacct 100', r.records, {
    0: {
      srcip: '10.231.65.56',
      dstip: '10.192.12.213',
      srcport: 17000,
      dstport: 17000,
      protocolint: 17,
      bits: 1760,
      packets: 2,
      tos: 184,
      input: 995,
      output: 841,
      srcas: 4294967295,
      dstas: 4294967295,
      nexthop: '138.187.10.46',
      bgpnexthop: '0.0.0.0',
      flowdirection: null,
      start: 1677577561088,
      end: 1677577572352,
      flowsrcip: '138.187.0.13',
    },
    6: { srcip: '10.231.5.25', bits: 2640, packets: 3, start: 1677577560320, end: 1677577612544 },
    11: {
      srcip: '2001:1700:f101:b700::1',
      dstip: '2001:918:ffff:f9fc::3',
      ipversion: 6,
      srcport: 1024,
      dstport: 80,
      bits: 33072,
      srcmask: 41,
      dstmask: 64,
      input: 810,
      output: 1003,
      srcas: 6837,
      dstas: 6837,
      nexthop: '2001:918:10f:1::51',
      bgpnexthop: '2001:918:10f:1::51',
      start: 1677577559040,
      end: 1677577619456,
    },
  });
});

test('pmacct 104 (IPFIX over IPv6, sampling options): selector 1 = 1 out of 256', () => {
  const r = replayChain([IPFIX('pmacct_104-IPFIXv10-IPv6-CISCO-sampling_option_traffic-00.pcap')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 3);
  // tshark (-d udp.port==9992,cflow): options template 257 data selectorId 1, samplingSize 1,
  // samplingPopulation 256 (RFC 5477 n-out-of-N); every flow record has selectorId 1. tshark does
  // not apply options to flows. Times are flowStart/EndSysUpTime without systemInitTime: null.
  assert.deepEqual(
    r.records.map((x) => x.samplerate),
    [256, 256, 256],
  );
  assertRecords('pmacct 104', r.records, {
    0: {
      srcip: 'fe80::fa53:29ff:fe3a:3152',
      dstip: 'fe80::ea5c:aff:fe3b:fc00',
      protocolint: 58,
      icmptype: 0,
      icmpcode: 0,
      bits: 576,
      packets: 1,
      tos: 192,
      input: 42,
      bgpnexthop: '::',
      flowdirection: 'ingress',
      forwardingstatus: 'consumed: terminate for us',
      start: null,
      end: null,
      flowsrcip: '2a02:a90:4007:700::54',
    },
    2: {
      srcip: 'fe80::6ee8:74ff:feff:c308',
      dstip: 'ff02::12',
      protocolint: 112,
      bits: 38400,
      packets: 60,
      input: 70,
    },
  });
});

test('ipfixcol2 example flows (RFC 5655 file): 3979 records', () => {
  const r = replayChain([IPFIX('ipfixcol2_example_flows.ipfix')]);
  assert.deepEqual(r.errors, []);
  // tshark on the 68 messages (wrapped in UDP): 3979 data records, 8 templates.
  assert.equal(r.datagrams, 68);
  assert.equal(r.records.length, 3979);
  assertRecords('ipfixcol2', r.records, {
    0: {
      srcip: '228.55.228.116',
      dstip: '9.64.56.139',
      srcport: 53,
      dstport: 59765,
      protocolint: 17,
      bits: 1552,
      packets: 1,
      input: 2,
      output: 0,
      start: 1438603889586,
      end: 1438603889586,
      // samplingInterval 0 means "not known", not 1-in-0.
      samplerate: null,
    },
    1989: {
      srcip: '156.176.43.108',
      srcport: 443,
      dstport: 65233,
      bits: 3240,
      packets: 2,
      end: 1438603884908,
    },
    3978: {
      srcip: '164.102.116.68',
      dstip: '9.45.89.69',
      protocolint: 1,
      srcport: null,
      dstport: null,
      icmptype: 11,
      icmpcode: 0,
      bits: 768,
      start: 1438603891879,
    },
  });
});

test('withdrawal message for template 256: accepted silently, no records', () => {
  const r = replayChain([IPFIX('ipfixcol_withdrawal-message-256.ipfix')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 0);
});

test('scapy IPFIX pcap: one record with AS, masks, BGP next hop', () => {
  const r = replayChain([IPFIX('scapy_ipfix.pcap')]);
  assert.deepEqual(r.errors, []);
  assert.equal(r.records.length, 1);
  assertRecords('scapy', r.records, {
    0: {
      srcip: '70.1.115.1',
      dstip: '50.0.71.1',
      protocolint: 61,
      bits: 10496,
      packets: 9,
      srcmask: 24,
      dstmask: 24,
      input: 827,
      output: 854,
      srcas: 2,
      dstas: 3,
      nexthop: '204.42.110.189',
      bgpnexthop: '204.42.110.101',
      start: 1480449931519,
      end: 1480450105677,
      flowsrcip: '204.42.110.30',
    },
  });
});

test('data before templates (ipfixcol only-data file): template_unknown naming each template id', () => {
  const r = replayChain([IPFIX('ipfixcol_only-data-no-templates.ipfix')]);
  assert.equal(r.records.length, 0);
  // tshark: "no template found" for data sets 258, 264, 267.
  assert.deepEqual(
    r.errors.map((e) => e.kind),
    ['template_unknown', 'template_unknown', 'template_unknown'],
  );
  assert.deepEqual(
    r.errors.map((e) => /template (\d+) from 0\.0\.0\.0 domain 0 unknown/.exec(e.message)?.[1]),
    ['258', '264', '267'],
  );
});
