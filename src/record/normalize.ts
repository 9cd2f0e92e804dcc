import type { FlowRecord } from './flow-record.js';
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP } from './protocols.js';

/**
 * Last step of every decoder for every record: fills what is derived from other fields, so that
 * all sources agree on the same conventions.
 * - ICMP type/code: NetFlow v5 and many v9/IPFIX exporters put `type << 8 | code` in the
 *   destination port (and 0 in the source port); that becomes icmptype/icmpcode and ports are null.
 * - tcpflags only mean something for TCP: null for other protocols.
 * - duration from start/end.
 */
export function finalizeRecord(rec: FlowRecord): void {
  const proto = rec.protocolint;
  if (proto === PROTO_ICMP || proto === PROTO_ICMPV6) {
    if (rec.icmptype === null && rec.dstport !== null) {
      rec.icmptype = rec.dstport >>> 8;
      rec.icmpcode = rec.dstport & 0xff;
    }
    rec.srcport = null;
    rec.dstport = null;
  }
  if (proto !== PROTO_TCP && proto !== null) rec.tcpflagsint = null;
  if (rec.start !== null && rec.end !== null) rec.duration = rec.end - rec.start;
  if (rec.ipversion === null && rec.srcip !== null) rec.ipversion = rec.srcip.includes(':') ? 6 : 4;
}
