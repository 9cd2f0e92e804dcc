import type { FlowRecord } from '../../record/flow-record.js';
import { finalizeRecord } from '../../record/normalize.js';
import { PROTO_ICMP, PROTO_ICMPV6 } from '../../record/protocols.js';
import type { ExporterDecodeSettings } from '../settings.js';
import type { DecodeSink } from '../sink.js';
import { uptimeAgeMs } from '../uptime.js';
import type { MessageContext, RecordScratch, SamplingLookup } from './contract.js';

/**
 * Last step for each NetFlow v9 / IPFIX data record after the compiled reader: absolute times,
 * the sampling rate, then `finalizeRecord`. Times are never invented: with no time element at
 * all, start/end stay null.
 */
export function finishRecord(
  rec: FlowRecord,
  scratch: RecordScratch,
  ctx: MessageContext,
  sampling: SamplingLookup,
  exporterSettings: ExporterDecodeSettings,
  sink: DecodeSink,
): void {
  if (rec.start === null || rec.end === null) resolveTimes(rec, scratch, ctx);
  rec.samplerate = samplingRate(scratch, sampling, exporterSettings, ctx.exporter, sink);
  // PAN-OS templates carry ICMP_TYPE 32 in every record, 0 for TCP/UDP flows (elastic/beats
  // golden Netflow-9-Palo-Alto-PAN--OS-with-app--id: icmp_type_code_ipv4 0 on TCP): a type/code
  // only means something for ICMP and ICMPv6.
  const proto = rec.protocolint;
  if (proto !== null && proto !== PROTO_ICMP && proto !== PROTO_ICMPV6) {
    rec.icmptype = null;
    rec.icmpcode = null;
  }
  finalizeRecord(rec);
}

/**
 * Priority: absolute 150-157 (already in rec) > 21/22 against systemInitTimeMilliseconds 160 >
 * 21/22 against the v9 header sysUptime > 158/159 deltas; then 161/162 duration fills a missing
 * end (or start); then the observation time of event records.
 */
function resolveTimes(rec: FlowRecord, s: RecordScratch, ctx: MessageContext): void {
  const exportMs = ctx.exportTimeSec * 1000;
  if (s.startUptimeMs !== null || s.endUptimeMs !== null) {
    // A v9 record carrying 160 itself is as good as IPFIX; the exporter-wide 160 learnt from
    // options is only used for IPFIX, since v9 headers carry sysUptime in every packet.
    const init = s.systemInitTimeMs ?? (ctx.protocol === 'ipfix' ? ctx.systemInitTimeMs : null);
    if (init !== null) {
      if (rec.start === null && s.startUptimeMs !== null) rec.start = init + s.startUptimeMs;
      if (rec.end === null && s.endUptimeMs !== null) rec.end = init + s.endUptimeMs;
    } else if (ctx.sysUptimeMs !== null) {
      const up = ctx.sysUptimeMs;
      if (rec.start === null && s.startUptimeMs !== null)
        rec.start = exportMs - uptimeAgeMs(up, s.startUptimeMs);
      if (rec.end === null && s.endUptimeMs !== null) rec.end = exportMs - uptimeAgeMs(up, s.endUptimeMs);
    }
  }
  // RFC 7011 / IANA 158, 159: microseconds before the export time of the message.
  if (rec.start === null && s.startDeltaMicros !== null)
    rec.start = exportMs - Math.round(s.startDeltaMicros / 1000);
  if (rec.end === null && s.endDeltaMicros !== null) rec.end = exportMs - Math.round(s.endDeltaMicros / 1000);

  if (s.durationMs !== null) {
    if (rec.end === null && rec.start !== null) rec.end = rec.start + s.durationMs;
    else if (rec.start === null && rec.end !== null) rec.start = rec.end - s.durationMs;
  }

  // NSEL (Cisco ASA) and NEL records carry their event time in observationTimeMilliseconds 323:
  // a teardown with flowStartMilliseconds 152 ends then (logstash_nf9_cisco_asa_2_data.dat), an
  // event with no other time happened then.
  const obs = s.observationTimeMs;
  if (obs !== null) {
    if (rec.start === null && rec.end === null) {
      rec.start = obs;
      rec.end = obs;
    } else if (rec.end === null && rec.start !== null && obs >= rec.start) rec.end = obs;
    else if (rec.start === null && rec.end !== null && obs <= rec.end) rec.start = obs;
  }
}

/**
 * Override > what the record itself says > the exporter state for its sampler/selector >
 * the configured default (counted as unknown, also when that default is null). Never a silent 1.
 */
function samplingRate(
  s: RecordScratch,
  sampling: SamplingLookup,
  settings: ExporterDecodeSettings,
  exporter: string,
  sink: DecodeSink,
): number | null {
  if (settings.sampleRateOverride !== null) return settings.sampleRateOverride;
  let rate = recordSamplingRate(s);
  if (rate === null) rate = sampling(s.samplerId ?? s.selectorId ?? null);
  if (rate === null) {
    sink.samplingUnknown(exporter, 1);
    return settings.defaultSampleRate;
  }
  return rate;
}

/** The 1-in-N rate from sampling elements of one record (or an options record); 0 means unknown. */
export function recordSamplingRate(s: RecordScratch): number | null {
  const p = s.samplingProbability;
  // RFC 5476 samplingProbability (311): random sampling with probability p is 1 in 1/p.
  if (p !== null && p > 0 && p <= 1) return Math.round(1 / p);
  const interval = s.samplingInterval;
  // RFC 5477 305/306: `interval` packets selected, then `space` skipped.
  if (s.samplingSpace !== null && interval !== null && interval > 0) {
    return (interval + s.samplingSpace) / interval;
  }
  // RFC 5477 309/310: n-out-of-N.
  if (s.samplingSize !== null && s.samplingPopulation !== null && s.samplingSize > 0) {
    return s.samplingPopulation / s.samplingSize;
  }
  // 34 samplingInterval, 50 samplerRandomInterval: already 1-in-N.
  if (interval !== null && interval > 0) return interval;
  return null;
}
