import type { Datagram } from '../decode/datagram.js';

/**
 * Bounded ring of datagrams between receive and decode. Receiving never waits: when decode falls
 * behind and the ring is full, the new datagram is dropped whole (before decode, so no half
 * exported record set) and counted. Memory is bounded by capacity × the largest datagram.
 */
export class DatagramQueue {
  private readonly ring: (Datagram | undefined)[];
  private head = 0;
  private size = 0;
  /** Datagrams refused because the ring was full. */
  drops = 0;
  /** Most datagrams waiting at once since start. */
  highWater = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`queue capacity must be >= 1, got ${capacity}`);
    this.ring = new Array(capacity).fill(undefined);
  }

  get length(): number {
    return this.size;
  }

  /** False (and counted) when full. */
  push(d: Datagram): boolean {
    if (this.size === this.capacity) {
      this.drops++;
      return false;
    }
    let tail = this.head + this.size;
    if (tail >= this.capacity) tail -= this.capacity;
    this.ring[tail] = d;
    this.size++;
    if (this.size > this.highWater) this.highWater = this.size;
    return true;
  }

  shift(): Datagram | undefined {
    if (this.size === 0) return undefined;
    const d = this.ring[this.head];
    this.ring[this.head] = undefined; // let the payload be collected
    this.head++;
    if (this.head === this.capacity) this.head = 0;
    this.size--;
    return d;
  }
}
