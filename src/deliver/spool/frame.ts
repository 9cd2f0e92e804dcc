import { crc32 } from './crc32.js';

/**
 * One spooled batch on disk (all integers little-endian):
 *
 *   0  4  magic "FGSP"
 *   4  1  version (1)
 *   5  1  flags (0, reserved)
 *   6  2  header length H (13 + id length)
 *   8  4  payload length P
 *  12  4  CRC-32 of bytes 4..12 and of everything after byte 16 (header and payload)
 *  16  H  header: u32 record count, f64 created time (ms since epoch), u8 id length, id (UTF-8)
 * 16+H P  payload: the uploader's encoded body, opaque here
 *
 * The CRC covers the lengths too, so a record whose length field was damaged fails its check
 * instead of making the reader jump to a wrong place and trust what it finds there.
 */
export const FRAME_VERSION = 1;
export const PREFIX_BYTES = 16;
export const MAX_ID_BYTES = 128;
const FIXED_HEADER_BYTES = 13;
const MAGIC = Buffer.from('FGSP', 'latin1');

export interface FrameInfo {
  /** Offset of the frame in its segment. */
  offset: number;
  /** Whole frame: prefix, header and payload. */
  size: number;
  id: string;
  records: number;
  createdAt: number;
  /** Offset of the payload inside the frame. */
  payloadStart: number;
}

export interface BatchInput {
  id: string;
  records: number;
  body: Buffer;
  createdAt: number;
}

/** Prefix and header of a frame; the body follows unchanged, so it is written without a copy. */
export function encodeFrameHead(batch: BatchInput): Buffer {
  const id = Buffer.from(batch.id, 'utf8');
  if (id.length > MAX_ID_BYTES) {
    throw new Error(`spool: batch id is ${id.length} bytes, at most ${MAX_ID_BYTES} are allowed`);
  }
  if (!Number.isInteger(batch.records) || batch.records < 0 || batch.records > 0xffffffff) {
    throw new Error(`spool: record count ${batch.records} is not a 32-bit unsigned integer`);
  }
  if (batch.body.length > 0xffffffff) throw new Error('spool: batch body larger than 4 GiB');
  const headerLength = FIXED_HEADER_BYTES + id.length;
  const head = Buffer.alloc(PREFIX_BYTES + headerLength);
  MAGIC.copy(head, 0);
  head[4] = FRAME_VERSION;
  head[5] = 0;
  head.writeUInt16LE(headerLength, 6);
  head.writeUInt32LE(batch.body.length, 8);
  head.writeUInt32LE(batch.records, PREFIX_BYTES);
  head.writeDoubleLE(batch.createdAt, PREFIX_BYTES + 4);
  head[PREFIX_BYTES + 12] = id.length;
  id.copy(head, PREFIX_BYTES + FIXED_HEADER_BYTES);
  let crc = crc32(head.subarray(4, 12));
  crc = crc32(head.subarray(PREFIX_BYTES), crc);
  crc = crc32(batch.body, crc);
  head.writeUInt32LE(crc, 12);
  return head;
}

/** The frame starting at `offset` if it is complete, consistent and its CRC matches; else null. */
export function parseFrame(buf: Buffer, offset: number, end: number): FrameInfo | null {
  if (end - offset < PREFIX_BYTES) return null;
  if (buf.compare(MAGIC, 0, 4, offset, offset + 4) !== 0) return null;
  if (buf[offset + 4] !== FRAME_VERSION || buf[offset + 5] !== 0) return null;
  const headerLength = buf.readUInt16LE(offset + 6);
  const payloadLength = buf.readUInt32LE(offset + 8);
  if (headerLength < FIXED_HEADER_BYTES || headerLength > FIXED_HEADER_BYTES + MAX_ID_BYTES) return null;
  const size = PREFIX_BYTES + headerLength + payloadLength;
  if (size > end - offset) return null;
  const h = offset + PREFIX_BYTES;
  if (buf[h + 12] !== headerLength - FIXED_HEADER_BYTES) return null;
  let crc = crc32(buf.subarray(offset + 4, offset + 12));
  crc = crc32(buf.subarray(h, offset + size), crc);
  if (crc !== buf.readUInt32LE(offset + 12)) return null;
  return {
    offset,
    size,
    id: buf.toString('utf8', h + FIXED_HEADER_BYTES, h + headerLength),
    records: buf.readUInt32LE(h),
    createdAt: buf.readDoubleLE(h + 4),
    payloadStart: PREFIX_BYTES + headerLength,
  };
}

export interface SegmentScan {
  frames: FrameInfo[];
  /** End of the last good frame: everything after it is a damaged tail. */
  goodEnd: number;
  /** Damaged stretches followed by a good frame (each skipped by finding the next magic). */
  corruptRegions: number;
}

/**
 * The good frames of a segment from `start`. A frame that fails its checks is skipped by searching
 * for the next offset where a whole frame with a matching CRC starts; if none follows, the rest is
 * a damaged tail (a torn last write) and `goodEnd` says where to cut it. A payload that happens to
 * contain the magic does not fool the search: the candidate must also pass the CRC.
 */
export function scanSegment(buf: Buffer, start: number): SegmentScan {
  const frames: FrameInfo[] = [];
  const end = buf.length;
  let corruptRegions = 0;
  let p = start;
  while (p < end) {
    const frame = parseFrame(buf, p, end);
    if (frame !== null) {
      frames.push(frame);
      p += frame.size;
      continue;
    }
    const next = nextGoodFrame(buf, p + 1, end);
    if (next === -1) break;
    corruptRegions++;
    p = next;
  }
  return { frames, goodEnd: Math.min(p, end), corruptRegions };
}

function nextGoodFrame(buf: Buffer, from: number, end: number): number {
  for (let q = buf.indexOf(MAGIC, from); q !== -1 && q < end; q = buf.indexOf(MAGIC, q + 1)) {
    if (parseFrame(buf, q, end) !== null) return q;
  }
  return -1;
}
