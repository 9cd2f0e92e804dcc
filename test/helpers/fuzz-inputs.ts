/**
 * Inputs and targets for fuzzing: the decoders (test/fuzz/decoders.fuzz.test.ts) and every other
 * parser (test/fuzz/parsers.fuzz.test.ts), shared with the longer bench/fuzz-long.ts.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify as stringifyYaml } from 'yaml';
import { type ConntrackEntry, parseConntrackLine } from '../../src/agent/conntrack-events.js';
import type { FlowKey } from '../../src/agent/flow-observation.js';
import {
  FlowKeyCache,
  flowKeyOf,
  HEADERS_MALFORMED,
  HEADERS_NOT_IP,
  HEADERS_PARSED,
  PacketHeaders,
  parsePacketHeaders,
} from '../../src/agent/packet-headers.js';
import { CaptureFileError, newCaptureStats, readCaptureFile } from '../../src/capture/capture-reader.js';
import { FRAGMENT_COMPLETED, UDP_FOUND, UdpExtractor } from '../../src/capture/ip-udp.js';
import { BAD_FRAME, ipOffset, NOT_IP } from '../../src/capture/link-layer.js';
import { AWS_FIELD_NAMES } from '../../src/cloud/aws-fields.js';
import {
  CLOUD_PROVIDERS,
  type CloudProvider,
  type FlowLogParseOptions,
  parseFlowLog,
} from '../../src/cloud/parse-flow-log.js';
import { frameAzureRecords, framingStartAfter } from '../../src/cloud/read/azure-records-framing.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import type { Datagram } from '../../src/decode/datagram.js';
import { detectProtocol, FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import type { FilterExpr } from '../../src/query/filter-ast.js';
import { formatFilter } from '../../src/query/filter-format.js';
import { matchFilter } from '../../src/query/filter-match.js';
import { FilterSyntaxError, MAX_FILTER_LENGTH, parseFilter } from '../../src/query/filter-parse.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { CollectingSink } from './collecting-sink.js';
import { corpusFiles, TESTDATA } from './corpus.js';

/**
 * Random bytes behind a header that passes each protocol's first checks, so the fuzzing reaches
 * set, record and sample parsing: v5 count matching the length, IPFIX message length equal to the
 * datagram's, sFlow with a valid agent address type and a small sample count.
 */
export const HEADERS: Record<string, (body: Uint8Array, n: number) => Buffer> = {
  'NetFlow v5': (body, n) => {
    const p = Buffer.concat([Buffer.alloc(24), body]);
    p.writeUInt16BE(5, 0);
    p.writeUInt16BE(n % 3 === 0 ? n % 40 : Math.floor(body.length / 48), 2);
    return p;
  },
  'NetFlow v9': (body, n) => {
    const p = Buffer.concat([Buffer.alloc(20), body]);
    p.writeUInt16BE(9, 0);
    p.writeUInt16BE(n % 40, 2);
    p.writeUInt32BE(n, 16);
    return p;
  },
  IPFIX: (body, n) => {
    const p = Buffer.concat([Buffer.alloc(16), body]);
    p.writeUInt16BE(10, 0);
    p.writeUInt16BE(n % 7 === 0 ? n & 0xffff : Math.min(p.length, 0xffff), 2);
    p.writeUInt32BE(n % 4, 12);
    return p;
  },
  'sFlow v5': (body, n) => {
    const p = Buffer.concat([Buffer.alloc(28), body]);
    p.writeUInt32BE(5, 0);
    p.writeUInt32BE(n % 5 === 0 ? 2 : 1, 4);
    p.writeUInt32BE(0xc0000201, 8);
    p.writeUInt32BE(n % 10, 24);
    return p;
  },
};

/** Version headers only: the rest is random. */
export const PREFIXES: number[][] = [
  [0, 5],
  [0, 9],
  [0, 10],
  [0, 0, 0, 5],
];

/** A NetFlow v9 export packet with one template flowset declaring `ids` (2 fields each). */
export function v9Templates(ids: number[], sourceId: number): Buffer {
  const setLen = 4 + ids.length * 12;
  const b = Buffer.alloc(20 + setLen);
  b.writeUInt16BE(9, 0);
  b.writeUInt16BE(ids.length, 2);
  b.writeUInt32BE(1000, 4);
  b.writeUInt32BE(1_700_000_000, 8);
  b.writeUInt32BE(1, 12);
  b.writeUInt32BE(sourceId, 16);
  b.writeUInt16BE(0, 20);
  b.writeUInt16BE(setLen, 22);
  let off = 24;
  for (const id of ids) {
    b.writeUInt16BE(id, off);
    b.writeUInt16BE(2, off + 2);
    b.writeUInt16BE(8, off + 4); // IPV4_SRC_ADDR
    b.writeUInt16BE(4, off + 6);
    b.writeUInt16BE(1, off + 8); // IN_BYTES
    b.writeUInt16BE(4, off + 10);
    off += 12;
  }
  return b;
}

/** An IPFIX message with one template set declaring `ids` (2 fields each). */
export function ipfixTemplates(ids: number[], domain: number): Buffer {
  const setLen = 4 + ids.length * 12;
  const b = Buffer.alloc(16 + setLen);
  b.writeUInt16BE(10, 0);
  b.writeUInt16BE(b.length, 2);
  b.writeUInt32BE(1_700_000_000, 4);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(domain, 12);
  b.writeUInt16BE(2, 16);
  b.writeUInt16BE(setLen, 18);
  let off = 20;
  for (const id of ids) {
    b.writeUInt16BE(id, off);
    b.writeUInt16BE(2, off + 2);
    b.writeUInt16BE(8, off + 4); // sourceIPv4Address
    b.writeUInt16BE(4, off + 6);
    b.writeUInt16BE(1, off + 8); // octetDeltaCount
    b.writeUInt16BE(4, off + 10);
    off += 12;
  }
  return b;
}

/** A small deterministic PRNG (mulberry32) so mutations are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Targets: one random case per call, shared by test/fuzz/parsers.fuzz.test.ts (fixed seed, few
// cases) and bench/fuzz-long.ts (millions). Each case draws everything from `rand`, so a seed and
// a case number replay it; a failed property throws FuzzFailure carrying the input.
// ---------------------------------------------------------------------------------------------

/** A property that did not hold, with the input that broke it (bytes or text). */
export class FuzzFailure extends Error {
  override name = 'FuzzFailure';
  constructor(
    message: string,
    readonly input: Uint8Array | string,
  ) {
    super(message);
  }
}

export interface FuzzTarget {
  readonly name: string;
  /** Runs one case drawn from `rand`; throws FuzzFailure when a property fails. */
  run(rand: () => number): void;
}

/** The input as it is shown in a failure message: text as JSON, bytes as hex, both cut at `max`. */
export function showInput(input: Uint8Array | string, max = 600): string {
  if (typeof input === 'string') {
    const t = JSON.stringify(input.length > max ? input.slice(0, max) : input);
    return input.length > max ? `${t}… (${input.length} chars)` : t;
  }
  const hex = Buffer.from(input.subarray(0, max)).toString('hex');
  return input.length > max ? `hex ${hex}… (${input.length} bytes)` : `hex ${hex}`;
}

/**
 * Runs `fn` on `input`; a throw, or a run slower than `slowMs` on the fastest of three tries (a GC
 * pause or a deoptimisation can stall any one call, a slow input is slow every time), fails.
 */
