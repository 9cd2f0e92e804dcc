import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  CaptureFileError,
  type CaptureStats,
  newCaptureStats,
  readCaptureFile,
  UNKNOWN_SOURCE_ADDRESS,
} from '../../src/capture/capture-reader.js';
import type { Datagram } from '../../src/decode/datagram.js';
import { corpusFiles, corpusPath } from '../helpers/corpus.js';
import {
  ethernet,
  ipv4Header,
  ipv4Udp,
  ipv6Header,
  ipv6Udp,
  pcapFile,
  pcapngFile,
  udpHeader,
  writePcap,
} from '../helpers/packets.js';

const tmp = mkdtempSync(join(tmpdir(), 'flowgate-capture-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function readAll(path: string): { datagrams: Datagram[]; stats: CaptureStats } {
  const stats = newCaptureStats();
  const datagrams = [...readCaptureFile(path, stats)];
  return { datagrams, stats };
}

/** "src sport dport payloadLength timeMs" per UDP datagram, as tshark (an independent decoder) sees it. */
function tsharkView(path: string): string[] {
  // spawnSync: tshark exits non-zero on a capture cut short, after printing every packet.
  const out = spawnSync(
    'tshark',
    [
      '-r',
      path,
      '-Y',
      'udp',
      '-T',
      'fields',
      '-E',
      'occurrence=f',
      '-e',
      'ip.src',
      '-e',
      'ipv6.src',
      '-e',
      'udp.srcport',
      '-e',
      'udp.dstport',
      '-e',
      'udp.length',
      '-e',
      'frame.time_epoch',
      '-e',
      'frame.protocols',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 },
  ).stdout;
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((line) => {
      const [v4, v6, sport, dport, ulen, epoch, protocols] = line.split('\t');
      // sFlow samples carry packet headers that tshark dissects too: the outer IP comes first.
      const outer = /:(ip|ipv6):/.exec(protocols)?.[1];
      const [sec, frac] = epoch.split('.');
      const ms = Number(sec) * 1000 + Number((frac ?? '0').padEnd(3, '0').slice(0, 3));
      return `${outer === 'ip' ? v4 : v6} ${sport} ${dport} ${Number(ulen) - 8} ${ms}`;
    });
}

function ourView(datagrams: Datagram[]): string[] {
  return datagrams.map(
    (d) => `${d.srcAddress} ${d.srcPort} ${d.dstPort} ${d.payload.length} ${d.receivedAtMs}`,
  );
}

const pcaps = ['netflow5', 'netflow9', 'ipfix', 'sflow'].flatMap((dir) =>
  corpusFiles(dir).filter((f) => f.endsWith('.pcap')),
);

test('every corpus pcap yields the UDP datagrams tshark sees (source, ports, length, time)', () => {
  assert.ok(pcaps.length >= 55, `expected the corpus pcaps, found ${pcaps.length}`);
  for (const file of pcaps) {
    const { datagrams, stats } = readAll(file);
    const expected = tsharkView(file);
    assert.deepEqual(ourView(datagrams), expected, file);
    assert.equal(stats.datagrams, expected.length, `${file}: datagram count`);
    assert.equal(stats.format, 'pcap', file);
  }
});

test('known datagram counts and skipped TCP (BMP/BGP) packets', () => {
  const cases: [string, number, number, number][] = [
    // file, datagrams, skipped (non-UDP), packets
    ['netflow5/graylog_netflow5.pcap', 3, 0, 3],
    ['netflow5/overflowd_netflow_4M.pcap', 2708, 0, 2709],
    ['ipfix/pmacct_400-IPFIXv10-BMP-CISCO-SRv6-multiple-sources_traffic-00.pcap', 583, 23, 606],
    ['ipfix/pmacct_502-IPFIXv10-BGP-IPv6-CISCO-SRv6-lcomms_traffic-00.pcap', 64, 28, 92],
    ['sflow/overflowd_sflow.pcap', 1000, 0, 1000],
  ];
  for (const [file, datagrams, skipped, packets] of cases) {
    const { stats } = readAll(corpusPath(file));
    assert.equal(stats.datagrams, datagrams, `${file} datagrams`);
    assert.equal(stats.skipped, skipped, `${file} skipped`);
    assert.equal(stats.packets, packets, `${file} packets`);
  }
});

test('a capture cut in the middle of its last packet: that packet is counted bad, the rest decoded', () => {
  // overflowd_netflow_4M.pcap was cut at exactly 4,000,000 bytes (tshark: "cut short in the middle of a packet").
  const { datagrams, stats } = readAll(corpusPath('netflow5/overflowd_netflow_4M.pcap'));
  assert.equal(datagrams.length, 2708);
  assert.equal(stats.bad, 1);
  assert.equal(stats.bytesRead, 4_000_000);
  const last = datagrams[datagrams.length - 1];
  assert.equal(last.payload.readUInt16BE(0), 5);
  assert.equal(datagrams[0].srcAddress, '122.166.4.242');
  assert.equal(datagrams[0].srcPort, 35467);
  assert.equal(datagrams[0].dstPort, 9500);
});

test('addresses, ports and times of a few datagrams', () => {
  const nf5 = readAll(corpusPath('netflow5/graylog_netflow5.pcap')).datagrams;
  assert.equal(nf5[0].srcAddress, '192.168.1.1');
  assert.equal(nf5[0].srcPort, 39359);
  assert.equal(nf5[0].dstPort, 2055);
  assert.equal(nf5[0].payload.length, 72);
  assert.equal(nf5[0].receivedAtMs, 1500986281035);
  assert.equal(nf5[0].connectionId, null);
  // Linux cooked capture (SLL), IPFIX over IPv6.
  const sll = readAll(corpusPath('ipfix/pmacct_112-IPFIXv10-CISCO-options-map-reassignment_traffic-00.pcap'));
  assert.equal(sll.datagrams.length, 21);
  assert.equal(sll.datagrams[0].srcAddress, '2001:db8:90::1');
  assert.equal(sll.datagrams[0].srcPort, 61853);
  assert.equal(sll.datagrams[0].dstPort, 9991);
  assert.equal(sll.datagrams[0].payload.readUInt16BE(0), 10);
  // A UDP length (16) shorter than the IP payload trims the datagram, as the Linux stack does.
  const segv = readAll(corpusPath('sflow/tcpdump_sflow_print-segv.pcap')).datagrams;
  assert.equal(segv.length, 1);
  assert.equal(segv[0].payload.length, 8);
});

test('RFC 5655 IPFIX files are split into their messages', () => {
  const { datagrams, stats } = readAll(corpusPath('ipfix/ipfixcol2_example_flows.ipfix'));
  assert.equal(stats.format, 'ipfix-file');
  assert.equal(datagrams.length, 68);
  assert.equal(
    datagrams.reduce((n, d) => n + d.payload.length, 0),
    statSync(corpusPath('ipfix/ipfixcol2_example_flows.ipfix')).size,
  );
  for (const d of datagrams) {
    assert.equal(d.payload.readUInt16BE(0), 10);
    assert.equal(d.payload.readUInt16BE(2), d.payload.length);
    assert.equal(d.srcAddress, UNKNOWN_SOURCE_ADDRESS);
  }
  assert.equal(datagrams[0].payload.length, 3472);
  // The message's export time stands in for a capture time.
  assert.equal(datagrams[0].receivedAtMs, 1438603921000);
  const logstash = readAll(corpusPath('ipfix/logstash_ipfix.dat')).datagrams;
  assert.deepEqual(
    logstash.map((d) => d.payload.length),
    [484, 64, 240],
  );
  // Length field 1384 > 1316 bytes in the file: not an IPFIX file, handed on whole for the decoder to report.
  const bad = readAll(corpusPath('ipfix/ipfixcol_bad-length-in-set.ipfix'));
  assert.equal(bad.stats.format, 'raw');
  assert.equal(bad.datagrams[0].payload.length, 1316);
});

test('a raw payload file is one datagram stamped with the file time', () => {
  const file = corpusPath('netflow5/fluent_netflow.v5.dump');
  const { datagrams, stats } = readAll(file);
  assert.equal(stats.format, 'raw');
  assert.equal(datagrams.length, 1);
  assert.equal(datagrams[0].payload.length, 72);
  assert.equal(datagrams[0].payload.readUInt16BE(0), 5);
  assert.equal(datagrams[0].receivedAtMs, Math.floor(statSync(file).mtimeMs));
  assert.equal(datagrams[0].srcPort, 0);
  const empty = join(tmp, 'empty.dat');
  writeFileSync(empty, '');
  const e = readAll(empty);
  assert.equal(e.datagrams.length, 0);
  assert.equal(e.stats.bad, 1);
});

test('pcapng and nanosecond pcap written by editcap give the same datagrams as the pcap', () => {
  for (const rel of [
    'netflow5/graylog_pmacctd-netflow5.pcap',
    'ipfix/pmacct_112-IPFIXv10-CISCO-options-map-reassignment_traffic-00.pcap',
    'ipfix/pmacct_104-IPFIXv10-IPv6-CISCO-sampling_option_traffic-00.pcap',
    'ipfix/pmacct_400-IPFIXv10-BMP-CISCO-SRv6-multiple-sources_traffic-00.pcap',
  ]) {
    const src = corpusPath(rel);
    const base = readAll(src).datagrams;
    for (const format of ['pcapng', 'nsecpcap']) {
      const out = join(tmp, `${format}-${rel.replace('/', '_')}`);
      execFileSync('editcap', ['-F', format, src, out], { stdio: 'ignore' });
      const { datagrams, stats } = readAll(out);
      assert.equal(stats.format, format === 'pcapng' ? 'pcapng' : 'pcap', `${rel} ${format}`);
      assert.deepEqual(ourView(datagrams), ourView(base), `${rel} as ${format}`);
      for (let i = 0; i < base.length; i++)
        assert.ok(datagrams[i].payload.equals(base[i].payload), `${rel} #${i}`);
    }
  }
});

const nf = Buffer.from('0005000100000001', 'hex');
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0, 250);

