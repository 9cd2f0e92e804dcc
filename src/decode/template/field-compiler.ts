import { ipv4At, ipv6At, u32At } from '../../record/address.js';
import type { FlowRecord } from '../../record/flow-record.js';
import type { DecoderSettings } from '../settings.js';
import type { CompiledTemplate, RecordScratch, TemplateField, TemplateProtocol } from './contract.js';
import { VARIABLE_LENGTH } from './contract.js';
import { applyDataLinkFrame } from './data-link-frame.js';
import { type ExtraKind, extraKindOf, extraValue, ntpToEpochMs, stringAt, uintAt } from './extra-fields.js';
import { codegenAllowed, generateReader, type ReaderPlan, type ReadFn } from './field-codegen.js';
import {
  ianaOp,
  type LengthRule,
  lengthFits,
  lengthRuleOf,
  Op,
  type OpCode,
  REVERSE_PEN,
  reverseOp,
} from './field-semantics.js';
import {
  firewallEventName,
  natEventName,
  postNatIpv4At,
  postNatIpv6At,
  postNatPort,
} from './firewall-events.js';
import { forwardingStatusName } from './forwarding-status.js';

/**
 * Compiles a template once into a reader. Each field becomes one operation code (what the element
 * writes, see field-semantics.ts); the codes are turned into a generated straight-line function
 * (field-codegen.ts), or, where code generation is forbidden, run by the operation-table
 * interpreter below. No closures or allocation per field apart from the strings the record holds
 * (addresses; event names are shared constants) and the values of user-mapped extra fields.
 */
export function compileTemplate(
  fields: TemplateField[],
  protocol: TemplateProtocol,
  settings: DecoderSettings,
): CompiledTemplate {
  const plan = planTemplate(fields, protocol, settings);
  if (!codegenAllowed) return interpreted(plan, fields.length);
  return new GeneratedTemplate(plan, () => planTemplate(fields, protocol, settings), fields.length);
}

/** The operation-table reader alone (the fallback; also run by the tests on every mapping). */
export function compileInterpretedTemplate(
  fields: TemplateField[],
  protocol: TemplateProtocol,
  settings: DecoderSettings,
): CompiledTemplate {
  return interpreted(planTemplate(fields, protocol, settings), fields.length);
}

function planTemplate(
  fields: TemplateField[],
  protocol: TemplateProtocol,
  settings: DecoderSettings,
): ReaderPlan {
  // The same numbers mean the same elements in v9 and IPFIX (v9 types >= 32768 arrive as
  // enterprise 0), so the protocol changes nothing here; times differ in finishRecord.
  void protocol;
  const n = fields.length;
  const present = new Set<number>();
  const presentReverse = new Set<number>();
  for (const f of fields) {
    if (f.enterprise === 0) present.add(f.id);
    else if (f.enterprise === REVERSE_PEN) presentReverse.add(f.id);
  }

  const ops = new Uint8Array(n);
  const rules = new Uint8Array(n);
  const lengths = new Int32Array(n);
  const extraSlots = new Int16Array(n).fill(-1);
  const extraNames: string[] = [];
  const extraKinds: ExtraKind[] = [];
  let minRecordLength = 0;
  let variable = false;
  let hasReverse = false;

  for (let i = 0; i < n; i++) {
    const f = fields[i];
    let op: OpCode = Op.SKIP;
    if (f.enterprise === 0) op = ianaOp(f.id, present);
    else if (f.enterprise === REVERSE_PEN) {
      hasReverse = true;
      op = reverseOp(f.id, presentReverse);
    }
    const rule = lengthRuleOf(op);
    if (f.length === VARIABLE_LENGTH) {
      variable = true;
      lengths[i] = -1;
      minRecordLength += 1;
    } else {
      lengths[i] = f.length;
      minRecordLength += f.length;
      // A fixed length the element cannot have (a 3-byte address, a 0-length field as in
      // logstash_nf9_0length_fields_tpl_data.dat): read past it, write nothing.
      if (!lengthFits(rule, f.length)) op = Op.SKIP;
    }
    ops[i] = op;
    rules[i] = rule;

    // First mapping of an element wins; a mapped element still feeds its record field.
    const mapping = settings.extraFields.find((m) => m.id === f.id && m.enterprise === f.enterprise);
    if (mapping !== undefined) {
      extraSlots[i] = extraNames.length;
      extraNames.push(mapping.name);
      extraKinds.push(extraKindOf(mapping));
    }
  }
  return {
    ops,
    rules,
    lengths,
    extraSlots,
    extraNames,
    extraKinds,
    minRecordLength,
    variable,
    hasReverse,
    maxFieldLength: settings.limits.maxFieldLength,
  };
}

