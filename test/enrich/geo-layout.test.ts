/**
 * Each database layout read from the MaxMind and IPinfo test files in ../shared/testdata/mmdb.
 * Expected values were read from the files themselves (they hold fake data for testing).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GeoEnricher } from '../../src/enrich/geo/geo-enricher.js';
import { isPrivateOrReservedAsn } from '../../src/enrich/geo/private-asn.js';
import {
  asInfoFromIpinfo,
  geoInfoFromIpinfo,
  geoInfoFromMaxMind,
  layoutOfDatabaseType,
  parseIpinfoAsn,
} from '../../src/enrich/geo/record-layout.js';

const MMDB = new URL('../../../shared/testdata/mmdb/', import.meta.url).pathname;

test('GeoLite2-ASN: AS number and organisation for IPv4, IPv4-mapped and IPv6', () => {
  const e = new GeoEnricher({ asnDatabase: `${MMDB}GeoLite2-ASN-Test.mmdb` });
  const cases: [string, number, string | null][] = [
    ['1.128.0.0', 1221, 'Telstra Pty Ltd'],
    ['1.159.255.255', 1221, 'Telstra Pty Ltd'],
    ['::ffff:1.128.0.1', 1221, 'Telstra Pty Ltd'],
    ['12.81.92.7', 7018, 'AT&T Services'],
    ['12.81.96.1', 7018, null], // this network has a number but no organisation in the file
    ['2400:4000::1', 4713, 'NTT Communications Corporation'],
    ['2408::42', 55817, 'Nippon Telegraph and Telephone Corporation PF Labs'],
  ];
  for (const [address, asnumber, asorg] of cases) {
    assert.deepEqual(
      e.lookup(address),
      { as: { asnumber, asorg }, geo: null },
      `GeoLite2-ASN-Test ${address}`,
    );
  }
  assert.deepEqual(e.lookup('10.0.0.1'), { as: null, geo: null });
  assert.deepEqual(e.lookup('2001:db8::1'), { as: null, geo: null });
  const [db] = e.status().databases;
  assert.equal(db.databaseType, 'GeoLite2-ASN');
  assert.equal(db.layout, 'maxmind');
  assert.deepEqual(db.roles, ['asn']);
});

test('GeoIP2-City: country, continent and location for IPv4 and IPv6', () => {
  const e = new GeoEnricher({ geoDatabase: `${MMDB}GeoIP2-City-Test.mmdb` });
  const geo = (a: string) => e.lookup(a).geo;
  assert.deepEqual(geo('81.2.69.142'), {
    countrycode: 'GB',
    continentcode: 'EU',
    location: { lat: 51.5142, lon: -0.0931 },
  });
  assert.deepEqual(geo('89.160.20.112'), {
    countrycode: 'SE',
    continentcode: 'EU',
    location: { lat: 58.4167, lon: 15.6167 },
  });
  assert.deepEqual(geo('2001:218::1'), {
    countrycode: 'JP',
    continentcode: 'AS',
    location: { lat: 35.68536, lon: 139.75309 },
  });
  // Networks with partial data: a continent and location but no country, a continent alone.
  assert.deepEqual(geo('2a02:d500::1'), {
    countrycode: null,
    continentcode: 'EU',
    location: { lat: 48.69096, lon: 9.14062 },
  });
  assert.deepEqual(geo('2.3.3.1'), { countrycode: null, continentcode: 'EU', location: null });
  // Only traits.is_anycast: nothing Flowgate uses, so no geo at all.
  assert.equal(geo('214.1.1.1'), null);
  assert.equal(geo('192.168.1.1'), null);
  assert.equal(e.lookup('81.2.69.142').as, null, 'a City database gives no AS');
});

test('GeoLite2-City and GeoLite2-Country layouts', () => {
  const city = new GeoEnricher({ geoDatabase: `${MMDB}GeoLite2-City-Test.mmdb` });
  assert.deepEqual(city.lookup('2.125.160.216').geo, {
    countrycode: 'GB',
    continentcode: 'EU',
    location: { lat: 51.75, lon: -1.25 },
  });
  assert.deepEqual(city.lookup('175.16.199.1').geo, {
    countrycode: 'CN',
    continentcode: 'AS',
    location: { lat: 43.88, lon: 125.3228 },
  });
  const country = new GeoEnricher({ geoDatabase: `${MMDB}GeoLite2-Country-Test.mmdb` });
  assert.deepEqual(country.lookup('2.125.160.216').geo, {
    countrycode: 'GB',
    continentcode: 'EU',
    location: null,
  });
  assert.deepEqual(country.lookup('216.160.83.57').geo, {
    countrycode: 'US',
    continentcode: 'NA',
    location: null,
  });
  assert.deepEqual(country.lookup('2a02:d0c0::1').geo, {
    countrycode: 'RU',
    continentcode: 'EU',
    location: null,
  });
  assert.equal(country.status().databases[0].databaseType, 'GeoLite2-Country');
});

test('IPinfo geolocation layout (akvorado sample file): country and string coordinates', () => {
  const e = new GeoEnricher({ geoDatabase: `${MMDB}akvorado_ipinfo_ip_geolocation_sample.mmdb` });
  assert.equal(e.status().databases[0].layout, 'ipinfo');
  // The sample holds IPv4 networks only; it has no continent field.
  assert.deepEqual(e.lookup('1.0.0.1').geo, {
    countrycode: 'AU',
    continentcode: null,
    location: { lat: -27.48159, lon: 153.0175 },
  });
  assert.deepEqual(e.lookup('1.0.16.14').geo, {
    countrycode: 'JP',
    continentcode: null,
    location: { lat: 35.70206, lon: 139.63745 },
  });
  assert.deepEqual(e.lookup('::ffff:1.0.2.9').geo?.countrycode, 'CN');
  assert.equal(e.lookup('1.0.0.1').as, null);
});

// No IPinfo ASN, country_asn or Lite file is available here and no MMDB writer is installed,
// so these layouts are checked on records shaped like IPinfo's published schemas.
test('IPinfo country_asn and Lite records map to AS and geo', () => {
  assert.equal(layoutOfDatabaseType('ipinfo country_asn.mmdb'), 'ipinfo');
  assert.equal(layoutOfDatabaseType('GeoLite2-ASN'), 'maxmind');
  const countryAsn = {
    country: 'JP',
    country_name: 'Japan',
    continent: 'AS',
    continent_name: 'Asia',
    asn: 'AS2519',
    as_name: 'ARTERIA Networks Corporation',
    as_domain: 'arteria-net.com',
  };
  assert.deepEqual(asInfoFromIpinfo(countryAsn), { asnumber: 2519, asorg: 'ARTERIA Networks Corporation' });
  assert.deepEqual(geoInfoFromIpinfo(countryAsn), { countrycode: 'JP', continentcode: 'AS', location: null });
  const lite = {
    asn: 'AS15169',
    as_name: 'Google LLC',
    as_domain: 'google.com',
    country_code: 'US',
    country: 'United States',
    continent_code: 'NA',
    continent: 'North America',
  };
  assert.deepEqual(asInfoFromIpinfo(lite), { asnumber: 15169, asorg: 'Google LLC' });
  assert.deepEqual(geoInfoFromIpinfo(lite), { countrycode: 'US', continentcode: 'NA', location: null });
  // The IPinfo ASN product names the organisation `name`.
  assert.deepEqual(asInfoFromIpinfo({ asn: 'AS13335', name: 'Cloudflare, Inc.' }), {
    asnumber: 13335,
    asorg: 'Cloudflare, Inc.',
  });
  assert.equal(asInfoFromIpinfo({ country: 'FR' }), null);
  assert.equal(parseIpinfoAsn('AS4294967295'), 4294967295);
  assert.equal(parseIpinfoAsn('AS4294967296'), null);
  assert.equal(parseIpinfoAsn('ASX'), null);
  assert.equal(parseIpinfoAsn(''), null);
});

// None of the MaxMind test files has a network with registered_country but no country.
test('MaxMind record without country falls back to registered_country', () => {
  const record = {
    continent: { code: 'EU' },
    registered_country: { iso_code: 'DE' },
    traits: { is_anycast: true },
  };
  assert.deepEqual(geoInfoFromMaxMind(record), { countrycode: 'DE', continentcode: 'EU', location: null });
  assert.equal(
    geoInfoFromMaxMind({ country: { iso_code: 'GB' }, registered_country: { iso_code: 'US' } })?.countrycode,
    'GB',
  );
});

test('private, documentation and reserved AS numbers (RFC 6996, 7300, 5398, 6793, 7607)', () => {
  for (const asn of [
    0, 23456, 64496, 64511, 64512, 65000, 65534, 65535, 65536, 65551, 4200000000, 4294967294, 4294967295,
  ]) {
    assert.equal(isPrivateOrReservedAsn(asn), true, `AS${asn}`);
  }
  for (const asn of [1, 3356, 23455, 23457, 64495, 65552, 396982, 4199999999]) {
    assert.equal(isPrivateOrReservedAsn(asn), false, `AS${asn}`);
  }
});