test('big-endian pcap, nanosecond timestamps, raw IP / NULL / LOOP / SLL2 links and QinQ tags', () => {
  const v4 = ipv4Udp('192.0.2.9', '198.51.100.1', 40000, 2055, nf);
  const v6 = ipv6Udp('2001:db8::9', '2001:db8::1', 40001, 4739, nf);
  const null4 = Buffer.concat([Buffer.from([2, 0, 0, 0]), v4]); // host order (little-endian) AF_INET
  const loop6 = Buffer.concat([Buffer.from([0, 0, 0, 30]), v6]); // network order AF_INET6 (macOS)
  const sll2 = Buffer.concat([Buffer.from([0x86, 0xdd]), Buffer.alloc(18), v6]);
  const cases: [number, Buffer[], string][] = [
    [1, [ethernet(v4, [0x88a8, 0x8100]), ethernet(v6, [0x8100])], 'ethernet+QinQ'],
    [101, [v4, v6], 'raw'],
    [228, [v4], 'ipv4'],
    [229, [v6], 'ipv6'],
    [0, [null4], 'null'],
    [108, [loop6], 'loop'],
    [276, [sll2], 'sll2'],
  ];
  for (const [linkType, frames, name] of cases) {
    for (const opts of [{ bigEndian: true }, { nano: true }, { bigEndian: true, nano: true }]) {
      const file = writePcap(
        join(tmp, `${name}.pcap`),
        linkType,
        frames.map((data, i) => ({ tsMs: T0 + i, data })),
        opts,
      );
      const { datagrams, stats } = readAll(file);
      assert.equal(datagrams.length, frames.length, `${name} ${JSON.stringify(opts)}`);
      assert.equal(stats.bad + stats.skipped, 0, name);
      for (const [i, d] of datagrams.entries()) {
        const six = frames[i].includes(Buffer.from([0x20, 0x01, 0x0d, 0xb8]));
        assert.equal(d.srcAddress, six ? '2001:db8::9' : '192.0.2.9', name);
        assert.equal(d.dstPort, six ? 4739 : 2055, name);
        assert.equal(d.receivedAtMs, T0 + i, name);
        assert.ok(d.payload.equals(nf), name);
      }
    }
  }
});

