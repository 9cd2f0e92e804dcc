/**
 * Hot reload: a database replaced on disk is used without a restart, and a corrupt replacement
 * leaves the previous good version in use with the error reported.
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { GeoEnricher } from '../../src/enrich/geo/geo-enricher.js';

const MMDB = new URL('../../../shared/testdata/mmdb/', import.meta.url).pathname;

function withTempDir(run: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-geo-reload-'));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Writes a new version next to the database and renames it over, as database updaters do. */
function replaceByRename(target: string, bytes: Buffer): void {
  const tmp = `${target}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, target);
}

test(
  'City replaced by Country (rename over): later lookups use the new data, cache cleared',
  withTempDir(async (dir) => {
    const db = join(dir, 'geo.mmdb');
    copyFileSync(`${MMDB}GeoIP2-City-Test.mmdb`, db);
    const e = new GeoEnricher({ geoDatabase: db });
    assert.deepEqual(e.lookup('81.2.69.142').geo?.location, { lat: 51.5142, lon: -0.0931 });
    assert.equal(e.lookup('175.16.199.1').geo?.countrycode, 'CN');
    assert.equal(await e.checkForUpdates(), false, 'nothing changed yet');

    replaceByRename(db, readFileSync(`${MMDB}GeoLite2-Country-Test.mmdb`));
    assert.equal(await e.checkForUpdates(), true);
    assert.equal(e.status().cacheSize, 0, 'cache cleared on reload');
    assert.deepEqual(e.lookup('81.2.69.142').geo, { countrycode: 'GB', continentcode: 'EU', location: null });
    assert.equal(e.lookup('175.16.199.1').geo, null, 'not in the Country test file');
    const st = e.status().databases[0];
    assert.equal(st.databaseType, 'GeoLite2-Country');
    assert.equal(st.reloads, 1);
    assert.equal(st.error, null);
    assert.equal(await e.checkForUpdates(), false, 'the same file is not loaded twice');
  }),
);

test(
  'ASN database rewritten in place (same inode) is picked up',
  withTempDir(async (dir) => {
    const db = join(dir, 'asn.mmdb');
    copyFileSync(`${MMDB}GeoLite2-ASN-Test.mmdb`, db);
    const e = new GeoEnricher({ asnDatabase: db });
    assert.equal(e.lookup('1.128.0.1').as?.asnumber, 1221);
    // An IPinfo file in place of the ASN file: AS lookups now find nothing (it has no `asn`).
    writeFileSync(db, readFileSync(`${MMDB}akvorado_ipinfo_ip_geolocation_sample.mmdb`));
    assert.equal(await e.checkForUpdates(), true);
    assert.equal(e.status().databases[0].layout, 'ipinfo');
    assert.equal(e.lookup('1.128.0.1').as, null);
    writeFileSync(db, readFileSync(`${MMDB}GeoLite2-ASN-Test.mmdb`));
    assert.equal(await e.checkForUpdates(), true);
    assert.deepEqual(e.lookup('1.128.0.1').as, { asnumber: 1221, asorg: 'Telstra Pty Ltd' });
    assert.equal(e.status().databases[0].reloads, 2);
  }),
);

test(
  'corrupt replacement keeps the previous good database and reports the error; a good one recovers',
  withTempDir(async (dir) => {
    const db = join(dir, 'asn.mmdb');
    copyFileSync(`${MMDB}GeoLite2-ASN-Test.mmdb`, db);
    const e = new GeoEnricher({ asnDatabase: db });
    e.lookup('1.128.0.1');

    // A truncated download: the first half of a real file.
    const good = readFileSync(`${MMDB}GeoLite2-ASN-Test.mmdb`);
    replaceByRename(db, good.subarray(0, good.length >> 1));
    assert.equal(await e.checkForUpdates(), false);
    let st = e.status().databases[0];
    assert.equal(st.loaded, true);
    assert.equal(st.databaseType, 'GeoLite2-ASN');
    assert.match(
      st.error ?? '',
      new RegExp(`^GeoIP database ${db}: not a readable MaxMind DB file .*; still using`),
    );
    assert.equal(st.failedLoads, 1);
    assert.deepEqual(e.lookup('1.128.0.1').as, { asnumber: 1221, asorg: 'Telstra Pty Ltd' });
    assert.equal(await e.checkForUpdates(), false);
    assert.equal(e.status().databases[0].failedLoads, 1, 'an unchanged bad file is not retried');

    // Deleted (between an updater's unlink and rename): still the previous version.
    unlinkSync(db);
    assert.equal(await e.checkForUpdates(), false);
    st = e.status().databases[0];
    assert.match(st.error ?? '', /file not found; still using/);
    assert.equal(e.lookup('1.128.0.1').as?.asnumber, 1221);

    replaceByRename(db, readFileSync(`${MMDB}GeoIP2-City-Test.mmdb`));
    assert.equal(await e.checkForUpdates(), true);
    st = e.status().databases[0];
    assert.equal(st.error, null);
    assert.equal(st.databaseType, 'GeoIP2-City');
    assert.equal(e.lookup('1.128.0.1').as, null, 'a City file carries no AS');
  }),
);

test(
  'a database missing at start is loaded once it appears',
  withTempDir(async (dir) => {
    const db = join(dir, 'asn.mmdb');
    const e = new GeoEnricher({ asnDatabase: db });
    assert.equal(e.lookup('1.128.0.1').as, null);
    assert.equal(e.status().databases[0].loaded, false);
    copyFileSync(`${MMDB}GeoLite2-ASN-Test.mmdb`, db);
    assert.equal(await e.checkForUpdates(), true);
    assert.equal(e.lookup('1.128.0.1').as?.asnumber, 1221, 'the cached miss was dropped');
    assert.equal(e.status().databases[0].reloads, 0, 'the first successful load is not a reload');
  }),
);

test(
  'start() polls the file: a replacement is used without calling anything',
  withTempDir(async (dir) => {
    const db = join(dir, 'geo.mmdb');
    copyFileSync(`${MMDB}GeoIP2-City-Test.mmdb`, db);
    const e = new GeoEnricher({ geoDatabase: db, reloadIntervalMs: 20 });
    e.start();
    try {
      assert.equal(e.lookup('175.16.199.1').geo?.countrycode, 'CN');
      replaceByRename(db, readFileSync(`${MMDB}GeoLite2-Country-Test.mmdb`));
      // Wait for the poller (bounded; this is not a timing assertion).
      for (let i = 0; i < 250 && e.status().databases[0].reloads === 0; i++) await sleep(20);
      assert.equal(e.status().databases[0].reloads, 1);
      assert.equal(e.lookup('175.16.199.1').geo, null);
    } finally {
      e.close();
    }
  }),
);
