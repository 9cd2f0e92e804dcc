import type { FlowProtocol } from '../decode/datagram.js';
import type { DecodeErrorKind } from '../decode/errors.js';
import type { DecodeSink, InterfaceCounters } from '../decode/sink.js';
import { flowKeyHash } from '../enrich/downsample.js';
import type { FlowRecord } from '../record/flow-record.js';
import { ClockSkewEstimate, DEFAULT_MAX_CLOCK_SKEW_SEC, isClockSkewed } from './clock-skew.js';
import { SequenceStream } from './sequence-gaps.js';
import { countPerSource, OTHER_EXPORTERS } from './source-counts.js';

export { OTHER_EXPORTERS } from './source-counts.js';

/** Sequence streams (engines, source ids, domains, sub-agents) tracked per exporter. */
const MAX_STREAMS_PER_EXPORTER = 256;
/** Sources refused by the allow-list, tracked individually (the rest go to "other"). */
const MAX_REJECTED_SOURCES = 1024;

class ExporterCounters {
  protocol: FlowProtocol | null = null;
  firstSeenMs = 0;
  lastSeenMs = 0;
  datagrams = 0;
  bytes = 0;
  records = 0;
  samplingUnknown = 0;
  readonly errors = new Map<DecodeErrorKind, number>();
  lastError: string | null = null;
  readonly streams = new Map<string, SequenceStream>();
  /** Null until a datagram with an export time arrives (sFlow has none). */
  clockSkew: ClockSkewEstimate | null = null;

  /** Receive time of its last error (errors alone keep a source active too). */
  lastErrorMs = 0;

  constructor(readonly address: string) {}
}

export interface ExporterStatsOptions {
  /** Exporters tracked individually (decode.maxexporters); the rest share one "other" bucket. */
  maxExporters: number;
  /** sFlow interfaces (agent + sub-agent + ifIndex) whose latest counters are kept. */
  maxInterfaces: number;
  /** Keep 1 flow in N (general.downsample, by flow key hash); kept records get weight × N. */
  downsample: number;
  /** Seconds of exporter clock skew beyond which an exporter is flagged (general.maxclockskew; default 10). */
  maxClockSkewSec?: number;
  /**
   * With maxExporters reached, exporters silent this long give their place to a new one
   * (decode.exporteridle): after a burst of spoofed sources, a new exporter has its own counters
   * again rather than sharing "other". Default: never.
   */
  exporterIdleMs?: number;
  /** Where records go next (the batcher). */
  forward: (rec: FlowRecord) => void;
}

export interface ExporterSnapshot {
  address: string;
  protocol: FlowProtocol | null;
  firstSeen: string | null;
  lastSeen: string | null;
  datagrams: number;
  bytes: number;
  records: number;
  samplingUnknown: number;
  errors: Record<string, number>;
  lastError: string | null;
  sequence: { streams: number; missing: number; reordered: number; duplicates: number; resets: number };
  /**
   * Seconds the exporter's clock is behind the collector's (negative: ahead), from the header
   * export times of its recent datagrams (see stats/clock-skew.ts); null for sFlow, which has none,
   * and for the "other" bucket, which mixes exporters.
   */
  clockSkewSec: number | null;
  /** The skew is beyond general.maxclockskew (1 s more allowed behind: whole-second export times). */
  clockSkewed: boolean;
  /** NetFlow v9 / IPFIX template state of this exporter (filled by the collector); null for others. */
  templateState: TemplateState | null;
}

export interface TemplateState {
  /** Templates and options templates held. */
  templates: number;
  /** Exporter restarts detected (uptime or sequence reset), after which stale templates were dropped. */
  restarts: number;
  /** Flow cache timeouts the exporter announced in options data (seconds). */
  activeTimeoutSec: number | null;
  inactiveTimeoutSec: number | null;
}

