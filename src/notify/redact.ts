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

/** The URL as logged: scheme, host and path only (user:password@ and ?token=... are dropped). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** The secret parts of a URL (password, username, query values) for redactSecrets. */
export function urlSecrets(url: string): string[] {
  try {
    const u = new URL(url);
    const out = [u.username, u.password, ...u.searchParams.values()].filter((s) => s !== '');
    return out.map((s) => decodeURIComponent(s)).concat(out);
  } catch {
    return [url];
  }
}
