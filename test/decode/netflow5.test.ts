import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readCaptureFile } from '../../src/capture/capture-reader.js';
import type { Datagram } from '../../src/decode/datagram.js';
import { decodeNetflow5 } from '../../src/decode/netflow5.js';
import { DEFAULT_EXPORTER_SETTINGS, defaultDecoderSettings } from '../../src/decode/settings.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { corpusFiles, corpusPath } from '../helpers/corpus.js';
import { datagramOf } from '../helpers/datagram.js';
import { ipv4Udp, pcapFile } from '../helpers/packets.js';

const tmp = mkdtempSync(join(tmpdir(), 'flowgate-nf5-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const settings = defaultDecoderSettings();

function decodeFile(path: string, s = settings): { sink: CollectingSink; datagrams: Datagram[] } {
  const sink = new CollectingSink();
  const datagrams: Datagram[] = [];
  for (const d of readCaptureFile(path)) {
    if (d.payload.readUInt16BE(0) !== 5) continue;
    datagrams.push(d);
    decodeNetflow5(d, s, sink);
  }
  return { sink, datagrams };
}

/** Relative time "12.345000000" (s) from tshark as integer ms. */
function ms(rel: string): number {
  const [s, f = '0'] = rel.split('.');
  return Number(s) * 1000 + Number(f.padEnd(3, '0').slice(0, 3));
}

const FIELDS = [
  'cflow.sysuptime',
  'cflow.unix_secs',
  'cflow.unix_nsecs',
  'cflow.samplerate',
  'cflow.srcaddr',
  'cflow.dstaddr',
  'cflow.nexthop',
  'cflow.inputint',
  'cflow.outputint',
  'cflow.packets',
  'cflow.octets',
  'cflow.timestart',
  'cflow.timeend',
  'cflow.srcport',
  'cflow.dstport',
  'cflow.tcpflags',
  'cflow.protocol',
  'cflow.tos',
  'cflow.srcas',
  'cflow.dstas',
  'cflow.srcmask',
  'cflow.dstmask',
];

/**
 * The records of every v5 packet of a pcap as tshark (an independent decoder) reads them, mapped
 * onto Flowgate's conventions (absolute times, bits, nulls for AS 0 / next hop 0.0.0.0, ICMP type/code).
 */
function tsharkRecords(pcap: string, port: number): Record<string, unknown>[] {
  const args = ['-r', pcap, '-d', `udp.port==${port},cflow`, '-Y', 'cflow.version == 5', '-T', 'fields'];
  args.push('-E', 'occurrence=a', '-E', 'aggregator=;');
  for (const f of FIELDS) args.push('-e', f);
  const out = spawnSync('tshark', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 28,
  }).stdout;
  const records: Record<string, unknown>[] = [];
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const cols = line.split('\t').map((c) => c.split(';'));
    const [uptime, secs, nsecs, rate] = cols.slice(0, 4).map((c) => c[0]);
    const exportMs = Number(secs) * 1000 + Math.floor(Number(nsecs) / 1e6);
    const up = ms(uptime);
    const per = cols.slice(4);
    for (let i = 0; i < per[0].length; i++) {
      const v = (k: number) => per[k][i];
      const proto = Number(v(12));
      const icmp = proto === 1 || proto === 58;
      const num = (k: number) => Number(v(k));
      // Wrapped only when more than 2^31 ms "after" sysUptime; a few ms after is clock jitter.
      const since = (k: number) => {
        const age = up - ms(v(k));
        return exportMs - (age < -(2 ** 31) ? age + 2 ** 32 : age);
      };
      records.push({
        srcip: v(0),
        dstip: v(1),
        nexthop: v(2) === '0.0.0.0' ? null : v(2),
        input: num(3),
        output: num(4),
        packets: num(5),
        bits: num(6) * 8,
        start: since(7),
        end: since(8),
        srcport: icmp ? null : num(9),
        dstport: icmp ? null : num(10),
        icmptype: icmp ? num(10) >> 8 : null,
        icmpcode: icmp ? num(10) & 255 : null,
        tcpflagsint: proto === 6 ? num(11) : null,
        protocolint: proto,
        tos: num(13),
        srcas: num(14) === 0 ? null : num(14),
        dstas: num(15) === 0 ? null : num(15),
        srcmask: num(16),
        dstmask: num(17),
        samplerate: Number(rate) === 0 ? null : Number(rate),
        uptime: up,
      });
    }
  }
  return records;
}

