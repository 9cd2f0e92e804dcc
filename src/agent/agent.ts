/**
 * The host agent: a traffic source (conntrack, or libpcap where conntrack is unavailable) feeding
 * the flow cache, whose finished flows the IPFIX exporter sends to a collector. Its own export
 * traffic is left out, or every export would meter the previous one.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { ConntrackSource, type ConntrackSourceStats, conntrackAvailable } from './conntrack-source.js';
import { FlowCache } from './flow-cache.js';
import type { FlowKey, FlowObservation, FlowObservationSink } from './flow-observation.js';
import { IpfixExporter, type IpfixExporterStats } from './ipfix-exporter.js';
import { PcapSource, type PcapSourceStats, pcapAvailable } from './pcap-source.js';

export interface AgentOptions {
  collector: { host: string; port: number; transport: 'udp' | 'tcp' };
  source: 'auto' | 'conntrack' | 'pcap';
  /** The interface libpcap captures on ('any' for all); conntrack sees the whole host. */
  device: string;
  activeTimeoutMs: number;
  inactiveTimeoutMs: number;
  maxFlows: number;
  observationDomainId: number;
  templateRefreshMs: number;
  templateRefreshPackets: number;
  /** Conntrack: how often open connections' counters are read (default 5000 ms). */
  dumpIntervalMs?: number;
  /** Conntrack: meter the connections of this network namespace instead of the agent's own (tests). */
  netns?: string;
  /** Conntrack: add the nftables table that makes the kernel track connections (default true). */
  enableTracking?: boolean;
}

export interface AgentStats {
  source: 'conntrack' | 'pcap';
  sourceStats: ConntrackSourceStats | PcapSourceStats;
  cache: { size: number; observed: number; exported: number; evicted: number };
  exporter: IpfixExporterStats;
}

export interface Agent {
  readonly source: 'conntrack' | 'pcap';
  stats(): AgentStats;
  /** Stops the source, exports every cached flow (reason forced) and closes the exporter. */
  stop(): Promise<void>;
}

const DEFAULT_DUMP_INTERVAL_MS = 5000;
const EXPIRE_INTERVAL_MS = 1000;
const MAX_MESSAGE_BYTES = 1400;

/** Both directions of the agent's exchange with the collector. */
function exportTrafficMatcher(address: string, port: number): (key: FlowKey) => boolean {
  return (k) => (k.dst === address && k.dstPort === port) || (k.src === address && k.srcPort === port);
}

async function chooseSource(options: AgentOptions, logger: Logger): Promise<'conntrack' | 'pcap'> {
  if (options.source !== 'auto') return options.source;
  const conntrack = await conntrackAvailable(options.netns);
  if (conntrack === null) return 'conntrack';
  logger.info({ reason: conntrack }, 'conntrack unavailable: metering with libpcap');
  return 'pcap';
}

export async function startAgent(options: AgentOptions, logger: Logger): Promise<Agent> {
  const { host, port, transport } = options.collector;
  const sourceName = await chooseSource(options, logger);
  if (sourceName === 'pcap') {
    const why = pcapAvailable(options.device);
    if (why !== null) throw new Error(`the pcap source cannot capture on ${options.device}: ${why}`);
  }
  const collectorAddress = isIP(host) !== 0 ? host : (await lookup(host)).address;
  const isExportTraffic = exportTrafficMatcher(collectorAddress, port);

  const exporter = await IpfixExporter.open({
    host: collectorAddress,
    port,
    transport,
    observationDomainId: options.observationDomainId,
    templateRefreshMs: options.templateRefreshMs,
    templateRefreshPackets: options.templateRefreshPackets,
    maxMessageBytes: MAX_MESSAGE_BYTES,
  });
  const cache = new FlowCache(
    {
      activeTimeoutMs: options.activeTimeoutMs,
      inactiveTimeoutMs: options.inactiveTimeoutMs,
      maxFlows: options.maxFlows,
    },
    (flows) => exporter.export(flows, Date.now()),
  );
  const onError = (err: Error): void => logger.warn({ err: err.message, source: sourceName }, 'agent source');

  let conntrack: ConntrackSource | null = null;
  let pcap: PcapSource | null = null;
  try {
    if (sourceName === 'conntrack') {
      conntrack = await ConntrackSource.start(cache, {
        dumpIntervalMs: options.dumpIntervalMs ?? DEFAULT_DUMP_INTERVAL_MS,
        onError,
        ignore: isExportTraffic,
        netns: options.netns,
        enableTracking: options.enableTracking,
      });
    } else {
      // libpcap sees every packet, the export datagrams too: drop those before the cache.
      const sink: FlowObservationSink = {
        observe: (o: FlowObservation) => {
          if (!isExportTraffic(o.key)) cache.observe(o);
        },
      };
      pcap = PcapSource.start(sink, { device: options.device, onError });
    }
  } catch (err) {
    await exporter.close();
    throw err;
  }

  const expireTimer = setInterval(() => cache.expire(Date.now()), EXPIRE_INTERVAL_MS);
  logger.info(
    { source: sourceName, collector: `${collectorAddress}:${port}`, transport, device: options.device },
    'agent running',
  );

  let stopped: Promise<void> | null = null;
  return {
    source: sourceName,
    stats: () => ({
      source: sourceName,
      sourceStats: conntrack?.stats ?? (pcap as PcapSource).stats,
      cache: { size: cache.size, ...cache.stats },
      exporter: exporter.stats,
    }),
    stop: () => {
      stopped ??= (async () => {
        clearInterval(expireTimer);
        if (conntrack !== null) await conntrack.stop();
        pcap?.stop();
        cache.flush(Date.now());
        await exporter.close();
      })();
      return stopped;
    },
  };
}
