/**
 * The alert lifecycle: one incident per (family, target), e.g. every flood kind on 192.0.2.10 is
 * one incident whose kind is the most pronounced one; raised when a detector first reports it
 * (`start`), updated while detectors keep reporting it (`update`, at most every updateinterval,
 * with the peak and the totals so far), ended once nothing reported it for `endafter` seconds of
 * flow time (`end`). With no records arriving at all (flow time stands still), the wall clock
 * ends it `endafter` + window seconds after the last report.
 *
 * While an incident is active the engine hands it the records that concern its target, for the
 * alert's totals, top sources/ports/protocols and distinct sources.
 */

import type { FlowRecord } from '../record/flow-record.js';
import { protocolKeyword } from '../record/protocols.js';
import { hashAddress } from './address-key.js';
import type {
  Alert,
  AlertEvent,
  AlertEventType,
  AlertInterface,
  AlertKind,
  AlertSeverity,
  AlertSink,
  AlertTargetKind,
  AlertTopEntry,
} from './alert.js';
import { HyperLogLog } from './sketch/hyperloglog.js';
import { type HeavyHitter, TopK } from './sketch/top-k.js';
import { estimatedBits, estimatedPackets } from './traffic-metrics.js';

/** What a detector found at one evaluation. */
export interface Finding {
  readonly kind: AlertKind;
  /** Incidents are per family and target: "flood" (all volumetric and protocol kinds), "scan", ... */
  readonly family: string;
  readonly target: string;
  readonly targetKind: AlertTargetKind;
  readonly interface?: AlertInterface;
  readonly direction: 'inbound' | 'outbound' | null;
  readonly hostgroup: string | null;
  readonly metric: string;
  readonly threshold: number;
  readonly value: number;
  readonly baseline: number | null;
  /** One line for people, given the value (the incident's summary follows its latest value). */
  readonly describe: (value: number, threshold: number) => string;
}

/** severity from how far the value is past the threshold. */
export function severityOf(value: number, threshold: number): AlertSeverity {
  const ratio = threshold > 0 ? value / threshold : Number.POSITIVE_INFINITY;
  if (ratio >= 10) return 'critical';
  if (ratio >= 3) return 'high';
  if (ratio >= 1.5) return 'medium';
  return 'low';
}

const TOP_N = 10;
const MAX_EXPORTERS = 16;

class Incident {
  readonly id: string;
  finding: Finding;
  value: number;
  peak: number;
  readonly startedAt: number;
  updatedAt: number;
  readonly detectedAt: number;
  lastTrueFlow: number;
  lastTrueWall: number;
  lastEmitWall: number;
  /** How far the data behind the latest report lagged the engine's clock. */
  lagMs = 0;
  changed = false;
  bits = 0;
  packets = 0;
  flows = 0;
  readonly sources = new TopK(32);
  readonly destinations = new TopK(32);
  readonly srcports = new TopK(32);
  readonly dstports = new TopK(32);
  readonly protocols = new TopK(16);
  readonly distinctSources = new HyperLogLog(10);
  readonly exporters = new Set<string>();

  constructor(id: string, finding: Finding, flowNow: number, wallNow: number) {
    this.id = id;
    this.finding = finding;
    this.value = finding.value;
    this.peak = finding.value;
    this.startedAt = flowNow;
    this.updatedAt = flowNow;
    this.detectedAt = wallNow;
    this.lastTrueFlow = flowNow;
    this.lastTrueWall = wallNow;
    this.lastEmitWall = wallNow;
  }

  collect(rec: FlowRecord): void {
    const bits = estimatedBits(rec);
    const packets = estimatedPackets(rec);
    const flows = rec.weight;
    this.bits += bits;
    this.packets += packets;
    this.flows += flows;
    if (rec.srcip !== null) {
      this.sources.add(rec.srcip, bits, packets, flows);
      this.distinctSources.addU32(rec.srcip4 >= 0 ? rec.srcip4 : hashAddress(rec.srcip));
    }
    if (rec.dstip !== null) this.destinations.add(rec.dstip, bits, packets, flows);
    if (rec.srcport !== null) this.srcports.add(rec.srcport, bits, packets, flows);
    if (rec.dstport !== null) this.dstports.add(rec.dstport, bits, packets, flows);
    if (rec.protocolint !== null) this.protocols.add(rec.protocolint, bits, packets, flows);
    if (this.exporters.size < MAX_EXPORTERS) this.exporters.add(rec.flowsrcip);
  }

  alert(state: 'active' | 'ended', endedAt: number | null): Alert {
    const f = this.finding;
    // Exporter alerts collect no records; the others count their sources.
    const hostLike = f.targetKind !== 'exporter';
    return {
      id: this.id,
      kind: f.kind,
      severity: severityOf(this.peak, f.threshold),
      state,
      direction: f.direction,
      target: f.target,
      targetKind: f.targetKind,
      interface: f.interface ?? null,
      hostgroup: f.hostgroup,
      summary: f.describe(this.value, f.threshold),
      metric: f.metric,
      threshold: f.threshold,
      value: this.value,
      peak: this.peak,
      baseline: f.baseline,
      startedAt: this.startedAt,
      updatedAt: this.updatedAt,
      endedAt,
      detectedAt: this.detectedAt,
      totals: { bits: this.bits, packets: this.packets, flows: this.flows },
      distinctSources: hostLike && this.flows > 0 ? Math.round(this.distinctSources.estimate()) : null,
      top: {
        sources: entries(this.sources.top(TOP_N), String),
        destinations: entries(this.destinations.top(TOP_N), String),
        srcports: entries(this.srcports.top(TOP_N), String),
        dstports: entries(this.dstports.top(TOP_N), String),
        protocols: entries(this.protocols.top(TOP_N), (p) => protocolKeyword(Number(p)) ?? String(p)),
      },
      exporters: [...this.exporters],
    };
  }
}

