/**
 * The agent's IPFIX exporter against real sockets on 127.0.0.1 and three independent readers:
 * Flowgate's own decoder (UDP datagrams, TCP streams, the collector's TCP listener), tshark's
 * cflow dissector and nfcapd/nfdump.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { MeteredFlow } from '../../src/agent/flow-cache.js';
import { IpfixExporter, type IpfixExporterOptions } from '../../src/agent/ipfix-exporter.js';
import { startCollector } from '../../src/collector.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { MemoryOutput, quietLogger, testConfig, waitFor } from '../collector/helpers.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { datagramOf } from '../helpers/datagram.js';
import { startNfcapd, stopNfcapd } from '../helpers/nfcapd.js';
import { freePort } from '../helpers/traffic.js';
import { cflowDatagrams, toolAvailable, tsharkJson, writeUdpPcap } from '../helpers/tshark.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const work = mkdtempSync(join(tmpdir(), 'flowgate-agent-ipfix-'));
after(() => rmSync(work, { recursive: true, force: true }));

function flow(
  key: MeteredFlow['key'],
  packets: number,
  bytes: number,
  tcpFlags: number,
  startOffMs: number,
  endOffMs: number,
  endReason: MeteredFlow['endReason'],
): MeteredFlow {
  return { key, packets, bytes, tcpFlags, startMs: T0 + startOffMs, endMs: T0 + endOffMs, endReason };
}

/** TCP v4, UDP v6, ICMP echo v4, ICMPv6 echo, counters beyond 32 bits, an IPv4-mapped v6 address. */
const FLOWS: readonly MeteredFlow[] = [
  flow(
    { family: 4, src: '192.0.2.10', dst: '198.51.100.20', srcPort: 40000, dstPort: 443, protocol: 6 },
    12,
    9000,
    0x1b,
    123,
    4567,
    'end',
  ),
  flow(
    { family: 6, src: '2001:db8::10', dst: '2001:db8:1::20', srcPort: 5353, dstPort: 53, protocol: 17 },
    3,
    300,
    0,
    1000,
    2000,
    'idle',
  ),
  flow(
    { family: 4, src: '192.0.2.11', dst: '198.51.100.21', srcPort: 0, dstPort: 8 << 8, protocol: 1 },
    4,
    336,
    0,
    0,
    3000,
    'active',
  ),
  flow(
    { family: 6, src: 'fe80::1', dst: 'ff02::1:ff00:2', srcPort: 0, dstPort: (135 << 8) | 0, protocol: 58 },
    1,
    72,
    0,
    10,
    10,
    'forced',
  ),
  flow(
    { family: 4, src: '10.1.2.3', dst: '10.3.2.1', srcPort: 5201, dstPort: 33333, protocol: 6 },
    2 ** 33 + 1,
    2 ** 40 + 5,
    0x02,
    0,
    59_999,
    'lack-of-resources',
  ),
  flow(
    { family: 6, src: '::ffff:192.0.2.1', dst: '2001:db8::1', srcPort: 1, dstPort: 2, protocol: 17 },
    1,
    100,
    0,
    5,
    6,
    'idle',
  ),
];

/** What Flowgate's record must hold for a metered flow. */
function expected(f: MeteredFlow) {
  const icmp = f.key.protocol === 1 || f.key.protocol === 58;
  return {
    srcip: f.key.src === '::ffff:192.0.2.1' ? null : f.key.src,
    dstip: f.key.dst,
    srcport: icmp ? null : f.key.srcPort,
    dstport: icmp ? null : f.key.dstPort,
    protocolint: f.key.protocol,
    ipversion: f.key.family,
    bits: f.bytes * 8,
    packets: f.packets,
    start: f.startMs,
    end: f.endMs,
    tcpflagsint: f.key.protocol === 6 ? f.tcpFlags : null,
    icmptype: icmp ? f.key.dstPort >> 8 : null,
    icmpcode: icmp ? f.key.dstPort & 0xff : null,
  };
}

function actual(r: FlowRecord, mappedSrc: boolean) {
  return {
    // The decoder may print an IPv4-mapped address either way; only its presence is asserted here.
    srcip: mappedSrc ? null : r.srcip,
    dstip: r.dstip,
    srcport: r.srcport,
    dstport: r.dstport,
    protocolint: r.protocolint,
    ipversion: r.ipversion,
    bits: r.bits,
    packets: r.packets,
    start: r.start,
    end: r.end,
    tcpflagsint: r.tcpflagsint,
    icmptype: r.icmptype,
    icmpcode: r.icmpcode,
  };
}

