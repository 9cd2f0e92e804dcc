/**
 * Flowgate and FastNetMon side by side, in REAL TIME, on the same flow export: each scenario pcap
 * is sent onto a private veth pair by tcpreplay with its own timing (see wire-lab.ts), one pmacctd
 * captures the other end and exports every packet twice, IPFIX to an in-process Flowgate collector
 * and sFlow v5 to FastNetMon (see live-pmacctd.ts). FastNetMon rates traffic by arrival time, so
 * only a real-time replay compares the two fairly, including the time to alert: wall clock from
 * the attack's start (replay start + the scenario's lead) to Flowgate's `detectedAt` / FastNetMon's
 * ban notification.
 *
 *   node --import tsx eval/detection/realtime.ts [--only NAME,NAME] [--lead SECONDS] [--tail SECONDS]
 *                                                [--flowgate-feed ipfix|sflow] [--out FILE]
 *
 * Needs root (namespaces, capture), tcpreplay, pmacctd and fastnetmon. A scenario takes
 * lead + 60 s + tail plus ~20 s of start and drain (default about 2.5 minutes).
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { startCollector } from '../../src/collector.js';
import type { Alert } from '../../src/detect/alert.js';
import { DEFAULT_THRESHOLDS } from '../../src/detect/detection-config.js';
import { type FastnetmonBan, FastnetmonProcess } from './fastnetmon.js';
import {
  ACCEPTED_KINDS,
  AlertRecorder,
  cliOption,
  discardOutput,
  flowgateConfigFor,
} from './flowgate-under-test.js';
import { startLivePmacctd } from './live-pmacctd.js';
import { type GeneratedScenario, generateScenario, INTERNAL_NETWORKS } from './scenarios.js';
import { createWireLab } from './wire-lab.js';

const DEFAULT_SCENARIOS = ['udp-flood', 'syn-flood', 'dns-reflection', 'icmp-flood', 'busy-web-server'];

/**
 * Short timeouts as in a flow-based DDoS-detection deployment: records of a running flood leave
 * the probe every 10 s at most (maxlife = active timeout), idle flows after 5 s (1 s after RST/FIN),
 * and the cache is checked every second (expint; pmacctd's default of 60 s would delay everything).
 */
const NFPROBE_TIMEOUTS = 'maxlife=10:general=5:tcp=5:tcp.rst=1:tcp.fin=1:udp=5:icmp=5:expint=1';

/** How long records may still be on their way after the replay: inactive timeout + expiry + slack. */
const DRAIN_MS = 12_000;

/** What Flowgate is fed: IPFIX (a flow cache with short timeouts) or the same sFlow as FastNetMon. */
const FLOWGATE_FEED: 'ipfix' | 'sflow' = cliOption('--flowgate-feed') === 'sflow' ? 'sflow' : 'ipfix';

/**
 * FastNetMon 1.2.4 (community) settings closest to Flowgate's defaults: the same per-host pps,
 * bandwidth and flows/s limits, and its per-protocol pps limits set to Flowgate's udppps and
 * icmppps. It has no SYN-only limit: its TCP pps limit (every TCP packet) gets Flowgate's synpps.
 */
const FASTNETMON_THRESHOLDS = {
  thresholdPps: DEFAULT_THRESHOLDS.pps ?? 100_000,
  thresholdMbps: (DEFAULT_THRESHOLDS.bps ?? 1_000_000_000) / 1_000_000,
  thresholdFlows: DEFAULT_THRESHOLDS.flows ?? 3_500,
  extraSettings: {
    ban_for_udp_pps: 'on',
    threshold_udp_pps: DEFAULT_THRESHOLDS.udppps ?? 30_000,
    ban_for_icmp_pps: 'on',
    threshold_icmp_pps: DEFAULT_THRESHOLDS.icmppps ?? 5_000,
    ban_for_tcp_pps: 'on',
    threshold_tcp_pps: DEFAULT_THRESHOLDS.synpps ?? 5_000,
  },
} as const;

