/**
 * Runs Flowgate's detection on every labelled scenario, for real: the scenario's pcap is turned
 * into flow export by a Debian exporter (softflowd NetFlow v9, pmacctd IPFIX or pmacctd sFlow),
 * sent over loopback UDP to a `flowgate collect` pipeline (in this process: startCollector), and
 * the alerts it raises are compared with the label. Prints a Markdown table: per scenario the
 * expected alert, whether it was raised, the time from attack start to alert on the capture's
 * clock (NetFlow/IPFIX records carry the capture's times; sFlow samples carry none, so sFlow runs
 * score detection only), and every other alert (false alerts).
 *
 *   node --import tsx eval/detection/evaluate.ts [--exporter softflowd|pmacct-ipfix|pmacct-sflow]
 *                                                [--only NAME,NAME] [--out FILE]
 *
 * Records are scaled back to real traffic: the exporter is configured with the scenario's scale as
 * its sampling rate (exporters[].samplerateoverride), as a 1-in-scale sampling router would be.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { startCollector } from '../../src/collector.js';
import type { Alert } from '../../src/detect/alert.js';
import {
  ACCEPTED_KINDS,
  AlertRecorder,
  cliOption,
  discardOutput,
  flowgateConfigFor,
} from './flowgate-under-test.js';
import { replayPmacctdNetflow, replayPmacctdSflow, replaySoftflowd } from './replay.js';
import { type GeneratedScenario, generateScenario, SCENARIO_NAMES } from './scenarios.js';

type Exporter = 'softflowd' | 'pmacct-ipfix' | 'pmacct-sflow';

async function replay(exporter: Exporter, s: GeneratedScenario, port: number): Promise<void> {
  if (exporter === 'softflowd') await replaySoftflowd(s.pcapPath, { port, version: 9 });
  else if (exporter === 'pmacct-ipfix') await replayPmacctdNetflow(s.pcapPath, { port, version: 10 });
  else await replayPmacctdSflow(s.pcapPath, { port });
}

interface Outcome {
  scenario: GeneratedScenario;
  expected: string;
  detected: Alert | null;
  /** An alert on the right target of another kind (e.g. udp_flood for a fragment flood). */
  otherKind: Alert | null;
  false: Alert[];
  records: number;
}

function targetOf(s: GeneratedScenario): string {
  return s.kind === 'port_scan' || s.kind === 'sweep' ? (s.attacker ?? s.victim) : s.victim;
}

async function evaluate(exporter: Exporter, s: GeneratedScenario, dir: string): Promise<Outcome> {
  const recorder = new AlertRecorder();
  const collector = await startCollector(flowgateConfigFor(s, dir), pino({ level: 'silent' }), {
    output: discardOutput,
    alertSinks: [recorder],
  });
  try {
    await replay(exporter, s, collector.listeners[0]?.port ?? 0);
    // Until every datagram is decoded, then two detection ticks (the last burst is evaluated by
    // the wall-clock tick once flow time stands still).
    let last = -1;
    while (collector.stats().received !== last) {
      last = collector.stats().received;
      await sleep(500);
    }
    await collector.flush();
    await sleep(2500);
    const records = collector.stats().detection?.records ?? 0;
    if (process.env.EVAL_DEBUG)
      process.stderr.write(
        `${JSON.stringify(collector.stats().detection)} ${JSON.stringify(recorder.started.map((a) => a.summary))}\n`,
      );
    const accepted = ACCEPTED_KINDS[s.kind];
    const target = targetOf(s);
    const detected =
      recorder.started.find(
        (a) => accepted.includes(a.kind) && a.target === target && a.startedAt >= s.attackStartMs - 5_000,
      ) ?? null;
    const otherKind =
      detected === null && s.kind !== 'benign'
        ? (recorder.started.find((a) => a.target === target) ?? null)
        : null;
    return {
      scenario: s,
      expected: s.kind === 'benign' ? 'no alert' : `${accepted.join(' or ')} on ${target}`,
      detected,
      otherKind,
      false: recorder.started.filter((a) => a !== detected && a !== otherKind),
      records,
    };
  } finally {
    await collector.stop();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)} s`;
}

async function main(): Promise<void> {
  const exporter = (cliOption('--exporter') ?? 'softflowd') as Exporter;
  const only = cliOption('--only')?.split(',') ?? null;
  const names = SCENARIO_NAMES.filter((n) => only === null || only.includes(n));
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-eval-'));
  const rows: string[] = [];
  let attacks = 0;
  let detected = 0;
  let falseAlerts = 0;
  try {
    for (const name of names) {
      const s = generateScenario(name, dir);
      const o = await evaluate(exporter, s, mkdtempSync(join(dir, `${name}-`)));
      const isAttack = s.kind !== 'benign';
      if (isAttack) attacks++;
      if (o.detected !== null) detected++;
      falseAlerts += o.false.length;
      const raised = o.detected ?? o.otherKind;
      const found =
        raised === null
          ? isAttack
            ? '**missed**'
            : 'none (correct)'
          : `${raised === o.otherKind ? 'other kind: ' : ''}${raised.kind}, ${raised.value.toPrecision(3)} ${raised.metric} when raised`;
      const delay =
        raised === null || exporter === 'pmacct-sflow' ? '–' : seconds(raised.startedAt - s.attackStartMs);
      const others = o.false.map((a) => `${a.kind} on ${a.target}`).join('; ') || '–';
      rows.push(
        `| ${name} | ${o.expected} | ${found} | ${delay} | ${others} | ${o.records.toLocaleString('en-US')} |`,
      );
      process.stderr.write(`${name}: ${found}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const table = [
    `Exporter: ${exporter}. ${detected} of ${attacks} attacks detected, ${falseAlerts} false alerts over ${names.length} scenarios.`,
    '',
    '| scenario | expected | raised | attack start → alert (capture clock) | other alerts | records |',
    '|---|---|---|---:|---|---:|',
    ...rows,
  ].join('\n');
  console.log(table);
  const out = cliOption('--out');
  if (out !== null) writeFileSync(out, `${table}\n`);
}

await main();
