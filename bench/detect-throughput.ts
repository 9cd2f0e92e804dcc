/**
 * Records/s through DetectionEngine.observe with the default detection config, on the demo
 * traffic model's mix (three exporters, sampled and unsampled, IPv4 and IPv6) with its clients
 * spread over 20,000 internal hosts, and the demo attack running throughout (a reflection flood on
 * one victim, a port scan): so alerts are active and their incidents collect records, as in the
 * collector under attack. Flow time advances `--rate` records per second; a pre-generated pass is
 * replayed with its times shifted, one FlowRecord refilled per observation (as a decoder does),
 * tick() once per second of arrival time (as the collector does).
 *
 *   node --import tsx bench/detect-throughput.ts [--seconds 3] [--rate 50000] [--no-attack] [--profile FILE]
 *
 * --profile writes a V8 CPU profile (.cpuprofile) of the timed part only, without the generation.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { configSchema } from '../src/config/schema.js';
import { ATTACK, TrafficModel } from '../src/demo/traffic-model.js';
import type { AlertEvent, AlertSink } from '../src/detect/alert.js';
import { DetectionEngine } from '../src/detect/engine.js';
import { FlowRecord } from '../src/record/flow-record.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = arg('--seconds', 3);
const RATE = arg('--rate', 50_000);
const ATTACKING = !process.argv.includes('--no-attack');
/** Flow seconds in one pre-generated pass. */
const PASS_SECONDS = 10;
const HOSTS = 20_000;
const T0 = Date.UTC(2026, 0, 5, 12);

class Count implements AlertSink {
  readonly name = 'count';
  events = 0;
  handle(_e: AlertEvent): void {
    this.events++;
  }
  async close(): Promise<void> {}
}

function u32Of(address: string): number {
  if (address.includes(':')) return -1;
  const p = address.split('.').map(Number);
  return (
    (((p[0] as number) << 24) | ((p[1] as number) << 16) | ((p[2] as number) << 8) | (p[3] as number)) >>> 0
  );
}

/** The pass, column by column (addresses interned: the same string object for the same host). */
const pass = {
  srcip: [] as string[],
  dstip: [] as string[],
  srcip4: [] as number[],
  dstip4: [] as number[],
  srcinternal: [] as boolean[],
  dstinternal: [] as boolean[],
  srcport: [] as number[],
  dstport: [] as number[],
  protocol: [] as number[],
  tcpflags: [] as number[],
  bits: [] as number[],
  packets: [] as number[],
  start: [] as number[],
  end: [] as number[],
  samplerate: [] as (number | null)[],
  exporter: [] as string[],
  input: [] as number[],
  output: [] as number[],
};

const interned = new Map<string, string>();
function intern(s: string): string {
  let v = interned.get(s);
  if (v === undefined) {
    v = s;
    interned.set(s, v);
  }
  return v;
}

/** Many hosts: the demo's 60 clients become 20,000, a few busy and most quiet. */
let seed = 12345;
function random(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
}
function spreadClient(address: string): string {
  if (!address.startsWith('10.1.') || address === ATTACK.floodVictim || address === ATTACK.scanTarget)
    return address;
  const k = Math.floor(HOSTS * random() ** 3);
  return intern(`10.${2 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`);
}
function isInternal(address: string): boolean {
  return address.startsWith('10.') || address.startsWith('2001:db8:100:');
}