/**
 * The generated reader, made when the first record is read rather than when the template arrives:
 * a template flood (thousands of templates no data ever refers to) then costs no code generation,
 * and a template never used keeps only its fields (the plan is made again on first use, so it is
 * not held meanwhile).
 */
class GeneratedTemplate implements CompiledTemplate {
  readonly minRecordLength: number;
  readonly variable: boolean;
  read: ReadFn;

  constructor(
    plan: ReaderPlan,
    replan: () => ReaderPlan,
    readonly fieldCount: number,
  ) {
    this.minRecordLength = plan.minRecordLength;
    this.variable = plan.variable;
    this.read = (buf, off, end, rec, scratch) => {
      const again = replan();
      const generated = generateReader(again) ?? interpreted(again, fieldCount);
      this.read = typeof generated === 'function' ? generated : generated.read.bind(generated);
      return this.read(buf, off, end, rec, scratch);
    };
  }
}

function interpreted(plan: ReaderPlan, fieldCount: number): CompiledTemplate {
  return new CompiledFieldReader(
    fieldCount,
    plan.minRecordLength,
    plan.variable,
    plan.hasReverse,
    plan.maxFieldLength,
    plan.ops,
    plan.rules,
    plan.lengths,
    plan.extraSlots,
    plan.extraNames,
    plan.extraKinds,
  );
}

class CompiledFieldReader implements CompiledTemplate {
  constructor(
    readonly fieldCount: number,
    readonly minRecordLength: number,
    readonly variable: boolean,
    private readonly hasReverse: boolean,
    private readonly maxFieldLength: number,
    private readonly ops: Uint8Array,
    private readonly rules: Uint8Array,
    /** Field length, or -1 for variable length. */
    private readonly lengths: Int32Array,
    /** Index into extraNames/extraKinds, or -1 when the field is not mapped. */
    private readonly extraSlots: Int16Array,
    private readonly extraNames: string[],
    private readonly extraKinds: ExtraKind[],
  ) {}

  read(buf: Buffer, off: number, end: number, rec: FlowRecord, scratch: RecordScratch): number {
    scratch.reset();
    if (this.hasReverse) scratch.hasReverse = true;
    if (this.extraNames.length > 0) rec.extra = {};
    const variable = this.variable;
    // Fixed-size records: one bounds check for the whole record.
    if (!variable && off + this.minRecordLength > end) return -1;
    const ops = this.ops;
    const lengths = this.lengths;
    const extraSlots = this.extraSlots;
    const n = this.fieldCount;
    let p = off;
    for (let i = 0; i < n; i++) {
      let len = lengths[i];
      let op = ops[i] as OpCode;
      if (variable) {
        if (len < 0) {
          // RFC 7011 section 7: 1-byte length, or 255 then a 2-byte length.
          if (p >= end) return -1;
          len = buf[p++];
          if (len === 255) {
            if (p + 2 > end) return -1;
            len = (buf[p] << 8) | buf[p + 1];
            p += 2;
          }
          if (len > this.maxFieldLength) return -1;
          if (!lengthFits(this.rules[i] as LengthRule, len)) op = Op.SKIP;
        }
        if (p + len > end) return -1;
      }
      if (op !== Op.SKIP) applyOp(op, buf, p, len, rec, scratch);
      const slot = extraSlots[i];
      if (slot >= 0)
        (rec.extra as NonNullable<FlowRecord['extra']>)[this.extraNames[slot]] = extraValue(
          buf,
          p,
          len,
          this.extraKinds[slot],
        );
      p += len;
    }
    const frame = scratch.frameOffset;
    if (frame >= 0) applyDataLinkFrame(buf, frame, frame + scratch.frameLength, rec);
    return p;
  }
}

