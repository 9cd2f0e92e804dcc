/**
 * The one flow record every source is normalised into (see ../shared/docs/PRODUCT.md).
 *
 * This is the *internal* form used on the hot path: flat, monomorphic (every field is created
 * in the constructor, in the same order, so V8 keeps one hidden class), with no nested objects
 * that a decoder would have to allocate per record. The JSON form of PRODUCT.md (nested
 * tcpflags/AS/geo objects, protocol keyword, derived rates) is produced by `record/json.ts`.
 *
 * Conventions:
 * - unknown is `null`, never 0 or "";
 * - times are Unix epoch milliseconds (UTC), absolute: decoders convert uptime-relative times;
 * - `bits`/`packets` are as exported, never multiplied by `samplerate`;
 * - addresses are strings (IPv4 dotted quad, IPv6 RFC 5952), IPv4-mapped exporters normalised;
 * - srcip4/dstip4/nexthop4/bgpnexthop4 repeat an IPv4 address as the unsigned 32-bit integer the
 *   decoder read (-1 when it did not: IPv6, absent, or the record came from elsewhere). Enrichment
 *   and the store use them instead of parsing the text again (text → number is most of what an
 *   address rule costs); whoever sets one of those addresses from the wire sets both, anyone else
 *   leaves -1. Not part of the JSON form.
 */

/** An AS number with its organisation, as filled by enrichment from an AS database. */
export interface AsInfo {
  readonly asnumber: number | null;
  readonly asorg: string | null;
}

/** Geolocation of an address, as filled by enrichment. */
export interface GeoInfo {
  readonly countrycode: string | null;
  readonly continentcode: string | null;
  readonly location: { readonly lat: number; readonly lon: number } | null;
}

export type FlowType = 'netflow' | 'sflow' | 'aws' | 'gcp' | 'azure';
export type FlowDirection = 'ingress' | 'egress';

export class FlowRecord {
  /** Unix seconds when the datagram carrying this record was received. */
  timestamp = 0;
  start: number | null = null;
  end: number | null = null;
  duration: number | null = null;
  /** Exporter uptime (ms) at export time when the protocol carries it. */
  uptime: number | null = null;

  srcip: string | null = null;
  dstip: string | null = null;
  /** srcip/dstip as u32 when the decoder read an IPv4 address, else -1 (see the module comment). */
  srcip4 = -1;
  dstip4 = -1;
  srcport: number | null = null;
  dstport: number | null = null;
  protocolint: number | null = null;
  ipversion: 4 | 6 | null = null;

  /** Octets × 8, as exported (for a biflow: initiator to responder). */
  bits: number | null = null;
  packets: number | null = null;
  /** Responder to initiator (biflows, firewall records). */
  revbits: number | null = null;
  revpackets: number | null = null;
  /** 1-in-N packet sampling that applies to this record; null when not known. */
  samplerate: number | null = null;
  /** Records this one stands for after downsampling. */
  weight = 1;

  tos: number | null = null;
  tcpflagsint: number | null = null;
  icmptype: number | null = null;
  icmpcode: number | null = null;
  srcmask: number | null = null;
  dstmask: number | null = null;
  input: number | null = null;
  output: number | null = null;
  srcvlan: number | null = null;
  dstvlan: number | null = null;
  flowdirection: FlowDirection | null = null;
  /** IE 89 decoded: "forwarded", "dropped", "consumed", "dropped: <reason>", ... */
  forwardingstatus: string | null = null;
  fragmented: boolean | null = null;

  postnatsrcip: string | null = null;
  postnatdstip: string | null = null;
  postnatsrcport: number | null = null;
  postnatdstport: number | null = null;
  fwevent: string | null = null;
  natevent: string | null = null;

  nexthop: string | null = null;
  bgpnexthop: string | null = null;
  /** As srcip4, for nexthop/bgpnexthop. */
  nexthop4 = -1;
  bgpnexthop4 = -1;
  /** BGP AS numbers the exporter reported (the flow's own view; never overwritten by enrichment). */
  srcas: number | null = null;
  dstas: number | null = null;

  /** The exporter: UDP source address (NetFlow/IPFIX) or the sFlow agent address. */
  flowsrcip = '';
  flowtype: FlowType = 'netflow';
  /** 5, 9, 10 (IPFIX) for netflow; 5 for sflow. */
  flowversion = 0;
  /** Cloud logs: "accept" / "reject". */
  action: 'accept' | 'reject' | null = null;

  // ---- filled by enrichment (issue 4); decoders leave them null ----
  srcasorg: string | null = null;
  dstasorg: string | null = null;
  srcowneras: AsInfo | null = null;
  dstowneras: AsInfo | null = null;
  nexthopowneras: AsInfo | null = null;
  bgpnexthopowneras: AsInfo | null = null;
  srcgeo: GeoInfo | null = null;
  dstgeo: GeoInfo | null = null;
  srcinternal: boolean | null = null;
  dstinternal: boolean | null = null;
  bogonsrc: boolean | null = null;
  bogondst: boolean | null = null;
  flowsrcname: string | null = null;
  site: string | null = null;
  inputname: string | null = null;
  outputname: string | null = null;
  inputalias: string | null = null;
  outputalias: string | null = null;
  inputclasses: string[] | null = null;
  outputclasses: string[] | null = null;
  /**
   * Labels; the list may be shared by many records (tag rules, exporter tags), so it is replaced,
   * never changed in place.
   */
  tags: readonly string[] | null = null;

  /** User-mapped vendor/extra fields (config `decode.extrafields`), by configured name. */
  extra: Record<string, string | number | boolean | null> | null = null;
}
