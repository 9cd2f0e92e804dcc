/**
 * Real exporters → `flowgate collect` → DuckDB store → HTTP API and `flowgate top`: real loopback
 * traffic from three talkers of clearly different volumes (127.0.0.2 > .3 > .4, each serving a curl
 * download and sending UDP datagrams) is captured with tcpdump; softflowd (NetFlow v5, v9) and
 * pmacctd (IPFIX via nfprobe, sFlow via sfprobe, 1 in 1) turn the capture into exports sent to one
 * live collector with its store and API on. The API's top talkers (order and sums) and totals must
 * be what the capture itself holds, export by export (told apart with a filter on flow type and
 * version).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExporterSummary, Metric, TimeRange, TopRow } from '../../src/store/contract.js';
import { ApiClient, type StoreStats, sumTotals, type Totals } from '../helpers/api-client.js';
import { REPO_ROOT } from '../helpers/collector-process.js';
import {
  type CapturedFlow,
  capturedFlows,
  captureLoopback,
  commandExists,
  freePort,
  runBounded,
  stopProcess,
  waitForOutput,
} from '../helpers/traffic.js';

const TOOLS = ['tcpdump', 'curl', 'softflowd', 'pmacctd', 'tshark'];
const missing = TOOLS.filter((t) => !commandExists(t));

/**
 * Each talker serves one download (kept under 64 KB, so no loopback TSO frame longer than 65,535
 * bytes, which pmacctd skips) and sends UDP datagrams to a sink on 127.0.0.1. Volumes differ by
 * about 3× so the order cannot depend on TCP's few control packets.
 */
const TALKERS = [
  { host: '127.0.0.2', download: 60_000, udpCount: 200, udpSize: 1400 },
  { host: '127.0.0.3', download: 30_000, udpCount: 100, udpSize: 900 },
  { host: '127.0.0.4', download: 10_000, udpCount: 60, udpSize: 300 },
];
/**
 * Sent last, from its own address: pmacctd's sfprobe drops its last, partly filled sFlow datagram
 * at the end of the file (see test/e2e/exporters.test.ts), so sFlow answers are checked without
 * this host; every other sample must be there.
 */
const FILLER_HOST = '127.0.0.9';
const FILLER_SIZES = Array.from({ length: 40 }, () => 64);
/** How the collector's record batcher (1 s) and the store's writes settle after the last datagram. */
const SETTLE_MS = 1500;

interface Export {
  name: string;
  /** Selects this export's records in the shared store. */
  filter: string;
  /** The captured flows this export carries (pmacctd skips frames > 65,535 bytes). */
  flows: () => CapturedFlow[];
  /** sFlow: one record per packet sample, bytes as frame length (+4 FCS); else one record per flow. */
  sampled: boolean;
}

const EXPORTS: Export[] = [
  {
    name: 'softflowd NetFlow v5',
    filter: 'flowtype netflow and flowversion 5',
    flows: () => softflowdFlows,
    sampled: false,
  },
  {
    name: 'softflowd NetFlow v9',
    filter: 'flowtype netflow and flowversion 9',
    flows: () => softflowdFlows,
    sampled: false,
  },
  {
    name: 'pmacctd nfprobe IPFIX',
    filter: 'flowtype netflow and flowversion 10',
    flows: () => pmacctFlows,
    sampled: false,
  },
  {
    name: 'pmacctd sfprobe sFlow',
    filter: `flowtype sflow and not host ${FILLER_HOST}`,
    flows: () => pmacctFlows.filter((f) => f.srcip !== FILLER_HOST && f.dstip !== FILLER_HOST),
    sampled: true,
  },
];

const dir = mkdtempSync(join(tmpdir(), 'flowgate-e2e-store-'));
const pcap = join(dir, 'traffic.pcap');
const servers: Server[] = [];
let collector: ChildProcess | null = null;
let collectorLog = '';
let api: ApiClient | null = null;
let apiUrl = '';
let softflowdFlows: CapturedFlow[] = [];
let pmacctFlows: CapturedFlow[] = [];
/** Flow time of the netflow exports is the capture's; sFlow's is arrival time: cover both. */
let range: TimeRange = { fromMs: 0, toMs: 0 };