export function checked<T>(what: string, input: Uint8Array | string, slowMs: number, fn: () => T): T {
  let result: T;
  let ms = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3 && ms > slowMs; attempt++) {
    const t0 = performance.now();
    try {
      result = fn();
    } catch (err) {
      if (err instanceof FuzzFailure) throw err;
      throw new FuzzFailure(
        `${what}: threw ${(err as Error)?.stack ?? String(err)}\ninput: ${showInput(input)}`,
        input,
      );
    }
    ms = Math.min(ms, performance.now() - t0);
  }
  if (ms > slowMs) {
    throw new FuzzFailure(
      `${what}: took ${ms.toFixed(1)} ms (limit ${slowMs})\ninput: ${showInput(input)}`,
      input,
    );
  }
  return result!;
}

/** Fails the case with its input unless `ok`. */
export function require_(ok: boolean, what: string, input: Uint8Array | string): void {
  if (!ok) throw new FuzzFailure(`${what}\ninput: ${showInput(input)}`, input);
}

// ---- random values ----

export function int(rand: () => number, n: number): number {
  return Math.floor(rand() * n);
}

export function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

export function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (rand() * 256) | 0;
  return b;
}

/** Values that break length and count fields: zero, one, sign bits, maxima. */
const INTERESTING_U32 = [
  0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
];

/**
 * `src` mutated 1 to 8 times: bit flips, random bytes, interesting u8/u16/u32 values at random
 * offsets (either byte order), deleted, duplicated or inserted runs, and a truncation.
 */
export function mutateBytes(rand: () => number, src: Uint8Array): Buffer {
  let b = Buffer.from(src);
  const n = 1 + int(rand, 8);
  for (let k = 0; k < n; k++) {
    const len = b.length;
    const at = len === 0 ? 0 : int(rand, len);
    switch (int(rand, 8)) {
      case 0:
      case 1:
        if (len > 0) b[at] ^= 1 << int(rand, 8);
        break;
      case 2:
        if (len > 0) b[at] = int(rand, 256);
        break;
      case 3: {
        const v = pick(rand, INTERESTING_U32);
        const w = pick(rand, [1, 2, 4]);
        if (at + w <= len) {
          if (w === 1) b[at] = v & 0xff;
          else if (w === 2) rand() < 0.5 ? b.writeUInt16BE(v & 0xffff, at) : b.writeUInt16LE(v & 0xffff, at);
          else rand() < 0.5 ? b.writeUInt32BE(v >>> 0, at) : b.writeUInt32LE(v >>> 0, at);
        }
        break;
      }
      case 4: {
        const cut = int(rand, Math.min(64, len - at) + 1);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + cut)]);
        break;
      }
      case 5: {
        const run = b.subarray(at, at + 1 + int(rand, 64));
        b = Buffer.concat([b.subarray(0, at), run, b.subarray(at)]);
        break;
      }
      case 6:
        b = Buffer.concat([b.subarray(0, at), randomBytes(rand, 1 + int(rand, 16)), b.subarray(at)]);
        break;
      default:
        if (rand() < 0.3) b = b.subarray(0, int(rand, len + 1));
        else if (len > 0) b[at] = 0;
    }
  }
  return b;
}

const TEXT_PIECES = [
  '',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '"',
  "'",
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '-',
  '.',
  '0',
  '-1',
  '1e309',
  'NaN',
  'null',
  'true',
  '4294967296',
  '18446744073709551616',
  '99999999999999999999',
  '1.5',
  '0x10',
  '\u0000',
  '\ud800',
  '\u00e9',
  '\u{1f600}',
  '::',
  '255.255.255.256',
  '2001:db8::1',
  '10.0.0.1',
  '=',
  '&',
  '|',
  '#',
  '*',
  '!',
  '%',
  '&a',
  '*a',
  '? ',
  '- ',
  '>',
  '~',
];

/** `src` mutated 1 to 6 times at the character level: cuts, repeats, inserted pieces, swapped lines. */
export function mutateText(rand: () => number, src: string): string {
  let s = src;
  const n = 1 + int(rand, 6);
  for (let k = 0; k < n; k++) {
    const at = int(rand, s.length + 1);
    switch (int(rand, 7)) {
      case 0:
        s = s.slice(0, at) + s.slice(at + 1 + int(rand, 16));
        break;
      case 1:
        s = s.slice(0, at) + pick(rand, TEXT_PIECES) + s.slice(at);
        break;
      case 2: {
        const run = s.slice(at, at + 1 + int(rand, 32));
        s = s.slice(0, at) + run + s.slice(at);
        break;
      }
      case 3:
        s = s.slice(0, at) + String.fromCharCode(int(rand, 0x10000)) + s.slice(at + 1);
        break;
      case 4: {
        // Replace a run of digits with an extreme number.
        const m = /\d+/g;
        m.lastIndex = at;
        const hit = m.exec(s);
        if (hit)
          s =
            s.slice(0, hit.index) +
            pick(rand, TEXT_PIECES.slice(18, 28)) +
            s.slice(hit.index + hit[0].length);
        break;
      }
      case 5: {
        const lines = s.split('\n');
        if (lines.length > 1) {
          const i = int(rand, lines.length);
          const j = int(rand, lines.length);
          [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
          s = lines.join('\n');
        }
        break;
      }
      default:
        s = s.slice(0, at);
    }
  }
  return s;
}

/** A short string of random characters, mostly printable ASCII. */
export function randomText(rand: () => number, max: number): string {
  const n = int(rand, max + 1);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rand();
    s +=
      r < 0.85
        ? String.fromCharCode(32 + int(rand, 95))
        : r < 0.95
          ? pick(rand, TEXT_PIECES)
          : String.fromCharCode(int(rand, 0x10000));
  }
  return s;
}

// ---- packets and capture files ----

/** LINKTYPE values the capture reader and the agent know, and a few they do not. */
export const LINK_TYPES = [0, 1, 101, 108, 113, 228, 229, 276, 105, 127, 65535];

/** An IPv4 or IPv6 packet: UDP, TCP, ICMP or other, sometimes a fragment, IPv6 extension headers. */
export function randomIpPacket(rand: () => number): Buffer {
  const proto = pick(rand, [17, 17, 17, 6, 1, 58, 132, 47, int(rand, 256)]);
  const body = randomBytes(rand, int(rand, 3) === 0 ? int(rand, 1400) : int(rand, 64));
  if (proto === 17 && body.length >= 8) {
    body.writeUInt16BE(rand() < 0.8 ? body.length : int(rand, 0x10000), 4);
  }
  if (rand() < 0.5) {
    const h = randomBytes(rand, 20);
    h[0] = 0x45;
    if (rand() < 0.1) h[0] = 0x40 | int(rand, 16);
    h.writeUInt16BE(rand() < 0.85 ? 20 + body.length : int(rand, 0x10000), 2);
    const frag = rand();
    h.writeUInt16BE(frag < 0.6 ? 0 : frag < 0.8 ? 0x2000 | int(rand, 4) : int(rand, 0x10000), 6);
    h.writeUInt16BE(int(rand, 4), 4); // few ids, so fragments meet
    h[9] = proto;
    return Buffer.concat([h, body]);
  }
  const exts: Buffer[] = [];
  let nh = proto;
  const nExt = rand() < 0.6 ? 0 : int(rand, 5);
  for (let i = 0; i < nExt; i++) {
    const type = pick(rand, [0, 43, 44, 51, 60, 135, 139, 140]);
    const e = type === 44 ? randomBytes(rand, 8) : randomBytes(rand, 8 * (1 + int(rand, 3)));
    e[0] = nh;
    if (type === 44) {
      e.writeUInt16BE(rand() < 0.3 ? 0 : rand() < 0.5 ? 1 : int(rand, 0x10000), 2);
      e.writeUInt32BE(int(rand, 4), 4);
    } else if (type === 51) e[1] = e.length / 4 - 2;
    else e[1] = e.length / 8 - 1;
    if (rand() < 0.1) e[1] = int(rand, 256);
    exts.unshift(e);
    nh = type;
  }
  const payload = Buffer.concat([...exts, body]);
  const h = randomBytes(rand, 40);
  h[0] = 0x60;
  h.writeUInt16BE(rand() < 0.85 ? payload.length : int(rand, 0x10000), 4);
  h[6] = nh;
  return Buffer.concat([h, payload]);
}

