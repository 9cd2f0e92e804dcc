/**
 * What each NetFlow v9 / IPFIX information element means for the flow record: element
 * (enterprise, id) -> one small operation code the compiled reader executes.
 *
 * NetFlow v9 field types 1-127 are the IPFIX numbers (IANA registry note "Values 0-127:
 * NFv9-compatible"), and v9 exporters use the IPFIX numbers above 127 too; v9 types >= 32768 are
 * plain v9 types with enterprise 0 (Cisco ASA NSEL 33000-33002, 40000-40005), never IPFIX
 * enterprise elements, so one table keyed by (enterprise, id) serves both protocols.
 */

/** Operation codes. Numbers (not closures) so the reader stays one monomorphic switch. */
export const Op = {
  SKIP: 0,
  BITS: 1,
  PACKETS: 2,
  PROTOCOL: 3,
  TOS: 4,
  TCPFLAGS: 5,
  SRCPORT: 6,
  DSTPORT: 7,
  SRCIP4: 8,
  DSTIP4: 9,
  SRCIP6: 10,
  DSTIP6: 11,
  SRCMASK: 12,
  DSTMASK: 13,
  INPUT: 14,
  OUTPUT: 15,
  NEXTHOP4: 16,
  BGPNEXTHOP4: 17,
  NEXTHOP6: 18,
  BGPNEXTHOP6: 19,
  SRCAS: 20,
  DSTAS: 21,
  SRCVLAN: 22,
  DSTVLAN: 23,
  IPVERSION: 24,
  DIRECTION: 25,
  FWDSTATUS: 26,
  ICMPTYPECODE: 27,
  ICMPTYPE: 28,
  ICMPCODE: 29,
  FRAGFLAGS: 30,
  FRAGOFFSET: 31,
  POSTNATSRC4: 32,
  POSTNATDST4: 33,
  POSTNATSRC6: 34,
  POSTNATDST6: 35,
  POSTNATSRCPORT: 36,
  POSTNATDSTPORT: 37,
  FWEVENT: 38,
  NATEVENT: 39,
  REVBITS: 40,
  REVPACKETS: 41,
  START_SEC: 42,
  END_SEC: 43,
  START_MS: 44,
  END_MS: 45,
  START_NTP: 46,
  END_NTP: 47,
  START_UPTIME: 48,
  END_UPTIME: 49,
  SYSINIT_MS: 50,
  START_DELTA_US: 51,
  END_DELTA_US: 52,
  DURATION_MS: 53,
  DURATION_US: 54,
  OBS_SEC: 55,
  OBS_MS: 56,
  OBS_NTP: 57,
  SAMPLER_ID: 58,
  SAMPLING_INTERVAL: 59,
  SAMPLING_SPACE: 60,
  SAMPLING_ALGORITHM: 61,
  SELECTOR_ID: 62,
  SAMPLING_SIZE: 63,
  SAMPLING_POPULATION: 64,
  SAMPLING_PROBABILITY: 65,
  ACTIVE_TIMEOUT: 66,
  INACTIVE_TIMEOUT: 67,
  IFNAME: 68,
  IFDESC: 69,
  FRAME_SECTION: 70,
  FRAME_SIZE: 71,
} as const;

export type OpCode = (typeof Op)[keyof typeof Op];

/** RFC 5103 section 6.1: the Reverse Information Element Private Enterprise Number. */
export const REVERSE_PEN = 29305;

/** Element ids (enterprise 0) whose meaning is a fallback for another element of the template. */
const FALLBACK_OF: ReadonlyMap<number, readonly number[]> = new Map([
  // octetTotalCount / packetTotalCount only when the delta counter is absent
  [85, [1]],
  [86, [2]],
  // NSEL/RFC 5102 initiator counters: the forward direction when no plain counter is sent
  [231, [1, 85]],
  [298, [2, 86]],
  // udp/tcp specific ports (RFC 5102 180-183) only when the generic ones are absent
  [180, [7]],
  [182, [7]],
  [181, [11]],
  [183, [11]],
  // ingress/egressPhysicalInterface only when ingress/egressInterface is absent
  [252, [10]],
  [253, [14]],
  // dot1qVlanId / postDot1qVlanId only when vlanId / postVlanId is absent
  [243, [58]],
  [254, [59]],
  // Cisco ASA legacy NSEL xlate fields (v9 40001-40004) only when the IANA 225-228 are absent
  [40001, [225]],
  [40002, [226]],
  [40003, [227]],
  [40004, [228]],
  // ASA legacy NF_F_FW_EVENT only when firewallEvent 233 is absent
  [40005, [233]],
]);

