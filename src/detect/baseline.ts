/**
 * A learnt baseline of one value (a host's outbound bits/s, its rejected flows/s): an exponentially
 * weighted moving mean and variance per time-of-day slot (UTC; `slots` per day), plus one for the
 * whole day that stands in while a slot is still warming up. Fed one sample per window of flow
 * time, so a replayed capture learns like live traffic.
 *
 * Why per time of day: a backup at 02:00 or office hours are normal at their hour and anomalous at
 * another; a single mean would either alarm every night or miss daytime anomalies.
 */
import type { BaselineConfig } from './detection-config.js';

const DAY_MS = 86_400_000;

export interface Expected {
  mean: number;
  deviation: number;
  /** Samples the answer rests on. */
  samples: number;
}

export class Baseline {
  /** Per slot (the last one: all day): mean, variance, samples. */
  private readonly state: Float64Array;

  constructor(private readonly config: BaselineConfig) {
    this.state = new Float64Array((config.slots + 1) * 3);
  }

  observe(value: number, flowTimeMs: number): void {
    this.update(this.slotOf(flowTimeMs), value);
    this.update(this.config.slots, value);
  }

  /** What is normal at `flowTimeMs`; null until even the all-day baseline is warm. */
  expected(flowTimeMs: number): Expected | null {
    const slot = this.slotOf(flowTimeMs);
    const s = this.state;
    const warmup = this.config.warmup;
    const use = (s[slot * 3 + 2] as number) >= warmup ? slot : this.config.slots;
    const samples = s[use * 3 + 2] as number;
    if (samples < warmup) return null;
    return { mean: s[use * 3] as number, deviation: Math.sqrt(s[use * 3 + 1] as number), samples };
  }

  private slotOf(flowTimeMs: number): number {
    const slots = this.config.slots;
    const ofDay = ((flowTimeMs % DAY_MS) + DAY_MS) % DAY_MS;
    return Math.min(slots - 1, Math.floor((ofDay / DAY_MS) * slots));
  }

  private update(slot: number, value: number): void {
    const s = this.state;
    const i = slot * 3;
    const n = s[i + 2] as number;
    if (n === 0) {
      s[i] = value;
      s[i + 1] = 0;
    } else {
      // West's EWMA variance: the deviation follows the same forgetting as the mean.
      const a = n < 1 / this.config.alpha ? 1 / (n + 1) : this.config.alpha;
      const diff = value - (s[i] as number);
      const incr = a * diff;
      s[i] = (s[i] as number) + incr;
      s[i + 1] = (1 - a) * ((s[i + 1] as number) + diff * incr);
    }
    s[i + 2] = n + 1;
  }
}
