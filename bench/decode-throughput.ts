/**
 * Decode throughput on one core: datagram in, finished FlowRecord out (protocol detection, header
 * and set parsing, compiled template readers, address formatting, finalizeRecord), handed to a sink
 * that only counts. NetFlow v5 and sFlow use real captures from the corpus; NetFlow v9 and IPFIX use
 * one template datagram then a data datagram shaped like softflowd's (30 records per datagram).
 *
 *   node --import tsx bench/decode-throughput.ts [--seconds 3] [--markdown]
 */
import { readCaptureFile } from '../src/capture/capture-reader.js';
import type { Datagram, FlowProtocol } from '../src/decode/datagram.js';
import { detectProtocol, FlowDecoder } from '../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../src/decode/settings.js';
import type { DecodeSink, InterfaceCounters } from '../src/decode/sink.js';
import type { FlowRecord } from '../src/record/flow-record.js';
import { corpusPath } from '../test/helpers/corpus.js';

class CountingSink implements DecodeSink {
  records = 0;
  counterSamples = 0;
  errors = 0;
  record(_rec: FlowRecord): void {
    this.records++;
  }
  error(): void {
    this.errors++;
  }
  datagram(_e: string, _p: FlowProtocol, _b: number): void {}
  sequence(): void {}
  samplingUnknown(): void {}
  counters(_s: InterfaceCounters): void {
    this.counterSamples++;
  }
}

const RECEIVED_AT = Date.UTC(2024, 0, 1, 12);
const EXPORTER = '192.0.2.10';

function datagram(payload: Buffer): Datagram {
  return {
    payload,
    srcAddress: EXPORTER,
    srcPort: 50000,
    dstPort: 2055,
    receivedAtMs: RECEIVED_AT,
    connectionId: null,
  };
}

/** softflowd's v9/IPFIX template: the fields of a typical router export, 4-byte counters. */
const FIELDS: [id: number, length: number][] = [
  [8, 4], // sourceIPv4Address
  [12, 4], // destinationIPv4Address
  [7, 2], // sourceTransportPort
  [11, 2], // destinationTransportPort
  [4, 1], // protocolIdentifier
  [5, 1], // ipClassOfService
  [6, 1], // tcpControlBits
  [10, 4], // ingressInterface
  [14, 4], // egressInterface
  [1, 4], // octetDeltaCount
  [2, 4], // packetDeltaCount
];
const RECORDS = 30;
const TEMPLATE_ID = 1024;

function recordBytes(i: number, times: (b: Buffer, off: number) => number): Buffer {
  const b = Buffer.alloc(64);
  let off = 0;
  b.writeUInt32BE(0x0a000000 + ((i * 7919) % 65536), off); // 10.0.x.y
  b.writeUInt32BE(0xc6336400 + (i % 250), off + 4); // 198.51.100.x
  b.writeUInt16BE(1024 + i * 13, off + 8);
  b.writeUInt16BE(i % 3 === 0 ? 53 : 443, off + 10);
  b[off + 12] = i % 3 === 0 ? 17 : 6;
  b[off + 13] = 0;
  b[off + 14] = 0x18;
  b.writeUInt32BE(1 + (i % 4), off + 15);
  b.writeUInt32BE(5, off + 19);
  b.writeUInt32BE(1500 * (1 + (i % 40)), off + 23);
  b.writeUInt32BE(1 + (i % 40), off + 27);
  off += 31;
  off = times(b, off);
  return b.subarray(0, off);
}

function netflow9(): Datagram[] {
  const fields = [...FIELDS, [22, 4] as [number, number], [21, 4] as [number, number]]; // FIRST/LAST_SWITCHED
  const header = (count: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(9, 0);
    h.writeUInt16BE(count, 2);
    h.writeUInt32BE(3_600_000, 4);
    h.writeUInt32BE(RECEIVED_AT / 1000, 8);
    h.writeUInt32BE(1, 12);
    h.writeUInt32BE(0, 16);
    return h;
  };
  const tpl = Buffer.alloc(8 + fields.length * 4);
  tpl.writeUInt16BE(0, 0);
  tpl.writeUInt16BE(tpl.length, 2);
  tpl.writeUInt16BE(TEMPLATE_ID, 4);
  tpl.writeUInt16BE(fields.length, 6);
  fields.forEach(([id, len], i) => {
    tpl.writeUInt16BE(id, 8 + i * 4);
    tpl.writeUInt16BE(len, 10 + i * 4);
  });
  const recs = Array.from({ length: RECORDS }, (_, i) =>
    recordBytes(i, (b, off) => {
      b.writeUInt32BE(3_590_000 + i, off);
      b.writeUInt32BE(3_599_000 + i, off + 4);
      return off + 8;
    }),
  );
  const setHeader = Buffer.alloc(4);
  setHeader.writeUInt16BE(TEMPLATE_ID, 0);
  setHeader.writeUInt16BE(4 + recs.reduce((a, r) => a + r.length, 0), 2);
  return [
    datagram(Buffer.concat([header(1), tpl])),
    datagram(Buffer.concat([header(RECORDS), setHeader, ...recs])),
  ];
}

