import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { FlowRecord } from '../record/flow-record.js';
import { finalizeRecord } from '../record/normalize.js';

/**
 * Azure flow logs to flow records: pure, text in, records and errors out.
 *
 * Two layouts, both wrapped in `{"records":[...]}` (one JSON document per blob; several documents,
 * one per line, are accepted too):
 * - NSG flow logs (`category: NetworkSecurityGroupFlowEvent`), `properties.Version` 1 or 2:
 *   `properties.flows[].rule`, `.flows[].mac`, `.flowTuples[]`, tuples
 *   `time(s),src,dst,sport,dport,T|U,I|O,A|D` (v1) plus `,B|C|E,pkts→,bytes→,pkts←,bytes←` (v2).
 * - VNet flow logs (`flowLogVersion`, `flowRecords.flows[].aclID`, `.flowGroups[].rule`), tuples
 *   `time(ms),src,dst,sport,dport,protocol number,I|O,B|C|E|D,encryption,pkts→,bytes→,pkts←,bytes←`.
 * Reference: learn.microsoft.com, "Flow logging for network security groups" and "Virtual network
 * flow logs" (log format sections); the samples are in ../shared/testdata/cloud/azure/.
 *
 * Choices (the logs do not say more):
 * - A tuple carries one timestamp, the moment the state was observed, and counters since the
 *   previous tuple of that flow; so start = end = that time. Seconds and milliseconds are told
 *   apart by size (NSG writes seconds, VNet milliseconds; < 1e11 cannot be a millisecond time
 *   after 1973).
 * - v2/VNet carry both directions: one record per direction that has traffic (the reply record
 *   swaps addresses and ports and flips flowdirection). A tuple with no traffic either way (state
 *   B, v1, a deny) still gives one record, initiator to responder, with the counters as logged
 *   (0 in VNet logs, null where NSG leaves them empty).
 * - action: NSG decision A/D; VNet has no decision field, state D (denied) means reject.
 * - Azure-only values go into `extra`: rule, mac (NSG), aclid (VNet), flowstate, encryption (VNet),
 *   resourceid.
 */

export interface AzureParseError {
  /** 1-based line of the input the problem is on (a whole blob is usually one line). */
  readonly line: number;
  /** JSON path of the bad element, e.g. `records[0].properties.flows[1].flows[0].flowTuples[2]`. */
  readonly where: string;
  readonly reason: string;
}

export interface AzureParseResult {
  readonly records: FlowRecord[];
  readonly errors: AzureParseError[];
  /** Flow tuples read without error (a tuple may give one or two records). */
  readonly tuples: number;
}

type Json = unknown;
type Obj = Record<string, Json>;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Below this a timestamp is seconds, above it milliseconds (1e11 ms is in 1973, 1e11 s in 5138). */
const SECONDS_LIMIT = 1e11;

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Collector {
  readonly records: FlowRecord[] = [];
  readonly errors: AzureParseError[] = [];
  tuples = 0;
  line = 1;
  fail(where: string, reason: string): void {
    this.errors.push({ line: this.line, where, reason });
  }
}

/** Parses one Azure flow-log blob (or NDJSON of such documents). Never throws on bad input. */
export function parseAzureFlowLog(input: string | Uint8Array): AzureParseResult {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  const out = new Collector();
  const whole = tryParse(text);
  if (whole.ok) {
    parseDocument(whole.value, out);
  } else {
    const lines = text.split('\n');
    // A single-line input that failed is reported once, with the JSON error.
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]?.trim() ?? '';
      if (l === '') continue;
      out.line = i + 1;
      const doc = tryParse(l);
      if (doc.ok) parseDocument(doc.value, out);
      else out.fail('', `not valid JSON (${doc.reason}): line skipped`);
    }
  }
  return { records: out.records, errors: out.errors, tuples: out.tuples };
}

function tryParse(text: string): { ok: true; value: Json } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) as Json };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

