import { ipv4At, ipv6At, u32At } from '../../record/address.js';
import type { FlowRecord } from '../../record/flow-record.js';
import type { RecordScratch } from './contract.js';
import { applyDataLinkFrame } from './data-link-frame.js';
import { type ExtraKind, extraValue, ntpToEpochMs, stringAt, uintAt } from './extra-fields.js';
import { lengthFits, Op, type OpCode } from './field-semantics.js';
import {
  firewallEventName,
  natEventName,
  postNatIpv4At,
  postNatIpv6At,
  postNatPort,
} from './firewall-events.js';
import { forwardingStatusName } from './forwarding-status.js';

/**
 * Generates one straight-line reader per template with `new Function`: no per-field dispatch, the
 * offsets of fixed-size records as constants. It makes `read` about 2.5 times faster than the
 * operation table (bench/field-compiler.ts), which is the fallback when code generation is
 * forbidden (`node --disallow-code-generation-from-strings`).
 *
 * Safety: the source is built only from the fixed snippets below and integers (offsets,
 * lengths, indexes) checked by `int()`; nothing from the wire or the configuration is ever
 * interpolated (extra field names are looked up by index at run time).
 */

export type ReadFn = (
  buf: Buffer,
  off: number,
  end: number,
  rec: FlowRecord,
  scratch: RecordScratch,
) => number;

/** What a compiled template needs to be generated (the same tables the interpreter runs). */
export interface ReaderPlan {
  ops: Uint8Array;
  rules: Uint8Array;
  /** Field length, or -1 for variable length. */
  lengths: Int32Array;
  extraSlots: Int16Array;
  extraNames: string[];
  extraKinds: ExtraKind[];
  minRecordLength: number;
  variable: boolean;
  hasReverse: boolean;
  maxFieldLength: number;
}

const HELPERS = {
  uintAt,
  ipv4At,
  ipv6At,
  u32At,
  ntpToEpochMs,
  stringAt,
  extraValue,
  lengthFits,
  forwardingStatusName,
  firewallEventName,
  natEventName,
  postNatIpv4At,
  postNatIpv6At,
  postNatPort,
  applyDataLinkFrame,
};

function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`field codegen: ${n} is not an integer`);
  return String(n);
}

/** `buf` offset expression: base variable (one of two fixed names) plus an integer. */
function at(base: 'off' | 'p', k: number): string {
  return k === 0 ? base : `${base} + ${int(k)}`;
}

/** Unsigned big-endian integer expression of a field at base + k of (literal or run-time) length. */
function uintExpr(base: 'off' | 'p', k: number, len: number | null): string {
  switch (len) {
    case 1:
      return `buf[${at(base, k)}]`;
    case 2:
      return `((buf[${at(base, k)}] << 8) | buf[${at(base, k + 1)}])`;
    case 4:
      return `(buf[${at(base, k)}] * 16777216 + ((buf[${at(base, k + 1)}] << 16) | (buf[${at(base, k + 2)}] << 8) | buf[${at(base, k + 3)}]))`;
    case null:
      return `uintAt(buf, ${at(base, k)}, len)`;
    default:
      return `uintAt(buf, ${at(base, k)}, ${int(len)})`;
  }
}

