import { type SyntheticFlow, writeAddress } from '../synthetic-flow.js';

/** sflow_version_5.txt: sample and record formats (enterprise 0). */
const SAMPLE_FLOW = 1;
const SAMPLE_COUNTERS = 2;
const RECORD_RAW_HEADER = 1;
const RECORD_EXT_SWITCH = 1001;
const RECORD_EXT_ROUTER = 1002;
const COUNTERS_GENERIC = 1;
const HEADER_PROTOCOL_ETHERNET = 1;
/** Ethernet frame check sequence: counted in frame_length, not in the copied header ("stripped"). */
const FCS_LENGTH = 4;

/** Generic interface counters (sflow_version_5.txt, if_counters) of one port at one moment. */
export interface SflowInterfaceCounters {
  ifIndex: number;
  ifType: number;
  ifSpeed: number;
  inOctets: number;
  inUcastPkts: number;
  inMulticastPkts: number;
  inBroadcastPkts: number;
  inDiscards: number;
  inErrors: number;
  outOctets: number;
  outUcastPkts: number;
  outMulticastPkts: number;
  outBroadcastPkts: number;
  outDiscards: number;
  outErrors: number;
}

export interface SflowEncoderOptions {
  /** Agent address written in every datagram (the exporter's identity). */
  agentAddress: string;
  subAgentId: number;
  /** 1-in-N packet sampling of every flow sample. */
  samplingRate: number;
  /** The agent's boot time, Unix ms (datagram uptime counts from it). */
  bootMs: number;
  maxDatagramBytes?: number;
}

/**
 * Turns sampled packets (one SyntheticFlow each: its bytes/packets is the packet size) and
 * interface counter snapshots into sFlow v5 datagrams: flow samples with a raw Ethernet header
 * record plus extended switch and extended router data, counter samples with generic interface
 * counters. Sequence numbers per datagram (agent/sub-agent) and per sample source, as agents keep them.
 */
export class SflowEncoder {
  private datagramSequence = 0;
  private readonly flowSequence = new Map<number, number>();
  private readonly counterSequence = new Map<number, number>();
  private readonly samplePool = new Map<number, number>();
  private readonly maxBytes: number;
  private readonly agentV6: boolean;
  private readonly scratch = Buffer.alloc(256);

  constructor(private readonly opts: SflowEncoderOptions) {
    this.maxBytes = opts.maxDatagramBytes ?? 1400;
    this.agentV6 = opts.agentAddress.includes(':');
  }

  get datagramsSent(): number {
    return this.datagramSequence;
  }

  encode(
    samples: readonly SyntheticFlow[],
    counters: readonly SflowInterfaceCounters[],
    nowMs: number,
  ): Buffer[] {
    const out: Buffer[] = [];
    const headerLength = this.agentV6 ? 40 : 28;
    let buf: Buffer | null = null;
    let off = 0;
    let count = 0;
    const finish = () => {
      if (buf === null) return;
      buf.writeUInt32BE(count, headerLength - 4);
      out.push(buf.subarray(0, off));
      buf = null;
    };
    const room = (bytes: number): Buffer => {
      if (buf !== null && off + bytes > this.maxBytes) finish();
      if (buf === null) {
        buf = Buffer.alloc(this.maxBytes);
        off = this.writeHeader(buf, nowMs);
        count = 0;
      }
      return buf;
    };
    for (const s of samples) {
      const sample = this.flowSample(s);
      const b = room(sample.length);
      sample.copy(b, off);
      off += sample.length;
      count++;
    }
    for (const c of counters) {
      const b = room(8 + 12 + 8 + 88);
      off = this.writeCounterSample(b, off, c);
      count++;
    }
    finish();
    return out;
  }

  private writeHeader(buf: Buffer, nowMs: number): number {
    buf.writeUInt32BE(5, 0);
    buf.writeUInt32BE(this.agentV6 ? 2 : 1, 4);
    writeAddress(buf, 8, this.opts.agentAddress, this.agentV6 ? 6 : 4);
    let off = this.agentV6 ? 24 : 12;
    buf.writeUInt32BE(this.opts.subAgentId >>> 0, off);
    buf.writeUInt32BE(this.datagramSequence >>> 0, off + 4);
    buf.writeUInt32BE((nowMs - this.opts.bootMs) >>> 0, off + 8);
    off += 16; // sample count written when the datagram is full
    this.datagramSequence = (this.datagramSequence + 1) >>> 0;
    return off;
  }

