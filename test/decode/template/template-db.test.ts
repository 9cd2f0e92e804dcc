import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultDecoderSettings } from '../../../src/decode/settings.js';
import { TemplateDecoder } from '../../../src/decode/template/template-decoder.js';
import { loadTemplateDb, saveTemplateDb } from '../../../src/state/template-db.js';
import { datagramsOf, feed, replay, templateCount } from './replay.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-tdb-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const OPTIONS = [
  'netflow9/akvorado_netflow_options-template.pcap',
  'netflow9/akvorado_netflow_options-data.pcap',
];
const TEMPLATE = 'netflow9/akvorado_netflow_template.pcap';
const DATA = 'netflow9/akvorado_netflow_data.pcap';

test('templates and sampling survive a collector restart through the template DB', () => {
  const first = new TemplateDecoder(defaultDecoderSettings());
  replay(first, [...OPTIONS, TEMPLATE]);
  const data = datagramsOf([DATA]);
  const now = data[0].receivedAtMs;
  const path = join(dir, 'templates.json');
  assert.equal(saveTemplateDb(path, first, now), 2);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
    'no temporary file left',
  );

  const second = new TemplateDecoder(defaultDecoderSettings());
  assert.equal(loadTemplateDb(path, second, now), 2);
  const sink = feed(second, data);
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.records.length, 4);
  // sampler 1 rate 30000 came from the file, not from options data seen by `second`
  assert.deepEqual(
    sink.records.map((r) => r.samplerate),
    [30000, 30000, 30000, 30000],
  );
  assert.equal(sink.records[0].srcip, '198.38.121.178');
  assert.equal(second.exporterStats()[0].restarts, 0);
});

test('templates older than limits.templateTtlMs are not loaded', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  replay(dec, [TEMPLATE]);
  const saved = datagramsOf([TEMPLATE])[0].receivedAtMs;
  const path = join(dir, 'ttl.json');
  saveTemplateDb(path, dec, saved);
  const ttl = defaultDecoderSettings().limits.templateTtlMs;
  assert.equal(loadTemplateDb(path, new TemplateDecoder(defaultDecoderSettings()), saved + ttl - 1000), 1);
  assert.equal(loadTemplateDb(path, new TemplateDecoder(defaultDecoderSettings()), saved + ttl + 1000), 0);
});

test('an exporter restarted while the collector was down: loaded templates are dropped', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  replay(dec, [TEMPLATE]);
  const [d] = datagramsOf([DATA]);
  const path = join(dir, 'restart.json');
  saveTemplateDb(path, dec, d.receivedAtMs);
  const next = new TemplateDecoder(defaultDecoderSettings());
  loadTemplateDb(path, next, d.receivedAtMs);
  // The same data packet, but sysUptime 10 s and unix_secs one hour later: the exporter rebooted.
  const payload = Buffer.from(d.payload);
  payload.writeUInt32BE(10_000, 4);
  payload.writeUInt32BE(payload.readUInt32BE(8) + 3600, 8);
  const sink = feed(next, [{ ...d, payload }]);
  assert.deepEqual(sink.errorKinds(), ['template_unknown']);
  assert.equal(next.exporterStats()[0].restarts, 1);
  assert.equal(templateCount(next), 0);
});

test('missing file loads nothing; a corrupt file is an Error naming it', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  assert.equal(loadTemplateDb(join(dir, 'absent.json'), dec, 0), 0);
  const bad = join(dir, 'corrupt.json');
  writeFileSync(bad, '{"version":1,"exporters":[{"addr');
  assert.throws(
    () => loadTemplateDb(bad, dec, 0),
    (e: Error) => e.message.includes(bad) && /corrupt/.test(e.message),
  );
  const wrong = join(dir, 'wrong.json');
  writeFileSync(wrong, JSON.stringify({ version: 1, exporters: [{ address: '10.0.0.1', domains: 'x' }] }));
  assert.throws(
    () => loadTemplateDb(wrong, dec, 0),
    (e: Error) => e.message.includes(wrong),
  );
  assert.equal(templateCount(dec), 0);
  assert.equal(dec.exporterStats().length, 0, 'a corrupt file changes nothing');
});
