/**
 * Mitigation as an AlertSink: on the start of an inbound attack on a host, announce a blackhole
 * route or a FlowSpec rule for the victim through gobgpd; withdraw it when the last alert that
 * needs it has ended and it has been up for the minimum duration.
 *
 * Decisions (eligibility, protected networks, the cap, sharing) are made synchronously in
 * handle(); the CLI calls run one at a time in arrival order, so a withdraw can never overtake
 * the announce it undoes.
 */
import type { Logger } from 'pino';
import type { Alert, AlertEvent, AlertSink } from '../detect/alert.js';
import { type Announcement, blackholeRoute, describeAnnouncement, flowspecRule } from './announcement.js';
import { parseHostAddress } from './bgp-values.js';
import type { MitigationConfig } from './config.js';
import {
  announceArgv,
  type CommandRunner,
  commandProblem,
  execFileRunner,
  withdrawArgv,
} from './gobgp-cli.js';
import { compileMitigationSettings, type MitigationSettings } from './settings.js';

export type RefusalReason = 'protected' | 'cap' | 'invalid';

export interface ActiveAnnouncement {
  readonly description: string;
  readonly alerts: readonly string[];
  /** Wall clock (Unix ms) when the speaker accepted it; null while the announce is in flight. */
  readonly since: number | null;
  /** Wall clock when it will be withdrawn (its alerts ended), or null while an alert is active. */
  readonly withdrawAt: number | null;
}

export interface MitigationStatus {
  readonly dryRun: boolean;
  readonly active: readonly ActiveAnnouncement[];
  /** Announcements and withdrawals the speaker accepted (or, in dry-run, would have been sent). */
  readonly announced: number;
  readonly withdrawn: number;
  readonly refused: Readonly<Record<RefusalReason, number>>;
  /** Failed CLI calls (exit code, timeout, missing program). */
  readonly errors: number;
  readonly lastError: string | null;
}

export interface MitigatorOptions {
  readonly config: MitigationConfig;
  readonly logger: Logger;
  /** Replaced only by unit tests of the decision logic; the default runs the real CLI. */
  readonly runner?: CommandRunner;
}

interface Entry {
  readonly announcement: Announcement;
  readonly alertIds: Set<string>;
  since: number | null;
  withdrawAt: number | null;
  withdrawTimer: NodeJS.Timeout | null;
}

export class Mitigator implements AlertSink {
  readonly name = 'mitigation';
  private readonly settings: MitigationSettings;
  private readonly log: Logger;
  private readonly runner: CommandRunner;
  /** By announcement key. */
  private readonly entries = new Map<string, Entry>();
  /** Alert id -> the key it holds, or null when it was refused (so its updates are not retried). */
  private readonly alertKeys = new Map<string, string | null>();
  /** Announcements whose withdrawal failed: still in the speaker, retried on close(). */
  private readonly stranded = new Map<string, Announcement>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private announced = 0;
  private withdrawn = 0;
  private readonly refused: Record<RefusalReason, number> = { protected: 0, cap: 0, invalid: 0 };
  private errors = 0;
  private lastError: string | null = null;

  /** Throws MitigationConfigError for a bad configuration. */
  constructor(opts: MitigatorOptions) {
    this.settings = compileMitigationSettings(opts.config);
    this.log = opts.logger.child({ component: 'mitigation' });
    this.runner = opts.runner ?? execFileRunner;
    if (this.settings.dryRun) this.log.warn('mitigation in dry-run mode: nothing will be announced');
  }