function assertRecords(records: readonly FlowRecord[], flows: readonly MeteredFlow[], where: string): void {
  assert.equal(records.length, flows.length, `${where}: record count`);
  flows.forEach((f, i) => {
    const r = records[i] as FlowRecord;
    const mapped = f.key.src === '::ffff:192.0.2.1';
    if (mapped) assert.match(r.srcip ?? '', /192\.0\.2\.1|c000:201/, `${where}: record ${i} srcip`);
    assert.deepEqual(actual(r, mapped), expected(f), `${where}: record ${i}`);
  });
}

/** Flowgate's decoder over one stream of messages (one exporter, one transport session). */
function decode(payloads: readonly Buffer[], connectionId: string | null = null): CollectingSink {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const p of payloads)
    decoder.decode({ ...datagramOf(p, '127.0.0.1', T0 + 60_000), connectionId }, sink);
  return sink;
}

/** Whether a message begins with a template set (set id 2 right after the 16-byte header). */
const hasTemplates = (m: Buffer): boolean => m.readUInt16BE(16) === 2;

/** The sequence number of each message must be the previous one plus its data records. */
function assertSequences(sink: CollectingSink, where: string): void {
  let next = 0;
  for (const s of sink.sequences) {
    assert.equal(s.sequence, next, `${where}: sequence`);
    next = s.sequence + s.units;
  }
}

interface UdpReceiver {
  port: number;
  datagrams: Buffer[];
  close(): Promise<void>;
}

async function udpReceiver(): Promise<UdpReceiver> {
  const s = dgram.createSocket('udp4');
  const datagrams: Buffer[] = [];
  s.on('message', (m) => datagrams.push(m));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, datagrams, close: () => new Promise((r) => s.close(() => r())) };
}

function options(port: number, over: Partial<IpfixExporterOptions> = {}): IpfixExporterOptions {
  return {
    host: '127.0.0.1',
    port,
    transport: 'udp',
    observationDomainId: 42,
    templateRefreshMs: 60_000,
    templateRefreshPackets: 1000,
    maxMessageBytes: 1400,
    ...over,
  };
}

/** n distinct flows, alternating IPv4 and IPv6 in runs so data sets change family inside messages. */
function manyFlows(n: number): MeteredFlow[] {
  const out: MeteredFlow[] = [];
  for (let i = 0; i < n; i++) {
    const v6 = Math.floor(i / 7) % 2 === 1;
    out.push(
      flow(
        v6
          ? {
              family: 6,
              src: `2001:db8::${(i + 1).toString(16)}`,
              dst: '2001:db8::ffff',
              srcPort: 10_000 + i,
              dstPort: 80,
              protocol: 6,
            }
          : {
              family: 4,
              src: `10.0.${i >> 8}.${i & 0xff}`,
              dst: '10.9.9.9',
              srcPort: 10_000 + i,
              dstPort: 80,
              protocol: 6,
            },
        i + 1,
        (i + 1) * 100,
        0x18,
        i,
        i + 1000,
        'idle',
      ),
    );
  }
  return out;
}

