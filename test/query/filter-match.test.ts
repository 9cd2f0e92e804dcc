import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchFilter } from '../../src/query/filter-match.js';
import { parseFilter } from '../../src/query/filter-parse.js';
import { FlowRecord } from '../../src/record/flow-record.js';

/** A TCP flow 10.1.2.3:51515 -> 192.0.2.80:443 from exporter 10.0.0.1 with most fields known. */
function tcpRecord(): FlowRecord {
  const r = new FlowRecord();
  r.srcip = '10.1.2.3';
  r.dstip = '192.0.2.80';
  r.srcport = 51515;
  r.dstport = 443;
  r.protocolint = 6;
  r.ipversion = 4;
  r.bits = 12000; // 1500 bytes
  r.packets = 10;
  r.duration = 2500;
  r.samplerate = 1000;
  r.tos = 184;
  r.tcpflagsint = 0x12; // SYN ACK
  r.srcmask = 8;
  r.dstmask = 24;
  r.input = 3;
  r.output = 7;
  r.srcvlan = 100;
  r.dstvlan = 200;
  r.srcas = 64496;
  r.dstas = 15169;
  r.nexthop = '192.0.2.1';
  r.bgpnexthop = '203.0.113.9';
  r.flowsrcip = '10.0.0.1';
  r.flowsrcname = 'Edge-1';
  r.site = 'paris';
  r.flowtype = 'netflow';
  r.flowversion = 9;
  r.flowdirection = 'ingress';
  r.inputname = 'Gi0/0/1';
  r.outputname = 'Gi0/0/2';
  r.srcgeo = { countrycode: 'FR', continentcode: 'EU', location: null };
  r.dstgeo = { countrycode: 'US', continentcode: 'NA', location: null };
  r.tags = ['scanner', 'Web'];
  return r;
}

/** A bare ICMPv6 record: almost everything unknown. */
function icmp6Record(): FlowRecord {
  const r = new FlowRecord();
  r.srcip = '2001:db8:aa::5';
  r.dstip = 'ff02::1';
  r.protocolint = 58;
  r.ipversion = 6;
  r.icmptype = 135;
  r.icmpcode = 0;
  r.flowtype = 'sflow';
  r.flowversion = 5;
  return r;
}

function check(rec: FlowRecord, yes: string[], no: string[]): void {
  for (const f of yes) assert.equal(matchFilter(parseFilter(f), rec), true, `"${f}" should match`);
  for (const f of no) assert.equal(matchFilter(parseFilter(f), rec), false, `"${f}" should not match`);
}

