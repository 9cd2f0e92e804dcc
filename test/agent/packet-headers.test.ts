import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FlowKeyCache,
  flowKeyOf,
  HEADERS_MALFORMED,
  HEADERS_NOT_IP,
  HEADERS_PARSED,
  PacketHeaders,
  parsePacketHeaders,
} from '../../src/agent/packet-headers.js';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from '../../src/capture/link-layer.js';
import { ethernet, ipv4Header, ipv4Udp, ipv6Header, ipv6Udp } from '../helpers/packets.js';

/** A TCP header (20 bytes, no options) with the given flags byte. */
function tcpHeader(sport: number, dport: number, flags: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b[12] = 5 << 4;
  b[13] = flags;
  return b;
}

function ipv4Tcp(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  flags: number,
  payload: number,
): Buffer {
  const body = Buffer.concat([tcpHeader(sport, dport, flags), Buffer.alloc(payload)]);
  return Buffer.concat([ipv4Header(src, dst, 6, body.length), body]);
}

/** Linux cooked header v1 (16 bytes, protocol last) and v2 (20 bytes, protocol first). */
function sll(ip: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(ip[0] >> 4 === 6 ? 0x86dd : 0x0800, 14);
  return Buffer.concat([h, ip]);
}
function sll2(ip: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(ip[0] >> 4 === 6 ? 0x86dd : 0x0800, 0);
  return Buffer.concat([h, ip]);
}

function parse(linkType: number, frame: Buffer): { result: number; h: PacketHeaders } {
  const h = new PacketHeaders();
  return { result: parsePacketHeaders(linkType, frame, h), h };
}

test('IPv4 TCP over Ethernet, cut at 128 bytes: tuple, IP length from the header, flags', () => {
  const frame = ethernet(ipv4Tcp('10.1.2.3', '192.0.2.9', 40000, 443, 0x11, 1400)).subarray(0, 128);
  const { result, h } = parse(LINKTYPE_ETHERNET, frame);
  assert.equal(result, HEADERS_PARSED);
  assert.deepEqual(flowKeyOf(frame, h), {
    family: 4,
    src: '10.1.2.3',
    dst: '192.0.2.9',
    srcPort: 40000,
    dstPort: 443,
    protocol: 6,
  });
  assert.equal(h.ipLength, 20 + 20 + 1400);
  assert.equal(h.tcpFlags, 0x11);
});

test('802.1Q and QinQ tags are walked', () => {
  const frame = ethernet(ipv4Udp('10.0.0.1', '10.0.0.2', 53, 5353, Buffer.alloc(10)), [0x88a8, 0x8100]);
  const { result, h } = parse(LINKTYPE_ETHERNET, frame);
  assert.equal(result, HEADERS_PARSED);
  assert.equal(h.protocol, 17);
  assert.equal(h.srcPort, 53);
  assert.equal(h.dstPort, 5353);
  assert.equal(h.ipLength, 38);
  assert.equal(h.tcpFlags, 0);
});

test('Linux cooked SLL and SLL2 (the any device)', () => {
  const ip = ipv4Udp('172.16.0.1', '172.16.0.2', 1000, 2000, Buffer.alloc(100));
  for (const [linkType, frame] of [
    [LINKTYPE_LINUX_SLL, sll(ip)],
    [LINKTYPE_LINUX_SLL2, sll2(ip)],
  ] as const) {
    const { result, h } = parse(linkType, frame);
    assert.equal(result, HEADERS_PARSED, `link type ${linkType}`);
    assert.equal(flowKeyOf(frame, h).src, '172.16.0.1');
    assert.equal(h.dstPort, 2000);
    assert.equal(h.ipLength, 128);
  }
});

test('IPv6 with hop-by-hop and destination options headers before TCP', () => {
  const tcp = tcpHeader(8080, 51000, 0x04);
  const hopByHop = Buffer.from([60, 0, 0, 0, 0, 0, 0, 0]); // next: dest opts, 8 bytes
  const destOpts = Buffer.concat([Buffer.from([6, 1]), Buffer.alloc(14)]); // next: TCP, 16 bytes
  const body = Buffer.concat([hopByHop, destOpts, tcp, Buffer.alloc(50)]);
  const frame = ethernet(
    Buffer.concat([ipv6Header('2001:db8::1', '2001:db8:0:1::20', 0, body.length), body]),
  );
  const { result, h } = parse(LINKTYPE_ETHERNET, frame);
  assert.equal(result, HEADERS_PARSED);
  assert.deepEqual(flowKeyOf(frame, h), {
    family: 6,
    src: '2001:db8::1',
    dst: '2001:db8:0:1::20',
    srcPort: 8080,
    dstPort: 51000,
    protocol: 6,
  });
  assert.equal(h.ipLength, 40 + body.length);
  assert.equal(h.tcpFlags, 0x04);
});

test('ICMP and ICMPv6 put type * 256 + code in the destination port', () => {
  const icmp = Buffer.from([3, 3, 0, 0, 0, 0, 0, 0]);
  const v4 = ethernet(Buffer.concat([ipv4Header('10.0.0.2', '10.0.0.1', 1, 8), icmp]));
  let r = parse(LINKTYPE_ETHERNET, v4);
  assert.equal(r.result, HEADERS_PARSED);
  assert.equal(r.h.dstPort, 3 * 256 + 3);
  assert.equal(r.h.srcPort, 0);
  const echo = Buffer.from([128, 0, 0, 0, 0, 1, 0, 1]);
  const v6 = ethernet(Buffer.concat([ipv6Header('fe80::1', 'fe80::2', 58, 8), echo]));
  r = parse(LINKTYPE_ETHERNET, v6);
  assert.equal(r.h.protocol, 58);
  assert.equal(r.h.dstPort, 128 * 256);
});

