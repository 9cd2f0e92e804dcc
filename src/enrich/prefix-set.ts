/**
 * A compiled set of IPv4/IPv6 networks with membership for address *text* as records carry it.
 *
 * Layout: per family, sorted non-overlapping inclusive ranges (IPv4 as u32 starts/ends, IPv6 as
 * four u32 words per bound), looked up by binary search. Measured against one hash set per prefix
 * length (bench/enrich-rules.ts prints both; 2026-11-23, loaded 2-core machine): ~57M vs ~25M IPv4
 * lookups/s for the 6 default IPv4 networks, ~30M vs ~5M for 2,000 networks of 13 lengths; the hash
 * sets pay one Set lookup per distinct prefix length, binary search ~log2(ranges) comparisons.
 *
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`, any spelling) is looked up as the IPv4 address it carries,
 * and a configured network inside ::ffff:0:0/96 is stored as the IPv4 network: a mapped address in a
 * record (dual-stack sockets, some exporters) is an IPv4 host, and classifying it as the IPv6
 * "IPv4-mapped" block would make every such host look alike.
 */
import { parseIPv4, parseIPv6 } from '../query/filter-address.js';
import { recentIpv6Words } from '../record/address.js';
import { EnrichOptionError, shown } from './option-error.js';

/** An address parsed once and reused for every set it is looked up in (no allocation per parse). */
export class ParsedAddress {
  /** 0 when the last parse failed (or the text was null). */
  family: 0 | 4 | 6 = 0;
  /** The u32 of an IPv4 (or IPv4-mapped) address. */
  v4 = 0;
  /** The 128 bits of an IPv6 address, most significant word first. */
  readonly words = new Uint32Array(4);
  private readonly bytes = new Uint8Array(16);

  /** An IPv4 address the decoder already read as a number (FlowRecord.srcip4 and friends). */
  setIpv4(v4: number): void {
    this.v4 = v4;
    this.family = 4;
  }

  /**
   * `text` as an address. IPv6 text the decoder has just formatted (record/address.ts remembers
   * its last few) is taken as the numbers it was formatted from, without reading the text; any
   * other text is parsed (parseText).
   */
  parse(text: string | null): boolean {
    if (text !== null && recentIpv6Words(text, this.words)) {
      this.fromWords();
      return true;
    }
    return this.parseText(text);
  }

  /** `text` parsed character by character, never taken from what was formatted recently. */
  parseText(text: string | null): boolean {
    this.family = 0;
    if (text === null) return false;
    // parseIPv4 gives up on the first ':' or hex letter, so trying it first costs IPv6 little.
    const v4 = parseIPv4(text);
    if (v4 >= 0) {
      this.v4 = v4;
      this.family = 4;
      return true;
    }
    const b = this.bytes;
    if (!parseIPv6(text, b)) return false;
    if (
      b[0] === 0 &&
      b[1] === 0 &&
      b[2] === 0 &&
      b[3] === 0 &&
      b[4] === 0 &&
      b[5] === 0 &&
      b[6] === 0 &&
      b[7] === 0 &&
      b[8] === 0 &&
      b[9] === 0 &&
      b[10] === 0xff &&
      b[11] === 0xff
    ) {
      this.v4 = ((b[12] << 24) | (b[13] << 16) | (b[14] << 8) | b[15]) >>> 0;
      this.family = 4;
      return true;
    }
    const w = this.words;
    for (let i = 0; i < 4; i++) {
      w[i] = ((b[i * 4] << 24) | (b[i * 4 + 1] << 16) | (b[i * 4 + 2] << 8) | b[i * 4 + 3]) >>> 0;
    }
    this.family = 6;
    return true;
  }

  /** Family and v4 of the IPv6 address in `words`, with IPv4-mapped taken as IPv4 as parseText does. */
  private fromWords(): void {
    const w = this.words;
    if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) {
      this.v4 = w[3];
      this.family = 4;
    } else {
      this.family = 6;
    }
  }
}

