/** Test helper thread for datagram-ring.test.ts: writes `total` numbered datagrams, retrying when full. */
import { workerData } from 'node:worker_threads';
import { RingWriter } from '../../src/receive/datagram-ring.js';

const { sab, total } = workerData as { sab: SharedArrayBuffer; total: number };
const w = new RingWriter(sab);
for (let n = 0; n < total; ) {
  const b = Buffer.alloc(4 + (n % 1400));
  b.writeUInt32BE(n, 0);
  if (w.write(b, '127.0.0.1', 9, 2055, n)) n++;
  else await new Promise((r) => setImmediate(r));
}