/** The statement for one operation; P the offset expression, V its integer value, L its length. */
function opStatement(op: OpCode, P: string, V: string, L: string): string {
  switch (op) {
    case Op.BITS:
      return `rec.bits = ${V} * 8;`;
    case Op.PACKETS:
      return `rec.packets = ${V};`;
    case Op.PROTOCOL:
      return `rec.protocolint = ${V};`;
    case Op.TOS:
      return `rec.tos = ${V};`;
    case Op.TCPFLAGS:
      return `rec.tcpflagsint = ${V} & 0x1ff;`;
    case Op.SRCPORT:
      return `rec.srcport = ${V};`;
    case Op.DSTPORT:
      return `rec.dstport = ${V};`;
    case Op.SRCIP4:
      return `rec.srcip = ipv4At(buf, ${P}); rec.srcip4 = u32At(buf, ${P});`;
    case Op.DSTIP4:
      return `rec.dstip = ipv4At(buf, ${P}); rec.dstip4 = u32At(buf, ${P});`;
    case Op.SRCIP6:
      return `rec.srcip = ipv6At(buf, ${P}); rec.srcip4 = -1;`;
    case Op.DSTIP6:
      return `rec.dstip = ipv6At(buf, ${P}); rec.dstip4 = -1;`;
    case Op.SRCMASK:
      return `rec.srcmask = ${V};`;
    case Op.DSTMASK:
      return `rec.dstmask = ${V};`;
    case Op.INPUT:
      return `rec.input = scratch.interfaceIndex = ${V};`;
    case Op.OUTPUT:
      return `{ const v = ${V}; rec.output = v; if (scratch.interfaceIndex === null) scratch.interfaceIndex = v; }`;
    case Op.NEXTHOP4:
      return `rec.nexthop = ipv4At(buf, ${P}); rec.nexthop4 = u32At(buf, ${P});`;
    case Op.BGPNEXTHOP4:
      return `rec.bgpnexthop = ipv4At(buf, ${P}); rec.bgpnexthop4 = u32At(buf, ${P});`;
    case Op.NEXTHOP6:
      return `rec.nexthop = ipv6At(buf, ${P}); rec.nexthop4 = -1;`;
    case Op.BGPNEXTHOP6:
      return `rec.bgpnexthop = ipv6At(buf, ${P}); rec.bgpnexthop4 = -1;`;
    case Op.SRCAS:
      return `rec.srcas = ${V};`;
    case Op.DSTAS:
      return `rec.dstas = ${V};`;
    case Op.SRCVLAN:
      return `rec.srcvlan = ${V} & 0xfff;`;
    case Op.DSTVLAN:
      return `rec.dstvlan = ${V} & 0xfff;`;
    case Op.IPVERSION:
      return `{ const v = ${V}; if (v === 4 || v === 6) rec.ipversion = v; }`;
    case Op.DIRECTION:
      return `{ const v = ${V}; rec.flowdirection = v === 0 ? 'ingress' : v === 1 ? 'egress' : null; }`;
    case Op.FWDSTATUS:
      return `rec.forwardingstatus = forwardingStatusName(${V});`;
    case Op.ICMPTYPECODE:
      return `{ const v = ${V}; rec.icmptype = (v >>> 8) & 0xff; rec.icmpcode = v & 0xff; }`;
    case Op.ICMPTYPE:
      return `rec.icmptype = ${V};`;
    case Op.ICMPCODE:
      return `rec.icmpcode = ${V};`;
    case Op.FRAGFLAGS:
      return `rec.fragmented = (${V} & 0x20) !== 0 || rec.fragmented === true;`;
    case Op.FRAGOFFSET:
      return `rec.fragmented = (${V} & 0x1fff) !== 0 || rec.fragmented === true;`;
    case Op.POSTNATSRC4:
      return `rec.postnatsrcip = postNatIpv4At(buf, ${P});`;
    case Op.POSTNATDST4:
      return `rec.postnatdstip = postNatIpv4At(buf, ${P});`;
    case Op.POSTNATSRC6:
      return `rec.postnatsrcip = postNatIpv6At(buf, ${P});`;
    case Op.POSTNATDST6:
      return `rec.postnatdstip = postNatIpv6At(buf, ${P});`;
    case Op.POSTNATSRCPORT:
      return `rec.postnatsrcport = postNatPort(${V});`;
    case Op.POSTNATDSTPORT:
      return `rec.postnatdstport = postNatPort(${V});`;
    case Op.FWEVENT:
      return `rec.fwevent = firewallEventName(${V});`;
    case Op.NATEVENT:
      return `rec.natevent = natEventName(${V});`;
    case Op.REVBITS:
      return `rec.revbits = ${V} * 8;`;
    case Op.REVPACKETS:
      return `rec.revpackets = ${V};`;
    case Op.START_SEC:
      return `rec.start = ${V} * 1000;`;
    case Op.END_SEC:
      return `rec.end = ${V} * 1000;`;
    case Op.START_MS:
      return `rec.start = ${V};`;
    case Op.END_MS:
      return `rec.end = ${V};`;
    case Op.START_NTP:
      return `rec.start = ntpToEpochMs(buf, ${P});`;
    case Op.END_NTP:
      return `rec.end = ntpToEpochMs(buf, ${P});`;
    case Op.START_UPTIME:
      return `scratch.startUptimeMs = ${V};`;
    case Op.END_UPTIME:
      return `scratch.endUptimeMs = ${V};`;
    case Op.SYSINIT_MS:
      return `scratch.systemInitTimeMs = ${V};`;
    case Op.START_DELTA_US:
      return `scratch.startDeltaMicros = ${V};`;
    case Op.END_DELTA_US:
      return `scratch.endDeltaMicros = ${V};`;
    case Op.DURATION_MS:
      return `scratch.durationMs = ${V};`;
    case Op.DURATION_US:
      return `scratch.durationMs = ${V} / 1000;`;
    case Op.OBS_SEC:
      return `scratch.observationTimeMs = ${V} * 1000;`;
    case Op.OBS_MS:
      return `scratch.observationTimeMs = ${V};`;
    case Op.OBS_NTP:
      return `scratch.observationTimeMs = ntpToEpochMs(buf, ${P});`;
    case Op.SAMPLER_ID:
      return `scratch.samplerId = ${V};`;
    case Op.SAMPLING_INTERVAL:
      return `scratch.samplingInterval = ${V};`;
    case Op.SAMPLING_SPACE:
      return `scratch.samplingSpace = ${V};`;
    case Op.SAMPLING_ALGORITHM:
      return `scratch.samplingAlgorithm = ${V};`;
    case Op.SELECTOR_ID:
      return `scratch.selectorId = ${V};`;
    case Op.SAMPLING_SIZE:
      return `scratch.samplingSize = ${V};`;
    case Op.SAMPLING_POPULATION:
      return `scratch.samplingPopulation = ${V};`;
    case Op.SAMPLING_PROBABILITY:
      return `scratch.samplingProbability = ${L} === 8 ? buf.readDoubleBE(${P}) : buf.readFloatBE(${P});`;
    case Op.ACTIVE_TIMEOUT:
      return `scratch.activeTimeoutSec = ${V};`;
    case Op.INACTIVE_TIMEOUT:
      return `scratch.inactiveTimeoutSec = ${V};`;
    case Op.IFNAME:
      return `scratch.interfaceName = stringAt(buf, ${P}, ${L});`;
    case Op.IFDESC:
      return `scratch.interfaceDescription = stringAt(buf, ${P}, ${L});`;
    case Op.FRAME_SIZE:
      return `if (rec.bits === null) rec.bits = ${V} * 8; if (rec.packets === null) rec.packets = 1;`;
    case Op.FRAME_SECTION:
      return `scratch.frameOffset = ${P}; scratch.frameLength = ${L};`;
    default:
      return '';
  }
}

