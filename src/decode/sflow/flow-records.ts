import { ipv4At, ipv6At, u32At } from '../../record/address.js';
import type { FlowRecord } from '../../record/flow-record.js';
import { decodePacketHeader } from '../packet/packet-header.js';
import { u32 } from './xdr.js';

/**
 * Flow records of an sFlow flow sample (sflow_version_5.txt, "Flow Data Types"), decoded into
 * the sample's record. A raw packet header is what the packet really was, so it wins over the
 * agent's own digests (IPv4/IPv6/Ethernet data records), which only fill what is still null;
 * the order of records in the sample does not matter.
 */

export const FLOW_RAW_HEADER = 1;
export const FLOW_ETHERNET = 2;
export const FLOW_IPV4 = 3;
export const FLOW_IPV6 = 4;
export const FLOW_EXT_SWITCH = 1001;
export const FLOW_EXT_ROUTER = 1002;
export const FLOW_EXT_GATEWAY = 1003;

/** Record name for error messages. */
export function flowRecordName(format: number): string {
  switch (format) {
    case FLOW_RAW_HEADER:
      return 'raw packet header';
    case FLOW_ETHERNET:
      return 'ethernet frame data';
    case FLOW_IPV4:
      return 'IPv4 data';
    case FLOW_IPV6:
      return 'IPv6 data';
    case FLOW_EXT_SWITCH:
      return 'extended switch';
    case FLOW_EXT_ROUTER:
      return 'extended router';
    case FLOW_EXT_GATEWAY:
      return 'extended gateway';
    default:
      return `flow record ${format}`;
  }
}

/**
 * Decodes one standard (enterprise 0) flow record occupying [off, end). Returns false when the
 * record is shorter than its structure or inconsistent (the caller reports it); whatever could be
 * read is kept. Unknown formats (extended user/URL/MPLS/NAT, vendor records) are skipped: true.
 */
export function decodeFlowRecord(
  buf: Uint8Array,
  off: number,
  end: number,
  format: number,
  rec: FlowRecord,
): boolean {
  switch (format) {
    case FLOW_RAW_HEADER:
      return decodeRawHeader(buf, off, end, rec);
    case FLOW_ETHERNET:
      if (off + 24 > end) return false;
      if (rec.bits === null) {
        const length = u32(buf, off);
        rec.bits = length !== 0 ? length * 8 : null;
      }
      return true;
    case FLOW_IPV4:
      return decodeIpData(buf, off, end, 4, rec);
    case FLOW_IPV6:
      return decodeIpData(buf, off, end, 6, rec);
    case FLOW_EXT_SWITCH:
      return decodeExtendedSwitch(buf, off, end, rec);
    case FLOW_EXT_ROUTER:
      return decodeExtendedRouter(buf, off, end, rec);
    case FLOW_EXT_GATEWAY:
      return decodeExtendedGateway(buf, off, end, rec);
    default:
      return true;
  }
}

function decodeRawHeader(buf: Uint8Array, off: number, end: number, rec: FlowRecord): boolean {
  if (off + 16 > end) return false;
  const headerProtocol = u32(buf, off);
  // frame_length is the packet as seen on the wire, FCS included for Ethernet ("stripped" says how
  // many trailing bytes were removed from the *sample*, not from this length). Kept as sent, like
  // the agent's own interface counters, so sampled totals and ifOctets agree.
  const frameLength = u32(buf, off + 4);
  const headerLength = u32(buf, off + 12);
  const start = off + 16;
  const available = end - start;
  rec.bits = frameLength !== 0 ? frameLength * 8 : null;
  const length = Math.min(headerLength, available);
  decodePacketHeader(buf, start, start + length, headerProtocol, rec);
  return headerLength <= available;
}

/** sampled_ipv4 (format 3) and sampled_ipv6 (format 4): the agent's digest of the packet. */
function decodeIpData(buf: Uint8Array, off: number, end: number, version: 4 | 6, rec: FlowRecord): boolean {
  const alen = version === 4 ? 4 : 16;
  if (off + 24 + 2 * alen > end) return false;
  if (rec.bits === null) {
    const length = u32(buf, off);
    rec.bits = length !== 0 ? length * 8 : null;
  }
  if (rec.srcip !== null) return true;
  rec.ipversion = version;
  rec.protocolint = u32(buf, off + 4) & 0xff;
  let p = off + 8;
  rec.srcip = version === 4 ? ipv4At(buf, p) : ipv6At(buf, p);
  rec.srcip4 = version === 4 ? u32At(buf, p) : -1;
  p += alen;
  rec.dstip = version === 4 ? ipv4At(buf, p) : ipv6At(buf, p);
  rec.dstip4 = version === 4 ? u32At(buf, p) : -1;
  p += alen;
  rec.srcport = u32(buf, p) & 0xffff;
  rec.dstport = u32(buf, p + 4) & 0xffff;
  rec.tcpflagsint = u32(buf, p + 8) & 0x1ff;
  rec.tos = u32(buf, p + 12) & 0xff;
  return true;
}

