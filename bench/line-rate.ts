/**
 * bench/line-rate/README: how fast can a collector take flow records off the wire without loss?
 *
 * The same recorded export datagrams are replayed at a fixed record rate over loopback to Flowgate
 * and to the established collectors, one fresh target process per rate, and the highest rate each
 * takes with < 0.1 % loss is reported with its CPU (utime + stime over the sending window, whole
 * process tree, in cores) and peak RSS (VmHWM, summed over the tree).
 *
 * Traffic is made once and cached (--cache, default $TMPDIR/flowgate-line-rate): a seeded
 * synthetic pcap from Node (200k distinct flows, IPv4/IPv6, TCP/UDP/ICMP; --flows N), then real
 * exporters turn it into datagrams that a Node listener records: softflowd -v 9 -A milli
 * (netflow9), pmacctd nfprobe_version 10 (ipfix), pmacctd sfprobe sampling_rate 1 (sflow). Records
 * per datagram are counted with Flowgate's own decoder. Delete the cache dir to remake it.
 *
 * The sender is its own process (bench/line-rate/sender.ts): pre-loaded buffers, header sequence
 * numbers and export times rewritten in place, paced per ~1 ms tick; --senders 2 splits the rate
 * over two processes (two exporter streams: source id + K). Both share the machine's cores with the
 * target. A run whose sender reached < 97 % of the rate ends the search as undecided (the table
 * says so): one Node sender tops out near 120-140k datagrams/s here, so use --senders 2 above that.
 * Tests: node --import tsx --test bench/line-rate/line-rate.test.ts
 *
 * Targets: flowgate-decode (output.discard=true, store.enabled=false, detection off), flowgate-detect
 * (the same with detection on), flowgate-duckdb (embedded store, detection off), flowgate-duckdb-detect,
 * flowgate-clickhouse (store.engine=clickhouse on a throwaway clickhouse-server), nfcapd
 * (-B 4194304; counted with nfdump -I after it exits), pmacct (nfacctd for netflow9/ipfix, sfacctd
 * for sflow; print plugin aggregated by protocol with the `flows` counter, see targets.ts).
 * Received counts: Flowgate /stats (store.recordsWritten, or output.written when discarding).
 * Kernel drops of every target's socket come from /proc/net/udp.
 * The harness raises net.core.rmem_max to 4194304 if it is lower (it must run as root) so every
 * target gets a 4 MiB receive buffer, and prints what it set.
 *
 *   node --import tsx bench/line-rate.ts --protocol netflow9 \
 *     --targets flowgate-decode,nfcapd,pmacct --search 100000,200000,400000 [--seconds 10] \
 *     [--markdown FILE] [--cache DIR] [--senders 2] [--set key=value ...]
 *   node --import tsx bench/line-rate.ts --protocol sflow --targets flowgate-decode \
 *     --bisect 50000,800000 [--steps 5]
 *
 * --search tries the rates in order and stops at the first over 0.1 % loss; --bisect LO,HI halves
 * the interval --steps times. --set pairs go to every Flowgate target. Each target first runs once
 * at --floor-rate (default 5000 records/s; 0 skips it): records it never counts even at that rate
 * (nfacctd misses ~0.2 % of softflowd's records) are its loss floor, and rates are judged on the loss
 * above it; the table shows the floor. Stop with Ctrl-C: every child process is killed and the
 * per-run temp dirs removed (the cache stays).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureSets,
  readSet,
  SET_PROTOCOLS,
  type SetMeta,
  type SetProtocol,
} from './line-rate/datagram-set.js';
import { cpuBetween, cpuSample, ensureRmemMax, peakRssMb, processTree } from './line-rate/proc.js';
import { type RunningTarget, type Target, targets } from './line-rate/targets.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const LOSS_LIMIT_PCT = 0.1;
/** A run whose sender sent less than this share of the rate does not decide anything. */
const SENDER_SHORTFALL = 0.97;
const cacheDir = arg('cache') ?? join(tmpdir(), 'flowgate-line-rate');
const protocol = (arg('protocol') ?? 'netflow9') as SetProtocol;
const seconds = Number(arg('seconds') ?? 10);
const senders = Number(arg('senders') ?? 1);
const flows = Number(arg('flows') ?? 200_000);
const markdownFile = arg('markdown');
const targetNames = (arg('targets') ?? 'flowgate-decode,nfcapd,pmacct').split(',');
const searchRates = arg('search')?.split(',').map(Number);
const bisect = arg('bisect')?.split(',').map(Number) as [number, number] | undefined;
const steps = Number(arg('steps') ?? 5);
/** Rate of the calibration run whose loss is each target's floor (0 = no calibration). */
const floorRate = Number(arg('floor-rate') ?? 5000);
const extraSets = process.argv.flatMap((a, i) => (a === '--set' ? [process.argv[i + 1] as string] : []));

