/**
 * Warnings that an attacker can cause (connections refused by a limit, slowloris closes) are logged
 * at most once per interval: the first at once, then one line saying how many were left out. The
 * counters in /stats and /metrics hold the exact numbers; the log only has to say it is happening.
 */
import type { Logger } from 'pino';

export const DEFAULT_WARNING_INTERVAL_MS = 10_000;

export class RateLimitedWarning {
  private lastMs = Number.NEGATIVE_INFINITY;
  private skipped = 0;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = DEFAULT_WARNING_INTERVAL_MS,
  ) {}

  warn(fields: Record<string, unknown>, message: string, nowMs = Date.now()): void {
    if (nowMs - this.lastMs < this.intervalMs) {
      this.skipped++;
      return;
    }
    const skipped = this.skipped;
    this.lastMs = nowMs;
    this.skipped = 0;
    this.logger.warn(skipped > 0 ? { ...fields, similarNotLogged: skipped } : fields, message);
  }
}
