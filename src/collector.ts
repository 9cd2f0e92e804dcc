import { mkdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { CloudSources } from './cloud/cloud-sources.js';
import type { FlowLogSourceStats } from './cloud/flow-log-source.js';
import { decoderSettingsFromConfig } from './config/decoder-settings.js';
import { storeDir } from './config/store-dir.js';
import type { FlowgateConfig } from './config/types.js';
import type { Datagram } from './decode/datagram.js';
import { FlowDecoder } from './decode/flow-decoder.js';
import type { TemplateExporterStats } from './decode/template/template-decoder.js';
import { DiscardOutput } from './deliver/discard-output.js';
import { FanoutOutput, type FanoutTarget } from './deliver/fanout-output.js';
import { ingestConfig } from './deliver/ingest/options.js';
import { type IngestStats, IngestUploader } from './deliver/ingest/uploader.js';
import { JsonlWriter } from './deliver/jsonl-writer.js';
import type { RecordOutput } from './deliver/output.js';
import { RotatingJsonlWriter } from './deliver/rotating-jsonl.js';
import { SequentialOutputs } from './deliver/sequential-outputs.js';
import { StoreOutput } from './deliver/store-output.js';
import { SwappableOutput } from './deliver/swappable-output.js';
import type { AlertEvent, AlertSink } from './detect/alert.js';
import { AlertStore } from './detect/alert-store.js';
import { DetectionEngine, type DetectionStatus } from './detect/engine.js';
import { Enricher, type EnricherSources, type EnricherStats } from './enrich/enricher.js';
import { RateLimitedWarning } from './log/rate-limited-warning.js';
import { Mitigator } from './mitigate/mitigator.js';
import { buildNotifiers } from './notify/notifiers.js';
import { DatagramQueue } from './pipeline/datagram-queue.js';
import { RecordBatcher } from './pipeline/record-batcher.js';
import { AllowList } from './receive/allowlist.js';
import { ExporterRateLimit } from './receive/exporter-rate-limit.js';
import { KernelDropSampler } from './receive/kernel-drops.js';
import { parseListenAddress } from './receive/listen-address.js';
import { ReceiveThread } from './receive/receive-thread.js';
import { TcpIpfixReceiver, type TcpLimitCounters } from './receive/tcp-ipfix-receiver.js';
import { type TeeTargetStats, UdpTee, type UdpTeeOptions } from './receive/tee.js';
import { type BoundListener, recvBufferWarning, UdpReceiver } from './receive/udp-receiver.js';
import { normalizeExporterAddress } from './record/address.js';
import { loadTemplateDb, saveTemplateDb } from './state/template-db.js';
import { ExporterStats, type ExporterStatsSnapshot, type TemplateState } from './stats/exporter-stats.js';
import { ClickHouseStore } from './store/clickhouse/clickhouse-store.js';
import type { FlowStore, RetentionPolicy, StoreHealth } from './store/contract.js';
import { DuckDbWorkerStore } from './store/duckdb/worker-store.js';

/**
 * Decode runs in slices on the event loop, between receive callbacks: at most this many
 * datagrams or this many ms per slice, so the sockets keep being read while decode is busy.
 */
const SLICE_DATAGRAMS = 512;
const SLICE_MS = 5;
/** Partial batches are handed to the output at least this often. */
const BATCH_FLUSH_MS = 1000;
/** Latest sFlow counters kept for this many interfaces (agent + sub-agent + ifIndex). */
const MAX_INTERFACES = 100_000;
/** How much nicer the decoding thread is than the receiving threads (see favourReceiving). */
const RECEIVE_NICE_GAP = 5;
/** IPFIX message length is a u16 (RFC 7011 3.1). */
const MAX_TCP_MESSAGE = 65_535;

export interface CollectorOptions {
  /** Where batches go (default: JSON lines per `output`). Tests inject an in-memory output. */
  output?: RecordOutput;
  /** Decoder (default: `new FlowDecoder(settings from config)`). */
  decoder?: FlowDecoder;
  /**
   * The flow store used when `store.enabled` (default: a DuckDbWorkerStore at storeDir(config)). Not yet
   * opened: the collector opens it at start and closes it at stop.
   */
  store?: FlowStore;
  /** More receivers of alert events (notifiers, mitigation, tests), besides the alert store and log. */
  alertSinks?: AlertSink[];
}

/** The store as /stats shows it: its health plus the queue in front of it. */
export interface CollectorStoreStats extends StoreHealth {
  name: string;
  queueDepth: number;
  drops: number;
}

export interface CollectorStats extends ExporterStatsSnapshot {
  uptimeSec: number;
  listeners: BoundListener[];
  /** Datagrams (UDP) and messages (TCP) accepted by the allow-list. */
  received: number;
  /**
   * Between receive and decode: the inline/TCP queue plus the receiving threads' rings.
   * `capacity` is in datagrams (flow.queue, per ring); `ringBytes` is the rings' shared memory
   * (flow.queuebytes each; 0 without receiving threads): a ring is full at either bound.
   */
  queue: { capacity: number; ringBytes: number; depth: number; highWater: number; drops: number };
  /**
   * `templates`: NetFlow v9/IPFIX templates held now over all exporters (decode.maxtemplates);
   * `exportersEvicted`: exporters forgotten after decode.exporteridle of silence to make room for new ones
   * while the exporter table was full (decode.maxexporters); `exportersReclaimed`: exporters that
   * never sent a record whose templates went to one that does, the shared pool being full.
   */
  decode: {
    datagrams: number;
    failures: number;
    templates: number;
    exportersEvicted: number;
    exportersReclaimed: number;
  };
  output: { name: string; depth: number; written: number; drops: number };
  /**
   * IPFIX over TCP. `refused`: connections closed at once by flow.tcpmaxconnections /
   * flow.tcpmaxperpeer; `timeouts`: closed after flow.tcpidletimeout of silence (idle) or for not
   * completing a message within flow.tcpmessagetimeout (stalled); `ratePauses`: reads paused by
   * flow.ratelimit.
   */
  tcp: {
    connections: number;
    connectionsTotal: number;
    framingErrors: number;
  } & TcpLimitCounters;
  /** Every bound that protects memory and CPU from hostile input, as configured. */
  limits: CollectorLimits;
  templateDb: { path: string | null; loaded: number; lastSaveError: string | null };
  /** Enrichment stage: records seen, AS/geo databases and lookups. */
  enrich: EnricherStats;
  /** null when `store.enabled` is false. */
  store: CollectorStoreStats | null;
  /** Streaming detection; null when `detection.enabled` is false. */
  detection: DetectionStatus | null;
  /**
   * Per UDP listener: datagrams the kernel dropped because the socket's receive buffer was full
   * ("we lost it", next to the exporters' sequence gaps), and bytes waiting; null off Linux.
   */
  kernelDrops: { address: string; drops: number | null; rxQueueBytes: number | null }[];
  /** Per tee target: forwarded, dropped, errors; null without `flow.tee.targets`. */
  tee: TeeTargetStats[] | null;
  /** The ingest uploader (sent, retried, spooled, replayed, dropped); null without `output.ingest.url`. */
  ingest: IngestStats | null;
  /** Per `cloud.sources` entry: pieces, bytes, records, rejected lines, read errors. */
  cloud: FlowLogSourceStats[];
}

/**
 * The limits section of /stats: every decode.* bound, the flow.* rate and TCP limits and queues as
 * configured (seconds where the key is in seconds), the output queue, and the allow-list's size.
 */
export type CollectorLimits = Omit<FlowgateConfig['decode'], 'extrafields'> &
  Pick<
    FlowgateConfig['flow'],
    | 'ratelimit'
    | 'rateburst'
    | 'tcpmaxconnections'
    | 'tcpmaxperpeer'
    | 'tcpidletimeout'
    | 'tcpmessagetimeout'
    | 'queue'
    | 'queuebytes'
  > & {
    outputqueue: number;
    /** flow.allow entries (0: any source may send). */
    allow: number;
  };

/** The limits section of /stats, from the configuration. */
function limitsOf(config: FlowgateConfig): CollectorLimits {
  const { extrafields: _mapped, ...d } = config.decode;
  const f = config.flow;
  return {
    ...d,
    ratelimit: f.ratelimit,
    rateburst: f.rateburst,
    tcpmaxconnections: f.tcpmaxconnections,
    tcpmaxperpeer: f.tcpmaxperpeer,
    tcpidletimeout: f.tcpidletimeout,
    tcpmessagetimeout: f.tcpmessagetimeout,
    queue: f.queue,
    queuebytes: f.queuebytes,
    outputqueue: config.output.queue,
    allow: f.allow.length,
  };
}

/** What a configuration reload did. */
export interface ReloadResult {
  /** Settings applied live, e.g. "detection", "output.file". */
  applied: string[];
  /** Changes that take effect only after a restart, with why. */
  needsRestart: string[];
}

/** Sections and keys a running collector cannot change without closing sockets or state. */
const RESTART_ONLY: readonly [string, (c: FlowgateConfig) => unknown][] = [
  ['flow.listen', (c) => c.flow.listen],
  ['flow.tcplisten', (c) => c.flow.tcplisten],
  ['flow.udpbuffer', (c) => c.flow.udpbuffer],
  ['flow.queue', (c) => c.flow.queue],
  ['flow.workers', (c) => c.flow.workers],
  ['flow.ratelimit', (c) => [c.flow.ratelimit, c.flow.rateburst]],
  [
    'flow.tcp limits',
    (c) => [c.flow.tcpmaxconnections, c.flow.tcpmaxperpeer, c.flow.tcpidletimeout, c.flow.tcpmessagetimeout],
  ],
  ['general', (c) => c.general],
  ['decode', (c) => c.decode],
  ['store', (c) => c.store],
  ['api', (c) => c.api],
  ['notify', (c) => c.notify],
  ['mitigation', (c) => c.mitigation],
  ['alerts', (c) => c.alerts],
  ['log.format', (c) => c.log.format],
  ['syslog', (c) => c.syslog],
  ['cloud', (c) => c.cloud],
  ['output.batchsize', (c) => c.output.batchsize],
  ['output.queue', (c) => c.output.queue],
];

/** Sections the enrichment stage is built from (a new Enricher replaces the old one). */
const ENRICHMENT_KEYS: readonly (keyof FlowgateConfig)[] = [
  'exporters',
  'interfaces',
  'interfaceclasses',
  'countonce',
  'addressclasses',
  'tags',
  'filters',
  'snmp',
  'geo',
];

export interface Collector {
  /** Bound addresses in `flow.listen` then `flow.tcplisten` order (port 0 resolved). */
  readonly listeners: readonly BoundListener[];
  /** The open flow store (queries), or null when `store.enabled` is false. */
  readonly store: FlowStore | null;
  /** The store's health as the collector sees it (for /readyz), or null without a store. */
  readonly storeHealth: { health(): StoreHealth } | null;
  /** Alerts raised by detection (for /api/alerts), or null when detection is off. */
  readonly alerts: AlertStore | null;
  stats(): CollectorStats;
  /** Decodes everything queued and hands it to the output (tests and shutdown). */
  flush(): Promise<void>;
  /**
   * Applies a new configuration without closing the listening sockets (SIGHUP, POST
   * /api/reload): what can change live is applied, what needs a restart is named.
   */
  reload(next: FlowgateConfig): Promise<ReloadResult>;
  /** Closes the sockets, drains queue, batcher and output, saves the template DB. */
  stop(): Promise<void>;
}

/**
 * Per-exporter counters joined with what the template decoder knows of the same exporter
 * (templates held, restarts detected, announced flow cache timeouts), summed over its ports and
 * TCP connections, so one stats entry tells the whole story of a device.
 */
function withTemplateState(
  snap: ExporterStatsSnapshot,
  templates: TemplateExporterStats[],
): ExporterStatsSnapshot {
  const byAddress = new Map<string, TemplateState>();
  for (const t of templates) {
    const acc = byAddress.get(t.exporter) ?? {
      templates: 0,
      restarts: 0,
      activeTimeoutSec: null,
      inactiveTimeoutSec: null,
    };
    acc.templates += t.templates;
    acc.restarts += t.restarts;
    acc.activeTimeoutSec = t.activeTimeoutSec ?? acc.activeTimeoutSec;
    acc.inactiveTimeoutSec = t.inactiveTimeoutSec ?? acc.inactiveTimeoutSec;
    byAddress.set(t.exporter, acc);
  }
  for (const e of snap.exporters) e.templateState = byAddress.get(e.address) ?? null;
  return snap;
}

/** Where alerts are kept across restarts; null: memory only. */
function alertsFile(config: FlowgateConfig): string | null {
  if (!config.alerts.persist) return null;
  return config.alerts.file ?? join(config.general.datadir, 'alerts.jsonl');
}

/** Alert events in the log: a start is a warning (someone should look), the rest info. */
function alertLogSink(logger: Logger): AlertSink {
  return {
    name: 'log',
    handle(event: AlertEvent): void {
      const a = event.alert;
      const fields = { alert: a.id, kind: a.kind, target: a.target, severity: a.severity, value: a.value };
      if (event.type === 'start') logger.warn(fields, `alert started: ${a.summary}`);
      else if (event.type === 'end') logger.info({ ...fields, peak: a.peak }, `alert ended: ${a.summary}`);
      else logger.info(fields, `alert ongoing: ${a.summary}`);
    },
    async close(): Promise<void> {},
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** ClickHouse as configured: one server, or a Distributed table over `cluster`'s shards. */
function clickHouseStore(config: FlowgateConfig): ClickHouseStore {
  const c = config.store.clickhouse;
  return new ClickHouseStore({
    url: c.url,
    database: c.database,
    username: c.username,
    password: c.password,
    table: c.table,
    cluster: c.cluster === null ? null : { name: c.cluster, shards: c.shards },
  });
}

/** Opens the configured store; a locked or unreadable store is an error naming its directory. */
async function openStore(config: FlowgateConfig, injected: FlowStore | undefined): Promise<FlowStore> {
  if (injected === undefined && config.store.engine === 'clickhouse') {
    const store = clickHouseStore(config);
    try {
      await store.open();
    } catch (err) {
      throw new Error(`ClickHouse store at ${config.store.clickhouse.url} cannot be opened: ${message(err)}`);
    }
    return store;
  }
  const dir = storeDir(config);
  // On its own thread: DuckDB's appends, compression and commits never hold up receiving.
  const store = injected ?? new DuckDbWorkerStore({ dir, memoryLimitBytes: config.store.memorylimit });
  try {
    await store.open();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const text = message(err);
    const why =
      code === 'EACCES' || code === 'EROFS' || /permission denied|read-only file system/i.test(text)
        ? 'not writable by this user: check the owner of general.datadir (systemd StateDirectory, the container volume)'
        : 'another flowgate using it? a damaged file?';
    throw new Error(`flow store at ${dir} cannot be opened (${why}): ${text}`);
  }
  return store;
}

function retentionPolicy(config: FlowgateConfig): RetentionPolicy | null {
  const { retentiondays, maxbytes } = config.store;
  if (retentiondays === null && maxbytes === null) return null;
  return { maxAgeMs: retentiondays === null ? null : retentiondays * 86_400_000, maxBytes: maxbytes };
}

/**
 * The JSON-lines (or injected) output as it was before the store: with a fan-out, its lane's
 * queue and drops are added to the batcher's.
 */
function outputStats(
  name: string,
  batcher: RecordBatcher,
  lane: { depth: number; written: number; drops: number } | null,
): CollectorStats['output'] {
  if (lane === null) return { name, depth: batcher.depth, written: batcher.written, drops: batcher.drops };
  return {
    name,
    depth: batcher.depth + lane.depth,
    written: lane.written,
    drops: batcher.drops + lane.drops,
  };
}

/**
 * The JSON-lines output as configured (stdout, a file, a rotated file), or null when none is
 * asked for; `fallback`: without a store, records go to stdout rather than nowhere.
 */
async function openLinesOutput(
  config: FlowgateConfig,
  logger: Logger,
  fallback: boolean,
): Promise<RecordOutput | null> {
  if (!(config.output.stdout || config.output.file !== null || fallback)) return null;
  if (!config.output.stdout && config.output.file === null && config.output.discard)
    return new DiscardOutput();
  const rotate = config.output.rotate;
  const rotating = config.output.file !== null && (rotate.maxbytes !== null || rotate.maxage !== null);
  const writers: (JsonlWriter | RotatingJsonlWriter)[] = [];
  if (rotating) {
    writers.push(
      new RotatingJsonlWriter({
        path: config.output.file as string,
        ...(rotate.maxbytes === null ? {} : { maxbytes: rotate.maxbytes }),
        maxage: rotate.maxage,
        compress: rotate.compress,
        keep: rotate.keep,
        onError: (err) => logger.error({ err: message(err) }, 'output file rotation failed'),
      }),
    );
  }
  if (config.output.stdout || !rotating)
    writers.push(
      new JsonlWriter({ stdout: config.output.stdout, file: rotating ? null : config.output.file }),
    );
  for (const w of writers) await w.ready();
  return writers.length === 1 ? (writers[0] as RecordOutput) : new SequentialOutputs(writers);
}

/**
 * Once the receiving threads run, this (decoding) thread gives way to them: nice +5 for this
 * thread only (Linux nice values are per thread, and lowering one's own priority needs no
 * privilege). With more runnable threads than cores (a co-located exporter, DuckDB), a receiving
 * thread left waiting for the CPU lets the socket buffer overflow: the kernel's drops. Decode can
 * wait, the ring holds what arrives meanwhile.
 */
function favourReceiving(logger: Logger): void {
  try {
    const now = getPriority(0);
    if (now < RECEIVE_NICE_GAP) setPriority(0, now + RECEIVE_NICE_GAP);
  } catch (err) {
    logger.debug({ err: message(err) }, 'decode thread priority unchanged');
  }
}

function teeOptions(config: FlowgateConfig): UdpTeeOptions {
  const { targets, sourcebind, queue, filter } = config.flow.tee;
  return { targets, sourcebind, queue, filter };
}

/** The tee to `flow.tee.targets` (names resolved now; a bad target rejects with why). */
function startTee(config: FlowgateConfig): Promise<UdpTee> {
  return UdpTee.start(teeOptions(config));
}

/** Tee counters of several receiving threads (each has its own sockets), summed per target. */
function sumTeeStats(per: (TeeTargetStats[] | null)[]): TeeTargetStats[] | null {
  const known = per.filter((p): p is TeeTargetStats[] => p !== null);
  if (known.length === 0) return null;
  return (known[0] as TeeTargetStats[]).map((t, i) => {
    const all = known.map((k) => k[i] as TeeTargetStats);
    return {
      ...t,
      sent: all.reduce((n, x) => n + x.sent, 0),
      dropped: all.reduce((n, x) => n + x.dropped, 0),
      errors: all.reduce((n, x) => n + x.errors, 0),
      waiting: all.reduce((n, x) => n + x.waiting, 0),
      lastError: all.find((x) => x.lastError !== null)?.lastError ?? null,
    };
  });
}

/** TCP limit counters of several listeners, summed. */
function sumTcpLimits(per: TcpLimitCounters[]): TcpLimitCounters {
  return {
    refused: {
      maxConnections: per.reduce((n, l) => n + l.refused.maxConnections, 0),
      maxPerPeer: per.reduce((n, l) => n + l.refused.maxPerPeer, 0),
    },
    timeouts: {
      idle: per.reduce((n, l) => n + l.timeouts.idle, 0),
      stalled: per.reduce((n, l) => n + l.timeouts.stalled, 0),
    },
    ratePauses: per.reduce((n, l) => n + l.ratePauses, 0),
  };
}

/** The ingest uploader as configured (its spool under the data directory by default), or null. */
async function openIngest(config: FlowgateConfig, logger: Logger): Promise<IngestUploader | null> {
  const settings = config.output.ingest;
  if (settings.url === null) return null;
  const { spool, url, ...rest } = settings;
  const uploader = await IngestUploader.open(
    ingestConfig({
      ...rest,
      url,
      spool: spool.enabled ? { ...spool, dir: spool.dir ?? join(config.general.datadir, 'spool') } : null,
    }),
    {
      log: {
        info: (msg) => logger.info({ output: 'ingest' }, msg),
        warn: (msg) => logger.warn({ output: 'ingest' }, msg),
      },
    },
  );
  const st = uploader.stats();
  logger.info(
    { url: st.url, profile: settings.profile, spool: st.spool !== null },
    'uploading records to the ingest API',
  );
  return uploader;
}

/**
 * The live collector: receive -> bounded datagram queue -> decode slices -> per-exporter stats
 * (the DecodeSink) -> batcher -> output.
 *
 * UDP sockets are read on receiving threads (flow.workers) that fill shared rings; this thread
 * reads the rings and the TCP queue in decode slices. Decoding on several threads would plug in
 * at the rings (one ring per decode worker, keyed by exporter so template state stays in one
 * worker, record batches posted back); nothing before the rings depends on decode.
 */
export async function startCollector(
  config: FlowgateConfig,
  logger: Logger,
  options: CollectorOptions = {},
): Promise<Collector> {
  const startedAt = Date.now();
  const decoder = options.decoder ?? new FlowDecoder(decoderSettingsFromConfig(config));

  // ---- template DB: load before the first datagram so restarts decode data at once ----
  const configuredDb = config.general.templatedb;
  const templateDbPath =
    configuredDb === null
      ? join(config.general.datadir, 'templates.json')
      : configuredDb.trim() === ''
        ? null
        : configuredDb;
  let templatesLoaded = 0;
  let lastSaveError: string | null = null;
  if (templateDbPath !== null) {
    try {
      templatesLoaded = loadTemplateDb(templateDbPath, decoder.templates, Date.now());
      logger.info({ path: templateDbPath, templates: templatesLoaded }, 'template database loaded');
    } catch (err) {
      logger.error(
        { path: templateDbPath, err: message(err) },
        'template database unusable: starting without templates',
      );
    }
  }
  const saveTemplates = (): void => {
    if (templateDbPath === null) return;
    try {
      mkdirSync(dirname(templateDbPath), { recursive: true });
      saveTemplateDb(templateDbPath, decoder.templates, Date.now());
      lastSaveError = null;
    } catch (err) {
      lastSaveError = message(err);
      logger.warn({ path: templateDbPath, err: lastSaveError }, 'template database not saved');
    }
  };

  // ---- output side: JSON lines (when asked for) and the store, each with its own bound ----
  const store = config.store.enabled ? await openStore(config, options.store) : null;
  let lines: SwappableOutput | null = null;
  try {
    const opened = options.output ?? (await openLinesOutput(config, logger, store === null));
    lines = opened === null ? null : new SwappableOutput(opened);
  } catch (err) {
    await store?.close();
    throw err;
  }
  const storeOutput =
    store === null
      ? null
      : new StoreOutput(store, {
          batchSize: config.store.batchsize,
          maxQueued: config.store.queue,
          retryIntervalMs: config.store.retryinterval * 1000,
          retention: retentionPolicy(config),
          onError: (err, what) =>
            logger.error(
              { store: store.name, err: message(err) },
              what === 'write'
                ? `store write failed: records kept queued, retrying in ${config.store.retryinterval} s`
                : 'store retention failed',
            ),
          onRetention: (dropped) =>
            logger.info({ store: store.name, dropped }, 'retention: partitions dropped'),
        });
  let ingestOutput: SwappableOutput | null = null;
  try {
    const opened = await openIngest(config, logger);
    ingestOutput = opened === null ? null : new SwappableOutput(opened);
  } catch (err) {
    await store?.close();
    throw err;
  }
  const ingestStats = (): IngestStats | null =>
    ingestOutput === null ? null : (ingestOutput.output as IngestUploader).stats();
  const targets: FanoutTarget[] = [];
  if (lines !== null) targets.push({ output: lines, maxQueued: config.output.queue });
  if (ingestOutput !== null) targets.push({ output: ingestOutput, maxQueued: config.output.queue });
  if (storeOutput !== null) targets.push({ output: storeOutput, maxQueued: config.store.queue });
  const fanout =
    targets.length === 1
      ? null
      : new FanoutOutput(targets, (name, err) =>
          logger.error({ output: name, err: message(err) }, 'output write failed: batch dropped'),
        );
  const output: RecordOutput = fanout ?? targets[0].output;
  const linesLane = (): { depth: number; written: number; drops: number } | null => {
    if (fanout === null) return null;
    return fanout.laneStats()[0] ?? null;
  };
  const batcher = new RecordBatcher(output, {
    batchSize: config.output.batchsize,
    maxQueued: config.output.queue,
    flushIntervalMs: BATCH_FLUSH_MS,
    onError: (err) =>
      logger.error({ output: output.name, err: message(err) }, 'output write failed: batch dropped'),
  });
  const enricherSources: EnricherSources = {
    announcedInterface: (exporter, ifIndex) => decoder.templates.interfaceName(exporter, ifIndex),
    snmpLog: (msg, detail) => logger.warn(detail, msg),
  };
  let enricher = new Enricher(config, enricherSources);
  /** The configuration in force (reload replaces it). */
  let current = config;
  // ---- detection: after enrichment (address classes, count-once), beside the outputs ----
  const alerts = config.detection.enabled
    ? new AlertStore({ maxAlerts: config.alerts.max, path: alertsFile(config), logger })
    : null;
  // Notifiers queue and retry on their own: a slow webhook never holds up receiving.
  const notifiers =
    alerts === null
      ? []
      : [
          ...buildNotifiers(config.notify, logger),
          ...(config.mitigation.enabled ? [new Mitigator({ config: config.mitigation, logger })] : []),
          ...(options.alertSinks ?? []),
        ];
  const detection =
    alerts === null
      ? null
      : new DetectionEngine(
          config.detection,
          [alerts, alertLogSink(logger), ...notifiers],
          config.decode.maxexporters,
          (exporter, ifIndex) => enricher.interfaceSpeed(exporter, ifIndex),
        );
  const stats = new ExporterStats({
    maxExporters: config.decode.maxexporters,
    maxInterfaces: MAX_INTERFACES,
    downsample: config.general.downsample,
    maxClockSkewSec: config.general.maxclockskew,
    exporterIdleMs: config.decode.exporteridle * 1000,
    forward: (rec) => {
      if (!enricher.apply(rec)) return;
      batcher.add(rec);
      detection?.observe(rec, stats.nowMs);
    },
  });

  // ---- decode ----
  let stopping: Promise<void> | null = null;
  const queue = new DatagramQueue(config.flow.queue);
  let decoded = 0;
  let decodeFailures = 0;
  let scheduled = false;
  const decodeOne = (d: Datagram): void => {
    stats.nowMs = d.receivedAtMs;
    try {
      decoder.decode(d, stats);
    } catch (err) {
      // Decoders must not throw; if one does, lose this datagram, not the collector.
      decodeFailures++;
      stats.error(
        d.srcAddress,
        'record_invalid',
        `decoder failed on a datagram from ${d.srcAddress}: ${message(err)}`,
      );
    }
    decoded++;
  };
  /** Receiving threads (flow.workers), each with the ring it fills; empty: sockets read here. */
  const threads: ReceiveThread[] = [];
  /**
   * Next datagram: the TCP / inline queue first, then the rings in turn. A ring's datagram is
   * decoded in place (its payload is a view into shared memory, no copy) and its slot freed by
   * releaseDatagram() once decoded: decoders keep nothing of a payload.
   */
  let ringTurn = 0;
  let heldRing: ReceiveThread | null = null;
  const nextDatagram = (): Datagram | undefined => {
    const d = queue.shift();
    if (d !== undefined || threads.length === 0) return d;
    for (let n = 0; n < threads.length; n++) {
      ringTurn = ringTurn + 1 < threads.length ? ringTurn + 1 : 0;
      const thread = threads[ringTurn] as ReceiveThread;
      const fromRing = thread.reader.peek();
      if (fromRing !== undefined) {
        heldRing = thread;
        return fromRing;
      }
    }
    return undefined;
  };
  const releaseDatagram = (): void => {
    if (heldRing === null) return;
    heldRing.reader.release();
    heldRing = null;
  };
  const pending = (): boolean => queue.length > 0 || threads.some((t) => t.reader.length > 0);
  let ringsWatched = false;
  /** Sleeps until a receiving thread writes (no polling while idle). */
  const watchRings = (): void => {
    if (ringsWatched || threads.length === 0 || stopping !== null) return;
    ringsWatched = true;
    void Promise.race(threads.map((t) => t.reader.whenReadable())).then(() => {
      ringsWatched = false;
      scheduleDecode();
    });
  };
  const decodeSlice = (): void => {
    scheduled = false;
    const deadline = performance.now() + SLICE_MS;
    for (let i = 1; i <= SLICE_DATAGRAMS; i++) {
      const d = nextDatagram();
      if (d === undefined) {
        watchRings();
        return;
      }
      decodeOne(d);
      releaseDatagram();
      if ((i & 15) === 0 && performance.now() > deadline) break;
    }
    if (pending()) scheduleDecode();
    else watchRings();
  };
  const scheduleDecode = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(decodeSlice);
  };
  const drainQueue = (): void => {
    for (let d = nextDatagram(); d !== undefined; d = nextDatagram()) {
      decodeOne(d);
      releaseDatagram();
    }
  };

  // ---- receive: allow-list, stamp, queue; nothing else ----
  let allow = new AllowList(config.flow.allow);
  let received = 0;
  const enqueue = (
    payload: Buffer,
    srcAddress: string,
    srcPort: number,
    dstPort: number,
    connectionId: string | null,
  ): void => {
    received++;
    const d: Datagram = { payload, srcAddress, srcPort, dstPort, receivedAtMs: Date.now(), connectionId };
    if (queue.push(d)) scheduleDecode();
  };
  // Tees get every allowed datagram before the decode queue, so load-shedding there never
  // starves the other collectors; TCP messages are not teed (they may exceed a UDP datagram).
  /** Receiving threads when flow.workers > 0: they read the UDP sockets and run the tee. */
  const threadCount = Math.min(config.flow.workers, config.flow.listen.length);
  let tee: UdpTee | null = null;
  if (config.flow.tee.targets.length > 0 && threadCount === 0) {
    try {
      tee = await startTee(config);
    } catch (err) {
      await batcher.close();
      enricher.close();
      await store?.close();
      throw err;
    }
  }
  if (config.flow.tee.targets.length > 0)
    logger.info({ targets: config.flow.tee.targets }, 'forwarding every datagram to the tee targets');
  // flow.ratelimit for the sockets read here and for TCP (receiving threads keep their own).
  const rateLimit = ExporterRateLimit.create({
    perSecond: config.flow.ratelimit,
    burst: config.flow.rateburst,
  });
  const rateWarning = new RateLimitedWarning(logger);
  /** Datagrams a source lost to flow.ratelimit: counted, and said in the log (at most every 10 s). */
  const rateLimited = (address: string, n: number): void => {
    stats.rateLimited(address, n);
    rateWarning.warn(
      { exporter: address, datagrams: n, ratelimit: config.flow.ratelimit },
      `datagrams from ${address} over flow.ratelimit (${config.flow.ratelimit}/s) dropped before decode`,
    );
  };
  const drainRateLimit = (): void => {
    if (rateLimit !== null) for (const [a, n] of rateLimit.takeLimited()) rateLimited(a, n);
  };
  const rateTimer = rateLimit === null ? null : setInterval(drainRateLimit, 1000);
  rateTimer?.unref();
  const onUdp = (payload: Buffer, src: string, srcPort: number, dstPort: number): void => {
    const address = normalizeExporterAddress(src);
    if (!allow.allows(address)) {
      stats.notAllowed(address);
      return;
    }
    // The tee relays what arrived, limited or not: other collectors apply their own limits.
    tee?.forward(payload, address);
    if (rateLimit !== null && !rateLimit.allows(address, Date.now())) return;
    enqueue(payload, address, srcPort, dstPort, null);
  };

  let tcpFramingErrors = 0;
  const tcpLimitWarning = new RateLimitedWarning(logger);
  const logLimit = (src: string, text: string): void => tcpLimitWarning.warn({ exporter: src }, text);
  const udp =
    threadCount > 0
      ? []
      : config.flow.listen.map((a) => new UdpReceiver(parseListenAddress(a), config.flow.udpbuffer, onUdp));
  const tcp = config.flow.tcplisten.map(
    (a) =>
      new TcpIpfixReceiver(parseListenAddress(a), {
        idleTimeoutMs: config.flow.tcpidletimeout * 1000,
        messageTimeoutMs: config.flow.tcpmessagetimeout * 1000,
        maxConnections: config.flow.tcpmaxconnections,
        maxPerPeer: config.flow.tcpmaxperpeer,
        maxMessageBytes: MAX_TCP_MESSAGE,
        rateLimit,
        allows: (address) => allow.allows(address),
        onMessage: (payload, src, srcPort, dstPort, id) => enqueue(payload, src, srcPort, dstPort, id),
        onClose: (id) => {
          // The connection's last messages may still be queued: decode them with its templates
          // before they are forgotten (closes are rare, so decoding here is cheap enough).
          drainQueue();
          decoder.templates.closeConnection(id);
        },
        onFramingError: (src, text) => {
          tcpFramingErrors++;
          stats.error(src, 'bad_length', text);
          logger.warn({ exporter: src }, text);
        },
        onNotAllowed: (src) => stats.notAllowed(src),
        onLimit: (src, text) => logLimit(src, text),
      }),
  );
  // Every bound that protects memory, stated once at start (what is hit is counted in the stats).
  const { extrafields: _mapped, ...decodeLimits } = config.decode;
  logger.info(
    {
      decode: decodeLimits,
      datagramQueue: config.flow.queue,
      outputQueue: config.output.queue,
      storeQueue: config.store.enabled ? config.store.queue : null,
      exporterAllowList: config.flow.allow.length > 0 ? config.flow.allow : 'any',
      rateLimit:
        config.flow.ratelimit > 0
          ? { perSecond: config.flow.ratelimit, burst: config.flow.rateburst }
          : 'off',
      tcp:
        config.flow.tcplisten.length > 0
          ? {
              maxConnections: config.flow.tcpmaxconnections,
              maxPerPeer: config.flow.tcpmaxperpeer,
              idleTimeoutSec: config.flow.tcpidletimeout,
              messageTimeoutSec: config.flow.tcpmessagetimeout,
            }
          : 'off',
    },
    'limits in force',
  );
  const listeners: BoundListener[] = [];
  const udpBound: BoundListener[] = [];
  /** A start that failed half-way closes what it had opened, so nothing is left bound or running. */
  const abandonStart = async (): Promise<void> => {
    if (rateTimer !== null) clearInterval(rateTimer);
    await Promise.all([
      ...udp.map((r) => r.stop()),
      ...tcp.map((r) => r.stop()),
      ...threads.map((t) => t.stop()),
    ]);
    await tee?.close();
    await batcher.close();
    enricher.close();
    await store?.close();
  };
  try {
    if (threadCount > 0) {
      // Listener i is read by thread i mod n: one exporter's datagrams to one port stay in order.
      const owned = Array.from({ length: threadCount }, (_, t) =>
        config.flow.listen.filter((_a, i) => i % threadCount === t),
      );
      const started = await Promise.allSettled(
        owned.map((listen) =>
          ReceiveThread.start({
            listen,
            udpbuffer: config.flow.udpbuffer,
            allow: config.flow.allow,
            tee: config.flow.tee.targets.length > 0 ? teeOptions(config) : null,
            ringBytes: config.flow.queuebytes,
            ringDatagrams: config.flow.queue,
            rateLimit: { perSecond: config.flow.ratelimit, burst: config.flow.rateburst },
            onNotAllowed: (address, n) => stats.notAllowed(address, n),
            onRateLimited: rateLimited,
            onExit: (why) => logger.error({}, `${why}: its listeners receive nothing more`),
          }),
        ),
      );
      for (const r of started) if (r.status === 'fulfilled') threads.push(r.value);
      const failed = started.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
      for (let i = 0; i < config.flow.listen.length; i++)
        udpBound.push(
          (threads[i % threadCount] as ReceiveThread).listeners[Math.floor(i / threadCount)] as BoundListener,
        );
      watchRings();
      favourReceiving(logger);
    }
    for (const r of udp) udpBound.push(await r.start());
    for (const l of udpBound) {
      listeners.push(l);
      const warning = recvBufferWarning(l);
      if (warning !== null)
        logger.warn(
          { listen: l.address, requested: l.recvBufferRequested, actual: l.recvBufferActual },
          warning,
        );
      logger.info({ listen: l.address, recvBuffer: l.recvBufferActual }, 'listening for flows (UDP)');
    }
    for (const r of tcp) {
      const l = await r.start();
      listeners.push(l);
      logger.info({ listen: l.address }, 'listening for IPFIX over TCP');
    }
  } catch (err) {
    await abandonStart();
    throw err;
  }
  // ---- cloud flow logs: records enter after decode, as if a decoder had produced them ----
  let cloud: CloudSources | null = null;
  if (config.cloud.sources.length > 0) {
    const halfQueue = Math.max(1, Math.floor(config.output.queue / 2));
    try {
      cloud = new CloudSources(
        config.cloud.sources,
        config.general.datadir,
        async (records) => {
          const nowMs = Date.now();
          for (const rec of records) {
            if (!enricher.apply(rec)) continue;
            batcher.add(rec);
            detection?.observe(rec, nowMs);
          }
          // Backpressure instead of drops: a backlog of objects waits in the bucket, not in memory.
          if (batcher.depth >= halfQueue) await batcher.drain();
        },
        logger,
      );
    } catch (err) {
      await abandonStart();
      throw err;
    }
  }
  enricher.start();
  cloud?.start();
  const geo = enricher.stats().geo;
  for (const db of geo?.databases ?? []) {
    if (db.loaded) logger.info({ path: db.path, roles: db.roles, layout: db.layout }, 'geo database loaded');
    else
      logger.warn(
        { path: db.path, err: db.error },
        'geo database not loaded: its fields stay null until it is',
      );
  }

  const saveTimer =
    templateDbPath === null ? null : setInterval(saveTemplates, config.general.templatedbinterval * 1000);
  saveTimer?.unref();
  // Silent exporters and alerts that went quiet need the wall clock, even when nothing arrives.
  const detectionTimer = detection === null ? null : setInterval(() => detection.tick(), 1000);
  detectionTimer?.unref();

  const kernelDrops = new KernelDropSampler();
  const collector: Collector = {
    listeners,
    store,
    storeHealth: storeOutput,
    alerts,
    stats(): CollectorStats {
      const rings = threads.map((t) => t.reader.counters());
      drainRateLimit();
      return {
        uptimeSec: Math.round((Date.now() - startedAt) / 1000),
        listeners,
        received: received + rings.reduce((n, r) => n + r.written, 0),
        queue: {
          capacity: queue.capacity,
          ringBytes: rings.reduce((n, r) => n + r.capacityBytes, 0),
          depth: queue.length + rings.reduce((n, r) => n + r.depth, 0),
          highWater: Math.max(queue.highWater, ...rings.map((r) => r.highWater)),
          drops: queue.drops + rings.reduce((n, r) => n + r.drops, 0),
        },
        decode: {
          datagrams: decoded,
          failures: decodeFailures,
          templates: decoder.templates.store.templatesHeld,
          exportersEvicted: decoder.templates.store.exportersEvicted,
          exportersReclaimed: decoder.templates.store.exportersReclaimed,
        },
        output: outputStats(lines?.name ?? output.name, batcher, lines !== null ? linesLane() : null),
        tcp: {
          connections: tcp.reduce((n, r) => n + r.connections, 0),
          connectionsTotal: tcp.reduce((n, r) => n + r.connectionsTotal, 0),
          framingErrors: tcpFramingErrors,
          ...sumTcpLimits(tcp.map((r) => r.limits)),
        },
        // Restart-only but for the allow-list: what is in force is what the collector started with.
        limits: { ...limitsOf(config), allow: current.flow.allow.length },
        templateDb: { path: templateDbPath, loaded: templatesLoaded, lastSaveError },
        enrich: enricher.stats(),
        store:
          storeOutput === null
            ? null
            : {
                name: storeOutput.stats().name,
                ...storeOutput.health(),
                queueDepth: storeOutput.stats().queueDepth,
                drops: storeOutput.stats().drops,
              },
        detection: detection?.status() ?? null,
        kernelDrops: kernelDrops.dropsFor(listeners.filter((l) => l.transport === 'udp')),
        tee: threads.length > 0 ? sumTeeStats(threads.map((t) => t.teeStats())) : (tee?.stats() ?? null),
        ingest: ingestStats(),
        cloud: cloud?.stats() ?? [],
        ...withTemplateState(stats.snapshot(), decoder.templates.exporterStats()),
      };
    },
    async reload(next: FlowgateConfig): Promise<ReloadResult> {
      const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
      const applied: string[] = [];
      const needsRestart: string[] = [];
      for (const [key, read] of RESTART_ONLY)
        if (!same(read(current), read(next))) needsRestart.push(`${key} changed: needs a restart`);
      if (!same(current.flow.allow, next.flow.allow)) {
        allow = new AllowList(next.flow.allow);
        await Promise.all(threads.map((t) => t.setAllow(next.flow.allow)));
        applied.push('flow.allow');
      }
      if (!same(current.flow.tee, next.flow.tee)) {
        const wanted = next.flow.tee.targets.length === 0 ? null : teeOptions(next);
        if (threads.length > 0) {
          await Promise.all(threads.map((t) => t.setTee(wanted)));
        } else {
          const old = tee;
          tee = wanted === null ? null : await startTee(next);
          await old?.close();
        }
        applied.push('flow.tee');
      }
      const enrichmentChanged = ENRICHMENT_KEYS.filter((k) => !same(current[k], next[k]));
      if (enrichmentChanged.length > 0) {
        // Built before the old one is closed: records keep flowing through one or the other.
        const fresh = new Enricher(next, enricherSources);
        fresh.start();
        const old = enricher;
        enricher = fresh;
        old.close();
        applied.push(...enrichmentChanged);
        if (enrichmentChanged.includes('exporters'))
          needsRestart.push(
            'exporters: sampling overrides apply to decoding after a restart (names, sites, tags now)',
          );
      }
      if (detection !== null && !same(current.detection, next.detection)) {
        const notes = detection.reconfigure(next.detection);
        needsRestart.push(...notes);
        applied.push('detection');
      } else if (detection === null && next.detection.enabled) {
        needsRestart.push('detection.enabled changed: needs a restart');
      }
      const linesChanged = (['stdout', 'file', 'rotate'] as const).filter(
        (k) => !same(current.output[k], next.output[k]),
      );
      if (linesChanged.length > 0 && options.output === undefined) {
        const fresh = () => openLinesOutput(next, logger, store === null);
        const wanted = next.output.stdout || next.output.file !== null || store === null;
        if (lines === null || !wanted) {
          needsRestart.push('output: adding or removing the JSON-lines output needs a restart');
        } else {
          const before = current;
          await lines.swap(
            async () => (await fresh()) as RecordOutput,
            async () => (await openLinesOutput(before, logger, store === null)) as RecordOutput,
          );
          applied.push(...linesChanged.map((k) => `output.${k}`));
        }
      }
      if (!same(current.output.ingest, next.output.ingest)) {
        if (ingestOutput === null || next.output.ingest.url === null) {
          needsRestart.push('output.ingest: turning the upload on or off needs a restart');
        } else {
          const before = current;
          await ingestOutput.swap(
            async () => (await openIngest(next, logger)) as RecordOutput,
            async () => (await openIngest(before, logger)) as RecordOutput,
          );
          applied.push('output.ingest');
        }
      }
      if (current.log.level !== next.log.level) {
        logger.level = next.log.level;
        applied.push('log.level');
      }
      current = next;
      return { applied, needsRestart };
    },
    async flush(): Promise<void> {
      drainQueue();
      await batcher.drain();
      await fanout?.drain();
      await storeOutput?.drain();
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (saveTimer !== null) clearInterval(saveTimer);
        if (detectionTimer !== null) clearInterval(detectionTimer);
        if (rateTimer !== null) clearInterval(rateTimer);
        await Promise.all([
          ...udp.map((r) => r.stop()),
          ...tcp.map((r) => r.stop()),
          ...threads.map((t) => t.stop()),
        ]);
        await tee?.close();
        await cloud?.stop();
        // What the threads received before their sockets closed is still in their rings.
        drainQueue();
        try {
          await batcher.close();
        } finally {
          saveTemplates();
          enricher.close();
          await store?.close();
          await Promise.all([alerts?.close(), ...notifiers.map((s) => s.close())]);
        }
      })();
      return stopping;
    },
  };
  return collector;
}
