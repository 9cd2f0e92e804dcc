import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Datagram } from '../../../src/decode/datagram.js';
import { DEFAULT_EXPORTER_SETTINGS, defaultDecoderSettings } from '../../../src/decode/settings.js';
import { TemplateDecoder } from '../../../src/decode/template/template-decoder.js';
import { datagramOf } from '../../helpers/datagram.js';
import {
  feed,
  ipfixMessage,
  SIMPLE_FIELDS,
  set,
  simpleRecord,
  templateCount,
  templateRecord,
  v9Packet,
} from './replay.js';

const T0 = Date.UTC(2024, 0, 1);
const SECS = T0 / 1000;

function v9(uptime: number, seq: number, sets: Buffer[], secs = SECS + Math.floor(uptime / 1000)): Buffer {
  return v9Packet({ uptime, secs, seq, sourceId: 1 }, sets);
}
const tpl = (id: number) => set(0, templateRecord(id, SIMPLE_FIELDS));
const data = (id: number, packets = 1) => set(id, simpleRecord('192.0.2.10', '198.51.100.20', packets));

test('template limit per exporter: template_limit, existing ids can still be redefined', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({ ...s, limits: { ...s.limits, maxTemplatesPerExporter: 5 } });
  const flood = Buffer.concat(Array.from({ length: 20 }, (_, i) => templateRecord(256 + i, SIMPLE_FIELDS)));
  const sink = feed(dec, [datagramOf(v9(100_000, 1, [set(0, flood)]))]);
  assert.equal(templateCount(dec), 5);
  assert.equal(sink.errorKinds().filter((k) => k === 'template_limit').length, 15);
  const again = feed(dec, [datagramOf(v9(101_000, 2, [tpl(256), data(256, 7)]))]);
  assert.deepEqual(again.errors, []);
  assert.equal(again.records[0].packets, 7);
});

test('exporter limit: new exporters beyond it get exporter_limit and are dropped', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({ ...s, limits: { ...s.limits, maxExporters: 3 } });
  const sink = feed(
    dec,
    Array.from({ length: 10 }, (_, i) =>
      datagramOf(v9(100_000, 1, [tpl(256), data(256)]), `10.0.0.${i + 1}`),
    ),
  );
  assert.equal(dec.exporterStats().length, 3);
  assert.equal(sink.records.length, 3);
  assert.equal(sink.errorKinds().filter((k) => k === 'exporter_limit').length, 7);
  assert.equal(sink.errors[0].exporter, '10.0.0.4');
});

test('too many fields, zero fields, over-long fixed field: rejected and counted', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({
    ...s,
    limits: { ...s.limits, maxFieldsPerTemplate: 8, maxFieldLength: 64 },
  });
  const many = templateRecord(
    300,
    Array.from({ length: 9 }, (): [number, number] => [1, 4]),
  );
  const sink = feed(dec, [
    datagramOf(
      v9(100_000, 1, [
        set(0, Buffer.concat([many, templateRecord(301, [[0, 0]]), templateRecord(302, [[82, 1000]])])),
      ]),
    ),
  ]);
  assert.deepEqual(sink.errorKinds(), ['template_invalid', 'template_invalid', 'field_too_long']);
  assert.equal(templateCount(dec), 0);
});

test('template redefinition replaces the template (recompiled)', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  feed(dec, [datagramOf(v9(100_000, 1, [tpl(256)]))]);
  // now 256 = 12 dstIPv4 then 8 srcIPv4 then packets: the same bytes read the other way round
  const swapped = set(
    0,
    templateRecord(256, [
      [12, 4],
      [8, 4],
      [2, 4],
    ]),
  );
  const sink = feed(dec, [datagramOf(v9(101_000, 2, [swapped, data(256)]))]);
  assert.equal(sink.records[0].srcip, '198.51.100.20');
  assert.equal(templateCount(dec), 1);
});

