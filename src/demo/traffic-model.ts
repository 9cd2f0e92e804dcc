import type { SflowInterfaceCounters } from './encode/sflow-encoder.js';
import type { SyntheticFlow } from './synthetic-flow.js';

/**
 * A seeded, deterministic traffic mix for `flowgate demo`: three exporters at three sampling rates
 * see internal RFC 1918 clients talk to "public" servers, where every public address is from the
 * documentation ranges (RFC 5737 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24; RFC 3849
 * 2001:db8::/32) so the demo never names a real third party. A few hosts and services dominate
 * (Zipf-weighted choice, Pareto flow sizes), as in real networks. After `attackAfterSec` a UDP
 * reflection flood (NTP/DNS/memcached source ports, many sources, one victim) and a TCP SYN port
 * scan from one source start, for the detectors and the dashboard to show.
 *
 * Volumes are those of a small-to-medium network: a packet-sampled exporter's records hold only the
 * packets its sampler picked (the collector scales them back up by the rate), flows last at most one
 * active timeout at tens of Mb/s, so at the demo's default 1000 records/s the three exporters come to
 * about 1.6 Gb/s estimated in all (the flood adds about 1 Gb/s), the busiest hosts to a few hundred Mb/s.
 */

export type DemoProtocol = 'netflow9' | 'ipfix' | 'sflow5';

export interface DemoInterface {
  index: number;
  name: string;
  role: 'transit' | 'core' | 'outside' | 'inside' | 'dmz' | 'access' | 'uplink';
  speedBps: number;
}

export interface DemoExporter {
  name: string;
  protocol: DemoProtocol;
  /** Loopback address the exporter sends from (sFlow: also its agent address). */
  address: string;
  /** 1-in-N packet sampling. */
  samplingRate: number;
  /** Share of the demo's flow record rate this exporter sends (the shares add up to 1). */
  share: number;
  /** v9 source id / IPFIX observation domain / sFlow sub-agent id. */
  domainId: number;
  interfaces: readonly DemoInterface[];
}

const G = 1_000_000_000;
/** Longest stretch of a flow one record covers (a typical active timeout). */
const ACTIVE_TIMEOUT_MS = 59_000;

export const DEMO_EXPORTERS: readonly DemoExporter[] = [
  {
    name: 'edge-router',
    protocol: 'netflow9',
    address: '127.0.0.2',
    samplingRate: 100,
    share: 0.45,
    domainId: 0,
    interfaces: [
      { index: 1, name: 'transit-a', role: 'transit', speedBps: 10 * G },
      { index: 2, name: 'transit-b', role: 'transit', speedBps: 10 * G },
      { index: 10, name: 'core', role: 'core', speedBps: 40 * G },
    ],
  },
  {
    name: 'dc-firewall',
    protocol: 'ipfix',
    address: '127.0.0.3',
    samplingRate: 1,
    share: 0.35,
    domainId: 1,
    interfaces: [
      { index: 3, name: 'outside', role: 'outside', speedBps: 10 * G },
      { index: 4, name: 'inside', role: 'inside', speedBps: 10 * G },
      { index: 5, name: 'dmz', role: 'dmz', speedBps: 1 * G },
    ],
  },
  {
    name: 'campus-switch',
    protocol: 'sflow5',
    address: '127.0.0.4',
    samplingRate: 256,
    share: 0.2,
    domainId: 0,
    interfaces: [
      ...[1, 2, 3, 4, 5, 6, 7, 8].map(
        (i): DemoInterface => ({ index: i, name: `access-${i}`, role: 'access', speedBps: 1 * G }),
      ),
      { index: 49, name: 'uplink', role: 'uplink', speedBps: 10 * G },
    ],
  },
];

/** The attack's fixed parties, for tests and the demo's description. */
export const ATTACK = {
  floodVictim: '10.1.20.5',
  floodSourcePorts: [123, 53, 11211] as const,
  scanner: '203.0.113.66',
  scanTarget: '10.1.30.10',
} as const;