describe('matchFilter', () => {
  it('IPv4 hosts and networks', () => {
    check(
      tcpRecord(),
      [
        'src host 10.1.2.3',
        'dst host 192.0.2.80',
        'host 192.0.2.80',
        'src net 10/8',
        'src net 10.1.2.0/24',
        'src net 10.1.2.2/31',
        'src net 0.0.0.0/0',
        'dst net 192.0.2.0/25',
        'net 192.0.2.64/26',
        'nexthop 192.0.2.0/24',
        'bgpnexthop 203.0.113.9',
        'exporter 10.0.0.1',
        'exporter 10.0.0.0/30',
      ],
      [
        'src host 10.1.2.4',
        'dst host 10.1.2.3',
        'src net 11.0.0.0/8',
        'src net 10.1.2.0/31',
        'dst net 192.0.2.128/25',
        'host 2001:db8::1',
        'src net ::/0',
        'exporter 10.0.0.2',
        'src natip 10.1.2.3',
      ],
    );
  });

  it('addresses near the top of the IPv4 space compare as unsigned', () => {
    const r = new FlowRecord();
    r.srcip = '255.255.255.254';
    r.dstip = '128.0.0.1';
    check(
      r,
      [
        'src net 255.255.255.254/31',
        'src net 128.0.0.0/1',
        'dst net 128.0.0.0/1',
        'src host 255.255.255.254',
      ],
      ['src net 0.0.0.0/1', 'src host 255.255.255.255', 'dst net 128.0.0.0/32'],
    );
  });

  it('IPv6 hosts and networks; IPv4 and IPv6 never match each other', () => {
    check(
      icmp6Record(),
      [
        'src host 2001:db8:aa::5',
        'src host 2001:0db8:00aa:0:0:0:0:5',
        'src net 2001:db8::/32',
        'src net 2001:db8:a8::/45',
        'src net 2001:db8:aa::4/127',
        'dst net ff00::/8',
        'host ff02::1',
        'src net ::/0',
        'ipv6',
        'proto ipv6-icmp',
        'icmp6',
        'icmp-type 135',
        'icmp-code 0',
      ],
      [
        'src net 2001:db9::/32',
        'src net 2001:db8:b0::/45',
        'src net 2001:db8:aa::6/127',
        'dst net fe80::/10',
        'src net 0.0.0.0/0',
        'ipv4',
        'icmp',
      ],
    );
    const mapped = new FlowRecord();
    mapped.srcip = '::ffff:192.0.2.7';
    check(mapped, ['src net ::ffff:0:0/96', 'src host ::ffff:192.0.2.7'], ['src host 192.0.2.7']);
  });

  it('ports, comparisons, ranges and lists', () => {
    check(
      tcpRecord(),
      [
        'dst port 443',
        'port 443',
        'src port > 1024',
        'dst port < 1024',
        'dst port <= 443',
        'dst port >= 443',
        'dst port != 80',
        'src port 50000-60000',
        'port 400-500',
        'dst port in [80 443 8443]',
        'src or dst port 443',
        'src and dst port > 400',
      ],
      [
        'src port 443',
        'dst port > 443',
        'dst port != 443',
        'port 1-100',
        'dst port in [80, 8080]',
        'src and dst port 443',
      ],
    );
  });

  it('protocol, AS, interfaces, VLANs, masks, TOS, counters, sampling, version', () => {
    check(
      tcpRecord(),
      [
        'tcp',
        'proto tcp',
        'proto 6',
        'proto != udp',
        'src as 64496',
        'as 15169',
        'dst as > 15000',
        'in if 3',
        'out if 7',
        'if 7',
        'vlan 200',
        'src vlan 100',
        'src mask 8',
        'mask 24',
        'tos 184',
        'ipv4',
        'inet',
        'packets 10',
        'packets >= 10',
        'bytes 1500',
        'bytes > 1499',
        'bits 12000',
        'duration > 2000',
        'samplerate 1000',
        'flowversion 9',
      ],
      [
        'udp',
        'icmp',
        'dst as 64496',
        'in if 7',
        'if 5',
        'dst vlan 100',
        'tos 0',
        'ipv6',
        'packets > 10',
        'bytes > 1500',
        'duration < 2500',
        'samplerate 1',
        'flowversion 10',
      ],
    );
  });

  it('strings compare case-insensitively; tags exactly', () => {
    check(
      tcpRecord(),
      [
        'src country fr',
        'dst country US',
        'country US',
        'dst country != CN',
        'src country in [DE FR]',
        'exporter name edge-1',
        'exporter name EDGE-1',
        'site PARIS',
        'in if name gi0/0/1',
        'out if name Gi0/0/2',
        'if name Gi0/0/2',
        'flowtype netflow',
        'direction ingress',
        'tag scanner',
        'tag Web',
      ],
      [
        'src country US',
        'country DE',
        'exporter name edge-2',
        'in if name Gi0/0/2',
        'flowtype sflow',
        'direction egress',
        'tag web',
        'tag dns',
      ],
    );
  });

  it('firewall and NAT events, post-NAT addresses', () => {
    const r = tcpRecord();
    r.fwevent = 'deny';
    r.natevent = 'nat44 create';
    r.postnatsrcip = '100.64.1.1';
    r.postnatdstip = '2001:db8::80';
    check(
      r,
      [
        'fwevent deny',
        'fwevent DENY',
        'natevent "nat44 create"',
        'src natip 100.64.0.0/10',
        'dst xip 2001:db8::/64',
        'natip 100.64.1.1',
      ],
      ['fwevent create', 'natevent create', 'dst natip 100.64.0.0/10'],
    );
  });

  it('TCP flags: every bit of the mask set, TCP records only', () => {
    check(
      tcpRecord(),
      ['flags S', 'flags A', 'flags SA', 'flags AS', 'flags 18'],
      ['flags F', 'flags SF', 'flags R'],
    );
    const udp = tcpRecord();
    udp.protocolint = 17; // a UDP record with a (bogus) flags byte: flags never apply
    check(udp, ['not flags S'], ['flags S']);
    const unknown = tcpRecord();
    unknown.tcpflagsint = null;
    check(unknown, ['not flags S'], ['flags S']);
  });

  it('null fields never satisfy a comparison, and not inverts that', () => {
    const r = icmp6Record();
    check(
      r,
      [
        'not port 53',
        'not dst port != 53',
        'not src as 0',
        'not in if 0',
        'not country FR',
        'not src country != FR',
        'not tag x',
        'not exporter 0.0.0.0/0',
        'not nexthop ::/0',
        'not exporter name x',
        'not bytes > 0',
        'any',
        '',
      ],
      [
        'port 53',
        'dst port != 53',
        'port >= 0',
        'src as >= 0',
        'packets >= 0',
        'duration >= 0',
        'samplerate >= 1',
        'src country != FR',
        'exporter name != x',
        'exporter 0.0.0.0/0',
        'exporter ::/0',
        'nexthop ::/0',
        'site x',
      ],
    );
  });

  it('precedence and boolean structure', () => {
    const r = tcpRecord();
    check(
      r,
      [
        'udp or tcp and port 443',
        'tcp and port 443 or udp',
        'not udp and tcp',
        '!udp && (port 80 || port 443)',
        'not (udp or icmp)',
        'not not tcp',
        'src net 10.0.0.0/8 and dst port 443 and proto tcp',
      ],
      [
        '(udp or tcp) and port 80',
        'not (tcp and port 443)',
        'udp and tcp or icmp',
        'not tcp or udp',
        'tcp and not port 443',
      ],
    );
  });
});
