/**
 * Address parsing for the filter language and its in-memory matcher: character loops with no
 * allocation, because the matcher parses a record's address string on every evaluation.
 */

/** The u32 of a dotted quad (`a.b.c.d`, decimal, no leading zeros), or -1. */
export function parseIPv4(s: string, start = 0, end = s.length): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      // A leading zero would be octal to inet_aton(3): refuse rather than guess.
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (c - 0x30);
      if (octet > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Parses IPv6 text (RFC 4291 section 2.2: `::` once, an embedded dotted quad at the end) into
 * the 16 bytes of `out`. Returns false, with `out` undefined, when it is not an IPv6 address.
 */
export function parseIPv6(s: string, out: Uint8Array, start = 0, end = s.length): boolean {
  let groups = 0; // 16-bit groups written so far
  let gap = -1; // group index where `::` stands
  let i = start;
  if (end - start < 2) return false;
  if (s.charCodeAt(i) === 0x3a) {
    if (s.charCodeAt(i + 1) !== 0x3a) return false;
    gap = 0;
    i += 2;
    if (i === end) {
      out.fill(0);
      return true;
    }
  }
  while (i < end) {
    if (groups === 8) return false;
    let v = 0;
    let n = 0;
    const groupStart = i;
    while (i < end && n < 5) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      n++;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 0x2e) {
      // Embedded IPv4 in the last 32 bits (`::ffff:192.0.2.1`).
      if (groups > 6) return false;
      const v4 = parseIPv4(s, groupStart, end);
      if (v4 < 0) return false;
      out[groups * 2] = v4 >>> 24;
      out[groups * 2 + 1] = (v4 >>> 16) & 255;
      out[groups * 2 + 2] = (v4 >>> 8) & 255;
      out[groups * 2 + 3] = v4 & 255;
      groups += 2;
      i = end;
      break;
    }
    if (n === 0 || n > 4) return false;
    out[groups * 2] = v >>> 8;
    out[groups * 2 + 1] = v & 255;
    groups++;
    if (i === end) break;
    if (s.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 0x3a) {
      if (gap >= 0) return false;
      gap = groups;
      i++;
    } else if (i === end) {
      return false; // trailing single colon
    }
  }
  if (gap < 0) return groups === 8;
  if (groups > 7) return false;
  const shift = 8 - groups;
  for (let g = groups - 1; g >= gap; g--) {
    out[(g + shift) * 2] = out[g * 2];
    out[(g + shift) * 2 + 1] = out[g * 2 + 1];
  }
  out.fill(0, gap * 2, (gap + shift) * 2);
  return true;
}

/** True when the first `prefix` bits of `a` and `b` are equal. */
export function samePrefix(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  const whole = prefix >>> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole] & mask) === (b[whole] & mask);
}

/** True when `v4` (u32) lies in `network`/`prefix` (both u32 / 0..32). */
export function inIPv4Network(v4: number, network: number, prefix: number): boolean {
  if (prefix === 0) return true;
  // prefix 0 is handled above: a shift by 32 is a shift by 0 in JavaScript.
  const shift = 32 - prefix;
  return v4 >>> shift === network >>> shift;
}
