import type { Datagram } from '../decode/datagram.js';

/**
 * A single-producer, single-consumer ring of datagrams in shared memory, between a receiving
 * thread (the producer) and the thread that decodes (the consumer). The producer never waits:
 * when the ring is out of bytes or slots, the datagram is dropped whole, before decode, and
 * counted (load shedding). Memory is the fixed SharedArrayBuffer, whatever the load.
 *
 * Entries are contiguous and 8-byte aligned; an entry that would not fit before the end of the
 * buffer starts at offset 0, and the bytes skipped are accounted as used until the consumer
 * passes them. `used` (bytes) and `count` (entries) are the only words both sides write, always
 * through Atomics, and an entry is published by adding to them after its bytes are written.
 */

/** Control words (Int32 indexes). */
const USED = 0;
const COUNT = 1;
const WRITE_POS = 2;
const READ_POS = 3;
/** Datagrams written / refused (full) / refused (address too long), by the producer. */
const WRITTEN = 4;
const DROPS = 5;
const HIGH_WATER = 6;
/** The consumer sleeps on SIGNAL while WAITING is 1; the producer bumps and notifies. */
const SIGNAL = 7;
const WAITING = 8;
const CAPACITY = 9;
const MAX_COUNT = 10;
const CONTROL_WORDS = 16;

/** Entry header: size u32, payload length u32, receivedAtMs f64, ports u16×2, address length u8. */
const HEADER = 72;
const ADDRESS_OFFSET = 21;
const MAX_ADDRESS = HEADER - ADDRESS_OFFSET;
/** Marks "the rest of the buffer is skipped, continue at 0". */
const WRAP = 0xffffffff;