describe('IpfixExporter over UDP', () => {
  it('Flowgate decodes every field back exactly: addresses v4/v6, ports, ICMP, counters, times, flags', async () => {
    const rx = await udpReceiver();
    const e = await IpfixExporter.open(options(rx.port));
    try {
      e.export(FLOWS, T0 + 60_000);
      await waitFor('one datagram', () => rx.datagrams.length === 1);
      assert.equal(hasTemplates(rx.datagrams[0]!), true, 'templates lead the first message');
      const sink = decode(rx.datagrams);
      assert.deepEqual(sink.errors, []);
      assertRecords(sink.records, FLOWS, 'udp');
      assert.equal(sink.records[0]!.flowversion, 10);
      assert.deepEqual(e.stats, {
        messages: 1,
        records: FLOWS.length,
        templates: 1,
        sendErrors: 0,
        dropped: 0,
      });
      assert.equal(rx.datagrams[0]!.readUInt32BE(12), 42, 'observation domain');
      assert.equal(rx.datagrams[0]!.readUInt32BE(4), (T0 + 60_000) / 1000, 'export time');
    } finally {
      await e.close();
      await rx.close();
    }
  });

  it('splits records so no message exceeds maxMessageBytes, sequence numbers count data records', async () => {
    const rx = await udpReceiver();
    const max = 512;
    const e = await IpfixExporter.open(options(rx.port, { maxMessageBytes: max }));
    const flows = manyFlows(300);
    try {
      e.export(flows, T0);
      e.export(flows.slice(0, 50), T0 + 1000);
      const n = e.stats.messages;
      await waitFor(`${n} datagrams`, () => rx.datagrams.length === n);
      assert.ok(n > 20, `${n} messages for 350 records of 51/75 bytes in 512-byte messages`);
      for (const d of rx.datagrams) {
        assert.ok(d.length <= max, `message of ${d.length} bytes`);
        assert.equal(d.readUInt16BE(2), d.length, 'header length');
      }
      // Messages are filled: only the last of each export may lack room for one more IPv6 record
      // (a set header, 75 bytes, padding of the set before and of its own).
      assert.ok(rx.datagrams.filter((d) => d.length <= max - (4 + 75 + 3 + 3)).length <= 2);
      const sink = decode(rx.datagrams);
      assert.deepEqual(sink.errors, []);
      assert.equal(sink.records.length, 350);
      assert.deepEqual(
        sink.records.map((r) => [r.srcport, r.packets]),
        [...flows, ...flows.slice(0, 50)].map((f) => [f.key.srcPort, f.packets]),
      );
      assertSequences(sink, 'udp split');
      assert.equal(sink.sequences.length, n);
    } finally {
      await e.close();
      await rx.close();
    }
  });

  it('re-sends templates after templateRefreshPackets messages and after templateRefreshMs', async () => {
    const rx = await udpReceiver();
    const e = await IpfixExporter.open(
      options(rx.port, { templateRefreshPackets: 3, templateRefreshMs: 10_000 }),
    );
    try {
      // Eight exports of one flow each within the time limit: templates in messages 1 and 5.
      for (let i = 0; i < 8; i++) e.export([FLOWS[0]!], T0 + i);
      // Past the time limit: templates again although only 3 messages went without them.
      e.export([FLOWS[0]!], T0 + 20_000);
      // Nothing to send but templates due by time: a template-only message.
      e.export([], T0 + 40_000);
      // Nothing to send and nothing due: no message.
      e.export([], T0 + 40_001);
      await waitFor('10 datagrams', () => rx.datagrams.length === 10);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(rx.datagrams.length, 10);
      assert.deepEqual(rx.datagrams.map(hasTemplates), [
        true,
        false,
        false,
        false,
        true,
        false,
        false,
        false,
        true,
        true,
      ]);
      assert.equal(e.stats.templates, 4);
      assert.equal(rx.datagrams[9]!.length, 16 + 4 + 4 * (2 + 13 + 13), 'template-only message');
      // A decoder that missed the first message decodes from the next refresh on.
      const late = decode(rx.datagrams.slice(2));
      assert.equal(late.records.length, 5);
      assert.equal(late.errorKinds().length > 0, true, 'messages 3 and 4 have no template yet');
    } finally {
      await e.close();
      await rx.close();
    }
  });

  it('counts send errors when nothing listens, without throwing', async () => {
    const rx = await udpReceiver();
    const port = rx.port;
    await rx.close();
    const e = await IpfixExporter.open(options(port));
    try {
      // The first send draws an ICMP port unreachable; the connected socket reports it on later sends.
      for (let i = 0; i < 20 && e.stats.sendErrors === 0; i++) {
        e.export([FLOWS[0]!], T0 + i);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(e.stats.sendErrors > 0, JSON.stringify(e.stats));
    } finally {
      await e.close();
    }
  });

  it('rejects a size limit that cannot hold the templates', async () => {
    await assert.rejects(IpfixExporter.open(options(9, { maxMessageBytes: 100 })), /maxMessageBytes/);
    await assert.rejects(IpfixExporter.open(options(9, { maxMessageBytes: 70_000 })), /maxMessageBytes/);
  });
});

/** A TCP server that keeps each connection's bytes; messages are cut by their length field. */
class TcpSink {
  connections: Buffer[][] = [];
  private server: net.Server | null = null;
  private sockets = new Set<net.Socket>();

  async listen(port = 0): Promise<number> {
    const server = net.createServer((s) => {
      const chunks: Buffer[] = [];
      this.connections.push(chunks);
      this.sockets.add(s);
      s.on('data', (c) => chunks.push(c));
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    this.server = server;
    return (server.address() as net.AddressInfo).port;
  }

  /** Messages received on connection `i`. */
  messages(i: number): Buffer[] {
    const stream = Buffer.concat(this.connections[i] ?? []);
    const out: Buffer[] = [];
    for (let off = 0; off + 4 <= stream.length; ) {
      const len = stream.readUInt16BE(off + 2);
      if (off + len > stream.length) break;
      out.push(stream.subarray(off, off + len));
      off += len;
    }
    return out;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server !== null) await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('IpfixExporter over TCP', () => {
  it('templates first on every connection, reconnects after the server restarts, queued flows delivered', async () => {
    const server = new TcpSink();
    const port = await server.listen();
    const e = await IpfixExporter.open(
      options(port, { transport: 'tcp', reconnectMaxMs: 200, maxQueuedFlows: 4 }),
    );
    try {
      assert.equal(e.connected, true);
      e.export(FLOWS, T0 + 60_000);
      await waitFor('templates and data on connection 1', () => server.messages(0).length === 2);
      const first = server.messages(0);
      assert.equal(hasTemplates(first[0]!), true);
      assert.equal(first[0]!.length, 16 + 4 + 4 * (2 + 13 + 13), 'template-only message first');
      const sink1 = decode(first, 'c1');
      assert.deepEqual(sink1.errors, []);
      assertRecords(sink1.records, FLOWS, 'tcp connection 1');

      await server.stop();
      await waitFor('exporter sees the connection close', () => !e.connected);
      // Disconnected: four flows wait, the other two are dropped and counted.
      e.export(FLOWS, T0 + 61_000);
      assert.equal(e.queued, 4);
      assert.equal(e.stats.dropped, 2);

      await new Promise((r) => setTimeout(r, 300));
      await server.listen(port);
      await waitFor('reconnection', () => e.connected && server.messages(1).length === 2, 10_000);
      const second = server.messages(1);
      assert.equal(hasTemplates(second[0]!), true, 'templates again on the new connection');
      assert.equal(hasTemplates(second[1]!), false);
      const sink2 = decode(second, 'c2');
      assert.deepEqual(sink2.errors, []);
      assertRecords(sink2.records, FLOWS.slice(0, 4), 'tcp connection 2');
      // A new transport session numbers its data records from 0 again.
      assert.equal(second[1]!.readUInt32BE(8), 0);
      assert.equal(e.queued, 0);
      assert.ok(e.stats.sendErrors >= 1, 'the refused attempts are counted');
    } finally {
      await e.close();
      await server.stop();
    }
  });

  it("Flowgate's own IPFIX TCP listener decodes what the exporter sends", async () => {
    const output = new MemoryOutput();
    const c = await startCollector(
      testConfig({ flow: { listen: [], tcplisten: ['127.0.0.1:0'] } }),
      quietLogger,
      {
        output,
      },
    );
    try {
      const e = await IpfixExporter.open(options(c.listeners[0]!.port, { transport: 'tcp' }));
      try {
        e.export(FLOWS, T0 + 60_000);
        e.export(manyFlows(100), T0 + 61_000);
        await waitFor(
          'records',
          () => {
            void c.flush();
            return output.records.length === FLOWS.length + 100;
          },
          10_000,
        );
      } finally {
        await e.close();
      }
      assertRecords(output.records.slice(0, FLOWS.length), FLOWS, 'collector tcp');
      assert.equal(output.records[FLOWS.length + 99]!.packets, 100);
    } finally {
      await c.stop();
    }
  });
});

const haveTshark = toolAvailable('tshark');

describe('IpfixExporter against other decoders', () => {
  it('tshark dissects the datagrams cleanly with the same values', {
    skip: !haveTshark && 'tshark missing',
  }, async () => {
    const rx = await udpReceiver();
    const e = await IpfixExporter.open(options(rx.port, { maxMessageBytes: 600 }));
    const flows = [...FLOWS, ...manyFlows(40)];
    try {
      e.export(flows, T0 + 60_000);
      await waitFor('datagrams', () => rx.datagrams.length === e.stats.messages);
    } finally {
      await e.close();
      await rx.close();
    }
    const file = join(work, 'agent.pcap');
    writeUdpPcap(
      file,
      rx.datagrams.map((d) => datagramOf(d, '127.0.0.1', T0 + 60_000)),
      4739,
    );
    const verbose = execFileSync('tshark', ['-r', file, '-V', '-d', 'udp.port==4739,cflow'], {
      maxBuffer: 64 * 1024 * 1024,
    }).toString();
    assert.doesNotMatch(verbose, /Malformed|Unexpected flow sequence|\[Expert Info \(Warning/);
    const got = cflowDatagrams(tsharkJson(file, [4739], 'cflow')).flatMap((d) => d.records);
    assert.equal(got.length, flows.length);
    flows.forEach((f, i) => {
      const r = got[i]!;
      const icmp = f.key.protocol === 1 || f.key.protocol === 58;
      const where = `tshark record ${i}`;
      if (f.key.src !== '::ffff:192.0.2.1') assert.equal(r.srcip, f.key.src, where);
      assert.equal(r.dstip, f.key.dst, where);
      assert.equal(r.srcport, icmp ? 0 : f.key.srcPort, where);
      assert.equal(r.dstport, icmp ? 0 : f.key.dstPort, where);
      assert.equal(r.protocol, f.key.protocol, where);
      assert.equal(r.bytes, f.bytes, where);
      assert.equal(r.packets, f.packets, where);
      assert.equal(r.start, f.startMs, where);
      assert.equal(r.end, f.endMs, where);
      if (icmp) assert.deepEqual([r.icmptype, r.icmpcode], [f.key.dstPort >> 8, f.key.dstPort & 0xff], where);
    });
    // Fields the shared reduction leaves out: TCP flags, end reason, IP version.
    const fields = execFileSync(
      'tshark',
      [
        '-r',
        file,
        '-d',
        'udp.port==4739,cflow',
        '-T',
        'fields',
        '-E',
        'occurrence=a',
        '-E',
        'aggregator=,',
        '-e',
        'cflow.tcpflags',
        '-e',
        'cflow.flow_end_reason',
        '-e',
        'cflow.ip_version',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    )
      .toString()
      .trim()
      .split('\n')[0]!
      .split('\t');
    assert.deepEqual(
      fields[0]!.split(',').slice(0, FLOWS.length).map(Number),
      FLOWS.map((f) => f.tcpFlags),
    );
    assert.deepEqual(fields[1]!.split(',').slice(0, FLOWS.length).map(Number), [3, 1, 2, 4, 5, 1]);
    assert.deepEqual(fields[2]!.split(',').slice(0, FLOWS.length).map(Number), [4, 6, 4, 6, 4, 6]);
  });

  const haveNfcapd = spawnSync('sh', ['-c', 'command -v nfcapd && command -v nfdump']).status === 0;
  it('nfcapd stores the flows and nfdump shows exact bytes and packets', {
    skip: !haveNfcapd && 'nfdump missing',
    timeout: 30_000,
  }, async () => {
    const dir = mkdtempSync(join(work, 'nfcapd-'));
    const port = await freePort('udp');
    const { proc } = await startNfcapd(dir, port);
    const flows = [...FLOWS, ...manyFlows(30)];
    try {
      const e = await IpfixExporter.open(options(port));
      try {
        e.export(flows, Date.now());
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(e.stats.sendErrors, 0);
      } finally {
        await e.close();
      }
    } finally {
      await stopNfcapd(proc);
    }
    const files = readdirSync(dir).filter((f) => /^nfcapd\.\d+$/.test(f));
    assert.equal(files.length, 1, `nfcapd files: ${readdirSync(dir).join(', ')}`);
    const json = execFileSync('nfdump', ['-r', join(dir, files[0]!), '-o', 'json'], {
      maxBuffer: 64 * 1024 * 1024,
      // nfdump prints local times without a zone.
      env: { ...process.env, TZ: 'UTC' },
    }).toString();
    const got = (JSON.parse(json) as NfdumpFlow[]).filter((f) => f.type === 'FLOW');
    const line = (src: string, dst: string, proto: number, bytes: number, packets: number) =>
      `${src} ${dst} ${proto} ${bytes} ${packets}`;
    assert.deepEqual(
      got
        .map((f) =>
          line(
            f.src4_addr ?? f.src6_addr ?? '',
            f.dst4_addr ?? f.dst6_addr ?? '',
            f.proto,
            f.in_bytes,
            f.in_packets,
          ),
        )
        .sort(),
      flows.map((f) => line(f.key.src, f.key.dst, f.key.protocol, f.bytes, f.packets)).sort(),
    );
    const icmp = got
      .filter((f) => f.proto === 1 || f.proto === 58)
      .map((f) => [f.proto, f.icmp_type, f.icmp_code]);
    assert.deepEqual(icmp, [
      [1, 8, 0],
      [58, 135, 0],
    ]);
    const tcp = got.find((f) => f.src4_addr === '192.0.2.10')!;
    assert.deepEqual(
      [tcp.src_port, tcp.dst_port, tcp.first, tcp.last, tcp.tcp_flags],
      [40000, 443, iso(FLOWS[0]!.startMs), iso(FLOWS[0]!.endMs), '...AP.SF'],
    );
  });
});

interface NfdumpFlow {
  type: string;
  src4_addr?: string;
  dst4_addr?: string;
  src6_addr?: string;
  dst6_addr?: string;
  src_port?: number;
  dst_port?: number;
  proto: number;
  in_bytes: number;
  in_packets: number;
  /** Local time without a zone, to the millisecond. */
  first: string;
  last: string;
  tcp_flags?: string;
  icmp_type?: number;
  icmp_code?: number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '');
}
