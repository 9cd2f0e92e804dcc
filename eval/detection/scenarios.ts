import { join } from 'node:path';
import {
  icmpEchoFrame,
  nonFirstFragmentFrame,
  PROTO_UDP,
  TCP_ACK,
  TCP_RST,
  TCP_SYN,
  tcpFrame,
  udpFrame,
} from './frames.js';
import { writePcapFile } from './pcap-writer.js';
import { Rng } from './rng.js';
import { addPing, addTcpSession, addUdpExchange, ephemeralPort, PacketLog, ticks } from './traffic.js';

/**
 * Labelled traffic scenarios for evaluating DDoS/scan detection, written as pcap files that real
 * exporters (softflowd, pmacctd) turn into flow export.
 *
 * Each file is: `leadSeconds` of background (so baselines can warm up), then the event (the attack,
 * or for benign scenarios the heavy but legitimate traffic a naive detector would flag), then
 * `tailSeconds` of background. Internal hosts are in 10.0.0.0/16 (and 2001:db8:10::/48); external
 * ones only in documentation/benchmark ranges (198.18.0.0/15, 203.0.113.0/24, 192.0.2.0/24,
 * 2001:db8:ffff::/48), so nothing generated here can be mistaken for a real host.
 *
 * Scale: every packet in a file stands for `scale` packets on the wire, so a file is exactly what a
 * 1-in-`scale` packet-sampling exporter would have seen of the real event. Rates in real units are
 * the file's rates times `scale` (e.g. the UDP flood: 800 packets/s written, scale 100 = 80 kpps).
 * Scans and sweeps use scale 1 (sampling would hide the per-port/per-host pattern).
 */

export const SCENARIO_KINDS = [
  'volumetric',
  'syn_flood',
  'udp_flood',
  'icmp_flood',
  'fragment_flood',
  'reflection',
  'port_scan',
  'sweep',
  'exfiltration',
  'benign',
] as const;
export type ScenarioKind = (typeof SCENARIO_KINDS)[number];

/** The networks the scenarios treat as internal (for detectors' "my networks" settings). */
export const INTERNAL_NETWORKS = ['10.0.0.0/16', '2001:db8:10::/48'] as const;

/** Fixed so that every run, on every machine, produces the same files (02:00 UTC: backup time). */
const DEFAULT_START_MS = Date.UTC(2026, 0, 15, 2, 0, 0);

export interface ScenarioOptions {
  seed: number;
  /** Background before the event (default 180 s). */
  leadSeconds: number;
  /** Length of the attack or benign event (default 60 s). */
  eventSeconds: number;
  /** Background after the event (default 30 s). */
  tailSeconds: number;
  /** Multiplies the event's written packet rate (not the background's); default 1. */
  intensity: number;
  /** pcap time of the first background instant, ms since the epoch. */
  startMs: number;
}

export const DEFAULT_SCENARIO_OPTIONS: ScenarioOptions = {
  seed: 1,
  leadSeconds: 180,
  eventSeconds: 60,
  tailSeconds: 30,
  intensity: 1,
  startMs: DEFAULT_START_MS,
};

/** What a scenario is and where its event lies (times are pcap times, ms since the epoch). */
export interface ScenarioLabel {
  name: string;
  kind: ScenarioKind;
  description: string;
  /** Real packets per written packet (see the module comment). */
  scale: number;
  /** The host attacked, or for benign scenarios the host at the centre of the heavy traffic. */
  victim: string;
  /** The single attacking/sending host, or null when sources are many or spoofed. */
  attacker: string | null;
  attackStartMs: number;
  attackEndMs: number;
  captureStartMs: number;
  captureEndMs: number;
}

export interface GeneratedScenario extends ScenarioLabel {
  pcapPath: string;
  packets: number;
  fileBytes: number;
}

interface EventWindow {
  rng: Rng;
  startUs: number;
  endUs: number;
  /** Written-packet-rate multiplier (ScenarioOptions.intensity). */
  intensity: number;
}

interface ScenarioSpec {
  name: string;
  kind: ScenarioKind;
  description: string;
  scale: number;
  victim: string;
  attacker: string | null;
  event(log: PacketLog, w: EventWindow): void;
}

const WEB_SERVER = '10.0.1.80';
/** A server network watched as a hostgroup with totals (flowgate-under-test.ts). */
export const CARPET_NETWORK = '10.0.5.0/24';
const RESOLVER = '10.0.1.53';
const EXFIL_HOST = '10.0.1.50';
const EXFIL_USUAL_PEER = '198.18.10.10';

