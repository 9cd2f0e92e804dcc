/**
 * Turns one record read from an MMDB file into Flowgate's AsInfo / GeoInfo. Two layouts exist:
 *
 * - `maxmind`: GeoLite2/GeoIP2 ASN (`autonomous_system_number`, `autonomous_system_organization`),
 *   City and Country (`country.iso_code`, `continent.code`, `location.latitude/longitude`).
 *   When `country` is missing, `registered_country` is used: MaxMind leaves `country` out for
 *   ranges it cannot place physically (anycast, satellite, some mobile) but still knows where the
 *   range is registered, and a registered country is more useful to filter on than none.
 *   `represented_country` (military bases, embassies) is ignored.
 * - `ipinfo`: flat string fields. The free "country_asn" file has `country` and `continent` as
 *   ISO codes; "IPinfo Lite" has `country_code`/`continent_code` (and `country`/`continent` as
 *   names); the geolocation file has `country` as a code and `latitude`/`longitude` as decimal
 *   strings but no continent. `asn` is a string "AS15169"; the organisation is `as_name`
 *   (`name` in the IPinfo ASN product).
 */
import type { AsInfo, GeoInfo } from '../../record/flow-record.js';

export type MmdbLayout = 'maxmind' | 'ipinfo';

/** IPinfo writes its name into the database type ("ipinfo ip_geolocation_sample.mmdb"). */
export function layoutOfDatabaseType(databaseType: string): MmdbLayout {
  return /ipinfo/i.test(databaseType) ? 'ipinfo' : 'maxmind';
}

type Fields = Record<string, unknown>;

function asObject(v: unknown): Fields | null {
  return typeof v === 'object' && v !== null ? (v as Fields) : null;
}

function asString(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function asFiniteNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** A two-letter upper-case code; IPinfo Lite puts full names in `country`/`continent`. */
function asTwoLetterCode(v: unknown): string | null {
  return typeof v === 'string' && /^[A-Z]{2}$/.test(v) ? v : null;
}

function locationOf(lat: number | null, lon: number | null): GeoInfo['location'] {
  return lat === null || lon === null ? null : { lat, lon };
}

export function asInfoFromMaxMind(record: unknown): AsInfo | null {
  const r = asObject(record);
  if (r === null) return null;
  // GeoIP2 Enterprise/ISP-style City records carry the AS under `traits`.
  const source = r.autonomous_system_number !== undefined ? r : (asObject(r.traits) ?? r);
  const asnumber = asFiniteNumber(source.autonomous_system_number);
  const asorg = asString(source.autonomous_system_organization);
  if (asnumber === null && asorg === null) return null;
  return { asnumber, asorg };
}

export function geoInfoFromMaxMind(record: unknown): GeoInfo | null {
  const r = asObject(record);
  if (r === null) return null;
  const countrycode =
    asString(asObject(r.country)?.iso_code) ?? asString(asObject(r.registered_country)?.iso_code);
  const continentcode = asString(asObject(r.continent)?.code);
  const loc = asObject(r.location);
  const location =
    loc === null ? null : locationOf(asFiniteNumber(loc.latitude), asFiniteNumber(loc.longitude));
  if (countrycode === null && continentcode === null && location === null) return null;
  return { countrycode, continentcode, location };
}

/** "AS15169" → 15169; IPinfo always writes the prefix, a bare number is accepted too. */
export function parseIpinfoAsn(v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^(?:AS)?(\d{1,10})$/i.exec(v);
  if (m === null) return null;
  const n = Number(m[1]);
  return n <= 0xffffffff ? n : null;
}

export function asInfoFromIpinfo(record: unknown): AsInfo | null {
  const r = asObject(record);
  if (r === null) return null;
  const asnumber = parseIpinfoAsn(r.asn);
  if (asnumber === null) return null;
  return { asnumber, asorg: asString(r.as_name) ?? asString(r.name) };
}

export function geoInfoFromIpinfo(record: unknown): GeoInfo | null {
  const r = asObject(record);
  if (r === null) return null;
  const countrycode = asTwoLetterCode(r.country_code) ?? asTwoLetterCode(r.country);
  const continentcode = asTwoLetterCode(r.continent_code) ?? asTwoLetterCode(r.continent);
  const location = locationOf(asFiniteNumber(r.latitude), asFiniteNumber(r.longitude));
  if (countrycode === null && continentcode === null && location === null) return null;
  return { countrycode, continentcode, location };
}

export function asInfoFromRecord(layout: MmdbLayout, record: unknown): AsInfo | null {
  return layout === 'ipinfo' ? asInfoFromIpinfo(record) : asInfoFromMaxMind(record);
}

export function geoInfoFromRecord(layout: MmdbLayout, record: unknown): GeoInfo | null {
  return layout === 'ipinfo' ? geoInfoFromIpinfo(record) : geoInfoFromMaxMind(record);
}
