/**
 * The ingest profiles on one fixed record: the exact body each sends, the connector's seed
 * conventions (seeds/000_886ffc0277747736.txt), `_bulk` item results, Retry-After and auth headers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failedBulkItems, selectBulkItems } from '../../src/deliver/ingest/ecs.js';
import { retryAfterMs } from '../../src/deliver/ingest/http-post.js';
import { authorizationValue, ingestProfile } from '../../src/deliver/ingest/profiles.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { toJsonLine } from '../../src/record/json.js';

/** Received 2026-01-05 12:00:01 UTC, flow 11:59:59.000-12:00:00.500, exporter up for one hour. */
function record(): FlowRecord {
  return Object.assign(new FlowRecord(), {
    timestamp: 1767614401,
    start: 1767614399000,
    end: 1767614400500,
    duration: 1500,
    uptime: 3_600_000,
    srcip: '10.0.0.1',
    dstip: '192.0.2.80',
    srcport: 34765,
    dstport: 443,
    protocolint: 6,
    ipversion: 4,
    bits: 4800,
    packets: 4,
    samplerate: 10,
    tos: 0,
    tcpflagsint: 0x12,
    input: 3,
    output: 4,
    flowsrcip: '172.16.10.10',
    flowversion: 10,
    dstas: 64500,
    dstowneras: { asnumber: 15169, asorg: 'GOOGLE' },
    dstgeo: { countrycode: 'US', continentcode: 'NA', location: { lat: 37.751, lon: -97.822 } },
    inputname: 'ge-0/0/1',
    tags: ['edge'],
  });
}

/** The seed's example record, key by key, up to where the seed is cut (srcvlan). */
const SEED_KEYS = [
  'timestamp',
  'srcip',
  'srcport',
  'srcowneras',
  'srcas',
  'dstip',
  'dstport',
  'dstowneras',
  'dstas',
  'nexthop',
  'nexthopowneras',
  'bgpnexthop',
  'bgpnexthopowneras',
  'bits',
  'packets',
  'pbratio',
  'flowbrate',
  'flowprate',
  'protocol',
  'protocolint',
  'tos',
  'srcmask',
  'dstmask',
  'start',
  'end',
  'duration',
  'input',
  'output',
  'samplerate',
  'uptime',
  'flowsrcip',
  'tcpflags',
  'tcpflagsint',
  'flowtype',
  'flowversion',
  'srcvlan',
];

describe('generic profile', () => {
  it('jsonlines: one PRODUCT.md JSON line per record, newline-terminated', () => {
    const p = ingestProfile({ profile: 'generic', format: 'jsonlines', index: null });
    const r = record();
    assert.equal(p.contentType, 'application/x-ndjson');
    assert.equal(p.encode([r, r], 'b'), `${toJsonLine(r)}\n${toJsonLine(r)}\n`);
    const o = JSON.parse(p.encode([r], 'b'));
    assert.equal(o.start, 1767614399000, 'start stays absolute ms');
    assert.deepEqual(o.srcas, null, 'unknown AS stays null');
    assert.deepEqual(o.dstas, { asnumber: 64500, asorg: null });
  });

  it('array: one JSON array', () => {
    const p = ingestProfile({ profile: 'generic', format: 'array', index: null });
    const r = record();
    assert.equal(p.contentType, 'application/json');
    assert.equal(p.encode([r, r], 'b'), `[${toJsonLine(r)},${toJsonLine(r)}]`);
  });
});

describe('connector profile', () => {
  const p = ingestProfile({ profile: 'connector', format: 'jsonlines', index: null });
  const [o] = JSON.parse(p.encode([record()], 'b'));

  it('keeps the seed example key order, tcpflags included', () => {
    assert.deepEqual(Object.keys(o).slice(0, SEED_KEYS.length), SEED_KEYS);
    assert.deepEqual(Object.keys(o.tcpflags), ['urg', 'ack', 'psh', 'rst', 'syn', 'fin', 'ece', 'cwr', 'ns']);
    assert.deepEqual(o.tcpflags, {
      urg: false,
      ack: true,
      psh: false,
      rst: false,
      syn: true,
      fin: false,
      ece: false,
      cwr: false,
      ns: false,
    });
  });

  it('always sends the AS objects, unknown as {asnumber: null, asorg: ""}', () => {
    assert.deepEqual(o.srcowneras, { asnumber: null, asorg: '' });
    assert.deepEqual(o.srcas, { asnumber: null, asorg: '' });
    assert.deepEqual(o.dstowneras, { asnumber: 15169, asorg: 'GOOGLE' });
    assert.deepEqual(o.dstas, { asnumber: 64500, asorg: '' });
    assert.deepEqual(o.nexthopowneras, { asnumber: null, asorg: '' });
    assert.deepEqual(o.bgpnexthopowneras, { asnumber: null, asorg: '' });
  });

  it('sends start/end in exporter uptime ms (boot = received - uptime)', () => {
    // Boot at 12:00:01 - 1 h; the flow started 2 s and ended 0.5 s before the receive second.
    assert.equal(o.start, 3_598_000);
    assert.equal(o.end, 3_599_500);
    assert.equal(o.duration, 1500);
  });

  it('keeps absolute start/end when the protocol carries no uptime', () => {
    const r = record();
    r.uptime = null;
    const [abs] = JSON.parse(p.encode([r], 'b'));
    assert.equal(abs.start, 1767614399000);
    assert.equal(abs.end, 1767614400500);
  });

  it('is one JSON array per request', () => {
    assert.equal(p.contentType, 'application/json');
    assert.equal(JSON.parse(p.encode([record(), record()], 'b')).length, 2);
  });
});