if (!SET_PROTOCOLS.includes(protocol))
  throw new Error(`--protocol must be one of ${SET_PROTOCOLS.join(', ')}`);

interface SenderResult {
  records: number;
  packets: number;
  datagrams: number;
  seconds: number;
  errors: number;
}

interface RunResult {
  rate: number;
  lossPct: number;
  sent: SenderResult;
  received: number;
  cpuCores: number;
  peakRssMb: number;
  kernelDrops: number;
  line: string;
}

function runSender(port: number, rate: number, share: string): Promise<SenderResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/line-rate/sender.ts',
        ...['--cache', cacheDir, '--protocol', protocol, '--port', String(port)],
        ...['--rate', String(rate), '--seconds', String(seconds), '--share', share],
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`sender exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop() as string) as SenderResult);
    });
  });
}

/** Per-run temp dirs still in use (removed by the run, or by the signal handler). */
const runDirs = new Set<string>();

async function runAt(target: Target, rate: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), `flowgate-line-rate-${target.name}-`));
  runDirs.add(dir);
  let running: RunningTarget | null = null;
  try {
    running = await target.start(dir, protocol);
    const pid = running.pid;
    const cpu0 = cpuSample(pid);
    const t0 = performance.now();
    const parts = await Promise.all(
      Array.from({ length: senders }, (_, k) => runSender(running?.port as number, rate, `${k}/${senders}`)),
    );
    const windowSec = (performance.now() - t0) / 1000;
    const cpuCores = cpuBetween(cpu0, cpuSample(pid)) / windowSec;
    const rss = peakRssMb(pid);
    const sent: SenderResult = {
      records: parts.reduce((n, p) => n + p.records, 0),
      packets: parts.reduce((n, p) => n + p.packets, 0),
      datagrams: parts.reduce((n, p) => n + p.datagrams, 0),
      seconds: Math.max(...parts.map((p) => p.seconds)),
      errors: parts.reduce((n, p) => n + p.errors, 0),
    };
    const got = await running.finish();
    const expected = got.unit === 'packets' ? sent.packets : sent.records;
    const lossPct = (100 * (expected - got.received)) / expected;
    const line =
      `${target.name} ${protocol} @ ${rate.toLocaleString('en-US')} rec/s: sent ${sent.records.toLocaleString('en-US')} records ` +
      `(${sent.packets.toLocaleString('en-US')} packets) in ${sent.datagrams.toLocaleString('en-US')} datagrams over ${sent.seconds.toFixed(1)} s` +
      `${sent.errors ? `, ${sent.errors} send errors` : ''}; got ${got.received.toLocaleString('en-US')} ${got.unit} ` +
      `(loss ${lossPct.toFixed(3)} %); kernel drops ${got.kernelDrops}; ${got.detail}; ` +
      `CPU ${cpuCores.toFixed(2)} cores, peak RSS ${rss.toFixed(0)} MB`;
    console.log(line);
    return {
      rate,
      lossPct,
      sent,
      received: got.received,
      cpuCores,
      peakRssMb: rss,
      kernelDrops: got.kernelDrops,
      line,
    };
  } finally {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
    runDirs.delete(dir);
  }
}

interface Row {
  target: string;
  /** Set when a run's sender fell short of the rate: the search ends there, undecided. */
  senderLimited?: string;
  /** Loss at --floor-rate: what the target never counts, whatever the rate. */
  floorPct: number;
  best: RunResult | null;
  next: RunResult | null;
  error?: string;
}

async function search(target: Target): Promise<Row> {
  // Records a target never counts even when idle (nfacctd: ~0.2 % of softflowd's, at any rate) are
  // not line-rate loss: measure them once at a low rate and judge each rate on the loss above that.
  const floorPct = floorRate > 0 ? Math.max(0, (await runAt(target, floorRate)).lossPct) : 0;
  if (floorPct > 0)
    console.log(`${target.name}: loss floor ${floorPct.toFixed(3)} % at ${floorRate} records/s`);
  const row: Row = { target: target.name, floorPct, best: null, next: null };
  const ok = (r: RunResult) => r.lossPct - floorPct < LOSS_LIMIT_PCT;
  if (bisect !== undefined) {
    let [lo, hi] = bisect;
    const top = await runAt(target, hi);
    if (ok(top)) return { ...row, best: top };
    row.next = top;
    for (let i = 0; i < steps; i++) {
      const mid = Math.round((lo + hi) / 2);
      const r = await runAt(target, mid);
      if (ok(r)) {
        row.best = r;
        lo = mid;
      } else {
        row.next = r;
        hi = mid;
      }
    }
    return row;
  }
  for (const rate of searchRates ?? [100_000]) {
    const r = await runAt(target, rate);
    const achieved = r.sent.records / r.sent.seconds;
    if (achieved < SENDER_SHORTFALL * rate) {
      row.senderLimited = `sender reached only ${Math.round(achieved).toLocaleString('en-US')} of ${rate.toLocaleString('en-US')} records/s (loss ${r.lossPct.toFixed(2)} %): sender CPU-bound, undecided`;
      console.log(`${target.name}: ${row.senderLimited}`);
      return row;
    }
    if (!ok(r)) return { ...row, next: r };
    row.best = r;
  }
  return row;
}

function table(rows: Row[], meta: SetMeta): string {
  const perDatagram = meta.totalRecords / meta.datagrams;
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const lines = [
    `Line rate on loopback, ${protocol} from ${meta.exporter} (${perDatagram.toFixed(1)} records/datagram), ` +
      `${seconds} s per rate, ${senders} sender process(es), loss limit ${LOSS_LIMIT_PCT} %.`,
    '',
    floorRate > 0
      ? `Loss = records sent vs records the target counted, minus its loss floor (its loss at ${floorRate} records/s).`
      : 'Loss = records sent vs records the target counted.',
    '',
    '| target | protocol | highest rate < 0.1 % loss (records/s) | datagrams/s | CPU (cores) | peak RSS (MB) | loss at next rate tried | loss floor |',
    '|---|---|---:|---:|---:|---:|---|---:|',
  ];
  for (const r of rows) {
    const b = r.best;
    const next = r.next
      ? `${r.next.lossPct.toFixed(2)} % at ${n(r.next.rate)} (kernel drops ${r.next.kernelDrops})`
      : r.error
        ? `error: ${r.error}`
        : r.senderLimited
          ? `undecided: ${r.senderLimited}`
          : 'none over the limit (raise the rates)';
    lines.push(
      b
        ? `| ${r.target} | ${protocol} | ${n(b.rate)} | ${n(b.sent.datagrams / b.sent.seconds)} | ${b.cpuCores.toFixed(2)} | ${b.peakRssMb.toFixed(0)} | ${next} | ${r.floorPct.toFixed(2)} % |`
        : `| ${r.target} | ${protocol} | < lowest rate tried | | | | ${next} | ${r.floorPct.toFixed(2)} % |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