test('NetFlow v9 exporter restart (uptime reset): templates not re-sent are dropped', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  feed(dec, [datagramOf(v9(3_600_000, 100, [tpl(256), tpl(257)]), '10.1.1.1', T0)]);
  // Rebooted: uptime 5 s, sequence 0; template 256 is re-sent, 257 is not (yet).
  const sink = feed(dec, [
    datagramOf(v9(5_000, 0, [tpl(256), data(256), data(257)], SECS + 3_700), '10.1.1.1', T0 + 100_000),
  ]);
  assert.equal(sink.records.length, 1);
  assert.deepEqual(sink.errorKinds(), ['template_unknown']);
  assert.match(sink.errors[0].message, /template 257 from 10\.1\.1\.1 source id 1 unknown/);
  const st = dec.exporterStats()[0];
  assert.equal(st.restarts, 1);
  assert.equal(st.templates, 1);
});

test('NetFlow v9: late/replayed older packet and uptime wrap are not restarts', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  feed(dec, [datagramOf(v9(3_600_000, 100, [tpl(256)]))]);
  // 80 s older packet (its own clock is older too), as logstash_nf9_cisco_asa_2_data.dat after its templates
  feed(dec, [datagramOf(v9(3_520_000, 90, [data(256)]))]);
  // sysUptime wraps after 2^32 ms: the boot time moves by exactly 2^32 ms
  const wrapSecs = SECS + Math.floor(2 ** 32 / 1000) + 10;
  feed(dec, [
    datagramOf(v9Packet({ uptime: 4_294_960_000, secs: wrapSecs - 10, seq: 101, sourceId: 1 }, [])),
  ]);
  const sink = feed(dec, [
    datagramOf(v9Packet({ uptime: 2_704, secs: wrapSecs, seq: 102, sourceId: 1 }, [data(256)])),
  ]);
  assert.deepEqual(sink.errors, []);
  assert.equal(dec.exporterStats()[0].restarts, 0);
});

test('NetFlow v9 sequence reset with the clock going on: restart', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  feed(dec, [datagramOf(v9(3_600_000, 50_000, [tpl(256)]))]);
  const sink = feed(dec, [datagramOf(v9(3_610_000, 3, [data(256)]))]);
  assert.deepEqual(sink.errorKinds(), ['template_unknown']);
  assert.equal(dec.exporterStats()[0].restarts, 1);
});

test('IPFIX sequence reset (export time not older): restart drops stale templates', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  const h = { exportTime: 1_700_000_000, seq: 0, domain: 3 };
  const rec = set(256, simpleRecord('192.0.2.1', '192.0.2.2', 1));
  const recs = set(
    256,
    Buffer.concat(Array.from({ length: 100 }, () => simpleRecord('192.0.2.1', '192.0.2.2', 1))),
  );
  feed(dec, [datagramOf(ipfixMessage(h, [set(2, templateRecord(256, SIMPLE_FIELDS))]))]);
  for (let i = 0; i < 200; i++) feed(dec, [datagramOf(ipfixMessage({ ...h, seq: i * 100 }, [recs]))]);
  // an old message reordered (seq far behind, older export time): not a restart
  let sink = feed(dec, [datagramOf(ipfixMessage({ ...h, exportTime: h.exportTime - 5, seq: 50 }, [rec]))]);
  assert.equal(sink.records.length, 1);
  sink = feed(dec, [datagramOf(ipfixMessage({ ...h, exportTime: h.exportTime + 60, seq: 0 }, [rec]))]);
  assert.deepEqual(sink.errorKinds(), ['template_unknown']);
  assert.equal(dec.exporterStats()[0].restarts, 1);
});

