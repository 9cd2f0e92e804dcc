import type { FlowRecord } from '../record/flow-record.js';
import type { FlowProtocol } from './datagram.js';
import type { DecodeErrorKind } from './errors.js';

/** sFlow counter sample (generic interface counters, RFC 2863 names), kept per agent. */
export interface InterfaceCounters {
  /** Agent (exporter) address. */
  agent: string;
  subAgentId: number;
  sequence: number;
  /** ms when received. */
  receivedAtMs: number;
  ifIndex: number;
  ifType: number | null;
  ifSpeed: number | null;
  ifDirection: number | null;
  ifAdminUp: boolean | null;
  ifOperUp: boolean | null;
  ifInOctets: number | null;
  ifInUcastPkts: number | null;
  ifInMulticastPkts: number | null;
  ifInBroadcastPkts: number | null;
  ifInDiscards: number | null;
  ifInErrors: number | null;
  ifInUnknownProtos: number | null;
  ifOutOctets: number | null;
  ifOutUcastPkts: number | null;
  ifOutMulticastPkts: number | null;
  ifOutBroadcastPkts: number | null;
  ifOutDiscards: number | null;
  ifOutErrors: number | null;
  ifPromiscuousMode: boolean | null;
}

/**
 * Where decoders hand their output. Decoders are pure apart from this and the template/sampling
 * state they are given: they never log, never throw on bad input, never keep the datagram.
 * `exporter` is the exporter's normalised address (sFlow: the agent address in the datagram).
 */
export interface DecodeSink {
  /** A finished record (already `finalizeRecord`ed). The sink owns it from here. */
  record(rec: FlowRecord): void;
  /** A problem; the decoder carries on with the next set / record / sample where it can. */
  error(exporter: string, kind: DecodeErrorKind, message: string): void;
  /**
   * A datagram attributed to an exporter, once per datagram, before its records. `exportTimeMs`
   * is the exporter's wall clock from the header (NetFlow v5 unix_secs + unix_nsecs, v9
   * unix_secs, IPFIX export time: the latter two in whole seconds), or null when the protocol has
   * none (sFlow) or the header is cut short; compared with the arrival time it shows clock skew.
   */
  datagram(exporter: string, protocol: FlowProtocol, bytes: number, exportTimeMs: number | null): void;
  /**
   * A sequence number seen, in the protocol's own unit, for gap accounting:
   * v5 flows (stream = engine type/id), v9 export packets per source id, IPFIX data records per
   * observation domain, sFlow datagrams per agent/sub-agent. `units` is how many units this
   * datagram carries (v5: record count; v9: 1; IPFIX: data records in the message; sFlow: 1), or
   * -1 meaning "unknown: resynchronise on the next sequence number without counting a gap" (an
   * IPFIX message with a data set that could not be decoded, or cut short). Streams of one exporter
   * keyed by port or TCP connection (keyByPort, IPFIX over TCP) carry `@port` / `@tcp:id`.
   */
  sequence(exporter: string, stream: string, sequence: number, units: number): void;
  /** Records whose sampling rate is not known yet (null or the exporter's default was used). */
  samplingUnknown(exporter: string, records: number): void;
  /** sFlow counter samples: kept per agent as interface counters, not flow records. */
  counters(sample: InterfaceCounters): void;
}