test('IPv4 fragments: the first has ports, later ones count bytes with ports 0', () => {
  const udp = ipv4Udp('10.9.9.1', '10.9.9.2', 4000, 4001, Buffer.alloc(1472)).subarray(20);
  const first = Buffer.concat([
    ipv4Header('10.9.9.1', '10.9.9.2', 17, 1000, { id: 7, more: true }),
    udp.subarray(0, 1000),
  ]);
  const later = Buffer.concat([
    ipv4Header('10.9.9.1', '10.9.9.2', 17, 480, { id: 7, fragOffset: 1000 }),
    udp.subarray(1000),
  ]);
  const a = parse(LINKTYPE_ETHERNET, ethernet(first));
  assert.equal(a.result, HEADERS_PARSED);
  assert.equal(a.h.srcPort, 4000);
  assert.equal(a.h.ipLength, 1020);
  assert.equal(a.h.laterFragment, false);
  const b = parse(LINKTYPE_ETHERNET, ethernet(later));
  assert.equal(b.result, HEADERS_PARSED);
  assert.equal(b.h.laterFragment, true);
  assert.equal(b.h.protocol, 17);
  assert.equal(b.h.srcPort, 0);
  assert.equal(b.h.dstPort, 0);
  assert.equal(b.h.ipLength, 500);
});

test('IPv6 later fragment: protocol from the fragment header, ports 0', () => {
  const frag = Buffer.from([17, 0, 0x05, 0x00, 0, 0, 0, 9]); // offset 160, next header UDP
  const frame = ethernet(
    Buffer.concat([ipv6Header('2001:db8::a', '2001:db8::b', 44, 8 + 100), frag, Buffer.alloc(100)]),
  );
  const { result, h } = parse(LINKTYPE_ETHERNET, frame);
  assert.equal(result, HEADERS_PARSED);
  assert.equal(h.laterFragment, true);
  assert.equal(h.protocol, 17);
  assert.equal(h.dstPort, 0);
  assert.equal(h.ipLength, 148);
});

test('truncated and non-IP frames are reported, never thrown', () => {
  const full = ethernet(ipv4Tcp('10.0.0.1', '10.0.0.2', 1, 2, 0x02, 0));
  for (let n = 0; n < full.length; n++) {
    const { result } = parse(LINKTYPE_ETHERNET, full.subarray(0, n));
    // The TCP flags byte is at 14 + 20 + 13: anything shorter cannot be metered.
    assert.equal(result, n < 48 ? HEADERS_MALFORMED : HEADERS_PARSED, `cut at ${n}`);
  }
  const v6 = ethernet(ipv6Udp('::1', '::2', 1, 2, Buffer.alloc(4)));
  assert.equal(parse(LINKTYPE_ETHERNET, v6.subarray(0, 14 + 39)).result, HEADERS_MALFORMED);
  const arp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
  assert.equal(parse(LINKTYPE_ETHERNET, arp).result, HEADERS_NOT_IP);
  const badVersion = ethernet(ipv4Udp('10.0.0.1', '10.0.0.2', 1, 2, Buffer.alloc(4)));
  badVersion[14] = 0x55;
  assert.equal(parse(LINKTYPE_ETHERNET, badVersion).result, HEADERS_MALFORMED);
  const badIhl = ethernet(ipv4Udp('10.0.0.1', '10.0.0.2', 1, 2, Buffer.alloc(4)));
  badIhl[14] = 0x44;
  assert.equal(parse(LINKTYPE_ETHERNET, badIhl).result, HEADERS_MALFORMED);
  // An extension header chain that runs past the captured bytes.
  const longExt = ethernet(Buffer.concat([ipv6Header('::1', '::2', 0, 2048), Buffer.from([17, 255])]));
  assert.equal(parse(LINKTYPE_ETHERNET, longExt).result, HEADERS_MALFORMED);
});

test('FlowKeyCache returns the same key object for the same tuple and a new one otherwise', () => {
  const cache = new FlowKeyCache(64);
  const h = new PacketHeaders();
  const a = ethernet(ipv6Udp('2001:db8::1', '2001:db8::2', 1000, 2000, Buffer.alloc(8)));
  const b = ethernet(ipv6Udp('2001:db8::1', '2001:db8::2', 1000, 2001, Buffer.alloc(8)));
  parsePacketHeaders(LINKTYPE_ETHERNET, a, h);
  const k1 = cache.keyOf(a, h);
  parsePacketHeaders(LINKTYPE_ETHERNET, Buffer.from(a), h);
  const k2 = cache.keyOf(a, h);
  assert.equal(k1, k2);
  assert.equal(cache.hits, 1);
  parsePacketHeaders(LINKTYPE_ETHERNET, b, h);
  const k3 = cache.keyOf(b, h);
  assert.notEqual(k3, k1);
  assert.equal(k3.dstPort, 2001);
  assert.equal(k3.src, '2001:db8::1');
  // Many tuples through a small cache: every key still matches its own packet (collisions replace).
  for (let i = 0; i < 500; i++) {
    const f = ethernet(ipv4Udp(`10.0.${i >> 8}.${i & 255}`, '10.1.1.1', i, 53, Buffer.alloc(1)));
    parsePacketHeaders(LINKTYPE_ETHERNET, f, h);
    assert.deepEqual(cache.keyOf(f, h), flowKeyOf(f, h));
  }
});
