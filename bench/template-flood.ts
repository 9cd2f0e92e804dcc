/**
 * What a template flood costs the decoder: IPFIX messages carrying only templates, from many
 * exporters, each template new. Reports templates defined per second and heap bytes per template
 * held, for templates that all share one layout and for templates whose layouts all differ
 * (nothing compiled can be shared), without data and with one record for each template (every
 * reader generated: the worst case).
 *
 *   node --expose-gc --import tsx bench/template-flood.ts [templates=50000] [fields=20]
 */
import type { Datagram } from '../src/decode/datagram.js';
import { FlowDecoder } from '../src/decode/flow-decoder.js';
import { DEFAULT_DECODE_LIMITS, defaultDecoderSettings } from '../src/decode/settings.js';
import { CollectingSink } from '../test/helpers/collecting-sink.js';
import { prng } from '../test/helpers/fuzz-inputs.js';

const TEMPLATES = Number(process.argv[2] ?? 50_000);
const FIELDS = Number(process.argv[3] ?? 20);
const PER_MESSAGE = 20;
const PER_EXPORTER = 1000;

/** Element ids a real template would use (addresses, ports, counters, times, interfaces...). */
const ELEMENTS: [number, number][] = [
  [1, 8],
  [2, 8],
  [4, 1],
  [5, 1],
  [6, 1],
  [7, 2],
  [8, 4],
  [10, 4],
  [11, 2],
  [12, 4],
  [14, 4],
  [15, 4],
  [16, 4],
  [17, 4],
  [27, 16],
  [28, 16],
  [32, 2],
  [58, 2],
  [61, 1],
  [136, 1],
  [152, 8],
  [153, 8],
  [176, 1],
  [177, 1],
  [225, 4],
  [226, 4],
  [227, 2],
  [228, 2],
  [95, 4],
  [89, 1],
];

function layout(rand: () => number, varied: boolean): [number, number][] {
  if (!varied) return ELEMENTS.slice(0, FIELDS);
  // A random subset in a random order: practically every template differs.
  const pool = [...ELEMENTS];
  const out: [number, number][] = [];
  for (let i = 0; i < FIELDS && pool.length > 0; i++)
    out.push(pool.splice(Math.floor(rand() * pool.length), 1)[0] as [number, number]);
  return out;
}

/** Template set, then (withData) one data set per template holding one all-zero record. */
function message(ids: number[], fields: [number, number][][], withData: boolean): Buffer {
  const setLen = 4 + ids.reduce((n, _id, i) => n + 4 + 4 * (fields[i]?.length ?? 0), 0);
  const recordLen = (f: [number, number][]) => f.reduce((n, [, len]) => n + len, 0);
  const dataLen = withData ? ids.reduce((n, _id, i) => n + 4 + recordLen(fields[i] ?? []), 0) : 0;
  const b = Buffer.alloc(16 + setLen + dataLen);
  b.writeUInt16BE(10, 0);
  b.writeUInt16BE(b.length, 2);
  b.writeUInt32BE(1_700_000_000, 4);
  b.writeUInt16BE(2, 16);
  b.writeUInt16BE(setLen, 18);
  let off = 20;
  ids.forEach((id, i) => {
    const f = fields[i] ?? [];
    b.writeUInt16BE(id, off);
    b.writeUInt16BE(f.length, off + 2);
    off += 4;
    for (const [e, len] of f) {
      b.writeUInt16BE(e, off);
      b.writeUInt16BE(len, off + 2);
      off += 4;
    }
  });
  if (withData)
    ids.forEach((id, i) => {
      const len = 4 + recordLen(fields[i] ?? []);
      b.writeUInt16BE(id, off);
      b.writeUInt16BE(len, off + 2);
      off += len;
    });
  return b;
}

function run(varied: boolean, withData: boolean): void {
  const rand = prng(7);
  const decoder = new FlowDecoder({
    ...defaultDecoderSettings(),
    limits: { ...DEFAULT_DECODE_LIMITS, maxTemplates: TEMPLATES + 1 } as typeof DEFAULT_DECODE_LIMITS,
  });
  const messages: Datagram[] = [];
  for (let t = 0; t < TEMPLATES; t += PER_MESSAGE) {
    const exporter = Math.floor(t / PER_EXPORTER);
    const ids = Array.from({ length: PER_MESSAGE }, (_, i) => 256 + ((t + i) % PER_EXPORTER));
    const payload = message(
      ids,
      ids.map(() => layout(rand, varied)),
      withData,
    );
    messages.push({
      payload,
      srcAddress: `127.${(exporter >> 16) & 255}.${(exporter >> 8) & 255}.${exporter & 255}`,
      srcPort: 4739,
      dstPort: 4739,
      receivedAtMs: Date.now(),
      connectionId: null,
    });
  }
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const sink = new CollectingSink();
  const t0 = performance.now();
  for (const d of messages) decoder.decode(d, sink);
  const s = (performance.now() - t0) / 1000;
  global.gc?.();
  const heap = process.memoryUsage().heapUsed - heap0;
  // Summed per exporter (not store.templatesHeld) so the script also runs on older trees.
  const held = decoder.templates.exporterStats().reduce((n, e) => n + e.templates, 0);
  console.log(
    `| ${varied ? 'every layout different' : 'one layout'}${withData ? ', one record each' : ''} | ${FIELDS} | ${held} | ${Math.round(held / s).toLocaleString('en')} | ${Math.round(heap / held).toLocaleString('en')} |`,
  );
}

console.log(`template flood: ${TEMPLATES} templates, ${FIELDS} fields each, ${PER_EXPORTER} per exporter`);
console.log('| templates | fields | held | defined/s | heap bytes per template |');
console.log('|---|---:|---:|---:|---:|');
run(false, false);
run(true, false);
// The worst case: data for every template, so every reader is generated (and none shared).
run(true, true);
