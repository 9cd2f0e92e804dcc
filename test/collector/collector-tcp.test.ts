import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { corpusPath } from '../helpers/corpus.js';
import { datagramOf } from '../helpers/datagram.js';
import { EchoDecoder, MemoryOutput, quietLogger, testConfig, waitFor } from './helpers.js';

/** An IPFIX message (RFC 7011 3.1) around the given sets. */
function ipfixMessage(sequence: number, sets: Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  const h = Buffer.alloc(16);
  h.writeUInt16BE(10, 0);
  h.writeUInt16BE(16 + body.length, 2);
  h.writeUInt32BE(1_700_000_000, 4);
  h.writeUInt32BE(sequence, 8);
  h.writeUInt32BE(7, 12); // observation domain
  return Buffer.concat([h, body]);
}

function set(id: number, content: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(4 + content.length, 2);
  return Buffer.concat([h, content]);
}

/** Template 256: sourceIPv4Address, destinationIPv4Address, octetDeltaCount(8), packetDeltaCount(8). */
const TEMPLATE = set(2, Buffer.from([1, 0, 0, 4, 0, 8, 0, 4, 0, 12, 0, 4, 0, 1, 0, 8, 0, 2, 0, 8]));
const DATA = set(
  256,
  Buffer.from([
    ...[192, 0, 2, 10, 198, 51, 100, 20, ...[0, 0, 0, 0, 0, 0, 0x05, 0xdc], ...[0, 0, 0, 0, 0, 0, 0, 1]],
    ...[192, 0, 2, 11, 198, 51, 100, 21, ...[0, 0, 0, 0, 0, 0, 0x0b, 0xb8], ...[0, 0, 0, 0, 0, 0, 0, 3]],
  ]),
);

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