/** `ip` behind the link header of `linkType` (Ethernet with 0 to 3 VLAN tags, cooked, loopback, raw). */
export function randomFrame(rand: () => number, linkType: number, ip: Buffer): Buffer {
  const v6 = ip.length > 0 && ip[0] >> 4 === 6;
  const ethType =
    rand() < 0.9 ? (v6 ? 0x86dd : 0x0800) : pick(rand, [0x0806, 0x8100, 0x88a8, int(rand, 0x10000)]);
  switch (linkType) {
    case 1: {
      const tags = int(rand, 10) === 0 ? 12 : int(rand, 3);
      const h = randomBytes(rand, 14 + 4 * tags);
      for (let t = 0; t < tags; t++) h.writeUInt16BE(pick(rand, [0x8100, 0x88a8, 0x9100]), 12 + 4 * t);
      h.writeUInt16BE(ethType, 12 + 4 * tags);
      return Buffer.concat([h, ip]);
    }
    case 113: {
      const h = randomBytes(rand, 16);
      h.writeUInt16BE(ethType, 14);
      return Buffer.concat([h, ip]);
    }
    case 276: {
      const h = randomBytes(rand, 20);
      h.writeUInt16BE(ethType, 0);
      return Buffer.concat([h, ip]);
    }
    case 0:
    case 108: {
      const family = pick(rand, [2, 10, 24, 28, 30, int(rand, 256)]);
      const h = Buffer.alloc(4);
      if (linkType === 108 || rand() < 0.5) h.writeUInt32BE(family);
      else h.writeUInt32LE(family);
      return Buffer.concat([h, ip]);
    }
    default:
      return rand() < 0.9 ? ip : Buffer.concat([randomBytes(rand, int(rand, 20)), ip]);
  }
}

/** A pcap file: either byte order, µs or ns, a known or random link type, 0 to 40 records. */
export function randomPcap(rand: () => number): Buffer {
  const le = rand() < 0.5;
  const nano = rand() < 0.3;
  const linkType = rand() < 0.9 ? pick(rand, LINK_TYPES) : int(rand, 0x10000) | (int(rand, 16) << 28);
  const u32 = (b: Buffer, v: number, o: number) =>
    le ? b.writeUInt32LE(v >>> 0, o) : b.writeUInt32BE(v >>> 0, o);
  const hdr = Buffer.alloc(24);
  u32(hdr, nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  u32(hdr, 0x00040002, 4);
  u32(hdr, 262144, 16);
  u32(hdr, linkType, 20);
  const parts: Buffer[] = [hdr];
  const n = int(rand, 41);
  for (let i = 0; i < n; i++) {
    const data =
      rand() < 0.85
        ? randomFrame(rand, linkType & 0xffff, randomIpPacket(rand))
        : randomBytes(rand, int(rand, 200));
    const h = Buffer.alloc(16);
    u32(h, rand() < 0.9 ? 1_700_000_000 + i : int(rand, 2 ** 32), 0);
    u32(h, rand() < 0.9 ? int(rand, nano ? 1e9 : 1e6) : int(rand, 2 ** 32), 4);
    u32(h, rand() < 0.95 ? data.length : pick(rand, INTERESTING_U32), 8);
    u32(h, rand() < 0.9 ? data.length : int(rand, 2 ** 32), 12);
    parts.push(h, data);
  }
  return Buffer.concat(parts);
}

/** A pcapng file: one or more sections, interfaces with if_tsresol/if_tsoffset, EPB/SPB/OPB and unknown blocks. */
export function randomPcapng(rand: () => number): Buffer {
  let le = true;
  const parts: Buffer[] = [];
  const block = (type: number, body: Buffer): void => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    const b = Buffer.alloc(12 + padded.length);
    const total = rand() < 0.97 ? b.length : pick(rand, INTERESTING_U32);
    if (le) {
      b.writeUInt32LE(type, 0);
      b.writeUInt32LE(total >>> 0, 4);
      b.writeUInt32LE(b.length, b.length - 4);
    } else {
      b.writeUInt32BE(type, 0);
      b.writeUInt32BE(total >>> 0, 4);
      b.writeUInt32BE(b.length, b.length - 4);
    }
    padded.copy(b, 8);
    parts.push(b);
  };
  const u16 = (v: number) => {
    const b = Buffer.alloc(2);
    le ? b.writeUInt16LE(v & 0xffff) : b.writeUInt16BE(v & 0xffff);
    return b;
  };
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    le ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0);
    return b;
  };
  const sections = 1 + (rand() < 0.2 ? int(rand, 3) : 0);
  for (let s = 0; s < sections; s++) {
    le = rand() < 0.6;
    block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)]));
    const links: number[] = [];
    const nIf = rand() < 0.1 ? 0 : 1 + int(rand, 3);
    for (let i = 0; i < nIf; i++) {
      const link = rand() < 0.9 ? pick(rand, LINK_TYPES) : int(rand, 0x10000);
      links.push(link);
      const opts: Buffer[] = [];
      if (rand() < 0.4) opts.push(u16(9), u16(1), Buffer.from([int(rand, 256), 0, 0, 0]));
      if (rand() < 0.2) opts.push(u16(14), u16(8), randomBytes(rand, 8));
      if (rand() < 0.1)
        opts.push(
          u16(int(rand, 20)),
          u16(rand() < 0.5 ? int(rand, 12) : 0xffff),
          randomBytes(rand, 4 * int(rand, 3)),
        );
      if (opts.length > 0) opts.push(u16(0), u16(0));
      block(1, Buffer.concat([u16(link), u16(0), u32(262144), ...opts]));
    }
    const n = int(rand, 30);
    for (let i = 0; i < n; i++) {
      const link = links.length === 0 ? 1 : (links[int(rand, links.length)] as number);
      const data =
        rand() < 0.85 ? randomFrame(rand, link, randomIpPacket(rand)) : randomBytes(rand, int(rand, 200));
      const kind = rand();
      const ifIndex = rand() < 0.9 ? int(rand, Math.max(1, links.length)) : int(rand, 2 ** 32);
      const cap = rand() < 0.95 ? data.length : pick(rand, INTERESTING_U32);
      if (kind < 0.7) {
        block(
          6,
          Buffer.concat([
            u32(ifIndex),
            u32(int(rand, 2 ** 32)),
            u32(int(rand, 2 ** 32)),
            u32(cap),
            u32(data.length),
            data,
          ]),
        );
      } else if (kind < 0.8) {
        block(3, Buffer.concat([u32(rand() < 0.9 ? data.length : cap), data]));
      } else if (kind < 0.9) {
        block(
          2,
          Buffer.concat([
            u16(ifIndex),
            u16(0),
            u32(int(rand, 2 ** 32)),
            u32(int(rand, 2 ** 32)),
            u32(cap),
            u32(data.length),
            data,
          ]),
        );
      } else {
        block(pick(rand, [4, 5, 0xbad, 0x40000bad, int(rand, 2 ** 32)]), randomBytes(rand, int(rand, 64)));
      }
    }
  }
  return Buffer.concat(parts);
}

/** RFC 5655 file: IPFIX messages back to back, lengths mostly right, bodies random. */
export function randomIpfixFile(rand: () => number): Buffer {
  const parts: Buffer[] = [];
  const n = 1 + int(rand, 10);
  for (let i = 0; i < n; i++) {
    const body = randomBytes(rand, int(rand, 300));
    const m = Buffer.concat([Buffer.alloc(16), body]);
    m.writeUInt16BE(rand() < 0.95 ? 10 : int(rand, 0x10000), 0);
    m.writeUInt16BE(rand() < 0.9 ? m.length : int(rand, 0x10000), 2);
    m.writeUInt32BE(int(rand, 2 ** 32), 4);
    parts.push(m);
  }
  return Buffer.concat(parts);
}

