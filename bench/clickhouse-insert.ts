/**
 * ClickHouse store insert throughput: batches of decoded records (a NetFlow v5 corpus capture,
 * replayed with shifted times and addresses so every row differs) written through the store's
 * write(), up to 8 in flight as the store output does, against a clickhouse-server the bench
 * starts on loopback (test/helpers/clickhouse-server.ts). The store encodes each batch as RowBinary
 * and merges writes queued behind its running INSERTs. Besides records/s it prints the CPU time per
 * record of Node (encoding, HTTP, GC; includes this bench's own loop) and of clickhouse-server
 * (parsing, part files, background merges), so the side that limits the rate shows.
 *
 * The server's own limit, for comparison: the same rows as one file through clickhouse-client,
 *   clickhouse-client --port P --query 'INSERT INTO bench.flows (...) FORMAT RowBinary' < rows.bin
 *
 *   node --import tsx bench/clickhouse-insert.ts [--seconds 5] [--batch 10000]
 */
import { readFileSync } from 'node:fs';
import type { FlowRecord } from '../src/record/flow-record.js';
import { ClickHouseStore } from '../src/store/clickhouse/clickhouse-store.js';
import { startClickHouse } from '../test/helpers/clickhouse-server.js';
import { storeBenchBatches } from './store-batches.js';

/** User + system CPU time of a process, ms (Linux /proc; clock ticks are 10 ms). */
function serverCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const seconds = arg('seconds', 5);
const batchSize = arg('batch', 10_000);
const IN_FLIGHT = 8;

// Pre-built (not timed), 200,000 records at most, as a collector holds in its queues at most:
// more would only make every garbage collection in the timed loop mark a heap the store never has.
const batches = storeBenchBatches(batchSize, 200_000);

const server = await startClickHouse();
const store = new ClickHouseStore({
  url: server.url,
  database: 'bench',
  username: 'default',
  password: null,
  cluster: null,
});
try {
  await store.open();
  let written = 0;
  let k = 0;
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
  const node0 = process.cpuUsage();
  const server0 = serverCpuMs(server.pid);
  await pump(t0 + seconds * 1000, true);
  const t = performance.now();
  const nodeCpu = process.cpuUsage(node0);
  const serverCpu = serverCpuMs(server.pid) - server0;
  const perSec = written / ((t - t0) / 1000);
  const h = store.health();
  const version = store.serverCaps()?.version ?? '?';
  const usPer = (ms: number) => ((ms * 1000) / written).toFixed(2);
  console.log(
    '| store | server | batch | records/s | records | bytes/record | Node CPU µs/record | server CPU µs/record |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(
    `| clickhouse (RowBinary) | ${version} | ${batchSize} | ${Math.round(perSec).toLocaleString('en-US')} | ` +
      `${written.toLocaleString('en-US')} in ${((t - t0) / 1000).toFixed(1)} s | ${(h.bytes / h.recordsWritten).toFixed(1)} | ` +
      `${usPer((nodeCpu.user + nodeCpu.system) / 1000)} | ${usPer(serverCpu)} |`,
  );
} finally {
  await store.close();
  await server.dispose();
}
