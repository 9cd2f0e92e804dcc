/**
 * A receiving thread: reads its UDP sockets, applies the allow-list, hands every allowed datagram
 * to the tee, and copies it into the shared ring for the decoding thread. Nothing here waits on
 * decode, enrichment or outputs, so the sockets keep being drained while the decoding thread is
 * busy (garbage collection, store batches): what the kernel would have dropped is queued in the
 * ring, and what the ring cannot take is dropped whole and counted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { normalizeExporterAddress } from '../record/address.js';
import { countPerSource } from '../stats/source-counts.js';
import { AllowList } from './allowlist.js';
import { RingWriter } from './datagram-ring.js';
import { ExporterRateLimit } from './exporter-rate-limit.js';
import { parseListenAddress } from './listen-address.js';
import type { ReceiveCommand, ReceiveEvent, ReceiveThreadData } from './receive-thread-protocol.js';
import { UdpTee } from './tee.js';
import { UdpReceiver } from './udp-receiver.js';

/** How often refused sources and tee counters are reported (they are also sent on request). */
const REPORT_MS = 500;
/** Distinct refused sources kept between two reports; a spoofed flood beyond it is summed. */
const MAX_REFUSED_SOURCES = 4096;

const data = workerData as ReceiveThreadData;
const port = parentPort;
if (port === null) throw new Error('receive-thread-worker must run as a worker thread');
const send = (e: ReceiveEvent): void => port.postMessage(e);

const ring = new RingWriter(data.ring);
let allow = new AllowList(data.allow);
let tee: UdpTee | null = null;
const rateLimit = ExporterRateLimit.create(data.rateLimit);
let refused = new Map<string, number>();

function onDatagram(payload: Buffer, src: string, srcPort: number, dstPort: number): void {
  const address = normalizeExporterAddress(src);
  if (!allow.allows(address)) {
    countPerSource(refused, address, 1, MAX_REFUSED_SOURCES);
    return;
  }
  // The tee relays what arrived, limited or not: other collectors apply their own limits.
  tee?.forward(payload, address);
  const now = Date.now();
  if (rateLimit !== null && !rateLimit.allows(address, now)) return;
  ring.write(payload, address, srcPort, dstPort, now);
}

function report(): void {
  const notAllowed = [...refused];
  refused = new Map();
  const rateLimited = rateLimit === null ? [] : [...rateLimit.takeLimited()];
  send({ type: 'report', notAllowed, rateLimited, tee: tee?.stats() ?? null });
}

const receivers = data.listen.map((a) => new UdpReceiver(parseListenAddress(a), data.udpbuffer, onDatagram));
let timer: NodeJS.Timeout | null = null;

async function start(): Promise<void> {
  try {
    if (data.tee !== null) tee = await UdpTee.start(data.tee);
    const listeners = [];
    for (const r of receivers) listeners.push(await r.start());
    timer = setInterval(report, REPORT_MS);
    send({ type: 'ready', listeners });
  } catch (err) {
    await Promise.all(receivers.map((r) => r.stop()));
    await tee?.close();
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
    port?.close();
  }
}

async function handle(cmd: ReceiveCommand): Promise<void> {
  switch (cmd.type) {
    case 'allow':
      allow = new AllowList(cmd.entries);
      return;
    case 'tee': {
      const old = tee;
      tee = cmd.options === null ? null : await UdpTee.start(cmd.options);
      await old?.close();
      return;
    }
    case 'report':
      report();
      return;
    case 'stop':
      if (timer !== null) clearInterval(timer);
      await Promise.all(receivers.map((r) => r.stop()));
      await tee?.close();
      report();
      return;
  }
}

port.on('message', (cmd: ReceiveCommand) => {
  handle(cmd).then(
    () => {
      send({ type: 'reply', id: cmd.id, error: null });
      if (cmd.type === 'stop') port.close();
    },
    (err: unknown) =>
      send({ type: 'reply', id: cmd.id, error: err instanceof Error ? err.message : String(err) }),
  );
});

void start();
