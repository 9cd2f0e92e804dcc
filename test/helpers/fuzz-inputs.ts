/**
 * Inputs for fuzzing the decoders, shared by test/fuzz/decoders.fuzz.test.ts and the longer
 * bench/fuzz-long.ts.
 */

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
