/**
 * The detection engine on synthetic records with known rates: each detector's arithmetic (window
 * rates, spreading over a record's duration, sampling and weight), and the alert lifecycle.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DetectionConfig, defaultDetectionConfig } from '../../src/detect/detection-config.js';
import { DetectionEngine } from '../../src/detect/engine.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { Events, flowRecord } from './engine-fixtures.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const VICTIM = '10.0.0.5';

function rec(f: Partial<FlowRecord>): FlowRecord {
  return flowRecord({ flowsrcip: '127.0.0.1', protocolint: 17, srcport: 40000, dstport: 80 }, f);
}

function engine(change: (c: DetectionConfig) => void = () => {}): { e: DetectionEngine; sink: Events } {
  const config = defaultDetectionConfig();
  config.exportersilent = null;
  // The arithmetic below is written for a 30 s window (the default is 10 s).
  config.window = 30;
  // FastNetMon's 20,000 pps keeps the numbers of these tests small (the default is 100,000).
  config.thresholds.pps = 20_000;
  change(config);
  const sink = new Events();
  return { e: new DetectionEngine(config, [sink]), sink };
}

/** One record per second from `from` for `seconds`, each `pps` packets of `bytes` bytes. */
function feed(
  e: DetectionEngine,
  from: number,
  seconds: number,
  pps: number,
  f: Partial<FlowRecord> = {},
  bytes = 100,
): void {
  for (let s = 0; s < seconds; s++) {
    const t = from + s * 1000;
    e.observe(
      rec({
        srcip: '198.51.100.7',
        dstip: VICTIM,
        start: t,
        end: t,
        packets: pps,
        bits: pps * bytes * 8,
        ...f,
      }),
      t,
    );
  }
}

/** Background traffic between two other hosts, to move flow time on. */
function idle(e: DetectionEngine, from: number, seconds: number): void {
  for (let s = 0; s <= seconds; s++) {
    const t = from + s * 1000;
    e.observe(rec({ srcip: '198.51.100.9', dstip: '10.0.0.99', start: t, end: t, packets: 1, bits: 800 }), t);
  }
}

