import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, test } from 'node:test';
import { cefExtensions, escapeCefExtension, escapeCefHeader } from '../../src/notify/cef.js';
import { buildNotifiers } from '../../src/notify/notifiers.js';
import { SILENT_LOG } from '../../src/notify/notify-log.js';
import { SyslogNotifier, type SyslogOptions, UDP_MAX_BYTES } from '../../src/notify/syslog.js';
import { alertSdParams } from '../../src/notify/syslog-message.js';
import { OctetCountedReader, parse5424 } from '../helpers/syslog-wire.js';
import { eventually, makeEvent } from './alert-fixture.js';

interface UdpListener {
  port: number;
  messages: Buffer[];
  close(): Promise<void>;
}

async function udpListener(): Promise<UdpListener> {
  const sock: UdpSocket = createSocket('udp4');
  const messages: Buffer[] = [];
  sock.on('message', (m) => messages.push(m));
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  return {
    port: (sock.address() as AddressInfo).port,
    messages,
    close: () => new Promise((resolve) => sock.close(() => resolve())),
  };
}

interface TcpListener {
  port: number;
  reader: OctetCountedReader;
  connections: number;
  close(): Promise<void>;
}

async function tcpListener(port = 0, reader = new OctetCountedReader()): Promise<TcpListener> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('data', (c: Buffer) => reader.push(c));
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    reader,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const open: { close(): Promise<void> }[] = [];
after(async () => {
  for (const o of open) await o.close();
});

function notifier(over: Partial<SyslogOptions> & Pick<SyslogOptions, 'port' | 'protocol'>): SyslogNotifier {
  return new SyslogNotifier({
    host: '127.0.0.1',
    format: 'rfc5424',
    facility: 16,
    productVersion: '9.9.9',
    reconnectMs: 50,
    reconnectMaxMs: 400,
    closeTimeoutMs: 5000,
    ...over,
  });
}

const TRICKY_TARGET = 'edge"rtr\\1]x';

