/**
 * Hostile input against FlowDecoder: random bytes behind each protocol's version header, template
 * floods from thousands of spoofed exporters, and mutations (truncations, bit flips, length fields
 * set to 0 / max) of every datagram of the corpus. The decoder must never throw, never take long
 * (50 ms for a datagram under 64 KiB), keep its state within the configured limits, and report what
 * it could not decode through the sink.
 *
 * Fixed seeds and modest run counts keep this file well under a minute on 2 cores; a longer run is
 * `FUZZ_RUNS=100000 node --import tsx bench/fuzz-long.ts`.
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readCaptureFile } from '../../src/capture/capture-reader.js';
import type { Datagram } from '../../src/decode/datagram.js';
import { detectProtocol, FlowDecoder } from '../../src/decode/flow-decoder.js';
import { DEFAULT_DECODE_LIMITS, defaultDecoderSettings } from '../../src/decode/settings.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { corpusFiles } from '../helpers/corpus.js';
import { HEADERS, ipfixTemplates, PREFIXES, prng, v9Templates } from '../helpers/fuzz-inputs.js';

const SEED = 20240601;
const SLOW_MS = 50;

/** Decodes one datagram; fails the test with the datagram's origin if it throws or is slow. */
function decodeChecked(decoder: FlowDecoder, d: Datagram, sink: CollectingSink, what: string): void {
  const t0 = performance.now();
  try {
    decoder.decode(d, sink);
  } catch (err) {
    assert.fail(`${what}: decode threw ${(err as Error).stack}`);
  }
  let ms = performance.now() - t0;
  // A GC pause or a deoptimisation can stall any one call; a slow input is slow every time, so
  // only the fastest of three tries counts.
  for (let retry = 0; retry < 2 && ms > SLOW_MS; retry++) {
    const t1 = performance.now();
    decoder.decode(d, new CollectingSink());
    ms = Math.min(ms, performance.now() - t1);
  }
  if (ms > SLOW_MS) assert.fail(`${what}: decode of ${d.payload.length} bytes took ${ms.toFixed(1)} ms`);
}

function datagram(payload: Buffer, src = '192.0.2.1', srcPort = 50000): Datagram {
  return {
    payload,
    srcAddress: src,
    srcPort,
    dstPort: 2055,
    receivedAtMs: Date.UTC(2024, 0, 1),
    connectionId: null,
  };
}

describe('fuzz: random bytes behind a valid-looking header', () => {
  for (const [name, header] of Object.entries(HEADERS)) {
    it(`${name}: never throws, never slow`, () => {
      const decoder = new FlowDecoder(defaultDecoderSettings());
      const sink = new CollectingSink();
      fc.assert(
        fc.property(
          // size 'max': fast-check would otherwise keep most arrays to a few bytes.
          fc.uint8Array({ maxLength: 1500, size: 'max' }),
          fc.nat(),
          fc.integer({ min: 0, max: 3 }),
          (body, n, src) => {
            decodeChecked(decoder, datagram(header(body, n), `192.0.2.${src + 1}`), sink, `${name} random`);
          },
        ),
        { seed: SEED, numRuns: 4000 },
      );
      // Random bytes are mostly rubbish: the decoder must have said so.
      assert.ok(sink.errors.length > 0, `${name}: no decode errors reported for random input`);
    });
  }

  it('bare version prefixes and large random datagrams (up to 64 KiB) stay under the time bound', () => {
    const decoder = new FlowDecoder(defaultDecoderSettings());
    const sink = new CollectingSink();
    fc.assert(
      fc.property(
        fc.constantFrom(...PREFIXES),
        fc.uint8Array({ maxLength: 65_000, size: 'max' }),
        (prefix, body) => {
          decodeChecked(decoder, datagram(Buffer.concat([Buffer.from(prefix), body])), sink, 'large random');
        },
      ),
      { seed: SEED, numRuns: 400 },
    );
  });
});

describe('fuzz: template flood from spoofed exporters', () => {
  it('templates per exporter and exporters stay within the limits', () => {
    const limits = { ...DEFAULT_DECODE_LIMITS, maxExporters: 200, maxTemplatesPerExporter: 32 };
    const decoder = new FlowDecoder(defaultDecoderSettings({ limits }));
    const sink = new CollectingSink();
    const heapBefore = process.memoryUsage().heapUsed;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3999 }),
        fc.array(fc.integer({ min: 256, max: 65_535 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        (host, ids, domain, ipfix) => {
          const src = `10.${(host >> 8) & 0xff}.${host & 0xff}.${domain + 1}`;
          const payload = ipfix ? ipfixTemplates(ids, domain) : v9Templates(ids, domain);
          decodeChecked(decoder, datagram(payload, src, 2000 + domain), sink, 'template flood');
        },
      ),
      { seed: SEED, numRuns: 5000 },
    );
    const stats = decoder.templates.exporterStats();
    assert.ok(
      stats.length <= limits.maxExporters,
      `${stats.length} exporters tracked, limit ${limits.maxExporters}`,
    );
    for (const s of stats) {
      assert.ok(s.templates <= limits.maxTemplatesPerExporter, `${s.exporter}: ${s.templates} templates`);
    }
    // The limits were actually hit and reported, not silently ignored.
    const kinds = new Set(sink.errorKinds());
    assert.ok(kinds.has('exporter_limit'), 'exporter_limit reported');
    assert.ok(kinds.has('template_limit'), 'template_limit reported');
    // 200 exporters × 32 two-field templates is small; a leak of thousands would show here.
    const grownMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    assert.ok(grownMb < 64, `heap grew by ${grownMb.toFixed(1)} MB`);
  });
});

