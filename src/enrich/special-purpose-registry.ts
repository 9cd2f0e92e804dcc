/**
 * The IANA IPv4 and IPv6 Special-Purpose Address Registries (structure defined by RFC 6890,
 * April 2013, updated by RFC 8190, June 2017), transcribed row by row:
 *   https://www.iana.org/assignments/iana-ipv4-special-registry/ (last updated 2025-10-09)
 *   https://www.iana.org/assignments/iana-ipv6-special-registry/ (last updated 2025-10-09)
 * The newest rows are 100:0:0:1::/64 (RFC 9780, 2025-04), 3fff::/20 (RFC 9637, 2024-07),
 * 5f00::/16 (RFC 9602) and 2001:1::3/128 (RFC 9665, both 2024-04). The copy was made from
 * published transcriptions of those pages (this machine cannot reach iana.org): re-check the
 * pages when they change and update this file and its test together.
 *
 * `reachable` is the registry's "Globally Reachable" column (RFC 8190 section 2.1): true, false,
 * or null where the registry says N/A (6to4, Teredo) or leaves the cell empty (the terminated
 * 192.88.99.0/24 and 2001:10::/28 rows).
 *
 * Bogon rule (used by address-classes.ts): an address is a bogon when the MOST SPECIFIC row
 * holding it is not globally reachable (false or null). So 192.0.0.9 (PCP anycast, true) is not a
 * bogon although 192.0.0.0/24 is, and 2001:4:112::1 (AS112-v6) is not although 2001::/23 is.
 * Addresses in no row are not bogons. Multicast (224.0.0.0/4, ff00::/8) is in neither registry and
 * is a normal destination, so it is not a bogon here.
 */

export interface SpecialPurposeRow {
  readonly network: string;
  readonly name: string;
  readonly rfc: string;
  readonly reachable: boolean | null;
}

