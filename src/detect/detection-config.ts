/**
 * Detection settings as the engine uses them (the `detection:` config section, validated in
 * config/schema.ts), with the documented defaults. Thresholds are per host and per second; a
 * hostgroup (networks) overrides any of them for its hosts; null switches a check off.
 */
import type { FloodThresholds } from './flood-checks.js';

export interface Thresholds {
  /** Inbound to one host: bits/s, packets/s, flows/s (volumetric flood). */
  bps: number | null;
  pps: number | null;
  flows: number | null;
  /** Inbound packets/s of one kind (protocol floods). */
  synpps: number | null;
  ackpps: number | null;
  rstpps: number | null;
  icmppps: number | null;
  udppps: number | null;
  fragpps: number | null;
  /** Inbound UDP packets/s from reflection source ports, beyond the host's own requests. */
  reflectionpps: number | null;
  /** Distinct destination ports one source probes on one host within `scanwindow` (vertical scan). */
  scanports: number | null;
  /** Distinct hosts one source probes on one port within `scanwindow` (horizontal sweep). */
  sweephosts: number | null;
  /** Outbound bits/s of an internal host below which its baseline is never alarming (exfiltration). */
  exfilbps: number | null;
  /** Bytes sent within the window to a destination the host never talked to before. */
  newdstbytes: number | null;
  /** Rejected flows/s (cloud records with action reject) to one host, or from one source. */
  deniedflows: number | null;
}

export interface HostgroupConfig {
  name: string;
  networks: string[];
  thresholds: Partial<Thresholds>;
  /**
   * Flood thresholds for the group's hosts together (carpet bombing: many hosts each below their
   * own thresholds); none set: no group counters.
   */
  totals: Partial<FloodThresholds>;
}

/**
 * Counters per exporter interface: traffic entering (`in`) or leaving (`out`) the interfaces of
 * matching exporters, checked against flood thresholds and a share of the interface's speed.
 */
export interface InterfaceWatchConfig {
  /** Exporter address or CIDR. */
  exporter: string;
  /** ifIndexes watched; empty: every interface of the exporter. */
  index: number[];
  direction: 'in' | 'out' | 'both';
  thresholds: Partial<FloodThresholds>;
  /** Percent of the interface speed (`interfaces:` speed, else SNMP ifHighSpeed) that alerts; null: off. */
  utilisation: number | null;
}

export interface BaselineConfig {
  enabled: boolean;
  /** Time-of-day slots per day (24 = hourly, 1 = one baseline whatever the hour). */
  slots: number;
  /** Samples (one per window) a slot needs before it is used; until then the all-day baseline. */
  warmup: number;
  /** Weight of a new sample in the moving mean and deviation (EWMA). */
  alpha: number;
  /** How many deviations above the mean counts as anomalous. */
  deviations: number;
}

export interface DetectionConfig {
  enabled: boolean;
  /** Seconds of flow time rates are averaged over (≥ the exporters' active timeout for NetFlow). */
  window: number;
  /** Seconds an alert's condition must stay false (flow time) before the alert ends. */
  endafter: number;
  /** Seconds between `update` events of an active alert. */
  updateinterval: number;
  /** Internal hosts tracked at most (each ~1 KB); beyond it the least recently seen are dropped. */
  maxhosts: number;
  /** Probe sources (scan/sweep/denied state) tracked at most. */
  maxsources: number;
  /** Seconds of flow time a scan or sweep is counted over. */
  scanwindow: number;
  /** Scans and sweeps are not looked for in records sampled more sparsely than 1 in N. */
  maxscansamplerate: number;
  /** Seconds without records after which a known exporter is alerted as silent; null: off. */
  exportersilent: number | null;
  /** Seconds of flow time before new-destination alerts start (destinations seen until then are known). */
  learnperiod: number;
  thresholds: Thresholds;
  hostgroups: HostgroupConfig[];
  /** Flood thresholds for all internal hosts together; none set: no network counters. */
  totals: Partial<FloodThresholds>;
  interfaces: InterfaceWatchConfig[];
  /** Exporter interfaces (and directions) counted at most. */
  maxinterfaces: number;
  baseline: BaselineConfig;
}

/**
 * Defaults after FastNetMon's (1 Gb/s, 3,500 flows/s per host; its 20,000 pps is raised to 100,000:
 * a busy server at a few hundred Mb/s passes 20,000 pps, and `flowgate demo`'s did), the Elastic
 * rules for scans (50 ports, 100 hosts) and US-CERT's reflection ports; see docs/detection.md.
 */
export const DEFAULT_THRESHOLDS: Thresholds = {
  bps: 1_000_000_000,
  pps: 100_000,
  flows: 3_500,
  synpps: 5_000,
  ackpps: null,
  rstpps: 5_000,
  icmppps: 5_000,
  // Inbound UDP at this rate to one host is rarely anything but a flood (a 450 Mb/s flood of large
  // packets stays under bps and pps; QUIC-heavy clients may need a hostgroup override).
  udppps: 30_000,
  fragpps: 2_000,
  reflectionpps: 5_000,
  scanports: 50,
  sweephosts: 100,
  exfilbps: 50_000_000,
  newdstbytes: 1_000_000_000,
  deniedflows: 100,
};

export function defaultDetectionConfig(): DetectionConfig {
  return {
    enabled: true,
    // Short, like FastNetMon's 5 s for sFlow: spreading NetFlow records over their duration
    // (slot-ring.ts) keeps rates right without the 30–60 s windows other detectors need for it.
    window: 10,
    endafter: 60,
    updateinterval: 10,
    maxhosts: 100_000,
    maxsources: 100_000,
    scanwindow: 60,
    maxscansamplerate: 10,
    exportersilent: 300,
    learnperiod: 3600,
    thresholds: { ...DEFAULT_THRESHOLDS },
    hostgroups: [],
    // What a whole network or a link may carry depends on its size: off until configured.
    totals: {},
    interfaces: [],
    maxinterfaces: 10_000,
    baseline: { enabled: true, slots: 24, warmup: 20, alpha: 0.05, deviations: 6 },
  };
}

/** UDP source ports of reflection/amplification (US-CERT TA14-017A and later advisories). */
export const REFLECTION_PORTS: readonly number[] = [
  17, 19, 53, 69, 111, 123, 137, 161, 389, 520, 1900, 3702, 5353, 11211, 27015,
];
