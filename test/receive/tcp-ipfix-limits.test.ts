/**
 * The IPFIX-over-TCP listener's limits against real sockets on loopback: connections at once (all
 * peers, per peer), the message deadline that closes stalled and dribbling peers (slowloris), the
 * idle timeout, and flow.ratelimit pausing reads without losing a message.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExporterRateLimit } from '../../src/receive/exporter-rate-limit.js';
import { parseListenAddress } from '../../src/receive/listen-address.js';
import { type TcpIpfixOptions, TcpIpfixReceiver } from '../../src/receive/tcp-ipfix-receiver.js';

const receivers: TcpIpfixReceiver[] = [];
after(async () => {
  await Promise.all(receivers.map((r) => r.stop()));
});

interface Seen {
  messages: number;
  framing: string[];
  limits: string[];
  closed: number;
}

async function listen(
  over: Partial<TcpIpfixOptions>,
): Promise<{ r: TcpIpfixReceiver; port: number; seen: Seen }> {
  const seen: Seen = { messages: 0, framing: [], limits: [], closed: 0 };
  const r = new TcpIpfixReceiver(parseListenAddress('127.0.0.1:0'), {
    idleTimeoutMs: 60_000,
    messageTimeoutMs: 60_000,
    maxConnections: 100,
    maxPerPeer: 100,
    maxMessageBytes: 65_535,
    rateLimit: null,
    allows: () => true,
    onMessage: () => {
      seen.messages++;
    },
    onClose: () => {
      seen.closed++;
    },
    onFramingError: (_src, m) => seen.framing.push(m),
    onNotAllowed: () => {},
    onLimit: (_src, m) => seen.limits.push(m),
    ...over,
  });
  receivers.push(r);
  const l = await r.start();
  return { r, port: l.port, seen };
}

/** An IPFIX message of `length` bytes (header only plus padding: enough for framing). */
function message(length = 32): Buffer {
  const b = Buffer.alloc(length);
  b.writeUInt16BE(10, 0);
  b.writeUInt16BE(length, 2);
  return b;
}

function connect(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.on('error', reject);
  });
}

function closed(s: net.Socket): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    if (s.destroyed || s.readyState === 'closed') resolve(0);
    s.on('close', () => resolve(Date.now() - t0));
    s.on('error', () => {});
  });
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

test('tcpmaxperpeer, then tcpmaxconnections: a further connection is closed at once and counted', async () => {
  const { r, port, seen } = await listen({ maxConnections: 3, maxPerPeer: 2 });
  const a = await connect(port, '127.0.0.2');
  const b = await connect(port, '127.0.0.2');
  await until('two open', () => r.connections === 2);
  const c = await connect(port, '127.0.0.2');
  await closed(c);
  assert.equal(r.limits.refused.maxPerPeer, 1);
  const d = await connect(port, '127.0.0.3');
  await until('three open', () => r.connections === 3);
  const e = await connect(port, '127.0.0.4');
  await closed(e);
  assert.equal(r.limits.refused.maxConnections, 1);
  assert.match(seen.limits.join('\n'), /flow\.tcpmaxperpeer/);
  assert.match(seen.limits.join('\n'), /flow\.tcpmaxconnections/);
  // Once one closes there is room again, and the per-peer count went down with it.
  a.destroy();
  await until('a closed', () => r.connections === 2);
  const f = await connect(port, '127.0.0.2');
  f.write(message());
  await until('message from f', () => seen.messages === 1);
  assert.equal(r.connections, 3);
  for (const s of [b, d, f]) s.destroy();
});

test('slowloris: silent after connect, or dribbling one message, is closed at tcpmessagetimeout', async () => {
  const { r, port, seen } = await listen({ messageTimeoutMs: 400 });
  const silent = await connect(port);
  const dribbler = await connect(port);
  const m = message(200);
  let i = 0;
  const drip = setInterval(() => {
    if (i < m.length && !dribbler.destroyed) dribbler.write(m.subarray(i, ++i));
  }, 20);
  const [silentMs, dribbleMs] = await Promise.all([closed(silent), closed(dribbler)]);
  clearInterval(drip);
  assert.ok(silentMs >= 300 && silentMs < 3000, `silent closed after ${silentMs} ms`);
  assert.ok(dribbleMs >= 300 && dribbleMs < 3000, `dribbler closed after ${dribbleMs} ms`);
  assert.equal(r.limits.timeouts.stalled, 2);
  assert.equal(seen.messages, 0);
  assert.match(seen.limits[0] ?? '', /no complete message within 0\.4 s \(flow\.tcpmessagetimeout\)/);
});

test('an exporter sending whole messages slower than the deadline is kept; silence ends at tcpidletimeout', async () => {
  const { r, port, seen } = await listen({ messageTimeoutMs: 300, idleTimeoutMs: 900 });
  const s = await connect(port);
  for (let k = 0; k < 4; k++) {
    s.write(message());
    await sleep(200);
  }
  await until('4 messages', () => seen.messages === 4);
  assert.equal(s.destroyed, false, 'whole messages 200 ms apart: never a stalled message');
  await closed(s);
  assert.equal(r.limits.timeouts.idle, 1);
  assert.equal(r.limits.timeouts.stalled, 0);
});

test('flow.ratelimit over TCP pauses reading: every message arrives, none is dropped', async () => {
  const rateLimit = new ExporterRateLimit({ perSecond: 50, burst: 5 });
  const { r, port, seen } = await listen({ rateLimit });
  const s = await connect(port);
  const t0 = Date.now();
  s.write(Buffer.concat(Array.from({ length: 30 }, () => message())));
  await until('30 messages', () => seen.messages === 30, 10_000);
  const ms = Date.now() - t0;
  // 5 at once, 25 more at 50/s: about half a second.
  assert.ok(ms >= 350, `30 messages in ${ms} ms`);
  assert.ok(r.limits.ratePauses > 0);
  assert.deepEqual([...rateLimit.takeLimited()], [], 'paused, not dropped');
  s.destroy();
});

test('garbage closes the connection as a framing error', async () => {
  const { port, seen } = await listen({});
  const s = await connect(port);
  s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await closed(s);
  assert.equal(seen.framing.length, 1);
  assert.match(seen.framing[0] ?? '', /need version 10/);
});
