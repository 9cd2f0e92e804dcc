/**
 * The streaming detection engine. Fed every enriched record (counted ones only: weight 0 records
 * of the count-once policy add nothing), it keeps per internal host counters over a sliding window
 * of flow time (slot-ring.ts), probe state per source (probe-tracker.ts), learnt baselines
 * (baseline.ts), and reports findings to the incident lifecycle (incidents.ts), which sends
 * AlertEvents to the sinks.
 *
 * Flow time: the engine's clock is the newest record end seen (each clamped to its arrival + the
 * allowed clock skew, so one exporter with a wrong clock cannot push it into the future). Hosts
 * touched since the last evaluation are evaluated every time that clock enters a new slot, so a
 * replayed capture is evaluated at the same flow times as the live traffic was; `tick()` (every
 * second, wall clock) additionally ends quiet alerts and finds silent exporters.
 *
 * Which hosts: a record counts inbound for its destination when that is internal
 * (`dstinternal`, from the address classes: your internal networks) and outbound for its source
 * when that is internal. Floods are looked for on inbound traffic, exfiltration on outbound.
 */

import { isDeepStrictEqual } from 'node:util';
import { GenerationalCache } from '../enrich/geo/generational-cache.js';
import { PrefixSet } from '../enrich/prefix-set.js';
import { U32Cache } from '../enrich/u32-cache.js';
import type { FlowRecord } from '../record/flow-record.js';
import { hashAddress } from './address-key.js';
import { type AggregateIdentity, AggregateWatch } from './aggregate-watch.js';
import type { AlertSink } from './alert.js';
import { Baseline } from './baseline.js';
import type { DetectionConfig, HostgroupConfig, Thresholds } from './detection-config.js';
import {
  type ActiveCheck,
  activeChecks,
  anyFloodThreshold,
  FLOOD_THRESHOLD_KEYS,
  type FloodFinding,
  type FloodThresholds,
  findingsOf,
  floodFindings,
} from './flood-checks.js';
import { describeRate, formatBits, formatCount } from './format.js';
import { Incidents } from './incidents.js';
import { InterfaceWatches } from './interface-watch.js';
import { isProbe, ProbeTracker } from './probe-tracker.js';
import { fmix32 } from './sketch/hash32.js';
import { SLOTS, SlotRing } from './slot-ring.js';
import { inboundIncrements, M, METRIC_COUNT, outboundIncrements } from './traffic-metrics.js';

/** Records may claim to end at most this far past their arrival. */
const MAX_FUTURE_MS = 60_000;

/** A host's window is its own SlotRing: one object less to reach per record. */
class HostEntry extends SlotRing {
  dirty = false;
  lastSeenWall = 0;
  /** Outbound bits/s baseline (exfiltration); created on the first outbound traffic. */
  outBaseline: Baseline | null = null;
  lastBaselineSample = 0;
  /** Flow time of the host's first record: its window is only complete a window later. */
  firstSeenFlow = Number.NaN;

  constructor(
    readonly address: string,
    /** Index into the engine's groups; reassigned when the hostgroups are reconfigured. */
    public group: number,
  ) {
    super();
  }
}

interface Group {
  readonly name: string | null;
  /** The group's networks as configured, to tell on reload whether its totals still count the same hosts. */
  readonly networks: readonly string[];
  readonly thresholds: Thresholds;
  /** The flood checks `thresholds` switches on (they change only with the group, on reload). */
  readonly floodChecks: readonly ActiveCheck[];
  /** The group's hosts together, when it has totals thresholds. */
  readonly totals: AggregateWatch | null;
}

/** Interface speeds in bits/s (configured, else polled over SNMP); null when unknown. */
export type InterfaceSpeed = (exporter: string, ifIndex: number) => number | null;

export interface DetectionStatus {
  enabled: boolean;
  records: number;
  /** Flow time the engine has reached (Unix ms), null before the first record. */
  flowTime: number | null;
  hosts: number;
  maxHosts: number;
  /** Hosts not tracked because the table was full. */
  hostsDropped: number;
  activeAlerts: number;
  alertsStarted: number;
  alertsEnded: number;
  /** Records not looked at for scans because their sampling rate is above maxscansamplerate. */
  scanSkippedSampled: number;
  /** Records older than the window when they arrived (too late to count). */
  lateRecords: number;
  /** Exporter interfaces with counters (detection.interfaces), and those not counted (table full). */
  interfaces: number;
  interfacesDropped: number;
}

