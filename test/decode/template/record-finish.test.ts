import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_EXPORTER_SETTINGS,
  defaultDecoderSettings,
  type ExporterDecodeSettings,
} from '../../../src/decode/settings.js';
import { type MessageContext, RecordScratch } from '../../../src/decode/template/contract.js';
import { compileTemplate } from '../../../src/decode/template/field-compiler.js';
import { finishRecord, recordSamplingRate } from '../../../src/decode/template/record-finish.js';
import { FlowRecord } from '../../../src/record/flow-record.js';
import { CollectingSink } from '../../helpers/collecting-sink.js';
import { type FieldBytes, ip4, ntp, templateRecord, u } from '../../helpers/template-fields.js';

const EXPORT_SEC = 1_700_000_000;
const EXPORT_MS = EXPORT_SEC * 1000;

function ctxOf(overrides: Partial<MessageContext> = {}): MessageContext {
  return {
    protocol: 'ipfix',
    exporter: '192.0.2.1',
    exportTimeSec: EXPORT_SEC,
    sysUptimeMs: null,
    receivedAtMs: EXPORT_MS + 5,
    systemInitTimeMs: null,
    ...overrides,
  };
}

interface FinishOptions {
  ctx?: Partial<MessageContext>;
  lookup?: (id: number | null) => number | null;
  exporter?: Partial<ExporterDecodeSettings>;
}

function finish(fields: FieldBytes[], opts: FinishOptions = {}) {
  const ctx = ctxOf(opts.ctx);
  const t = templateRecord(fields);
  const c = compileTemplate(t.fields, ctx.protocol, defaultDecoderSettings());
  const rec = new FlowRecord();
  const scratch = new RecordScratch();
  assert.equal(c.read(t.record, 0, t.record.length, rec, scratch), t.record.length);
  const sink = new CollectingSink();
  const lookups: (number | null)[] = [];
  const lookup = (id: number | null) => {
    lookups.push(id);
    return opts.lookup ? opts.lookup(id) : null;
  };
  finishRecord(rec, scratch, ctx, lookup, { ...DEFAULT_EXPORTER_SETTINGS, ...opts.exporter }, sink);
  return { rec, sink, lookups };
}

const JAN_2024 = Date.UTC(2024, 0, 1);

describe('finishRecord: absolute times', () => {
  it('flowStart/EndMilliseconds 152/153 as sent, duration from them', () => {
    const { rec } = finish([
      { id: 152, bytes: u(JAN_2024, 8) },
      { id: 153, bytes: u(JAN_2024 + 1500, 8) },
    ]);
    assert.equal(rec.start, JAN_2024);
    assert.equal(rec.end, JAN_2024 + 1500);
    assert.equal(rec.duration, 1500);
  });

  it('flowStart/EndSeconds 150/151', () => {
    const { rec } = finish([
      { id: 150, bytes: u(JAN_2024 / 1000, 4) },
      { id: 151, bytes: u(JAN_2024 / 1000 + 60, 4) },
    ]);
    assert.deepEqual([rec.start, rec.end, rec.duration], [JAN_2024, JAN_2024 + 60000, 60000]);
  });

  it('NTP microseconds 154/155 and nanoseconds 156/157 (seconds since 1900 + 2^-32 fraction)', () => {
    const micro = finish([
      { id: 154, bytes: ntp(JAN_2024 + 500) },
      { id: 155, bytes: ntp(JAN_2024 + 2250) },
    ]).rec;
    assert.deepEqual([micro.start, micro.end], [JAN_2024 + 500, JAN_2024 + 2250]);
    // hand-written: 2024-01-01T00:00:00Z = NTP 0xe93c7f00 s, fraction 0x40000000 = 0.25 s
    const nano = finish([
      { id: 156, bytes: Buffer.from('e93c7f0040000000', 'hex') },
      { id: 157, bytes: Buffer.from('e93c7f01c0000000', 'hex') },
    ]).rec;
    assert.deepEqual([nano.start, nano.end], [JAN_2024 + 250, JAN_2024 + 1750]);
  });

  it('absolute times win over uptime-relative ones', () => {
    const { rec } = finish(
      [
        { id: 22, bytes: u(1000, 4) },
        { id: 152, bytes: u(JAN_2024, 8) },
      ],
      { ctx: { systemInitTimeMs: JAN_2024 - 1_000_000 } },
    );
    assert.equal(rec.start, JAN_2024);
  });
});