function entries(top: HeavyHitter[], name: (k: string | number) => string): AlertTopEntry[] {
  return top.map((h) => ({ key: name(h.key), bits: h.weight, packets: h.packets, flows: h.flows }));
}

export interface IncidentSettings {
  endAfterMs: number;
  updateIntervalMs: number;
  windowMs: number;
}

export class Incidents {
  /** By `family:target`, in the order they started (the order tick() sends their events in). */
  private readonly active = new Map<string, Incident>();
  /**
   * The same incidents by family, then target: get() runs for every record while any incident is
   * active, and this finds it (or not) without building a key string per record.
   */
  private readonly byFamily = new Map<string, Map<string, Incident>>();
  private nextId = 1;
  private readonly idPrefix = Date.now().toString(36);
  started = 0;
  ended = 0;

  constructor(
    private settings: IncidentSettings,
    private readonly sinks: readonly AlertSink[],
  ) {}

  /**
   * New endafter / update interval (configuration reload). Active incidents keep their state; the
   * next tick() ends or updates them by the new settings.
   */
  retime(endAfterMs: number, updateIntervalMs: number): void {
    this.settings = { ...this.settings, endAfterMs, updateIntervalMs };
  }

  get size(): number {
    return this.active.size;
  }

  /**
   * Records a detector's finding about flow time `flowTime` (the end of the data it looked at),
   * reported when the engine's clock is at `engineNow`; the difference is the data's lag (late
   * exporters), which the end of the incident allows for.
   */
  report(f: Finding, flowTime: number, wallNow: number, engineNow: number = flowTime): void {
    const flowNow = flowTime;
    const key = `${f.family}:${f.target}`;
    const incident = this.active.get(key);
    if (incident === undefined) {
      const created = new Incident(`${this.idPrefix}-${this.nextId++}`, f, flowNow, wallNow);
      created.lagMs = Math.max(0, engineNow - flowTime);
      this.active.set(key, created);
      this.index(f.family, f.target, created);
      this.started++;
      this.emit('start', created.alert('active', null));
      return;
    }
    // The most pronounced kind names the incident (a flood that turns out to be mostly SYN).
    const current = incident.finding;
    if (f.kind !== current.kind && f.value / f.threshold > incident.value / current.threshold) {
      incident.finding = f;
      incident.peak = f.value;
    } else if (f.kind === current.kind) {
      incident.finding = f;
    } else {
      incident.lastTrueFlow = Math.max(incident.lastTrueFlow, flowNow);
      incident.lastTrueWall = wallNow;
      return;
    }
    incident.lagMs = Math.max(0, engineNow - flowTime);
    incident.value = f.value;
    if (f.value > incident.peak) incident.peak = f.value;
    incident.updatedAt = Math.max(incident.updatedAt, flowNow);
    incident.lastTrueFlow = Math.max(incident.lastTrueFlow, flowNow);
    incident.lastTrueWall = wallNow;
    incident.changed = true;
  }

  /** The active incident of `family` on `target`, to hand it records; undefined when none. */
  get(family: string, target: string): { collect(rec: FlowRecord): void } | undefined {
    return this.byFamily.get(family)?.get(target);
  }

  /** Ends quiet incidents and sends due updates. */
  tick(flowNow: number, wallNow: number): void {
    const { endAfterMs, updateIntervalMs, windowMs } = this.settings;
    for (const [key, incident] of this.active) {
      const quietFlow = flowNow - incident.lagMs - incident.lastTrueFlow >= endAfterMs;
      const quietWall = wallNow - incident.lastTrueWall >= endAfterMs + windowMs;
      if (quietFlow || quietWall) {
        this.active.delete(key);
        this.unindex(incident.finding.family, incident.finding.target);
        this.ended++;
        const endedAt = quietFlow ? incident.lastTrueFlow + endAfterMs : incident.updatedAt;
        this.emit('end', incident.alert('ended', endedAt));
        continue;
      }
      if (incident.changed && wallNow - incident.lastEmitWall >= updateIntervalMs) {
        incident.changed = false;
        incident.lastEmitWall = wallNow;
        this.emit('update', incident.alert('active', null));
      }
    }
  }

  /** The active alerts, as they would be sent now. */
  list(): Alert[] {
    return [...this.active.values()].map((i) => i.alert('active', null));
  }

  /** Ends every active incident (shutdown): sinks get `end` events. */
  endAll(flowNow: number): void {
    for (const incident of this.active.values()) {
      this.ended++;
      this.emit('end', incident.alert('ended', Math.max(flowNow, incident.updatedAt)));
    }
    this.active.clear();
    this.byFamily.clear();
  }

  private index(family: string, target: string, incident: Incident): void {
    let targets = this.byFamily.get(family);
    if (targets === undefined) {
      targets = new Map();
      this.byFamily.set(family, targets);
    }
    targets.set(target, incident);
  }

  private unindex(family: string, target: string): void {
    const targets = this.byFamily.get(family);
    if (targets === undefined) return;
    targets.delete(target);
    if (targets.size === 0) this.byFamily.delete(family);
  }

  private emit(type: AlertEventType, alert: Alert): void {
    const event: AlertEvent = { type, alert };
    for (const sink of this.sinks) {
      try {
        sink.handle(event);
      } catch {
        // Sinks must not throw (alert.ts); one that does must not stop the others.
      }
    }
  }
}
