/**
 * Which exporter interfaces detection watches (`detection.interfaces`), and their counters: one
 * AggregateWatch per exporter, ifIndex and direction, created when traffic first crosses it, at
 * most `maxInterfaces` of them (more are counted as dropped).
 *
 * Direction is the exporter's view: `in` is traffic that entered the device through the interface
 * (a record's input), `out` traffic that left through it (its output).
 */
import { addressMatcher } from '../config/decoder-settings.js';
import { AggregateWatch } from './aggregate-watch.js';
import type { InterfaceWatchConfig } from './detection-config.js';

interface CompiledWatch {
  readonly matches: (exporter: string) => boolean;
  readonly indexes: ReadonlySet<number>;
  readonly in: boolean;
  readonly out: boolean;
  readonly config: InterfaceWatchConfig;
}

interface ExporterWatches {
  readonly rules: readonly CompiledWatch[];
  /** ifIndex × 2 + (out ? 1 : 0) → counters. */
  readonly counters: Map<number, AggregateWatch>;
}

const MAX_EXPORTERS_CACHED = 10_000;

export class InterfaceWatches {
  private readonly rules: CompiledWatch[];
  private readonly byExporter = new Map<string, ExporterWatches>();
  private count = 0;
  dropped = 0;

  constructor(
    configs: readonly InterfaceWatchConfig[],
    private readonly maxInterfaces: number,
  ) {
    this.rules = configs.map((config) => {
      const match = addressMatcher([config], (c) => c.exporter);
      return {
        matches: (exporter: string) => match(exporter) !== null,
        indexes: new Set(config.index),
        in: config.direction !== 'out',
        out: config.direction !== 'in',
        config,
      };
    });
  }

  get size(): number {
    return this.count;
  }

  /**
   * The counters of `exporter`'s interface `index` in `direction`, created on first use; null when
   * no rule watches it or the table is full.
   */
  watch(exporter: string, index: number, direction: 'in' | 'out'): AggregateWatch | null {
    const watches = this.exporterWatches(exporter);
    if (watches.rules.length === 0) return null;
    const key = index * 2 + (direction === 'out' ? 1 : 0);
    const existing = watches.counters.get(key);
    if (existing !== undefined) return existing;
    const rule = watches.rules.find(
      (r) => (direction === 'in' ? r.in : r.out) && (r.indexes.size === 0 || r.indexes.has(index)),
    );
    if (rule === undefined) return null;
    if (this.count >= this.maxInterfaces) {
      this.dropped++;
      return null;
    }
    const counters = new AggregateWatch(
      {
        family: 'interface-flood',
        target: `${exporter}/if${index}/${direction}`,
        targetKind: 'interface',
        direction: direction === 'in' ? 'inbound' : 'outbound',
        hostgroup: null,
        label: `${exporter} ifIndex ${index} ${direction}`,
        iface: { exporter, index, name: null, direction },
      },
      rule.config.thresholds,
      rule.config.utilisation,
    );
    watches.counters.set(key, counters);
    this.count++;
    return counters;
  }

  private exporterWatches(exporter: string): ExporterWatches {
    let watches = this.byExporter.get(exporter);
    if (watches === undefined) {
      // Exporters that match no rule cost one small entry; a flood of spoofed exporters only
      // clears this cache, the counters of the watched ones stay.
      if (this.byExporter.size >= MAX_EXPORTERS_CACHED) {
        for (const [key, w] of this.byExporter) if (w.counters.size === 0) this.byExporter.delete(key);
      }
      watches = { rules: this.rules.filter((r) => r.matches(exporter)), counters: new Map() };
      this.byExporter.set(exporter, watches);
    }
    return watches;
  }
}