export interface ExporterStatsSnapshot {
  exporters: ExporterSnapshot[];
  totals: {
    exporters: number;
    datagrams: number;
    bytes: number;
    records: number;
    /** Records dropped by general.downsample (not an error). */
    downsampled: number;
    errors: number;
    samplingUnknown: number;
    sequenceMissing: number;
    notAllowed: number;
    /** Datagrams (TCP: messages) dropped by flow.ratelimit. */
    rateLimited: number;
    /** Exporters whose clockSkewed is true. */
    clockSkewed: number;
  };
  /** Datagrams refused by the allow-list, per source address. */
  notAllowed: Record<string, number>;
  /** Datagrams over flow.ratelimit, per source address. */
  rateLimited: Record<string, number>;
  interfaces: InterfaceCounters[];
  /** Interface counter samples not kept because the interface bound was reached. */
  interfacesDropped: number;
}

/**
 * The DecodeSink of the live collector: counts per exporter what decoders report, keeps the
 * latest sFlow interface counters, downsamples and forwards records. Every table is bounded so
 * a flood of spoofed sources cannot grow memory.
 */
export class ExporterStats implements DecodeSink {
  /** Receive time of the datagram being decoded; set by the collector before each decode. */
  nowMs = 0;
  private readonly exporters = new Map<string, ExporterCounters>();
  private readonly rejected = new Map<string, number>();
  private readonly limited = new Map<string, number>();
  private readonly interfaces = new Map<string, InterfaceCounters>();
  private interfacesDropped = 0;
  private downsampled = 0;
  private evictedAtMs = Number.NEGATIVE_INFINITY;
  // The same exporter reports datagram, sequence and records in a row: skip the map lookup.
  private last: ExporterCounters | null = null;

  constructor(private readonly opts: ExporterStatsOptions) {}

  private exporter(address: string): ExporterCounters {
    const last = this.last;
    if (last !== null && last.address === address) return last;
    let e = this.exporters.get(address);
    if (e === undefined) {
      if (this.tracked() >= this.opts.maxExporters) this.evictIdle();
      const key = this.tracked() < this.opts.maxExporters ? address : OTHER_EXPORTERS;
      e = this.exporters.get(key);
      if (e === undefined) {
        e = new ExporterCounters(key);
        e.firstSeenMs = this.nowMs;
        this.exporters.set(key, e);
      }
    }
    this.last = e;
    return e;
  }

  /** Exporters with their own entry ("other" does not count). */
  private tracked(): number {
    return this.exporters.size - (this.exporters.has(OTHER_EXPORTERS) ? 1 : 0);
  }

  /** Drops exporters idle for exporterIdleMs (at most one scan a second). */
  private evictIdle(): void {
    const idle = this.opts.exporterIdleMs;
    const now = this.nowMs;
    if (idle === undefined || now - this.evictedAtMs < 1000) return;
    this.evictedAtMs = now;
    for (const [key, e] of this.exporters) {
      if (key === OTHER_EXPORTERS) continue;
      if (now - Math.max(e.firstSeenMs, e.lastSeenMs, e.lastErrorMs) >= idle) this.exporters.delete(key);
    }
    this.last = null;
  }

  record(rec: FlowRecord): void {
    const e = this.exporter(rec.flowsrcip);
    e.records++;
    const n = this.opts.downsample;
    if (n > 1) {
      // By a hash of the flow key: every record of a flow is kept or dropped together, whatever
      // the arrival order or how many collectors share the load (a counter would split flows).
      if (flowKeyHash(rec) % n !== 0) {
        this.downsampled++;
        return;
      }
      rec.weight *= n;
    }
    this.opts.forward(rec);
  }

  error(exporter: string, kind: DecodeErrorKind, message: string): void {
    const e = this.exporter(exporter);
    e.lastErrorMs = this.nowMs;
    e.errors.set(kind, (e.errors.get(kind) ?? 0) + 1);
    e.lastError = message;
  }

  datagram(exporter: string, protocol: FlowProtocol, bytes: number, exportTimeMs: number | null): void {
    const e = this.exporter(exporter);
    e.protocol = protocol;
    e.datagrams++;
    e.bytes += bytes;
    e.lastSeenMs = this.nowMs;
    if (exportTimeMs !== null && e.address !== OTHER_EXPORTERS) {
      e.clockSkew ??= new ClockSkewEstimate();
      e.clockSkew.add(this.nowMs, exportTimeMs);
    }
  }

