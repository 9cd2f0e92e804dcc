/**
 * Enrichment rules on one core: address classes + tags + flow filter over records decoded from real
 * captures, in records/s: first on records decoded once and looped over (the rules alone; the
 * record set is larger than the CPU caches, so every address string is a cache miss), then inside the
 * decoder's sink, decode alone vs decode + rules, where the strings are fresh as in the collector.
 * Also compares the PrefixSet layout (sorted ranges + binary search) with one hash set per prefix
 * length, on the same lookups.
 *
 *   node --import tsx bench/enrich-rules.ts [--seconds 3]
 */

import type { FlowProtocol } from '../src/decode/datagram.js';
import { FlowDecoder } from '../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import type { DecodeSink, InterfaceCounters } from '../src/decode/sink.js';
import { compileAddressClasses, DEFAULT_INTERNAL_NETWORKS } from '../src/enrich/address-classes.js';
import { compileDownsample } from '../src/enrich/downsample.js';
import { compileFlowFilter } from '../src/enrich/flow-filter.js';
import { ParsedAddress, PrefixSet, parseNetwork } from '../src/enrich/prefix-set.js';
import { RecordAddresses } from '../src/enrich/record-addresses.js';
import { compileTags } from '../src/enrich/tags.js';
import type { FlowRecord } from '../src/record/flow-record.js';
import { captureDatagrams, decodeCapture } from '../test/helpers/store-records.js';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 3;

const CAPTURES = [
  'netflow5/overflowd_netflow_4M.pcap', // 78,684 IPv4 records
  'sflow/overflowd_sflow.pcap', // 5,855 IPv4 samples
  'ipfix/pmacct_111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources_traffic-01.pcap', // IPv6
  'ipfix/pmacct_100-IPFIXv10-CISCO_traffic-00.pcap', // IPv4 + IPv6
  'netflow5/akvorado_netflow_nfv5.pcap',
  'sflow/akvorado_sflow_data-1140.pcap',
];

const records: FlowRecord[] = CAPTURES.flatMap((c) => decodeCapture(c));
const v6Count = records.filter((r) => r.ipversion === 6).length;

/** A realistic rule set: a dozen tag rules over every condition kind, a 5-rule filter. */
const classes = compileAddressClasses();
const tagger = compileTags([
  { labels: ['dns'], protocols: ['udp', 'tcp'], dstports: [53] },
  { labels: ['web'], protocols: ['tcp'], dstports: [80, 443, 8080] },
  { labels: ['web'], protocols: ['tcp'], srcports: [80, 443, 8080] },
  { labels: ['quic'], protocols: ['udp'], srcports: [443] },
  { labels: ['ephemeral'], srcports: ['32768-60999'], dstports: ['32768-60999'] },
  { labels: ['syn-only'], tcpflags: ['syn,!ack'] },
  { labels: ['reset'], tcpflags: ['rst'] },
  { labels: ['google'], srcasns: [15169, 36040, 36384] },
  { labels: ['private-as'], dstasns: ['64512-65534', '4200000000-4294967294'] },
  { labels: ['office'], srcnets: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] },
  { labels: ['customers'], dstnets: ['122.166.0.0/16', '2001:db8::/32', '45.90.160.0/22'] },
  { labels: ['edge'], exporters: ['192.168.1.0/24', '2001:4d98::/32', 'edge-1'] },
]);
const filter = compileFlowFilter({
  defaultaction: 'accept',
  rules: [
    { name: 'netbios', protocols: ['udp'], dstports: ['137-139'] },
    { name: 'multicast', dstnets: ['224.0.0.0/4', 'ff00::/8'] },
    { name: 'bogus', srcnets: ['0.0.0.0/8', '240.0.0.0/4'] },
    { name: 'scanner-as', srcasns: [4134, 4837] },
    { name: 'keep-office', action: 'accept', srcnets: ['10.0.0.0/8'] },
  ],
});
const downsample = compileDownsample(10);
/** One view per pipeline: each record's addresses parsed once for all three steps. */
const addresses = new RecordAddresses();

// Tags accumulate on the records: reset them between passes so every pass does the same work.
const savedTags = records.map((r) => r.tags);
const savedWeight = records.map((r) => r.weight);

function timed(label: string, pass: () => number): void {
  let records_ = 0;
  const warmEnd = performance.now() + 500;
  while (performance.now() < warmEnd) pass();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  while (performance.now() < end) records_ += pass();
  const secs = (performance.now() - start) / 1000;
  console.log(
    `${label.padEnd(44)} ${Math.round(records_ / secs)
      .toLocaleString('en-US')
      .padStart(12)} records/s`,
  );
}

function resetRecords(): void {
  for (let i = 0; i < records.length; i++) {
    records[i].tags = savedTags[i];
    records[i].weight = savedWeight[i];
  }
}

