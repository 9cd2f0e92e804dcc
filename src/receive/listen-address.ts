/** A parsed `flow.listen` / `flow.tcplisten` entry. */
export interface ListenAddress {
  /** Host to bind, without brackets ("0.0.0.0", "::", "192.0.2.1", "2001:db8::1"). */
  host: string;
  /** 0 asks the system for a free port (tests). */
  port: number;
  /** 6 for IPv6 hosts: bound dual-stack so IPv4 exporters arrive as ::ffff:a.b.c.d. */
  family: 4 | 6;
  /** As written in the configuration, for messages. */
  text: string;
}

/**
 * "host:port", "[v6]:port" or ":port" (every address, dual-stack "::"). A bare IPv6 address
 * without brackets is refused: "2001:db8::1:2055" cannot be split unambiguously.
 */
export function parseListenAddress(text: string): ListenAddress {
  const s = text.trim();
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') {
      throw new Error(`listen address "${text}": expected "[ipv6]:port"`);
    }
    host = s.slice(1, close);
    portText = s.slice(close + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) throw new Error(`listen address "${text}": expected "host:port"`);
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) {
      throw new Error(`listen address "${text}": write IPv6 addresses in brackets, "[${host}]:${portText}"`);
    }
    if (host === '') host = '::';
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new Error(`listen address "${text}": port must be 0..65535`);
  }
  if (host === '') throw new Error(`listen address "${text}": empty host`);
  return { host, port: Number(portText), family: host.includes(':') ? 6 : 4, text: s };
}

/** "host:port" / "[v6]:port" text of a bound address. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
