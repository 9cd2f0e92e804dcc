/**
 * The DuckDB store run on its worker thread (what `flowgate collect` uses) passes the same
 * conformance suite as the in-thread store.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { StoreOutput } from '../../src/deliver/store-output.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { DuckDbWorkerStore } from '../../src/store/duckdb/worker-store.js';
import { DAY0, runStoreConformance } from './store-conformance.js';

runStoreConformance('duckdb on a worker thread', (dir) => new DuckDbWorkerStore({ dir }));

function record(i: number): FlowRecord {
  const r = new FlowRecord();
  r.end = DAY0 + i * 1000;
  r.start = r.end - 500;
  r.srcip = `10.0.0.${i % 250}`;
  r.dstip = '192.0.2.1';
  r.flowsrcip = '127.0.0.2';
  r.bits = 8000;
  r.packets = 1;
  return r;
}

describe('DuckDB worker store', () => {
  test('a failed write hands its column chunks back: the same prepared batch is written once the cause is gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-worker-store-'));
    const store = new DuckDbWorkerStore({ dir });
    try {
      await store.open();
      // A directory where the day's file must go: DuckDB cannot create the partition.
      const blocker = join(dir, `flows-${new Date(DAY0).toISOString().slice(0, 10)}.duckdb`);
      mkdirSync(blocker);
      const prepared = store.prepare(Array.from({ length: 3000 }, (_, i) => record(i)));
      assert.equal(prepared.records, 3000);
      await assert.rejects(store.writePrepared(prepared));
      assert.notEqual(store.health().lastError, null);
      rmSync(blocker, { recursive: true });
      await store.writePrepared(prepared);
      const rows = await store.flows({
        range: { fromMs: DAY0 - 1, toMs: DAY0 + 86_400_000 },
        filter: null,
        limit: 10_000,
      });
      assert.equal(rows.length, 3000, 'every record once, from the chunks that came back');
      assert.equal(new Set(rows.map((r) => r.end)).size, 3000);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('StoreOutput over the worker store: a failing partition is retried from the prepared chunks, nothing lost or repeated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-worker-store-'));
    const store = new DuckDbWorkerStore({ dir });
    const errors: unknown[] = [];
    await store.open();
    const out = new StoreOutput(store, {
      batchSize: 1000,
      maxQueued: 100_000,
      retryIntervalMs: 50,
      retention: null,
      onError: (err) => errors.push(err),
    });
    try {
      const blocker = join(dir, `flows-${new Date(DAY0).toISOString().slice(0, 10)}.duckdb`);
      mkdirSync(blocker);
      for (let b = 0; b < 5; b++) await out.write(Array.from({ length: 700 }, (_, i) => record(b * 700 + i)));
      const until = Date.now() + 10_000;
      while (errors.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      assert.ok(errors.length > 0, 'the blocked partition failed the writes');
      rmSync(blocker, { recursive: true });
      await out.drain();
      assert.equal(out.stats().written, 3500);
      assert.equal(out.stats().drops, 0);
      const rows = await store.flows({
        range: { fromMs: DAY0 - 1, toMs: DAY0 + 86_400_000 },
        filter: null,
        limit: 10_000,
      });
      assert.equal(new Set(rows.map((r) => r.end)).size, 3500);
      assert.equal(rows.length, 3500);
    } finally {
      await out.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('calls before open or after close are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-worker-store-'));
    const store = new DuckDbWorkerStore({ dir });
    await assert.rejects(store.write([record(1)]), /not open/);
    await store.open();
    await store.write([record(1)]);
    assert.equal(store.health().recordsWritten, 1);
    await store.close();
    await assert.rejects(store.write([record(1)]), /not open/);
    await assert.rejects(store.open(), /not open/);
    assert.equal(store.health().ready, false);
    rmSync(dir, { recursive: true, force: true });
  });
});
