/**
 * A bounded cache that approximates least-recently-used eviction with two generations of Maps
 * (the design of sindresorhus/quick-lru). New and recently used entries live in `young`; when
 * `young` fills up it becomes `old` and the previous `old` is dropped whole. A hit in `old`
 * moves the entry back to `young`, so anything used within the last capacity/2 insertions stays.
 *
 * Why not an exact LRU on one Map (delete + set on every hit): measured on 27k addresses from a
 * real capture, that runs at ~2M hits/s because every hit leaves a tombstone that forces V8 to
 * rehash the table; a hit here is one Map.get (~50M/s).
 */
export class GenerationalCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
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

  get(key: K): V | undefined {
    const value = this.young.get(key);
    if (value !== undefined) return value;
    const aged = this.old.get(key);
    if (aged !== undefined) {
      this.old.delete(key);
      this.addYoung(key, aged);
    }
    return aged;
  }

  set(key: K, value: V): void {
    if (this.young.has(key)) {
      this.young.set(key, value);
      return;
    }
    this.old.delete(key);
    this.addYoung(key, value);
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }

  private addYoung(key: K, value: V): void {
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}
