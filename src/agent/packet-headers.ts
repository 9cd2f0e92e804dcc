/**
 * From one captured frame (often cut at a short snapshot length) to what the agent meters: the
 * 5-tuple, the IP length and the TCP flags. Pure and allocation-free per packet: results go into a
 * reused PacketHeaders, and FlowKeyCache turns a tuple into a FlowKey object only the first time
 * it is seen, so address text is formatted once per flow, not once per packet.
 */

import {
  extensionLength,
  isSkippableExtension,
  MAX_EXT_HEADERS,
  V6_FRAGMENT,
} from '../capture/ipv6-extension.js';
import { BAD_FRAME, ipOffset, NOT_IP } from '../capture/link-layer.js';
import { ipv4At, ipv6At } from '../record/address.js';
import type { FlowKey } from './flow-observation.js';

/** parsePacketHeaders() results. */
export const HEADERS_PARSED = 1;
/** Not IPv4/IPv6 (ARP, LLDP, an unsupported link type): the capture filter normally keeps these out. */
export const HEADERS_NOT_IP = 2;
/** The frame ends before the headers it announces (cut by the snapshot length, or malformed). */
export const HEADERS_MALFORMED = 3;

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const PROTO_SCTP = 132;
const PROTO_UDPLITE = 136;
const PROTO_DCCP = 33;

/** TCP FIN and RST: the connection is over, so the cache can export this direction now. */
export const TCP_FIN = 0x01;
export const TCP_RST = 0x04;

/** One packet's metered headers; valid until the next parsePacketHeaders() call on it. */
export class PacketHeaders {
  family: 4 | 6 = 4;
  /** Offset of the source address in the frame; the destination follows it (4 or 16 bytes each). */
  addressOffset = 0;
  protocol = 0;
  /** 0 without ports; ICMP and ICMPv6 put type * 256 + code in dstPort, as NetFlow does. */
  srcPort = 0;
  dstPort = 0;
  /** IP total length (IPv4) or 40 + payload length (IPv6): the bytes the packet had on the wire. */
  ipLength = 0;
  /** TCP flags byte (CWR..FIN); 0 for other protocols. */
  tcpFlags = 0;
  /** A non-first fragment: no transport header, so ports are 0 (its bytes still count). */
  laterFragment = false;
}

/**
 * Parses one captured frame: `f` holds exactly the captured bytes (a view per length over a reused
 * buffer costs nothing per packet). Returns HEADERS_PARSED, HEADERS_NOT_IP or HEADERS_MALFORMED;
 * never throws.
 */
export function parsePacketHeaders(linkType: number, f: Uint8Array, out: PacketHeaders): number {
  const off = ipOffset(linkType, f);
  if (off === NOT_IP) return HEADERS_NOT_IP;
  if (off === BAD_FRAME) return HEADERS_MALFORMED;
  const version = f[off] >> 4;
  if (version === 4) return ipv4(f, off, out);
  if (version === 6) return ipv6(f, off, out);
  return HEADERS_MALFORMED;
}

function ipv4(f: Uint8Array, off: number, out: PacketHeaders): number {
  if (f.length - off < 20) return HEADERS_MALFORMED;
  const ihl = (f[off] & 0x0f) * 4;
  if (ihl < 20) return HEADERS_MALFORMED;
  let total = (f[off + 2] << 8) | f[off + 3];
  // 0 is what TSO/GSO super-packets larger than 64 KiB show on the sending host (as capture/ip-udp.ts).
  if (total === 0) total = f.length - off;
  if (total < ihl) return HEADERS_MALFORMED;
  out.family = 4;
  out.addressOffset = off + 12;
  out.protocol = f[off + 9];
  out.ipLength = total;
  const fragOffset = ((f[off + 6] << 8) | f[off + 7]) & 0x1fff;
  out.laterFragment = fragOffset !== 0;
  if (out.laterFragment) return noTransport(out);
  return transport(f, off + ihl, out);
}

function ipv6(f: Uint8Array, off: number, out: PacketHeaders): number {
  if (f.length - off < 40) return HEADERS_MALFORMED;
  const plen = (f[off + 4] << 8) | f[off + 5];
  out.family = 6;
  out.addressOffset = off + 8;
  // plen 0 is a jumbogram (RFC 2675) or a BIG TCP super-packet on the sending host.
  out.ipLength = plen === 0 ? f.length - off : 40 + plen;
  out.laterFragment = false;
  let nh = f[off + 6];
  let p = off + 40;
  for (let i = 0; i < MAX_EXT_HEADERS; i++) {
    if (nh === V6_FRAGMENT) {
      if (p + 8 > f.length) return HEADERS_MALFORMED;
      const fragOffset = ((f[p + 2] << 8) | f[p + 3]) & 0xfff8;
      nh = f[p];
      p += 8;
      if (fragOffset !== 0) {
        out.protocol = nh;
        out.laterFragment = true;
        return noTransport(out);
      }
      continue;
    }
    if (isSkippableExtension(nh)) {
      if (p + 2 > f.length) return HEADERS_MALFORMED;
      const len = extensionLength(nh, f[p + 1]);
      nh = f[p];
      p += len;
      continue;
    }
    out.protocol = nh;
    return transport(f, p, out);
  }
  return HEADERS_MALFORMED;
}

