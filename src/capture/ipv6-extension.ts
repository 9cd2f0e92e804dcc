/**
 * IPv6 extension headers (RFC 8200 section 4), shared by the capture reader (flow datagrams in
 * pcap files) and the agent's packet parser: both walk the chain to the transport header.
 */

export const V6_HOP_BY_HOP = 0;
export const V6_ROUTING = 43;
export const V6_FRAGMENT = 44;
export const V6_AH = 51;
export const V6_DEST_OPTS = 60;
export const V6_MOBILITY = 135;
export const V6_HIP = 139;
export const V6_SHIM6 = 140;
/** Bounds the extension header walk on hostile packets. */
export const MAX_EXT_HEADERS = 16;

/** Whether `nh` is an extension header skipped by its length (every one but the fragment header). */
export function isSkippableExtension(nh: number): boolean {
  return (
    nh === V6_HOP_BY_HOP ||
    nh === V6_ROUTING ||
    nh === V6_DEST_OPTS ||
    nh === V6_AH ||
    nh === V6_MOBILITY ||
    nh === V6_HIP ||
    nh === V6_SHIM6
  );
}

/** Bytes of extension header `nh` whose length byte is `lengthByte`. */
export function extensionLength(nh: number, lengthByte: number): number {
  // RFC 4302 section 2.2: AH counts 4-byte units minus 2; the others 8-byte units minus 1.
  return nh === V6_AH ? (lengthByte + 2) * 4 : (lengthByte + 1) * 8;
}
