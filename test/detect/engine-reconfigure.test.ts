/**
 * DetectionEngine.reconfigure (configuration reload): new thresholds, hostgroups, totals and
 * interface watches apply to a running engine without losing its windows or its active alerts;
 * what cannot change live (the window) is returned as a note and keeps its running value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DetectionConfig, defaultDetectionConfig } from '../../src/detect/detection-config.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { Events, flowRecord } from './engine-fixtures.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const VICTIM = '10.0.0.5';
const ROUTER = '192.0.2.1';

function rec(f: Partial<FlowRecord>): FlowRecord {
  return flowRecord(
    { flowsrcip: ROUTER, protocolint: 17, srcport: 40000, dstport: 80, srcip: '198.51.100.7' },
    f,
  );
}

/** The settings of engine.test.ts: a 30 s window, 20,000 pps per host. */
function baseConfig(change: (c: DetectionConfig) => void = () => {}): DetectionConfig {
  const config = defaultDetectionConfig();
  config.exportersilent = null;
  config.window = 30;
  config.thresholds.pps = 20_000;
  change(config);
  return config;
}

function engine(config: DetectionConfig): { e: DetectionEngine; sink: Events } {
  const sink = new Events();
  return { e: new DetectionEngine(config, [sink]), sink };
}

/** A copy of `config` with `change` applied (what a reload reads from the edited file). */
function edited(config: DetectionConfig, change: (c: DetectionConfig) => void): DetectionConfig {
  const next = structuredClone(config);
  change(next);
  return next;
}

/** One record per second to `dst` from `from` (ms) for `seconds`, `pps` packets of 100 bytes. */
function feed(
  e: DetectionEngine,
  from: number,
  seconds: number,
  pps: number,
  dst = VICTIM,
  f: Partial<FlowRecord> = {},
): void {
  for (let s = 0; s < seconds; s++) {
    const t = from + s * 1000;
    e.observe(rec({ dstip: dst, start: t, end: t, packets: pps, bits: pps * 800, ...f }), t);
  }
}

const summaries = (sink: Events) => sink.events.map((ev) => `${ev.type} ${ev.alert.summary}`).join('; ');