/**
 * Operation for an IANA element (or v9 field type) `id`, given the other enterprise-0 ids of the
 * same template (for the fallbacks above).
 */
export function ianaOp(id: number, present: ReadonlySet<number>): OpCode {
  const shadowedBy = FALLBACK_OF.get(id);
  if (shadowedBy !== undefined) {
    for (const other of shadowedBy) if (present.has(other)) return Op.SKIP;
  }
  switch (id) {
    case 1:
    case 85:
    case 231: // initiatorOctets (NSEL NF_F_FWD_FLOW_DELTA_BYTES)
      return Op.BITS;
    case 2:
    case 86:
    case 298: // initiatorPackets
      return Op.PACKETS;
    case 232: // responderOctets (NSEL NF_F_REV_FLOW_DELTA_BYTES)
      return Op.REVBITS;
    case 299: // responderPackets
      return Op.REVPACKETS;
    case 4:
      return Op.PROTOCOL;
    case 5:
      return Op.TOS;
    case 6:
      return Op.TCPFLAGS;
    case 7:
    case 180:
    case 182:
      return Op.SRCPORT;
    case 11:
    case 181:
    case 183:
      return Op.DSTPORT;
    case 8:
      return Op.SRCIP4;
    case 12:
      return Op.DSTIP4;
    case 27:
      return Op.SRCIP6;
    case 28:
      return Op.DSTIP6;
    case 9:
    case 29:
      return Op.SRCMASK;
    case 13:
    case 30:
      return Op.DSTMASK;
    case 10:
    case 252:
      return Op.INPUT;
    case 14:
    case 253:
      return Op.OUTPUT;
    case 15:
      return Op.NEXTHOP4;
    case 18:
      return Op.BGPNEXTHOP4;
    case 62:
      return Op.NEXTHOP6;
    case 63:
      return Op.BGPNEXTHOP6;
    case 16:
      return Op.SRCAS;
    case 17:
      return Op.DSTAS;
    case 58:
    case 243:
      return Op.SRCVLAN;
    case 59:
    case 254:
      return Op.DSTVLAN;
    case 60:
      return Op.IPVERSION;
    case 61:
      return Op.DIRECTION;
    case 89:
      return Op.FWDSTATUS;
    case 32: // icmpTypeCodeIPv4 (v9 ICMP_TYPE): type << 8 | code
    case 139: // icmpTypeCodeIPv6
      return Op.ICMPTYPECODE;
    case 176:
    case 178:
      return Op.ICMPTYPE;
    case 177:
    case 179:
      return Op.ICMPCODE;
    case 197:
      return Op.FRAGFLAGS;
    case 88:
      return Op.FRAGOFFSET;
    case 225:
    case 40001: // ASA NF_F_XLATE_SRC_ADDR_IPV4 (logstash_nf9_cisco_asa_1_tpl.dat)
      return Op.POSTNATSRC4;
    case 226:
    case 40002: // ASA NF_F_XLATE_DST_ADDR_IPV4
      return Op.POSTNATDST4;
    case 281:
      return Op.POSTNATSRC6;
    case 282:
      return Op.POSTNATDST6;
    case 227:
    case 40003: // ASA NF_F_XLATE_SRC_PORT
      return Op.POSTNATSRCPORT;
    case 228:
    case 40004: // ASA NF_F_XLATE_DST_PORT
      return Op.POSTNATDSTPORT;
    case 233:
    case 40005: // ASA NF_F_FW_EVENT (same enum as 233)
      return Op.FWEVENT;
    case 230:
      return Op.NATEVENT;
    case 150:
      return Op.START_SEC;
    case 151:
      return Op.END_SEC;
    case 152:
      return Op.START_MS;
    case 153:
      return Op.END_MS;
    case 154:
    case 156:
      return Op.START_NTP;
    case 155:
    case 157:
      return Op.END_NTP;
    case 22: // v9 FIRST_SWITCHED / flowStartSysUpTime
      return Op.START_UPTIME;
    case 21: // v9 LAST_SWITCHED / flowEndSysUpTime
      return Op.END_UPTIME;
    case 160:
      return Op.SYSINIT_MS;
    case 158:
      return Op.START_DELTA_US;
    case 159:
      return Op.END_DELTA_US;
    case 161:
      return Op.DURATION_MS;
    case 162:
      return Op.DURATION_US;
    case 322:
      return Op.OBS_SEC;
    case 323: // observationTimeMilliseconds: NSEL NF_F_EVENT_TIME_MSEC on the ASA
      return Op.OBS_MS;
    case 324:
    case 325:
      return Op.OBS_NTP;
    case 48: // samplerId (v9 FLOW_SAMPLER_ID, 1 byte)
      return Op.SAMPLER_ID;
    case 34: // samplingInterval
    case 50: // samplerRandomInterval
    case 305: // samplingPacketInterval
      return Op.SAMPLING_INTERVAL;
    case 306:
      return Op.SAMPLING_SPACE;
    case 35:
    case 49:
      return Op.SAMPLING_ALGORITHM;
    case 302:
      return Op.SELECTOR_ID;
    case 309:
      return Op.SAMPLING_SIZE;
    case 310:
      return Op.SAMPLING_POPULATION;
    case 311:
      return Op.SAMPLING_PROBABILITY;
    case 36:
      return Op.ACTIVE_TIMEOUT;
    case 37:
      return Op.INACTIVE_TIMEOUT;
    case 82:
      return Op.IFNAME;
    case 83:
      return Op.IFDESC;
    case 312: // dataLinkFrameSize: the record is one sampled frame (RFC 7133, PSAMP)
      return Op.FRAME_SIZE;
    case 315: // dataLinkFrameSection (RFC 7133): Juniper inline monitoring, akvorado_netflow_datalink
      return Op.FRAME_SECTION;
    default:
      return Op.SKIP;
  }
}