/**
 * extended_switch: the VLANs the switch itself assigned. They win over the 802.1Q tag of the
 * sampled header, because an access port receives untagged frames and a trunk may show only the
 * outer tag; the switch knows the VLAN it forwarded in. 0xFFFFFFFF = unknown (sFlow v5 errata)
 * and 0 (no VLAN) leave the header's value in place.
 */
function decodeExtendedSwitch(buf: Uint8Array, off: number, end: number, rec: FlowRecord): boolean {
  if (off + 16 > end) return false;
  const src = u32(buf, off);
  const dst = u32(buf, off + 8);
  if (src !== 0 && src < 4096) rec.srcvlan = src;
  if (dst !== 0 && dst < 4096) rec.dstvlan = dst;
  return true;
}

/** Bytes of an sFlow `address` (type word + 0/4/16 bytes), or -1 for an unknown type. */
function addressSize(buf: Uint8Array, off: number): number {
  const type = u32(buf, off);
  if (type === 1) return 8;
  if (type === 2) return 20;
  if (type === 0) return 4;
  return -1;
}

/** Next hop text; the unspecified address (0.0.0.0, ::) is what agents send for "none". */
function addressText(buf: Uint8Array, off: number): string | null {
  const type = u32(buf, off);
  if (type === 1) return u32(buf, off + 4) === 0 ? null : ipv4At(buf, off + 4);
  if (type === 2) {
    const text = ipv6At(buf, off + 4);
    return text === '::' ? null : text;
  }
  return null;
}

/** The u32 of an IPv4 address in addressText's encoding, -1 for anything else (FlowRecord.srcip4). */
function address4(buf: Uint8Array, off: number): number {
  return u32(buf, off) === 1 && u32(buf, off + 4) !== 0 ? u32At(buf, off + 4) : -1;
}

function decodeExtendedRouter(buf: Uint8Array, off: number, end: number, rec: FlowRecord): boolean {
  if (off + 4 > end) return false;
  const size = addressSize(buf, off);
  if (size < 0 || off + size + 8 > end) return false;
  rec.nexthop = addressText(buf, off);
  rec.nexthop4 = address4(buf, off);
  const srcMask = u32(buf, off + size);
  const dstMask = u32(buf, off + size + 4);
  rec.srcmask = srcMask <= 128 ? srcMask : null;
  rec.dstmask = dstMask <= 128 ? dstMask : null;
  return true;
}

/**
 * extended_gateway: BGP view of the destination. dst AS is the origin, i.e. the last AS of the
 * destination AS path; with no path the destination is inside the router's own AS. AS 0 is
 * reserved (RFC 7607) and what agents send for "locally originated": the router's own AS.
 */
function decodeExtendedGateway(buf: Uint8Array, off: number, end: number, rec: FlowRecord): boolean {
  if (off + 4 > end) return false;
  const size = addressSize(buf, off);
  if (size < 0 || off + size + 16 > end) return false;
  rec.bgpnexthop = addressText(buf, off);
  rec.bgpnexthop4 = address4(buf, off);
  let p = off + size;
  const ownAs = u32(buf, p);
  const srcAs = u32(buf, p + 4);
  const segments = u32(buf, p + 12);
  p += 16;
  let lastAs = 0;
  let ok = true;
  for (let i = 0; i < segments; i++) {
    if (p + 8 > end) {
      ok = false;
      break;
    }
    const count = u32(buf, p + 4);
    p += 8;
    if (count > (end - p) / 4) {
      ok = false;
      break;
    }
    if (count > 0) lastAs = u32(buf, p + (count - 1) * 4);
    p += count * 4;
  }
  const localAs = ownAs !== 0 ? ownAs : null;
  rec.srcas = srcAs !== 0 ? srcAs : localAs;
  rec.dstas = lastAs !== 0 ? lastAs : localAs;
  return ok;
}