describe('reconfigure: thresholds', () => {
  it('a flood below the old pps threshold and above the new one alerts at the next evaluation, on the window already counted', () => {
    const config = baseConfig();
    const { e, sink } = engine(config);
    feed(e, T0, 40, 15_000);
    e.tick(T0 + 41_000);
    assert.equal(sink.events.length, 0, '15,000 pps is under 20,000');

    const notes = e.reconfigure(edited(config, (c) => (c.thresholds.pps = 10_000)));
    assert.deepEqual(notes, []);
    // No new record: the evaluation a second after the last one sees the kept window.
    e.tick(T0 + 42_000);
    const starts = sink.of('start');
    assert.equal(starts.length, 1, summaries(sink));
    const a = starts[0]?.alert;
    assert.equal(a?.target, VICTIM);
    assert.equal(a?.metric, 'pps');
    assert.equal(a?.threshold, 10_000);
    assert.ok(Math.abs((a?.value ?? 0) - 15_000) < 1, `a whole window's rate, got ${a?.value}`);
    assert.ok((a?.startedAt ?? 0) <= T0 + 40_000, `${(a?.startedAt ?? 0) - T0}`);
  });

  it('an active alert keeps its id across reloads, reports the new threshold, and ends after the new endafter once its condition no longer holds', () => {
    // 28,000 pps: under the default udppps (30,000), so only the pps check holds.
    const config = baseConfig();
    const { e, sink } = engine(config);
    feed(e, T0, 40, 28_000);
    e.tick(T0 + 41_000);
    const id = sink.of('start')[0]?.alert.id;
    assert.ok(id !== undefined, summaries(sink));

    const raised = edited(config, (c) => (c.thresholds.pps = 25_000));
    assert.deepEqual(e.reconfigure(raised), []);
    feed(e, T0 + 40_000, 20, 28_000);
    e.tick(T0 + 80_000);
    assert.equal(sink.of('start').length, 1, summaries(sink));
    const active = e.activeAlerts();
    assert.equal(active.length, 1);
    assert.equal(active[0]?.id, id);
    assert.equal(active[0]?.threshold, 25_000);
    assert.ok(sink.of('update').every((u) => u.alert.id === id));

    // Now the same traffic is under the threshold; endafter drops from 60 s to 20 s.
    const quiet = edited(raised, (c) => {
      c.thresholds.pps = 50_000;
      c.endafter = 20;
    });
    assert.deepEqual(e.reconfigure(quiet), []);
    feed(e, T0 + 60_000, 30, 28_000);
    e.tick(T0 + 90_000);
    const ends = sink.of('end');
    assert.equal(ends.length, 1, `ended within 30 s, so by the new endafter: ${summaries(sink)}`);
    assert.equal(ends[0]?.alert.id, id);
    assert.equal(sink.of('start').length, 1);
  });

  it('a reload with an identical configuration changes nothing: no new alert, the same ids', () => {
    const config = baseConfig((c) => {
      c.hostgroups = [{ name: 'web', networks: ['10.0.0.0/28'], thresholds: { pps: 25_000 }, totals: {} }];
    });
    const { e, sink } = engine(config);
    feed(e, T0, 40, 30_000);
    feed(e, T0, 40, 15_000, '10.0.1.7');
    e.tick(T0 + 41_000);
    const before = e.activeAlerts().map((a) => a.id);
    assert.equal(before.length, 1, summaries(sink));
    const events = sink.events.length;

    assert.deepEqual(e.reconfigure(structuredClone(config)), []);
    assert.equal(sink.events.length, events, 'the reload itself sends nothing');
    e.tick(T0 + 43_000);
    feed(e, T0 + 40_000, 10, 30_000);
    feed(e, T0 + 40_000, 10, 15_000, '10.0.1.7');
    e.tick(T0 + 51_000);
    assert.equal(sink.of('start').length, 1, summaries(sink));
    assert.deepEqual(
      e.activeAlerts().map((a) => a.id),
      before,
    );
  });

  it('scan thresholds change live: a source already at 40 ports is a scan at its next probe once scanports is 30', () => {
    const config = baseConfig();
    const { e, sink } = engine(config);
    const probe = (port: number, t: number) =>
      e.observe(
        rec({
          srcip: '203.0.113.66',
          dstip: VICTIM,
          protocolint: 6,
          tcpflagsint: 0x02,
          dstport: port,
          start: t,
          end: t,
          packets: 1,
          bits: 480,
        }),
        t,
      );
    for (let p = 1; p <= 40; p++) probe(p, T0 + p * 100);
    assert.equal(sink.events.length, 0, '40 ports is under 50');
    e.reconfigure(edited(config, (c) => (c.thresholds.scanports = 30)));
    probe(41, T0 + 4_200);
    const a = sink.of('start')[0]?.alert;
    assert.equal(a?.kind, 'port_scan', summaries(sink));
    assert.equal(a?.threshold, 30);
    assert.equal(a?.value, 41, 'the 40 ports counted before the reload still count');
  });
});

