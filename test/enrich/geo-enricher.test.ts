/**
 * GeoEnricher.enrich() on flow records: owner AS fields, geolocation, the private-AS policy,
 * the address cache, and what happens with a missing or corrupt database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GeoEnricher, type GeoEnricherOptions } from '../../src/enrich/geo/geo-enricher.js';
import { FlowRecord } from '../../src/record/flow-record.js';

const MMDB = new URL('../../../shared/testdata/mmdb/', import.meta.url).pathname;
const ASN = `${MMDB}GeoLite2-ASN-Test.mmdb`;
const CITY = `${MMDB}GeoIP2-City-Test.mmdb`;

function record(fields: Partial<FlowRecord>): FlowRecord {
  return Object.assign(new FlowRecord(), fields);
}

function enriched(fields: Partial<FlowRecord>, options: Partial<GeoEnricherOptions> = {}): FlowRecord {
  const rec = record(fields);
  new GeoEnricher({ asnDatabase: ASN, geoDatabase: CITY, ...options }).enrich(rec);
  return rec;
}

test('enrich fills owner AS of all four addresses and geo of source and destination', () => {
  const rec = enriched({
    srcip: '1.128.0.1', // GeoLite2-ASN: AS1221 Telstra
    dstip: '2001:218::1', // GeoIP2-City: JP, AS (Asia)
    nexthop: '12.81.92.1', // AS7018 AT&T Services
    bgpnexthop: '2400:4000::1', // AS4713 NTT
  });
  assert.deepEqual(rec.srcowneras, { asnumber: 1221, asorg: 'Telstra Pty Ltd' });
  assert.equal(rec.dstowneras, null, '2001:218::/32 is not in the ASN test file');
  assert.deepEqual(rec.nexthopowneras, { asnumber: 7018, asorg: 'AT&T Services' });
  assert.deepEqual(rec.bgpnexthopowneras, { asnumber: 4713, asorg: 'NTT Communications Corporation' });
  assert.equal(rec.srcgeo, null, '1.128.0.0/11 is not in the City test file');
  assert.deepEqual(rec.dstgeo, {
    countrycode: 'JP',
    continentcode: 'AS',
    location: { lat: 35.68536, lon: 139.75309 },
  });
  // srcas was not exported (null): the default policy takes the owner AS and its organisation.
  assert.equal(rec.srcas, 1221);
  assert.equal(rec.srcasorg, 'Telstra Pty Ltd');
  assert.equal(rec.dstas, null, 'no owner AS known for the destination');
});

test('a public AS exported by the router is never replaced, under any policy', () => {
  for (const privateAsPolicy of ['never', 'unset', 'private'] as const) {
    const rec = enriched(
      { srcip: '1.128.0.1', srcas: 3356, dstip: '2400:4000::1', dstas: 2914 },
      { privateAsPolicy },
    );
    assert.equal(rec.srcas, 3356, privateAsPolicy);
    assert.equal(rec.dstas, 2914, privateAsPolicy);
    assert.deepEqual(rec.srcowneras, { asnumber: 1221, asorg: 'Telstra Pty Ltd' }, privateAsPolicy);
    assert.equal(rec.srcasorg, null, 'the organisation of AS3356 is not what the database knows');
  }
});

test('private-AS policy: which exported AS numbers give way to the owner AS', () => {
  const cases: [GeoEnricherOptions['privateAsPolicy'], number | null, number | null][] = [
    // policy, exported srcas, srcas after enrichment
    ['never', null, null],
    ['never', 0, 0],
    ['unset', null, 1221],
    ['unset', 0, 1221],
    ['unset', 64512, 64512],
    ['private', 0, 1221],
    ['private', 64512, 1221],
    ['private', 65534, 1221],
    ['private', 4200000000, 1221],
    ['private', 23456, 1221],
    ['private', 65533, 1221],
    ['private', 7018, 7018],
  ];
  for (const [privateAsPolicy, srcas, expected] of cases) {
    const rec = enriched({ srcip: '1.128.0.1', srcas }, { privateAsPolicy });
    assert.equal(rec.srcas, expected, `policy ${privateAsPolicy}, exported srcas ${srcas}`);
    assert.equal(rec.srcasorg, expected === 1221 ? 'Telstra Pty Ltd' : null);
    assert.equal(rec.srcowneras?.asnumber, 1221, 'owner AS is filled whatever the policy');
  }
});

test('the default policy is "unset"; bad options are refused before any file is read', () => {
  assert.equal(new GeoEnricher({}).status().privateAsPolicy, 'unset');
  const bad = { privateAsPolicy: 'sometimes' } as unknown as GeoEnricherOptions;
  assert.throws(() => new GeoEnricher(bad), /privateAsPolicy must be one of never, unset, private/);
  assert.throws(() => new GeoEnricher({ reloadIntervalMs: 0 }), /reloadIntervalMs/);
});

test('records without addresses, and addresses in no database, keep null fields', () => {
  const rec = enriched({ srcip: '10.1.2.3', dstip: null, srcas: 0 });
  assert.equal(rec.srcowneras, null);
  assert.equal(rec.srcgeo, null);
  assert.equal(rec.dstowneras, null);
  assert.equal(rec.srcas, 0);
});

test('cache: repeated addresses are hits, counted; capacity bounds the entries', () => {
  const e = new GeoEnricher({ asnDatabase: ASN, geoDatabase: CITY, cacheSize: 2 });
  const rec = () => record({ srcip: '1.128.0.1', dstip: '81.2.69.142' });
  e.enrich(rec());
  assert.deepEqual(
    { lookups: e.status().lookups, hits: e.status().cacheHits, misses: e.status().cacheMisses },
    { lookups: 2, hits: 0, misses: 2 },
  );
  const second = rec();
  e.enrich(second);
  assert.equal(e.status().cacheHits, 2);
  assert.deepEqual(second.dstgeo?.countrycode, 'GB');
  e.lookup('2001:218::1'); // evicts 1.128.0.1, the least recently used
  assert.equal(e.status().cacheSize, 2);
  assert.equal(e.status().cacheCapacity, 2);
  e.lookup('81.2.69.142');
  assert.equal(e.status().cacheHits, 3);
  e.lookup('1.128.0.1');
  assert.equal(e.status().cacheMisses, 4, 'the evicted address is looked up again');
  // Cached answers are shared between records, so they are frozen.
  assert.ok(Object.isFrozen(second.dstgeo) && Object.isFrozen(second.dstgeo?.location));
  assert.throws(() => new GeoEnricher({ cacheSize: 0 }), /capacity/);
  assert.throws(() => new GeoEnricher({ cacheSize: 1 }), /at least 2/);
});

test('missing database: fields stay null, status says why, nothing throws', () => {
  const path = join(tmpdir(), 'flowgate-no-such-dir', 'GeoLite2-ASN.mmdb');
  const e = new GeoEnricher({ asnDatabase: path, geoDatabase: CITY });
  const rec = record({ srcip: '1.128.0.1', dstip: '81.2.69.142' });
  e.enrich(rec);
  assert.equal(rec.srcowneras, null);
  assert.equal(rec.srcas, null);
  assert.equal(rec.dstgeo?.countrycode, 'GB', 'the other database still works');
  const [asn, geo] = e.status().databases;
  assert.deepEqual(
    { path: asn.path, loaded: asn.loaded, error: asn.error, roles: asn.roles, failedLoads: asn.failedLoads },
    {
      path,
      loaded: false,
      error: `GeoIP database ${path}: file not found`,
      roles: ['asn'],
      failedLoads: 1,
    },
  );
  assert.equal(geo.loaded, true);
  assert.equal(geo.error, null);
});

test('corrupt or compressed database: a clear error with the path, never a crash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-geo-'));
  try {
    const garbage = join(dir, 'garbage.mmdb');
    writeFileSync(garbage, Buffer.from('this is not a MaxMind DB file at all'));
    const gzipped = join(dir, 'GeoLite2-City.mmdb.gz');
    writeFileSync(gzipped, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
    for (const [path, reason] of [
      [garbage, /not a readable MaxMind DB file/],
      [gzipped, /gzip-compressed/],
    ] as const) {
      const e = new GeoEnricher({ asnDatabase: path });
      const st = e.status().databases[0];
      assert.equal(st.loaded, false);
      assert.ok(st.error?.startsWith(`GeoIP database ${path}: `), st.error ?? '');
      assert.match(st.error ?? '', reason);
      const rec = record({ srcip: '1.128.0.1' });
      e.enrich(rec);
      assert.equal(rec.srcowneras, null);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one IPinfo-style file named for both roles is opened once', () => {
  const path = `${MMDB}akvorado_ipinfo_ip_geolocation_sample.mmdb`;
  const e = new GeoEnricher({ asnDatabase: path, geoDatabase: path });
  assert.equal(e.status().databases.length, 1);
  assert.deepEqual(e.status().databases[0].roles, ['asn', 'geo']);
  const rec = record({ srcip: '1.0.16.14' });
  e.enrich(rec);
  assert.equal(rec.srcgeo?.countrycode, 'JP');
  assert.equal(rec.srcowneras, null, 'the geolocation sample carries no AS');
});