export class DetectionEngine {
  private readonly hosts = new Map<number | string, HostEntry>();
  private readonly dirtyHosts: HostEntry[] = [];
  /** The engine's own copy of its settings (reconfigure() replaces it). */
  private config: DetectionConfig;
  private groups: Group[] = [];
  private groupSets: PrefixSet[] = [];
  /** All internal hosts together (detection.totals), null when no totals are set. */
  private network: AggregateWatch | null = null;
  private interfaceWatches: InterfaceWatches | null;
  private readonly dirtyWatches: AggregateWatch[] = [];
  /** Whether any key beyond hosts needs the group of a record's host. */
  private groupTotals = false;
  private readonly ifInc = new Float64Array(METRIC_COUNT);
  private readonly incidents: Incidents;
  private readonly probes: ProbeTracker;
  private readonly slotMs: number;
  private readonly windowMs: number;
  /** Records ending this long before the engine's clock still count (exporters' delays). */
  private readonly maxLatenessMs: number;
  private readonly inc = new Float64Array(METRIC_COUNT);
  private readonly sums = new Float64Array(METRIC_COUNT);
  /** Source/destination pairs seen (hashes), for new-destination alerts; bounded. */
  private readonly seenPairs: U32Cache;
  /** New pairs' bytes since first seen, while they may still reach newdstbytes. */
  private readonly newPairs: GenerationalCache<number, { bytes: number; first: number }>;
  private readonly deniedBySource: GenerationalCache<string, { windowStart: number; flows: number }>;
  private readonly exporters = new Map<string, ExporterEntry>();
  /** The exporter of the previous record: records come in datagrams, many from one exporter. */
  private recentExporter: string | null = null;
  private recentExporterEntry: ExporterEntry | null = null;
  /**
   * The host of the previous record's destination [0] and source [1]: a flood or one busy
   * conversation brings the same host many times in a row. Cleared whenever hosts are dropped.
   */
  private readonly recentKeys: (number | string | null)[] = [null, null];
  private readonly recentHosts: (HostEntry | null)[] = [null, null];
  private flowNow = Number.NEGATIVE_INFINITY;
  private firstFlow = Number.NaN;
  private lastEvaluatedSlot = Number.NEGATIVE_INFINITY;
  /** Wall clock of the last flow-time advance: a clock that stands still is evaluated by tick(). */
  private lastAdvanceWall = 0;
  private records = 0;
  private hostsDropped = 0;
  private scanSkippedSampled = 0;
  private lateRecords = 0;

  constructor(
    settings: DetectionConfig,
    sinks: readonly AlertSink[],
    private readonly maxExporters = 10_000,
    private readonly interfaceSpeed: InterfaceSpeed = () => null,
  ) {
    // A copy: the engine's thresholds change only through reconfigure(), and the baseline settings
    // object it holds is shared by every host's Baseline (updated in place on reload).
    const config = structuredClone(settings);
    this.config = config;
    this.windowMs = config.window * 1000;
    this.slotMs = this.windowMs / SLOTS;
    // Beyond an active timeout of several minutes, or an exporter that far behind, rates are history.
    this.maxLatenessMs = this.windowMs + 300_000;
    this.setKeys(
      config,
      config.hostgroups.map((g) => PrefixSet.compile(g.networks, `detection.hostgroups.${g.name}`)),
    );
    this.interfaceWatches = interfaceWatchesOf(config);
    this.incidents = new Incidents(
      {
        endAfterMs: config.endafter * 1000,
        updateIntervalMs: config.updateinterval * 1000,
        windowMs: this.windowMs,
      },
      sinks,
    );
    this.probes = new ProbeTracker(
      config.thresholds.scanports,
      config.thresholds.sweephosts,
      config.scanwindow * 1000,
      config.maxsources,
    );
    this.seenPairs = new U32Cache(Math.max(1_000_000, config.maxhosts * 10));
    this.newPairs = new GenerationalCache(Math.max(2, config.maxsources));
    this.deniedBySource = new GenerationalCache(Math.max(2, config.maxsources));
  }

