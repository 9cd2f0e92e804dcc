import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { U32Cache } from '../../src/enrich/u32-cache.js';

test('U32Cache answers like a Map for any key sequence within its capacity', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat({ max: 0xffffffff }), fc.nat({ max: 1000 })), { maxLength: 3000 }),
      (ops) => {
        const cache = new U32Cache(10_000);
        const reference = new Map<number, number>();
        for (const [key, value] of ops) {
          const expected = reference.get(key) ?? -1;
          assert.equal(cache.get(key), expected);
          if (expected < 0) {
            cache.set(key, value);
            reference.set(key, value);
          }
        }
        for (const [key, value] of reference) assert.equal(cache.get(key), value);
      },
    ),
    { numRuns: 50 },
  );
});

test('U32Cache keeps recently used keys, forgets old ones, stays within its capacity', () => {
  const cache = new U32Cache(100);
  cache.set(0xffffffff, 7);
  const key = (k: number) => Math.imul(k, 2654435761) >>> 0;
  for (let k = 1; k <= 10_000; k++) {
    assert.equal(cache.get(key(k)), -1);
    cache.set(key(k), k);
    assert.ok(cache.size <= 100, `size ${cache.size}`);
    assert.equal(cache.get(0xffffffff), 7, `the key used every time survives (insert ${k})`);
  }
  assert.equal(cache.get(key(10_000)), 10_000);
  assert.equal(cache.get(key(9_990)), 9_990);
  assert.equal(cache.get(key(1)), -1, 'an old unused key is evicted');
  cache.clear();
  assert.equal(cache.size, 0);
  assert.equal(cache.get(0xffffffff), -1);
  // Key 0 (0.0.0.0) and value 0 are ordinary entries.
  cache.set(0, 0);
  assert.equal(cache.get(0), 0);
  assert.throws(() => new U32Cache(1), /capacity/);
});
