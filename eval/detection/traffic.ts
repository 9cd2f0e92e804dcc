import {
  type Frame,
  icmpEchoFrame,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
  tcpFrame,
  udpFrame,
} from './frames.js';
import type { CapturedPacket } from './pcap-writer.js';
import type { Rng } from './rng.js';

/** Collects packets from several generators in any order; `sorted()` gives them in capture order. */
export class PacketLog {
  private readonly packets: CapturedPacket[] = [];

  add(tsUs: number, f: Frame): void {
    this.packets.push({ tsUs: Math.round(tsUs), frame: f.frame, wireLength: f.wireLength });
  }

  get count(): number {
    return this.packets.length;
  }

  sorted(): CapturedPacket[] {
    return this.packets.sort((a, b) => a.tsUs - b.tsUs);
  }
}

export interface TcpSession {
  client: string;
  server: string;
  clientPort: number;
  serverPort: number;
  startUs: number;
  durationUs: number;
  /** Data segments from client to server and from server to client. */
  upSegments: number;
  downSegments: number;
  segmentBytes: number;
}

/**
 * Handshake, data segments spread evenly over the duration (each direction's bulk acknowledged by
 * one ACK per two segments), then a FIN exchange: what a complete, well-behaved connection looks like.
 */
export function addTcpSession(log: PacketLog, s: TcpSession): void {
  const { client: c, server: sv, clientPort: cp, serverPort: sp } = s;
  const rtt = 20_000;
  log.add(s.startUs, tcpFrame(c, sv, cp, sp, TCP_SYN, 0));
  log.add(s.startUs + rtt / 2, tcpFrame(sv, c, sp, cp, TCP_SYN | TCP_ACK, 0));
  log.add(s.startUs + rtt, tcpFrame(c, sv, cp, sp, TCP_ACK, 0));
  const dataStart = s.startUs + rtt;
  const dataSpan = Math.max(s.durationUs - 2 * rtt, 1);
  const emit = (n: number, from: string, to: string, fport: number, tport: number): void => {
    for (let i = 0; i < n; i++) {
      const t = dataStart + (dataSpan * (i + 0.5)) / n;
      // The SYN took sequence number 1 (tcpFrame's default), so data starts at 2.
      log.add(t, tcpFrame(from, to, fport, tport, TCP_ACK | TCP_PSH, s.segmentBytes, 2 + i * s.segmentBytes));
      if (i % 2 === 1) log.add(t + rtt / 2, tcpFrame(to, from, tport, fport, TCP_ACK, 0));
    }
  };
  emit(s.upSegments, c, sv, cp, sp);
  emit(s.downSegments, sv, c, sp, cp);
  const end = s.startUs + s.durationUs;
  log.add(end, tcpFrame(c, sv, cp, sp, TCP_FIN | TCP_ACK, 0));
  log.add(end + rtt / 2, tcpFrame(sv, c, sp, cp, TCP_FIN | TCP_ACK, 0));
  log.add(end + rtt, tcpFrame(c, sv, cp, sp, TCP_ACK, 0));
}

/** One UDP request and its answer (DNS, NTP), `rttUs` apart. */
export function addUdpExchange(
  log: PacketLog,
  atUs: number,
  client: string,
  server: string,
  clientPort: number,
  serverPort: number,
  requestBytes: number,
  answerBytes: number,
  rttUs = 15_000,
): void {
  log.add(atUs, udpFrame(client, server, clientPort, serverPort, requestBytes));
  log.add(atUs + rttUs, udpFrame(server, client, serverPort, clientPort, answerBytes));
}

export function addPing(log: PacketLog, atUs: number, from: string, to: string, seq: number): void {
  log.add(atUs, icmpEchoFrame(from, to, false, 56, seq));
  log.add(atUs + 10_000, icmpEchoFrame(to, from, true, 56, seq));
}

export const ephemeralPort = (rng: Rng): number => rng.int(32768, 60999);

/** Evenly spaced instants in [startUs, endUs) at `perSecond`, each jittered by up to a tenth of the gap. */
export function* ticks(rng: Rng, startUs: number, endUs: number, perSecond: number): Generator<number> {
  const gap = 1_000_000 / perSecond;
  for (let t = startUs; t < endUs; t += gap) yield t + rng.next() * gap * 0.1;
}
