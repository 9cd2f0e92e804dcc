import { ethernet, ipv4Header, ipv6Header, udpHeader } from '../../test/helpers/packets.js';

/**
 * Ethernet frames holding only their headers, with IP length fields that announce the full packet:
 * the payload itself is never materialised (see pcap-writer.ts for why that is enough).
 */

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

const ETHERNET_HEADER = 14;
const TCP_HEADER = 20;
const UDP_HEADER = 8;
const ICMP_HEADER = 8;

export interface Frame {
  frame: Buffer;
  wireLength: number;
}

const isV6 = (address: string): boolean => address.includes(':');

/** RFC 791 header checksum, so tools that verify it (tshark, some exporters) accept the packet. */
function withIpv4Checksum(header: Buffer): Buffer {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  header.writeUInt16BE(~sum & 0xffff, 10);
  return header;
}

function ipFrame(
  src: string,
  dst: string,
  proto: number,
  l4: Buffer,
  l4WireLength: number,
  id: number,
): Frame {
  if (isV6(src)) {
    const ip = ipv6Header(src, dst, proto === PROTO_ICMP ? PROTO_ICMPV6 : proto, l4WireLength);
    return { frame: ethernet(Buffer.concat([ip, l4])), wireLength: ETHERNET_HEADER + 40 + l4WireLength };
  }
  const ip = withIpv4Checksum(ipv4Header(src, dst, proto, l4WireLength, { id }));
  return { frame: ethernet(Buffer.concat([ip, l4])), wireLength: ETHERNET_HEADER + 20 + l4WireLength };
}

export function udpFrame(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  payloadLength: number,
  id = 1,
): Frame {
  return ipFrame(src, dst, PROTO_UDP, udpHeader(sport, dport, payloadLength), UDP_HEADER + payloadLength, id);
}

export function tcpFrame(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  flags: number,
  payloadLength: number,
  seq = 1,
  id = 1,
): Frame {
  const tcp = Buffer.alloc(TCP_HEADER);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp.writeUInt32BE(seq >>> 0, 4);
  tcp.writeUInt32BE(flags & TCP_ACK ? 1 : 0, 8);
  tcp[12] = (TCP_HEADER / 4) << 4;
  tcp[13] = flags;
  tcp.writeUInt16BE(65535, 14);
  return ipFrame(src, dst, PROTO_TCP, tcp, TCP_HEADER + payloadLength, id);
}

/** ICMP (or ICMPv6 for IPv6 addresses) echo request (type 8 / 128) or reply (0 / 129). */
export function icmpEchoFrame(
  src: string,
  dst: string,
  reply: boolean,
  payloadLength: number,
  seq: number,
): Frame {
  const icmp = Buffer.alloc(ICMP_HEADER);
  icmp[0] = isV6(src) ? (reply ? 129 : 128) : reply ? 0 : 8;
  icmp.writeUInt16BE(0x4242, 4);
  icmp.writeUInt16BE(seq & 0xffff, 6);
  return ipFrame(src, dst, PROTO_ICMP, icmp, ICMP_HEADER + payloadLength, seq);
}

/**
 * A non-first IPv4 fragment (offset > 0): no transport header at all, which is what fragment floods
 * use to get past port-based filters.
 */
export function nonFirstFragmentFrame(
  src: string,
  dst: string,
  proto: number,
  id: number,
  offsetBytes: number,
  length: number,
  more: boolean,
): Frame {
  const ip = withIpv4Checksum(ipv4Header(src, dst, proto, length, { id, fragOffset: offsetBytes, more }));
  return { frame: ethernet(ip), wireLength: ETHERNET_HEADER + 20 + length };
}