interface Service {
  name: string;
  protocol: 6 | 17;
  port: number;
  weight: number;
  /** Median-ish packets of the request direction, and response bytes per request byte. */
  minPackets: number;
  requestPacketBytes: number;
  responsePacketBytes: number;
  responsePacketRatio: number;
  servers4: readonly string[];
  servers6: readonly string[];
}

const SERVICES: readonly Service[] = [
  svc('https', 6, 443, 45, 6, 120, 1200, 1.5, ['192.0.2.10', '192.0.2.11', '198.51.100.20', '203.0.113.30']),
  svc('video', 17, 443, 15, 20, 90, 1350, 8, ['198.51.100.80', '198.51.100.81'], ['2001:db8:f00::80']),
  svc('dns', 17, 53, 18, 1, 70, 160, 1, ['192.0.2.53', '198.51.100.53'], ['2001:db8:53::53']),
  svc('ntp', 17, 123, 5, 1, 76, 76, 1, ['203.0.113.123', '192.0.2.123']),
  svc('ssh', 6, 22, 6, 10, 100, 180, 1, ['203.0.113.22']),
  svc('http', 6, 80, 7, 4, 200, 1300, 3, ['192.0.2.80', '203.0.113.80']),
  svc('imaps', 6, 993, 4, 5, 150, 900, 2, ['198.51.100.143']),
];

function svc(
  name: string,
  protocol: 6 | 17,
  port: number,
  weight: number,
  minPackets: number,
  requestPacketBytes: number,
  responsePacketBytes: number,
  responsePacketRatio: number,
  servers4: string[],
  servers6: string[] = ['2001:db8:443::1', '2001:db8:443::2'],
): Service {
  return {
    name,
    protocol,
    port,
    weight,
    minPackets,
    requestPacketBytes,
    responsePacketBytes,
    responsePacketRatio,
    servers4,
    servers6,
  };
}

/** mulberry32: small, fast, good enough for traffic shapes; deterministic per seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TrafficModelOptions {
  seed: number;
  /** Unix ms when the demo started (attack time counts from it). */
  startMs: number;
  /** Seconds after start when the attack begins; null: never. */
  attackAfterSec: number | null;
  /** How long the attack lasts (default 300 s). */
  attackDurationSec?: number;
}

/** Cumulative interface counters of the sFlow switch, fed by what it samples times its rate. */
class PortCounters {
  inOctets = 0;
  inPackets = 0;
  outOctets = 0;
  outPackets = 0;
}

export class TrafficModel {
  readonly exporters = DEMO_EXPORTERS;
  private readonly random: (() => number)[];
  private readonly ports = new Map<number, PortCounters>();
  private scanPort = 1;

