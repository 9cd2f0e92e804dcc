/**
 * AS numbers that say nothing about who owns an address on the Internet, so a flow carrying one
 * may have its srcas/dstas filled from the AS database instead (see `PrivateAsPolicy`).
 */

/**
 * - RFC 7607: AS 0 is reserved; exporters use it for "unknown" (e.g. NetFlow v5 without BGP).
 * - RFC 6793: AS 23456 (AS_TRANS) stands in for a 4-byte AS on 2-byte-only sessions.
 * - RFC 5398: 64496–64511 and 65536–65551 are for documentation.
 * - RFC 6996: 64512–65534 and 4200000000–4294967294 are for private use.
 * - RFC 7300: 65535 and 4294967295 are the last ASNs of each range, reserved.
 */
export function isPrivateOrReservedAsn(asn: number): boolean {
  return (
    asn === 0 || asn === 23456 || (asn >= 64496 && asn <= 65551) || (asn >= 4200000000 && asn <= 4294967295)
  );
}

/**
 * When the database's owner AS replaces the flow's own srcas/dstas. A public AS the exporter
 * reported is never replaced, whatever the policy: the router's BGP view beats a database.
 * - `never`: srcas/dstas are left as exported; only the *owneras fields are filled.
 * - `unset` (default): replaced when the exporter sent none (null) or 0.
 * - `private`: also replaced when the exporter sent a private, documentation or reserved AS
 *   (`isPrivateOrReservedAsn`), as happens behind a private-AS BGP session or with AS_TRANS.
 */
export type PrivateAsPolicy = 'never' | 'unset' | 'private';

export const PRIVATE_AS_POLICIES: readonly PrivateAsPolicy[] = ['never', 'unset', 'private'];

/** Whether the flow's own AS should give way to the database's owner AS under `policy`. */
export function flowAsIsReplaceable(flowAs: number | null, policy: PrivateAsPolicy): boolean {
  if (policy === 'never') return false;
  if (flowAs === null || flowAs === 0) return true;
  return policy === 'private' && isPrivateOrReservedAsn(flowAs);
}
