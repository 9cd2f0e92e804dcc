import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GenerationalCache } from '../../src/enrich/geo/generational-cache.js';

test('GenerationalCache never holds more than its capacity and keeps recently used keys', () => {
  const c = new GenerationalCache<string, number>(10);
  c.set('hot', 0);
  for (let i = 0; i < 1000; i++) {
    c.set(`k${i}`, i);
    assert.ok(c.size <= 10, `size ${c.size} after ${i + 1} inserts`);
    assert.equal(c.get('hot'), 0, `hot key used every insert survives (insert ${i})`);
  }
  assert.equal(c.get('k999'), 999);
  assert.equal(c.get('k0'), undefined, 'an old unused key is evicted');
  c.set('k999', -1);
  assert.equal(c.get('k999'), -1, 'set replaces');
  c.clear();
  assert.equal(c.size, 0);
  assert.equal(c.get('hot'), undefined);
});
