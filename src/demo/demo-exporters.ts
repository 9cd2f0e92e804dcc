import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { IpfixEncoder } from './encode/ipfix-encoder.js';
import { Netflow9Encoder } from './encode/netflow9-encoder.js';
import { SflowEncoder } from './encode/sflow-encoder.js';
import { isLoopbackAddress } from './synthetic-flow.js';
import { type DemoExporter, type DemoProtocol, TrafficModel } from './traffic-model.js';

/** One port for every protocol (the collector's 2055 takes all), or one per protocol. */
export type DemoTarget =
  | { host: string; port: number }
  | { host: string; netflow9Port: number; ipfixPort: number; sflowPort: number };

export interface DemoExportersOptions {
  /** Must be loopback (127.0.0.0/8, ::1, "localhost"): the demo never sends anywhere else. */
  target: DemoTarget;
  /** Flow records (sFlow: samples) per second over all exporters; 1..MAX_RATE. Default DEFAULT_RATE. */
  ratePerSec?: number;
  seed?: number;
  /** Seconds until the attack starts; null: no attack. Default 45. */
  attackAfterSec?: number | null;
  attackDurationSec?: number;
  /** Send interval (default DEFAULT_TICK_MS). */
  tickMs?: number;
  /** Stops the exporters when aborted. */
  signal?: AbortSignal;
}

export interface DemoExporterCounts {
  name: string;
  protocol: DemoProtocol;
  address: string;
  datagrams: number;
  bytes: number;
  flows: number;
}

export interface DemoExportersStats {
  datagrams: number;
  bytes: number;
  flows: number;
  sendErrors: number;
  attackActive: boolean;
  exporters: DemoExporterCounts[];
}

export interface DemoExporters {
  stop(): Promise<void>;
  stats(): DemoExportersStats;
}

/** A bound on what the demo may send: far below what the collector takes on 2 cores. */
export const MAX_RATE = 100_000;
/** Flow records (sFlow: samples) per second when not told otherwise: about 1.6 Gb/s estimated. */
export const DEFAULT_RATE = 1000;
/** How often the exporters send, when not told otherwise. */
export const DEFAULT_TICK_MS = 200;
/** sFlow agents poll interface counters every 20-30 s by default; shorter so charts fill quickly. */
const COUNTER_INTERVAL_MS = 10_000;

interface Running {
  exporter: DemoExporter;
  socket: Socket;
  port: number;
  encode: (flowCount: number, nowMs: number) => { datagrams: Buffer[]; flows: number };
  carry: number;
  counts: DemoExporterCounts;
}

/** Throws unless `host` is a loopback literal or "localhost"; returns the address to send to. */
export function loopbackTarget(host: string): string {
  if (host === 'localhost') return '127.0.0.1';
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) === 0 || !isLoopbackAddress(bare)) {
    throw new Error(
      `demo exporters send only to loopback (127.0.0.0/8 or ::1), not to ${host}: the demo's traffic is made up and must not reach a real collector`,
    );
  }
  return bare;
}

function portFor(target: DemoTarget, protocol: DemoProtocol): number {
  if ('port' in target) return target.port;
  return protocol === 'netflow9'
    ? target.netflow9Port
    : protocol === 'ipfix'
      ? target.ipfixPort
      : target.sflowPort;
}

/**
 * Binds to the exporter's own loopback address (127.0.0.2, ...) so the collector sees distinct
 * exporters; where only 127.0.0.1 exists (macOS) or the target is ::1, the loopback of the target's family.
 */
async function bindSocket(family: 4 | 6, preferred: string): Promise<Socket> {
  const tryBind = (address: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = createSocket(family === 4 ? 'udp4' : 'udp6');
      s.once('error', (err) => {
        s.close();
        reject(err);
      });
      s.bind({ address, port: 0 }, () => {
        s.removeAllListeners('error');
        resolve(s);
      });
    });
  if (family === 6) return tryBind('::1');
  try {
    return await tryBind(preferred);
  } catch {
    return tryBind('127.0.0.1');
  }
}

/**
 * Starts the demo's built-in exporters: an edge router (NetFlow v9, 1:100), a firewall (IPFIX,
 * unsampled) and a campus switch (sFlow, 1:256) sending the TrafficModel's flows to the target
 * at a bounded rate until stop(). Rejects for a non-loopback target or a rate out of bounds.
 */