/** ES2024's Atomics.waitAsync (in Node 16+); the project's lib is ES2023. */
type WaitAsync = (
  a: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

function align8(n: number): number {
  return (n + 7) & ~7;
}

export interface RingCounters {
  /** Datagrams handed over. */
  written: number;
  /** Datagrams refused because the ring was full (bytes or slots). */
  drops: number;
  /** Datagrams waiting now. */
  depth: number;
  highWater: number;
  capacityBytes: number;
  maxDatagrams: number;
}

/** Allocates the shared memory for a ring of `bytes` (rounded up to 8) and at most `maxDatagrams`. */
export function createRingBuffer(bytes: number, maxDatagrams: number): SharedArrayBuffer {
  const capacity = align8(Math.max(bytes, 2 * (HEADER + 65_536)));
  const sab = new SharedArrayBuffer(CONTROL_WORDS * 4 + capacity);
  const ctrl = new Int32Array(sab, 0, CONTROL_WORDS);
  ctrl[CAPACITY] = capacity;
  ctrl[MAX_COUNT] = maxDatagrams;
  return sab;
}

class RingView {
  protected readonly ctrl: Int32Array;
  protected readonly data: Buffer;
  protected readonly view: DataView;
  protected readonly capacity: number;
  protected readonly maxCount: number;

  constructor(sab: SharedArrayBuffer) {
    this.ctrl = new Int32Array(sab, 0, CONTROL_WORDS);
    this.capacity = this.ctrl[CAPACITY] as number;
    this.maxCount = this.ctrl[MAX_COUNT] as number;
    this.data = Buffer.from(sab, CONTROL_WORDS * 4, this.capacity);
    this.view = new DataView(sab, CONTROL_WORDS * 4, this.capacity);
  }

  counters(): RingCounters {
    return {
      written: Atomics.load(this.ctrl, WRITTEN) >>> 0,
      drops: Atomics.load(this.ctrl, DROPS) >>> 0,
      depth: Atomics.load(this.ctrl, COUNT),
      highWater: Atomics.load(this.ctrl, HIGH_WATER),
      capacityBytes: this.capacity,
      maxDatagrams: this.maxCount,
    };
  }
}

/** The receiving thread's side. */
export class RingWriter extends RingView {
  /**
   * Copies the datagram in; false (and counted) when the ring is full. Addresses longer than an
   * IPv6 text with a zone index fit are refused too (they cannot come from a real socket).
   */
  write(
    payload: Buffer,
    srcAddress: string,
    srcPort: number,
    dstPort: number,
    receivedAtMs: number,
  ): boolean {
    const ctrl = this.ctrl;
    const size = align8(HEADER + payload.length);
    const count = Atomics.load(ctrl, COUNT);
    if (count >= this.maxCount || srcAddress.length > MAX_ADDRESS || size > this.capacity / 2) {
      Atomics.add(ctrl, DROPS, 1);
      return false;
    }
    const used = Atomics.load(ctrl, USED);
    let pos = ctrl[WRITE_POS] as number;
    const tail = this.capacity - pos;
    const skip = size > tail ? tail : 0;
    if (used + skip + size > this.capacity) {
      Atomics.add(ctrl, DROPS, 1);
      return false;
    }
    if (skip > 0) {
      this.view.setUint32(pos, WRAP, true);
      pos = 0;
    }
    const v = this.view;
    v.setUint32(pos, size, true);
    v.setUint32(pos + 4, payload.length, true);
    v.setFloat64(pos + 8, receivedAtMs, true);
    v.setUint16(pos + 16, srcPort, true);
    v.setUint16(pos + 18, dstPort, true);
    v.setUint8(pos + 20, srcAddress.length);
    this.data.write(srcAddress, pos + ADDRESS_OFFSET, 'latin1');
    payload.copy(this.data, pos + HEADER);
    let next = pos + size;
    if (next === this.capacity) next = 0;
    ctrl[WRITE_POS] = next;
    // Publish: the bytes above are visible before the consumer can see the new used/count.
    Atomics.add(ctrl, USED, skip + size);
    const depth = Atomics.add(ctrl, COUNT, 1) + 1;
    Atomics.add(ctrl, WRITTEN, 1);
    if (depth > (ctrl[HIGH_WATER] as number)) ctrl[HIGH_WATER] = depth;
    if (Atomics.load(ctrl, WAITING) === 1) {
      Atomics.store(ctrl, WAITING, 0);
      Atomics.add(ctrl, SIGNAL, 1);
      Atomics.notify(ctrl, SIGNAL);
    }
    return true;
  }
}

/** The decoding thread's side. */
export class RingReader extends RingView {
  get length(): number {
    return Atomics.load(this.ctrl, COUNT);
  }

  /** Bytes the datagram handed out by peek() holds in the ring (0: none held). */
  private held = 0;
  private heldNext = 0;

  /**
   * The oldest datagram, its payload a view into the ring (no copy): valid only until release(),
   * which must come before the next peek(). Undefined when the ring is empty.
   */
  peek(): Datagram | undefined {
    const ctrl = this.ctrl;
    if (this.held !== 0) throw new Error('RingReader.peek() before release() of the previous datagram');
    if (Atomics.load(ctrl, COUNT) === 0) return undefined;
    let pos = ctrl[READ_POS] as number;
    const v = this.view;
    let skipped = 0;
    if (v.getUint32(pos, true) === WRAP) {
      skipped = this.capacity - pos;
      pos = 0;
    }
    const size = v.getUint32(pos, true);
    const length = v.getUint32(pos + 4, true);
    const addressLength = v.getUint8(pos + 20);
    const d: Datagram = {
      payload: this.data.subarray(pos + HEADER, pos + HEADER + length),
      srcAddress: this.data.toString('latin1', pos + ADDRESS_OFFSET, pos + ADDRESS_OFFSET + addressLength),
      srcPort: v.getUint16(pos + 16, true),
      dstPort: v.getUint16(pos + 18, true),
      receivedAtMs: v.getFloat64(pos + 8, true),
      connectionId: null,
    };
    this.held = skipped + size;
    this.heldNext = pos + size === this.capacity ? 0 : pos + size;
    return d;
  }

  /** Frees the slot of the datagram peek() handed out (its payload view must not be used after). */
  release(): void {
    if (this.held === 0) return;
    const ctrl = this.ctrl;
    ctrl[READ_POS] = this.heldNext;
    Atomics.sub(ctrl, COUNT, 1);
    Atomics.sub(ctrl, USED, this.held);
    this.held = 0;
  }

  /** The oldest datagram with its payload copied out (the slot is free at once), or undefined. */
  read(): Datagram | undefined {
    const d = this.peek();
    if (d === undefined) return undefined;
    const copy = { ...d, payload: Buffer.from(d.payload) };
    this.release();
    return copy;
  }

  /**
   * Resolves when the ring may hold a datagram: at once if it does, else when the producer next
   * writes (or `wake()` is called). Never keeps the process alive by itself.
   */
  whenReadable(): Promise<void> {
    const ctrl = this.ctrl;
    const seen = Atomics.load(ctrl, SIGNAL);
    Atomics.store(ctrl, WAITING, 1);
    if (Atomics.load(ctrl, COUNT) > 0) {
      Atomics.store(ctrl, WAITING, 0);
      return Promise.resolve();
    }
    const r = waitAsync(ctrl, SIGNAL, seen);
    return r.async ? r.value.then(() => undefined) : Promise.resolve();
  }

  /** Wakes a pending whenReadable() (shutdown). */
  wake(): void {
    Atomics.add(this.ctrl, SIGNAL, 1);
    Atomics.notify(this.ctrl, SIGNAL);
  }
}
