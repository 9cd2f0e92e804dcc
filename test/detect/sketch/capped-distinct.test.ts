import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CappedDistinct } from '../../../src/detect/sketch/capped-distinct.js';

/** What CappedDistinct must do, written the obvious way with a Set. */
class ReferenceCappedSet {
  readonly stored = new Set<number>();
  saturated = false;
  constructor(readonly cap: number) {}
  add(v: number): boolean {
    if (this.stored.has(v)) return false;
    if (this.stored.size === this.cap) {
      this.saturated = true;
      return false;
    }
    this.stored.add(v);
    return true;
  }
}

// Small value ranges force repeats and probe collisions; 0 and 2^32-1 are the edge values.
const u32Value = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.constantFrom(0, 0xffffffff),
  fc.nat(0xffffffff).map((n) => n >>> 0),
);

test('matches a Set capped at `cap` for any sequence of u32s', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 70 }), fc.array(u32Value, { maxLength: 300 }), (cap, values) => {
      const sketch = new CappedDistinct(cap);
      const reference = new ReferenceCappedSet(cap);
      for (const v of values) assert.equal(sketch.add(v), reference.add(v), `add(${v})`);
      assert.equal(sketch.count, reference.stored.size);
      assert.equal(sketch.saturated, reference.saturated);
      assert.deepEqual(
        [...sketch.values()].sort((a, b) => a - b),
        [...reference.stored].sort((a, b) => a - b),
      );
    }),
    { numRuns: 500 },
  );
});

test('clear() empties the set and it can be refilled', () => {
  fc.assert(
    fc.property(
      fc.array(u32Value, { maxLength: 100 }),
      fc.array(u32Value, { maxLength: 100 }),
      (first, second) => {
        const sketch = new CappedDistinct(16);
        for (const v of first) sketch.add(v);
        sketch.clear();
        assert.equal(sketch.count, 0);
        assert.equal(sketch.saturated, false);
        assert.deepEqual([...sketch.values()], []);
        const reference = new ReferenceCappedSet(16);
        for (const v of second) assert.equal(sketch.add(v), reference.add(v));
        assert.equal(sketch.count, reference.stored.size);
      },
    ),
    { numRuns: 200 },
  );
});

test('a port scan over all 65536 ports stops at the cap and reports saturation', () => {
  const ports = new CappedDistinct(1000);
  for (let port = 0; port < 65536; port++) ports.add(port);
  assert.equal(ports.count, 1000);
  assert.equal(ports.saturated, true);
  assert.equal(ports.byteSize, 2048 * 4);
  // The first 1000 ports were kept; they are still recognised as already seen.
  assert.equal(ports.add(999), false);
});

test('exactly `cap` distinct values fill the set without saturating it', () => {
  const set = new CappedDistinct(5);
  for (const v of [5, 4, 3, 2, 1, 5, 4]) set.add(v);
  assert.equal(set.count, 5);
  assert.equal(set.saturated, false);
});

test('a cap outside 1..2^24 is refused', () => {
  assert.throws(() => new CappedDistinct(0), RangeError);
  assert.throws(() => new CappedDistinct(2.5), RangeError);
  assert.throws(() => new CappedDistinct(2 ** 24 + 1), RangeError);
});