describe('floods', () => {
  it('a UDP flood above the pps threshold starts one volumetric alert with its rate, and ends after the quiet period', () => {
    const { e, sink } = engine();
    feed(e, T0, 60, 30_000);
    e.tick(T0 + 60_000);
    const starts = sink.of('start');
    assert.equal(starts.length, 1);
    const a = starts[0]?.alert;
    assert.equal(a?.kind, 'volumetric');
    assert.equal(a?.target, VICTIM);
    assert.equal(a?.direction, 'inbound');
    assert.equal(a?.metric, 'pps');
    assert.equal(a?.threshold, 20_000);
    assert.match(a?.summary ?? '', /^Volumetric flood to 10\.0\.0\.5: \d/);
    // Raised once the window average passed 20,000 pps: 2/3 of a window (30 s) into the flood.
    assert.ok(
      (a?.startedAt ?? 0) - T0 >= 18_000 && (a?.startedAt ?? 0) - T0 <= 22_000,
      `${(a?.startedAt ?? 0) - T0}`,
    );
    assert.equal(sink.of('end').length, 0);
    // The flood stops; flow time moves on with other traffic.
    idle(e, T0 + 60_000, 120);
    e.tick(T0 + 180_000);
    const ends = sink.of('end');
    assert.equal(ends.length, 1, 'ended after endafter (60 s) without the condition');
    const ended = ends[0]?.alert;
    assert.equal(ended?.id, a?.id);
    assert.equal(ended?.state, 'ended');
    assert.ok(Math.abs((ended?.peak ?? 0) - 30_000) < 1, `peak ${ended?.peak}`);
    assert.ok((ended?.endedAt ?? 0) > (ended?.startedAt ?? 0));
  });

  it("spreads a NetFlow record over its duration: a 60 s flow's packets count at its real rate", () => {
    const spread = engine();
    const t = T0 + 60_000;
    // 60 s of 15,000 pps exported as one record: below the 20,000 pps threshold.
    spread.e.observe(
      rec({ srcip: '198.51.100.7', dstip: VICTIM, start: T0, end: t, packets: 900_000, bits: 900_000 * 800 }),
      t,
    );
    idle(spread.e, t, 5);
    assert.equal(spread.sink.of('start').length, 0, '15,000 pps over 60 s is not a flood');
    // The same packets claimed within one second are 900,000 pps for that second: 30,000 over the window.
    const instant = engine();
    instant.e.observe(
      rec({ srcip: '198.51.100.7', dstip: VICTIM, start: t, end: t, packets: 900_000, bits: 1 }),
      t,
    );
    idle(instant.e, t, 5);
    assert.equal(instant.sink.of('start').length, 1);
  });

  it('estimates with samplerate × weight; records of weight 0 (counted elsewhere) add nothing', () => {
    const sampled = engine();
    feed(sampled.e, T0, 40, 30, { samplerate: 1000 });
    assert.equal(sampled.sink.of('start')[0]?.alert.kind, 'volumetric', '30 sampled pps at 1:1000');
    const uncounted = engine();
    feed(uncounted.e, T0, 40, 30_000, { weight: 0 });
    assert.equal(uncounted.sink.of('start').length, 0);
    assert.equal(uncounted.e.status().records, 0);
  });

  it('names the most pronounced kind: SYN flood rather than volumetric', () => {
    const { e, sink } = engine();
    feed(e, T0, 40, 30_000, { protocolint: 6, tcpflagsint: 0x02 });
    e.tick(T0 + 60_000);
    const kinds = sink.events.map((x) => x.alert.kind);
    assert.equal(sink.of('start').length, 1, 'one incident for the host');
    assert.equal(sink.of('start')[0]?.alert.kind, 'syn_flood', 'started as what it most is');
    assert.equal(kinds.at(-1), 'syn_flood');
  });

  const kinds: [string, Partial<FlowRecord>, (c: DetectionConfig) => void][] = [
    ['ack_flood', { protocolint: 6, tcpflagsint: 0x10 }, (c) => (c.thresholds.ackpps = 5_000)],
    ['rst_flood', { protocolint: 6, tcpflagsint: 0x14 }, () => {}],
    ['icmp_flood', { protocolint: 1, srcport: null, dstport: null }, () => {}],
    [
      'icmp_flood',
      {
        protocolint: 58,
        srcport: null,
        dstport: null,
        srcip: '2001:db8::7',
        dstip: '2001:db8:1::5',
        dstinternal: true,
      },
      () => {},
    ],
    ['udp_flood', { protocolint: 17 }, (c) => (c.thresholds.udppps = 5_000)],
    ['fragment_flood', { protocolint: 6, tcpflagsint: 0x18, fragmented: true }, () => {}],
  ];
  for (const [kind, fields, change] of kinds) {
    it(`${kind}: ${JSON.stringify(fields)} at 8,000 pps for 40 s`, () => {
      const { e, sink } = engine((c) => {
        c.thresholds.pps = null;
        change(c);
      });
      feed(e, T0, 40, 8_000, fields);
      const starts = sink.of('start');
      assert.equal(starts.length, 1, JSON.stringify(sink.events.map((x) => x.alert.summary)));
      assert.equal(starts[0]?.alert.kind, kind);
      assert.equal(starts[0]?.alert.target, fields.dstip ?? VICTIM);
    });
  }

  it('reflection: UDP from port 123 to one host; a resolver asking for its answers is not', () => {
    const attack = engine();
    feed(attack.e, T0, 40, 8_000, { srcport: 123, dstport: 33000 }, 468);
    assert.equal(attack.sink.of('start')[0]?.alert.kind, 'reflection');
    const resolver = engine();
    for (let s = 0; s < 40; s++) {
      const t = T0 + s * 1000;
      resolver.e.observe(
        rec({
          srcip: VICTIM,
          dstip: '198.51.100.53',
          srcport: 40000,
          dstport: 53,
          start: t,
          end: t,
          packets: 8_000,
          bits: 8_000 * 600,
        }),
        t,
      );
      resolver.e.observe(
        rec({
          srcip: '198.51.100.53',
          dstip: VICTIM,
          srcport: 53,
          dstport: 40000,
          start: t,
          end: t,
          packets: 8_000,
          bits: 8_000 * 2000,
        }),
        t,
      );
    }
    assert.equal(
      resolver.sink.of('start').length,
      0,
      JSON.stringify(resolver.sink.events.map((x) => x.alert.summary)),
    );
  });

  it('non-first fragments (no ports) count toward reflection and fragment floods', () => {
    const { e, sink } = engine((c) => {
      c.thresholds.fragpps = null;
    });
    feed(e, T0, 40, 8_000, { srcport: null, dstport: null, fragmented: true }, 1480);
    assert.equal(sink.of('start')[0]?.alert.kind, 'reflection');
  });

  it('hostgroup thresholds override the defaults for their hosts only', () => {
    const { e, sink } = engine((c) => {
      c.hostgroups = [{ name: 'small', networks: ['10.0.0.0/29'], thresholds: { pps: 1_000 }, totals: {} }];
    });
    feed(e, T0, 40, 2_000);
    feed(e, T0, 40, 2_000, { dstip: '10.0.1.5' });
    const starts = sink.of('start');
    assert.equal(starts.length, 1);
    assert.equal(starts[0]?.alert.target, VICTIM);
    assert.equal(starts[0]?.alert.hostgroup, 'small');
    assert.equal(starts[0]?.alert.threshold, 1_000);
  });

  it('alerts carry totals, top sources and ports, and distinct sources', () => {
    const { e, sink } = engine();
    for (let s = 0; s < 60; s++) {
      const t = T0 + s * 1000;
      for (let k = 0; k < 50; k++) {
        e.observe(
          rec({
            srcip: `203.0.113.${k}`,
            dstip: VICTIM,
            srcport: 1000 + k,
            dstport: 53,
            start: t,
            end: t,
            packets: 600,
            bits: 600 * 800,
          }),
          t,
        );
      }
    }
    e.tick(T0 + 70_000);
    idle(e, T0 + 60_000, 100);
    e.tick(T0 + 200_000);
    const end = sink.of('end')[0]?.alert;
    assert.ok(end);
    assert.equal(end.top.dstports[0]?.key, '53');
    assert.equal(end.top.protocols[0]?.key, 'udp');
    assert.equal(end.top.sources.length, 10);
    assert.ok(Math.abs((end.distinctSources ?? 0) - 50) <= 3, `${end.distinctSources}`);
    assert.ok(end.totals.packets > 0 && end.totals.flows > 0);
  });
});

