import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { decoderSettingsFromConfig } from './config/decoder-settings.js';
import { storeDir } from './config/store-dir.js';
import type { FlowgateConfig } from './config/types.js';
import type { Datagram } from './decode/datagram.js';
import { FlowDecoder } from './decode/flow-decoder.js';
import type { TemplateExporterStats } from './decode/template/template-decoder.js';
import { FanoutOutput, type FanoutTarget } from './deliver/fanout-output.js';
import { JsonlWriter } from './deliver/jsonl-writer.js';
import type { RecordOutput } from './deliver/output.js';
import { StoreOutput } from './deliver/store-output.js';
import type { AlertEvent, AlertSink } from './detect/alert.js';
import { AlertStore } from './detect/alert-store.js';
import { DetectionEngine, type DetectionStatus } from './detect/engine.js';
import { Enricher, type EnricherStats } from './enrich/enricher.js';
import { Mitigator } from './mitigate/mitigator.js';
import { buildNotifiers } from './notify/notifiers.js';
import { DatagramQueue } from './pipeline/datagram-queue.js';
import { RecordBatcher } from './pipeline/record-batcher.js';
import { AllowList } from './receive/allowlist.js';
import { parseListenAddress } from './receive/listen-address.js';
import { DEFAULT_TCP_IDLE_MS, TcpIpfixReceiver } from './receive/tcp-ipfix-receiver.js';
import { type BoundListener, recvBufferWarning, UdpReceiver } from './receive/udp-receiver.js';
import { normalizeExporterAddress } from './record/address.js';
import { loadTemplateDb, saveTemplateDb } from './state/template-db.js';
import { ExporterStats, type ExporterStatsSnapshot, type TemplateState } from './stats/exporter-stats.js';
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
  queue: { capacity: number; depth: number; highWater: number; drops: number };
  decode: { datagrams: number; failures: number };
  output: { name: string; depth: number; written: number; drops: number };
  tcp: { connections: number; connectionsTotal: number; framingErrors: number };
  templateDb: { path: string | null; loaded: number; lastSaveError: string | null };
  /** Enrichment stage: records seen, AS/geo databases and lookups. */
  enrich: EnricherStats;
  /** null when `store.enabled` is false. */
  store: CollectorStoreStats | null;
  /** Streaming detection; null when `detection.enabled` is false. */
  detection: DetectionStatus | null;
}

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

/** Opens the configured store; a locked or unreadable store is an error naming its directory. */
async function openStore(config: FlowgateConfig, injected: FlowStore | undefined): Promise<FlowStore> {
  const dir = storeDir(config);
  // On its own thread: DuckDB's appends, compression and commits never hold up receiving.
  const store = injected ?? new DuckDbWorkerStore({ dir });
  try {
    await store.open();
  } catch (err) {
    throw new Error(
      `flow store at ${dir} cannot be opened (another flowgate using it? a damaged file?): ${message(err)}`,
    );
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
 * The live collector: receive -> bounded datagram queue -> decode slices -> per-exporter stats
 * (the DecodeSink) -> batcher -> output.
 *
 * Multi-core seam: the DatagramQueue + decode slice is where worker threads would plug in
 * (receivers push into per-worker queues keyed by exporter so template state stays in one
 * worker; workers post record batches back). Nothing before the queue depends on decode.
 */
export async function startCollector(
  config: FlowgateConfig,
  logger: Logger,
  options: CollectorOptions = {},
): Promise<Collector> {
  const startedAt = Date.now();
  const decoder = options.decoder ?? new FlowDecoder(decoderSettingsFromConfig(config));

  // ---- template DB: load before the first datagram so restarts decode data at once ----
  const templateDbPath = config.general.templatedb.trim() === '' ? null : config.general.templatedb;
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
  let lines = options.output ?? null;
  if (lines === null && (config.output.stdout || config.output.file !== null || store === null)) {
    const writer = new JsonlWriter({ stdout: config.output.stdout, file: config.output.file });
    try {
      await writer.ready();
    } catch (err) {
      await store?.close();
      throw err;
    }
    lines = writer;
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
  const targets: FanoutTarget[] = [];
  if (lines !== null) targets.push({ output: lines, maxQueued: config.output.queue });
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
  const enricher = new Enricher(config, {
    announcedInterface: (exporter, ifIndex) => decoder.templates.interfaceName(exporter, ifIndex),
    snmpLog: (msg, detail) => logger.warn(detail, msg),
  });
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
    forward: (rec) => {
      if (!enricher.apply(rec)) return;
      batcher.add(rec);
      detection?.observe(rec, stats.nowMs);
    },
  });

  // ---- decode ----
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
  const decodeSlice = (): void => {
    scheduled = false;
    const deadline = performance.now() + SLICE_MS;
    for (let i = 1; i <= SLICE_DATAGRAMS; i++) {
      const d = queue.shift();
      if (d === undefined) return;
      decodeOne(d);
      if ((i & 15) === 0 && performance.now() > deadline) break;
    }
    if (queue.length > 0) scheduleDecode();
  };
  const scheduleDecode = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(decodeSlice);
  };
  const drainQueue = (): void => {
    for (let d = queue.shift(); d !== undefined; d = queue.shift()) decodeOne(d);
  };

  // ---- receive: allow-list, stamp, queue; nothing else ----
  const allow = new AllowList(config.flow.allow);
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
  const onUdp = (payload: Buffer, src: string, srcPort: number, dstPort: number): void => {
    const address = normalizeExporterAddress(src);
    if (!allow.allows(address)) {
      stats.notAllowed(address);
      return;
    }
    enqueue(payload, address, srcPort, dstPort, null);
  };

  let tcpFramingErrors = 0;
  const udp = config.flow.listen.map(
    (a) => new UdpReceiver(parseListenAddress(a), config.flow.udpbuffer, onUdp),
  );
  const tcp = config.flow.tcplisten.map(
    (a) =>
      new TcpIpfixReceiver(parseListenAddress(a), {
        idleTimeoutMs: DEFAULT_TCP_IDLE_MS,
        maxMessageBytes: MAX_TCP_MESSAGE,
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
    },
    'limits in force',
  );
  const listeners: BoundListener[] = [];
  try {
    for (const r of udp) {
      const l = await r.start();
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
    await Promise.all([...udp.map((r) => r.stop()), ...tcp.map((r) => r.stop())]);
    await batcher.close();
    enricher.close();
    await store?.close();
    throw err;
  }
  enricher.start();
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

  let stopping: Promise<void> | null = null;
  const collector: Collector = {
    listeners,
    store,
    storeHealth: storeOutput,
    alerts,
    stats(): CollectorStats {
      return {
        uptimeSec: Math.round((Date.now() - startedAt) / 1000),
        listeners,
        received,
        queue: {
          capacity: queue.capacity,
          depth: queue.length,
          highWater: queue.highWater,
          drops: queue.drops,
        },
        decode: { datagrams: decoded, failures: decodeFailures },
        output: outputStats(lines?.name ?? output.name, batcher, lines !== null ? linesLane() : null),
        tcp: {
          connections: tcp.reduce((n, r) => n + r.connections, 0),
          connectionsTotal: tcp.reduce((n, r) => n + r.connectionsTotal, 0),
          framingErrors: tcpFramingErrors,
        },
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
        ...withTemplateState(stats.snapshot(), decoder.templates.exporterStats()),
      };
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
        await Promise.all([...udp.map((r) => r.stop()), ...tcp.map((r) => r.stop())]);
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
