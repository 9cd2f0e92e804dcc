#!/usr/bin/env node
// Runs every *.test.ts under test/ with Node's own test runner (TypeScript loaded through tsx).
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = findTests('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
/**
 * Tests that judge a real-time tool by arrival rates (FastNetMon averages packets per second as
 * they arrive) run last and alone: beside another test file on 2 cores, a starved replay can stay
 * under the tool's threshold.
 */
const ALONE = ['test/eval/fastnetmon.test.ts'];
const together = files.filter((f) => !ALONE.includes(f));
const alone = files.filter((f) => ALONE.includes(f));

function run(list, concurrency) {
  if (list.length === 0) return 0;
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...list],
    { stdio: 'inherit' },
  );
  return res.status ?? 1;
}

const first = run(together, 2);
const second = run(alone, 1);
process.exit(first !== 0 ? first : second);
