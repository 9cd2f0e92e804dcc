/**
 * Sequence gap accounting for one stream (exporter + v5 engine / v9 source id / IPFIX domain /
 * sFlow sub-agent), in the protocol's own unit: the next expected number is last + units.
 * Arithmetic is modulo 2^32 (every protocol's counter is a u32 that wraps).
 *
 * - seq > expected: the units in between are counted missing and remembered as a hole;
 * - seq < expected within the reorder window: a late datagram. If it falls in a remembered hole
 *   it is counted reordered and the missing count goes down by what it fills; otherwise it is a
 *   duplicate (or too late to match a hole we still remember);
 * - seq far behind expected (beyond the window), or absurdly far ahead: the exporter restarted or
 *   reset its counter; counted as a reset, never as a gap, and accounting restarts from there.
 *   The reset is only believed when the next datagram continues from the new number: a single
 *   very late datagram must not restart accounting (and turn every later datagram into a gap).
 * - units -1 (DecodeSink.sequence): the datagram's own count is unknown (an IPFIX message with a
 *   set that could not be decoded). Its sequence number is still checked, but the next datagram at
 *   or after it is where counting goes on: no gap is counted between the two.
 * - units 0 (an IPFIX message of templates only, a v5 datagram with no records): the next
 *   datagram carries the same number; it is neither a gap nor a duplicate.
 */

/** Remembered holes per stream; older ones stay counted as missing. */
const MAX_HOLES = 32;
/** Reorder window in datagrams' worth of units (× the largest units per datagram seen). */
const WINDOW_DATAGRAMS = 64;
/**
 * A forward jump beyond a quarter of the u32 space is taken as a restart with a fresh random
 * initial sequence number (RFC 7011 does not require starting at 0), not as loss.
 */
const MAX_FORWARD_GAP = 2 ** 30;

export class SequenceStream {
  private expected = 0;
  private started = false;
  private maxUnits = 1;
  /** Hole starts (u32) and lengths, oldest first. */
  private readonly holeStart: number[] = [];
  private readonly holeLength: number[] = [];

  /** Units believed lost. */
  missing = 0;
  /** Late datagrams that filled (part of) a hole. */
  reordered = 0;
  /** Late datagrams that matched no remembered hole. */
  duplicates = 0;
  /** Counter resets / exporter restarts. */
  resets = 0;
  /** A datagram that looked like a reset, waiting for the next one to confirm it. */
  private pending = false;
  private pendingSeq = 0;
  private pendingUnits = 0;
  private pendingUnknown = false;
  /** The last accepted datagram had an unknown count: `expected` is only its own number. */
  private resync = false;

  /** `units` -1: unknown count (see the module comment). */
  observe(seq: number, units: number): void {
    seq >>>= 0;
    const unknown = units < 0;
    if (unknown) units = 0;
    else if (units > this.maxUnits) this.maxUnits = units;
    if (!this.started) {
      this.started = true;
      this.expected = (seq + units) >>> 0;
      this.resync = unknown;
      return;
    }
    if (this.pending) {
      this.pending = false;
      const from = (this.pendingSeq + this.pendingUnits) >>> 0;
      const fromReset = (seq - from) | 0;
      if (fromReset >= 0 && fromReset <= WINDOW_DATAGRAMS * this.maxUnits) {
        this.resets++;
        this.holeStart.length = 0;
        this.holeLength.length = 0;
        this.expected = from;
        this.resync = this.pendingUnknown;
      } else {
        this.late(this.pendingSeq, this.pendingUnits, this.pendingUnknown);
      }
    }
    const delta = (seq - this.expected) | 0;
    if (delta === 0 || (this.resync && delta > 0 && delta <= MAX_FORWARD_GAP)) {
      this.expected = (seq + units) >>> 0;
      this.resync = unknown;
      return;
    }
    if (delta > 0 && delta <= MAX_FORWARD_GAP) {
      this.missing += delta;
      this.addHole(this.expected, delta);
      this.expected = (seq + units) >>> 0;
      this.resync = unknown;
      return;
    }
    if (delta < 0 && -delta <= WINDOW_DATAGRAMS * this.maxUnits) {
      this.late(seq, units, unknown);
      return;
    }
    this.pending = true;
    this.pendingSeq = seq;
    this.pendingUnits = units;
    this.pendingUnknown = unknown;
  }

  private late(seq: number, units: number, unknown: boolean): void {
    // A datagram without units fills nothing and repeats nothing. One with an unknown count holds
    // at least its first unit (the undecodable set it carried).
    if (units === 0 && !unknown) return;
    const filled = this.fill(seq, unknown ? 1 : units);
    if (filled > 0) {
      this.missing -= filled;
      this.reordered++;
    } else {
      this.duplicates++;
    }
  }

  private addHole(start: number, length: number): void {
    if (this.holeStart.length === MAX_HOLES) {
      this.holeStart.shift();
      this.holeLength.shift();
    }
    this.holeStart.push(start);
    this.holeLength.push(length);
  }

  /** Removes [seq, seq+units) from the holes; returns how many missing units it covered. */
  private fill(seq: number, units: number): number {
    // Positions relative to `expected` (negative = in the past) make wrap-around disappear.
    const lateFrom = (seq - this.expected) | 0;
    const lateTo = lateFrom + units;
    let filled = 0;
    for (let i = 0; i < this.holeStart.length; i++) {
      const from = (this.holeStart[i] - this.expected) | 0;
      const to = from + this.holeLength[i];
      const a = Math.max(from, lateFrom);
      const b = Math.min(to, lateTo);
      if (b <= a) continue;
      filled += b - a;
      const before = a - from;
      const after = to - b;
      if (before > 0 && after > 0) {
        this.holeLength[i] = before;
        if (this.holeStart.length < MAX_HOLES) {
          this.holeStart.splice(i + 1, 0, (this.expected + b) >>> 0);
          this.holeLength.splice(i + 1, 0, after);
          i++;
        }
        // else: the right part is forgotten and stays counted missing (bounded memory).
      } else if (before > 0) {
        this.holeLength[i] = before;
      } else if (after > 0) {
        this.holeStart[i] = (this.expected + b) >>> 0;
        this.holeLength[i] = after;
      } else {
        this.holeStart.splice(i, 1);
        this.holeLength.splice(i, 1);
        i--;
      }
    }
    return filled;
  }
}
