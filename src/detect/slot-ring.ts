/**
 * Per-host counters over a sliding window of flow time, as a ring of slots (window / SLOTS seconds
 * each) of METRIC_COUNT values.
 *
 * Time model: NetFlow/IPFIX records arrive when a flow expires and cover start..end, so a record's
 * counts are spread over the slots its duration overlaps, in proportion (a 60 s flow of 60,000
 * packets adds 1,000 packets to each second). Without that a flood exported every 60 s would show
 * as 60× its rate in one second and nothing in the others. sFlow samples are instantaneous (start
 * = end). The window is the host's own: it ends at the newest slot the host has data for, so a
 * host whose records come late (an exporter that flushes its cache at once, one whose clock lags)
 * is still measured over a whole window of its own data. Parts older than that window are dropped.
 *
 * Layout: metric-major (each metric's SLOTS values side by side). A record moves a handful of
 * metrics and a long flow spreads them over every slot, so one record touches a few short runs of
 * memory rather than a row per slot: with tens of thousands of hosts the rings do not fit in the
 * CPU caches and adding is bound by the cache lines it touches (bench/detect-throughput.ts).
 */
import { METRIC_COUNT } from './traffic-metrics.js';

/** Slots per window: resolution of the sliding window (30 s window → 2 s slots). */
export const SLOTS = 15;

/** Where the values start in a ring's array: after the slot ids. */
const VALUES = SLOTS;

export class SlotRing {
  /**
   * One array, so a host's counters are one allocation: [i] the slot number (flow time / slot
   * length) ring position i holds, -1 empty; [VALUES + m * SLOTS + i] metric m at position i
   * (metric-major).
   */
  private readonly data = new Float64Array(VALUES + SLOTS * METRIC_COUNT).fill(-1, 0, SLOTS);
  /**
   * Bit m set once metric m was ever added to: the others are 0 at every position, and neither
   * clearing a position nor summing needs to touch them (a client host moves 3 or 4 metrics).
   */
  private metrics = 0;
  /** The newest slot with data: where this host's window ends. */
  newest = Number.NEGATIVE_INFINITY;

  /** Adds `inc` (METRIC_COUNT values) spread over [startMs, endMs]. */
  add(inc: Float64Array, startMs: number, endMs: number, slotMs: number): void {
    const endSlot = Math.floor(endMs / slotMs);
    if (endSlot > this.newest) this.newest = endSlot;
    const oldest = this.newest - SLOTS + 1;
    if (endSlot < oldest) return;
    // Found once per record rather than tested in every slot it is spread over.
    const moved = nonZero(inc);
    this.metrics |= movedBits;
    const duration = endMs - startMs;
    const firstSlot = Math.floor(startMs / slotMs);
    if (duration <= 0 || firstSlot >= endSlot) {
      this.addToSlot(endSlot, inc, moved, 1);
      return;
    }
    // The share of each slot is its overlap with [start, end].
    for (let s = Math.max(firstSlot, oldest); s <= endSlot; s++) {
      const from = Math.max(startMs, s * slotMs);
      const to = Math.min(endMs, (s + 1) * slotMs);
      if (to > from) this.addToSlot(s, inc, moved, (to - from) / duration);
    }
  }

  /** Sum of metric `m` over the window ending at `nowSlot`. */
  sum(m: number, nowSlot: number): number {
    const oldest = nowSlot - SLOTS + 1;
    const data = this.data;
    const base = VALUES + m * SLOTS;
    let total = 0;
    for (let i = 0; i < SLOTS; i++) {
      const id = data[i] as number;
      if (id >= oldest && id <= nowSlot) total += data[base + i] as number;
    }
    return total;
  }

  /** Sums of every metric over the window into `into`. */
  sums(nowSlot: number, into: Float64Array): void {
    into.fill(0);
    const oldest = nowSlot - SLOTS + 1;
    const data = this.data;
    // Ring positions in ascending order for every metric, as the sums always were added up. A
    // metric never added to is 0 everywhere: adding those zeros would change nothing (no value
    // is ever -0: each is +0 or a sum starting from +0).
    for (let i = 0; i < SLOTS; i++) {
      const id = data[i] as number;
      if (id < oldest || id > nowSlot) continue;
      let bits = this.metrics;
      while (bits !== 0) {
        const m = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        into[m] = (into[m] as number) + (data[VALUES + m * SLOTS + i] as number);
      }
    }
  }

  /** Adds `share` of the `moved` metrics listed in MOVED to `slot`. */
  private addToSlot(slot: number, inc: Float64Array, moved: number, share: number): void {
    const i = ((slot % SLOTS) + SLOTS) % SLOTS;
    const data = this.data;
    if (data[i] !== slot) {
      // The position held an older slot: it leaves the window now.
      let bits = this.metrics;
      while (bits !== 0) {
        const m = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        data[VALUES + m * SLOTS + i] = 0;
      }
      data[i] = slot;
    }
    for (let k = 0; k < moved; k++) {
      const m = MOVED[k] as number;
      const at = VALUES + m * SLOTS + i;
      data[at] = (data[at] as number) + (inc[m] as number) * share;
    }
  }
}

/** Scratch for add(): the indexes of the metrics a record moves (its non-zero increments)... */
const MOVED = new Int32Array(METRIC_COUNT);
/** ... and the same as bits (bit m: metric m). */
let movedBits = 0;

/** Lists the non-zero entries of `inc` in MOVED (index order) and movedBits; returns how many. */
function nonZero(inc: Float64Array): number {
  let n = 0;
  let bits = 0;
  for (let m = 0; m < METRIC_COUNT; m++) {
    if ((inc[m] as number) !== 0) {
      MOVED[n++] = m;
      bits |= 1 << m;
    }
  }
  movedBits = bits;
  return n;
}
