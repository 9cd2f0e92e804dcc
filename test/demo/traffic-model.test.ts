import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RATE, DEFAULT_TICK_MS } from '../../src/demo/demo-exporters.js';
import { ATTACK, DEMO_EXPORTERS, TrafficModel } from '../../src/demo/traffic-model.js';

const START = Date.UTC(2026, 10, 23, 12, 0, 0);

/** RFC 1918 10/8 inside; RFC 5737 / RFC 3849 documentation ranges outside; nothing else. */
function allowedAddress(a: string): boolean {
  return (
    a.startsWith('10.') ||
    a.startsWith('192.0.2.') ||
    a.startsWith('198.51.100.') ||
    a.startsWith('203.0.113.') ||
    a.startsWith('2001:db8:')
  );
}

function run(seed: number, attackAfterSec: number | null, seconds: number) {
  const model = new TrafficModel({ seed, startMs: START, attackAfterSec });
  const out = [];
  for (let s = 0; s < seconds; s++) {
    for (const e of model.exporters) out.push(...model.flows(e, 50, START + s * 1000));
  }
  return { model, flows: out };
}

/**
 * What the collector would estimate from a minute of the demo at its default rate, paced as the
 * demo's exporters pace it: bits/s in all, per exporter, per source and destination host
 * (sampled bytes × sampling rate, the collector's estimate).
 */
function estimatedMinute(seed: number, attackAfterSec: number | null) {
  const model = new TrafficModel({ seed, startMs: START, attackAfterSec });
  const carry = model.exporters.map(() => 0);
  const perExporter = new Map<string, number>();
  const bySrc = new Map<string, number>();
  const byDst = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, bits: number) => m.set(k, (m.get(k) ?? 0) + bits / 60);
  let total = 0;
  for (let t = 0; t < 60_000; t += DEFAULT_TICK_MS) {
    model.exporters.forEach((e, i) => {
      const want = (DEFAULT_RATE * e.share * DEFAULT_TICK_MS) / 1000 + carry[i];
      const n = Math.floor(want);
      carry[i] = want - n;
      for (const f of model.flows(e, n, START + t)) {
        const bits = f.bytes * 8 * e.samplingRate;
        total += bits / 60;
        add(perExporter, e.name, bits);
        add(bySrc, f.srcAddr, bits);
        add(byDst, f.dstAddr, bits);
      }
    });
  }
  const top = (m: Map<string, number>) => Math.max(...m.values());
  return { total, perExporter, topSrc: top(bySrc), topDst: top(byDst), byDst };
}

const M = 1e6;
const mbps = (bps: number) => `${(bps / M).toFixed(0)} Mb/s`;

