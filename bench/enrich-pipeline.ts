/**
 * Decode + enrichment against decode alone, on one core: the same datagrams decoded in a loop, the
 * records handed (a) to a sink that only counts, (b) through the Enricher as `flowgate collect`
 * runs it with a default configuration (exporter labels, interface names, address classes),
 * (c) plus the MaxMind test databases (AS and City: three lookups per record, cached), (d) plus
 * 10 tag rules and 5 filter rules. Records come from real captures (NetFlow v5 and IPFIX from the
 * corpus, several thousand distinct addresses).
 *
 *   node --import tsx bench/enrich-pipeline.ts [--seconds 1] [--rounds 7] [--only N]
 *
 * Rounds interleave decode alone with each configuration; the share printed is the median of the
 * per-round shares (each configuration against decode alone measured just before it). `--only N`
 * runs row N (1-3) alone next to decode alone, e.g. under `node --cpu-prof`.
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

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const seconds = option('--seconds', 1);
const rounds = option('--rounds', 7);
const only = option('--only', 0);
const MMDB = join(import.meta.dirname, '../../shared/testdata/mmdb');

// 88,527 records, ~34,000 distinct addresses (below the default geo cache of 100,000).
const CAPTURES = [
  'netflow5/overflowd_netflow_4M.pcap',
  'ipfix/ipfixcol2_example_flows.ipfix',
  'sflow/overflowd_sflow.pcap',
  'ipfix/pmacct_112-IPFIXv10-CISCO-options-map-reassignment_traffic-00.pcap',
];

const datagrams: Datagram[] = [];
for (const c of CAPTURES) {
  for (const d of readCaptureFile(corpusPath(c))) if (detectProtocol(d.payload) !== null) datagrams.push(d);
}

class Sink implements DecodeSink {
  /** Records that went through (kept or dropped by a filter: both cost the same work). */
  records = 0;
  constructor(private readonly enricher: Enricher | null) {}
  record(rec: FlowRecord): void {
    if (this.enricher !== null) this.enricher.apply(rec);
    this.records++;
  }
  error(): void {}
  datagram(_e: string, _p: FlowProtocol, _b: number, _t: number | null): void {}
  sequence(): void {}
  samplingUnknown(): void {}
  counters(): void {}
}

/** One configuration: its decoder and enricher live across rounds (warm caches, JIT). */
class Runner {
  private readonly decoder = new FlowDecoder(defaultDecoderSettings());
  private readonly sink: Sink;
  constructor(config: FlowgateConfig | null) {
    const decoder = this.decoder;
    this.sink = new Sink(
      config === null
        ? null
        : new Enricher(config, { announcedInterface: (e, i) => decoder.templates.interfaceName(e, i) }),
    );
  }

  /** Records/s over `seconds`. */
  run(): number {
    const before = this.sink.records;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      for (const d of datagrams) this.decoder.decode(d, this.sink);
    }
    return (this.sink.records - before) / ((performance.now() - start) / 1000);
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
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

console.log(
  `${datagrams.length} datagrams from ${CAPTURES.length} captures; ${rounds} rounds of ${seconds} s per run, interleaved`,
);
const rows: [string, FlowgateConfig][] = [
  ['decode + enrichment (defaults)', testConfig({})],
  ['decode + enrichment + AS/City databases', geo],
  ['decode + enrichment + databases + 10 tags + 5 filters', rules],
];
const selected = rows.filter((_, i) => only === 0 || only === i + 1);
const baseRunner = new Runner(null);
const runners = selected.map(([, config]) => new Runner(config));
const baseRates: number[] = [];
const rates: number[][] = selected.map(() => []);
const shares: number[][] = selected.map(() => []);
for (let round = 0; round < rounds; round++) {
  // Decode alone next to each configuration, so a busier moment of a shared machine hits both.
  const base = baseRunner.run();
  baseRates.push(base);
  runners.forEach((r, i) => {
    const rate = r.run();
    rates[i]?.push(rate);
    shares[i]?.push(rate / base);
  });
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(11);
console.log(`${'decode only'.padEnd(56)} ${fmt(median(baseRates))} records/s (median)`);
selected.forEach(([name], i) => {
  const share = (100 * median(shares[i] ?? [])).toFixed(0);
  console.log(
    `${name.padEnd(56)} ${fmt(median(rates[i] ?? []))} records/s  ${share.padStart(3)} % of decode only`,
  );
});
