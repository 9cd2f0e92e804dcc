/** The flowgate_store_* metrics exist only when the collector has a flow store. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoreHealth } from '../../src/store/contract.js';
import { parsePrometheus, startStack } from './helpers.js';

const STORE_METRICS = [
  'flowgate_store_ready',
  'flowgate_store_bytes',
  'flowgate_store_partitions',
  'flowgate_store_records_written_total',
  'flowgate_store_queue_depth',
  'flowgate_store_drops_total',
];

test('without a flow store (store.enabled false) no flowgate_store_* metric is exposed', async () => {
  const s = await startStack();
  try {
    const text = await (await fetch(`${s.base}/metrics`)).text();
    assert.ok(parsePrometheus(text).has('flowgate_records_total{exporter="127.0.0.1"}'), 'a real scrape');
    const store = text.split('\n').filter((l) => l.includes('flowgate_store_'));
    assert.deepEqual(store, [], 'no sample, HELP or TYPE line');
  } finally {
    await s.close();
  }
});

test('with a flow store its metrics carry its health', async () => {
  const health: StoreHealth = {
    ready: true,
    lastError: null,
    recordsWritten: 42,
    partitions: 3,
    bytes: 4096,
  };
  const s = await startStack({ store: { health: () => health } });
  try {
    const m = parsePrometheus(await (await fetch(`${s.base}/metrics`)).text());
    assert.deepEqual(
      STORE_METRICS.map((name) => m.get(name)),
      // Queue depth and drops come from the collector's store output (none in this stack).
      [1, 4096, 3, 42, 0, 0],
    );
  } finally {
    await s.close();
  }
});
