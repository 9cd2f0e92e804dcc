/**
 * The DuckDB store run on its worker thread (what `flowgate collect` uses) passes the same
 * conformance suite as the in-thread store.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
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