  /**
   * Applies a new `detection:` section to the running engine (configuration reload) and returns
   * what could not be applied live, one note per setting (empty: everything applied). What the
   * engine learnt stays: every host's window and baseline, probe and new-destination state,
   * exporters, active incidents (they keep their ids; their next reports use the new thresholds,
   * and one whose condition no longer holds ends after endafter as usual).
   *
   * Not live: `enabled` (a disabled collector has no engine at all) and `window` (every window,
   * slot ring and rate is laid out in its slot length); `baseline.slots` (the baselines' layout);
   * `maxsources` (it sizes the probe and new-destination tables, which cannot be resized without
   * dropping their state). These keep their running values. `maxhosts` is applied as the bound for
   * new hosts: a lower bound than the hosts tracked drops none, it stops new ones until idle hosts
   * are evicted (evictHosts).
   *
   * Hostgroup and network totals keep their window when the same group (name and networks) or the
   * network still has totals; interface counters keep theirs when `interfaces` and `maxinterfaces`
   * are unchanged, else they are rebuilt empty (InterfaceWatches has no way to carry counters over
   * to new rules): an interface alert then waits up to a window for new counters to hold again.
   * Throws, leaving the engine as it was, when a hostgroup network or an exporter does not parse.
   */
  reconfigure(config: DetectionConfig): string[] {
    const old = this.config;
    if (isDeepStrictEqual(old, config)) return [];
    const next = structuredClone(config);
    const notes: string[] = [];
    if (next.enabled !== old.enabled) {
      notes.push(`detection.enabled changed (${old.enabled} → ${next.enabled}): needs a restart`);
      next.enabled = old.enabled;
    }
    if (next.window !== old.window) {
      notes.push(
        `detection.window changed (${old.window} s → ${next.window} s): needs a restart; the ${old.window} s window is kept`,
      );
      next.window = old.window;
    }
    if (next.baseline.slots !== old.baseline.slots) {
      notes.push(
        `detection.baseline.slots changed (${old.baseline.slots} → ${next.baseline.slots}): needs a restart; baselines keep ${old.baseline.slots} slots a day`,
      );
      next.baseline.slots = old.baseline.slots;
    }
    if (next.maxsources !== old.maxsources) {
      notes.push(
        `detection.maxsources changed (${old.maxsources} → ${next.maxsources}): needs a restart; the probe and new-destination tables keep ${old.maxsources} sources`,
      );
      next.maxsources = old.maxsources;
    }
    if (Math.max(1_000_000, next.maxhosts * 10) > this.seenPairs.capacity)
      notes.push(
        `detection.maxhosts raised to ${next.maxhosts}: applied; the new-destination pair table keeps ${this.seenPairs.capacity} pairs until a restart`,
      );

    // What can throw first, so a bad section changes nothing.
    const groupSets = next.hostgroups.map((g) =>
      PrefixSet.compile(g.networks, `detection.hostgroups.${g.name}`),
    );
    const interfacesKept =
      isDeepStrictEqual(next.interfaces, old.interfaces) && next.maxinterfaces === old.maxinterfaces;
    const interfaceWatches = interfacesKept ? this.interfaceWatches : interfaceWatchesOf(next);

    // Every Baseline holds the engine's baseline settings object: new alpha and warmup reach them.
    next.baseline = Object.assign(old.baseline, next.baseline);
    this.config = next;
    this.setKeys(next, groupSets);
    this.interfaceWatches = interfaceWatches;
    for (const host of this.hosts.values()) host.group = this.groupOf(host.address);
    this.incidents.retime(next.endafter * 1000, next.updateinterval * 1000);
    this.probes.setLimits(next.thresholds.scanports, next.thresholds.sweephosts, next.scanwindow * 1000);
    this.requeue(interfacesKept);
    return notes;
  }

  /**
   * Sets the hostgroups and the network totals from `config`, keeping the counters (window) of a
   * group whose name and networks are unchanged and still has totals, and of the network.
   */
  private setKeys(config: DetectionConfig, groupSets: PrefixSet[]): void {
    const previous = new Map(this.groups.map((g) => [g.name, g]));
    this.groups = [
      {
        name: null,
        networks: [],
        thresholds: config.thresholds,
        floodChecks: activeChecks(config.thresholds),
        totals: null,
      },
      ...config.hostgroups.map((g) => {
        const before = previous.get(g.name);
        const kept =
          before !== undefined && isDeepStrictEqual(before.networks, g.networks) ? before.totals : null;
        const thresholds = { ...config.thresholds, ...g.thresholds };
        return {
          name: g.name,
          networks: g.networks,
          thresholds,
          floodChecks: activeChecks(thresholds),
          totals: aggregateOf(kept, g.totals, () => groupIdentity(g)),
        };
      }),
    ];
    this.groupSets = groupSets;
    this.groupTotals = this.groups.some((g) => g.totals !== null);
    this.network = aggregateOf(this.network, config.totals, () => NETWORK_IDENTITY);
  }

  /**
   * After a reload: drops counters no longer in use from the evaluation queue, and queues every
   * host and total with data in the current window, so the new thresholds apply at the next
   * evaluation (next slot of flow time, or tick()) rather than only once their traffic goes on.
   */
  private requeue(interfacesKept: boolean): void {
    const live = new Set<AggregateWatch>();
    for (const g of this.groups) if (g.totals !== null) live.add(g.totals);
    if (this.network !== null) live.add(this.network);
    const queued = this.dirtyWatches.filter(
      (w) => live.has(w) || (interfacesKept && w.identity.family === 'interface-flood'),
    );
    for (const w of this.dirtyWatches) w.dirty = false;
    this.dirtyWatches.length = 0;
    for (const w of queued) this.markDirty(w);
    if (!Number.isFinite(this.flowNow)) return;
    const oldest = Math.floor(this.flowNow / this.slotMs) - SLOTS;
    for (const w of live) if (w.ring.newest >= oldest) this.markDirty(w);
    for (const host of this.hosts.values()) {
      if (host.dirty || host.newest < oldest) continue;
      host.dirty = true;
      this.dirtyHosts.push(host);
    }
  }

