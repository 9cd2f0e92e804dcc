import { type AsInfo, FlowRecord, type GeoInfo } from './flow-record.js';
import { protocolKeyword } from './protocols.js';

/**
 * The PRODUCT.md JSON form of a record: nested tcpflags / AS / geo objects, the protocol keyword
 * and the derived ratios. Field order follows the connector's example record, then the rest.
 */
export interface FlowRecordJson {
  [key: string]: unknown;
}

function asObject(asnumber: number | null, asorg: string | null): AsInfo | null {
  return asnumber === null ? null : { asnumber, asorg };
}

/** TCP flag bits in the order of the connector schema (bit 0 FIN .. bit 8 NS). */
export function tcpFlagsObject(flags: number | null) {
  if (flags === null) return null;
  return {
    fin: (flags & 0x01) !== 0,
    syn: (flags & 0x02) !== 0,
    rst: (flags & 0x04) !== 0,
    psh: (flags & 0x08) !== 0,
    ack: (flags & 0x10) !== 0,
    urg: (flags & 0x20) !== 0,
    ece: (flags & 0x40) !== 0,
    cwr: (flags & 0x80) !== 0,
    ns: (flags & 0x100) !== 0,
  };
}

export function toJsonObject(r: FlowRecord): FlowRecordJson {
  const bits = r.bits;
  const packets = r.packets;
  const seconds = r.duration !== null && r.duration > 0 ? r.duration / 1000 : null;
  const out: FlowRecordJson = {
    timestamp: r.timestamp,
    srcip: r.srcip,
    srcport: r.srcport,
    srcowneras: r.srcowneras,
    srcas: asObject(r.srcas, r.srcasorg),
    dstip: r.dstip,
    dstport: r.dstport,
    dstowneras: r.dstowneras,
    dstas: asObject(r.dstas, r.dstasorg),
    nexthop: r.nexthop,
    nexthopowneras: r.nexthopowneras,
    bgpnexthop: r.bgpnexthop,
    bgpnexthopowneras: r.bgpnexthopowneras,
    bits,
    packets,
    pbratio: bits !== null && packets !== null && bits > 0 ? packets / bits : null,
    flowbrate: bits === null ? null : seconds === null ? bits : bits / seconds,
    flowprate: packets === null ? null : seconds === null ? packets : packets / seconds,
    protocol: protocolKeyword(r.protocolint),
    protocolint: r.protocolint,
    tos: r.tos,
    srcmask: r.srcmask,
    dstmask: r.dstmask,
    start: r.start,
    end: r.end,
    duration: r.duration,
    input: r.input,
    output: r.output,
    samplerate: r.samplerate,
    uptime: r.uptime,
    flowsrcip: r.flowsrcip,
    tcpflags: tcpFlagsObject(r.tcpflagsint),
    tcpflagsint: r.tcpflagsint,
    flowtype: r.flowtype,
    flowversion: r.flowversion,
    srcvlan: r.srcvlan,
    dstvlan: r.dstvlan,
    ipversion: r.ipversion,
    icmptype: r.icmptype,
    icmpcode: r.icmpcode,
    revbits: r.revbits,
    revpackets: r.revpackets,
    weight: r.weight,
    flowdirection: r.flowdirection,
    forwardingstatus: r.forwardingstatus,
    fragmented: r.fragmented,
    postnatsrcip: r.postnatsrcip,
    postnatdstip: r.postnatdstip,
    postnatsrcport: r.postnatsrcport,
    postnatdstport: r.postnatdstport,
    fwevent: r.fwevent,
    natevent: r.natevent,
    action: r.action,
    srcgeo: r.srcgeo,
    dstgeo: r.dstgeo,
    srcinternal: r.srcinternal,
    dstinternal: r.dstinternal,
    bogonsrc: r.bogonsrc,
    bogondst: r.bogondst,
    flowsrcname: r.flowsrcname,
    site: r.site,
    inputname: r.inputname,
    outputname: r.outputname,
    inputalias: r.inputalias,
    outputalias: r.outputalias,
    inputclasses: r.inputclasses,
    outputclasses: r.outputclasses,
    tags: r.tags,
  };
  if (r.extra !== null) {
    for (const key of Object.keys(r.extra)) {
      // A user-mapped field never shadows a schema field.
      if (!(key in out)) out[key] = r.extra[key];
    }
  }
  return out;
}

// ---- hand-written serialiser for the hot path ----
// JSON.stringify of the object above spent ~70% of a JSON-lines output's CPU (bench/json-serialize.ts,
// docs/benchmarks.md): the record is built straight into a string instead. Strings Flowgate produces
// itself from fixed tables or address formatting (addresses, protocol keyword, flowtype, events,
// forwarding status) need no escaping; strings that come from the wire or from configuration
// (interface names, site, tags, extra fields) go through JSON.stringify.

function n(v: number | null): string {
  // JSON has no NaN/Infinity: they are unknown values.
  return v === null || !Number.isFinite(v) ? 'null' : String(v);
}

function b(v: boolean | null): string {
  return v === null ? 'null' : v ? 'true' : 'false';
}

/** A string Flowgate formatted itself (no quote, backslash or control character possible). */
function safe(v: string | null): string {
  return v === null ? 'null' : `"${v}"`;
}

function s(v: string | null): string {
  return v === null ? 'null' : JSON.stringify(v);
}