function applyOp(
  op: OpCode,
  buf: Buffer,
  p: number,
  len: number,
  rec: FlowRecord,
  scratch: RecordScratch,
): void {
  switch (op) {
    case Op.BITS:
      rec.bits = uintAt(buf, p, len) * 8;
      return;
    case Op.PACKETS:
      rec.packets = uintAt(buf, p, len);
      return;
    case Op.PROTOCOL:
      rec.protocolint = uintAt(buf, p, len);
      return;
    case Op.TOS:
      rec.tos = uintAt(buf, p, len);
      return;
    case Op.TCPFLAGS:
      // RFC 7125: 2 bytes in IPFIX (NS, CWR, ECE in the low 9 bits), 1 byte in v9. The top
      // nibble must be zero but some exporters copy the TCP data offset into it.
      rec.tcpflagsint = uintAt(buf, p, len) & 0x1ff;
      return;
    case Op.SRCPORT:
      rec.srcport = uintAt(buf, p, len);
      return;
    case Op.DSTPORT:
      rec.dstport = uintAt(buf, p, len);
      return;
    case Op.SRCIP4:
      rec.srcip = ipv4At(buf, p);
      rec.srcip4 = u32At(buf, p);
      return;
    case Op.DSTIP4:
      rec.dstip = ipv4At(buf, p);
      rec.dstip4 = u32At(buf, p);
      return;
    case Op.SRCIP6:
      rec.srcip = ipv6At(buf, p);
      rec.srcip4 = -1;
      return;
    case Op.DSTIP6:
      rec.dstip = ipv6At(buf, p);
      rec.dstip4 = -1;
      return;
    case Op.SRCMASK:
      rec.srcmask = uintAt(buf, p, len);
      return;
    case Op.DSTMASK:
      rec.dstmask = uintAt(buf, p, len);
      return;
    case Op.INPUT: {
      const v = uintAt(buf, p, len);
      rec.input = v;
      // In options data 10 is the scope of interface name/description records.
      scratch.interfaceIndex = v;
      return;
    }
    case Op.OUTPUT: {
      const v = uintAt(buf, p, len);
      rec.output = v;
      if (scratch.interfaceIndex === null) scratch.interfaceIndex = v;
      return;
    }
    case Op.NEXTHOP4:
      rec.nexthop = ipv4At(buf, p);
      rec.nexthop4 = u32At(buf, p);
      return;
    case Op.BGPNEXTHOP4:
      rec.bgpnexthop = ipv4At(buf, p);
      rec.bgpnexthop4 = u32At(buf, p);
      return;
    case Op.NEXTHOP6:
      rec.nexthop = ipv6At(buf, p);
      rec.nexthop4 = -1;
      return;
    case Op.BGPNEXTHOP6:
      rec.bgpnexthop = ipv6At(buf, p);
      rec.bgpnexthop4 = -1;
      return;
    case Op.SRCAS:
      rec.srcas = uintAt(buf, p, len);
      return;
    case Op.DSTAS:
      rec.dstas = uintAt(buf, p, len);
      return;
    case Op.SRCVLAN:
      rec.srcvlan = uintAt(buf, p, len) & 0xfff;
      return;
    case Op.DSTVLAN:
      rec.dstvlan = uintAt(buf, p, len) & 0xfff;
      return;
    case Op.IPVERSION: {
      const v = uintAt(buf, p, len);
      if (v === 4 || v === 6) rec.ipversion = v;
      return;
    }
    case Op.DIRECTION: {
      const v = uintAt(buf, p, len);
      rec.flowdirection = v === 0 ? 'ingress' : v === 1 ? 'egress' : null;
      return;
    }
    case Op.FWDSTATUS:
      rec.forwardingstatus = forwardingStatusName(uintAt(buf, p, len));
      return;
    case Op.ICMPTYPECODE: {
      const v = uintAt(buf, p, len);
      rec.icmptype = (v >>> 8) & 0xff;
      rec.icmpcode = v & 0xff;
      return;
    }
    case Op.ICMPTYPE:
      rec.icmptype = uintAt(buf, p, len);
      return;
    case Op.ICMPCODE:
      rec.icmpcode = uintAt(buf, p, len);
      return;
    case Op.FRAGFLAGS:
      // RFC 7012 fragmentFlags: bit 2 from the MSB (0x20) is MF. Either fragment field may say so.
      rec.fragmented = (uintAt(buf, p, len) & 0x20) !== 0 || rec.fragmented === true;
      return;
    case Op.FRAGOFFSET:
      rec.fragmented = (uintAt(buf, p, len) & 0x1fff) !== 0 || rec.fragmented === true;
      return;
    case Op.POSTNATSRC4:
      rec.postnatsrcip = postNatIpv4At(buf, p);
      return;
    case Op.POSTNATDST4:
      rec.postnatdstip = postNatIpv4At(buf, p);
      return;
    case Op.POSTNATSRC6:
      rec.postnatsrcip = postNatIpv6At(buf, p);
      return;
    case Op.POSTNATDST6:
      rec.postnatdstip = postNatIpv6At(buf, p);
      return;
    case Op.POSTNATSRCPORT:
      rec.postnatsrcport = postNatPort(uintAt(buf, p, len));
      return;
    case Op.POSTNATDSTPORT:
      rec.postnatdstport = postNatPort(uintAt(buf, p, len));
      return;
    case Op.FWEVENT:
      rec.fwevent = firewallEventName(uintAt(buf, p, len));
      return;
    case Op.NATEVENT:
      rec.natevent = natEventName(uintAt(buf, p, len));
      return;
    case Op.REVBITS:
      rec.revbits = uintAt(buf, p, len) * 8;
      return;
    case Op.REVPACKETS:
      rec.revpackets = uintAt(buf, p, len);
      return;
    case Op.START_SEC:
      rec.start = uintAt(buf, p, len) * 1000;
      return;
    case Op.END_SEC:
      rec.end = uintAt(buf, p, len) * 1000;
      return;
    case Op.START_MS:
      rec.start = uintAt(buf, p, len);
      return;
    case Op.END_MS:
      rec.end = uintAt(buf, p, len);
      return;
    case Op.START_NTP:
      rec.start = ntpToEpochMs(buf, p);
      return;
    case Op.END_NTP:
      rec.end = ntpToEpochMs(buf, p);
      return;
    case Op.START_UPTIME:
      scratch.startUptimeMs = uintAt(buf, p, len);
      return;
    case Op.END_UPTIME:
      scratch.endUptimeMs = uintAt(buf, p, len);
      return;
    case Op.SYSINIT_MS:
      scratch.systemInitTimeMs = uintAt(buf, p, len);
      return;
    case Op.START_DELTA_US:
      scratch.startDeltaMicros = uintAt(buf, p, len);
      return;
    case Op.END_DELTA_US:
      scratch.endDeltaMicros = uintAt(buf, p, len);
      return;
    case Op.DURATION_MS:
      scratch.durationMs = uintAt(buf, p, len);
      return;
    case Op.DURATION_US:
      scratch.durationMs = uintAt(buf, p, len) / 1000;
      return;
    case Op.OBS_SEC:
      scratch.observationTimeMs = uintAt(buf, p, len) * 1000;
      return;
    case Op.OBS_MS:
      scratch.observationTimeMs = uintAt(buf, p, len);
      return;
    case Op.OBS_NTP:
      scratch.observationTimeMs = ntpToEpochMs(buf, p);
      return;
    case Op.SAMPLER_ID:
      scratch.samplerId = uintAt(buf, p, len);
      return;
    case Op.SAMPLING_INTERVAL:
      scratch.samplingInterval = uintAt(buf, p, len);
      return;
    case Op.SAMPLING_SPACE:
      scratch.samplingSpace = uintAt(buf, p, len);
      return;
    case Op.SAMPLING_ALGORITHM:
      scratch.samplingAlgorithm = uintAt(buf, p, len);
      return;
    case Op.SELECTOR_ID:
      scratch.selectorId = uintAt(buf, p, len);
      return;
    case Op.SAMPLING_SIZE:
      scratch.samplingSize = uintAt(buf, p, len);
      return;
    case Op.SAMPLING_POPULATION:
      scratch.samplingPopulation = uintAt(buf, p, len);
      return;
    case Op.SAMPLING_PROBABILITY:
      scratch.samplingProbability = len === 8 ? buf.readDoubleBE(p) : buf.readFloatBE(p);
      return;
    case Op.ACTIVE_TIMEOUT:
      scratch.activeTimeoutSec = uintAt(buf, p, len);
      return;
    case Op.INACTIVE_TIMEOUT:
      scratch.inactiveTimeoutSec = uintAt(buf, p, len);
      return;
    case Op.IFNAME:
      scratch.interfaceName = stringAt(buf, p, len);
      return;
    case Op.IFDESC:
      scratch.interfaceDescription = stringAt(buf, p, len);
      return;
    case Op.FRAME_SIZE:
      // Volume of a one-frame record, like sFlow's frame_length; counters of the template win
      // (BITS/PACKETS assign, this only fills).
      if (rec.bits === null) rec.bits = uintAt(buf, p, len) * 8;
      if (rec.packets === null) rec.packets = 1;
      return;
    case Op.FRAME_SECTION:
      scratch.frameOffset = p;
      scratch.frameLength = len;
      return;
    default:
      return;
  }
}
