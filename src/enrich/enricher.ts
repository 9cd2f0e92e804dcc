/**
 * The enrichment stage between decoding and the outputs: fills what the flow itself does not
 * carry, in a fixed order (exporter labels first, so later rules can match on them; interface
 * names and classes; which copies of a flow count, by those classes; internal/external and bogon
 * addresses; AS and geolocation; tags; last the flow filters, which may drop the record). Runs on the receiving thread, once per record, before the record is batched for
 * the store and the other outputs. apply() returns false for a record to be dropped (flow
 * filters, counted where they drop it).
 *
 * Each stage costs nothing when it is not configured (null, skipped), except the address classes,
 * which have defaults (RFC 1918 and friends internal, IANA special-purpose ranges bogon).
 */
import type { FlowgateConfig } from '../config/types.js';
import type { FlowRecord } from '../record/flow-record.js';
import { type AddressClassifier, compileAddressClasses } from './address-classes.js';
import { CountOnce } from './count-once.js';
import { ExporterLabels } from './exporter-labels.js';
import { compileFlowFilter, type FilterRuleCount, type FlowFilter } from './flow-filter.js';
import { GeoEnricher, type GeoEnricherStatus } from './geo/geo-enricher.js';
import { type AnnouncedInterface, InterfaceNames } from './interface-names.js';
import { RecordAddresses } from './record-addresses.js';
import { type SnmpExporterStatus, SnmpInterfaces, type SnmpLog } from './snmp-interfaces.js';
import { compileTags, type Tagger } from './tags.js';

export interface EnricherSources {
  /** Interface names/descriptions exporters announced in options data (the template decoder). */
  announcedInterface?: AnnouncedInterface;
  /** Where SNMP poll failures are logged. */
  snmpLog?: SnmpLog;
}

export interface EnricherStats {
  records: number;
  /** Records kept but not counted (countonce: weight 0, tag "uncounted"). */
  uncounted: number;
  /** Records dropped by the flow filters, in all and per rule. */
  filtered: number;
  filteredByDefault: number;
  filterRules: FilterRuleCount[];
  /** Records each tag rule matched, in rule order. */
  tagRules: number[];
  /** AS/geolocation databases and their lookups; null when no database is configured. */
  geo: GeoEnricherStatus | null;
  /** SNMP polls per exporter; null when snmp.enabled is false. */
  snmp: { exporters: SnmpExporterStatus[] } | null;
}

export class Enricher {
  private readonly exporterLabels: ExporterLabels | null;
  private readonly geo: GeoEnricher | null;
  private readonly interfaces: InterfaceNames;
  private readonly snmp: SnmpInterfaces | null;
  private readonly countOnce: CountOnce | null;
  private readonly classes: AddressClassifier;
  private readonly tagger: Tagger | null;
  private readonly filter: FlowFilter | null;
  /** Each address parsed at most once per record, shared by classes, tags and filters. */
  private readonly addresses = new RecordAddresses();
  private records = 0;

  constructor(config: FlowgateConfig, sources: EnricherSources = {}) {
    const snmp = config.snmp;
    this.snmp = snmp.enabled
      ? new SnmpInterfaces(
          {
            version: snmp.version,
            community: snmp.community ?? 'public',
            ...(snmp.user === null
              ? {}
              : {
                  user: {
                    name: snmp.user,
                    authProtocol: snmp.authprotocol,
                    privProtocol: snmp.privprotocol,
                    ...(snmp.authkey === null ? {} : { authKey: snmp.authkey }),
                    ...(snmp.privkey === null ? {} : { privKey: snmp.privkey }),
                  },
                }),
            port: snmp.port,
            intervalSec: snmp.interval,
            timeoutMs: snmp.timeout,
            retries: snmp.retries,
            maxExporters: config.decode.maxexporters,
          },
          sources.snmpLog,
        )
      : null;
    const polled = this.snmp;
    this.interfaces = new InterfaceNames(
      config.interfaces,
      config.interfaceclasses,
      sources.announcedInterface ?? null,
      // Per exporter a few hundred interfaces at most in practice.
      config.decode.maxexporters * 256,
      Date.now,
      polled === null ? null : (exporter, ifIndex) => polled.lookup(exporter, ifIndex),
    );
    const countOnce = new CountOnce(config.countonce, config.decode.maxexporters);
    this.countOnce = countOnce.active ? countOnce : null;
    // The config was validated with these same compile steps (config/schema.ts): no throw here.
    this.classes = compileAddressClasses(config.addressclasses, 'addressclasses');
    const tagger = compileTags(config.tags, 'tags');
    this.tagger = tagger.size > 0 ? tagger : null;
    const filter = compileFlowFilter(config.filters, 'filters');
    this.filter = config.filters.rules.length > 0 || config.filters.defaultaction === 'drop' ? filter : null;
    const labels = new ExporterLabels(config.exporters, config.decode.maxexporters);
    this.exporterLabels = labels.active ? labels : null;
    const g = config.geo;
    this.geo =
      g.asn === null && g.database === null
        ? null
        : new GeoEnricher({
            asnDatabase: g.asn,
            geoDatabase: g.database,
            privateAsPolicy: g.privateas,
            cacheSize: g.cachesize,
            reloadIntervalMs: g.reloadinterval * 1000,
          });
  }

  /** Starts what runs in the background (database file polling). */
  start(): void {
    this.geo?.start();
    this.snmp?.start();
  }

  /**
   * An interface's speed in bits/s: the `interfaces:` configuration, else SNMP ifHighSpeed (when
   * polling is on); null when neither knows it. Detection's utilisation checks use it.
   */
  interfaceSpeed(exporter: string, ifIndex: number): number | null {
    return (
      this.interfaces.configuredSpeed(exporter, ifIndex) ??
      this.snmp?.lookup(exporter, ifIndex)?.speedBps ??
      null
    );
  }

  /** Enriches `rec` in place; false when the record is to be dropped. */
  apply(rec: FlowRecord): boolean {
    this.records++;
    this.exporterLabels?.apply(rec);
    this.interfaces.apply(rec);
    this.countOnce?.apply(rec);
    const addresses = this.addresses;
    addresses.begin(rec);
    this.classes.classify(rec, addresses);
    // Before tags and filters: their AS conditions use the owner AS when the flow has none.
    this.geo?.enrich(rec);
    this.tagger?.tag(rec, addresses);
    return this.filter === null || this.filter.keep(rec, addresses);
  }

  stats(): EnricherStats {
    return {
      records: this.records,
      uncounted: this.countOnce?.uncountedRecords ?? 0,
      filtered: this.filter?.dropped ?? 0,
      filteredByDefault: this.filter?.droppedByDefault ?? 0,
      filterRules: this.filter?.counts() ?? [],
      tagRules: this.tagger === null ? [] : [...this.tagger.matched],
      geo: this.geo?.status() ?? null,
      snmp: this.snmp?.status() ?? null,
    };
  }

  close(): void {
    this.geo?.close();
    this.snmp?.close();
  }
}
