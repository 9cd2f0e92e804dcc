/**
 * A bounded cache from unsigned 32-bit keys (IPv4 addresses as the decoders hand them over,
 * FlowRecord.srcip4) to small unsigned integers (the caller's index into a table of answers),
 * with the eviction of GenerationalCache: two generations; a hit in the old one copies the entry
 * to the young one; a full young generation becomes the old one and the previous old one is
 * dropped whole.
 *
 * Why not a Map<number, object>: measured in bench/enrich-pipeline.ts (~34,000 addresses, AS and
 * City databases), the Map lookups were the largest enrichment cost. Each is several dependent
 * memory reads (the hash of a heap number for addresses ≥ 2^31, the bucket, the entry, then the
 * object), and between two records the decoder's allocations push all of them out of the CPU
 * cache. Here a generation is open addressing with linear probing over one typed array, key and
 * value side by side: the usual lookup is one cache line. The table grows (doubles) at 70 %
 * full instead of being sized for the bound up front, so it stays as small as the working set.
 */
const MIN_SLOTS = 1024;

class Generation {
  /** Slot h: table[2h] the key, table[2h + 1] its value + 1 (0: empty slot). */
  private table = new Uint32Array(2 * MIN_SLOTS);
  private shift = 32 - Math.log2(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  size = 0;

  /** The value for `key`, or -1. */
  get(key: number): number {
    const table = this.table;
    // Fibonacci hashing: consecutive addresses (a /24 of hosts) spread over the table.
    let h = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const stored = table[2 * h + 1] as number;
      if (stored === 0) return -1;
      if (table[2 * h] === key) return stored - 1;
      h = (h + 1) & this.mask;
    }
  }

  /** Adds a key known to be absent. */
  add(key: number, value: number): void {
    this.size++;
    if (this.size > (this.mask + 1) * 0.7) this.grow();
    this.place(key, value + 1);
  }

  clear(): void {
    this.size = 0;
    if (this.table.length > 2 * MIN_SLOTS) this.resize(MIN_SLOTS);
    else this.table.fill(0);
  }

  private place(key: number, stored: number): void {
    const table = this.table;
    let h = Math.imul(key, 0x9e3779b1) >>> this.shift;
    while (table[2 * h + 1] !== 0) h = (h + 1) & this.mask;
    table[2 * h] = key;
    table[2 * h + 1] = stored;
  }

  private grow(): void {
    const old = this.table;
    this.resize(2 * (this.mask + 1));
    for (let h = 0; h < old.length; h += 2) {
      const stored = old[h + 1] as number;
      if (stored !== 0) this.place(old[h] as number, stored);
    }
  }

  private resize(slots: number): void {
    this.table = new Uint32Array(2 * slots);
    this.shift = 32 - Math.log2(slots);
    this.mask = slots - 1;
  }
}

export class U32Cache {
  private young = new Generation();
  private old = new Generation();
  /** Entries held at most. */
  readonly capacity: number;
  private readonly generationSize: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new RangeError(`cache capacity must be an integer of at least 2, got ${capacity}`);
    }
    this.capacity = capacity;
    this.generationSize = Math.floor(capacity / 2);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  /** The value for `key` (an integer 0..2^32-1), or -1. */
  get(key: number): number {
    const value = this.young.get(key);
    if (value >= 0) return value;
    const aged = this.old.get(key);
    // Copied, not moved: open addressing has no cheap delete, and the stale copy only costs a
    // slot until its generation is dropped.
    if (aged >= 0) this.addYoung(key, aged);
    return aged;
  }

  /** Adds a key that get() just missed; `value` is an integer 0..2^32-2. */
  set(key: number, value: number): void {
    this.addYoung(key, value);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  private addYoung(key: number, value: number): void {
    if (this.young.size >= this.generationSize) {
      const dropped = this.old;
      dropped.clear();
      this.old = this.young;
      this.young = dropped;
    }
    this.young.add(key, value);
  }
}
