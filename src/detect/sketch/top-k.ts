/**
 * Heavy hitters (top talkers towards a victim, top source ports of a reflection) in fixed memory:
 * the Space-Saving algorithm (Metwally, Agrawal, El Abbadi, "Efficient computation of frequent and
 * top-k elements in data streams", 2005) over weighted updates, with k counters.
 *
 * Guarantees, with W the total weight added: every key whose true weight exceeds W / k is in the
 * table; for every key in the table, `weight - error <= true weight <= weight`, and error <= W / k.
 * `packets` and `flows` are lower bounds: they count from the moment the key last entered the table
 * (a key evicted and readmitted loses what it had).
 *
 * Memory: k slots of four Float64Array counters, a key array and a Map key -> slot, plus an indexed
 * binary min-heap over the weights (two Int32Arrays), so both a hit and an eviction cost O(log k)
 * and nothing is allocated per update except the Map entry of an admitted key.
 */

export interface HeavyHitter {
  key: string | number;
  /** Upper bound of the key's weight (e.g. bits); the true weight is at least weight - error. */
  weight: number;
  packets: number;
  flows: number;
  /** Weight inherited from the key this one evicted: the over-estimation bound. */
  error: number;
}

export class TopK {
  readonly capacity: number;
  private readonly slotOf = new Map<string | number, number>();
  private readonly keys: (string | number)[];
  private readonly weights: Float64Array;
  private readonly packets: Float64Array;
  private readonly flows: Float64Array;
  private readonly errors: Float64Array;
  /** heap[i] = slot at heap position i, ordered by weight (minimum at 0); heapPos is its inverse. */
  private readonly heap: Int32Array;
  private readonly heapPos: Int32Array;
  private size = 0;

  constructor(capacity = 32) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`TopK capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.keys = new Array<string | number>(capacity).fill(0);
    this.weights = new Float64Array(capacity);
    this.packets = new Float64Array(capacity);
    this.flows = new Float64Array(capacity);
    this.errors = new Float64Array(capacity);
    this.heap = new Int32Array(capacity);
    this.heapPos = new Int32Array(capacity);
  }

  /** Adds `weight` (>= 0, e.g. bits) and optional packet/flow counts to `key`. */
  add(key: string | number, weight: number, packets = 0, flows = 0): void {
    if (!(weight >= 0)) throw new RangeError(`TopK weight must be >= 0, got ${weight}`);
    const known = this.slotOf.get(key);
    if (known !== undefined) {
      this.weights[known] += weight;
      this.packets[known] += packets;
      this.flows[known] += flows;
      this.siftDown(this.heapPos[known]);
      return;
    }
    if (this.size < this.capacity) {
      const slot = this.size++;
      this.store(slot, key, weight, packets, flows, 0);
      this.heap[slot] = slot;
      this.heapPos[slot] = slot;
      this.siftUp(slot);
      return;
    }
    // Space-Saving: the new key replaces the lightest one and inherits its weight as error.
    const slot = this.heap[0];
    this.slotOf.delete(this.keys[slot]);
    const inherited = this.weights[slot];
    this.store(slot, key, inherited + weight, packets, flows, inherited);
    this.siftDown(0);
  }

  /** The `n` heaviest keys (all tracked keys by default), heaviest first. */
  top(n = this.capacity): HeavyHitter[] {
    const slots: number[] = [];
    for (let s = 0; s < this.size; s++) slots.push(s);
    slots.sort((a, b) => this.weights[b] - this.weights[a]);
    return slots.slice(0, Math.max(0, n)).map((s) => ({
      key: this.keys[s],
      weight: this.weights[s],
      packets: this.packets[s],
      flows: this.flows[s],
      error: this.errors[s],
    }));
  }

  clear(): void {
    this.slotOf.clear();
    this.keys.fill(0);
    this.size = 0;
  }

  private store(
    slot: number,
    key: string | number,
    weight: number,
    packets: number,
    flows: number,
    error: number,
  ): void {
    this.keys[slot] = key;
    this.slotOf.set(key, slot);
    this.weights[slot] = weight;
    this.packets[slot] = packets;
    this.flows[slot] = flows;
    this.errors[slot] = error;
  }

  private siftUp(pos: number): void {
    const { heap, heapPos, weights } = this;
    const slot = heap[pos];
    const w = weights[slot];
    while (pos > 0) {
      const parentPos = (pos - 1) >> 1;
      const parent = heap[parentPos];
      if (weights[parent] <= w) break;
      heap[pos] = parent;
      heapPos[parent] = pos;
      pos = parentPos;
    }
    heap[pos] = slot;
    heapPos[slot] = pos;
  }

  private siftDown(pos: number): void {
    const { heap, heapPos, weights } = this;
    const size = this.size;
    const slot = heap[pos];
    const w = weights[slot];
    for (;;) {
      const left = 2 * pos + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && weights[heap[right]] < weights[heap[left]] ? right : left;
      const childSlot = heap[child];
      if (weights[childSlot] >= w) break;
      heap[pos] = childSlot;
      heapPos[childSlot] = pos;
      pos = child;
    }
    heap[pos] = slot;
    heapPos[slot] = pos;
  }
}
