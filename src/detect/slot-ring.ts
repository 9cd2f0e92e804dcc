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
 */
import { METRIC_COUNT } from './traffic-metrics.js';

/** Slots per window: resolution of the sliding window (30 s window → 2 s slots). */
export const SLOTS = 15;

export class SlotRing {
  /** SLOTS × METRIC_COUNT values, slot-major. */
  readonly values = new Float64Array(SLOTS * METRIC_COUNT);
  /** Which slot number (flow time / slot length) each ring position currently holds; -1 empty. */
  private readonly slotIds = new Float64Array(SLOTS).fill(-1);
  /** The newest slot with data: where this host's window ends. */
  newest = Number.NEGATIVE_INFINITY;

  /** Adds `inc` (METRIC_COUNT values) spread over [startMs, endMs]. */
  add(inc: Float64Array, startMs: number, endMs: number, slotMs: number): void {
    const endSlot = Math.floor(endMs / slotMs);
    if (endSlot > this.newest) this.newest = endSlot;
    const oldest = this.newest - SLOTS + 1;
    if (endSlot < oldest) return;
    const duration = endMs - startMs;
    const firstSlot = Math.floor(startMs / slotMs);
    if (duration <= 0 || firstSlot >= endSlot) {
      this.addToSlot(endSlot, inc, 1);
      return;
    }
    // The share of each slot is its overlap with [start, end].
    for (let s = Math.max(firstSlot, oldest); s <= endSlot; s++) {
      const from = Math.max(startMs, s * slotMs);
      const to = Math.min(endMs, (s + 1) * slotMs);
      if (to > from) this.addToSlot(s, inc, (to - from) / duration);
    }
  }

  /** Sum of metric `m` over the window ending at `nowSlot`. */
  sum(m: number, nowSlot: number): number {
    const oldest = nowSlot - SLOTS + 1;
    let total = 0;
    for (let i = 0; i < SLOTS; i++) {
      const id = this.slotIds[i] as number;
      if (id >= oldest && id <= nowSlot) total += this.values[i * METRIC_COUNT + m] as number;
    }
    return total;
  }

  /** Sums of every metric over the window into `into`. */
  sums(nowSlot: number, into: Float64Array): void {
    into.fill(0);
    const oldest = nowSlot - SLOTS + 1;
    for (let i = 0; i < SLOTS; i++) {
      const id = this.slotIds[i] as number;
      if (id < oldest || id > nowSlot) continue;
      const base = i * METRIC_COUNT;
      for (let m = 0; m < METRIC_COUNT; m++)
        into[m] = (into[m] as number) + (this.values[base + m] as number);
    }
  }

  private addToSlot(slot: number, inc: Float64Array, share: number): void {
    const i = ((slot % SLOTS) + SLOTS) % SLOTS;
    const base = i * METRIC_COUNT;
    if (this.slotIds[i] !== slot) {
      // The position held an older slot: it leaves the window now.
      this.values.fill(0, base, base + METRIC_COUNT);
      this.slotIds[i] = slot;
    }
    for (let m = 0; m < METRIC_COUNT; m++) {
      const v = inc[m] as number;
      if (v !== 0) this.values[base + m] = (this.values[base + m] as number) + v * share;
    }
  }
}
