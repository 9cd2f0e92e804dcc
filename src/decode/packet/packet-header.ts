import { ipv4At, ipv6At, u32At } from '../../record/address.js';
import type { FlowRecord } from '../../record/flow-record.js';

/**
 * Decodes the first bytes of a sampled packet into the record: VLAN, IP version, addresses, TOS,
 * protocol, fragment state, ports, TCP flags, ICMP type/code. Two protocols hand us such a copy:
 * sFlow raw packet header records (flow record 1) and IPFIX dataLinkFrameSection (IE 315, RFC 7133).
 * Agents copy only the first bytes of the packet (128 by default), so every read is checked
 * against `end` and whatever is there is decoded; the rest stays null.
 *
 * Tunnels: with `decapsulate`, IPv4/IPv6-in-IP (protocol / next header 4 or 41, also after an
 * SRv6 routing header), Ethernet in SRv6 (next header 143) and Ethernet over MPLS with a control
 * word are opened and the INNER packet fills the record, since that is the user's traffic: Juniper
 * inline monitoring samples core links where every frame is a tunnel (akvorado_netflow_juniper-cpid,
 * ipfix-srv6, ethernet-over-mpls-with-control-word captures). IPFIX IE 315 decapsulates; sFlow
 * does not, so sFlow records keep describing the packet as the agent forwarded it, consistent with
 * its extended router/gateway data (next hop, masks, AS) which are about the outer packet.
 */

/** header_protocol values (sflow_version_5.txt, enum header_protocol); IE 315 frames are Ethernet. */
export const HEADER_ETHERNET = 1;
export const HEADER_IPV4 = 11;
export const HEADER_IPV6 = 12;
export const HEADER_MPLS = 13;

/** The record fields a packet header can fill (and nothing else is written). */
export type PacketHeaderFields = Pick<
  FlowRecord,
  | 'srcvlan'
  | 'ipversion'
  | 'tos'
  | 'fragmented'
  | 'protocolint'
  | 'srcip'
  | 'dstip'
  | 'srcip4'
  | 'dstip4'
  | 'srcport'
  | 'dstport'
  | 'tcpflagsint'
  | 'icmptype'
  | 'icmpcode'
>;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_MPLS_UC = 0x8847;
const ETH_MPLS_MC = 0x8848;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;

/** IP protocol numbers that carry another packet (IANA protocol numbers). */
const IP_IN_IPV4 = 4;
const IP_IN_IPV6 = 41;
/** RFC 8986 section 10.1: next header 143 "Ethernet", SRv6 End.DX2 / L2 services. */
const IP_ETHERNET = 143;

/** Bounds on header walking, so a crafted header cannot make us loop. */
const MAX_VLAN_TAGS = 4;
const MAX_MPLS_LABELS = 16;
const MAX_IPV6_EXTENSIONS = 8;
/** Tunnels opened one inside the other (IPIP in EoMPLS, ...) at most. */
const MAX_TUNNELS = 3;

export function decodePacketHeader(
  buf: Uint8Array,
  off: number,
  end: number,
  headerProtocol: number,
  rec: PacketHeaderFields,
  decapsulate = false,
): void {
  // `tunnels` is how many more encapsulations may be opened: 0 keeps the outer headers.
  const tunnels = decapsulate ? MAX_TUNNELS : 0;
  switch (headerProtocol) {
    case HEADER_ETHERNET:
      decodeEthernet(buf, off, end, rec, tunnels);
      return;
    case HEADER_IPV4:
      decodeIpv4(buf, off, end, rec, tunnels);
      return;
    case HEADER_IPV6:
      decodeIpv6(buf, off, end, rec, tunnels);
      return;
    case HEADER_MPLS:
      decodeMpls(buf, off, end, rec, tunnels);
      return;
    default:
    // Token ring, FDDI, PPP, ...: not decoded; bits/packets still come from the record.
  }
}

function u16(buf: Uint8Array, off: number): number {
  return (buf[off] << 8) | buf[off + 1];
}

function decodeEthernet(
  buf: Uint8Array,
  off: number,
  end: number,
  rec: PacketHeaderFields,
  tunnels: number,
): void {
  if (off + 14 > end) return;
  let etype = u16(buf, off + 12);
  let p = off + 14;
  for (let tags = 0; tags < MAX_VLAN_TAGS; tags++) {
    if (etype !== ETH_VLAN && etype !== ETH_QINQ && etype !== ETH_QINQ_OLD) break;
    if (p + 4 > end) return;
    // Q-in-Q: the outer (first) tag is the service VLAN the port sees. VID 0 is a priority tag
    // only (IEEE 802.1Q 9.6), i.e. no VLAN. An inner (tunnelled) Ethernet frame's tag replaces
    // the outer one; an untagged inner frame leaves it.
    if (tags === 0) {
      const vid = u16(buf, p) & 0x0fff;
      rec.srcvlan = vid !== 0 ? vid : null;
    }
    etype = u16(buf, p + 2);
    p += 4;
  }
  if (etype === ETH_IPV4) decodeIpv4(buf, p, end, rec, tunnels);
  else if (etype === ETH_IPV6) decodeIpv6(buf, p, end, rec, tunnels);
  else if (etype === ETH_MPLS_UC || etype === ETH_MPLS_MC) decodeMpls(buf, p, end, rec, tunnels);
}

/**
 * MPLS carries no payload type: skip labels to the bottom of stack (S bit, RFC 3032) and guess
 * IPv4/IPv6 from the version nibble, as routers do for load balancing (RFC 7325 section 2.4).
 * A first nibble of 0 is the pseudowire control word (RFC 4385 section 3); with it an Ethernet
 * pseudowire (RFC 4448) carries the customer frame after the 4 bytes. Without a control word an
 * Ethernet pseudowire cannot be told from IP (the MAC's first nibble), so it is left alone.
 */
