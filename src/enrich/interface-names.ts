/**
 * Interface names, aliases and classes for the records' input/output ifIndexes. Three sources, the
 * first that knows an interface wins: the `interfaces:` configuration (per exporter address or
 * CIDR), SNMP polling of the exporter (IF-MIB ifName/ifAlias), then what the exporter announced
 * itself in NetFlow v9/IPFIX options data (interfaceName 82 -> name, interfaceDescription 83 ->
 * alias). Classes come from
 * `interfaceclasses:` (regular expressions on the name and/or alias; every class that matches).
 *
 * Answers are cached per exporter and ifIndex: an announced name is looked up again after
 * ANNOUNCED_TTL_MS, an unknown interface after UNKNOWN_TTL_MS (options data and SNMP answers
 * often arrive after the first flows), so a renamed interface shows within a minute and the lookup stays off the hot
 * path.
 */
import { addressMatcher } from '../config/decoder-settings.js';
import type { InterfaceClassConfig, InterfaceConfig } from '../config/types.js';
import type { FlowRecord } from '../record/flow-record.js';

/** What an exporter announced for an ifIndex (the template decoder keeps it). */
export type AnnouncedInterface = (
  exporter: string,
  ifIndex: number,
) => { name: string | null; description: string | null } | null;

/** What SNMP polling found for an ifIndex (null: not polled yet, or no such interface). */
export type PolledInterface = (
  exporter: string,
  ifIndex: number,
) => { name: string | null; alias: string | null } | null;

interface InterfaceInfo {
  name: string | null;
  alias: string | null;
  classes: string[] | null;
}

const UNKNOWN: InterfaceInfo = { name: null, alias: null, classes: null };
const ANNOUNCED_TTL_MS = 60_000;
const UNKNOWN_TTL_MS = 2_000;

export class InterfaceNames {
  /** Static entries by ifIndex (several exporters may share an index): the first that holds it. */
  private readonly byIndex = new Map<number, (exporter: string) => InterfaceConfig | null>();
  private readonly classes: { name: RegExp | null; alias: RegExp | null; label: string }[];
  /** exporter -> ifIndex -> answer: no key string built per lookup. */
  private readonly cache = new Map<string, Map<number, { info: InterfaceInfo; untilMs: number }>>();
  private cached = 0;
  /** The last exporter's map: records come in runs from one exporter. */
  private lastExporter = '';
  private lastMap: Map<number, { info: InterfaceInfo; untilMs: number }> | null = null;

  constructor(
    entries: readonly InterfaceConfig[],
    classes: readonly InterfaceClassConfig[],
    private readonly announced: AnnouncedInterface | null,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
    private readonly polled: PolledInterface | null = null,
  ) {
    const lists = new Map<number, InterfaceConfig[]>();
    for (const entry of entries) lists.set(entry.index, [...(lists.get(entry.index) ?? []), entry]);
    for (const [index, list] of lists)
      this.byIndex.set(
        index,
        addressMatcher(list, (e) => e.exporter),
      );
    this.classes = classes.map((c) => ({
      name: c.name === null ? null : new RegExp(c.name),
      alias: c.alias === null ? null : new RegExp(c.alias),
      label: c.class,
    }));
  }

  apply(rec: FlowRecord): void {
    if (rec.input === null && rec.output === null) return;
    // The record's arrival time (whole seconds, read by the decoder once per datagram) is the
    // clock for the cache's expiry: reading the clock per record was ~25 ns of ~90 here. Records
    // without one (timestamp 0) read the clock.
    const now = rec.timestamp > 0 ? rec.timestamp * 1000 : this.now();
    if (rec.input !== null) {
      const i = this.info(rec.flowsrcip, rec.input, now);
      if (i !== UNKNOWN) {
        rec.inputname = i.name;
        rec.inputalias = i.alias;
        rec.inputclasses = i.classes;
      }
    }
    if (rec.output !== null) {
      const i = this.info(rec.flowsrcip, rec.output, now);
      if (i !== UNKNOWN) {
        rec.outputname = i.name;
        rec.outputalias = i.alias;
        rec.outputclasses = i.classes;
      }
    }
  }

  /** The configured speed (bits/s) of an interface, null when the configuration has none. */
  configuredSpeed(exporter: string, ifIndex: number): number | null {
    return this.staticEntry(exporter, ifIndex)?.speed ?? null;
  }

  private info(exporter: string, ifIndex: number, now: number): InterfaceInfo {
    let byIndex = this.lastExporter === exporter ? this.lastMap : null;
    if (byIndex === null) {
      byIndex = this.cache.get(exporter) ?? null;
      if (byIndex === null) {
        byIndex = new Map();
        this.cache.set(exporter, byIndex);
      }
      this.lastExporter = exporter;
      this.lastMap = byIndex;
    }
    const hit = byIndex.get(ifIndex);
    if (hit !== undefined && hit.untilMs > now) return hit.info;
    const stat = this.staticEntry(exporter, ifIndex);
    let info = UNKNOWN;
    let ttl = UNKNOWN_TTL_MS;
    if (stat !== null) {
      info = this.classify(stat.name, stat.alias);
      ttl = Number.POSITIVE_INFINITY;
    } else {
      const p = this.polled?.(exporter, ifIndex) ?? null;
      const a = p === null ? (this.announced?.(exporter, ifIndex) ?? null) : null;
      if (p !== null && (p.name !== null || p.alias !== null)) {
        info = this.classify(p.name, p.alias);
        ttl = ANNOUNCED_TTL_MS;
      } else if (a !== null && (a.name !== null || a.description !== null)) {
        info = this.classify(a.name, a.description);
        ttl = ANNOUNCED_TTL_MS;
      }
    }
    if (this.cached >= this.maxEntries) {
      // Bounded: start over (a flood of spoofed exporters or ifIndexes cannot grow it).
      this.cache.clear();
      this.cached = 0;
      this.lastMap = null;
      this.lastExporter = '';
      byIndex = new Map();
      this.cache.set(exporter, byIndex);
    }
    if (!byIndex.has(ifIndex)) this.cached++;
    byIndex.set(ifIndex, { info, untilMs: now + ttl });
    return info;
  }

  private staticEntry(exporter: string, ifIndex: number): InterfaceConfig | null {
    return this.byIndex.get(ifIndex)?.(exporter) ?? null;
  }

  private classify(name: string | null, alias: string | null): InterfaceInfo {
    const classes: string[] = [];
    for (const c of this.classes) {
      if (c.name !== null && (name === null || !c.name.test(name))) continue;
      if (c.alias !== null && (alias === null || !c.alias.test(alias))) continue;
      if (!classes.includes(c.label)) classes.push(c.label);
    }
    return { name, alias, classes: classes.length > 0 ? classes : null };
  }
}
