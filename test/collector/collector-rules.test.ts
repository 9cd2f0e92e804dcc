/**
 * Address classes, tags and flow filters in the live collector, on the telegraf NetFlow v5
 * capture (8 flows between 140.82.121.3 / 140.82.113.x and the RFC 1918 host 192.168.119.100).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { FlowgateMetrics } from '../../src/serve/metrics.js';
import { corpusPath } from '../helpers/corpus.js';
import { parsePrometheus } from '../serve/helpers.js';
import { MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from './helpers.js';

const V5 = readFileSync(corpusPath('netflow5/telegraf_netflow_v5_example_netflow_v5.bin'));

test('defaults: RFC 1918 is internal and a bogon (not globally reachable), public addresses neither', async () => {
  const output = new MemoryOutput();
  const c = await startCollector(testConfig({}), quietLogger, { output });
  try {
    await sendUdp('127.0.0.1', c.listeners[0].port, [V5]);
    await waitFor('the datagram', () => c.stats().decode.datagrams === 1);
    await c.flush();
    assert.equal(output.records.length, 8);
    for (const r of output.records) {
      const srcPrivate = String(r.srcip).startsWith('192.168.');
      const dstPrivate = String(r.dstip).startsWith('192.168.');
      assert.ok(srcPrivate !== dstPrivate, 'one end private, one public');
      assert.deepEqual(
        [r.srcinternal, r.bogonsrc, r.dstinternal, r.bogondst],
        [srcPrivate, srcPrivate, dstPrivate, dstPrivate],
      );
    }
  } finally {
    await c.stop();
  }
});

test('tags label matching records; filters drop what they match and count it per rule', async () => {
  const output = new MemoryOutput();
  const config = testConfig({});
  config.tags = [
    { labels: ['https'], srcports: [443], protocols: ['tcp'] },
    { labels: ['from-github'], srcnets: ['140.82.112.0/20'] },
  ];
  config.filters = {
    defaultaction: 'accept',
    rules: [{ name: 'no-replies', action: 'drop', srcnets: ['192.168.0.0/16'] }],
  };
  const c = await startCollector(config, quietLogger, { output });
  try {
    await sendUdp('127.0.0.1', c.listeners[0].port, [V5]);
    await waitFor('the datagram', () => c.stats().decode.datagrams === 1);
    await c.flush();
    const replies = 8 - output.records.length;
    assert.ok(replies > 0 && output.records.every((r) => !String(r.srcip).startsWith('192.168.')));
    for (const r of output.records) {
      const expected = [
        ...(r.srcport === 443 && r.protocolint === 6 ? ['https'] : []),
        ...(String(r.srcip).startsWith('140.82.') ? ['from-github'] : []),
      ];
      assert.deepEqual(r.tags ?? [], expected);
    }
    const e = c.stats().enrich;
    assert.equal(e.filtered, replies);
    assert.deepEqual(e.filterRules, [
      { rule: 'no-replies', action: 'drop', matched: replies, dropped: replies },
    ]);
    assert.equal(e.tagRules.length, 2);
    assert.equal(c.stats().totals.records, 8, 'decoded records still counted per exporter');
    const metrics = parsePrometheus(
      await new FlowgateMetrics({ stats: () => c.stats(), store: null }).render(),
    );
    assert.equal(metrics.get('flowgate_filtered_records_total{rule="no-replies"}'), replies);
    assert.equal(metrics.get('flowgate_uncounted_records_total'), 0);
  } finally {
    await c.stop();
  }
});