function parseDocument(doc: Json, out: Collector): void {
  if (Array.isArray(doc)) {
    for (const [i, r] of doc.entries()) parseEntry(r, `[${i}]`, out);
  } else if (isObj(doc) && Array.isArray(doc.records)) {
    for (const [i, r] of doc.records.entries()) parseEntry(r, `records[${i}]`, out);
  } else if (isObj(doc)) {
    parseEntry(doc, '', out);
  } else {
    out.fail('', 'expected an object with "records" or an array of records: document skipped');
  }
}

function parseEntry(entry: Json, where: string, out: Collector): void {
  if (!isObj(entry)) {
    out.fail(where, 'record is not a JSON object: skipped');
    return;
  }
  const timeMs = typeof entry.time === 'string' ? Date.parse(entry.time) : Number.NaN;
  const ctx: EntryContext = {
    timestamp: Number.isFinite(timeMs) ? Math.floor(timeMs / 1000) : 0,
    resourceid: null,
    rule: null,
    mac: null,
    aclid: null,
    version: 0,
  };
  if (isObj(entry.flowRecords)) {
    parseVnetEntry(entry, ctx, where, out);
  } else if (isObj(entry.properties)) {
    parseNsgEntry(entry, ctx, where, out);
  } else {
    out.fail(where, 'neither "properties" (NSG flow log) nor "flowRecords" (VNet flow log): record skipped');
  }
}

interface EntryContext {
  timestamp: number;
  resourceid: string | null;
  rule: string | null;
  mac: string | null;
  aclid: string | null;
  /** NSG `properties.Version` (1, 2) or the VNet `flowLogVersion` (4 in the sample). */
  version: number;
}

function str(v: Json): string | null {
  return typeof v === 'string' ? v : null;
}

function parseNsgEntry(entry: Obj, ctx: EntryContext, where: string, out: Collector): void {
  const props = entry.properties as Obj;
  const version = props.Version ?? props.version;
  if (version !== 1 && version !== 2) {
    out.fail(
      `${where}.properties.Version`,
      `NSG flow log version ${JSON.stringify(version)} unknown (1 or 2 expected): record skipped`,
    );
    return;
  }
  ctx.resourceid = str(entry.resourceId);
  ctx.version = version;
  if (!Array.isArray(props.flows)) {
    out.fail(`${where}.properties.flows`, 'missing or not an array: record skipped');
    return;
  }
  props.flows.forEach((ruleFlows, i) => {
    const w = `${where}.properties.flows[${i}]`;
    if (!isObj(ruleFlows) || !Array.isArray(ruleFlows.flows)) {
      out.fail(w, 'expected {rule, flows: [...]}: skipped');
      return;
    }
    ctx.rule = str(ruleFlows.rule);
    ruleFlows.flows.forEach((macFlows, j) => {
      const wm = `${w}.flows[${j}]`;
      if (!isObj(macFlows) || !Array.isArray(macFlows.flowTuples)) {
        out.fail(wm, 'expected {mac, flowTuples: [...]}: skipped');
        return;
      }
      ctx.mac = str(macFlows.mac);
      macFlows.flowTuples.forEach((t, k) => {
        parseTuple(t, version === 1 ? 'nsg1' : 'nsg2', ctx, `${wm}.flowTuples[${k}]`, out);
      });
    });
  });
}

