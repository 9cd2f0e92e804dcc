/** Shared fixtures of the demo tests: hand-made flows covering every field, and sequence checks. */
import assert from 'node:assert/strict';
import type { SflowInterfaceCounters } from '../../src/demo/encode/sflow-encoder.js';
import type { SyntheticFlow } from '../../src/demo/synthetic-flow.js';
import type { CollectingSink } from '../helpers/collecting-sink.js';

export const NOW = Date.UTC(2026, 10, 23, 20, 0, 0, 250);

export function sampleFlows(n: number, nowMs = NOW): SyntheticFlow[] {
  const flows: SyntheticFlow[] = [];
  for (let i = 0; i < n; i++) {
    const v6 = i % 5 === 4;
    const tcp = i % 3 !== 2;
    flows.push({
      ipVersion: v6 ? 6 : 4,
      srcAddr: v6 ? `2001:db8:10::${(i % 200) + 1}` : `10.1.${i % 7}.${(i % 250) + 1}`,
      dstAddr: v6 ? `2001:db8:ffff:1::${(i % 9) + 1}` : `203.0.113.${(i % 100) + 1}`,
      srcPort: 40000 + i,
      dstPort: tcp ? 443 : 53,
      protocol: tcp ? 6 : 17,
      tcpFlags: tcp ? 0x1b : 0,
      tos: i % 2 === 0 ? 0 : 0x28,
      bytes: 1000 + i * 37,
      packets: 2 + (i % 11),
      startMs: nowMs - 30_000 + i,
      endMs: nowMs - 1000 + i,
      input: 10 + (i % 3),
      output: 2,
      srcMask: v6 ? 64 : 24,
      dstMask: v6 ? 48 : 24,
      nextHop: v6 ? '2001:db8:0:ff::1' : '192.0.2.254',
      vlan: 100 + (i % 4),
    });
  }
  return flows;
}

export function sampleCounters(ifIndex: number): SflowInterfaceCounters {
  return {
    ifIndex,
    ifType: 6,
    ifSpeed: 10_000_000_000,
    inOctets: 2 ** 40 + ifIndex,
    inUcastPkts: 1_000_000 + ifIndex,
    inMulticastPkts: 10,
    inBroadcastPkts: 20,
    inDiscards: 1,
    inErrors: 2,
    outOctets: 2 ** 35 + 7,
    outUcastPkts: 900_000,
    outMulticastPkts: 11,
    outBroadcastPkts: 21,
    outDiscards: 3,
    outErrors: 4,
  };
}

/** Sequence numbers of each stream continue exactly where the previous datagram's units end. */
export function assertNoSequenceGaps(sink: CollectingSink): void {
  const next = new Map<string, number>();
  for (const s of sink.sequences) {
    const key = `${s.exporter}|${s.stream}`;
    const expected = next.get(key);
    if (expected !== undefined) assert.equal(s.sequence, expected, `sequence gap in ${key}`);
    next.set(key, (s.sequence + s.units) >>> 0);
  }
}
