const U32 = 0x100000000;
const HALF_U32 = 0x80000000;

/**
 * How long (ms) before the header's sysUptime an exporter uptime stamp was taken: NetFlow v5
 * First/Last, v9 FIRST/LAST_SWITCHED. Both are u32 ms uptimes that wrap after 49.7 days: a stamp
 * more than 2^31 ms "after" sysUptime was taken before the wrap (nfdump and goflow2 treat it the
 * same way). A stamp a few ms after sysUptime is exporter clock jitter (the flow cache and the
 * export code read the clock apart), not a wrap: it stays a small negative age.
 */
export function uptimeAgeMs(sysUptimeMs: number, stampMs: number): number {
  const age = sysUptimeMs - stampMs;
  return age < -HALF_U32 ? age + U32 : age;
}
