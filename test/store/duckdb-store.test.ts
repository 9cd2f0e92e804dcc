import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { readCaptureFile } from '../../src/capture/capture-reader.js';
import { detectProtocol, FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { toJsonObject } from '../../src/record/json.js';
import { LOCK_FILE } from '../../src/store/dir-lock.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { corpusPath } from '../helpers/corpus.js';
import { conformanceRecords, DAY0, runStoreConformance } from './store-conformance.js';

runStoreConformance('duckdb', (dir) => new DuckDbStore({ dir }));

const DAY = 86_400_000;

function tmp(label: string): string {
  return mkdtempSync(join(tmpdir(), `flowgate-duckdb-${label}-`));
}

async function withStore(
  label: string,
  options: { partitionSec?: number },
  fn: (store: DuckDbStore, dir: string) => Promise<void>,
): Promise<void> {
  const dir = tmp(label);
  const store = new DuckDbStore({ dir, ...options });
  await store.open();
  try {
    await fn(store, dir);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('DuckDB store specifics', () => {
  test('one file per UTC day; retention unlinks the files and health counts their bytes', async () => {
    await withStore('files', {}, async (store, dir) => {
      for (const b of conformanceRecords().batches) await store.write(b);
      assert.deepEqual(
        readdirSync(dir)
          .filter((f) => f.endsWith('.duckdb'))
          .sort(),
        ['flows-2024-03-01.duckdb', 'flows-2024-03-02.duckdb', 'flows-2024-03-03.duckdb'],
      );
      const sizes = readdirSync(dir)
        .filter((f) => f.startsWith('flows-'))
        .reduce((s, f) => s + statSync(join(dir, f)).size, 0);
      assert.equal(store.health().bytes, sizes);
      const dropped = await store.applyRetention({ maxAgeMs: 1.9 * DAY, maxBytes: null }, DAY0 + 4 * DAY);
      assert.equal(dropped, 2);
      assert.ok(!existsSync(join(dir, 'flows-2024-03-01.duckdb')));
      assert.ok(!existsSync(join(dir, 'flows-2024-03-01.duckdb.wal')));
      assert.ok(!existsSync(join(dir, 'flows-2024-03-02.duckdb')));
      assert.deepEqual(store.partitionFiles(), [join(dir, 'flows-2024-03-03.duckdb')]);
      assert.equal(
        store.health().bytes,
        readdirSync(dir)
          .filter((f) => f.startsWith('flows-'))
          .reduce((s, f) => s + statSync(join(dir, f)).size, 0),
      );
      // A late record for a dropped day recreates its partition.
      const late = new FlowRecord();
      late.end = DAY0 + 1000;
      late.flowsrcip = '192.0.2.9';
      await store.write([late]);
      assert.ok(existsSync(join(dir, 'flows-2024-03-01.duckdb')));
    });
  });

  test('the per-minute rollup answers exactly as the raw rows do', async () => {
    await withStore('rollup', {}, async (store) => {
      for (const b of conformanceRecords().batches) await store.write(b);
      const range = { fromMs: DAY0, toMs: DAY0 + 3 * DAY };
      // Matches every record but is not the empty filter: forces the raw rows.
      const everything = { kind: 'not', expr: { kind: 'not', expr: { kind: 'any' } } } as const;
      const dims = [
        'protocol',
        'srcas',
        'dstas',
        'srccountry',
        'dstcountry',
        'exporter',
        'input',
        'output',
        'flowtype',
      ] as const;
      for (const dimension of dims) {
        for (const metric of ['bits', 'packets', 'flows'] as const) {
          const before = store.rollupQueries;
          const fast = await store.top({ range, filter: null, dimension, metric, limit: 100 });
          assert.equal(store.rollupQueries, before + 1, `${dimension} read from the rollup`);
          const raw = await store.top({ range, filter: everything, dimension, metric, limit: 100 });
          assert.equal(store.rollupQueries, before + 1, `${dimension} with a filter read the raw rows`);
          assert.ok(fast.length >= 1);
          assert.deepEqual(fast, raw, `${dimension} by ${metric}`);
        }
      }
      for (const groupBy of [null, 'protocol', 'exporter'] as const) {
        const q = { range, bucketSec: 600, groupBy, metric: 'bits' as const, limit: 3 };
        const fast = await store.timeseries({ ...q, filter: null });
        assert.deepEqual(fast, await store.timeseries({ ...q, filter: everything }));
      }
      const before = store.rollupQueries;
      const exporters = await store.exporters(range);
      assert.equal(store.rollupQueries, before + 1);
      assert.equal(
        exporters.reduce((s, e) => s + e.records, 0),
        conformanceRecords().all.length,
      );
      // Not minute-aligned: raw rows.
      await store.top({
        range: { fromMs: DAY0 + 1, toMs: DAY0 + DAY },
        filter: null,
        dimension: 'srcas',
        metric: 'bits',
        limit: 5,
      });
      assert.equal(store.rollupQueries, before + 1);
    });
  });

  test('hourly partitions with partitionSec 3600', async () => {
    await withStore('hourly', { partitionSec: 3600 }, async (store, dir) => {
      const rs = [0, 1, 1, 25].map((h) => {
        const r = new FlowRecord();
        r.end = DAY0 + h * 3_600_000 + 59_000;
        r.flowsrcip = '192.0.2.1';
        r.bits = 8000;
        return r;
      });
      await store.write(rs);
      assert.deepEqual(
        readdirSync(dir)
          .filter((f) => f.endsWith('.duckdb'))
          .sort(),
        [
          'flows-2024-03-01T000000.duckdb',
          'flows-2024-03-01T010000.duckdb',
          'flows-2024-03-02T010000.duckdb',
        ],
      );
      const got = await store.flows({
        range: { fromMs: DAY0 + 3_600_000, toMs: DAY0 + 2 * DAY },
        filter: null,
        limit: 10,
      });
      assert.deepEqual(
        got.map((j) => j.end),
        [DAY0 + 25 * 3_600_000 + 59_000, DAY0 + 3_600_000 + 59_000, DAY0 + 3_600_000 + 59_000],
      );
    });
  });

  test('an unparsable address is kept as text and matches no CIDR', async () => {
    await withStore('badaddr', {}, async (store) => {
      const r = new FlowRecord();
      r.end = DAY0 + 5;
      r.srcip = 'not-an-ip';
      r.flowsrcip = '192.0.2.1';
      await store.write([r]);
      const range = { fromMs: DAY0, toMs: DAY0 + DAY };
      assert.equal((await store.flows({ range, filter: null, limit: 5 }))[0]?.srcip, 'not-an-ip');
      const v4all = { kind: 'cidr', field: 'srcip', network: '0.0.0.0', prefix: 0, family: 4 } as const;
      assert.deepEqual(await store.flows({ range, filter: v4all, limit: 5 }), []);
    });
  });

  test('DuckDB runs with the configured memory limit (not 80 % of the RAM) and spills under the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-duckdb-mem-'));
    const store = new DuckDbStore({ dir, memoryLimitBytes: 100 * 1024 * 1024 });
    try {
      await store.open();
      // DuckDB reports the limit in its own units (100 MiB = 104.8 MB).
      assert.match(await store.setting('memory_limit'), /^(100\.0 MiB|104\.8 MB|104\.8 MiB)$/);
      assert.equal(await store.setting('temp_directory'), join(dir, '.tmp'));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a write after close fails and is reported in health', async () => {
    const dir = tmp('closed');
    const store = new DuckDbStore({ dir });
    await store.open();
    await store.close();
    const r = new FlowRecord();
    r.end = DAY0;
    await assert.rejects(store.write([r]), /not open/);
    assert.match(store.health().lastError ?? '', /not open/);
    assert.equal(store.health().ready, false);
    rmSync(dir, { recursive: true, force: true });
  });

  test('records decoded from akvorado_netflow_nfv5.pcap come back identical, with exact top talkers', async () => {
    const decoder = new FlowDecoder(defaultDecoderSettings());
    const sink = new CollectingSink();
    for (const d of readCaptureFile(corpusPath('netflow5/akvorado_netflow_nfv5.pcap'))) {
      if (detectProtocol(d.payload) !== null) decoder.decode(d, sink);
    }
    const records = sink.records;
    assert.ok(records.length > 20, `${records.length} records`);
    await withStore('corpus', {}, async (store) => {
      await store.write(records);
      const times = records.map((r) => r.end ?? r.start ?? r.timestamp * 1000);
      const range = { fromMs: Math.min(...times), toMs: Math.max(...times) + 1 };
      const got = await store.flows({ range, filter: null, limit: 100_000 });
      const canon = (js: unknown[]) => js.map((j) => JSON.stringify(j)).sort();
      assert.deepEqual(canon(got), canon(records.map((r) => JSON.parse(JSON.stringify(toJsonObject(r))))));
      const bySrc = new Map<string | null, number>();
      for (const r of records) {
        bySrc.set(r.srcip, (bySrc.get(r.srcip) ?? 0) + (r.bits ?? 0) * (r.samplerate ?? 1) * r.weight);
      }
      const want = [...bySrc.entries()].sort((a, b) => b[1] - a[1]);
      const top = await store.top({ range, filter: null, dimension: 'srcip', metric: 'bits', limit: 3 });
      assert.deepEqual(
        top.map((t) => t.bits),
        want.slice(0, 3).map(([, v]) => v),
      );
      assert.equal(top[0]?.key, want[0]?.[0]);
      const [e] = await store.exporters(range);
      assert.equal(e?.exporter, records[0]?.flowsrcip);
      assert.equal(e?.records, records.length);
    });
  });

  test('a batch spanning several data chunks reads back record for record, rollup sums included', async () => {
    await withStore('chunks', {}, async (store) => {
      // 5000 rows = three 2048-row chunks; nulls, tags, IPv6 and enrichment vary from row to row so
      // a value or validity bit written to the wrong row or chunk shows up.
      const written: FlowRecord[] = [];
      for (let i = 0; i < 5000; i++) {
        const r = new FlowRecord();
        r.end = DAY0 + 3_600_000 + i * 7;
        r.start = i % 11 === 0 ? null : r.end - 500;
        r.timestamp = Math.floor(r.end / 1000);
        r.srcip =
          i % 3 === 0 ? `2001:db8:${(i % 65536).toString(16)}::${(i % 9) + 1}` : `10.1.${i >> 8}.${i & 255}`;
        r.dstip = i % 13 === 0 ? null : '198.51.100.7';
        r.srcport = i % 17 === 0 ? null : 1024 + i;
        r.dstport = 443;
        r.protocolint = i % 2 ? 6 : 17;
        r.bits = i % 19 === 0 ? null : 8 * (100 + i);
        r.packets = 1 + (i % 4);
        r.samplerate = i % 5 === 0 ? null : 100;
        r.srcas = i % 7 === 0 ? null : 64500 + (i % 3);
        r.fragmented = i % 4 === 0 ? null : i % 2 === 0;
        r.tags = i % 6 === 0 ? [`t${i}`, 'edge'] : null;
        r.srcgeo = i % 8 === 0 ? { countrycode: 'DE', continentcode: 'EU', location: null } : null;
        r.flowsrcip = i % 2 ? '192.0.2.1' : '2001:db8::e';
        r.flowversion = 9;
        written.push(r);
      }
      await store.write(written);
      const range = { fromMs: DAY0, toMs: DAY0 + DAY };
      const back = await store.flows({ range, filter: null, limit: 10_000 });
      assert.equal(back.length, 5000);
      const expected = [...written].reverse().map((r) => toJsonObject(r));
      assert.deepEqual(back, expected);

      const top = await store.top({ range, filter: null, dimension: 'srcas', metric: 'bits', limit: 10 });
      let bits64501 = 0;
      let nullFlows = 0;
      for (const r of written) {
        if (r.srcas === 64501) bits64501 += (r.bits ?? 0) * (r.samplerate ?? 1);
        if (r.srcas === null) nullFlows++;
      }
      assert.equal(top.find((t) => t.key === 64501)?.bits, bits64501);
      assert.equal(top.find((t) => t.key === null)?.flows, nullFlows);
    });
  });
});

describe('DuckDB store directory lock', () => {
  test('a second store on the same (even empty) directory is refused until the first closes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-lock-'));
    const first = new DuckDbStore({ dir });
    await first.open();
    const second = new DuckDbStore({ dir });
    await assert.rejects(second.open(), new RegExp(`in use by process ${process.pid}`));
    await first.close();
    await second.open();
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a lock left by a process that no longer runs is taken over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-lock-'));
    // A pid that cannot be running: above the kernel's pid_max.
    writeFileSync(join(dir, LOCK_FILE), '4194305\n');
    const store = new DuckDbStore({ dir });
    await store.open();
    assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid));
    await store.close();
    assert.ok(!existsSync(join(dir, LOCK_FILE)));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('DuckDB hourly rollup', () => {
  const HOUR = 3_600_000;
  /** Records spread over hours 0–2 of DAY0, several writes per minute (duplicate rollup rows). */
  function traffic(hours: number[], perHour: number, seed: number): FlowRecord[] {
    const out: FlowRecord[] = [];
    for (const h of hours) {
      for (let i = 0; i < perHour; i++) {
        const r = new FlowRecord();
        r.end = DAY0 + h * HOUR + ((i * 7919 + seed) % HOUR);
        r.start = r.end - 1000;
        r.srcip = `10.0.${i % 7}.${(i + seed) % 5}`;
        r.dstip = '192.0.2.1';
        r.flowsrcip = i % 3 === 0 ? '127.0.0.2' : '127.0.0.3';
        r.protocolint = i % 2 === 0 ? 6 : 17;
        r.srcas = 64500 + (i % 4);
        r.bits = 8000 * (1 + (i % 11));
        r.packets = 1 + (i % 11);
        r.samplerate = i % 5 === 0 ? 100 : 1;
        out.push(r);
      }
    }
    return out;
  }

  /** Rollup answers (whole hours) next to the raw rows' answers (a range 1 ms inside the day). */
  async function bothWays(store: DuckDbStore) {
    const rollup = { fromMs: DAY0, toMs: DAY0 + DAY };
    const raw = { fromMs: DAY0 + 1, toMs: DAY0 + DAY - 1 };
    const ask = async (range: typeof rollup) => ({
      top: await store.top({ range, filter: null, dimension: 'srcas', metric: 'bits', limit: 10 }),
      series: await store.timeseries({
        range,
        filter: null,
        bucketSec: 3600,
        groupBy: 'exporter',
        metric: 'packets',
        limit: 10,
      }),
      exporters: (await store.exporters(range)).map((e) => ({ ...e, firstMs: 0, lastMs: 0 })),
    });
    return { rollup: await ask(rollup), raw: await ask(raw) };
  }

  test('complete hours are summed once, late records still count, answers equal the raw rows', async () => {
    const dir = tmp('hourly');
    let store = new DuckDbStore({ dir });
    await store.open();
    try {
      const early = traffic([0, 1, 2], 600, 1);
      for (let i = 0; i < early.length; i += 50) await store.write(early.slice(i, i + 50));
      // Flow time moves on to hour 5: hours 0–3 are complete (15 min lag) and get summed.
      await store.write(traffic([5], 20, 2));
      let before = store.hourlyRollupQueries;
      let a = await bothWays(store);
      assert.ok(store.hourlyRollupQueries > before, 'the hourly rollup answered');
      assert.deepEqual(a.rollup, a.raw);
      // A record of hour 1 arriving late, after its hour was summed.
      await store.write(traffic([1], 5, 3));
      a = await bothWays(store);
      assert.deepEqual(a.rollup, a.raw);
      // The mark survives a restart (read back from the hourly table): nothing summed twice.
      await store.close();
      store = new DuckDbStore({ dir });
      await store.open();
      await store.write(traffic([6], 10, 4));
      before = store.hourlyRollupQueries;
      a = await bothWays(store);
      assert.ok(store.hourlyRollupQueries > before);
      assert.deepEqual(a.rollup, a.raw);
      // 5-minute buckets cannot come from hours: the minute rollup answers those alone.
      before = store.hourlyRollupQueries;
      await store.timeseries({
        range: { fromMs: DAY0, toMs: DAY0 + DAY },
        filter: null,
        bucketSec: 300,
        groupBy: null,
        metric: 'bits',
        limit: 10,
      });
      assert.equal(store.hourlyRollupQueries, before);
    } finally {
      await store.close();
    }
    // Far fewer hourly rows than minute rows for the same hours.
    const db = await DuckDBInstance.create(join(dir, 'flows-2024-03-01.duckdb'));
    const conn = await db.connect();
    const count = async (sql: string) => Number((await conn.runAndReadAll(sql)).getRowObjectsJS()[0]?.n);
    const minuteRows = await count(`SELECT count(*) AS n FROM flows_1m WHERE bucket < ${DAY0 + 3 * HOUR}`);
    const hourRows = await count(`SELECT count(*) AS n FROM flows_1h WHERE bucket < ${DAY0 + 3 * HOUR}`);
    assert.ok(hourRows > 0 && hourRows * 10 < minuteRows, `${hourRows} hourly vs ${minuteRows} minute rows`);
    conn.closeSync();
    db.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });
});
