import type { AsInfo, FlowRecord } from './flow-record.js';
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

/** One JSON line (no trailing newline). */
export function toJsonLine(r: FlowRecord): string {
  return JSON.stringify(toJsonObject(r));
}
