import type { SyntheticFlow } from '../synthetic-flow.js';
import { type FlowTemplates, writeDataSets } from './flow-fields.js';

/**
 * When a NetFlow v9 / IPFIX-over-UDP exporter re-sends its templates and options data: UDP may
 * lose them and a collector that starts late has none, so RFC 3954 section 9 and RFC 7011 section
 * 8.4 ask for periodic resending, by time and by packet count (IOS defaults: 30 min / 20 packets;
 * the demo uses shorter ones so a collector started after the exporters decodes within seconds).
 */
export class TemplateRefresh {
  private lastMs: number | null = null;
  private packetsSince = 0;

  constructor(
    private readonly everyMs: number,
    private readonly everyPackets: number,
  ) {}

  /** Whether the next datagram must carry the templates; counts it as sent when it does. */
  due(nowMs: number): boolean {
    if (
      this.lastMs === null ||
      nowMs - this.lastMs >= this.everyMs ||
      this.packetsSince >= this.everyPackets
    ) {
      this.lastMs = nowMs;
      this.packetsSince = 0;
      return true;
    }
    return false;
  }

  /** A datagram without templates went out. */
  sent(): void {
    this.packetsSince++;
  }
}

/** What differs between NetFlow v9 and IPFIX around the shared datagram loop. */
export interface TemplateDatagramWriter {
  readonly headerLength: number;
  readonly templates: FlowTemplates;
  /** Exporter boot time for uptime-relative times (unused by absolute-time templates). */
  readonly bootMs: number;
  /** Template, options template and options data sets at `off`; returns the offset after them. */
  writeTemplates(buf: Buffer, off: number): number;
  /** The header, once the datagram's length and its records are known. */
  writeHeader(buf: Buffer, length: number, withTemplates: boolean, dataRecords: number, nowMs: number): void;
}

/**
 * Datagrams of at most `maxBytes` for `flows`: templates first when `refresh` says so, then data
 * sets. Empty when there are no flows and no templates due (never a datagram with nothing in it).
 */
export function encodeTemplateDatagrams(
  flows: readonly SyntheticFlow[],
  nowMs: number,
  maxBytes: number,
  refresh: TemplateRefresh,
  w: TemplateDatagramWriter,
): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < flows.length || out.length === 0) {
    const withTemplates = refresh.due(nowMs);
    if (!withTemplates && flows.length === 0) break;
    if (!withTemplates) refresh.sent();
    const buf = Buffer.alloc(maxBytes);
    let off = w.headerLength;
    if (withTemplates) off = w.writeTemplates(buf, off);
    const data = writeDataSets(buf, off, maxBytes, flows, i, w.templates, w.bootMs);
    i = data.next;
    w.writeHeader(buf, data.off, withTemplates, data.records, nowMs);
    out.push(buf.subarray(0, data.off));
  }
  return out;
}