test('pcapng: big-endian section, if_tsresol (ns and 2^-n), simple packet blocks, unknown blocks skipped', () => {
  const v4 = ipv4Udp('10.1.1.1', '10.2.2.2', 1234, 2055, nf);
  const ns = BigInt(T0) * 1_000_000n + 123_456n;
  for (const bigEndian of [false, true]) {
    const file = join(tmp, `t${bigEndian}.pcapng`);
    writeFileSync(
      file,
      pcapngFile(
        101,
        [
          { ts: ns, data: v4 },
          { ts: null, data: v4 },
        ],
        { bigEndian, tsresol: 9 },
      ),
    );
    const { datagrams, stats } = readAll(file);
    assert.equal(stats.format, 'pcapng');
    assert.equal(stats.packets, 2);
    assert.deepEqual(
      datagrams.map((d) => [d.srcAddress, d.srcPort, d.receivedAtMs]),
      [
        ['10.1.1.1', 1234, T0],
        ['10.1.1.1', 1234, T0],
      ],
    );
  }
  const file = join(tmp, 'pow2.pcapng');
  // 2^-10 s units: 1024 per second.
  writeFileSync(
    file,
    pcapngFile(101, [{ ts: 1_700_000_000n * 1024n + 512n, data: v4 }], { tsresol: 0x80 | 10 }),
  );
  assert.equal(readAll(file).datagrams[0].receivedAtMs, 1_700_000_000_500);
  // tshark agrees on the time of the big-endian nanosecond file.
  assert.deepEqual(tsharkView(join(tmp, 'ttrue.pcapng')).slice(0, 1), [`10.1.1.1 1234 2055 8 ${T0}`]);
});

