import { ipv4At, ipv6At, normalizeExporterAddress } from '../record/address.js';
import { FragmentReassembler } from './fragments.js';
import {
  extensionLength,
  isSkippableExtension,
  MAX_EXT_HEADERS,
  V6_FRAGMENT,
  V6_HOP_BY_HOP,
} from './ipv6-extension.js';

/** extract() results. */
export const UDP_FOUND = 1;
/** Not UDP (TCP, ICMP, ESP...): skipped. */
export const NOT_UDP = 2;
/** Malformed or cut by the capture: counted bad. */
export const MALFORMED = 3;
/** A fragment kept until the rest of its datagram arrives. */
export const FRAGMENT_HELD = 4;
/** A fragment that completed a datagram, which is now in the result fields. */
export const FRAGMENT_COMPLETED = 5;

const PROTO_UDP = 17;

/**
 * From an IP packet to the UDP datagram inside it. The result is left in the public fields
 * (valid until the next call) so that nothing is allocated per packet but the payload view.
 * IPv4 fragments are reassembled by (src, dst, id, protocol), IPv6 ones by (src, dst, id)
 * (RFC 8200 section 4.5), with a bounded number of datagrams pending.
 */
export class UdpExtractor {
  srcAddress = '';
  dstAddress = '';
  srcPort = 0;
  dstPort = 0;
  payload: Buffer = Buffer.alloc(0);
  readonly fragments: FragmentReassembler;

  constructor(maxPendingReassemblies = 256) {
    this.fragments = new FragmentReassembler(maxPendingReassemblies);
  }

  /** Parses the IP packet at `off` of `f` (up to the end of `f`). */
  extract(f: Buffer, off: number): number {
    if (f.length - off < 1) return MALFORMED;
    const version = f[off] >> 4;
    if (version === 4) return this.ipv4(f, off);
    if (version === 6) return this.ipv6(f, off);
    return MALFORMED;
  }

  private ipv4(f: Buffer, off: number): number {
    if (f.length - off < 20) return MALFORMED;
    const ihl = (f[off] & 0x0f) * 4;
    let total = f.readUInt16BE(off + 2);
    // 0 is what TSO-offloaded packets show when captured on the sending host.
    if (total === 0) total = f.length - off;
    if (ihl < 20 || total < ihl || off + total > f.length) return MALFORMED;
    if (f[off + 9] !== PROTO_UDP) return NOT_UDP;
    const flags = f.readUInt16BE(off + 6);
    const fragOffset = (flags & 0x1fff) * 8;
    const more = (flags & 0x2000) !== 0;
    if (fragOffset !== 0 || more) {
      const key = `4 ${f.toString('latin1', off + 12, off + 20)}${f.toString('latin1', off + 4, off + 6)}`;
      const whole = this.fragments.add(key, fragOffset, more, f.subarray(off + ihl, off + total), PROTO_UDP);
      if (whole === null) return this.fragments.lastAddFailed ? MALFORMED : FRAGMENT_HELD;
      this.srcAddress = normalizeExporterAddress(ipv4At(f, off + 12));
      this.dstAddress = ipv4At(f, off + 16);
      return this.udp(whole, 0, whole.length) === UDP_FOUND ? FRAGMENT_COMPLETED : MALFORMED;
    }
    this.srcAddress = ipv4At(f, off + 12);
    this.dstAddress = ipv4At(f, off + 16);
    return this.udp(f, off + ihl, off + total);
  }

  private ipv6(f: Buffer, off: number): number {
    if (f.length - off < 40) return MALFORMED;
    const plen = f.readUInt16BE(off + 4);
    const end = off + 40 + plen;
    // plen 0 is a jumbogram (RFC 2675), never seen on flow export paths.
    if (plen === 0 || end > f.length) return MALFORMED;
    let nh = f[off + 6];
    let p = off + 40;
    for (let i = 0; i < MAX_EXT_HEADERS; i++) {
      if (nh === PROTO_UDP) {
        this.srcAddress = normalizeExporterAddress(ipv6At(f, off + 8));
        this.dstAddress = ipv6At(f, off + 24);
        return this.udp(f, p, end);
      }
      if (nh === V6_FRAGMENT) {
        if (p + 8 > end) return MALFORMED;
        const offFlags = f.readUInt16BE(p + 2);
        const fragOffset = offFlags & 0xfff8;
        const more = (offFlags & 1) !== 0;
        if (fragOffset === 0 && !more) {
          // Atomic fragment (RFC 6946): the whole datagram is here.
          nh = f[p];
          p += 8;
          continue;
        }
        const key = `6 ${f.toString('latin1', off + 8, off + 40)}${f.toString('latin1', p + 4, p + 8)}`;
        const whole = this.fragments.add(key, fragOffset, more, f.subarray(p + 8, end), f[p]);
        if (whole === null) return this.fragments.lastAddFailed ? MALFORMED : FRAGMENT_HELD;
        this.srcAddress = normalizeExporterAddress(ipv6At(f, off + 8));
        this.dstAddress = ipv6At(f, off + 24);
        const r = this.afterV6Fragment(whole, this.fragments.lastNextHeader);
        return r === UDP_FOUND ? FRAGMENT_COMPLETED : r;
      }
      if (isSkippableExtension(nh)) {
        if (p + 2 > end) return MALFORMED;
        const len = extensionLength(nh, f[p + 1]);
        nh = f[p];
        p += len;
        if (p > end) return MALFORMED;
        continue;
      }
      return NOT_UDP;
    }
    return MALFORMED;
  }

  /** The fragmentable part of a reassembled IPv6 packet may start with more extension headers. */
  private afterV6Fragment(b: Buffer, nh: number): number {
    let p = 0;
    for (let i = 0; i < MAX_EXT_HEADERS; i++) {
      if (nh === PROTO_UDP) return this.udp(b, p, b.length);
      // After the fragment header only headers of the fragmentable part can follow.
      if (nh === V6_HOP_BY_HOP || !isSkippableExtension(nh)) return NOT_UDP;
      if (p + 2 > b.length) return MALFORMED;
      const len = extensionLength(nh, b[p + 1]);
      nh = b[p];
      p += len;
    }
    return MALFORMED;
  }

  private udp(f: Buffer, p: number, end: number): number {
    if (end - p < 8) return MALFORMED;
    const ulen = f.readUInt16BE(p + 4);
    // Like the Linux stack: a UDP length shorter than the IP payload trims it; longer is an error.
    if (ulen < 8 || p + ulen > end) return MALFORMED;
    this.srcPort = f.readUInt16BE(p);
    this.dstPort = f.readUInt16BE(p + 2);
    this.payload = f.subarray(p + 8, p + ulen);
    return UDP_FOUND;
  }
}