  /** Feeds one enriched record that arrived at `arrivalMs` (wall clock). */
  observe(rec: FlowRecord, arrivalMs: number): void {
    if (!this.config.enabled || rec.weight === 0) return;
    this.records++;
    this.noteExporter(rec.flowsrcip, arrivalMs);
    const endMs = Math.min(rec.end ?? rec.timestamp * 1000, arrivalMs + MAX_FUTURE_MS);
    const startMs = Math.min(rec.start ?? endMs, endMs);
    if (Number.isNaN(this.firstFlow)) this.firstFlow = endMs;
    if (endMs > this.flowNow) this.advance(endMs, arrivalMs);
    // Probes, rejected flows and new destinations are counted on the record's own time: exporters
    // deliver records out of order by up to their active timeout (softflowd flushes its whole
    // table at once), and a scan's probes are still a scan when they arrive late.
    if (isProbe(rec)) this.probe(rec, endMs, arrivalMs);
    if (rec.action === 'reject' && rec.srcip !== null) this.deniedSource(rec, endMs, arrivalMs);
    if (endMs <= this.flowNow - this.maxLatenessMs) {
      // Too old for the host windows: those rates are about now.
      this.lateRecords++;
      return;
    }

    if (rec.dstinternal === true && rec.dstip !== null) {
      const host = this.host(rec.dstip4 >= 0 ? rec.dstip4 : rec.dstip, rec.dstip, arrivalMs, 0);
      inboundIncrements(rec, this.inc);
      if (host !== null) host.add(this.inc, startMs, endMs, this.slotMs);
      if (this.groupTotals || this.network !== null) {
        const group = this.groups[host?.group ?? this.groupOf(rec.dstip)] as Group;
        const dstKey = rec.dstip4 >= 0 ? rec.dstip4 : hashAddress(rec.dstip);
        if (group.totals !== null) this.addTo(group.totals, startMs, endMs, dstKey, rec);
        if (this.network !== null) this.addTo(this.network, startMs, endMs, dstKey, rec);
      }
      if (this.incidents.size > 0) this.incidents.get('flood', rec.dstip)?.collect(rec);
    }
    if (rec.srcinternal === true && rec.srcip !== null) {
      const host = this.host(rec.srcip4 >= 0 ? rec.srcip4 : rec.srcip, rec.srcip, arrivalMs, 1);
      outboundIncrements(rec, this.inc);
      if (host !== null) host.add(this.inc, startMs, endMs, this.slotMs);
      // A group's own requests to reflection ports, so its resolvers' answers are not reflection.
      if (this.groupTotals || this.network !== null) {
        const group = this.groups[host?.group ?? this.groupOf(rec.srcip)] as Group;
        if (group.totals !== null) group.totals.ring.add(this.inc, startMs, endMs, this.slotMs);
        if (this.network !== null) this.network.ring.add(this.inc, startMs, endMs, this.slotMs);
      }
      if (this.incidents.size > 0) this.incidents.get('exfil', rec.srcip)?.collect(rec);
      if (rec.dstinternal === false && rec.dstip !== null) this.newDestination(rec, endMs, arrivalMs);
    }
    if (this.interfaceWatches !== null) this.countInterfaces(rec, this.interfaceWatches, startMs, endMs);
  }

  /** Adds the inbound increments in `this.inc` to a hostgroup or network total. */
  private addTo(
    watch: AggregateWatch,
    startMs: number,
    endMs: number,
    dstKey: number,
    rec: FlowRecord,
  ): void {
    watch.ring.add(this.inc, startMs, endMs, this.slotMs);
    watch.noteDestination(dstKey, endMs, this.windowMs);
    this.markDirty(watch);
    if (this.incidents.size > 0)
      this.incidents.get(watch.identity.family, watch.identity.target)?.collect(rec);
  }

  /**
   * Interface counters: the watched direction gets the record as traffic crossing it (inbound
   * increments); the opposite direction of the same interface gets its requests (outbound
   * increments), so answers to queries that left through a link are not reflection on it.
   */
  private countInterfaces(rec: FlowRecord, watches: InterfaceWatches, startMs: number, endMs: number): void {
    if (rec.input === null && rec.output === null) return;
    const exporter = rec.flowsrcip;
    const entering = rec.input === null ? null : watches.watch(exporter, rec.input, 'in');
    const leaving = rec.output === null ? null : watches.watch(exporter, rec.output, 'out');
    const requestsIn = rec.output === null ? null : watches.watch(exporter, rec.output, 'in');
    const requestsOut = rec.input === null ? null : watches.watch(exporter, rec.input, 'out');
    if (entering !== null || leaving !== null) {
      inboundIncrements(rec, this.ifInc);
      const dstKey = rec.dstip === null ? 0 : rec.dstip4 >= 0 ? rec.dstip4 : hashAddress(rec.dstip);
      for (const [watch, name] of [
        [entering, rec.inputname],
        [leaving, rec.outputname],
      ] as const) {
        if (watch === null) continue;
        if (name !== null) watch.interfaceName = name;
        watch.ring.add(this.ifInc, startMs, endMs, this.slotMs);
        watch.noteDestination(dstKey, endMs, this.windowMs);
        this.markDirty(watch);
        if (this.incidents.size > 0)
          this.incidents.get(watch.identity.family, watch.identity.target)?.collect(rec);
      }
    }
    if (requestsIn !== null || requestsOut !== null) {
      outboundIncrements(rec, this.ifInc);
      requestsIn?.ring.add(this.ifInc, startMs, endMs, this.slotMs);
      requestsOut?.ring.add(this.ifInc, startMs, endMs, this.slotMs);
    }
  }