console.log(
  `${records.length} records from ${CAPTURES.length} captures (${v6Count} IPv6), ${SECONDS} s per line`,
);
timed('address classes', () => {
  for (const r of records) classes.classify(r);
  return records.length;
});
timed('tags (12 rules)', () => {
  resetRecords();
  for (const r of records) tagger.tag(r);
  return records.length;
});
timed('flow filter (5 rules)', () => {
  let kept = 0;
  for (const r of records) if (filter.keep(r)) kept++;
  return kept >= 0 ? records.length : 0;
});
timed('classes + tags + filter', () => {
  resetRecords();
  for (const r of records) {
    addresses.begin(r);
    classes.classify(r, addresses);
    tagger.tag(r, addresses);
    filter.keep(r, addresses);
  }
  return records.length;
});
timed('downsample 1-in-10 (hash)', () => {
  resetRecords();
  for (const r of records) downsample.keep(r);
  return records.length;
});

/** Counts records, optionally running the rules on each as the enrichment stage would. */
class RulesSink implements DecodeSink {
  records = 0;
  constructor(private readonly enrich: boolean) {}
  record(rec: FlowRecord): void {
    this.records++;
    if (!this.enrich) return;
    addresses.begin(rec);
    classes.classify(rec, addresses);
    tagger.tag(rec, addresses);
    filter.keep(rec, addresses);
  }
  error(): void {}
  datagram(_e: string, _p: FlowProtocol, _b: number): void {}
  sequence(): void {}
  samplingUnknown(): void {}
  counters(_s: InterfaceCounters): void {}
}

for (const capture of ['netflow5/overflowd_netflow_4M.pcap', 'sflow/overflowd_sflow.pcap']) {
  const datagrams = captureDatagrams(capture);
  for (const enrich of [false, true]) {
    const decoder = new FlowDecoder(defaultDecoderSettings());
    const sink = new RulesSink(enrich);
    timed(`${capture.split('/')[0]}: decode${enrich ? ' + classes + tags + filter' : ' alone'}`, () => {
      const before = sink.records;
      for (const d of datagrams) decoder.decode(d, sink);
      return sink.records - before;
    });
  }
}

/**
 * The alternative layout: for each distinct prefix length (longest first), a Set of the networks'
 * leading bits (v >>> (32 - length), small integers V8 hashes fast).
 */
class PerLengthSets {
  private readonly shifts: number[] = [];
  private readonly sets: Set<number>[] = [];

  constructor(networks: string[]) {
    const byLength = new Map<number, Set<number>>();
    for (const n of networks) {
      const p = parseNetwork(n);
      if (typeof p === 'string' || p.family !== 4) continue;
      let s = byLength.get(p.prefix);
      if (s === undefined) {
        s = new Set();
        byLength.set(p.prefix, s);
      }
      s.add(p.prefix === 0 ? 0 : Number(p.first) >>> (32 - p.prefix));
    }
    for (const [len, set] of [...byLength].sort((a, b) => b[0] - a[0])) {
      this.shifts.push(32 - len);
      this.sets.push(set);
    }
  }

  hasV4(v: number): boolean {
    for (let i = 0; i < this.shifts.length; i++) {
      const shift = this.shifts[i];
      if (this.sets[i].has(shift === 32 ? 0 : v >>> shift)) return true;
    }
    return false;
  }
}

const parsed = records.flatMap((r) => {
  const a = new ParsedAddress();
  return a.parse(r.dstip) && a.family === 4 ? [a.v4] : [];
});
// The default internal networks (6 IPv4 of them; the hash-set layout here is IPv4 only).
const few = DEFAULT_INTERNAL_NETWORKS.filter((n) => !n.includes(':'));
// 2,000 networks of mixed lengths (/16 to /28), as a customer-prefix list might be.
const many: string[] = [];
for (let i = 0; i < 2000; i++) {
  const len = 16 + (i % 13);
  const v = (Math.imul(i + 1, 2654435761) >>> 0) & ((0xffffffff << (32 - len)) >>> 0);
  many.push(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${len}`);
}
for (const [name, nets] of [
  [`${few.length} networks`, few],
  ['2,000 networks', many],
] as const) {
  const ranges = PrefixSet.compile(nets, 'bench');
  const hashes = new PerLengthSets([...nets]);
  const disagree = parsed.filter((v) => ranges.hasV4(v) !== hashes.hasV4(v)).length;
  if (disagree !== 0) throw new Error(`layouts disagree on ${disagree} addresses`);
  let hits = 0;
  timed(`IPv4 lookup, ${name}: sorted ranges`, () => {
    for (const v of parsed) if (ranges.hasV4(v)) hits++;
    return parsed.length;
  });
  timed(`IPv4 lookup, ${name}: hash set per length`, () => {
    for (const v of parsed) if (hashes.hasV4(v)) hits++;
    return parsed.length;
  });
  if (hits < 0) console.log(hits); // keeps the lookups from being optimised away
}