// ---- capture reader ----

/** Corpus capture files small enough to mutate whole (up to 300 kB), read once. */
let captureCorpus: Buffer[] | null = null;
function smallCaptures(): Buffer[] {
  if (captureCorpus === null) {
    captureCorpus = ['netflow5', 'netflow9', 'ipfix', 'sflow']
      .flatMap((folder) => corpusFiles(folder))
      .filter((f) => statSync(f).size <= 300_000)
      .map((f) => readFileSync(f));
  }
  return captureCorpus;
}

const CAPTURE_SLOW_MS = 250;

function checkCaptureFile(path: string, bytes: Buffer): void {
  writeFileSync(path, bytes);
  const before = process.memoryUsage().arrayBuffers;
  checked('readCaptureFile', bytes, CAPTURE_SLOW_MS, () => {
    const stats = newCaptureStats();
    let n = 0;
    try {
      for (const d of readCaptureFile(path, stats)) {
        n++;
        require_(
          d.payload.length <= 65535 &&
            Number.isInteger(d.srcPort) &&
            d.srcPort >= 0 &&
            d.srcPort <= 65535 &&
            Number.isInteger(d.dstPort) &&
            d.dstPort >= 0 &&
            d.dstPort <= 65535 &&
            typeof d.srcAddress === 'string' &&
            d.srcAddress !== '' &&
            Math.abs(d.receivedAtMs) <= 8.64e15, // a time a Date can hold
          `readCaptureFile: bad datagram ${JSON.stringify({ ...d, payload: d.payload.length })}`,
          bytes,
        );
      }
    } catch (err) {
      // The one error the reader documents; for a regular readable file it must not even happen.
      if (err instanceof CaptureFileError) throw new FuzzFailure(`readCaptureFile: ${err.message}`, bytes);
      throw err;
    }
    require_(stats.datagrams === n, `stats.datagrams ${stats.datagrams} but ${n} yielded`, bytes);
    require_(
      stats.bytesRead === stats.fileBytes,
      `bytesRead ${stats.bytesRead} of ${stats.fileBytes}`,
      bytes,
    );
    const grown = process.memoryUsage().arrayBuffers - before;
    require_(grown < 256e6 + 4 * bytes.length, `buffers grew by ${(grown / 1e6).toFixed(0)} MB`, bytes);
  });
}

export function captureTargets(dir: string): FuzzTarget[] {
  const file = join(dir, 'capture.bin');
  const udp = new UdpExtractor(16);
  return [
    {
      name: 'capture: mutated corpus files',
      run: (rand) => {
        const all = smallCaptures();
        const src = all[int(rand, all.length)] as Buffer;
        // A prefix keeps a case cheap; the record headers near the start are what mutations hit.
        const cut = src.length > 65536 && rand() < 0.8 ? src.subarray(0, 4096 + int(rand, 61440)) : src;
        checkCaptureFile(file, mutateBytes(rand, cut));
      },
    },
    {
      name: 'capture: random pcap/pcapng/IPFIX files',
      run: (rand) => {
        const r = rand();
        const b =
          r < 0.45
            ? randomPcap(rand)
            : r < 0.9
              ? randomPcapng(rand)
              : r < 0.97
                ? randomIpfixFile(rand)
                : randomBytes(rand, int(rand, 2000));
        checkCaptureFile(file, rand() < 0.5 ? mutateBytes(rand, b) : b);
      },
    },
    {
      name: 'capture: link layer, IP/UDP, fragment reassembly',
      run: (rand) => {
        const n = 1 + int(rand, 8);
        for (let i = 0; i < n; i++) {
          const link = pick(rand, LINK_TYPES);
          let f: Buffer = randomFrame(rand, link, randomIpPacket(rand));
          if (rand() < 0.3) f = mutateBytes(rand, f);
          const r = checked('ipOffset + UdpExtractor', f, 50, () => {
            const off = ipOffset(link, f);
            require_(
              off === NOT_IP || off === BAD_FRAME || (off >= 0 && off < f.length),
              `ipOffset ${off}`,
              f,
            );
            return off < 0 ? -1 : udp.extract(f, off);
          });
          require_(udp.fragments.size <= 16, `${udp.fragments.size} reassemblies pending (limit 16)`, f);
          if (r === UDP_FOUND || r === FRAGMENT_COMPLETED) {
            require_(
              udp.payload.length <= 65535 &&
                udp.srcPort >= 0 &&
                udp.srcPort <= 65535 &&
                udp.dstPort <= 65535 &&
                udp.srcAddress !== '' &&
                udp.dstAddress !== '',
              `UdpExtractor result ${r}: ${udp.srcAddress}:${udp.srcPort} > ${udp.dstAddress}:${udp.dstPort}, ${udp.payload.length} bytes`,
              f,
            );
          }
        }
      },
    },
  ];
}

// ---- cloud flow logs ----

/** Ranges a record's numeric fields must respect whatever the input said. */
const RECORD_RANGES: Record<string, [number, number]> = {
  srcport: [0, 65535],
  dstport: [0, 65535],
  postnatsrcport: [0, 65535],
  postnatdstport: [0, 65535],
  protocolint: [0, 255],
  bits: [0, Number.MAX_SAFE_INTEGER],
  packets: [0, Number.MAX_SAFE_INTEGER],
  revbits: [0, Number.MAX_SAFE_INTEGER],
  revpackets: [0, Number.MAX_SAFE_INTEGER],
};
const ADDRESS_FIELDS = ['srcip', 'dstip', 'postnatsrcip', 'postnatdstip', 'nexthop', 'bgpnexthop'] as const;

/** What is wrong with a record's types (a NaN, an undefined field, a port past 65535...), or null. */
export function recordProblem(rec: FlowRecord): string | null {
  if (!(rec instanceof FlowRecord)) return 'not a FlowRecord';
  for (const [k, v] of Object.entries(rec)) {
    if (v === undefined) return `${k} is undefined`;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `${k} = ${v}`;
      const range = RECORD_RANGES[k];
      if (range && (v < range[0] || v > range[1] || !Number.isInteger(v)))
        return `${k} = ${v} out of ${range}`;
    }
  }
  for (const k of ADDRESS_FIELDS) {
    const v = rec[k];
    if (v !== null && (typeof v !== 'string' || isIP(v) === 0))
      return `${k} = ${JSON.stringify(v)} is not an address`;
  }
  if (rec.ipversion !== null && rec.ipversion !== 4 && rec.ipversion !== 6)
    return `ipversion ${rec.ipversion}`;
  for (const [k, v] of Object.entries(rec.extra ?? {})) {
    if (typeof v === 'number' && !Number.isFinite(v)) return `extra.${k} = ${v}`;
  }
  return null;
}

interface CloudSample {
  provider: CloudProvider;
  lines: string[];
}
let cloudSamples: CloudSample[] | null = null;
function samples(): CloudSample[] {
  if (cloudSamples === null) {
    cloudSamples = CLOUD_PROVIDERS.flatMap((provider) =>
      readdirSync(join(TESTDATA, 'cloud', provider)).map((f) => ({
        provider,
        lines: readFileSync(join(TESTDATA, 'cloud', provider, f), 'utf8')
          .split('\n')
          .filter((l) => l.trim() !== ''),
      })),
    ).filter((s) => s.lines.length > 0);
  }
  return cloudSamples;
}