  private markDirty(watch: AggregateWatch): void {
    if (watch.dirty) return;
    watch.dirty = true;
    this.dirtyWatches.push(watch);
  }

  /** Wall-clock housekeeping, every second: silent exporters, alerts that went quiet. */
  tick(wallMs: number = Date.now()): void {
    if (!this.config.enabled) return;
    // Records that arrived but did not move flow time into a new slot (the last burst before a
    // pause): evaluated with the newest slot included once nothing came for a second.
    if ((this.dirtyHosts.length > 0 || this.dirtyWatches.length > 0) && wallMs - this.lastAdvanceWall >= 1000)
      this.evaluate(wallMs, 0);
    this.checkExporters(wallMs);
    this.evictHosts(wallMs);
    this.incidents.tick(this.flowNow, wallMs);
  }

  status(): DetectionStatus {
    return {
      enabled: this.config.enabled,
      records: this.records,
      flowTime: Number.isFinite(this.flowNow) ? this.flowNow : null,
      hosts: this.hosts.size,
      maxHosts: this.config.maxhosts,
      hostsDropped: this.hostsDropped,
      activeAlerts: this.incidents.size,
      alertsStarted: this.incidents.started,
      alertsEnded: this.incidents.ended,
      scanSkippedSampled: this.scanSkippedSampled,
      lateRecords: this.lateRecords,
      interfaces: this.interfaceWatches?.size ?? 0,
      interfacesDropped: this.interfaceWatches?.dropped ?? 0,
    };
  }

  /** The alerts active now. */
  activeAlerts() {
    return this.incidents.list();
  }

  // ---- flow time and evaluation ----

  private advance(endMs: number, wallMs: number): void {
    this.flowNow = endMs;
    this.lastAdvanceWall = wallMs;
    const slot = Math.floor(endMs / this.slotMs);
    if (slot <= this.lastEvaluatedSlot) return;
    this.lastEvaluatedSlot = slot;
    this.evaluate(wallMs, 1);
  }

  /**
   * Evaluates the hosts touched since the last evaluation. As flow time enters a new slot the
   * window is the SLOTS slots completed before it (`back` 1); from tick(), when flow time stood
   * still, the window ends with the newest slot (`back` 0).
   */
  private evaluate(wallMs: number, back: 0 | 1): void {
    const nowSlot = Math.floor(this.flowNow / this.slotMs) - back;
    // Rates are always over the whole window, also in the first window after a start: dividing
    // by the part seen instead would turn the first records of long NetFlow flows (spread back
    // over minutes) into floods.
    const seconds = this.windowMs / 1000;
    for (const host of this.dirtyHosts) {
      host.dirty = false;
      // The host's own window (slot-ring.ts): up to its newest data, never past the completed slots.
      const endSlot = Math.min(host.newest, nowSlot);
      const at = (endSlot + 1) * this.slotMs;
      const group = this.groups[host.group] as Group;
      host.sums(endSlot, this.sums);
      this.checkFloods(host, group, seconds, at, wallMs);
      this.checkExfiltration(host, group, seconds, at, wallMs);
    }
    this.dirtyHosts.length = 0;
    for (const watch of this.dirtyWatches) {
      watch.dirty = false;
      const endSlot = Math.min(watch.ring.newest, nowSlot);
      watch.ring.sums(endSlot, this.sums);
      this.checkAggregate(watch, seconds, (endSlot + 1) * this.slotMs, wallMs);
    }
    this.dirtyWatches.length = 0;
  }

  /** `at`: the flow time the host's window ends at. */
  private checkFloods(host: HostEntry, group: Group, seconds: number, at: number, wallMs: number): void {
    const { flood, denied } = findingsOf(this.sums, seconds, group.floodChecks);
    if (denied !== null) this.reportFlood(host, group, denied, 'denied', at, wallMs);
    if (flood !== null) this.reportFlood(host, group, flood, 'flood', at, wallMs);
  }

