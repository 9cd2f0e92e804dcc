import type { SyntheticFlow } from '../synthetic-flow.js';
import { closeSet, F, type FlowTemplates, flowTemplate, writeTemplateRecord } from './flow-fields.js';
import {
  encodeTemplateDatagrams,
  type TemplateDatagramWriter,
  TemplateRefresh,
} from './template-datagrams.js';

/** RFC 3954 section 5.1. */
const HEADER_LENGTH = 20;
const TEMPLATE_V4 = 256;
const TEMPLATE_V6 = 257;
const TEMPLATE_OPTIONS = 258;
/** Two templates, the options template and its data record. */
const TEMPLATE_RECORDS = 4;

const TEMPLATES: FlowTemplates = {
  idV4: TEMPLATE_V4,
  v4: flowTemplate(4, 4, 1, [
    [F.FIRST_SWITCHED, 4],
    [F.LAST_SWITCHED, 4],
  ]),
  idV6: TEMPLATE_V6,
  v6: flowTemplate(6, 4, 1, [
    [F.FIRST_SWITCHED, 4],
    [F.LAST_SWITCHED, 4],
  ]),
};

/** RFC 3954 section 6.1 scope type 1 = System; the options are IOS's sampler options. */
const SCOPE_SYSTEM = 1;
/** 1 = deterministic, 2 = random sampling (RFC 3954 section 8, SAMPLING_ALGORITHM). */
const ALGORITHM_RANDOM = 2;

export interface Netflow9EncoderOptions {
  /** Source id of the header (the v9 observation domain). */
  sourceId: number;
  /** 1-in-N packet sampling announced in options data (1 = unsampled). */
  samplingInterval: number;
  /** The exporter's boot time, Unix ms: sysUptime and FIRST/LAST_SWITCHED count from it. */
  bootMs: number;
  maxDatagramBytes?: number;
  templateRefreshMs?: number;
  templateRefreshPackets?: number;
}

/**
 * Turns synthetic flows into NetFlow v9 export packets (RFC 3954): templates for IPv4 and IPv6
 * flows plus an options template and options data with the sampling interval, at the start and
 * re-sent periodically; one export packet sequence number per datagram (section 5.1).
 */
export class Netflow9Encoder implements TemplateDatagramWriter {
  readonly headerLength = HEADER_LENGTH;
  readonly templates = TEMPLATES;
  readonly bootMs: number;
  private sequence = 0;
  private readonly maxBytes: number;
  private readonly refresh: TemplateRefresh;

  constructor(private readonly opts: Netflow9EncoderOptions) {
    this.maxBytes = opts.maxDatagramBytes ?? 1400;
    this.bootMs = opts.bootMs;
    this.refresh = new TemplateRefresh(opts.templateRefreshMs ?? 10_000, opts.templateRefreshPackets ?? 100);
  }

  /** Export packets sent so far (the next sequence number). */
  get packetsSent(): number {
    return this.sequence;
  }

  /** Datagrams for `flows` exported at `nowMs`; empty when there is nothing to send. */
  encode(flows: readonly SyntheticFlow[], nowMs: number): Buffer[] {
    return encodeTemplateDatagrams(flows, nowMs, this.maxBytes, this.refresh, this);
  }

  /** RFC 3954 section 5.1: count is every record of the packet, templates and options included. */
  writeHeader(
    buf: Buffer,
    _length: number,
    withTemplates: boolean,
    dataRecords: number,
    nowMs: number,
  ): void {
    const count = dataRecords + (withTemplates ? TEMPLATE_RECORDS : 0);
    const unixSecs = Math.floor(nowMs / 1000);
    buf.writeUInt16BE(9, 0);
    buf.writeUInt16BE(count, 2);
    // sysUptime from the same clock as unix_secs, so unix_secs - sysUptime is the boot time exactly.
    buf.writeUInt32BE((unixSecs * 1000 - this.opts.bootMs) >>> 0, 4);
    buf.writeUInt32BE(unixSecs >>> 0, 8);
    buf.writeUInt32BE(this.sequence >>> 0, 12);
    buf.writeUInt32BE(this.opts.sourceId >>> 0, 16);
    this.sequence = (this.sequence + 1) >>> 0;
  }

  /** Template flowset (IPv4, IPv6), options template flowset, options data: 4 records. */
  writeTemplates(buf: Buffer, off: number): number {
    let start = off;
    buf.writeUInt16BE(0, off);
    off = writeTemplateRecord(buf, off + 4, TEMPLATE_V4, TEMPLATES.v4);
    off = writeTemplateRecord(buf, off, TEMPLATE_V6, TEMPLATES.v6);
    off = closeSet(buf, start, off);

    start = off;
    buf.writeUInt16BE(1, off);
    buf.writeUInt16BE(TEMPLATE_OPTIONS, off + 4);
    buf.writeUInt16BE(4, off + 6); // scope length in bytes
    buf.writeUInt16BE(8, off + 8); // option length in bytes
    buf.writeUInt16BE(SCOPE_SYSTEM, off + 10);
    buf.writeUInt16BE(4, off + 12);
    buf.writeUInt16BE(F.SAMPLING_INTERVAL, off + 14);
    buf.writeUInt16BE(4, off + 16);
    buf.writeUInt16BE(F.SAMPLING_ALGORITHM, off + 18);
    buf.writeUInt16BE(1, off + 20);
    off = closeSet(buf, start, off + 22);

    start = off;
    buf.writeUInt16BE(TEMPLATE_OPTIONS, off);
    buf.writeUInt32BE(0, off + 4); // system scope value
    buf.writeUInt32BE(this.opts.samplingInterval, off + 8);
    buf[off + 12] = ALGORITHM_RANDOM;
    return closeSet(buf, start, off + 13);
  }
}
