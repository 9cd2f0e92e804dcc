import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HyperLogLog } from '../../../src/detect/sketch/hyperloglog.js';

/** Three standard errors of a HyperLogLog with 2^precision registers, as a fraction. */
function threeSigma(precision: number): number {
  return (3 * 1.04) / Math.sqrt(1 << precision);
}

function assertWithin(estimate: number, truth: number, fraction: number, what: string): void {
  const error = Math.abs(estimate - truth) / truth;
  assert.ok(
    error <= fraction,
    `${what}: estimate ${estimate.toFixed(1)} for ${truth} distinct is off by ${(error * 100).toFixed(2)} % (allowed ${(fraction * 100).toFixed(2)} %)`,
  );
}

test('an empty sketch estimates 0', () => {
  assert.equal(new HyperLogLog().estimate(), 0);
});

for (const n of [10, 1_000, 100_000, 1_000_000]) {
  test(`${n} distinct u32s are estimated within 3 standard errors (precision 10)`, () => {
    const sequential = new HyperLogLog();
    const scattered = new HyperLogLog();
    // Sequential values model an address block; the odd multiplier gives n distinct scattered ones.
    for (let i = 0; i < n; i++) {
      sequential.addU32(i);
      scattered.addU32(Math.imul(i, 0x9e3779b1) >>> 0);
    }
    assertWithin(sequential.estimate(), n, threeSigma(10), 'sequential 0..n-1');
    assertWithin(scattered.estimate(), n, threeSigma(10), 'scattered');
  });
}

test('precisions 4, 14 and 16 also stay within 3 standard errors', () => {
  for (const precision of [4, 14, 16]) {
    const hll = new HyperLogLog(precision);
    const base = 0x0a000000; // 10.0.0.0
    for (let i = 0; i < 200_000; i++) hll.addU32(base + i);
    assertWithin(hll.estimate(), 200_000, threeSigma(precision), `precision ${precision}`);
    assert.equal(hll.byteSize, 1 << precision);
  }
});

test('adding duplicates does not change the estimate', () => {
  const hll = new HyperLogLog();
  for (let i = 0; i < 5_000; i++) hll.addU32(i * 7);
  const before = hll.estimate();
  for (let round = 0; round < 3; round++) for (let i = 0; i < 5_000; i++) hll.addU32(i * 7);
  assert.equal(hll.estimate(), before);
});

test('value 0 and the maximum u32 are counted like any other value', () => {
  const hll = new HyperLogLog();
  hll.addU32(0);
  hll.addU32(0xffffffff);
  assertWithin(hll.estimate(), 2, 0.05, '{0, 2^32-1}');
});

test('merge gives exactly the sketch of the union', () => {
  const a = new HyperLogLog(12);
  const b = new HyperLogLog(12);
  const union = new HyperLogLog(12);
  for (let i = 0; i < 60_000; i++) {
    a.addU32(i);
    union.addU32(i);
  }
  for (let i = 40_000; i < 100_000; i++) {
    b.addU32(i);
    union.addU32(i);
  }
  a.merge(b);
  assert.equal(a.estimate(), union.estimate());
  assertWithin(a.estimate(), 100_000, threeSigma(12), 'merged');
});

test('merge refuses a sketch of another precision', () => {
  assert.throws(() => new HyperLogLog(10).merge(new HyperLogLog(11)), /precision 11 into 10/);
});

test('precision outside 4..16 is refused', () => {
  assert.throws(() => new HyperLogLog(3), RangeError);
  assert.throws(() => new HyperLogLog(17), RangeError);
  assert.throws(() => new HyperLogLog(10.5), RangeError);
});

test('clear() forgets everything', () => {
  const hll = new HyperLogLog();
  for (let i = 0; i < 1000; i++) hll.addU32(i);
  hll.clear();
  assert.equal(hll.estimate(), 0);
});

test('IPv6 address strings are estimated within 3 standard errors, duplicates ignored', () => {
  for (const n of [10, 1_000, 100_000]) {
    const hll = new HyperLogLog();
    for (let i = 0; i < n; i++)
      hll.addString(`2001:db8:${(i >>> 16).toString(16)}::${(i & 0xffff).toString(16)}`);
    const first = hll.estimate();
    assertWithin(first, n, threeSigma(10), `${n} IPv6 strings`);
    for (let i = 0; i < n; i++)
      hll.addString(`2001:db8:${(i >>> 16).toString(16)}::${(i & 0xffff).toString(16)}`);
    assert.equal(hll.estimate(), first);
  }
});

test('strings of odd and even length, and the empty string, hash apart', () => {
  const hll = new HyperLogLog(14);
  const keys = ['', 'a', 'ab', 'abc', 'abcd', 'b', 'ba', '\u0000', '\u0000\u0000'];
  for (const k of keys) hll.addString(k);
  assertWithin(hll.estimate(), keys.length, 0.05, 'short strings');
});
