import { ipv4At, ipv6At, normalizeExporterAddress } from '../../record/address.js';
import { FlowRecord } from '../../record/flow-record.js';
import { finalizeRecord } from '../../record/normalize.js';
import type { Datagram } from '../datagram.js';
import type { DecoderSettings, ExporterDecodeSettings } from '../settings.js';
import type { DecodeSink } from '../sink.js';
import {
  COUNTER_GENERIC_INTERFACE,
  decodeGenericInterfaceCounters,
  GENERIC_INTERFACE_LENGTH,
} from './counter-records.js';
import { decodeFlowRecord, flowRecordName } from './flow-records.js';
import { dropStatus, setInputInterface, setOutputInterface } from './interfaces.js';
import { u32 } from './xdr.js';

/**
 * sFlow v5 (sflow_version_5.txt; discarded packets: sflow_drops.txt). One datagram holds samples
 * of several kinds; each flow sample (or discarded packet sample) becomes one FlowRecord for
 * the one sampled packet, each generic interface counter record one InterfaceCounters.
 *
 * The exporter is the agent address inside the datagram, not the UDP source: agents often send
 * from another address (management VRF, a collector relay, NAT), and the agent address is what
 * identifies the device and its ifIndexes.
 */

const SAMPLE_FLOW = 1;
const SAMPLE_COUNTERS = 2;
const SAMPLE_FLOW_EXPANDED = 3;
const SAMPLE_COUNTERS_EXPANDED = 4;
const SAMPLE_DISCARD = 5;

const SAMPLE_NAMES = ['', 'flow', 'counter', 'expanded flow', 'expanded counter', 'discarded packet'];

/** What every sample of one datagram shares. */
class DatagramContext {
  constructor(
    readonly agent: string,
    readonly subAgentId: number,
    readonly uptime: number,
    readonly receivedAtMs: number,
    readonly exporter: ExporterDecodeSettings,
    readonly maxRecords: number,
    readonly sink: DecodeSink,
  ) {}
}

export function decodeSflow(d: Datagram, settings: DecoderSettings, sink: DecodeSink): void {
  const buf = d.payload;
  const len = buf.length;
  if (len < 8) {
    sink.error(d.srcAddress, 'truncated', `sFlow datagram of ${len} bytes from ${d.srcAddress}: too short`);
    return;
  }
  const version = u32(buf, 0);
  if (version !== 5) {
    sink.error(
      d.srcAddress,
      'unknown_version',
      `sFlow version ${version} from ${d.srcAddress}: only 5 is decoded`,
    );
    return;
  }
  const addressType = u32(buf, 4);
  let agent: string;
  let off: number;
  if (addressType === 1 && len >= 12) {
    agent = ipv4At(buf, 8);
    off = 12;
  } else if (addressType === 2 && len >= 24) {
    agent = normalizeExporterAddress(ipv6At(buf, 8));
    off = 24;
  } else if (addressType === 0) {
    // "unknown" agent address (allowed by the spec): the UDP source is the best we have.
    agent = d.srcAddress;
    off = 8;
  } else {
    if (addressType === 1 || addressType === 2) {
      sink.error(
        d.srcAddress,
        'truncated',
        `sFlow datagram of ${len} bytes from ${d.srcAddress}: cut short in the agent address`,
      );
    } else {
      sink.error(
        d.srcAddress,
        'record_invalid',
        `sFlow datagram from ${d.srcAddress}: unknown agent address type ${addressType}`,
      );
    }
    return;
  }
  if (off + 16 > len) {
    sink.error(agent, 'truncated', `sFlow datagram from agent ${agent}: header cut short at ${len} bytes`);
    return;
  }
  const subAgentId = u32(buf, off);
  const sequence = u32(buf, off + 4);
  const uptime = u32(buf, off + 8);
  const sampleCount = u32(buf, off + 12);
  off += 16;
  // sFlow v5 headers carry the agent's uptime, never its wall clock: no export time.
  sink.datagram(agent, 'sflow5', len, null);
  sink.sequence(agent, `sflow:${subAgentId}`, sequence, 1);

  const limits = settings.limits;
  if (sampleCount > limits.maxSflowSamplesPerDatagram) {
    sink.error(
      agent,
      'too_many_records',
      `sFlow datagram ${sequence} from agent ${agent}: ${sampleCount} samples, more than the limit of ${limits.maxSflowSamplesPerDatagram}: datagram skipped`,
    );
    return;
  }
  const ctx = new DatagramContext(
    agent,
    subAgentId,
    uptime,
    d.receivedAtMs,
    settings.exporterSettings(agent),
    limits.maxSflowRecordsPerSample,
    sink,
  );

  for (let i = 0; i < sampleCount; i++) {
    if (off + 8 > len) {
      sink.error(
        agent,
        'truncated',
        `sFlow datagram ${sequence} from agent ${agent}: ends after ${i} of ${sampleCount} samples`,
      );
      return;
    }
    const dataFormat = u32(buf, off);
    const sampleLength = u32(buf, off + 4);
    off += 8;
    if (sampleLength > len - off) {
      sink.error(
        agent,
        'bad_length',
        `sFlow datagram ${sequence} from agent ${agent}: sample ${i + 1} claims ${sampleLength} bytes, ${len - off} left: rest of datagram skipped`,
      );
      return;
    }
    const end = off + sampleLength;
    // enterprise (top 20 bits) 0 = standard sFlow; vendor samples are skipped by length.
    if (dataFormat >>> 12 === 0) {
      const format = dataFormat & 0xfff;
      if (isFlowSample(format)) {
        decodeFlowSample(buf, off, end, format, ctx);
      } else if (format === SAMPLE_COUNTERS || format === SAMPLE_COUNTERS_EXPANDED) {
        decodeCounterSample(buf, off, end, format, ctx);
      }
    }
    off = end;
  }
}

