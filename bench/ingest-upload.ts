/**
 * Sustained throughput of the HTTP ingest uploader (deliver/ingest/uploader.ts) to a receiver over
 * loopback: how many records/s one uploader delivers, what CPU it spends per record, its peak RSS,
 * and the bytes per record on the wire, with gzip and without, for the generic (JSON lines) and
 * the elasticsearch (`_bulk`) profile, at flushcount 2000 (default) and 10000.
 *
 *   node --import tsx bench/ingest-upload.ts [--seconds 10] [--warmup 2] [--runs 3] [--only NAME]
 *                                            [--cpu-prof DIR]
 *
 * Three processes per run, so each number belongs to one of them:
 * - this one (the orchestrator) only spawns the other two and prints the table;
 * - the receiver (`--receiver`, a minimal node:http server in this file, not
 *   test/deliver/ingest-receiver.mjs, whose per-record JSON.parse would be the bottleneck):
 *   gunzips, counts newline-separated lines, answers 200 (`{"errors":false,...}`, a clean `_bulk`
 *   answer); it is what counts the records delivered;
 * - the uploader (`--uploader`): decodes real captures once (~88k records), then writes them again
 *   and again in batches of 1024, awaiting each write as the collector's record batcher does.
 *   After `--warmup` seconds it reads the receiver's counters, runs `--seconds`, reads them again:
 *   records/s = records the receiver counted in that window / its length. CPU is this process's
 *   process.cpuUsage() over the same window (gzip runs on libuv threads: counted too).
 *
 * `--cpu-prof DIR` adds `--cpu-prof --cpu-prof-dir DIR` to the uploader process (use with --only
 * and --runs 1).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { readCaptureFile } from '../src/capture/capture-reader.js';
import { FlowDecoder } from '../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import type { IngestCompression, IngestProfileName } from '../src/deliver/ingest/options.js';
import { ingestConfig } from '../src/deliver/ingest/options.js';
import { IngestUploader } from '../src/deliver/ingest/uploader.js';
import type { FlowRecord } from '../src/record/flow-record.js';
import { CollectingSink } from '../test/helpers/collecting-sink.js';
import { corpusPath } from '../test/helpers/corpus.js';

const gunzipAsync = promisify(gunzip);

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** What the receiver has counted since it started. */
interface Counts {
  requests: number;
  lines: number;
  /** Request bodies as sent (compressed when gzip). */
  bodyBytes: number;
  /** What the server's sockets read for those requests: bodies plus request lines and headers. */
  wireBytes: number;
  /** The receiver's own CPU (user + system), to show it is not the bottleneck. */
  cpuSeconds: number;
}

// ---- the receiver ----

function receiver(): void {
  const counts: Counts = { requests: 0, lines: 0, bodyBytes: 0, wireBytes: 0, cpuSeconds: 0 };
  // Bytes a socket had read at its previous request's end: one request at a time per connection.
  const readBefore = new WeakMap<Socket, number>();
  const answer = Buffer.from('{"took":1,"errors":false,"items":[]}');

  function countLines(buf: Buffer): number {
    let n = 0;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
    return n;
  }

  async function post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const text = req.headers['content-encoding'] === 'gzip' ? await gunzipAsync(body) : body;
    const read = req.socket.bytesRead;
    counts.requests++;
    counts.wireBytes += read - (readBefore.get(req.socket) ?? 0);
    readBefore.set(req.socket, read);
    counts.bodyBytes += body.length;
    counts.lines += countLines(text);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
    res.end(answer);
  }

  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      const cpu = process.cpuUsage();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...counts, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
      return;
    }
    post(req, res).catch((err: unknown) => {
      res.writeHead(400);
      res.end(String(err));
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    process.send?.({ port: addr.port });
  });
  process.on('disconnect', () => process.exit(0));
}

// ---- the uploader ----

