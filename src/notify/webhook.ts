/**
 * Alert events POSTed as JSON to an HTTP endpoint (chat bridges, ticketing, SOAR):
 * `{"type":"start"|"update"|"end","alert":{...}}`. handle() only queues; delivery retries with
 * exponential backoff and honours Retry-After on 429/503, and the events of one alert are sent
 * in order. Header values (an Authorization token) are secrets: redacted from every log line and
 * from status().
 */
import type { AlertEvent, AlertSink } from '../detect/alert.js';
import { backoffDelayMs, parseRetryAfterMs, sleepUnlessAborted } from './backoff.js';
import { type NotifyLog, SILENT_LOG } from './notify-log.js';
import { OrderedQueue } from './ordered-queue.js';
import { displayUrl, redactSecrets, urlSecrets } from './redact.js';

export interface WebhookOptions {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Per request, ms. */
  readonly timeoutMs?: number;
  /** Further attempts after the first fails (so retries + 1 attempts in all). */
  readonly retries?: number;
  /** First retry delay, ms; doubled on each further retry (with jitter). */
  readonly retryIntervalMs?: number;
  /** Events waiting beyond this are dropped, oldest first. */
  readonly maxQueued?: number;
  /** Alerts delivered at the same time (events of one alert are always one at a time). */
  readonly concurrency?: number;
  /** A Retry-After longer than this is cut to it, so one answer cannot stall the queue for hours. */
  readonly maxRetryAfterMs?: number;
  /** How long close() waits for pending deliveries before giving up on them. */
  readonly closeTimeoutMs?: number;
  readonly log?: NotifyLog;
}

export interface WebhookStatus {
  readonly url: string;
  readonly sent: number;
  /** Events given up on (retries exhausted, a 4xx answer, or still pending at close). */
  readonly failed: number;
  readonly retried: number;
  /** Events dropped because the queue was full. */
  readonly dropped: number;
  readonly queued: number;
  readonly lastError: string | null;
}

const MAX_BACKOFF_MS = 60_000;
/** Enough of a failed answer's body to tell what went wrong ("invalid token", an HTML error page). */
const ERROR_BODY_CHARS = 200;

/** Why an attempt failed, and whether another attempt could succeed. */
interface AttemptFailure {
  readonly message: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
}

export class WebhookNotifier implements AlertSink {
  readonly name: string;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly secrets: string[];
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryIntervalMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly closeTimeoutMs: number;
  private readonly log: NotifyLog;
  private readonly queue: OrderedQueue<AlertEvent>;
  /** Aborted by close() once its bound expires: cancels requests and backoff sleeps. */
  private readonly stopping = new AbortController();
  private closed = false;
  private sent = 0;
  private failed = 0;
  private retried = 0;
  private dropped = 0;
  private lastError: string | null = null;

  constructor(opts: WebhookOptions) {
    const { url, basicAuth } = splitCredentials(opts.url);
    this.url = url;
    this.name = `webhook ${displayUrl(opts.url)}`;
    this.headers = { 'content-type': 'application/json', ...basicAuth, ...opts.headers };
    this.secrets = [...Object.values(this.headers), ...urlSecrets(opts.url)];
    // "Bearer abc..." is redacted whole above; the token alone may also turn up in an echo.
    for (const v of Object.values(this.headers)) {
      const token = v.split(/\s+/).at(-1);
      if (token !== undefined && token !== v) this.secrets.push(token);
    }
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retries = opts.retries ?? 3;
    this.retryIntervalMs = opts.retryIntervalMs ?? 1000;
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 300_000;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    this.log = opts.log ?? SILENT_LOG;
    this.queue = new OrderedQueue<AlertEvent>({
      maxQueued: opts.maxQueued ?? 1000,
      concurrency: opts.concurrency ?? 4,
      keyOf: (e) => e.alert.id,
      run: (e) => this.deliver(e),
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

  status(): WebhookStatus {
    return {
      url: displayUrl(this.url),
      sent: this.sent,
      failed: this.failed,
      retried: this.retried,
      dropped: this.dropped,
      queued: this.queue.queued,
      lastError: this.lastError,
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
    const abandoned = this.queue.takeWaiting();
    this.failed += abandoned.length;
    this.stopping.abort();
    // Aborted deliveries finish at once (counted as failed by deliver()).
    await this.queue.idle();
  }

  private async deliver(event: AlertEvent): Promise<void> {
    const body = JSON.stringify({ type: event.type, alert: event.alert });
    for (let attempt = 0; ; attempt++) {
      const failure = await this.attempt(body);
      if (failure === null) {
        this.sent++;
        return;
      }
      this.lastError = redactSecrets(failure.message, this.secrets);
      const giveUp = !failure.retryable || attempt >= this.retries || this.stopping.signal.aborted;
      if (giveUp) {
        this.failed++;
        this.log.warn(
          { notifier: this.name, alert: event.alert.id, event: event.type, error: this.lastError },
          'webhook delivery failed: event dropped',
        );
        return;
      }
      const backoff = backoffDelayMs(this.retryIntervalMs, attempt + 1, MAX_BACKOFF_MS);
      const delay =
        failure.retryAfterMs === null ? backoff : Math.min(this.maxRetryAfterMs, failure.retryAfterMs);
      this.retried++;
      if (!(await sleepUnlessAborted(delay, this.stopping.signal))) {
        this.failed++;
        return;
      }
    }
  }

  /** One POST; null on a 2xx answer. */
  private async attempt(body: string): Promise<AttemptFailure | null> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: this.headers,
        body,
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.stopping.signal]),
      });
    } catch (err) {
      return { message: requestErrorText(err, this.timeoutMs), retryable: true, retryAfterMs: null };
    }
    // The body is read in full so the connection can be reused; only its start is kept.
    const text = await res.text().catch(() => '');
    if (res.ok) return null;
    const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
    const retryAfterMs =
      res.status === 429 || res.status === 503 ? parseRetryAfterMs(res.headers.get('retry-after')) : null;
    const snippet = text.slice(0, ERROR_BODY_CHARS).replace(/\s+/g, ' ').trim();
    return {
      message: `HTTP ${res.status}${snippet === '' ? '' : `: ${snippet}`}`,
      retryable,
      retryAfterMs,
    };
  }
}

/**
 * fetch() refuses URLs with user:password@, which operators still write for basic auth: the
 * credentials move into an Authorization header (an explicit one in `headers` wins).
 */
function splitCredentials(raw: string): { url: string; basicAuth: Record<string, string> } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { url: raw, basicAuth: {} };
  }
  if (u.username === '' && u.password === '') return { url: raw, basicAuth: {} };
  const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = '';
  u.password = '';
  return { url: u.toString(), basicAuth: { authorization: `Basic ${Buffer.from(pair).toString('base64')}` } };
}

/** fetch() hides the reason in `cause` ("fetch failed" / ECONNREFUSED). */
function requestErrorText(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'aborted at close';
  }
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    const why = cause instanceof Error ? cause.message : cause === undefined ? '' : String(cause);
    return why === '' ? err.message : `${err.message}: ${why}`;
  }
  return String(err);
}
