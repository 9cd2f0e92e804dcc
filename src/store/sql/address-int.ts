import ipaddr from 'ipaddr.js';

/**
 * An address as family + two unsigned 64-bit halves, the form the stores keep so a CIDR filter is
 * an integer range (no `inet` extension needed). IPv4 is family 4 with hi = 0 and lo = the 32-bit
 * value; IPv6 is family 6 with the high and low 64 bits.
 */
export interface AddressInt {
  family: 4 | 6;
  hi: bigint;
  lo: bigint;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function v4Value(s: string): number | null {
  const m = V4.exec(s);
  if (m === null) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return null;
    v = v * 256 + o;
  }
  return v;
}

/** The address as integers, or null when `s` is not an IPv4/IPv6 address. */
export function addressInt(s: string): AddressInt | null {
  const v4 = v4Value(s);
  if (v4 !== null) return { family: 4, hi: 0n, lo: BigInt(v4) };
  if (!s.includes(':') || !ipaddr.IPv6.isValid(s)) return null;
  const p = ipaddr.IPv6.parse(s).parts;
  const half = (a: number, b: number, c: number, d: number) =>
    (BigInt(a) << 48n) | (BigInt(b) << 32n) | (BigInt(c) << 16n) | BigInt(d);
  return {
    family: 6,
    hi: half(p[0] ?? 0, p[1] ?? 0, p[2] ?? 0, p[3] ?? 0),
    lo: half(p[4] ?? 0, p[5] ?? 0, p[6] ?? 0, p[7] ?? 0),
  };
}

const MASK64 = (1n << 64n) - 1n;

/**
 * The inclusive [first, last] 128-bit bounds of `network/prefix` (host bits of `network` ignored),
 * or null when the network is not an address of `family` or the prefix is out of range.
 */
export function cidrBounds(
  network: string,
  prefix: number,
  family: 4 | 6,
): { first: bigint; last: bigint } | null {
  const a = addressInt(network);
  const width = family === 4 ? 32 : 128;
  if (a === null || a.family !== family || !Number.isInteger(prefix) || prefix < 0 || prefix > width) {
    return null;
  }
  const value = (a.hi << 64n) | a.lo;
  const hostBits = BigInt(width - prefix);
  const hostMask = (1n << hostBits) - 1n;
  const first = value & ~hostMask;
  return { first, last: first | hostMask };
}

export function highHalf(v: bigint): bigint {
  return (v >> 64n) & MASK64;
}

export function lowHalf(v: bigint): bigint {
  return v & MASK64;
}

const HEX = /^[0-9a-fA-F]{1,4}$/;

/**
 * The eight 16-bit groups of an IPv6 address in text form (RFC 4291 2.2: "::" once, an IPv4 tail)
 * into `out`; false when `s` is not one (a zone id, a bad group). The store calls this for every
 * IPv6 address it writes, where ipaddr.js (regular expressions, arrays, then BigInt) was about a
 * tenth of the receiving thread at 150,000 records/s; addressInt stays the general parser.
 */
export function ipv6Groups(s: string, out: Uint16Array): boolean {
  const gap = s.indexOf('::');
  if (gap !== s.lastIndexOf('::') || s.length < 2 || s.length > 45) return false;
  const head = gap < 0 ? s : s.slice(0, gap);
  const tail = gap < 0 ? '' : s.slice(gap + 2);
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups: number[] = [];
  const parts = gap < 0 ? left : [...left, ...right];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as string;
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = v4Value(p);
      if (v4 === null) return false;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
    } else if (HEX.test(p)) {
      groups.push(Number.parseInt(p, 16));
    } else {
      return false;
    }
  }
  const rightCount = gap < 0 ? 0 : groups.length - left.length;
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return false;
  out.fill(0);
  const leftCount = groups.length - rightCount;
  for (let i = 0; i < leftCount; i++) out[i] = groups[i] as number;
  for (let i = 0; i < rightCount; i++) out[8 - rightCount + i] = groups[leftCount + i] as number;
  return true;
}
