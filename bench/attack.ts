/**
 * Hostile traffic against a collector on this machine, to see its limits hold (docs/security.md):
 *
 *   node --import tsx bench/attack.ts --udp 127.0.0.1:2055 --tcp 127.0.0.1:4739 \
 *     --attack template-flood --exporters 2000 --templates 1000 --rate 20000 --seconds 10 \
 *     [--api 127.0.0.1:8080 --report] [--seed N]
 *   node --import tsx bench/attack.ts --api 127.0.0.1:8080 --report      # counters only
 *
 * Attacks (UDP unless said): template-flood, zero-fields, huge-fields, varlen-overrun,
 * sflow-counts, garbage, single-source-flood (one source above flow.ratelimit), slowloris (TCP:
 * --connections that send a partial IPFIX header and stall, or with --dribble one byte a second),
 * tcp-garbage (TCP connections sending garbage, re-opened as the collector closes them).
 *
 * Spoofed exporters are UDP sockets bound to distinct 127.A.B.C addresses (all of 127/8 is
 * loopback on Linux); TCP clients bind 127.0.0.2 and up (--peers of them). Only loopback targets
 * are accepted: this script never sends anywhere else. It stops by itself after --seconds, paces
 * datagrams (or connection attempts) to --rate per second, and prints what it sent. With --report
 * it reads the collector's /stats and /metrics before and after and prints the counters the
 * limits move, the collector's RSS and heap.
 */
import { createSocket, type Socket } from 'node:dgram';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';
import { Rng } from '../eval/detection/rng.js';
import {
  garbageDatagram,
  garbageStream,
  hugeFieldTemplate,
  sflowAbsurdCounts,
  spoofedAddress,
  stalledIpfixHeader,
  templateFlood,
  templateRefresh,
  varlenOverrun,
  zeroFieldTemplates,
} from '../test/helpers/attack-traffic.js';

export const UDP_ATTACKS = [
  'template-flood',
  'zero-fields',
  'huge-fields',
  'varlen-overrun',
  'sflow-counts',
  'garbage',
  'single-source-flood',
] as const;
export const TCP_ATTACKS = ['slowloris', 'tcp-garbage'] as const;
export type AttackName = (typeof UDP_ATTACKS)[number] | (typeof TCP_ATTACKS)[number];

export interface Target {
  host: string;
  port: number;
}

export interface AttackOptions {
  attack: AttackName;
  udp: Target | null;
  tcp: Target | null;
  /** Distinct spoofed source addresses (UDP). */
  exporters: number;
  /** Template ids per exporter (template-flood). */
  templates: number;
  /** Datagrams per second (UDP), connection attempts per second (TCP). */
  rate: number;
  seconds: number;
  /** TCP connections held open at once. */
  connections: number;
  /** Distinct TCP client addresses (127.0.0.2 ...), connections spread over them. */
  peers: number;
  /** slowloris: one more byte a second instead of a silent stall. */
  dribble: boolean;
  /** TCP: open a new connection when the collector closes one (sustained pressure). */
  reconnect: boolean;
  seed: number;
}

export const DEFAULT_ATTACK: Omit<AttackOptions, 'attack' | 'udp' | 'tcp'> = {
  exporters: 100,
  templates: 100,
  rate: 5000,
  seconds: 10,
  connections: 50,
  peers: 10,
  dribble: false,
  reconnect: true,
  seed: 1,
};

/** How one TCP connection ended, from the client's side. */
export interface ConnectionOutcome {
  localAddress: string;
  /** Connect error, or null when it connected. */
  error: string | null;
  /** ms from connected to closed by the collector; null while open or when we closed it. */
  closedAfterMs: number | null;
}

export interface AttackResult {
  attack: AttackName;
  seconds: number;
  datagrams: number;
  bytes: number;
  /** Datagrams not sent because the socket could not keep up (send errors, too many in flight). */
  sendErrors: number;
  exporters: number;
  connections: ConnectionOutcome[];
}

/** Throws unless `host` is an IPv4 loopback literal (or "localhost"): only 127/8 is attacked. */
export function assertLoopback(host: string, what: string): string {
  const h = host === 'localhost' ? '127.0.0.1' : host;
  if (!ipaddr.IPv4.isValidFourPartDecimal(h) || ipaddr.parse(h).range() !== 'loopback')
    throw new Error(`${what} ${host}: refused, only IPv4 loopback targets (127.0.0.0/8) are attacked`);
  return h;
}

