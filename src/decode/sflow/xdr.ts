/**
 * Big-endian reads for sFlow's XDR encoding (RFC 4506). Callers check bounds first; these read
 * straight from the datagram bytes so nothing is allocated per field.
 */

export function u32(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

export function u16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

/** An unsigned 64-bit counter as a number (exact up to 2^53, which no interface counter reaches soon). */
export function u64(buf: Uint8Array, off: number): number {
  return u32(buf, off) * 4294967296 + u32(buf, off + 4);
}