function parseVnetEntry(entry: Obj, ctx: EntryContext, where: string, out: Collector): void {
  const fr = entry.flowRecords as Obj;
  ctx.resourceid = str(entry.targetResourceID) ?? str(entry.flowLogResourceID);
  // JSON.parse turns 1e309 into Infinity: only a plain small integer is a version.
  ctx.version = Number.isSafeInteger(entry.flowLogVersion) ? (entry.flowLogVersion as number) : 0;
  if (!Array.isArray(fr.flows)) {
    out.fail(`${where}.flowRecords.flows`, 'missing or not an array: record skipped');
    return;
  }
  fr.flows.forEach((acl, i) => {
    const w = `${where}.flowRecords.flows[${i}]`;
    if (!isObj(acl) || !Array.isArray(acl.flowGroups)) {
      out.fail(w, 'expected {aclID, flowGroups: [...]}: skipped');
      return;
    }
    ctx.aclid = str(acl.aclID);
    acl.flowGroups.forEach((group, j) => {
      const wg = `${w}.flowGroups[${j}]`;
      if (!isObj(group) || !Array.isArray(group.flowTuples)) {
        out.fail(wg, 'expected {rule, flowTuples: [...]}: skipped');
        return;
      }
      ctx.rule = str(group.rule);
      group.flowTuples.forEach((t, k) => {
        parseTuple(t, 'vnet', ctx, `${wg}.flowTuples[${k}]`, out);
      });
    });
  });
}

type Layout = 'nsg1' | 'nsg2' | 'vnet';

/** A non-negative decimal integer that is exact in a double; null when it is not one. */
function uint(s: string | undefined, max: number): number | null {
  if (s === undefined || !/^\d{1,16}$/.test(s)) return null;
  const n = Number(s);
  return n <= max ? n : null;
}

/** Address text as the record carries it (IPv6 in RFC 5952 form); null when not an address. */
function address(s: string | undefined): string | null {
  if (s === undefined) return null;
  if (isIPv4(s)) return s;
  // node:net accepts a zone (`fe80::1%eth0`, even `::3%4cf:4071`) that ipaddr.js throws on; a
  // VNet address never has one.
  if (isIPv6(s) && !s.includes('%')) return ipaddr.IPv6.parse(s).toRFC5952String();
  return null;
}

const NSG_PROTOCOLS: Record<string, number> = { T: 6, U: 17 };

