/**
 * Detection on keys beyond one host: a hostgroup's hosts together and all internal hosts together
 * (carpet bombing: a flood spread over many addresses, each under its own thresholds), and exporter
 * interfaces (flood thresholds and a share of the interface's speed).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { type DetectionConfig, defaultDetectionConfig } from '../../src/detect/detection-config.js';
import { DetectionEngine, type InterfaceSpeed } from '../../src/detect/engine.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { Events, flowRecord } from './engine-fixtures.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const ROUTER = '192.0.2.1';

function rec(f: Partial<FlowRecord>): FlowRecord {
  return flowRecord(
    { flowsrcip: ROUTER, protocolint: 17, srcport: 40000, dstport: 80, srcip: '198.51.100.7' },
    f,
  );
}

function engine(
  change: (c: DetectionConfig) => void,
  speed?: InterfaceSpeed,
): { e: DetectionEngine; sink: Events } {
  const config = defaultDetectionConfig();
  config.exportersilent = null;
  change(config);
  const sink = new Events();
  return { e: new DetectionEngine(config, [sink], 10_000, speed), sink };
}

/** Every second for `seconds`, one record per host of 10.0.2.1..`hosts` with `pps` packets. */
function carpet(
  e: DetectionEngine,
  hosts: number,
  seconds: number,
  pps: number,
  f: Partial<FlowRecord> = {},
): void {
  for (let s = 0; s < seconds; s++) {
    const t = T0 + s * 1000;
    for (let h = 1; h <= hosts; h++) {
      e.observe(
        rec({
          srcip: `203.0.113.${(h % 250) + 1}`,
          dstip: `10.0.2.${h}`,
          srcport: 53,
          dstport: 30_000 + h,
          start: t,
          end: t,
          packets: pps,
          bits: pps * 1200 * 8,
          ...f,
        }),
        t,
      );
    }
  }
}

const servers = (totals: DetectionConfig['hostgroups'][number]['totals']) => ({
  name: 'servers',
  networks: ['10.0.2.0/24'],
  thresholds: {},
  totals,
});

describe('hostgroup and network totals', () => {
  it('carpet bombing: reflection spread over 200 hosts, each far under its own threshold, is one hostgroup alert naming how many hosts were hit', () => {
    const { e, sink } = engine((c) => {
      c.hostgroups = [servers({ reflectionpps: 5_000 })];
    });
    // 200 hosts × 100 pps = 20,000 reflected pps in total; 100 pps per host (threshold 5,000).
    carpet(e, 200, 30, 100);
    e.tick(T0 + 31_000);
    const starts = sink.of('start');
    assert.equal(starts.length, 1, starts.map((s) => s.alert.summary).join('; '));
    const a = starts[0]?.alert;
    assert.equal(a?.kind, 'reflection');
    assert.equal(a?.targetKind, 'hostgroup');
    assert.equal(a?.target, 'servers');
    assert.equal(a?.hostgroup, 'servers');
    assert.equal(a?.direction, 'inbound');
    assert.equal(a?.interface, null);
    const hosts = Number(/, (\d+) hosts hit/.exec(a?.summary ?? '')?.[1]);
    assert.ok(Math.abs(hosts - 200) <= 10, a?.summary);
    assert.match(a?.summary ?? '', /^Reflection\/amplification to hostgroup servers: /);
    // The incident collects the attack's records: the top destinations are the group's hosts.
    const active = e.activeAlerts()[0];
    assert.ok((active?.top.destinations.length ?? 0) > 0);
    assert.ok(active?.top.destinations.every((d) => d.key.startsWith('10.0.2.')));
    assert.equal(active?.top.srcports[0]?.key, '53');
  });

  it('totals are off by default: the same carpet bombing raises nothing without them', () => {
    const { e, sink } = engine(() => {});
    carpet(e, 200, 30, 100);
    e.tick(T0 + 31_000);
    assert.equal(sink.events.length, 0);
  });

  it("a group of resolvers asking for their answers is not reflection: the group's own requests are subtracted", () => {
    const { e, sink } = engine((c) => {
      c.hostgroups = [servers({ reflectionpps: 5_000 })];
    });
    for (let s = 0; s < 30; s++) {
      const t = T0 + s * 1000;
      for (let h = 1; h <= 200; h++) {
        // Each host's queries out (100 pps to port 53) and the answers back.
        e.observe(
          rec({
            srcip: `10.0.2.${h}`,
            dstip: '203.0.113.53',
            srcport: 30_000 + h,
            dstport: 53,
            start: t,
            end: t,
            packets: 100,
            bits: 100 * 80 * 8,
          }),
          t,
        );
      }
    }
    carpet(e, 200, 30, 100);
    e.tick(T0 + 31_000);
    assert.equal(sink.events.length, 0, sink.events.map((s) => s.alert.summary).join('; '));
  });

  it('network totals watch all internal hosts together, whatever their hostgroup', () => {
    const { e, sink } = engine((c) => {
      c.hostgroups = [servers({})];
      c.totals = { pps: 10_000 };
    });
    carpet(e, 200, 30, 100);
    e.tick(T0 + 31_000);
    const a = sink.of('start')[0]?.alert;
    assert.equal(sink.of('start').length, 1);
    assert.equal(a?.target, 'internal');
    assert.equal(a?.targetKind, 'hostgroup');
    assert.equal(a?.hostgroup, null);
    assert.match(a?.summary ?? '', /to the internal networks: .*hosts hit/);
  });

  it('a group total below its threshold raises nothing', () => {
    const { e, sink } = engine((c) => {
      c.hostgroups = [servers({ reflectionpps: 50_000 })];
    });
    carpet(e, 200, 30, 100);
    e.tick(T0 + 31_000);
    assert.equal(sink.events.length, 0);
  });
});

