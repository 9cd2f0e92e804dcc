/** One received (or captured) UDP payload / IPFIX-over-TCP message, stamped by the receiver. */
export interface Datagram {
  /** The payload exactly as received; decoders never keep a reference to it after returning. */
  payload: Buffer;
  /** Source address, normalised (IPv4-mapped IPv6 -> IPv4). The exporter for NetFlow/IPFIX. */
  srcAddress: string;
  srcPort: number;
  /** Local port it arrived on (0 when unknown, e.g. raw payload files). */
  dstPort: number;
  /** Receive time, epoch ms (the capture timestamp when decoding files). */
  receivedAtMs: number;
  /** IPFIX over TCP: an id unique per connection; templates learnt there belong to it only. */
  connectionId: string | null;
}

export type FlowProtocol = 'netflow5' | 'netflow9' | 'ipfix' | 'sflow5';