  sequence(exporter: string, stream: string, sequence: number, units: number): void {
    const e = this.exporter(exporter);
    let s = e.streams.get(stream);
    if (s === undefined) {
      if (e.streams.size >= MAX_STREAMS_PER_EXPORTER) return;
      s = new SequenceStream();
      e.streams.set(stream, s);
    }
    s.observe(sequence, units);
  }

  samplingUnknown(exporter: string, records: number): void {
    this.exporter(exporter).samplingUnknown += records;
  }

  counters(sample: InterfaceCounters): void {
    const key = `${sample.agent}|${sample.subAgentId}|${sample.ifIndex}`;
    if (this.interfaces.size >= this.opts.maxInterfaces && !this.interfaces.has(key)) {
      this.interfacesDropped++;
      return;
    }
    this.interfaces.set(key, sample);
  }

  /** Datagrams refused by the allow-list (counted apart: refused sources are not exporters). */
  notAllowed(source: string, datagrams = 1): void {
    countPerSource(this.rejected, source, datagrams, MAX_REJECTED_SOURCES);
  }

  /** Datagrams dropped by the rate limit (counted apart, like refused ones: they may be spoofed). */
  rateLimited(source: string, datagrams = 1): void {
    countPerSource(this.limited, source, datagrams, MAX_REJECTED_SOURCES);
  }

  snapshot(): ExporterStatsSnapshot {
    const exporters: ExporterSnapshot[] = [];
    const totals = {
      exporters: this.exporters.size,
      datagrams: 0,
      bytes: 0,
      records: 0,
      downsampled: this.downsampled,
      errors: 0,
      samplingUnknown: 0,
      sequenceMissing: 0,
      notAllowed: 0,
      rateLimited: 0,
      clockSkewed: 0,
    };
    const maxClockSkewSec = this.opts.maxClockSkewSec ?? DEFAULT_MAX_CLOCK_SKEW_SEC;
    for (const e of this.exporters.values()) {
      const errors: Record<string, number> = {};
      for (const [kind, n] of e.errors) {
        errors[kind] = n;
        totals.errors += n;
      }
      const sequence = { streams: e.streams.size, missing: 0, reordered: 0, duplicates: 0, resets: 0 };
      for (const s of e.streams.values()) {
        sequence.missing += s.missing;
        sequence.reordered += s.reordered;
        sequence.duplicates += s.duplicates;
        sequence.resets += s.resets;
      }
      const clockSkewSec = e.clockSkew?.skewSec() ?? null;
      const clockSkewed = clockSkewSec !== null && isClockSkewed(clockSkewSec, maxClockSkewSec);
      if (clockSkewed) totals.clockSkewed++;
      exporters.push({
        address: e.address,
        protocol: e.protocol,
        firstSeen: e.firstSeenMs > 0 ? new Date(e.firstSeenMs).toISOString() : null,
        lastSeen: e.lastSeenMs > 0 ? new Date(e.lastSeenMs).toISOString() : null,
        datagrams: e.datagrams,
        bytes: e.bytes,
        records: e.records,
        samplingUnknown: e.samplingUnknown,
        errors,
        lastError: e.lastError,
        sequence,
        clockSkewSec,
        clockSkewed,
        templateState: null,
      });
      totals.datagrams += e.datagrams;
      totals.bytes += e.bytes;
      totals.records += e.records;
      totals.samplingUnknown += e.samplingUnknown;
      totals.sequenceMissing += sequence.missing;
    }
    const notAllowed: Record<string, number> = {};
    for (const [source, n] of this.rejected) {
      notAllowed[source] = n;
      totals.notAllowed += n;
    }
    const rateLimited: Record<string, number> = {};
    for (const [source, n] of this.limited) {
      rateLimited[source] = n;
      totals.rateLimited += n;
    }
    return {
      exporters,
      totals,
      notAllowed,
      rateLimited,
      interfaces: [...this.interfaces.values()],
      interfacesDropped: this.interfacesDropped,
    };
  }
}