/** Counted by the measured uploader process and sent to the orchestrator. */
interface RunResult {
  records: number;
  seconds: number;
  requests: number;
  bodyBytes: number;
  wireBytes: number;
  cpuSeconds: number;
  receiverCpuSeconds: number;
  rssBeforeMB: number;
  peakRssMB: number;
  sent: number;
  dropped: number;
  rejected: number;
  receiverLinesTotal: number;
}

const CAPTURES = [
  'netflow5/overflowd_netflow_4M.pcap',
  'ipfix/ipfixcol2_example_flows.ipfix',
  'sflow/overflowd_sflow.pcap',
  'ipfix/pmacct_112-IPFIXv10-CISCO-options-map-reassignment_traffic-00.pcap',
];
const BATCH = 1024;

function loadRecords(): FlowRecord[] {
  const sink = new CollectingSink();
  const decoder = new FlowDecoder(defaultDecoderSettings());
  for (const c of CAPTURES) for (const d of readCaptureFile(corpusPath(c))) decoder.decode(d, sink);
  return sink.records;
}

async function receiverCounts(url: string): Promise<Counts> {
  return (await (await fetch(url)).json()) as Counts;
}

async function uploader(): Promise<void> {
  const url = option('--url', '');
  const profile = option('--profile', 'generic') as IngestProfileName;
  const compression = option('--compression', 'gzip') as IngestCompression;
  const flushcount = Number(option('--flushcount', '2000'));
  const seconds = Number(option('--seconds', '10'));
  const warmup = Number(option('--warmup', '2'));
  const linesPerRecord = profile === 'elasticsearch' ? 2 : 1;

  const records = loadRecords();
  const batches: FlowRecord[][] = [];
  for (let i = 0; i < records.length; i += BATCH) batches.push(records.slice(i, i + BATCH));
  const out = await IngestUploader.open(ingestConfig({ url, profile, compression, flushcount }));

  let next = 0;
  async function writeFor(ms: number): Promise<void> {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      await out.write(batches[next] as FlowRecord[]);
      next = (next + 1) % batches.length;
    }
  }

  await writeFor(warmup * 1000);
  const rssBefore = process.memoryUsage.rss();
  let peakRss = rssBefore;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 50);
  const c0 = await receiverCounts(url);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await writeFor(seconds * 1000);
  const c1 = await receiverCounts(url);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  await out.close();
  const s = out.stats();
  const total = await receiverCounts(url);
  const result: RunResult = {
    records: (c1.lines - c0.lines) / linesPerRecord,
    seconds: (t1 - t0) / 1000,
    requests: c1.requests - c0.requests,
    bodyBytes: c1.bodyBytes - c0.bodyBytes,
    wireBytes: c1.wireBytes - c0.wireBytes,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    receiverCpuSeconds: c1.cpuSeconds - c0.cpuSeconds,
    rssBeforeMB: rssBefore / 2 ** 20,
    peakRssMB: peakRss / 2 ** 20,
    sent: s.recordsSent,
    dropped: s.droppedRecords,
    rejected: s.rejectedRecords,
    receiverLinesTotal: total.lines / linesPerRecord,
  };
  process.send?.(result, () => process.exit(0));
}

// ---- the orchestrator ----

interface Configuration {
  name: string;
  profile: IngestProfileName;
  compression: IngestCompression;
  flushcount: number;
}

const CONFIGURATIONS: Configuration[] = [
  { name: 'generic-gzip-2000', profile: 'generic', compression: 'gzip', flushcount: 2000 },
  { name: 'generic-gzip-10000', profile: 'generic', compression: 'gzip', flushcount: 10000 },
  { name: 'generic-none-2000', profile: 'generic', compression: 'none', flushcount: 2000 },
  { name: 'generic-none-10000', profile: 'generic', compression: 'none', flushcount: 10000 },
  { name: 'elasticsearch-gzip-2000', profile: 'elasticsearch', compression: 'gzip', flushcount: 2000 },
  { name: 'elasticsearch-gzip-10000', profile: 'elasticsearch', compression: 'gzip', flushcount: 10000 },
];

const SELF = fileURLToPath(import.meta.url);