function asInfo(v: AsInfo | null): string {
  return v === null ? 'null' : `{"asnumber":${n(v.asnumber)},"asorg":${s(v.asorg)}}`;
}

function asPair(asnumber: number | null, asorg: string | null): string {
  return asnumber === null ? 'null' : `{"asnumber":${n(asnumber)},"asorg":${s(asorg)}}`;
}

function geo(v: GeoInfo | null): string {
  if (v === null) return 'null';
  const loc = v.location === null ? 'null' : `{"lat":${n(v.location.lat)},"lon":${n(v.location.lon)}}`;
  return `{"countrycode":${s(v.countrycode)},"continentcode":${s(v.continentcode)},"location":${loc}}`;
}

function list(v: readonly string[] | null): string {
  return v === null ? 'null' : JSON.stringify(v);
}

const FLAG_JSON: string[] = Array.from({ length: 512 }, (_, f) => JSON.stringify(tcpFlagsObject(f)));

/** One JSON line (no trailing newline); the same content and key order as `toJsonObject`. */
export function toJsonLine(r: FlowRecord): string {
  const bits = r.bits;
  const packets = r.packets;
  const seconds = r.duration !== null && r.duration > 0 ? r.duration / 1000 : null;
  const flags = r.tcpflagsint;
  let out =
    `{"timestamp":${n(r.timestamp)},"srcip":${safe(r.srcip)},"srcport":${n(r.srcport)}` +
    `,"srcowneras":${asInfo(r.srcowneras)},"srcas":${asPair(r.srcas, r.srcasorg)}` +
    `,"dstip":${safe(r.dstip)},"dstport":${n(r.dstport)},"dstowneras":${asInfo(r.dstowneras)}` +
    `,"dstas":${asPair(r.dstas, r.dstasorg)},"nexthop":${safe(r.nexthop)}` +
    `,"nexthopowneras":${asInfo(r.nexthopowneras)},"bgpnexthop":${safe(r.bgpnexthop)}` +
    `,"bgpnexthopowneras":${asInfo(r.bgpnexthopowneras)},"bits":${n(bits)},"packets":${n(packets)}` +
    `,"pbratio":${n(bits !== null && packets !== null && bits > 0 ? packets / bits : null)}` +
    `,"flowbrate":${n(bits === null ? null : seconds === null ? bits : bits / seconds)}` +
    `,"flowprate":${n(packets === null ? null : seconds === null ? packets : packets / seconds)}` +
    `,"protocol":${safe(protocolKeyword(r.protocolint))},"protocolint":${n(r.protocolint)}` +
    `,"tos":${n(r.tos)},"srcmask":${n(r.srcmask)},"dstmask":${n(r.dstmask)}` +
    `,"start":${n(r.start)},"end":${n(r.end)},"duration":${n(r.duration)}` +
    `,"input":${n(r.input)},"output":${n(r.output)},"samplerate":${n(r.samplerate)}` +
    `,"uptime":${n(r.uptime)},"flowsrcip":${s(r.flowsrcip)}` +
    `,"tcpflags":${flags === null ? 'null' : (FLAG_JSON[flags & 511] ?? 'null')},"tcpflagsint":${n(flags)}` +
    `,"flowtype":${safe(r.flowtype)},"flowversion":${n(r.flowversion)}` +
    `,"srcvlan":${n(r.srcvlan)},"dstvlan":${n(r.dstvlan)},"ipversion":${n(r.ipversion)}` +
    `,"icmptype":${n(r.icmptype)},"icmpcode":${n(r.icmpcode)}` +
    `,"revbits":${n(r.revbits)},"revpackets":${n(r.revpackets)},"weight":${n(r.weight)}` +
    `,"flowdirection":${safe(r.flowdirection)},"forwardingstatus":${s(r.forwardingstatus)}` +
    `,"fragmented":${b(r.fragmented)},"postnatsrcip":${safe(r.postnatsrcip)}` +
    `,"postnatdstip":${safe(r.postnatdstip)},"postnatsrcport":${n(r.postnatsrcport)}` +
    `,"postnatdstport":${n(r.postnatdstport)},"fwevent":${s(r.fwevent)},"natevent":${s(r.natevent)}` +
    `,"action":${safe(r.action)},"srcgeo":${geo(r.srcgeo)},"dstgeo":${geo(r.dstgeo)}` +
    `,"srcinternal":${b(r.srcinternal)},"dstinternal":${b(r.dstinternal)}` +
    `,"bogonsrc":${b(r.bogonsrc)},"bogondst":${b(r.bogondst)}` +
    `,"flowsrcname":${s(r.flowsrcname)},"site":${s(r.site)}` +
    `,"inputname":${s(r.inputname)},"outputname":${s(r.outputname)}` +
    `,"inputalias":${s(r.inputalias)},"outputalias":${s(r.outputalias)}` +
    `,"inputclasses":${list(r.inputclasses)},"outputclasses":${list(r.outputclasses)}` +
    `,"tags":${list(r.tags)}`;
  const extra = r.extra;
  if (extra !== null) {
    for (const key of Object.keys(extra)) {
      // A user-mapped field never shadows a schema field.
      if (SCHEMA_KEYS.has(key)) continue;
      const v = extra[key];
      out += `,${JSON.stringify(key)}:${typeof v === 'number' ? n(v) : JSON.stringify(v)}`;
    }
  }
  return `${out}}`;
}

const SCHEMA_KEYS: ReadonlySet<string> = new Set(Object.keys(toJsonObject(new FlowRecord())));
