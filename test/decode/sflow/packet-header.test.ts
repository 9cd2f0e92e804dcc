/** Raw packet header parsing on hand-built headers (layouts from IEEE 802.1Q, RFC 791/3032/8200/793). */
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

function ipv4(proto: number, flagsFrag: string, l4: string): string {
  // version/IHL 45, TOS b8, total length, id, flags+fragment offset, TTL 40, protocol, checksum,
  // 192.0.2.1 -> 198.51.100.2
  return `45b80000abcd${flagsFrag}40${proto.toString(16).padStart(2, '0')}0000c0000201c6336402${l4}`;
}

function ipv6(next: number, rest: string): string {
  // traffic class 0x2e, flow label 0, payload length 0, next header, hop limit 64,
  // 2001:db8::1 -> 2001:db8::2
  return `62e00000 0000${next.toString(16).padStart(2, '0')}40 20010db8000000000000000000000001 20010db8000000000000000000000002 ${rest}`.replace(
    / /g,
    '',
  );
}

function decode(protocol: number, hex: string): FlowRecord {
  const buf = Buffer.from(hex.replace(/ /g, ''), 'hex');
  const rec = new FlowRecord();
  decodePacketHeader(buf, 0, buf.length, protocol, rec);
  return rec;
}

// TCP 40000 -> 443, data offset 5 with NS set (0x51), flags SYN (0x02)
const TCP_NS_SYN = '9c4001bb 00000001 00000000 5102ffff 00000000';

test('Q-in-Q: srcvlan from the outer tag; TCP flags include NS', () => {
  const r = decode(HEADER_ETHERNET, `${MACS} 88a8 0064 8100 00c8 0800 ${ipv4(6, '0000', TCP_NS_SYN)}`);
  assert.equal(r.srcvlan, 100);
  assert.equal(r.ipversion, 4);
  assert.equal(r.srcip, '192.0.2.1');
  assert.equal(r.dstip, '198.51.100.2');
  assert.equal(r.tos, 0xb8);
  assert.equal(r.protocolint, 6);
  assert.equal(r.srcport, 40000);
  assert.equal(r.dstport, 443);
  assert.equal(r.tcpflagsint, 0x102);
  assert.equal(r.fragmented, false);
});

test('priority-tagged frame (VID 0) has no VLAN', () => {
  const r = decode(HEADER_ETHERNET, `${MACS} 8100 a000 0800 ${ipv4(17, '4000', '00350035 00080000')}`);
  assert.equal(r.srcvlan, null);
  assert.equal(r.srcport, 53);
});

test('MPLS: labels skipped to bottom of stack, IPv6 guessed from the nibble, extension headers walked', () => {
  // two labels (second has S bit), IPv6 -> hop-by-hop (8 bytes) -> fragment offset 0 M=1 -> UDP
  const hbh = '2c00 000000000000'; // next = 44 (fragment), len 0
  const frag = '1100 0001 12345678'; // next = 17, offset 0, M = 1
  const udp = '1f90 0050 0010 0000';
  const r = decode(HEADER_ETHERNET, `${MACS} 8847 00001040 00002140 ${ipv6(0, hbh + frag + udp)}`);
  assert.equal(r.ipversion, 6);
  assert.equal(r.srcip, '2001:db8::1');
  assert.equal(r.dstip, '2001:db8::2');
  assert.equal(r.tos, 0x2e);
  assert.equal(r.protocolint, 17);
  assert.equal(r.fragmented, true);
  assert.equal(r.srcport, 8080);
  assert.equal(r.dstport, 80);
});

test('IPv6 non-first fragment: protocol from the fragment header, no ports', () => {
  const frag = '0600 0641 12345678'; // next = 6, offset 200 (0x0641 >> 3), M = 1
  const r = decode(HEADER_IPV6, ipv6(44, frag + '9c4001bb'));
  assert.equal(r.protocolint, 6);
  assert.equal(r.fragmented, true);
  assert.equal(r.srcport, null);
  assert.equal(r.dstport, null);
});

test('IPv6 ESP ends the walk', () => {
  const r = decode(HEADER_IPV6, ipv6(50, '00001000 00000001'));
  assert.equal(r.protocolint, 50);
  assert.equal(r.srcport, null);
});

test('IPv4 non-first fragment has no ports; first fragment with MF has', () => {
  const later = decode(HEADER_IPV4, ipv4(17, '0064', '00350035 00080000'));
  assert.equal(later.fragmented, true);
  assert.equal(later.protocolint, 17);
  assert.equal(later.srcport, null);
  const first = decode(HEADER_IPV4, ipv4(17, '2000', '00350035 00080000'));
  assert.equal(first.fragmented, true);
  assert.equal(first.srcport, 53);
});

test('truncated header: what is there is decoded, the rest stays null', () => {
  const full = `${MACS} 0800 ${ipv4(6, '4000', TCP_NS_SYN)}`.replace(/ /g, '');
  const cutInTcp = decode(HEADER_ETHERNET, full.slice(0, (14 + 20 + 2) * 2));
  assert.equal(cutInTcp.srcip, '192.0.2.1');
  assert.equal(cutInTcp.protocolint, 6);
  assert.equal(cutInTcp.srcport, null);
  const cutBeforeFlags = decode(HEADER_ETHERNET, full.slice(0, (14 + 20 + 8) * 2));
  assert.equal(cutBeforeFlags.dstport, 443);
  assert.equal(cutBeforeFlags.tcpflagsint, null);
  const cutInIp = decode(HEADER_ETHERNET, full.slice(0, (14 + 10) * 2));
  assert.equal(cutInIp.srcip, null);
  assert.equal(cutInIp.ipversion, null);
});

test('ICMPv4 echo request: type/code, no ports', () => {
  const r = decode(HEADER_IPV4, ipv4(1, '0000', '0800f7ff 00000000'));
  assert.equal(r.icmptype, 8);
  assert.equal(r.icmpcode, 0);
  assert.equal(r.srcport, null);
});