test('IPFIX over TCP: messages framed by their length, whatever the chunking', async () => {
  const output = new MemoryOutput();
  const decoder = new EchoDecoder();
  const closed: string[] = [];
  decoder.templates.closeConnection = (id: string) => closed.push(id);
  const c = await startCollector(
    testConfig({ flow: { listen: [], tcplisten: ['127.0.0.1:0'] } }),
    quietLogger,
    {
      output,
      decoder,
    },
  );
  try {
    assert.equal(c.listeners[0].transport, 'tcp');
    const m1 = ipfixMessage(0, [TEMPLATE]);
    const m2 = ipfixMessage(0, [DATA]);
    const stream = Buffer.concat([m1, m2]);
    const s = await connect(c.listeners[0].port);
    // Split inside the first header and inside the second message.
    for (const [a, b] of [
      [0, 3],
      [3, 30],
      [30, stream.length],
    ]) {
      s.write(stream.subarray(a, b));
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor('two IPFIX messages', () => c.stats().received === 2);
    s.end();
    await waitFor('connection closed', () => closed.length === 1);
    assert.deepEqual(
      decoder.seen.map((d) => d.payload.length),
      [m1.length, m2.length],
    );
    assert.ok(decoder.seen[0].payload.equals(m1));
    assert.ok(decoder.seen[1].payload.equals(m2));
    assert.equal(decoder.seen[0].srcAddress, '127.0.0.1');
    assert.ok(decoder.seen[0].connectionId !== null);
    assert.equal(decoder.seen[0].connectionId, decoder.seen[1].connectionId);
    assert.equal(closed[0], decoder.seen[0].connectionId, 'templates of the closed connection are dropped');
    assert.equal(c.stats().tcp.connectionsTotal, 1);
  } finally {
    await c.stop();
  }
});

test('IPFIX over TCP: garbage closes that connection and is counted; others carry on', async () => {
  const decoder = new EchoDecoder();
  const c = await startCollector(
    testConfig({ flow: { listen: [], tcplisten: ['127.0.0.1:0'] } }),
    quietLogger,
    {
      output: new MemoryOutput(),
      decoder,
    },
  );
  try {
    const port = c.listeners[0].port;
    const good = await connect(port);
    const bad = await connect(port);
    const badClosed = new Promise<void>((resolve) => bad.once('close', () => resolve()));
    bad.on('error', () => {});
    bad.write('GET / HTTP/1.1\r\nHost: collector\r\n\r\n');
    await badClosed;
    // A version 10 header with an impossible length (< 16) is refused too.
    const short = await connect(port);
    const shortClosed = new Promise<void>((resolve) => short.once('close', () => resolve()));
    short.on('error', () => {});
    short.write(Buffer.from([0, 10, 0, 8, 0, 0, 0, 0]));
    await shortClosed;
    good.write(ipfixMessage(1, [TEMPLATE]));
    await waitFor('the good message', () => c.stats().received === 1);
    const s = c.stats();
    assert.equal(s.tcp.framingErrors, 2);
    assert.equal(s.exporters[0].address, '127.0.0.1');
    assert.equal(s.exporters[0].errors.bad_length, 2);
    assert.match(s.exporters[0].lastError ?? '', /version 18245 and length 8276|version 10 and length 8/);
    assert.equal(decoder.seen.length, 1);
    good.destroy();
  } finally {
    await c.stop();
  }
});

test('IPFIX over TCP: ipfixcol2 example file (68 messages) streamed in one connection', async (t) => {
  const file = readFileSync(corpusPath('ipfix/ipfixcol2_example_flows.ipfix'));
  const output = new MemoryOutput();
  const c = await startCollector(testConfig({ flow: { listen: [], tcplisten: ['[::1]:0'] } }), quietLogger, {
    output,
  });
  try {
    const s = net.connect({ host: '::1', port: c.listeners[0].port });
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    s.end(file);
    await waitFor('68 IPFIX messages', () => c.stats().received === 68, 5000);
    await c.flush();
    assert.equal(c.stats().tcp.framingErrors, 0);
    // The same messages decoded directly are what must come out of the collector.
    const direct = new CollectingSink();
    const d = new FlowDecoder(defaultDecoderSettings());
    for (let off = 0; off < file.length; off += file.readUInt16BE(off + 2)) {
      const msg = datagramOf(file.subarray(off, off + file.readUInt16BE(off + 2)), '::1');
      msg.connectionId = 'direct';
      d.decode(msg, direct);
    }
    if (direct.records.length === 0) return t.skip('IPFIX decoder not landed yet');
    assert.equal(output.records.length, direct.records.length);
    assert.equal(output.records[0].flowsrcip, '::1');
    assert.equal(output.records[0].srcip, direct.records[0].srcip);
    assert.equal(output.records[0].bits, direct.records[0].bits);
    assert.equal(output.records.at(-1)?.dstport, direct.records.at(-1)?.dstport);
  } finally {
    await c.stop();
  }
});

test('IPFIX over TCP: hand-built template + data decode to the values sent', async (t) => {
  const output = new MemoryOutput();
  const c = await startCollector(
    testConfig({ flow: { listen: [], tcplisten: ['127.0.0.1:0'] } }),
    quietLogger,
    {
      output,
    },
  );
  try {
    const s = await connect(c.listeners[0].port);
    s.end(Buffer.concat([ipfixMessage(0, [TEMPLATE]), ipfixMessage(0, [DATA])]));
    await waitFor('two messages', () => c.stats().received === 2);
    await c.flush();
    if (c.stats().exporters[0]?.lastError?.includes('not implemented'))
      return t.skip('IPFIX decoder not landed yet');
    assert.equal(output.records.length, 2);
    const [a, b] = output.records;
    assert.equal(a.flowsrcip, '127.0.0.1');
    assert.equal(a.srcip, '192.0.2.10');
    assert.equal(a.dstip, '198.51.100.20');
    assert.equal(a.bits, 1500 * 8);
    assert.equal(a.packets, 1);
    assert.equal(b.srcip, '192.0.2.11');
    assert.equal(b.bits, 3000 * 8);
    assert.equal(b.packets, 3);
    assert.equal(a.flowversion, 10);
  } finally {
    await c.stop();
  }
});
