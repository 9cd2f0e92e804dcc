/**
 * What a batch looks like on the wire for each kind of backend. A profile is a small mapping over
 * the same uploader: it encodes records into a request body and names the content type and the
 * authorization scheme; only `_bulk` (elasticsearch) also reads per-item results from a 2xx answer.
 */
import type { AsInfo, FlowRecord } from '../../record/flow-record.js';
import { type FlowRecordJson, toJsonLine, toJsonObject } from '../../record/json.js';
import { bulkAction, ecsDocument, failedBulkItems, type ItemFailures, selectBulkItems } from './ecs.js';
import type { IngestConfig, IngestProfileName } from './options.js';

export interface IngestProfile {
  readonly name: IngestProfileName;
  readonly contentType: string;
  /** Put before the token when it goes in an Authorization header. */
  readonly authScheme: string;
  /** The uncompressed body for one batch; `batchId` lets a backend make replays idempotent. */
  encode(records: readonly FlowRecord[], batchId: string): string;
  /** Items of a 2xx answer that still failed (a `_bulk` answer with `errors: true`), or null. */
  failedItems?(responseText: string): ItemFailures | null;
  /** The body reduced to the given items (retrying only what failed). */
  selectItems?(body: string, items: readonly number[]): string;
}

/** The time a record stands for: when the flow ended, else started, else when it was received. */
export function recordTimeMs(r: FlowRecord): number {
  return r.end ?? r.start ?? r.timestamp * 1000;
}

function genericProfile(format: IngestConfig['format']): IngestProfile {
  if (format === 'array') {
    return {
      name: 'generic',
      contentType: 'application/json',
      authScheme: 'Bearer',
      encode: (records) => `[${records.map(toJsonLine).join(',')}]`,
    };
  }
  return {
    name: 'generic',
    contentType: 'application/x-ndjson',
    authScheme: 'Bearer',
    encode: (records) => records.map((r) => `${toJsonLine(r)}\n`).join(''),
  };
}

/** TCP flags in the order of the seed's example record. */
const SEED_FLAGS: readonly (readonly [string, number])[] = [
  ['urg', 0x20],
  ['ack', 0x10],
  ['psh', 0x08],
  ['rst', 0x04],
  ['syn', 0x02],
  ['fin', 0x01],
  ['ece', 0x40],
  ['cwr', 0x80],
  ['ns', 0x100],
];

const AS_KEYS = ['srcowneras', 'srcas', 'dstowneras', 'dstas', 'nexthopowneras', 'bgpnexthopowneras'];

/**
 * The seed's upload record (seeds/000_886ffc0277747736.txt): every AS object present, unknown as
 * {"asnumber": null, "asorg": ""}; start/end in exporter uptime ms; tcpflags in the seed's order.
 */
export function connectorObject(r: FlowRecord): FlowRecordJson {
  const o = toJsonObject(r);
  for (const key of AS_KEYS) {
    const v = o[key] as AsInfo | null;
    o[key] = { asnumber: v?.asnumber ?? null, asorg: v?.asorg ?? '' };
  }
  if (r.uptime !== null) {
    // The decoders made start/end absolute from the header's export time; the record keeps the
    // receive second instead, so the boot time (and the relative times) can be off by the
    // sub-second part and the transit delay, never more than about a second.
    const bootMs = r.timestamp * 1000 - r.uptime;
    o.start = r.start === null ? null : r.start - bootMs;
    o.end = r.end === null ? null : r.end - bootMs;
  }
  const f = r.tcpflagsint;
  o.tcpflags =
    f === null ? null : Object.fromEntries(SEED_FLAGS.map(([name, bit]) => [name, (f & bit) !== 0]));
  return o;
}

const connectorProfile: IngestProfile = {
  name: 'connector',
  contentType: 'application/json',
  authScheme: 'Bearer',
  encode: (records) => JSON.stringify(records.map(connectorObject)),
};

function elasticsearchProfile(index: string | null): IngestProfile {
  const pattern = index ?? 'flowgate-%Y.%m.%d';
  return {
    name: 'elasticsearch',
    contentType: 'application/x-ndjson',
    // An Elasticsearch API key ("encoded" form); a token that names its own scheme ("Basic ...",
    // for OpenSearch) is sent as it is (see authorizationValue).
    authScheme: 'ApiKey',
    encode: (records, batchId) => {
      let out = '';
      for (let i = 0; i < records.length; i++) {
        const r = records[i];
        out += `${bulkAction(pattern, recordTimeMs(r), `${batchId}-${i}`)}\n${JSON.stringify(ecsDocument(r))}\n`;
      }
      return out;
    },
    failedItems: failedBulkItems,
    selectItems: selectBulkItems,
  };
}

function splunkProfile(index: string | null): IngestProfile {
  const indexPart = index === null ? '' : `,"index":${JSON.stringify(index)}`;
  return {
    name: 'splunk',
    contentType: 'application/json',
    authScheme: 'Splunk',
    // HEC takes several event objects one after the other in one request.
    encode: (records) =>
      records
        .map(
          (r) =>
            `{"time":${(recordTimeMs(r) / 1000).toFixed(3)},"host":${JSON.stringify(r.flowsrcip)}` +
            `,"source":"flowgate","sourcetype":"flowgate:flow"${indexPart},"event":${toJsonLine(r)}}\n`,
        )
        .join(''),
  };
}

export function ingestProfile(config: Pick<IngestConfig, 'profile' | 'format' | 'index'>): IngestProfile {
  switch (config.profile) {
    case 'generic':
      return genericProfile(config.format);
    case 'connector':
      return connectorProfile;
    case 'elasticsearch':
      return elasticsearchProfile(config.index);
    case 'splunk':
      return splunkProfile(config.index);
  }
}

const OWN_SCHEME = /^(Bearer|Basic|ApiKey|Splunk|Token) \S/;

/**
 * The header value that carries the secret: "<scheme> <token>" in an Authorization header (unless
 * the token already names its scheme), the bare token in any other header (X-API-Key).
 */
export function authorizationValue(header: string, scheme: string, token: string): string {
  if (header.toLowerCase() !== 'authorization' || OWN_SCHEME.test(token)) return token;
  return `${scheme} ${token}`;
}