describe('scans and sweeps', () => {
  function probe(
    e: DetectionEngine,
    src: string,
    dst: string,
    port: number,
    t: number,
    samplerate = 1,
  ): void {
    e.observe(
      rec({
        srcip: src,
        dstip: dst,
        protocolint: 6,
        tcpflagsint: 0x02,
        dstport: port,
        start: t,
        end: t,
        packets: 1,
        bits: 480,
        samplerate,
      }),
      t,
    );
  }

  it('vertical scan: 60 ports of one host from one source', () => {
    const { e, sink } = engine();
    for (let p = 1; p <= 60; p++) probe(e, '203.0.113.66', VICTIM, p, T0 + p * 100);
    const a = sink.of('start')[0]?.alert;
    assert.equal(a?.kind, 'port_scan');
    assert.equal(a?.target, '203.0.113.66');
    assert.equal(a?.value, 50, 'raised at the threshold');
    assert.match(a?.summary ?? '', /Port scan from 203\.0\.113\.66 to 10\.0\.0\.5/);
  });

  it('horizontal sweep: port 22 on 120 hosts', () => {
    const { e, sink } = engine();
    for (let h = 1; h <= 120; h++) probe(e, '203.0.113.66', `10.0.3.${h}`, 22, T0 + h * 100);
    const a = sink.of('start')[0]?.alert;
    assert.equal(a?.kind, 'sweep');
    assert.match(a?.summary ?? '', /on tcp\/22: 100 hosts/);
  });

  it('not looked for in heavily sampled records, and counted as skipped', () => {
    const { e, sink } = engine();
    for (let p = 1; p <= 60; p++) probe(e, '203.0.113.66', VICTIM, p, T0 + p * 100, 1000);
    assert.equal(sink.of('start').length, 0);
    assert.equal(e.status().scanSkippedSampled, 60);
  });

  it('probes spread over more than the scan window do not add up', () => {
    const { e, sink } = engine();
    for (let p = 1; p <= 60; p++) probe(e, '203.0.113.66', VICTIM, p, T0 + p * 2_000);
    assert.equal(sink.of('start').length, 0);
  });
});