function ipfix(): Datagram[] {
  const fields = [...FIELDS, [152, 8] as [number, number], [153, 8] as [number, number]]; // flowStart/EndMilliseconds
  const message = (body: Buffer) => {
    const h = Buffer.alloc(16);
    h.writeUInt16BE(10, 0);
    h.writeUInt16BE(16 + body.length, 2);
    h.writeUInt32BE(RECEIVED_AT / 1000, 4);
    h.writeUInt32BE(0, 8);
    h.writeUInt32BE(0, 12);
    return Buffer.concat([h, body]);
  };
  const tpl = Buffer.alloc(8 + fields.length * 4);
  tpl.writeUInt16BE(2, 0);
  tpl.writeUInt16BE(tpl.length, 2);
  tpl.writeUInt16BE(TEMPLATE_ID, 4);
  tpl.writeUInt16BE(fields.length, 6);
  fields.forEach(([id, len], i) => {
    tpl.writeUInt16BE(id, 8 + i * 4);
    tpl.writeUInt16BE(len, 10 + i * 4);
  });
  const recs = Array.from({ length: RECORDS }, (_, i) =>
    recordBytes(i, (b, off) => {
      b.writeBigUInt64BE(BigInt(RECEIVED_AT - 10_000 + i), off);
      b.writeBigUInt64BE(BigInt(RECEIVED_AT - 1_000 + i), off + 8);
      return off + 16;
    }),
  );
  const setHeader = Buffer.alloc(4);
  setHeader.writeUInt16BE(TEMPLATE_ID, 0);
  setHeader.writeUInt16BE(4 + recs.reduce((a, r) => a + r.length, 0), 2);
  return [datagram(message(tpl)), datagram(message(Buffer.concat([setHeader, ...recs])))];
}

/** Datagrams of a corpus capture (flow datagrams only). */
function corpus(relative: string): Datagram[] {
  return [...readCaptureFile(corpusPath(relative))].filter((d) => detectProtocol(d.payload) !== null);
}

interface Result {
  name: string;
  source: string;
  perDatagram: number;
  recordsPerSec: number;
  datagramsPerSec: number;
  nsPerRecord: number;
}

/**
 * Decodes `setup` once (templates), then `loop` over and over: a warm-up second, then `seconds`
 * timed. Counts flow records (and, for sFlow, counter samples too: both are samples).
 */
function measure(name: string, source: string, setup: Datagram[], loop: Datagram[], seconds: number): Result {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CountingSink();
  for (const d of setup) decoder.decode(d, sink);
  const run = (ms: number) => {
    const start = sink.records + sink.counterSamples;
    let datagrams = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ms) {
      for (let i = 0; i < loop.length; i++) decoder.decode(loop[i], sink);
      datagrams += loop.length;
      t = performance.now();
    }
    return { units: sink.records + sink.counterSamples - start, datagrams, secs: (t - t0) / 1000 };
  };
  run(1000);
  const errorsBefore = sink.errors;
  const r = run(seconds * 1000);
  if (sink.errors > errorsBefore)
    throw new Error(`${name}: ${sink.errors - errorsBefore} decode errors while timing`);
  if (r.units === 0) throw new Error(`${name}: no records decoded`);
  return {
    name,
    source,
    perDatagram: r.units / r.datagrams,
    recordsPerSec: r.units / r.secs,
    datagramsPerSec: r.datagrams / r.secs,
    nsPerRecord: (r.secs * 1e9) / r.units,
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const markdown = args.includes('--markdown');
  const si = args.indexOf('--seconds');
  const seconds = si >= 0 ? Number(args[si + 1]) : 3;
  const v9 = netflow9();
  const ipfixDgs = ipfix();
  const results = [
    measure(
      'NetFlow v5',
      'netflow5/overflowd_netflow_4M.pcap',
      [],
      corpus('netflow5/overflowd_netflow_4M.pcap'),
      seconds,
    ),
    measure('NetFlow v9', 'built: softflowd-like template, 30 records', v9.slice(0, 1), v9.slice(1), seconds),
    measure(
      'IPFIX',
      'built: softflowd-like template, 30 records',
      ipfixDgs.slice(0, 1),
      ipfixDgs.slice(1),
      seconds,
    ),
    // Real exporters' datagrams (templates included, replayed in a loop), for comparison with the
    // built ones: other field sets, record sizes and records per datagram.
    measure(
      'NetFlow v9 (real)',
      'netflow9/pmacct_101-NFv9-CISCO-cust_primitives_traffic-00.pcap',
      [],
      corpus('netflow9/pmacct_101-NFv9-CISCO-cust_primitives_traffic-00.pcap'),
      seconds,
    ),
    measure(
      'IPFIX (real)',
      'ipfix/ipfixcol2_example_flows.ipfix',
      [],
      corpus('ipfix/ipfixcol2_example_flows.ipfix'),
      seconds,
    ),
    measure('sFlow v5', 'sflow/overflowd_sflow.pcap', [], corpus('sflow/overflowd_sflow.pcap'), seconds),
  ];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  if (markdown) {
    console.log(
      '| protocol | datagrams | records (samples) / datagram | records/s | datagrams/s | ns/record |',
    );
    console.log('|---|---|---:|---:|---:|---:|');
    for (const r of results) {
      console.log(
        `| ${r.name} | ${r.source} | ${r.perDatagram.toFixed(1)} | ${fmt(r.recordsPerSec)} | ${fmt(r.datagramsPerSec)} | ${r.nsPerRecord.toFixed(0)} |`,
      );
    }
    return;
  }
  console.log(`decode + normalize, one core, ${seconds} s per protocol (node ${process.version})`);
  for (const r of results) {
    console.log(
      `${r.name.padEnd(17)} ${fmt(r.recordsPerSec).padStart(12)} records/s ${fmt(r.datagramsPerSec).padStart(10)} datagrams/s ` +
        `${r.perDatagram.toFixed(1).padStart(5)} per datagram ${r.nsPerRecord.toFixed(0).padStart(5)} ns/record  (${r.source})`,
    );
  }
}

main();
