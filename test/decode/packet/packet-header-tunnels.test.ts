/**
 * Tunnel decapsulation of the shared packet header parser on hand-built frames (layouts from
 * RFC 2003/4213 IP-in-IP, RFC 8754 SRv6 SRH, RFC 8986 next header 143, RFC 3032 MPLS, RFC 4385 PW
 * control word, RFC 4448 Ethernet pseudowire). Without the flag the outer headers are decoded as
 * before (the sFlow behaviour).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodePacketHeader,
  HEADER_ETHERNET,
  HEADER_IPV4,
  HEADER_IPV6,
} from '../../../src/decode/packet/packet-header.js';
import { FlowRecord } from '../../../src/record/flow-record.js';

const MACS = '020000000001' + '020000000002';

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** IPv4 header, TOS 0x20, DF, given protocol and addresses (dotted), then the payload. */
function ipv4(proto: number, src: string, dst: string, payload: string, flagsFrag = '4000'): string {
  const a = (ip: string) =>
    ip
      .split('.')
      .map((o) => hex2(Number(o)))
      .join('');
  return `4520 0000 abcd ${flagsFrag} 40${hex2(proto)} 0000 ${a(src)} ${a(dst)} ${payload}`;
}

/** IPv6 header, traffic class 0, next header, 2001:db8::<s> -> 2001:db8::<d>, then the payload. */
function ipv6(next: number, s: number, d: number, payload: string): string {
  const a = (x: number) => `20010db8${'0'.repeat(20)}${x.toString(16).padStart(4, '0')}`;
  return `60000000 0000${hex2(next)}40 ${a(s)} ${a(d)} ${payload}`;
}

const UDP_53_5353 = '0035 14e9 0008 0000';
// TCP 443 -> 55427, data offset 5, ACK
const TCP_ACK = '01bb d883 00000001 00000000 5010 ffff 00000000';
const ICMP_ECHO = '0800 f7ff 0000 0000';

function decode(hex: string, decapsulate: boolean, protocol = HEADER_ETHERNET, cut = 0): FlowRecord {
  const buf = Buffer.from(hex.replace(/ /g, ''), 'hex');
  const rec = new FlowRecord();
  decodePacketHeader(buf, 0, buf.length - cut, protocol, rec, decapsulate);
  return rec;
}

test('IPv4 in IPv6 (next header 4): the inner packet with the flag, the outer without', () => {
  const frame = `${MACS} 86dd ${ipv6(4, 1, 2, ipv4(1, '8.8.8.8', '213.36.140.101', ICMP_ECHO))}`;
  const inner = decode(frame, true);
  assert.equal(inner.ipversion, 4);
  assert.equal(inner.srcip, '8.8.8.8');
  assert.equal(inner.dstip, '213.36.140.101');
  assert.equal(inner.protocolint, 1);
  assert.equal(inner.icmptype, 8);
  assert.equal(inner.icmpcode, 0);
  assert.equal(inner.tos, 0x20);
  const outer = decode(frame, false);
  assert.equal(outer.ipversion, 6);
  assert.equal(outer.srcip, '2001:db8::1');
  assert.equal(outer.dstip, '2001:db8::2');
  assert.equal(outer.protocolint, 4);
  assert.equal(outer.icmptype, null);
});

test('IPv6 in IPv4 (protocol 41): inner IPv6 addresses and TCP ports', () => {
  const r = decode(`${MACS} 0800 ${ipv4(41, '192.0.2.1', '192.0.2.2', ipv6(6, 3, 4, TCP_ACK))}`, true);
  assert.equal(r.ipversion, 6);
  assert.equal(r.srcip, '2001:db8::3');
  assert.equal(r.dstip, '2001:db8::4');
  assert.equal(r.protocolint, 6);
  assert.equal(r.srcport, 443);
  assert.equal(r.dstport, 55427);
  assert.equal(r.tcpflagsint, 0x10);
});

test('SRv6: segment routing header (43, type 4) walked, then the IPv4 payload (4) opened', () => {
  // SRH: next header 4, hdr ext len 4 (two 16-byte segments: (4 + 1) * 8 = 40 bytes), routing
  // type 4, segments left 1, last entry 1, flags 0, tag 0, then the two segments.
  const srh = `04 04 04 01 01 00 0000 ${'fc000000000000000000000000000001'} ${'fc000000000000000000000000000002'}`;
  const r = decode(
    `${MACS} 86dd ${ipv6(43, 1, 2, srh + ipv4(17, '10.1.1.1', '10.2.2.2', UDP_53_5353))}`,
    true,
  );
  assert.equal(r.srcip, '10.1.1.1');
  assert.equal(r.dstip, '10.2.2.2');
  assert.equal(r.protocolint, 17);
  assert.equal(r.srcport, 53);
  assert.equal(r.dstport, 5353);
  const outer = decode(
    `${MACS} 86dd ${ipv6(43, 1, 2, srh + ipv4(17, '10.1.1.1', '10.2.2.2', UDP_53_5353))}`,
    false,
  );
  assert.equal(outer.srcip, '2001:db8::1');
  assert.equal(outer.protocolint, 4);
  assert.equal(outer.srcport, null);
});

