/**
 * The FlowStore conformance suite, written once against src/store/contract.ts: every store
 * (DuckDB now, ClickHouse later) calls `runStoreConformance` with a factory and must pass it.
 * Expectations are computed in memory from the generated records; filters are checked against
 * query/filter-match.ts, the in-memory reference (character-level address parsing, independent
 * of the stores' integer CIDR ranges).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FilterExpr } from '../../src/query/filter-ast.js';
import { matchFilter } from '../../src/query/filter-match.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { protocolKeyword } from '../../src/record/protocols.js';
import {
  DIMENSIONS,
  type Dimension,
  type FlowStore,
  METRICS,
  type TopRow,
} from '../../src/store/contract.js';

const DAY = 86_400_000;
/** Three UTC days of flows; day 0 also receives late records written last. */
export const DAY0 = Date.UTC(2024, 2, 1);
const ALL = { fromMs: DAY0 - DAY, toMs: DAY0 + 5 * DAY };

const SRC_V4 = ['10.0.0.1', '10.0.0.2', '10.0.1.7', '192.168.5.9', '172.16.0.3'];
const SRC_V6 = ['2001:db8:a::1', '2001:db8:a:0:1::5', '2001:db8:b::9', 'fe80::1'];
const DST = ['198.51.100.1', '198.51.100.200', '203.0.113.5', '2001:db8:ffff::53'];
const EXPORTERS: Array<[string, string | null]> = [
  ['192.0.2.1', 'edge-1'],
  ['192.0.2.2', null],
  ['2001:db8::e', 'core-v6'],
];
const RATES = [null, 1, 100, 1000];
const PORTS = [53, 80, 443, 8080, 51000];

/** A flow time no two records share, so `end` identifies a record in results. */
function timeOf(day: number, i: number): number {
  return DAY0 + day * DAY + ((i * 7919) % 86_000) * 1000 + i;
}

function makeRecord(day: number, i: number): FlowRecord {
  const r = new FlowRecord();
  const v6 = i % 4 === 3;
  r.ipversion = v6 ? 6 : 4;
  r.srcip = v6 ? (SRC_V6[(i >> 2) % SRC_V6.length] as string) : (SRC_V4[i % SRC_V4.length] as string);
  r.dstip = v6 ? 'fe80::2' : (DST[i % 3] as string);
  if (i % 11 === 0) r.dstip = DST[3] as string;
  const proto = i % 9 === 0 ? (v6 ? 58 : 1) : i % 3 === 0 ? 17 : 6;
  r.protocolint = proto;
  if (proto === 6 || proto === 17) {
    r.srcport = PORTS[(i * 3) % PORTS.length] as number;
    r.dstport = PORTS[i % PORTS.length] as number;
  } else {
    r.icmptype = 8;
    r.icmpcode = 0;
  }
  if (proto === 6) r.tcpflagsint = [0x02, 0x12, 0x10, 0x11, 0x18][i % 5] as number;
  const end = timeOf(day, i);
  r.end = end;
  r.start = i % 13 === 0 ? null : end - (i % 50) * 100;
  r.duration = r.start === null ? null : end - r.start;
  r.timestamp = Math.floor(end / 1000) + 2;
  r.bits = i % 17 === 0 ? null : 8 * (64 + ((i * 37) % 1400));
  r.packets = i % 17 === 0 ? null : 1 + (i % 20);
  r.samplerate = RATES[i % RATES.length] as number | null;
  r.weight = i % 10 === 0 ? 2 : 1;
  r.srcas = i % 6 === 0 ? null : 64500 + (i % 4);
  r.dstas = 15169 + (i % 2);
  r.input = i % 5 === 0 ? null : 1 + (i % 3);
  r.output = 10 + (i % 2);
  const [exporter, name] = EXPORTERS[i % EXPORTERS.length] as [string, string | null];
  r.flowsrcip = exporter;
  r.flowsrcname = name;
  r.flowtype = i % 8 === 7 ? 'sflow' : 'netflow';
  r.flowversion = r.flowtype === 'sflow' ? 5 : 10;
  r.srcgeo = i % 7 === 0 ? null : { countrycode: i % 2 ? 'FR' : 'US', continentcode: 'EU', location: null };
  r.dstgeo = { countrycode: 'DE', continentcode: 'EU', location: { lat: 52.5, lon: 13.4 } };
  r.tags = i % 5 === 1 ? ['customer-a', "o'brien"] : null;
  r.site = i % 2 ? 'par1' : null;
  return r;
}

