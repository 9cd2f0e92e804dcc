/**
 * What one flow record adds to the counters of the hosts it touches, estimated as the traffic it
 * stands for: packets and bits × samplerate × weight (a record that stands for nothing, weight 0
 * from the count-once policy, adds nothing); flows count weight only, never scaled by the sampling
 * rate (a sampled flow record is still one flow seen, see docs/detection.md).
 *
 * Metrics are indexes into a Float64Array per slot (host-table.ts). "Inbound" metrics belong to the
 * destination host, "outbound" ones to the source host.
 */
import type { FlowRecord } from '../record/flow-record.js';
import { REFLECTION_PORTS } from './detection-config.js';

export const M = {
  /** Inbound to the host. */
  IN_BITS: 0,
  IN_PKTS: 1,
  IN_FLOWS: 2,
  /** Packets of TCP flows with SYN and no ACK (handshakes never completed: SYN floods). */
  SYN_PKTS: 3,
  /** Packets of TCP flows with ACK as the only flag. */
  ACK_PKTS: 4,
  /** Packets of TCP flows with RST set. */
  RST_PKTS: 5,
  ICMP_PKTS: 6,
  UDP_PKTS: 7,
  /** Packets of fragmented datagrams (first and later fragments). */
  FRAG_PKTS: 8,
  /** UDP packets from a reflection source port, and UDP non-first fragments (no ports). */
  REFL_PKTS: 9,
  REFL_BITS: 10,
  /** Outbound from the host: UDP packets to reflection ports (its own queries: a resolver). */
  REFL_REQ_PKTS: 11,
  /** Inbound flows with action reject (cloud flow logs). */
  IN_DENIED: 12,
  /** Outbound from the host. */
  OUT_BITS: 13,
  OUT_PKTS: 14,
  OUT_FLOWS: 15,
} as const;
export const METRIC_COUNT = 16;

const IS_REFLECTION_PORT = new Uint8Array(65536);
for (const p of REFLECTION_PORTS) IS_REFLECTION_PORT[p] = 1;

export function isReflectionPort(port: number | null): boolean {
  return port !== null && IS_REFLECTION_PORT[port] === 1;
}

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMPV6 = 58;

/** Estimated packets the record stands for. */
export function estimatedPackets(rec: FlowRecord): number {
  return (rec.packets ?? 0) * (rec.samplerate ?? 1) * rec.weight;
}

/** Estimated bits the record stands for. */
export function estimatedBits(rec: FlowRecord): number {
  return (rec.bits ?? 0) * (rec.samplerate ?? 1) * rec.weight;
}

/** Fills `into` (length METRIC_COUNT, zeroed here) with the destination host's inbound increments. */
export function inboundIncrements(rec: FlowRecord, into: Float64Array): void {
  into.fill(0);
  const packets = estimatedPackets(rec);
  const bits = estimatedBits(rec);
  into[M.IN_BITS] = bits;
  into[M.IN_PKTS] = packets;
  into[M.IN_FLOWS] = rec.weight;
  const proto = rec.protocolint;
  if (proto === TCP) {
    const flags = rec.tcpflagsint ?? 0;
    if ((flags & 0x02) !== 0 && (flags & 0x10) === 0) into[M.SYN_PKTS] = packets;
    if ((flags & 0x1ff) === 0x10) into[M.ACK_PKTS] = packets;
    if ((flags & 0x04) !== 0) into[M.RST_PKTS] = packets;
  } else if (proto === UDP) {
    into[M.UDP_PKTS] = packets;
    // A non-first fragment carries no ports; amplified answers are large and fragment, so their
    // later fragments count toward reflection too (otherwise most of the flood is missed).
    // Exporters that do not export fragment flags (softflowd) give such packets ports 0 and 0,
    // which no real UDP datagram has.
    const laterFragment =
      (rec.fragmented === true && rec.srcport === null) || (rec.srcport === 0 && rec.dstport === 0);
    if (laterFragment) into[M.FRAG_PKTS] = packets;
    if (laterFragment || isReflectionPort(rec.srcport)) {
      into[M.REFL_PKTS] = packets;
      into[M.REFL_BITS] = bits;
    }
  } else if (proto === ICMP || proto === ICMPV6) {
    into[M.ICMP_PKTS] = packets;
  }
  if (rec.fragmented === true) into[M.FRAG_PKTS] = packets;
  if (rec.action === 'reject') into[M.IN_DENIED] = rec.weight;
}

/** Fills `into` with the source host's outbound increments. */
export function outboundIncrements(rec: FlowRecord, into: Float64Array): void {
  into.fill(0);
  const packets = estimatedPackets(rec);
  into[M.OUT_BITS] = estimatedBits(rec);
  into[M.OUT_PKTS] = packets;
  into[M.OUT_FLOWS] = rec.weight;
  if (rec.protocolint === UDP && isReflectionPort(rec.dstport)) into[M.REFL_REQ_PKTS] = packets;
}
