import type { InterfaceCounters } from '../sink.js';
import { u32, u64 } from './xdr.js';

export const COUNTER_GENERIC_INTERFACE = 1;
/** Bytes of if_counters (sflow_version_5.txt, "Generic Interface Counters"). */
export const GENERIC_INTERFACE_LENGTH = 88;

/** Agents report a counter they do not have as all ones ("-1", host-sflow convention). */
function counter32(buf: Uint8Array, off: number): number | null {
  const v = u32(buf, off);
  return v === 0xffffffff ? null : v;
}

function counter64(buf: Uint8Array, off: number): number | null {
  if (u32(buf, off) === 0xffffffff && u32(buf, off + 4) === 0xffffffff) return null;
  return u64(buf, off);
}

/**
 * Generic interface counters (counter record 1) at `off`; the caller has checked that 88 bytes
 * are there. Returns the InterfaceCounters the sink keeps per agent.
 */
export function decodeGenericInterfaceCounters(
  buf: Uint8Array,
  off: number,
  agent: string,
  subAgentId: number,
  sequence: number,
  receivedAtMs: number,
): InterfaceCounters {
  const direction = u32(buf, off + 16);
  const status = u32(buf, off + 20);
  const promiscuous = u32(buf, off + 84);
  return {
    agent,
    subAgentId,
    sequence,
    receivedAtMs,
    ifIndex: u32(buf, off),
    ifType: counter32(buf, off + 4),
    ifSpeed: counter64(buf, off + 8),
    // ifDirection (MAU MIB, RFC 2668): 0 = unknown, 1 full duplex, 2 half, 3 in, 4 out.
    ifDirection: direction === 0 || direction === 0xffffffff ? null : direction,
    ifAdminUp: (status & 1) === 1,
    ifOperUp: (status & 2) === 2,
    ifInOctets: counter64(buf, off + 24),
    ifInUcastPkts: counter32(buf, off + 32),
    ifInMulticastPkts: counter32(buf, off + 36),
    ifInBroadcastPkts: counter32(buf, off + 40),
    ifInDiscards: counter32(buf, off + 44),
    ifInErrors: counter32(buf, off + 48),
    ifInUnknownProtos: counter32(buf, off + 52),
    ifOutOctets: counter64(buf, off + 56),
    ifOutUcastPkts: counter32(buf, off + 64),
    ifOutMulticastPkts: counter32(buf, off + 68),
    ifOutBroadcastPkts: counter32(buf, off + 72),
    ifOutDiscards: counter32(buf, off + 76),
    ifOutErrors: counter32(buf, off + 80),
    // SNMP TruthValue (1 = true, 2 = false); some agents send 0 for false.
    ifPromiscuousMode: promiscuous === 1 ? true : promiscuous === 2 || promiscuous === 0 ? false : null,
  };
}
