/**
 * The paced sender, run as its own process so its CPU is not the harness's:
 *
 *   node --import tsx bench/line-rate/sender.ts --cache DIR --protocol netflow9 --port P \
 *     --rate RECORDS_PER_S --seconds S [--share K/N]
 *
 * Loops over the recorded datagram set, rewriting header sequence numbers and export times in place
 * (no allocation per datagram: by the time the loop comes back to a datagram it left long ago), and
 * sends on each ~1 ms tick what the rate owes so far. With --share K/N it sends 1/N of the rate as
 * its own exporter stream (source id + K, own socket), starting at its own point in the set.
 * Prints one JSON line at the end: records, packets and datagrams sent, and the sending time.
 */
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { readSet, type SetProtocol } from './datagram-set.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const cache = arg('cache') as string;
const protocol = arg('protocol') as SetProtocol;
const port = Number(arg('port'));
const [shareK, shareN] = (arg('share') ?? '0/1').split('/').map(Number) as [number, number];
const rate = Number(arg('rate')) / shareN;
const seconds = Number(arg('seconds') ?? 10);

const { meta, payloads } = readSet(cache, protocol);
const records = Int32Array.from(meta.records);
const packets = Int32Array.from(meta.packets);

/** Offset of the source id / observation domain / sFlow sub-agent id: what names a stream. */
function streamIdOffset(b: Buffer): number {
  if (protocol === 'netflow9') return 16;
  if (protocol === 'ipfix') return 12;
  return b.readUInt32BE(4) === 2 ? 24 : 12;
}

/** Whether the datagram (re)announces templates: a fresh stream can decode from here on. */
function carriesTemplates(b: Buffer): boolean {
  if (protocol === 'netflow9') return b.readUInt16BE(20) === 0;
  if (protocol === 'ipfix') return b.readUInt16BE(16) === 2;
  return true;
}

// With N senders each is its own exporter stream (own source id, own sequence numbers, own
// templates), walking the whole set from its own starting point: an interleaved share would give
// the template datagrams (every 16th from softflowd) to one sender only.
let first = 0;
if (shareN > 1) {
  for (const b of payloads) {
    const o = streamIdOffset(b);
    b.writeUInt32BE((b.readUInt32BE(o) + shareK) >>> 0, o);
  }
  first = Math.floor((shareK * payloads.length) / shareN);
  while (first < payloads.length && !carriesTemplates(payloads[first] as Buffer)) first++;
  if (first === payloads.length) first = 0;
}

/** Header offsets of export time and sequence number (RFC 3954 5.1, RFC 7011 3.1, sFlow v5 5.). */
function headerRewriter(): (b: Buffer, i: number, nowSec: number) => void {
  let seq = 0;
  if (protocol === 'netflow9')
    return (b, _i, nowSec) => {
      b.writeUInt32BE(nowSec, 8);
      b.writeUInt32BE(seq++ >>> 0, 12);
    };
  if (protocol === 'ipfix')
    // IPFIX counts data records sent before this message.
    return (b, i, nowSec) => {
      b.writeUInt32BE(nowSec, 4);
      b.writeUInt32BE(seq >>> 0, 8);
      seq += records[i] as number;
    };
  const t0 = Date.now();
  return (b) => {
    // Agent address type 1 = IPv4 (4 bytes), 2 = IPv6 (16 bytes); then sub-agent id, sequence, uptime.
    const o = b.readUInt32BE(4) === 2 ? 28 : 16;
    b.writeUInt32BE(seq++ >>> 0, o);
    b.writeUInt32BE((Date.now() - t0) >>> 0, o + 4);
  };
}

const rewrite = headerRewriter();
const sock = createSocket('udp4');
await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
sock.setSendBufferSize(4 * 1024 * 1024);

let sentRecords = 0;
let sentPackets = 0;
let sentDatagrams = 0;
let errors = 0;
let next = first;
const onSent = (err: Error | null) => {
  if (err) errors++;
};
const t0 = performance.now();
const deadline = t0 + seconds * 1000;
for (;;) {
  const elapsed = (performance.now() - t0) / 1000;
  if (elapsed >= seconds) break;
  const owed = rate * elapsed;
  const nowSec = Math.floor(Date.now() / 1000);
  while (sentRecords < owed) {
    const b = payloads[next] as Buffer;
    rewrite(b, next, nowSec);
    sock.send(b, port, '127.0.0.1', onSent);
    sentRecords += records[next] as number;
    sentPackets += packets[next] as number;
    sentDatagrams++;
    if (++next === payloads.length) next = 0;
    // A sender that cannot keep up must still stop on time (and show it sent less than owed).
    if ((sentDatagrams & 63) === 0 && performance.now() >= deadline) break;
  }
  await sleep(1);
}
const sendSec = (performance.now() - t0) / 1000;
await sleep(200);
sock.close();
process.stdout.write(
  `${JSON.stringify({ records: sentRecords, packets: sentPackets, datagrams: sentDatagrams, seconds: sendSec, errors })}\n`,
);