/** Every second for `seconds`, one record from ROUTER with `bps` through interface 7 (in). */
function throughInterface(
  e: DetectionEngine,
  seconds: number,
  bps: number,
  f: Partial<FlowRecord> = {},
): void {
  for (let s = 0; s < seconds; s++) {
    const t = T0 + s * 1000;
    e.observe(
      rec({
        dstip: `198.18.0.${(s % 200) + 1}`,
        protocolint: 6,
        tcpflagsint: 0x18,
        input: 7,
        output: 9,
        inputname: 'xe-0/0/7',
        start: t,
        end: t,
        packets: bps / 8 / 1000,
        bits: bps,
        ...f,
      }),
      t,
    );
  }
}

describe('exporter interfaces', () => {
  it('an interface above its bps threshold raises one interface alert naming the exporter, the ifIndex, its name and direction', () => {
    const { e, sink } = engine((c) => {
      c.interfaces = [
        { exporter: ROUTER, index: [7], direction: 'in', thresholds: { bps: 5e9 }, utilisation: null },
      ];
    });
    throughInterface(e, 30, 8e9);
    e.tick(T0 + 31_000);
    const starts = sink.of('start');
    assert.equal(starts.length, 1, starts.map((s) => s.alert.summary).join('; '));
    const a = starts[0]?.alert;
    assert.equal(a?.kind, 'volumetric');
    assert.equal(a?.targetKind, 'interface');
    assert.equal(a?.target, `${ROUTER}/if7/in`);
    assert.deepEqual(a?.interface, { exporter: ROUTER, index: 7, name: 'xe-0/0/7', direction: 'in' });
    assert.equal(a?.direction, 'inbound');
    assert.match(
      a?.summary ?? '',
      /^Volumetric flood on 192\.0\.2\.1 xe-0\/0\/7 in: [\d.]+ Gb\/s \(threshold 5\.0 Gb\/s\)$/,
    );
    assert.equal(e.status().interfaces, 1, 'only ifIndex 7 in is watched');
  });

  it('other interfaces, other directions and other exporters are not watched', () => {
    const { e, sink } = engine((c) => {
      c.interfaces = [
        { exporter: ROUTER, index: [7], direction: 'out', thresholds: { bps: 5e9 }, utilisation: null },
      ];
    });
    throughInterface(e, 30, 8e9);
    throughInterface(e, 30, 8e9, { input: 8, output: 10 });
    throughInterface(e, 30, 8e9, { flowsrcip: '192.0.2.2', input: 9, output: 7 });
    e.tick(T0 + 31_000);
    assert.equal(sink.events.length, 0, sink.events.map((s) => s.alert.summary).join('; '));
  });

  it('direction out watches traffic leaving through the interface; no index list watches every interface', () => {
    const { e, sink } = engine((c) => {
      c.interfaces = [
        {
          exporter: '192.0.2.0/24',
          index: [],
          direction: 'out',
          thresholds: { pps: 100_000 },
          utilisation: null,
        },
      ];
    });
    throughInterface(e, 30, 8e9, { outputname: 'ge-0/0/9' });
    e.tick(T0 + 31_000);
    const a = sink.of('start')[0]?.alert;
    assert.equal(a?.target, `${ROUTER}/if9/out`);
    assert.equal(a?.interface?.name, 'ge-0/0/9');
    assert.equal(a?.direction, 'outbound');
    assert.equal(a?.metric, 'pps');
  });

  it('utilisation alerts at the configured share of the interface speed, and not below it', () => {
    const speeds: InterfaceSpeed = (exporter, index) => (exporter === ROUTER && index === 7 ? 10e9 : null);
    const watch = (c: DetectionConfig) => {
      c.interfaces = [{ exporter: ROUTER, index: [7], direction: 'in', thresholds: {}, utilisation: 90 }];
    };
    const below = engine(watch, speeds);
    throughInterface(below.e, 30, 8.5e9);
    below.e.tick(T0 + 31_000);
    assert.equal(below.sink.events.length, 0);

    const above = engine(watch, speeds);
    throughInterface(above.e, 30, 9.5e9);
    above.e.tick(T0 + 31_000);
    const a = above.sink.of('start')[0]?.alert;
    assert.equal(a?.metric, 'utilisation');
    assert.equal(a?.threshold, 9e9);
    assert.match(
      a?.summary ?? '',
      /^Interface 192\.0\.2\.1 xe-0\/0\/7 in at 9\.5 Gb\/s, 95 % of its 10\.0 Gb\/s \(alerting from 90 %\)$/,
    );

    // Speed unknown: utilisation cannot alert.
    const unknown = engine(watch);
    throughInterface(unknown.e, 30, 9.5e9);
    unknown.e.tick(T0 + 31_000);
    assert.equal(unknown.sink.events.length, 0);
  });

  it('interfaces beyond maxinterfaces are counted as dropped, not tracked', () => {
    const { e } = engine((c) => {
      c.maxinterfaces = 3;
      c.interfaces = [
        { exporter: ROUTER, index: [], direction: 'both', thresholds: { bps: 1e12 }, utilisation: null },
      ];
    });
    for (let i = 1; i <= 10; i++) throughInterface(e, 1, 1e6, { input: i, output: 100 + i });
    assert.equal(e.status().interfaces, 3);
    assert.ok(e.status().interfacesDropped > 0);
  });
});

