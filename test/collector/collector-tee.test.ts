/**
 * The collector's tee (`flow.tee`): every allowed datagram is forwarded byte for byte to each
 * target while it is also decoded; datagrams refused by the allow-list are not forwarded.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from './helpers.js';

/** A NetFlow v5 datagram of one record with a recognisable source port. */
function v5(port: number): Buffer {
  const b = Buffer.alloc(24 + 48);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(100_000, 4);
  b.writeUInt32BE(Math.floor(Date.now() / 1000), 8);
  b.writeUInt32BE(0x0a000001, 24);
  b.writeUInt32BE(0xc6336407, 28);
  b.writeUInt32BE(1, 40);
  b.writeUInt32BE(100, 44);
  b.writeUInt16BE(port, 56);
  b[24 + 38] = 17;
  return b;
}

test('flow.tee forwards every allowed datagram unchanged, in order, and the collector still decodes them', async () => {
  const sink = createSocket('udp4');
  sink.bind(0, '127.0.0.1');
  await once(sink, 'listening');
  const received: Buffer[] = [];
  sink.on('message', (m) => received.push(m));
  const output = new MemoryOutput();
  const c = await startCollector(
    testConfig({
      flow: {
        tee: { targets: [`127.0.0.1:${sink.address().port}`], sourcebind: null, queue: 10_000, filter: [] },
      },
    }),
    quietLogger,
    { output },
  );
  try {
    const sent = Array.from({ length: 200 }, (_, i) => v5(10_000 + i));
    await sendUdp('127.0.0.1', c.listeners[0].port, sent);
    await waitFor('the teed datagrams', () => received.length === sent.length, 5000);
    assert.ok(
      received.every((m, i) => m.equals(sent[i] as Buffer)),
      'byte-identical and in order',
    );
    await c.flush();
    assert.equal(output.records.length, 200, 'decoded as well');
    const tee = c.stats().tee;
    assert.equal(tee?.[0]?.sent, 200);
    assert.equal(tee?.[0]?.dropped, 0);
  } finally {
    await c.stop();
    sink.close();
  }
});

test('datagrams refused by the allow-list are not teed', async () => {
  const sink = createSocket('udp4');
  sink.bind(0, '127.0.0.1');
  await once(sink, 'listening');
  let received = 0;
  sink.on('message', () => received++);
  const c = await startCollector(
    testConfig({
      flow: {
        allow: ['192.0.2.0/24'],
        tee: { targets: [`127.0.0.1:${sink.address().port}`], sourcebind: null, queue: 10_000, filter: [] },
      },
    }),
    quietLogger,
    { output: new MemoryOutput() },
  );
  try {
    await sendUdp('127.0.0.1', c.listeners[0].port, [v5(1), v5(2)]);
    await waitFor('the refusals', () => (c.stats().notAllowed['127.0.0.1'] ?? 0) >= 2, 3000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(received, 0);
    assert.equal(c.stats().tee?.[0]?.sent, 0);
  } finally {
    await c.stop();
    sink.close();
  }
});
