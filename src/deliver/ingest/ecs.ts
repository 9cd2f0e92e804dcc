/**
 * Elasticsearch / OpenSearch `_bulk`: records as ECS documents (Elastic Common Schema names, as
 * Filebeat's netflow module writes them), the action line before each, and the per-item results.
 * What ECS has no name for goes under `flowgate.*` in the PRODUCT.md names.
 */
import type { AsInfo, FlowRecord, GeoInfo } from '../../record/flow-record.js';
import { toJsonObject } from '../../record/json.js';
import { protocolKeyword } from '../../record/protocols.js';

type Doc = Record<string, unknown>;

/** PRODUCT.md fields that have an ECS place (the rest goes under `flowgate`). */
const MAPPED = new Set([
  'srcip',
  'srcport',
  'dstip',
  'dstport',
  'srcowneras',
  'dstowneras',
  'srcgeo',
  'dstgeo',
  'bits',
  'packets',
  'revbits',
  'revpackets',
  'protocol',
  'protocolint',
  'ipversion',
  'flowsrcip',
  'flowsrcname',
  'input',
  'output',
  'inputname',
  'outputname',
  'inputalias',
  'outputalias',
  'srcvlan',
  'dstvlan',
  'start',
  'end',
  'duration',
  'tags',
]);

/** The object without its null members, or null when nothing is left (ES stores no empty objects). */
function compact(o: Doc): Doc | null {
  let out: Doc | null = null;
  for (const key of Object.keys(o)) {
    const v = o[key];
    if (v === null || v === undefined) continue;
    out ??= {};
    out[key] = v;
  }
  return out;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function asDoc(owner: AsInfo | null, asnumber: number | null, asorg: string | null): Doc | null {
  // The owner AS from the AS database first; else the BGP AS the exporter reported.
  const number = owner?.asnumber ?? asnumber;
  const name = owner !== null ? owner.asorg : asorg;
  return compact({ number, organization: name === null ? null : { name } });
}

function geoDoc(g: GeoInfo | null): Doc | null {
  if (g === null) return null;
  return compact({ country_iso_code: g.countrycode, continent_code: g.continentcode, location: g.location });
}

function endpoint(
  ip: string | null,
  port: number | null,
  bits: number | null,
  packets: number | null,
  as: Doc | null,
  geo: Doc | null,
): Doc | null {
  return compact({ ip, port, bytes: bits === null ? null : bits / 8, packets, as, geo });
}

function interfaceDoc(index: number | null, name: string | null, alias: string | null, vlan: number | null) {
  return compact({
    interface: compact({ id: index === null ? null : String(index), name, alias }),
    vlan: vlan === null ? null : { id: String(vlan) },
  });
}

function sum(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : a + b;
}

export function ecsDocument(r: FlowRecord): Doc {
  const bytes = r.bits === null ? null : r.bits / 8;
  const revBytes = r.revbits === null ? null : r.revbits / 8;
  const doc: Doc = {
    '@timestamp': iso(r.end ?? r.start ?? r.timestamp * 1000),
    source: endpoint(
      r.srcip,
      r.srcport,
      r.bits,
      r.packets,
      asDoc(r.srcowneras, r.srcas, r.srcasorg),
      geoDoc(r.srcgeo),
    ),
    // For a biflow the reverse counters are what the destination sent.
    destination: endpoint(
      r.dstip,
      r.dstport,
      r.revbits,
      r.revpackets,
      asDoc(r.dstowneras, r.dstas, r.dstasorg),
      geoDoc(r.dstgeo),
    ),
    network: compact({
      transport: r.protocolint === null ? null : protocolKeyword(r.protocolint),
      iana_number: r.protocolint === null ? null : String(r.protocolint),
      type: r.ipversion === null ? null : `ipv${r.ipversion}`,
      bytes: sum(bytes, revBytes),
      packets: sum(r.packets, r.revpackets),
    }),
    observer: compact({
      ip: r.flowsrcip === '' ? null : r.flowsrcip,
      name: r.flowsrcname,
      ingress: interfaceDoc(r.input, r.inputname, r.inputalias, r.srcvlan),
      egress: interfaceDoc(r.output, r.outputname, r.outputalias, r.dstvlan),
    }),
    event: compact({
      start: iso(r.start),
      end: iso(r.end),
      duration: r.duration === null ? null : r.duration * 1_000_000,
    }),
    tags: r.tags,
  };
  const rest: Doc = {};
  const json = toJsonObject(r);
  for (const key of Object.keys(json)) if (!MAPPED.has(key)) rest[key] = json[key];
  doc.flowgate = compact(rest);
  return compact(doc) ?? {};
}

const pad = (v: number) => String(v).padStart(2, '0');

/** The bulk action line; %Y %m %d in the index name are the record's UTC date. */
export function bulkAction(indexPattern: string, timeMs: number, id: string): string {
  const d = new Date(timeMs);
  const index = indexPattern
    .replaceAll('%Y', String(d.getUTCFullYear()))
    .replaceAll('%m', pad(d.getUTCMonth() + 1))
    .replaceAll('%d', pad(d.getUTCDate()));
  // The _id (batch id + position) makes a replayed batch overwrite, not duplicate, its documents.
  return `{"index":{"_index":${JSON.stringify(index)},"_id":${JSON.stringify(id)}}}`;
}

export interface ItemFailures {
  /** Positions of the items worth sending again (429, 5xx). */
  retry: number[];
  /** Items the backend will never take (mapping errors, 4xx). */
  rejected: number;
  /** Failed items by reason ("item 429", "item 400"). */
  reasons: Record<string, number>;
}

interface BulkAnswer {
  errors?: boolean;
  items?: Record<string, { status?: number }>[];
}

/** Items that failed in a `_bulk` answer with `errors: true`; null when every item was taken. */
export function failedBulkItems(responseText: string): ItemFailures | null {
  let answer: BulkAnswer;
  try {
    answer = JSON.parse(responseText) as BulkAnswer;
  } catch {
    return null;
  }
  if (answer.errors !== true || !Array.isArray(answer.items)) return null;
  const out: ItemFailures = { retry: [], rejected: 0, reasons: {} };
  answer.items.forEach((item, i) => {
    const status = Object.values(item)[0]?.status ?? 0;
    if (status >= 200 && status < 300) return;
    const reason = `item ${status}`;
    out.reasons[reason] = (out.reasons[reason] ?? 0) + 1;
    if (status === 429 || status >= 500) out.retry.push(i);
    else out.rejected++;
  });
  return out;
}

/** The bulk body reduced to the given items (each is an action line and a document line). */
export function selectBulkItems(body: string, items: readonly number[]): string {
  const lines = body.split('\n');
  return items.map((i) => `${lines[2 * i]}\n${lines[2 * i + 1]}\n`).join('');
}