test('IPFIX over TCP: templates belong to their connection and die with it', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  const h = { exportTime: 1_700_000_000, seq: 0, domain: 0 };
  const tcp = (payload: Buffer, conn: string): Datagram => ({
    ...datagramOf(payload, '10.9.9.9'),
    connectionId: conn,
  });
  const t = ipfixMessage(h, [set(2, templateRecord(256, SIMPLE_FIELDS))]);
  const d = ipfixMessage(h, [set(256, simpleRecord('192.0.2.1', '192.0.2.2', 4))]);
  let sink = feed(dec, [tcp(t, 'c1'), tcp(d, 'c1'), tcp(d, 'c2'), datagramOf(d, '10.9.9.9')]);
  assert.equal(sink.records.length, 1);
  assert.deepEqual(sink.errorKinds(), ['template_unknown', 'template_unknown']);
  assert.equal(dec.saveState(T0).exporters.length, 1, 'UDP state only (the empty UDP exporter)');
  assert.equal(dec.saveState(T0).exporters[0].domains[0].templates.length, 0);
  dec.closeConnection('c1');
  sink = feed(dec, [tcp(d, 'c1')]);
  assert.deepEqual(sink.errorKinds(), ['template_unknown']);
});

test('keyByPort: false shares templates across source ports, true keeps them apart', () => {
  const t = v9(100_000, 1, [tpl(256)]);
  const d = v9(100_500, 2, [data(256)]);
  const shared = new TemplateDecoder(defaultDecoderSettings());
  let sink = feed(shared, [datagramOf(t, '10.2.2.2', T0, 1000), datagramOf(d, '10.2.2.2', T0, 2000)]);
  assert.equal(sink.records.length, 1);
  const byPort = new TemplateDecoder(
    defaultDecoderSettings({ exporterSettings: () => ({ ...DEFAULT_EXPORTER_SETTINGS, keyByPort: true }) }),
  );
  sink = feed(byPort, [datagramOf(t, '10.2.2.2', T0, 1000), datagramOf(d, '10.2.2.2', T0, 2000)]);
  assert.equal(sink.records.length, 0);
  assert.match(sink.errors[0].message, /template 256 from 10\.2\.2\.2:2000 source id 1 unknown/);
  sink = feed(byPort, [datagramOf(d, '10.2.2.2', T0, 1000)]);
  assert.equal(sink.records.length, 1);
  assert.deepEqual(
    byPort
      .exporterStats()
      .map((e) => e.port)
      .sort(),
    [1000, 2000],
  );
});

test('options data: exporter-wide sampling (no sampler id) and v9 timeouts 36/37', () => {
  const dec = new TemplateDecoder(defaultDecoderSettings());
  // v9 options template 260: scope System(1) len 4; options 34 samplingInterval(4), 36(2), 37(2)
  const optTpl = Buffer.from([1, 4, 0, 4, 0, 12, 0, 1, 0, 4, 0, 34, 0, 4, 0, 36, 0, 2, 0, 37, 0, 2, 0, 0]);
  const optData = Buffer.from([0, 0, 0, 0, 0, 0, 0, 100, 0, 60, 0, 15]);
  const sink = feed(dec, [
    datagramOf(v9(100_000, 1, [set(1, optTpl), set(260, optData), tpl(256), data(256)])),
  ]);
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.records.length, 1);
  assert.equal(sink.records[0].samplerate, 100);
  const st = dec.exporterStats()[0];
  assert.equal(st.activeTimeoutSec, 60);
  assert.equal(st.inactiveTimeoutSec, 15);
});

