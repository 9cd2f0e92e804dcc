/**
 * Runs an executable per alert event (argv, no shell): the event JSON on stdin, and
 * FLOWGATE_ALERT_ID, FLOWGATE_ALERT_KIND, FLOWGATE_EVENT in its environment. At most
 * `concurrency` runs at once (events of one alert one after another, in order), the rest wait in
 * a bounded queue; a run that outlives the timeout is killed with its whole process group, so a
 * shell script's children go too.
 */
import { spawn } from 'node:child_process';
import type { AlertEvent, AlertSink } from '../detect/alert.js';
import { type NotifyLog, SILENT_LOG } from './notify-log.js';
import { OrderedQueue } from './ordered-queue.js';

export interface ScriptOptions {
  /** argv: the executable and its arguments. */
  readonly command: readonly string[];
  /** Seconds a run may take before it is killed. */
  readonly timeoutSeconds?: number;
  readonly concurrency?: number;
  readonly maxQueued?: number;
  /** How long close() waits for queued and running scripts before killing them. */
  readonly closeTimeoutMs?: number;
  readonly log?: NotifyLog;
}

export interface ScriptFailure {
  readonly alertId: string;
  readonly event: AlertEvent['type'];
  /** null when killed by a signal or never started. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  /** The first STDERR_KEEP_BYTES of stderr, or why it could not start. */
  readonly stderr: string;
}

export interface ScriptStatus {
  readonly command: string;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly dropped: number;
  readonly running: number;
  readonly queued: number;
  /** The latest failures, newest last. */
  readonly recentFailures: readonly ScriptFailure[];
}

export const STDERR_KEEP_BYTES = 1024;
const RECENT_FAILURES_KEPT = 10;
/** After SIGTERM, the time a script gets to clean up before SIGKILL. */
const KILL_GRACE_MS = 1000;

export class ScriptNotifier implements AlertSink {
  readonly name: string;
  private readonly command: readonly string[];
  private readonly timeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly log: NotifyLog;
  private readonly queue: OrderedQueue<AlertEvent>;
  private readonly runningGroups = new Set<number>();
  private closed = false;
  private succeeded = 0;
  private failed = 0;
  private timedOut = 0;
  private dropped = 0;
  private readonly failures: ScriptFailure[] = [];

  constructor(opts: ScriptOptions) {
    if (opts.command.length === 0) throw new Error('script notifier: command is empty');
    this.command = opts.command;
    this.name = `script ${opts.command[0]}`;
    this.timeoutMs = (opts.timeoutSeconds ?? 30) * 1000;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    this.log = opts.log ?? SILENT_LOG;
    this.queue = new OrderedQueue<AlertEvent>({
      maxQueued: opts.maxQueued ?? 100,
      concurrency: opts.concurrency ?? 2,
      keyOf: (e) => e.alert.id,
      run: (e) => this.run(e),
      onDrop: () => {
        this.dropped++;
      },
    });
  }

  handle(event: AlertEvent): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    this.queue.push(event);
  }

  status(): ScriptStatus {
    return {
      command: this.command.join(' '),
      succeeded: this.succeeded,
      failed: this.failed,
      timedOut: this.timedOut,
      dropped: this.dropped,
      running: this.queue.running,
      queued: this.queue.queued,
      recentFailures: [...this.failures],
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.closeTimeoutMs);
    });
    await Promise.race([this.queue.idle(), expired]);
    clearTimeout(timer);
    this.dropped += this.queue.takeWaiting().length;
    for (const pgid of this.runningGroups) killGroup(pgid, 'SIGKILL');
    await this.queue.idle();
  }

  private run(event: AlertEvent): Promise<void> {
    return new Promise<void>((resolve) => {
      const [file, ...args] = this.command;
      // detached: the script leads its own process group, so a timeout kills its children too.
      const child = spawn(file, args, {
        stdio: ['pipe', 'ignore', 'pipe'],
        detached: true,
        env: {
          ...process.env,
          FLOWGATE_ALERT_ID: event.alert.id,
          FLOWGATE_ALERT_KIND: event.alert.kind,
          FLOWGATE_EVENT: event.type,
        },
      });
      const pgid = child.pid;
      if (pgid !== undefined) this.runningGroups.add(pgid);
      let stderr = Buffer.alloc(0);
      let timedOut = false;
      let done = false;
      let killTimer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        if (pgid === undefined) return;
        killGroup(pgid, 'SIGTERM');
        killTimer = setTimeout(() => killGroup(pgid, 'SIGKILL'), KILL_GRACE_MS);
      }, this.timeoutMs);

      const finish = (exitCode: number | null, signal: string | null, startError: string | null): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearTimeout(killTimer);
        if (pgid !== undefined) this.runningGroups.delete(pgid);
        if (exitCode === 0 && !timedOut) {
          this.succeeded++;
        } else {
          this.recordFailure({
            alertId: event.alert.id,
            event: event.type,
            exitCode,
            signal,
            timedOut,
            stderr: startError ?? stderr.subarray(0, STDERR_KEEP_BYTES).toString('utf8'),
          });
        }
        resolve();
      };

      child.stderr?.on('data', (b: Buffer) => {
        if (stderr.length < STDERR_KEEP_BYTES) stderr = Buffer.concat([stderr, b]);
      });
      // A script that exits without reading stdin closes the pipe: not the script's failure.
      child.stdin?.on('error', () => {});
      child.on('error', (err) => finish(null, null, `could not start: ${err.message}`));
      child.on('close', (code, signal) => finish(code, signal, null));
      child.stdin?.end(JSON.stringify({ type: event.type, alert: event.alert }));
    });
  }

  private recordFailure(f: ScriptFailure): void {
    this.failed++;
    if (f.timedOut) this.timedOut++;
    this.failures.push(f);
    if (this.failures.length > RECENT_FAILURES_KEPT) this.failures.shift();
    const how = f.timedOut
      ? `killed after ${this.timeoutMs / 1000} s`
      : f.exitCode !== null
        ? `exit code ${f.exitCode}`
        : f.signal !== null
          ? `signal ${f.signal}`
          : 'did not start';
    this.log.warn(
      { notifier: this.name, alert: f.alertId, event: f.event, stderr: f.stderr.slice(0, 200) },
      `alert script failed: ${how}`,
    );
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}
