/**
 * IE 89 forwardingStatus (RFC 7270 section 4.12, IANA "Forwarding Status" registry): the two high
 * bits of the octet are the status (0 unknown, 1 forwarded, 2 dropped, 3 consumed), the low six
 * the reason code. Precomputed for all 256 octets so decoding allocates nothing.
 */

const STATUS = ['unknown', 'forwarded', 'dropped', 'consumed'] as const;

/** Reason codes by full octet value, IANA names in lower case. */
const REASONS: ReadonlyMap<number, string> = new Map([
  [65, 'fragmented'],
  [66, 'not fragmented'],
  [129, 'acl deny'],
  [130, 'acl drop'],
  [131, 'unroutable'],
  [132, 'adjacency'],
  [133, 'fragmentation and df set'],
  [134, 'bad header checksum'],
  [135, 'bad total length'],
  [136, 'bad header length'],
  [137, 'bad ttl'],
  [138, 'policer'],
  [139, 'wred'],
  [140, 'rpf'],
  [141, 'for us'],
  [142, 'bad output interface'],
  [143, 'hardware'],
  [193, 'terminate punt adjacency'],
  [194, 'terminate incomplete adjacency'],
  [195, 'terminate for us'],
]);

const NAMES: readonly string[] = Array.from({ length: 256 }, (_, v) => {
  const status = STATUS[v >>> 6];
  const reason = REASONS.get(v);
  // An unregistered reason code still says the status; the code is kept so it can be looked up.
  if (reason !== undefined) return `${status}: ${reason}`;
  if ((v & 0x3f) === 0) return status;
  return `${status}: reason ${v & 0x3f}`;
});

/**
 * `value` is the element as an integer. RFC 7270 made it unsigned32: reduced-size encoding keeps
 * the low-order octet, so a 4-byte 0x00000081 and a 1-byte 0x81 (Cisco v9) are both "dropped:
 * acl deny".
 */
export function forwardingStatusName(value: number): string {
  return NAMES[value & 0xff];
}