describe('exfiltration and new destinations', () => {
  it('outbound far above the host’s own baseline alerts; the same volume from a host that always sends it does not', () => {
    const { e, sink } = engine((c) => {
      c.baseline.warmup = 10;
      c.thresholds.newdstbytes = null;
    });
    const send = (src: string, t: number, bps: number) =>
      e.observe(
        rec({
          srcip: src,
          dstip: '198.51.100.20',
          protocolint: 6,
          start: t,
          end: t,
          packets: 100,
          bits: bps,
        }),
        t,
      );
    // 30 windows of normal traffic: 1 Mb/s from .30, 200 Mb/s from .31 (a backup server).
    for (let s = 0; s < 30 * 30; s++) {
      send('10.0.0.30', T0 + s * 1000, 1e6);
      send('10.0.0.31', T0 + s * 1000, 2e8);
    }
    assert.equal(sink.of('start').length, 0, JSON.stringify(sink.of('start').map((x) => x.alert.summary)));
    for (let s = 900; s < 960; s++) {
      send('10.0.0.30', T0 + s * 1000, 2e8);
      send('10.0.0.31', T0 + s * 1000, 2e8);
    }
    const starts = sink.of('start');
    assert.equal(starts.length, 1);
    assert.equal(starts[0]?.alert.kind, 'exfiltration');
    assert.equal(starts[0]?.alert.target, '10.0.0.30');
    // About its usual 1 Mb/s (the first windows of the rise, still below the limit, were learnt).
    const baseline = starts[0]?.alert.baseline ?? 0;
    assert.ok(baseline >= 1e6 && baseline < 3e6, String(baseline));
  });

  it('bytes to a destination never seen during the learning period', () => {
    const { e, sink } = engine((c) => {
      c.learnperiod = 60;
      c.baseline.enabled = false;
      c.thresholds.newdstbytes = 100e6;
    });
    const send = (dst: string, t: number, bytes: number) =>
      e.observe(
        rec({
          srcip: '10.0.0.30',
          dstip: dst,
          protocolint: 6,
          start: t,
          end: t,
          packets: 100,
          bits: bytes * 8,
        }),
        t,
      );
    for (let s = 0; s < 60; s++) send('198.51.100.20', T0 + s * 1000, 10e6);
    for (let s = 60; s < 80; s++) send('198.51.100.20', T0 + s * 1000, 10e6);
    assert.equal(sink.of('start').length, 0, 'known destination');
    for (let s = 80; s < 100; s++) send('203.0.113.99', T0 + s * 1000, 10e6);
    const a = sink.of('start')[0]?.alert;
    assert.equal(a?.kind, 'new_destination');
    assert.match(a?.summary ?? '', /10\.0\.0\.30 sent .* to 203\.0\.113\.99/);
  });
});

describe('cloud and exporters', () => {
  it('rejected flows to one host and from one source', () => {
    const { e, sink } = engine();
    for (let s = 0; s < 40; s++) {
      const t = T0 + s * 1000;
      for (let k = 0; k < 150; k++) {
        e.observe(
          rec({
            srcip: '203.0.113.5',
            dstip: VICTIM,
            dstport: 22 + k,
            protocolint: 6,
            action: 'reject',
            start: t,
            end: t,
            packets: 1,
            bits: 480,
            flowtype: 'aws',
          }),
          t,
        );
      }
    }
    const kinds = sink.of('start').map((x) => `${x.alert.kind} ${x.alert.target}`);
    assert.deepEqual(kinds.sort(), ['denied_spike 10.0.0.5', 'denied_spike 203.0.113.5']);
  });

  it('an exporter silent for `exportersilent` seconds is alerted, and the alert ends when it is back', () => {
    const { e, sink } = engine((c) => {
      c.exportersilent = 30;
      c.endafter = 10;
    });
    idle(e, T0, 5);
    e.tick(T0 + 20_000);
    assert.equal(sink.of('start').length, 0);
    e.tick(T0 + 40_000);
    const a = sink.of('start')[0]?.alert;
    assert.equal(a?.kind, 'exporter_silent');
    assert.equal(a?.target, '127.0.0.1');
    assert.equal(a?.targetKind, 'exporter');
    idle(e, T0 + 41_000, 30);
    e.tick(T0 + 72_000);
    assert.equal(sink.of('end').length, 1);
  });
});

describe('bounds', () => {
  it('a SYN flood from 200,000 spoofed sources tracks one host and a bounded probe table', () => {
    const { e, sink } = engine((c) => {
      c.maxsources = 10_000;
    });
    for (let i = 0; i < 200_000; i++) {
      const t = T0 + Math.floor(i / 5_000) * 1000;
      const src = `${(i >>> 16) + 1}.${(i >>> 8) & 255}.${i & 255}.9`;
      e.observe(
        rec({
          srcip: src,
          dstip: VICTIM,
          protocolint: 6,
          tcpflagsint: 0x02,
          srcport: 1024 + (i % 60000),
          dstport: 443,
          start: t,
          end: t,
          packets: 4,
          bits: 4 * 480,
        }),
        t,
      );
    }
    assert.equal(e.status().hosts, 1);
    assert.equal(sink.of('start')[0]?.alert.kind, 'syn_flood');
    assert.ok(!sink.events.some((x) => x.alert.kind === 'port_scan' || x.alert.kind === 'sweep'));
  });

  it('the host table stops at maxhosts and counts what it dropped', () => {
    const { e } = engine((c) => {
      c.maxhosts = 100;
    });
    for (let h = 0; h < 300; h++) {
      e.observe(
        rec({
          srcip: '198.51.100.1',
          dstip: `10.1.${h >> 8}.${h & 255}`,
          start: T0,
          end: T0,
          packets: 1,
          bits: 8,
        }),
        T0,
      );
    }
    assert.equal(e.status().hosts, 100);
    assert.equal(e.status().hostsDropped, 200);
  });
});
