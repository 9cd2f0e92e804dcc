import type { SyntheticFlow } from '../synthetic-flow.js';
import {
  closeSet,
  F,
  type FieldSpec,
  type FlowTemplates,
  flowTemplate,
  writeTemplateRecord,
} from './flow-fields.js';
import {
  encodeTemplateDatagrams,
  type TemplateDatagramWriter,
  TemplateRefresh,
} from './template-datagrams.js';

/** RFC 7011 section 3.1. */
const HEADER_LENGTH = 16;
const SET_TEMPLATE = 2;
const SET_OPTIONS_TEMPLATE = 3;
const TEMPLATE_V4 = 256;
const TEMPLATE_V6 = 257;
const TEMPLATE_OPTIONS = 258;

const TEMPLATES: FlowTemplates = {
  idV4: TEMPLATE_V4,
  v4: flowTemplate(4, 8, 2, [
    [F.START_MS, 8],
    [F.END_MS, 8],
  ]),
  idV6: TEMPLATE_V6,
  v6: flowTemplate(6, 8, 2, [
    [F.START_MS, 8],
    [F.END_MS, 8],
  ]),
};

/**
 * PSAMP selector report (RFC 5476 section 6.5.1, RFC 5477): scoped by selectorId, systematic
 * count-based sampling (selectorAlgorithm 1) of samplingPacketInterval packets selected then
 * samplingPacketSpace skipped, i.e. 1 in interval + space.
 */
const OPTIONS_FIELDS: readonly FieldSpec[] = [
  [F.SELECTOR_ID, 4],
  [F.SELECTOR_ALGORITHM, 1],
  [F.SAMPLING_PACKET_INTERVAL, 4],
  [F.SAMPLING_PACKET_SPACE, 4],
];
const SELECTOR_ID = 1;
const SYSTEMATIC_COUNT_BASED = 1;

export interface IpfixEncoderOptions {
  observationDomainId: number;
  /** 1-in-N packet sampling announced in options data (1 = unsampled). */
  samplingInterval: number;
  maxDatagramBytes?: number;
  templateRefreshMs?: number;
  templateRefreshPackets?: number;
}

/**
 * Turns synthetic flows into IPFIX messages over UDP (RFC 7011): templates for IPv4 and IPv6
 * flows with absolute millisecond times (152/153) and a PSAMP options template with its data, at
 * the start and re-sent periodically (section 8.4). The sequence number counts data records,
 * options data included (section 3.1).
 */
export class IpfixEncoder implements TemplateDatagramWriter {
  readonly headerLength = HEADER_LENGTH;
  readonly templates = TEMPLATES;
  /** Times are absolute (152/153): no uptime. */
  readonly bootMs = 0;
  private sequence = 0;
  private readonly maxBytes: number;
  private readonly refresh: TemplateRefresh;

  constructor(private readonly opts: IpfixEncoderOptions) {
    this.maxBytes = opts.maxDatagramBytes ?? 1400;
    this.refresh = new TemplateRefresh(opts.templateRefreshMs ?? 10_000, opts.templateRefreshPackets ?? 100);
  }

  /** Data records sent so far (the next sequence number). */
  get recordsSent(): number {
    return this.sequence;
  }

  /** Messages (one per datagram) for `flows` exported at `nowMs`; empty when there is nothing to send. */
  encode(flows: readonly SyntheticFlow[], nowMs: number): Buffer[] {
    return encodeTemplateDatagrams(flows, nowMs, this.maxBytes, this.refresh, this);
  }

  /** RFC 7011 section 3.1: the sequence number counts data records, options data included. */
  writeHeader(buf: Buffer, length: number, withTemplates: boolean, dataRecords: number, nowMs: number): void {
    buf.writeUInt16BE(10, 0);
    buf.writeUInt16BE(length, 2);
    buf.writeUInt32BE(Math.floor(nowMs / 1000) >>> 0, 4);
    buf.writeUInt32BE(this.sequence >>> 0, 8);
    buf.writeUInt32BE(this.opts.observationDomainId >>> 0, 12);
    this.sequence = (this.sequence + dataRecords + (withTemplates ? 1 : 0)) >>> 0;
  }

  /** Template set (IPv4, IPv6), options template set, options data set (one data record). */
  writeTemplates(buf: Buffer, off: number): number {
    let start = off;
    buf.writeUInt16BE(SET_TEMPLATE, off);
    off = writeTemplateRecord(buf, off + 4, TEMPLATE_V4, TEMPLATES.v4);
    off = writeTemplateRecord(buf, off, TEMPLATE_V6, TEMPLATES.v6);
    off = closeSet(buf, start, off);

    start = off;
    buf.writeUInt16BE(SET_OPTIONS_TEMPLATE, off);
    buf.writeUInt16BE(TEMPLATE_OPTIONS, off + 4);
    buf.writeUInt16BE(OPTIONS_FIELDS.length, off + 6);
    buf.writeUInt16BE(1, off + 8); // scope field count: selectorId
    off += 10;
    for (const [id, len] of OPTIONS_FIELDS) {
      buf.writeUInt16BE(id, off);
      buf.writeUInt16BE(len, off + 2);
      off += 4;
    }
    off = closeSet(buf, start, off);

    start = off;
    buf.writeUInt16BE(TEMPLATE_OPTIONS, off);
    buf.writeUInt32BE(SELECTOR_ID, off + 4);
    buf[off + 8] = SYSTEMATIC_COUNT_BASED;
    buf.writeUInt32BE(1, off + 9);
    buf.writeUInt32BE(Math.max(0, this.opts.samplingInterval - 1), off + 13);
    return closeSet(buf, start, off + 17);
  }
}
