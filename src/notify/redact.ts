/**
 * Secrets given at runtime (webhook header values such as an Authorization token, credentials in a
 * URL) must not reach logs or status(): every text a notifier shows passes through here first.
 */
export const REDACTED = '[redacted]';

/** Secrets shorter than this would redact ordinary words ("on", "yes") from messages. */
const MIN_SECRET_LENGTH = 4;

export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    out = out.split(s).join(REDACTED);
  }
  return out;
}

/**
 * The URL as logged: scheme, host and the first path segment only. user:password@ and ?token=...
 * are dropped, and so is the rest of the path, where chat services put the token
 * (`/services/T000/B000/XXXX`, `/api/webhooks/<id>/<token>`).
 */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    const segments = u.pathname.split('/').filter((p) => p !== '');
    const path = segments.length === 0 ? '' : `/${segments[0]}${segments.length > 1 ? '/…' : ''}`;
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return '(invalid URL)';
  }
}

/** The secret parts of a URL (password, username, path beyond its first segment, query values). */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const rest = u.pathname
      .split('/')
      .filter((p) => p !== '')
      .slice(1);
    const out = [u.username, u.password, ...rest, ...u.searchParams.values()].filter((s) => s !== '');
    return out.map((s) => decodeURIComponent(s)).concat(out);
  } catch {
    return [url];
  }
}
