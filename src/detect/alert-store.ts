/**
 * The alerts behind /api/alerts, the dashboard's Alerts panel and the flowgate_alerts_* metrics:
 * the latest version of every alert by id (an update or an end replaces what was there), bounded
 * by `maxAlerts`. When full, the alert that ended longest ago goes first; active alerts are dropped
 * (oldest first) only when every kept alert is active, so a flood of incidents cannot grow memory.
 *
 * With a file path, every event is also appended to an AlertJournal and replayed at start. The
 * file is compacted (rewritten with the latest event of each kept alert) once it holds more than
 * COMPACT_FACTOR lines per kept alert, so its size stays proportional to what is kept.
 */
import type { Logger } from 'pino';
import { ALERT_KINDS, type Alert, type AlertEvent, type AlertKind, type AlertSink } from './alert.js';
import { AlertJournal, readJournal } from './alert-journal.js';

export const DEFAULT_MAX_ALERTS = 10_000;
/** The file is rewritten when it holds more than this many lines per kept alert. */
export const COMPACT_FACTOR = 4;

export interface AlertStoreOptions {
  /** Alerts kept (default 10,000). */
  maxAlerts?: number;
  /** JSON-lines file that keeps the alerts across restarts; absent or null: memory only. */
  path?: string | null;
  logger?: Logger;
}

export type AlertState = Alert['state'];

export interface AlertQuery {
  state?: AlertState;
  kind?: AlertKind;
  /** Exact match. */
  target?: string;
  /** Flow-time range (epoch ms): alerts going on at some time in [from, to). */
  from?: number;
  to?: number;
  /** At most this many, newest first (default: all). */
  limit?: number;
}

export interface AlertCounts {
  active: number;
  ended: number;
  byKind: Record<AlertKind, { active: number; ended: number }>;
}

export interface AlertStoreHealth {
  path: string | null;
  alerts: number;
  /** Alerts dropped to stay within maxAlerts. */
  dropped: number;
  /** Lines of the file skipped at load: torn by a crash, or not an alert event. */
  badLines: number;
  writeErrors: number;
  compactions: number;
}

/** What /metrics reads from the store at scrape time. */
export interface AlertMetricsSource {
  counts(): AlertCounts;
  startsByKind(): Record<AlertKind, number>;
}

function perKind<T>(make: () => T): Record<AlertKind, T> {
  return Object.fromEntries(ALERT_KINDS.map((k) => [k, make()])) as Record<AlertKind, T>;
}

/** Counts of a collector without detection (or an empty store). */
export function emptyAlertCounts(): AlertCounts {
  return { active: 0, ended: 0, byKind: perKind(() => ({ active: 0, ended: 0 })) };
}