test('SRv6 L2 service (next header 143): the inner Ethernet frame, its VLAN replaces the outer one', () => {
  const innerFrame = `${MACS} 8100 03e8 0800 ${ipv4(6, '198.51.100.19', '198.51.100.20', TCP_ACK)}`;
  const r = decode(`${MACS} 8100 0064 86dd ${ipv6(143, 1, 2, innerFrame)}`, true);
  assert.equal(r.srcvlan, 1000);
  assert.equal(r.srcip, '198.51.100.19');
  assert.equal(r.srcport, 443);
});

test('Ethernet over MPLS with control word: labels, control word, customer frame', () => {
  // two labels (300012, then 17 with the S bit), control word 0x00000000, customer frame with VLAN 1000
  const customer = `${MACS} 8100 03e8 0800 ${ipv4(6, '198.51.100.1', '198.51.100.2', TCP_ACK)}`;
  const frame = `${MACS} 8847 493ec2ff 000113ff 00000000 ${customer}`;
  const r = decode(frame, true);
  assert.equal(r.srcvlan, 1000);
  assert.equal(r.ipversion, 4);
  assert.equal(r.srcip, '198.51.100.1');
  assert.equal(r.dstip, '198.51.100.2');
  assert.equal(r.protocolint, 6);
  assert.equal(r.srcport, 443);
  assert.equal(r.dstport, 55427);
  // Without the flag a control word is not looked through: nothing after the labels.
  const outer = decode(frame, false);
  assert.equal(outer.srcip, null);
  assert.equal(outer.ipversion, null);
  // IP right after the labels is still guessed from the version nibble in both modes.
  const ipOverMpls = `${MACS} 8847 000113ff ${ipv4(17, '10.0.0.1', '10.0.0.2', UDP_53_5353)}`;
  assert.equal(decode(ipOverMpls, true).srcip, '10.0.0.1');
  assert.equal(decode(ipOverMpls, false).srcip, '10.0.0.1');
});

test('inner header cut off by the end bound: the outer addresses stay, the tunnel protocol too', () => {
  const frame = `${MACS} 86dd ${ipv6(4, 1, 2, ipv4(1, '8.8.8.8', '213.36.140.101', ICMP_ECHO))}`;
  // 8 ICMP bytes + 10 bytes of the inner IPv4 header beyond `end` (the buffer still holds them)
  const r = decode(frame, true, HEADER_ETHERNET, 18);
  assert.equal(r.srcip, '2001:db8::1');
  assert.equal(r.protocolint, 4);
  assert.equal(r.icmptype, null);
  // end inside the inner ICMP header: inner addresses, no type/code read past the bound
  const partial = decode(frame, true, HEADER_ETHERNET, 7);
  assert.equal(partial.srcip, '8.8.8.8');
  assert.equal(partial.icmptype, null);
});

test('nested tunnels are opened at most three deep', () => {
  let pkt = ipv4(17, '10.0.0.5', '10.0.0.6', UDP_53_5353);
  for (let i = 4; i >= 1; i--) pkt = ipv4(4, `10.0.0.${i}`, '10.9.9.9', pkt);
  // 4 IPIP headers around the UDP packet: three are opened, the fourth is the record's packet.
  const r = decode(pkt, true, HEADER_IPV4);
  assert.equal(r.srcip, '10.0.0.4');
  assert.equal(r.protocolint, 4);
  assert.equal(r.srcport, null);
});

test('a non-first outer fragment is not decapsulated', () => {
  const r = decode(
    ipv4(4, '192.0.2.1', '192.0.2.2', ipv4(17, '10.0.0.1', '10.0.0.2', UDP_53_5353), '0064'),
    true,
    HEADER_IPV4,
  );
  assert.equal(r.srcip, '192.0.2.1');
  assert.equal(r.fragmented, true);
  assert.equal(r.protocolint, 4);
});

test('IPv6 in IPv6 (next header 41) from the raw IPv6 header protocol', () => {
  const r = decode(ipv6(41, 1, 2, ipv6(17, 5, 6, UDP_53_5353)), true, HEADER_IPV6);
  assert.equal(r.srcip, '2001:db8::5');
  assert.equal(r.dstip, '2001:db8::6');
  assert.equal(r.srcport, 53);
});