  private reportFlood(
    host: HostEntry,
    group: Group,
    found: FloodFinding,
    family: string,
    at: number,
    wallMs: number,
  ): void {
    const { check, value, threshold } = found;
    this.incidents.report(
      {
        kind: check.kind,
        family,
        target: host.address,
        targetKind: 'host',
        direction: 'inbound',
        hostgroup: group.name,
        metric: check.metric,
        threshold,
        value,
        baseline: null,
        describe: (v, thr) => `${check.label} to ${host.address}: ${describeRate(v, thr, check.unit)}`,
      },
      at,
      wallMs,
      this.flowNow,
    );
  }

  /**
   * A hostgroup's, the network's or an interface's window against its thresholds; for an
   * interface also against a share of its speed. One incident per key: the most pronounced of
   * what holds names it (rejected traffic included: on these keys it is one more flood kind).
   */
  private checkAggregate(watch: AggregateWatch, seconds: number, at: number, wallMs: number): void {
    const id = watch.identity;
    const { flood, denied } = floodFindings(this.sums, seconds, watch.thresholds);
    let found: FloodFinding | null = flood;
    if (
      denied !== null &&
      (found === null || denied.value / denied.threshold > found.value / found.threshold)
    )
      found = denied;
    let describe: ((v: number, thr: number) => string) | null = null;
    let metric = found?.check.metric ?? '';
    let kind = found?.check.kind ?? 'volumetric';
    let value = found?.value ?? 0;
    let threshold = found?.threshold ?? 0;
    const iface =
      id.iface === null
        ? undefined
        : {
            ...id.iface,
            name: watch.interfaceName,
          };
    const label =
      iface === undefined
        ? id.label
        : `${iface.exporter} ${iface.name ?? `ifIndex ${iface.index}`} ${iface.direction}`;
    if (found !== null) {
      const check = found.check;
      const hosts =
        id.targetKind === 'hostgroup' ? `, ${formatCount(watch.distinctDestinations())} hosts hit` : '';
      describe = (v, thr) =>
        `${check.label} ${id.targetKind === 'interface' ? 'on' : 'to'} ${label}: ${describeRate(v, thr, check.unit)}${hosts}`;
    }
    if (iface !== undefined && watch.utilisation !== null) {
      const speed = this.interfaceSpeed(iface.exporter, iface.index);
      const bps = (this.sums[M.IN_BITS] as number) / seconds;
      const limit = speed === null ? null : (speed * watch.utilisation) / 100;
      if (
        speed !== null &&
        limit !== null &&
        limit > 0 &&
        bps >= limit &&
        (found === null || bps / limit > value / threshold)
      ) {
        kind = 'volumetric';
        metric = 'utilisation';
        value = bps;
        threshold = limit;
        describe = (v) =>
          `Interface ${label} at ${formatBits(v)}/s, ${Math.round((100 * v) / speed)} % of its ${formatBits(speed)}/s (alerting from ${watch.utilisation} %)`;
      }
    }
    if (describe === null) return;
    this.incidents.report(
      {
        kind,
        family: id.family,
        target: id.target,
        targetKind: id.targetKind,
        ...(iface === undefined ? {} : { interface: iface }),
        direction: id.direction,
        hostgroup: id.hostgroup,
        metric,
        threshold,
        value,
        baseline: null,
        describe,
      },
      at,
      wallMs,
      this.flowNow,
    );
  }

  private checkExfiltration(
    host: HostEntry,
    group: Group,
    seconds: number,
    at: number,
    wallMs: number,
  ): void {
    const out = (this.sums[M.OUT_BITS] as number) / seconds;
    const cfg = this.config.baseline;
    if (!cfg.enabled) return;
    if (out > 0 && host.outBaseline === null) host.outBaseline = new Baseline(cfg);
    const baseline = host.outBaseline;
    if (baseline === null) return;
    const floor = group.thresholds.exfilbps;
    // The limit is at least the floor: below it (nearly every host, nearly always) the baseline
    // need not be read at all.
    const expected = floor !== null && out >= floor ? baseline.expected(at) : null;
    let anomalous = false;
    if (floor !== null && expected !== null) {
      // A steady host has a deviation near 0; a tenth of its mean stands in as the least deviation,
      // so "far above" is always at least deviations × 10 % above what it usually sends.
      const deviation = Math.max(expected.deviation, 0.1 * expected.mean);
      const limit = Math.max(floor, expected.mean + cfg.deviations * deviation);
      if (out >= limit) {
        anomalous = true;
        this.incidents.report(
          {
            kind: 'exfiltration',
            family: 'exfil',
            target: host.address,
            targetKind: 'host',
            direction: 'outbound',
            hostgroup: group.name,
            metric: 'outbound bps',
            threshold: limit,
            value: out,
            baseline: expected.mean,
            describe: (v) =>
              `Outbound traffic from ${host.address}: ${formatBits(v)}/s, usually ${formatBits(expected.mean)}/s`,
          },
          at,
          wallMs,
          this.flowNow,
        );
      }
    }
    // One sample per complete window; an anomaly is not learnt as normal.
    if (Number.isNaN(host.firstSeenFlow)) host.firstSeenFlow = at;
    const complete = at - host.firstSeenFlow >= this.windowMs + this.slotMs;
    if (!anomalous && complete && at - host.lastBaselineSample >= this.windowMs) {
      host.lastBaselineSample = at;
      baseline.observe(out, at);
    }
  }