function view(r: FlowRecord): Record<string, unknown> {
  return {
    srcip: r.srcip,
    dstip: r.dstip,
    nexthop: r.nexthop,
    input: r.input,
    output: r.output,
    packets: r.packets,
    bits: r.bits,
    start: r.start,
    end: r.end,
    srcport: r.srcport,
    dstport: r.dstport,
    icmptype: r.icmptype,
    icmpcode: r.icmpcode,
    tcpflagsint: r.tcpflagsint,
    protocolint: r.protocolint,
    tos: r.tos,
    srcas: r.srcas,
    dstas: r.dstas,
    srcmask: r.srcmask,
    dstmask: r.dstmask,
    samplerate: r.samplerate,
    uptime: r.uptime,
  };
}

/** A raw payload file wrapped into a pcap (to UDP 2055) so that tshark can read it. */
function asPcap(raw: Buffer, name: string): string {
  const p = join(tmp, `${name}.pcap`);
  writeFileSync(p, pcapFile(101, [{ tsMs: 0, data: ipv4Udp('192.0.2.1', '192.0.2.2', 50000, 2055, raw) }]));
  return p;
}

const files = [...corpusFiles('netflow5'), corpusPath('netflow9/graylog_nprobe-netflow9.pcap')];

test('every NetFlow v5 record of the corpus matches tshark field by field', () => {
  for (const file of files) {
    const { sink, datagrams } = decodeFile(file);
    assert.ok(datagrams.length > 0, `${file}: no v5 datagram`);
    const pcap = file.endsWith('.pcap') ? file : asPcap(datagrams[0].payload, file.split('/').pop() ?? 'x');
    const expected = tsharkRecords(pcap, file.endsWith('.pcap') ? datagrams[0].dstPort : 2055);
    assert.equal(sink.records.length, expected.length, `${file}: record count`);
    for (let i = 0; i < expected.length; i++)
      assert.deepEqual(view(sink.records[i]), expected[i], `${file} record ${i}`);
    for (const r of sink.records) {
      assert.equal(r.flowtype, 'netflow');
      assert.equal(r.flowversion, 5);
      assert.equal(r.ipversion, 4);
      assert.equal(r.flowsrcip, datagrams[0].srcAddress);
      assert.equal(r.duration, (r.end ?? 0) - (r.start ?? 0));
    }
  }
});

