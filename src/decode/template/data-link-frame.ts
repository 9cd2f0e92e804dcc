import { FlowRecord } from '../../record/flow-record.js';
import { decodePacketHeader, HEADER_ETHERNET } from '../packet/packet-header.js';

/**
 * IPFIX dataLinkFrameSection (IE 315, RFC 7133 section 4.7): the exporter sends the first bytes
 * of a sampled Ethernet frame instead of (or besides) flow keys; Juniper inline monitoring sends
 * nothing else (akvorado_netflow_datalink, juniper-cpid, ipfix-srv6, ethernet-over-mpls captures).
 *
 * The frame only fills what the template's own elements left null: a sourceIPv4Address in the
 * record is what the exporter states and wins over our reading of the frame. Tunnels are opened
 * (see packet-header.ts): the inner packet is the user's traffic.
 *
 * Parsed into one reused record, then copied where the flow record is null, so the order of the
 * template's fields does not matter and nothing is allocated beyond the address strings.
 */
const frame = new FlowRecord();

/** Parses buf[off, end) as an Ethernet frame and fills the null packet fields of `rec`. */
export function applyDataLinkFrame(buf: Uint8Array, off: number, end: number, rec: FlowRecord): void {
  frame.srcvlan = null;
  frame.ipversion = null;
  frame.tos = null;
  frame.fragmented = null;
  frame.protocolint = null;
  frame.srcip = null;
  frame.dstip = null;
  frame.srcip4 = -1;
  frame.dstip4 = -1;
  frame.srcport = null;
  frame.dstport = null;
  frame.tcpflagsint = null;
  frame.icmptype = null;
  frame.icmpcode = null;
  decodePacketHeader(buf, off, end, HEADER_ETHERNET, frame, true);

  // The IP version follows the addresses: a template stating IPv6 addresses keeps version 6
  // even when the frame's (inner) packet is IPv4.
  if (rec.srcip === null && rec.dstip === null && rec.ipversion === null) rec.ipversion = frame.ipversion;
  if (rec.srcip === null) {
    rec.srcip = frame.srcip;
    rec.srcip4 = frame.srcip4;
  }
  if (rec.dstip === null) {
    rec.dstip = frame.dstip;
    rec.dstip4 = frame.dstip4;
  }
  if (rec.srcvlan === null) rec.srcvlan = frame.srcvlan;
  if (rec.tos === null) rec.tos = frame.tos;
  if (rec.fragmented === null) rec.fragmented = frame.fragmented;
  if (rec.protocolint === null) rec.protocolint = frame.protocolint;
  if (rec.srcport === null) rec.srcport = frame.srcport;
  if (rec.dstport === null) rec.dstport = frame.dstport;
  if (rec.tcpflagsint === null) rec.tcpflagsint = frame.tcpflagsint;
  if (rec.icmptype === null) rec.icmptype = frame.icmptype;
  if (rec.icmpcode === null) rec.icmpcode = frame.icmpcode;
}
