import { ipv4At, ipv6At } from '../../record/address.js';

/**
 * Event enums of firewall (Cisco ASA NSEL) and NAT (Cisco NEL, CGNAT) records, as record strings.
 * Tables indexed by the wire value so decoding allocates nothing.
 */

/**
 * IANA firewallEvent (IE 233) values, which Cisco ASA NF_F_FW_EVENT (v9 40005) shares
 * (logstash_nf9_cisco_asa_1_data.dat sends 2 = flow deleted in 40005).
 */
const FIREWALL_EVENTS: readonly string[] = ['ignore', 'create', 'teardown', 'deny', 'alert', 'update'];

export function firewallEventName(value: number): string | null {
  return value < FIREWALL_EVENTS.length ? FIREWALL_EVENTS[value] : null;
}

/**
 * IANA "NAT Event Type" registry (IE 230, RFC 8158 section 4.4). 1 and 2 are the historic Cisco
 * NEL translation create/delete; 4/5 what RFC 8158 NAT44 loggers (VPP, CGNAT boxes) send.
 */
const NAT_EVENTS: readonly (string | null)[] = [
  null, // 0 reserved
  'create',
  'delete',
  'addresses exhausted',
  'nat44 create',
  'nat44 delete',
  'nat64 create',
  'nat64 delete',
  'nat44 bib create',
  'nat44 bib delete',
  'nat64 bib create',
  'nat64 bib delete',
  'ports exhausted',
  'quota exceeded',
  'address binding create',
  'address binding delete',
  'port block allocation',
  'port block deallocation',
  'threshold reached',
];

export function natEventName(value: number): string | null {
  return value < NAT_EVENTS.length ? NAT_EVENTS[value] : null;
}

/**
 * Post-NAT addresses and ports (225-228, 281/282): all zeros means "this side was not
 * translated", never a translation result (0.0.0.0 and :: are not assignable, RFC 1122 section
 * 3.2.1.3 / RFC 4291 section 2.5.2; port 0 is reserved). FortiOS sends them so in its NAT
 * templates for the untranslated side (elastic/beats Netflow-9-Fortigate-FortiOS-54x-appid
 * golden: post_nat_destination_ipv4_address 0.0.0.0, post_napt_destination_transport_port 0).
 */
export function postNatIpv4At(buf: Buffer, p: number): string | null {
  return buf[p] === 0 && buf[p + 1] === 0 && buf[p + 2] === 0 && buf[p + 3] === 0 ? null : ipv4At(buf, p);
}

export function postNatIpv6At(buf: Buffer, p: number): string | null {
  for (let i = 0; i < 16; i++) if (buf[p + i] !== 0) return ipv6At(buf, p);
  return null;
}

export function postNatPort(value: number): number | null {
  return value === 0 ? null : value;
}