describe('elasticsearch profile', () => {
  it('writes the bulk action line and the ECS document', () => {
    const p = ingestProfile({ profile: 'elasticsearch', format: 'jsonlines', index: null });
    assert.equal(p.contentType, 'application/x-ndjson');
    assert.equal(
      p.encode([record()], 'b1'),
      '{"index":{"_index":"flowgate-2026.01.05","_id":"b1-0"}}\n' +
        '{"@timestamp":"2026-01-05T12:00:00.500Z",' +
        '"source":{"ip":"10.0.0.1","port":34765,"bytes":600,"packets":4},' +
        '"destination":{"ip":"192.0.2.80","port":443,"as":{"number":15169,"organization":{"name":"GOOGLE"}},' +
        '"geo":{"country_iso_code":"US","continent_code":"NA","location":{"lat":37.751,"lon":-97.822}}},' +
        '"network":{"transport":"tcp","iana_number":"6","type":"ipv4","bytes":600,"packets":4},' +
        '"observer":{"ip":"172.16.10.10","ingress":{"interface":{"id":"3","name":"ge-0/0/1"}},' +
        '"egress":{"interface":{"id":"4"}}},' +
        '"event":{"start":"2026-01-05T11:59:59.000Z","end":"2026-01-05T12:00:00.500Z","duration":1500000000},' +
        '"tags":["edge"],' +
        '"flowgate":{"timestamp":1767614401,"dstas":{"asnumber":64500,"asorg":null},' +
        '"pbratio":0.0008333333333333334,"flowbrate":3200,"flowprate":2.6666666666666665,"tos":0,' +
        '"samplerate":10,"uptime":3600000,"tcpflags":{"fin":false,"syn":true,"rst":false,"psh":false,' +
        '"ack":true,"urg":false,"ece":false,"cwr":false,"ns":false},"tcpflagsint":18,"flowtype":"netflow",' +
        '"flowversion":10,"weight":1}}\n',
    );
  });

  it('takes the index name pattern from the configuration', () => {
    const p = ingestProfile({ profile: 'elasticsearch', format: 'jsonlines', index: 'flows-%Y%m' });
    assert.match(p.encode([record()], 'x'), /^\{"index":\{"_index":"flows-202601","_id":"x-0"\}\}\n/);
  });

  it('finds the failed items of a _bulk answer and keeps only the retryable ones', () => {
    const answer = JSON.stringify({
      took: 3,
      errors: true,
      items: [
        { index: { status: 201 } },
        { index: { status: 429, error: { type: 'es_rejected_execution_exception' } } },
        { index: { status: 400, error: { type: 'mapper_parsing_exception' } } },
        { index: { status: 503 } },
      ],
    });
    assert.deepEqual(failedBulkItems(answer), {
      retry: [1, 3],
      rejected: 1,
      reasons: { 'item 429': 1, 'item 400': 1, 'item 503': 1 },
    });
    assert.equal(failedBulkItems('{"took":1,"errors":false,"items":[]}'), null);
    assert.equal(failedBulkItems('not json'), null);
    const body = 'a0\nd0\na1\nd1\na2\nd2\na3\nd3\n';
    assert.equal(selectBulkItems(body, [1, 3]), 'a1\nd1\na3\nd3\n');
  });
});

describe('splunk profile', () => {
  it('writes one HEC event per record with time, host, source, sourcetype and index', () => {
    const p = ingestProfile({ profile: 'splunk', format: 'jsonlines', index: 'net' });
    const r = record();
    assert.equal(p.authScheme, 'Splunk');
    assert.equal(
      p.encode([r], 'b'),
      '{"time":1767614400.500,"host":"172.16.10.10","source":"flowgate","sourcetype":"flowgate:flow",' +
        `"index":"net","event":${toJsonLine(r)}}\n`,
    );
    const noIndex = ingestProfile({ profile: 'splunk', format: 'jsonlines', index: null });
    assert.doesNotMatch(noIndex.encode([r], 'b'), /"index"/);
  });
});

describe('request details', () => {
  it('Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2026, 0, 5, 12, 0, 0);
    assert.equal(retryAfterMs('2', now), 2000);
    assert.equal(retryAfterMs('Mon, 05 Jan 2026 12:00:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Mon, 05 Jan 2026 11:00:00 GMT', now), 0);
    assert.equal(retryAfterMs(null, now), null);
    assert.equal(retryAfterMs('soon', now), null);
  });

  it('puts the scheme before the token only in an Authorization header', () => {
    assert.equal(authorizationValue('Authorization', 'Bearer', 's3cr3t'), 'Bearer s3cr3t');
    assert.equal(authorizationValue('X-API-Key', 'Bearer', 's3cr3t'), 's3cr3t');
    assert.equal(authorizationValue('Authorization', 'ApiKey', 'Basic dXNlcjpwdw=='), 'Basic dXNlcjpwdw==');
  });
});
