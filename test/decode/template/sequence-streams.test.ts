import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Datagram } from '../../../src/decode/datagram.js';
import { DEFAULT_EXPORTER_SETTINGS, defaultDecoderSettings } from '../../../src/decode/settings.js';
import { TemplateDecoder } from '../../../src/decode/template/template-decoder.js';
import { SequenceStream } from '../../../src/stats/sequence-gaps.js';
import { datagramOf } from '../../helpers/datagram.js';
import {
  feed,
  ipfixMessage,
  replay,
  SIMPLE_FIELDS,
  set,
  simpleRecord,
  templateRecord,
  v9Packet,
} from './replay.js';

const T0 = Date.UTC(2024, 0, 1);
const h = { exportTime: 1_700_000_000, seq: 100, domain: 0 };
const tplSet = set(2, templateRecord(256, SIMPLE_FIELDS));
const records = (n: number, id = 256) =>
  set(id, Buffer.concat(Array.from({ length: n }, (_, i) => simpleRecord('192.0.2.1', '192.0.2.2', i + 1))));
const units = (sink: ReturnType<typeof feed>) => sink.sequences.map((s) => [s.stream, s.sequence, s.units]);

test('IPFIX: a data set with an unknown template makes the message count unknown (-1)', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  const sink = feed(dec, [
    datagramOf(ipfixMessage({ ...h, seq: 100 }, [tplSet, records(3)])),
    // 3 records of 256 decoded, 2 of unknown 999 not: 5 in the sequence, we cannot know it
    datagramOf(ipfixMessage({ ...h, seq: 103 }, [records(3), records(2, 999)])),
    datagramOf(ipfixMessage({ ...h, seq: 108 }, [records(4)])),
  ]);
  assert.deepEqual(sink.errorKinds(), ['template_unknown']);
  assert.equal(sink.records.length, 10);
  assert.deepEqual(units(sink), [
    ['ipfix:0', 100, 3],
    ['ipfix:0', 103, -1],
    ['ipfix:0', 108, 4],
  ]);
  // What the gap accounting makes of it: no false "missing" at sequence 108.
  const s = new SequenceStream();
  for (const q of sink.sequences) s.observe(q.sequence, q.units);
  assert.equal(s.missing, 0);
});

test('IPFIX: ipfixcol_only-data-no-templates.ipfix reports unknown counts, never 0 records', () => {
  const sink = replay(new TemplateDecoder(defaultDecoderSettings()), [
    'ipfix/ipfixcol_only-data-no-templates.ipfix',
  ]);
  assert.ok(sink.sequences.length > 0);
  for (const q of sink.sequences) assert.equal(q.units, -1, `sequence ${q.sequence}`);
});

test('IPFIX: bad set length, record cut short, message cut short: count unknown', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  // 257: the simple fields + 96 applicationName, variable length
  const varTpl = set(2, templateRecord(257, [...SIMPLE_FIELDS, [96, 0xffff]]));
  feed(dec, [datagramOf(ipfixMessage(h, [tplSet, varTpl]))]);
  const badLen = ipfixMessage({ ...h, seq: 1 }, [records(2)]);
  badLen.writeUInt16BE(200, 16 + 2); // the set claims more than the message holds
  // a record whose name says 10 bytes, 3 follow
  const cut = Buffer.concat([simpleRecord('192.0.2.1', '192.0.2.2', 1), Buffer.from([10, 0x61, 0x62, 0x63])]);
  const cutRecord = ipfixMessage({ ...h, seq: 2 }, [set(257, cut)]);
  const whole = ipfixMessage({ ...h, seq: 3 }, [records(4)]);
  const cutMessage = whole.subarray(0, whole.length - 12);
  const sink = feed(dec, [datagramOf(badLen), datagramOf(cutRecord), datagramOf(cutMessage)]);
  // the cut message: cut (truncated), so its set runs past the end (bad_length)
  assert.deepEqual(sink.errorKinds(), ['bad_length', 'truncated', 'truncated', 'bad_length']);
  assert.match(sink.errors[1].message, /template 257 .* record cut short/);
  assert.deepEqual(
    sink.sequences.map((q) => q.units),
    [-1, -1, -1],
  );
  // Zero padding after the last set is no reason for doubt.
  const padded = Buffer.concat([ipfixMessage({ ...h, seq: 4 }, [records(2)]), Buffer.alloc(4)]);
  padded.writeUInt16BE(padded.length, 2);
  const ok = feed(dec, [datagramOf(padded)]);
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(units(ok), [['ipfix:0', 4, 2]]);
});

test('sequence streams are keyed like templates: by port with keyByPort, by TCP connection', () => {
  const v9 = (seq: number) =>
    v9Packet({ uptime: 100_000, secs: h.exportTime, seq, sourceId: 1 }, [
      set(0, templateRecord(256, SIMPLE_FIELDS)),
    ]);
  const ipfix = ipfixMessage({ ...h, domain: 5 }, [tplSet]);
  const sources = [
    datagramOf(ipfix, '10.2.2.2', T0, 1000),
    datagramOf(ipfix, '10.2.2.2', T0, 2000),
    datagramOf(v9(7), '10.2.2.2', T0, 1000),
    datagramOf(v9(7), '10.2.2.2', T0, 2000),
  ];
  const shared = feed(new TemplateDecoder(defaultDecoderSettings()), sources);
  assert.deepEqual(
    shared.sequences.map((q) => q.stream),
    ['ipfix:5', 'ipfix:5', 'v9:1', 'v9:1'],
  );
  const byPort = feed(
    new TemplateDecoder(
      defaultDecoderSettings({ exporterSettings: () => ({ ...DEFAULT_EXPORTER_SETTINGS, keyByPort: true }) }),
    ),
    sources,
  );
  assert.deepEqual(
    byPort.sequences.map((q) => q.stream),
    ['ipfix:5@1000', 'ipfix:5@2000', 'v9:1@1000', 'v9:1@2000'],
  );
  // Over TCP the connection is the key, whatever keyByPort says.
  const tcp = (conn: string): Datagram => ({
    ...datagramOf(ipfix, '10.9.9.9', T0, 4000),
    connectionId: conn,
  });
  for (const keyByPort of [false, true]) {
    const dec = new TemplateDecoder(
      defaultDecoderSettings({ exporterSettings: () => ({ ...DEFAULT_EXPORTER_SETTINGS, keyByPort }) }),
    );
    const sink = feed(dec, [tcp('c1'), tcp('c2')]);
    assert.deepEqual(
      sink.sequences.map((q) => [q.exporter, q.stream]),
      [
        ['10.9.9.9', 'ipfix:5@tcp:c1'],
        ['10.9.9.9', 'ipfix:5@tcp:c2'],
      ],
    );
  }
});

test('a datagram shorter than the v9 / IPFIX header is counted as a datagram and an error', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  const sink = feed(dec, [
    datagramOf(Buffer.from([0, 9, 0, 1, 0, 0, 0, 0, 0, 0]), '10.3.3.3'),
    datagramOf(Buffer.from([0, 10, 0, 16, 0, 0]), '10.3.3.4'),
  ]);
  assert.deepEqual(sink.datagrams, [
    { exporter: '10.3.3.3', protocol: 'netflow9', bytes: 10 },
    { exporter: '10.3.3.4', protocol: 'ipfix', bytes: 6 },
  ]);
  assert.deepEqual(sink.errorKinds(), ['truncated', 'truncated']);
  assert.match(
    sink.errors[0].message,
    /NetFlow v9 datagram of 10 bytes from 10\.3\.3\.3 is shorter than its header/,
  );
});
