/**
 * 32-bit integer mixers shared by the detection sketches. Both are bijections on u32 (every output
 * has exactly one input), so hashing distinct IPv4 addresses or ports never produces a collision;
 * the seeds keep input 0 from mapping to output 0.
 */

/** MurmurHash3's finaliser (fmix32) applied to `x ^ seed`. */
export function fmix32(x: number, seed: number): number {
  let h = (x ^ seed) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Chris Wellons' "lowbias32" mixer applied to `x ^ seed`: constants unrelated to fmix32's, so its
 * output bits are practically independent of fmix32's for the same input.
 */
export function lowbias32(x: number, seed: number): number {
  let h = (x ^ seed) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}