/** A random JSON value: scalars of every type and edge, small arrays and objects with `keys`. */
export function randomJson(rand: () => number, keys: readonly string[], depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.5) {
    return pick(rand, [
      null,
      true,
      false,
      0,
      -1,
      1.5,
      2 ** 53,
      1e308,
      -1e308,
      int(rand, 70000),
      '',
      '-',
      'NaN',
      '1e999',
      '65536',
      '-5',
      '10.0.0.1',
      '2001:db8::1',
      'not an address',
      '2019-06-14T03:45:37.301953198Z',
      '2024-13-45T99:99:99Z',
      randomText(rand, 12),
    ]);
  }
  if (r < 0.75) return Array.from({ length: int(rand, 4) }, () => randomJson(rand, keys, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = int(rand, 5); i > 0; i--) o[pick(rand, keys)] = randomJson(rand, keys, depth + 1);
  return o;
}

/** Every key of a JSON value, for random objects that look like the real ones. */
function keysOf(v: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(v)) for (const x of v) keysOf(x, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      keysOf(x, out);
    }
  }
  return out;
}

/** `v` with one node replaced, removed, wrapped or duplicated, somewhere down the tree. */
export function mutateJson(rand: () => number, v: unknown, keys: readonly string[]): unknown {
  if (Array.isArray(v) && v.length > 0 && rand() < 0.7) {
    const copy = [...v];
    const i = int(rand, copy.length);
    const op = rand();
    if (op < 0.6) copy[i] = mutateJson(rand, copy[i], keys);
    else if (op < 0.75) copy.splice(i, 1);
    else if (op < 0.9) copy.push(copy[i]);
    else copy[i] = randomJson(rand, keys);
    return copy;
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && rand() < 0.8) {
    const copy: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    const ks = Object.keys(copy);
    const k = ks.length > 0 && rand() < 0.9 ? (ks[int(rand, ks.length)] as string) : pick(rand, keys);
    const op = rand();
    if (op < 0.55) copy[k] = mutateJson(rand, copy[k], keys);
    else if (op < 0.7) delete copy[k];
    else if (op < 0.8) copy[k] = [copy[k]];
    else if (op < 0.9) copy[k] = String(copy[k]);
    else copy[k] = randomJson(rand, keys);
    return copy;
  }
  return randomJson(rand, keys);
}

const CLOUD_SLOW_MS = 250;

function checkFlowLog(provider: CloudProvider, input: string | Buffer, options: FlowLogParseOptions): void {
  const r = checked(`parseFlowLog(${provider})`, input, CLOUD_SLOW_MS, () =>
    parseFlowLog(provider, input, options),
  );
  require_(
    Array.isArray(r.records) &&
      Array.isArray(r.errors) &&
      Number.isInteger(r.units) &&
      r.units >= 0 &&
      Number.isInteger(r.skipped) &&
      r.skipped >= 0,
    `parseFlowLog(${provider}): malformed result ${JSON.stringify({ ...r, records: r.records.length })}`,
    input,
  );
  for (const e of r.errors) {
    require_(
      Number.isInteger(e.line) && e.line >= 0 && typeof e.reason === 'string' && e.reason !== '',
      `parseFlowLog(${provider}): error not located: ${JSON.stringify(e)}`,
      input,
    );
  }
  for (const rec of r.records) {
    const problem = recordProblem(rec);
    require_(problem === null, `parseFlowLog(${provider}): record ${problem}`, input);
    require_(rec.flowtype === provider, `parseFlowLog(${provider}): flowtype ${rec.flowtype}`, input);
  }
}

/** Some lines of a sample, mutated as text or (JSON providers) as a tree. */
function cloudInput(rand: () => number, s: CloudSample): string {
  const start = int(rand, s.lines.length);
  const lines = s.lines.slice(start, start + 1 + int(rand, 6));
  // AWS files need their header line to name the fields.
  if (s.provider === 'aws' && start > 0 && rand() < 0.8) lines.unshift(s.lines[0] as string);
  if (s.provider !== 'aws' && rand() < 0.5) {
    const i = int(rand, lines.length);
    try {
      const v = JSON.parse(lines[i] as string) as unknown;
      const keys = [...keysOf(v, new Set())];
      let m = v;
      for (let k = 1 + int(rand, 4); k > 0; k--) m = mutateJson(rand, m, keys);
      lines[i] = JSON.stringify(m);
    } catch {
      // a line that is no JSON is mutated as text below
    }
    return lines.join('\n');
  }
  return mutateText(rand, lines.join('\n'));
}

export function cloudTargets(): FuzzTarget[] {
  return [
    {
      name: 'cloud: mutated sample flow logs',
      run: (rand) => {
        const all = samples();
        const s = all[int(rand, all.length)] as CloudSample;
        const text = cloudInput(rand, s);
        // Mostly the sample's own provider, sometimes another one's parser on it.
        const provider = rand() < 0.85 ? s.provider : pick(rand, CLOUD_PROVIDERS);
        const form = rand();
        if (form < 0.6) checkFlowLog(provider, text, {});
        else if (form < 0.85) checkFlowLog(provider, Buffer.from(text), {});
        else {
          let gz: Buffer = gzipSync(text, { level: 1 });
          if (rand() < 0.5) gz = mutateBytes(rand, gz);
          checkFlowLog(provider, gz, rand() < 0.3 ? { maxInflatedBytes: int(rand, 4096) } : {});
        }
      },
    },
    {
      name: 'cloud: random text and JSON',
      run: (rand) => {
        const provider = pick(rand, CLOUD_PROVIDERS);
        const keys = [
          'records',
          'flowRecords',
          'flows',
          'flowGroups',
          'flowTuples',
          'properties',
          'jsonPayload',
          'connection',
          'src_ip',
          'dest_ip',
          'src_port',
          'bytes_sent',
          'time',
          'version',
        ];
        const r = rand();
        let text: string;
        if (r < 0.4) text = JSON.stringify(randomJson(rand, keys));
        else if (r < 0.7) {
          // AWS-like: a header of field names, then rows of random tokens.
          const names = Array.from({ length: 1 + int(rand, 14) }, () => pick(rand, AWS_FIELD_NAMES));
          const rows = Array.from({ length: int(rand, 5) }, () =>
            names
              .map(() =>
                pick(rand, [
                  '-',
                  '0',
                  '6',
                  '17',
                  '10.0.0.1',
                  '2001:db8::2',
                  'ACCEPT',
                  'OK',
                  'NODATA',
                  '99999999999999999999',
                  '-1',
                  '1.5',
                  randomText(rand, 6),
                ]),
              )
              .join(' '),
          );
          text = [names.join(' '), ...rows].join('\n');
        } else text = randomText(rand, 400);
        const format =
          provider === 'aws' && rand() < 0.3
            ? Array.from({ length: int(rand, 10) }, () =>
                rand() < 0.5 ? `\${${pick(rand, AWS_FIELD_NAMES)}}` : pick(rand, AWS_FIELD_NAMES),
              ).join(' ')
            : undefined;
        checkFlowLog(provider, text, format === undefined ? {} : { format });
      },
    },
    {
      name: 'cloud: Azure records framing',
      run: (rand) => {
        const azure = samples().filter((s) => s.provider === 'azure');
        const records: string[] = [];
        for (const s of azure) {
          for (const l of s.lines) {
            try {
              for (const rec of (JSON.parse(l) as { records: unknown[] }).records)
                records.push(JSON.stringify(rec));
            } catch {
              // not a records document
            }
          }
        }
        const n = int(rand, 5);
        const chosen = Array.from({ length: n }, () =>
          rand() < 0.6 && records.length > 0
            ? (records[int(rand, records.length)] as string)
            : JSON.stringify(randomJson(rand, ['a', 'b"}', '{', 'x\\'])),
        );
        let doc: Buffer = Buffer.from(`{"records":[${chosen.join(rand() < 0.9 ? ',' : ' ')}]}`);
        if (rand() < 0.6) doc = mutateBytes(rand, doc);
        checkFraming(doc, rand);
      },
    },
  ];
}