test('first record of every v5 capture (values checked against tshark -V)', () => {
  // file, records, [srcip, dstip, srcport, dstport, protocol, packets, bits, start, end, samplerate, input, output], errors
  const cases: [string, number, unknown[], string[]][] = [
    [
      'netflow5/akvorado_netflow_nfv5.pcap',
      29,
      [
        '161.202.212.212',
        '202.152.70.24',
        30104,
        11963,
        6,
        1,
        1064,
        1680626664000,
        1680626664000,
        null,
        117,
        86,
      ],
      [],
    ],
    [
      'netflow5/fluent_netflow.v5.dump',
      1,
      ['10.0.0.11', '20.0.0.187', 1001, 3001, 6, 173, 36648, 1456773239215, 1456773240090, null, 1, 2],
      [],
    ],
    [
      'netflow5/graylog_netflow-v5-2.dat',
      30,
      [
        '14.63.211.15',
        '192.168.124.20',
        80,
        47994,
        6,
        110,
        2537768,
        1369017105479,
        1369017105998,
        null,
        0,
        0,
      ],
      [],
    ],
    [
      'netflow5/graylog_netflow5.pcap',
      4,
      ['192.168.1.100', '192.168.1.1', null, null, 1, 1, 672, 1500985930055, 1500985930055, 100, 0, 0],
      [],
    ],
    [
      'netflow5/graylog_pmacctd-netflow5.pcap',
      42,
      ['172.17.0.2', '192.168.65.1', 55112, 53, 17, 2, 912, 1501507354622, 1501507354623, null, 0, 0],
      [],
    ],
    [
      'netflow5/logstash_netflow5.dat',
      2,
      ['10.0.2.2', '10.0.2.15', 54435, 22, 6, 5, 1840, 1430591884898, 1430591887476, null, 0, 0],
      ['bad_length'],
    ],
    [
      'netflow5/logstash_netflow5_invalid02.dat',
      30,
      ['172.16.32.201', '172.16.32.1', 27092, 55699, 6, 1, 40, 1438131257458, 1438131257458, null, 0, 0],
      ['bad_length'],
    ],
    [
      'netflow5/logstash_netflow5_mikrotik.dat',
      30,
      ['10.0.13.1', '192.168.0.98', 5228, 52734, 6, 2, 832, 1469109102144, 1469109102144, null, 13, 50],
      [],
    ],
    [
      'netflow5/overflowd_netflow_4M.pcap',
      78684,
      [
        '122.166.90.143',
        '191.100.10.187',
        2968,
        80,
        6,
        6,
        9952,
        1185554955571,
        1185554955827,
        null,
        108,
        120,
      ],
      [],
    ],
    [
      'netflow5/telegraf_netflow_v5_example_netflow_v5.bin',
      8,
      [
        '140.82.121.3',
        '192.168.119.100',
        443,
        55516,
        6,
        78,
        699816,
        1666350478660,
        1666350481316,
        null,
        0,
        0,
      ],
      [],
    ],
    [
      'netflow9/graylog_nprobe-netflow9.pcap',
      150,
      ['91.64.55.126', '8.8.8.8', 59620, 53, 17, 1, 640, 1502186785951, 1502186785951, null, 5, 7],
      [],
    ],
  ];
  for (const [file, count, first, errors] of cases) {
    const { sink } = decodeFile(corpusPath(file));
    const r = sink.records[0];
    assert.equal(sink.records.length, count, `${file}: records`);
    assert.deepEqual(
      [
        r.srcip,
        r.dstip,
        r.srcport,
        r.dstport,
        r.protocolint,
        r.packets,
        r.bits,
        r.start,
        r.end,
        r.samplerate,
        r.input,
        r.output,
      ],
      first,
      `${file}: first record`,
    );
    assert.deepEqual(sink.errorKinds(), errors, `${file}: errors`);
  }
});

test('graylog_netflow5.pcap: ICMP echo from 192.168.1.100, 1-in-100 sampling', () => {
  const { sink } = decodeFile(corpusPath('netflow5/graylog_netflow5.pcap'));
  assert.equal(sink.records.length, 4);
  const r = sink.records[0];
  assert.equal(r.srcip, '192.168.1.100');
  assert.equal(r.dstip, '192.168.1.1');
  assert.equal(r.nexthop, null);
  assert.equal(r.protocolint, 1);
  assert.equal(r.icmptype, 8);
  assert.equal(r.icmpcode, 0);
  assert.equal(r.srcport, null);
  assert.equal(r.dstport, null);
  assert.equal(r.packets, 1);
  assert.equal(r.bits, 84 * 8);
  assert.equal(r.samplerate, 100);
  assert.equal(r.uptime, 384069);
  // Export 1500986281.002187 s, uptime 384.069 s, First = Last = 33.122 s.
  assert.equal(r.start, 1500986281002 - (384069 - 33122));
  assert.equal(r.end, r.start);
  assert.equal(r.duration, 0);
  assert.equal(r.timestamp, 1500986281);
  assert.equal(r.flowsrcip, '192.168.1.1');
  assert.equal(r.tcpflagsint, null);
  assert.equal(r.srcas, null);
  assert.equal(sink.errors.length, 0);
  assert.equal(sink.samplingUnknownCount, 0);
  assert.deepEqual(sink.sequences[0], { exporter: '192.168.1.1', stream: 'v5:0/0', sequence: 0, units: 1 });
  assert.deepEqual(sink.datagrams[0], { exporter: '192.168.1.1', protocol: 'netflow5', bytes: 72 });
});

