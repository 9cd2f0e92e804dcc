/**
 * Detection under hostile traffic: memory (RSS and V8 heap after a full GC) and records/s through
 * DetectionEngine.observe, on one core, for
 *   (a) a SYN flood from 1,000,000 distinct spoofed sources to one internal host,
 *   (b) a "carpet bombing" flood: 1,000,000 spoofed sources to every host of an internal /12
 *       (each record a new destination: the host table fills to maxhosts and stops there),
 *   (c) ordinary traffic: 20,000 internal hosts talking to 50,000 external ones.
 * One record object is refilled per observation (its building is timed too); flow time advances
 * 10,000 records per second. Heap growth: after a full GC, with the engine still referenced.
 *
 *   node --expose-gc --import tsx bench/detect-memory.ts [--records 1000000]
 */
import type { AlertEvent, AlertSink } from '../src/detect/alert.js';
import { defaultDetectionConfig } from '../src/detect/detection-config.js';
import { DetectionEngine } from '../src/detect/engine.js';
import { ipv4FromU32 } from '../src/record/address.js';
import { FlowRecord } from '../src/record/flow-record.js';

const recordsIndex = process.argv.indexOf('--records');
const N = recordsIndex >= 0 ? Number(process.argv[recordsIndex + 1]) : 1_000_000;
const T0 = Date.UTC(2026, 0, 5, 12);
const INTERNAL_12 = (10 << 24) >>> 0;

class Count implements AlertSink {
  readonly name = 'count';
  starts = 0;
  handle(e: AlertEvent): void {
    if (e.type === 'start') this.starts++;
  }
  async close(): Promise<void> {}
}

/** One record object, refilled for every observation: the engine keeps no reference to it. */
const r = new FlowRecord();

function record(src: number, dst: number, i: number, syn: boolean): FlowRecord {
  const t = T0 + Math.floor(i / 10_000) * 1000;
  r.srcip = ipv4FromU32(src);
  r.srcip4 = src;
  r.dstip = ipv4FromU32(dst);
  r.dstip4 = dst;
  r.srcinternal = src >>> 24 === 10;
  r.dstinternal = dst >>> 24 === 10;
  r.protocolint = 6;
  r.tcpflagsint = syn ? 0x02 : 0x18;
  r.srcport = 1024 + (i % 60_000);
  r.dstport = syn ? 443 : 80;
  r.packets = syn ? 1 : 20;
  r.bits = syn ? 480 : 20 * 8000;
  r.start = t;
  r.end = t;
  r.flowsrcip = '192.0.2.1';
  return r;
}

/** Spoofed sources: every record from a different address in 64.0.0.0/2 (never internal). */
function spoofed(i: number): number {
  return ((Math.imul(i, 2654435761) & 0x3fffffff) | 0x40000000) >>> 0;
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MB`;
}

function measure(name: string, make: (i: number) => FlowRecord): void {
  globalThis.gc?.();
  const before = process.memoryUsage();
  const sink = new Count();
  const engine = new DetectionEngine(defaultDetectionConfig(), [sink]);
  const start = performance.now();
  // Building the record (two address texts) is timed too: ~0.1 µs of each observation.
  for (let i = 0; i < N; i++) engine.observe(make(i), T0 + Math.floor(i / 10_000) * 1000);
  const secs = (performance.now() - start) / 1000;
  globalThis.gc?.();
  const after = process.memoryUsage();
  const s = engine.status();
  void engine;
  console.log(
    `| ${name} | ${Math.round(N / secs).toLocaleString('en-US')} | ${s.hosts.toLocaleString('en-US')} | ${s.hostsDropped.toLocaleString('en-US')} | ${mb(after.heapUsed - before.heapUsed)} | ${mb(after.rss)} | ${sink.starts} |`,
  );
}

console.log(`${N.toLocaleString('en-US')} records per run, node ${process.version}`);
console.log('| traffic | records/s | hosts tracked | hosts not tracked | heap growth | RSS after | alerts |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
measure('SYN flood, 1 M spoofed sources → 1 host', (i) =>
  record(spoofed(i), (INTERNAL_12 | 5) >>> 0, i, true),
);
measure('carpet bombing, 1 M spoofed sources → a /12', (i) =>
  record(spoofed(i), (INTERNAL_12 | ((i * 7919) & 0xfffff)) >>> 0, i, true),
);
measure('ordinary: 20,000 internal ↔ 50,000 external hosts', (i) => {
  const inside = (INTERNAL_12 | (i % 20_000)) >>> 0;
  const outside = (0xc6120000 + (Math.imul(i, 40503) % 50_000)) >>> 0;
  return i % 2 === 0 ? record(outside, inside, i, false) : record(inside, outside, i, false);
});
