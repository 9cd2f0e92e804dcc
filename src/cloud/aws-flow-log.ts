import { isIP } from 'node:net';
import { gunzipSync } from 'node:zlib';
import ipaddr from 'ipaddr.js';
import { FlowRecord } from '../record/flow-record.js';
import { finalizeRecord } from '../record/normalize.js';
import { PROTO_ICMP, PROTO_ICMPV6 } from '../record/protocols.js';
import { AWS_DEFAULT_LAYOUTS, AWS_FIELD_NAMES, TGW_DEFAULT_LAYOUT } from './aws-fields.js';

/**
 * AWS VPC and Transit Gateway flow logs to flow records: pure, text (or a gzip Buffer) in, records
 * and errors out. Never throws on bad input.
 *
 * Reference: docs.aws.amazon.com, "Flow log records" (VPC, versions 2 to 8) and "Transit Gateway
 * Flow Logs records"; the samples are in ../shared/testdata/cloud/aws/.
 *
 * Layout (which field is in which column), first rule that applies:
 * 1. a header line (`version account-id interface-id ...`, as S3 delivery writes it at the top of
 *    each file, and again wherever files were concatenated) sets the layout for the lines below it;
 * 2. `options.format`, the flow log's LogFormat (`${version} ${srcaddr} ...` or plain names);
 * 3. a line whose second field is `TransitGateway` uses the Transit Gateway default layout;
 * 4. otherwise the default VPC layout with as many fields as the line has: 14 is the v2 default
 *    format, 21/25/29/39/40 are all fields of versions 3/4/5/7/8 in the documented order (what
 *    "all fields" custom formats produce). Any other count without a header is an error: the
 *    columns cannot be guessed.
 *
 * Choices:
 * - `-` is null. NODATA and SKIPDATA lines (no traffic / records skipped in the capture window)
 *   carry no flow: they are counted, no record.
 * - times: start/end are Unix seconds → ms; `timestamp` is the end (PRODUCT.md: the cloud log's
 *   end time). Transit Gateway records have no action (null).
 * - ICMP: AWS writes 0 in both ports and no type/code, so ports become null and icmptype stays
 *   null (finalizeRecord would otherwise read "echo reply" from dstport 0).
 * - srcip4/dstip4 stay -1: these addresses are parsed text, not read from the wire.
 * - AWS-only values go into `extra` under the field name with `_` for `-` (account_id,
 *   interface_id, vpc_id, pkt_srcaddr, log_status, tgw_id, packets_lost_no_route, ecs_task_id,
 *   reject_reason, ...); null (`-`) values are left out. Numeric ones are numbers.
 */

export interface AwsParseError {
  /** 1-based line of the (decompressed) input. 0 for the input as a whole (bad gzip). */
  readonly line: number;
  readonly reason: string;
}

export interface AwsParseResult {
  readonly records: FlowRecord[];
  readonly errors: AwsParseError[];
  /** Data lines seen (not headers, not blank), good or bad. */
  readonly lines: number;
  /** Lines with log-status NODATA / SKIPDATA (counted, no record). */
  readonly nodata: number;
  readonly skipdata: number;
}

export interface AwsParseOptions {
  /**
   * The flow log's LogFormat when the input has no header line, e.g.
   * `${version} ${srcaddr} ${dstaddr} ...` or `version srcaddr dstaddr ...`.
   */
  readonly format?: string;
}

/** Largest byte count whose bit count (× 8) is still an exact JS number. */
const MAX_BYTES = Math.floor(Number.MAX_SAFE_INTEGER / 8);
/** Start/end are seconds; anything at or above this (year 5138) is not a time. */
const MAX_SECONDS = 1e11;
const KNOWN = new Set(AWS_FIELD_NAMES);