function checkFraming(doc: Buffer, rand: () => number): void {
  const whole = checked('frameAzureRecords', doc, 50, () => frameAzureRecords(doc, 'document'));
  require_(whole.consumed >= 0 && whole.consumed <= doc.length, `consumed ${whole.consumed}`, doc);
  for (const r of whole.records) {
    require_(r[0] === 0x7b && r[r.length - 1] === 0x7d, 'a framed record is not {...}', doc);
  }
  if (whole.notRecordsDocument || whole.consumed === 0) return;
  require_(
    framingStartAfter(doc[whole.consumed - 1]) === whole.resume,
    `resume ${whole.resume} after byte ${doc[whole.consumed - 1]}`,
    doc,
  );
  // Reading in two pieces (the blob grew in between) frames the same records as reading it at once.
  const cut = int(rand, doc.length + 1);
  const first = frameAzureRecords(doc.subarray(0, cut), 'document');
  if (first.notRecordsDocument || first.closed) return;
  const start = first.consumed === 0 ? 'document' : first.resume;
  const rest = frameAzureRecords(doc.subarray(first.consumed), start);
  const twoPieces = [...first.records, ...rest.records].map((r) => Buffer.from(r).toString('latin1'));
  const atOnce = whole.records.map((r) => Buffer.from(r).toString('latin1'));
  require_(
    JSON.stringify(twoPieces) === JSON.stringify(atOnce),
    `framing cut at ${cut} gives ${twoPieces.length} records, at once ${atOnce.length}`,
    doc,
  );
}

// ---- configuration loader ----

/** Dotted paths of every leaf of the default configuration (lists count as leaves). */
let configLeaves: string[][] | null = null;
function leaves(): string[][] {
  if (configLeaves === null) {
    const defaults = loadConfig({ file: null, env: {}, defaultFile: '/nonexistent/flowgate.yaml' }).config;
    const out: string[][] = [];
    const walk = (v: unknown, path: string[]) => {
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
        for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
      } else out.push(path);
    };
    walk(defaults, []);
    configLeaves = out;
  }
  return configLeaves;
}

const YAML_NASTIES = [
  'a: &x [1, 2]\nb: *x\n',
  '<<: {flow: 1}\n',
  '!!binary aGVsbG8=',
  '? [a, b]\n: 1\n',
  '%YAML 1.1\n---\n',
  '---\n...\n',
  "'unclosed",
  '"\\u0000\\ud800"',
  '{a: 1, a: 2}',
  '- !!set {a, b}\n',
  'x: !!int 0x7fffffffffffffffffff\n',
  'x: .inf\n',
  'x: .nan\n',
  '*undefinedAlias',
  '&a [*a]',
  '__proto__: {polluted: true}\n',
  'constructor: {prototype: {x: 1}}\n',
];

function randomConfigValue(rand: () => number): unknown {
  return pick(rand, [
    null,
    true,
    false,
    0,
    -1,
    1,
    65535,
    65536,
    2 ** 31,
    2 ** 53 + 2,
    1e308,
    0.5,
    '',
    ' ',
    'x',
    '0.0.0.0:2055',
    '[::]:2055',
    '127.0.0.1:0',
    ':99999',
    '10.0.0.0/8',
    '/tmp/x',
    '1h',
    '-5m',
    '10 MiB',
    'true',
    'info',
    'a'.repeat(int(rand, 300)),
    [],
    ['10.0.0.1', 42],
    [{ match: '10.0.0.0/8', name: 'edge' }],
    { x: 1 },
    [[[]]],
    randomText(rand, 20),
  ]);
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = obj;
  for (const seg of path.slice(0, -1)) {
    const next = o[seg];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) o[seg] = {};
    o = o[seg] as Record<string, unknown>;
  }
  o[path[path.length - 1] as string] = value;
}

const CONFIG_SLOW_MS = 500;

function checkConfig(
  file: string,
  text: string,
  env: Record<string, string>,
  flags: Record<string, unknown>,
): void {
  writeFileSync(file, text);
  const input = `${text}\n# env ${JSON.stringify(env)} flags ${JSON.stringify(flags)}`;
  checked('loadConfig', input, CONFIG_SLOW_MS, () => {
    try {
      const r = loadConfig({ file, env, flags, defaultFile: '/nonexistent/flowgate.yaml' });
      require_(r.config !== null && typeof r.config === 'object', 'loadConfig returned no config', input);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      require_(
        err.problems.length > 0 && err.problems.every((p) => typeof p === 'string' && p !== ''),
        `ConfigError without problems: ${JSON.stringify(err.problems)}`,
        input,
      );
    }
  });
}

export function configTargets(dir: string): FuzzTarget[] {
  const file = join(dir, 'flowgate.yaml');
  return [
    {
      name: 'config: random values at known keys, mutated YAML',
      run: (rand) => {
        const all = leaves();
        const doc: Record<string, unknown> = {};
        for (let n = 1 + int(rand, 8); n > 0; n--) {
          const path = [...(all[int(rand, all.length)] as string[])];
          // Sometimes a section gets the value, or an unknown key appears below a known one.
          if (rand() < 0.1 && path.length > 1) path.length = 1 + int(rand, path.length - 1);
          if (rand() < 0.05) path.push(randomText(rand, 8) || 'x');
          setPath(doc, path, randomConfigValue(rand));
        }
        let text = stringifyYaml(doc);
        const r = rand();
        if (r < 0.4) text = mutateText(rand, text);
        else if (r < 0.5) text = `${text}${pick(rand, YAML_NASTIES)}`;
        else if (r < 0.55) text = pick(rand, YAML_NASTIES);
        const env: Record<string, string> = {};
        const flags: Record<string, unknown> = {};
        if (rand() < 0.2) {
          const path = all[int(rand, all.length)] as string[];
          env[`FLOWGATE_${path.join('_').toUpperCase()}`] = String(randomConfigValue(rand));
        }
        if (rand() < 0.2) {
          const path = all[int(rand, all.length)] as string[];
          flags[rand() < 0.9 ? path.join('.') : randomText(rand, 10)] =
            rand() < 0.5 ? randomText(rand, 10) : randomConfigValue(rand);
        }
        checkConfig(file, text, env, flags);
      },
    },
  ];
}

// ---- filter language ----

// biome-ignore format: a word list reads better packed than one per line
const FILTER_WORDS = [
  'src', 'dst', 'host', 'ip', 'net', 'port', 'as', 'vlan', 'mask', 'country', 'natip', 'xip', 'proto', 'tcp',
  'udp', 'icmp', 'icmp6', 'and', 'or', 'not', '&&', '||', '!', '(', ')', '[', ']', ',', 'in', 'if', 'out',
  'name', 'exporter', 'nexthop', 'bgpnexthop', 'flags', 'SA', 'tag', 'any', 'bytes', 'bits', 'packets',
  'duration', 'samplerate', 'flowversion', 'ipversion', 'tos', 'icmp-type', 'icmp-code', '>', '<', '>=',
  '<=', '!=', '=', '==', 'eq', 'ne', 'lt', 'ge', '53', '0', '65535', '65536', '1000-2000', '2000-1000',
  '99999999999999999', '10.0.0.0/8', '10/8', '10.1.2.3/8', '1.2.3.4', '256.0.0.1', '2001:db8::/32',
  '::1', '::ffff:1.2.3.4', '1:2:3:4:5:6:7:8:9', 'FR', 'fr', 'XYZ', '"x y"', "'a\\'b'", '"', "'", 'ipv6',
  'ipv6-icmp', 'direction', 'ingress', 'flowtype', 'sflow', 'site', 'fwevent', 'natevent', '-', '&', '|',
];