export function parseTarget(text: string, what: string): Target {
  const i = text.lastIndexOf(':');
  const port = Number(text.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${what} ${text}: expected HOST:PORT`);
  return { host: assertLoopback(text.slice(0, i), what), port };
}

/** A seeded source of numbers in [0, 1): the same seed sends the same attack. */
function randomOf(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.next();
}

/** One datagram of the attack, and from which spoofed exporter it goes. */
type NextDatagram = (n: number) => { exporter: number; payload: Buffer };

function udpGenerator(o: AttackOptions): NextDatagram {
  const rand = randomOf(o.seed);
  const perMessage = Math.max(1, Math.min(o.templates, 30));
  const cursor = new Int32Array(o.exporters);
  const exporterOf = (n: number) => n % o.exporters;
  switch (o.attack) {
    case 'template-flood':
      // Each exporter walks its own template ids, new random layouts each time round, so
      // re-announcements are redefinitions (recompiled) rather than cheap refreshes.
      return (n) => {
        const e = exporterOf(n);
        const first = 256 + cursor[e];
        const count = Math.min(perMessage, o.templates - cursor[e]);
        cursor[e] = (cursor[e] + count) % o.templates;
        const [payload] = templateFlood(rand, e % 2 === 0, {
          firstId: first,
          count,
          maxFields: 8,
          domain: 0,
          sequence: n,
          maxBytes: 65_000,
        });
        return { exporter: e, payload };
      };
    case 'zero-fields':
      return (n) => {
        const ids = Array.from({ length: 20 }, () => 256 + Math.floor(rand() * 65_280));
        return { exporter: exporterOf(n), payload: zeroFieldTemplates(n % 2 === 0, ids) };
      };
    case 'huge-fields':
      return (n) => {
        const ipfix = n % 2 === 0;
        // 65535 claimed / 3000 present; 1000 claimed and present; 65535 claimed / 10 present.
        const [claimed, present] = [
          [65_535, 3000],
          [1000, 1000],
          [65_535, 10],
        ][n % 3] as [number, number];
        return { exporter: exporterOf(n), payload: hugeFieldTemplate(rand, ipfix, claimed, present) };
      };
    case 'varlen-overrun':
      return (n) => ({
        exporter: exporterOf(n),
        payload: varlenOverrun(n % 2 === 0 ? 'short' : 'long', Math.floor(rand() * 100)),
      });
    case 'sflow-counts':
      return (n) => {
        const e = exporterOf(n);
        const payload =
          n % 2 === 0
            ? sflowAbsurdCounts(0xffff_ffff, 1, spoofedAddress(e), n)
            : sflowAbsurdCounts(1, 0xffff_ffff, spoofedAddress(e), n);
        return { exporter: e, payload };
      };
    case 'garbage':
      return (n) => ({ exporter: exporterOf(n), payload: garbageDatagram(rand) });
    case 'single-source-flood':
      return (n) => ({ exporter: 0, payload: templateRefresh(0, n) });
    default:
      throw new Error(`${o.attack} is not a UDP attack`);
  }
}

/** One UDP socket per spoofed exporter, bound to its 127.A.B.C address. */
async function openPool(count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = createSocket('udp4');
    s.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, spoofedAddress(i), () => {
        s.off('error', reject);
        resolve();
      });
    });
    sockets.push(s);
  }
  return sockets;
}

/** Most datagrams in flight (handed to libuv, not yet sent): beyond it a tick skips them. */
const MAX_IN_FLIGHT = 2000;
/** At most this share of a second's datagrams goes out in one tick after a stall. */
const MAX_TICK_SHARE = 0.02;

async function udpAttack(o: AttackOptions, target: Target): Promise<AttackResult> {
  const exporters = o.attack === 'single-source-flood' ? 1 : o.exporters;
  const opts = { ...o, exporters };
  const next = udpGenerator(opts);
  const pool = await openPool(exporters);
  let datagrams = 0;
  let bytes = 0;
  let sendErrors = 0;
  let inFlight = 0;
  const start = performance.now();
  const end = start + o.seconds * 1000;
  const maxPerTick = Math.max(1, Math.ceil(o.rate * MAX_TICK_SHARE));
  let n = 0;
  try {
    for (let now = performance.now(); now < end; now = performance.now()) {
      const owed = Math.min(Math.floor(((now - start) / 1000) * o.rate) - n, maxPerTick);
      for (let k = 0; k < owed; k++, n++) {
        if (inFlight >= MAX_IN_FLIGHT) {
          sendErrors++;
          continue;
        }
        const { exporter, payload } = next(n);
        inFlight++;
        pool[exporter]?.send(payload, target.port, target.host, (err) => {
          inFlight--;
          if (err) sendErrors++;
          else {
            datagrams++;
            bytes += payload.length;
          }
        });
      }
      // Behind by more than a tick's share (a slow machine): skip what cannot be caught up.
      const behind = Math.floor(((performance.now() - start) / 1000) * o.rate) - n;
      if (behind > maxPerTick * 4) n += behind - maxPerTick;
      await sleep(1);
    }
    while (inFlight > 0) await sleep(5);
  } finally {
    await Promise.all(pool.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
  return {
    attack: o.attack,
    seconds: (performance.now() - start) / 1000,
    datagrams,
    bytes,
    sendErrors,
    exporters,
    connections: [],
  };
}

/** TCP client address of connection i: 127.0.0.2 .. 127.0.0.(1 + peers). */
export function tcpPeerAddress(i: number, peers: number): string {
  return `127.0.0.${2 + (i % Math.min(peers, 250))}`;
}

async function tcpAttack(o: AttackOptions, target: Target): Promise<AttackResult> {
  const rand = randomOf(o.seed);
  const outcomes: ConnectionOutcome[] = [];
  const open = new Set<net.Socket>();
  /** Sockets this script closed itself (at the end): not counted as closed by the collector. */
  const closedByUs = new WeakSet<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let bytes = 0;
  let opened = 0;
  const start = performance.now();
  const end = start + o.seconds * 1000;

  const connect = (): void => {
    const i = opened++;
    const localAddress = tcpPeerAddress(i, o.peers);
    const outcome: ConnectionOutcome = { localAddress, error: null, closedAfterMs: null };
    outcomes.push(outcome);
    const s = net.connect({ host: target.host, port: target.port, localAddress });
    open.add(s);
    let connectedAt = 0;
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (connectedAt === 0) outcome.error = err.code ?? err.message;
    });
    s.on('connect', () => {
      connectedAt = performance.now();
      const first = o.attack === 'slowloris' ? stalledIpfixHeader(65_535, 16) : garbageStream(rand);
      s.write(first);
      bytes += first.length;
      if (o.attack === 'slowloris' && o.dribble) {
        // One byte a second into a body that would need 65,519 of them.
        const t = setInterval(() => {
          if (s.writable) {
            s.write(Buffer.from([0]));
            bytes++;
          }
        }, 1000);
        timers.add(t);
        s.once('close', () => {
          clearInterval(t);
          timers.delete(t);
        });
      }
    });
    s.on('close', () => {
      open.delete(s);
      if (connectedAt > 0 && !closedByUs.has(s)) outcome.closedAfterMs = performance.now() - connectedAt;
    });
    // The collector closed its side: close ours too (a half-open socket holds nothing useful).
    s.on('end', () => s.destroy());
  };

  // Connection attempts are paced at --rate per second, up to --connections open at once.
  const interval = 1000 / Math.max(1, o.rate);
  let attempts = 0;
  while (performance.now() < end) {
    const due = Math.floor((performance.now() - start) / interval);
    while (attempts < due && open.size < o.connections && (o.reconnect || opened < o.connections)) {
      connect();
      attempts++;
    }
    if (attempts < due && open.size >= o.connections) attempts = due;
    await sleep(Math.min(20, Math.max(1, interval)));
  }
  for (const t of timers) clearInterval(t);
  for (const s of open) {
    closedByUs.add(s);
    s.destroy();
  }
  return {
    attack: o.attack,
    seconds: (performance.now() - start) / 1000,
    datagrams: 0,
    bytes,
    sendErrors: 0,
    exporters: 0,
    connections: outcomes,
  };
}

/** Runs one attack to its end (--seconds); what was sent. */
export async function runAttack(o: AttackOptions): Promise<AttackResult> {
  if ((UDP_ATTACKS as readonly string[]).includes(o.attack)) {
    if (o.udp === null) throw new Error(`${o.attack} needs --udp HOST:PORT`);
    assertLoopback(o.udp.host, '--udp');
    return udpAttack(o, o.udp);
  }
  if ((TCP_ATTACKS as readonly string[]).includes(o.attack)) {
    if (o.tcp === null) throw new Error(`${o.attack} needs --tcp HOST:PORT`);
    assertLoopback(o.tcp.host, '--tcp');
    return tcpAttack(o, o.tcp);
  }
  throw new Error(`unknown attack ${o.attack}: one of ${[...UDP_ATTACKS, ...TCP_ATTACKS].join(', ')}`);
}

/** The counters the limits move, as /stats and /metrics give them. */
export interface CollectorReport {
  rssBytes: number | null;
  heapUsedBytes: number | null;
  templatesHeld: number | null;
  exporters: number;
  datagrams: number;
  received: number;
  queueDrops: number;
  notAllowed: number;
  rateLimited: number | null;
  /** Decode errors by kind, over all exporters (from flowgate_decode_errors_total). */
  decodeErrors: Record<string, number>;
  tcp: {
    connections: number;
    connectionsTotal: number;
    framingErrors: number;
    refused: Record<string, number> | null;
    timeouts: Record<string, number> | null;
  };
  /** Every flowgate_* sample the attacks concern, by its full name and labels. */
  metrics: Record<string, number>;
}

const REPORTED_METRICS =
  /^flowgate_(rate_limited_datagrams_total|exporters_evicted_total|tcp_refused_connections_total|tcp_timeouts_total|templates_held|tcp_framing_errors_total|queue_drops_total|not_allowed_datagrams_total|process_resident_memory_bytes|nodejs_heap_size_used_bytes|received_datagrams_total)\b/;

/** Parses Prometheus text: `name{labels} value` lines, comments skipped. */
export function parseMetrics(
  text: string,
): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] as string] = l[2] as string;
    out.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return out;
}

interface StatsJson {
  received?: number;
  queue?: { drops?: number };
  decode?: { datagrams?: number; templates?: number };
  totals?: { exporters?: number; datagrams?: number; notAllowed?: number; rateLimited?: number };
  tcp?: {
    connections?: number;
    connectionsTotal?: number;
    framingErrors?: number;
    refused?: Record<string, number>;
    timeouts?: Record<string, number>;
  };
}

/** Reads /stats and /metrics of the collector's API at `api` (http://127.0.0.1:PORT). */
export async function readReport(api: string): Promise<CollectorReport> {
  const get = async (path: string) => {
    const res = await fetch(`${api}${path}`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`GET ${api}${path}: ${res.status} ${await res.text()}`);
    return res.text();
  };
  const stats = JSON.parse(await get('/stats')) as StatsJson;
  const samples = parseMetrics(await get('/metrics'));
  const one = (name: string) => samples.find((s) => s.name === name)?.value ?? null;
  const decodeErrors: Record<string, number> = {};
  const metrics: Record<string, number> = {};
  for (const s of samples) {
    if (s.name === 'flowgate_decode_errors_total' && s.labels.kind !== undefined)
      decodeErrors[s.labels.kind] = (decodeErrors[s.labels.kind] ?? 0) + s.value;
    else if (REPORTED_METRICS.test(s.name)) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      metrics[labels === '' ? s.name : `${s.name}{${labels}}`] = s.value;
    }
  }
  return {
    rssBytes: one('flowgate_process_resident_memory_bytes'),
    heapUsedBytes: one('flowgate_nodejs_heap_size_used_bytes'),
    templatesHeld: stats.decode?.templates ?? one('flowgate_templates_held'),
    exporters: stats.totals?.exporters ?? 0,
    datagrams: stats.totals?.datagrams ?? 0,
    received: stats.received ?? 0,
    queueDrops: stats.queue?.drops ?? 0,
    notAllowed: stats.totals?.notAllowed ?? 0,
    rateLimited: stats.totals?.rateLimited ?? null,
    decodeErrors,
    tcp: {
      connections: stats.tcp?.connections ?? 0,
      connectionsTotal: stats.tcp?.connectionsTotal ?? 0,
      framingErrors: stats.tcp?.framingErrors ?? 0,
      refused: stats.tcp?.refused ?? null,
      timeouts: stats.tcp?.timeouts ?? null,
    },
    metrics,
  };
}

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}

function num(argv: string[], name: string, fallback: number): number {
  const v = arg(argv, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} ${v}: expected a number >= 0`);
  return n;
}

