/**
 * One POST of one batch and what its outcome means for the uploader: taken, never takeable
 * (retrying cannot help), or worth trying again (with the wait the server asked for, if any).
 */

export type PostOutcome =
  | { kind: 'ok'; status: number; text: string }
  | { kind: 'permanent'; reason: string; message: string }
  | { kind: 'retry'; reason: string; message: string; retryAfterMs: number | null };

export interface PostRequest {
  url: string;
  /** The URL as it may appear in messages (no credentials, no query). */
  label: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  /** Aborts the request from outside (shutdown). */
  signal: AbortSignal;
  now?: () => number;
}

/** Bytes of an error answer quoted in a message: enough for "invalid index name ...". */
const QUOTED_BODY = 200;

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now; null if absent. */
export function retryAfterMs(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

function quote(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim().slice(0, QUOTED_BODY);
  return t === '' ? '' : `: ${t}`;
}

function networkReason(err: unknown): string {
  // fetch wraps socket errors: TypeError('fetch failed') with the errno error as its cause.
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  return err instanceof Error ? err.name : 'error';
}

export async function postBatch(req: PostRequest): Promise<PostOutcome> {
  const ctl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctl.abort();
  }, req.timeoutMs);
  const stop = () => ctl.abort();
  req.signal.addEventListener('abort', stop);
  if (req.signal.aborted) ctl.abort();
  try {
    const res = await fetch(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal: ctl.signal,
      // A POST that is redirected would lose its body (301/302) or carry the secret elsewhere.
      redirect: 'manual',
    });
    const text = await res.text();
    const status = res.status;
    if (status >= 200 && status < 300) return { kind: 'ok', status, text };
    const message = `HTTP ${status} from ${req.label}${quote(text)}`;
    if (status === 408 || status === 429 || status >= 500) {
      const wait = status === 429 || status === 503;
      const after = wait ? retryAfterMs(res.headers.get('retry-after'), (req.now ?? Date.now)()) : null;
      return { kind: 'retry', reason: `HTTP ${status}`, message, retryAfterMs: after };
    }
    if (status >= 300 && status < 400) {
      const to = res.headers.get('location') ?? '?';
      return {
        kind: 'permanent',
        reason: `HTTP ${status}`,
        message: `HTTP ${status} from ${req.label}: redirected to ${to}; set url to the final address`,
      };
    }
    // Any other 4xx says the request itself is wrong (auth, format, size): sending it again
    // cannot succeed, so it is not retried, and not spooled either (a replay would fail the same).
    return { kind: 'permanent', reason: `HTTP ${status}`, message };
  } catch (err) {
    if (timedOut) {
      return {
        kind: 'retry',
        reason: 'timeout',
        message: `no answer from ${req.label} within ${req.timeoutMs / 1000} s`,
        retryAfterMs: null,
      };
    }
    if (req.signal.aborted) {
      return {
        kind: 'retry',
        reason: 'aborted',
        message: `request to ${req.label} aborted at shutdown`,
        retryAfterMs: null,
      };
    }
    const reason = networkReason(err);
    const cause = (err as { cause?: { message?: unknown } }).cause;
    const detail =
      typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : '';
    return {
      kind: 'retry',
      reason: `network ${reason}`,
      message: `cannot reach ${req.label}: ${detail}`,
      retryAfterMs: null,
    };
  } finally {
    clearTimeout(timer);
    req.signal.removeEventListener('abort', stop);
  }
}
