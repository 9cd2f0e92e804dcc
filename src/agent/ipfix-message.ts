import {
  closeSet,
  F,
  type FieldSpec,
  recordLength,
  writeTemplateRecord,
  writeUnsigned,
} from '../demo/encode/flow-fields.js';
import { writeIpv4, writeIpv6 } from '../demo/synthetic-flow.js';
import type { FlowEndReason, MeteredFlow } from './flow-cache.js';

/**
 * The agent's IPFIX messages (RFC 7011), built without any I/O: a template set for IPv4 and IPv6
 * flows and data sets of metered flows, split so that no message exceeds a size limit.
 */

/** RFC 7011 section 3.1. */
export const IPFIX_HEADER_LENGTH = 16;
const IPFIX_VERSION = 10;
const SET_TEMPLATE = 2;
const SET_HEADER_LENGTH = 4;
/** The message length is a u16 (RFC 7011 section 3.1). */
export const IPFIX_MAX_MESSAGE_BYTES = 65_535;

export const TEMPLATE_ID_IPV4 = 256;
export const TEMPLATE_ID_IPV6 = 257;

/** Information elements the agent uses beyond the demo's set (IANA IPFIX registry). */
const IE = {
  ICMP_TYPE_CODE_IPV4: 32,
  IP_VERSION: 60,
  FLOW_END_REASON: 136,
  ICMP_TYPE_CODE_IPV6: 139,
} as const;

const PROTO_ICMP = 1;
const PROTO_ICMPV6 = 58;

/**
 * ICMP type and code go in icmpTypeCodeIPv4/IPv6 (type << 8 | code, as FlowKey carries them in
 * dstPort) with both ports 0: IPFIX keeps ports for transport protocols (RFC 7012), and Flowgate's
 * decoder, tshark (cflow.icmp_type_code_ipv4/6) and nfdump all read the type/code element.
 */
function flowTemplateFields(family: 4 | 6): readonly FieldSpec[] {
  const v4 = family === 4;
  return [
    [v4 ? F.SRC_ADDR4 : F.SRC_ADDR6, v4 ? 4 : 16],
    [v4 ? F.DST_ADDR4 : F.DST_ADDR6, v4 ? 4 : 16],
    [F.SRC_PORT, 2],
    [F.DST_PORT, 2],
    [F.PROTOCOL, 1],
    // RFC 7125: tcpControlBits is 2 bytes since the header's flags grew to 12 bits.
    [F.TCP_FLAGS, 2],
    [v4 ? IE.ICMP_TYPE_CODE_IPV4 : IE.ICMP_TYPE_CODE_IPV6, 2],
    [F.OCTETS, 8],
    [F.PACKETS, 8],
    [F.START_MS, 8],
    [F.END_MS, 8],
    [IE.FLOW_END_REASON, 1],
    [IE.IP_VERSION, 1],
  ];
}

export const TEMPLATE_FIELDS_IPV4 = flowTemplateFields(4);
export const TEMPLATE_FIELDS_IPV6 = flowTemplateFields(6);
const RECORD_LENGTH_IPV4 = recordLength(TEMPLATE_FIELDS_IPV4);
const RECORD_LENGTH_IPV6 = recordLength(TEMPLATE_FIELDS_IPV6);

/** Bytes of the template set (both templates): a message carrying it needs this much beyond its header. */
export const TEMPLATE_SET_LENGTH =
  SET_HEADER_LENGTH + 4 * (2 + TEMPLATE_FIELDS_IPV4.length + TEMPLATE_FIELDS_IPV6.length);

/**
 * The smallest size limit that always fits a template-only message and a message of one IPv6
 * record (set header, record, padding to 4 bytes).
 */
export const IPFIX_MIN_MESSAGE_BYTES = Math.max(
  IPFIX_HEADER_LENGTH + TEMPLATE_SET_LENGTH,
  IPFIX_HEADER_LENGTH + SET_HEADER_LENGTH + RECORD_LENGTH_IPV6 + 3,
);

const END_REASON_CODE: Record<FlowEndReason, number> = {
  idle: 1,
  active: 2,
  end: 3,
  forced: 4,
  'lack-of-resources': 5,
};

export interface IpfixMessageOptions {
  observationDomainId: number;
  /** Upper bound of every message, header included (IPFIX_MIN_MESSAGE_BYTES .. 65535). */
  maxMessageBytes: number;
  /** Export time in the header (whole seconds of it). */
  exportTimeMs: number;
  /** Data records sent before this message in this transport session and domain (RFC 7011 section 3.1). */
  sequence: number;
  /** The message starts with the template set. */
  withTemplates: boolean;
}

/** One built message: its bytes, the index of the first flow it did not take, data records it holds. */
export interface IpfixMessage {
  bytes: Buffer;
  next: number;
  records: number;
}

