/**
 * DuckDB store query latency over one UTC day of 10 million flows (issue 3: top-10 under 1 s).
 *
 * Fills a DuckDbStore with synthetic records through `store.write` (batches of 10,000, in flow-time
 * order as a collector writes them), closes and reopens it, then times the store API the HTTP
 * routes call: top-10 by rollup dimensions and by raw ones, a filtered top-10, a 5-minute time
 * series, the exporters summary, a filtered flows search, and one HTTP round trip of /api/top.
 * Each query: the first run after the reopen, then `--runs` more (min / median / max).
 *
 *   node --import tsx bench/duckdb-query.ts [--records 10000000] [--runs 5] [--dir DIR] [--keep]
 *
 * `--dir DIR` fills DIR if it holds no partition yet and reuses it as is otherwise (kept).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { pino } from 'pino';
import { parseFilter } from '../src/query/filter-parse.js';
import { FlowRecord, type FlowType, type GeoInfo } from '../src/record/flow-record.js';
import { startApiServer } from '../src/serve/api-server.js';
import type { Dimension, TimeRange } from '../src/store/contract.js';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.js';

function option(name: string): string | null {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? null) : null;
}

const totalRecords = Number(option('records') ?? 10_000_000);
const runs = Number(option('runs') ?? 5);
const keep = process.argv.includes('--keep');
const givenDir = option('dir');
if (!Number.isSafeInteger(totalRecords) || totalRecords <= 0)
  throw new Error('--records must be a positive integer');
if (!Number.isSafeInteger(runs) || runs <= 0) throw new Error('--runs must be a positive integer');
const BATCH = 10_000;
const DAY_START = Date.UTC(2024, 0, 1);
const DAY: TimeRange = { fromMs: DAY_START, toMs: DAY_START + 86_400_000 };

// ---- synthetic traffic: seeded, heavy-tailed -------------------------------------------------

/** mulberry32: small, fast, deterministic. */
let seed = 0x5eed;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Zipf-like choice of an index in [0, n): rank k has weight 1 / (k + 1)^s. */
function zipf(n: number, s: number): () => number {
  const cum = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cum[k] = total;
  }
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cum[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

interface Exporter {
  ip: string;
  name: string;
  flowtype: FlowType;
  flowversion: number;
  samplerate: number | null;
  uplinks: number[];
  access: number[];
}

const EXPORTERS: Exporter[] = [
  {
    ip: '192.0.2.1',
    name: 'edge-1',
    flowtype: 'netflow',
    flowversion: 9,
    samplerate: 1000,
    uplinks: [1, 2],
    access: [10, 11, 12],
  },
  {
    ip: '192.0.2.2',
    name: 'edge-2',
    flowtype: 'netflow',
    flowversion: 10,
    samplerate: 1000,
    uplinks: [1, 2],
    access: [10, 11, 12],
  },
  {
    ip: '192.0.2.3',
    name: 'dc-fw',
    flowtype: 'netflow',
    flowversion: 10,
    samplerate: null,
    uplinks: [3],
    access: [4, 5],
  },
  {
    ip: '192.0.2.4',
    name: 'campus',
    flowtype: 'sflow',
    flowversion: 5,
    samplerate: 2048,
    uplinks: [49, 50],
    access: [1, 2, 3, 4, 5, 6, 7, 8],
  },
  {
    ip: '192.0.2.5',
    name: 'branch',
    flowtype: 'netflow',
    flowversion: 5,
    samplerate: 100,
    uplinks: [1],
    access: [2, 3],
  },
];
const pickExporter = zipf(EXPORTERS.length, 0.8);

const INTERNAL_HOSTS = 3000;
const EXTERNAL_HOSTS = 5000;
const pickInternal = zipf(INTERNAL_HOSTS, 1.1);
const pickExternal = zipf(EXTERNAL_HOSTS, 1.1);
const internalIp = (i: number) => `10.${(i >> 8) & 255}.${i & 255}.${((i * 7) % 250) + 2}`;
/** External hosts: addresses spread over "the internet", one in ten IPv6. */
const externalIp = (i: number) =>
  i % 10 === 9
    ? `2001:db8:${(((i * 2654435761) % 65536) >>> 0) & 0xffff}::${(i % 4096).toString(16)}`
    : `${((i * 37) % 223) + 1}.${(i * 101) % 256}.${(i * 13) % 256}.${(i % 254) + 1}`;

const COUNTRIES = [
  'US',
  'DE',
  'FR',
  'GB',
  'NL',
  'IE',
  'JP',
  'CN',
  'BR',
  'IN',
  'SG',
  'SE',
  'CA',
  'AU',
  'RU',
  'ES',
  'IT',
  'PL',
  'KR',
  'ZA',
];
const AS_COUNT = 400;
const pickAs = zipf(AS_COUNT, 1.0);
const pickCountry = zipf(COUNTRIES.length, 1.0);
/** Each external host sits in one AS, each AS in one country (fixed at start, heavy-tailed). */
const asOfHost = Array.from({ length: EXTERNAL_HOSTS }, () => 13000 + pickAs());
const geoOfAs = new Map<number, GeoInfo>();
for (const as of new Set(asOfHost)) {
  geoOfAs.set(as, { countrycode: COUNTRIES[pickCountry()] as string, continentcode: null, location: null });
}
const LOCAL_AS = 64500;

/** Services the internal clients use, most popular first: [port, protocol]. */
const SERVICES: readonly (readonly [number, number])[] = [
  [443, 6],
  [80, 6],
  [443, 17],
  [53, 17],
  [123, 17],
  [22, 6],
  [993, 6],
  [25, 6],
  [8080, 6],
  [3389, 6],
  [5222, 6],
  [1194, 17],
  [0, 1],
  [0, 50],
  [0, 47],
  [5060, 17],
  [3478, 17],
  [8443, 6],
  [110, 6],
  [389, 6],
];
const pickService = zipf(SERVICES.length, 1.2);

/** Pareto-distributed packet counts (most flows are tiny, a few are huge). */
function packetsOfFlow(): number {
  return Math.min(1_000_000, Math.ceil(1 / (1 - random()) ** (1 / 1.1)));
}

function makeRecord(i: number): FlowRecord {
  const r = new FlowRecord();
  const exp = EXPORTERS[pickExporter()] as Exporter;
  const inside = internalIp(pickInternal());
  const ext = pickExternal();
  const outside = externalIp(ext);
  const as = asOfHost[ext] as number;
  const [port, proto] = SERVICES[pickService()] as readonly [number, number];
  const client = 32768 + Math.floor(random() * 28000);
  // Half the records are the request direction (inside -> outside), half the response.
  const outbound = random() < 0.5;
  const v6 = outside.includes(':');
  const uplink = pick(exp.uplinks);
  const access = pick(exp.access);
  r.end = DAY_START + Math.floor(((i + random()) * 86_400_000) / totalRecords);
  r.duration = Math.floor(random() * 60_000);
  r.start = r.end - r.duration;
  r.timestamp = Math.floor(r.end / 1000) + 1;
  r.srcip = outbound ? inside : outside;
  r.dstip = outbound ? outside : inside;
  // No NAT modelled: an IPv6 peer talks to the client's IPv6 address.
  if (v6) {
    const v6Inside = `2001:db8:ffff::${inside.split('.').slice(1).join(':')}`;
    if (outbound) r.srcip = v6Inside;
    else r.dstip = v6Inside;
  }
  r.ipversion = v6 ? 6 : 4;
  r.protocolint = v6 && proto === 1 ? 58 : proto;
  const ported = proto === 6 || proto === 17;
  r.srcport = ported ? (outbound ? client : port) : null;
  r.dstport = ported ? (outbound ? port : client) : null;
  r.packets = packetsOfFlow();
  const size = outbound ? 60 + Math.floor(random() * 200) : 200 + Math.floor(random() * 1300);
  r.bits = r.packets * size * 8;
  r.samplerate = exp.samplerate;
  r.tos = random() < 0.9 ? 0 : 46 << 2;
  r.tcpflagsint = proto === 6 ? pick([0x1b, 0x18, 0x10, 0x02, 0x11, 0x1f]) : null;
  r.srcmask = v6 ? 48 : 24;
  r.dstmask = v6 ? 48 : 24;
  r.input = outbound ? access : uplink;
  r.output = outbound ? uplink : access;
  r.srcas = outbound ? LOCAL_AS : as;
  r.dstas = outbound ? as : LOCAL_AS;
  r.flowsrcip = exp.ip;
  r.flowsrcname = exp.name;
  r.flowtype = exp.flowtype;
  r.flowversion = exp.flowversion;
  // Enrichment geolocates the public side only (RFC 1918 has no country).
  if (outbound) r.dstgeo = geoOfAs.get(as) ?? null;
  else r.srcgeo = geoOfAs.get(as) ?? null;
  return r;
}

// ---- helpers ---------------------------------------------------------------------------------

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function ms(n: number): string {
  return n < 10 ? n.toFixed(1) : String(Math.round(n));
}

async function fill(store: DuckDbStore): Promise<void> {
  const t0 = performance.now();
  let writeMs = 0;
  let lastReport = t0;
  for (let from = 0; from < totalRecords; from += BATCH) {
    const batch: FlowRecord[] = [];
    for (let i = from; i < Math.min(totalRecords, from + BATCH); i++) batch.push(makeRecord(i));
    const w = performance.now();
    await store.write(batch);
    const now = performance.now();
    writeMs += now - w;
    if (now - lastReport > 10_000) {
      lastReport = now;
      const done = from + batch.length;
      console.error(`  filled ${fmt(done)} (${fmt(done / ((now - t0) / 1000))} records/s)`);
    }
  }
  const totalMs = performance.now() - t0;
  console.log(
    `fill: ${fmt(totalRecords)} records in ${(totalMs / 1000).toFixed(1)} s: ` +
      `${fmt(totalRecords / (totalMs / 1000))} records/s including generation, ` +
      `${fmt(totalRecords / (writeMs / 1000))} records/s in store.write (batches of ${fmt(BATCH)})`,
  );
}

/** Raw and rollup row counts and files sizes of the closed store (read-only, own instance). */
async function tableStats(dir: string): Promise<void> {
  const bytes = dirBytes(dir);
  let raw = 0;
  let rollup = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.duckdb'))) {
    const db = await DuckDBInstance.create(join(dir, f), { access_mode: 'READ_ONLY' });
    const conn = await db.connect();
    const r = await conn.runAndReadAll(
      'SELECT (SELECT count(*) FROM flows) AS raw, (SELECT count(*) FROM flows_1m) AS rollup',
    );
    const row = r.getRowObjectsJS()[0] as { raw: bigint; rollup: bigint };
    raw += Number(row.raw);
    rollup += Number(row.rollup);
    conn.closeSync();
    db.closeSync();
  }
  console.log(
    `on disk: ${fmt(bytes)} bytes (${(bytes / raw).toFixed(1)} bytes/record); ` +
      `raw rows ${fmt(raw)}, rollup (flows_1m) rows ${fmt(rollup)} (${((rollup / raw) * 100).toFixed(1)} % of raw)`,
  );
}

