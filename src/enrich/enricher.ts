/**
 * The enrichment stage between decoding and the outputs: fills what the flow itself does not
 * carry, in a fixed order (exporter labels first, so later rules can match on them; interface
 * names and classes; which copies of a flow count, by those classes; then AS and geolocation). Runs on the receiving thread, once per record, before the record is batched for
 * the store and the other outputs. apply() returns false for a record to be dropped (flow
 * filters, counted where they drop it).
 *
 * Stages land here one by one (issue 4): exporter names, sites and tags; interface names, aliases
 * and classes; AS and geolocation.
 */
import type { FlowgateConfig } from '../config/types.js';
import type { FlowRecord } from '../record/flow-record.js';
import { CountOnce } from './count-once.js';
import { ExporterLabels } from './exporter-labels.js';
import { GeoEnricher, type GeoEnricherStatus } from './geo/geo-enricher.js';
import { type AnnouncedInterface, InterfaceNames } from './interface-names.js';

export interface EnricherSources {
  /** Interface names/descriptions exporters announced in options data (the template decoder). */
  announcedInterface?: AnnouncedInterface;
}

export interface EnricherStats {
  records: number;
  /** Records kept but not counted (countonce: weight 0, tag "uncounted"). */
  uncounted: number;
  /** AS/geolocation databases and their lookups; null when no database is configured. */
  geo: GeoEnricherStatus | null;
}

export class Enricher {
  private readonly exporterLabels: ExporterLabels | null;
  private readonly geo: GeoEnricher | null;
  private readonly interfaces: InterfaceNames;
  private readonly countOnce: CountOnce | null;
  private records = 0;

  constructor(config: FlowgateConfig, sources: EnricherSources = {}) {
    this.interfaces = new InterfaceNames(
      config.interfaces,
      config.interfaceclasses,
      sources.announcedInterface ?? null,
      // Per exporter a few hundred interfaces at most in practice.
      config.decode.maxexporters * 256,
    );
    const countOnce = new CountOnce(config.countonce, config.decode.maxexporters);
    this.countOnce = countOnce.active ? countOnce : null;
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
  }

  /** Enriches `rec` in place; false when the record is to be dropped. */
  apply(rec: FlowRecord): boolean {
    this.records++;
    this.exporterLabels?.apply(rec);
    this.interfaces.apply(rec);
    this.countOnce?.apply(rec);
    this.geo?.enrich(rec);
    return true;
  }

  stats(): EnricherStats {
    return {
      records: this.records,
      uncounted: this.countOnce?.uncountedRecords ?? 0,
      geo: this.geo?.status() ?? null,
    };
  }

  close(): void {
    this.geo?.close();
  }
}
