/**
 * DuckDB store append throughput: batches of decoded records (a NetFlow v5 corpus capture,
 * replayed with shifted times and addresses so every row differs) written through the store's
 * write(), up to 8 in flight as the store output does (writes arriving during a commit are merged
 * into the next transaction): partition routing, address integers, data chunks straight into the day's
 * file with the batch's per-minute rollup rows, the commit (WAL) per batch, and the checkpoints
 * DuckDB runs when the WAL passes its threshold (run 20 s or more to include several).
 *
 *   node --import tsx bench/duckdb-append.ts [--seconds 5] [--batch 2000] [--worker]
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowRecord } from '../src/record/flow-record.js';
import type { FlowStore } from '../src/store/contract.js';
import { DuckDbStore } from '../src/store/duckdb/duckdb-store.js';
import { DuckDbWorkerStore } from '../src/store/duckdb/worker-store.js';
import { storeBenchBatches } from './store-batches.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const seconds = arg('seconds', 5);
const batchSize = arg('batch', 2000);
/** --worker: the store on its worker thread, as `flowgate collect` runs it. */
const worker = process.argv.includes('--worker');
const IN_FLIGHT = 8;

// Pre-built (not timed); see store-batches.ts.
const batches = storeBenchBatches(batchSize, 1_000_000);

const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-duckdb-'));
const store: FlowStore = worker ? new DuckDbWorkerStore({ dir }) : new DuckDbStore({ dir });
await store.open();
try {
  let written = 0;
  let k = 0;
  /** Writes handed over and not yet committed, as the store output keeps them (see store-output.ts). */
  const inFlight = new Set<Promise<void>>();
  const pump = async (until: number, count: boolean): Promise<void> => {
    while (performance.now() < until) {
      if (inFlight.size >= IN_FLIGHT) {
        await Promise.race(inFlight);
        continue;
      }
      const batch = batches[k++ % batches.length] as FlowRecord[];
      const w: Promise<void> = store.write(batch).then(() => {
        inFlight.delete(w);
        if (count) written += batch.length;
      });
      inFlight.add(w);
    }
    await Promise.all(inFlight);
  };
  await pump(performance.now() + 1000, false);
  const t0 = performance.now();
  await pump(t0 + seconds * 1000, true);
  const t = performance.now();
  const perSec = written / ((t - t0) / 1000);
  const h = store.health();
  console.log(
    `duckdb append: ${Math.round(perSec).toLocaleString('en-US')} records/s ` +
      `(batches of ${batchSize}, ${written.toLocaleString('en-US')} records in ${((t - t0) / 1000).toFixed(1)} s, ` +
      `${(h.bytes / h.recordsWritten).toFixed(1)} bytes/record on disk incl. WAL)`,
  );
  await store.close();
  // After close every WAL is folded into its file: the size a day of records really takes.
  const bytes = readdirSync(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  const perRecord = bytes / h.recordsWritten;
  console.log(
    `on disk after close: ${perRecord.toFixed(1)} bytes/record ` +
      `(${((perRecord * 10_000 * 86_400) / 1e9).toFixed(1)} GB per day at 10k records/s)`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
