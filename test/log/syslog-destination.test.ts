import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { createLogger } from '../../src/log/logger.js';
import { createSyslogDestination, type SyslogDestinationOptions } from '../../src/log/syslog-destination.js';
import { OctetCountedReader, parse5424 } from '../helpers/syslog-wire.js';

async function tcpListener(port: number, reader: OctetCountedReader) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('data', (c: Buffer) => reader.push(c));
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function eventually(check: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within 10 s: ${what()}`);
    await sleep(20);
  }
}

/** The logger as the collector builds it, with the syslog destination beside stderr. */
function loggerWith(opts: SyslogDestinationOptions) {
  const dest = createSyslogDestination({
    reconnectMs: 50,
    reconnectMaxMs: 200,
    closeTimeoutMs: 2000,
    ...opts,
  });
  const local: string[] = [];
  const log = createLogger(
    { level: 'trace', format: 'json' },
    {
      secretKeys: ['api.token'],
      destination: pino.multistream([
        { level: 'trace', stream: { write: (s: string) => void local.push(s) } },
        { level: 'trace', stream: dest.stream },
      ]),
    },
  );
  return { dest, log, local };
}

const DAEMON = 3;
const LOCAL3 = 19;

test('UDP: one RFC 5424 message per line at or above the level, PRI = facility*8 + severity, fields in MSG', async () => {
  const rx = createSocket('udp4');
  const got: string[] = [];
  rx.on('message', (m) => got.push(m.toString('utf8')));
  await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', () => resolve()));
  const port = (rx.address() as AddressInfo).port;
  const { dest, log, local } = loggerWith({ server: `127.0.0.1:${port}`, protocol: 'udp', level: 'info' });
  try {
    log.trace('trace line');
    log.debug({ exporter: '192.0.2.1' }, 'template learned');
    log.info({ address: '[::]:2055', udpbuffer: 4194304 }, 'listening');
    log.warn('slow output\nsecond line');
    log.error({ error: 'EADDRINUSE', errno: -98 }, 'bind failed');
    log.fatal('giving up');
    log.info({ config: { api: { token: 'hunter2-secret', port: 8080 } } }, 'configuration');
    await eventually(
      () => got.length >= 5,
      () => `${got.length} datagrams: ${got.join(' | ')}`,
    );
    await sleep(100);
    assert.equal(local.length, 7, 'every line still reaches the other streams');
    assert.equal(got.length, 5, `below-level lines must not be sent: ${got.join(' | ')}`);

    const msgs = got.map(parse5424);
    assert.deepEqual(
      msgs.map((m) => m.pri),
      [DAEMON * 8 + 6, DAEMON * 8 + 4, DAEMON * 8 + 3, DAEMON * 8 + 2, DAEMON * 8 + 6],
      'daemon facility; info, warning, err, crit, info',
    );
    const expectedHost = /^[\x21-\x7e]{1,255}$/.test(hostname()) ? hostname() : '-';
    for (const m of msgs) {
      assert.equal(m.version, '1');
      assert.match(m.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(m.hostname, expectedHost);
      assert.equal(m.appName, 'flowgate');
      assert.equal(m.procId, String(process.pid));
      assert.equal(m.msgId, '-');
      assert.equal(m.sdId, null, 'NILVALUE structured data');
    }
    // The syslog timestamp is the log line's own time.
    assert.equal(msgs[0].timestamp, JSON.parse(local[2]).time);
    assert.equal(msgs[0].msg, 'listening address="[::]:2055" udpbuffer=4194304');
    assert.equal(msgs[1].msg, 'slow output second line', 'no raw line breaks in MSG');
    assert.equal(msgs[2].msg, 'bind failed error="EADDRINUSE" errno=-98');
    assert.equal(msgs[3].msg, 'giving up');
    assert.ok(!got[4].includes('hunter2'), `secret sent to syslog: ${got[4]}`);
    assert.match(msgs[4].msg, /^configuration config=\{"api":\{"token":"\*+","port":8080\}\}$/);

    const st = dest.stats();
    assert.equal(st.sent, 5);
    assert.equal(st.filtered, 2);
    assert.equal(st.failed, 0);
  } finally {
    await dest.close();
    await new Promise<void>((resolve) => rx.close(() => resolve()));
  }
});

test('TCP: octet-counted frames; the facility is configurable; a restarted server gets what was logged while it was away', async () => {
  const reader = new OctetCountedReader();
  let server = await tcpListener(0, reader);
  const port = server.port;
  const { dest, log } = loggerWith({
    server: `127.0.0.1:${port}`,
    protocol: 'tcp',
    level: 'warn',
    facility: 'local3',
  });
  try {
    log.info('not sent: below warn');
    log.warn({ exporter: '192.0.2.9', note: 'multi-byte é…' }, 'sequence gap');
    log.error('store write failed');
    await eventually(
      () => reader.frames.length >= 2,
      () => `${reader.frames.length} frames`,
    );
    const [warn, error] = reader.frames.map(parse5424);
    assert.equal(warn.pri, LOCAL3 * 8 + 4);
    assert.equal(warn.msg, 'sequence gap exporter="192.0.2.9" note="multi-byte é…"');
    assert.equal(error.pri, LOCAL3 * 8 + 3);
    assert.equal(error.msg, 'store write failed');

    await server.close();
    await eventually(
      () => !dest.stats().connected,
      () => 'the destination never saw the connection close',
    );
    // Logged while the server is down: queued, the connection retried with backoff.
    log.error('while away 1');
    log.fatal('while away 2');
    await eventually(
      () => /ECONNREFUSED/.test(dest.stats().lastError ?? ''),
      () => `no refused connection while the server was down: ${dest.stats().lastError}`,
    );
    server = await tcpListener(port, reader);
    await eventually(
      () => reader.frames.length >= 4,
      () => `${reader.frames.length} frames: ${reader.frames.join(' | ')}`,
    );
    const after = reader.frames.slice(2).map(parse5424);
    assert.deepEqual(
      after.map((m) => [m.pri, m.msg]),
      [
        [LOCAL3 * 8 + 3, 'while away 1'],
        [LOCAL3 * 8 + 2, 'while away 2'],
      ],
    );
    assert.ok(dest.stats().reconnects >= 1, `reconnects: ${dest.stats().reconnects}`);
    assert.equal(dest.stats().filtered, 1);
  } finally {
    await dest.close();
    await server.close();
  }
});

test('lossy under overload: with the server away, lines beyond the bounded queue are dropped and counted', async () => {
  // A port with nothing listening: every connection attempt is refused.
  const probe = await tcpListener(0, new OctetCountedReader());
  const port = probe.port;
  await probe.close();
  const { dest, log } = loggerWith({
    server: `127.0.0.1:${port}`,
    protocol: 'tcp',
    level: 'info',
    maxQueued: 5,
    closeTimeoutMs: 200,
  });
  for (let i = 0; i < 50; i++) log.info({ i }, 'flood');
  const st = dest.stats();
  assert.equal(st.queued, 5);
  assert.equal(st.dropped, 45);
  await dest.close();
  assert.equal(dest.stats().sent, 0);
});