/** Parses one AWS flow-log file (text, or a Buffer that may be gzip). */
export function parseAwsFlowLog(input: string | Uint8Array, options: AwsParseOptions = {}): AwsParseResult {
  const out = new Collector();
  const text = toText(input, out);
  if (text === null) return out.result();
  let layout: Layout | null = null;
  if (options.format !== undefined) {
    layout = layoutFromNames(parseFormat(options.format));
    if (layout.problem !== null) {
      out.fail(0, `log format option: ${layout.problem}`);
      return out.result();
    }
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const tokens = line.trim().split(/\s+/);
    if (tokens.length === 1 && tokens[0] === '') continue;
    if (isHeader(tokens)) {
      const h = layoutFromNames(tokens.map((t) => t.replace(/_/g, '-')));
      if (h.problem !== null)
        out.fail(i + 1, `header line: ${h.problem}; lines below it are skipped until the next header`);
      layout = h;
      continue;
    }
    out.lines++;
    const problem = parseLine(tokens, pickLayout(tokens, layout), out);
    if (problem !== null) out.fail(i + 1, problem);
  }
  return out.result();
}

class Collector {
  readonly records: FlowRecord[] = [];
  readonly errors: AwsParseError[] = [];
  lines = 0;
  nodata = 0;
  skipdata = 0;
  fail(line: number, reason: string): void {
    this.errors.push({ line, reason });
  }
  result(): AwsParseResult {
    const { records, errors, lines, nodata, skipdata } = this;
    return { records, errors, lines, nodata, skipdata };
  }
}

function toText(input: string | Uint8Array, out: Collector): string | null {
  if (typeof input === 'string') return input;
  if (input.length >= 2 && input[0] === 0x1f && input[1] === 0x8b) {
    try {
      return gunzipSync(input).toString('utf8');
    } catch (err) {
      out.fail(0, `input starts like gzip (1f 8b) but does not decompress: ${(err as Error).message}`);
      return null;
    }
  }
  return Buffer.from(input.buffer, input.byteOffset, input.length).toString('utf8');
}

/** The field names in column order, and why they cannot be used (null when they can). */
interface Layout {
  readonly names: readonly string[];
  readonly problem: string | null;
}

function layoutFromNames(names: readonly string[]): Layout {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return { names, problem: `field ${n} appears twice` };
    seen.add(n);
  }
  if (names.length === 0) return { names, problem: 'no fields' };
  return { names, problem: null };
}

/** `${version} ${srcaddr}` or `version srcaddr`. */
function parseFormat(format: string): string[] {
  return format
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((t) => t.replace(/^\$\{(.*)\}$/, '$1').replace(/_/g, '-'));
}

/** A header: every token is a field name, and most are names AWS documents (so data never is). */
function isHeader(tokens: readonly string[]): boolean {
  let known = 0;
  for (const t of tokens) {
    if (!/^[a-z][a-z0-9_-]*$/.test(t)) return false;
    if (KNOWN.has(t.replace(/_/g, '-'))) known++;
  }
  return known * 2 >= tokens.length;
}

function pickLayout(tokens: readonly string[], current: Layout | null): Layout | string {
  if (current !== null) return current;
  if (tokens[1] === 'TransitGateway') return TGW;
  const d = DEFAULTS.get(tokens.length);
  if (d !== undefined) return d;
  return `${tokens.length} fields and no header line or log format: not a default layout (${[...DEFAULTS.keys()].join('/')} fields, or ${TGW.names.length} for Transit Gateway); pass the flow log's format`;
}

const DEFAULTS = new Map<number, Layout>(
  AWS_DEFAULT_LAYOUTS.map((names) => [names.length, { names, problem: null }]),
);
const TGW: Layout = { names: TGW_DEFAULT_LAYOUT, problem: null };

/** What each numeric field may hold; a value outside is an error for the whole line. */
const NUMERIC: Record<string, number> = {
  version: 8,
  srcport: 65535,
  dstport: 65535,
  protocol: 255,
  packets: Number.MAX_SAFE_INTEGER,
  bytes: MAX_BYTES,
  start: MAX_SECONDS - 1,
  end: MAX_SECONDS - 1,
  'tcp-flags': 255,
  'traffic-path': 255,
  'packets-lost-no-route': Number.MAX_SAFE_INTEGER,
  'packets-lost-blackhole': Number.MAX_SAFE_INTEGER,
  'packets-lost-mtu-exceeded': Number.MAX_SAFE_INTEGER,
  'packets-lost-ttl-expired': Number.MAX_SAFE_INTEGER,
};

