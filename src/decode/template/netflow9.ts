import type { Datagram } from '../datagram.js';
import type { DecodeSink } from '../sink.js';
import type { TemplateField } from './contract.js';
import type { DomainState, ExporterState, TemplateSetHandler } from './template-store.js';
import { allZero, describeDomain } from './template-store.js';

/** RFC 3954 section 5.1: version, count, sysUptime, unix_secs, package sequence, source id. */
const HEADER_LENGTH = 20;
const FLOWSET_TEMPLATE = 0;
const FLOWSET_OPTIONS_TEMPLATE = 1;
const FIRST_DATA_FLOWSET = 256;

/**
 * RFC 3954 section 6.1 options scope types are not field types: map them onto the IPFIX elements
 * with the same meaning so the field compiler reads them like IPFIX scope fields (Interface ->
 * ingressInterface gives `interfaceIndex` for 82/83 interface names).
 */
const V9_SCOPE_TO_ELEMENT: Record<number, number> = {
  1: 144, // System -> exportingProcessId (no record meaning)
  2: 10, // Interface -> ingressInterface
  3: 141, // Line Card -> lineCardId
  4: 145, // Cache -> templateId (no record meaning)
  5: 145, // Template -> templateId
};

/**
 * How far the exporter's boot time (unix_secs - sysUptime) may move before it counts as a
 * restart: clock jitter and the 1 s resolution of unix_secs stay far below a minute.
 */
const RESTART_TOLERANCE_MS = 60_000;
/** After this long without messages even a non-decreasing uptime can hide a restart. */
const LONG_SILENCE_SEC = 10 * 60;
/** sysUptime is a u32 of ms: it wraps after 49.7 days, which moves the boot time by exactly this. */
const UPTIME_WRAP = 2 ** 32;
/** Export packets: a sequence this far backwards is a reset, not reordering. */
const SEQUENCE_RESET_WINDOW = 1_000;

/**
 * Whether the exporter restarted since the last message of this source id. The exporter's own
 * clock is the reference, not the receive time: a late or replayed old packet has an older
 * unix_secs and the same boot time (logstash_nf9_cisco_asa_2_data.dat is 80 s older than the
 * templates replayed before it). A restart moves the boot time forward with the uptime going
 * backwards, or resets the package sequence while the clock goes on.
 */
export function netflow9Restarted(
  dom: DomainState,
  sysUptimeMs: number,
  unixSecs: number,
  sequence: number,
): boolean {
  const lastUptime = dom.lastUptimeMs;
  if (lastUptime === null) return false;
  const lastSecs = dom.lastExportTimeSec;
  const bootShift = unixSecs * 1000 - sysUptimeMs - (lastSecs * 1000 - lastUptime);
  // An exporter that always sends sysUptime 0 looks rebooted every second: only an uptime that
  // really went backwards (or a long silence) is trusted.
  if (
    bootShift > RESTART_TOLERANCE_MS &&
    Math.abs(bootShift - UPTIME_WRAP) > RESTART_TOLERANCE_MS &&
    (sysUptimeMs < lastUptime || unixSecs - lastSecs > LONG_SILENCE_SEC)
  ) {
    return true;
  }
  const last = dom.lastSequence;
  if (last === null || unixSecs < lastSecs) return false;
  const back = (last - sequence) >>> 0;
  return back > SEQUENCE_RESET_WINDOW && back < 2 ** 31;
}

/** Decodes one NetFlow v9 export packet (RFC 3954). The header count is not trusted: many exporters get it wrong. */
export function decodeNetflow9Message(d: Datagram, h: TemplateSetHandler, sink: DecodeSink): void {
  const buf = d.payload;
  const len = buf.length;
  const exporter = d.srcAddress;
  // Counted like v5: a datagram too short for its header still arrived from this exporter.
  sink.datagram(exporter, 'netflow9', len, len < HEADER_LENGTH ? null : buf.readUInt32BE(8) * 1000);
  if (len < HEADER_LENGTH) {
    sink.error(
      exporter,
      'truncated',
      `NetFlow v9 datagram of ${len} bytes from ${exporter} is shorter than its header`,
    );
    return;
  }
  const exp = h.store.exporter(exporter, d.srcPort, d.connectionId, d.receivedAtMs);
  if (exp === null) {
    sink.error(
      exporter,
      'exporter_limit',
      `NetFlow v9 from ${exporter} dropped: already tracking ${h.store.settings.limits.maxExporters} exporters (decode.maxexporters), none silent for decode.exporteridle`,
    );
    return;
  }
  const sysUptime = buf.readUInt32BE(4);
  const unixSecs = buf.readUInt32BE(8);
  const sequence = buf.readUInt32BE(12);
  const sourceId = buf.readUInt32BE(16);
  const received = d.receivedAtMs;
  exp.lastSeenMs = received;

  const dom = exp.domain('netflow9', sourceId, h.store.settings.limits.maxTemplatesPerExporter);
  if (dom === null) {
    sink.error(
      exp.address,
      'template_limit',
      `source id ${sourceId} from ${exp.address} not tracked: the exporter already has ${exp.domains.size} (decode.maxtemplatesperexporter): datagram skipped`,
    );
    return;
  }
  const restarted = netflow9Restarted(dom, sysUptime, unixSecs, sequence);
  if (restarted) exp.restarted(dom);
  dom.lastUptimeMs = sysUptime;
  dom.lastExportTimeSec = unixSecs;
  // A reordered older packet must not pull the sequence back (it would hide a reset).
  if (restarted || dom.lastSequence === null || (sequence - dom.lastSequence) >>> 0 < 2 ** 31) {
    dom.lastSequence = sequence;
  }
  sink.sequence(exporter, `v9:${sourceId}${exp.streamSuffix}`, sequence, 1);
  h.beginMessage('netflow9', exporter, unixSecs, sysUptime, received, dom);

  let off = HEADER_LENGTH;
  while (off + 4 <= len) {
    const setId = buf.readUInt16BE(off);
    const setLen = buf.readUInt16BE(off + 2);
    if (setLen < 4 || off + setLen > len) {
      // Zero bytes after the last flowset: padding of the whole packet (logstash_nf9_cisco_aci_tpl256-258.dat).
      if (allZero(buf, off, len)) return;
      sink.error(
        exporter,
        'bad_length',
        `NetFlow v9 flowset ${setId} from ${describeDomain(exp, dom)} claims ${setLen} bytes, ${len - off} left: rest of datagram skipped`,
      );
      return;
    }
    const end = off + setLen;
    if (setId === FLOWSET_TEMPLATE) templateFlowSet(buf, off + 4, end, exp, dom, h, received, sink);
    else if (setId === FLOWSET_OPTIONS_TEMPLATE)
      optionsTemplateFlowSet(buf, off + 4, end, exp, dom, h, received, sink);
    else if (setId >= FIRST_DATA_FLOWSET) h.dataSet(buf, off + 4, end, setId, exp, dom, received, sink);
    // 2-255 are reserved (RFC 3954 section 5.2): skipped.
    off = end;
  }
}

