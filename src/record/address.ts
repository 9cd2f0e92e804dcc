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

/** Character codes of the lower-case hex digits. */
const HEX_DIGIT = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const COLON = 0x3a;

/**
 * Characters are laid out here and turned into one string by a single latin1 decode. Against
 * concatenating per-group strings from a 65,536-entry table (2026-11-24, loaded 2-core machine,
 * the addresses of bench/address-format.ts): ~62 ns to build the concatenation vs ~105 ns here, but
 * the concatenation is a rope, and its first reader (serialiser, Map key, parser, `===` against a
 * string of the same length) flattens it: ~105-110 ns vs ~105 ns once read. One flat string costs
 * the same and leaves no work for later readers.
 */
const text = Buffer.alloc(48);
const groups = new Uint16Array(8);

/**
 * The last RECENT addresses ipv6At formatted, as (text, 4 words most significant first), so that
 * enrichment, which runs on a record right after the decoder formatted its addresses, gets the
 * numbers back without parsing the text (recentIpv6Words). RFC 5952 text is one-to-one with the
 * address, so a string equal to an entry's text always denotes that entry's words, whether it is
 * the same string object (a pointer compare) or not. 8 covers a record's src, dst, nexthop,
 * bgpnexthop and a few more IPv6 fields.
 */
const RECENT = 8;
const recentText: string[] = new Array<string>(RECENT).fill('::');
const recentWords = new Uint32Array(RECENT * 4);
let recentNext = 0;

/** RFC 5952 text of the 16 bytes at `off`. */
export function ipv6At(buf: Uint8Array, off: number): string {
  let zeros = 0;
  for (let i = 0; i < 8; i++) {
    const g = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
    groups[i] = g;
    if (g === 0) zeros++;
  }
  let out: string;
  if (zeros === 8) {
    out = '::';
  } else if (groups[5] === 0xffff && (groups[0] | groups[1] | groups[2] | groups[3] | groups[4]) === 0) {
    // IPv4-mapped ::ffff:a.b.c.d (RFC 5952 section 5)
    out = `::ffff:${ipv4At(buf, off + 12)}`;
  } else {
    out = formatGroups(zeros);
  }
  const k = recentNext;
  recentText[k] = out;
  recentWords[k * 4] = ((groups[0] << 16) | groups[1]) >>> 0;
  recentWords[k * 4 + 1] = ((groups[2] << 16) | groups[3]) >>> 0;
  recentWords[k * 4 + 2] = ((groups[4] << 16) | groups[5]) >>> 0;
  recentWords[k * 4 + 3] = ((groups[6] << 16) | groups[7]) >>> 0;
  recentNext = (k + 1) & (RECENT - 1);
  return out;
}

/** `groups` (not all zero, not IPv4-mapped) with the longest run of 2+ zero groups as `::`. */
function formatGroups(zeros: number): string {
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed
  if (zeros > 1) {
    let runStart = -1;
    for (let i = 0; i <= 8; i++) {
      if (i < 8 && groups[i] === 0) {
        if (runStart < 0) runStart = i;
      } else if (runStart >= 0) {
        const len = i - runStart;
        // Strictly longer: on a tie the first run is compressed (RFC 5952 section 4.2.3).
        if (len > bestLen) {
          bestLen = len;
          bestStart = runStart;
        }
        runStart = -1;
      }
    }
  }
  const t = text;
  let n = 0;
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      if (i === 0) t[n++] = COLON;
      t[n++] = COLON;
      i += bestLen - 1;
      continue;
    }
    // Hex without leading zeros (RFC 5952 section 4.1).
    const g = groups[i];
    if (g > 0xfff) t[n++] = HEX_DIGIT[g >>> 12];
    if (g > 0xff) t[n++] = HEX_DIGIT[(g >>> 8) & 15];
    if (g > 0xf) t[n++] = HEX_DIGIT[(g >>> 4) & 15];
    t[n++] = HEX_DIGIT[g & 15];
    if (i < 7) t[n++] = COLON;
  }
  return t.toString('latin1', 0, n);
}

/**
 * When `text` is one of the last few strings ipv6At returned (or equal to one), writes that
 * address into `out` as 4 u32 words, most significant first, and returns true; false otherwise
 * (`out` untouched). Lets enrichment skip parsing what the decoder has just formatted.
 */
export function recentIpv6Words(text: string, out: Uint32Array): boolean {
  // Newest first: the record being enriched is the last one decoded.
  let k = recentNext;
  for (let i = 0; i < RECENT; i++) {
    k = (k - 1) & (RECENT - 1);
    if (recentText[k] === text) {
      out[0] = recentWords[k * 4];
      out[1] = recentWords[k * 4 + 1];
      out[2] = recentWords[k * 4 + 2];
      out[3] = recentWords[k * 4 + 3];
      return true;
    }
  }
  return false;
}

/**
 * Exporter address as the record and the per-exporter state key it: IPv4-mapped IPv6 from a
 * dual-stack socket (`::ffff:192.0.2.1`) becomes plain `192.0.2.1`.
 */
export function normalizeExporterAddress(address: string): string {
  if (address.startsWith('::ffff:') && address.indexOf('.') > 0) return address.slice(7);
  return address;
}
