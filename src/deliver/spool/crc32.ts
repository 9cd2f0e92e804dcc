import * as zlib from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, the zlib/gzip polynomial), continuable: `crc32(b, crc32(a))` equals the CRC
 * of a followed by b. Node has `zlib.crc32` from 20.15 / 22.2 (native, fast); `engines` allows any
 * Node 20, so older ones fall back to the table-driven version below, which gives the same values.
 */
export const crc32: (data: Uint8Array, value?: number) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function'
    ? (data, value = 0) => zlib.crc32(data, value)
    : tableCrc32;

let table: Uint32Array | null = null;

function crcTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** The portable version; exported so a test can check it against `zlib.crc32`. */
export function tableCrc32(data: Uint8Array, value = 0): number {
  table ??= crcTable();
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
