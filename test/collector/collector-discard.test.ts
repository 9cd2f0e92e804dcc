/** `output.discard`: records are decoded and counted, then dropped; no stdout fallback. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { EchoDecoder, quietLogger, sendUdp, testConfig, waitFor } from './helpers.js';

test('output.discard: a collector without store or file decodes, counts and writes nothing', async () => {
  const base = testConfig({});
  const c = await startCollector({ ...base, output: { ...base.output, discard: true } }, quietLogger, {
    decoder: new EchoDecoder(),
  });
  try {
    await sendUdp('127.0.0.1', c.listeners[0]?.port as number, [Buffer.alloc(40), Buffer.alloc(50)]);
    await waitFor('2 received', () => c.stats().received === 2);
    await c.flush();
    const st = c.stats();
    // Not the JSON-lines writer on stdout that a collector without store or file falls back to.
    assert.equal(st.output.name, 'discard');
    assert.equal(st.output.written, 2);
    assert.equal(st.totals.records, 2);
  } finally {
    await c.stop();
  }
});
