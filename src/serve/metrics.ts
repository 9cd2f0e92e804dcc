/**
 * Prometheus metrics, derived at scrape time from one `collector.stats()` snapshot (no work on
 * the decode path). Names are prefixed `flowgate_`; process metrics come from prom-client's
 * default collectors.
 *
 * Counters never go down: each is advanced by the growth of the snapshot value since the last
 * scrape (`MonotonicCounter`), so a value that would fall (it should not: the collector's counters
 * only grow) leaves the counter where it was instead of breaking `rate()`.
 *
 * Label cardinality is bounded by the stats themselves: `exporter` takes at most
 * decode.maxexporters values plus "other", `kind` the DecodeErrorKind list, `listen` the
 * configured listeners. Allow-list refusals are a total only (their sources are not exporters).
 *
 * The `flowgate_store_*` metrics exist only when the collector has a flow store (store.enabled):
 * a 0 there would read as "empty store" or "store not ready" and fire alerts on a collector that
 * was never meant to store. Likewise the `flowgate_alerts_*` metrics exist only with an alert
 * store (detection on); their `kind` label takes the fixed ALERT_KINDS values.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { CollectorStats } from '../collector.js';
import { ALERT_KINDS } from '../detect/alert.js';
import type { AlertMetricsSource } from '../detect/alert-store.js';
import type { StoreHealth } from '../store/contract.js';

export const METRIC_PREFIX = 'flowgate_';

export interface MetricsSource {
  stats(): CollectorStats;
  store: { health(): StoreHealth } | null;
  /** Absent or null: detection is off. */
  alerts?: AlertMetricsSource | null;
}

/** Advances a prom-client counter to follow a snapshot value, per label set, never backwards. */
class MonotonicCounter<L extends string> {
  private readonly seen = new Map<string, number>();
  readonly counter: Counter<L>;

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    this.counter = new Counter({ name: METRIC_PREFIX + name, help, labelNames, registers: [registry] });
  }

  follow(value: number, labels: Partial<Record<L, string>> = {}): void {
    const key = JSON.stringify(labels);
    const prev = this.seen.get(key) ?? 0;
    if (value > prev) {
      this.counter.inc(labels, value - prev);
      this.seen.set(key, value);
    } else if (!this.seen.has(key)) {
      // Exposes a zero sample at once, so a series exists before its first increment.
      this.counter.inc(labels, 0);
      this.seen.set(key, 0);
    }
  }
}

function gauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Gauge<L> {
  return new Gauge({ name: METRIC_PREFIX + name, help, labelNames, registers: [registry] });
}

export class FlowgateMetrics {
  readonly registry = new Registry();

  private readonly c;
  private readonly g;
  /** Null without a flow store: its metrics are then not registered at all. */
  private readonly storeMetrics;
  /** Null without an alert store (detection off). */
  private readonly alertMetrics;

