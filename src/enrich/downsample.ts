/**
 * Downsampling (`downsample: N`): keep one record in N, chosen by a hash of the flow key (source
 * and destination address and port, protocol, exporter) so that the same flow is always kept or
 * always dropped whatever the arrival order, across restarts and across collectors. The kept
 * record's `weight` is multiplied by N so estimated totals (bits x samplerate x weight) stay right.
 * The key is directional: the two directions of a conversation are two flows.
 */
import type { FlowRecord } from '../record/flow-record.js';
import { EnrichOptionError, shown } from './option-error.js';

/** As in the config file. */
export interface DownsampleOptions {
  /** Keep 1 record in N; default 1 (keep all). */
  downsample?: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Stands for a null field, so null and "" (or 0) hash apart. */
const NULL_MARK = 0x9e3779b9;

function mixString(h: number, s: string | null): number {
  if (s === null) return Math.imul(h ^ NULL_MARK, FNV_PRIME);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  // A separator, so ("1.2.3.4", "5") and ("1.2.3.45", "") differ.
  return Math.imul(h ^ 0xff, FNV_PRIME);
}

function mixNumber(h: number, n: number | null): number {
  if (n === null) return Math.imul(h ^ NULL_MARK, FNV_PRIME);
  h = Math.imul(h ^ (n & 0xff), FNV_PRIME);
  h = Math.imul(h ^ ((n >>> 8) & 0xff), FNV_PRIME);
  return Math.imul(h ^ ((n >>> 16) & 0xff), FNV_PRIME);
}

/**
 * 32-bit FNV-1a of the flow key, finished with murmur3's fmix32 so that `hash % N` is even for
 * any N (plain FNV's low bits follow the last characters too closely).
 */
export function flowKeyHash(rec: FlowRecord): number {
  let h = FNV_OFFSET;
  h = mixString(h, rec.srcip);
  h = mixString(h, rec.dstip);
  h = mixNumber(h, rec.srcport);
  h = mixNumber(h, rec.dstport);
  h = mixNumber(h, rec.protocolint);
  h = mixString(h, rec.flowsrcip);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Downsampler {
  kept = 0;
  dropped = 0;

  constructor(readonly rate: number) {}

  /** True to keep `rec` (its weight then multiplied by the rate), false to drop it. */
  keep(rec: FlowRecord): boolean {
    if (this.rate === 1) {
      this.kept++;
      return true;
    }
    if (flowKeyHash(rec) % this.rate !== 0) {
      this.dropped++;
      return false;
    }
    rec.weight *= this.rate;
    this.kept++;
    return true;
  }
}

/** Validates the rate (path names it in error texts). */
export function compileDownsample(rate: unknown = 1, path = 'downsample'): Downsampler {
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < 1 || rate > 2_147_483_647) {
    throw new EnrichOptionError(
      path,
      `expected a whole number of records N >= 1 (keep 1 in N), got ${shown(rate)}`,
    );
  }
  return new Downsampler(rate);
}