/**
 * 315 dataLinkFrameSection is parsed after every field of the record, so the template's own
 * elements are known and win (data-link-frame.ts).
 */
const FRAME_STATEMENT =
  'if (scratch.frameOffset >= 0) applyDataLinkFrame(buf, scratch.frameOffset, scratch.frameOffset + scratch.frameLength, rec);';

/** JavaScript source of the reader body. Exported for tests and for reading what was generated. */
export function readerSource(plan: ReaderPlan): string {
  const out: string[] = ['scratch.reset();'];
  if (plan.hasReverse) out.push('scratch.hasReverse = true;');
  if (plan.extraNames.length > 0) out.push('rec.extra = {};');
  const n = plan.ops.length;
  const hasFrame = plan.ops.includes(Op.FRAME_SECTION);
  if (!plan.variable) {
    // Fixed-size record: one bounds check, constant offsets.
    out.push(`if (off + ${int(plan.minRecordLength)} > end) return -1;`);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const len = plan.lengths[i];
      const op = plan.ops[i] as OpCode;
      if (op !== Op.SKIP) out.push(opStatement(op, at('off', k), uintExpr('off', k, len), int(len)));
      const slot = plan.extraSlots[i];
      if (slot >= 0) {
        out.push(
          `rec.extra[names[${int(slot)}]] = extraValue(buf, ${at('off', k)}, ${int(len)}, kinds[${int(slot)}]);`,
        );
      }
      k += len;
    }
    if (hasFrame) out.push(FRAME_STATEMENT);
    out.push(`return off + ${int(plan.minRecordLength)};`);
    return out.join('\n');
  }
  out.push('let p = off;', 'let len = 0;');
  for (let i = 0; i < n; i++) {
    const fixed = plan.lengths[i];
    const op = plan.ops[i] as OpCode;
    const slot = plan.extraSlots[i];
    if (fixed >= 0) {
      out.push(`if (p + ${int(fixed)} > end) return -1;`);
      if (op !== Op.SKIP) out.push(opStatement(op, 'p', uintExpr('p', 0, fixed), int(fixed)));
      if (slot >= 0)
        out.push(`rec.extra[names[${int(slot)}]] = extraValue(buf, p, ${int(fixed)}, kinds[${int(slot)}]);`);
      out.push(`p += ${int(fixed)};`);
      continue;
    }
    // RFC 7011 section 7: 1-byte length, or 255 then a 2-byte length.
    out.push(
      'if (p >= end) return -1;',
      'len = buf[p++];',
      'if (len === 255) { if (p + 2 > end) return -1; len = (buf[p] << 8) | buf[p + 1]; p += 2; }',
      'if (len > maxFieldLength || p + len > end) return -1;',
    );
    if (op !== Op.SKIP) {
      out.push(
        `if (lengthFits(${int(plan.rules[i])}, len)) { ${opStatement(op, 'p', uintExpr('p', 0, null), 'len')} }`,
      );
    }
    if (slot >= 0) out.push(`rec.extra[names[${int(slot)}]] = extraValue(buf, p, len, kinds[${int(slot)}]);`);
    out.push('p += len;');
  }
  if (hasFrame) out.push(FRAME_STATEMENT);
  out.push('return p;');
  return out.join('\n');
}

