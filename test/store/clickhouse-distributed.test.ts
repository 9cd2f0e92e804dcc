import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { after, describe, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { ClickHouseStore } from '../../src/store/clickhouse/clickhouse-store.js';
import type { ClickHouseStoreOptions } from '../../src/store/clickhouse/options.js';
import {
  type ClickHouseServer,
  clickhouseSkip,
  startClickHouseCluster,
  TEST_CLUSTER,
} from '../helpers/clickhouse-server.js';
import { conformanceRecords, runStoreConformance } from './store-conformance.js';

const shards: ClickHouseServer[] = clickhouseSkip === false ? await startClickHouseCluster(2) : [];
after(async () => {
  await Promise.all(shards.map((s) => s.dispose()));
});

function options(database: string): ClickHouseStoreOptions {
  return {
    url: (shards[0] as ClickHouseServer).url,
    database,
    username: 'default',
    password: null,
    cluster: { name: TEST_CLUSTER, shards: shards.map((s) => s.url) },
  };
}

async function sql(url: string, query: string): Promise<Record<string, unknown>[]> {
  const c = createClient({ url });
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

if (clickhouseSkip !== false) {
  test('ClickHouse Distributed store', { skip: clickhouseSkip }, () => undefined);
} else {
  runStoreConformance(
    'clickhouse-distributed',
    (dir) => new ClickHouseStore(options(`fg_${basename(dir).replace(/\W/g, '_')}`)),
  );

  describe('ClickHouse Distributed table over two shards', () => {
    test('local tables on each shard, a Distributed table, rows spread over both shards', async () => {
      const store = new ClickHouseStore(options('fg_spread'));
      await store.open();
      try {
        const { batches, all } = conformanceRecords();
        for (const b of batches) await store.write(b);
        const counts: number[] = [];
        for (const s of shards) {
          const tables = await sql(
            s.url,
            `SELECT name, engine FROM system.tables WHERE database = 'fg_spread' ORDER BY name`,
          );
          assert.deepEqual(
            tables.map((t) => [t.name, t.engine]),
            [
              ['flows', 'Distributed'],
              ['flows_local', 'MergeTree'],
            ],
          );
          const [n] = await sql(s.url, 'SELECT count() AS n FROM fg_spread.flows_local');
          counts.push(Number(n?.n));
        }
        assert.ok(
          counts.every((n) => n > 0),
          `each shard holds rows: ${counts.join(', ')}`,
        );
        assert.equal(
          counts.reduce((a, b) => a + b, 0),
          all.length,
        );
        const [total] = await sql(
          (shards[1] as ClickHouseServer).url,
          'SELECT count() AS n FROM fg_spread.flows',
        );
        assert.equal(Number(total?.n), all.length, 'the Distributed table on the other shard sees all rows');
        // health() sums the shards' parts (refreshed in the background while writes go on).
        const onDisk = async () =>
          (
            await Promise.all(
              shards.map((s) =>
                sql(
                  s.url,
                  `SELECT sum(bytes_on_disk) AS b FROM system.parts WHERE database = 'fg_spread' AND active`,
                ),
              ),
            )
          ).reduce((sum, r) => sum + Number(r[0]?.b), 0);
        const deadline = Date.now() + 15_000;
        while (store.health().bytes !== (await onDisk()) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(store.health().bytes, await onDisk());
      } finally {
        await store.close();
      }
    });
  });
}