function decodeMpls(buf: Uint8Array, p: number, end: number, rec: PacketHeaderFields, tunnels: number): void {
  for (let i = 0; ; i++) {
    if (i === MAX_MPLS_LABELS || p + 4 > end) return;
    const bottom = buf[p + 2] & 1;
    p += 4;
    if (bottom === 1) break;
  }
  if (p >= end) return;
  const nibble = buf[p] >> 4;
  if (nibble === 4) decodeIpv4(buf, p, end, rec, tunnels);
  else if (nibble === 6) decodeIpv6(buf, p, end, rec, tunnels);
  else if (nibble === 0 && tunnels > 0) decodeEthernet(buf, p + 4, end, rec, tunnels - 1);
}

function decodeIpv4(buf: Uint8Array, p: number, end: number, rec: PacketHeaderFields, tunnels: number): void {
  if (p + 20 > end) return;
  const vihl = buf[p];
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || ihl < 20) return;
  rec.ipversion = 4;
  rec.tos = buf[p + 1];
  const frag = u16(buf, p + 6);
  const fragOffset = frag & 0x1fff;
  rec.fragmented = fragOffset !== 0 || (frag & 0x2000) !== 0;
  const proto = buf[p + 9];
  rec.protocolint = proto;
  rec.srcip = ipv4At(buf, p + 12);
  rec.srcip4 = u32At(buf, p + 12);
  rec.dstip = ipv4At(buf, p + 16);
  rec.dstip4 = u32At(buf, p + 16);
  // Only the first fragment carries the transport header (or the tunnelled packet's header).
  if (fragOffset === 0) decodePayload(buf, p + ihl, end, proto, rec, tunnels);
}

function decodeIpv6(buf: Uint8Array, p: number, end: number, rec: PacketHeaderFields, tunnels: number): void {
  if (p + 40 > end) return;
  if (buf[p] >> 4 !== 6) return;
  rec.ipversion = 6;
  rec.tos = ((buf[p] & 0x0f) << 4) | (buf[p + 1] >> 4);
  rec.srcip = ipv6At(buf, p + 8);
  rec.srcip4 = -1;
  rec.dstip = ipv6At(buf, p + 24);
  rec.dstip4 = -1;
  rec.fragmented = false;
  let next = buf[p + 6];
  p += 40;
  // RFC 8200 section 4: walk the extension headers to the upper-layer protocol. ESP (50) and
  // "no next header" (59) end the walk: what follows is encrypted or nothing. The SRv6 segment
  // routing header (RFC 8754) is routing header 43 type 4: same generic length rule.
  for (let i = 0; i < MAX_IPV6_EXTENSIONS; i++) {
    if (next === 0 || next === 43 || next === 60) {
      if (p + 2 > end) break;
      next = buf[p];
      p += (buf[p + 1] + 1) * 8;
    } else if (next === 51) {
      // AH length is in 4-octet units minus 2 (RFC 4302 section 2.2).
      if (p + 2 > end) break;
      next = buf[p];
      p += (buf[p + 1] + 2) * 4;
    } else if (next === 44) {
      if (p + 8 > end) break;
      const fragField = u16(buf, p + 2);
      rec.fragmented = true;
      next = buf[p];
      p += 8;
      if (fragField >>> 3 !== 0) {
        // Non-first fragment: no transport header here.
        rec.protocolint = next;
        return;
      }
    } else {
      break;
    }
  }
  rec.protocolint = next;
  decodePayload(buf, p, end, next, rec, tunnels);
}

/** What follows an IP header: a tunnelled packet (when allowed) or the transport header. */
function decodePayload(
  buf: Uint8Array,
  p: number,
  end: number,
  proto: number,
  rec: PacketHeaderFields,
  tunnels: number,
): void {
  if (tunnels > 0) {
    // The inner header overwrites what the outer one wrote; if it is cut off before its
    // addresses, the outer addresses stay (with protocol 4/41/143: the tunnel itself).
    if (proto === IP_IN_IPV4) decodeIpv4(buf, p, end, rec, tunnels - 1);
    else if (proto === IP_IN_IPV6) decodeIpv6(buf, p, end, rec, tunnels - 1);
    else if (proto === IP_ETHERNET) decodeEthernet(buf, p, end, rec, tunnels - 1);
    else decodeTransport(buf, p, end, proto, rec);
    return;
  }
  decodeTransport(buf, p, end, proto, rec);
}

function decodeTransport(
  buf: Uint8Array,
  p: number,
  end: number,
  proto: number,
  rec: PacketHeaderFields,
): void {
  switch (proto) {
    case 6: // TCP
      if (p + 4 > end) return;
      rec.srcport = u16(buf, p);
      rec.dstport = u16(buf, p + 2);
      // NS (RFC 3540) is the low bit of the data-offset byte, the other eight flags the next byte.
      if (p + 14 <= end) rec.tcpflagsint = ((buf[p + 12] & 1) << 8) | buf[p + 13];
      return;
    case 17: // UDP
    case 33: // DCCP
    case 132: // SCTP
    case 136: // UDP-Lite: all four start with source and destination ports
      if (p + 4 > end) return;
      rec.srcport = u16(buf, p);
      rec.dstport = u16(buf, p + 2);
      return;
    case 1: // ICMP
    case 58: // ICMPv6
      if (p + 2 > end) return;
      rec.icmptype = buf[p];
      rec.icmpcode = buf[p + 1];
      return;
    default:
  }
}
