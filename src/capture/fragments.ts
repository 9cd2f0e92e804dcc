/** One datagram being reassembled. */
interface Pending {
  offsets: number[];
  parts: Buffer[];
  /** Bytes held in parts (overlaps counted twice). */
  bytes: number;
  /** Length of the whole datagram once the last fragment (more=0) is seen; -1 before. */
  total: number;
  /** Upper-layer protocol from the offset-0 fragment (IPv6: the fragment header's next header). */
  nextHeader: number;
}

/** The most an IP datagram can be (IPv4 total length, IPv6 payload length). */
const MAX_DATAGRAM = 65535;
/** Fragments per datagram; more is an attack, not an MTU. */
const MAX_PARTS = 64;
/**
 * Bytes held per datagram: overlaps may resend some, but not 64 near-full parts (4 MiB each, 1 GiB
 * over maxPending datagrams); twice the largest datagram leaves room for honest retransmissions.
 */
const MAX_HELD_BYTES = 2 * MAX_DATAGRAM;

/**
 * IP fragment reassembly (RFC 791, RFC 8200 section 4.5) for capture files. At most `maxPending`
 * datagrams are kept: when full, the oldest unfinished one is dropped (counted in `evicted`), so a
 * capture full of stray fragments cannot grow memory without bound. Overlapping fragments are
 * accepted (later bytes win), as most stacks did before RFC 5722; inconsistent ends drop the datagram.
 */
export class FragmentReassembler {
  private readonly pending = new Map<string, Pending>();
  /** Unfinished datagrams dropped to make room for new ones, or left at clear(). */
  evicted = 0;
  /** The previous add() dropped its datagram. */
  lastAddFailed = false;
  /** Next header of the datagram the previous add() completed. */
  lastNextHeader = 0;

  constructor(private readonly maxPending: number) {}

  get size(): number {
    return this.pending.size;
  }

  /** Adds a fragment; returns the whole upper-layer payload when this completes it. */
  add(key: string, offset: number, more: boolean, data: Buffer, nextHeader: number): Buffer | null {
    this.lastAddFailed = false;
    let p = this.pending.get(key);
    if (p === undefined) {
      if (this.pending.size >= this.maxPending) {
        const oldest = this.pending.keys().next().value as string;
        this.pending.delete(oldest);
        this.evicted++;
      }
      p = { offsets: [], parts: [], bytes: 0, total: -1, nextHeader: -1 };
      this.pending.set(key, p);
    }
    const end = offset + data.length;
    // Every fragment but the last carries a multiple of 8 bytes (RFC 791, RFC 8200).
    const misaligned = more && data.length % 8 !== 0;
    const badEnd = !more && p.total >= 0 && p.total !== end;
    if (
      end > MAX_DATAGRAM ||
      misaligned ||
      badEnd ||
      p.parts.length >= MAX_PARTS ||
      p.bytes + data.length > MAX_HELD_BYTES ||
      (p.total >= 0 && end > p.total)
    ) {
      return this.fail(key);
    }
    if (!more) p.total = end;
    if (offset === 0) p.nextHeader = nextHeader;
    // Copied: the frame's bytes belong to the capture reader.
    p.offsets.push(offset);
    p.parts.push(Buffer.from(data));
    p.bytes += data.length;
    if (p.total < 0 || p.nextHeader < 0) return null;
    return this.complete(key, p);
  }

  /** Drops the unfinished datagrams (end of a capture), counted in `evicted`. Returns how many. */
  clear(): number {
    const n = this.pending.size;
    this.pending.clear();
    this.evicted += n;
    return n;
  }

  private fail(key: string): null {
    this.pending.delete(key);
    this.lastAddFailed = true;
    return null;
  }

  private complete(key: string, p: Pending): Buffer | null {
    const order = p.offsets.map((_, i) => i).sort((a, b) => p.offsets[a] - p.offsets[b]);
    let covered = 0;
    for (const i of order) {
      if (p.offsets[i] > covered) return null;
      covered = Math.max(covered, p.offsets[i] + p.parts[i].length);
    }
    if (covered < p.total) return null;
    const whole = Buffer.alloc(p.total);
    for (let i = 0; i < p.parts.length; i++) p.parts[i].copy(whole, p.offsets[i]);
    this.pending.delete(key);
    this.lastNextHeader = p.nextHeader;
    return whole;
  }
}
