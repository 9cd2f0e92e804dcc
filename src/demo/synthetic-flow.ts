/**
 * One flow as the demo traffic model produces it and the encoders write it: the exporter's view of
 * one direction of a conversation (NetFlow v9 / IPFIX data record), or for sFlow one sampled packet
 * of it (bytes / packets is the packet size).
 */
export interface SyntheticFlow {
  ipVersion: 4 | 6;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  /** IANA protocol number. */
  protocol: number;
  /** TCP flags ORed over the flow (0 for other protocols). */
  tcpFlags: number;
  tos: number;
  bytes: number;
  packets: number;
  /** Unix ms. */
  startMs: number;
  endMs: number;
  /** ifIndexes on the exporter. */
  input: number;
  output: number;
  srcMask: number;
  dstMask: number;
  /** Next hop (same IP version as the flow). */
  nextHop: string;
  vlan: number;
}

/** Writes a dotted-quad IPv4 address at `off`. */
export function writeIpv4(buf: Buffer, off: number, addr: string): void {
  let part = 0;
  let o = off;
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i);
    if (c === 46) {
      buf[o++] = part;
      part = 0;
    } else {
      part = part * 10 + (c - 48);
    }
  }
  buf[o] = part;
}

/** Writes an IPv6 address (any RFC 4291 text form without embedded IPv4) at `off`. */
export function writeIpv6(buf: Buffer, off: number, addr: string): void {
  const gap = addr.indexOf('::');
  const head = gap < 0 ? addr : addr.slice(0, gap);
  const tail = gap < 0 ? '' : addr.slice(gap + 2);
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  buf.fill(0, off, off + 16);
  for (let i = 0; i < h.length; i++) buf.writeUInt16BE(Number.parseInt(h[i], 16), off + i * 2);
  const tailStart = 8 - t.length;
  for (let i = 0; i < t.length; i++) buf.writeUInt16BE(Number.parseInt(t[i], 16), off + (tailStart + i) * 2);
}

/** Writes the flow's address family: 4 or 16 bytes. */
export function writeAddress(buf: Buffer, off: number, addr: string, version: 4 | 6): void {
  if (version === 4) writeIpv4(buf, off, addr);
  else writeIpv6(buf, off, addr);
}

/** Whether an address is loopback (127.0.0.0/8, ::1, IPv4-mapped loopback): where the demo may send. */
export function isLoopbackAddress(addr: string): boolean {
  const a = addr.toLowerCase();
  if (a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