export const IPV4_SPECIAL_PURPOSE: readonly SpecialPurposeRow[] = [
  { network: '0.0.0.0/8', name: '"This network"', rfc: 'RFC 791 section 3.2', reachable: false },
  {
    network: '0.0.0.0/32',
    name: '"This host on this network"',
    rfc: 'RFC 1122 section 3.2.1.3',
    reachable: false,
  },
  { network: '10.0.0.0/8', name: 'Private-Use', rfc: 'RFC 1918', reachable: false },
  { network: '100.64.0.0/10', name: 'Shared Address Space', rfc: 'RFC 6598', reachable: false },
  { network: '127.0.0.0/8', name: 'Loopback', rfc: 'RFC 1122 section 3.2.1.3', reachable: false },
  { network: '169.254.0.0/16', name: 'Link Local', rfc: 'RFC 3927', reachable: false },
  { network: '172.16.0.0/12', name: 'Private-Use', rfc: 'RFC 1918', reachable: false },
  {
    network: '192.0.0.0/24',
    name: 'IETF Protocol Assignments',
    rfc: 'RFC 6890 section 2.1',
    reachable: false,
  },
  { network: '192.0.0.0/29', name: 'IPv4 Service Continuity Prefix', rfc: 'RFC 7335', reachable: false },
  { network: '192.0.0.8/32', name: 'IPv4 dummy address', rfc: 'RFC 7600', reachable: false },
  { network: '192.0.0.9/32', name: 'Port Control Protocol Anycast', rfc: 'RFC 7723', reachable: true },
  {
    network: '192.0.0.10/32',
    name: 'Traversal Using Relays around NAT Anycast',
    rfc: 'RFC 8155',
    reachable: true,
  },
  // One registry row lists both /32s.
  { network: '192.0.0.170/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880, RFC 7050', reachable: false },
  { network: '192.0.0.171/32', name: 'NAT64/DNS64 Discovery', rfc: 'RFC 8880, RFC 7050', reachable: false },
  { network: '192.0.2.0/24', name: 'Documentation (TEST-NET-1)', rfc: 'RFC 5737', reachable: false },
  { network: '192.31.196.0/24', name: 'AS112-v4', rfc: 'RFC 7535', reachable: true },
  { network: '192.52.193.0/24', name: 'AMT', rfc: 'RFC 7450', reachable: true },
  // Terminated 2015-03: every flag cell is empty.
  { network: '192.88.99.0/24', name: 'Deprecated (6to4 Relay Anycast)', rfc: 'RFC 7526', reachable: null },
  { network: '192.88.99.2/32', name: '6a44-relay anycast address', rfc: 'RFC 6751', reachable: false },
  { network: '192.168.0.0/16', name: 'Private-Use', rfc: 'RFC 1918', reachable: false },
  { network: '192.175.48.0/24', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534', reachable: true },
  { network: '198.18.0.0/15', name: 'Benchmarking', rfc: 'RFC 2544', reachable: false },
  { network: '198.51.100.0/24', name: 'Documentation (TEST-NET-2)', rfc: 'RFC 5737', reachable: false },
  { network: '203.0.113.0/24', name: 'Documentation (TEST-NET-3)', rfc: 'RFC 5737', reachable: false },
  { network: '240.0.0.0/4', name: 'Reserved', rfc: 'RFC 1112 section 4', reachable: false },
  {
    network: '255.255.255.255/32',
    name: 'Limited Broadcast',
    rfc: 'RFC 8190, RFC 919 section 7',
    reachable: false,
  },
];

export const IPV6_SPECIAL_PURPOSE: readonly SpecialPurposeRow[] = [
  { network: '::1/128', name: 'Loopback Address', rfc: 'RFC 4291', reachable: false },
  { network: '::/128', name: 'Unspecified Address', rfc: 'RFC 4291', reachable: false },
  { network: '::ffff:0:0/96', name: 'IPv4-mapped Address', rfc: 'RFC 4291', reachable: false },
  { network: '64:ff9b::/96', name: 'IPv4-IPv6 Translat.', rfc: 'RFC 6052', reachable: true },
  { network: '64:ff9b:1::/48', name: 'IPv4-IPv6 Translat.', rfc: 'RFC 8215', reachable: false },
  { network: '100::/64', name: 'Discard-Only Address Block', rfc: 'RFC 6666', reachable: false },
  { network: '100:0:0:1::/64', name: 'Dummy IPv6 Prefix', rfc: 'RFC 9780', reachable: false },
  { network: '2001::/23', name: 'IETF Protocol Assignments', rfc: 'RFC 2928', reachable: false },
  { network: '2001::/32', name: 'TEREDO', rfc: 'RFC 4380, RFC 8190', reachable: null },
  { network: '2001:1::1/128', name: 'Port Control Protocol Anycast', rfc: 'RFC 7723', reachable: true },
  {
    network: '2001:1::2/128',
    name: 'Traversal Using Relays around NAT Anycast',
    rfc: 'RFC 8155',
    reachable: true,
  },
  {
    network: '2001:1::3/128',
    name: 'DNS-SD Service Registration Protocol Anycast',
    rfc: 'RFC 9665',
    reachable: true,
  },
  { network: '2001:2::/48', name: 'Benchmarking', rfc: 'RFC 5180, RFC Errata 1752', reachable: false },
  { network: '2001:3::/32', name: 'AMT', rfc: 'RFC 7450', reachable: true },
  { network: '2001:4:112::/48', name: 'AS112-v6', rfc: 'RFC 7535', reachable: true },
  // Terminated 2014-03: every flag cell is empty.
  { network: '2001:10::/28', name: 'Deprecated (previously ORCHID)', rfc: 'RFC 4843', reachable: null },
  { network: '2001:20::/28', name: 'ORCHIDv2', rfc: 'RFC 7343', reachable: true },
  {
    network: '2001:30::/28',
    name: 'Drone Remote ID Protocol Entity Tags (DETs) Prefix',
    rfc: 'RFC 9374',
    reachable: true,
  },
  { network: '2001:db8::/32', name: 'Documentation', rfc: 'RFC 3849', reachable: false },
  { network: '2002::/16', name: '6to4', rfc: 'RFC 3056', reachable: null },
  { network: '2620:4f:8000::/48', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534', reachable: true },
  { network: '3fff::/20', name: 'Documentation', rfc: 'RFC 9637', reachable: false },
  { network: '5f00::/16', name: 'Segment Routing (SRv6) SIDs', rfc: 'RFC 9602', reachable: false },
  { network: 'fc00::/7', name: 'Unique-Local', rfc: 'RFC 4193, RFC 8190', reachable: false },
  { network: 'fe80::/10', name: 'Link-Local Unicast', rfc: 'RFC 4291', reachable: false },
];

/**
 * The rows as longest-prefix entries for PrefixSet.fromEntries. ::ffff:0:0/96 is left out: a mapped
 * address is looked up as the IPv4 address it carries (prefix-set.ts), so that row would otherwise
 * read as 0.0.0.0/0 and make every IPv4 address a bogon.
 */
export function bogonEntries(): { network: string; member: boolean }[] {
  return [...IPV4_SPECIAL_PURPOSE, ...IPV6_SPECIAL_PURPOSE]
    .filter((row) => row.network !== '::ffff:0:0/96')
    .map((row) => ({ network: row.network, member: row.reachable !== true }));
}