test('IPv4 fragments are reassembled, in any order; a lone fragment is counted at the end', () => {
  const payload = Buffer.alloc(3000);
  for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
  const udp = Buffer.concat([udpHeader(5000, 2055, payload.length), payload]);
  const cuts = [0, 1480, 2960, udp.length];
  const frags = cuts.slice(0, -1).map((start, i) => {
    const body = udp.subarray(start, cuts[i + 1]);
    const more = i < cuts.length - 2;
    return Buffer.concat([
      ipv4Header('192.0.2.50', '192.0.2.1', 17, body.length, { id: 77, fragOffset: start, more }),
      body,
    ]);
  });
  const stray = Buffer.concat([
    ipv4Header('192.0.2.51', '192.0.2.1', 17, 8, { id: 78, fragOffset: 0, more: true }),
    udp.subarray(0, 8),
  ]);
  const tcp = ipv4Header('192.0.2.52', '192.0.2.1', 6, 0);
  const records = [frags[2], stray, frags[0], tcp, frags[1]].map((data, i) => ({
    tsMs: T0 + i,
    data: ethernet(data),
  }));
  const file = writePcap(join(tmp, 'frag4.pcap'), 1, records);
  const { datagrams, stats } = readAll(file);
  assert.equal(datagrams.length, 1);
  assert.equal(datagrams[0].srcAddress, '192.0.2.50');
  assert.equal(datagrams[0].srcPort, 5000);
  assert.ok(datagrams[0].payload.equals(payload));
  assert.equal(datagrams[0].receivedAtMs, T0 + 4);
  assert.deepEqual(
    {
      packets: stats.packets,
      datagrams: stats.datagrams,
      skipped: stats.skipped,
      bad: stats.bad,
      fragments: stats.fragments,
    },
    { packets: 5, datagrams: 1, skipped: 1, bad: 1, fragments: 3 },
  );
  // tshark reassembles the same datagram.
  assert.deepEqual(tsharkView(file), [`192.0.2.50 5000 2055 3000 ${T0 + 4}`]);
});

