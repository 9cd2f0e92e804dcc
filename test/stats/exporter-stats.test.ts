import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InterfaceCounters } from '../../src/decode/sink.js';
import { flowKeyHash } from '../../src/enrich/downsample.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { ExporterStats } from '../../src/stats/exporter-stats.js';

function rec(exporter: string): FlowRecord {
  const r = new FlowRecord();
  r.flowsrcip = exporter;
  return r;
}

function ifCounters(agent: string, ifIndex: number, inOctets: number): InterfaceCounters {
  return {
    agent,
    subAgentId: 0,
    sequence: 1,
    receivedAtMs: 0,
    ifIndex,
    ifType: 6,
    ifSpeed: 1e9,
    ifDirection: 1,
    ifAdminUp: true,
    ifOperUp: true,
    ifInOctets: inOctets,
    ifInUcastPkts: null,
    ifInMulticastPkts: null,
    ifInBroadcastPkts: null,
    ifInDiscards: null,
    ifInErrors: null,
    ifInUnknownProtos: null,
    ifOutOctets: null,
    ifOutUcastPkts: null,
    ifOutMulticastPkts: null,
    ifOutBroadcastPkts: null,
    ifOutDiscards: null,
    ifOutErrors: null,
    ifPromiscuousMode: null,
  };
}

test('per-exporter counters: datagrams, bytes, records, errors by kind, sampling unknown, times', () => {
  const forwarded: FlowRecord[] = [];
  const s = new ExporterStats({
    maxExporters: 10,
    maxInterfaces: 10,
    downsample: 1,
    forward: (r) => forwarded.push(r),
  });
  s.nowMs = Date.UTC(2024, 0, 1, 12);
  s.datagram('192.0.2.1', 'netflow9', 1400, null);
  s.record(rec('192.0.2.1'));
  s.record(rec('192.0.2.1'));
  s.samplingUnknown('192.0.2.1', 2);
  s.nowMs = Date.UTC(2024, 0, 1, 12, 5);
  s.datagram('192.0.2.1', 'netflow9', 600, null);
  s.error('192.0.2.1', 'template_unknown', 'template 260 from 192.0.2.1 domain 0 unknown: record skipped');
  s.error('192.0.2.1', 'template_unknown', 'template 261 from 192.0.2.1 domain 0 unknown: record skipped');
  s.datagram('2001:db8::9', 'sflow5', 200, null);
  const snap = s.snapshot();
  const e = snap.exporters.find((x) => x.address === '192.0.2.1');
  assert.ok(e);
  assert.equal(e.protocol, 'netflow9');
  assert.equal(e.datagrams, 2);
  assert.equal(e.bytes, 2000);
  assert.equal(e.records, 2);
  assert.equal(e.samplingUnknown, 2);
  assert.deepEqual(e.errors, { template_unknown: 2 });
  assert.match(e.lastError ?? '', /template 261/);
  assert.equal(e.firstSeen, '2024-01-01T12:00:00.000Z');
  assert.equal(e.lastSeen, '2024-01-01T12:05:00.000Z');
  assert.equal(forwarded.length, 2);
  assert.equal(snap.totals.exporters, 2);
  assert.equal(snap.totals.bytes, 2200);
  assert.equal(snap.totals.errors, 2);
});

