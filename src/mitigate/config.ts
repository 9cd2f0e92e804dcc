/**
 * The `mitigation` configuration section: what Flowgate announces through the operator's BGP
 * speaker (gobgpd) when detection reports an inbound attack on a host. Opt-in (`enabled: false`).
 * Keys are lower case without underscores like every other section (see config/types.ts).
 */
import type { AlertKind } from '../detect/alert.js';

/** The alert kinds that describe an attack on a host, the only ones that can be mitigated. */
export const MITIGABLE_KINDS = [
  'volumetric',
  'syn_flood',
  'ack_flood',
  'rst_flood',
  'icmp_flood',
  'udp_flood',
  'fragment_flood',
  'reflection',
] as const satisfies readonly AlertKind[];
export type MitigableKind = (typeof MITIGABLE_KINDS)[number];

export interface MitigationConfig {
  /** Off by default: announcing routes changes how the network forwards traffic. */
  enabled: boolean;
  /** blackhole: RTBH /32 or /128 with `community`; flowspec: an RFC 8955 rule with `flowspecaction`. */
  action: 'blackhole' | 'flowspec';
  /** Alert kinds acted on (a subset of MITIGABLE_KINDS). */
  kinds: MitigableKind[];
  /** Community attached to blackhole routes, "ASN:value" (RFC 7999 BLACKHOLE is 65535:666). */
  community: string;
  /** Next hop of IPv4 blackhole routes; null = the speaker's own session address. */
  nexthop: string | null;
  /** Next hop of IPv6 blackhole routes; null = the speaker's own session address. */
  nexthop6: string | null;
  /** What a FlowSpec rule does with matching traffic. */
  flowspecaction: 'discard' | 'ratelimit';
  /** Bytes per second let through by a `ratelimit` rule (RFC 8955 traffic-rate-bytes). */
  ratelimit: number;
  /** Announcements in place at once; alerts beyond are refused (counted and logged). */
  maxannouncements: number;
  /** Networks (CIDRs or addresses) never announced, whatever alerts say: own DNS, routers, ... */
  protected: string[];
  /** Log what would be announced and withdrawn; the speaker is never called. */
  dryrun: boolean;
  /** Seconds an announcement stays at least, even if its alerts end sooner (no flapping). */
  minduration: number;
  /** Withdraw every announcement when Flowgate stops; false leaves them in the speaker. */
  withdrawonclose: boolean;
  gobgp: {
    /** The gobgp CLI and anything run before it (e.g. ["ip", "netns", "exec", "bgp", "gobgp"]). */
    command: string[];
    /** gobgpd's gRPC API address and port (gobgpd --api-hosts). */
    host: string;
    port: number;
    /** Milliseconds one CLI call may take before it is killed and counted as an error. */
    timeout: number;
  };
}

export const DEFAULT_MITIGATION_CONFIG: MitigationConfig = {
  enabled: false,
  action: 'blackhole',
  kinds: [...MITIGABLE_KINDS],
  community: '65535:666',
  nexthop: null,
  nexthop6: null,
  flowspecaction: 'discard',
  ratelimit: 0,
  maxannouncements: 10,
  protected: [],
  dryrun: false,
  minduration: 300,
  withdrawonclose: true,
  gobgp: { command: ['gobgp'], host: '127.0.0.1', port: 50051, timeout: 5000 },
};

/** A bad mitigation setting; `path` is the key inside the section ("gobgp.port"). */
export class MitigationConfigError extends Error {
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`mitigation.${path}: ${problem}`);
    this.name = 'MitigationConfigError';
    this.path = path;
  }
}
