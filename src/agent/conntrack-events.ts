/**
 * conntrack-tools output lines (`conntrack -E -o extended,id,timestamp` events and
 * `conntrack -L|-G -o extended,id` listings) to plain values. Pure: a line in, an entry or null out.
 *
 * A line looks like
 *   [1795497721.124955]	    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=… dst=… sport=… dport=… [UNREPLIED] src=… … id=3237647340
 * and a listing line the same without the time and the event. The first tuple is the original
 * direction, the second (from the second `src=`) the reply; `packets=`/`bytes=` follow each tuple
 * only when nf_conntrack_acct is on, and only in DESTROY events and listings (the kernel sends no
 * counters with NEW/UPDATE). ICMP tuples carry their own `id=` (the echo id, right after `code=`);
 * any other `id=` is the conntrack id that `-o id` adds.
 */
import type { FlowKey } from './flow-observation.js';

export type ConntrackEventType = 'NEW' | 'UPDATE' | 'DESTROY' | 'LIST';

/** Cumulative counters of one direction since the connection was created (acct on), or null. */
export interface ConntrackCounters {
  readonly packets: number;
  readonly bytes: number;
}

export interface ConntrackEntry {
  readonly type: ConntrackEventType;
  /** The event's time (Unix ms) from `-o timestamp`; null in listings. */
  readonly timeMs: number | null;
  /** The kernel's conntrack id (u32); null without `-o id`. */
  readonly id: number | null;
  /** TCP state (ESTABLISHED, TIME_WAIT, …); null for other protocols. */
  readonly state: string | null;
  /** The original direction, as the first packet carried it. */
  readonly orig: FlowKey;
  /** The reply direction (its source is the original destination, unless NAT rewrote it). */
  readonly reply: FlowKey;
  readonly origCounters: ConntrackCounters | null;
  readonly replyCounters: ConntrackCounters | null;
}

const ICMP = 1;
const ICMPV6 = 58;

interface TupleFields {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  type: number;
  code: number;
  packets: number;
  bytes: number;
  hasCounters: boolean;
}

function emptyTuple(): TupleFields {
  return {
    src: '',
    dst: '',
    sport: 0,
    dport: 0,
    type: -1,
    code: 0,
    packets: 0,
    bytes: 0,
    hasCounters: false,
  };
}

function keyOf(family: 4 | 6, protocol: number, t: TupleFields): FlowKey {
  // ICMP has no ports: type * 256 + code in the destination port, as NetFlow exporters do.
  const icmp = (protocol === ICMP || protocol === ICMPV6) && t.type >= 0;
  return {
    family,
    src: t.src,
    dst: t.dst,
    srcPort: icmp ? 0 : t.sport,
    dstPort: icmp ? t.type * 256 + t.code : t.dport,
    protocol,
  };
}

const U8 = 255;
const U16 = 65535;
const U32 = 4294967295;

/** Largest value of each numeric tuple field; a line with anything else is not parsed. */
const FIELD_MAX: Readonly<Record<string, number>> = {
  sport: U16,
  dport: U16,
  type: U8,
  code: U8,
  packets: Number.MAX_SAFE_INTEGER,
  bytes: Number.MAX_SAFE_INTEGER,
};

const EVENT_TYPES: ReadonlySet<string> = new Set(['NEW', 'UPDATE', 'DESTROY']);

/**
 * A decimal field within 0..max, or -1. Number() alone would take "", "0x10", "1e3" and "\u0000"
 * (NaN or 0), and a port of 70000 would reach the IPFIX exporter's u16 writes.
 */
function decimal(value: string, max: number): number {
  if (!/^[0-9]{1,20}$/.test(value)) return -1;
  const n = Number(value);
  return n <= max ? n : -1;
}

/** One entry per line of conntrack output; null for summaries, blank lines and anything unparseable. */
export function parseConntrackLine(line: string): ConntrackEntry | null {
  const tokens = line.trim().split(/\s+/);
  let i = 0;
  let timeMs: number | null = null;
  let type: ConntrackEventType = 'LIST';
  const first = tokens[0] ?? '';
  if (first.startsWith('[') && /^\[\d+(\.\d+)?\]$/.test(first)) {
    timeMs = Math.round(Number(first.slice(1, -1)) * 1000);
    // Hundreds of digits are no time: Infinity would become a flow's start.
    if (!Number.isSafeInteger(timeMs)) return null;
    i++;
  }
  const maybeEvent = tokens[i] ?? '';
  if (maybeEvent.startsWith('[') && EVENT_TYPES.has(maybeEvent.slice(1, -1))) {
    type = maybeEvent.slice(1, -1) as ConntrackEventType;
    i++;
  }
  const familyName = tokens[i];
  if (familyName !== 'ipv4' && familyName !== 'ipv6') return null;
  const family: 4 | 6 = familyName === 'ipv4' ? 4 : 6;
  // family number, protocol name, protocol number
  const protocol = Number(tokens[i + 3]);
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) return null;
  i += 4;

  let state: string | null = null;
  let id: number | null = null;
  const tuples: TupleFields[] = [];
  let cur: TupleFields | null = null;
  for (; i < tokens.length; i++) {
    const tok = tokens[i];
    const eq = tok.indexOf('=');
    if (eq < 0) {
      // The timeout (seconds left) and the TCP state come before the first tuple; [FLAGS] after.
      if (tuples.length === 0 && /^[A-Z_]+$/.test(tok)) state = tok;
      continue;
    }
    const name = tok.slice(0, eq);
    const value = tok.slice(eq + 1);
    if (name === 'src') {
      if (tuples.length === 2) continue; // a third src= would be a future extension: ignore it
      cur = emptyTuple();
      tuples.push(cur);
      cur.src = value;
      continue;
    }
    if (name === 'id') {
      // An ICMP tuple ends "type= code= id=" (the echo id); any other id= is the conntrack id.
      if (!(tokens[i - 1] ?? '').startsWith('code=')) id = decimal(value, U32);
      continue;
    }
    if (cur === null) continue;
    if (name === 'dst') {
      cur.dst = value;
      continue;
    }
    const max = FIELD_MAX[name];
    if (max === undefined) continue; // mark=, use=, zone=, portid=, delta-time=, … : not a flow's identity or counters
    const n = decimal(value, max);
    if (n < 0) return null;
    switch (name) {
      case 'sport':
        cur.sport = n;
        break;
      case 'dport':
        cur.dport = n;
        break;
      case 'type':
        cur.type = n;
        break;
      case 'code':
        cur.code = n;
        break;
      case 'packets':
        cur.packets = n;
        cur.hasCounters = true;
        break;
      case 'bytes':
        cur.bytes = n;
        cur.hasCounters = true;
        break;
    }
  }
  if (tuples.length !== 2) return null;
  const [o, r] = tuples;
  if (o.src === '' || o.dst === '' || r.src === '' || r.dst === '') return null;
  return {
    type,
    timeMs,
    id: id !== null && id >= 0 ? id : null,
    state: protocol === 6 ? state : null,
    orig: keyOf(family, protocol, o),
    reply: keyOf(family, protocol, r),
    origCounters: o.hasCounters ? { packets: o.packets, bytes: o.bytes } : null,
    replyCounters: r.hasCounters ? { packets: r.packets, bytes: r.bytes } : null,
  };
}
