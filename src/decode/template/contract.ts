/**
 * The seam between the two halves of NetFlow v9 / IPFIX decoding:
 * - framing and state (`netflow9.ts`, `ipfix.ts`, `template-store.ts`, `template-decoder.ts`):
 *   headers, sets, template (re)definition and withdrawal, per exporter/domain state, sampling
 *   tables, the template DB;
 * - field semantics (`field-compiler.ts`, `record-finish.ts`): what each information element
 *   means for the flow record, compiled once per template into a specialised reader.
 */
import type { FlowRecord } from '../../record/flow-record.js';

/** IPFIX variable-length marker in a template field length (RFC 7011 section 7). */
export const VARIABLE_LENGTH = 0xffff;

/** One field of a template as sent. NetFlow v9 fields always have enterprise 0 (types >= 32768 too). */
export interface TemplateField {
  /** Element id without the enterprise bit. */
  id: number;
  /** Private enterprise number; 0 for IANA elements and every NetFlow v9 field. */
  enterprise: number;
  /** Bytes, or VARIABLE_LENGTH. */
  length: number;
}

export type TemplateProtocol = 'netflow9' | 'ipfix';

/**
 * Values a record carries that are not record fields themselves but decide other fields (times,
 * sampling) or feed exporter state (options data). One instance is reused for every record: the
 * compiled reader calls `reset()` first, so nothing is allocated per record.
 */
export class RecordScratch {
  // sampling (options data, or inside data records)
  /** 48 samplerId (IPFIX, deprecated; NetFlow v9 FLOW_SAMPLER_ID) */
  samplerId: number | null = null;
  /** 34 samplingInterval / 50 samplerRandomInterval / 305 samplingPacketInterval */
  samplingInterval: number | null = null;
  /** 306 samplingPacketSpace */
  samplingSpace: number | null = null;
  /** 311 samplingProbability */
  samplingProbability: number | null = null;
  /** 35 samplingAlgorithm / 49 samplerMode */
  samplingAlgorithm: number | null = null;
  /** 302 selectorId (PSAMP) */
  selectorId: number | null = null;
  /** 309 samplingSize / 310 samplingPopulation (PSAMP n-out-of-N, RFC 5477) */
  samplingSize: number | null = null;
  samplingPopulation: number | null = null;

  // times, resolved by finishRecord
  /** 21/22 (ms since exporter boot): NetFlow v9 LAST/FIRST_SWITCHED, IPFIX flowStart/EndSysUpTime */
  startUptimeMs: number | null = null;
  endUptimeMs: number | null = null;
  /** 160 systemInitTimeMilliseconds (epoch ms) */
  systemInitTimeMs: number | null = null;
  /** 158/159 flowStart/EndDeltaMicroseconds (before export time) */
  startDeltaMicros: number | null = null;
  endDeltaMicros: number | null = null;
  /** 161 flowDurationMilliseconds, 162 flowDurationMicroseconds (as ms) */
  durationMs: number | null = null;
  /** 322-325 observationTime* (epoch ms): the event time of NSEL/NEL records (ASA sends 323) */
  observationTimeMs: number | null = null;

  // options data
  /** v9 36/37 flow active/inactive timeout (s) */
  activeTimeoutSec: number | null = null;
  inactiveTimeoutSec: number | null = null;
  /** 10/14 ingress/egress interface or 10 as options scope; with 82/83 interfaceName/Description */
  interfaceIndex: number | null = null;
  interfaceName: string | null = null;
  interfaceDescription: string | null = null;

  /** RFC 5103: the template carried reverse (PEN 29305) elements: a biflow. */
  hasReverse = false;

  /**
   * 315 dataLinkFrameSection (RFC 7133): where the frame copy lies in the buffer (-1: none) and its
   * length. The reader parses it after the template's own fields, which win (data-link-frame.ts).
   */
  frameOffset = -1;
  frameLength = 0;

  reset(): void {
    this.samplerId = null;
    this.samplingInterval = null;
    this.samplingSpace = null;
    this.samplingProbability = null;
    this.samplingAlgorithm = null;
    this.selectorId = null;
    this.samplingSize = null;
    this.samplingPopulation = null;
    this.startUptimeMs = null;
    this.endUptimeMs = null;
    this.systemInitTimeMs = null;
    this.startDeltaMicros = null;
    this.endDeltaMicros = null;
    this.durationMs = null;
    this.observationTimeMs = null;
    this.activeTimeoutSec = null;
    this.inactiveTimeoutSec = null;
    this.interfaceIndex = null;
    this.interfaceName = null;
    this.interfaceDescription = null;
    this.hasReverse = false;
    this.frameOffset = -1;
    this.frameLength = 0;
  }
}

/** A template compiled once, used for every record of it. */
export interface CompiledTemplate {
  readonly fieldCount: number;
  /** Bytes of the smallest possible record (variable-length fields counted as their 1-byte prefix). */
  readonly minRecordLength: number;
  /** True when some field is variable-length (records are not all the same size). */
  readonly variable: boolean;
  /**
   * Decodes one record from buf[off, end) into `rec` (fresh) and `scratch` (reset by this call).
   * Returns the offset after the record, or -1 when the record does not fit (truncated, or a
   * variable-length field longer than what remains or than the configured limit).
   */
  read(buf: Buffer, off: number, end: number, rec: FlowRecord, scratch: RecordScratch): number;
}

/** Per-message values records are interpreted against. */
export interface MessageContext {
  protocol: TemplateProtocol;
  exporter: string;
  /** v9 unix_secs / IPFIX export time, Unix seconds. */
  exportTimeSec: number;
  /** v9 header sysUptime (ms); null for IPFIX. */
  sysUptimeMs: number | null;
  receivedAtMs: number;
  /** systemInitTimeMilliseconds learnt from this exporter's options data, if any. */
  systemInitTimeMs: number | null;
}

/** 1-in-N sampling rate the exporter state knows for a sampler/selector id (or null id = exporter-wide). */
export type SamplingLookup = (samplerId: number | null) => number | null;