function noTransport(out: PacketHeaders): number {
  out.srcPort = 0;
  out.dstPort = 0;
  out.tcpFlags = 0;
  return HEADERS_PARSED;
}

/** Reads only what is metered, so a snapshot length of 128 is enough behind ~60 bytes of IP options. */
function transport(f: Uint8Array, p: number, out: PacketHeaders): number {
  const proto = out.protocol;
  out.tcpFlags = 0;
  if (proto === PROTO_TCP) {
    if (p + 14 > f.length) return HEADERS_MALFORMED;
    out.tcpFlags = f[p + 13];
  } else if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
    if (p + 2 > f.length) return HEADERS_MALFORMED;
    out.srcPort = 0;
    out.dstPort = (f[p] << 8) | f[p + 1];
    return HEADERS_PARSED;
  } else if (proto !== PROTO_UDP && proto !== PROTO_SCTP && proto !== PROTO_UDPLITE && proto !== PROTO_DCCP) {
    return noTransport(out);
  } else if (p + 4 > f.length) {
    return HEADERS_MALFORMED;
  }
  out.srcPort = (f[p] << 8) | f[p + 1];
  out.dstPort = (f[p + 2] << 8) | f[p + 3];
  return HEADERS_PARSED;
}

/** The FlowKey of parsed headers, allocated every call (FlowKeyCache avoids that per packet). */
export function flowKeyOf(frame: Uint8Array, h: PacketHeaders): FlowKey {
  const a = h.addressOffset;
  return h.family === 4
    ? {
        family: 4,
        src: ipv4At(frame, a),
        dst: ipv4At(frame, a + 4),
        srcPort: h.srcPort,
        dstPort: h.dstPort,
        protocol: h.protocol,
      }
    : {
        family: 6,
        src: ipv6At(frame, a),
        dst: ipv6At(frame, a + 16),
        srcPort: h.srcPort,
        dstPort: h.dstPort,
        protocol: h.protocol,
      };
}

/** Bytes of one slot: family, protocol, source port, destination port, both addresses (up to 32). */
const SLOT_BYTES = 40;

/**
 * A direct-mapped cache from a packet's tuple bytes to its FlowKey. A hit compares raw bytes and
 * returns the same FlowKey object (no strings built); a miss, or a collision, formats the key and
 * takes the slot. Most packets belong to a few busy flows, so hits dominate.
 */
export class FlowKeyCache {
  private readonly mask: number;
  private readonly tuples: Uint8Array;
  private readonly keys: (FlowKey | null)[];
  hits = 0;
  misses = 0;

  /** `slots` is rounded up to a power of two. */
  constructor(slots = 4096) {
    let n = 1;
    while (n < slots) n <<= 1;
    this.mask = n - 1;
    this.tuples = new Uint8Array(n * SLOT_BYTES);
    this.keys = new Array<FlowKey | null>(n).fill(null);
  }

  keyOf(frame: Uint8Array, h: PacketHeaders): FlowKey {
    const addrLen = h.family === 4 ? 8 : 32;
    const a = h.addressOffset;
    // FNV-1a over the tuple.
    let hash = 0x811c9dc5;
    for (let i = 0; i < addrLen; i++) hash = Math.imul(hash ^ frame[a + i], 0x01000193);
    hash = Math.imul(hash ^ h.srcPort, 0x01000193);
    hash = Math.imul(hash ^ h.dstPort, 0x01000193);
    hash = Math.imul(hash ^ (h.protocol | (h.family << 8)), 0x01000193);
    const slot = (hash ^ (hash >>> 16)) & this.mask;
    const t = this.tuples;
    const base = slot * SLOT_BYTES;
    const cached = this.keys[slot];
    if (
      cached !== null &&
      t[base] === h.family &&
      t[base + 1] === h.protocol &&
      ((t[base + 2] << 8) | t[base + 3]) === h.srcPort &&
      ((t[base + 4] << 8) | t[base + 5]) === h.dstPort &&
      sameBytes(t, base + 6, frame, a, addrLen)
    ) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const key = flowKeyOf(frame, h);
    t[base] = h.family;
    t[base + 1] = h.protocol;
    t[base + 2] = h.srcPort >> 8;
    t[base + 3] = h.srcPort & 255;
    t[base + 4] = h.dstPort >> 8;
    t[base + 5] = h.dstPort & 255;
    for (let i = 0; i < addrLen; i++) t[base + 6 + i] = frame[a + i];
    this.keys[slot] = key;
    return key;
  }
}

function sameBytes(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}