  /** One flow sample (format 1) for a sampled packet, as a new buffer. */
  private flowSample(f: SyntheticFlow): Buffer {
    const frameLength = Math.max(64, Math.round(f.bytes / Math.max(1, f.packets)));
    const header = packetHeader(this.scratch, f, frameLength);
    const headerPadded = (header + 3) & ~3;
    const nextHopLength = f.ipVersion === 4 ? 8 : 20;
    const rawRecord = 8 + 16 + headerPadded;
    const switchRecord = 8 + 16;
    const routerRecord = 8 + nextHopLength + 8;
    const body = 32 + rawRecord + switchRecord + routerRecord;
    const b = Buffer.alloc(8 + body);
    b.writeUInt32BE(SAMPLE_FLOW, 0);
    b.writeUInt32BE(body, 4);
    const source = f.input;
    const seq = this.flowSequence.get(source) ?? 0;
    this.flowSequence.set(source, (seq + 1) >>> 0);
    const pool = (this.samplePool.get(source) ?? 0) + this.opts.samplingRate;
    this.samplePool.set(source, pool);
    b.writeUInt32BE(seq, 8);
    b.writeUInt32BE(source & 0xffffff, 12); // source id: type 0 (ifIndex), index
    b.writeUInt32BE(this.opts.samplingRate, 16);
    b.writeUInt32BE(pool >>> 0, 20);
    b.writeUInt32BE(0, 24); // drops
    b.writeUInt32BE(f.input & 0x3fffffff, 28);
    b.writeUInt32BE(f.output & 0x3fffffff, 32);
    b.writeUInt32BE(3, 36);
    let off = 40;
    b.writeUInt32BE(RECORD_RAW_HEADER, off);
    b.writeUInt32BE(rawRecord - 8, off + 4);
    b.writeUInt32BE(HEADER_PROTOCOL_ETHERNET, off + 8);
    b.writeUInt32BE(frameLength, off + 12);
    b.writeUInt32BE(FCS_LENGTH, off + 16); // stripped: the FCS is not in the copied header
    b.writeUInt32BE(header, off + 20);
    this.scratch.copy(b, off + 24, 0, header);
    off += rawRecord;
    b.writeUInt32BE(RECORD_EXT_SWITCH, off);
    b.writeUInt32BE(16, off + 4);
    b.writeUInt32BE(f.vlan, off + 8);
    b.writeUInt32BE(0, off + 12);
    b.writeUInt32BE(f.vlan, off + 16);
    b.writeUInt32BE(0, off + 20);
    off += switchRecord;
    b.writeUInt32BE(RECORD_EXT_ROUTER, off);
    b.writeUInt32BE(routerRecord - 8, off + 4);
    b.writeUInt32BE(f.ipVersion === 4 ? 1 : 2, off + 8);
    writeAddress(b, off + 12, f.nextHop, f.ipVersion);
    b.writeUInt32BE(f.srcMask, off + 8 + nextHopLength);
    b.writeUInt32BE(f.dstMask, off + 12 + nextHopLength);
    return b;
  }

  private writeCounterSample(b: Buffer, off: number, c: SflowInterfaceCounters): number {
    const seq = this.counterSequence.get(c.ifIndex) ?? 0;
    this.counterSequence.set(c.ifIndex, (seq + 1) >>> 0);
    b.writeUInt32BE(SAMPLE_COUNTERS, off);
    b.writeUInt32BE(12 + 8 + 88, off + 4);
    b.writeUInt32BE(seq, off + 8);
    b.writeUInt32BE(c.ifIndex & 0xffffff, off + 12);
    b.writeUInt32BE(1, off + 16);
    b.writeUInt32BE(COUNTERS_GENERIC, off + 20);
    b.writeUInt32BE(88, off + 24);
    const p = off + 28;
    b.writeUInt32BE(c.ifIndex, p);
    b.writeUInt32BE(c.ifType, p + 4);
    writeU64(b, p + 8, c.ifSpeed);
    b.writeUInt32BE(1, p + 16); // full duplex
    b.writeUInt32BE(3, p + 20); // admin up, oper up
    writeU64(b, p + 24, c.inOctets);
    b.writeUInt32BE(c.inUcastPkts >>> 0, p + 32);
    b.writeUInt32BE(c.inMulticastPkts >>> 0, p + 36);
    b.writeUInt32BE(c.inBroadcastPkts >>> 0, p + 40);
    b.writeUInt32BE(c.inDiscards >>> 0, p + 44);
    b.writeUInt32BE(c.inErrors >>> 0, p + 48);
    b.writeUInt32BE(0, p + 52); // unknown protos
    writeU64(b, p + 56, c.outOctets);
    b.writeUInt32BE(c.outUcastPkts >>> 0, p + 64);
    b.writeUInt32BE(c.outMulticastPkts >>> 0, p + 68);
    b.writeUInt32BE(c.outBroadcastPkts >>> 0, p + 72);
    b.writeUInt32BE(c.outDiscards >>> 0, p + 76);
    b.writeUInt32BE(c.outErrors >>> 0, p + 80);
    b.writeUInt32BE(2, p + 84); // promiscuous: false (SNMP TruthValue)
    return p + 88;
  }
}