/** A UDP port free on 127.0.0.1 right now (FastNetMon needs a number in its config). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

interface DetectorOutcome {
  /** What was raised on the target: a short description, or null. */
  raised: string | null;
  /** ms from the attack's start (wall clock) to the alert/ban. */
  delayMs: number | null;
  others: string[];
}

interface Outcome {
  expected: string;
  flowgate: DetectorOutcome;
  fastnetmon: DetectorOutcome;
  records: number;
  pmacctdCounters: string;
}

function scoreFlowgate(s: GeneratedScenario, alerts: Alert[], attackWallMs: number): DetectorOutcome {
  const accepted = ACCEPTED_KINDS[s.kind];
  const hit =
    s.kind === 'benign'
      ? undefined
      : (alerts.find(
          (a) => accepted.includes(a.kind) && a.target === s.victim && a.detectedAt >= attackWallMs - 5_000,
        ) ?? alerts.find((a) => a.target === s.victim && a.detectedAt >= attackWallMs - 5_000));
  return {
    raised:
      hit === undefined
        ? null
        : `${accepted.includes(hit.kind) ? '' : 'other kind: '}${hit.kind}, ${hit.value.toPrecision(3)} ${hit.metric}`,
    delayMs: hit === undefined ? null : hit.detectedAt - attackWallMs,
    others: alerts.filter((a) => a !== hit).map((a) => `${a.kind} on ${a.target}`),
  };
}

function scoreFastnetmon(s: GeneratedScenario, bans: FastnetmonBan[], attackWallMs: number): DetectorOutcome {
  const hit =
    s.kind === 'benign'
      ? undefined
      : bans.find((b) => b.ip === s.victim && b.notifiedAtMs >= attackWallMs - 5_000);
  return {
    raised:
      hit === undefined
        ? null
        : `ban ${hit.direction}, ${hit.attackType ?? 'type?'}${hit.protocol !== null ? `/${hit.protocol}` : ''}, ${hit.pps.toLocaleString('en-US')} pps`,
    delayMs: hit === undefined ? null : hit.notifiedAtMs - attackWallMs,
    others: bans.filter((b) => b !== hit).map((b) => `${b.attackType ?? 'ban'} on ${b.ip} (${b.direction})`),
  };
}

