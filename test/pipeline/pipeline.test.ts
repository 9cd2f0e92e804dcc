import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { JsonlWriter } from '../../src/deliver/jsonl-writer.js';
import type { RecordOutput } from '../../src/deliver/output.js';
import { DatagramQueue } from '../../src/pipeline/datagram-queue.js';
import { RecordBatcher } from '../../src/pipeline/record-batcher.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { datagramOf } from '../helpers/datagram.js';

function rec(bits: number): FlowRecord {
  const r = new FlowRecord();
  r.flowsrcip = '192.0.2.1';
  r.bits = bits;
  return r;
}

test('datagram queue: FIFO across the ring wrap, full => refused and counted', () => {
  const q = new DatagramQueue(3);
  const d = (n: number) => datagramOf(Buffer.from([n]));
  assert.equal(q.push(d(1)), true);
  assert.equal(q.push(d(2)), true);
  assert.equal(q.shift()?.payload[0], 1);
  assert.equal(q.push(d(3)), true);
  assert.equal(q.push(d(4)), true); // wraps
  assert.equal(q.push(d(5)), false);
  assert.equal(q.drops, 1);
  assert.equal(q.length, 3);
  assert.equal(q.highWater, 3);
  assert.deepEqual(
    [q.shift(), q.shift(), q.shift(), q.shift()].map((x) => x?.payload[0]),
    [2, 3, 4, undefined],
  );
  assert.throws(() => new DatagramQueue(0));
});

/** An output that only finishes a write when told to. */
class GatedOutput implements RecordOutput {
  readonly name = 'gated';
  batches: number[][] = [];
  private release: (() => void)[] = [];
  async write(batch: readonly FlowRecord[]): Promise<void> {
    this.batches.push(batch.map((r) => r.bits ?? -1));
    await new Promise<void>((resolve) => this.release.push(resolve));
  }
  open(): void {
    for (const r of this.release.splice(0)) r();
  }
  async close(): Promise<void> {}
}

test('batcher: full batches go out, a slow output queues up to output.queue then drops whole batches', async () => {
  const out = new GatedOutput();
  const errors: unknown[] = [];
  const b = new RecordBatcher(out, {
    batchSize: 2,
    maxQueued: 4,
    flushIntervalMs: 60_000,
    onError: (e) => errors.push(e),
  });
  for (let i = 1; i <= 10; i++) b.add(rec(i));
  // batch [1,2] is being written (still counted queued), [3,4] waits, [5,6]..[9,10] exceed 4 => dropped
  assert.equal(b.drops, 6);
  assert.deepEqual(out.batches, [[1, 2]]);
  b.add(rec(11)); // partial batch
  assert.equal(b.depth, 5);
  const until = Date.now() + 2000;
  while (out.batches.length < 2 && Date.now() < until) {
    out.open();
    await new Promise((r) => setImmediate(r));
  }
  out.open();
  await new Promise((r) => setImmediate(r));
  assert.equal(b.depth, 1, 'only the partial batch is left once the output caught up');
  const drained = b.drain(); // 1 record now fits again
  await new Promise((r) => setImmediate(r));
  out.open();
  await drained;
  assert.deepEqual(out.batches, [[1, 2], [3, 4], [11]]);
  assert.equal(b.drops, 6);
  assert.equal(b.written, 5);
  assert.equal(b.depth, 0);
  assert.equal(errors.length, 0);
  await b.close();
});

test('batcher: a partial batch is flushed by the timer; a failing output drops and reports', async () => {
  const seen: number[] = [];
  const errors: unknown[] = [];
  let fail = true;
  const out: RecordOutput = {
    name: 'flaky',
    async write(batch) {
      if (fail) throw new Error('disk full');
      for (const r of batch) seen.push(r.bits ?? -1);
    },
    async close() {},
  };
  const b = new RecordBatcher(out, {
    batchSize: 100,
    maxQueued: 1000,
    flushIntervalMs: 20,
    onError: (e) => errors.push(e),
  });
  b.add(rec(1));
  await b.drain();
  assert.equal(b.drops, 1);
  assert.match(String(errors[0]), /disk full/);
  fail = false;
  b.add(rec(2));
  const until = Date.now() + 2000;
  while (seen.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen, [2], 'timer flush');
  await b.close();
});

test('JSON lines writer: one write per batch, waits for drain, appends to the file', async () => {
  const chunks: string[] = [];
  let pendingCb: (() => void) | null = null;
  // highWaterMark 1 => every write reports backpressure until the callback runs
  const slow = new Writable({
    highWaterMark: 1,
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      pendingCb = cb;
    },
  });
  const file = join(tmpdir(), `flowgate-jsonl-${process.pid}-${Date.now()}.jsonl`);
  const w = new JsonlWriter({ stdout: true, stdoutStream: slow, file });
  await w.ready();
  let done = false;
  const p = w.write([rec(8), rec(16)]).then(() => {
    done = true;
  });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(done, false, 'waits for drain');
  assert.equal(chunks.length, 1, 'a batch is one write');
  const lines = chunks[0].split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '');
  assert.equal(JSON.parse(lines[0]).bits, 8);
  assert.equal(JSON.parse(lines[1]).flowsrcip, '192.0.2.1');
  (pendingCb as unknown as () => void)();
  await p;
  assert.equal(done, true);
  await w.close();
  assert.equal(readFileSync(file, 'utf8'), chunks[0]);
  const again = new JsonlWriter({ stdout: false, file });
  await again.write([rec(24)]);
  await again.close();
  assert.equal(readFileSync(file, 'utf8').trimEnd().split('\n').length, 3, 'appended, not truncated');
  rmSync(file);
});