test('exporters beyond decode.maxexporters share the "other" bucket', () => {
  const s = new ExporterStats({ maxExporters: 2, maxInterfaces: 10, downsample: 1, forward: () => {} });
  for (const a of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']) s.datagram(a, 'netflow5', 100, null);
  s.datagram('192.0.2.1', 'netflow5', 100, null);
  const snap = s.snapshot();
  assert.deepEqual(
    snap.exporters.map((e) => [e.address, e.datagrams]),
    [
      ['192.0.2.1', 2],
      ['192.0.2.2', 1],
      ['other', 2],
    ],
  );
});

test('with the table full, exporters idle for exporterIdleMs give their place to a new one', () => {
  const s = new ExporterStats({
    maxExporters: 2,
    maxInterfaces: 10,
    downsample: 1,
    exporterIdleMs: 60_000,
    forward: () => {},
  });
  s.nowMs = 1_000_000;
  s.datagram('192.0.2.1', 'netflow5', 100, null);
  s.error('192.0.2.2', 'unknown_version', 'garbage');
  // 192.0.2.1 keeps sending; 192.0.2.2 (errors only) falls silent.
  s.nowMs += 30_000;
  s.datagram('192.0.2.1', 'netflow5', 100, null);
  s.datagram('192.0.2.3', 'netflow5', 100, null);
  s.nowMs += 40_000;
  s.datagram('192.0.2.1', 'netflow5', 100, null);
  s.datagram('192.0.2.4', 'netflow5', 100, null);
  assert.deepEqual(
    s.snapshot().exporters.map((e) => [e.address, e.datagrams]),
    [
      ['192.0.2.1', 3],
      ['other', 1],
      ['192.0.2.4', 1],
    ],
  );
});

test('sequence reports feed gap accounting per exporter and stream', () => {
  const s = new ExporterStats({ maxExporters: 10, maxInterfaces: 10, downsample: 1, forward: () => {} });
  s.sequence('192.0.2.1', 'v5:0/0', 0, 30);
  s.sequence('192.0.2.1', 'v5:0/0', 60, 30); // 30 flows lost
  s.sequence('192.0.2.1', 'v5:0/1', 1000, 30); // other engine: its own stream
  s.sequence('192.0.2.1', 'v5:0/1', 1030, 30);
  s.sequence('192.0.2.1', 'v5:0/0', 30, 30); // the late one
  s.sequence('192.0.2.1', 'v5:0/0', 90, 10);
  const e = s.snapshot().exporters[0];
  assert.deepEqual(e.sequence, { streams: 2, missing: 0, reordered: 1, duplicates: 0, resets: 0 });
  s.sequence('192.0.2.1', 'v5:0/0', 200, 1);
  assert.equal(s.snapshot().totals.sequenceMissing, 100);
});

test('sFlow interface counters: latest per agent + ifIndex, bounded', () => {
  const s = new ExporterStats({ maxExporters: 10, maxInterfaces: 2, downsample: 1, forward: () => {} });
  s.counters(ifCounters('192.0.2.1', 1, 100));
  s.counters(ifCounters('192.0.2.1', 1, 250));
  s.counters(ifCounters('192.0.2.1', 2, 10));
  s.counters(ifCounters('192.0.2.2', 1, 5)); // beyond the bound
  const snap = s.snapshot();
  assert.deepEqual(
    snap.interfaces.map((i) => [i.agent, i.ifIndex, i.ifInOctets]),
    [
      ['192.0.2.1', 1, 250],
      ['192.0.2.1', 2, 10],
    ],
  );
  assert.equal(snap.interfacesDropped, 1);
});

test('downsample 4: the flows whose key hashes to 0 mod 4 are kept, with weight 4 (× any weight)', () => {
  const out: FlowRecord[] = [];
  const s = new ExporterStats({
    maxExporters: 10,
    maxInterfaces: 10,
    downsample: 4,
    forward: (r) => out.push(r),
  });
  const records: FlowRecord[] = [];
  for (let i = 0; i < 400; i++) {
    const r = rec('192.0.2.1');
    r.srcip = `10.0.${i >> 8}.${i & 255}`;
    r.srcport = 1000 + (i % 7);
    if (i === 7) r.weight = 2;
    records.push(r);
  }
  // Each flow twice: a flow is kept or dropped as a whole.
  const again = records.map((r) => Object.assign(rec('192.0.2.1'), { ...r }));
  const kept = records.filter((r) => flowKeyHash(r) % 4 === 0);
  for (const r of records) s.record(r);
  for (const r of again) s.record(r);
  assert.equal(out.length, 2 * kept.length);
  assert.ok(kept.length > 70 && kept.length < 130, `${kept.length} of 400 flows kept`);
  for (const r of out) assert.equal(r.weight, r.srcip === '10.0.0.7' && r.srcport === 1000 ? 8 : 4);
  assert.equal(s.snapshot().totals.records, 800);
  assert.equal(s.snapshot().totals.downsampled, 800 - out.length);
});

test('allow-list refusals are counted per source, bounded, apart from exporters', () => {
  const s = new ExporterStats({ maxExporters: 10, maxInterfaces: 10, downsample: 1, forward: () => {} });
  s.notAllowed('203.0.113.5');
  s.notAllowed('203.0.113.5');
  const snap = s.snapshot();
  assert.deepEqual(snap.notAllowed, { '203.0.113.5': 2 });
  assert.equal(snap.totals.notAllowed, 2);
  assert.equal(snap.exporters.length, 0);
});
