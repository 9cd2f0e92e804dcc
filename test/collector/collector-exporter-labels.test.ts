/** `exporters:` names, sites and tags reach every record of the matching exporter. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { corpusPath } from '../helpers/corpus.js';
import { MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from './helpers.js';

const V5 = readFileSync(corpusPath('netflow5/telegraf_netflow_v5_example_netflow_v5.bin'));

test('the first matching exporters: entry names the exporter, sets its site and adds its tags', async () => {
  const output = new MemoryOutput();
  const config = testConfig({});
  config.exporters = [
    // Listed first but does not match 127.0.0.1: never applied.
    {
      match: '10.0.0.0/8',
      name: 'wrong',
      site: 'nowhere',
      samplerate: null,
      samplerateoverride: null,
      keybyport: false,
      tags: ['x'],
    },
    {
      match: '127.0.0.0/8',
      name: 'edge-1',
      site: 'par1',
      samplerate: null,
      samplerateoverride: null,
      keybyport: false,
      tags: ['edge', 'paris'],
    },
    {
      match: '127.0.0.1',
      name: 'shadowed',
      site: null,
      samplerate: null,
      samplerateoverride: null,
      keybyport: false,
      tags: [],
    },
  ];
  const c = await startCollector(config, quietLogger, { output });
  try {
    await sendUdp('127.0.0.1', c.listeners[0].port, [V5, V5]);
    await waitFor('two datagrams', () => c.stats().decode.datagrams === 2);
    await c.flush();
    assert.equal(output.records.length, 16);
    for (const r of output.records) {
      assert.equal(r.flowsrcname, 'edge-1');
      assert.equal(r.site, 'par1');
      assert.deepEqual(r.tags, ['edge', 'paris']);
    }
  } finally {
    await c.stop();
  }
});

test('an exporter no entry matches keeps null name, site and tags', async () => {
  const output = new MemoryOutput();
  const config = testConfig({});
  config.exporters = [
    {
      match: '192.0.2.0/24',
      name: 'other',
      site: 'x',
      samplerate: null,
      samplerateoverride: null,
      keybyport: false,
      tags: ['t'],
    },
  ];
  const c = await startCollector(config, quietLogger, { output });
  try {
    await sendUdp('127.0.0.1', c.listeners[0].port, [V5]);
    await waitFor('one datagram', () => c.stats().decode.datagrams === 1);
    await c.flush();
    assert.equal(output.records.length, 8);
    for (const r of output.records) {
      assert.equal(r.flowsrcname, null);
      assert.equal(r.site, null);
      assert.equal(r.tags, null);
    }
  } finally {
    await c.stop();
  }
});