  // ---- per-record detectors that are not host rates ----

  private probe(rec: FlowRecord, endMs: number, wallMs: number): void {
    if ((rec.samplerate ?? 1) > this.config.maxscansamplerate) {
      this.scanSkippedSampled++;
      return;
    }
    const { scan, sweep } = this.probes.observe(rec, endMs);
    const t = this.config.thresholds;
    if (scan !== null && t.scanports !== null) {
      this.incidents.report(
        {
          kind: 'port_scan',
          family: 'scan',
          target: scan.source,
          targetKind: 'host',
          direction: 'outbound',
          hostgroup: null,
          metric: 'distinct ports',
          threshold: t.scanports,
          value: scan.distinct,
          baseline: null,
          describe: (v) =>
            `Port scan from ${scan.source} to ${scan.target}: ${formatCount(v)} ports in ${Math.round((scan.lastSeenMs - scan.firstSeenMs) / 1000)} s`,
        },
        this.flowNow,
        wallMs,
      );
      this.incidents.get('scan', scan.source)?.collect(rec);
    }
    if (sweep !== null && t.sweephosts !== null) {
      this.incidents.report(
        {
          kind: 'sweep',
          family: 'sweep',
          target: sweep.source,
          targetKind: 'host',
          direction: 'outbound',
          hostgroup: null,
          metric: 'distinct hosts',
          threshold: t.sweephosts,
          value: sweep.distinct,
          baseline: null,
          describe: (v) => `Sweep from ${sweep.source} on ${sweep.target}: ${formatCount(v)} hosts probed`,
        },
        this.flowNow,
        wallMs,
      );
      this.incidents.get('sweep', sweep.source)?.collect(rec);
    }
  }

  private newDestination(rec: FlowRecord, endMs: number, wallMs: number): void {
    const threshold = this.config.thresholds.newdstbytes;
    if (threshold === null) return;
    const src = rec.srcip4 >= 0 ? rec.srcip4 : hashAddress(rec.srcip as string);
    const dst = rec.dstip4 >= 0 ? rec.dstip4 : hashAddress(rec.dstip as string);
    const pair = fmix32(Math.imul(src, 0x9e3779b1) ^ dst, 0x27d4eb2f);
    const learning = endMs - this.firstFlow < this.config.learnperiod * 1000;
    if (this.seenPairs.get(pair) < 0) {
      this.seenPairs.set(pair, 0);
      if (learning) return;
      this.newPairs.set(pair, { bytes: 0, first: endMs });
    }
    // No pair is new while learning (and rarely after): then there is nothing to look up.
    if (this.newPairs.size === 0) return;
    const fresh = this.newPairs.get(pair);
    if (fresh === undefined) return;
    if (endMs - fresh.first > 10 * this.windowMs) {
      // Long known by now: no longer "new".
      this.newPairs.set(pair, { bytes: Number.NEGATIVE_INFINITY, first: fresh.first });
      return;
    }
    fresh.bytes += ((rec.bits ?? 0) / 8) * (rec.samplerate ?? 1) * rec.weight;
    if (fresh.bytes < threshold) return;
    const src_ = rec.srcip as string;
    const dst_ = rec.dstip as string;
    const bytes = fresh.bytes;
    this.incidents.report(
      {
        kind: 'new_destination',
        family: 'newdst',
        target: src_,
        targetKind: 'host',
        direction: 'outbound',
        hostgroup: null,
        metric: 'bytes to a new destination',
        threshold,
        value: bytes,
        baseline: null,
        describe: (v) =>
          `${src_} sent ${formatBits(v * 8).replace(/b$/, 'B')} to ${dst_}, a destination never seen before`,
      },
      this.flowNow,
      wallMs,
    );
    this.incidents.get('newdst', src_)?.collect(rec);
  }

  private deniedSource(rec: FlowRecord, endMs: number, wallMs: number): void {
    const threshold = this.config.thresholds.deniedflows;
    if (threshold === null) return;
    const src = rec.srcip as string;
    let state = this.deniedBySource.get(src);
    if (state === undefined || endMs - state.windowStart >= this.windowMs) {
      state = { windowStart: endMs, flows: 0 };
      this.deniedBySource.set(src, state);
    }
    state.flows += rec.weight;
    const rate = state.flows / (this.windowMs / 1000);
    if (rate < threshold) return;
    this.incidents.report(
      {
        kind: 'denied_spike',
        family: 'denied-from',
        target: src,
        targetKind: 'host',
        direction: 'outbound',
        hostgroup: null,
        metric: 'rejected flows/s',
        threshold,
        value: rate,
        baseline: null,
        describe: (v, thr) => `Rejected flows from ${src}: ${describeRate(v, thr, 'flows/s')}`,
      },
      this.flowNow,
      wallMs,
    );
  }

