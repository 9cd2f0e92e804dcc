import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlowCache, type FlowCacheOptions, type MeteredFlow } from '../../src/agent/flow-cache.js';
import type { FlowKey, FlowObservation } from '../../src/agent/flow-observation.js';

const T0 = Date.UTC(2026, 0, 1);
const OPTIONS: FlowCacheOptions = { activeTimeoutMs: 60_000, inactiveTimeoutMs: 15_000, maxFlows: 65_536 };

function key(srcPort: number, over: Partial<FlowKey> = {}): FlowKey {
  return { family: 4, src: '10.0.0.1', dst: '10.0.0.2', srcPort, dstPort: 443, protocol: 6, ...over };
}

function obs(
  k: FlowKey,
  timeMs: number,
  packets: number,
  bytes: number,
  more: Partial<FlowObservation> = {},
) {
  return { key: k, packets, bytes, tcpFlags: 0, timeMs, ended: false, ...more };
}

/** A cache whose exports land in `out` (a copy of each flow, as the exporter would serialise it now). */
function cache(options: Partial<FlowCacheOptions> = {}) {
  const out: MeteredFlow[] = [];
  const calls: number[] = [];
  const c = new FlowCache({ ...OPTIONS, ...options }, (flows) => {
    calls.push(flows.length);
    for (const f of flows) out.push({ ...f });
  });
  return { c, out, calls };
}

describe('FlowCache', () => {
  it('accumulates observations of one key: packets, bytes, flags ORed, first and last time', () => {
    const { c, out } = cache();
    const k = key(40000);
    c.observe(obs(k, T0 + 1000, 2, 120, { tcpFlags: 0x02 }));
    c.observe(obs(k, T0 + 3000, 5, 7000, { tcpFlags: 0x10 }));
    // Sources may report out of order (conntrack dumps): the start stays the earliest.
    c.observe(obs(k, T0 + 500, 1, 60, { tcpFlags: 0x18 }));
    c.observe(obs(key(40001), T0 + 2000, 1, 40));
    assert.equal(c.size, 2);
    assert.equal(out.length, 0);
    c.flush(T0 + 4000);
    assert.equal(c.size, 0);
    const f = out.find((x) => x.key.srcPort === 40000);
    assert.deepEqual(
      { ...f, key: undefined },
      {
        key: undefined,
        packets: 8,
        bytes: 7180,
        tcpFlags: 0x1a,
        startMs: T0 + 500,
        endMs: T0 + 3000,
        endReason: 'forced',
      },
    );
    assert.deepEqual(c.stats, { observed: 4, exported: 2, evicted: 0 });
  });

  it('a flow that ended is exported at once with reason end, its last packets included', () => {
    const { c, out } = cache();
    const k = key(40000);
    c.observe(obs(k, T0, 3, 180, { tcpFlags: 0x02 }));
    c.observe(obs(k, T0 + 200, 2, 104, { tcpFlags: 0x11, ended: true }));
    assert.equal(out.length, 1);
    assert.equal(c.size, 0);
    assert.equal(out[0]!.endReason, 'end');
    assert.equal(out[0]!.packets, 5);
    assert.equal(out[0]!.bytes, 284);
    assert.equal(out[0]!.tcpFlags, 0x13);
    assert.equal(out[0]!.endMs, T0 + 200);
    // An end with nothing new for a flow the cache no longer holds makes no record.
    c.observe(obs(k, T0 + 300, 0, 0, { ended: true }));
    assert.equal(out.length, 1);
    assert.equal(c.size, 0);
  });

  it('idle flows leave after the inactive timeout, not before', () => {
    const { c, out } = cache();
    c.observe(obs(key(1), T0, 1, 100));
    c.observe(obs(key(2), T0 + 10_000, 1, 100));
    c.expire(T0 + 14_999);
    assert.equal(out.length, 0);
    c.expire(T0 + 15_000);
    assert.deepEqual(
      out.map((f) => [f.key.srcPort, f.endReason]),
      [[1, 'idle']],
    );
    assert.equal(c.size, 1);
    c.expire(T0 + 25_000);
    assert.deepEqual(
      out.map((f) => [f.key.srcPort, f.endReason]),
      [
        [1, 'idle'],
        [2, 'idle'],
      ],
    );
    assert.equal(c.size, 0);
  });

  it('a long flow is exported every active timeout, each export counting only its own traffic', () => {
    const { c, out } = cache({ activeTimeoutMs: 10_000, inactiveTimeoutMs: 5000 });
    const k = key(5001, { protocol: 17, dstPort: 53 });
    // One packet of 1000 bytes every second for 25 s, expiry checked every second as the agent does.
    for (let s = 0; s <= 25; s++) {
      c.observe(obs(k, T0 + s * 1000, 1, 1000));
      c.expire(T0 + s * 1000);
    }
    c.flush(T0 + 25_500);
    assert.deepEqual(
      out.map((f) => [f.endReason, f.packets, f.bytes, f.startMs - T0, f.endMs - T0]),
      [
        ['active', 11, 11_000, 0, 10_000],
        ['active', 11, 11_000, 11_000, 21_000],
        ['forced', 4, 4000, 22_000, 25_000],
      ],
    );
    const total = out.reduce((n, f) => n + f.packets, 0);
    assert.equal(total, 26);
    assert.equal(c.stats.exported, 3);
    assert.equal(c.stats.observed, 26);
  });

  it('a full cache pushes the oldest flow out with reason lack-of-resources and counts it', () => {
    const { c, out } = cache({ maxFlows: 3 });
    for (let p = 1; p <= 3; p++) c.observe(obs(key(p), T0 + p, 1, 10 * p));
    // Updating a held flow takes no room.
    c.observe(obs(key(1), T0 + 10, 1, 10));
    assert.equal(out.length, 0);
    c.observe(obs(key(4), T0 + 20, 1, 40));
    c.observe(obs(key(5), T0 + 30, 1, 50));
    assert.equal(c.size, 3);
    assert.deepEqual(
      out.map((f) => [f.key.srcPort, f.endReason, f.packets]),
      [
        [1, 'lack-of-resources', 2],
        [2, 'lack-of-resources', 1],
      ],
    );
    assert.deepEqual(c.stats, { observed: 6, exported: 2, evicted: 2 });
    c.flush(T0 + 40);
    assert.deepEqual(
      out.slice(2).map((f) => [f.key.srcPort, f.endReason]),
      [
        [3, 'forced'],
        [4, 'forced'],
        [5, 'forced'],
      ],
    );
    assert.deepEqual(c.stats, { observed: 6, exported: 5, evicted: 2 });
  });

  it('keys differ by direction, family, protocol and ports', () => {
    const { c, out, calls } = cache();
    const a = key(1000);
    c.observe(obs(a, T0, 1, 1));
    c.observe(obs({ ...a, src: a.dst, dst: a.src, srcPort: a.dstPort, dstPort: a.srcPort }, T0, 1, 1));
    c.observe(obs({ ...a, protocol: 17 }, T0, 1, 1));
    c.observe(obs({ ...a, family: 6, src: '2001:db8::1', dst: '2001:db8::2' }, T0, 1, 1));
    c.observe(obs({ ...a }, T0 + 1, 1, 1));
    assert.equal(c.size, 4);
    c.flush(T0 + 2);
    assert.deepEqual(calls, [4]);
    assert.equal(out[0]!.packets, 2);
  });
});
