/**
 * Sustained ingest from UDP into DuckDB, end to end: a real `flowgate collect` process (the built
 * dist/, as users run it) receives NetFlow v9 and IPFIX over loopback from this process at a fixed
 * record rate for a fixed time, decodes, and stores every record in its embedded DuckDB. Afterwards
 * the records the store holds are compared with the records sent: loss anywhere (kernel socket
 * buffer, the collector's datagram queue, the store queue) shows as a difference, and /stats plus
 * /proc/net/udp say where.
 *
 * The datagrams come from the demo's encoders (varied addresses, ports, protocols, interfaces,
 * AS numbers): a pool of pre-encoded datagrams per exporter is replayed with fresh header sequence
 * numbers and export times, so the sender costs little CPU (it shares the 2 cores with the
 * collector, as a co-located exporter or replay tool would).
 *
 *   npm run build && node --import tsx bench/udp-duckdb.ts --rate 200000 [--seconds 30]
 *   node --import tsx bench/udp-duckdb.ts --search 150000,200000,250000,300000 [--seconds 30]
 *
 * --search runs each rate in its own fresh collector and reports the highest with < 0.1 % loss.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowDecoder } from '../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import { IpfixEncoder } from '../src/demo/encode/ipfix-encoder.js';
import { Netflow9Encoder } from '../src/demo/encode/netflow9-encoder.js';
import { type DemoExporter, TrafficModel } from '../src/demo/traffic-model.js';
import { CollectingSink } from '../test/helpers/collecting-sink.js';
import { freePort, kernelDrops } from './line-rate/proc.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seconds = Number(arg('seconds') ?? 30);
const rates = (arg('search') ?? arg('rate') ?? '100000').split(',').map(Number);
const POOL_FLOWS = 120_000;
/** Extra collector settings, e.g. --set store.batchsize=122880 (repeatable). */
/** --cpu-prof-dir DIR profiles the collector (node --cpu-prof). */
const profileDir = arg('cpu-prof-dir');
/** --node-args "--flag ..." passes V8/Node flags to the collector only (not to this sender). */
const nodeArgs = [
  ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
  ...(arg('node-args')
    ?.split(' ')
    .filter((a) => a !== '') ?? []),
];
const collectorSets = process.argv.flatMap((a, i) =>
  a === '--set' ? ['--set', process.argv[i + 1] as string] : [],
);

interface PoolDatagram {
  buf: Buffer;
  records: number;
}

interface Exporter {
  address: string;
  protocol: 'netflow9' | 'ipfix';
  pool: PoolDatagram[];
}

/** Pre-encodes POOL_FLOWS flows per exporter and counts the data records each datagram holds. */
function buildPools(): Exporter[] {
  const now = Date.now();
  const model = new TrafficModel({ seed: 7, startMs: now - 60_000, attackAfterSec: null });
  const out: Exporter[] = [];
  for (const e of model.exporters.filter((x) => x.protocol !== 'sflow5') as DemoExporter[]) {
    const encoder =
      e.protocol === 'netflow9'
        ? new Netflow9Encoder({
            sourceId: e.domainId,
            samplingInterval: e.samplingRate,
            bootMs: now - 86_400_000,
          })
        : new IpfixEncoder({ observationDomainId: e.domainId, samplingInterval: e.samplingRate });
    const datagrams: Buffer[] = [];
    for (let n = 0; n < POOL_FLOWS; n += 5000)
      datagrams.push(...encoder.encode(model.flows(e, 5000, now), now));
    // Count records as the collector will see them (templates and options data are not records).
    const decoder = new FlowDecoder(defaultDecoderSettings());
    const pool = datagrams.map((buf) => {
      const sink = new CollectingSink();
      decoder.decode(
        {
          payload: buf,
          srcAddress: e.address,
          srcPort: 0,
          dstPort: 0,
          receivedAtMs: now,
          connectionId: null,
        },
        sink,
      );
      return { buf, records: sink.records.length };
    });
    out.push({ address: e.address, protocol: e.protocol as 'netflow9' | 'ipfix', pool });
  }
  return out;
}

/** Fresh sequence number and export time in the header (RFC 3954 5.1, RFC 7011 3.1). */
function stamp(e: Exporter, d: PoolDatagram, seq: { n: number }, nowMs: number): Buffer {
  const b = Buffer.from(d.buf);
  const secs = Math.floor(nowMs / 1000);
  if (e.protocol === 'netflow9') {
    b.writeUInt32BE(secs, 8);
    b.writeUInt32BE(seq.n++ >>> 0, 12);
  } else {
    b.writeUInt32BE(secs, 4);
    b.writeUInt32BE(seq.n >>> 0, 8);
    seq.n += d.records;
  }
  return b;
}