  // ---- exporters ----

  private noteExporter(exporter: string, wallMs: number): void {
    // Exporters are never removed from the table: the entry found for the last record stays valid.
    let e = exporter === this.recentExporter ? this.recentExporterEntry : this.exporters.get(exporter);
    if (e === undefined || e === null) {
      if (this.exporters.size >= this.maxExporters) return;
      e = { lastWall: wallMs, records: 0, silent: false };
      this.exporters.set(exporter, e);
    }
    this.recentExporter = exporter;
    this.recentExporterEntry = e;
    e.lastWall = wallMs;
    e.records++;
  }

  private checkExporters(wallMs: number): void {
    const limit = this.config.exportersilent;
    if (limit === null) return;
    for (const [exporter, e] of this.exporters) {
      const silentFor = (wallMs - e.lastWall) / 1000;
      if (silentFor < limit) continue;
      this.incidents.report(
        {
          kind: 'exporter_silent',
          family: 'silent',
          target: exporter,
          targetKind: 'exporter',
          direction: null,
          hostgroup: null,
          metric: 'seconds without records',
          threshold: limit,
          value: silentFor,
          baseline: null,
          describe: (v) => `Exporter ${exporter} sent no records for ${Math.round(v)} s`,
        },
        this.flowNow,
        wallMs,
      );
    }
  }

  // ---- the host table ----

  /** `recent`: which of recentKeys to look in first and to update (0 destination, 1 source). */
  private host(key: number | string, address: string, wallMs: number, recent: 0 | 1): HostEntry | null {
    let entry =
      key === this.recentKeys[recent] ? (this.recentHosts[recent] as HostEntry) : this.hosts.get(key);
    if (entry === undefined) {
      if (this.hosts.size >= this.config.maxhosts) {
        this.hostsDropped++;
        return null;
      }
      entry = new HostEntry(address, this.groupOf(address));
      this.hosts.set(key, entry);
    }
    this.recentKeys[recent] = key;
    this.recentHosts[recent] = entry;
    entry.lastSeenWall = wallMs;
    if (!entry.dirty) {
      entry.dirty = true;
      this.dirtyHosts.push(entry);
    }
    return entry;
  }

  private groupOf(address: string): number {
    for (let i = 0; i < this.groupSets.length; i++)
      if ((this.groupSets[i] as PrefixSet).has(address)) return i + 1;
    return 0;
  }

  /**
   * Keeps the table under its bound: when 90 % full, hosts not seen for three windows are dropped
   * (their window is empty anyway; only a baseline is lost).
   */
  private evictHosts(wallMs: number): void {
    if (this.hosts.size < this.config.maxhosts * 0.9) return;
    const idle = 3 * this.windowMs;
    this.recentKeys.fill(null);
    this.recentHosts.fill(null);
    for (const [key, entry] of this.hosts) {
      if (wallMs - entry.lastSeenWall > idle && !entry.dirty) this.hosts.delete(key);
    }
  }
}

interface ExporterEntry {
  lastWall: number;
  records: number;
  silent: boolean;
}

const NETWORK_IDENTITY: AggregateIdentity = {
  family: 'network-flood',
  target: 'internal',
  targetKind: 'hostgroup',
  direction: 'inbound',
  hostgroup: null,
  label: 'the internal networks',
  iface: null,
};

function groupIdentity(g: HostgroupConfig): AggregateIdentity {
  return {
    family: 'group-flood',
    target: g.name,
    targetKind: 'hostgroup',
    direction: 'inbound',
    hostgroup: g.name,
    label: `hostgroup ${g.name}`,
    iface: null,
  };
}

/**
 * The counters of a total with `thresholds`: `kept` (its window stays; its thresholds object is the
 * engine's own copy, so it is updated in place), a new one, or null when no threshold is set.
 */
function aggregateOf(
  kept: AggregateWatch | null,
  thresholds: Partial<FloodThresholds>,
  identity: () => AggregateIdentity,
): AggregateWatch | null {
  if (!anyFloodThreshold(thresholds)) return null;
  if (kept === null) return new AggregateWatch(identity(), { ...thresholds });
  const own = kept.thresholds;
  for (const k of FLOOD_THRESHOLD_KEYS) delete own[k];
  Object.assign(own, thresholds);
  return kept;
}

function interfaceWatchesOf(config: DetectionConfig): InterfaceWatches | null {
  return config.interfaces.length > 0 ? new InterfaceWatches(config.interfaces, config.maxinterfaces) : null;
}
