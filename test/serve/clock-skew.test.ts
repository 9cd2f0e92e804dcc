/**
 * Exporter clock skew through the live stack: NetFlow v5 datagrams whose header export time is
 * rewritten are sent over loopback from distinct source addresses, and /stats and /metrics must
 * flag the exporter whose clock is 300 s behind, not the one stamped now nor the sFlow agent.
 * (startStack's own exporter, 127.0.0.1, sends captures from years ago.)
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { CollectorStats } from '../../src/collector.js';
import { waitFor } from '../collector/helpers.js';
import { corpusPath } from '../helpers/corpus.js';
import { parsePrometheus, startStack, V5 } from './helpers.js';

const SFLOW = readFileSync(corpusPath('sflow/telegraf_sflow_v5_example_sflow_v5.bin'));
const BEHIND = '127.0.0.2';
const ON_TIME = '127.0.0.3';

/** The v5 capture with its header export time (unix_secs, unix_nsecs) set to `ms`. */
function v5StampedAt(ms: number): Buffer {
  const b = Buffer.from(V5);
  b.writeUInt32BE(Math.floor(ms / 1000), 8);
  b.writeUInt32BE((ms % 1000) * 1_000_000, 12);
  return b;
}

/** Sends from a chosen loopback source address, so that each one is an exporter of its own. */
async function sendFrom(source: string, port: number, payload: Buffer): Promise<void> {
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind({ address: source, port: 0 }, resolve));
    await new Promise<void>((resolve, reject) =>
      socket.send(payload, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

test('/stats and /metrics flag an exporter whose clock is 300 s behind, not one stamped now', async () => {
  const stack = await startStack();
  try {
    const port = stack.collector.listeners[0].port;
    await sendFrom(BEHIND, port, v5StampedAt(Date.now() - 300_000));
    await sendFrom(ON_TIME, port, v5StampedAt(Date.now()));
    await sendFrom('127.0.0.4', port, SFLOW);
    await waitFor('six datagrams decoded', () => stack.collector.stats().decode.datagrams === 6);

    const stats = (await (await fetch(`${stack.base}/stats`)).json()) as CollectorStats;
    const byAddress = new Map(stats.exporters.map((e) => [e.address, e]));
    const behind = byAddress.get(BEHIND);
    const onTime = byAddress.get(ON_TIME);
    const replayed = byAddress.get('127.0.0.1');
    const sflow = stats.exporters.find((e) => e.protocol === 'sflow5');
    assert.ok(behind && onTime && replayed && sflow, `four exporters: ${[...byAddress.keys()]}`);
    // Loopback transit is milliseconds; 2 s leaves room for a loaded test machine.
    assert.ok(
      behind.clockSkewSec !== null && Math.abs(behind.clockSkewSec - 300) < 2,
      `${behind.clockSkewSec}`,
    );
    assert.equal(behind.clockSkewed, true);
    assert.ok(onTime.clockSkewSec !== null && Math.abs(onTime.clockSkewSec) < 2, `${onTime.clockSkewSec}`);
    assert.equal(onTime.clockSkewed, false);
    // startStack's captures keep the export times of their day (2015, 2022): years behind.
    assert.ok((replayed.clockSkewSec ?? 0) > 365 * 86_400, `${replayed.clockSkewSec}`);
    assert.equal(replayed.clockSkewed, true);
    assert.equal(sflow.clockSkewSec, null, 'sFlow carries no export time');
    assert.equal(sflow.clockSkewed, false);
    assert.equal(stats.totals.clockSkewed, 2);

    const m = parsePrometheus(await (await fetch(`${stack.base}/metrics`)).text());
    const gauge = (exporter: string) => m.get(`flowgate_exporter_clock_skew_seconds{exporter="${exporter}"}`);
    assert.equal(gauge(BEHIND), behind.clockSkewSec);
    assert.equal(gauge(ON_TIME), onTime.clockSkewSec);
    assert.equal(gauge(sflow.address), undefined, 'no skew series for an sFlow agent');
    assert.equal(m.get('flowgate_exporters_clock_skewed'), 2);
  } finally {
    await stack.close();
  }
});
