import { writeFileSync } from 'node:fs';

/**
 * Classic libpcap savefiles (microsecond timestamps, little-endian, LINKTYPE_ETHERNET) written from
 * packets that carry only their headers: each record's captured length is the frame as built, its
 * original length the frame as it was on the wire, like `tcpdump -s 128`. Exporters (softflowd,
 * pmacctd) count bytes from the IP total length / original length, so the flows keep their real
 * sizes while the file stays small.
 */

const LINKTYPE_ETHERNET = 1;
/** Large enough for every header stack the scenarios build (Ethernet + IPv6 + TCP). */
export const SNAPLEN = 128;

export interface CapturedPacket {
  /** Capture time in microseconds since the Unix epoch. */
  tsUs: number;
  /** The frame's first bytes (at most SNAPLEN of them are written). */
  frame: Buffer;
  /** The frame's length on the wire. */
  wireLength: number;
}

function fileHeader(): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(SNAPLEN, 16);
  h.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  return h;
}

/** The savefile bytes; packets must already be in time order (exporters expect a monotonic clock). */
export function pcapBytes(packets: readonly CapturedPacket[]): Buffer {
  let size = 24;
  for (const p of packets) size += 16 + Math.min(p.frame.length, SNAPLEN);
  const out = Buffer.alloc(size);
  fileHeader().copy(out, 0);
  let o = 24;
  let lastTs = Number.NEGATIVE_INFINITY;
  for (const p of packets) {
    if (p.tsUs < lastTs) throw new Error(`pcap records out of time order at ${p.tsUs} us`);
    lastTs = p.tsUs;
    const incl = Math.min(p.frame.length, SNAPLEN);
    const sec = Math.floor(p.tsUs / 1_000_000);
    out.writeUInt32LE(sec, o);
    out.writeUInt32LE(p.tsUs - sec * 1_000_000, o + 4);
    out.writeUInt32LE(incl, o + 8);
    out.writeUInt32LE(Math.max(p.wireLength, incl), o + 12);
    p.frame.copy(out, o + 16, 0, incl);
    o += 16 + incl;
  }
  return out;
}

/** Writes the savefile; returns its size in bytes. */
export function writePcapFile(path: string, packets: readonly CapturedPacket[]): number {
  const bytes = pcapBytes(packets);
  writeFileSync(path, bytes);
  return bytes.length;
}