function filterValue(rand: () => number): string {
  return pick(rand, [
    String(int(rand, 70000)),
    `${int(rand, 70000)}-${int(rand, 70000)}`,
    pick(rand, FILTER_WORDS),
    `${int(rand, 300)}.${int(rand, 300)}.${int(rand, 300)}.${int(rand, 300)}/${int(rand, 40)}`,
    `${int(rand, 256)}.${int(rand, 256)}.0.0/16`,
    `2001:db8:${int(rand, 0xffff).toString(16)}::/${int(rand, 140)}`,
    'SAFRPUECN'.slice(int(rand, 9)),
    JSON.stringify(randomText(rand, 6)),
  ]);
}

/** A filter from the grammar with random values: mostly valid, with mistakes on purpose. */
export function randomFilterText(rand: () => number, depth = 0): string {
  const r = rand();
  if (depth < 5 && r < 0.35) {
    const op = pick(rand, [' and ', ' or ', ' && ', ' || ', ' ']);
    return `${randomFilterText(rand, depth + 1)}${op}${randomFilterText(rand, depth + 1)}`;
  }
  if (depth < 5 && r < 0.45) return `${pick(rand, ['not ', '!', '! '])}${randomFilterText(rand, depth + 1)}`;
  if (depth < 5 && r < 0.55) return `(${randomFilterText(rand, depth + 1)})`;
  const dir = pick(rand, ['', '', 'src ', 'dst ', 'src or dst ', 'src and dst ']);
  const values = () =>
    rand() < 0.15
      ? `in [${Array.from({ length: int(rand, 4) }, () => filterValue(rand)).join(pick(rand, [' ', ', ', ',']))}]`
      : `${rand() < 0.3 ? `${pick(rand, ['=', '!=', '<', '>=', 'eq', 'gt'])} ` : ''}${filterValue(rand)}`;
  return pick(rand, [
    () => `${dir}${pick(rand, ['host', 'ip', 'net', 'natip'])} ${filterValue(rand)}`,
    () => `${dir}${pick(rand, ['port', 'as', 'vlan', 'mask', 'country'])} ${values()}`,
    () =>
      `${pick(rand, ['proto', 'tos', 'packets', 'bytes', 'bits', 'duration', 'icmp-type', 'icmp-code', 'flowversion', 'samplerate', 'ipversion'])} ${values()}`,
    () => pick(rand, ['tcp', 'udp', 'icmp', 'ipv4', 'ipv6', 'any', 'inet6']),
    () => `exporter ${rand() < 0.5 ? `name ${values()}` : filterValue(rand)}`,
    () => `${pick(rand, ['in if', 'out if', 'if'])} ${rand() < 0.3 ? 'name ' : ''}${values()}`,
    () =>
      `${pick(rand, ['tag', 'flags', 'flowtype', 'direction', 'site', 'fwevent', 'natevent', 'nexthop', 'bgpnexthop'])} ${values()}`,
  ])();
}

/** A record with random values in the fields filters read (some null, some odd). */
export function randomRecord(rand: () => number): FlowRecord {
  const rec = new FlowRecord();
  const num = (max: number) => (rand() < 0.2 ? null : int(rand, max + 1));
  const addr = () =>
    pick(rand, [
      null,
      '',
      '10.1.2.3',
      '192.0.2.1',
      '2001:db8::1',
      '::ffff:10.0.0.1',
      '::',
      'garbage',
      `${int(rand, 256)}.${int(rand, 256)}.${int(rand, 256)}.${int(rand, 256)}`,
    ]);
  rec.srcip = addr();
  rec.dstip = addr();
  rec.nexthop = addr();
  rec.bgpnexthop = addr();
  rec.postnatsrcip = addr();
  rec.postnatdstip = addr();
  rec.flowsrcip = addr() ?? '';
  rec.srcport = num(65535);
  rec.dstport = num(65535);
  rec.protocolint = num(255);
  rec.tcpflagsint = num(511);
  rec.bits = num(2 ** 40);
  rec.packets = num(2 ** 30);
  rec.srcas = num(2 ** 32 - 1);
  rec.input = num(100);
  rec.flowdirection = pick(rand, [null, 'ingress', 'egress']);
  rec.flowsrcname = pick(rand, [null, 'edge', 'EDGE', 'x y']);
  rec.inputname = pick(rand, [null, 'eth0', 'Gi0/1']);
  rec.tags = pick(rand, [null, [], ['a'], ['x y', 'SA']]);
  rec.srcgeo =
    rand() < 0.5
      ? null
      : { countrycode: pick(rand, [null, 'FR', 'us']), continentcode: null, location: null };
  return rec;
}

const FILTER_SLOW_MS = 50;

function checkFilter(text: string, records: FlowRecord[]): void {
  const e = checked('parseFilter', text, FILTER_SLOW_MS, () => {
    try {
      return parseFilter(text);
    } catch (err) {
      if (!(err instanceof FilterSyntaxError)) throw err;
      require_(
        Number.isInteger(err.position) &&
          err.position >= 0 &&
          err.position <= Math.max(text.length, MAX_FILTER_LENGTH),
        `FilterSyntaxError position ${err.position} outside the text (${err.message})`,
        text,
      );
      require_(/column \d+/.test(err.message), `FilterSyntaxError without a column: ${err.message}`, text);
      return null;
    }
  });
  if (e === null) return;
  const printed = checked('formatFilter', text, FILTER_SLOW_MS, () => formatFilter(e));
  let again: FilterExpr;
  try {
    again = parseFilter(printed);
  } catch (err) {
    // Printing expands `port 53` to `src port 53 or dst port 53`: near the limits the text can grow
    // past them. Any other refusal is a printer bug.
    const atLimit = err instanceof FilterSyntaxError && /limit is|nested deeper/.test(err.message);
    require_(
      atLimit,
      `formatFilter printed ${JSON.stringify(printed)}, which does not parse: ${(err as Error).message}`,
      text,
    );
    return;
  }
  require_(
    JSON.stringify(again) === JSON.stringify(e),
    `formatFilter printed ${JSON.stringify(printed)}, which parses to another tree`,
    text,
  );
  for (const rec of records) {
    const m = checked('matchFilter', text, FILTER_SLOW_MS, () => matchFilter(e, rec));
    require_(typeof m === 'boolean', `matchFilter returned ${m}`, text);
  }
}

export function filterTargets(): FuzzTarget[] {
  return [
    {
      name: 'filter: random text and token soup',
      run: (rand) => {
        const text =
          rand() < 0.5
            ? Array.from({ length: int(rand, 25) }, () => pick(rand, FILTER_WORDS)).join(
                rand() < 0.8 ? ' ' : '',
              )
            : randomText(rand, 80);
        checkFilter(text, [randomRecord(rand)]);
      },
    },
    {
      name: 'filter: grammar-aware filters, print and match',
      run: (rand) => {
        let text = randomFilterText(rand);
        if (rand() < 0.2) text = mutateText(rand, text);
        checkFilter(text, [randomRecord(rand), randomRecord(rand), randomRecord(rand)]);
      },
    },
  ];
}

// ---- agent parsers ----

