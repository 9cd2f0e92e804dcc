/**
 * A longer fuzzing run than the test suite's (test/fuzz/decoders.fuzz.test.ts): random bytes behind
 * valid-looking headers of each protocol, and random bit flips of every corpus datagram, with a new
 * seed each run (printed, so a failure can be replayed with FUZZ_SEED).
 *
 *   FUZZ_RUNS=100000 [FUZZ_SEED=123] node --import tsx bench/fuzz-long.ts
 */
import fc from 'fast-check';
import { readCaptureFile } from '../src/capture/capture-reader.js';
import type { Datagram } from '../src/decode/datagram.js';
import { detectProtocol, FlowDecoder } from '../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import { CollectingSink } from '../test/helpers/collecting-sink.js';
import { corpusFiles } from '../test/helpers/corpus.js';
import { HEADERS, prng } from '../test/helpers/fuzz-inputs.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const SLOW_MS = 50;

let slowest = 0;

function decode(decoder: FlowDecoder, d: Datagram, what: string): void {
  const t0 = performance.now();
  try {
    decoder.decode(d, new CollectingSink());
  } catch (err) {
    throw new Error(`${what}: decode threw (seed ${SEED}): ${(err as Error).stack}`);
  }
  const ms = performance.now() - t0;
  slowest = Math.max(slowest, ms);
  if (ms > SLOW_MS) {
    const again = performance.now();
    decoder.decode(d, new CollectingSink());
    if (performance.now() - again > SLOW_MS) throw new Error(`${what}: ${ms.toFixed(1)} ms (seed ${SEED})`);
  }
}

function datagram(payload: Buffer, src: string): Datagram {
  return {
    payload,
    srcAddress: src,
    srcPort: 50000,
    dstPort: 2055,
    receivedAtMs: Date.UTC(2024, 0, 1),
    connectionId: null,
  };
}

function main(): void {
  console.log(`fuzz-long: ${RUNS} runs per property, seed ${SEED}`);
  const t0 = performance.now();
  for (const [name, header] of Object.entries(HEADERS)) {
    const decoder = new FlowDecoder(defaultDecoderSettings());
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 9000, size: 'max' }),
        fc.nat(),
        fc.integer({ min: 0, max: 63 }),
        (body, n, src) => {
          decode(decoder, datagram(header(body, n), `198.51.100.${src}`), `${name} random`);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`  ${name}: ${RUNS} random datagrams ok`);
  }
  const rand = prng(SEED);
  let mutations = 0;
  for (const folder of ['netflow5', 'netflow9', 'ipfix', 'sflow']) {
    const decoder = new FlowDecoder(defaultDecoderSettings());
    const datagrams = corpusFiles(folder).flatMap((f) =>
      [...readCaptureFile(f)].filter((d) => detectProtocol(d.payload) !== null).map((d) => ({ d, f })),
    );
    for (const { d } of datagrams) decode(decoder, d, `${folder} original`);
    const perFolder = Math.ceil(RUNS / 4);
    for (let i = 0; i < perFolder; i++) {
      const { d, f } = datagrams[Math.floor(rand() * datagrams.length)];
      const p = Buffer.from(d.payload);
      const flips = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < flips; k++) p[Math.floor(rand() * p.length)] ^= 1 << Math.floor(rand() * 8);
      if (rand() < 0.2) {
        decode(decoder, { ...d, payload: p.subarray(0, Math.floor(rand() * p.length)) }, `${f} flipped+cut`);
      } else decode(decoder, { ...d, payload: p }, `${f} flipped`);
      mutations++;
    }
    console.log(`  ${folder}: ${perFolder} mutated corpus datagrams ok`);
  }
  console.log(
    `done in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${mutations} mutations, slowest decode ${slowest.toFixed(2)} ms`,
  );
}

main();
