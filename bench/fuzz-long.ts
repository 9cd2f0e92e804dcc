/**
 * A longer fuzzing run than the test suite's (test/fuzz/decoders.fuzz.test.ts,
 * test/fuzz/parsers.fuzz.test.ts): every target of test/helpers/fuzz-inputs.ts (capture reader,
 * cloud flow logs and Azure framing, configuration loader, filter language, agent parsers, flow
 * decoders) with a new seed each run, printed so a failure can be replayed with FUZZ_SEED.
 *
 *   FUZZ_RUNS=100000 [FUZZ_SEED=123] [FUZZ_ONLY=filter] node --import tsx bench/fuzz-long.ts
 *   FUZZ_TOTAL=10000000 node --import tsx bench/fuzz-long.ts
 *
 * FUZZ_RUNS gives every target that many cases. FUZZ_TOTAL splits a total between the targets in
 * proportion to their speed (measured on a short first run of each), so every target gets about
 * the same time and cheap targets the most cases; FUZZ_MIN_RUNS (default 2000) is each target's
 * floor. A target's cases come from its own seed (FUZZ_SEED mixed with its name), so
 * `FUZZ_ONLY=<name> FUZZ_RUNS=<failing case + 1>` replays a failure alone; the failing input is
 * also written next to the report.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { allTargets, FuzzFailure, type FuzzTarget, prng, targetSeed } from '../test/helpers/fuzz-inputs.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = process.env.FUZZ_RUNS === undefined ? null : Number(process.env.FUZZ_RUNS);
const TOTAL = Number(process.env.FUZZ_TOTAL ?? 200_000);
const MIN_RUNS = Number(process.env.FUZZ_MIN_RUNS ?? 2000);
const ONLY = process.env.FUZZ_ONLY;
/** Cases of the speed probe that sizes each target's share of FUZZ_TOTAL (counted in its cases). */
const PROBE_MS = 1500;

interface Row {
  name: string;
  cases: number;
  seconds: number;
  failures: number;
}

/** Failures are reported and saved, and the run goes on; a target stops after this many. */
const MAX_FAILURES_PER_TARGET = 5;
const failures = new Map<string, number>();

/** Runs cases of `t` until `cases` are done or, when `untilMs` is set, that much time has passed. */
function runTarget(t: FuzzTarget, rand: () => number, done: number, cases: number, untilMs = 0): number {
  const t0 = performance.now();
  let i = done;
  for (; i < cases; i++) {
    try {
      t.run(rand);
    } catch (err) {
      const input = err instanceof FuzzFailure ? err.input : '';
      const file = join(tmpdir(), `fuzz-failure-${SEED}-${i}.bin`);
      writeFileSync(file, input);
      console.error(
        `\nFAILED ${t.name}, case ${i} (replay: FUZZ_SEED=${SEED} FUZZ_ONLY=${JSON.stringify(t.name)} FUZZ_RUNS=${i + 1}); input in ${file}\n${(err as Error).stack ?? String(err)}`,
      );
      const n = (failures.get(t.name) ?? 0) + 1;
      failures.set(t.name, n);
      if (n >= MAX_FAILURES_PER_TARGET) return i + 1;
    }
    if (untilMs > 0 && (i & 63) === 0 && performance.now() - t0 > untilMs) return i + 1;
  }
  return i;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-long-'));
  try {
    const targets = allTargets(dir).filter((t) => ONLY === undefined || t.name.includes(ONLY));
    console.log(
      `fuzz-long: seed ${SEED}, ${RUNS === null ? `total ${TOTAL} cases (floor ${MIN_RUNS} per target)` : `${RUNS} cases per target`}, ${targets.length} targets`,
    );
    console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`);
    const rows: Row[] = [];
    const rands = targets.map((t) => prng(targetSeed(SEED, t.name)));
    const done = targets.map(() => 0);
    const spent = targets.map(() => 0);
    let plan: number[];
    if (RUNS !== null) plan = targets.map(() => RUNS);
    else {
      // Probe every target's speed, then give each the same time: cases ∝ speed.
      const rates = targets.map((t, k) => {
        // The first case loads the target's corpus: not part of its speed.
        const w0 = performance.now();
        runTarget(t, rands[k]!, 0, 1);
        const warm = performance.now() - w0;
        const t0 = performance.now();
        done[k] = runTarget(t, rands[k]!, 1, Number.MAX_SAFE_INTEGER, PROBE_MS);
        spent[k] = warm + performance.now() - t0;
        return (done[k]! - 1) / (performance.now() - t0);
      });
      const sum = rates.reduce((a, b) => a + b, 0);
      plan = rates.map((r) => Math.max(MIN_RUNS, Math.round((TOTAL * r) / sum)));
      console.log(`probe done; plan: ${plan.reduce((a, b) => a + b, 0)} cases`);
    }
    for (const [k, t] of targets.entries()) {
      const t0 = performance.now();
      done[k] = runTarget(t, rands[k]!, done[k]!, Math.max(plan[k]!, done[k]!));
      spent[k] = spent[k]! + performance.now() - t0;
      rows.push({
        name: t.name,
        cases: done[k]!,
        seconds: spent[k]! / 1000,
        failures: failures.get(t.name) ?? 0,
      });
      console.log(
        `  ${t.name}: ${done[k]} cases, ${failures.get(t.name) ?? 0} failures, ${(spent[k]! / 1000).toFixed(1)} s`,
      );
    }
    printTable(rows);
    if (failures.size > 0) {
      console.log(`\nFAILURES: ${[...failures].map(([name, n]) => `${name} ×${n}`).join(', ')}`);
      process.exitCode = 1;
    } else console.log('\nno failures');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(rows: Row[]): void {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const perHour = (r: { cases: number; seconds: number }) =>
    r.seconds > 0 ? (r.cases / r.seconds) * 3600 : 0;
  const total = { cases: 0, seconds: 0 };
  for (const r of rows) {
    total.cases += r.cases;
    total.seconds += r.seconds;
  }
  console.log(`\nseed ${SEED}\n`);
  let failed = 0;
  console.log('| target | cases | seconds | cases/hour | failures |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    failed += r.failures;
    console.log(
      `| ${r.name} | ${fmt(r.cases)} | ${r.seconds.toFixed(1)} | ${fmt(perHour(r))} | ${r.failures} |`,
    );
  }
  console.log(
    `| **total** | **${fmt(total.cases)}** | **${total.seconds.toFixed(1)}** | **${fmt(perHour(total))}** | **${failed}** |`,
  );
}

main();
