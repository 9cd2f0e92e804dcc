/**
 * decode.maxtemplates (templates over all exporters) and what keeps a template flood cheap: readers
 * generated only for templates that data refers to, and shared between templates of one layout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultDecoderSettings } from '../../../src/decode/settings.js';
import { RecordScratch } from '../../../src/decode/template/contract.js';
import { compileTemplate } from '../../../src/decode/template/field-compiler.js';
import { TemplateDecoder } from '../../../src/decode/template/template-decoder.js';
import { FlowRecord } from '../../../src/record/flow-record.js';
import { datagramOf } from '../../helpers/datagram.js';
import { feed, SIMPLE_FIELDS, set, simpleRecord, templateRecord, v9Packet } from './replay.js';

const T0 = Date.UTC(2024, 0, 1);
const v9 = (seq: number, sets: Buffer[]) =>
  v9Packet({ uptime: 100_000, secs: T0 / 1000 + 100, seq, sourceId: 1 }, sets);
const templates = (ids: number[]) =>
  set(0, Buffer.concat(ids.map((id) => templateRecord(id, SIMPLE_FIELDS))));
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

test('maxtemplates bounds templates over all exporters; refused ones are template_limit naming the key', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({
    ...s,
    limits: { ...s.limits, maxTemplates: 25, maxTemplatesPerExporter: 10 },
  });
  // 5 exporters x 8 templates = 40 offered, 25 fit.
  const sink = feed(
    dec,
    range(1, 5).map((i) => datagramOf(v9(1, [templates(range(256, 8))]), `10.0.0.${i}`)),
  );
  assert.equal(dec.store.templatesHeld, 25);
  const limited = sink.errors.filter((e) => e.kind === 'template_limit');
  assert.equal(limited.length, 15);
  assert.match(
    limited[0]?.message ?? '',
    /shared by all exporters are used up \(decode\.maxtemplates 25; each exporter keeps 0 of its own\)/,
  );
  // A redefinition of a held id is not a new template: still accepted, and data still decodes.
  const again = feed(dec, [
    datagramOf(v9(2, [templates([256]), set(256, simpleRecord('192.0.2.1', '198.51.100.1', 3))]), '10.0.0.1'),
  ]);
  assert.deepEqual(again.errors, []);
  assert.equal(again.records[0]?.packets, 3);
});

test('each exporter keeps a reserve: a flood that fills the shared pool cannot take a new template from another', () => {
  const s = defaultDecoderSettings();
  // Reserve 40 / 4 / 2 = 5 per exporter; the shared pool is the other 20.
  const dec = new TemplateDecoder({
    ...s,
    limits: { ...s.limits, maxTemplates: 40, maxExporters: 4, maxTemplatesPerExporter: 30 },
  });
  const flood = feed(
    dec,
    range(1, 3).map((i) => datagramOf(v9(1, [templates(range(256, 20))]), `10.0.0.${i}`)),
  );
  assert.equal(dec.store.templatesHeld, 35, '3 x 5 reserved + the pool of 20');
  assert.equal(flood.errorKinds().filter((k) => k === 'template_limit').length, 25);
  const legit = feed(dec, [
    datagramOf(
      v9(1, [templates(range(300, 3)), set(301, simpleRecord('192.0.2.1', '198.51.100.1', 4))]),
      '192.0.2.250',
    ),
  ]);
  assert.deepEqual(legit.errors, []);
  assert.equal(legit.records[0]?.packets, 4);
  assert.equal(dec.store.templatesHeld, 38);
  assert.ok(dec.store.templatesHeld <= 40);
});

test('shared pool full: an exporter that sends records takes templates back from one that never did', () => {
  const s = defaultDecoderSettings();
  // No reserve (maxtemplates < 2 x maxexporters): the pool is all there is.
  const dec = new TemplateDecoder({ ...s, limits: { ...s.limits, maxTemplates: 20 } });
  const record = (id: number) => set(id, simpleRecord('192.0.2.1', '198.51.100.1', 2));
  // A real exporter: templates and records.
  feed(dec, [datagramOf(v9(1, [templates([256]), record(256)]), '192.0.2.250')]);
  // The flood: template-only exporters fill the pool.
  feed(
    dec,
    range(1, 4).map((i) => datagramOf(v9(1, [templates(range(256, 10))]), `10.0.0.${i}`)),
  );
  assert.equal(dec.store.templatesHeld, 20);
  // The real exporter's new template is stored (10.0.0.1 gives its up), and its records decode.
  const later = feed(dec, [datagramOf(v9(2, [templates([257]), record(257)]), '192.0.2.250')]);
  assert.deepEqual(later.errors, []);
  assert.equal(later.records[0]?.packets, 2);
  assert.equal(dec.store.exportersReclaimed, 1);
  assert.ok(dec.store.templatesHeld <= 20);
  // A template-only newcomer takes only what is free (the 9 left by the reclaim), nothing back.
  const spoofed = feed(dec, [datagramOf(v9(1, [templates(range(256, 20))]), '10.0.0.99')]);
  assert.equal(spoofed.errorKinds().filter((k) => k === 'template_limit').length, 11);
  assert.equal(dec.store.exportersReclaimed, 1);
  assert.equal(dec.store.templatesHeld, 20);
});

test('a closed TCP session gives its templates back to the store-wide count', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({ ...s, limits: { ...s.limits, maxTemplates: 10 } });
  const d = { ...datagramOf(v9(1, [templates(range(256, 10))]), '10.0.0.9'), connectionId: 'c1' };
  feed(dec, [d]);
  assert.equal(dec.store.templatesHeld, 10);
  dec.store.closeConnection('c1');
  assert.equal(dec.store.templatesHeld, 0);
  feed(dec, [datagramOf(v9(1, [templates(range(256, 4))]), '10.0.0.10')]);
  assert.equal(dec.store.templatesHeld, 4);
});

test('expired templates are swept when maxtemplates is reached, making room for live ones', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({ ...s, limits: { ...s.limits, maxTemplates: 6, templateTtlMs: 60_000 } });
  feed(dec, [{ ...datagramOf(v9(1, [templates(range(256, 6))]), '10.0.0.1'), receivedAtMs: T0 }]);
  const later = feed(dec, [
    { ...datagramOf(v9(2, [templates(range(300, 3))]), '10.0.0.2'), receivedAtMs: T0 + 120_000 },
  ]);
  assert.deepEqual(later.errors, []);
  assert.equal(dec.store.templatesHeld, 3);
});

test('with the exporter table full, exporters silent for 10 minutes make room; active ones stay', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({ ...s, limits: { ...s.limits, maxExporters: 3 } });
  const at = (address: string, ms: number, seq: number) => ({
    ...datagramOf(v9(seq, [templates([256])]), address),
    receivedAtMs: T0 + ms,
  });
  feed(dec, [at('10.0.0.1', 0, 1), at('10.0.0.2', 0, 1), at('10.0.0.3', 0, 1)]);
  // 10.0.0.1 keeps sending; the others fall silent.
  const early = feed(dec, [at('10.0.0.1', 300_000, 2), at('10.0.0.9', 300_000, 1)]);
  assert.deepEqual(early.errorKinds(), ['exporter_limit']);
  const late = feed(dec, [at('10.0.0.9', 660_000, 2)]);
  assert.deepEqual(late.errors, []);
  assert.deepEqual(
    dec
      .exporterStats()
      .map((e) => e.exporter)
      .sort(),
    ['10.0.0.1', '10.0.0.9'],
  );
  assert.equal(dec.store.exportersEvicted, 2);
  assert.equal(dec.store.templatesHeld, 2);
});

test('TCP sessions do not count against maxexporters: a table full of UDP sources does not lock them out', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({ ...s, limits: { ...s.limits, maxExporters: 2 } });
  feed(dec, [
    datagramOf(v9(1, [templates([256])]), '10.0.0.1'),
    datagramOf(v9(1, [templates([256])]), '10.0.0.2'),
  ]);
  const udp = feed(dec, [datagramOf(v9(1, [templates([256])]), '10.0.0.3')]);
  assert.deepEqual(udp.errorKinds(), ['exporter_limit']);
  const tcp = feed(dec, [{ ...datagramOf(v9(1, [templates([256])]), '10.0.0.3'), connectionId: 'c9' }]);
  assert.deepEqual(tcp.errors, []);
  assert.equal(dec.store.templatesHeld, 3);
});

test('a reader is generated on first use, and templates of one layout share it', () => {
  const s = defaultDecoderSettings();
  const fields = SIMPLE_FIELDS.map(([id, length]) => ({ id, enterprise: 0, length }));
  const a = compileTemplate(fields, 'netflow9', s);
  const b = compileTemplate(fields, 'netflow9', s);
  const beforeA = a.read;
  assert.equal(a.read, beforeA, 'nothing generated before a record is read');
  assert.notEqual(a.read, b.read);
  const record = simpleRecord('192.0.2.1', '198.51.100.1', 1);
  const recA = new FlowRecord();
  assert.equal(a.read(record, 0, record.length, recA, new RecordScratch()), record.length);
  assert.equal(recA.packets, 1);
  assert.equal(b.read(record, 0, record.length, new FlowRecord(), new RecordScratch()), record.length);
  assert.notEqual(a.read, beforeA, 'generated on first use');
  assert.equal(a.read, b.read, 'one function for one layout');
});
