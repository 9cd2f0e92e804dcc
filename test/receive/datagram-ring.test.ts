/**
 * The shared ring between a receiving thread and decode: order, wrap-around, both bounds (bytes
 * and datagrams) dropping whole datagrams with a count, and a real second thread writing while
 * this one reads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { createRingBuffer, RingReader, RingWriter } from '../../src/receive/datagram-ring.js';
import { workerUrl } from '../../src/threads/worker-url.js';

function payload(n: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (n + i) & 0xff;
  if (size >= 4) b.writeUInt32BE(n, 0);
  return b;
}

test('datagrams come out in order with their addresses, ports and times, across many wrap-arounds', () => {
  const sab = createRingBuffer(1_048_576, 1000);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  let next = 0;
  let read = 0;
  for (let round = 0; round < 200; round++) {
    // Uneven sizes so entries straddle the end of the buffer in every possible way.
    for (let k = 0; k < 37; k++, next++) {
      const size = 1 + ((next * 7919) % 9000);
      const ok = w.write(
        payload(next, size),
        `2001:db8::${next % 65536}`,
        1000 + (next % 60000),
        2055,
        1e12 + next,
      );
      assert.ok(ok, `write ${next}`);
    }
    for (let d = r.read(); d !== undefined; d = r.read(), read++) {
      assert.equal(d.payload.length, 1 + ((read * 7919) % 9000));
      assert.ok(d.payload.equals(payload(read, d.payload.length)), `payload ${read}`);
      assert.equal(d.srcAddress, `2001:db8::${read % 65536}`);
      assert.equal(d.srcPort, 1000 + (read % 60000));
      assert.equal(d.dstPort, 2055);
      assert.equal(d.receivedAtMs, 1e12 + read);
      assert.equal(d.connectionId, null);
    }
  }
  assert.equal(read, next);
  assert.equal(r.counters().drops, 0);
  assert.equal(r.counters().written, next);
  assert.equal(r.length, 0);
});

test('a full ring drops new datagrams whole and counts them; reading frees room at once', () => {
  const sab = createRingBuffer(1_048_576, 100_000);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  const big = Buffer.alloc(8000, 7);
  let accepted = 0;
  while (w.write(big, '192.0.2.1', 5000, 2055, 1)) accepted++;
  const capacity = r.counters().capacityBytes;
  assert.ok(accepted * 8072 <= capacity && (accepted + 1) * 8072 > capacity - 8072, `${accepted} fit`);
  for (let i = 0; i < 9; i++) assert.equal(w.write(big, '192.0.2.1', 5000, 2055, 1), false);
  assert.equal(r.counters().drops, 10);
  assert.equal(r.counters().highWater, accepted);
  assert.ok(r.read()?.payload.equals(big));
  assert.equal(w.write(big, '192.0.2.1', 5000, 2055, 1), true, 'room again after one read');
});

test('the datagram bound drops beyond `maxDatagrams` even with bytes to spare', () => {
  const sab = createRingBuffer(1_048_576, 3);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  for (let i = 0; i < 3; i++) assert.ok(w.write(payload(i, 10), '10.0.0.1', 1, 2, 3));
  assert.equal(w.write(payload(3, 10), '10.0.0.1', 1, 2, 3), false);
  assert.deepEqual(
    [r.read(), r.read(), r.read(), r.read()].map((d) => d?.payload.readUInt32BE(0)),
    [0, 1, 2, undefined],
  );
  assert.equal(r.counters().drops, 1);
});

test('property: any interleaving of writes and reads keeps FIFO order and loses only counted datagrams', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer({ min: 0, max: 20_000 }), fc.constant(-1)), { maxLength: 400 }),
      (ops) => {
        const sab = createRingBuffer(1_048_576, 50);
        const w = new RingWriter(sab);
        const r = new RingReader(sab);
        const expected: number[] = [];
        let n = 0;
        let dropped = 0;
        for (const op of ops) {
          if (op < 0) {
            const d = r.read();
            assert.equal(d?.payload.readUInt32BE(0), expected.shift());
          } else if (w.write(payload(n, op + 4), '198.51.100.7', 1, 2, n)) expected.push(n++);
          else {
            dropped++;
            n++;
          }
        }
        for (let d = r.read(); d !== undefined; d = r.read())
          assert.equal(d.payload.readUInt32BE(0), expected.shift());
        assert.equal(expected.length, 0);
        assert.equal(r.counters().drops, dropped);
      },
    ),
    { numRuns: 300 },
  );
});

test('another thread writes while this one reads and waits: every datagram arrives once, in order', async () => {
  const sab = createRingBuffer(1_048_576, 1000);
  const r = new RingReader(sab);
  const total = 50_000;
  const worker = new Worker(workerUrl(import.meta.url, 'ring-writer-thread'), {
    workerData: { sab, total },
  });
  let next = 0;
  const deadline = Date.now() + 30_000;
  while (next < total && Date.now() < deadline) {
    await r.whenReadable();
    for (let d = r.read(); d !== undefined; d = r.read()) {
      // The writer retries a refused write, so nothing is lost and order is strict.
      assert.equal(d.payload.readUInt32BE(0), next);
      next++;
    }
  }
  await worker.terminate();
  assert.equal(next, total);
});

test('peek() hands the payload as a view into the ring until release(); a second peek() first is refused', () => {
  const sab = createRingBuffer(1_048_576, 10);
  const w = new RingWriter(sab);
  const r = new RingReader(sab);
  w.write(payload(1, 100), '192.0.2.9', 7, 2055, 5);
  w.write(payload(2, 100), '192.0.2.9', 7, 2055, 6);
  const d = r.peek();
  assert.equal(d?.payload.readUInt32BE(0), 1);
  assert.equal(d?.payload.buffer, sab, 'no copy: a view of the shared memory');
  assert.equal(r.length, 2, 'the slot stays taken while the payload is in use');
  assert.throws(() => r.peek(), /before release/);
  r.release();
  assert.equal(r.length, 1);
  assert.equal(r.peek()?.payload.readUInt32BE(0), 2);
  r.release();
  assert.equal(r.peek(), undefined);
});