/** conntrack-tools 1.4.7 lines (test/agent/conntrack-events.test.ts), the seeds of mutation. */
const CONNTRACK_LINES = [
  '[1795497721.124955]\t    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=127.0.0.1 dst=127.0.0.1 sport=58660 dport=8099 [UNREPLIED] src=127.0.0.1 dst=127.0.0.1 sport=8099 dport=58660 id=3237647340',
  '[1795497734.922457]\t[DESTROY] ipv4     2 tcp      6 106 TIME_WAIT src=127.0.0.1 dst=127.0.0.1 sport=58660 dport=8099 packets=6 bytes=398 src=127.0.0.1 dst=127.0.0.1 sport=8099 dport=58660 packets=6 bytes=1511 [ASSURED] id=3237647340 [USERSPACE] portid=2521222855',
  'ipv4     2 icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=4711 packets=1 bytes=84 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=4711 packets=1 bytes=84 mark=0 use=1 id=99',
  'ipv6     10 udp      17 29 src=fd00::1 dst=fd00::2 sport=5353 dport=53 packets=2 bytes=160 [UNREPLIED] src=fd00::2 dst=fd00::1 sport=53 dport=5353 packets=0 bytes=0 mark=0 zone=3 use=1 id=7',
];
const CONNTRACK_TYPES = new Set(['NEW', 'UPDATE', 'DESTROY', 'LIST']);

function keyProblem(k: FlowKey): string | null {
  if (k.family !== 4 && k.family !== 6) return `family ${k.family}`;
  if (typeof k.src !== 'string' || k.src === '' || typeof k.dst !== 'string' || k.dst === '')
    return 'empty address';
  for (const [name, v, max] of [
    ['srcPort', k.srcPort, 65535],
    ['dstPort', k.dstPort, 65535],
    ['protocol', k.protocol, 255],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) return `${name} = ${v}`;
  }
  return null;
}

function conntrackProblem(e: ConntrackEntry): string | null {
  if (!CONNTRACK_TYPES.has(e.type)) return `type ${e.type}`;
  if (e.timeMs !== null && !Number.isSafeInteger(e.timeMs)) return `timeMs ${e.timeMs}`;
  if (e.id !== null && (!Number.isInteger(e.id) || e.id < 0 || e.id > 0xffffffff)) return `id ${e.id}`;
  const k = keyProblem(e.orig) ?? keyProblem(e.reply);
  if (k !== null) return k;
  for (const c of [e.origCounters, e.replyCounters]) {
    if (
      c !== null &&
      !(Number.isSafeInteger(c.packets) && c.packets >= 0 && Number.isSafeInteger(c.bytes) && c.bytes >= 0)
    ) {
      return `counters ${JSON.stringify(c)}`;
    }
  }
  return null;
}

export function agentTargets(): FuzzTarget[] {
  const h = new PacketHeaders();
  const cache = new FlowKeyCache(64);
  return [
    {
      name: 'agent: packet headers',
      run: (rand) => {
        const link = pick(rand, LINK_TYPES);
        let f: Buffer = randomFrame(rand, link, randomIpPacket(rand));
        if (rand() < 0.4) f = mutateBytes(rand, f);
        // The agent captures with a short snapshot length.
        if (rand() < 0.3) f = f.subarray(0, int(rand, 129));
        const r = checked('parsePacketHeaders', f, 50, () => parsePacketHeaders(link, f, h));
        require_(r === HEADERS_PARSED || r === HEADERS_NOT_IP || r === HEADERS_MALFORMED, `result ${r}`, f);
        if (r !== HEADERS_PARSED) return;
        const addrLen = h.family === 4 ? 8 : 32;
        require_(
          h.addressOffset >= 0 && h.addressOffset + addrLen <= f.length,
          `addressOffset ${h.addressOffset}`,
          f,
        );
        require_(Number.isInteger(h.ipLength) && h.ipLength >= 0, `ipLength ${h.ipLength}`, f);
        const key = checked('flowKeyOf', f, 50, () => flowKeyOf(f, h));
        const problem = keyProblem(key);
        require_(problem === null, `flowKeyOf: ${problem}`, f);
        require_(
          JSON.stringify(cache.keyOf(f, h)) === JSON.stringify(key),
          'FlowKeyCache gives another key',
          f,
        );
      },
    },
    {
      name: 'agent: conntrack lines',
      run: (rand) => {
        const r = rand();
        const line =
          r < 0.7
            ? mutateText(rand, pick(rand, CONNTRACK_LINES))
            : r < 0.9
              ? Array.from({ length: int(rand, 20) }, () =>
                  pick(rand, [
                    'ipv4',
                    'ipv6',
                    '2',
                    '10',
                    'tcp',
                    '6',
                    '17',
                    '1',
                    '[NEW]',
                    '[DESTROY]',
                    'src=10.0.0.1',
                    'dst=::1',
                    'sport=70000',
                    'dport=-1',
                    'type=300',
                    'code=9',
                    'id=x',
                    'packets=1e400',
                    'bytes=NaN',
                    `${pick(rand, ['sport', 'dport', 'packets', 'bytes', 'id', 'type', 'code'])}=${filterValue(rand)}`,
                  ]),
                ).join(' ')
              : randomText(rand, 200);
        const e = checked('parseConntrackLine', line, 50, () => parseConntrackLine(line));
        if (e === null) return;
        const problem = conntrackProblem(e);
        require_(problem === null, `parseConntrackLine: ${problem}`, line);
      },
    },
  ];
}

// ---- flow decoders ----

function fuzzDatagram(payload: Buffer, src: string): Datagram {
  return {
    payload,
    srcAddress: src,
    srcPort: 50000,
    dstPort: 2055,
    receivedAtMs: Date.UTC(2024, 0, 1),
    connectionId: null,
  };
}

function checkDecode(decoder: FlowDecoder, d: Datagram, what: string): void {
  checked(what, d.payload, 50, () => decoder.decode(d, new CollectingSink()));
}

/** The decoders, as bench/fuzz-long.ts always ran them: random bodies behind each header, corpus bit flips. */
export function decoderTargets(): FuzzTarget[] {
  const random = Object.entries(HEADERS).map(([name, header]): FuzzTarget => {
    const decoder = new FlowDecoder(defaultDecoderSettings());
    return {
      name: `decoder: ${name} random`,
      run: (rand) => {
        const body = randomBytes(rand, int(rand, 3) === 0 ? int(rand, 9000) : int(rand, 1500));
        checkDecode(
          decoder,
          fuzzDatagram(header(body, int(rand, 2 ** 31)), `198.51.100.${int(rand, 64)}`),
          `${name} random`,
        );
      },
    };
  });
  let corpus: { decoder: FlowDecoder; datagrams: Datagram[] }[] | null = null;
  const mutated: FuzzTarget = {
    name: 'decoder: mutated corpus datagrams',
    run: (rand) => {
      if (corpus === null) {
        corpus = ['netflow5', 'netflow9', 'ipfix', 'sflow'].map((folder) => {
          const decoder = new FlowDecoder(defaultDecoderSettings());
          const datagrams = corpusFiles(folder).flatMap((f) =>
            [...readCaptureFile(f)].filter((d) => detectProtocol(d.payload) !== null),
          );
          // Taught the corpus's templates first, so data sets get decoded.
          for (const d of datagrams) decoder.decode(d, new CollectingSink());
          return { decoder, datagrams };
        });
      }
      const { decoder, datagrams } = corpus[int(rand, corpus.length)] as {
        decoder: FlowDecoder;
        datagrams: Datagram[];
      };
      const d = datagrams[int(rand, datagrams.length)] as Datagram;
      checkDecode(decoder, { ...d, payload: mutateBytes(rand, d.payload) }, 'mutated corpus datagram');
    },
  };
  return [...random, mutated];
}

/** Every target: capture reader, cloud flow logs, configuration, filters, agent parsers, decoders. */
export function allTargets(dir: string): FuzzTarget[] {
  return [
    ...captureTargets(dir),
    ...cloudTargets(),
    ...configTargets(dir),
    ...filterTargets(),
    ...agentTargets(),
    ...decoderTargets(),
  ];
}

/** A seed per target, so one target replays alone with the run's seed. */
export function targetSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
