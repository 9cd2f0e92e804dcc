import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { after, describe, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { FlowRecord } from '../../src/record/flow-record.js';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import { encodeRowBinary } from '../../src/store/clickhouse/insert.js';
import type { ClickHouseStoreOptions } from '../../src/store/clickhouse/options.js';
import { serverCaps } from '../../src/store/clickhouse/schema.js';
import { type ClickHouseServer, clickhouseSkip, startClickHouse } from '../helpers/clickhouse-server.js';
import { conformanceRecords, DAY0, runStoreConformance } from './store-conformance.js';

const DAY = 86_400_000;
const server: ClickHouseServer | null = clickhouseSkip === false ? await startClickHouse() : null;
after(async () => {
  await server?.dispose();
});

function options(database: string, over: Partial<ClickHouseStoreOptions> = {}): ClickHouseStoreOptions {
  return {
    url: (server as ClickHouseServer).url,
    database,
    username: 'default',
    password: null,
    cluster: null,
    ...over,
  };
}

/** One database per conformance store directory, so reopening the same dir finds its rows. */
function databaseFor(dir: string): string {
  return `fg_${basename(dir).replace(/\W/g, '_')}`;
}

async function sql(query: string): Promise<Record<string, unknown>[]> {
  const c = createClient({ url: (server as ClickHouseServer).url });
  try {
    const rs = await c.query({
      query,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    return (await rs.json()) as Record<string, unknown>[];
  } finally {
    await c.close();
  }
}

async function command(query: string): Promise<void> {
  const c = createClient({ url: (server as ClickHouseServer).url });
  try {
    await c.command({ query });
  } finally {
    await c.close();
  }
}

function record(i: number, end: number): FlowRecord {
  const r = new FlowRecord();
  r.ipversion = 4;
  r.srcip = `10.1.${(i >> 8) & 255}.${i & 255}`;
  r.dstip = '192.0.2.9';
  r.protocolint = 6;
  r.srcport = 1024 + (i % 1000);
  r.dstport = 443;
  r.end = end;
  r.start = end - 500;
  r.timestamp = Math.floor(end / 1000);
  r.bits = 8000;
  r.packets = 10;
  r.flowsrcip = '192.0.2.1';
  r.tags = i % 2 === 0 ? ['a\tb', "back\\slash'"] : null;
  return r;
}

if (clickhouseSkip !== false) {
  test('ClickHouse store', { skip: clickhouseSkip }, () => undefined);
} else {
  runStoreConformance('clickhouse', (dir) => new ClickHouseStore(options(databaseFor(dir))));

  describe('ClickHouse store specifics', () => {
    test('version detection: 18.16 here, and the modern branch from a newer version string', async () => {
      const store = new ClickHouseStore(options('fg_version'));
      await store.open();
      try {
        const caps = store.serverCaps();
        assert.ok(caps);
        assert.match(caps.version, /^\d+\.\d+/);
        assert.equal(caps.lowCardinality, caps.major >= 19);
      } finally {
        await store.close();
      }
      assert.equal(serverCaps('18.16.1').lowCardinality, false);
      assert.equal(serverCaps('24.8.4.13').lowCardinality, true);
      assert.throws(() => serverCaps('garbage'), /not understood/);
    });

    test('schema created on an empty database, a missing column added back, rows kept', async () => {
      const db = 'fg_migrate';
      const store = new ClickHouseStore(options(db));
      await store.open();
      await store.write([record(1, DAY0 + 1000), record(2, DAY0 + 2000)]);
      await store.close();
      const cols = await sql(`SELECT name FROM system.columns WHERE database = '${db}' AND table = 'flows'`);
      assert.ok(cols.some((c) => c.name === 'srcip_lo'));
      assert.ok(cols.some((c) => c.name === 'day'));
      // An older table: without outputalias (and tags_null, added with a default).
      await command(`ALTER TABLE ${db}.flows DROP COLUMN outputalias`);
      await command(`ALTER TABLE ${db}.flows DROP COLUMN tags_null`);
      const again = new ClickHouseStore(options(db));
      await again.open();
      try {
        const after = await sql(
          `SELECT name FROM system.columns WHERE database = '${db}' AND table = 'flows'`,
        );
        assert.ok(
          after.some((c) => c.name === 'outputalias'),
          'outputalias added back',
        );
        assert.ok(
          after.some((c) => c.name === 'tags_null'),
          'tags_null added back',
        );
        const r = record(3, DAY0 + 3000);
        r.outputalias = 'uplink';
        await again.write([r]);
        const got = await again.flows({ range: { fromMs: DAY0, toMs: DAY0 + DAY }, filter: null, limit: 10 });
        assert.equal(got.length, 3);
        assert.equal(got[0]?.outputalias, 'uplink');
        assert.equal(got[2]?.srcip, '10.1.0.1');
      } finally {
        await again.close();
      }
    });

    test('escaping: tabs, backslashes and quotes in strings and tags round-trip', async () => {
      const store = new ClickHouseStore(options('fg_escape'));
      await store.open();
      try {
        const r = record(0, DAY0 + 5);
        r.site = "line\nbreak\ttab\\'q";
        await store.write([r]);
        const [j] = await store.flows({ range: { fromMs: DAY0, toMs: DAY0 + DAY }, filter: null, limit: 1 });
        assert.equal(j?.site, "line\nbreak\ttab\\'q");
        assert.deepEqual(j?.tags, ['a\tb', "back\\slash'"]);
        const none = await store.flows({
          range: { fromMs: DAY0, toMs: DAY0 + DAY },
          filter: { kind: 'str', field: 'site', op: '=', value: "x\\' OR 1 = 1 OR '" },
          limit: 10,
        });
        assert.deepEqual(none, []);
        const tagged = await store.flows({
          range: { fromMs: DAY0, toMs: DAY0 + DAY },
          filter: { kind: 'tag', value: "back\\slash'" },
          limit: 10,
        });
        assert.equal(tagged.length, 1);
      } finally {
        await store.close();
      }
    });

    test('RowBinary: the generated writer and the operation table write the same bytes', () => {
      const rows: FlowRecord[] = [];
      for (let i = 0; i < 40; i++) rows.push(record(i, DAY0 + i));
      const r = rows[3] as FlowRecord;
      r.srcip = '2001:db8:ffff::1';
      r.nexthop = '::ffff:192.0.2.1';
      r.dstip = '300.1.1.1';
      r.site = 'ü'.repeat(50);
      r.inputname = 'x'.repeat(300);
      r.srcport = 1.5;
      r.input = -1;
      r.bits = Number.NaN;
      r.fragmented = true;
      r.srcgeo = { countrycode: 'FR', continentcode: 'EU', location: null };
      r.extra = { vendor: 'é' };
      r.tags = [];
      const big = rows[4] as FlowRecord;
      big.tags = Array.from({ length: 200 }, (_v, k) => `t${k}`);
      const generated = encodeRowBinary(rows, 1_700_000_000_000);
      assert.ok(generated.length > 40 * 100);
      assert.equal(Buffer.compare(generated, encodeRowBinary(rows, 1_700_000_000_000, true)), 0);
    });

    test('RowBinary round trip: multi-byte and long strings, IPv6 CIDR, 200 tags, geo, extra', async () => {
      const store = new ClickHouseStore(options('fg_rowbinary'));
      await store.open();
      try {
        const r = record(0, DAY0 + 7);
        r.srcip = '2001:db8:ffff::1';
        r.site = 'ü'.repeat(50);
        r.inputname = `${'x'.repeat(300)}\0end`;
        r.srcgeo = { countrycode: 'FR', continentcode: 'EU', location: { lat: 1.5, lon: -2 } };
        r.extra = { vendor: 'é' };
        r.tags = Array.from({ length: 200 }, (_v, k) => `t${k}`);
        await store.write([r, record(1, DAY0 + 8)]);
        const [j] = await store.flows({
          range: { fromMs: DAY0, toMs: DAY0 + DAY },
          filter: { kind: 'cidr', field: 'srcip', network: '2001:db8:ff00::', prefix: 40, family: 6 },
          limit: 10,
        });
        assert.equal(j?.srcip, '2001:db8:ffff::1');
        assert.equal(j?.site, 'ü'.repeat(50));
        assert.equal(j?.inputname, `${'x'.repeat(300)}\0end`);
        assert.deepEqual(j?.srcgeo, r.srcgeo);
        const [fr] = await sql(`SELECT count() AS n FROM fg_rowbinary.flows WHERE srccountry = 'FR'`);
        assert.equal(num(fr?.n), 1);
        assert.deepEqual(j?.tags, r.tags);
        const [n] = await sql(`SELECT count() AS n FROM fg_rowbinary.flows WHERE srcip_fam = 4`);
        assert.equal(num(n?.n), 1);
      } finally {
        await store.close();
      }
    });

    test('concurrent writes go in fewer INSERTs, each resolves, ties read back in write order', async () => {
      const store = new ClickHouseStore(options('fg_merge'));
      await store.open();
      try {
        const writes: Promise<void>[] = [];
        for (let i = 0; i < 12; i++) writes.push(store.write([record(i, DAY0 + 3 * DAY)]));
        await Promise.all(writes);
        assert.equal(store.health().recordsWritten, 12);
        assert.equal(store.health().lastError, null);
        // Two INSERTs start at once; the ten writes queued meanwhile share at most two more.
        const [p] = await sql(`SELECT count() AS n FROM system.parts WHERE database = 'fg_merge' AND active`);
        assert.ok(num(p?.n) <= 4, `${num(p?.n)} parts`);
        const got = await store.flows({
          range: { fromMs: DAY0 + 3 * DAY, toMs: DAY0 + 4 * DAY },
          filter: null,
          limit: 100,
        });
        assert.deepEqual(
          got.map((j) => j.srcport),
          Array.from({ length: 12 }, (_v, i) => 1024 + i),
        );
      } finally {
        await store.close();
      }
    });

    test('a large batch is one insert and every record is counted', async () => {
      const store = new ClickHouseStore(options('fg_batch'));
      await store.open();
      try {
        const batch: FlowRecord[] = [];
        for (let i = 0; i < 50_000; i++) batch.push(record(i, DAY0 + 2 * DAY + i * 10));
        await store.write(batch);
        assert.equal(store.health().recordsWritten, 50_000);
        const [n] = await sql('SELECT count() AS n FROM fg_batch.flows');
        assert.equal(n?.n, 50_000);
        // One INSERT: one block, one part (before any merge could join parts).
        const [p] = await sql(`SELECT count() AS n FROM system.parts WHERE database = 'fg_batch' AND active`);
        assert.equal(num(p?.n), 1);
        assert.ok(store.health().bytes > 0);
        assert.equal(store.health().partitions, 1);
      } finally {
        await store.close();
      }
    });

    test('retention by age and by bytes drops day partitions (system.parts)', async () => {
      const store = new ClickHouseStore(options('fg_retention'));
      await store.open();
      try {
        for (const b of conformanceRecords().batches) await store.write(b);
        const parts = async () =>
          (
            await sql(
              `SELECT DISTINCT partition AS p FROM system.parts WHERE database = 'fg_retention' AND active ORDER BY p`,
            )
          ).map((r) => String(r.p));
        assert.deepEqual(await parts(), ['2024-03-01', '2024-03-02', '2024-03-03']);
        assert.equal(await store.applyRetention({ maxAgeMs: 1.9 * DAY, maxBytes: null }, DAY0 + 3 * DAY), 1);
        assert.deepEqual(await parts(), ['2024-03-02', '2024-03-03']);
        const h = store.health();
        assert.equal(h.partitions, 2);
        assert.equal(await store.applyRetention({ maxAgeMs: null, maxBytes: h.bytes - 1 }, DAY0), 1);
        assert.deepEqual(await parts(), ['2024-03-03']);
        assert.ok(store.health().bytes < h.bytes);
      } finally {
        await store.close();
      }
    });

    test('a server killed mid-run: write rejects clearly, health shows it, recovers after restart', async () => {
      const own = await startClickHouse();
      const store = new ClickHouseStore({ ...options('fg_crash'), url: own.url });
      try {
        await store.open();
        await store.write([record(1, DAY0 + 1)]);
        await own.kill();
        await assert.rejects(
          store.write([record(2, DAY0 + 2), record(3, DAY0 + 3)]),
          /ClickHouse insert of 2 records into fg_crash\.flows at http:\/\/127\.0\.0\.1:\d+ failed: /,
        );
        assert.match(store.health().lastError ?? '', /insert of 2 records/);
        assert.equal(store.health().recordsWritten, 1);
        await own.restart();
        await store.write([record(2, DAY0 + 2), record(3, DAY0 + 3)]);
        assert.equal(store.health().lastError, null);
        assert.equal(store.health().recordsWritten, 3);
        const got = await store.flows({ range: { fromMs: DAY0, toMs: DAY0 + DAY }, filter: null, limit: 10 });
        assert.deepEqual(
          got.map((j) => j.end),
          [DAY0 + 3, DAY0 + 2, DAY0 + 1],
        );
      } finally {
        await store.close();
        await own.dispose();
      }
    });

    test('the password never appears in errors or health', async () => {
      const secret = 'S3cr3t-pa55word';
      const store = new ClickHouseStore(options('fg_secret', { username: 'nobody', password: secret }));
      await assert.rejects(store.open(), (err: Error) => {
        assert.match(err.message, /ClickHouse open of/);
        assert.ok(!err.message.includes(secret), err.message);
        return true;
      });
      assert.ok(store.health().lastError !== null);
      assert.ok(!JSON.stringify(store.health()).includes(secret));
    });
  });
}

function num(v: unknown): number {
  return Number(v ?? 0);
}
