import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { corpusPath } from '../helpers/corpus.js';
import { datagramOf } from '../helpers/datagram.js';
import { logCapture, MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from './helpers.js';

// PROVENANCE.md replay order "NFv9 Cisco ASA 1": template, then data.
const TPL = readFileSync(corpusPath('netflow9/logstash_nf9_cisco_asa_1_tpl.dat'));
const DATA = readFileSync(corpusPath('netflow9/logstash_nf9_cisco_asa_1_data.dat'));

test('restart: NFv9 templates saved at stop are loaded at start, data decodes at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-tpl-'));
  const templatedb = join(dir, 'state', 'templates.json');
  try {
    // What the ASA capture decodes to when template and data arrive in one run.
    const direct = new CollectingSink();
    const d = new FlowDecoder(defaultDecoderSettings());
    d.decode(datagramOf(TPL, '127.0.0.1'), direct);
    d.decode(datagramOf(DATA, '127.0.0.1'), direct);
    assert.ok(direct.records.length > 0, 'logstash_nf9_cisco_asa_1 decodes with its template');

    const first = await startCollector(testConfig({ general: { templatedb } }), quietLogger, {
      output: new MemoryOutput(),
    });
    await sendUdp('127.0.0.1', first.listeners[0].port, [TPL]);
    await waitFor('the template datagram', () => first.stats().received === 1);
    await first.stop();
    assert.ok(existsSync(templatedb), 'template DB written at stop');

    const { logger, lines } = logCapture();
    const output = new MemoryOutput();
    const second = await startCollector(testConfig({ general: { templatedb } }), logger, { output });
    try {
      const loaded = lines.find((l) => l.msg === 'template database loaded');
      assert.ok(
        loaded !== undefined && (loaded.templates as number) > 0,
        'log says how many templates were loaded',
      );
      assert.equal(second.stats().templateDb.loaded, loaded.templates);
      await sendUdp('127.0.0.1', second.listeners[0].port, [DATA]);
      await waitFor('the data datagram', () => second.stats().received === 1);
      await second.flush();
      assert.equal(output.records.length, direct.records.length);
      const [got, want] = [output.records[0], direct.records[0]];
      assert.equal(got.flowsrcip, '127.0.0.1');
      assert.equal(got.srcip, want.srcip);
      assert.equal(got.dstip, want.dstip);
      assert.equal(got.srcport, want.srcport);
      assert.equal(got.bits, want.bits);
      assert.equal(second.stats().exporters[0].errors.template_unknown, undefined);
      // The exporter's stats entry carries its template state (loaded from the DB, no restart).
      const state = second.stats().exporters[0].templateState;
      assert.equal(state?.templates, loaded.templates);
      assert.equal(state?.restarts, 0);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a corrupt template DB is logged as an error and the collector starts empty', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-tpl-'));
  const templatedb = join(dir, 'templates.json');
  writeFileSync(templatedb, '{"version": 1, "exporters": [tru');
  try {
    const { logger, lines } = logCapture();
    const output = new MemoryOutput();
    const c = await startCollector(testConfig({ general: { templatedb } }), logger, { output });
    try {
      const err = lines.find((l) => l.level === 50);
      assert.ok(err !== undefined, 'an error is logged');
      assert.match(String(err.err), /corrupt/);
      assert.equal(c.stats().templateDb.loaded, 0);
      // Without the template the data cannot be decoded: counted, not fatal.
      await sendUdp('127.0.0.1', c.listeners[0].port, [DATA]);
      await waitFor('the data datagram', () => c.stats().received === 1);
      await c.flush();
      assert.equal(output.records.length, 0);
      assert.ok((c.stats().exporters[0].errors.template_unknown ?? 0) > 0);
    } finally {
      await c.stop();
    }
    // The stop replaced the corrupt file with a valid (empty) one.
    JSON.parse(readFileSync(templatedb, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
