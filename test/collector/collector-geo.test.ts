/**
 * AS and geolocation through the live collector: NetFlow v9 from the demo encoder, addresses the
 * MaxMind test databases hold, records leave with owner AS and country filled; /stats reports the
 * databases. A missing database is reported, never fatal.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { Netflow9Encoder } from '../../src/demo/encode/netflow9-encoder.js';
import type { SyntheticFlow } from '../../src/demo/synthetic-flow.js';
import { MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from './helpers.js';

const MMDB = join(import.meta.dirname, '../../../shared/testdata/mmdb');

function flow(src: string, dst: string): SyntheticFlow {
  const now = Date.now();
  return {
    ipVersion: 4,
    srcAddr: src,
    dstAddr: dst,
    srcPort: 443,
    dstPort: 50000,
    protocol: 6,
    tcpFlags: 0x18,
    tos: 0,
    bytes: 1500,
    packets: 1,
    startMs: now - 2000,
    endMs: now - 1000,
    input: 1,
    output: 2,
    srcMask: 24,
    dstMask: 24,
    nextHop: '192.0.2.1',
    vlan: 0,
  };
}

test('records leave the collector with owner AS and geolocation from the configured databases', async () => {
  const output = new MemoryOutput();
  const config = testConfig({});
  config.geo = {
    asn: join(MMDB, 'GeoLite2-ASN-Test.mmdb'),
    database: join(MMDB, 'GeoIP2-City-Test.mmdb'),
    privateas: 'unset',
    cachesize: 1000,
    reloadinterval: 30,
  };
  const c = await startCollector(config, quietLogger, { output });
  try {
    const encoder = new Netflow9Encoder({ sourceId: 1, samplingInterval: 1, bootMs: Date.now() - 60_000 });
    const datagrams = encoder.encode([flow('1.128.0.1', '81.2.69.142')], Date.now());
    await sendUdp('127.0.0.1', c.listeners[0].port, datagrams);
    await waitFor('the record', () => c.stats().exporters[0]?.records === 1);
    await c.flush();
    const r = output.records[0];
    assert.deepEqual(r?.srcowneras, { asnumber: 1221, asorg: 'Telstra Pty Ltd' });
    assert.equal(r?.dstgeo?.countrycode, 'GB');
    assert.equal(r?.dstgeo?.continentcode, 'EU');
    const geo = c.stats().enrich.geo;
    assert.deepEqual(
      geo?.databases.map((d) => d.loaded),
      [true, true],
    );
    assert.ok((geo?.lookups ?? 0) >= 2);
  } finally {
    await c.stop();
  }
});

test('a missing database is reported in /stats and leaves the fields null', async () => {
  const output = new MemoryOutput();
  const config = testConfig({});
  config.geo = {
    asn: '/nonexistent/GeoLite2-ASN.mmdb',
    database: null,
    privateas: 'unset',
    cachesize: 1000,
    reloadinterval: 30,
  };
  const c = await startCollector(config, quietLogger, { output });
  try {
    const encoder = new Netflow9Encoder({ sourceId: 1, samplingInterval: 1, bootMs: Date.now() - 60_000 });
    await sendUdp(
      '127.0.0.1',
      c.listeners[0].port,
      encoder.encode([flow('1.128.0.1', '81.2.69.142')], Date.now()),
    );
    await waitFor('the record', () => c.stats().exporters[0]?.records === 1);
    await c.flush();
    assert.equal(output.records[0]?.srcowneras, null);
    const db = c.stats().enrich.geo?.databases[0];
    assert.equal(db?.loaded, false);
    assert.match(String(db?.error), /nonexistent/);
  } finally {
    await c.stop();
  }
});

test('a database replaced on disk under the running collector is used for later records', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-geo-reload-'));
  const path = join(dir, 'geo.mmdb');
  copyFileSync(join(MMDB, 'GeoIP2-Country-Test.mmdb'), path);
  const output = new MemoryOutput();
  const config = testConfig({});
  config.geo = { asn: null, database: path, privateas: 'unset', cachesize: 1000, reloadinterval: 1 };
  const c = await startCollector(config, quietLogger, { output });
  try {
    const encoder = new Netflow9Encoder({ sourceId: 1, samplingInterval: 1, bootMs: Date.now() - 60_000 });
    const send = async (n: number) => {
      await sendUdp(
        '127.0.0.1',
        c.listeners[0].port,
        encoder.encode([flow('1.128.0.1', '81.2.69.142')], Date.now()),
      );
      await waitFor(`record ${n}`, () => c.stats().exporters[0]?.records === n);
      await c.flush();
    };
    await send(1);
    // The Country database has no coordinates.
    assert.equal(output.records[0]?.dstgeo?.countrycode, 'GB');
    assert.equal(output.records[0]?.dstgeo?.location ?? null, null);
    // Replaced the way a database updater does it: a new file renamed over the old one.
    copyFileSync(join(MMDB, 'GeoIP2-City-Test.mmdb'), `${path}.new`);
    renameSync(`${path}.new`, path);
    await waitFor('the reload', () => (c.stats().enrich.geo?.databases[0]?.reloads ?? 0) >= 1, 5000);
    await send(2);
    assert.equal(output.records[1]?.dstgeo?.countrycode, 'GB');
    assert.notEqual(output.records[1]?.dstgeo?.location ?? null, null, 'the City database has coordinates');
  } finally {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
