/**
 * Rebuilds a FlowRecord from a row of the flow table (RECORD_COLUMNS, read with getRowObjectsJS),
 * so `flows()` returns exactly what record/json.ts makes of the record that was written.
 */
import type { FlowDirection, FlowRecord as FlowRecordType, FlowType } from '../../record/flow-record.js';
import { FlowRecord } from '../../record/flow-record.js';

type Row = Record<string, unknown>;

function n(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

function s(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function b(v: unknown): boolean | null {
  return v === null || v === undefined ? null : Boolean(v);
}

interface More {
  srcowneras: FlowRecordType['srcowneras'];
  dstowneras: FlowRecordType['dstowneras'];
  nexthopowneras: FlowRecordType['nexthopowneras'];
  bgpnexthopowneras: FlowRecordType['bgpnexthopowneras'];
  srcgeo: FlowRecordType['srcgeo'];
  dstgeo: FlowRecordType['dstgeo'];
  inputclasses: string[] | null;
  outputclasses: string[] | null;
  extra: FlowRecordType['extra'];
}

export function rowToRecord(row: Row): FlowRecord {
  const r = new FlowRecord();
  r.timestamp = n(row.timestamp) ?? 0;
  r.start = n(row.start);
  r.end = n(row.end);
  r.duration = n(row.duration);
  r.uptime = n(row.uptime);
  r.srcip = s(row.srcip);
  r.dstip = s(row.dstip);
  r.srcport = n(row.srcport);
  r.dstport = n(row.dstport);
  r.protocolint = n(row.protocolint);
  const ipv = n(row.ipversion);
  r.ipversion = ipv === 4 || ipv === 6 ? ipv : null;
  r.bits = n(row.bits);
  r.packets = n(row.packets);
  r.revbits = n(row.revbits);
  r.revpackets = n(row.revpackets);
  r.samplerate = n(row.samplerate);
  r.weight = n(row.weight) ?? 1;
  r.tos = n(row.tos);
  r.tcpflagsint = n(row.tcpflagsint);
  r.icmptype = n(row.icmptype);
  r.icmpcode = n(row.icmpcode);
  r.srcmask = n(row.srcmask);
  r.dstmask = n(row.dstmask);
  r.input = n(row.input);
  r.output = n(row.output);
  r.srcvlan = n(row.srcvlan);
  r.dstvlan = n(row.dstvlan);
  r.flowdirection = s(row.flowdirection) as FlowDirection | null;
  r.forwardingstatus = s(row.forwardingstatus);
  r.fragmented = b(row.fragmented);
  r.postnatsrcip = s(row.postnatsrcip);
  r.postnatdstip = s(row.postnatdstip);
  r.postnatsrcport = n(row.postnatsrcport);
  r.postnatdstport = n(row.postnatdstport);
  r.fwevent = s(row.fwevent);
  r.natevent = s(row.natevent);
  r.nexthop = s(row.nexthop);
  r.bgpnexthop = s(row.bgpnexthop);
  r.srcas = n(row.srcas);
  r.dstas = n(row.dstas);
  r.flowsrcip = s(row.flowsrcip) ?? '';
  r.flowtype = (s(row.flowtype) ?? 'netflow') as FlowType;
  r.flowversion = n(row.flowversion) ?? 0;
  r.action = s(row.action) as 'accept' | 'reject' | null;
  r.srcasorg = s(row.srcasorg);
  r.dstasorg = s(row.dstasorg);
  r.srcinternal = b(row.srcinternal);
  r.dstinternal = b(row.dstinternal);
  r.bogonsrc = b(row.bogonsrc);
  r.bogondst = b(row.bogondst);
  r.flowsrcname = s(row.flowsrcname);
  r.site = s(row.site);
  r.inputname = s(row.inputname);
  r.outputname = s(row.outputname);
  r.inputalias = s(row.inputalias);
  r.outputalias = s(row.outputalias);
  r.tags = Array.isArray(row.tags) ? row.tags.map(String) : null;
  const more = s(row.more);
  if (more !== null) {
    const m = JSON.parse(more) as More;
    r.srcowneras = m.srcowneras ?? null;
    r.dstowneras = m.dstowneras ?? null;
    r.nexthopowneras = m.nexthopowneras ?? null;
    r.bgpnexthopowneras = m.bgpnexthopowneras ?? null;
    r.srcgeo = m.srcgeo ?? null;
    r.dstgeo = m.dstgeo ?? null;
    r.inputclasses = m.inputclasses ?? null;
    r.outputclasses = m.outputclasses ?? null;
    r.extra = m.extra ?? null;
  }
  return r;
}
