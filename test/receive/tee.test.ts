import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { before, test } from 'node:test';
import type { Datagram } from '../../src/decode/datagram.js';
import { parseTeeTarget, resolveTeeTarget, UdpTee } from '../../src/receive/tee.js';
import { chainDatagrams } from '../helpers/replay.js';

/** 583 IPFIX datagrams (templates, options and data) from one Cisco IOS XR exporter. */
const CAPTURE = 'ipfix/pmacct_400-IPFIXv10-BMP-CISCO-SRv6-multiple-sources_traffic-00.pcap';

interface Received {
  payload: Buffer;
  address: string;
  port: number;
}

/** A UDP listener on 127.0.0.1 that keeps what arrives and can be awaited for a count. */
class Listener {
  readonly got: Received[] = [];
  private waiter: { n: number; resolve: () => void } | null = null;
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (payload, rinfo) => {
      this.got.push({ payload, address: rinfo.address, port: rinfo.port });
      if (this.waiter !== null && this.got.length >= this.waiter.n) this.waiter.resolve();
    });
  }
  static async open(): Promise<Listener> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new Listener(socket);
  }
  get target(): string {
    return `127.0.0.1:${this.socket.address().port}`;
  }
  /** Resolves when `n` datagrams have arrived; fails after 5 s naming how many did. */
  async until(n: number): Promise<void> {
    if (this.got.length >= n) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          this.waiter = { n, resolve };
        }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`listener: ${this.got.length} of ${n} datagrams arrived`)),
            5000,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.waiter = null;
    }
  }
  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

let datagrams: Datagram[] = [];
before(() => {
  datagrams = chainDatagrams([CAPTURE]);
  assert.equal(datagrams.length, 583, `${CAPTURE}: datagram count`);
});

test('tee: a listener receives every datagram byte for byte, in order, from the sourcebind address', async () => {
  const listener = await Listener.open();
  const tee = await UdpTee.start({ targets: [listener.target], sourcebind: '127.0.0.1' });
  try {
    // In steps of 50, each awaited, so the listener's receive buffer never overflows.
    for (let i = 0; i < datagrams.length; i += 50) {
      for (const d of datagrams.slice(i, i + 50)) tee.forward(d.payload, d.srcAddress);
      await listener.until(Math.min(i + 50, datagrams.length));
    }
    assert.equal(listener.got.length, datagrams.length);
    for (const [i, d] of datagrams.entries()) {
      assert.ok(listener.got[i]!.payload.equals(d.payload), `${CAPTURE}: datagram ${i} differs`);
    }
    // Flowgate's own address and one socket, not the exporter's (203.0.113.90): no spoofing.
    assert.deepEqual(new Set(listener.got.map((g) => `${g.address}:${g.port}`)).size, 1);
    assert.equal(listener.got[0]!.address, '127.0.0.1');
    assert.deepEqual(tee.stats(), [
      {
        target: listener.target,
        address: listener.target,
        sent: datagrams.length,
        dropped: 0,
        errors: 0,
        lastError: null,
        waiting: 0,
      },
    ]);
  } finally {
    await tee.close();
    await listener.close();
  }
});

test('tee: beyond the queue bound datagrams are dropped and counted per target', async () => {
  const a = await Listener.open();
  const b = await Listener.open();
  const tee = await UdpTee.start({ targets: [a.target, b.target], queue: 1 });
  try {
    // Send callbacks run on a later tick: while this loop runs one datagram waits per target.
    for (const d of datagrams.slice(0, 100)) tee.forward(d.payload, d.srcAddress);
    await a.until(1);
    await b.until(1);
    await settle(100);
    for (const [i, s] of tee.stats().entries()) {
      assert.equal(s.dropped, 99, `target ${i} dropped`);
      assert.equal(s.sent, 1, `target ${i} sent`);
    }
    assert.equal(a.got.length, 1);
    assert.ok(a.got[0]!.payload.equals(datagrams[0]!.payload));
    // Once the queue has drained, datagrams go out again.
    tee.forward(datagrams[1]!.payload, datagrams[1]!.srcAddress);
    await a.until(2);
    assert.ok(a.got[1]!.payload.equals(datagrams[1]!.payload));
  } finally {
    await tee.close();
    await a.close();
    await b.close();
  }
});

