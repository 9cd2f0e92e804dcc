/**
 * Scans and sweeps: one source probing many ports of one host (vertical scan) or one port on many
 * hosts (horizontal sweep) within `scanwindow` seconds of flow time.
 *
 * What counts as a probe: a TCP flow with SYN and no ACK (the handshake never completed; a port
 * that answers still shows the scanner's side as SYN-only in most exporters' flow records), or an
 * ICMP echo request. UDP is left out on purpose: a resolver's answers go to a new port per query
 * and look exactly like a vertical UDP scan.
 *
 * Counts are exact up to the threshold (CappedDistinct), state is per (source, target) pair in a
 * bounded map (two generations, least recently used dropped), so a SYN flood from a million
 * spoofed sources (one probe each) churns through the map without growing it.
 */
import { GenerationalCache } from '../enrich/geo/generational-cache.js';
import type { FlowRecord } from '../record/flow-record.js';
import { hashAddress } from './address-key.js';
import { CappedDistinct } from './sketch/capped-distinct.js';

export interface ProbeCount {
  /** The source probing, and what it probed: a host (scan) or a port (sweep). */
  readonly source: string;
  readonly target: string;
  /** Distinct ports (scan) or hosts (sweep) so far in this window. */
  readonly distinct: number;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

class ProbeState {
  windowStart: number;
  firstSeenMs: number;
  lastSeenMs: number;
  readonly distinct: CappedDistinct;

  constructor(cap: number, nowMs: number) {
    this.windowStart = nowMs;
    this.firstSeenMs = nowMs;
    this.lastSeenMs = nowMs;
    this.distinct = new CappedDistinct(cap);
  }
}

const TCP = 6;
const ICMP = 1;
const ICMPV6 = 58;

/** True for a record that looks like a probe (see the module comment). */
export function isProbe(rec: FlowRecord): boolean {
  if (rec.protocolint === TCP) {
    const flags = rec.tcpflagsint ?? 0;
    return (flags & 0x02) !== 0 && (flags & 0x10) === 0;
  }
  if (rec.protocolint === ICMP) return rec.icmptype === 8;
  if (rec.protocolint === ICMPV6) return rec.icmptype === 128;
  return false;
}

export class ProbeTracker {
  private readonly scans: GenerationalCache<string, ProbeState>;
  private readonly sweeps: GenerationalCache<string, ProbeState>;

  constructor(
    private readonly scanPorts: number | null,
    private readonly sweepHosts: number | null,
    private readonly windowMs: number,
    maxSources: number,
  ) {
    this.scans = new GenerationalCache(Math.max(2, maxSources));
    this.sweeps = new GenerationalCache(Math.max(2, maxSources));
  }

  /**
   * Counts a probe record at flow time `nowMs`; returns the scan and/or sweep counts that reached
   * their threshold with this record (null otherwise). `thresholds` may differ per hostgroup.
   */
  observe(
    rec: FlowRecord,
    nowMs: number,
    scanPorts: number | null = this.scanPorts,
    sweepHosts: number | null = this.sweepHosts,
  ): { scan: ProbeCount | null; sweep: ProbeCount | null } {
    const src = rec.srcip;
    const dst = rec.dstip;
    if (src === null || dst === null) return NONE;
    let scan: ProbeCount | null = null;
    let sweep: ProbeCount | null = null;
    if (scanPorts !== null && rec.dstport !== null && rec.protocolint === TCP) {
      const key = `${src}>${dst}`;
      const state = this.state(this.scans, key, scanPorts, nowMs);
      state.distinct.add(rec.dstport);
      if (state.distinct.count >= scanPorts) scan = count(src, dst, state);
    }
    if (sweepHosts !== null) {
      const port = rec.protocolint === TCP ? `tcp/${rec.dstport ?? 0}` : 'icmp echo';
      const key = `${src}>${port}`;
      const state = this.state(this.sweeps, key, sweepHosts, nowMs);
      state.distinct.add(rec.dstip4 >= 0 ? rec.dstip4 : hashAddress(dst));
      if (state.distinct.count >= sweepHosts) sweep = count(src, port, state);
    }
    return scan === null && sweep === null ? NONE : { scan, sweep };
  }

  private state(
    map: GenerationalCache<string, ProbeState>,
    key: string,
    cap: number,
    nowMs: number,
  ): ProbeState {
    let state = map.get(key);
    if (state === undefined || nowMs - state.windowStart >= this.windowMs) {
      // A new window: what was probed before no longer counts toward this one.
      state = new ProbeState(cap, nowMs);
      map.set(key, state);
    }
    if (nowMs > state.lastSeenMs) state.lastSeenMs = nowMs;
    return state;
  }
}

const NONE = Object.freeze({ scan: null, sweep: null });

function count(source: string, target: string, state: ProbeState): ProbeCount {
  return {
    source,
    target,
    distinct: state.distinct.count,
    firstSeenMs: state.firstSeenMs,
    lastSeenMs: state.lastSeenMs,
  };
}
