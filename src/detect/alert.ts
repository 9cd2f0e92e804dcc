/**
 * What detection tells the world: one Alert per incident (an attack on one host, one scanner, one
 * silent exporter), raised when a detector's condition first holds, updated while it goes on
 * (peak and totals), ended after a quiet period. Notifiers (webhook, syslog, script), the alert
 * store behind /api/alerts, the dashboard and mitigation all consume AlertEvents.
 *
 * Times: `startedAt`, `updatedAt`, `endedAt` are flow time (Unix ms, from the records' own
 * start/end), so a replayed capture gives the same alerts as the live traffic; `detectedAt` is the
 * wall clock when Flowgate raised it (time to alert = detectedAt - the attack's real start).
 */

export const ALERT_KINDS = [
  'volumetric',
  'syn_flood',
  'ack_flood',
  'rst_flood',
  'icmp_flood',
  'udp_flood',
  'fragment_flood',
  'reflection',
  'port_scan',
  'sweep',
  'exfiltration',
  'new_destination',
  'denied_spike',
  'exporter_silent',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** One of the heaviest contributors to an alert (estimated: samplerate × weight applied). */
export interface AlertTopEntry {
  /** An address, a port number as text, a protocol keyword, an exporter address. */
  readonly key: string;
  readonly bits: number;
  readonly packets: number;
  readonly flows: number;
}

export interface AlertTop {
  readonly sources: readonly AlertTopEntry[];
  readonly destinations: readonly AlertTopEntry[];
  readonly srcports: readonly AlertTopEntry[];
  readonly dstports: readonly AlertTopEntry[];
  readonly protocols: readonly AlertTopEntry[];
}

/** The exporter interface an interface alert is about. */
export interface AlertInterface {
  readonly exporter: string;
  readonly index: number;
  /** ifName as enrichment knows it (configuration, SNMP, options data), else null. */
  readonly name: string | null;
  /** in: traffic entering the device through it; out: leaving through it. */
  readonly direction: 'in' | 'out';
}

export type AlertTargetKind = 'host' | 'hostgroup' | 'interface' | 'exporter';

export interface Alert {
  /** Stable for the incident: every event of one alert carries the same id. */
  readonly id: string;
  readonly kind: AlertKind;
  readonly severity: AlertSeverity;
  readonly state: 'active' | 'ended';
  /** inbound: traffic to `target`; outbound: from it; null for exporter alerts. */
  readonly direction: 'inbound' | 'outbound' | null;
  /**
   * The victim (inbound), the source (outbound, scans), the hostgroup's name ("internal" for all
   * internal hosts together), "exporter/ifN/in|out" for an interface, or the exporter address.
   */
  readonly target: string;
  readonly targetKind: AlertTargetKind;
  /** For interface alerts: which interface; null otherwise. */
  readonly interface: AlertInterface | null;
  /** The hostgroup whose thresholds applied, null for the defaults. */
  readonly hostgroup: string | null;
  /** One line for people: "SYN flood to 192.0.2.10: 310 kpps (threshold 100 kpps), 4,100 sources". */
  readonly summary: string;
  /** What was measured against the threshold: "bps", "pps", "flows/s", "syn share", "distinct ports", ... */
  readonly metric: string;
  readonly threshold: number;
  /** The latest value and the highest so far. */
  readonly value: number;
  readonly peak: number;
  /** The learnt baseline the value was compared with, when a baseline applied. */
  readonly baseline: number | null;
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly endedAt: number | null;
  readonly detectedAt: number;
  /** Estimated totals since the start. */
  readonly totals: { readonly bits: number; readonly packets: number; readonly flows: number };
  /** Distinct sources seen (estimated, HyperLogLog), when counted. */
  readonly distinctSources: number | null;
  readonly top: AlertTop;
  /** Exporters whose records fed it. */
  readonly exporters: readonly string[];
}

/** start: first raised; update: still going (new peak or totals); end: quiet for the end delay. */
export type AlertEventType = 'start' | 'update' | 'end';

export interface AlertEvent {
  readonly type: AlertEventType;
  readonly alert: Alert;
}

/** Anything that receives alert events (notifiers, the alert store, mitigation). */
export interface AlertSink {
  readonly name: string;
  /** Must not throw; failures are counted and logged by the sink itself. */
  handle(event: AlertEvent): void;
  /** Flushes what is pending (retries in flight) and stops. */
  close(): Promise<void>;
}
