import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FlowProtocol } from '../../src/decode/datagram.js';
import { CLOCK_SKEW_SAMPLES, isClockSkewed } from '../../src/stats/clock-skew.js';
import { type ExporterSnapshot, ExporterStats } from '../../src/stats/exporter-stats.js';

const NOW = Date.UTC(2024, 5, 1, 12);

function newStats(maxClockSkewSec?: number, maxExporters = 10): ExporterStats {
  return new ExporterStats({
    maxExporters,
    maxInterfaces: 10,
    downsample: 1,
    maxClockSkewSec,
    forward: () => {},
  });
}

/** Datagrams from one exporter, one per second; `offsetsSec` is arrival − export time of each. */
function feed(
  s: ExporterStats,
  exporter: string,
  offsetsSec: number[],
  protocol: FlowProtocol = 'netflow9',
): void {
  offsetsSec.forEach((offset, i) => {
    s.nowMs = NOW + i * 1000;
    s.datagram(exporter, protocol, 100, s.nowMs - offset * 1000);
  });
}

function exporter(s: ExporterStats, address: string): ExporterSnapshot {
  const e = s.snapshot().exporters.find((x) => x.address === address);
  assert.ok(e, `exporter ${address} in the snapshot`);
  return e;
}

test('an exporter clock 30 s behind reads +30 s and is flagged; 30 s ahead reads −30 s', () => {
  const s = newStats();
  feed(s, '192.0.2.1', [30, 30, 30]);
  feed(s, '192.0.2.2', [-30, -30, -30]);
  assert.equal(exporter(s, '192.0.2.1').clockSkewSec, 30);
  assert.equal(exporter(s, '192.0.2.1').clockSkewed, true);
  assert.equal(exporter(s, '192.0.2.2').clockSkewSec, -30);
  assert.equal(exporter(s, '192.0.2.2').clockSkewed, true);
  assert.equal(s.snapshot().totals.clockSkewed, 2);
});

test('a clock within the threshold is not flagged, on either side', () => {
  const s = newStats();
  feed(s, '192.0.2.1', [3.25, 3.5]);
  feed(s, '192.0.2.2', [-9.5]);
  assert.equal(exporter(s, '192.0.2.1').clockSkewSec, 3.25, 'the least delayed datagram');
  assert.equal(exporter(s, '192.0.2.1').clockSkewed, false);
  assert.equal(exporter(s, '192.0.2.2').clockSkewed, false);
  assert.equal(s.snapshot().totals.clockSkewed, 0);
});

test('one datagram delayed by 60 s in a queue does not flag an exporter whose clock is right', () => {
  const s = newStats();
  feed(s, '192.0.2.1', [0.2, 0.3, 60, 0.25, 0.2]);
  const e = exporter(s, '192.0.2.1');
  assert.equal(e.clockSkewSec, 0.2);
  assert.equal(e.clockSkewed, false);
  // Even a burst of delayed datagrams, short of a full window, is ignored.
  feed(s, '192.0.2.2', [0.1, ...Array(CLOCK_SKEW_SAMPLES - 1).fill(45)]);
  assert.equal(exporter(s, '192.0.2.2').clockSkewed, false);
});

test('a clock 120 s off flags the exporter from its first datagram, with the default threshold of 10 s', () => {
  const s = newStats();
  feed(s, '192.0.2.1', [120]);
  assert.equal(exporter(s, '192.0.2.1').clockSkewSec, 120);
  assert.equal(exporter(s, '192.0.2.1').clockSkewed, true);
  feed(s, '192.0.2.1', Array(CLOCK_SKEW_SAMPLES * 2).fill(120.5));
  assert.equal(exporter(s, '192.0.2.1').clockSkewSec, 120.5, 'the window rolls: old samples go');
  assert.equal(exporter(s, '192.0.2.1').clockSkewed, true);
});

test('general.maxclockskew sets the threshold', () => {
  const s = newStats(200);
  feed(s, '192.0.2.1', [120]);
  feed(s, '192.0.2.2', [-201]);
  assert.equal(exporter(s, '192.0.2.1').clockSkewed, false);
  assert.equal(exporter(s, '192.0.2.2').clockSkewed, true);
});

test('sFlow exporters have no export time: skew null, never flagged', () => {
  const s = newStats();
  s.nowMs = NOW;
  s.datagram('2001:db8::9', 'sflow5', 200, null);
  const e = exporter(s, '2001:db8::9');
  assert.equal(e.clockSkewSec, null);
  assert.equal(e.clockSkewed, false);
  assert.equal(s.snapshot().totals.clockSkewed, 0);
});

test('the "other" bucket mixes exporters: no skew there', () => {
  const s = newStats(10, 1);
  feed(s, '192.0.2.1', [0]);
  feed(s, '192.0.2.2', [300]);
  assert.equal(exporter(s, '192.0.2.1').clockSkewSec, 0);
  assert.equal(exporter(s, 'other').clockSkewSec, null);
  assert.equal(exporter(s, 'other').clockSkewed, false);
});

test('a clock ahead that is corrected stops being flagged after a full window of datagrams', () => {
  const s = newStats();
  feed(s, '192.0.2.1', [-60, ...Array(CLOCK_SKEW_SAMPLES - 1).fill(0.5)]);
  assert.equal(exporter(s, '192.0.2.1').clockSkewed, true, 'the −60 s sample is still in the window');
  feed(s, '192.0.2.1', [0.5]);
  assert.equal(exporter(s, '192.0.2.1').clockSkewSec, 0.5);
  assert.equal(exporter(s, '192.0.2.1').clockSkewed, false);
});

test('whole-second export times: up to 1 s more is allowed behind, none ahead', () => {
  assert.equal(isClockSkewed(10, 10), false);
  assert.equal(isClockSkewed(10.9, 10), false, 'v9/IPFIX time cut to the second reads up to 1 s behind');
  assert.equal(isClockSkewed(11.1, 10), true);
  assert.equal(isClockSkewed(-10, 10), false);
  assert.equal(isClockSkewed(-10.1, 10), true);
});
