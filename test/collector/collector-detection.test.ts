/**
 * Detection in the live collector: NetFlow v5 datagrams over loopback UDP -> decode -> enrichment
 * -> detection engine -> alert store -> /api/alerts and /metrics, and the log. Detector arithmetic
 * is tested in test/detect/engine.test.ts; this checks that the pieces are connected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import type { AlertEvent, AlertSink } from '../../src/detect/alert.js';
import { startApiServer } from '../../src/serve/api-server.js';
import { logCapture, MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from './helpers.js';

/**
 * One NetFlow v5 datagram: `flows` UDP records to `dst`, one per second ending `endsAgoSec`
 * seconds before the export time and earlier, each of `pps` packets lasting one second.
 */
function v5Flood(
  dst: string,
  flows: number,
  pps: number,
  unixSecs: number,
  endsAgoSec = 1,
  input = 0,
): Buffer {
  const uptime = 1_000_000;
  const b = Buffer.alloc(24 + 48 * flows);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(flows, 2);
  b.writeUInt32BE(uptime, 4);
  b.writeUInt32BE(unixSecs, 8);
  const ip = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  for (let i = 0; i < flows; i++) {
    const o = 24 + 48 * i;
    const last = uptime - (endsAgoSec + flows - 1 - i) * 1000;
    b.writeUInt32BE(ip(`198.51.100.${1 + (i % 200)}`), o);
    b.writeUInt32BE(ip(dst), o + 4);
    b.writeUInt16BE(input, o + 12);
    b.writeUInt32BE(pps, o + 16);
    b.writeUInt32BE(pps * 500, o + 20);
    b.writeUInt32BE(last - 1000, o + 24);
    b.writeUInt32BE(last, o + 28);
    b.writeUInt16BE(123, o + 32);
    b.writeUInt16BE(40000 + i, o + 34);
    b[o + 38] = 17;
  }
  return b;
}

class Recorder implements AlertSink {
  readonly name = 'recorder';
  readonly events: AlertEvent[] = [];
  handle(e: AlertEvent): void {
    this.events.push(e);
  }
  async close(): Promise<void> {}
}

test('a reflection flood sent as NetFlow v5 is alerted, stored, served by /api/alerts and counted in /metrics', async () => {
  const recorder = new Recorder();
  const { logger, lines } = logCapture();
  const c = await startCollector(testConfig({}), logger, {
    output: new MemoryOutput(),
    alertSinks: [recorder],
  });
  const api = await startApiServer({
    listen: '127.0.0.1:0',
    token: null,
    allowNoToken: false,
    collector: c,
    templates: () => [],
    alerts: c.alerts,
    logger: quietLogger,
  });
  try {
    const now = Math.floor(Date.now() / 1000);
    // 40 s of 150,000 pps of NTP answers to 10.0.0.5 (internal: RFC 1918).
    await sendUdp('127.0.0.1', c.listeners[0].port, [
      v5Flood('10.0.0.5', 30, 150_000, now, 11),
      v5Flood('10.0.0.5', 10, 150_000, now),
    ]);
    await waitFor('the alert', () => recorder.events.length > 0, 10_000);
    const start = recorder.events[0];
    assert.equal(start?.type, 'start');
    assert.equal(start?.alert.kind, 'reflection');
    assert.equal(start?.alert.target, '10.0.0.5');
    // Raised as soon as the window's average passed the threshold, early in the flood.
    assert.equal(start?.alert.threshold, 5_000);
    assert.ok((start?.alert.value ?? 0) >= 5_000, `${start?.alert.value}`);

    const res = await fetch(`http://${api.address}/api/alerts`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { alerts: { id: string; kind: string; state: string }[] };
    assert.deepEqual(
      body.alerts.map((a) => [a.id, a.kind, a.state]),
      [[start?.alert.id, 'reflection', 'active']],
    );
    const metrics = await (await fetch(`http://${api.address}/metrics`)).text();
    assert.match(metrics, /flowgate_alerts_active\{kind="reflection"\} 1/);
    assert.equal(c.stats().detection?.activeAlerts, 1);
    assert.ok(
      lines.some((l) => l.msg === `alert started: ${start?.alert.summary}` && l.level === 40),
      'a warning in the log',
    );
  } finally {
    await api.close();
    await c.stop();
  }
});

test('an interface watched for utilisation is alerted with its configured name and speed; detection counters are in /metrics', async () => {
  const recorder = new Recorder();
  const config = testConfig({
    detection: {
      interfaces: [{ exporter: '127.0.0.0/8', index: [3], direction: 'in', thresholds: {}, utilisation: 50 }],
    },
  });
  config.interfaces = [
    { exporter: '127.0.0.1', index: 3, name: 'transit-a', alias: null, speed: 1_000_000_000 },
  ];
  const c = await startCollector(config, quietLogger, { output: new MemoryOutput(), alertSinks: [recorder] });
  const api = await startApiServer({
    listen: '127.0.0.1:0',
    token: null,
    allowNoToken: false,
    collector: c,
    templates: () => [],
    alerts: c.alerts,
    logger: quietLogger,
  });
  try {
    const now = Math.floor(Date.now() / 1000);
    // 150,000 pps of 500-byte packets = 600 Mb/s in through ifIndex 3: 60 % of 1 Gb/s.
    await sendUdp('127.0.0.1', c.listeners[0].port, [
      v5Flood('10.0.0.5', 30, 150_000, now, 11, 3),
      v5Flood('10.0.0.5', 10, 150_000, now, 1, 3),
    ]);
    await waitFor(
      'the interface alert',
      () => recorder.events.some((e) => e.alert.targetKind === 'interface'),
      10_000,
    );
    const a = recorder.events.find((e) => e.alert.targetKind === 'interface')?.alert;
    assert.equal(a?.metric, 'utilisation');
    assert.equal(a?.threshold, 500_000_000);
    assert.deepEqual(a?.interface, { exporter: '127.0.0.1', index: 3, name: 'transit-a', direction: 'in' });
    assert.match(
      a?.summary ?? '',
      /^Interface 127\.0\.0\.1 transit-a in at \d+ Mb\/s, \d+ % of its 1\.0 Gb\/s/,
    );
    const metrics = await (await fetch(`http://${api.address}/metrics`)).text();
    assert.match(metrics, /^flowgate_detection_interfaces 1$/m);
    assert.match(metrics, /^flowgate_detection_records_total 40$/m);
    assert.match(metrics, /^flowgate_detection_hosts_dropped_total 0$/m);
  } finally {
    await api.close();
    await c.stop();
  }
});

test('detection off: no engine, no alert store, stats say null', async () => {
  const c = await startCollector(testConfig({ detection: { enabled: false } }), quietLogger, {
    output: new MemoryOutput(),
  });
  try {
    assert.equal(c.alerts, null);
    assert.equal(c.stats().detection, null);
  } finally {
    await c.stop();
  }
});