describe('configuration', () => {
  it('reads totals, interface watches (one index or a list) and rejects a utilisation above 100 %', () => {
    const parsed = configSchema.parse({
      detection: {
        totals: { reflectionpps: 20_000 },
        hostgroups: [{ name: 'dc', networks: ['10.1.0.0/16'], totals: { bps: 2e10 } }],
        interfaces: [
          { exporter: '192.0.2.1', index: 7, thresholds: { bps: 9e9 } },
          { exporter: '192.0.2.0/24', index: [1, 2], direction: 'both', utilisation: 95 },
        ],
      },
    });
    assert.deepEqual(parsed.detection.totals, { reflectionpps: 20_000 });
    assert.deepEqual(parsed.detection.hostgroups[0]?.totals, { bps: 2e10 });
    assert.deepEqual(parsed.detection.interfaces[0], {
      exporter: '192.0.2.1',
      index: [7],
      direction: 'in',
      thresholds: { bps: 9e9 },
      utilisation: null,
    });
    assert.deepEqual(parsed.detection.interfaces[1]?.index, [1, 2]);
    const bad = configSchema.safeParse({
      detection: { interfaces: [{ exporter: '192.0.2.1', utilisation: 150 }] },
    });
    assert.equal(bad.success, false);
    assert.match(JSON.stringify(bad.error?.issues), /percentage/);
    const unknownKey = configSchema.safeParse({ detection: { totals: { scanports: 5 } } });
    assert.equal(unknownKey.success, false, 'scan thresholds are per source, not totals');
  });
});
