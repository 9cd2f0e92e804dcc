import type { ByteSource } from './byte-source.js';
import type { CapturedFrame, CaptureStats } from './frame.js';

/** Classic libpcap magic numbers as read big-endian from the first 4 bytes of the file. */
export const PCAP_MAGIC_US_BE = 0xa1b2c3d4;
export const PCAP_MAGIC_US_LE = 0xd4c3b2a1;
export const PCAP_MAGIC_NS_BE = 0xa1b23c4d;
export const PCAP_MAGIC_NS_LE = 0x4d3cb2a1;

export function isPcapMagic(m: number): boolean {
  return m === PCAP_MAGIC_US_BE || m === PCAP_MAGIC_US_LE || m === PCAP_MAGIC_NS_BE || m === PCAP_MAGIC_NS_LE;
}

/** No capture tool writes records this large; past it the length field is garbage. */
const MAX_RECORD = 16 << 20;

/**
 * Frames of a classic pcap file (draft-ietf-opsawg-pcap): 24-byte file header, then 16-byte record
 * headers in the writer's byte order, with micro- or nanosecond timestamps by magic. A record cut
 * by the end of the file is counted bad and ends the read (nothing after it can be trusted).
 */
export function* readPcapFrames(src: ByteSource, stats: CaptureStats): Generator<CapturedFrame> {
  const hdr = src.take(24);
  if (hdr === null) {
    stats.bad++;
    return;
  }
  const magic = hdr.readUInt32BE(0);
  const le = magic === PCAP_MAGIC_US_LE || magic === PCAP_MAGIC_NS_LE;
  const nano = magic === PCAP_MAGIC_NS_BE || magic === PCAP_MAGIC_NS_LE;
  // The upper bits of the link type field may carry FCS length information; the type is the low 16.
  const linkType = (le ? hdr.readUInt32LE(20) : hdr.readUInt32BE(20)) & 0xffff;
  const frame: CapturedFrame = { linkType, timestampMs: 0, data: hdr, wireLength: 0 };
  for (;;) {
    const rh = src.take(16);
    if (rh === null) {
      if (src.remaining() > 0) {
        stats.packets++;
        stats.bad++;
      }
      return;
    }
    stats.packets++;
    const sec = le ? rh.readUInt32LE(0) : rh.readUInt32BE(0);
    const frac = le ? rh.readUInt32LE(4) : rh.readUInt32BE(4);
    const incl = le ? rh.readUInt32LE(8) : rh.readUInt32BE(8);
    const orig = le ? rh.readUInt32LE(12) : rh.readUInt32BE(12);
    const data = incl > MAX_RECORD ? null : src.take(incl);
    if (data === null) {
      stats.bad++;
      return;
    }
    frame.timestampMs = sec * 1000 + Math.floor(nano ? frac / 1_000_000 : frac / 1000);
    frame.data = data;
    frame.wireLength = orig;
    yield frame;
  }
}
