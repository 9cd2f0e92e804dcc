/**
 * Address formatting shared by every decoder. Reads straight from the datagram at an offset so
 * no intermediate buffer is allocated; IPv6 is formatted per RFC 5952 (lower case, longest run of
 * two or more zero groups compressed, first such run on a tie), IPv4-mapped addresses keep the
 * `::ffff:a.b.c.d` form here; exporter addresses are normalised with `normalizeExporterAddress`.
 */

const OCTET: string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** Dotted quad from 4 bytes at `off`. */
export function ipv4At(buf: Uint8Array, off: number): string {
  return `${OCTET[buf[off]]}.${OCTET[buf[off + 1]]}.${OCTET[buf[off + 2]]}.${OCTET[buf[off + 3]]}`;
}

/** The 4 bytes at `off` as an unsigned 32-bit integer (what FlowRecord.srcip4 and friends hold). */
export function u32At(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** Dotted quad from a u32. */
export function ipv4FromU32(v: number): string {
  return `${OCTET[(v >>> 24) & 255]}.${OCTET[(v >>> 16) & 255]}.${OCTET[(v >>> 8) & 255]}.${OCTET[v & 255]}`;
}

const groups = new Uint16Array(8);

/** RFC 5952 text of the 16 bytes at `off`. */
export function ipv6At(buf: Uint8Array, off: number): string {
  let zeros = 0;
  for (let i = 0; i < 8; i++) {
    const g = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
    groups[i] = g;
    if (g === 0) zeros++;
  }
  if (zeros === 8) return '::';
  // IPv4-mapped ::ffff:a.b.c.d (RFC 5952 section 5)
  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
    return `::ffff:${ipv4At(buf, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed
  if (zeros > 1) {
    let runStart = -1;
    for (let i = 0; i <= 8; i++) {
      if (i < 8 && groups[i] === 0) {
        if (runStart < 0) runStart = i;
      } else if (runStart >= 0) {
        const len = i - runStart;
        if (len > bestLen) {
          bestLen = len;
          bestStart = runStart;
        }
        runStart = -1;
      }
    }
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    out += groups[i].toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

/**
 * Exporter address as the record and the per-exporter state key it: IPv4-mapped IPv6 from a
 * dual-stack socket (`::ffff:192.0.2.1`) becomes plain `192.0.2.1`.
 */
export function normalizeExporterAddress(address: string): string {
  if (address.startsWith('::ffff:') && address.indexOf('.') > 0) return address.slice(7);
  return address;
}
