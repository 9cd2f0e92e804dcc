/**
 * The DuckDB store's thread (worker_threads entry of DuckDbWorkerStore): owns the DuckDbStore and
 * answers its calls. Writes arrive already laid out in column chunks (their buffers transferred),
 * so this thread spends its time where DuckDB needs the caller's thread (copying vectors, appender
 * flushes, row-group compression of large commits) instead of the thread that receives datagrams.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { transferables } from './append.js';
import { DuckDbStore } from './duckdb-store.js';
import type { StoreCall, StoreReply, StoreWorkerData } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('store-worker.ts runs as a worker thread');
const store = new DuckDbStore(workerData as StoreWorkerData);

async function answer(call: StoreCall): Promise<unknown> {
  switch (call.op) {
    case 'open':
      return store.open();
    case 'write':
      return store.writeColumns(call.parts, call.records);
    case 'flows':
      return store.flows(call.query);
    case 'top':
      return store.top(call.query);
    case 'timeseries':
      return store.timeseries(call.query);
    case 'exporters':
      return store.exporters(call.range);
    case 'retention':
      return store.applyRetention(call.policy, call.nowMs);
    case 'close':
      return store.close();
  }
}

port.on('message', (call: StoreCall) => {
  answer(call).then(
    (result) => {
      const reply: StoreReply = { id: call.id, ok: true, result, health: store.health() };
      port.postMessage(reply);
      // Closed: let the thread end by itself (terminating it with DuckDB objects alive aborts).
      if (call.op === 'close') port.close();
    },
    (err: unknown) => {
      const reply: StoreReply = {
        id: call.id,
        ok: false,
        error: err instanceof Error ? err.message : String(err),
        errorName: err instanceof Error ? err.name : 'Error',
        health: store.health(),
        ...(call.op === 'write' ? { parts: call.parts } : {}),
      };
      port.postMessage(reply, call.op === 'write' ? transferables(call.parts) : []);
      if (call.op === 'close') port.close();
    },
  );
});
