/**
 * What is announced for an alert: an RTBH host route or a FlowSpec rule, built only from values
 * that bgp-values.ts has parsed. `key` identifies the announcement: two alerts that lead to the
 * same key share one announcement.
 */
import type { Alert } from '../detect/alert.js';
import { type HostAddress, hostPrefix, parsePort } from './bgp-values.js';

/** RFC 7999 remotely triggered blackhole: everything to `prefix` is dropped by the routers. */
export interface BlackholeRoute {
  readonly type: 'blackhole';
  readonly key: string;
  readonly family: 4 | 6;
  /** "192.0.2.10/32" or "2001:db8::1/128". */
  readonly prefix: string;
  readonly community: string;
  /** null: the speaker's own address. */
  readonly nexthop: string | null;
}

export type FlowspecAction =
  | { readonly type: 'discard' }
  | { readonly type: 'ratelimit'; readonly bytesPerSecond: number };

/** RFC 8955 flow specification: traffic to `destination` that matches the rest is discarded or limited. */
export interface FlowspecRule {
  readonly type: 'flowspec';
  readonly key: string;
  readonly family: 4 | 6;
  readonly destination: string;
  readonly protocol: 'udp' | 'tcp' | null;
  readonly sourcePort: number | null;
  readonly action: FlowspecAction;
}

export type Announcement = BlackholeRoute | FlowspecRule;

export interface BlackholeSettings {
  readonly community: string;
  readonly nexthop4: string | null;
  readonly nexthop6: string | null;
}

export function blackholeRoute(victim: HostAddress, settings: BlackholeSettings): BlackholeRoute {
  const prefix = hostPrefix(victim);
  return {
    type: 'blackhole',
    key: `blackhole ${prefix}`,
    family: victim.family,
    prefix,
    community: settings.community,
    nexthop: victim.family === 4 ? settings.nexthop4 : settings.nexthop6,
  };
}

/**
 * A rule matching the victim; for reflection also the reflected protocol and the top source port
 * (a reflection attack comes from one service port, e.g. NTP 123, so legitimate traffic to the
 * victim survives). Without a usable source port the rule matches the protocol only.
 */
export function flowspecRule(victim: HostAddress, alert: Alert, action: FlowspecAction): FlowspecRule {
  const destination = hostPrefix(victim);
  let protocol: 'udp' | 'tcp' | null = null;
  let sourcePort: number | null = null;
  if (alert.kind === 'reflection') {
    protocol = reflectedProtocol(alert.top.protocols[0]?.key);
    const top = alert.top.srcports[0]?.key;
    sourcePort = top === undefined ? null : parsePort(top);
  }
  const match = [destination, protocol, sourcePort === null ? null : `source-port ${sourcePort}`]
    .filter((part) => part !== null)
    .join(' ');
  return {
    type: 'flowspec',
    key: `flowspec ${match}`,
    family: victim.family,
    destination,
    protocol,
    sourcePort,
    action,
  };
}

/** Reflection is UDP in practice (DNS, NTP, memcached, ...); TCP only when the alert says so. */
function reflectedProtocol(key: string | undefined): 'udp' | 'tcp' {
  const k = key?.toLowerCase();
  return k === 'tcp' || k === '6' ? 'tcp' : 'udp';
}

/** One line for logs and status: "blackhole 192.0.2.10/32 community 65535:666". */
export function describeAnnouncement(a: Announcement): string {
  if (a.type === 'blackhole') {
    return `${a.key} community ${a.community}${a.nexthop === null ? '' : ` nexthop ${a.nexthop}`}`;
  }
  const action = a.action.type === 'discard' ? 'discard' : `rate-limit ${a.action.bytesPerSecond} bytes/s`;
  return `${a.key} then ${action}`;
}