describe('demo traffic model', () => {
  it('estimates a small-to-medium network at the default rate: 0.3-2 Gb/s, top hosts 10-1000 Mb/s', () => {
    for (const seed of [1, 2, 3]) {
      const m = estimatedMinute(seed, null);
      assert.ok(m.total >= 300 * M && m.total <= 2000 * M, `seed ${seed}: ${mbps(m.total)} in all`);
      assert.deepEqual([...m.perExporter.keys()].sort(), ['campus-switch', 'dc-firewall', 'edge-router']);
      for (const [name, bps] of m.perExporter)
        assert.ok(bps >= 20 * M && bps <= 1500 * M, `seed ${seed}: ${name} ${mbps(bps)}`);
      for (const top of [m.topSrc, m.topDst])
        assert.ok(top >= 10 * M && top <= 1000 * M, `seed ${seed}: top host ${mbps(top)}`);
    }
  });

  it('makes the flood stand out without leaving the network plausible', () => {
    const quiet = estimatedMinute(4, null);
    const attacked = estimatedMinute(4, 0);
    const victim = attacked.byDst.get(ATTACK.floodVictim) ?? 0;
    assert.ok(victim >= 300 * M && victim <= 2000 * M, `victim receives ${mbps(victim)}`);
    assert.equal(attacked.topDst, victim, 'the victim is the top destination');
    assert.ok(attacked.total <= 4000 * M, `${mbps(attacked.total)} in all under attack`);
    assert.ok(attacked.total > quiet.total + 300 * M, `${mbps(quiet.total)} -> ${mbps(attacked.total)}`);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = run(42, 10, 20).flows;
    const b = run(42, 10, 20).flows;
    const c = run(43, 10, 20).flows;
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('uses only private and documentation addresses, valid ports and interfaces', () => {
    const { flows } = run(7, 5, 30);
    for (const f of flows) {
      assert.ok(allowedAddress(f.srcAddr), f.srcAddr);
      assert.ok(allowedAddress(f.dstAddr), f.dstAddr);
      assert.ok(allowedAddress(f.nextHop), f.nextHop);
      assert.equal(f.srcAddr.includes(':'), f.ipVersion === 6);
      assert.ok(f.srcPort > 0 && f.srcPort < 65536 && f.dstPort > 0 && f.dstPort < 65536);
      assert.ok(f.packets >= 1 && f.bytes >= f.packets * 40, `${f.bytes} bytes / ${f.packets} packets`);
      assert.ok(f.startMs <= f.endMs);
      assert.ok(f.input > 0 && f.output > 0 && f.input !== f.output);
    }
    assert.ok(flows.some((f) => f.ipVersion === 6));
    assert.ok(flows.some((f) => f.ipVersion === 4));
  });

  it('is heavy-tailed: the top 10% of flows carry most bytes, the top client dominates', () => {
    const { flows } = run(3, null, 60);
    const normal = flows.filter((f) => f.packets > 1);
    const bytes = normal.map((f) => f.bytes).sort((x, y) => y - x);
    const total = bytes.reduce((s, b) => s + b, 0);
    const top = bytes.slice(0, Math.ceil(bytes.length / 10)).reduce((s, b) => s + b, 0);
    assert.ok(top / total > 0.5, `top 10% carry ${((top / total) * 100).toFixed(1)}%`);
    const perPort = new Map<number, number>();
    for (const f of flows) {
      const service = Math.min(f.srcPort, f.dstPort);
      perPort.set(service, (perPort.get(service) ?? 0) + 1);
    }
    const ranked = [...perPort.entries()].sort((x, y) => y[1] - x[1]).map(([p]) => p);
    assert.equal(ranked[0], 443);
    assert.ok(ranked.slice(0, 6).includes(53));
  });

  it('starts the reflection flood and the port scan at the configured time, not before', () => {
    const { model, flows } = run(1, 10, 20);
    const isFlood = (f: (typeof flows)[number]) =>
      f.dstAddr === ATTACK.floodVictim && (ATTACK.floodSourcePorts as readonly number[]).includes(f.srcPort);
    const isScan = (f: (typeof flows)[number]) => f.srcAddr === ATTACK.scanner && f.tcpFlags === 0x02;
    const before = flows.filter((f) => f.endMs < START + 10_000 - 2000);
    const after = flows.filter((f) => f.endMs >= START + 10_000);
    assert.equal(before.filter(isFlood).length, 0);
    assert.equal(before.filter(isScan).length, 0);
    const flood = after.filter(isFlood);
    assert.ok(flood.length > 100, `${flood.length} flood flows`);
    assert.ok(new Set(flood.map((f) => f.srcAddr)).size > 50, 'many reflectors');
    assert.deepEqual(new Set(flood.map((f) => f.srcPort)), new Set([123, 53, 11211]));
    const scan = after.filter(isScan);
    assert.ok(new Set(scan.map((f) => f.dstPort)).size > 100, 'many ports scanned');
    assert.ok(scan.every((f) => f.dstAddr === ATTACK.scanTarget));
    assert.equal(model.attackActive(START + 9_999), false);
    assert.equal(model.attackActive(START + 10_000), true);
  });

  it('has three exporters with distinct protocols, sampling rates and interface roles', () => {
    assert.deepEqual(
      DEMO_EXPORTERS.map((e) => [e.protocol, e.samplingRate]),
      [
        ['netflow9', 100],
        ['ipfix', 1],
        ['sflow5', 256],
      ],
    );
    const { model, flows } = run(5, null, 5);
    const ifaces = new Set(flows.map((f) => f.input));
    assert.ok(ifaces.has(10) && ifaces.has(1) && ifaces.has(4) && ifaces.has(49));
    const sw = model.exporters[2];
    const counters = model.counters(sw);
    assert.equal(counters.length, sw.interfaces.length);
    const uplink = counters.find((c) => c.ifIndex === 49);
    assert.ok(uplink && uplink.inOctets > 0 && uplink.outOctets > 0);
  });
});