describe('finishRecord: 21/22 sysUpTime-relative times', () => {
  const uptimes: FieldBytes[] = [
    { id: 22, bytes: u(40_000, 4) },
    { id: 21, bytes: u(90_000, 4) },
  ];

  it('IPFIX with systemInitTimeMilliseconds 160 in the record', () => {
    const init = JAN_2024 - 100_000;
    const { rec } = finish([...uptimes, { id: 160, bytes: u(init, 8) }]);
    assert.deepEqual([rec.start, rec.end, rec.duration], [init + 40_000, init + 90_000, 50_000]);
  });

  it('IPFIX with systemInitTimeMilliseconds learnt from options (ctx)', () => {
    const init = JAN_2024 - 100_000;
    const { rec } = finish(uptimes, { ctx: { systemInitTimeMs: init } });
    assert.deepEqual([rec.start, rec.end], [init + 40_000, init + 90_000]);
  });

  it('IPFIX without any 160: unknown, not invented', () => {
    const { rec } = finish(uptimes);
    assert.deepEqual([rec.start, rec.end, rec.duration], [null, null, null]);
  });

  it('NetFlow v9: relative to the header sysUptime and export time', () => {
    const { rec } = finish(uptimes, { ctx: { protocol: 'netflow9', sysUptimeMs: 100_000 } });
    assert.equal(rec.start, EXPORT_MS - 60_000);
    assert.equal(rec.end, EXPORT_MS - 10_000);
    assert.equal(rec.duration, 50_000);
  });

  it('NetFlow v9: FIRST/LAST_SWITCHED from before a sysUptime wrap (2^32 ms)', () => {
    const { rec } = finish(
      [
        { id: 22, bytes: u(2 ** 32 - 4000, 4) },
        { id: 21, bytes: u(500, 4) },
      ],
      { ctx: { protocol: 'netflow9', sysUptimeMs: 1000 } },
    );
    assert.equal(rec.start, EXPORT_MS - 5000);
    assert.equal(rec.end, EXPORT_MS - 500);
    assert.equal(rec.duration, 4500);
  });

  it('NetFlow v9: a LAST_SWITCHED slightly after sysUptime stays slightly after export time', () => {
    const { rec } = finish([{ id: 21, bytes: u(100_200, 4) }], {
      ctx: { protocol: 'netflow9', sysUptimeMs: 100_000 },
    });
    assert.equal(rec.end, EXPORT_MS + 200);
    assert.equal(rec.start, null);
  });

  it('NetFlow v9 ignores the exporter-wide 160 (header sysUptime is exact) but uses a record 160', () => {
    const v9 = { protocol: 'netflow9' as const, sysUptimeMs: 100_000, systemInitTimeMs: 5 };
    assert.equal(finish(uptimes, { ctx: v9 }).rec.start, EXPORT_MS - 60_000);
    const own = finish([...uptimes, { id: 160, bytes: u(JAN_2024, 8) }], { ctx: v9 }).rec;
    assert.equal(own.start, JAN_2024 + 40_000);
  });
});

describe('finishRecord: deltas, durations, observation time', () => {
  it('flowStart/EndDeltaMicroseconds 158/159 before export time', () => {
    const { rec } = finish([
      { id: 158, bytes: u(3_000_000, 4) },
      { id: 159, bytes: u(250_000, 4) },
    ]);
    assert.deepEqual([rec.start, rec.end, rec.duration], [EXPORT_MS - 3000, EXPORT_MS - 250, 2750]);
  });

  it('flowDurationMilliseconds 161 fills a missing end; 162 microseconds a missing start', () => {
    const a = finish([
      { id: 152, bytes: u(JAN_2024, 8) },
      { id: 161, bytes: u(1234, 4) },
    ]).rec;
    assert.deepEqual([a.start, a.end, a.duration], [JAN_2024, JAN_2024 + 1234, 1234]);
    const b = finish([
      { id: 153, bytes: u(JAN_2024, 8) },
      { id: 162, bytes: u(2_000_000, 4) },
    ]).rec;
    assert.deepEqual([b.start, b.end], [JAN_2024 - 2000, JAN_2024]);
  });

  it('no time element at all: start, end and duration stay null', () => {
    const { rec } = finish([{ id: 8, bytes: ip4('10.0.0.1') }], {
      ctx: { protocol: 'netflow9', sysUptimeMs: 5000 },
    });
    assert.deepEqual([rec.start, rec.end, rec.duration], [null, null, null]);
  });

  it('observationTimeMilliseconds 323: the end of a started flow, or the instant of an event', () => {
    const started = finish([
      { id: 152, bytes: u(JAN_2024, 8) },
      { id: 323, bytes: u(JAN_2024 + 700, 8) },
    ]).rec;
    assert.deepEqual([started.start, started.end], [JAN_2024, JAN_2024 + 700]);
    const event = finish([{ id: 323, bytes: u(JAN_2024, 8) }]).rec;
    assert.deepEqual([event.start, event.end, event.duration], [JAN_2024, JAN_2024, 0]);
    const obsNtp = finish([{ id: 325, bytes: ntp(JAN_2024 + 10) }]).rec;
    assert.equal(obsNtp.start, JAN_2024 + 10);
  });
});

