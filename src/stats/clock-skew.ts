/**
 * Exporter clock skew: how far an exporter's wall clock (the export time in NetFlow v5/v9 and
 * IPFIX headers) is from the collector's, from the datagrams it sends.
 *
 * One sample is `arrival − export time`: the clock offset plus the time the datagram spent on the
 * way (exporter buffers, network, the collector's socket buffer). That transit time is never
 * negative, so a delayed datagram can only push a sample up, never down. The estimate is
 * therefore the smallest of the last CLOCK_SKEW_SAMPLES samples (the least delayed datagram, the
 * filter NTP applies to its own samples) rather than a median: up to CLOCK_SKEW_SAMPLES − 1
 * delayed datagrams in a row are ignored, while a clock 2 minutes off shows in every sample and
 * so in their minimum. A clock that is corrected shows at once when it was behind (new samples
 * are lower) and after CLOCK_SKEW_SAMPLES datagrams when it was ahead.
 */

/** Datagrams per exporter whose samples are kept: a ring of numbers, no allocation per datagram. */
export const CLOCK_SKEW_SAMPLES = 15;

/**
 * NetFlow v9 and IPFIX export times are whole seconds (the fraction is cut off), and v5 exporters
 * may leave unix_nsecs at 0: a correct clock then reads up to 1 s behind. Allowed on top of the
 * threshold on that side only.
 */
export const EXPORT_TIME_RESOLUTION_SEC = 1;

/** general.maxclockskew when not configured (seconds). */
export const DEFAULT_MAX_CLOCK_SKEW_SEC = 10;

export class ClockSkewEstimate {
  private readonly samplesMs = new Float64Array(CLOCK_SKEW_SAMPLES);
  private count = 0;
  private next = 0;

  /** One datagram: when it arrived (collector clock) and the export time in its header. */
  add(arrivalMs: number, exportTimeMs: number): void {
    this.samplesMs[this.next] = arrivalMs - exportTimeMs;
    this.next = (this.next + 1) % CLOCK_SKEW_SAMPLES;
    if (this.count < CLOCK_SKEW_SAMPLES) this.count++;
  }

  /** Seconds the exporter's clock is behind the collector's (negative: ahead); null before any sample. */
  skewSec(): number | null {
    if (this.count === 0) return null;
    let min = this.samplesMs[0];
    for (let i = 1; i < this.count; i++) if (this.samplesMs[i] < min) min = this.samplesMs[i];
    return min / 1000;
  }
}

/** Whether a skew (seconds, positive = exporter behind) is beyond general.maxclockskew. */
export function isClockSkewed(skewSec: number, maxSkewSec: number): boolean {
  return skewSec > maxSkewSec + EXPORT_TIME_RESOLUTION_SEC || skewSec < -maxSkewSec;
}
