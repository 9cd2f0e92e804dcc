/**
 * Fills a flow record's owner AS and geolocation fields from MaxMind-format databases:
 * srcowneras, dstowneras, nexthopowneras, bgpnexthopowneras, srcgeo, dstgeo, and, under the
 * private-AS policy, srcas/dstas with srcasorg/dstasorg.
 *
 * Lookups go through one bounded cache per enricher (approximate LRU in two generations, see
 * generational-cache.ts), keyed by address text, holding both answers (AS and geo), so an
 * address seen again costs one Map hit. The cached AsInfo/GeoInfo
 * objects are frozen and shared between records. A database that changes on disk is reloaded
 * by polling (`start()`), and the cache is cleared when any database is replaced.
 */
import type { AsInfo, FlowRecord, GeoInfo } from '../../record/flow-record.js';
import { GenerationalCache } from './generational-cache.js';
import { MmdbFile, type MmdbFileStatus } from './mmdb-file.js';
import { flowAsIsReplaceable, PRIVATE_AS_POLICIES, type PrivateAsPolicy } from './private-asn.js';
import { asInfoFromRecord, geoInfoFromRecord } from './record-layout.js';

export interface GeoEnricherOptions {
  /** AS database: GeoLite2/GeoIP2 ASN, or an IPinfo file with `asn` (ASN, country_asn, Lite). */
  readonly asnDatabase?: string | null;
  /** Geo database: GeoLite2/GeoIP2 City or Country, or an IPinfo file with `country`. */
  readonly geoDatabase?: string | null;
  /** When the owner AS replaces the flow's srcas/dstas; default `unset`. */
  readonly privateAsPolicy?: PrivateAsPolicy;
  /** Addresses kept in the lookup cache; default 100 000 (roughly 20–30 MB when full). */
  readonly cacheSize?: number;
  /** How often `start()` polls the files for a new version, in ms; default 30 000. */
  readonly reloadIntervalMs?: number;
}

export interface GeoDatabaseStatus extends MmdbFileStatus {
  /** What the file is used for; one file can serve both (IPinfo country_asn, Lite). */
  readonly roles: readonly ('asn' | 'geo')[];
}

export interface GeoEnricherStatus {
  readonly databases: readonly GeoDatabaseStatus[];
  readonly privateAsPolicy: PrivateAsPolicy;
  /** Address lookups asked for (cache hits + misses). */
  readonly lookups: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** Addresses currently cached, and the bound. */
  readonly cacheSize: number;
  readonly cacheCapacity: number;
  /** Lookups that threw inside the database reader (a corrupt tree); their fields stay null. */
  readonly lookupErrors: number;
}

/** What the databases say about one address; both parts null when nothing is known. */
export interface GeoLookup {
  readonly as: AsInfo | null;
  readonly geo: GeoInfo | null;
}

const NOTHING: GeoLookup = Object.freeze({ as: null, geo: null });
export const DEFAULT_GEO_CACHE_SIZE = 100_000;
export const DEFAULT_GEO_RELOAD_INTERVAL_MS = 30_000;

function freezeGeo(geo: GeoInfo | null): GeoInfo | null {
  if (geo === null) return null;
  if (geo.location !== null) Object.freeze(geo.location);
  return Object.freeze(geo);
}

/**
 * "::ffff:192.0.2.1" → "192.0.2.1". MaxMind files alias ::ffff:0:0/96 to the IPv4 tree, IPinfo
 * files do not, so IPv4-mapped addresses are looked up as plain IPv4 (RFC 4291 §2.5.5.2).
 */
function unmappedIpv4(address: string): string {
  return address.length > 7 && address.startsWith('::ffff:') && address.includes('.', 7)
    ? address.slice(7)
    : address;
}

export class GeoEnricher {
  private readonly asnFile: MmdbFile | null;
  private readonly geoFile: MmdbFile | null;
  private readonly files: MmdbFile[];
  private readonly cache: GenerationalCache<string, GeoLookup>;
  private readonly policy: PrivateAsPolicy;
  private readonly reloadIntervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private hits = 0;
  private misses = 0;
  private lookupErrors = 0;