interface Timing {
  name: string;
  first: number;
  times: number[];
  result: string;
}

async function time(name: string, fn: () => Promise<string>): Promise<Timing> {
  let t = performance.now();
  const result = await fn();
  const first = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const timing = { name, first, times, result };
  const median = times[Math.floor(times.length / 2)] as number;
  console.log(
    `| ${name} | ${ms(first)} | ${ms(times[0] as number)} | ${ms(median)} | ${ms(times[times.length - 1] as number)} | ${result} |`,
  );
  return timing;
}

// ---- main ------------------------------------------------------------------------------------

const dir = givenDir ?? mkdtempSync(join(tmpdir(), 'flowgate-bench-query-'));
mkdirSync(dir, { recursive: true });
const reuse = existsSync(dir) && readdirSync(dir).some((f) => /^flows-.*\.duckdb$/.test(f));
try {
  if (!reuse) {
    const store = new DuckDbStore({ dir });
    await store.open();
    try {
      await fill(store);
    } finally {
      await store.close();
    }
  } else {
    console.log(`reusing ${dir} (not filled again)`);
  }
  await tableStats(dir);

  const store = new DuckDbStore({ dir });
  await store.open();
  try {
    console.log(
      `\nqueries over ${new Date(DAY.fromMs).toISOString().slice(0, 10)} (first run after reopen, then ${runs} runs)\n`,
    );
    console.log('| query | first ms | min ms | median ms | max ms | answer |');
    console.log('|---|---:|---:|---:|---:|---|');
    const topOf = (dimension: Dimension, filter: string | null) => async () => {
      const before = store.rollupQueries;
      const rows = await store.top({
        range: DAY,
        filter: filter === null ? null : parseFilter(filter),
        dimension,
        metric: 'bits',
        limit: 10,
      });
      const via = store.rollupQueries > before ? 'rollup' : 'raw';
      return `${via}; ${rows.length} rows, #1 ${rows[0]?.key} ${((rows[0]?.bits ?? 0) / 1e12).toFixed(1)} Tbit`;
    };
    for (const d of ['exporter', 'protocol', 'srcas', 'dstcountry', 'srcip', 'dstport'] as const)
      await time(`top-10 ${d} by bits`, topOf(d, null));
    await time('top-10 srcip, `proto tcp and dst port 443`', topOf('srcip', 'proto tcp and dst port 443'));
    await time('top-10 dstas, `proto tcp and dst port 443`', topOf('dstas', 'proto tcp and dst port 443'));
    await time('timeseries 5 min, one series', async () => {
      const before = store.rollupQueries;
      const pts = await store.timeseries({
        range: DAY,
        filter: null,
        bucketSec: 300,
        groupBy: null,
        metric: 'bits',
        limit: 10,
      });
      const flows = pts.reduce((s, p) => s + p.flows, 0);
      return `${store.rollupQueries > before ? 'rollup' : 'raw'}; ${pts.length} points, ${fmt(flows)} flows`;
    });
    await time('timeseries 5 min by exporter (top 10)', async () => {
      const before = store.rollupQueries;
      const pts = await store.timeseries({
        range: DAY,
        filter: null,
        bucketSec: 300,
        groupBy: 'exporter',
        metric: 'bits',
        limit: 10,
      });
      return `${store.rollupQueries > before ? 'rollup' : 'raw'}; ${pts.length} points`;
    });
    await time('timeseries 5 min by srcip (top 10)', async () => {
      const before = store.rollupQueries;
      const pts = await store.timeseries({
        range: DAY,
        filter: null,
        bucketSec: 300,
        groupBy: 'srcip',
        metric: 'bits',
        limit: 10,
      });
      return `${store.rollupQueries > before ? 'rollup' : 'raw'}; ${pts.length} points`;
    });
    await time('exporters summary', async () => {
      const rows = await store.exporters(DAY);
      return `${rows.length} exporters, ${fmt(rows.reduce((s, r) => s + r.records, 0))} records`;
    });
    await time('flows limit 100, `proto tcp and dst port 443`', async () => {
      const rows = await store.flows({
        range: DAY,
        filter: parseFilter('proto tcp and dst port 443'),
        limit: 100,
      });
      return `${rows.length} records`;
    });
    await time('flows limit 100, `src net 10.0.0.0/16 and dst port 22`', async () => {
      const rows = await store.flows({
        range: DAY,
        filter: parseFilter('src net 10.0.0.0/16 and dst port 22'),
        limit: 100,
      });
      return `${rows.length} records`;
    });

    // One HTTP round trip: Fastify, query parsing, JSON. The collector is not running here.
    const api = await startApiServer({
      listen: '127.0.0.1:0',
      token: null,
      allowNoToken: false,
      collector: {
        stats: () => {
          throw new Error('no collector in this bench');
        },
      },
      templates: () => [],
      flowStore: store,
      logger: pino({ level: 'silent' }),
    });
    try {
      const url = (dimension: string) =>
        `http://127.0.0.1:${api.port}/api/top?from=${DAY.fromMs}&to=${DAY.toMs}&dimension=${dimension}&metric=bits&limit=10`;
      for (const d of ['exporter', 'srcip'])
        await time(`HTTP GET /api/top dimension=${d}`, async () => {
          const res = await fetch(url(d));
          const body = (await res.json()) as { rows: unknown[] };
          return `HTTP ${res.status}, ${body.rows.length} rows`;
        });
    } finally {
      await api.close();
    }
  } finally {
    await store.close();
  }
} finally {
  if (givenDir === null && !keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`\nstore kept in ${dir}`);
}
