/**
 * Exact distinct count of u32 values up to a cap, for detectors that only compare a count with a
 * threshold: "distinct destination ports of this scanner reached 100". Below the cap the count is
 * exact (no estimation error, unlike HyperLogLog); once `cap` values are stored the set stops
 * growing, so memory is fixed at construction: an open-addressing Uint32Array of the smallest power
 * of two >= 2 * cap slots (load factor <= 0.5 keeps linear probes short), 4 bytes per slot.
 * Nothing is allocated per add().
 */

/** Multiplicative (Fibonacci) hashing: spreads sequential ports and addresses evenly. */
const GOLDEN_RATIO_U32 = 0x9e3779b1;
const MAX_CAP = 1 << 24;

export class CappedDistinct {
  readonly cap: number;
  /** 0 marks an empty slot; the value 0 itself is tracked by `hasZero`. */
  private readonly slots: Uint32Array;
  private readonly mask: number;
  private readonly shift: number;
  private hasZero = false;
  private stored = 0;
  private overflowed = false;

  constructor(cap: number) {
    if (!Number.isInteger(cap) || cap < 1 || cap > MAX_CAP) {
      throw new RangeError(`CappedDistinct cap must be an integer 1..${MAX_CAP}, got ${cap}`);
    }
    this.cap = cap;
    let size = 8;
    while (size < 2 * cap) size *= 2;
    this.slots = new Uint32Array(size);
    this.mask = size - 1;
    this.shift = 32 - Math.log2(size);
  }

  /** Distinct values seen, exact while below `cap`, then stays at `cap`. */
  get count(): number {
    return this.stored;
  }

  /** True once a distinct value beyond `cap` was seen and dropped: the true count exceeds `cap`. */
  get saturated(): boolean {
    return this.overflowed;
  }

  /** Bytes of set state (the slot table). */
  get byteSize(): number {
    return this.slots.byteLength;
  }

  /**
   * Adds a u32 value. Returns true when it was new and stored; false when it was already there, or
   * when the set is full (then a new value only marks the set `saturated`).
   */
  add(value: number): boolean {
    const v = value >>> 0;
    if (v === 0) {
      if (this.hasZero) return false;
      if (this.stored === this.cap) {
        this.overflowed = true;
        return false;
      }
      this.hasZero = true;
      this.stored++;
      return true;
    }
    const slots = this.slots;
    let i = Math.imul(v, GOLDEN_RATIO_U32) >>> this.shift;
    for (;;) {
      const current = slots[i];
      if (current === v) return false;
      if (current === 0) break;
      i = (i + 1) & this.mask;
    }
    if (this.stored === this.cap) {
      this.overflowed = true;
      return false;
    }
    slots[i] = v;
    this.stored++;
    return true;
  }

  clear(): void {
    this.slots.fill(0);
    this.hasZero = false;
    this.stored = 0;
    this.overflowed = false;
  }

  /** The stored values, in no particular order. */
  *values(): IterableIterator<number> {
    if (this.hasZero) yield 0;
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) yield slots[i];
  }
}