function sampleTruncated(ctx: DatagramContext, format: number, length: number): void {
  ctx.sink.error(
    ctx.agent,
    'truncated',
    `sFlow ${SAMPLE_NAMES[format]} sample from agent ${ctx.agent}: ${length} bytes is shorter than its header: sample skipped`,
  );
}

function tooManyRecords(ctx: DatagramContext, format: number, sequence: number, count: number): void {
  ctx.sink.error(
    ctx.agent,
    'too_many_records',
    `sFlow ${SAMPLE_NAMES[format]} sample ${sequence} from agent ${ctx.agent}: ${count} records, more than the limit of ${ctx.maxRecords}: sample skipped`,
  );
}

/**
 * Length of the flow/counter record whose 8-byte header (data_format, length) is at `off`, or -1
 * (reported) when the header or the data does not fit in the sample: the rest of the sample is
 * then skipped, since nothing after a bad length can be trusted.
 */
function recordLengthAt(
  buf: Uint8Array,
  off: number,
  end: number,
  ctx: DatagramContext,
  format: number,
  sequence: number,
  index: number,
  count: number,
): number {
  if (off + 8 > end) {
    ctx.sink.error(
      ctx.agent,
      'truncated',
      `${sampleWhere(ctx, format, sequence)}: ends after ${index} of ${count} records`,
    );
    return -1;
  }
  const recordFormat = u32(buf, off);
  const length = u32(buf, off + 4);
  if (length > end - off - 8) {
    const name = isFlowSample(format) ? flowRecordName(recordFormat) : `counter record ${recordFormat}`;
    ctx.sink.error(
      ctx.agent,
      'bad_length',
      `${sampleWhere(ctx, format, sequence)}: ${name} claims ${length} bytes, ${end - off - 8} left: rest of sample skipped`,
    );
    return -1;
  }
  return length;
}

function sampleWhere(ctx: DatagramContext, format: number, sequence: number): string {
  return `sFlow ${SAMPLE_NAMES[format]} sample ${sequence} from agent ${ctx.agent}`;
}

function isFlowSample(format: number): boolean {
  return format === SAMPLE_FLOW || format === SAMPLE_FLOW_EXPANDED || format === SAMPLE_DISCARD;
}