const externalV4 = (rng: Rng): string => `198.${rng.int(18, 19)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
const internalClient = (rng: Rng): string => `10.0.1.${rng.int(10, 60)}`;

/**
 * Sparse office-like background: web sessions to a few dozen external servers, DNS to an external
 * resolver, some IPv6, pings, and the exfiltration host's usual small uploads (its baseline).
 */
function addBackground(log: PacketLog, rng: Rng, startUs: number, endUs: number): void {
  const servers = Array.from({ length: 24 }, (_, i) => `198.18.${i + 1}.10`);
  for (const t of ticks(rng, startUs, endUs, 1)) {
    addTcpSession(log, {
      client: internalClient(rng),
      server: rng.pick(servers),
      clientPort: ephemeralPort(rng),
      serverPort: 443,
      startUs: t,
      durationUs: rng.int(1, 15) * 1_000_000,
      upSegments: rng.int(2, 6),
      downSegments: rng.int(5, 30),
      segmentBytes: rng.pick([536, 1200, 1448]),
    });
  }
  for (const t of ticks(rng, startUs, endUs, 2)) {
    addUdpExchange(
      log,
      t,
      internalClient(rng),
      '192.0.2.53',
      ephemeralPort(rng),
      53,
      rng.int(30, 60),
      rng.int(60, 300),
    );
  }
  for (const t of ticks(rng, startUs, endUs, 0.2)) {
    addTcpSession(log, {
      client: `2001:db8:10::${rng.int(10, 40).toString(16)}`,
      server: `2001:db8:ffff::${rng.int(1, 5)}`,
      clientPort: ephemeralPort(rng),
      serverPort: 443,
      startUs: t,
      durationUs: rng.int(1, 5) * 1_000_000,
      upSegments: 2,
      downSegments: rng.int(4, 12),
      segmentBytes: 1200,
    });
  }
  let seq = 0;
  for (const t of ticks(rng, startUs, endUs, 0.1)) addPing(log, t, '10.0.1.1', '192.0.2.1', seq++);
  for (const t of ticks(rng, startUs, endUs, 1 / 20)) {
    addTcpSession(log, {
      client: EXFIL_HOST,
      server: EXFIL_USUAL_PEER,
      clientPort: ephemeralPort(rng),
      serverPort: 443,
      startUs: t,
      durationUs: 3_000_000,
      upSegments: 6,
      downSegments: 10,
      segmentBytes: 1200,
    });
  }
}

/** Many sources each sending `payload` bytes at `perSecond` (times intensity) to one host. */
function udpToVictim(
  log: PacketLog,
  w: EventWindow,
  perSecond: number,
  source: (rng: Rng) => { src: string; sport: number; dport: number; payload: number },
  victim: string,
): void {
  let id = 1;
  for (const t of ticks(w.rng, w.startUs, w.endUs, perSecond * w.intensity)) {
    const s = source(w.rng);
    log.add(t, udpFrame(s.src, victim, s.sport, s.dport, s.payload, id++ & 0xffff));
  }
}

function reflection(name: string, port: number, payload: [number, number], service: string): ScenarioSpec {
  return {
    name,
    kind: 'reflection',
    description: `${service} reflection: answers from UDP source port ${port} of 300 reflectors converge on ${WEB_SERVER}`,
    scale: 100,
    victim: WEB_SERVER,
    attacker: null,
    event(log, w) {
      const reflectors = Array.from({ length: 300 }, (_, i) =>
        i % 3 === 0 ? `203.0.113.${(i % 250) + 1}` : externalV4(w.rng),
      );
      udpToVictim(
        log,
        w,
        300,
        (rng) => ({
          src: rng.pick(reflectors),
          sport: port,
          dport: rng.int(1024, 65535),
          payload: rng.int(...payload),
        }),
        WEB_SERVER,
      );
    },
  };
}

const SPECS: readonly ScenarioSpec[] = [
  {
    name: 'udp-volumetric',
    kind: 'volumetric',
    description: 'UDP flood of large packets from 50 sources to one host: about 450 Mbit/s real',
    scale: 100,
    victim: WEB_SERVER,
    attacker: null,
    event(log, w) {
      const sources = Array.from({ length: 50 }, () => externalV4(w.rng));
      udpToVictim(
        log,
        w,
        400,
        (rng) => ({ src: rng.pick(sources), sport: ephemeralPort(rng), dport: 443, payload: 1400 }),
        WEB_SERVER,
      );
    },
  },
  {
    name: 'udp-flood',
    kind: 'udp_flood',
    description:
      'UDP packet flood, small packets, spoofed sources and random destination ports: 80 kpps real',
    scale: 100,
    victim: WEB_SERVER,
    attacker: null,
    event(log, w) {
      udpToVictim(
        log,
        w,
        800,
        (rng) => ({
          src: externalV4(rng),
          sport: rng.int(1024, 65535),
          dport: rng.int(1, 65535),
          payload: 18,
        }),
        WEB_SERVER,
      );
    },
  },
  {
    name: 'syn-flood',
    kind: 'syn_flood',
    description: 'TCP SYN flood to port 80 from spoofed random sources: 80 kpps real',
    scale: 100,
    victim: WEB_SERVER,
    attacker: null,
    event(log, w) {
      for (const t of ticks(w.rng, w.startUs, w.endUs, 800 * w.intensity)) {
        log.add(
          t,
          tcpFrame(
            externalV4(w.rng),
            WEB_SERVER,
            w.rng.int(1024, 65535),
            80,
            TCP_SYN,
            0,
            w.rng.int(0, 0x7fffffff),
          ),
        );
      }
    },
  },
  {
    name: 'icmp-flood',
    kind: 'icmp_flood',
    description: 'ICMP echo request flood of 1000-byte pings from 20 sources: 50 kpps real',
    scale: 100,
    victim: WEB_SERVER,
    attacker: null,
    event(log, w) {
      const sources = Array.from({ length: 20 }, () => externalV4(w.rng));
      let seq = 0;
      for (const t of ticks(w.rng, w.startUs, w.endUs, 500 * w.intensity)) {
        log.add(t, icmpEchoFrame(w.rng.pick(sources), WEB_SERVER, false, 1000, seq++));
      }
    },
  },
  {
    name: 'fragment-flood',
    kind: 'fragment_flood',
    description: 'Non-first UDP fragments (no ports) of 1480 bytes from 10 sources: 50 kpps real',
    scale: 100,
    victim: WEB_SERVER,
    attacker: null,
    event(log, w) {
      const sources = Array.from({ length: 10 }, () => externalV4(w.rng));
      let id = 1;
      for (const t of ticks(w.rng, w.startUs, w.endUs, 500 * w.intensity)) {
        const offset = 1480 * w.rng.int(1, 40);
        log.add(
          t,
          nonFirstFragmentFrame(
            w.rng.pick(sources),
            WEB_SERVER,
            PROTO_UDP,
            id++ & 0xffff,
            offset,
            1480,
            w.rng.chance(0.5),
          ),
        );
      }
    },
  },
  reflection('dns-reflection', 53, [1200, 1460], 'DNS (ANY/EDNS0)'),
  reflection('ntp-reflection', 123, [440, 468], 'NTP monlist'),
  reflection('memcached-reflection', 11211, [1300, 1400], 'memcached'),
  {
    name: 'carpet-bombing',
    kind: 'reflection',
    description: `DNS reflection spread over every host of ${CARPET_NETWORK}: ~60 kpps in total, ~240 pps per host (far under any per-host threshold)`,
    scale: 100,
    victim: CARPET_NETWORK,
    attacker: null,
    event(log, w) {
      const reflectors = Array.from({ length: 300 }, () => externalV4(w.rng));
      let id = 1;
      for (const t of ticks(w.rng, w.startUs, w.endUs, 600 * w.intensity)) {
        const victim = `10.0.5.${w.rng.int(1, 254)}`;
        log.add(
          t,
          udpFrame(
            w.rng.pick(reflectors),
            victim,
            53,
            w.rng.int(1024, 65535),
            w.rng.int(1200, 1460),
            id++ & 0xffff,
          ),
        );
      }
    },
  },
  {
    name: 'port-scan',
    kind: 'port_scan',
    description: 'Vertical SYN scan of ports 1-1000 of one host from one source (RST/ACK for closed ports)',
    scale: 1,
    victim: WEB_SERVER,
    attacker: '203.0.113.66',
    event(log, w) {
      const ports = w.rng.shuffled(Array.from({ length: 1000 }, (_, i) => i + 1));
      const gap = (w.endUs - w.startUs) / ports.length;
      const sport = 40000;
      ports.forEach((port, i) => {
        const t = w.startUs + i * gap;
        log.add(t, tcpFrame('203.0.113.66', WEB_SERVER, sport, port, TCP_SYN, 0, 1000 + i));
        const open = port === 22 || port === 80 || port === 443;
        log.add(
          t + 300,
          tcpFrame(WEB_SERVER, '203.0.113.66', port, sport, open ? TCP_SYN | TCP_ACK : TCP_RST | TCP_ACK, 0),
        );
        if (open) log.add(t + 600, tcpFrame('203.0.113.66', WEB_SERVER, sport, port, TCP_RST, 0));
      });
    },
  },
  {
    name: 'ssh-sweep',
    kind: 'sweep',
    description: 'Horizontal sweep of TCP/22 over 10.0.2.1-254 from one source (5 hosts answer)',
    scale: 1,
    victim: '10.0.2.0/24',
    attacker: '203.0.113.99',
    event(log, w) {
      const hosts = w.rng.shuffled(Array.from({ length: 254 }, (_, i) => i + 1));
      const gap = (w.endUs - w.startUs) / hosts.length;
      hosts.forEach((h, i) => {
        const t = w.startUs + i * gap;
        const dst = `10.0.2.${h}`;
        const sport = 41000 + i;
        log.add(t, tcpFrame('203.0.113.99', dst, sport, 22, TCP_SYN, 0));
        if (h % 50 === 7) {
          log.add(t + 400, tcpFrame(dst, '203.0.113.99', 22, sport, TCP_SYN | TCP_ACK, 0));
          log.add(t + 800, tcpFrame('203.0.113.99', dst, sport, 22, TCP_RST, 0));
        }
      });
    },
  },
  {
    name: 'exfiltration',
    kind: 'exfiltration',
    description: `${EXFIL_HOST} uploads ~230 Mbit/s to a new external host 203.0.113.200:443, far above its baseline of small uploads to ${EXFIL_USUAL_PEER}`,
    scale: 100,
    victim: EXFIL_HOST,
    attacker: EXFIL_HOST,
    event(log, w) {
      const seconds = (w.endUs - w.startUs) / 1_000_000;
      addTcpSession(log, {
        client: EXFIL_HOST,
        server: '203.0.113.200',
        clientPort: 50123,
        serverPort: 443,
        startUs: w.startUs,
        durationUs: w.endUs - w.startUs,
        upSegments: Math.round(200 * seconds * w.intensity),
        downSegments: Math.round(seconds),
        segmentBytes: 1448,
      });
    },
  },
  {
    name: 'large-download',
    kind: 'benign',
    description: 'One TCP download of ~460 Mbit/s from 198.18.20.20:443 to one internal client',
    scale: 100,
    victim: '10.0.1.30',
    attacker: null,
    event(log, w) {
      const seconds = (w.endUs - w.startUs) / 1_000_000;
      addTcpSession(log, {
        client: '10.0.1.30',
        server: '198.18.20.20',
        clientPort: 51000,
        serverPort: 443,
        startUs: w.startUs,
        durationUs: w.endUs - w.startUs,
        upSegments: Math.round(seconds),
        downSegments: Math.round(400 * seconds * w.intensity),
        segmentBytes: 1448,
      });
    },
  },
  {
    name: 'nightly-backup',
    kind: 'benign',
    description: 'Internal bulk copy (rsync, TCP/873) from 10.0.1.20 to 10.0.3.10 at ~460 Mbit/s',
    scale: 100,
    victim: '10.0.3.10',
    attacker: null,
    event(log, w) {
      const seconds = (w.endUs - w.startUs) / 1_000_000;
      addTcpSession(log, {
        client: '10.0.1.20',
        server: '10.0.3.10',
        clientPort: 52000,
        serverPort: 873,
        startUs: w.startUs,
        durationUs: w.endUs - w.startUs,
        upSegments: Math.round(400 * seconds * w.intensity),
        downSegments: Math.round(seconds),
        segmentBytes: 1448,
      });
    },
  },
  {
    name: 'busy-web-server',
    kind: 'benign',
    description: `${WEB_SERVER}:443 serving 40 new short connections/s (x scale) from thousands of clients`,
    scale: 10,
    victim: WEB_SERVER,
    attacker: null,
    event(log, w) {
      for (const t of ticks(w.rng, w.startUs, w.endUs, 40 * w.intensity)) {
        addTcpSession(log, {
          client: w.rng.chance(0.2) ? `203.0.113.${w.rng.int(1, 254)}` : externalV4(w.rng),
          server: WEB_SERVER,
          clientPort: ephemeralPort(w.rng),
          serverPort: 443,
          startUs: t,
          durationUs: w.rng.int(200, 2000) * 1000,
          upSegments: w.rng.int(1, 3),
          downSegments: w.rng.int(2, 8),
          segmentBytes: 1200,
        });
      }
    },
  },
  {
    name: 'dns-resolver',
    kind: 'benign',
    description: `Resolver ${RESOLVER} sends 200 queries/s (x scale) to many authoritative servers on UDP/53 and gets their answers`,
    scale: 10,
    victim: RESOLVER,
    attacker: null,
    event(log, w) {
      const authorities = Array.from({ length: 150 }, (_, i) =>
        i % 2 === 0 ? `192.0.2.${(i % 250) + 1}` : externalV4(w.rng),
      );
      for (const t of ticks(w.rng, w.startUs, w.endUs, 200 * w.intensity)) {
        addUdpExchange(
          log,
          t,
          RESOLVER,
          w.rng.pick(authorities),
          ephemeralPort(w.rng),
          53,
          w.rng.int(30, 70),
          w.rng.int(80, 1200),
          w.rng.int(5, 80) * 1000,
        );
      }
    },
  },
  {
    name: 'cdn-fan-in',
    kind: 'benign',
    description: 'Video/CDN downloads: 300 CDN servers on TCP/443 to 100 internal clients (10.0.4.0/24)',
    scale: 100,
    victim: '10.0.4.0/24',
    attacker: null,
    event(log, w) {
      const cdn = Array.from({ length: 300 }, () => externalV4(w.rng));
      for (const t of ticks(w.rng, w.startUs, w.endUs, 8 * w.intensity)) {
        addTcpSession(log, {
          client: `10.0.4.${w.rng.int(1, 100)}`,
          server: w.rng.pick(cdn),
          clientPort: ephemeralPort(w.rng),
          serverPort: 443,
          startUs: t,
          durationUs: w.rng.int(4, 10) * 1_000_000,
          upSegments: 2,
          downSegments: w.rng.int(20, 60),
          segmentBytes: 1448,
        });
      }
    },
  },
];

export const SCENARIO_NAMES: readonly string[] = SPECS.map((s) => s.name);

function specNamed(name: string): ScenarioSpec {
  const spec = SPECS.find((s) => s.name === name);
  if (spec === undefined) throw new Error(`unknown scenario "${name}" (known: ${SCENARIO_NAMES.join(', ')})`);
  return spec;
}

/** The seed of one scenario: distinct per scenario name so two scenarios never share their draws. */
function scenarioSeed(seed: number, name: string): number {
  let h = seed >>> 0;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** Writes `<dir>/<name>.pcap` and returns its label and file facts. */
export function generateScenario(
  name: string,
  dir: string,
  options: Partial<ScenarioOptions> = {},
): GeneratedScenario {
  const o: ScenarioOptions = { ...DEFAULT_SCENARIO_OPTIONS, ...options };
  const spec = specNamed(name);
  const rng = new Rng(scenarioSeed(o.seed, name));
  const startUs = o.startMs * 1000;
  const eventStartUs = startUs + o.leadSeconds * 1_000_000;
  const eventEndUs = eventStartUs + o.eventSeconds * 1_000_000;
  const endUs = eventEndUs + o.tailSeconds * 1_000_000;
  const log = new PacketLog();
  addBackground(log, rng, startUs, endUs);
  spec.event(log, { rng, startUs: eventStartUs, endUs: eventEndUs, intensity: o.intensity });
  const packets = log.sorted();
  const pcapPath = join(dir, `${name}.pcap`);
  const fileBytes = writePcapFile(pcapPath, packets);
  return {
    name: spec.name,
    kind: spec.kind,
    description: spec.description,
    scale: spec.scale,
    victim: spec.victim,
    attacker: spec.attacker,
    attackStartMs: eventStartUs / 1000,
    attackEndMs: eventEndUs / 1000,
    captureStartMs: packets.length > 0 ? Math.floor(packets[0].tsUs / 1000) : o.startMs,
    captureEndMs: packets.length > 0 ? Math.ceil(packets[packets.length - 1].tsUs / 1000) : o.startMs,
    pcapPath,
    packets: packets.length,
    fileBytes,
  };
}