/** Newest first: latest start, then latest update; the id keeps the order stable. */
function newestFirst(a: Alert, b: Alert): number {
  return b.startedAt - a.startedAt || b.updatedAt - a.updatedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function matches(a: Alert, q: AlertQuery): boolean {
  if (q.state !== undefined && a.state !== q.state) return false;
  if (q.kind !== undefined && a.kind !== q.kind) return false;
  if (q.target !== undefined && a.target !== q.target) return false;
  if (q.to !== undefined && a.startedAt >= q.to) return false;
  // An active alert is still going on: it overlaps every range that ends after its start.
  if (q.from !== undefined && a.endedAt !== null && a.endedAt < q.from) return false;
  return true;
}

export class AlertStore implements AlertSink, AlertMetricsSource {
  readonly name = 'alert-store';
  readonly maxAlerts: number;

  /** Latest event per alert id, in the order the alerts were first seen. */
  private readonly latest = new Map<string, AlertEvent>();
  /** Ids of ended alerts, in the order they ended: the first is dropped first. */
  private readonly endedOrder = new Set<string>();
  private readonly starts = perKind(() => 0);
  private readonly journal: AlertJournal | null;
  private readonly log: Logger | null;
  private dropped = 0;
  private badLines = 0;
  private writeErrors = 0;
  private compactions = 0;
  /** True from a failed write until the next one succeeds: one log line per outage. */
  private failing = false;
  private closed = false;

  /** Reads the file (when given) synchronously: the store is complete once constructed. */
  constructor(opts: AlertStoreOptions = {}) {
    const max = opts.maxAlerts ?? DEFAULT_MAX_ALERTS;
    if (!Number.isInteger(max) || max < 1)
      throw new Error(`alert store maxAlerts ${max} must be a positive integer`);
    this.maxAlerts = max;
    this.log = opts.logger?.child({ component: 'alert-store' }) ?? null;
    const path = opts.path ?? null;
    if (path === null) {
      this.journal = null;
      return;
    }
    const { events, badLines } = readJournal(path);
    for (const e of events) this.keep(e);
    this.badLines = badLines;
    this.journal = new AlertJournal(path, events.length + badLines);
    if (badLines > 0)
      this.log?.warn({ path, badLines }, 'alert file: skipped lines that are not whole alert events');
    // Also puts the next append on a fresh line after a torn one.
    if (badLines > 0 || this.needsCompaction()) this.compact();
  }

  handle(event: AlertEvent): void {
    if (this.closed) return;
    if (event.type === 'start') this.starts[event.alert.kind]++;
    this.keep(event);
    if (this.journal === null) return;
    try {
      this.journal.append(event);
      if (this.needsCompaction()) this.compact();
      if (this.failing) this.log?.info({ path: this.journal.path }, 'alert file writable again');
      this.failing = false;
    } catch (err) {
      this.writeErrors++;
      if (!this.failing)
        this.log?.error(
          { path: this.journal.path, err: (err as Error).message },
          'alert file write failed: alerts are kept in memory only until it works again',
        );
      this.failing = true;
    }
  }

  get(id: string): Alert | null {
    return this.latest.get(id)?.alert ?? null;
  }

  list(q: AlertQuery = {}): Alert[] {
    const found: Alert[] = [];
    for (const { alert } of this.latest.values()) if (matches(alert, q)) found.push(alert);
    found.sort(newestFirst);
    return q.limit === undefined ? found : found.slice(0, q.limit);
  }

  counts(): AlertCounts {
    const c = emptyAlertCounts();
    for (const { alert } of this.latest.values()) {
      c[alert.state]++;
      c.byKind[alert.kind][alert.state]++;
    }
    return c;
  }

  /** Alerts started since this process began (start events handled, not replayed from the file). */
  startsByKind(): Record<AlertKind, number> {
    return { ...this.starts };
  }

  health(): AlertStoreHealth {
    return {
      path: this.journal?.path ?? null,
      alerts: this.latest.size,
      dropped: this.dropped,
      badLines: this.badLines,
      writeErrors: this.writeErrors,
      compactions: this.compactions,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.journal?.close();
  }

  private keep(event: AlertEvent): void {
    const { id, state } = event.alert;
    this.latest.set(id, event);
    this.endedOrder.delete(id);
    if (state === 'ended') this.endedOrder.add(id);
    while (this.latest.size > this.maxAlerts) {
      const victim = this.endedOrder.values().next().value ?? this.latest.keys().next().value;
      if (victim === undefined) break;
      this.latest.delete(victim);
      this.endedOrder.delete(victim);
      this.dropped++;
    }
  }

  private needsCompaction(): boolean {
    return this.journal !== null && this.journal.lines > COMPACT_FACTOR * Math.max(1, this.latest.size);
  }

  /**
   * Ended alerts in the order they ended, then active ones in the order they started: replaying
   * the file gives the same drop order as now.
   */
  private compact(): void {
    if (this.journal === null) return;
    const ended = [...this.endedOrder].map((id) => this.latest.get(id)!);
    const active = [...this.latest.values()].filter((e) => e.alert.state === 'active');
    this.journal.rewrite([...ended, ...active]);
    this.compactions++;
  }
}
