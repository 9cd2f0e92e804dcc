import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { FlowRecord } from '../record/flow-record.js';
import { finalizeRecord } from '../record/normalize.js';

/**
 * GCP VPC flow logs to flow records: pure, text in, records and errors out.
 *
 * Input is Cloud Logging entries (`logName: .../logs/compute.googleapis.com%2Fvpc_flows`) in any of
 * the shapes an export produces: a JSON array of entries, one entry object, a Logging API list
 * response (`{"entries":[...]}`), or NDJSON (one entry per line, as Logging sinks to Cloud Storage
 * and Filebeat write them). The flow is in `jsonPayload`: `connection{src_ip,src_port,dest_ip,
 * dest_port,protocol}`, `start_time`/`end_time` (RFC 3339, nanoseconds), `bytes_sent`,
 * `packets_sent` (int64, which the Logging JSON mapping writes as strings), `reporter` SRC|DEST,
 * `rtt_msec`, and `src_instance`/`dest_instance`, `src_vpc`/`dest_vpc`, `src_location`/
 * `dest_location` where GCP knows them. Reference: cloud.google.com/vpc/docs/flow-logs, "Record
 * format"; the sample is ../shared/testdata/cloud/gcp/.
 *
 * Choices (the logs do not say more):
 * - action is always "accept": VPC flow logs only record traffic that was delivered; denied
 *   connections are in the separate firewall-rules logs.
 * - reporter SRC means the reporting VM sent the traffic (flowdirection egress), DEST that it
 *   received it (ingress). bytes_sent/packets_sent count src→dest either way; there is no reverse
 *   counter, so revbits/revpackets stay null.
 * - timestamp (Unix s) is the flow's end_time, as PRODUCT.md asks for cloud logs.
 * - De-duplication: when both ends are VMs that log, GCP reports the same flow twice, once with
 *   reporter SRC and once with DEST, same 5-tuple and interval. The key is src ip/port, dest
 *   ip/port, protocol, start_time and end_time (as written, nanoseconds included); of a pair the
 *   SRC report is kept (the sender's own count of what it sent; the DEST count can miss packets lost
 *   on the way), whichever order they arrive in. Two reports with the same reporter are not merged.
 * - *_location.asn is the AS GCP reports for the external endpoint; it goes into srcas/dstas.
 * - GCP-only values go into `extra`: reporter, rttmsec, srcvm/dstvm, srcproject/dstproject,
 *   srcvpc/dstvpc, srcsubnet/dstsubnet, srcregion/dstregion, srccountry/dstcountry.
 */

export interface GcpParseError {
  /** 1-based line of the input the entry starts on (a whole JSON document counts as line 1). */
  readonly line: number;
  /** Where in that line's document, e.g. `[3].jsonPayload.bytes_sent`. */
  readonly where: string;
  readonly reason: string;
}

export interface GcpParseResult {
  readonly records: FlowRecord[];
  readonly errors: GcpParseError[];
  /** Entries read (good or bad). */
  readonly entries: number;
  /** Reports dropped because the other end's report of the same flow was kept. */
  readonly duplicates: number;
}

type Json = unknown;
type Obj = Record<string, Json>;

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A problem with one entry; caught per entry so one bad entry never stops the rest. */
class EntryError extends Error {
  constructor(
    readonly where: string,
    reason: string,
  ) {
    super(reason);
  }
}

/** int64 as a decimal string or a JSON number, within [0, max]. */
function readUint(obj: Obj, key: string, where: string, max: number, required: boolean): number | null {
  const v = obj[key];
  const at = `${where}.${key}`;
  if (v === undefined || v === null) {
    if (required) throw new EntryError(at, `${key} is missing`);
    return null;
  }
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^[0-9]{1,20}$/.test(v)) n = Number(v);
  else throw new EntryError(at, `${key} is not a non-negative integer: ${JSON.stringify(v).slice(0, 40)}`);
  if (!Number.isInteger(n) || n < 0) throw new EntryError(at, `${key} is not a non-negative integer: ${v}`);
  if (n > max) throw new EntryError(at, `${key} ${v} is larger than ${max}`);
  return n;
}

