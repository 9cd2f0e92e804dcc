/**
 * Hostile input against every parser but the flow decoders (those are in decoders.fuzz.test.ts):
 * capture files (pcap, pcapng, RFC 5655, link layers, IP/UDP, fragment reassembly), cloud flow
 * logs and the Azure records framer, the configuration loader, the filter language and the agent's
 * packet and conntrack parsers. Each must never throw anything but its documented error, never take
 * long, and hand out well-typed values (test/helpers/fuzz-inputs.ts holds the targets and their
 * properties).
 *
 * Fixed seeds and modest case counts keep this file well under a minute on 2 cores; the long run
 * is `FUZZ_TOTAL=10000000 node --import tsx bench/fuzz-long.ts`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { formatFilter } from '../../src/query/filter-format.js';
import { matchFilter } from '../../src/query/filter-match.js';
import { FilterSyntaxError, MAX_FILTER_DEPTH, parseFilter } from '../../src/query/filter-parse.js';
import {
  agentTargets,
  captureTargets,
  cloudTargets,
  configTargets,
  type FuzzTarget,
  filterTargets,
  prng,
  randomRecord,
  targetSeed,
} from '../helpers/fuzz-inputs.js';

const SEED = 20261124;
const dir = mkdtempSync(join(tmpdir(), 'parsers-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Cases per target: file-backed targets (a write and a read per case) get fewer. */
const CASES: Record<string, number> = {
  capture: 1500,
  config: 800,
  cloud: 4000,
  filter: 6000,
  agent: 10000,
};

function runCases(t: FuzzTarget, cases: number): void {
  const rand = prng(targetSeed(SEED, t.name));
  for (let i = 0; i < cases; i++) t.run(rand); // a FuzzFailure names the property and shows the input
}

const groups: [string, FuzzTarget[]][] = [
  ['capture', captureTargets(dir)],
  ['cloud', cloudTargets()],
  ['config', configTargets(dir)],
  ['filter', filterTargets()],
  ['agent', agentTargets()],
];

for (const [group, targets] of groups) {
  describe(`fuzz: ${group}`, () => {
    for (const t of targets) {
      it(`${t.name}: ${CASES[group]} cases`, () => runCases(t, CASES[group] ?? 1000));
    }
  });
}

describe('fuzz: filter language edges', () => {
  it('any string parses or throws FilterSyntaxError with a position inside it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        try {
          parseFilter(text);
        } catch (err) {
          assert.ok(err instanceof FilterSyntaxError, `${JSON.stringify(text)} threw ${String(err)}`);
          assert.ok(err.position >= 0 && err.position <= text.length, `position ${err.position}`);
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('100,000 levels of parentheses or negations are refused with a FilterSyntaxError, no stack overflow', () => {
    for (const text of [
      `${'('.repeat(100_000)}tcp${')'.repeat(100_000)}`,
      `${'!'.repeat(100_000)}tcp`,
      `${'not '.repeat(100_000)}tcp`,
    ]) {
      assert.throws(
        () => parseFilter(text),
        (e: unknown) => e instanceof FilterSyntaxError && /limit is 4096/.test(e.message),
      );
    }
    // Within the length limit, the depth limit speaks.
    for (const text of [`${'('.repeat(2000)}tcp${')'.repeat(2000)}`, `${'!'.repeat(4000)}tcp`]) {
      assert.throws(
        () => parseFilter(text),
        (e: unknown) =>
          e instanceof FilterSyntaxError && e.message.includes(`nested deeper than ${MAX_FILTER_DEPTH}`),
      );
    }
  });

  it('long flat chains (hundreds of or / and) parse, print back and match without recursion trouble', () => {
    const ports = Array.from({ length: 340 }, (_, i) => `port ${i}`).join(' or ');
    assert.ok(ports.length <= 4096);
    const e = parseFilter(ports);
    const rec = randomRecord(prng(1));
    rec.srcport = 339;
    assert.equal(matchFilter(e, rec), true);
    rec.srcport = 340;
    rec.dstport = 340;
    assert.equal(matchFilter(e, rec), false);
    const chain = parseFilter(Array.from({ length: 300 }, () => 'tcp').join(' and '));
    assert.deepEqual(parseFilter(formatFilter(chain)), chain);
    assert.equal(matchFilter(chain, rec), rec.protocolint === 6);
  });
});