/** CPU seconds (user + system) and peak RSS of a process, from /proc. */
function processUsage(pid: number): { cpuSec: number; peakRssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  return { cpuSec: ticks / 100, peakRssMb: hwm ? Number(hwm[1]) / 1024 : 0 };
}

// biome-ignore lint/suspicious/noExplicitAny: /stats JSON, read loosely
type Stats = any;

async function stats(apiPort: number): Promise<Stats> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/stats`);
  return res.json();
}

async function startCollector(dir: string, udpPort: number, apiPort: number): Promise<ChildProcess> {
  const config = join(dir, 'flowgate.yaml');
  writeFileSync(
    config,
    [
      'general:',
      `  datadir: ${dir}`,
      `  templatedb: ${join(dir, 'templates.json')}`,
      'flow:',
      `  listen: ["127.0.0.1:${udpPort}"]`,
      '  udpbuffer: 33554432',
      'api:',
      `  listen: 127.0.0.1:${apiPort}`,
      'log:',
      '  level: warn',
      '',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [...nodeArgs, 'bin/flowgate.js', '--config', config, ...collectorSets, 'collect'],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  for (let i = 0; i < 200; i++) {
    try {
      await stats(apiPort);
      return child;
    } catch {
      await sleep(50);
    }
  }
  child.kill('SIGKILL');
  throw new Error('collector did not start');
}

async function runAt(rate: number, exporters: Exporter[]): Promise<{ rate: number; lossPct: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-udp-duckdb-'));
  const udpPort = await freePort();
  const apiPort = await freePort();
  const child = await startCollector(dir, udpPort, apiPort);
  const pid = child.pid as number;
  const sockets: Socket[] = [];
  try {
    for (const e of exporters) {
      const s = createSocket('udp4');
      await new Promise<void>((resolve) => s.bind(0, e.address, resolve));
      sockets.push(s);
    }
    const cpu0 = processUsage(pid).cpuSec;
    const seqs = exporters.map(() => ({ n: 0 }));
    const next = exporters.map(() => 0);
    let sent = 0;
    let datagrams = 0;
    const t0 = performance.now();
    // Paced in 5 ms steps: each step sends what the rate owes so far, round-robin over exporters.
    for (;;) {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= seconds) break;
      const owed = rate * elapsed;
      let k = 0;
      while (sent < owed) {
        const i = k++ % exporters.length;
        const e = exporters[i] as Exporter;
        const d = e.pool[next[i] as number] as PoolDatagram;
        next[i] = ((next[i] as number) + 1) % e.pool.length;
        (sockets[i] as Socket).send(stamp(e, d, seqs[i] as { n: number }, Date.now()), udpPort, '127.0.0.1');
        sent += d.records;
        datagrams++;
      }
      await sleep(5);
    }
    const sendSec = (performance.now() - t0) / 1000;
    // Drain: wait until the collector has stored everything it is going to.
    let s: Stats = await stats(apiPort);
    let stable = 0;
    let last = -1;
    const drainStart = performance.now();
    while (stable < 8 && performance.now() - drainStart < 120_000) {
      await sleep(250);
      s = await stats(apiPort);
      const stored = s.store?.recordsWritten ?? 0;
      const idle = (s.store?.queueDepth ?? 0) === 0 && s.queue.depth === 0 && s.output.depth === 0;
      stable = idle && stored === last ? stable + 1 : 0;
      last = stored;
    }
    const usage = processUsage(pid);
    const stored = s.store?.recordsWritten ?? 0;
    const lossPct = (100 * (sent - stored)) / sent;
    console.log(
      [
        `rate ${rate.toLocaleString('en-US')} records/s for ${sendSec.toFixed(1)} s:`,
        `sent ${sent.toLocaleString('en-US')} records in ${datagrams.toLocaleString('en-US')} datagrams,`,
        `stored ${stored.toLocaleString('en-US')} (loss ${lossPct.toFixed(3)} %);`,
        `kernel drops ${kernelDrops(udpPort)}, queue drops ${s.queue.drops}, store drops ${s.store?.drops ?? 0},`,
        `queue high water ${s.queue.highWater};`,
        `collector CPU ${((usage.cpuSec - cpu0) / sendSec).toFixed(2)} cores, peak RSS ${usage.peakRssMb.toFixed(0)} MB`,
      ].join(' '),
    );
    return { rate, lossPct };
  } finally {
    for (const s of sockets) s.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

const exporters = buildPools();
console.log(
  `pool: ${exporters.map((e) => `${e.protocol} ${e.pool.length} datagrams`).join(', ')}; ${seconds} s per rate`,
);
let best = 0;
for (const rate of rates) {
  const r = await runAt(rate, exporters);
  if (r.lossPct < 0.1) best = Math.max(best, rate);
}
if (rates.length > 1)
  console.log(`highest rate with < 0.1 % loss: ${best.toLocaleString('en-US')} records/s`);
