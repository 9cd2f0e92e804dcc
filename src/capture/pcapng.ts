import { MAX_DATE_MS } from '../record/date-range.js';
import type { ByteSource } from './byte-source.js';
import type { CapturedFrame, CaptureStats } from './frame.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const IDB = 1;
const OPB = 2;
const SPB = 3;
const EPB = 6;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const MAX_BLOCK = 16 << 20;

interface PcapngInterface {
  linkType: number;
  /** Timestamp units per second (if_tsresol; default microseconds). */
  unitsPerSecond: number;
  /** if_tsoffset, seconds added to every timestamp. */
  offsetSeconds: number;
}

/**
 * Frames of a pcapng file (draft-ietf-opsawg-pcapng): the Section Header Block sets the byte order
 * of its section, Interface Description Blocks give link type and timestamp resolution, packets
 * come in Enhanced (and obsolete) Packet Blocks or Simple Packet Blocks. Other blocks (name
 * resolution, statistics, custom) are skipped by their length.
 */
export function* readPcapngFrames(src: ByteSource, stats: CaptureStats): Generator<CapturedFrame> {
  let le = true;
  let interfaces: PcapngInterface[] = [];
  let lastTimestampMs = 0;
  const frame: CapturedFrame = { linkType: 0, timestampMs: 0, data: Buffer.alloc(0), wireLength: 0 };
  for (;;) {
    const head = src.peek(12);
    if (head === null) {
      if (src.remaining() > 0) stats.bad++;
      return;
    }
    const type = le ? head.readUInt32LE(0) : head.readUInt32BE(0);
    if (type === PCAPNG_SHB) {
      const bom = head.readUInt32LE(8);
      if (bom === BYTE_ORDER_MAGIC) le = true;
      else if (head.readUInt32BE(8) === BYTE_ORDER_MAGIC) le = false;
      else {
        stats.bad++;
        return;
      }
      interfaces = [];
    }
    const total = le ? head.readUInt32LE(4) : head.readUInt32BE(4);
    const isPacket = type === EPB || type === SPB || type === OPB;
    if (isPacket) stats.packets++;
    const block = total < 12 || total % 4 !== 0 || total > MAX_BLOCK ? null : src.take(total);
    if (block === null) {
      // A cut or garbage block length: nothing after it can be found again.
      stats.bad++;
      return;
    }
    const end = total - 4;
    if (type === IDB) {
      if (total >= 20) interfaces.push(readInterface(block, le, end));
      continue;
    }
    if (!isPacket) continue;
    let ifIndex = 0;
    let dataOff = 28;
    let capLen: number;
    let wireLen: number;
    let hasTime = true;
    if (type === SPB) {
      if (total < 16) {
        stats.bad++;
        continue;
      }
      wireLen = le ? block.readUInt32LE(8) : block.readUInt32BE(8);
      dataOff = 12;
      capLen = Math.min(wireLen, end - dataOff);
      hasTime = false;
    } else {
      if (total < 32) {
        stats.bad++;
        continue;
      }
      ifIndex =
        type === OPB
          ? le
            ? block.readUInt16LE(8)
            : block.readUInt16BE(8)
          : le
            ? block.readUInt32LE(8)
            : block.readUInt32BE(8);
      capLen = le ? block.readUInt32LE(20) : block.readUInt32BE(20);
      wireLen = le ? block.readUInt32LE(24) : block.readUInt32BE(24);
    }
    const ifc = interfaces[ifIndex];
    if (ifc === undefined || dataOff + capLen > end) {
      stats.bad++;
      continue;
    }
    if (hasTime) {
      const hi = le ? block.readUInt32LE(12) : block.readUInt32BE(12);
      const lo = le ? block.readUInt32LE(16) : block.readUInt32BE(16);
      // Split so nanosecond timestamps (> 2^53 units) keep sub-millisecond precision.
      const msPerUnit = 1000 / ifc.unitsPerSecond;
      const ms = Math.floor(hi * 4294967296 * msPerUnit + lo * msPerUnit + ifc.offsetSeconds * 1000);
      // A coarse if_tsresol or a huge if_tsoffset can put a 64-bit timestamp millions of years
      // away, past what a Date holds; outputs that format times would throw on it.
      if (!(Math.abs(ms) <= MAX_DATE_MS)) {
        stats.bad++;
        continue;
      }
      lastTimestampMs = ms;
    }
    // Simple Packet Blocks carry no time: the last one seen stands in.
    frame.linkType = ifc.linkType;
    frame.timestampMs = lastTimestampMs;
    frame.data = block.subarray(dataOff, dataOff + capLen);
    frame.wireLength = wireLen;
    yield frame;
  }
}

function readInterface(block: Buffer, le: boolean, end: number): PcapngInterface {
  const ifc: PcapngInterface = {
    linkType: le ? block.readUInt16LE(8) : block.readUInt16BE(8),
    unitsPerSecond: 1_000_000,
    offsetSeconds: 0,
  };
  let off = 16;
  while (off + 4 <= end) {
    const code = le ? block.readUInt16LE(off) : block.readUInt16BE(off);
    const len = le ? block.readUInt16LE(off + 2) : block.readUInt16BE(off + 2);
    const val = off + 4;
    if (code === 0 || val + len > end) break;
    if (code === OPT_IF_TSRESOL && len >= 1) {
      const r = block[val];
      ifc.unitsPerSecond = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
    } else if (code === OPT_IF_TSOFFSET && len >= 8) {
      const hi = le ? block.readInt32LE(val + 4) : block.readInt32BE(val);
      const lo = le ? block.readUInt32LE(val) : block.readUInt32BE(val + 4);
      ifc.offsetSeconds = hi * 4294967296 + lo;
    }
    off = val + ((len + 3) & ~3);
  }
  return ifc;
}
