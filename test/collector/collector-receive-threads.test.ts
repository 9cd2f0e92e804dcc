/**
 * UDP read on receiving threads (`flow.workers` > 0): listeners spread over threads, datagrams
 * handed to decode through shared rings in order, the allow-list and the tee applied on the
 * thread (and changed by reload), and load shed whole before decode when the main thread falls
 * behind, every datagram accounted for, and recovery afterwards.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { getPriority } from 'node:os';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { EchoDecoder, MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from './helpers.js';

/** This thread's nice value before any collector started (the tests share the process). */
const INITIAL_NICE = getPriority(0);

function numbered(n: number, size = 64): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32BE(n, 0);
  return b;
}

test('two threads, two listeners: every datagram decoded once, in order per listener, with its ports', async () => {
  const decoder = new EchoDecoder();
  const output = new MemoryOutput();
  const c = await startCollector(
    testConfig({ flow: { listen: ['127.0.0.1:0', '127.0.0.1:0'], workers: 2 } }),
    quietLogger,
    { output, decoder },
  );
  try {
    assert.equal(c.listeners.length, 2);
    const [a, b] = c.listeners.map((l) => l.port) as [number, number];
    assert.notEqual(a, b);
    await Promise.all([
      sendUdp(
        '127.0.0.1',
        a,
        Array.from({ length: 300 }, (_, i) => numbered(i)),
      ),
      sendUdp(
        '127.0.0.1',
        b,
        Array.from({ length: 300 }, (_, i) => numbered(1000 + i, 100)),
      ),
    ]);
    await waitFor('600 datagrams received', () => c.stats().received === 600, 5000);
    await c.flush();
    assert.equal(output.records.length, 600);
    for (const port of [a, b]) {
      const seen = decoder.seen.filter((d) => d.dstPort === port).map((d) => d.payload.readUInt32BE(0));
      const first = port === a ? 0 : 1000;
      assert.deepEqual(
        seen,
        Array.from({ length: 300 }, (_, i) => first + i),
        `listener ${port} in order`,
      );
    }
    assert.ok(decoder.seen.every((d) => d.srcAddress === '127.0.0.1' && d.connectionId === null));
    const st = c.stats();
    assert.equal(st.queue.drops, 0);
    assert.equal(st.decode.datagrams, 600);
    assert.ok(st.queue.highWater >= 1);
  } finally {
    await c.stop();
  }
});

test('with receiving threads, the decoding thread gives way to them (nice +5, this thread only)', async () => {
  const c = await startCollector(testConfig({ flow: { workers: 1 } }), quietLogger, {
    output: new MemoryOutput(),
  });
  try {
    // Once: a second collector in the same process does not push it further.
    if (process.platform === 'linux' && INITIAL_NICE < 5) assert.equal(getPriority(0), INITIAL_NICE + 5);
  } finally {
    await c.stop();
  }
});

test('the allow-list runs on the thread: refused sources are counted, and reload changes it', async () => {
  const output = new MemoryOutput();
  const config = testConfig({ flow: { workers: 1, allow: ['192.0.2.0/24'] } });
  const c = await startCollector(config, quietLogger, { output, decoder: new EchoDecoder() });
  try {
    const port = c.listeners[0]?.port as number;
    await sendUdp('127.0.0.1', port, [numbered(1), numbered(2), numbered(3)]);
    await waitFor('3 refusals reported', () => c.stats().totals.notAllowed === 3, 5000);
    assert.equal(c.stats().received, 0);
    const result = await c.reload(testConfig({ flow: { workers: 1, allow: ['127.0.0.0/8'] } }));
    assert.ok(result.applied.includes('flow.allow'));
    await sendUdp('127.0.0.1', port, [numbered(4), numbered(5)]);
    await waitFor('2 received', () => c.stats().received === 2, 5000);
    await c.flush();
    assert.equal(output.records.length, 2);
  } finally {
    await c.stop();
  }
});