describe('finishRecord: sampling rate', () => {
  it('samplingInterval 34 in the record itself', () => {
    const { rec, sink, lookups } = finish([{ id: 34, bytes: u(1000, 4) }]);
    assert.equal(rec.samplerate, 1000);
    assert.equal(sink.samplingUnknownCount, 0);
    assert.deepEqual(lookups, []);
  });

  it('PSAMP 305/306 count-based: (interval + space) / interval', () => {
    const { rec } = finish([
      { id: 305, bytes: u(1, 4) },
      { id: 306, bytes: u(99, 4) },
    ]);
    assert.equal(rec.samplerate, 100);
  });

  it('samplingProbability 311: round(1 / p)', () => {
    const p = Buffer.alloc(8);
    p.writeDoubleBE(0.0003);
    assert.equal(finish([{ id: 311, bytes: p }]).rec.samplerate, 3333);
  });

  it('PSAMP 309/310 n-out-of-N', () => {
    const { rec } = finish([
      { id: 309, bytes: u(2, 4) },
      { id: 310, bytes: u(2048, 4) },
    ]);
    assert.equal(rec.samplerate, 1024);
  });

  it('interval 0 is unknown: falls through to the sampler lookup by samplerId', () => {
    const { rec, lookups } = finish(
      [
        { id: 48, bytes: u(3, 1) },
        { id: 34, bytes: u(0, 4) },
      ],
      { lookup: (id) => (id === 3 ? 256 : null) },
    );
    assert.equal(rec.samplerate, 256);
    assert.deepEqual(lookups, [3]);
  });

  it('lookup by selectorId 302, and by null (exporter-wide) when no id is sent', () => {
    const a = finish([{ id: 302, bytes: u(9, 4) }], { lookup: (id) => (id === 9 ? 64 : null) });
    assert.equal(a.rec.samplerate, 64);
    const b = finish([{ id: 2, bytes: u(1, 4) }], { lookup: (id) => (id === null ? 32 : null) });
    assert.equal(b.rec.samplerate, 32);
    assert.deepEqual(b.lookups, [null]);
    assert.equal(b.sink.samplingUnknownCount, 0);
  });

  it('unknown: the configured default, counted as unknown; null default stays null, never 1', () => {
    const a = finish([{ id: 2, bytes: u(1, 4) }], { exporter: { defaultSampleRate: 10 } });
    assert.equal(a.rec.samplerate, 10);
    assert.equal(a.sink.samplingUnknownCount, 1);
    const b = finish([{ id: 2, bytes: u(1, 4) }]);
    assert.equal(b.rec.samplerate, null);
    assert.equal(b.sink.samplingUnknownCount, 1);
  });

  it('sampleRateOverride wins over everything', () => {
    const { rec, sink, lookups } = finish([{ id: 34, bytes: u(1000, 4) }], {
      exporter: { sampleRateOverride: 7 },
      lookup: () => 99,
    });
    assert.equal(rec.samplerate, 7);
    assert.equal(sink.samplingUnknownCount, 0);
    assert.deepEqual(lookups, []);
  });

  it('recordSamplingRate on an options-style scratch', () => {
    const s = new RecordScratch();
    assert.equal(recordSamplingRate(s), null);
    s.samplingInterval = 50;
    assert.equal(recordSamplingRate(s), 50);
    s.samplingProbability = 0.25;
    assert.equal(recordSamplingRate(s), 4);
  });
});

describe('finishRecord: finalizeRecord runs last', () => {
  it('ICMP type/code from the v9 destination port and ports cleared', () => {
    const { rec } = finish([
      { id: 4, bytes: u(1, 1) },
      { id: 7, bytes: u(0, 2) },
      { id: 11, bytes: u(0x0b00, 2) },
      { id: 8, bytes: ip4('10.0.0.1') },
    ]);
    assert.deepEqual([rec.icmptype, rec.icmpcode, rec.srcport, rec.dstport], [11, 0, null, null]);
    assert.equal(rec.ipversion, 4);
  });
});
