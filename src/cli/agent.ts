import type { Logger } from 'pino';
import { type AgentOptions, startAgent } from '../agent/agent.js';

const STATS_INTERVAL_MS = 60_000;

/**
 * A flag's value by its long name ("active-timeout") or as commander hands it ("activeTimeout").
 * Commander turns `--interface` into `interface`, so both spellings meet here.
 */
function flag(flags: Record<string, string | boolean | undefined>, name: string): string | undefined {
  const camel = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const v = flags[name] ?? flags[camel] ?? flags[`--${name}`];
  if (v === undefined || v === false) return undefined;
  if (v === true) throw new Error(`--${name} needs a value`);
  return v;
}

function integer(
  flags: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = flag(flags, name);
  if (text === undefined) return fallback;
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name}: expected a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function oneOf<T extends string>(
  flags: Record<string, string | boolean | undefined>,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = flag(flags, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new Error(`--${name}: expected ${allowed.join(', ')}, got "${v}"`);
  }
  return v as T;
}

/** "host:port", "[v6]:port" or "v6addr" is rejected without brackets, since its port would be ambiguous. */
function collectorAddress(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (m === null) {
    throw new Error(`--collector: expected host:port or [ipv6]:port (e.g. 10.0.0.5:4739), got "${text}"`);
  }
  const port = Number(m[2]);
  if (!(port >= 1 && port <= 65_535)) throw new Error(`--collector: port must be 1 to 65535, got ${m[2]}`);
  return { host: m[1], port };
}

/** `flowgate agent` flags to AgentOptions; throws an Error naming the flag on bad input. */
export function agentOptionsFromFlags(flags: Record<string, string | boolean | undefined>): AgentOptions {
  const collector = flag(flags, 'collector');
  if (collector === undefined) throw new Error('--collector host:port is required (the IPFIX collector)');
  const { host, port } = collectorAddress(collector.trim());
  return {
    collector: { host, port, transport: oneOf(flags, 'transport', ['udp', 'tcp'] as const, 'udp') },
    source: oneOf(flags, 'source', ['auto', 'conntrack', 'pcap'] as const, 'auto'),
    device: flag(flags, 'interface') ?? 'any',
    activeTimeoutMs: integer(flags, 'active-timeout', 60, 1, 86_400) * 1000,
    inactiveTimeoutMs: integer(flags, 'inactive-timeout', 15, 1, 86_400) * 1000,
    maxFlows: integer(flags, 'max-flows', 65_536, 1, 16_777_216),
    observationDomainId: integer(flags, 'domain-id', 1, 0, 4_294_967_295),
    templateRefreshMs: integer(flags, 'template-refresh', 60, 1, 86_400) * 1000,
    templateRefreshPackets: 1000,
  };
}

/** `flowgate agent`: meters this host's traffic and exports IPFIX until SIGINT/SIGTERM, then flushes. */
export async function runAgent(options: AgentOptions, logger: Logger): Promise<void> {
  const agent = await startAgent(options, logger);
  const statsTimer = setInterval(
    () => logger.info({ stats: agent.stats() }, 'agent stats'),
    STATS_INTERVAL_MS,
  );
  statsTimer.unref();
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      logger.info({ signal }, 'agent stopping: exporting the cached flows');
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  clearInterval(statsTimer);
  await agent.stop();
  logger.info({ stats: agent.stats() }, 'agent stopped');
}
