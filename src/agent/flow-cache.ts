import type { FlowKey, FlowObservation, FlowObservationSink } from './flow-observation.js';

/** Why a flow left the cache: IPFIX flowEndReason (IANA 136) 1 idle, 2 active, 3 end, 4 forced, 5 lack of resources. */
export type FlowEndReason = 'idle' | 'active' | 'end' | 'forced' | 'lack-of-resources';

/** One direction of a flow as the cache metered it, between its first packet and its export. */
export interface MeteredFlow {
  readonly key: FlowKey;
  packets: number;
  bytes: number;
  tcpFlags: number;
  /** Unix ms of the first and last observation. */
  startMs: number;
  endMs: number;
  endReason: FlowEndReason;
}

export interface FlowCacheOptions {
  /** A flow alive longer than this is exported and counted afresh, so long flows report periodically (60000). */
  activeTimeoutMs: number;
  /** A flow silent for this long is exported (15000). */
  inactiveTimeoutMs: number;
  /** Flows held at once; a new one beyond it pushes the oldest out (65536). */
  maxFlows: number;
}

/** The cache key: one string per direction's 5-tuple, so a Map finds it in one lookup. */
export function flowKeyId(k: FlowKey): string {
  return `${k.family}|${k.protocol}|${k.src}|${k.srcPort}|${k.dst}|${k.dstPort}`;
}

/**
 * The metering process's flow cache (RFC 7011 section 5 terms, NetFlow's cache): accumulates the
 * observations of each direction of each flow and hands finished flows to `onExport`. A Map keeps
 * insertion order, so its first entry is the oldest flow, the one pushed out when the cache is full.
 */
export class FlowCache implements FlowObservationSink {
  private readonly flows = new Map<string, MeteredFlow>();
  private readonly counters = { observed: 0, exported: 0, evicted: 0 };

  constructor(
    private readonly options: FlowCacheOptions,
    private readonly onExport: (flows: MeteredFlow[]) => void,
  ) {
    if (!(options.maxFlows >= 1))
      throw new Error(`flow cache maxFlows must be at least 1, not ${options.maxFlows}`);
  }

  get size(): number {
    return this.flows.size;
  }

  /** observed: observations taken; exported: flows handed on (evicted ones included); evicted: pushed out by a full cache. */
  get stats(): { observed: number; exported: number; evicted: number } {
    return { ...this.counters };
  }

  observe(o: FlowObservation): void {
    this.counters.observed++;
    const id = flowKeyId(o.key);
    let flow = this.flows.get(id);
    if (flow === undefined) {
      // An end with nothing new and nothing held (conntrack DESTROY of an exported flow): no record.
      if (o.packets === 0 && o.bytes === 0) return;
      if (this.flows.size >= this.options.maxFlows) this.evictOldest();
      flow = {
        key: o.key,
        packets: 0,
        bytes: 0,
        tcpFlags: 0,
        startMs: o.timeMs,
        endMs: o.timeMs,
        endReason: 'forced',
      };
      this.flows.set(id, flow);
    }
    flow.packets += o.packets;
    flow.bytes += o.bytes;
    flow.tcpFlags |= o.tcpFlags;
    if (o.timeMs < flow.startMs) flow.startMs = o.timeMs;
    if (o.timeMs > flow.endMs) flow.endMs = o.timeMs;
    if (o.ended) {
      this.flows.delete(id);
      this.emit([this.finish(flow, 'end')]);
    }
  }

  /**
   * Idle flows (silent for inactiveTimeoutMs) and active ones (started activeTimeoutMs ago or
   * more). An active flow leaves the cache too: its next packets start a new entry counted from
   * zero, so each export carries only the traffic since the previous one (delta counters).
   */
  expire(nowMs: number): void {
    const out: MeteredFlow[] = [];
    const { inactiveTimeoutMs, activeTimeoutMs } = this.options;
    for (const [id, flow] of this.flows) {
      if (nowMs - flow.endMs >= inactiveTimeoutMs) out.push(this.finish(flow, 'idle'));
      else if (nowMs - flow.startMs >= activeTimeoutMs) out.push(this.finish(flow, 'active'));
      else continue;
      this.flows.delete(id);
    }
    if (out.length > 0) this.emit(out);
  }

  /** Every flow, at shutdown. */
  flush(_nowMs: number): void {
    const out: MeteredFlow[] = [];
    for (const flow of this.flows.values()) out.push(this.finish(flow, 'forced'));
    this.flows.clear();
    if (out.length > 0) this.emit(out);
  }

  private evictOldest(): void {
    const first = this.flows.entries().next();
    if (first.done === true) return;
    const [id, flow] = first.value;
    this.flows.delete(id);
    this.counters.evicted++;
    this.emit([this.finish(flow, 'lack-of-resources')]);
  }

  private finish(flow: MeteredFlow, reason: FlowEndReason): MeteredFlow {
    flow.endReason = reason;
    return flow;
  }

  private emit(flows: MeteredFlow[]): void {
    this.counters.exported += flows.length;
    this.onExport(flows);
  }
}