describe('reconfigure: hostgroups, totals, interfaces', () => {
  it("a host moved into a new hostgroup gets that group's thresholds; a host outside it keeps the defaults", () => {
    const config = baseConfig();
    const { e, sink } = engine(config);
    feed(e, T0, 40, 15_000);
    feed(e, T0, 40, 15_000, '10.0.1.7');
    e.tick(T0 + 41_000);
    assert.equal(sink.events.length, 0);

    const grouped = edited(config, (c) => {
      c.hostgroups = [{ name: 'web', networks: ['10.0.0.0/28'], thresholds: { pps: 5_000 }, totals: {} }];
    });
    assert.deepEqual(e.reconfigure(grouped), []);
    feed(e, T0 + 40_000, 4, 15_000);
    feed(e, T0 + 40_000, 4, 15_000, '10.0.1.7');
    e.tick(T0 + 45_000);
    const starts = sink.of('start');
    assert.equal(starts.length, 1, summaries(sink));
    const a = starts[0]?.alert;
    assert.equal(a?.target, VICTIM);
    assert.equal(a?.hostgroup, 'web');
    assert.equal(a?.threshold, 5_000);
  });

  it('interface watches, hostgroup and network totals added at runtime start counting', () => {
    const config = baseConfig();
    const { e, sink } = engine(config);
    // 8 Gb/s and 100,000 pps through ifIndex 7 in, spread over 200 hosts (each far under its thresholds).
    const through = (from: number, seconds: number) => {
      for (let s = 0; s < seconds; s++) {
        const t = from + s * 1000;
        e.observe(
          rec({
            dstip: `10.0.3.${(s % 200) + 1}`,
            protocolint: 6,
            tcpflagsint: 0x18,
            input: 7,
            output: 9,
            start: t,
            end: t,
            packets: 100_000,
            bits: 8e9,
          }),
          t,
        );
      }
    };
    through(T0, 40);
    e.tick(T0 + 41_000);
    assert.equal(sink.events.length, 0, summaries(sink));
    assert.equal(e.status().interfaces, 0);

    const watched = edited(config, (c) => {
      c.interfaces = [
        { exporter: ROUTER, index: [7], direction: 'in', thresholds: { bps: 5e9 }, utilisation: null },
      ];
      c.totals = { pps: 50_000 };
      c.hostgroups = [{ name: 'lab', networks: ['10.0.3.0/24'], thresholds: {}, totals: { bps: 5e9 } }];
    });
    assert.deepEqual(e.reconfigure(watched), []);
    through(T0 + 40_000, 40);
    e.tick(T0 + 81_000);
    const targets = sink
      .of('start')
      .map((s) => `${s.alert.targetKind} ${s.alert.target}`)
      .sort();
    assert.deepEqual(targets, ['hostgroup internal', 'hostgroup lab', `interface ${ROUTER}/if7/in`]);
    assert.equal(e.status().interfaces, 1);
  });
});

describe('reconfigure: not live', () => {
  it('a window change returns a note and keeps the running window; the rest of the reload applies', () => {
    const config = baseConfig();
    const { e, sink } = engine(config);
    const notes = e.reconfigure(
      edited(config, (c) => {
        c.window = 10;
        c.thresholds.pps = 10_000;
      }),
    );
    assert.equal(notes.length, 1);
    assert.match(notes[0] ?? '', /^detection\.window changed \(30 s → 10 s\): needs a restart/);
    // 25,000 pps for 10 s: 25,000 over a 10 s window, 8,333 over the 30 s one that is kept.
    feed(e, T0, 10, 25_000);
    e.tick(T0 + 12_000);
    assert.equal(sink.events.length, 0, summaries(sink));
    // 15 s of it is 12,500 over 30 s: above the new 10,000.
    feed(e, T0 + 10_000, 5, 25_000);
    e.tick(T0 + 17_000);
    assert.equal(sink.of('start').length, 1, summaries(sink));
    assert.equal(sink.of('start')[0]?.alert.threshold, 10_000);
  });

  it('enabled and maxsources changes are notes; a hostgroup network that does not parse throws and changes nothing', () => {
    const config = baseConfig();
    const { e, sink } = engine(config);
    const notes = e.reconfigure(
      edited(config, (c) => {
        c.enabled = false;
        c.maxsources = 10;
      }),
    );
    assert.equal(notes.length, 2, notes.join('; '));
    assert.match(notes[0] ?? '', /^detection\.enabled changed \(true → false\): needs a restart$/);
    assert.match(notes[1] ?? '', /^detection\.maxsources changed \(100000 → 10\): needs a restart/);
    assert.equal(e.status().enabled, true);

    assert.throws(() =>
      e.reconfigure(
        edited(config, (c) => {
          c.thresholds.pps = 1_000;
          c.hostgroups = [{ name: 'bad', networks: ['not a network'], thresholds: {}, totals: {} }];
        }),
      ),
    );
    feed(e, T0, 40, 15_000);
    e.tick(T0 + 41_000);
    assert.equal(sink.events.length, 0, 'still the 20,000 pps threshold');
  });
});