test('fluent_netflow.v5.dump: the values fluent-plugin-netflow asserts', () => {
  const sink = new CollectingSink();
  decodeNetflow5(
    datagramOf(corpusPath('netflow5/fluent_netflow.v5.dump'), '10.9.9.9', Date.UTC(2016, 1, 29, 19, 14, 1)),
    settings,
    sink,
  );
  assert.equal(sink.records.length, 1);
  const r = sink.records[0];
  assert.equal(r.srcip, '10.0.0.11');
  assert.equal(r.dstip, '20.0.0.187');
  assert.equal(r.nexthop, '30.0.0.254');
  assert.equal(r.input, 1);
  assert.equal(r.output, 2);
  assert.equal(r.packets, 173);
  assert.equal(r.bits, 4581 * 8);
  assert.equal(r.start, Date.parse('2016-02-29T19:13:59.215Z'));
  assert.equal(r.end, Date.parse('2016-02-29T19:14:00.090Z'));
  assert.equal(r.srcport, 1001);
  assert.equal(r.dstport, 3001);
  assert.equal(r.tcpflagsint, 27);
  assert.equal(r.protocolint, 6);
  assert.equal(r.srcas, 101);
  assert.equal(r.dstas, 201);
  assert.equal(r.srcmask, 24);
  assert.equal(r.dstmask, 24);
  assert.equal(r.flowsrcip, '10.9.9.9');
  assert.equal(r.timestamp, Date.UTC(2016, 1, 29, 19, 14, 1) / 1000);
  // sampling_interval 0: unknown, and counted so.
  assert.equal(r.samplerate, null);
  assert.equal(sink.samplingUnknownCount, 1);
  assert.deepEqual(sink.sequences, [{ exporter: '10.9.9.9', stream: 'v5:1/1', sequence: 1, units: 1 }]);
});

test('sampling: exporter default when unknown, override always wins', () => {
  const raw = corpusPath('netflow5/fluent_netflow.v5.dump');
  const withDefault = defaultDecoderSettings({
    exporterSettings: () => ({ ...DEFAULT_EXPORTER_SETTINGS, defaultSampleRate: 512 }),
  });
  const s1 = new CollectingSink();
  decodeNetflow5(datagramOf(raw), withDefault, s1);
  assert.equal(s1.records[0].samplerate, 512);
  assert.equal(s1.samplingUnknownCount, 1);
  const override = defaultDecoderSettings({
    exporterSettings: () => ({
      ...DEFAULT_EXPORTER_SETTINGS,
      defaultSampleRate: 512,
      sampleRateOverride: 1000,
    }),
  });
  const { sink } = decodeFile(corpusPath('netflow5/graylog_netflow5.pcap'), override);
  assert.deepEqual(
    sink.records.map((r) => r.samplerate),
    [1000, 1000, 1000, 1000],
  );
  assert.equal(sink.samplingUnknownCount, 0);
});