function writeU64(b: Buffer, off: number, v: number): void {
  b.writeUInt32BE(Math.floor(v / 2 ** 32) >>> 0, off);
  b.writeUInt32BE(v >>> 0, off + 4);
}

/**
 * Ethernet + IPv4/IPv6 + TCP/UDP headers of a packet of `frameLength` bytes (FCS included) into
 * `out`; returns the header length. Only headers are copied, as an agent truncating at the
 * payload would: lengths in them describe the whole packet.
 */
function packetHeader(out: Buffer, f: SyntheticFlow, frameLength: number): number {
  // Locally administered MACs derived from the VLAN: stable, never a real vendor's OUI.
  out.writeUInt32BE(0x02000000, 0);
  out.writeUInt16BE(0x0001, 4);
  out.writeUInt32BE(0x02000000, 6);
  out.writeUInt16BE(0x0002, 10);
  out.writeUInt16BE(f.ipVersion === 4 ? 0x0800 : 0x86dd, 12);
  let off = 14;
  const ipLength = frameLength - 14 - FCS_LENGTH;
  if (f.ipVersion === 4) {
    out[off] = 0x45;
    out[off + 1] = f.tos;
    out.writeUInt16BE(ipLength, off + 2);
    out.writeUInt16BE(0, off + 4);
    out.writeUInt16BE(0x4000, off + 6); // don't fragment
    out[off + 8] = 64;
    out[off + 9] = f.protocol;
    out.writeUInt16BE(0, off + 10);
    writeAddress(out, off + 12, f.srcAddr, 4);
    writeAddress(out, off + 16, f.dstAddr, 4);
    out.writeUInt16BE(ipv4Checksum(out, off), off + 10);
    off += 20;
  } else {
    out.writeUInt32BE((0x6 << 28) | (f.tos << 20), off);
    out.writeUInt16BE(ipLength - 40, off + 4);
    out[off + 6] = f.protocol;
    out[off + 7] = 64;
    writeAddress(out, off + 8, f.srcAddr, 6);
    writeAddress(out, off + 24, f.dstAddr, 6);
    off += 40;
  }
  const l4Length = ipLength - (f.ipVersion === 4 ? 20 : 40);
  if (f.protocol === 6) {
    out.writeUInt16BE(f.srcPort, off);
    out.writeUInt16BE(f.dstPort, off + 2);
    out.writeUInt32BE(0x1000, off + 4);
    out.writeUInt32BE(f.tcpFlags & 0x10 ? 0x2000 : 0, off + 8);
    out.writeUInt16BE((5 << 12) | (f.tcpFlags & 0x1ff), off + 12);
    out.writeUInt16BE(65535, off + 14);
    out.writeUInt32BE(0, off + 16);
    off += 20;
  } else if (f.protocol === 17) {
    out.writeUInt16BE(f.srcPort, off);
    out.writeUInt16BE(f.dstPort, off + 2);
    out.writeUInt16BE(l4Length, off + 4);
    out.writeUInt16BE(0, off + 6);
    off += 8;
  }
  return off;
}

/** RFC 791 header checksum of the 20-byte header at `off`. */
function ipv4Checksum(b: Buffer, off: number): number {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += b.readUInt16BE(off + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
