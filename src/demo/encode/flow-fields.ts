import { type SyntheticFlow, writeAddress } from '../synthetic-flow.js';

/**
 * Field types the demo templates use. NetFlow v9 field types 1-127 and IPFIX information elements
 * share their numbers (RFC 3954 section 8, RFC 7012), so one writer serves both encoders.
 */
export const F = {
  OCTETS: 1,
  PACKETS: 2,
  PROTOCOL: 4,
  TOS: 5,
  TCP_FLAGS: 6,
  SRC_PORT: 7,
  SRC_ADDR4: 8,
  SRC_MASK4: 9,
  INPUT: 10,
  DST_PORT: 11,
  DST_ADDR4: 12,
  DST_MASK4: 13,
  OUTPUT: 14,
  NEXT_HOP4: 15,
  LAST_SWITCHED: 21,
  FIRST_SWITCHED: 22,
  SRC_ADDR6: 27,
  DST_ADDR6: 28,
  SRC_MASK6: 29,
  DST_MASK6: 30,
  SAMPLING_INTERVAL: 34,
  SAMPLING_ALGORITHM: 35,
  SRC_VLAN: 58,
  NEXT_HOP6: 62,
  START_MS: 152,
  END_MS: 153,
  SELECTOR_ID: 302,
  SELECTOR_ALGORITHM: 304,
  SAMPLING_PACKET_INTERVAL: 305,
  SAMPLING_PACKET_SPACE: 306,
} as const;

/** A template field: type and length in bytes. */
export type FieldSpec = readonly [id: number, length: number];

export function recordLength(fields: readonly FieldSpec[]): number {
  let n = 0;
  for (const [, len] of fields) n += len;
  return n;
}

/** Writes an unsigned value in 1, 2, 4 or 8 bytes (values above 2^53 do not occur in the demo). */
export function writeUnsigned(buf: Buffer, off: number, len: number, v: number): void {
  if (len === 1) buf[off] = v & 0xff;
  else if (len === 2) buf.writeUInt16BE(v & 0xffff, off);
  else if (len === 4) buf.writeUInt32BE(v >>> 0, off);
  else {
    buf.writeUInt32BE(Math.floor(v / 2 ** 32) >>> 0, off);
    buf.writeUInt32BE(v >>> 0, off + 4);
  }
}

/**
 * Writes one data record of `fields` for `flow` at `off`; returns the offset after it.
 * `bootMs` is the exporter's boot time: v9 FIRST/LAST_SWITCHED are ms of uptime (RFC 3954 section 8).
 */
export function writeFlowRecord(
  buf: Buffer,
  off: number,
  fields: readonly FieldSpec[],
  flow: SyntheticFlow,
  bootMs: number,
): number {
  for (const [id, len] of fields) {
    switch (id) {
      case F.OCTETS:
        writeUnsigned(buf, off, len, len === 4 ? Math.min(flow.bytes, 0xffffffff) : flow.bytes);
        break;
      case F.PACKETS:
        writeUnsigned(buf, off, len, len === 4 ? Math.min(flow.packets, 0xffffffff) : flow.packets);
        break;
      case F.PROTOCOL:
        buf[off] = flow.protocol;
        break;
      case F.TOS:
        buf[off] = flow.tos;
        break;
      case F.TCP_FLAGS:
        writeUnsigned(buf, off, len, flow.tcpFlags);
        break;
      case F.SRC_PORT:
        buf.writeUInt16BE(flow.srcPort, off);
        break;
      case F.DST_PORT:
        buf.writeUInt16BE(flow.dstPort, off);
        break;
      case F.SRC_ADDR4:
      case F.SRC_ADDR6:
        writeAddress(buf, off, flow.srcAddr, flow.ipVersion);
        break;
      case F.DST_ADDR4:
      case F.DST_ADDR6:
        writeAddress(buf, off, flow.dstAddr, flow.ipVersion);
        break;
      case F.NEXT_HOP4:
      case F.NEXT_HOP6:
        writeAddress(buf, off, flow.nextHop, flow.ipVersion);
        break;
      case F.SRC_MASK4:
      case F.SRC_MASK6:
        buf[off] = flow.srcMask;
        break;
      case F.DST_MASK4:
      case F.DST_MASK6:
        buf[off] = flow.dstMask;
        break;
      case F.INPUT:
        writeUnsigned(buf, off, len, flow.input);
        break;
      case F.OUTPUT:
        writeUnsigned(buf, off, len, flow.output);
        break;
      case F.SRC_VLAN:
        writeUnsigned(buf, off, len, flow.vlan);
        break;
      case F.FIRST_SWITCHED:
        buf.writeUInt32BE((flow.startMs - bootMs) >>> 0, off);
        break;
      case F.LAST_SWITCHED:
        buf.writeUInt32BE((flow.endMs - bootMs) >>> 0, off);
        break;
      case F.START_MS:
        writeUnsigned(buf, off, 8, flow.startMs);
        break;
      case F.END_MS:
        writeUnsigned(buf, off, 8, flow.endMs);
        break;
      default:
        buf.fill(0, off, off + len);
    }
    off += len;
  }
  return off;
}