/** A network as an inclusive range of its family's integers. */
export interface Network {
  family: 4 | 6;
  first: bigint;
  last: bigint;
  prefix: number;
}

const MAPPED_FIRST = 0xffffn << 32n;

/**
 * Parses "a.b.c.d/n", "v6/n" or a bare address (a /32 or /128). Host bits must be zero so a typo
 * ("10.1.0.0/8") is caught rather than silently widened. Returns the problem text on failure.
 */
export function parseNetwork(text: string): Network | string {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const p = new ParsedAddress();
  if (!p.parse(addr)) return 'not an IPv4/IPv6 address or network (e.g. 10.0.0.0/8, 2001:db8::/32)';
  // A mapped address written as IPv6 parses as family 4; its prefix still counts IPv6 bits.
  const writtenV6 = addr.includes(':');
  const width = writtenV6 ? 128 : 32;
  let prefix = width;
  if (slash >= 0) {
    const bits = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > width) return `prefix length must be 0-${width}`;
    prefix = Number(bits);
  }
  let value: bigint;
  if (p.family === 4) value = writtenV6 ? MAPPED_FIRST | BigInt(p.v4) : BigInt(p.v4);
  else value = wordsValue(p.words);
  const hostMask = (1n << BigInt(width - prefix)) - 1n;
  if ((value & hostMask) !== 0n) {
    const base = formatNetworkBase(value & ~hostMask, writtenV6);
    return `host bits are set (did you mean ${base}/${prefix}?)`;
  }
  if (writtenV6 && prefix >= 96 && value >> 32n === 0xffffn) {
    // Inside ::ffff:0:0/96: the IPv4 network it spells (see the module comment).
    const v4 = value & 0xffffffffn;
    const v4Prefix = prefix - 96;
    return { family: 4, first: v4, last: v4 | ((1n << BigInt(32 - v4Prefix)) - 1n), prefix: v4Prefix };
  }
  return { family: writtenV6 ? 6 : 4, first: value, last: value | hostMask, prefix };
}

function wordsValue(w: Uint32Array): bigint {
  return (BigInt(w[0]) << 96n) | (BigInt(w[1]) << 64n) | (BigInt(w[2]) << 32n) | BigInt(w[3]);
}

function formatNetworkBase(v: bigint, v6: boolean): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((v >> s) & 0xffffn).toString(16));
  return groups.join(':');
}

/** One entry of a set built by longest-prefix rules: the most specific entry holding an address decides. */
export interface PrefixEntry {
  network: string;
  member: boolean;
}

interface Piece {
  first: bigint;
  last: bigint;
  member: boolean;
}

/** Paints [first, last] with `member` over sorted, non-overlapping pieces. */
function paint(pieces: Piece[], first: bigint, last: bigint, member: boolean): Piece[] {
  const out: Piece[] = [];
  let placed = false;
  for (const p of pieces) {
    if (p.last < first || p.first > last) {
      if (!placed && p.first > last) {
        out.push({ first, last, member });
        placed = true;
      }
      out.push(p);
      continue;
    }
    if (p.first < first) out.push({ first: p.first, last: first - 1n, member: p.member });
    if (!placed) {
      out.push({ first, last, member });
      placed = true;
    }
    if (p.last > last) out.push({ first: last + 1n, last: p.last, member: p.member });
  }
  if (!placed) out.push({ first, last, member });
  return out;
}

/** Members only, adjacent ranges joined. */
function memberRanges(pieces: Piece[]): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  for (const p of pieces) {
    if (!p.member) continue;
    const prev = out[out.length - 1];
    if (prev !== undefined && prev[1] + 1n >= p.first) {
      if (p.last > prev[1]) prev[1] = p.last;
    } else {
      out.push([p.first, p.last]);
    }
  }
  return out;
}

const scratch = new ParsedAddress();

export class PrefixSet {
  private readonly v4First: Uint32Array;
  private readonly v4Last: Uint32Array;
  /** Four words per range bound. */
  private readonly v6First: Uint32Array;
  private readonly v6Last: Uint32Array;