  constructor(options: GeoEnricherOptions) {
    this.policy = options.privateAsPolicy ?? 'unset';
    if (!PRIVATE_AS_POLICIES.includes(this.policy)) {
      throw new RangeError(
        `privateAsPolicy must be one of ${PRIVATE_AS_POLICIES.join(', ')}, got ${this.policy}`,
      );
    }
    this.cache = new GenerationalCache(options.cacheSize ?? DEFAULT_GEO_CACHE_SIZE);
    this.reloadIntervalMs = options.reloadIntervalMs ?? DEFAULT_GEO_RELOAD_INTERVAL_MS;
    if (!(this.reloadIntervalMs > 0)) {
      throw new RangeError(`reloadIntervalMs must be positive, got ${options.reloadIntervalMs}`);
    }
    const asnPath = options.asnDatabase ?? null;
    const geoPath = options.geoDatabase ?? null;
    this.asnFile = asnPath === null ? null : new MmdbFile(asnPath);
    // One file named for both roles is read once (IPinfo country_asn carries AS and country).
    this.geoFile = geoPath === null ? null : geoPath === asnPath ? this.asnFile : new MmdbFile(geoPath);
    this.files = [];
    for (const f of [this.asnFile, this.geoFile]) {
      if (f !== null && !this.files.includes(f)) this.files.push(f);
    }
    // Missing or corrupt files do not throw: status() reports them and the fields stay null.
    for (const f of this.files) f.loadNow();
  }

  /** Starts polling the database files for new versions. The timer does not keep Node alive. */
  start(): void {
    if (this.timer !== null || this.files.length === 0) return;
    this.timer = setInterval(() => void this.checkForUpdates(), this.reloadIntervalMs);
    this.timer.unref();
  }

  /** Stops polling. Lookups keep working with the versions loaded. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reloads every database file that changed on disk; true when any new version is now in use. */
  async checkForUpdates(): Promise<boolean> {
    const reloaded = await Promise.all(this.files.map((f) => f.reloadIfChanged()));
    if (!reloaded.includes(true)) return false;
    this.cache.clear();
    return true;
  }

  enrich(rec: FlowRecord): void {
    if (this.files.length === 0) return;
    if (rec.srcip !== null) {
      const src = this.lookup(rec.srcip);
      rec.srcowneras = src.as;
      rec.srcgeo = src.geo;
      if (src.as !== null) {
        const owner = src.as.asnumber;
        if (owner !== null && owner !== 0 && flowAsIsReplaceable(rec.srcas, this.policy)) rec.srcas = owner;
        if (owner !== null && rec.srcasorg === null && rec.srcas === owner) rec.srcasorg = src.as.asorg;
      }
    }
    if (rec.dstip !== null) {
      const dst = this.lookup(rec.dstip);
      rec.dstowneras = dst.as;
      rec.dstgeo = dst.geo;
      if (dst.as !== null) {
        const owner = dst.as.asnumber;
        if (owner !== null && owner !== 0 && flowAsIsReplaceable(rec.dstas, this.policy)) rec.dstas = owner;
        if (owner !== null && rec.dstasorg === null && rec.dstas === owner) rec.dstasorg = dst.as.asorg;
      }
    }
    if (rec.nexthop !== null) rec.nexthopowneras = this.lookup(rec.nexthop).as;
    if (rec.bgpnexthop !== null) rec.bgpnexthopowneras = this.lookup(rec.bgpnexthop).as;
  }

  /** What the databases say about one address (cached). */
  lookup(address: string): GeoLookup {
    const cached = this.cache.get(address);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const found = this.lookupUncached(address);
    this.cache.set(address, found);
    return found;
  }

  status(): GeoEnricherStatus {
    return {
      databases: this.files.map((f) => ({
        ...f.status(),
        roles: [
          ...(f === this.asnFile ? ['asn' as const] : []),
          ...(f === this.geoFile ? ['geo' as const] : []),
        ],
      })),
      privateAsPolicy: this.policy,
      lookups: this.hits + this.misses,
      cacheHits: this.hits,
      cacheMisses: this.misses,
      cacheSize: this.cache.size,
      cacheCapacity: this.cache.capacity,
      lookupErrors: this.lookupErrors,
    };
  }

  private lookupUncached(text: string): GeoLookup {
    const address = unmappedIpv4(text);
    try {
      let as: AsInfo | null = null;
      let geo: GeoInfo | null = null;
      let asnRecord: unknown = null;
      if (this.asnFile !== null && this.asnFile.layout !== null) {
        asnRecord = this.asnFile.lookup(address);
        if (asnRecord !== null) as = asInfoFromRecord(this.asnFile.layout, asnRecord);
      }
      if (this.geoFile !== null && this.geoFile.layout !== null) {
        const record = this.geoFile === this.asnFile ? asnRecord : this.geoFile.lookup(address);
        if (record !== null) geo = geoInfoFromRecord(this.geoFile.layout, record);
      }
      if (as === null && geo === null) return NOTHING;
      return Object.freeze({ as: as === null ? null : Object.freeze(as), geo: freezeGeo(geo) });
    } catch {
      this.lookupErrors++;
      return NOTHING;
    }
  }
}
