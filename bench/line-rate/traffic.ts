import {
  type Frame,
  icmpEchoFrame,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
  tcpFrame,
  udpFrame,
} from '../../eval/detection/frames.js';
import { type CapturedPacket, writePcapFile } from '../../eval/detection/pcap-writer.js';
import { Rng } from '../../eval/detection/rng.js';

/**
 * The synthetic packet capture the exporters turn into flow datagrams: many distinct short flows
 * (IPv4 and IPv6, TCP/UDP/ICMP, varied ports and sizes), so every exported record is a different
 * flow and no exporter or collector can merge them. Seeded: the same seed gives the same flows.
 */

export interface TrafficSummary {
  flows: number;
  packets: number;
  bytes: number;
}

const SERVICE_PORTS = [53, 80, 123, 443, 853, 993, 3478, 5060, 8080, 8443];

function v4(rng: Rng, net: number): string {
  return `${net}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

function v6(rng: Rng, prefix: string): string {
  const h = () => rng.int(0, 0xffff).toString(16);
  return `${prefix}:${h()}:${h()}:${h()}:${h()}:${h()}`;
}

/**
 * Writes `flows` flows to a classic pcap at `path`. Each flow's packets are a few microseconds
 * apart and flows start `gapUs` apart, so the file is in time order without sorting and the
 * capture spans flows × gapUs (about 5 minutes for 200k flows): exporters see it as live traffic.
 */
export function writeTraffic(path: string, flows: number, seed: number, startMs: number): TrafficSummary {
  const rng = new Rng(seed);
  const packets: CapturedPacket[] = [];
  const gapUs = 1500;
  let bytes = 0;
  for (let f = 0; f < flows; f++) {
    const ipv6 = rng.chance(0.3);
    const client = ipv6 ? v6(rng, '2001:db8:1') : v4(rng, rng.pick([10, 100, 172, 192]));
    const server = ipv6 ? v6(rng, '2001:db8:2') : v4(rng, rng.int(1, 223));
    const sport = rng.int(1024, 65535);
    const dport = rng.chance(0.7) ? rng.pick(SERVICE_PORTS) : rng.int(1, 65535);
    const kind = rng.next();
    // Mostly small flows with a long tail, like real traffic.
    const count = rng.chance(0.5) ? rng.int(1, 3) : rng.chance(0.8) ? rng.int(4, 20) : rng.int(21, 80);
    const size = rng.pick([0, 40, 120, 512, 1200, 1448]);
    const t0 = Math.floor(startMs * 1000) + f * gapUs;
    for (let p = 0; p < count; p++) {
      const payload = p === 0 ? 0 : size;
      let fr: Frame;
      if (kind < 0.6) {
        const flags =
          p === 0 ? TCP_SYN : p === count - 1 && count > 2 ? TCP_FIN | TCP_ACK : TCP_ACK | TCP_PSH;
        fr = tcpFrame(client, server, sport, dport, flags, payload, p + 1, (f + p) & 0xffff);
      } else if (kind < 0.9) {
        fr = udpFrame(client, server, sport, dport, Math.max(payload, 20), (f + p) & 0xffff);
      } else {
        fr = icmpEchoFrame(client, server, false, Math.max(payload, 56), (f + p) & 0xffff);
      }
      packets.push({ tsUs: t0 + p * 3, frame: fr.frame, wireLength: fr.wireLength });
      bytes += fr.wireLength;
    }
  }
  writePcapFile(path, packets);
  return { flows, packets: packets.length, bytes };
}
