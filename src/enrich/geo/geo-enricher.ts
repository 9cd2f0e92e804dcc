/**
 * Fills a flow record's owner AS and geolocation fields from MaxMind-format databases:
 * srcowneras, dstowneras, nexthopowneras, bgpnexthopowneras, srcgeo, dstgeo, and, under the
 * private-AS policy, srcas/dstas with srcasorg/dstasorg.
 *
 * Lookups go through one bounded cache per enricher (approximate LRU in two generations, see
 * generational-cache.ts), holding both answers (AS and geo), so an address seen again costs one
 * lookup. IPv4 addresses the decoder handed over as numbers (FlowRecord.srcip4 and friends) go
 * to a table keyed by that number (u32-cache.ts) whose values index `answers`, the distinct
 * answers (far fewer than addresses: one per AS and location), so a hit is one read of that
 * table plus an array that stays in the CPU cache; hashing the freshly built text instead costs
 * ~100 ns per address (V8 flattens the concatenated string first). Other addresses are keyed by
 * text. The next hop repeats from record to record, so the last one's answer is kept aside. The cached AsInfo/GeoInfo
 * objects are frozen and shared between records. A database that changes on disk is reloaded
 * by polling (`start()`), and the cache is cleared when any database is replaced.
 */

import { ipv4FromU32 } from '../../record/address.js';
import type { AsInfo, FlowRecord, GeoInfo } from '../../record/flow-record.js';
import { U32Cache } from '../u32-cache.js';
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
  private readonly cache4: U32Cache;
  /** The distinct answers, indexed by cache4's values; NOTHING first. */
  private answers: GeoLookup[] = [NOTHING];
  private readonly answerIds = new Map<string, number>();
  /** The last next hop looked up by number, and its answer (cleared with the caches). */
  private lastNexthop4 = -1;
  private lastNexthop: GeoLookup = NOTHING;
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
    const cacheSize = options.cacheSize ?? DEFAULT_GEO_CACHE_SIZE;
    this.cache = new GenerationalCache(cacheSize);
    this.cache4 = new U32Cache(cacheSize);
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
    this.clearCaches();
    return true;
  }

  enrich(rec: FlowRecord): void {
    if (this.files.length === 0) return;
    if (rec.srcip !== null) {
      const src = rec.srcip4 >= 0 ? this.lookup4(rec.srcip4) : this.lookup(rec.srcip);
      rec.srcowneras = src.as;
      rec.srcgeo = src.geo;
      if (src.as !== null) {
        const owner = src.as.asnumber;
        if (owner !== null && owner !== 0 && flowAsIsReplaceable(rec.srcas, this.policy)) rec.srcas = owner;
        if (owner !== null && rec.srcasorg === null && rec.srcas === owner) rec.srcasorg = src.as.asorg;
      }
    }
    if (rec.dstip !== null) {
      const dst = rec.dstip4 >= 0 ? this.lookup4(rec.dstip4) : this.lookup(rec.dstip);
      rec.dstowneras = dst.as;
      rec.dstgeo = dst.geo;
      if (dst.as !== null) {
        const owner = dst.as.asnumber;
        if (owner !== null && owner !== 0 && flowAsIsReplaceable(rec.dstas, this.policy)) rec.dstas = owner;
        if (owner !== null && rec.dstasorg === null && rec.dstas === owner) rec.dstasorg = dst.as.asorg;
      }
    }
    if (rec.nexthop !== null) {
      const n4 = rec.nexthop4;
      if (n4 < 0) rec.nexthopowneras = this.lookup(rec.nexthop).as;
      else if (n4 === this.lastNexthop4) {
        this.hits++;
        rec.nexthopowneras = this.lastNexthop.as;
      } else {
        this.lastNexthop = this.lookup4(n4);
        this.lastNexthop4 = n4;
        rec.nexthopowneras = this.lastNexthop.as;
      }
    }
    if (rec.bgpnexthop !== null) {
      rec.bgpnexthopowneras = (
        rec.bgpnexthop4 >= 0 ? this.lookup4(rec.bgpnexthop4) : this.lookup(rec.bgpnexthop)
      ).as;
    }
  }

  /** What the databases say about the IPv4 address `v4` (a u32; cached). */
  lookup4(v4: number): GeoLookup {
    const id = this.cache4.get(v4);
    if (id >= 0) {
      this.hits++;
      return this.answers[id] as GeoLookup;
    }
    this.misses++;
    const found = this.lookupUncached(v4);
    this.cache4.set(v4, this.answerId(found));
    return found;
  }

  /** The index of `found` in `answers`, added when new. */
  private answerId(found: GeoLookup): number {
    if (found === NOTHING) return 0;
    const as = found.as;
    const geo = found.geo;
    const key = `${as?.asnumber}\u0000${as?.asorg}\u0000${geo?.countrycode}\u0000${geo?.continentcode}\u0000${geo?.location?.lat}\u0000${geo?.location?.lon}`;
    let id = this.answerIds.get(key);
    if (id === undefined) {
      if (this.answers.length > this.cache4.capacity) {
        // As many distinct answers as addresses: start over rather than grow without bound.
        this.clearCaches();
      }
      id = this.answers.length;
      this.answers.push(found);
      this.answerIds.set(key, id);
    }
    return id;
  }

  private clearCaches(): void {
    this.cache.clear();
    this.cache4.clear();
    this.answers = [NOTHING];
    this.answerIds.clear();
    this.lastNexthop4 = -1;
  }

  /** What the databases say about one address, as text (cached). */
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
      // Two caches of the configured size (numbers, text): most traffic fills only one of them.
      cacheSize: this.cache.size + this.cache4.size,
      cacheCapacity: this.cache.capacity,
      lookupErrors: this.lookupErrors,
    };
  }

  private lookupUncached(key: string | number): GeoLookup {
    const address = typeof key === 'number' ? ipv4FromU32(key) : unmappedIpv4(key);
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
