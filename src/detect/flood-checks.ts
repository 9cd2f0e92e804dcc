/**
 * The rate checks of inbound traffic (floods) against thresholds, shared by every key that has a
 * window of counters: hosts, hostgroup and network totals, exporter interfaces. Each check reads
 * the window sums (traffic-metrics.ts) and returns a per-second value.
 */
import type { AlertKind } from './alert.js';
import type { Thresholds } from './detection-config.js';
import { M } from './traffic-metrics.js';

/** The thresholds a flood check can use (per second, null or absent: off). */
export type FloodThresholds = Pick<
  Thresholds,
  | 'bps'
  | 'pps'
  | 'flows'
  | 'synpps'
  | 'ackpps'
  | 'rstpps'
  | 'icmppps'
  | 'udppps'
  | 'fragpps'
  | 'reflectionpps'
  | 'deniedflows'
>;

export const FLOOD_THRESHOLD_KEYS: readonly (keyof FloodThresholds)[] = [
  'bps',
  'pps',
  'flows',
  'synpps',
  'ackpps',
  'rstpps',
  'icmppps',
  'udppps',
  'fragpps',
  'reflectionpps',
  'deniedflows',
];

/** One check of window sums against a threshold. */
export interface RateCheck {
  readonly kind: AlertKind;
  readonly metric: string;
  readonly key: keyof FloodThresholds;
  readonly value: (sums: Float64Array, seconds: number) => number;
  readonly label: string;
  readonly unit: 'bps' | 'pps' | 'flows/s';
}

export const FLOOD_CHECKS: readonly RateCheck[] = [
  {
    kind: 'volumetric',
    metric: 'bps',
    label: 'Volumetric flood',
    unit: 'bps',
    key: 'bps',
    value: (s, w) => (s[M.IN_BITS] as number) / w,
  },
  {
    kind: 'volumetric',
    metric: 'pps',
    label: 'Volumetric flood',
    unit: 'pps',
    key: 'pps',
    value: (s, w) => (s[M.IN_PKTS] as number) / w,
  },
  {
    kind: 'volumetric',
    metric: 'flows/s',
    label: 'Flow flood',
    unit: 'flows/s',
    key: 'flows',
    value: (s, w) => (s[M.IN_FLOWS] as number) / w,
  },
  {
    kind: 'syn_flood',
    metric: 'syn pps',
    label: 'SYN flood',
    unit: 'pps',
    key: 'synpps',
    value: (s, w) => (s[M.SYN_PKTS] as number) / w,
  },
  {
    kind: 'ack_flood',
    metric: 'ack pps',
    label: 'ACK flood',
    unit: 'pps',
    key: 'ackpps',
    value: (s, w) => (s[M.ACK_PKTS] as number) / w,
  },
  {
    kind: 'rst_flood',
    metric: 'rst pps',
    label: 'RST flood',
    unit: 'pps',
    key: 'rstpps',
    value: (s, w) => (s[M.RST_PKTS] as number) / w,
  },
  {
    kind: 'icmp_flood',
    metric: 'icmp pps',
    label: 'ICMP flood',
    unit: 'pps',
    key: 'icmppps',
    value: (s, w) => (s[M.ICMP_PKTS] as number) / w,
  },
  {
    kind: 'udp_flood',
    metric: 'udp pps',
    label: 'UDP flood',
    unit: 'pps',
    key: 'udppps',
    value: (s, w) => (s[M.UDP_PKTS] as number) / w,
  },
  {
    kind: 'fragment_flood',
    metric: 'fragment pps',
    label: 'Fragment flood',
    unit: 'pps',
    key: 'fragpps',
    value: (s, w) => (s[M.FRAG_PKTS] as number) / w,
  },
  {
    kind: 'reflection',
    metric: 'reflected pps',
    label: 'Reflection/amplification',
    unit: 'pps',
    key: 'reflectionpps',
    // Answers the host asked for (a resolver's queries out) are not reflection: only the excess.
    value: (s, w) => Math.max(0, (s[M.REFL_PKTS] as number) - 2 * (s[M.REFL_REQ_PKTS] as number)) / w,
  },
  {
    kind: 'denied_spike',
    metric: 'rejected flows/s',
    label: 'Rejected traffic',
    unit: 'flows/s',
    key: 'deniedflows',
    value: (s, w) => (s[M.IN_DENIED] as number) / w,
  },
];

export interface FloodFinding {
  readonly check: RateCheck;
  readonly value: number;
  readonly threshold: number;
}

/** A check with its threshold set, as findingsOf() takes them. */
export interface ActiveCheck {
  readonly check: RateCheck;
  readonly threshold: number;
}

/** The checks `thresholds` switches on, in FLOOD_CHECKS order. */
export function activeChecks(thresholds: Partial<FloodThresholds>): ActiveCheck[] {
  const active: ActiveCheck[] = [];
  for (const check of FLOOD_CHECKS) {
    const threshold = thresholds[check.key];
    if (threshold !== null && threshold !== undefined) active.push({ check, threshold });
  }
  return active;
}

/**
 * The checks that hold on `sums`: of the floods only the most pronounced (value / threshold), so
 * an alert starts with the right kind (a reflection flood is also a UDP flood, but it is reported
 * as what it most is); rejected traffic separately, being a different incident.
 */
export function floodFindings(
  sums: Float64Array,
  seconds: number,
  thresholds: Partial<FloodThresholds>,
): { flood: FloodFinding | null; denied: FloodFinding | null } {
  return findingsOf(sums, seconds, activeChecks(thresholds));
}

/**
 * floodFindings() with the checks picked beforehand: hosts are evaluated every slot and their
 * thresholds (a hostgroup's) only change on reload, so the engine keeps each group's list.
 */
export function findingsOf(
  sums: Float64Array,
  seconds: number,
  checks: readonly ActiveCheck[],
): { flood: FloodFinding | null; denied: FloodFinding | null } {
  let flood: FloodFinding | null = null;
  let denied: FloodFinding | null = null;
  for (let i = 0; i < checks.length; i++) {
    const { check, threshold } = checks[i] as ActiveCheck;
    const value = check.value(sums, seconds);
    if (value < threshold) continue;
    if (check.kind === 'denied_spike') denied = { check, value, threshold };
    else if (flood === null || value / threshold > flood.value / flood.threshold)
      flood = { check, value, threshold };
  }
  // Nearly every evaluation finds nothing: one shared answer then, no object per host and slot.
  return flood === null && denied === null ? NO_FINDINGS : { flood, denied };
}

const NO_FINDINGS: { readonly flood: null; readonly denied: null } = Object.freeze({
  flood: null,
  denied: null,
});

/** Whether any flood threshold is set (a key with none needs no counters at all). */
export function anyFloodThreshold(thresholds: Partial<FloodThresholds>): boolean {
  return FLOOD_THRESHOLD_KEYS.some((k) => thresholds[k] !== null && thresholds[k] !== undefined);
}