function child(args: string[], nodeArgs: string[] = []): ChildProcess {
  return fork(SELF, args, {
    execArgv: [...process.execArgv, ...nodeArgs],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function firstMessage<T>(p: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    p.once('message', (m) => resolve(m as T));
    p.once('exit', (code) => reject(new Error(`child exited (${code}) before answering`)));
  });
}

async function runOnce(c: Configuration, seconds: number, warmup: number, prof: string): Promise<RunResult> {
  const recv = child(['--receiver']);
  try {
    const { port } = await firstMessage<{ port: number }>(recv);
    const up = child(
      [
        '--uploader',
        '--url',
        `http://127.0.0.1:${port}/ingest`,
        '--profile',
        c.profile,
        '--compression',
        c.compression,
        '--flushcount',
        String(c.flushcount),
        '--seconds',
        String(seconds),
        '--warmup',
        String(warmup),
      ],
      prof === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', prof],
    );
    const r = await firstMessage<RunResult>(up);
    await new Promise((resolve) => up.once('exit', resolve));
    if (r.dropped !== 0 || r.rejected !== 0 || r.sent !== r.receiverLinesTotal)
      throw new Error(`${c.name}: uploader sent ${r.sent}, receiver counted ${r.receiverLinesTotal}`);
    return r;
  } finally {
    recv.kill();
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** "median (min–max)" */
function spread(values: number[], digits: number, scale = 1): string {
  const f = (n: number) =>
    (n / scale).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${f(median(values))} (${f(Math.min(...values))}–${f(Math.max(...values))})`;
}

async function orchestrate(): Promise<void> {
  const seconds = Number(option('--seconds', '10'));
  const warmup = Number(option('--warmup', '2'));
  const runs = Number(option('--runs', '3'));
  const only = option('--only', '');
  const prof = option('--cpu-prof', '');
  const selected = CONFIGURATIONS.filter((c) => only === '' || c.name === only);
  if (selected.length === 0)
    throw new Error(`--only: one of ${CONFIGURATIONS.map((c) => c.name).join(', ')}`);

  const results = new Map<string, RunResult[]>(selected.map((c) => [c.name, []]));
  // Runs interleave the configurations, so a busier moment of a shared machine hits all of them.
  for (let run = 0; run < runs; run++) {
    for (const c of selected) {
      const r = await runOnce(c, seconds, warmup, prof);
      results.get(c.name)?.push(r);
      console.error(
        `run ${run + 1}/${runs} ${c.name}: ${Math.round(r.records / r.seconds).toLocaleString('en-US')} records/s`,
      );
    }
  }

  console.log(
    `\n${runs} run(s) per configuration, ${warmup} s warm-up + ${seconds} s measured each; median (min–max)\n`,
  );
  console.log(
    '| profile | compression | flushcount | records/s | uploader CPU s per 1M records | receiver CPU s per 1M | peak RSS MB | requests/s | body bytes/record | wire bytes/record |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of selected) {
    const rs = results.get(c.name) ?? [];
    const cells = [
      c.profile,
      c.compression,
      String(c.flushcount),
      spread(
        rs.map((r) => r.records / r.seconds),
        0,
      ),
      spread(
        rs.map((r) => (r.cpuSeconds / r.records) * 1e6),
        2,
      ),
      spread(
        rs.map((r) => (r.receiverCpuSeconds / r.records) * 1e6),
        2,
      ),
      spread(
        rs.map((r) => r.peakRssMB),
        0,
      ),
      spread(
        rs.map((r) => r.requests / r.seconds),
        0,
      ),
      spread(
        rs.map((r) => r.bodyBytes / r.records),
        1,
      ),
      spread(
        rs.map((r) => r.wireBytes / r.records),
        1,
      ),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  const base = [...results.values()].flat().map((r) => r.rssBeforeMB);
  console.log(
    `\nRSS of the uploader process after warm-up (records loaded): ${spread(base, 0)} MB; peak RSS is sampled every 50 ms during the measured window.`,
  );
}

if (process.argv.includes('--receiver')) receiver();
else if (process.argv.includes('--uploader')) await uploader();
else await orchestrate();
