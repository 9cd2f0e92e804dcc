/** Shared by the detection engine's tests: a sink that keeps events, and records built from fields. */
import type { AlertEvent, AlertSink } from '../../src/detect/alert.js';
import { FlowRecord } from '../../src/record/flow-record.js';

/** Keeps every alert event. */
export class Events implements AlertSink {
  readonly name = 'test';
  readonly events: AlertEvent[] = [];
  handle(e: AlertEvent): void {
    this.events.push(e);
  }
  async close(): Promise<void> {}
  of(type: AlertEvent['type']): AlertEvent[] {
    return this.events.filter((e) => e.type === type);
  }
}

export function ip4(text: string): number {
  return text.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

/**
 * A record of `base` then `fields`, with what the decoders and enrichment would add: the numeric
 * IPv4 addresses, and 10.0.0.0/8 as the internal network (unless the fields say otherwise).
 */
export function flowRecord(base: Partial<FlowRecord>, fields: Partial<FlowRecord>): FlowRecord {
  const r = Object.assign(new FlowRecord(), base, fields);
  if (r.srcip !== null && !r.srcip.includes(':') && fields.srcip4 === undefined) r.srcip4 = ip4(r.srcip);
  if (r.dstip !== null && !r.dstip.includes(':') && fields.dstip4 === undefined) r.dstip4 = ip4(r.dstip);
  r.srcinternal ??= r.srcip?.startsWith('10.') ?? null;
  r.dstinternal ??= r.dstip?.startsWith('10.') ?? null;
  return r;
}