// On Ctrl-C the `finally` blocks do not run: end every process this harness started (its
// descendants, by pid) so no collector or exporter outlives it.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const pid of processTree(process.pid).slice(1).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });

console.log(ensureRmemMax(4_194_304));
await ensureSets(cacheDir, flows, (s) => console.log(s));
const meta = readSet(cacheDir, protocol).meta;
console.log(
  `${protocol}: ${meta.datagrams} datagrams, ${meta.totalRecords} records from ${meta.exporter}; ${seconds} s per rate`,
);
const all = targets(extraSets);
const rows: Row[] = [];
for (const name of targetNames) {
  const resolved = name === 'pmacct' ? (protocol === 'sflow' ? 'sfacctd' : 'nfacctd') : name;
  const target = all.get(resolved);
  if (target === undefined)
    throw new Error(`unknown target ${name}: ${[...all.keys(), 'pmacct'].join(', ')}`);
  if (!target.protocols.includes(protocol)) {
    console.log(`${target.name} does not take ${protocol}: skipped`);
    continue;
  }
  try {
    rows.push(await search(target));
  } catch (e) {
    console.log(`${target.name}: ${(e as Error).message}`);
    rows.push({ target: target.name, floorPct: 0, best: null, next: null, error: (e as Error).message });
  }
}
const md = table(rows, meta);
console.log(`\n${md}`);
if (markdownFile !== undefined) writeFileSync(markdownFile, md);