test('syslog UDP: RFC 5424 header, structured data with escaping, summary as MSG', async () => {
  const rx = await udpListener();
  open.push(rx);
  const sink = notifier({ port: rx.port, protocol: 'udp' });
  sink.handle(makeEvent('start', { severity: 'critical' }));
  sink.handle(makeEvent('update', { severity: 'high', target: TRICKY_TARGET, hostgroup: 'dc"1' }));
  sink.handle(
    makeEvent('end', { severity: 'critical', state: 'ended', endedAt: Date.UTC(2024, 4, 1, 10, 5) }),
  );
  await eventually(
    () => rx.messages.length === 3,
    5000,
    () => `${rx.messages.length} datagrams`,
  );
  await sink.close();
  const [start, update, end] = rx.messages.map((m) => parse5424(m.toString('utf8')));

  assert.equal(start.pri, 16 * 8 + 2, 'local0.crit');
  assert.equal(start.version, '1');
  assert.match(start.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.notEqual(start.hostname, '');
  assert.equal(start.appName, 'flowgate');
  assert.equal(start.procId, String(process.pid));
  assert.equal(start.msgId, 'start');
  assert.equal(start.sdId, 'flowgate@32473');
  assert.equal(start.sd.get('kind'), 'syn_flood');
  assert.equal(start.sd.get('target'), '192.0.2.10');
  assert.equal(start.sd.get('severity'), 'critical');
  assert.equal(start.sd.get('id'), 'a-1');
  assert.equal(start.sd.get('peak'), '310000');
  assert.equal(start.sd.has('hostgroup'), false, 'null fields are left out');
  assert.equal(start.msg, 'SYN flood to 192.0.2.10: 310 kpps (threshold 100 kpps), 4,100 sources');

  assert.equal(update.pri, 16 * 8 + 3, 'high -> err');
  assert.equal(update.msgId, 'update');
  assert.equal(update.sd.get('target'), TRICKY_TARGET, 'SD escaping round-trips');
  assert.equal(update.sd.get('hostgroup'), 'dc"1');
  assert.ok(rx.messages[1].toString().includes('target="edge\\"rtr\\\\1\\]x"'), rx.messages[1].toString());

  assert.equal(end.pri, 16 * 8 + 5, 'end events are notice whatever the severity');
  assert.equal(end.msgId, 'end');
  assert.equal(end.sd.get('endedAt'), '2024-05-01T10:05:00.000Z');
  assert.deepEqual({ sent: sink.status().sent, failed: sink.status().failed }, { sent: 3, failed: 0 });
});

test('syslog UDP: a message over the limit is cut at the end of MSG and still parses', async () => {
  const rx = await udpListener();
  open.push(rx);
  const sink = notifier({ port: rx.port, protocol: 'udp' });
  const longSummary = `${'é'.repeat(1000)} end`;
  sink.handle(makeEvent('start', { summary: longSummary }));
  await eventually(
    () => rx.messages.length === 1,
    5000,
    () => 'no datagram',
  );
  await sink.close();
  const datagram = rx.messages[0];
  assert.ok(datagram.length <= UDP_MAX_BYTES, `${datagram.length} bytes`);
  assert.ok(datagram.length > UDP_MAX_BYTES - 2, 'cut no more than one character short');
  assert.ok(!datagram.toString('utf8').includes('\ufffd'), 'not cut inside a UTF-8 character');
  const parsed = parse5424(datagram.toString('utf8'));
  assert.equal(parsed.sd.get('kind'), 'syn_flood', 'structured data kept whole');
  assert.ok(longSummary.startsWith(parsed.msg) && parsed.msg.length < longSummary.length);
  assert.equal(sink.status().truncated, 1);
});

test('syslog TCP: octet-counted frames, one per event, in order', async () => {
  const rx = await tcpListener();
  open.push(rx);
  const sink = notifier({ port: rx.port, protocol: 'tcp', facility: 23 });
  const multiline = 'line one\nline two with é';
  for (let i = 0; i < 5; i++)
    sink.handle(makeEvent('update', { value: i, summary: i === 4 ? multiline : 'x' }));
  await eventually(
    () => rx.reader.frames.length === 5,
    5000,
    () => `${rx.reader.frames.length} frames`,
  );
  await sink.close();
  const parsed = rx.reader.frames.map(parse5424);
  assert.deepEqual(
    parsed.map((p) => p.sd.get('value')),
    ['0', '1', '2', '3', '4'],
  );
  assert.equal(parsed[0].pri, 23 * 8 + 3, 'local7.err');
  assert.equal(
    parsed[4].msg,
    'line one line two with é',
    'a line break would split the message for line-based receivers',
  );
  assert.equal(rx.connections, 1);
});

test('syslog TCP: reconnects after the server restarts and delivers what was queued meanwhile', async () => {
  let rx = await tcpListener();
  const port = rx.port;
  const reader = rx.reader;
  const sink = notifier({ port, protocol: 'tcp' });
  sink.handle(makeEvent('start'));
  await eventually(
    () => reader.frames.length === 1,
    5000,
    () => 'first frame',
  );
  await rx.close();
  await eventually(
    () => !sink.status().connected,
    5000,
    () => JSON.stringify(sink.status()),
  );
  sink.handle(makeEvent('update', { value: 1 }));
  sink.handle(makeEvent('update', { value: 2 }));
  await eventually(
    () => sink.status().lastError !== null,
    5000,
    () => JSON.stringify(sink.status()),
  );
  assert.match(sink.status().lastError ?? '', /ECONNREFUSED/);
  assert.equal(sink.status().queued, 2);
  rx = await tcpListener(port, reader);
  open.push(rx);
  await eventually(
    () => reader.frames.length === 3,
    10_000,
    () => `${reader.frames.length} frames`,
  );
  assert.deepEqual(
    reader.frames.map((f) => `${parse5424(f).msgId}:${parse5424(f).sd.get('value')}`),
    ['start:310000', 'update:1', 'update:2'],
  );
  assert.ok(sink.status().reconnects >= 1);
  await sink.close();
});

test('syslog CEF: header and extension escaping, field mapping, carried in RFC 5424', async () => {
  const rx = await tcpListener();
  open.push(rx);
  const sink = notifier({ port: rx.port, protocol: 'tcp', format: 'cef' });
  sink.handle(
    makeEvent('start', {
      id: 'id=7',
      severity: 'critical',
      summary: 'flood|to a\\b = c\nnext',
    }),
  );
  sink.handle(makeEvent('update', { direction: 'outbound', target: '192.0.2.99', kind: 'port_scan' }));
  await eventually(
    () => rx.reader.frames.length === 2,
    5000,
    () => `${rx.reader.frames.length} frames`,
  );
  await sink.close();
  const first = parse5424(rx.reader.frames[0]);
  assert.equal(first.sdId, null, 'CEF carries no structured data');
  assert.equal(first.msgId, 'start');
  const cef = first.msg;
  assert.ok(
    cef.startsWith('CEF:0|Flowgate|Flowgate|9.9.9|syn_flood|flood\\|to a\\\\b = c next|10|'),
    `CEF header: ${cef}`,
  );
  const ext = cef.slice(cef.lastIndexOf('|10|') + 4);
  assert.ok(ext.includes('msg=flood|to a\\\\b \\= c\\nnext'), ext);
  assert.ok(ext.includes('cs1Label=alertId cs1=id\\=7 '), ext);
  for (const f of ['src=198.51.100.7', 'dst=192.0.2.10', 'spt=40000', 'dpt=443', 'proto=tcp', 'cnt=4100']) {
    assert.ok(ext.split(' ').includes(f), `${f} missing in ${ext}`);
  }
  assert.ok(ext.includes(`start=${Date.UTC(2024, 4, 1, 10)}`), ext);
  assert.ok(!/(^| )end=/.test(ext), 'no end time while active');

  const second = parse5424(rx.reader.frames[1]).msg;
  assert.ok(second.includes('|port_scan|'), second);
  assert.ok(
    second.includes(' src=192.0.2.99 ') || second.includes('|src=192.0.2.99 '),
    'outbound target is src',
  );
  assert.ok(second.includes('dst=192.0.2.10'), 'outbound: top destination is dst');
});

test('CEF and structured data of interface and hostgroup alerts name the device, the interface and the group', () => {
  const iface = makeEvent('start', {
    kind: 'volumetric',
    target: '192.0.2.1/if7/in',
    targetKind: 'interface',
    interface: { exporter: '192.0.2.1', index: 7, name: 'xe-0/0/7', direction: 'in' },
  });
  const ext = cefExtensions(iface);
  const get = (k: string) => ext.find(([key]) => key === k)?.[1];
  assert.equal(get('dvc'), '192.0.2.1');
  assert.equal(get('deviceInboundInterface'), 'xe-0/0/7');
  assert.equal(get('dst'), '192.0.2.10', 'the most hit destination');
  const sd = new Map(alertSdParams(iface));
  assert.equal(sd.get('targetKind'), 'interface');
  assert.equal(sd.get('exporter'), '192.0.2.1');
  assert.equal(sd.get('ifIndex'), '7');
  assert.equal(sd.get('ifName'), 'xe-0/0/7');

  const group = makeEvent('start', { kind: 'reflection', target: 'servers', targetKind: 'hostgroup' });
  const gext = cefExtensions(group);
  assert.equal(gext.find(([k]) => k === 'cs3')?.[1], 'servers');
  assert.equal(
    gext.find(([k]) => k === 'dvc'),
    undefined,
  );
  assert.equal(
    new Map(alertSdParams(group)).get('ifIndex'),
    undefined,
    'no interface fields on other alerts',
  );
});

test('CEF escaping functions', () => {
  assert.equal(escapeCefHeader('a|b\\c\r\nd'), 'a\\|b\\\\c d');
  assert.equal(escapeCefExtension('k=v\\x\r\ny\rz|'), 'k\\=v\\\\x\\ny\\rz|');
});

test('buildNotifiers: builds one sink per configured entry, syslog facility by name', async () => {
  const rx = await udpListener();
  open.push(rx);
  const sinks = buildNotifiers(
    {
      webhooks: [{ url: 'http://127.0.0.1:9/hook', retries: 0 }],
      syslog: [{ server: `127.0.0.1:${rx.port}`, facility: 'local3' }],
      scripts: [{ command: ['/bin/true'] }],
    },
    SILENT_LOG,
  );
  assert.deepEqual(
    sinks.map((s) => s.name),
    ['webhook http://127.0.0.1:9/hook', `syslog udp://127.0.0.1:${rx.port}`, 'script /bin/true'],
  );
  sinks[1].handle(makeEvent('start', { severity: 'medium' }));
  await eventually(
    () => rx.messages.length === 1,
    5000,
    () => 'no datagram',
  );
  assert.equal(parse5424(rx.messages[0].toString()).pri, 19 * 8 + 4, 'local3.warning');
  await Promise.all(sinks.map((s) => s.close()));
  assert.throws(
    () => buildNotifiers({ syslog: [{ server: 'host:99999' }] }, SILENT_LOG),
    /port out of range/,
  );
});