test('template limit: expired templates are swept before a new one is refused', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({
    ...s,
    limits: { ...s.limits, maxTemplatesPerExporter: 3, templateTtlMs: 60_000 },
  });
  const at = (ms: number, seq: number, sets: Buffer[]) =>
    datagramOf(v9(100_000 + ms, seq, sets), '10.4.4.4', T0 + ms);
  feed(dec, [at(0, 1, [tpl(256), tpl(257)]), at(30_000, 2, [tpl(258)])]);
  assert.equal(templateCount(dec), 3);
  // 256 and 257 were last refreshed 61 s ago (TTL 60 s): they make room for 259 and 260.
  const sink = feed(dec, [at(61_000, 3, [tpl(259), tpl(260), data(258, 3), data(260, 4)])]);
  assert.deepEqual(sink.errors, []);
  assert.deepEqual(
    sink.records.map((r) => r.packets),
    [3, 4],
  );
  assert.equal(templateCount(dec), 3);
  // Nothing expired any more: the next new one is refused, 256 is gone.
  const full = feed(dec, [at(62_000, 4, [tpl(261), data(256)])]);
  assert.deepEqual(full.errorKinds(), ['template_limit', 'template_unknown']);
  assert.equal(templateCount(dec), 3);
});

test('sampler table: bounded by limits.maxTemplatesPerExporter, known samplers still updated', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({ ...s, limits: { ...s.limits, maxTemplatesPerExporter: 4 } });
  // v9 options template 260: scope System(1) len 4; options 48 samplerId(1), 34 samplingInterval(4)
  const optTpl = Buffer.from([1, 4, 0, 4, 0, 8, 0, 1, 0, 4, 0, 48, 0, 1, 0, 34, 0, 4, 0, 0]);
  const sampler = (id: number, rate: number) => {
    const b = Buffer.alloc(9);
    b[4] = id;
    b.writeUInt32BE(rate, 5);
    return b;
  };
  const samplers = Buffer.concat(Array.from({ length: 6 }, (_, i) => sampler(i + 1, 100 * (i + 1))));
  // data template 256: the simple fields + 48 samplerId
  const dataTpl = set(0, templateRecord(256, [...SIMPLE_FIELDS, [48, 1]]));
  const rec = (id: number) =>
    Buffer.concat([simpleRecord('192.0.2.10', '198.51.100.20', 1), Buffer.from([id])]);
  const sink = feed(dec, [datagramOf(v9(100_000, 1, [set(1, optTpl), set(260, samplers), dataTpl]))]);
  assert.deepEqual(sink.errorKinds(), ['template_limit', 'template_limit']);
  assert.match(
    sink.errors[0].message,
    /^sampler 5 from 192\.0\.2\.1 source id 1 \(rate 500\) not stored: sampler table full, already 4 samplers/,
  );
  const later = feed(dec, [
    datagramOf(
      v9(101_000, 2, [set(260, sampler(2, 250)), set(256, Buffer.concat([rec(1), rec(2), rec(4), rec(6)]))]),
    ),
  ]);
  assert.deepEqual(later.errors, []);
  assert.deepEqual(
    later.records.map((r) => r.samplerate),
    [100, 250, 400, null],
  );
  assert.equal(later.samplingUnknownCount, 1);
  assert.equal(dec.saveState(T0).exporters[0].domains[0].sampling.length, 4);
});

test('observation domains / source ids per exporter are bounded: a hostile exporter cycling ids', () => {
  const s = defaultDecoderSettings();
  const dec = new TemplateDecoder({ ...s, limits: { ...s.limits, maxTemplatesPerExporter: 4 } });
  const sink = feed(
    dec,
    Array.from({ length: 50 }, (_, i) =>
      datagramOf(v9Packet({ uptime: 100_000, secs: SECS + 100, seq: i, sourceId: 1000 + i }, [tpl(256)])),
    ),
  );
  const limited = sink.errors.filter((e) => e.kind === 'template_limit');
  assert.equal(limited.length, 46, 'every id beyond the 4th is refused');
  assert.match(limited[0].message, /source id 1004 from 192\.0\.2\.1 not tracked/);
  assert.equal(templateCount(dec), 4);
  // A known source id keeps working.
  const ok = feed(dec, [
    datagramOf(v9Packet({ uptime: 101_000, secs: SECS + 101, seq: 60, sourceId: 1000 }, [data(256, 3)])),
  ]);
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.records[0].packets, 3);
});
