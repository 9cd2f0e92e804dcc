import type { ByteSource } from './byte-source.js';
import type { CaptureStats } from './frame.js';

const IPFIX_VERSION = 10;
const IPFIX_HEADER = 16;

/** One IPFIX message of an RFC 5655 file and its export time (epoch ms). */
export interface IpfixFileMessage {
  message: Buffer;
  exportTimeMs: number;
}

/**
 * Whether the first bytes look like an IPFIX message: version 10 and a message length that is at
 * least a header and fits in the file (RFC 7011 section 3.1).
 */
export function looksLikeIpfixFile(first: Buffer, fileSize: number): boolean {
  if (first.length < 4 || first.readUInt16BE(0) !== IPFIX_VERSION) return false;
  const len = first.readUInt16BE(2);
  return len >= IPFIX_HEADER && len <= fileSize;
}

/**
 * Messages of an RFC 5655 IPFIX file: messages back to back, each as long as its header says.
 * A message that does not parse ends the read (counted bad): there is no marker to resync on.
 */
export function* readIpfixFileMessages(src: ByteSource, stats: CaptureStats): Generator<IpfixFileMessage> {
  const out: IpfixFileMessage = { message: Buffer.alloc(0), exportTimeMs: 0 };
  for (;;) {
    const head = src.peek(IPFIX_HEADER);
    if (head === null) {
      if (src.remaining() > 0) {
        stats.packets++;
        stats.bad++;
      }
      return;
    }
    stats.packets++;
    const len = head.readUInt16BE(2);
    const msg = head.readUInt16BE(0) === IPFIX_VERSION && len >= IPFIX_HEADER ? src.take(len) : null;
    if (msg === null) {
      stats.bad++;
      return;
    }
    out.message = msg;
    out.exportTimeMs = msg.readUInt32BE(4) * 1000;
    yield out;
  }
}
