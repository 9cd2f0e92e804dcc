/**
 * A MitigationConfig checked once at start-up and turned into the parsed values the Mitigator
 * uses: a bad community, next hop or port is a configuration error, not a failed announcement
 * in the middle of an attack.
 */
import { PrefixSet } from '../enrich/prefix-set.js';
import type { BlackholeSettings, FlowspecAction } from './announcement.js';
import { parseAddress, parseCommunity, parseHostAddress, parsePort, parseRateBytes } from './bgp-values.js';
import {
  MITIGABLE_KINDS,
  type MitigableKind,
  type MitigationConfig,
  MitigationConfigError,
} from './config.js';
import type { GobgpTarget } from './gobgp-cli.js';

export interface MitigationSettings {
  readonly action: 'blackhole' | 'flowspec';
  readonly kinds: ReadonlySet<string>;
  readonly blackhole: BlackholeSettings;
  readonly flowspecAction: FlowspecAction;
  readonly maxAnnouncements: number;
  readonly protectedNetworks: PrefixSet;
  readonly dryRun: boolean;
  readonly minDurationMs: number;
  readonly withdrawOnClose: boolean;
  readonly target: GobgpTarget;
  readonly timeoutMs: number;
}

function nexthop(value: string | null, family: 4 | 6, path: string): string | null {
  if (value === null) return null;
  const parsed = parseHostAddress(value);
  if (typeof parsed === 'string') throw new MitigationConfigError(path, parsed);
  if (parsed.family !== family) throw new MitigationConfigError(path, `expected an IPv${family} address`);
  return parsed.address;
}

function integerIn(value: number, min: number, max: number, path: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new MitigationConfigError(path, `expected a whole number ${min}-${max}, got ${value}`);
  }
  return value;
}

function command(argv: readonly string[]): string[] {
  if (!Array.isArray(argv) || argv.length === 0) {
    throw new MitigationConfigError('gobgp.command', 'expected the gobgp program, e.g. ["gobgp"]');
  }
  argv.forEach((arg, i) => {
    // execFile passes each entry as one argument; a NUL would cut it short, an empty program name fails late.
    if (typeof arg !== 'string' || arg === '' || arg.includes('\0')) {
      throw new MitigationConfigError(`gobgp.command[${i}]`, 'expected a non-empty string');
    }
  });
  if (argv[0].startsWith('-')) throw new MitigationConfigError('gobgp.command[0]', 'expected a program');
  return [...argv];
}

export function compileMitigationSettings(config: MitigationConfig): MitigationSettings {
  if (config.action !== 'blackhole' && config.action !== 'flowspec') {
    throw new MitigationConfigError('action', 'expected "blackhole" or "flowspec"');
  }
  const kinds = new Set<string>();
  config.kinds.forEach((k, i) => {
    if (!MITIGABLE_KINDS.includes(k as MitigableKind)) {
      throw new MitigationConfigError(
        `kinds[${i}]`,
        `${JSON.stringify(k)} is not one of ${MITIGABLE_KINDS.join(', ')}`,
      );
    }
    kinds.add(k);
  });
  const community = parseCommunity(config.community);
  if (community === null) {
    throw new MitigationConfigError(
      'community',
      `expected "ASN:value" (0-65535 each), got ${JSON.stringify(config.community)}`,
    );
  }
  let flowspecAction: FlowspecAction;
  if (config.flowspecaction === 'discard') flowspecAction = { type: 'discard' };
  else if (config.flowspecaction === 'ratelimit') {
    const rate = parseRateBytes(config.ratelimit);
    if (rate === null)
      throw new MitigationConfigError('ratelimit', 'expected bytes/s, a whole number 1-1e12');
    flowspecAction = { type: 'ratelimit', bytesPerSecond: rate };
  } else throw new MitigationConfigError('flowspecaction', 'expected "discard" or "ratelimit"');
  let protectedNetworks: PrefixSet;
  try {
    protectedNetworks = PrefixSet.compile(config.protected, 'protected');
  } catch (err) {
    throw new MitigationConfigError('protected', err instanceof Error ? err.message : String(err));
  }
  // The API address is usually loopback, so any address will do here, unlike a victim or a next hop.
  const host = parseAddress(config.gobgp.host);
  if (typeof host === 'string') throw new MitigationConfigError('gobgp.host', host);
  const port = parsePort(config.gobgp.port);
  if (port === null) throw new MitigationConfigError('gobgp.port', 'expected a port 1-65535');
  return {
    action: config.action,
    kinds,
    blackhole: {
      community,
      nexthop4: nexthop(config.nexthop, 4, 'nexthop'),
      nexthop6: nexthop(config.nexthop6, 6, 'nexthop6'),
    },
    flowspecAction,
    maxAnnouncements: integerIn(config.maxannouncements, 0, 100_000, 'maxannouncements'),
    protectedNetworks,
    dryRun: config.dryrun === true,
    minDurationMs: integerIn(config.minduration, 0, 86_400, 'minduration') * 1000,
    withdrawOnClose: config.withdrawonclose !== false,
    target: { command: command(config.gobgp.command), host: host.address, port },
    timeoutMs: integerIn(config.gobgp.timeout, 100, 600_000, 'gobgp.timeout'),
  };
}
