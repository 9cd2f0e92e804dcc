/**
 * CPU the host agent (`flowgate agent`) spends metering traffic, per source (conntrack, libpcap),
 * at fixed packet rates: two network namespaces made here joined by a veth pair, iperf3 sending
 * UDP (100-byte payloads, 4 parallel streams) from B to A, the agent running in A (as
 * `ip netns exec A node ... agent`) and exporting IPFIX to a UDP sink in B. CPU is utime + stime
 * of the agent and its children (conntrack's own processes included) over the sending window.
 *
 *   node --import tsx bench/agent-cpu.ts [--rates 0,10000,50000] [--seconds 10] [--sources conntrack,pcap]
 *
 * Root only (namespaces). Traffic stays inside the namespaces made here.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNetnsPair, type NetnsPair } from '../test/helpers/netns-pair.js';
import { cpuBetween, cpuSample, peakRssMb } from './line-rate/proc.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] as string) : fallback;
}
const RATES = arg('--rates', '0,10000,50000').split(',').map(Number);
const SECONDS = Number(arg('--seconds', '10'));
const SOURCES = arg('--sources', 'conntrack,pcap').split(',');
const STREAMS = 4;
const PAYLOAD = 100;
const SINK_PORT = 4739;
const IPERF_PORT = 5201;

function inNs(ns: string, argv: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function measure(
  pair: NetnsPair,
  source: string,
  rate: number,
): Promise<{ cpu: number; rss: number; pps: number }> {
  const agent = inNs(pair.a, [
    process.execPath,
    '--import',
    'tsx',
    'src/cli/main.ts',
    'agent',
    '--collector',
    `${pair.addressB}:${SINK_PORT}`,
    '--source',
    source,
    '--inactive-timeout',
    '5',
  ]);
  let stderr = '';
  agent.stderr?.on('data', (c) => {
    stderr += c;
  });
  try {
    // Start-up (tsx compiling, conntrack's first dump) is not what is measured.
    await sleep(4000);
    if (agent.exitCode !== null) throw new Error(`agent exited: ${stderr}`);
    const pid = agent.pid as number;
    const before = cpuSample(pid);
    const t0 = process.hrtime.bigint();
    let sent = 0;
    if (rate > 0) {
      const bits = Math.round(((rate / STREAMS) * PAYLOAD * 8) | 0);
      const client = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          pair.b,
          'iperf3',
          '-u',
          '-c',
          pair.addressA,
          '-p',
          String(IPERF_PORT),
          '-b',
          String(bits),
          '-l',
          String(PAYLOAD),
          '-P',
          String(STREAMS),
          '-t',
          String(SECONDS),
          '-J',
        ],
        { encoding: 'utf8', timeout: (SECONDS + 20) * 1000 },
      );
      const report = JSON.parse(client.stdout) as { end: { sum: { packets: number } } };
      sent = report.end.sum.packets;
    } else {
      await sleep(SECONDS * 1000);
    }
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuBetween(before, cpuSample(pid));
    return { cpu: cpu / wall, rss: peakRssMb(pid), pps: sent / wall };
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
  }
}

const pair = createNetnsPair();
const sink = inNs(pair.b, [
  process.execPath,
  '-e',
  `require('dgram').createSocket('udp4').bind(${SINK_PORT}, '0.0.0.0')`,
]);
const server = inNs(pair.a, ['iperf3', '-s', '-B', pair.addressA, '-p', String(IPERF_PORT)]);
try {
  await sleep(500);
  console.log(
    '| source | offered packets/s | measured packets/s | agent CPU (% of one core) | per 10k packets/s | peak RSS MB |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const source of SOURCES) {
    for (const rate of RATES) {
      const r = await measure(pair, source, rate);
      const per10k = r.pps > 0 ? `${((r.cpu * 100 * 10_000) / r.pps).toFixed(2)} %` : '—';
      console.log(
        `| ${source} | ${rate} | ${Math.round(r.pps)} | ${(r.cpu * 100).toFixed(2)} % | ${per10k} | ${r.rss.toFixed(0)} |`,
      );
    }
  }
} finally {
  sink.kill();
  server.kill();
  pair.cleanup();
}
