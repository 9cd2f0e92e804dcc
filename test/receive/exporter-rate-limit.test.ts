import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { RateLimitedWarning } from '../../src/log/rate-limited-warning.js';
import { ExporterRateLimit } from '../../src/receive/exporter-rate-limit.js';

test('off when perSecond is 0', () => {
  assert.equal(ExporterRateLimit.create({ perSecond: 0, burst: null }), null);
});

test('a burst, then one per 1/perSecond; each source has its own bucket; drops counted per source', () => {
  const r = new ExporterRateLimit({ perSecond: 100, burst: 5 });
  const t = 1_000_000;
  for (let i = 0; i < 5; i++) assert.ok(r.allows('10.0.0.1', t));
  assert.equal(r.allows('10.0.0.1', t), false);
  assert.equal(r.allows('10.0.0.1', t + 5), false, 'half a token');
  assert.ok(r.allows('10.0.0.1', t + 10), 'one token after 10 ms');
  assert.ok(r.allows('10.0.0.2', t), 'another source is not affected');
  assert.deepEqual([...r.takeLimited()], [['10.0.0.1', 2]]);
  assert.deepEqual([...r.takeLimited()], [], 'taken once');
  // After a quiet spell the bucket is full again, never fuller than burst.
  for (let i = 0; i < 5; i++) assert.ok(r.allows('10.0.0.1', t + 60_000));
  assert.equal(r.allows('10.0.0.1', t + 60_000), false);
});

test('burst null is one second worth; a clock step back neither refills nor throws', () => {
  const r = new ExporterRateLimit({ perSecond: 3, burst: null });
  const t = 5_000_000;
  assert.ok(r.allows('a', t) && r.allows('a', t) && r.allows('a', t));
  assert.equal(r.allows('a', t - 10_000), false);
  assert.equal(r.msPerToken, 1000 / 3);
  assert.equal(r.allows('a', t, false), false);
  assert.deepEqual([...r.takeLimited()], [['a', 1]], 'count=false is not a drop');
});

test('sources beyond maxSources share one bucket; idle buckets are swept', () => {
  const r = new ExporterRateLimit({ perSecond: 1, burst: 1, maxSources: 100 });
  const t = 10_000_000;
  let allowed = 0;
  for (let i = 0; i < 1000; i++) if (r.allows(`10.1.${i >> 8}.${i & 255}`, t)) allowed++;
  assert.equal(r.sources, 101);
  // 100 own buckets of 1 plus the shared one.
  assert.equal(allowed, 101);
  r.allows('10.9.9.9', t + 3_600_000);
  assert.equal(r.sources, 1, 'everything idle for an hour was forgotten');
});

test('property: over any arrival pattern, accepted <= burst + rate x elapsed', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 1, max: 1000 }),
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 500 }),
      (perSecond, burst, gaps) => {
        const r = new ExporterRateLimit({ perSecond, burst });
        let t = 0;
        let accepted = 0;
        for (const g of gaps) {
          t += g;
          if (r.allows('x', t)) accepted++;
        }
        return accepted <= burst + (perSecond * t) / 1000 + 1e-9;
      },
    ),
    { seed: 9, numRuns: 300 },
  );
});

test('RateLimitedWarning: first at once, then one line per interval with how many were left out', () => {
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  const logger = { warn: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) };
  const w = new RateLimitedWarning(logger as never, 1000);
  for (let i = 0; i < 50; i++) w.warn({ exporter: 'x' }, `refused ${i}`, 10_000 + i);
  assert.equal(lines.length, 1);
  w.warn({ exporter: 'x' }, 'refused late', 11_000);
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[1], { fields: { exporter: 'x', similarNotLogged: 49 }, msg: 'refused late' });
});
