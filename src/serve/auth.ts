/**
 * Bearer token authentication (RFC 6750). The token is compared in constant time: both sides are
 * hashed first so that `timingSafeEqual` always sees equal-length inputs and the comparison time
 * reveals neither the token's content nor its length.
 */
import crypto from 'node:crypto';
import ipaddr from 'ipaddr.js';

/** Realm in WWW-Authenticate challenges. */
export const REALM = 'flowgate';

export type AuthResult = 'ok' | 'missing' | 'invalid';

function digest(text: string): Buffer {
  return crypto.createHash('sha256').update(text, 'utf8').digest();
}

export class BearerAuth {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** Checks an Authorization header value; never throws, never keeps what it was given. */
  check(header: string | undefined): AuthResult {
    if (header === undefined) return 'missing';
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (m === null) return 'missing';
    // crypto.timingSafeEqual (not the named import) so tests can observe that this path runs.
    return crypto.timingSafeEqual(digest(m[1]), this.expected) ? 'ok' : 'invalid';
  }

  /** WWW-Authenticate value for a 401 (RFC 6750 3: error only when credentials were sent). */
  static challenge(result: AuthResult): string {
    return result === 'invalid'
      ? `Bearer realm="${REALM}", error="invalid_token"`
      : `Bearer realm="${REALM}"`;
  }
}

/** Whether a bind host only accepts connections from this machine ("localhost", 127/8, ::1). */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  if (!ipaddr.isValid(host)) return false;
  let a = ipaddr.parse(host);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  return a.range() === 'loopback';
}