test('the tee runs on the thread: every allowed datagram forwarded unchanged, counters summed into /stats', async () => {
  const sink = createSocket('udp4');
  sink.bind(0, '127.0.0.1');
  await once(sink, 'listening');
  const received: Buffer[] = [];
  sink.on('message', (m) => received.push(m));
  const c = await startCollector(
    testConfig({
      flow: {
        workers: 1,
        tee: { targets: [`127.0.0.1:${sink.address().port}`], sourcebind: null, queue: 10_000, filter: [] },
      },
    }),
    quietLogger,
    { output: new MemoryOutput(), decoder: new EchoDecoder() },
  );
  try {
    const sent = Array.from({ length: 100 }, (_, i) => numbered(i, 200));
    await sendUdp('127.0.0.1', c.listeners[0]?.port as number, sent);
    await waitFor('the teed datagrams', () => received.length === 100, 5000);
    assert.ok(received.every((m, i) => m.equals(sent[i] as Buffer)));
    await waitFor('tee counters reported', () => c.stats().tee?.[0]?.sent === 100, 5000);
    assert.equal(c.stats().tee?.[0]?.dropped, 0);
  } finally {
    await c.stop();
    sink.close();
  }
});

test('overload: a slow decode sheds whole datagrams at the ring (counted), never stalls, and recovers', async () => {
  const decoder = new EchoDecoder();
  decoder.busyMs = 3;
  const output = new MemoryOutput();
  const c = await startCollector(
    testConfig({ flow: { workers: 1, queue: 20, udpbuffer: 4_194_304 } }),
    quietLogger,
    { output, decoder },
  );
  try {
    const port = c.listeners[0]?.port as number;
    const burst = 1500;
    await sendUdp(
      '127.0.0.1',
      port,
      Array.from({ length: burst }, (_, i) => numbered(i, 1000)),
    );
    // Everything sent is either decoded or dropped in the ring (or by the kernel): nothing waits forever.
    const accounted = () => {
      const st = c.stats();
      return st.decode.datagrams + st.queue.drops + (st.kernelDrops[0]?.drops ?? 0);
    };
    await waitFor('the burst accounted for', () => accounted() === burst, 20_000);
    const st = c.stats();
    assert.ok(st.queue.drops > 0, 'the ring overflowed');
    assert.ok(st.queue.highWater <= 20, `bounded at 20 datagrams, saw ${st.queue.highWater}`);
    assert.equal(st.queue.depth, 0);
    // Decoded datagrams are a prefix-respecting subsequence: shedding never reorders.
    const order = decoder.seen.map((d) => d.payload.readUInt32BE(0));
    assert.ok(order.every((n, i) => i === 0 || n > (order[i - 1] as number)));
    decoder.busyMs = 0;
    // The sender shares this thread with decode: small bursts, so a 20-slot ring is enough.
    for (let k = 0; k < 10; k++) {
      await sendUdp(
        '127.0.0.1',
        port,
        Array.from({ length: 5 }, (_, i) => numbered(10_000 + k * 5 + i)),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(
      'the later datagrams decoded',
      () => decoder.seen.some((d) => d.payload.readUInt32BE(0) === 10_049),
      5000,
    );
    assert.equal(
      decoder.seen.filter((d) => d.payload.readUInt32BE(0) >= 10_000).length,
      50,
      'recovered: none lost',
    );
  } finally {
    await c.stop();
  }
});

test('a listener that cannot bind fails the start with its address, and no thread is left running', async () => {
  const holder = createSocket('udp4');
  holder.bind(0, '127.0.0.1');
  await once(holder, 'listening');
  const taken = holder.address().port;
  try {
    await assert.rejects(
      startCollector(testConfig({ flow: { workers: 1, listen: [`127.0.0.1:${taken}`] } }), quietLogger, {
        output: new MemoryOutput(),
      }),
      /127\.0\.0\.1:\d+.*already in use/,
    );
  } finally {
    holder.close();
  }
});
