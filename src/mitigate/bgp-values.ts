/**
 * Strict parsing of every value that ends up in the gobgp command line. The CLI is lenient (it
 * reads community "65535:66x" as 65535:66), so nothing reaches it that was not parsed here and
 * written back in canonical form: addresses, communities, ports and rates as plain digits and
 * hex, never text taken over from an alert or a config file.
 */
import ipaddr from 'ipaddr.js';

export interface HostAddress {
  readonly family: 4 | 6;
  /** Canonical text: dotted quad, or RFC 5952 IPv6. */
  readonly address: string;
}

/** Ranges where a host route makes no sense (and a typo or bug is more likely than an attack). */
const NOT_A_HOST = new Set(['unspecified', 'broadcast', 'multicast', 'loopback', 'linkLocal']);

const CANONICAL_V4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const CANONICAL_V6 = /^[0-9a-f:]{2,39}$/;

/** Any IPv4 or IPv6 address in canonical form, or why not (an IPv4-mapped one is its IPv4 address). */
export function parseAddress(text: string): HostAddress | string {
  const parsed = parseIp(text);
  if (typeof parsed === 'string') return parsed;
  const family = parsed.kind() === 'ipv4' ? 4 : 6;
  const address = parsed.toString();
  // Belt and braces: whatever ipaddr.js prints, only these characters may reach the command line.
  if (!(family === 4 ? CANONICAL_V4 : CANONICAL_V6).test(address)) return `${text}: unexpected form`;
  return { family, address };
}

/**
 * A unicast host address, or why not. IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the IPv4 host it
 * carries: that is how dual-stack sockets and some exporters write IPv4 victims.
 */
export function parseHostAddress(text: string): HostAddress | string {
  const parsed = parseIp(text);
  if (typeof parsed === 'string') return parsed;
  const range = parsed.range();
  if (NOT_A_HOST.has(range)) return `${text} is a ${range} address, not a host`;
  return parseAddress(text);
}

function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | string {
  if (typeof text !== 'string') return 'not text';
  // isValidFourPartDecimal, not isValid: ipaddr.js also takes "10" or "0x0a.1" as IPv4.
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  // A zone ("fe80::1%eth0") is no part of a route.
  if (text.includes(':') && !text.includes('%') && ipaddr.IPv6.isValid(text)) {
    const v6 = ipaddr.IPv6.parse(text);
    return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
  }
  return `${JSON.stringify(text)} is not an IPv4 or IPv6 address`;
}

/** "ASN:value" with both halves 0-65535 (RFC 1997), written back without leading zeros. */
export function parseCommunity(text: string): string | null {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  if (m === null) return null;
  const high = Number(m[1]);
  const low = Number(m[2]);
  return high <= 65535 && low <= 65535 ? `${high}:${low}` : null;
}

/** A TCP/UDP port number 1-65535 from a number or its decimal text; null otherwise. */
export function parsePort(value: number | string): number | null {
  const n = typeof value === 'number' ? value : /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : null;
}

/** Upper bound for traffic-rate-bytes: the field is an IEEE float32 (RFC 8955 section 7.3). */
const MAX_RATE_BYTES = 1e12;

/** Bytes per second for a rate-limit rule: a whole number 1..1e12; null otherwise. */
export function parseRateBytes(value: number): number | null {
  return Number.isInteger(value) && value >= 1 && value <= MAX_RATE_BYTES ? value : null;
}

/** The host route for an address: /32 or /128. */
export function hostPrefix(host: HostAddress): string {
  return `${host.address}/${host.family === 4 ? 32 : 128}`;
}
