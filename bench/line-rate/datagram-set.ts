import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { CollectingSink } from '../../test/helpers/collecting-sink.js';
import { kernelDrops } from './proc.js';
import { writeTraffic } from './traffic.js';

/**
 * A recorded set of export datagrams from one real exporter, with the flow records (NetFlow v9 /
 * IPFIX data records, sFlow flow samples) and packets each datagram carries as Flowgate's own
 * decoder counts them. Stored as `NAME.dgrams` (u32 BE length + payload, repeated) and `NAME.json`.
 */

export type SetProtocol = 'netflow9' | 'ipfix' | 'sflow';
export const SET_PROTOCOLS: readonly SetProtocol[] = ['netflow9', 'ipfix', 'sflow'];

export interface SetMeta {
  protocol: SetProtocol;
  exporter: string;
  datagrams: number;
  records: number[];
  packets: number[];
  totalRecords: number;
  totalPackets: number;
  /** Kernel drops on the recording socket while the exporter ran (should be 0). */
  recordingDrops: number;
}

export interface DatagramSet {
  meta: SetMeta;
  payloads: Buffer[];
}

export function setPaths(cacheDir: string, protocol: SetProtocol): { dgrams: string; json: string } {
  return { dgrams: join(cacheDir, `${protocol}.dgrams`), json: join(cacheDir, `${protocol}.json`) };
}

