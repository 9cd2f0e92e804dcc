/**
 * Per-exporter rate limit (flow.ratelimit): a token bucket per source address, refilled at
 * `perSecond` up to `burst`. What is over it is dropped before the decode queue and counted per
 * source, so one noisy or hostile exporter cannot take the decoder from the others.
 *
 * The bucket table is bounded: sources beyond `maxSources` share one bucket (a spoofed flood from
 * many addresses is then limited as a whole, which is what keeps the decoder free for the others),
 * and buckets idle for a while are forgotten at the next sweep.
 */
import { OTHER_EXPORTERS } from '../stats/exporter-stats.js';
import { countPerSource } from '../stats/source-counts.js';

export interface RateLimitOptions {
  /** Datagrams (or TCP messages) per second per source; 0 turns the limit off. */
  perSecond: number;
  /** Bucket size; null: one second's worth. */
  burst: number | null;
  /** Buckets kept; further sources share the OTHER_EXPORTERS bucket. */
  maxSources?: number;
}

export const DEFAULT_RATE_LIMIT_SOURCES = 10_000;
/** Distinct limited sources reported between two reads; beyond it they are summed as "other". */
const MAX_REPORTED_SOURCES = 4096;
/** A bucket full and untouched this long is the same as no bucket: dropped at the next sweep. */
const SWEEP_MS = 10_000;

interface Bucket {
  tokens: number;
  atMs: number;
}

export class ExporterRateLimit {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxSources: number;
  private readonly buckets = new Map<string, Bucket>();
  private limited = new Map<string, number>();
  private sweptAtMs = 0;

  constructor(opts: RateLimitOptions) {
    this.perMs = opts.perSecond / 1000;
    this.burst = opts.burst ?? opts.perSecond;
    this.maxSources = opts.maxSources ?? DEFAULT_RATE_LIMIT_SOURCES;
  }

  /** null when the options turn the limit off, so callers pay nothing per datagram. */
  static create(opts: RateLimitOptions): ExporterRateLimit | null {
    return opts.perSecond > 0 ? new ExporterRateLimit(opts) : null;
  }

  /**
   * Takes one token for `address`; false when its bucket is empty, then counted as limited unless
   * `count` is false (a TCP reader that waits for the token instead of dropping).
   */
  allows(address: string, nowMs: number, count = true): boolean {
    let b = this.buckets.get(address);
    if (b === undefined) {
      if (nowMs - this.sweptAtMs >= SWEEP_MS) this.sweep(nowMs);
      const key = this.buckets.size < this.maxSources ? address : OTHER_EXPORTERS;
      b = this.buckets.get(key);
      if (b === undefined) {
        b = { tokens: this.burst, atMs: nowMs };
        this.buckets.set(key, b);
      }
    }
    // A clock step backwards refills nothing rather than draining the bucket.
    const elapsed = nowMs - b.atMs;
    if (elapsed > 0) {
      b.tokens = Math.min(this.burst, b.tokens + elapsed * this.perMs);
      b.atMs = nowMs;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return true;
    }
    if (!count) return false;
    countPerSource(this.limited, address, 1, MAX_REPORTED_SOURCES);
    return false;
  }

  /** Milliseconds until the next token for a source whose bucket is empty. */
  get msPerToken(): number {
    return 1 / this.perMs;
  }

  /** Sources limited since the last call, with how many datagrams each lost. */
  takeLimited(): Map<string, number> {
    const l = this.limited;
    this.limited = new Map();
    return l;
  }

  /** Buckets held now (bounded by maxSources + 1). */
  get sources(): number {
    return this.buckets.size;
  }

  private sweep(nowMs: number): void {
    this.sweptAtMs = nowMs;
    const fullAfterMs = this.perMs > 0 ? this.burst / this.perMs : 0;
    for (const [key, b] of this.buckets)
      if (nowMs - b.atMs >= Math.max(SWEEP_MS, fullAfterMs)) this.buckets.delete(key);
  }
}
