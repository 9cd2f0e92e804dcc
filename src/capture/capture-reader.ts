import { statSync } from 'node:fs';
import type { Datagram } from '../decode/datagram.js';
import { ByteSource } from './byte-source.js';

export { CaptureFileError } from './byte-source.js';

import type { CaptureFormat, CaptureStats } from './frame.js';
import { newCaptureStats } from './frame.js';
import { FRAGMENT_COMPLETED, FRAGMENT_HELD, NOT_UDP, UDP_FOUND, UdpExtractor } from './ip-udp.js';
import { looksLikeIpfixFile, readIpfixFileMessages } from './ipfix-file.js';
import { BAD_FRAME, ipOffset, NOT_IP } from './link-layer.js';
import { isPcapMagic, readPcapFrames } from './pcap.js';
import { PCAPNG_SHB, readPcapngFrames } from './pcapng.js';
import { readRawPayload } from './raw-file.js';

export type { CaptureFormat, CaptureStats } from './frame.js';
export { newCaptureStats } from './frame.js';

/**
 * Source address of datagrams from files that carry none (raw payloads, IPFIX files): one fixed
 * "unspecified" address, so templates from one such file apply to data in the next.
 */
export const UNKNOWN_SOURCE_ADDRESS = '0.0.0.0';

/** The format of a capture from its first bytes (and size). */
export function detectCaptureFormat(first: Buffer, fileSize: number): CaptureFormat {
  if (first.length >= 4) {
    const m = first.readUInt32BE(0);
    if (isPcapMagic(m)) return 'pcap';
    if (m === PCAPNG_SHB) return 'pcapng';
  }
  if (looksLikeIpfixFile(first, fileSize)) return 'ipfix-file';
  return 'raw';
}

/**
 * The UDP datagrams of a capture file, in file order: pcap, pcapng, RFC 5655 IPFIX file, or one
 * raw UDP payload, chosen by magic number. Non-UDP packets are skipped and malformed ones counted
 * in `stats` (filled as the generator runs); only an unreadable file throws (CaptureFileError).
 * The yielded payloads are views into the file's chunks and stay valid after the generator moves on.
 */
export function* readCaptureFile(path: string, stats: CaptureStats = newCaptureStats()): Generator<Datagram> {
  const src = new ByteSource(path);
  stats.fileBytes = src.size;
  try {
    const first = src.peek(Math.min(4, src.size)) ?? Buffer.alloc(0);
    const format = detectCaptureFormat(first, src.size);
    stats.format = format;
    if (format === 'pcap' || format === 'pcapng') {
      yield* datagramsOfFrames(src, stats, format);
    } else if (format === 'ipfix-file') {
      for (const m of readIpfixFileMessages(src, stats)) {
        stats.datagrams++;
        stats.bytesRead = src.consumed;
        yield datagram(m.message, UNKNOWN_SOURCE_ADDRESS, 0, 0, m.exportTimeMs);
      }
    } else {
      stats.packets++;
      const payload = src.size === 0 ? null : readRawPayload(src);
      stats.bytesRead = src.consumed;
      if (payload === null) stats.bad++;
      else {
        stats.datagrams++;
        yield datagram(payload, UNKNOWN_SOURCE_ADDRESS, 0, 0, Math.floor(statSync(path).mtimeMs));
      }
    }
    // A cut last record is never consumed; the file is done all the same.
    stats.bytesRead = src.size;
  } finally {
    src.close();
  }
}

function* datagramsOfFrames(
  src: ByteSource,
  stats: CaptureStats,
  format: 'pcap' | 'pcapng',
): Generator<Datagram> {
  const udp = new UdpExtractor();
  const frames = format === 'pcap' ? readPcapFrames(src, stats) : readPcapngFrames(src, stats);
  for (const frame of frames) {
    stats.bytesRead = src.consumed;
    const off = ipOffset(frame.linkType, frame.data);
    if (off === NOT_IP) {
      stats.skipped++;
      continue;
    }
    if (off === BAD_FRAME) {
      stats.bad++;
      continue;
    }
    const r = udp.extract(frame.data, off);
    if (r === UDP_FOUND || r === FRAGMENT_COMPLETED) {
      stats.datagrams++;
      yield datagram(udp.payload, udp.srcAddress, udp.srcPort, udp.dstPort, frame.timestampMs);
    } else if (r === FRAGMENT_HELD) {
      stats.fragments++;
    } else if (r === NOT_UDP) {
      stats.skipped++;
    } else {
      stats.bad++;
    }
  }
  udp.fragments.clear();
  stats.bad += udp.fragments.evicted;
}

function datagram(
  payload: Buffer,
  srcAddress: string,
  srcPort: number,
  dstPort: number,
  ms: number,
): Datagram {
  return { payload, srcAddress, srcPort, dstPort, receivedAtMs: ms, connectionId: null };
}