  constructor(private readonly opts: TrafficModelOptions) {
    // One stream per exporter: an exporter's flows do not depend on how often the others are asked.
    this.random = DEMO_EXPORTERS.map((_, i) => rng((opts.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0));
  }

  attackActive(nowMs: number): boolean {
    const after = this.opts.attackAfterSec;
    if (after === null) return false;
    const since = nowMs - this.opts.startMs - after * 1000;
    return since >= 0 && since < (this.opts.attackDurationSec ?? 300) * 1000;
  }

  /**
   * About `count` flows the exporter exports at `nowMs` (NetFlow/IPFIX: flow records of both
   * directions; sFlow: sampled packets), plus attack flows while the attack runs.
   */
  flows(exporter: DemoExporter, count: number, nowMs: number): SyntheticFlow[] {
    const r = this.random[DEMO_EXPORTERS.indexOf(exporter)];
    const out: SyntheticFlow[] = [];
    const sampled = exporter.protocol === 'sflow5';
    while (out.length < count) this.conversation(exporter, r, nowMs, sampled, out);
    if (this.attackActive(nowMs)) {
      const flood = Math.max(3, Math.round(count * 0.4));
      for (let i = 0; i < flood; i++) out.push(this.floodFlow(exporter, r, nowMs, sampled));
      if (!sampled) {
        const scan = Math.max(2, Math.round(count * 0.15));
        for (let i = 0; i < scan; i++) out.push(this.scanFlow(exporter, r, nowMs));
      }
    }
    if (sampled) for (const f of out) this.count(f, exporter.samplingRate);
    return out;
  }

  /** Generic interface counters of every switch port, as its agent would poll them. */
  counters(exporter: DemoExporter): SflowInterfaceCounters[] {
    return exporter.interfaces.map((i) => {
      const c = this.ports.get(i.index) ?? new PortCounters();
      return {
        ifIndex: i.index,
        ifType: 6, // ethernetCsmacd
        ifSpeed: i.speedBps,
        inOctets: c.inOctets,
        inUcastPkts: c.inPackets % 2 ** 32,
        inMulticastPkts: 0,
        inBroadcastPkts: 0,
        inDiscards: 0,
        inErrors: 0,
        outOctets: c.outOctets,
        outUcastPkts: c.outPackets % 2 ** 32,
        outMulticastPkts: 0,
        outBroadcastPkts: 0,
        outDiscards: 0,
        outErrors: 0,
      };
    });
  }

  private count(f: SyntheticFlow, rate: number): void {
    const port = (i: number) => {
      let c = this.ports.get(i);
      if (c === undefined) {
        c = new PortCounters();
        this.ports.set(i, c);
      }
      return c;
    };
    const pin = port(f.input);
    pin.inOctets += f.bytes * rate;
    pin.inPackets += f.packets * rate;
    const pout = port(f.output);
    pout.outOctets += f.bytes * rate;
    pout.outPackets += f.packets * rate;
  }

  /** One client/server exchange: request and response flows (sFlow: one packet of either). */
  private conversation(
    exporter: DemoExporter,
    r: () => number,
    nowMs: number,
    sampled: boolean,
    out: SyntheticFlow[],
  ): void {
    const s = pickWeighted(SERVICES, r);
    const v6 = s.servers6.length > 0 && r() < 0.2;
    // Zipf over hosts: a handful of clients and servers carry most of the traffic.
    const host = zipf(60, r);
    const office = host < 40;
    const client = v6
      ? `2001:db8:100:${office ? 10 : 20}::${host + 10}`
      : `10.1.${office ? 10 : 20}.${host + 10}`;
    const servers = v6 ? s.servers6 : s.servers4;
    const server = servers[zipf(servers.length, r)];
    const clientPort = 32768 + Math.floor(r() * 28000);
    // Heavy-tailed sizes, but no faster than one request packet per 5-45 ms and no longer than the
    // 60 s active timeout a record covers: an elephant is tens of Mb/s, not a link's worth.
    const gapMs = 5 + Math.floor(r() * 40);
    const packets = Math.min(Math.floor(ACTIVE_TIMEOUT_MS / gapMs), Math.ceil(pareto(s.minPackets, 1.4, r)));
    const durationMs = packets * gapMs;
    const endMs = nowMs - Math.floor(r() * 2000);
    const startMs = endMs - durationMs;
    const vlan = office ? 10 : 20;
    const base = {
      ipVersion: (v6 ? 6 : 4) as 4 | 6,
      protocol: s.protocol,
      tos: s.name === 'video' ? 0x88 : 0,
    };
    const req: SyntheticFlow = {
      ...base,
      srcAddr: client,
      dstAddr: server,
      srcPort: clientPort,
      dstPort: s.port,
      tcpFlags: s.protocol === 6 ? 0x1b : 0,
      bytes: packets * s.requestPacketBytes,
      packets,
      startMs,
      endMs,
      input: 0,
      output: 0,
      srcMask: v6 ? 64 : 24,
      dstMask: v6 ? 48 : 24,
      nextHop: '',
      vlan,
    };
    const respPackets = Math.max(1, Math.round(packets * s.responsePacketRatio));
    const resp: SyntheticFlow = {
      ...req,
      srcAddr: server,
      dstAddr: client,
      srcPort: s.port,
      dstPort: clientPort,
      tcpFlags: s.protocol === 6 ? 0x1a : 0,
      bytes: respPackets * s.responsePacketBytes,
      packets: respPackets,
      srcMask: req.dstMask,
      dstMask: req.srcMask,
    };
    const transit = (host + server.length) % 2 === 0;
    route(exporter, req, true, transit, host % 8);
    route(exporter, resp, false, transit, host % 8);
    if (sampled) {
      // A sampled packet of the exchange: bytes-weighted choice of the direction.
      const pick = r() * (req.bytes + resp.bytes) < req.bytes ? req : resp;
      pick.bytes = Math.round(pick.bytes / pick.packets);
      pick.packets = 1;
      // One packet of an established connection, not the OR of a whole flow's flags.
      pick.tcpFlags = s.protocol === 6 ? (r() < 0.5 ? 0x10 : 0x18) : 0;
      pick.startMs = nowMs;
      pick.endMs = nowMs;
      out.push(pick);
    } else if (exporter.samplingRate > 1) {
      // Packet-sampled NetFlow: a record holds only the sampled packets; a direction none of whose
      // packets was sampled is never exported (most small conversations vanish, elephants remain).
      for (const f of [req, resp]) if (thinToSampled(f, exporter.samplingRate, r) > 0) out.push(f);
    } else {
      out.push(req, resp);
    }
  }

  private floodFlow(exporter: DemoExporter, r: () => number, nowMs: number, sampled: boolean): SyntheticFlow {
    const ports = ATTACK.floodSourcePorts;
    const srcPort = ports[Math.floor(r() * ports.length)];
    const size = srcPort === 123 ? 468 : srcPort === 53 ? 1200 : 1400;
    const nets = ['192.0.2', '198.51.100', '203.0.113'];
    // 20-600 packets per reflector in 10 s: with hundreds of reflectors, about 1 Gb/s at the victim.
    const packets = sampled ? 1 : 20 + Math.floor(r() * 580);
    const f: SyntheticFlow = {
      ipVersion: 4,
      srcAddr: `${nets[Math.floor(r() * 3)]}.${1 + Math.floor(r() * 254)}`,
      dstAddr: ATTACK.floodVictim,
      srcPort,
      dstPort: 1024 + Math.floor(r() * 64000),
      protocol: 17,
      tcpFlags: 0,
      tos: 0,
      bytes: packets * size,
      packets,
      startMs: sampled ? nowMs : nowMs - 10_000,
      endMs: nowMs - (sampled ? 0 : Math.floor(r() * 500)),
      input: 0,
      output: 0,
      srcMask: 24,
      dstMask: 24,
      nextHop: '',
      vlan: 20,
    };
    route(exporter, f, false, f.srcAddr.length % 2 === 0, 4);
    // Exported because at least one of its packets was sampled.
    if (!sampled && exporter.samplingRate > 1) thinToSampled(f, exporter.samplingRate, r, 1);
    return f;
  }

  /** One sampled probe per record on a sampled exporter: each stands for samplingRate probes. */
  private scanFlow(exporter: DemoExporter, r: () => number, nowMs: number): SyntheticFlow {
    const port = this.scanPort;
    this.scanPort = port >= 65535 ? 1 : port + 1;
    const f: SyntheticFlow = {
      ipVersion: 4,
      srcAddr: ATTACK.scanner,
      dstAddr: ATTACK.scanTarget,
      srcPort: 40000 + Math.floor(r() * 1000),
      dstPort: port,
      protocol: 6,
      tcpFlags: 0x02,
      tos: 0,
      bytes: 44,
      packets: 1,
      startMs: nowMs - 500,
      endMs: nowMs - 500,
      input: 0,
      output: 0,
      srcMask: 24,
      dstMask: 24,
      nextHop: '',
      vlan: 30,
    };
    route(exporter, f, false, true, 0);
    return f;
  }
}

/**
 * Interfaces and next hop as the exporter sees a flow: `outbound` goes from the inside to the
 * Internet. Edge router: core <-> one of two transits; firewall: inside/dmz <-> outside; switch:
 * an access port <-> the uplink.
 */
function route(exporter: DemoExporter, f: SyntheticFlow, outbound: boolean, transitA: boolean, port: number) {
  const v6 = f.ipVersion === 6;
  let inside: number;
  let outside: number;
  let gatewayOut: string;
  let gatewayIn: string;
  if (exporter.protocol === 'netflow9') {
    inside = 10;
    outside = transitA ? 1 : 2;
    gatewayOut = v6
      ? transitA
        ? '2001:db8:0:1::1'
        : '2001:db8:0:2::1'
      : transitA
        ? '192.0.2.1'
        : '198.51.100.1';
    gatewayIn = v6 ? '2001:db8:100::1' : '10.1.0.1';
  } else if (exporter.protocol === 'ipfix') {
    const internal = outbound ? f.srcAddr : f.dstAddr;
    inside = internal.startsWith('10.1.30.') ? 5 : 4;
    outside = 3;
    gatewayOut = v6 ? '2001:db8:0:3::1' : '203.0.113.1';
    gatewayIn = v6 ? '2001:db8:100::2' : '10.1.0.2';
  } else {
    inside = 1 + port;
    outside = 49;
    gatewayOut = v6 ? '2001:db8:100:10::1' : '10.1.10.1';
    gatewayIn = v6 ? '2001:db8:100:10::1' : '10.1.10.1';
  }
  f.input = outbound ? inside : outside;
  f.output = outbound ? outside : inside;
  f.nextHop = outbound ? gatewayOut : gatewayIn;
}

function pickWeighted<T extends { weight: number }>(items: readonly T[], r: () => number): T {
  let total = 0;
  for (const i of items) total += i.weight;
  let x = r() * total;
  for (const i of items) {
    x -= i.weight;
    if (x < 0) return i;
  }
  return items[items.length - 1];
}

/** Index in [0, n) with weight 1/(k+1): the first few dominate. */
function zipf(n: number, r: () => number): number {
  let total = 0;
  for (let k = 0; k < n; k++) total += 1 / (k + 1);
  let x = r() * total;
  for (let k = 0; k < n; k++) {
    x -= 1 / (k + 1);
    if (x < 0) return k;
  }
  return n - 1;
}

/**
 * Keeps the packets a 1-in-`rate` packet sampler would pick out of `f` (at least `min`), scaling
 * bytes, flags and times to match; returns the packets kept. The collector multiplies them back by
 * the rate, so the estimate is the flow's true size on average, as with a real sampling exporter.
 */
function thinToSampled(f: SyntheticFlow, rate: number, r: () => number, min = 0): number {
  const kept = Math.max(min, binomial(f.packets, 1 / rate, r));
  if (kept === 0 || kept === f.packets) return kept;
  f.bytes = Math.round((f.bytes / f.packets) * kept);
  f.packets = kept;
  // The OR of a few mid-connection packets' flags: ACK, some with PSH; no handshake seen.
  if (f.protocol === 6 && f.tcpFlags !== 0x02) f.tcpFlags = r() < 0.5 ? 0x10 : 0x18;
  if (kept === 1) f.startMs = f.endMs;
  return kept;
}

/** Binomial(n, p): exact by geometric gaps for small means, normal approximation for large ones. */
function binomial(n: number, p: number, r: () => number): number {
  if (p >= 1) return n;
  const mean = n * p;
  if (mean > 30) {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return Math.min(n, Math.max(0, Math.round(mean + z * Math.sqrt(mean * (1 - p)))));
  }
  // Packets from one sampled packet to the next are geometric: count how many fit in n.
  const logQ = Math.log(1 - p);
  const gap = () => Math.floor(Math.log(1 - r()) / logQ) + 1;
  let k = 0;
  for (let i = gap(); i <= n; i += gap()) k++;
  return k;
}

/** Pareto(xm, alpha): heavy-tailed flow sizes, most small, a few elephants. */
function pareto(xm: number, alpha: number, r: () => number): number {
  return xm / (1 - r()) ** (1 / alpha);
}
