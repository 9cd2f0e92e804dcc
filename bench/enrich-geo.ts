/**
 * Cost of AS + geo enrichment (src/enrich/geo) on one core, with the MaxMind test databases
 * (GeoLite2-ASN + GeoIP2-City). Three figures:
 * - cache hits: a small working set of addresses, every lookup answered by the LRU;
 * - cache misses: every address new (unique addresses, cache too small to help), each lookup
 *   walks both database trees and decodes the records;
 * - real records: flows decoded from a NetFlow v5 capture, enriched with a warm cache.
 * The test databases are small; a production GeoLite2-City tree is deeper (~ 2-3 more levels of
 * work per miss), so miss figures here are an upper bound. Usage: npx tsx bench/enrich-geo.ts [seconds]
 */
import { readCaptureFile } from '../src/capture/capture-reader.js';
import { FlowDecoder } from '../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import { GeoEnricher } from '../src/enrich/geo/geo-enricher.js';
import { FlowRecord } from '../src/record/flow-record.js';
import { CollectingSink } from '../test/helpers/collecting-sink.js';

const seconds = Number(process.argv[2] ?? 2);
const shared = new URL('../../shared/testdata/', import.meta.url).pathname;
const options = {
  asnDatabase: `${shared}mmdb/GeoLite2-ASN-Test.mmdb`,
  geoDatabase: `${shared}mmdb/GeoIP2-City-Test.mmdb`,
};

/** Runs `step` in batches until `seconds` elapse; returns operations per second. */
function rate(step: (i: number) => void, batch = 10_000): number {
  for (let i = 0; i < batch; i++) step(i); // warm-up
  let n = 0;
  const t0 = process.hrtime.bigint();
  const deadline = t0 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < deadline) {
    for (let i = 0; i < batch; i++) step(n + i);
    n += batch;
  }
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const fmt = (x: number) => Math.round(x).toLocaleString('en');

// Addresses inside networks both test files know (Telstra 1.128.0.0/11 in the ASN file, several
// City networks), so a miss does the full work: two tree walks and two record decodes.
function coveredAddress(i: number): string {
  switch (i % 4) {
    case 0:
      return `1.${128 + ((i >> 16) & 31)}.${(i >> 8) & 255}.${i & 255}`;
    case 1:
      return `2a02:d${(i >> 20) & 7}c0:${(i >> 4) & 0xffff}::${i & 0xfff}`;
    case 2:
      return `2400:${((i >> 12) & 0xf) << 12}::${(i & 0xfff).toString(16)}`;
    default:
      return `175.16.199.${i & 255}`;
  }
}

// 1. Cache hits: 1000 distinct addresses, cache of 100 000.
{
  const e = new GeoEnricher(options);
  const addrs = Array.from({ length: 1000 }, (_, i) => coveredAddress(i * 7919));
  let found = 0; // consumed so the lookups cannot be optimised away
  const r = rate((i) => {
    if (e.lookup(addrs[i % 1000]).as !== null) found++;
  });
  const s = e.status();
  console.log(
    `lookup, cache hits:   ${fmt(r)} lookups/s (hit ratio ${(s.cacheHits / s.lookups).toFixed(4)}, ${found > 0 ? 'found' : 'none found'})`,
  );
}

// 2. Cache misses: every address unique, cache of 2.
{
  const e = new GeoEnricher({ ...options, cacheSize: 2 });
  const addrs = Array.from({ length: 1 << 20 }, (_, i) => coveredAddress(i));
  const r = rate((i) => e.lookup(addrs[i & ((1 << 20) - 1)]));
  const s = e.status();
  console.log(
    `lookup, cache misses: ${fmt(r)} lookups/s (hit ratio ${(s.cacheHits / s.lookups).toFixed(4)})`,
  );
}

// 3. Real records from a capture: enrich() does 2-4 lookups per record.
{
  const sink = new CollectingSink();
  const decoder = new FlowDecoder(defaultDecoderSettings());
  for (const d of readCaptureFile(`${shared}netflow5/overflowd_netflow_4M.pcap`)) decoder.decode(d, sink);
  const records: FlowRecord[] = sink.records;
  const e = new GeoEnricher(options);
  const scratch = new FlowRecord();
  let enriched = 0;
  let withOwner = 0;
  const r = rate((i) => {
    const src = records[i % records.length];
    // The same record object refilled each time: enrich() writes into it, allocation is not measured.
    scratch.srcip = src.srcip;
    scratch.dstip = src.dstip;
    scratch.nexthop = src.nexthop;
    scratch.srcas = src.srcas;
    scratch.dstas = src.dstas;
    scratch.srcasorg = null;
    scratch.dstasorg = null;
    e.enrich(scratch);
    enriched++;
    if (scratch.srcowneras !== null || scratch.dstowneras !== null) withOwner++;
  });
  const s = e.status();
  console.log(
    `enrich, NetFlow v5 capture (${records.length} records, ${s.cacheSize} distinct addresses): ` +
      `${fmt(r)} records/s, ${(s.lookups / enriched).toFixed(2)} lookups/record, ` +
      `hit ratio ${(s.cacheHits / s.lookups).toFixed(4)}, ${((100 * withOwner) / enriched).toFixed(1)}% with an owner AS`,
  );
}
