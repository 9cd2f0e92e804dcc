/**
 * What a traffic source (conntrack, or libpcap as the fallback) tells the agent's flow cache.
 * Sources turn their own view (conntrack's cumulative per-connection counters, one packet seen by
 * libpcap) into deltas per direction, so the cache has one job: accumulate, expire, export.
 */

/** One direction of a flow: the 5-tuple as the packets carry it. Addresses are text (RFC 5952 for IPv6). */
export interface FlowKey {
  readonly family: 4 | 6;
  readonly src: string;
  readonly dst: string;
  /** 0 for protocols without ports (ICMP: libpcap sources put type * 256 + code in dstPort, as NetFlow does). */
  readonly srcPort: number;
  readonly dstPort: number;
  /** IP protocol number. */
  readonly protocol: number;
}

/** Traffic seen on one direction of a flow since the source's previous observation of it. */
export interface FlowObservation {
  readonly key: FlowKey;
  readonly packets: number;
  readonly bytes: number;
  /** OR of the TCP flags seen in these packets; 0 when the source cannot see them (conntrack). */
  readonly tcpFlags: number;
  /** When the packets were seen (Unix ms); conntrack sources use the time of the event or dump. */
  readonly timeMs: number;
  /**
   * The connection is over (conntrack DESTROY, or a TCP FIN/RST libpcap saw): the cache exports
   * this direction now instead of waiting for the inactive timeout.
   */
  readonly ended: boolean;
}

/** Where sources put their observations: the flow cache. */
export interface FlowObservationSink {
  observe(observation: FlowObservation): void;
}