test('IPv6 fragment headers are reassembled after skipping extension headers', () => {
  const payload = Buffer.alloc(2000, 0xab);
  const udp = Buffer.concat([udpHeader(6000, 4739, payload.length), payload]);
  const hopByHop = Buffer.from([44, 0, 1, 4, 0, 0, 0, 0]); // next: fragment; PadN option
  const frag = (start: number, end: number, more: boolean) => {
    const fh = Buffer.alloc(8);
    fh[0] = 17;
    fh.writeUInt16BE(start | (more ? 1 : 0), 2);
    fh.writeUInt32BE(0xdeadbeef, 4);
    const body = Buffer.concat([hopByHop, fh, udp.subarray(start, end)]);
    return Buffer.concat([ipv6Header('2001:db8::50', '2001:db8::1', 0, body.length), body]);
  };
  const file = writePcap(join(tmp, 'frag6.pcap'), 101, [
    { tsMs: T0, data: frag(0, 1232, true) },
    { tsMs: T0 + 1, data: frag(1232, udp.length, false) },
  ]);
  const { datagrams, stats } = readAll(file);
  assert.equal(datagrams.length, 1);
  assert.equal(datagrams[0].srcAddress, '2001:db8::50');
  assert.equal(datagrams[0].dstPort, 4739);
  assert.ok(datagrams[0].payload.equals(payload));
  assert.equal(stats.bad, 0);
});

test('pending reassemblies are bounded', () => {
  const records = [];
  for (let id = 0; id < 1000; id++) {
    const body = Buffer.alloc(16);
    records.push({
      tsMs: T0,
      data: Buffer.concat([ipv4Header('192.0.2.60', '192.0.2.1', 17, 16, { id, more: true }), body]),
    });
  }
  const { datagrams, stats } = readAll(writePcap(join(tmp, 'strays.pcap'), 101, records));
  assert.equal(datagrams.length, 0);
  assert.equal(stats.fragments, 1000);
  // Each unfinished datagram is counted bad once: evicted ones while reading, the rest at the end.
  assert.equal(stats.bad, 1000);
});

test('malformed frames are counted, never thrown', () => {
  const good = ipv4Udp('192.0.2.9', '198.51.100.1', 40000, 2055, nf);
  const shortUdpLen = Buffer.from(good);
  shortUdpLen.writeUInt16BE(4, 24); // UDP length < 8
  const longUdpLen = Buffer.from(good);
  longUdpLen.writeUInt16BE(500, 24);
  const cutIp = good.subarray(0, 30); // IP total length says more than captured
  const records = [good, shortUdpLen, longUdpLen, cutIp, Buffer.from([0x45]), Buffer.alloc(0), good].map(
    (data, i) => ({ tsMs: T0 + i, data }),
  );
  const file = writePcap(join(tmp, 'bad.pcap'), 101, records);
  const { datagrams, stats } = readAll(file);
  assert.equal(datagrams.length, 2);
  assert.equal(stats.bad, 5);
  // A record header claiming more bytes than the file holds ends the read, counted bad.
  const truncated = pcapFile(101, [
    { tsMs: T0, data: good },
    { tsMs: T0, data: good, inclLen: 0x7fffffff },
  ]);
  writeFileSync(join(tmp, 'huge.pcap'), truncated);
  const h = readAll(join(tmp, 'huge.pcap'));
  assert.equal(h.datagrams.length, 1);
  assert.equal(h.stats.bad, 1);
  // Random bytes after a pcapng magic: bad, not a crash.
  writeFileSync(
    join(tmp, 'garbage.pcapng'),
    Buffer.concat([Buffer.from('0a0d0d0a', 'hex'), Buffer.alloc(64, 0x55)]),
  );
  const g = readAll(join(tmp, 'garbage.pcapng'));
  assert.equal(g.datagrams.length, 0);
  assert.equal(g.stats.bad, 1);
});

test('an unreadable file is a clear CaptureFileError', () => {
  assert.throws(
    () => [...readCaptureFile(join(tmp, 'does-not-exist.pcap'))],
    (e: unknown) => {
      assert.ok(e instanceof CaptureFileError);
      assert.match(e.message, /cannot read capture file .*does-not-exist\.pcap: ENOENT/);
      return true;
    },
  );
  assert.throws(() => [...readCaptureFile(tmp)], CaptureFileError);
});
