/**
 * Counters over a sliding window for a key that is not one host: a hostgroup's hosts together, all
 * internal hosts together (carpet bombing spreads a flood over many addresses, each under its own
 * thresholds), or one exporter interface in one direction. Same window and time model as a host
 * (slot-ring.ts), plus the distinct destination hosts of the last one to two windows, so an alert
 * can say how many hosts were hit.
 */
import type { AlertInterface } from './alert.js';
import type { FloodThresholds } from './flood-checks.js';
import { HyperLogLog } from './sketch/hyperloglog.js';
import { SlotRing } from './slot-ring.js';

export interface AggregateIdentity {
  /** Incidents are per family and target (incidents.ts). */
  readonly family: 'group-flood' | 'network-flood' | 'interface-flood';
  readonly target: string;
  readonly targetKind: 'hostgroup' | 'interface';
  readonly direction: 'inbound' | 'outbound';
  /** The hostgroup whose totals apply (null for the network and interfaces). */
  readonly hostgroup: string | null;
  /** How the key reads in a summary: "hostgroup servers", "192.0.2.1 xe-0/0/1 in". */
  readonly label: string;
  readonly iface: AlertInterface | null;
}

export class AggregateWatch {
  readonly ring = new SlotRing();
  dirty = false;
  /** Interface name as enrichment found it, once a record carried one. */
  interfaceName: string | null = null;
  private current = new HyperLogLog(10);
  private previous = new HyperLogLog(10);
  private periodStart = Number.NaN;

  constructor(
    readonly identity: AggregateIdentity,
    readonly thresholds: Partial<FloodThresholds>,
    /** Percent of the interface speed that alerts (interfaces only); null: off. */
    readonly utilisation: number | null = null,
  ) {}

  /** Notes a destination host (its 32-bit key) of traffic at flow time `atMs`. */
  noteDestination(key: number, atMs: number, windowMs: number): void {
    if (Number.isNaN(this.periodStart)) this.periodStart = atMs;
    if (atMs - this.periodStart >= windowMs) {
      // Two generations: the estimate always covers at least the last window.
      const old = this.previous;
      old.clear();
      this.previous = this.current;
      this.current = old;
      this.periodStart = atMs;
    }
    this.current.addU32(key);
  }

  /** Distinct destination hosts over the last one to two windows (estimated). */
  distinctDestinations(): number {
    const union = new HyperLogLog(10);
    union.merge(this.current);
    union.merge(this.previous);
    return Math.round(union.estimate());
  }
}