/**
 * A message holding the templates (when asked) and as many of `flows[from..]` as fit in
 * `maxMessageBytes`; a new data set begins whenever the address family changes. The caller loops
 * on `next` until every flow is in a message.
 */
export function buildIpfixMessage(
  flows: readonly MeteredFlow[],
  from: number,
  o: IpfixMessageOptions,
): IpfixMessage {
  const max = o.maxMessageBytes;
  if (!(max >= IPFIX_MIN_MESSAGE_BYTES && max <= IPFIX_MAX_MESSAGE_BYTES))
    throw new RangeError(
      `IPFIX maxMessageBytes ${max} is outside ${IPFIX_MIN_MESSAGE_BYTES}..${IPFIX_MAX_MESSAGE_BYTES}`,
    );
  const buf = Buffer.alloc(max);
  let off = IPFIX_HEADER_LENGTH;
  if (o.withTemplates) off = writeTemplateSet(buf, off);

  let i = from;
  let setStart = -1;
  let setFamily = 0;
  while (i < flows.length) {
    const f = flows[i] as MeteredFlow;
    const family = f.key.family;
    const len = family === 4 ? RECORD_LENGTH_IPV4 : RECORD_LENGTH_IPV6;
    if (family !== setFamily) {
      if (setStart >= 0) off = closeSet(buf, setStart, off);
      // A set header, the record and at most 3 bytes of padding must fit.
      if (off + SET_HEADER_LENGTH + len + 3 > max) break;
      setStart = off;
      setFamily = family;
      buf.writeUInt16BE(family === 4 ? TEMPLATE_ID_IPV4 : TEMPLATE_ID_IPV6, off);
      off += SET_HEADER_LENGTH;
    } else if (off + len + 3 > max) break;
    off = writeDataRecord(buf, off, f);
    i++;
  }
  if (setStart >= 0) off = closeSet(buf, setStart, off);

  buf.writeUInt16BE(IPFIX_VERSION, 0);
  buf.writeUInt16BE(off, 2);
  buf.writeUInt32BE(Math.floor(o.exportTimeMs / 1000) >>> 0, 4);
  buf.writeUInt32BE(o.sequence >>> 0, 8);
  buf.writeUInt32BE(o.observationDomainId >>> 0, 12);
  return { bytes: buf.subarray(0, off), next: i, records: i - from };
}

function writeTemplateSet(buf: Buffer, off: number): number {
  const start = off;
  buf.writeUInt16BE(SET_TEMPLATE, off);
  off = writeTemplateRecord(buf, off + SET_HEADER_LENGTH, TEMPLATE_ID_IPV4, TEMPLATE_FIELDS_IPV4);
  off = writeTemplateRecord(buf, off, TEMPLATE_ID_IPV6, TEMPLATE_FIELDS_IPV6);
  return closeSet(buf, start, off);
}

/** One data record in the field order of flowTemplateFields. */
function writeDataRecord(buf: Buffer, off: number, f: MeteredFlow): number {
  const k = f.key;
  const icmp = k.protocol === PROTO_ICMP || k.protocol === PROTO_ICMPV6;
  if (k.family === 4) {
    writeIpv4(buf, off, k.src);
    writeIpv4(buf, off + 4, k.dst);
    off += 8;
  } else {
    writeIpv6Text(buf, off, k.src);
    writeIpv6Text(buf, off + 16, k.dst);
    off += 32;
  }
  buf.writeUInt16BE(icmp ? 0 : k.srcPort & 0xffff, off);
  buf.writeUInt16BE(icmp ? 0 : k.dstPort & 0xffff, off + 2);
  buf[off + 4] = k.protocol;
  buf.writeUInt16BE(f.tcpFlags & 0xffff, off + 5);
  buf.writeUInt16BE(icmp ? k.dstPort & 0xffff : 0, off + 7);
  writeUnsigned(buf, off + 9, 8, f.bytes);
  writeUnsigned(buf, off + 17, 8, f.packets);
  writeUnsigned(buf, off + 25, 8, f.startMs);
  writeUnsigned(buf, off + 33, 8, f.endMs);
  buf[off + 41] = END_REASON_CODE[f.endReason];
  buf[off + 42] = k.family;
  return off + 43;
}

/**
 * RFC 5952 section 5 writes IPv4-mapped and similar addresses with a dotted tail
 * (::ffff:192.0.2.1), which writeIpv6 does not take: the tail becomes two hex groups first.
 */
function writeIpv6Text(buf: Buffer, off: number, addr: string): void {
  const dot = addr.indexOf('.');
  if (dot < 0) {
    writeIpv6(buf, off, addr);
    return;
  }
  const colon = addr.lastIndexOf(':');
  const [a = 0, b = 0, c = 0, d = 0] = addr
    .slice(colon + 1)
    .split('.')
    .map(Number);
  const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  writeIpv6(buf, off, `${addr.slice(0, colon + 1)}${hex}`);
}