  handle(event: AlertEvent): void {
    try {
      if (this.closed) return;
      const { alert } = event;
      if (event.type === 'end') this.release(alert.id);
      // An update of an alert not held (its announce failed) tries again: gobgpd may be back.
      else if (event.type === 'start' || !this.alertKeys.has(alert.id)) this.acquire(alert);
    } catch (err) {
      this.fail(`alert ${event.alert.id}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  status(): MitigationStatus {
    return {
      dryRun: this.settings.dryRun,
      active: [...this.entries.values()].map((e) => ({
        description: describeAnnouncement(e.announcement),
        alerts: [...e.alertIds],
        since: e.since,
        withdrawAt: e.withdrawAt,
      })),
      announced: this.announced,
      withdrawn: this.withdrawn,
      refused: { ...this.refused },
      errors: this.errors,
      lastError: this.lastError,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return this.queue;
    this.closed = true;
    for (const e of this.entries.values()) if (e.withdrawTimer !== null) clearTimeout(e.withdrawTimer);
    if (this.settings.withdrawOnClose) {
      for (const e of this.entries.values()) this.enqueueWithdraw(e.announcement);
      for (const a of this.stranded.values()) this.enqueueWithdraw(a);
      this.stranded.clear();
    } else if (this.entries.size > 0) {
      this.log.warn(
        { announcements: [...this.entries.keys()] },
        'stopping with announcements left in the BGP speaker (withdrawonclose: false)',
      );
    }
    this.entries.clear();
    this.alertKeys.clear();
    await this.queue;
  }

  private eligible(alert: Alert): boolean {
    return (
      alert.direction === 'inbound' && alert.targetKind === 'host' && this.settings.kinds.has(alert.kind)
    );
  }

  private acquire(alert: Alert): void {
    if (this.alertKeys.has(alert.id) || !this.eligible(alert)) return;
    const victim = parseHostAddress(alert.target);
    if (typeof victim === 'string') {
      this.refuse(alert, 'invalid', victim);
      return;
    }
    if (this.settings.protectedNetworks.has(victim.address)) {
      this.refuse(alert, 'protected', `${victim.address} is in a protected network`);
      return;
    }
    const announcement =
      this.settings.action === 'blackhole'
        ? blackholeRoute(victim, this.settings.blackhole)
        : flowspecRule(victim, alert, this.settings.flowspecAction);
    const existing = this.entries.get(announcement.key);
    if (existing !== undefined) {
      existing.alertIds.add(alert.id);
      this.alertKeys.set(alert.id, announcement.key);
      if (existing.withdrawTimer !== null) {
        clearTimeout(existing.withdrawTimer);
        existing.withdrawTimer = null;
        existing.withdrawAt = null;
      }
      this.log.info(
        { alert: alert.id, announcement: announcement.key },
        'announcement already in place, shared',
      );
      return;
    }
    if (this.entries.size >= this.settings.maxAnnouncements) {
      this.refuse(alert, 'cap', `${this.entries.size} announcements in place (maxannouncements)`);
      return;
    }
    const entry: Entry = {
      announcement,
      alertIds: new Set([alert.id]),
      since: null,
      withdrawAt: null,
      withdrawTimer: null,
    };
    this.entries.set(announcement.key, entry);
    this.alertKeys.set(alert.id, announcement.key);
    this.log.warn(
      { alert: alert.id, summary: alert.summary },
      `announcing ${describeAnnouncement(announcement)}`,
    );
    this.enqueue(announceArgv(this.settings.target, announcement), (problem) => {
      if (problem === null) {
        this.announced++;
        entry.since = Date.now();
        return;
      }
      this.fail(`announce ${announcement.key}: ${problem}`);
      // Forget it so that the next update of its alerts tries again.
      if (this.entries.get(announcement.key) === entry) {
        this.entries.delete(announcement.key);
        if (entry.withdrawTimer !== null) clearTimeout(entry.withdrawTimer);
        for (const id of entry.alertIds) this.alertKeys.delete(id);
      }
    });
  }

  private release(alertId: string): void {
    const key = this.alertKeys.get(alertId);
    this.alertKeys.delete(alertId);
    if (key === undefined || key === null) return;
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    entry.alertIds.delete(alertId);
    if (entry.alertIds.size > 0) return;
    const now = Date.now();
    // While the announce is in flight its clock has not started: hold for the whole minimum.
    const holdMs = Math.max(0, (entry.since ?? now) + this.settings.minDurationMs - now);
    entry.withdrawAt = now + holdMs;
    const withdraw = (): void => {
      entry.withdrawTimer = null;
      if (this.closed || entry.alertIds.size > 0 || this.entries.get(key) !== entry) return;
      this.entries.delete(key);
      this.enqueueWithdraw(entry.announcement);
    };
    if (holdMs === 0) withdraw();
    else {
      this.log.info({ announcement: key, holdMs }, 'alerts ended; withdrawing after the minimum duration');
      // unref: a pending withdrawal must not keep the process alive; close() withdraws it anyway.
      entry.withdrawTimer = setTimeout(withdraw, holdMs).unref();
    }
  }

  private enqueueWithdraw(announcement: Announcement): void {
    this.log.warn(`withdrawing ${announcement.key}`);
    this.enqueue(withdrawArgv(this.settings.target, announcement), (problem) => {
      if (problem === null) {
        this.withdrawn++;
        this.stranded.delete(announcement.key);
        return;
      }
      this.fail(`withdraw ${announcement.key}: ${problem}`);
      if (!this.closed) this.stranded.set(announcement.key, announcement);
    });
  }

  private refuse(alert: Alert, reason: RefusalReason, why: string): void {
    this.refused[reason]++;
    this.alertKeys.set(alert.id, null);
    this.log.warn({ alert: alert.id, target: alert.target, reason }, `mitigation refused: ${why}`);
  }

  private fail(message: string): void {
    this.errors++;
    this.lastError = message;
    this.log.error(message);
  }

  /** Runs argv after everything queued before it; `done` gets null on success or the problem. */
  private enqueue(argv: readonly string[], done: (problem: string | null) => void): void {
    if (this.settings.dryRun) {
      this.log.warn({ argv }, 'dry run: not running');
      done(null);
      return;
    }
    this.queue = this.queue
      .then(async () => done(commandProblem(await this.runner(argv, this.settings.timeoutMs))))
      // A rejection would stop every later call in the chain; count it and carry on.
      .catch((err: unknown) =>
        this.fail(`${argv.join(' ')}: ${err instanceof Error ? err.message : String(err)}`),
      );
  }
}
