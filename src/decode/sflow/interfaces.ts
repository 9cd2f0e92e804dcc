import type { FlowRecord } from '../../record/flow-record.js';

/**
 * sFlow v5 interface encoding (sflow_version_5.txt, "Input/output port information"): the top two
 * bits of the compact 32-bit form (or the separate `format` word of the expanded form) say what
 * the value is:
 *   0 = ifIndex (0 = unknown; 0x3FFFFFFF = the packet came from / went to the device itself),
 *   1 = the packet was discarded, value = drop reason code,
 *   2 = sent to several interfaces, value = how many (0 = unknown).
 *
 * The internal interface 0x3FFFFFFF is kept as the raw ifIndex 1073741823 rather than turned into
 * null: users want to tell "to/from the control plane" apart from "unknown" (Akvorado issues
 * #153 and #2071 asked for exactly that), and it never collides with a real ifIndex.
 */
export const SFLOW_INTERNAL_INTERFACE = 0x3fffffff;

export function setInputInterface(rec: FlowRecord, format: number, value: number): void {
  rec.input = format === 0 && value !== 0 ? value : null;
}

export function setOutputInterface(rec: FlowRecord, format: number, value: number): void {
  if (format === 0) {
    rec.output = value !== 0 ? value : null;
  } else if (format === 1) {
    rec.output = null;
    rec.forwardingstatus = dropStatus(value);
  } else {
    // Multiple output interfaces (broadcast/multicast flooding): no single ifIndex to report.
    rec.output = null;
  }
}

/**
 * Drop reason names from sflow_drops.txt (the same codes are used in the compact output
 * interface with format 1, see the sFlow v5 errata: 0x40000102 = ACL). 0..15 are the ICMP
 * "destination unreachable" codes; 256.. are the switch drop reasons.
 */
const ICMP_REASONS = [
  'net unreachable',
  'host unreachable',
  'protocol unreachable',
  'port unreachable',
  'frag needed',
  'src route failed',
  'dst net unknown',
  'dst host unknown',
  'src host isolated',
  'dst net prohibited',
  'dst host prohibited',
  'dst net tos unreachable',
  'dst host tos unreachable',
  'comm admin prohibited',
  'host precedence violation',
  'precedence cutoff',
];
const SWITCH_REASONS = [
  'unknown',
  'ttl exceeded',
  'acl',
  'no buffer space',
  'red',
  'traffic shaping',
  'pkt too big',
  'src mac is multicast',
  'vlan tag mismatch',
  'ingress vlan filter',
  'ingress spanning tree filter',
  'port list is empty',
  'port loopback filter',
  'blackhole route',
  'non ip',
  'uc dip over mc dmac',
  'dip is loopback address',
  'sip is mc',
  'sip is loopback address',
  'ip header corrupted',
  'ipv4 sip is limited bc',
  'ipv6 mc dip reserved scope',
  'ipv6 mc dip interface local scope',
  'unresolved neigh',
  'mc reverse path forwarding',
  'non routable packet',
  'decap error',
  'overlay smac is mc',
  'unknown l2',
  'unknown l3',
  'unknown l3 exception',
  'unknown buffer',
  'unknown tunnel',
  'unknown l4',
];
const DROP_STATUS: Map<number, string> = new Map();
for (let i = 0; i < ICMP_REASONS.length; i++) DROP_STATUS.set(i, `dropped: ${ICMP_REASONS[i]}`);
for (let i = 0; i < SWITCH_REASONS.length; i++) DROP_STATUS.set(256 + i, `dropped: ${SWITCH_REASONS[i]}`);

/** forwardingstatus for an sFlow drop reason code ("dropped" alone when the code is not defined). */
export function dropStatus(reason: number): string {
  return DROP_STATUS.get(reason) ?? 'dropped';
}