/** Serves `/bytes/N` (N bytes of body) on `host`. */
async function serveBytesOn(host: string): Promise<number> {
  const server = createServer((req, res) => {
    const n = Number(/^\/bytes\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
    if (!(n >= 0 && n <= 1_000_000)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
    res.end(Buffer.alloc(n, 0x61));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

/** UDP datagrams of `sizes` from a socket bound on `host` to 127.0.0.1:port. */
async function sendUdpFrom(host: string, port: number, sizes: number[]): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  for (const n of sizes)
    await new Promise<void>((resolve, reject) =>
      s.send(Buffer.alloc(n, 0x62), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

async function makeTraffic(): Promise<void> {
  const httpPorts = await Promise.all(TALKERS.map((t) => serveBytesOn(t.host)));
  const sinkPort = await freePort('udp');
  const fillerPort = await freePort('udp');
  const sinks = [sinkPort, fillerPort].map(() => createSocket('udp4'));
  await Promise.all(
    sinks.map(
      (s, i) => new Promise<void>((resolve) => s.bind([sinkPort, fillerPort][i], '127.0.0.1', resolve)),
    ),
  );
  const ports = [...httpPorts.map((p) => `tcp port ${p}`), `udp port ${sinkPort}`, `udp port ${fillerPort}`];
  try {
    await captureLoopback(pcap, `net 127.0.0.0/8 and (${ports.join(' or ')})`, async () => {
      for (const [i, t] of TALKERS.entries())
        await runBounded(
          'curl',
          [
            '-s',
            '-o',
            '/dev/null',
            '--max-time',
            '10',
            `http://${t.host}:${httpPorts[i]}/bytes/${t.download}`,
          ],
          15_000,
        );
      for (const t of TALKERS)
        await sendUdpFrom(
          t.host,
          sinkPort,
          Array.from({ length: t.udpCount }, () => t.udpSize),
        );
      await sendUdpFrom(FILLER_HOST, fillerPort, FILLER_SIZES);
    });
  } finally {
    for (const s of sinks) s.close();
  }
  softflowdFlows = [...capturedFlows(pcap).values()];
  pmacctFlows = [...capturedFlows(pcap, 65_535).values()];
}

/** `flowgate collect` with the store (in the temp dir) and the API (on a free loopback port) on. */
async function startStoringCollector(flowPort: number, apiPort: number): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      ...['--set', 'store.enabled=true', '--set', `store.dir=${join(dir, 'flows')}`],
      ...['--set', `general.datadir=${dir}`, '--set', 'api.enabled=true'],
      ...['--set', `api.listen=127.0.0.1:${apiPort}`],
      'collect',
      '--no-stdout',
      '--listen',
      `127.0.0.1:${flowPort}`,
      '--templatedb',
      join(dir, 'templates.json'),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  collector = child;
  child.stdout?.on('data', (b: Buffer) => {
    collectorLog += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    collectorLog += b.toString();
  });
  await waitForOutput(child, /serving the HTTP API/, 30_000);
}

/** Per-key sums the capture says an export must give, keyed by the dimension's value as text. */
function expectedByKey(exp: Export, dimension: 'srcip' | 'dstport'): Map<string, Totals> {
  const out = new Map<string, Totals>();
  for (const f of exp.flows()) {
    const key = String(f[dimension]);
    const t = out.get(key) ?? { bits: 0, packets: 0, flows: 0 };
    // pmacctd samples the IP packet yet adds the 4-byte FCS to frame_length (exporters.test.ts).
    t.bits += (exp.sampled ? f.ipBytes + 4 * f.packets : f.ipBytes) * 8;
    t.packets += f.packets;
    t.flows += exp.sampled ? f.packets : 1;
    out.set(key, t);
  }
  return out;
}

function expectedTotals(exp: Export): Totals {
  return sumTotals([...expectedByKey(exp, 'srcip').values()]);
}

/**
 * The API's rows must hold exactly the capture's keys and sums, in descending order of `metric`
 * (equal values may come in either order: their place is checked by value only).
 */
function assertTopMatches(rows: TopRow[], expected: Map<string, Totals>, metric: Metric, what: string): void {
  const got = new Map(rows.map((r) => [String(r.key), { bits: r.bits, packets: r.packets, flows: r.flows }]));
  assert.deepEqual(got, expected, `${what}: rows (key → bits, packets, flows)`);
  assert.deepEqual(
    rows.map((r) => r[metric]),
    [...expected.values()].map((t) => t[metric]).sort((a, b) => b - a),
    `${what}: order by ${metric} (keys ${rows.map((r) => r.key).join(', ')})`,
  );
}

/** Polls until `done()` holds; fails with what `state()` says after timeoutMs. */
async function waitUntil(done: () => Promise<boolean>, state: () => Promise<string>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not stored within ${timeoutMs} ms: ${await state()}`);
    await sleep(200);
  }
}

const MINUTE = 60_000;

/** Records stored so far for an export, whatever their time. */
async function storedRecords(exp: Export, r: TimeRange): Promise<number> {
  const rows = await api!.top({ range: r, dimension: 'flowtype', metric: 'flows', filter: exp.filter });
  return sumTotals(rows).flows;
}

async function runExporters(flowPort: number): Promise<void> {
  for (const version of [5, 9]) {
    const args = ['-r', pcap, '-n', `127.0.0.1:${flowPort}`, '-v', String(version)];
    // Without -A milli, softflowd's v9 times are wrong for a pcap older than its own start.
    if (version === 9) args.push('-A', 'milli');
    await runBounded('softflowd', args, 30_000);
  }
  const conf = join(dir, 'pmacctd.conf');
  writeFileSync(
    conf,
    [
      'daemonize: false',
      `pcap_savefile: ${pcap}`,
      'plugins: nfprobe[nf], sfprobe[sf]',
      `nfprobe_receiver[nf]: 127.0.0.1:${flowPort}`,
      'nfprobe_version[nf]: 10',
      `sfprobe_receiver[sf]: 127.0.0.1:${flowPort}`,
      'sfprobe_agentip[sf]: 127.0.0.1',
      'sampling_rate[sf]: 1',
      '',
    ].join('\n'),
  );
  const pmacctd = spawn('pmacctd', ['-f', conf], { stdio: 'ignore' });
  try {
    // pmacctd sleeps ~2 s before reading the file and flushes its plugins when it exits.
    const wide = { fromMs: Date.now() - 3_600_000, toMs: Date.now() + 3_600_000 };
    await waitUntil(
      async () => {
        for (const exp of EXPORTS)
          if ((await storedRecords(exp, wide)) < expectedTotals(exp).flows) return false;
        return true;
      },
      async () => {
        const counts = await Promise.all(
          EXPORTS.map(async (e) => `${e.name} ${await storedRecords(e, wide)}/${expectedTotals(e).flows}`),
        );
        return `${counts.join(', ')}; store ${JSON.stringify(await api!.storeStats())}`;
      },
      30_000,
    );
  } finally {
    await stopProcess(pmacctd, 'SIGTERM', 3000);
  }
  await sleep(SETTLE_MS);
}

/**
 * Exporter summaries with the store's stats of the same moment: a late sFlow sample of the filler
 * could land between two reads, so the stats are read before and after until they agree.
 */
async function quiescentSummaries(): Promise<{ summaries: ExporterSummary[]; store: StoreStats }> {
  for (let attempt = 0; ; attempt++) {
    const earlier = await api!.storeStats();
    const summaries = await api!.exporters(range);
    const store = await api!.storeStats();
    assert.ok(earlier !== null && store !== null, '/stats has no store');
    if (earlier.recordsWritten === store.recordsWritten && store.queueDepth === 0)
      return { summaries, store };
    if (attempt === 20) throw new Error(`the store never settled: ${JSON.stringify(store)}`);
    await sleep(250);
  }
}

describe('real exporters → flowgate collect → DuckDB store → API', {
  skip: missing.length ? `missing ${missing.join(', ')}` : false,
}, () => {
  before(async () => {
    await makeTraffic();
    const flowPort = await freePort('udp');
    const apiPort = await freePort('tcp');
    try {
      await startStoringCollector(flowPort, apiPort);
      apiUrl = `http://127.0.0.1:${apiPort}`;
      api = new ApiClient(apiUrl);
      await runExporters(flowPort);
    } catch (err) {
      throw new Error(`${(err as Error).message}\ncollector log (end):\n${collectorLog.slice(-4000)}`);
    }
    const captureStart = Math.min(...softflowdFlows.map((f) => f.firstMs));
    // Minute-aligned ends let unfiltered queries read the store's per-minute rollup.
    range = {
      fromMs: Math.floor(captureStart / MINUTE) * MINUTE - MINUTE,
      toMs: Math.ceil(Date.now() / MINUTE) * MINUTE + MINUTE,
    };
  });
  after(async () => {
    if (collector !== null) await stopProcess(collector, 'SIGTERM', 5000);
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('the capture has the three talkers in the designed order, by bits and by packets', () => {
    for (const exp of [EXPORTS[0], EXPORTS[3]]) {
      const rows = [...expectedByKey(exp, 'srcip').entries()];
      for (const metric of ['bits', 'packets'] as const) {
        const top3 = rows
          .sort((a, b) => b[1][metric] - a[1][metric])
          .slice(0, 3)
          .map(([k]) => k);
        assert.deepEqual(
          top3,
          TALKERS.map((t) => t.host),
          `${exp.name}: capture's top 3 by ${metric}`,
        );
      }
    }
    // One download (two half-flows) and one UDP flow per talker, the filler, nothing else.
    assert.equal(softflowdFlows.length, TALKERS.length * 3 + 1, 'flows in the capture');
  });

  for (const exp of EXPORTS) {
    it(`${exp.name}: /api/top by srcip and dstport, every metric, equals the capture`, async () => {
      for (const dimension of ['srcip', 'dstport'] as const) {
        const expected = expectedByKey(exp, dimension);
        for (const metric of ['bits', 'packets', 'flows'] as const) {
          const rows = await api!.top({ range, dimension, metric, filter: exp.filter, limit: 100 });
          assertTopMatches(rows, expected, metric, `${exp.name}: top ${dimension} by ${metric}`);
        }
      }
      const byBits = await api!.top({ range, dimension: 'srcip', metric: 'bits', filter: exp.filter });
      assert.deepEqual(
        byBits.slice(0, 3).map((r) => r.key),
        TALKERS.map((t) => t.host),
        `${exp.name}: top talkers`,
      );
    });

    it(`${exp.name}: /api/timeseries totals equal the capture's bytes, packets and flows`, async () => {
      const points = await api!.timeseries({ range, bucketSec: 60, filter: exp.filter });
      assert.ok(points.length >= 1, `${exp.name}: no points`);
      assert.deepEqual(sumTotals(points), expectedTotals(exp), `${exp.name}: totals`);
    });
  }

  it('/api/exporters (per-minute rollup) and /stats account for every record stored', async () => {
    const { summaries, store } = await quiescentSummaries();
    const netflow = summaries.find((s) => s.flowtype === 'netflow');
    const sflow = summaries.find((s) => s.flowtype === 'sflow');
    assert.ok(netflow && sflow, `exporters: ${JSON.stringify(summaries)}`);
    assert.equal(netflow.exporter, '127.0.0.1');
    const netflowExpected = sumTotals(EXPORTS.filter((e) => !e.sampled).map(expectedTotals));
    assert.deepEqual(
      { records: netflow.records, bits: netflow.bits, packets: netflow.packets },
      { records: netflowExpected.flows, bits: netflowExpected.bits, packets: netflowExpected.packets },
      'netflow summary: softflowd v5 + v9 + pmacctd IPFIX',
    );
    // sFlow: every sample but some of the filler's (its last datagram may be lost).
    const sampledAll = pmacctFlows.reduce((a, f) => a + f.packets, 0);
    const sampledKept = expectedTotals(EXPORTS[3]).flows;
    assert.ok(
      sflow.records >= sampledKept && sflow.records <= sampledAll,
      `sflow records ${sflow.records} outside ${sampledKept}..${sampledAll}`,
    );
    assert.equal(store.ready, true, `store not ready: ${store.lastError}`);
    assert.equal(store.drops, 0, 'store drops');
    assert.equal(store.queueDepth, 0, 'store queue');
    assert.equal(store.recordsWritten, netflow.records + sflow.records, 'records written vs summaries');
  });

  it('`flowgate top` prints the top talkers first, in the API order', async () => {
    for (const [exp, metric] of [
      [EXPORTS[1], 'bits'],
      [EXPORTS[3], 'packets'],
    ] as const) {
      const { stdout } = await runBounded(
        process.execPath,
        [
          ...['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'top', 'srcip'],
          ...['--api', apiUrl, '--metric', metric],
          ...['--from', String(range.fromMs), '--to', String(range.toMs)],
          ...exp.filter.split(' '),
        ],
        30_000,
      );
      const lines = stdout.trimEnd().split('\n');
      assert.match(lines[0], new RegExp(`^top srcip by ${metric}, `), stdout);
      assert.match(lines[1], /^SRCIP\s+BITS\/S\s+PACKETS\s+FLOWS$/, stdout);
      const printed = lines.slice(2).map((l) => l.split(/\s+/)[0]);
      const rows = await api!.top({ range, dimension: 'srcip', metric, filter: exp.filter });
      assert.deepEqual(
        printed,
        rows.map((r) => String(r.key)),
        `${exp.name}: table vs API\n${stdout}`,
      );
      assert.equal(printed[0], TALKERS[0].host, `${exp.name}: top talker\n${stdout}`);
    }
  });
});
