/**
 * ipv6At (src/record/address.ts) exactly as it was before issue 7 rewrote it: the oracle the new
 * one is property-tested against (test/record/address.test.ts) and the "before" that
 * bench/address-format.ts times.
 */
import { ipv4At } from '../../src/record/address.js';

const groupsBefore = new Uint16Array(8);
export function ipv6AtBefore(buf: Uint8Array, off: number): string {
  let zeros = 0;
  for (let i = 0; i < 8; i++) {
    const g = (buf[off + 2 * i] << 8) | buf[off + 2 * i + 1];
    groupsBefore[i] = g;
    if (g === 0) zeros++;
  }
  if (zeros === 8) return '::';
  if (
    groupsBefore[0] === 0 &&
    groupsBefore[1] === 0 &&
    groupsBefore[2] === 0 &&
    groupsBefore[3] === 0 &&
    groupsBefore[4] === 0 &&
    groupsBefore[5] === 0xffff
  ) {
    return `::ffff:${ipv4At(buf, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  if (zeros > 1) {
    let runStart = -1;
    for (let i = 0; i <= 8; i++) {
      if (i < 8 && groupsBefore[i] === 0) {
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
    out += groupsBefore[i].toString(16);
    if (i < 7) out += ':';
  }
  return out;
}

/** ParsedAddress.parse before issue 7: always from the text. Returns the family. */