/** RFC 5103 reverse elements: only the counters have a place in the record (revbits/revpackets). */
export function reverseOp(id: number, presentReverse: ReadonlySet<number>): OpCode {
  if (id === 1) return Op.REVBITS;
  if (id === 2) return Op.REVPACKETS;
  if (id === 85 && !presentReverse.has(1)) return Op.REVBITS;
  if (id === 86 && !presentReverse.has(2)) return Op.REVPACKETS;
  return Op.SKIP;
}

/** How many bytes an operation can decode: anything else is skipped, the record still read. */
export const LengthRule = {
  /** Unsigned integer, reduced-size encoding allowed (RFC 7011 section 6.2): 1..8 bytes. */
  Int: 0,
  Ipv4: 1,
  Ipv6: 2,
  /** NTP 64-bit timestamp (RFC 7011 sections 6.1.9, 6.1.10). */
  Ntp: 3,
  /** float32 or float64 (reduced-size float64, RFC 7011 section 6.2). */
  Float: 4,
  /** Any length, including 0. */
  Any: 5,
} as const;

export type LengthRule = (typeof LengthRule)[keyof typeof LengthRule];

export function lengthRuleOf(op: OpCode): LengthRule {
  switch (op) {
    case Op.SRCIP4:
    case Op.DSTIP4:
    case Op.NEXTHOP4:
    case Op.BGPNEXTHOP4:
    case Op.POSTNATSRC4:
    case Op.POSTNATDST4:
      return LengthRule.Ipv4;
    case Op.SRCIP6:
    case Op.DSTIP6:
    case Op.NEXTHOP6:
    case Op.BGPNEXTHOP6:
    case Op.POSTNATSRC6:
    case Op.POSTNATDST6:
      return LengthRule.Ipv6;
    case Op.START_NTP:
    case Op.END_NTP:
    case Op.OBS_NTP:
      return LengthRule.Ntp;
    case Op.SAMPLING_PROBABILITY:
      return LengthRule.Float;
    case Op.IFNAME:
    case Op.IFDESC:
    case Op.FRAME_SECTION:
    case Op.SKIP:
      return LengthRule.Any;
    default:
      return LengthRule.Int;
  }
}

export function lengthFits(rule: LengthRule, len: number): boolean {
  switch (rule) {
    case LengthRule.Int:
      return len >= 1 && len <= 8;
    case LengthRule.Ipv4:
      return len === 4;
    case LengthRule.Ipv6:
      return len === 16;
    case LengthRule.Ntp:
      return len === 8;
    case LengthRule.Float:
      return len === 4 || len === 8;
    default:
      return true;
  }
}
