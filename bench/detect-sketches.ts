/**
 * One-core update rate and memory of the detection sketches (src/detect/sketch/): the cost every
 * flow record pays per tracked key. Inputs are precomputed so only the sketch is measured; memory
 * per instance is measured by creating 5000 filled instances (heap + ArrayBuffer growth), which
 * includes object headers and, for TopK, the Map.
 *
 *   node --expose-gc --import tsx bench/detect-sketches.ts [--seconds 1]
 */
import { CappedDistinct } from '../src/detect/sketch/capped-distinct.js';
import { HyperLogLog } from '../src/detect/sketch/hyperloglog.js';
import { TopK } from '../src/detect/sketch/top-k.js';

const secondsArg = process.argv.indexOf('--seconds');
const seconds = secondsArg >= 0 ? Number(process.argv[secondsArg + 1]) : 1;
const INPUT_SIZE = 1 << 16;

/** Deterministic pseudo-random u32s (xorshift32), so runs are comparable. */
function randomU32s(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 0;
  }
  return out;
}

/** Keys where a few dominate, like talkers towards a victim: key = floor(N / (rank draw)). */
function skewedKeys(n: number): Uint32Array {
  const r = randomU32s(n, 7);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(1 / ((r[i] / 2 ** 32) * 0.999 + 0.001)) >>> 0;
  return out;
}

/** Runs `batch` (which performs INPUT_SIZE updates) until `seconds` elapsed; returns updates/s. */
function rate(batch: () => void): number {
  for (let i = 0; i < 20; i++) batch(); // warm-up, lets the JIT optimise
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let updates = 0;
  let now = start;
  while (now < deadline) {
    batch();
    updates += INPUT_SIZE;
    now = process.hrtime.bigint();
  }
  return updates / (Number(now - start) / 1e9);
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Bytes per instance, from heap + ArrayBuffer growth over 5000 instances (needs --expose-gc). */
function bytesPerInstance(make: () => unknown): number | undefined {
  if (!gc) return undefined;
  const count = 5000;
  const kept: unknown[] = new Array(count).fill(null);
  gc();
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < count; i++) kept[i] = make();
  gc();
  gc();
  const after = process.memoryUsage();
  const grown = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  if (kept[count - 1] === null) throw new Error('unreachable');
  return grown / count;
}

// Memory first, before the benchmarks leave garbage behind that would blur the heap deltas.
const hllBytes = bytesPerInstance(() => {
  const h = new HyperLogLog(10);
  for (let i = 0; i < 5000; i++) h.addU32(i);
  return h;
});
const capped1024Bytes = bytesPerInstance(() => {
  const c = new CappedDistinct(1024);
  for (let i = 0; i < 2000; i++) c.add(i * 31);
  return c;
});
const capped256Bytes = bytesPerInstance(() => {
  const c = new CappedDistinct(256);
  for (let i = 0; i < 300; i++) c.add(i * 31);
  return c;
});
const topKBytes = bytesPerInstance(() => {
  const t = new TopK(32);
  for (let i = 0; i < 100; i++) t.add(i, 1000 + i);
  return t;
});

const random = randomU32s(INPUT_SIZE, 12345);
const ports = new Uint32Array(INPUT_SIZE).map((_, i) => random[i] & 0xffff);
const skewed = skewedKeys(INPUT_SIZE);

interface Row {
  sketch: string;
  update: string;
  rate: number;
  stateBytes: number;
  measuredBytes: number | undefined;
}
const rows: Row[] = [];

const hll = new HyperLogLog(10);
rows.push({
  sketch: 'HyperLogLog(p=10)',
  update: 'addU32, random u32',
  rate: rate(() => {
    for (let i = 0; i < INPUT_SIZE; i++) hll.addU32(random[i]);
  }),
  stateBytes: hll.byteSize,
  measuredBytes: hllBytes,
});

const ipv6 = Array.from(
  { length: 4096 },
  (_, i) => `2001:db8:${(random[i] >>> 16).toString(16)}::${(random[i] & 0xffff).toString(16)}`,
);
rows.push({
  sketch: 'HyperLogLog(p=10)',
  update: 'addString, IPv6 text',
  rate: rate(() => {
    for (let i = 0; i < INPUT_SIZE; i++) hll.addString(ipv6[i & 4095]);
  }),
  stateBytes: hll.byteSize,
  measuredBytes: undefined,
});

// A scanner: the set fills to the cap, then every further port is a membership probe.
const portSet = new CappedDistinct(1024);
rows.push({
  sketch: 'CappedDistinct(1024)',
  update: 'add, random port',
  rate: rate(() => {
    for (let i = 0; i < INPUT_SIZE; i++) portSet.add(ports[i]);
  }),
  stateBytes: portSet.byteSize,
  measuredBytes: capped1024Bytes,
});

// Refilled from empty every 256 adds: measures the growing phase, not just probes of a full set.
const smallSet = new CappedDistinct(256);
rows.push({
  sketch: 'CappedDistinct(256)',
  update: 'add, cleared every 256',
  rate: rate(() => {
    for (let i = 0; i < INPUT_SIZE; i++) {
      if ((i & 255) === 0) smallSet.clear();
      smallSet.add(random[i]);
    }
  }),
  stateBytes: smallSet.byteSize,
  measuredBytes: capped256Bytes,
});

const skewedTop = new TopK(32);
rows.push({
  sketch: 'TopK(32)',
  update: 'add, skewed u32 keys',
  rate: rate(() => {
    for (let i = 0; i < INPUT_SIZE; i++) skewedTop.add(skewed[i], 8 * 1200, 1, 1);
  }),
  stateBytes: 32 * (4 * 8 + 2 * 4),
  measuredBytes: topKBytes,
});

// Spoofed random sources: almost every update evicts the minimum.
const randomTop = new TopK(32);
rows.push({
  sketch: 'TopK(32)',
  update: 'add, random u32 keys',
  rate: rate(() => {
    for (let i = 0; i < INPUT_SIZE; i++) randomTop.add(random[i], 8 * 1200, 1, 1);
  }),
  stateBytes: 32 * (4 * 8 + 2 * 4),
  measuredBytes: undefined,
});

const header = ['sketch', 'update', 'updates/s (1 core)', 'state bytes', 'bytes/instance (measured)'];
const table = rows.map((r) => [
  r.sketch,
  r.update,
  Math.round(r.rate).toLocaleString('en'),
  String(r.stateBytes),
  r.measuredBytes === undefined ? '-' : String(Math.round(r.measuredBytes)),
]);
const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
const line = (cells: string[]) => `| ${cells.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
console.log(line(header));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const row of table) console.log(line(row));
console.log(
  `node ${process.version}, ${seconds} s per row${gc ? '' : ' (run with --expose-gc for measured bytes)'}`,
);