function readAddress(conn: Obj, key: string, where: string): string {
  const v = conn[key];
  const at = `${where}.${key}`;
  if (typeof v !== 'string') throw new EntryError(at, `${key} is missing or not a string`);
  // node:net accepts a zone (`fe80::1%eth0`, even `::3%4cf:4071`) that ipaddr.js throws on; a
  // VPC address never has one.
  const family = v.includes('%') ? 0 : isIP(v);
  if (family === 0)
    throw new EntryError(at, `${key} is not an IP address: ${JSON.stringify(v).slice(0, 60)}`);
  // RFC 5952 text for IPv6, as the record wants; IPv4-mapped IPv6 becomes the IPv4 address.
  if (family === 6) {
    const a = ipaddr.IPv6.parse(v);
    return a.isIPv4MappedAddress() ? a.toIPv4Address().toString() : a.toString();
  }
  return v;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** RFC 3339 time to Unix ms, sub-millisecond digits dropped (floored). */
function readTime(obj: Obj, key: string, where: string): number {
  const v = obj[key];
  const at = `${where}.${key}`;
  if (typeof v !== 'string') throw new EntryError(at, `${key} is missing or not a string`);
  const m = RFC3339.exec(v);
  if (m === null)
    throw new EntryError(at, `${key} is not an RFC 3339 time: ${JSON.stringify(v).slice(0, 60)}`);
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    throw new EntryError(at, `${key} is out of range: ${v}`);
  }
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  let t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (m[8] !== undefined) {
    const off = (Number(m[9]) * 60 + Number(m[10])) * 60_000;
    t += m[8] === '+' ? -off : off;
  }
  return t;
}

function optString(obj: Json, key: string): string | null {
  if (!isObj(obj)) return null;
  const v = obj[key];
  return typeof v === 'string' ? v : null;
}

function optAsn(loc: Json): number | null {
  if (!isObj(loc)) return null;
  const v = loc.asn;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : null;
}

/** Bytes up to this still give an exact `bits` (bytes × 8 ≤ 2^53 − 1). */
const MAX_BYTES = Math.floor(Number.MAX_SAFE_INTEGER / 8);

interface Parsed {
  readonly record: FlowRecord;
  readonly key: string;
  readonly reporter: 'SRC' | 'DEST' | null;
}

function entryToRecord(entry: Json, where: string): Parsed {
  if (!isObj(entry)) throw new EntryError(where, 'entry is not a JSON object');
  const p = entry.jsonPayload;
  const pw = `${where}.jsonPayload`;
  if (!isObj(p)) throw new EntryError(pw, 'jsonPayload is missing or not an object');
  const conn = p.connection;
  const cw = `${pw}.connection`;
  if (!isObj(conn))
    throw new EntryError(cw, 'connection is missing or not an object (not a VPC flow log entry?)');

  const rep = p.reporter;
  if (rep !== undefined && rep !== 'SRC' && rep !== 'DEST') {
    throw new EntryError(
      `${pw}.reporter`,
      `reporter is neither SRC nor DEST: ${JSON.stringify(rep).slice(0, 40)}`,
    );
  }
  const reporter = rep === undefined ? null : rep;

  const r = new FlowRecord();
  r.srcip = readAddress(conn, 'src_ip', cw);
  r.dstip = readAddress(conn, 'dest_ip', cw);
  r.protocolint = readUint(conn, 'protocol', cw, 255, true);
  r.srcport = readUint(conn, 'src_port', cw, 65535, false);
  r.dstport = readUint(conn, 'dest_port', cw, 65535, false);
  r.ipversion = r.srcip.includes(':') ? 6 : 4;
  if ((r.dstip.includes(':') ? 6 : 4) !== r.ipversion) {
    throw new EntryError(cw, `src_ip and dest_ip are of different IP versions: ${r.srcip}, ${r.dstip}`);
  }

  r.start = readTime(p, 'start_time', pw);
  r.end = readTime(p, 'end_time', pw);
  if (r.end < r.start) throw new EntryError(`${pw}.end_time`, 'end_time is before start_time');
  r.timestamp = Math.floor(r.end / 1000);

  const bytes = readUint(p, 'bytes_sent', pw, MAX_BYTES, false);
  r.bits = bytes === null ? null : bytes * 8;
  r.packets = readUint(p, 'packets_sent', pw, Number.MAX_SAFE_INTEGER, false);
  const rtt = readUint(p, 'rtt_msec', pw, Number.MAX_SAFE_INTEGER, false);

  r.flowdirection = reporter === 'SRC' ? 'egress' : reporter === 'DEST' ? 'ingress' : null;
  r.flowtype = 'gcp';
  r.action = 'accept';
  r.srcas = optAsn(p.src_location);
  r.dstas = optAsn(p.dest_location);
  r.extra = {
    reporter,
    rttmsec: rtt,
    srcvm: optString(p.src_instance, 'vm_name'),
    dstvm: optString(p.dest_instance, 'vm_name'),
    srcproject: optString(p.src_instance, 'project_id') ?? optString(p.src_vpc, 'project_id'),
    dstproject: optString(p.dest_instance, 'project_id') ?? optString(p.dest_vpc, 'project_id'),
    srcvpc: optString(p.src_vpc, 'vpc_name'),
    dstvpc: optString(p.dest_vpc, 'vpc_name'),
    srcsubnet: optString(p.src_vpc, 'subnetwork_name'),
    dstsubnet: optString(p.dest_vpc, 'subnetwork_name'),
    srcregion: optString(p.src_instance, 'region'),
    dstregion: optString(p.dest_instance, 'region'),
    srccountry: optString(p.src_location, 'country'),
    dstcountry: optString(p.dest_location, 'country'),
  };
  finalizeRecord(r);

  // Times as written (ns precision) so two distinct flows in the same millisecond stay apart.
  const key = [
    conn.src_ip,
    conn.src_port,
    conn.dest_ip,
    conn.dest_port,
    conn.protocol,
    p.start_time,
    p.end_time,
  ]
    .map(String)
    .join('|');
  return { record: r, key, reporter };
}