  constructor(private readonly source: MetricsSource) {
    const r = this.registry;
    const counter = <L extends string>(name: string, help: string, labels: readonly L[] = []) =>
      new MonotonicCounter<L>(r, name, help, labels);
    this.c = {
      received: counter(
        'received_datagrams_total',
        'Datagrams (UDP) and messages (TCP) accepted by the allow-list',
      ),
      notAllowed: counter('not_allowed_datagrams_total', 'Datagrams refused by the exporter allow-list'),
      decoded: counter('decoded_datagrams_total', 'Datagrams handed to the decoders'),
      decodeFailures: counter('decode_failures_total', 'Datagrams on which a decoder failed unexpectedly'),
      queueDrops: counter(
        'queue_drops_total',
        'Datagrams dropped because the receive-to-decode queue was full',
      ),
      outputWritten: counter('output_records_written_total', 'Records written by the output'),
      outputDrops: counter(
        'output_drops_total',
        'Records dropped because the output queue was full or a write failed',
      ),
      ingestSent: counter('ingest_records_sent_total', 'Records delivered to the ingest API (output.ingest)'),
      ingestRetries: counter('ingest_retries_total', 'Ingest requests retried'),
      ingestRejected: counter(
        'ingest_rejected_records_total',
        'Records refused for good by the ingest API (4xx other than 408/429)',
      ),
      ingestSpooled: counter('ingest_spooled_records_total', 'Records written to the ingest spool'),
      ingestReplayed: counter('ingest_replayed_records_total', 'Records delivered from the ingest spool'),
      ingestDropped: counter(
        'ingest_dropped_records_total',
        'Records lost: failed every retry without a spool, or given up by a full spool',
      ),
      kernelDrops: counter(
        'listener_kernel_drops_total',
        "Datagrams the kernel dropped because this UDP socket's receive buffer was full (Linux), per listener",
        ['listen'],
      ),
      teeSent: counter('tee_datagrams_total', 'Datagrams forwarded to a tee target', ['target']),
      teeDropped: counter(
        'tee_drops_total',
        'Datagrams not forwarded to a tee target because its queue (flow.tee.queue) was full',
        ['target'],
      ),
      teeErrors: counter('tee_errors_total', 'Send errors to a tee target (e.g. port unreachable)', [
        'target',
      ]),
      cloudBytes: counter('cloud_bytes_total', 'Bytes of cloud flow logs read, per cloud.sources entry', [
        'source',
      ]),
      cloudRecords: counter('cloud_records_total', 'Records parsed from cloud flow logs', ['source']),
      cloudRejected: counter(
        'cloud_rejected_total',
        'Flow-log lines or entries the parser rejected (the log says which and why)',
        ['source'],
      ),
      cloudReadErrors: counter(
        'cloud_read_errors_total',
        'Objects that could not be read (retried at the next poll)',
        ['source'],
      ),
      detectionRecords: counter('detection_records_total', 'Records the detection engine looked at'),
      detectionHostsDropped: counter(
        'detection_hosts_dropped_total',
        'Records of hosts not counted because the detection host table was full (detection.maxhosts)',
      ),
      detectionInterfacesDropped: counter(
        'detection_interfaces_dropped_total',
        'Records of interfaces not counted because the interface table was full (detection.maxinterfaces)',
      ),
      detectionLate: counter(
        'detection_late_records_total',
        "Records that arrived too late for detection's windows",
      ),
      detectionScanSkipped: counter(
        'detection_scan_skipped_sampled_total',
        'Records not looked at for scans: sampled more sparsely than detection.maxscansamplerate',
      ),
      downsampled: counter(
        'downsampled_records_total',
        'Records dropped by general.downsample (not an error)',
      ),
      tcpConnections: counter('tcp_connections_total', 'IPFIX-over-TCP connections accepted'),
      tcpFraming: counter('tcp_framing_errors_total', 'IPFIX-over-TCP connections closed on a framing error'),
      tcpRefused: counter(
        'tcp_refused_connections_total',
        'IPFIX-over-TCP connections closed at once by flow.tcpmaxconnections (max_connections) or flow.tcpmaxperpeer (max_per_peer)',
        ['reason'],
      ),
      tcpTimeouts: counter(
        'tcp_timeouts_total',
        'IPFIX-over-TCP connections closed by flow.tcpidletimeout (idle) or flow.tcpmessagetimeout (stalled)',
        ['reason'],
      ),
      exportersEvicted: counter(
        'exporters_evicted_total',
        'Exporters forgotten after decode.exporteridle of silence to make room while decode.maxexporters was reached',
      ),
      exportersReclaimed: counter(
        'template_reclaims_total',
        'Exporters that never sent a record whose templates went to one that does (decode.maxtemplates reached)',
      ),
      rateLimited: counter(
        'rate_limited_datagrams_total',
        'Datagrams dropped by flow.ratelimit (per exporter address)',
      ),
      datagrams: counter('datagrams_total', 'Datagrams decoded, per exporter', ['exporter']),
      bytes: counter('datagram_bytes_total', 'Datagram payload bytes decoded, per exporter', ['exporter']),
      records: counter('records_total', 'Flow records decoded, per exporter', ['exporter']),
      samplingUnknown: counter(
        'sampling_unknown_records_total',
        'Records whose sampling rate is unknown (counted as 1:1), per exporter',
        ['exporter'],
      ),
      errors: counter('decode_errors_total', 'Decode problems, per exporter and kind', ['exporter', 'kind']),
      seqMissing: counter(
        'sequence_missing_total',
        'Records/datagrams missing by sequence numbers (loss between exporter and collector), per exporter',
        ['exporter'],
      ),
      seqResets: counter(
        'sequence_resets_total',
        'Sequence number resets (exporter restarts), per exporter',
        ['exporter'],
      ),
      filtered: counter('filtered_records_total', 'Records dropped by the flow filters, per rule', ['rule']),
      uncounted: counter(
        'uncounted_records_total',
        'Records kept but not counted (countonce: weight 0, tag "uncounted")',
      ),
      geoLookups: counter('geo_lookups_total', 'AS/geolocation address lookups (cache hits included)'),
      restarts: counter(
        'exporter_restarts_total',
        'NetFlow v9/IPFIX exporter restarts detected (templates dropped), per exporter',
        ['exporter'],
      ),
    };
    this.g = {
      uptime: gauge(r, 'uptime_seconds', 'Seconds since the collector started'),
      queueDepth: gauge(r, 'queue_depth', 'Datagrams waiting between receive and decode'),
      queueCapacity: gauge(r, 'queue_capacity', 'Bound of the receive-to-decode queue (flow.queue)'),
      queueHighWater: gauge(r, 'queue_high_water', 'Highest receive-to-decode queue depth seen'),
      outputDepth: gauge(r, 'output_queue_depth', 'Records waiting for the output'),
      tcpOpen: gauge(r, 'tcp_connections', 'IPFIX-over-TCP connections open'),
      templatesHeld: gauge(
        r,
        'templates_held',
        'NetFlow v9/IPFIX templates held over all exporters (decode.maxtemplates)',
      ),
      exporters: gauge(r, 'exporters', 'Exporters tracked'),
      templates: gauge(r, 'templates', 'NetFlow v9/IPFIX templates held, per exporter', ['exporter']),
      lastSeen: gauge(r, 'exporter_last_seen_seconds', 'Unix time of the last datagram, per exporter', [
        'exporter',
      ]),
      recvBuffer: gauge(
        r,
        'listener_receive_buffer_bytes',
        'UDP receive buffer granted by the kernel (usable bytes), per listener',
        ['listen', 'transport'],
      ),
      recvBufferRequested: gauge(
        r,
        'listener_receive_buffer_requested_bytes',
        'UDP receive buffer requested (flow.udpbuffer), per listener',
        ['listen', 'transport'],
      ),
      clockSkew: gauge(
        r,
        'exporter_clock_skew_seconds',
        "Seconds the exporter's clock is behind the collector's (negative: ahead), from NetFlow/IPFIX header export times, per exporter",
        ['exporter'],
      ),
      clockSkewed: gauge(
        r,
        'exporters_clock_skewed',
        'Exporters whose clock skew is beyond general.maxclockskew',
      ),
      geoLoaded: gauge(r, 'geo_database_loaded', '1 when the AS/geolocation database is loaded, per file', [
        'path',
      ]),
      ingestSpoolBytes: gauge(r, 'ingest_spool_bytes', 'Bytes of batches waiting in the ingest spool'),
      ingestBackendUp: gauge(
        r,
        'ingest_backend_up',
        '1 while the ingest API takes batches, 0 while retrying or down',
      ),
      detectionHosts: gauge(
        r,
        'detection_hosts',
        'Hosts with detection counters (detection.maxhosts bounds it)',
      ),
      detectionInterfaces: gauge(
        r,
        'detection_interfaces',
        'Exporter interfaces with detection counters (detection.maxinterfaces bounds it)',
      ),
    };
    this.storeMetrics =
      source.store === null
        ? null
        : {
            written: counter('store_records_written_total', 'Records written to the flow store'),
            ready: gauge(r, 'store_ready', '1 when the flow store accepts writes and queries'),
            bytes: gauge(r, 'store_bytes', 'Bytes used by the flow store'),
            partitions: gauge(r, 'store_partitions', 'Time partitions held by the flow store'),
            queueDepth: gauge(
              r,
              'store_queue_depth',
              'Records waiting for the flow store (store.queue bounds it)',
            ),
            drops: counter('store_drops_total', 'Records dropped because the flow store queue was full'),
          };
    this.alertMetrics =
      (source.alerts ?? null) === null
        ? null
        : {
            active: gauge(r, 'alerts_active', 'Alerts going on now, per kind', ['kind']),
            started: counter('alerts_total', 'Alerts started since the collector started, per kind', [
              'kind',
            ]),
          };
    collectDefaultMetrics({ register: r, prefix: METRIC_PREFIX });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of the current state. */
  async render(): Promise<string> {
    this.update(this.source.stats(), this.source.store?.health() ?? null);
    this.updateAlerts();
    return this.registry.metrics();
  }

  private update(s: CollectorStats, store: StoreHealth | null): void {
    const { c, g } = this;
    c.received.follow(s.received);
    c.notAllowed.follow(s.totals.notAllowed);
    c.decoded.follow(s.decode.datagrams);
    c.decodeFailures.follow(s.decode.failures);
    c.queueDrops.follow(s.queue.drops);
    c.outputWritten.follow(s.output.written);
    c.outputDrops.follow(s.output.drops);
    c.downsampled.follow(s.totals.downsampled);
    c.tcpConnections.follow(s.tcp.connectionsTotal);
    c.tcpFraming.follow(s.tcp.framingErrors);
    c.tcpRefused.follow(s.tcp.refused.maxConnections, { reason: 'max_connections' });
    c.tcpRefused.follow(s.tcp.refused.maxPerPeer, { reason: 'max_per_peer' });
    c.tcpTimeouts.follow(s.tcp.timeouts.idle, { reason: 'idle' });
    c.tcpTimeouts.follow(s.tcp.timeouts.stalled, { reason: 'stalled' });
    c.rateLimited.follow(s.totals.rateLimited);
    c.exportersEvicted.follow(s.decode.exportersEvicted);
    c.exportersReclaimed.follow(s.decode.exportersReclaimed);
    g.templatesHeld.set(s.decode.templates);
    g.uptime.set(s.uptimeSec);
    g.queueDepth.set(s.queue.depth);
    g.queueCapacity.set(s.queue.capacity);
    g.queueHighWater.set(s.queue.highWater);
    g.outputDepth.set(s.output.depth);
    g.tcpOpen.set(s.tcp.connections);
    g.exporters.set(s.totals.exporters);
    g.clockSkewed.set(s.totals.clockSkewed);

    g.templates.reset();
    g.lastSeen.reset();
    g.clockSkew.reset();
    for (const e of s.exporters) {
      const exporter = { exporter: e.address };
      c.datagrams.follow(e.datagrams, exporter);
      c.bytes.follow(e.bytes, exporter);
      c.records.follow(e.records, exporter);
      c.samplingUnknown.follow(e.samplingUnknown, exporter);
      c.seqMissing.follow(e.sequence.missing, exporter);
      c.seqResets.follow(e.sequence.resets, exporter);
      for (const [kind, n] of Object.entries(e.errors)) c.errors.follow(n, { exporter: e.address, kind });
      if (e.templateState !== null) {
        g.templates.set(exporter, e.templateState.templates);
        c.restarts.follow(e.templateState.restarts, exporter);
      }
      if (e.lastSeen !== null) g.lastSeen.set(exporter, Date.parse(e.lastSeen) / 1000);
      if (e.clockSkewSec !== null) g.clockSkew.set(exporter, e.clockSkewSec);
    }

    g.recvBuffer.reset();
    g.recvBufferRequested.reset();
    for (const l of s.listeners) {
      const labels = { listen: l.address, transport: l.transport };
      if (l.recvBufferActual !== null) g.recvBuffer.set(labels, l.recvBufferActual);
      if (l.recvBufferRequested !== null) g.recvBufferRequested.set(labels, l.recvBufferRequested);
    }
    for (const k of (s.kernelDrops as CollectorStats['kernelDrops'] | undefined) ?? [])
      if (k.drops !== null) c.kernelDrops.follow(k.drops, { listen: k.address });

    // Hand-built stats (tests, older callers) may lack the enrichment part.
    const enrich = s.enrich as CollectorStats['enrich'] | undefined;
    if (enrich !== undefined) {
      for (const f of enrich.filterRules) c.filtered.follow(f.dropped, { rule: f.rule });
      if (enrich.filteredByDefault > 0)
        c.filtered.follow(enrich.filteredByDefault, { rule: '(default action)' });
      c.uncounted.follow(enrich.uncounted);
      c.geoLookups.follow(enrich.geo?.lookups ?? 0);
      g.geoLoaded.reset();
      for (const db of enrich.geo?.databases ?? []) g.geoLoaded.set({ path: db.path }, db.loaded ? 1 : 0);
    }

    const ingest = s.ingest as CollectorStats['ingest'] | undefined;
    if (ingest !== undefined && ingest !== null) {
      c.ingestSent.follow(ingest.recordsSent);
      c.ingestRetries.follow(ingest.retries);
      c.ingestRejected.follow(ingest.rejectedRecords);
      c.ingestSpooled.follow(ingest.spooledRecords);
      c.ingestReplayed.follow(ingest.replayedRecords);
      c.ingestDropped.follow(ingest.droppedRecords + (ingest.spool?.droppedRecords ?? 0));
      g.ingestSpoolBytes.set(ingest.spool?.bytes ?? 0);
      g.ingestBackendUp.set(ingest.backend === 'ok' ? 1 : 0);
    }
    for (const t of (s.tee as CollectorStats['tee'] | undefined) ?? []) {
      c.teeSent.follow(t.sent, { target: t.target });
      c.teeDropped.follow(t.dropped, { target: t.target });
      c.teeErrors.follow(t.errors, { target: t.target });
    }
    for (const src of (s.cloud as CollectorStats['cloud'] | undefined) ?? []) {
      c.cloudBytes.follow(src.bytes, { source: src.name });
      c.cloudRecords.follow(src.records, { source: src.name });
      c.cloudRejected.follow(src.parseErrors, { source: src.name });
      c.cloudReadErrors.follow(src.readErrors, { source: src.name });
    }
    const detection = s.detection as CollectorStats['detection'] | undefined;
    if (detection !== undefined && detection !== null) {
      c.detectionRecords.follow(detection.records);
      c.detectionHostsDropped.follow(detection.hostsDropped);
      c.detectionInterfacesDropped.follow(detection.interfacesDropped);
      c.detectionLate.follow(detection.lateRecords);
      c.detectionScanSkipped.follow(detection.scanSkippedSampled);
      g.detectionHosts.set(detection.hosts);
      g.detectionInterfaces.set(detection.interfaces);
    }

    if (this.storeMetrics !== null && store !== null) {
      this.storeMetrics.ready.set(store.ready ? 1 : 0);
      this.storeMetrics.bytes.set(store.bytes);
      this.storeMetrics.partitions.set(store.partitions);
      this.storeMetrics.written.follow(store.recordsWritten);
      this.storeMetrics.queueDepth.set(s.store?.queueDepth ?? 0);
      this.storeMetrics.drops.follow(s.store?.drops ?? 0);
    }
  }

  private updateAlerts(): void {
    const alerts = this.source.alerts ?? null;
    if (this.alertMetrics === null || alerts === null) return;
    const { byKind } = alerts.counts();
    const starts = alerts.startsByKind();
    for (const kind of ALERT_KINDS) {
      this.alertMetrics.active.set({ kind }, byKind[kind].active);
      this.alertMetrics.started.follow(starts[kind], { kind });
    }
  }
}