/** Records of days 0-2, plus late day-0 records (written last), plus exact range-bound records. */
export function conformanceRecords(): { batches: FlowRecord[][]; all: FlowRecord[] } {
  const onTime: FlowRecord[] = [];
  for (let day = 0; day < 3; day++) for (let i = 0; i < 240; i++) onTime.push(makeRecord(day, i));
  // Exactly on the day boundaries: [day1, day2) must include the first and exclude the second.
  const atDay1 = makeRecord(1, 999);
  atDay1.end = DAY0 + DAY;
  const atDay2 = makeRecord(2, 998);
  atDay2.end = DAY0 + 2 * DAY;
  // No end: the flow time is start, else the receive timestamp.
  const startOnly = makeRecord(1, 997);
  startOnly.end = null;
  startOnly.start = DAY0 + DAY + 3_333_333;
  startOnly.duration = null;
  const late: FlowRecord[] = [];
  for (let i = 240; i < 300; i++) late.push(makeRecord(0, i));
  const batches: FlowRecord[][] = [];
  const first = [...onTime, atDay1, atDay2, startOnly];
  // Interleave days inside each batch, as a collector sees several exporters' clocks.
  for (let b = 0; b < first.length; b += 97) batches.push(first.slice(b, b + 97).reverse());
  batches.push(late);
  return { batches, all: [...first, ...late] };
}

function flowTime(r: FlowRecord): number {
  return r.end ?? r.start ?? r.timestamp * 1000;
}

function estimate(v: number | null, r: FlowRecord): number {
  return (v ?? 0) * (r.samplerate ?? 1) * r.weight;
}

function dimensionKey(d: Dimension, r: FlowRecord): string | number | null {
  switch (d) {
    case 'protocol':
      return r.protocolint === null ? null : (protocolKeyword(r.protocolint) ?? r.protocolint);
    case 'srccountry':
      return r.srcgeo?.countrycode ?? null;
    case 'dstcountry':
      return r.dstgeo?.countrycode ?? null;
    case 'exporter':
      return r.flowsrcip;
    default:
      return r[d];
  }
}

interface Sums {
  bits: number;
  packets: number;
  flows: number;
}

function sumBy<K>(records: readonly FlowRecord[], keyOf: (r: FlowRecord) => K): Map<K, Sums> {
  const out = new Map<K, Sums>();
  for (const r of records) {
    const k = keyOf(r);
    const s = out.get(k) ?? { bits: 0, packets: 0, flows: 0 };
    s.bits += estimate(r.bits, r);
    s.packets += estimate(r.packets, r);
    s.flows += r.weight;
    out.set(k, s);
  }
  return out;
}

const num = (
  v: number | null,
  op: '=' | '!=' | '<' | '<=' | '>' | '>=',
  field: 'srcport' | 'dstport' | 'protocolint' | 'srcas' | 'dstas' | 'samplerate' | 'bits' | 'input',
): FilterExpr => ({ kind: 'num', field, op, value: v ?? 0 });
const and = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: 'and', left, right });
const or = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: 'or', left, right });
const not = (expr: FilterExpr): FilterExpr => ({ kind: 'not', expr });
const cidr = (
  field: 'srcip' | 'dstip' | 'flowsrcip',
  network: string,
  prefix: number,
  family: 4 | 6,
): FilterExpr => ({ kind: 'cidr', field, network, prefix, family });