/** The entries of one JSON document: an array, `{entries:[...]}` or a single entry. */
function entriesOf(doc: Json): { entries: Json[]; prefix: (i: number) => string } {
  if (Array.isArray(doc)) return { entries: doc, prefix: (i) => `[${i}]` };
  if (isObj(doc) && Array.isArray(doc.entries) && doc.jsonPayload === undefined) {
    return { entries: doc.entries, prefix: (i) => `entries[${i}]` };
  }
  return { entries: [doc], prefix: () => '$' };
}

function tryJson(text: string): { ok: true; value: Json } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: `not valid JSON: ${(e as Error).message}` };
  }
}

/**
 * Parses GCP VPC flow log entries (JSON array, one object, `{entries}`, or NDJSON). Never throws
 * on bad input: each bad entry or line becomes one error and the others still parse.
 */
export function parseGcpFlowLog(input: string | Buffer): GcpParseResult {
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const errors: GcpParseError[] = [];
  const kept: Parsed[] = [];
  const byKey = new Map<string, number>();
  let entries = 0;
  let duplicates = 0;

  const take = (entry: Json, line: number, where: string): void => {
    entries++;
    let parsed: Parsed;
    try {
      parsed = entryToRecord(entry, where);
    } catch (e) {
      // Anything else thrown (a library rejecting odd input) is still this entry's problem only.
      if (e instanceof EntryError) errors.push({ line, where: e.where, reason: e.message });
      else errors.push({ line, where, reason: `unreadable entry: ${(e as Error).message}` });
      return;
    }
    if (parsed.reporter === null) {
      kept.push(parsed);
      return;
    }
    const seen = byKey.get(parsed.key);
    const other = seen === undefined ? undefined : kept[seen];
    if (seen !== undefined && other !== undefined && other.reporter !== parsed.reporter) {
      duplicates++;
      if (parsed.reporter === 'SRC') kept[seen] = parsed;
      byKey.delete(parsed.key); // a pair is complete; a third report is a new flow
      return;
    }
    byKey.set(parsed.key, kept.length);
    kept.push(parsed);
  };

  const trimmed = text.trim();
  const whole = trimmed === '' ? null : tryJson(trimmed);
  if (whole?.ok) {
    const { entries: list, prefix } = entriesOf(whole.value);
    for (let i = 0; i < list.length; i++) take(list[i], 1, prefix(i));
  } else {
    // NDJSON (or a broken document: every line is then tried alone and reported on its own).
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] as string).trim();
      if (line === '') continue;
      const j = tryJson(line);
      if (!j.ok) {
        entries++;
        errors.push({ line: i + 1, where: '$', reason: j.reason });
        continue;
      }
      const { entries: list, prefix } = entriesOf(j.value);
      for (let k = 0; k < list.length; k++) take(list[k], i + 1, prefix(k));
    }
  }
  return { records: kept.map((p) => p.record), errors, entries, duplicates };
}
