/**
 * Decode + enrichment against decode alone, on one core: the same datagrams decoded in a loop, the
 * records handed (a) to a sink that only counts, (b) through the Enricher as `flowgate collect`
 * runs it with a default configuration (exporter labels, interface names, address classes),
 * (c) plus the MaxMind test databases (AS and City: three lookups per record, cached), (d) plus
 * 10 tag rules and 5 filter rules. Records come from real captures (NetFlow v5 and IPFIX from the
 * corpus, several thousand distinct addresses).
 *
 *   node --import tsx bench/enrich-pipeline.ts [--seconds 3]
 */
import { join } from 'node:path';
import { readCaptureFile } from '../src/capture/capture-reader.js';
import type { FlowgateConfig } from '../src/config/types.js';
import type { Datagram, FlowProtocol } from '../src/decode/datagram.js';
import { detectProtocol, FlowDecoder } from '../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import type { DecodeSink } from '../src/decode/sink.js';
import { Enricher } from '../src/enrich/enricher.js';
import type { FlowRecord } from '../src/record/flow-record.js';
import { testConfig } from '../test/helpers/config.js';
import { corpusPath } from '../test/helpers/corpus.js';

const secIndex = process.argv.indexOf('--seconds');
const seconds = secIndex >= 0 ? Number(process.argv[secIndex + 1]) : 3;
const MMDB = join(import.meta.dirname, '../../shared/testdata/mmdb');

const CAPTURES = [
  'netflow5/akvorado_netflow_nfv5.pcap',
  'ipfix/pmacct_112-IPFIXv10-CISCO-options-map-reassignment_traffic-00.pcap',
  'netflow5/graylog_netflow5.pcap',
];

const datagrams: Datagram[] = [];
for (const c of CAPTURES) {
  for (const d of readCaptureFile(corpusPath(c))) if (detectProtocol(d.payload) !== null) datagrams.push(d);
}

class Sink implements DecodeSink {
  records = 0;
  constructor(private readonly enricher: Enricher | null) {}
  record(rec: FlowRecord): void {
    if (this.enricher === null || this.enricher.apply(rec)) this.records++;
  }
  error(): void {}
  datagram(_e: string, _p: FlowProtocol, _b: number, _t: number | null): void {}
  sequence(): void {}
  samplingUnknown(): void {}
  counters(): void {}
}

function run(name: string, config: FlowgateConfig | null): number {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const enricher =
    config === null
      ? null
      : new Enricher(config, { announcedInterface: (e, i) => decoder.templates.interfaceName(e, i) });
  const sink = new Sink(enricher);
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (const d of datagrams) decoder.decode(d, sink);
  }
  const secs = (performance.now() - start) / 1000;
  const perSec = sink.records / secs;
  console.log(`${name.padEnd(44)} ${Math.round(perSec).toLocaleString('en-US').padStart(11)} records/s`);
  return perSec;
}

const geo = testConfig({});
geo.geo = {
  asn: join(MMDB, 'GeoLite2-ASN-Test.mmdb'),
  database: join(MMDB, 'GeoIP2-City-Test.mmdb'),
  privateas: 'unset',
  cachesize: 100_000,
  reloadinterval: 30,
};
const rules = testConfig({});
rules.geo = geo.geo;
rules.tags = [
  { labels: ['web'], protocols: ['tcp'], dstports: [80, 443, 8080] },
  { labels: ['dns'], protocols: ['udp', 'tcp'], dstports: [53] },
  { labels: ['ntp'], protocols: ['udp'], srcports: [123] },
  { labels: ['ssh'], dstports: [22] },
  { labels: ['internal-src'], srcnets: ['10.0.0.0/8', '192.168.0.0/16', '172.16.0.0/12'] },
  { labels: ['syn-only'], tcpflags: ['syn,!ack'] },
  { labels: ['high-ports'], srcports: ['1024-65535'], dstports: ['1024-65535'] },
  { labels: ['doc-net'], dstnets: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32'] },
  { labels: ['private-as'], srcasns: ['64512-65534'] },
  { labels: ['icmp'], protocols: ['icmp', 'ipv6-icmp'] },
];
rules.filters = {
  defaultaction: 'accept',
  rules: [
    { name: 'a', action: 'drop', srcnets: ['198.18.0.0/15'] },
    { name: 'b', action: 'drop', dstports: [137, 138, 139] },
    { name: 'c', action: 'drop', protocols: [47] },
    { name: 'd', action: 'drop', srcasns: [64496] },
    { name: 'e', action: 'drop', dstnets: ['224.0.0.0/4'] },
  ],
};

console.log(`${datagrams.length} datagrams from ${CAPTURES.length} captures, ${seconds} s each`);
const base = run('decode only', null);
const rows: [string, FlowgateConfig][] = [
  ['decode + enrichment (defaults)', testConfig({})],
  ['decode + enrichment + AS/City databases', geo],
  ['decode + enrichment + databases + 10 tags + 5 filters', rules],
];
for (const [name, config] of rows) {
  const r = run(name, config);
  console.log(`${''.padEnd(44)} ${((100 * r) / base).toFixed(0).padStart(10)} % of decode only`);
}