  private constructor(v4: [bigint, bigint][], v6: [bigint, bigint][]) {
    this.v4First = Uint32Array.from(v4, (r) => Number(r[0]));
    this.v4Last = Uint32Array.from(v4, (r) => Number(r[1]));
    this.v6First = new Uint32Array(v6.length * 4);
    this.v6Last = new Uint32Array(v6.length * 4);
    v6.forEach(([first, last], i) => {
      for (let k = 0; k < 4; k++) {
        const shift = BigInt(96 - 32 * k);
        this.v6First[i * 4 + k] = Number((first >> shift) & 0xffffffffn);
        this.v6Last[i * 4 + k] = Number((last >> shift) & 0xffffffffn);
      }
    });
  }

  /**
   * The union of `networks` (CIDRs or bare addresses). Throws EnrichOptionError naming the bad
   * entry as `path[i]`.
   */
  static compile(networks: readonly unknown[], path: string): PrefixSet {
    return PrefixSet.fromEntries(
      networks.map((n) => ({ network: n as string, member: true })),
      path,
    );
  }

  /** Longest-prefix-wins entries: a member network may have non-member holes, and the reverse. */
  static fromEntries(entries: readonly PrefixEntry[], path: string): PrefixSet {
    const parsed = entries.map((e, i) => {
      if (typeof e.network !== 'string') {
        throw new EnrichOptionError(
          `${path}[${i}]`,
          `expected a network such as "10.0.0.0/8", got ${shown(e.network)}`,
        );
      }
      const n = parseNetwork(e.network);
      if (typeof n === 'string')
        throw new EnrichOptionError(`${path}[${i}]`, `${JSON.stringify(e.network)}: ${n}`);
      return { n, member: e.member };
    });
    // Shorter prefixes first, so the more specific entry paints last and wins.
    parsed.sort((a, b) => a.n.prefix - b.n.prefix);
    let v4: Piece[] = [];
    let v6: Piece[] = [];
    for (const { n, member } of parsed) {
      if (n.family === 4) v4 = paint(v4, n.first, n.last, member);
      else v6 = paint(v6, n.first, n.last, member);
    }
    return new PrefixSet(memberRanges(v4), memberRanges(v6));
  }

  /** Number of disjoint ranges (both families), for stats and tests. */
  get ranges(): number {
    return this.v4First.length + this.v6First.length / 4;
  }

  /** True when `address` (record text) lies in the set; false for null or unparseable text. */
  has(address: string | null): boolean {
    return scratch.parse(address) && this.hasParsed(scratch);
  }

  hasParsed(a: ParsedAddress): boolean {
    if (a.family === 4) return this.hasV4(a.v4);
    if (a.family === 6) return this.hasV6(a.words);
    return false;
  }

  hasV4(v: number): boolean {
    const first = this.v4First;
    let lo = 0;
    let hi = first.length - 1;
    if (hi < 0 || v < first[0]) return false;
    // The last range starting at or before v is the only one that can hold it.
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (first[mid] <= v) lo = mid;
      else hi = mid - 1;
    }
    return v <= this.v4Last[lo];
  }

  /** Calls `visit` with each IPv4 range of the set (inclusive u32 bounds), in order. */
  forEachV4Range(visit: (first: number, last: number) => void): void {
    for (let i = 0; i < this.v4First.length; i++) visit(this.v4First[i] as number, this.v4Last[i] as number);
  }

  hasV6(w: Uint32Array): boolean {
    const first = this.v6First;
    let lo = 0;
    let hi = first.length / 4 - 1;
    if (hi < 0 || compareWords(w, first, 0) < 0) return false;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (compareWords(w, first, mid * 4) >= 0) lo = mid;
      else hi = mid - 1;
    }
    return compareWords(w, this.v6Last, lo * 4) <= 0;
  }
}

/** Sign of w - bound[at..at+4], as 128-bit unsigned integers. */
function compareWords(w: Uint32Array, bound: Uint32Array, at: number): number {
  for (let k = 0; k < 4; k++) {
    const a = w[k];
    const b = bound[at + k];
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}
