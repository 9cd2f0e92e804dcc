/**
 * Keys for addresses in detection tables: the u32 the decoder handed over for IPv4
 * (FlowRecord.srcip4), the text otherwise; and a 32-bit hash of an address text for sketches.
 */
import { fmix32 } from './sketch/hash32.js';

/** FNV-1a over the text, finished with a murmur mix: spreads IPv6 texts over 32 bits. */
export function hashAddress(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return fmix32(h >>> 0, 0x5bd1e995);
}