export function readSet(cacheDir: string, protocol: SetProtocol): DatagramSet {
  const p = setPaths(cacheDir, protocol);
  const meta = JSON.parse(readFileSync(p.json, 'utf8')) as SetMeta;
  const bytes = readFileSync(p.dgrams);
  const payloads: Buffer[] = [];
  for (let o = 0; o < bytes.length; ) {
    const len = bytes.readUInt32BE(o);
    payloads.push(bytes.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  return { meta, payloads };
}

/** Counts records and packets per datagram by decoding the set in order (templates come first). */
function countRecords(payloads: Buffer[]): { records: number[]; packets: number[] } {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const records: number[] = [];
  const packets: number[] = [];
  for (const payload of payloads) {
    const sink = new CollectingSink();
    decoder.decode(
      {
        payload,
        srcAddress: '127.0.0.1',
        srcPort: 0,
        dstPort: 0,
        receivedAtMs: Date.now(),
        connectionId: null,
      },
      sink,
    );
    records.push(sink.records.length);
    let p = 0;
    for (const r of sink.records) p += r.packets ?? 0;
    packets.push(p);
  }
  return { records, packets };
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Runs one exporter against a Node listener and returns the datagrams in arrival order. The
 * exporter has finished when it exits (softflowd at end of file) or, for pmacctd (which keeps
 * running after its savefile), when nothing has arrived for `quietMs`.
 */
async function record(
  start: (port: number) => ChildProcess,
  quietMs: number,
): Promise<{ payloads: Buffer[]; drops: number }> {
  const sock = createSocket({ type: 'udp4', recvBufferSize: 16 * 1024 * 1024 });
  const payloads: Buffer[] = [];
  let last = Date.now();
  sock.on('message', (m) => {
    payloads.push(m);
    last = Date.now();
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const port = sock.address().port;
  const child = start(port);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const t0 = Date.now();
  while (!exited && Date.now() - t0 < 600_000) {
    await sleep(200);
    if (payloads.length > 0 && Date.now() - last > quietMs) break;
  }
  if (!exited) {
    // pmacctd flushes its plugins' caches on SIGINT.
    child.kill('SIGINT');
    await waitExit(child, 10_000);
  }
  await sleep(500);
  const drops = kernelDrops(port);
  sock.close();
  return { payloads, drops };
}

function pmacctdConfig(dir: string, pcap: string, plugin: 'nfprobe' | 'sfprobe', port: number): string {
  const file = join(dir, `pmacctd-${plugin}.conf`);
  const lines = [
    'daemonize: false',
    `pcap_savefile: ${pcap}`,
    `plugins: ${plugin}[p]`,
    // Large plugin buffers: the core reads the savefile far faster than live traffic arrives.
    'plugin_pipe_size[p]: 268435456',
    'plugin_buffer_size[p]: 65536',
  ];
  if (plugin === 'nfprobe')
    lines.push(
      `nfprobe_receiver[p]: 127.0.0.1:${port}`,
      'nfprobe_version[p]: 10',
      'nfprobe_maxflows[p]: 65536',
    );
  else
    lines.push(
      `sfprobe_receiver[p]: 127.0.0.1:${port}`,
      'sfprobe_agentip[p]: 127.0.0.1',
      'sampling_rate[p]: 1',
    );
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/**
 * Makes the cached traffic and datagram sets if missing: traffic.pcap from Node, then softflowd
 * (NetFlow v9), pmacctd nfprobe (IPFIX) and pmacctd sfprobe (sFlow v5) over it.
 */
export async function ensureSets(
  cacheDir: string,
  flows: number,
  log: (s: string) => void,
  protocols: readonly SetProtocol[] = SET_PROTOCOLS,
): Promise<void> {
  mkdirSync(cacheDir, { recursive: true });
  const pcap = join(cacheDir, 'traffic.pcap');
  if (!existsSync(pcap)) {
    const s = writeTraffic(pcap, flows, 42, Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
    log(`traffic.pcap: ${s.flows} flows, ${s.packets} packets, ${s.bytes} bytes on the wire`);
  }
  const exporters: Record<
    SetProtocol,
    { name: string; start: (port: number) => ChildProcess; quietMs: number }
  > = {
    netflow9: {
      name: 'softflowd 1.1.0 -v 9 -A milli',
      quietMs: 5000,
      start: (port) =>
        spawn('softflowd', ['-r', pcap, '-n', `127.0.0.1:${port}`, '-v', '9', '-A', 'milli', '-d'], {
          stdio: 'ignore',
        }),
    },
    ipfix: {
      name: 'pmacctd 1.7.7 nfprobe_version 10',
      quietMs: 8000,
      start: (port) =>
        spawn('pmacctd', ['-f', pmacctdConfig(cacheDir, pcap, 'nfprobe', port)], { stdio: 'ignore' }),
    },
    sflow: {
      name: 'pmacctd 1.7.7 sfprobe, sampling_rate 1',
      quietMs: 8000,
      start: (port) =>
        spawn('pmacctd', ['-f', pmacctdConfig(cacheDir, pcap, 'sfprobe', port)], { stdio: 'ignore' }),
    },
  };
  for (const protocol of protocols) {
    const paths = setPaths(cacheDir, protocol);
    if (existsSync(paths.json)) continue;
    const e = exporters[protocol];
    log(`recording ${protocol} from ${e.name} ...`);
    const { payloads, drops } = await record(e.start, e.quietMs);
    const { records, packets } = countRecords(payloads);
    const out = Buffer.alloc(payloads.reduce((n, p) => n + 4 + p.length, 0));
    let o = 0;
    for (const p of payloads) {
      out.writeUInt32BE(p.length, o);
      p.copy(out, o + 4);
      o += 4 + p.length;
    }
    writeFileSync(paths.dgrams, out);
    const meta: SetMeta = {
      protocol,
      exporter: e.name,
      datagrams: payloads.length,
      records,
      packets,
      totalRecords: records.reduce((a, b) => a + b, 0),
      totalPackets: packets.reduce((a, b) => a + b, 0),
      recordingDrops: drops,
    };
    writeFileSync(paths.json, JSON.stringify(meta));
    log(
      `${protocol}: ${meta.datagrams} datagrams, ${meta.totalRecords} records ` +
        `(${(meta.totalRecords / Math.max(1, meta.datagrams)).toFixed(1)}/datagram), recording drops ${drops}`,
    );
  }
}