function parseTuple(t: Json, layout: Layout, ctx: EntryContext, where: string, out: Collector): void {
  if (typeof t !== 'string') {
    out.fail(where, 'flow tuple is not a string: skipped');
    return;
  }
  const f = t.split(',');
  const want = layout === 'nsg1' ? 8 : 13;
  // Some v1 writers already append the v2 columns empty; accept 8 or 13 for v1.
  if (f.length !== want && !(layout === 'nsg1' && f.length === 13)) {
    out.fail(where, `flow tuple has ${f.length} fields, ${want} expected: "${clip(t)}" skipped`);
    return;
  }
  const ts = uint(f[0], MAX_SAFE);
  if (ts === null) {
    out.fail(where, `timestamp "${clip(f[0])}" is not a Unix time: tuple skipped`);
    return;
  }
  const timeMs = ts < SECONDS_LIMIT ? ts * 1000 : ts;
  const src = address(f[1]);
  const dst = address(f[2]);
  if (src === null || dst === null) {
    out.fail(where, `address "${clip(src === null ? f[1] : f[2])}" is not IPv4 or IPv6: tuple skipped`);
    return;
  }
  const sport = uint(f[3], 65535);
  const dport = uint(f[4], 65535);
  if (sport === null || dport === null) {
    out.fail(where, `port "${clip(sport === null ? f[3] : f[4])}" is not 0-65535: tuple skipped`);
    return;
  }
  const proto = layout === 'vnet' ? uint(f[5], 255) : (NSG_PROTOCOLS[f[5] ?? ''] ?? uint(f[5], 255));
  if (proto === null) {
    out.fail(where, `protocol "${clip(f[5])}" unknown (T, U or 0-255 expected): tuple skipped`);
    return;
  }
  const dir = f[6];
  if (dir !== 'I' && dir !== 'O') {
    out.fail(where, `direction "${clip(dir)}" unknown (I or O expected): tuple skipped`);
    return;
  }
  let action: 'accept' | 'reject';
  let state: string | null;
  let encryption: string | null = null;
  if (layout === 'vnet') {
    state = f[7] ?? '';
    if (state !== 'B' && state !== 'C' && state !== 'E' && state !== 'D') {
      out.fail(where, `flow state "${clip(state)}" unknown (B, C, E or D expected): tuple skipped`);
      return;
    }
    action = state === 'D' ? 'reject' : 'accept';
    encryption = f[8] === '' ? null : (f[8] ?? null);
  } else {
    const decision = f[7];
    if (decision !== 'A' && decision !== 'D') {
      out.fail(where, `decision "${clip(decision)}" unknown (A or D expected): tuple skipped`);
      return;
    }
    action = decision === 'A' ? 'accept' : 'reject';
    state = layout === 'nsg1' || f[8] === '' ? null : (f[8] ?? null);
    if (state !== null && state !== 'B' && state !== 'C' && state !== 'E') {
      out.fail(where, `flow state "${clip(state)}" unknown (B, C or E expected): tuple skipped`);
      return;
    }
  }
  // Counters: empty means not logged (NSG state B, v1); otherwise integers, bytes × 8 must stay exact.
  const counters: (number | null)[] = [null, null, null, null];
  if (f.length === 13) {
    for (let i = 0; i < 4; i++) {
      const s = f[9 + i];
      if (s === '') continue;
      const n = uint(s, i % 2 === 0 ? MAX_SAFE : Math.floor(MAX_SAFE / 8));
      if (n === null) {
        out.fail(
          where,
          `counter ${COUNTER_NAMES[i]} "${clip(s)}" is not a non-negative integer within range: tuple skipped`,
        );
        return;
      }
      counters[i] = n;
    }
  }
  out.tuples++;
  const [pktsOut, bytesOut, pktsBack, bytesBack] = counters;
  const hasOut = (pktsOut ?? 0) > 0 || (bytesOut ?? 0) > 0;
  const hasBack = (pktsBack ?? 0) > 0 || (bytesBack ?? 0) > 0;
  const extra: Record<string, string | null> = {
    rule: ctx.rule,
    flowstate: state,
    resourceid: ctx.resourceid,
  };
  if (layout === 'vnet') {
    extra.aclid = ctx.aclid;
    extra.encryption = encryption;
  } else {
    extra.mac = ctx.mac;
  }
  const base = { ctx, timeMs, proto, action, extra, layout };
  if (hasOut || !hasBack) {
    out.records.push(
      makeRecord(base, src, dst, sport, dport, dir === 'I' ? 'ingress' : 'egress', pktsOut, bytesOut),
    );
  }
  if (hasBack) {
    out.records.push(
      makeRecord(base, dst, src, dport, sport, dir === 'I' ? 'egress' : 'ingress', pktsBack, bytesBack),
    );
  }
}

const COUNTER_NAMES = ['packets src→dst', 'bytes src→dst', 'packets dst→src', 'bytes dst→src'];

interface TupleBase {
  ctx: EntryContext;
  timeMs: number;
  proto: number;
  action: 'accept' | 'reject';
  extra: Record<string, string | null>;
  layout: Layout;
}

function makeRecord(
  b: TupleBase,
  src: string,
  dst: string,
  sport: number,
  dport: number,
  direction: 'ingress' | 'egress',
  packets: number | null,
  bytes: number | null,
): FlowRecord {
  const r = new FlowRecord();
  r.timestamp = b.ctx.timestamp;
  r.start = b.timeMs;
  r.end = b.timeMs;
  r.srcip = src;
  r.dstip = dst;
  r.srcport = sport;
  r.dstport = dport;
  r.protocolint = b.proto;
  r.packets = packets;
  r.bits = bytes === null ? null : bytes * 8;
  r.flowdirection = direction;
  r.flowtype = 'azure';
  r.flowversion = b.ctx.version;
  r.action = b.action;
  // A copy each: enrichment may add mapped fields to one record's extra.
  r.extra = { ...b.extra };
  finalizeRecord(r);
  return r;
}

function clip(s: string | undefined): string {
  if (s === undefined) return '';
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
