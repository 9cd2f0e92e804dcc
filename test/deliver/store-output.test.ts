import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FanoutOutput } from '../../src/deliver/fanout-output.js';
import type { RecordOutput } from '../../src/deliver/output.js';
import { StoreOutput, type StoreOutputOptions } from '../../src/deliver/store-output.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { decodeCapture, FaultyStore, NFV5_CAPTURE } from '../helpers/store-records.js';

const records = decodeCapture(NFV5_CAPTURE);
/** The capture's flows end on 2023-04-04. */
const APRIL_2023 = { fromMs: Date.UTC(2023, 3, 1), toMs: Date.UTC(2023, 4, 1) };

async function withFaultyStore(fn: (store: FaultyStore) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-store-output-'));
  const store = new FaultyStore(new DuckDbStore({ dir }));
  await store.open();
  try {
    await fn(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function options(over: Partial<StoreOutputOptions> = {}): StoreOutputOptions & { errors: string[] } {
  const errors: string[] = [];
  return {
    batchSize: 10_000,
    maxQueued: 1_000,
    retryIntervalMs: 20,
    retention: null,
    onError: (err) => errors.push(err instanceof Error ? err.message : String(err)),
    errors,
    ...over,
  };
}

/** Flows stored per source address, from the store itself. */
async function storedFlows(store: FaultyStore): Promise<number> {
  const rows = await store.top({
    range: APRIL_2023,
    filter: null,
    dimension: 'srcip',
    metric: 'flows',
    limit: 1000,
  });
  return rows.reduce((n, r) => n + r.flows, 0);
}

test(`decoded ${NFV5_CAPTURE}: 29 records ending 2023-04-04 (what these tests store)`, () => {
  assert.equal(records.length, 29);
  assert.equal(records[0].srcip, '161.202.212.212');
  assert.equal(new Date(records[0].end ?? 0).toISOString(), '2023-04-04T16:44:24.000Z');
});

test('a full queue drops whole batches and counts them; write() never waits on the store', async () => {
  await withFaultyStore(async (store) => {
    store.hold();
    const out = new StoreOutput(store, options({ maxQueued: 60 }));
    // 29 queued and in flight, 29 more queued = 58; the third batch would make 87 > 60.
    const started = Date.now();
    await out.write(records);
    await out.write(records);
    await out.write(records);
    assert.ok(Date.now() - started < 500, 'write() returned while the store was held');
    assert.deepEqual(out.stats(), { name: 'duckdb', queueDepth: 58, drops: 29, written: 0 });
    store.unhold();
    await out.close();
    assert.deepEqual(out.stats(), { name: 'duckdb', queueDepth: 0, drops: 29, written: 58 });
    assert.equal(await storedFlows(store), 58);
  });
});

test('a store that fails three times then recovers loses nothing below the bound', async () => {
  await withFaultyStore(async (store) => {
    store.failures = 3;
    const opts = options({ maxQueued: 1_000, retryIntervalMs: 20 });
    const out = new StoreOutput(store, opts);
    await out.write(records);
    await sleep(5);
    // Failing: the record stays queued and the health says why.
    assert.equal(out.health().ready, false);
    assert.equal(out.health().lastError, 'injected: disk full');
    await out.write(records.slice(0, 10));
    await out.write(records.slice(10));
    const deadline = Date.now() + 5_000;
    while (out.stats().queueDepth > 0 && Date.now() < deadline) await sleep(10);
    assert.equal(store.failed, 3);
    assert.deepEqual(opts.errors, ['injected: disk full', 'injected: disk full', 'injected: disk full']);
    assert.deepEqual(out.stats(), { name: 'duckdb', queueDepth: 0, drops: 0, written: 58 });
    assert.equal(out.health().ready, true);
    assert.equal(out.health().lastError, null);
    assert.equal(await storedFlows(store), 58);
    const top = await store.top({
      range: APRIL_2023,
      filter: null,
      dimension: 'srcip',
      metric: 'flows',
      limit: 1,
    });
    // The capture was written twice: the top source counts each of its records twice.
    const per = records.filter((r) => r.srcip === top[0].key).length;
    assert.equal(top[0].flows, per * 2);
    await out.close();
  });
});

test('batches are handed over as they arrive, several writes in flight, nothing lost or repeated', async () => {
  await withFaultyStore(async (store) => {
    store.hold();
    const out = new StoreOutput(store, options({ batchSize: 25 }));
    for (let i = 0; i < 29; i += 10) await out.write(records.slice(i, i + 10)); // 10, 10, 9
    await sleep(10);
    // All three are with the store (held there), none waits in the output's own queue.
    assert.equal(out.stats().queueDepth, 29, 'records in flight still count as queued');
    store.unhold();
    await out.drain();
    // The first alone; the others as the loop woke for them (one or two writes: microtask order).
    assert.equal(store.writes[0], 10);
    assert.equal(
      store.writes.reduce((a, b) => a + b, 0),
      29,
    );
    assert.ok(store.writes.every((n) => n <= 25));
    assert.equal(out.stats().queueDepth, 0);
    assert.equal(await storedFlows(store), 29);
  });
});

test('after a failed write, the queued batches are merged into writes of at most batchsize records', async () => {
  await withFaultyStore(async (store) => {
    store.failures = 1;
    const out = new StoreOutput(store, options({ batchSize: 25, retryIntervalMs: 50 }));
    await out.write(records.slice(0, 10)); // fails, back to the head of the queue
    await sleep(10);
    for (let i = 10; i < 29; i += 10) await out.write(records.slice(i, i + 10)); // 10, 9 wait
    for (let i = 0; i < 29; i += 10) await out.write(records.slice(i, i + 10)); // 10, 10, 9 wait
    await out.close();
    // After the pause: 10+10 (a third would pass 25), 9+10, 10+9.
    assert.deepEqual(store.writes, [20, 19, 19]);
    assert.equal(await storedFlows(store), 58);
  });
});

test('a store still failing at shutdown: close() returns, what was queued is counted dropped', async () => {
  await withFaultyStore(async (store) => {
    store.failures = 1_000;
    const out = new StoreOutput(store, options({ retryIntervalMs: 60_000 }));
    await out.write(records);
    await sleep(5);
    const started = Date.now();
    await out.close();
    assert.ok(Date.now() - started < 5_000, 'close did not wait for the 60 s retry');
    assert.deepEqual(out.stats(), { name: 'duckdb', queueDepth: 0, drops: 29, written: 0 });
  });
});

class GatedOutput implements RecordOutput {
  readonly name: string;
  records: FlowRecord[] = [];
  gate: Promise<void> = Promise.resolve();
  closed = false;
  constructor(name: string) {
    this.name = name;
  }
  async write(batch: readonly FlowRecord[]): Promise<void> {
    await this.gate;
    this.records.push(...batch);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

test('fan-out: a stuck output fills and drops in its own lane; the other receives every batch', async () => {
  const slow = new GatedOutput('slow');
  let release = (): void => {};
  slow.gate = new Promise((r) => {
    release = r;
  });
  const fast = new GatedOutput('fast');
  const errors: string[] = [];
  const fanout = new FanoutOutput(
    [
      { output: slow, maxQueued: 40 },
      { output: fast, maxQueued: 100 },
    ],
    (name) => errors.push(name),
  );
  assert.equal(fanout.name, 'slow+fast');
  for (let i = 0; i < 4; i++) await fanout.write(records.slice(0, 20));
  await sleep(5);
  assert.equal(fast.records.length, 80);
  assert.deepEqual(fanout.laneStats(), [
    { name: 'slow', depth: 40, written: 0, drops: 40 },
    { name: 'fast', depth: 0, written: 80, drops: 0 },
  ]);
  release();
  await fanout.close();
  assert.equal(slow.records.length, 40);
  assert.equal(slow.records[0].srcip, '161.202.212.212');
  assert.ok(slow.closed && fast.closed);
  assert.deepEqual(errors, []);
});
