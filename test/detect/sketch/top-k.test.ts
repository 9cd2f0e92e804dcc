import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TopK } from '../../../src/detect/sketch/top-k.js';

interface Totals {
  weight: number;
  packets: number;
  flows: number;
}

function addTrue(
  truth: Map<string | number, Totals>,
  key: string | number,
  w: number,
  p: number,
  f: number,
): void {
  const t = truth.get(key) ?? { weight: 0, packets: 0, flows: 0 };
  t.weight += w;
  t.packets += p;
  t.flows += f;
  truth.set(key, t);
}

/** Deterministic Zipf(s = 1.2) sampler over ranks 1..n (mulberry32 for the uniform draws). */
function zipfStream(n: number, length: number, seed: number): number[] {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let r = 1; r <= n; r++) {
    sum += 1 / r ** 1.2;
    cumulative[r - 1] = sum;
  }
  let state = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const u = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    out.push(lo + 1);
  }
  return out;
}

test('exact counts, no error, when there are at most k distinct keys', () => {
  const topK = new TopK(8);
  const truth = new Map<string | number, Totals>();
  const keys: (string | number)[] = ['10.0.0.1', '10.0.0.2', 53, 123, '2001:db8::1', 0, 443, 'x'];
  for (let i = 0; i < 2000; i++) {
    const key = keys[(i * 7) % keys.length];
    const bits = ((i * 37) % 1500) * 8;
    topK.add(key, bits, 1, i % 3 === 0 ? 1 : 0);
    addTrue(truth, key, bits, 1, i % 3 === 0 ? 1 : 0);
  }
  const top = topK.top();
  assert.equal(top.length, keys.length);
  for (let i = 1; i < top.length; i++) assert.ok(top[i - 1].weight >= top[i].weight, 'sorted descending');
  for (const hitter of top) {
    const t = truth.get(hitter.key)!;
    assert.deepEqual(
      { weight: hitter.weight, packets: hitter.packets, flows: hitter.flows, error: hitter.error },
      { ...t, error: 0 },
      `key ${hitter.key}`,
    );
  }
  assert.deepEqual(
    topK.top(3).map((h) => h.key),
    top.slice(0, 3).map((h) => h.key),
  );
});

test('number 1 and string "1" are different keys', () => {
  const topK = new TopK(4);
  topK.add(1, 10);
  topK.add('1', 5);
  assert.deepEqual(
    topK.top().map((h) => [h.key, h.weight]),
    [
      [1, 10],
      ['1', 5],
    ],
  );
});

test('the true top 5 of a Zipf(1.2) stream over 10000 keys are found, in order, with k = 32', () => {
  const topK = new TopK(32);
  const truth = new Map<string | number, Totals>();
  const stream = zipfStream(10_000, 200_000, 42);
  for (let i = 0; i < stream.length; i++) {
    const rank = stream[i];
    const bits = 8 * (64 + ((i * 7919) % 1437)); // packet sizes 64..1500, unrelated to the key
    topK.add(rank, bits, 1, 1);
    addTrue(truth, rank, bits, 1, 1);
  }
  const trueTop5 = [...truth.entries()]
    .sort((a, b) => b[1].weight - a[1].weight)
    .slice(0, 5)
    .map(([key]) => key);
  assert.deepEqual(
    topK.top(5).map((h) => h.key),
    trueTop5,
  );
});

test('Space-Saving bounds hold for any weighted stream', () => {
  const update = fc.record({
    key: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.constantFrom('a', 'b', 'c', '2001:db8::1')),
    weight: fc.integer({ min: 0, max: 12_000 }),
    packets: fc.integer({ min: 0, max: 10 }),
  });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.array(update, { maxLength: 400 }), (k, updates) => {
      const topK = new TopK(k);
      const truth = new Map<string | number, Totals>();
      let total = 0;
      for (const u of updates) {
        topK.add(u.key, u.weight, u.packets, 1);
        addTrue(truth, u.key, u.weight, u.packets, 1);
        total += u.weight;
      }
      const top = topK.top();
      assert.equal(top.length, Math.min(k, truth.size));
      for (const h of top) {
        const t = truth.get(h.key)!;
        assert.ok(h.weight - h.error <= t.weight && t.weight <= h.weight, `weight bounds of ${h.key}`);
        assert.ok(h.error <= total / k, `error of ${h.key} within W/k`);
        assert.ok(h.packets <= t.packets && h.flows <= t.flows, `packets/flows lower bounds of ${h.key}`);
      }
      const tracked = new Set(top.map((h) => h.key));
      for (const [key, t] of truth) {
        if (t.weight > total / k) assert.ok(tracked.has(key), `key ${key} above W/k is tracked`);
      }
    }),
    { numRuns: 500 },
  );
});

test('clear() empties the table; bad arguments are refused', () => {
  const topK = new TopK(2);
  topK.add('a', 1);
  topK.add('b', 2);
  topK.add('c', 3);
  topK.clear();
  assert.deepEqual(topK.top(), []);
  topK.add('d', 4);
  assert.deepEqual(topK.top(), [{ key: 'd', weight: 4, packets: 0, flows: 0, error: 0 }]);
  assert.throws(() => topK.add('e', -1), RangeError);
  assert.throws(() => topK.add('e', Number.NaN), RangeError);
  assert.throws(() => new TopK(0), RangeError);
});