/** Flow sample (1), expanded flow sample (3) and discarded packet sample (5): one FlowRecord. */
function decodeFlowSample(
  buf: Uint8Array,
  off: number,
  end: number,
  format: number,
  ctx: DatagramContext,
): void {
  const rec = new FlowRecord();
  let sequence: number;
  let samplingRate = 0;
  let recordCount: number;
  if (format === SAMPLE_FLOW) {
    if (off + 32 > end) {
      sampleTruncated(ctx, format, end - off);
      return;
    }
    sequence = u32(buf, off);
    samplingRate = u32(buf, off + 8);
    const input = u32(buf, off + 20);
    const output = u32(buf, off + 24);
    setInputInterface(rec, input >>> 30, input & 0x3fffffff);
    setOutputInterface(rec, output >>> 30, output & 0x3fffffff);
    recordCount = u32(buf, off + 28);
    off += 32;
  } else if (format === SAMPLE_FLOW_EXPANDED) {
    if (off + 44 > end) {
      sampleTruncated(ctx, format, end - off);
      return;
    }
    sequence = u32(buf, off);
    samplingRate = u32(buf, off + 12);
    setInputInterface(rec, u32(buf, off + 24), u32(buf, off + 28));
    setOutputInterface(rec, u32(buf, off + 32), u32(buf, off + 36));
    recordCount = u32(buf, off + 40);
    off += 44;
  } else {
    // sflow_drops.txt: plain ifIndexes (0 = unknown) and a drop reason; no sampling rate, since
    // discards are rate-limited notifications, not 1-in-N samples.
    if (off + 32 > end) {
      sampleTruncated(ctx, format, end - off);
      return;
    }
    sequence = u32(buf, off);
    setInputInterface(rec, 0, u32(buf, off + 16));
    setOutputInterface(rec, 0, u32(buf, off + 20));
    rec.forwardingstatus = dropStatus(u32(buf, off + 24));
    recordCount = u32(buf, off + 28);
    off += 32;
  }
  if (recordCount > ctx.maxRecords) {
    tooManyRecords(ctx, format, sequence, recordCount);
    return;
  }

  for (let r = 0; r < recordCount; r++) {
    const recordLength = recordLengthAt(buf, off, end, ctx, format, sequence, r, recordCount);
    if (recordLength < 0) break;
    const recordFormat = u32(buf, off);
    off += 8;
    if (recordFormat >>> 12 === 0 && !decodeFlowRecord(buf, off, off + recordLength, recordFormat, rec)) {
      ctx.sink.error(
        ctx.agent,
        'bad_length',
        `sFlow ${SAMPLE_NAMES[format]} sample ${sequence} from agent ${ctx.agent}: ${flowRecordName(recordFormat)} record of ${recordLength} bytes is malformed: partly decoded`,
      );
    }
    off += recordLength;
  }

  rec.flowtype = 'sflow';
  rec.flowversion = 5;
  rec.flowsrcip = ctx.agent;
  rec.timestamp = Math.floor(ctx.receivedAtMs / 1000);
  // A sample is one packet seen at one instant.
  rec.start = ctx.receivedAtMs;
  rec.end = ctx.receivedAtMs;
  rec.uptime = ctx.uptime;
  rec.packets = 1;
  if (format !== SAMPLE_DISCARD) {
    const exporter = ctx.exporter;
    let rate: number | null = exporter.sampleRateOverride ?? (samplingRate !== 0 ? samplingRate : null);
    if (rate === null) {
      rate = exporter.defaultSampleRate;
      ctx.sink.samplingUnknown(ctx.agent, 1);
    }
    rec.samplerate = rate;
  }
  finalizeRecord(rec);
  ctx.sink.record(rec);
}

/** Counter sample (2) and expanded counter sample (4): generic interface counters to the sink. */
function decodeCounterSample(
  buf: Uint8Array,
  off: number,
  end: number,
  format: number,
  ctx: DatagramContext,
): void {
  const headerLength = format === SAMPLE_COUNTERS ? 12 : 16;
  if (off + headerLength > end) {
    sampleTruncated(ctx, format, end - off);
    return;
  }
  const sequence = u32(buf, off);
  const recordCount = u32(buf, off + headerLength - 4);
  off += headerLength;
  if (recordCount > ctx.maxRecords) {
    tooManyRecords(ctx, format, sequence, recordCount);
    return;
  }
  for (let r = 0; r < recordCount; r++) {
    const recordLength = recordLengthAt(buf, off, end, ctx, format, sequence, r, recordCount);
    if (recordLength < 0) return;
    const recordFormat = u32(buf, off);
    off += 8;
    if (recordFormat === COUNTER_GENERIC_INTERFACE) {
      if (recordLength < GENERIC_INTERFACE_LENGTH) {
        ctx.sink.error(
          ctx.agent,
          'bad_length',
          `sFlow ${SAMPLE_NAMES[format]} sample ${sequence} from agent ${ctx.agent}: generic interface counters of ${recordLength} bytes, ${GENERIC_INTERFACE_LENGTH} expected: record skipped`,
        );
      } else {
        ctx.sink.counters(
          decodeGenericInterfaceCounters(buf, off, ctx.agent, ctx.subAgentId, sequence, ctx.receivedAtMs),
        );
      }
    }
    off += recordLength;
  }
}