const MB = 1024 * 1024;

function summary(r: CollectorReport): string {
  const mb = (v: number | null) => (v === null ? '?' : `${(v / MB).toFixed(1)} MB`);
  return [
    `rss ${mb(r.rssBytes)}, heap ${mb(r.heapUsedBytes)}, templates held ${r.templatesHeld ?? '?'}, exporters ${r.exporters}`,
    `received ${r.received}, datagrams counted to exporters ${r.datagrams}, queue drops ${r.queueDrops}, not allowed ${r.notAllowed}, rate limited ${r.rateLimited ?? '?'}`,
    `decode errors ${JSON.stringify(r.decodeErrors)}`,
    `tcp ${JSON.stringify(r.tcp)}`,
  ].join('\n  ');
}

async function main(argv: string[]): Promise<void> {
  const apiText = arg(argv, 'api');
  const api = apiText === undefined ? null : `http://${parseTargetText(apiText)}`;
  const report = argv.includes('--report');
  if (report && api === null) throw new Error('--report needs --api HOST:PORT (the collector API)');
  const attack = arg(argv, 'attack') as AttackName | undefined;
  const before = report && api !== null ? await readReport(api) : null;
  if (before !== null) console.log(`before:\n  ${summary(before)}`);
  let result: AttackResult | null = null;
  if (attack !== undefined) {
    const udp = arg(argv, 'udp');
    const tcp = arg(argv, 'tcp');
    const o: AttackOptions = {
      attack,
      udp: udp === undefined ? null : parseTarget(udp, '--udp'),
      tcp: tcp === undefined ? null : parseTarget(tcp, '--tcp'),
      exporters: Math.max(1, num(argv, 'exporters', DEFAULT_ATTACK.exporters)),
      templates: Math.max(1, num(argv, 'templates', DEFAULT_ATTACK.templates)),
      rate: Math.max(1, num(argv, 'rate', DEFAULT_ATTACK.rate)),
      // Bounded whatever is asked: this is a test tool, not a load generator left running.
      seconds: Math.min(600, num(argv, 'seconds', DEFAULT_ATTACK.seconds)),
      connections: Math.max(1, num(argv, 'connections', DEFAULT_ATTACK.connections)),
      peers: Math.max(1, num(argv, 'peers', DEFAULT_ATTACK.peers)),
      dribble: argv.includes('--dribble'),
      reconnect: !argv.includes('--no-reconnect'),
      seed: num(argv, 'seed', DEFAULT_ATTACK.seed),
    };
    if (o.exporters > 16_000) throw new Error('--exporters: at most 16000 (one socket each)');
    console.log(`attack ${o.attack}: ${JSON.stringify({ ...o, attack: undefined })}`);
    result = await runAttack(o);
    const c = result.connections;
    console.log(
      `sent: ${result.datagrams} datagrams, ${result.bytes} bytes in ${result.seconds.toFixed(1)} s ` +
        `(${(result.datagrams / result.seconds).toFixed(0)}/s) from ${result.exporters} sources, ${result.sendErrors} not sent` +
        (c.length > 0
          ? `; tcp: ${c.length} connections, ${c.filter((x) => x.error !== null).length} failed to connect, ` +
            `${c.filter((x) => x.closedAfterMs !== null).length} closed by the collector ` +
            `(${c.filter((x) => x.closedAfterMs !== null && x.closedAfterMs < 500).length} within 0.5 s)`
          : ''),
    );
  }
  if (report && api !== null) {
    // Let the collector decode what is queued before reading the counters again.
    if (result !== null) await sleep(2000);
    const after = await readReport(api);
    console.log(`after:\n  ${summary(after)}`);
    console.log(
      JSON.stringify({
        result: result && { ...result, connections: result.connections.length },
        before,
        after,
      }),
    );
  }
}

function parseTargetText(text: string): string {
  const t = parseTarget(text, '--api');
  return `${t.host}:${t.port}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