function templateFlowSet(
  buf: Buffer,
  off: number,
  end: number,
  exp: ExporterState,
  dom: DomainState,
  h: TemplateSetHandler,
  received: number,
  sink: DecodeSink,
): void {
  let p = off;
  while (p + 4 <= end) {
    const id = buf.readUInt16BE(p);
    const count = buf.readUInt16BE(p + 2);
    if (id < FIRST_DATA_FLOWSET) {
      // Zero padding up to a 4-byte boundary (RFC 3954 section 5.2) reads as template id 0.
      if (id !== 0 || count !== 0) invalidId(exp, dom, id, sink);
      return;
    }
    const next = p + 4 + count * 4;
    if (next > end) {
      sink.error(
        exp.address,
        'truncated',
        `template ${id} from ${describeDomain(exp, dom)} has ${count} fields but its flowset ends before them`,
      );
      return;
    }
    const fields: TemplateField[] = [];
    for (let q = p + 4; q < next; q += 4) {
      const length = buf.readUInt16BE(q + 2);
      // Fields of length 0 carry nothing; some exporters pad templates with type 0 length 0
      // entries (logstash_nf9_0length_fields_tpl_data.dat): skip them rather than reject.
      if (length !== 0) fields.push({ id: buf.readUInt16BE(q), enterprise: 0, length });
    }
    h.template(exp, dom, id, 'data', fields, 0, received, sink);
    p = next;
  }
}

function optionsTemplateFlowSet(
  buf: Buffer,
  off: number,
  end: number,
  exp: ExporterState,
  dom: DomainState,
  h: TemplateSetHandler,
  received: number,
  sink: DecodeSink,
): void {
  let p = off;
  while (p + 6 <= end) {
    const id = buf.readUInt16BE(p);
    const scopeLen = buf.readUInt16BE(p + 2);
    const optionLen = buf.readUInt16BE(p + 4);
    if (id < FIRST_DATA_FLOWSET) {
      if (id !== 0 || scopeLen !== 0 || optionLen !== 0) invalidId(exp, dom, id, sink);
      return;
    }
    // Lengths are in bytes of (type, length) pairs (RFC 3954 section 6.1).
    if (scopeLen % 4 !== 0 || optionLen % 4 !== 0) {
      sink.error(
        exp.address,
        'template_invalid',
        `options template ${id} from ${describeDomain(exp, dom)}: scope/option lengths ${scopeLen}/${optionLen} are not multiples of 4; flowset skipped`,
      );
      return;
    }
    const next = p + 6 + scopeLen + optionLen;
    if (next > end) {
      sink.error(
        exp.address,
        'truncated',
        `options template ${id} from ${describeDomain(exp, dom)} ends past its flowset`,
      );
      return;
    }
    const fields: TemplateField[] = [];
    const scopeEnd = p + 6 + scopeLen;
    let scopeCount = 0;
    for (let q = p + 6; q < next; q += 4) {
      const type = buf.readUInt16BE(q);
      const length = buf.readUInt16BE(q + 2);
      if (length === 0) continue;
      if (q < scopeEnd) {
        fields.push({ id: V9_SCOPE_TO_ELEMENT[type] ?? 144, enterprise: 0, length });
        scopeCount++;
      } else {
        fields.push({ id: type, enterprise: 0, length });
      }
    }
    h.template(exp, dom, id, 'options', fields, scopeCount, received, sink);
    p = next;
  }
}

function invalidId(exp: ExporterState, dom: DomainState, id: number, sink: DecodeSink): void {
  sink.error(
    exp.address,
    'template_invalid',
    `template id ${id} from ${describeDomain(exp, dom)} is below 256: rest of template flowset skipped`,
  );
}