test('uptime wrap: a First after sysUptime was before the u32 wrap', () => {
  const b = Buffer.alloc(24 + 48);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(1000, 4); // 1 s after the wrap
  b.writeUInt32BE(1_700_000_000, 8);
  b.writeUInt32BE(500_000_000, 12);
  b.writeUInt32BE(2 ** 32 - 2000, 24 + 24); // First: 2 s before the wrap
  b.writeUInt32BE(900, 24 + 28); // Last: after it
  b[24 + 38] = 17;
  const sink = new CollectingSink();
  decodeNetflow5(datagramOf(b), settings, sink);
  const r = sink.records[0];
  assert.equal(r.start, 1_700_000_000_500 - 3000);
  assert.equal(r.end, 1_700_000_000_500 - 100);
  assert.equal(r.duration, 2900);
});

test('clock jitter: a First/Last a few ms after sysUptime is slightly in the future, not 49.7 days back', () => {
  const b = Buffer.alloc(24 + 48);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(3_600_000, 4); // sysUptime: 1 h
  b.writeUInt32BE(1_700_000_000, 8);
  b.writeUInt32BE(500_000_000, 12);
  b.writeUInt32BE(3_600_000 - 40, 24 + 24); // First: 40 ms before sysUptime
  b.writeUInt32BE(3_600_000 + 4, 24 + 28); // Last: 4 ms after it (exporter clock jitter)
  b[24 + 38] = 6;
  const sink = new CollectingSink();
  decodeNetflow5(datagramOf(b), settings, sink);
  const r = sink.records[0];
  assert.equal(r.start, 1_700_000_000_500 - 40);
  assert.equal(r.end, 1_700_000_000_500 + 4);
  assert.equal(r.duration, 44);
  // overflowd_netflow_4M.pcap: record 5234 ends 4 ms after its datagram's sysUptime 1325314888.
  const { sink: real, datagrams } = decodeFile(corpusPath('netflow5/overflowd_netflow_4M.pcap'));
  const late = real.records[5234];
  assert.equal(late.uptime, 1325314888);
  const d = datagrams.find((x) => x.payload.readUInt32BE(4) === 1325314888);
  assert.ok(d !== undefined);
  const exportMs = d.payload.readUInt32BE(8) * 1000 + Math.floor(d.payload.readUInt32BE(12) / 1e6);
  assert.equal(late.end, exportMs + 4);
  assert.equal(late.start, exportMs - 62012);
});

test('logstash_netflow5_invalid02.dat: count 163 in a 30-record datagram is reported, the 30 decoded', () => {
  const sink = new CollectingSink();
  decodeNetflow5(
    datagramOf(corpusPath('netflow5/logstash_netflow5_invalid02.dat'), '192.0.2.7'),
    settings,
    sink,
  );
  assert.equal(sink.records.length, 30);
  assert.deepEqual(sink.errorKinds(), ['bad_length']);
  assert.match(
    sink.errors[0].message,
    /192\.0\.2\.7 .* says 163 records but is 1464 bytes \(room for 30\): 30 decoded/,
  );
  assert.equal(sink.records[0].srcip, '172.16.32.201');
  // Trailing bytes after the records the header announces: reported, the announced records decoded.
  const trailing = new CollectingSink();
  decodeNetflow5(datagramOf(corpusPath('netflow5/logstash_netflow5.dat')), settings, trailing);
  assert.equal(trailing.records.length, 2);
  assert.deepEqual(trailing.errorKinds(), ['bad_length']);
});

test('truncated and empty datagrams are errors, never exceptions', () => {
  const full = corpusPath('netflow5/graylog_netflow-v5-2.dat');
  const whole = datagramOf(full).payload;
  for (const len of [0, 4, 23, 24, 25, 71, 72, 100, whole.length - 1]) {
    const sink = new CollectingSink();
    decodeNetflow5(datagramOf(whole.subarray(0, len)), settings, sink);
    assert.equal(sink.datagrams.length, 1, `len ${len}`);
    assert.equal(sink.records.length, Math.max(0, Math.floor((len - 24) / 48)), `len ${len}`);
    assert.deepEqual(sink.errorKinds(), [len < 24 ? 'truncated' : 'bad_length'], `len ${len}`);
  }
});
