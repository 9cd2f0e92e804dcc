/** LINKTYPE_* values (tcpdump.org/linktypes.html) that can carry IP. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
/** Bounds the VLAN tag walk on hostile frames (QinQ is 2 tags; 8 is generous). */
const MAX_TAGS = 8;

/** Frame is not IP (ARP, LLC, an unsupported link type...): skip it. */
export const NOT_IP = -1;
/** Frame too short for its own link header: malformed. */
export const BAD_FRAME = -2;

/**
 * Offset of the IP header inside a frame of the given link type, or NOT_IP / BAD_FRAME.
 * The IP version is read from the header itself, so every link type reduces to one offset.
 */
export function ipOffset(linkType: number, f: Uint8Array): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return ethernetPayload(f, 12);
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return f.length === 0 ? BAD_FRAME : 0;
    case LINKTYPE_LINUX_SLL:
      // 16-byte cooked header, protocol (an Ethernet type) in its last 2 bytes.
      return f.length < 16 ? BAD_FRAME : etherTypeToOffset(f, 14, 16);
    case LINKTYPE_LINUX_SLL2:
      // 20-byte cooked header v2, protocol first.
      return f.length < 20 ? BAD_FRAME : etherTypeToOffset(f, 0, 20);
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      return loopbackPayload(f);
    default:
      return NOT_IP;
  }
}

function ethernetPayload(f: Uint8Array, typeOff: number): number {
  for (let tags = 0; tags <= MAX_TAGS; tags++) {
    if (f.length < typeOff + 2) return BAD_FRAME;
    const t = (f[typeOff] << 8) | f[typeOff + 1];
    if (t === ETH_VLAN || t === ETH_QINQ || t === ETH_QINQ_OLD) {
      typeOff += 4;
      continue;
    }
    return etherTypeToOffset(f, typeOff, typeOff + 2);
  }
  return BAD_FRAME;
}

function etherTypeToOffset(f: Uint8Array, typeOff: number, payloadOff: number): number {
  const t = (f[typeOff] << 8) | f[typeOff + 1];
  if (t !== ETH_IPV4 && t !== ETH_IPV6) return NOT_IP;
  return f.length > payloadOff ? payloadOff : BAD_FRAME;
}

/**
 * BSD loopback: a 4-byte address family in the capturing host's byte order (NULL) or network
 * order (LOOP). AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD),
 * 30 (macOS), so the IP version nibble decides.
 */
function loopbackPayload(f: Uint8Array): number {
  if (f.length < 5) return BAD_FRAME;
  const family = f[0] === 0 && f[1] === 0 ? f[3] | (f[2] << 8) : f[0] | (f[1] << 8);
  if (family !== 2 && family !== 10 && family !== 24 && family !== 28 && family !== 30) return NOT_IP;
  return 4;
}