async function runScenario(s: GeneratedScenario, dir: string): Promise<Outcome> {
  const recorder = new AlertRecorder();
  const lab = createWireLab();
  const cleanups: (() => Promise<void>)[] = [async () => lab.close()];
  try {
    const collector = await startCollector(flowgateConfigFor(s, dir), pino({ level: 'silent' }), {
      output: discardOutput,
      alertSinks: [recorder],
    });
    cleanups.push(() => collector.stop());
    const sflowPort = await freeUdpPort();
    const fastnetmon = await FastnetmonProcess.start({
      sflowPort,
      networks: INTERNAL_NETWORKS.filter((n) => !n.includes(':')),
      averageCalculationSeconds: 5,
      ...FASTNETMON_THRESHOLDS,
    });
    cleanups.push(() => fastnetmon.stop());
    const pmacctd = await startLivePmacctd({
      interface: lab.captureInterface,
      ipfixPort: collector.listeners[0]?.port ?? 0,
      sflowPort,
      externalSamplingRate: s.scale,
      nfprobeTimeouts: NFPROBE_TIMEOUTS,
      flowgateFeed: FLOWGATE_FEED,
    });
    let pmacctdStopped = false;
    cleanups.push(async () => {
      if (!pmacctdStopped) await pmacctd.stop();
    });

    const durationMs = s.captureEndMs - s.captureStartMs;
    const { startedAtMs } = await lab.replay(s.pcapPath, durationMs + 60_000);
    const attackWallMs = startedAtMs + (s.attackStartMs - s.captureStartMs);
    await sleep(DRAIN_MS);
    // Stopping pmacctd flushes what is left in its caches; then let both detectors evaluate it.
    await pmacctd.stop();
    pmacctdStopped = true;
    await collector.flush();
    await sleep(6_000);

    const counters =
      /received_packets=\d+ dropped_packets=\d+/.exec(pmacctd.output())?.[0] ??
      'capture counters not printed';
    return {
      expected:
        s.kind === 'benign' ? 'no alert' : `${ACCEPTED_KINDS[s.kind].join(' or ')} / ban on ${s.victim}`,
      flowgate: scoreFlowgate(s, recorder.started, attackWallMs),
      fastnetmon: scoreFastnetmon(s, fastnetmon.bans(), attackWallMs),
      records: collector.stats().detection?.records ?? 0,
      pmacctdCounters: counters,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  }
}

function delay(ms: number | null): string {
  return ms === null ? '–' : `${(ms / 1000).toFixed(1)} s`;
}

function cell(o: DetectorOutcome, isAttack: boolean): string {
  if (o.raised !== null) return o.raised;
  return isAttack ? '**missed**' : 'none (correct)';
}

async function main(): Promise<void> {
  const names = cliOption('--only')?.split(',') ?? DEFAULT_SCENARIOS;
  const leadSeconds = Number(cliOption('--lead') ?? 60);
  const tailSeconds = Number(cliOption('--tail') ?? 10);
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-realtime-'));
  const rows: string[] = [];
  const counters: string[] = [];
  try {
    for (const name of names) {
      const s = generateScenario(name, dir, { leadSeconds, tailSeconds });
      process.stderr.write(
        `${name}: replaying ${((s.captureEndMs - s.captureStartMs) / 1000).toFixed(0)} s\n`,
      );
      const o = await runScenario(s, mkdtempSync(join(dir, `${name}-`)));
      const isAttack = s.kind !== 'benign';
      rows.push(
        `| ${name} | ${o.expected} | ${cell(o.flowgate, isAttack)} | ${delay(o.flowgate.delayMs)} | ${o.flowgate.others.join('; ') || '–'} | ${cell(o.fastnetmon, isAttack)} | ${delay(o.fastnetmon.delayMs)} | ${o.fastnetmon.others.join('; ') || '–'} |`,
      );
      counters.push(`${name}: pmacctd ${o.pmacctdCounters}, Flowgate records ${o.records}`);
      process.stderr.write(
        `${name}: flowgate ${cell(o.flowgate, isAttack)}; fastnetmon ${cell(o.fastnetmon, isAttack)}\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const t = FASTNETMON_THRESHOLDS;
  const table = [
    `Real-time replay (tcpreplay, pcap timing) of ${names.length} scenarios: ${leadSeconds} s background, 60 s event, ${tailSeconds} s background; ${cpus().length} vCPU (${cpus()[0]?.model ?? '?'}).`,
    FLOWGATE_FEED === 'sflow'
      ? 'One pmacctd on the capture veth: the same sFlow v5 to Flowgate and to FastNetMon; both announce 1:scale sampling (pmacctd_ext_sampling_rate = scenario scale; Flowgate samplerateoverride = scale).'
      : `One pmacctd on the capture veth: IPFIX (nfprobe_timeouts ${NFPROBE_TIMEOUTS}) to Flowgate, sFlow v5 to FastNetMon; both announce 1:scale sampling (pmacctd_ext_sampling_rate = scenario scale; Flowgate samplerateoverride = scale).`,
    `FastNetMon: average_calculation_time 5 s, threshold_pps ${t.thresholdPps}, threshold_mbps ${t.thresholdMbps}, threshold_flows ${t.thresholdFlows}, threshold_udp_pps ${t.extraSettings.threshold_udp_pps}, threshold_icmp_pps ${t.extraSettings.threshold_icmp_pps}, threshold_tcp_pps ${t.extraSettings.threshold_tcp_pps}. Flowgate: default detection thresholds.`,
    'Delays: wall clock from the attack start (replay start + lead) to Flowgate detectedAt / FastNetMon ban notification.',
    '',
    '| scenario | expected | Flowgate | Flowgate delay | Flowgate other alerts | FastNetMon | FastNetMon delay | FastNetMon other bans |',
    '|---|---|---|---:|---|---|---:|---|',
    ...rows,
    '',
    ...counters.map((c) => `- ${c}`),
  ].join('\n');
  console.log(table);
  const out = cliOption('--out');
  if (out !== null) writeFileSync(out, `${table}\n`);
}

await main();
