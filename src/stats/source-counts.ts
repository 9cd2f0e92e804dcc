/**
 * Counts per source address that spoofed floods cannot grow: once `max` sources are listed, the
 * others are summed under "other" (refused by the allow-list, over the rate limit, ...).
 */
/** Key of the bucket sources (and exporters) beyond a table's bound are counted in. */
export const OTHER_EXPORTERS = 'other';

export function countPerSource(counts: Map<string, number>, source: string, n: number, max: number): void {
  const key = counts.has(source) || counts.size < max ? source : OTHER_EXPORTERS;
  counts.set(key, (counts.get(key) ?? 0) + n);
}