/** The generated reader, or null when this process forbids code generation. */
/**
 * Readers already generated, by their source and closure values. Exporters of one model send the
 * same layouts, so thousands of templates share a handful of functions (each `new Function` costs
 * tens of microseconds and kilobytes of code). Bounded: a flood of distinct layouts evicts the
 * oldest, and a template keeps its function anyway.
 */
const generated = new Map<string, ReadFn>();
export const MAX_CACHED_READERS = 1024;

export function generateReader(plan: ReaderPlan): ReadFn | null {
  if (!codegenAllowed) return null;
  const body = readerSource(plan);
  const key = `${body}\0${plan.extraNames.join('\0')}\0${plan.extraKinds.join(',')}\0${plan.maxFieldLength}`;
  const known = generated.get(key);
  if (known !== undefined) return known;
  const prelude = `const { ${Object.keys(HELPERS).join(', ')} } = h;`;
  const factory = new Function(
    'h',
    'names',
    'kinds',
    'maxFieldLength',
    `${prelude}\nreturn function read(buf, off, end, rec, scratch) {\n${body}\n};`,
  ) as (h: typeof HELPERS, names: string[], kinds: ExtraKind[], maxFieldLength: number) => ReadFn;
  const read = factory(HELPERS, plan.extraNames, plan.extraKinds, plan.maxFieldLength);
  if (generated.size >= MAX_CACHED_READERS) generated.delete(generated.keys().next().value as string);
  generated.set(key, read);
  return read;
}

function probeCodegen(): boolean {
  try {
    return new Function('return 1')() === 1;
  } catch {
    return false;
  }
}

export const codegenAllowed = probeCodegen();