/** Writes template records (id, field count, fields) as in a v9 template flowset / IPFIX template set. */
export function writeTemplateRecord(
  buf: Buffer,
  off: number,
  id: number,
  fields: readonly FieldSpec[],
): number {
  buf.writeUInt16BE(id, off);
  buf.writeUInt16BE(fields.length, off + 2);
  off += 4;
  for (const [fid, len] of fields) {
    buf.writeUInt16BE(fid, off);
    buf.writeUInt16BE(len, off + 2);
    off += 4;
  }
  return off;
}

/** Zero padding to a 4-byte boundary from `setStart` (RFC 3954 section 5.3, RFC 7011 section 3.3.1). */
export function padSet(buf: Buffer, setStart: number, off: number): number {
  while ((off - setStart) % 4 !== 0) buf[off++] = 0;
  return off;
}

/** Pads a v9 flowset / IPFIX set and writes its length into its header; returns the offset after it. */
export function closeSet(buf: Buffer, setStart: number, off: number): number {
  off = padSet(buf, setStart, off);
  buf.writeUInt16BE(off - setStart, setStart + 2);
  return off;
}

/**
 * The demo's flow template for one IP version. v9 and IPFIX differ only in counter width
 * (v9 IN_BYTES/IN_PKTS commonly 4 bytes, IPFIX deltas 8), tcpControlBits width (1 in v9, 2 in
 * IPFIX since RFC 7125) and times (v9 uptime-relative 22/21, IPFIX absolute 152/153).
 */
export function flowTemplate(
  version: 4 | 6,
  counterLength: 4 | 8,
  flagsLength: 1 | 2,
  times: readonly [FieldSpec, FieldSpec],
): readonly FieldSpec[] {
  const v4 = version === 4;
  const addr = v4 ? 4 : 16;
  return [
    [F.OCTETS, counterLength],
    [F.PACKETS, counterLength],
    [F.PROTOCOL, 1],
    [F.TOS, 1],
    [F.TCP_FLAGS, flagsLength],
    [F.SRC_PORT, 2],
    [v4 ? F.SRC_ADDR4 : F.SRC_ADDR6, addr],
    [v4 ? F.SRC_MASK4 : F.SRC_MASK6, 1],
    [F.INPUT, 4],
    [F.DST_PORT, 2],
    [v4 ? F.DST_ADDR4 : F.DST_ADDR6, addr],
    [v4 ? F.DST_MASK4 : F.DST_MASK6, 1],
    [F.OUTPUT, 4],
    [v4 ? F.NEXT_HOP4 : F.NEXT_HOP6, addr],
    [F.SRC_VLAN, 2],
    times[0],
    times[1],
  ];
}

/** Template ids and fields of the IPv4 and IPv6 flow templates of one encoder. */
export interface FlowTemplates {
  idV4: number;
  v4: readonly FieldSpec[];
  idV6: number;
  v6: readonly FieldSpec[];
}

/** Where a datagram's data sets ended: the offset after them, the next flow, records written. */
export interface DataSetsResult {
  off: number;
  next: number;
  records: number;
}

/**
 * Writes flows from `from` as data sets (a new set whenever the IP version changes) until the
 * datagram holds `maxBytes`; sets are padded to 4 bytes.
 */
export function writeDataSets(
  buf: Buffer,
  off: number,
  maxBytes: number,
  flows: readonly SyntheticFlow[],
  from: number,
  t: FlowTemplates,
  bootMs: number,
): DataSetsResult {
  let i = from;
  let setStart = -1;
  let setFields: readonly FieldSpec[] | null = null;
  while (i < flows.length) {
    const f = flows[i];
    const fields = f.ipVersion === 4 ? t.v4 : t.v6;
    const len = recordLength(fields);
    if (fields !== setFields) {
      if (setStart >= 0) off = closeSet(buf, setStart, off);
      // 4 bytes of set header, 3 of padding at most.
      if (off + 4 + len + 3 > maxBytes) break;
      setStart = off;
      setFields = fields;
      buf.writeUInt16BE(fields === t.v4 ? t.idV4 : t.idV6, off);
      off += 4;
    } else if (off + len + 3 > maxBytes) break;
    off = writeFlowRecord(buf, off, fields, f, bootMs);
    i++;
  }
  if (setStart >= 0) off = closeSet(buf, setStart, off);
  return { off, next: i, records: i - from };
}