/** Named filters exercising every node kind, CIDR edges and `not`/`or` precedence. */
export const CONFORMANCE_FILTERS: Array<[string, FilterExpr]> = [
  ['src net 10.0.0.0/8', cidr('srcip', '10.0.0.0', 8, 4)],
  ['src net 10.0.0.0/24', cidr('srcip', '10.0.0.0', 24, 4)],
  ['src host 10.0.1.7', cidr('srcip', '10.0.1.7', 32, 4)],
  ['src net 0.0.0.0/0 (v4 only)', cidr('srcip', '0.0.0.0', 0, 4)],
  ['src net 2001:db8:a::/48', cidr('srcip', '2001:db8:a::', 48, 6)],
  ['src net 2001:db8:a::/80 (low half)', cidr('srcip', '2001:db8:a::', 80, 6)],
  ['src host 2001:db8:a:0:1::5', cidr('srcip', '2001:db8:a:0:1::5', 128, 6)],
  ['src net ::/0 (v6 only)', cidr('srcip', '::', 0, 6)],
  ['dst net 2001:db8:ffff::/48', cidr('dstip', '2001:db8:ffff::', 48, 6)],
  ['exporter 192.0.2.2', cidr('flowsrcip', '192.0.2.2', 32, 4)],
  ['port 443', or(num(443, '=', 'srcport'), num(443, '=', 'dstport'))],
  ['dst port > 1024', num(1024, '>', 'dstport')],
  ['proto udp', num(17, '=', 'protocolint')],
  ['not proto tcp (nulls)', not(num(6, '=', 'protocolint'))],
  ['src as 64501', num(64501, '=', 'srcas')],
  ['not src as 64501 (null AS kept)', not(num(64501, '=', 'srcas'))],
  ['dst as != 15169', num(15169, '!=', 'dstas')],
  ['samplerate >= 100', num(100, '>=', 'samplerate')],
  ['bits < 2000', num(2000, '<', 'bits')],
  ['in if 2', num(2, '=', 'input')],
  ['flowtype SFLOW (case)', { kind: 'str', field: 'flowtype', op: '=', value: 'SFLOW' }],
  ['src country fr', { kind: 'str', field: 'srccountry', op: '=', value: 'fr' }],
  ['exporter name != edge-1', { kind: 'str', field: 'flowsrcname', op: '!=', value: 'edge-1' }],
  ['site PAR1', { kind: 'str', field: 'site', op: '=', value: 'PAR1' }],
  ['tag customer-a', { kind: 'tag', value: 'customer-a' }],
  ["tag o'brien", { kind: 'tag', value: "o'brien" }],
  ['flags S', { kind: 'flags', mask: 0x02 }],
  ['flags SA', { kind: 'flags', mask: 0x12 }],
  ['not a or b: (not proto tcp) or port 53', or(not(num(6, '=', 'protocolint')), num(53, '=', 'dstport'))],
  ['not (a or b)', not(or(num(6, '=', 'protocolint'), num(53, '=', 'dstport')))],
  [
    'a or b and c',
    or(num(17, '=', 'protocolint'), and(cidr('srcip', '10.0.0.0', 8, 4), num(443, '=', 'dstport'))),
  ],
  ['any', { kind: 'any' }],
];

function tmpDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `flowgate-store-${name.replace(/\W/g, '')}-`));
}