/** Up to `max` datagrams spread over the whole list. */
function spread<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.floor((i * items.length) / max)]);
  return out;
}

/** Bytes a header of each protocol needs; shorter prefixes must always be reported. */
const MIN_HEADER: Record<string, number> = { netflow5: 24, netflow9: 20, ipfix: 16, sflow5: 28 };
const FLIPS = 24;
const MAX_TRUNCATIONS = 96;
const PER_FILE = 16;

describe('fuzz: mutations of every corpus datagram', () => {
  for (const folder of ['netflow5', 'netflow9', 'ipfix', 'sflow']) {
    it(`${folder}: truncations, bit flips, length fields 0 / max`, (t) => {
      const rand = prng(SEED);
      let mutations = 0;
      let reported = 0;
      for (const file of corpusFiles(folder)) {
        const all = [...readCaptureFile(file)].filter((d) => detectProtocol(d.payload) !== null);
        // One decoder per file, taught the file's own templates first, so data records get decoded
        // (with mutated templates too, when a template datagram is mutated).
        const decoder = new FlowDecoder(defaultDecoderSettings());
        const warm = new CollectingSink();
        for (const d of all) decodeChecked(decoder, d, warm, `${basename(file)} original`);
        for (const [i, d] of spread(all, PER_FILE).entries()) {
          const what = `${folder}/${basename(file)} datagram ${i + 1}`;
          const protocol = detectProtocol(d.payload)!;
          const len = d.payload.length;
          const with_ = (payload: Buffer) => ({ ...d, payload });
          // Truncations: every prefix of short datagrams, an even spread of long ones.
          const step = Math.max(1, Math.ceil(len / MAX_TRUNCATIONS));
          for (let cut = 0; cut < len; cut += step) {
            const sink = new CollectingSink();
            decodeChecked(
              decoder,
              with_(Buffer.from(d.payload.subarray(0, cut))),
              sink,
              `${what} cut at ${cut}`,
            );
            mutations++;
            if (cut < MIN_HEADER[protocol]) {
              assert.ok(
                sink.errors.length > 0,
                `${what} cut at ${cut} (< ${protocol} header): no error reported`,
              );
            }
          }
          // Random bit flips, one to four at a time.
          for (let n = 0; n < FLIPS; n++) {
            const p = Buffer.from(d.payload);
            const flips = 1 + Math.floor(rand() * 4);
            for (let k = 0; k < flips; k++) p[Math.floor(rand() * len)] ^= 1 << Math.floor(rand() * 8);
            const sink = new CollectingSink();
            decodeChecked(decoder, with_(p), sink, `${what} bit flips #${n}`);
            mutations++;
            reported += sink.errors.length;
          }
          // Length-looking fields: a u16 (u32 for sFlow's XDR) whose value could be a length or a
          // count within this datagram, set to 0 and to its maximum.
          const width = protocol === 'sflow5' ? 4 : 2;
          for (let off = 0; off + width <= len; off += 2) {
            const v = width === 2 ? d.payload.readUInt16BE(off) : d.payload.readUInt32BE(off);
            if (v === 0 || v > len) continue;
            for (const value of width === 2 ? [0, 0xffff] : [0, 0xffffffff]) {
              const p = Buffer.from(d.payload);
              if (width === 2) p.writeUInt16BE(value, off);
              else p.writeUInt32BE(value, off);
              const sink = new CollectingSink();
              decodeChecked(decoder, with_(p), sink, `${what} u${width * 8} at ${off} = ${value}`);
              mutations++;
              reported += sink.errors.length;
            }
          }
        }
      }
      t.diagnostic(`${mutations} mutated datagrams decoded, ${reported} errors reported`);
      assert.ok(mutations > 1000, `${folder}: only ${mutations} mutations tried`);
      // Corrupted lengths and counts must show up as decode errors, not vanish silently.
      assert.ok(
        reported > mutations / 20,
        `${folder}: ${reported} errors reported for ${mutations} mutations`,
      );
    });
  }
});