/** Adds the line's record (or counts NODATA/SKIPDATA); returns why the line is bad, else null. */
function parseLine(tokens: readonly string[], layout: Layout | string, out: Collector): string | null {
  if (typeof layout === 'string') return layout;
  if (layout.problem !== null) return `no usable header above this line (${layout.problem})`;
  const names = layout.names;
  if (tokens.length !== names.length) {
    return `${tokens.length} fields where the layout has ${names.length} (truncated or mixed formats)`;
  }
  const rec = new FlowRecord();
  rec.flowtype = 'aws';
  const extra: Record<string, string | number> = {};
  let status: string | null = null;
  for (let c = 0; c < names.length; c++) {
    const name = names[c] as string;
    const v = tokens[c] as string;
    if (v === '-') continue;
    const max = NUMERIC[name];
    const num = max !== undefined && /^\d{1,16}$/.test(v) ? Number(v) : -1;
    if (max !== undefined) {
      if (num < 0 || num > max) {
        return `field ${name} (column ${c + 1}) is '${clip(v)}': expected a whole number 0-${max}`;
      }
    }
    switch (name) {
      case 'version':
        if (num < 2) return `version ${num}: flow logs have versions 2 to 8`;
        rec.flowversion = num;
        break;
      case 'srcaddr':
      case 'dstaddr': {
        const a = address(v);
        if (a === null) return `field ${name} (column ${c + 1}) is '${clip(v)}': not an IP address`;
        if (name === 'srcaddr') rec.srcip = a;
        else rec.dstip = a;
        break;
      }
      case 'srcport':
        rec.srcport = num;
        break;
      case 'dstport':
        rec.dstport = num;
        break;
      case 'protocol':
        rec.protocolint = num;
        break;
      case 'packets':
        rec.packets = num;
        break;
      case 'bytes':
        rec.bits = num * 8;
        break;
      case 'start':
        rec.start = num * 1000;
        break;
      case 'end':
        rec.end = num * 1000;
        rec.timestamp = num;
        break;
      case 'tcp-flags':
        rec.tcpflagsint = num;
        break;
      case 'action':
        if (v === 'ACCEPT') rec.action = 'accept';
        else if (v === 'REJECT') rec.action = 'reject';
        else return `field action (column ${c + 1}) is '${clip(v)}': expected ACCEPT or REJECT`;
        break;
      case 'log-status':
        if (v !== 'OK' && v !== 'NODATA' && v !== 'SKIPDATA') {
          return `field log-status (column ${c + 1}) is '${clip(v)}': expected OK, NODATA or SKIPDATA`;
        }
        status = v;
        break;
      case 'flow-direction':
        if (v === 'ingress' || v === 'egress') rec.flowdirection = v;
        else return `field flow-direction (column ${c + 1}) is '${clip(v)}': expected ingress or egress`;
        break;
      case 'type':
        if (v === 'IPv4') rec.ipversion = 4;
        else if (v === 'IPv6') rec.ipversion = 6;
        extra.type = v;
        break;
      default:
        extra[name.replace(/-/g, '_')] = max !== undefined ? num : v;
    }
  }
  if (status === 'NODATA') {
    out.nodata++;
    return null;
  }
  if (status === 'SKIPDATA') {
    out.skipdata++;
    return null;
  }
  if (status !== null) extra.log_status = status;
  rec.extra = Object.keys(extra).length > 0 ? extra : null;
  if (rec.protocolint === PROTO_ICMP || rec.protocolint === PROTO_ICMPV6) {
    rec.srcport = null;
    rec.dstport = null;
  }
  finalizeRecord(rec);
  out.records.push(rec);
  return null;
}

/** An address as PRODUCT.md writes it (IPv6 in RFC 5952 form), or null when it is not one. */
function address(v: string): string | null {
  // node:net accepts a zone (`fe80::1%eth0`, even `::3%4cf:4071`) that ipaddr.js throws on; a
  // VPC address never has one.
  const family = v.includes('%') ? 0 : isIP(v);
  if (family === 4) return v;
  if (family === 6) return ipaddr.IPv6.parse(v).toRFC5952String();
  return null;
}

function clip(v: string): string {
  return v.length > 40 ? `${v.slice(0, 40)}…` : v;
}