export function runStoreConformance(name: string, makeStore: (dir: string) => FlowStore): void {
  describe(`${name} store conformance`, () => {
    const { batches, all } = conformanceRecords();
    const dir = tmpDir(name);
    const store = makeStore(dir);

    before(async () => {
      await store.open();
      for (const b of batches) await store.write(b);
    });
    after(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('health counts what was written', () => {
      const h = store.health();
      assert.equal(h.ready, true);
      assert.equal(h.lastError, null);
      assert.equal(h.recordsWritten, all.length);
      assert.ok(h.partitions >= 3, `partitions ${h.partitions}`);
      assert.ok(h.bytes > 0);
    });

    test('flows: half-open range, newest first, limit', async () => {
      const range = { fromMs: DAY0 + DAY, toMs: DAY0 + 2 * DAY };
      const expected = all
        .filter((r) => flowTime(r) >= range.fromMs && flowTime(r) < range.toMs)
        .sort((a, b) => flowTime(b) - flowTime(a));
      const got = await store.flows({ range, filter: null, limit: 10_000 });
      assert.equal(got.length, expected.length);
      assert.deepEqual(
        got.map((j) => [j.end, j.start, j.srcip]),
        expected.map((r) => [r.end, r.start, r.srcip]),
      );
      assert.equal(got.at(-1)?.end, DAY0 + DAY, 'the record at fromMs is included');
      assert.ok(!got.some((j) => j.end === DAY0 + 2 * DAY), 'the record at toMs is excluded');
      assert.ok(
        got.some((j) => j.end === null && j.start === DAY0 + DAY + 3_333_333),
        'start-only record',
      );
      const limited = await store.flows({ range, filter: null, limit: 5 });
      assert.deepEqual(limited, got.slice(0, 5));
    });

    test('flows: records come back in the PRODUCT.md JSON form', async () => {
      const r = all.find((x) => x.srcip === '2001:db8:a:0:1::5' && x.tags !== null && x.samplerate === 1000);
      assert.ok(r, 'fixture has such a record');
      const end = r.end as number;
      const [j] = await store.flows({ range: { fromMs: end, toMs: end + 1 }, filter: null, limit: 10 });
      assert.ok(j);
      assert.equal(j.srcip, '2001:db8:a:0:1::5');
      assert.equal(j.samplerate, 1000);
      assert.deepEqual(j.tags, ['customer-a', "o'brien"]);
      assert.deepEqual(j.dstgeo, {
        countrycode: 'DE',
        continentcode: 'EU',
        location: { lat: 52.5, lon: 13.4 },
      });
      assert.equal(j.protocol, protocolKeyword(r.protocolint));
      assert.equal(j.flowsrcip, r.flowsrcip);
      assert.equal(j.bits, r.bits);
    });

    test('flows: late records land in their own (older) day', async () => {
      const got = await store.flows({
        range: { fromMs: DAY0, toMs: DAY0 + DAY },
        filter: null,
        limit: 10_000,
      });
      assert.equal(got.length, 300);
      const lateEnd = timeOf(0, 299);
      assert.ok(got.some((j) => j.end === lateEnd));
    });

    for (const [label, filter] of CONFORMANCE_FILTERS) {
      test(`filter: ${label}`, async () => {
        const expected = all.filter((r) => matchFilter(filter, r)).map((r) => flowTime(r));
        assert.ok(expected.length > 0, 'fixture exercises the filter');
        if (filter.kind !== 'any') assert.ok(expected.length < all.length, 'filter excludes something');
        const got = await store.flows({ range: ALL, filter, limit: 100_000 });
        const gotTimes = got.map((j) => (j.end ?? j.start) as number).sort((a, b) => a - b);
        assert.deepEqual(
          gotTimes,
          expected.sort((a, b) => a - b),
        );
      });
    }

    test('filter: the injection-shaped site value matches nothing', async () => {
      const got = await store.flows({
        range: ALL,
        filter: { kind: 'str', field: 'site', op: '=', value: "par1' OR '1'='1" },
        limit: 10,
      });
      assert.deepEqual(got, []);
    });

    for (const dimension of DIMENSIONS) {
      test(`top by ${dimension}: exact estimates for every metric`, async () => {
        const expected = sumBy(all, (r) => dimensionKey(dimension, r));
        const full = await store.top({ range: ALL, filter: null, dimension, metric: 'bits', limit: 10_000 });
        assert.equal(full.length, expected.size);
        for (const row of full) assert.deepEqual({ ...row }, { key: row.key, ...expected.get(row.key) });
        for (const metric of METRICS) {
          const top3 = await store.top({ range: ALL, filter: null, dimension, metric, limit: 3 });
          const want = [...expected.values()]
            .map((s) => s[metric])
            .sort((a, b) => b - a)
            .slice(0, 3);
          assert.deepEqual(
            top3.map((r: TopRow) => r[metric]),
            want,
            `top 3 ${dimension} by ${metric}`,
          );
        }
      });
    }

    test('top with a filter and a range', async () => {
      const filter = cidr('srcip', '2001:db8:a::', 48, 6);
      const range = { fromMs: DAY0 + DAY, toMs: DAY0 + 3 * DAY };
      const rows = all.filter(
        (r) => flowTime(r) >= range.fromMs && flowTime(r) < range.toMs && matchFilter(filter, r),
      );
      const expected = sumBy(rows, (r) => r.dstip);
      const got = await store.top({ range, filter, dimension: 'dstip', metric: 'packets', limit: 100 });
      assert.deepEqual(
        new Map(got.map((r) => [r.key, { bits: r.bits, packets: r.packets, flows: r.flows }])),
        expected,
      );
    });

    test('timeseries: aligned buckets that sum to the totals', async () => {
      const bucketSec = 3600;
      const got = await store.timeseries({
        range: ALL,
        filter: null,
        bucketSec,
        groupBy: null,
        metric: 'bits',
        limit: 10,
      });
      const expected = sumBy(all, (r) => Math.floor(flowTime(r) / 3_600_000) * 3_600_000);
      assert.equal(got.length, expected.size);
      for (const p of got) {
        assert.equal(p.bucketMs % 3_600_000, 0);
        assert.equal(p.key, null);
        assert.deepEqual({ bits: p.bits, packets: p.packets, flows: p.flows }, expected.get(p.bucketMs));
      }
      const total = sumBy(all, () => 0).get(0);
      assert.equal(
        got.reduce((s, p) => s + p.bits, 0),
        total?.bits,
      );
      assert.equal(
        got.reduce((s, p) => s + p.flows, 0),
        total?.flows,
      );
      for (let i = 1; i < got.length; i++) assert.ok((got[i]?.bucketMs ?? 0) > (got[i - 1]?.bucketMs ?? 0));
    });

    test('timeseries grouped: the top-N keys by metric, per bucket', async () => {
      const got = await store.timeseries({
        range: ALL,
        filter: null,
        bucketSec: 86400,
        groupBy: 'srcip',
        metric: 'bits',
        limit: 2,
      });
      const totals = sumBy(all, (r) => r.srcip);
      const ranked = [...totals.entries()].sort((a, b) => b[1].bits - a[1].bits);
      assert.notEqual(ranked[1]?.[1].bits, ranked[2]?.[1].bits, 'fixture has no tie at the cut');
      const keys = new Set(ranked.slice(0, 2).map(([k]) => k));
      assert.deepEqual(new Set(got.map((p) => p.key)), keys);
      const expected = sumBy(
        all.filter((r) => keys.has(r.srcip)),
        (r) => `${Math.floor(flowTime(r) / DAY) * DAY}|${r.srcip}`,
      );
      assert.equal(got.length, expected.size);
      for (const p of got) {
        assert.deepEqual(
          { bits: p.bits, packets: p.packets, flows: p.flows },
          expected.get(`${p.bucketMs}|${p.key}`),
        );
      }
    });

    test('exporters: per exporter and flow type, with first/last flow time', async () => {
      const got = await store.exporters(ALL);
      const groups = new Map<string, FlowRecord[]>();
      for (const r of all) {
        const k = `${r.flowsrcip}|${r.flowtype}`;
        groups.set(k, [...(groups.get(k) ?? []), r]);
      }
      assert.equal(got.length, groups.size);
      for (const e of got) {
        const rs = groups.get(`${e.exporter}|${e.flowtype}`);
        assert.ok(rs, `${e.exporter} ${e.flowtype}`);
        const s = sumBy(rs, () => 0).get(0);
        assert.equal(e.records, rs.length);
        assert.equal(e.bits, s?.bits);
        assert.equal(e.packets, s?.packets);
        assert.equal(e.name, rs[0]?.flowsrcname ?? null);
        assert.equal(e.firstMs, Math.min(...rs.map(flowTime)));
        assert.equal(e.lastMs, Math.max(...rs.map(flowTime)));
      }
    });

    test('queries over a range with no partition return nothing', async () => {
      const range = { fromMs: DAY0 + 30 * DAY, toMs: DAY0 + 31 * DAY };
      assert.deepEqual(await store.flows({ range, filter: null, limit: 10 }), []);
      assert.deepEqual(
        await store.top({ range, filter: null, dimension: 'srcip', metric: 'bits', limit: 10 }),
        [],
      );
      assert.deepEqual(await store.exporters(range), []);
    });
  });

  describe(`${name} store retention and reopen`, () => {
    const { batches, all } = conformanceRecords();

    async function filled(label: string): Promise<{ dir: string; store: FlowStore }> {
      const dir = tmpDir(`${name}-${label}`);
      const store = makeStore(dir);
      await store.open();
      for (const b of batches) await store.write(b);
      return { dir, store };
    }

    async function countIn(store: FlowStore, fromMs: number, toMs: number): Promise<number> {
      return (await store.flows({ range: { fromMs, toMs }, filter: null, limit: 100_000 })).length;
    }

    test('retention by age drops whole old partitions only', async () => {
      const { dir, store } = await filled('age');
      try {
        const before = store.health().partitions;
        // Day 0's newest flow is older than 1.5 days before the end of day 2; day 1's is not.
        const dropped = await store.applyRetention({ maxAgeMs: 1.5 * DAY, maxBytes: null }, DAY0 + 3 * DAY);
        assert.equal(dropped, 1);
        assert.equal(store.health().partitions, before - 1);
        assert.equal(await countIn(store, DAY0, DAY0 + DAY), 0);
        const kept = all.filter((r) => flowTime(r) >= DAY0 + DAY).length;
        assert.equal(await countIn(store, DAY0, DAY0 + 5 * DAY), kept);
        assert.equal(await store.applyRetention({ maxAgeMs: null, maxBytes: null }, DAY0 + 3 * DAY), 0);
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('retention by size drops the oldest partitions until under the bound', async () => {
      const { dir, store } = await filled('size');
      try {
        const h = store.health();
        const dropped = await store.applyRetention({ maxAgeMs: null, maxBytes: h.bytes - 1 }, DAY0);
        assert.ok(dropped >= 1);
        assert.ok(store.health().bytes <= h.bytes - 1, `${store.health().bytes} bytes left`);
        assert.equal(await countIn(store, DAY0, DAY0 + DAY), 0, 'the oldest day went first');
        if (store.health().partitions > 0) {
          assert.ok((await countIn(store, DAY0 + 2 * DAY, DAY0 + 3 * DAY)) > 0, 'the newest day stays');
        }
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('reopen after close keeps every record', async () => {
      const { dir, store } = await filled('reopen');
      try {
        const before = await store.flows({ range: ALL, filter: null, limit: 100_000 });
        await store.close();
        const again = makeStore(dir);
        await again.open();
        try {
          const after = await again.flows({ range: ALL, filter: null, limit: 100_000 });
          assert.equal(after.length, all.length);
          assert.deepEqual(after, before);
          await again.write([makeRecord(0, 5000)]);
          assert.equal(await countIn(again, DAY0, DAY0 + DAY), 301);
        } finally {
          await again.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