test('tee: a target where nothing listens counts ECONNREFUSED errors and never throws', async () => {
  const gone = await Listener.open();
  const deadTarget = gone.target;
  await gone.close();
  const live = await Listener.open();
  const tee = await UdpTee.start({ targets: [deadTarget, live.target] });
  try {
    // ICMP port unreachable comes back after a send; give it a moment between sends.
    for (const d of datagrams.slice(0, 5)) {
      tee.forward(d.payload, d.srcAddress);
      await settle(20);
    }
    await live.until(5);
    const [dead, ok] = tee.stats();
    assert.ok(dead!.errors >= 1, `errors counted: ${JSON.stringify(dead)}`);
    assert.match(dead!.lastError ?? '', /ECONNREFUSED: nothing listens on 127\.0\.0\.1:\d+/);
    assert.equal(ok!.errors, 0, 'the other target is not charged');
    assert.equal(ok!.sent, 5);
  } finally {
    await tee.close();
    await live.close();
  }
});

test('tee: the filter forwards only the listed exporters (addresses, CIDRs, IPv4-mapped)', async () => {
  const listener = await Listener.open();
  const tee = await UdpTee.start({ targets: [listener.target], filter: ['10.0.0.0/8', '2001:db8::7'] });
  try {
    const payload = datagrams[0]!.payload;
    const sources = ['192.0.2.1', '10.1.2.3', '2001:db8::8', '::ffff:10.9.9.9', '2001:db8::7', '11.0.0.1'];
    for (const [i, src] of sources.entries()) {
      // Tag each payload by its source index so the listener shows which were forwarded.
      const tagged = Buffer.concat([payload, Buffer.from([i])]);
      tee.forward(tagged, src);
    }
    await listener.until(3);
    await settle(50);
    assert.deepEqual(
      listener.got.map((g) => sources[g.payload.at(-1)!]),
      ['10.1.2.3', '::ffff:10.9.9.9', '2001:db8::7'],
    );
  } finally {
    await tee.close();
    await listener.close();
  }
});

test('tee: bad targets, filters, sourcebind and unresolvable names are clear errors', async () => {
  assert.deepEqual(parseTeeTarget('[2001:db8::1]:2055'), {
    host: '2001:db8::1',
    port: 2055,
    text: '[2001:db8::1]:2055',
  });
  assert.deepEqual(parseTeeTarget(' collector.example:9995 '), {
    host: 'collector.example',
    port: 9995,
    text: 'collector.example:9995',
  });
  for (const bad of ['2055', '2001:db8::1:2055', '[::1]2055', '10.0.0.1:0', '10.0.0.1:65536', ':2055']) {
    assert.throws(() => parseTeeTarget(bad), /tee target/, bad);
  }
  await assert.rejects(UdpTee.start({ targets: ['127.0.0.1'] }), /tee target "127.0.0.1": expected/);
  await assert.rejects(
    UdpTee.start({ targets: ['127.0.0.1:9'], filter: ['10.0.0.0/33'] }),
    /tee filter: "10.0.0.0\/33"/,
  );
  await assert.rejects(UdpTee.start({ targets: ['127.0.0.1:9'], queue: 0 }), /tee queue must be >= 1/);
  await assert.rejects(
    UdpTee.start({ targets: ['127.0.0.1:9'], sourcebind: 'eth0' }),
    /sourcebind "eth0" is not an IP address/,
  );
  await assert.rejects(
    UdpTee.start({ targets: ['[::1]:9'], sourcebind: '127.0.0.1' }),
    /tee target "\[::1\]:9" is IPv6 but sourcebind 127.0.0.1 is not/,
  );
  // An address this host does not have (TEST-NET-3) cannot be sent from.
  await assert.rejects(
    UdpTee.start({ targets: ['127.0.0.1:9'], sourcebind: '203.0.113.1' }),
    /cannot send from 203.0.113.1: EADDRNOTAVAIL/,
  );
  // Name resolution through a stand-in resolver: the real one would ask a non-loopback DNS server.
  const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
  await assert.rejects(
    resolveTeeTarget(parseTeeTarget('nfcapd.example:9995'), () => Promise.reject(notFound)),
    /tee target "nfcapd.example:9995": cannot resolve nfcapd.example \(ENOTFOUND\)/,
  );
  assert.deepEqual(
    await resolveTeeTarget(parseTeeTarget('nfcapd.example:9995'), async () => ({
      address: '2001:db8::9',
      family: 6,
    })),
    { ip: '2001:db8::9', family: 6 },
  );
});