const model = new TrafficModel({
  seed: 7,
  startMs: T0 - 60_000,
  attackAfterSec: ATTACKING ? 0 : null,
  attackDurationSec: 1e9,
});
for (let s = 0; s < PASS_SECONDS; s++) {
  const nowMs = T0 + s * 1000;
  for (const exporter of model.exporters) {
    const flows = model.flows(exporter, Math.round(RATE * exporter.share * (ATTACKING ? 0.65 : 1)), nowMs);
    for (const f of flows) {
      const src = intern(spreadClient(f.srcAddr));
      const dst = intern(spreadClient(f.dstAddr));
      pass.srcip.push(src);
      pass.dstip.push(dst);
      pass.srcip4.push(u32Of(src));
      pass.dstip4.push(u32Of(dst));
      pass.srcinternal.push(isInternal(src));
      pass.dstinternal.push(isInternal(dst));
      pass.srcport.push(f.srcPort);
      pass.dstport.push(f.dstPort);
      pass.protocol.push(f.protocol);
      pass.tcpflags.push(f.tcpFlags);
      pass.bits.push(f.bytes * 8);
      pass.packets.push(f.packets);
      pass.start.push(f.startMs);
      pass.end.push(f.endMs);
      pass.samplerate.push(exporter.samplingRate > 1 ? exporter.samplingRate : null);
      pass.exporter.push(exporter.address);
      pass.input.push(f.input);
      pass.output.push(f.output);
    }
  }
}
const N = pass.srcip.length;

/** One record object, refilled for every observation: the engine keeps no reference to it. */
const rec = new FlowRecord();
let passIndex = 0;
let nextTick = 0;

/** Observes `count` records from where the replay stands; returns the alert events so far. */
function run(engine: DetectionEngine, count: number, from: number): number {
  let i = from;
  for (let n = 0; n < count; n++, i++) {
    const j = i % N;
    if (j === 0 && i > 0) passIndex++;
    const shift = passIndex * PASS_SECONDS * 1000;
    const end = (pass.end[j] as number) + shift;
    rec.srcip = pass.srcip[j] as string;
    rec.dstip = pass.dstip[j] as string;
    rec.srcip4 = pass.srcip4[j] as number;
    rec.dstip4 = pass.dstip4[j] as number;
    rec.srcinternal = pass.srcinternal[j] as boolean;
    rec.dstinternal = pass.dstinternal[j] as boolean;
    rec.srcport = pass.srcport[j] as number;
    rec.dstport = pass.dstport[j] as number;
    rec.protocolint = pass.protocol[j] as number;
    rec.tcpflagsint = pass.tcpflags[j] as number;
    rec.bits = pass.bits[j] as number;
    rec.packets = pass.packets[j] as number;
    rec.start = (pass.start[j] as number) + shift;
    rec.end = end;
    rec.samplerate = pass.samplerate[j] as number | null;
    rec.flowsrcip = pass.exporter[j] as string;
    rec.input = pass.input[j] as number;
    rec.output = pass.output[j] as number;
    // Arrival: the second after the record's generation second, so flow time never runs ahead.
    const arrival = T0 + shift + Math.floor(j / (N / PASS_SECONDS)) * 1000 + 1000;
    rec.timestamp = Math.floor(arrival / 1000);
    if (arrival >= nextTick) {
      engine.tick(arrival);
      nextTick = arrival + 1000;
    }
    engine.observe(rec, arrival);
  }
  return i;
}

const sink = new Count();
const engine = new DetectionEngine(configSchema.parse({}).detection, [sink]);
// Warm-up: two passes (JIT, host table filled, alerts raised).
let at = run(engine, 2 * N, 0);
const profileAt = process.argv.indexOf('--profile');
const session = profileAt >= 0 ? new Session() : null;
if (session !== null) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const CHUNK = 10_000;
let done = 0;
const started = performance.now();
let elapsed = 0;
while (elapsed < SECONDS * 1000) {
  at = run(engine, CHUNK, at);
  done += CHUNK;
  elapsed = performance.now() - started;
}
if (session !== null) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(process.argv[profileAt + 1] as string, JSON.stringify(profile));
  session.disconnect();
}
const perSec = done / (elapsed / 1000);
const s = engine.status();
console.log(
  `detect-throughput: ${Math.round(perSec).toLocaleString('en-US')} records/s, ${((elapsed * 1e6) / done).toFixed(0)} ns/record ` +
    `(${done.toLocaleString('en-US')} records in ${(elapsed / 1000).toFixed(2)} s; pass ${N.toLocaleString('en-US')} records / ${PASS_SECONDS} s flow time; ` +
    `hosts ${s.hosts}, active alerts ${s.activeAlerts}, started ${s.alertsStarted}, events ${sink.events}, node ${process.version})`,
);
