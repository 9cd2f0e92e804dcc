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