export async function startDemoExporters(opts: DemoExportersOptions): Promise<DemoExporters> {
  const host = loopbackTarget(opts.target.host);
  const rate = opts.ratePerSec ?? DEFAULT_RATE;
  if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE) {
    throw new Error(`demo rate ${rate} flows/s is out of bounds (1..${MAX_RATE})`);
  }
  const tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
  const startMs = Date.now();
  const model = new TrafficModel({
    seed: opts.seed ?? 1,
    startMs,
    attackAfterSec: opts.attackAfterSec === undefined ? 45 : opts.attackAfterSec,
    attackDurationSec: opts.attackDurationSec,
  });
  const family = host.includes(':') ? 6 : 4;
  const running: Running[] = [];
  for (const exporter of model.exporters) {
    const socket = await bindSocket(family, exporter.address);
    const encode = encoderFor(exporter, model, startMs);
    running.push({
      exporter,
      socket,
      port: portFor(opts.target, exporter.protocol),
      encode,
      carry: 0,
      counts: {
        name: exporter.name,
        protocol: exporter.protocol,
        // The address actually bound: 127.0.0.1 / ::1 where the exporter's own one is not available.
        address: socket.address().address,
        datagrams: 0,
        bytes: 0,
        flows: 0,
      },
    });
  }
  let sendErrors = 0;
  let lastMs = startMs;
  const tick = () => {
    const now = Date.now();
    // Bounded catch-up: after a stall (debugger, suspended laptop) do not burst more than 1 s.
    const elapsed = Math.min(1000, now - lastMs);
    lastMs = now;
    for (const r of running) {
      const want = (rate * r.exporter.share * elapsed) / 1000 + r.carry;
      const n = Math.floor(want);
      r.carry = want - n;
      const { datagrams, flows } = r.encode(n, now);
      r.counts.flows += flows;
      for (const d of datagrams) {
        r.counts.datagrams++;
        r.counts.bytes += d.length;
        r.socket.send(d, r.port, host, (err) => {
          if (err) sendErrors++;
        });
      }
    }
  };
  tick();
  const timer = setInterval(tick, tickMs);
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    if (stopped) return stopped;
    clearInterval(timer);
    stopped = Promise.all(
      running.map((r) => new Promise<void>((resolve) => r.socket.close(() => resolve()))),
    ).then(() => undefined);
    return stopped;
  };
  opts.signal?.addEventListener('abort', () => void stop(), { once: true });
  if (opts.signal?.aborted) void stop();
  return {
    stop,
    stats: () => {
      const exporters = running.map((r) => ({ ...r.counts }));
      return {
        datagrams: exporters.reduce((a, e) => a + e.datagrams, 0),
        bytes: exporters.reduce((a, e) => a + e.bytes, 0),
        flows: exporters.reduce((a, e) => a + e.flows, 0),
        sendErrors,
        attackActive: model.attackActive(Date.now()),
        exporters,
      };
    },
  };
}

/** The protocol encoder of one exporter, fed by the model; sFlow adds counter samples periodically. */
function encoderFor(exporter: DemoExporter, model: TrafficModel, startMs: number): Running['encode'] {
  // Exporters booted a while before the demo started: uptimes look like a device's, not 0.
  const bootMs = startMs - 3 * 24 * 3600 * 1000 - exporter.domainId * 1000;
  if (exporter.protocol === 'netflow9') {
    const enc = new Netflow9Encoder({
      sourceId: exporter.domainId,
      samplingInterval: exporter.samplingRate,
      bootMs,
    });
    return (n, now) => {
      const flows = n > 0 ? model.flows(exporter, n, now) : [];
      return { datagrams: enc.encode(flows, now), flows: flows.length };
    };
  }
  if (exporter.protocol === 'ipfix') {
    const enc = new IpfixEncoder({
      observationDomainId: exporter.domainId,
      samplingInterval: exporter.samplingRate,
    });
    return (n, now) => {
      const flows = n > 0 ? model.flows(exporter, n, now) : [];
      return { datagrams: enc.encode(flows, now), flows: flows.length };
    };
  }
  const enc = new SflowEncoder({
    agentAddress: exporter.address,
    subAgentId: exporter.domainId,
    samplingRate: exporter.samplingRate,
    bootMs,
  });
  let lastCounters = Number.NEGATIVE_INFINITY;
  return (n, now) => {
    const flows = n > 0 ? model.flows(exporter, n, now) : [];
    const due = now - lastCounters >= COUNTER_INTERVAL_MS;
    if (due) lastCounters = now;
    const counters = due ? model.counters(exporter) : [];
    return { datagrams: enc.encode(flows, counters, now), flows: flows.length };
  };
}
