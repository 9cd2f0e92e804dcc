import type { Datagram } from '../datagram.js';
import type { DecodeSink } from '../sink.js';
import type { TemplateField } from './contract.js';
import type { DomainState, ExporterState, TemplateKind, TemplateSetHandler } from './template-store.js';
import { allZero, describeDomain } from './template-store.js';

/** RFC 7011 section 3.1: version, length, export time, sequence number, observation domain id. */
const HEADER_LENGTH = 16;
const SET_TEMPLATE = 2;
const SET_OPTIONS_TEMPLATE = 3;
const FIRST_DATA_SET = 256;
const ENTERPRISE_BIT = 0x8000;

/**
 * Data records (the unit of the IPFIX sequence number): a sequence this far behind the expected
 * one, in a message not older than the last, is a reset of the exporting process, not reordering.
 */
const SEQUENCE_RESET_WINDOW = 10_000;

/** RFC 7011 section 10.3.2 / 8: a sequence reset with a current export time means a restart. */
export function ipfixRestarted(dom: DomainState, exportTimeSec: number, sequence: number): boolean {
  const expected = dom.lastSequence;
  if (expected === null) return false;
  const back = (expected - sequence) >>> 0;
  return back > SEQUENCE_RESET_WINDOW && back < 2 ** 31 && exportTimeSec >= dom.lastExportTimeSec;
}

/**
 * Decodes an IPFIX datagram (RFC 7011): usually one message; messages back to back (an RFC 5655
 * file, or a TCP read holding several) are decoded in turn.
 */
export function decodeIpfixMessages(d: Datagram, h: TemplateSetHandler, sink: DecodeSink): void {
  const buf = d.payload;
  const len = buf.length;
  const exporter = d.srcAddress;
  // Counted like v5: a datagram too short for its header still arrived from this exporter.
  // Several messages back to back were sent together: the first one's export time stands for all.
  sink.datagram(exporter, 'ipfix', len, len < HEADER_LENGTH ? null : buf.readUInt32BE(4) * 1000);
  if (len < HEADER_LENGTH) {
    sink.error(
      exporter,
      'truncated',
      `IPFIX datagram of ${len} bytes from ${exporter} is shorter than its header`,
    );
    return;
  }
  const exp = h.store.exporter(exporter, d.srcPort, d.connectionId, d.receivedAtMs);
  if (exp === null) {
    sink.error(
      exporter,
      'exporter_limit',
      `IPFIX from ${exporter} dropped: already tracking ${h.store.settings.limits.maxExporters} exporters (decode.maxexporters), none silent for decode.exporteridle`,
    );
    return;
  }
  exp.lastSeenMs = d.receivedAtMs;
  let off = 0;
  while (len - off >= HEADER_LENGTH) {
    const version = buf.readUInt16BE(off);
    const msgLen = buf.readUInt16BE(off + 2);
    if (version !== 10) {
      sink.error(
        exporter,
        'unknown_version',
        `IPFIX datagram from ${exporter}: version ${version} at byte ${off}; rest skipped`,
      );
      return;
    }
    if (msgLen < HEADER_LENGTH) {
      sink.error(
        exporter,
        'bad_length',
        `IPFIX message from ${exporter} claims ${msgLen} bytes: rest skipped`,
      );
      return;
    }
    let end = off + msgLen;
    if (end > len) {
      sink.error(
        exporter,
        'truncated',
        `IPFIX message from ${exporter} claims ${msgLen} bytes, only ${len - off} received: decoding what is there`,
      );
      end = len;
    }
    decodeMessage(buf, off, end, exp, h, d.receivedAtMs, sink);
    off += msgLen;
  }
  if (off < len) {
    sink.error(
      exporter,
      'bad_length',
      `IPFIX datagram from ${exporter}: ${len - off} bytes after the last message ignored`,
    );
  }
}

function decodeMessage(
  buf: Buffer,
  start: number,
  end: number,
  exp: ExporterState,
  h: TemplateSetHandler,
  received: number,
  sink: DecodeSink,
): void {
  const exportTime = buf.readUInt32BE(start + 4);
  const sequence = buf.readUInt32BE(start + 8);
  const domainId = buf.readUInt32BE(start + 12);
  const dom = exp.domain('ipfix', domainId, h.store.settings.limits.maxTemplatesPerExporter);
  if (dom === null) {
    sink.error(
      exp.address,
      'template_limit',
      `observation domain ${domainId} from ${exp.address} not tracked: the exporter already has ${exp.domains.size} (decode.maxtemplatesperexporter): datagram skipped`,
    );
    return;
  }
  const restarted = ipfixRestarted(dom, exportTime, sequence);
  if (restarted) exp.restarted(dom);
  // A reordered older message must not pull the expected sequence back (it would hide a reset).
  const ahead = restarted || dom.lastSequence === null || (sequence - dom.lastSequence) >>> 0 < 2 ** 31;
  if (exportTime > dom.lastExportTimeSec) dom.lastExportTimeSec = exportTime;
  h.beginMessage('ipfix', exp.address, exportTime, null, received, dom);

  let records = 0;
  // A message cut short, or with a set that could not be decoded, carried an unknown number of
  // data records: counting only the decoded ones would show the rest as lost at the next message.
  let unknownCount = start + buf.readUInt16BE(start + 2) > end;
  let off = start + HEADER_LENGTH;
  while (off + 4 <= end) {
    const setId = buf.readUInt16BE(off);
    const setLen = buf.readUInt16BE(off + 2);
    if (setLen < 4 || off + setLen > end) {
      if (allZero(buf, off, end)) break;
      unknownCount = true;
      sink.error(
        exp.address,
        'bad_length',
        `IPFIX set ${setId} from ${describeDomain(exp, dom)} claims ${setLen} bytes, ${end - off} left in the message: rest of message skipped`,
      );
      break;
    }
    const setEnd = off + setLen;
    if (setId === SET_TEMPLATE) templateSet(buf, off + 4, setEnd, 'data', exp, dom, h, received, sink);
    else if (setId === SET_OPTIONS_TEMPLATE)
      templateSet(buf, off + 4, setEnd, 'options', exp, dom, h, received, sink);
    else if (setId >= FIRST_DATA_SET) {
      const n = h.dataSet(buf, off + 4, setEnd, setId, exp, dom, received, sink);
      if (n < 0) unknownCount = true;
      else records += n;
    }
    // 0, 1 (v9 ids) and 4-255 are reserved (RFC 7011 section 3.3.2): skipped.
    off = setEnd;
  }
  // RFC 7011 section 3.1: the sequence counts Data Records (options data included). -1: unknown,
  // the gap accounting resynchronises on the next message (DecodeSink.sequence).
  sink.sequence(exp.address, `ipfix:${domainId}${exp.streamSuffix}`, sequence, unknownCount ? -1 : records);
  // With an unknown count the decoded records are a lower bound: the next message is ahead of it,
  // never taken for a sequence reset.
  if (ahead) dom.lastSequence = (sequence + records) >>> 0;
}

/** A template set (2) or options template set (3), including withdrawals (RFC 7011 section 8.1). */
function templateSet(
  buf: Buffer,
  off: number,
  end: number,
  kind: TemplateKind,
  exp: ExporterState,
  dom: DomainState,
  h: TemplateSetHandler,
  received: number,
  sink: DecodeSink,
): void {
  const withdrawAllId = kind === 'data' ? SET_TEMPLATE : SET_OPTIONS_TEMPLATE;
  const headerLen = kind === 'data' ? 4 : 6;
  const limits = h.store.settings.limits;
  let p = off;
  while (p + 4 <= end) {
    const id = buf.readUInt16BE(p);
    const count = buf.readUInt16BE(p + 2);
    if (count === 0) {
      // Withdrawal records are 4 bytes in both set kinds (RFC 7011 section 8.1).
      if (id === withdrawAllId) exp.removeAll(dom, kind);
      else if (id >= FIRST_DATA_SET) exp.removeTemplate(dom, id);
      else if (id !== 0) invalid(exp, dom, `withdrawal of template id ${id}`, sink);
      // id 0 with count 0: padding at the end of the set.
      if (id === 0) return;
      p += 4;
      continue;
    }
    if (id < FIRST_DATA_SET) {
      invalid(exp, dom, `template id ${id} is below 256: rest of set skipped`, sink);
      return;
    }
    if (p + headerLen > end) break;
    const scopeCount = kind === 'options' ? buf.readUInt16BE(p + 4) : 0;
    let q = p + headerLen;
    const fields: TemplateField[] = [];
    let zeroLength = false;
    for (let i = 0; i < count; i++) {
      if (q + 4 > end) {
        sink.error(
          exp.address,
          'truncated',
          `template ${id} from ${describeDomain(exp, dom)} has ${count} fields but its set ends after ${i}`,
        );
        return;
      }
      let fieldId = buf.readUInt16BE(q);
      const length = buf.readUInt16BE(q + 2);
      q += 4;
      let enterprise = 0;
      if ((fieldId & ENTERPRISE_BIT) !== 0) {
        if (q + 4 > end) {
          sink.error(
            exp.address,
            'truncated',
            `template ${id} from ${describeDomain(exp, dom)} ends inside a field`,
          );
          return;
        }
        fieldId &= ~ENTERPRISE_BIT;
        enterprise = buf.readUInt32BE(q);
        q += 4;
      }
      if (length === 0) zeroLength = true;
      // Stop collecting past the limit (the rest is still walked to find the next template).
      if (fields.length <= limits.maxFieldsPerTemplate) fields.push({ id: fieldId, enterprise, length });
    }
    p = q;
    if (zeroLength) {
      // RFC 7011 section 3.2: a field length of 0 is not allowed (unlike v9 padding fields).
      invalid(exp, dom, `template ${id} has a field of length 0: template ignored`, sink);
      continue;
    }
    if (kind === 'options' && (scopeCount === 0 || scopeCount > count)) {
      invalid(
        exp,
        dom,
        `options template ${id} has scope field count ${scopeCount} of ${count}: template ignored`,
        sink,
      );
      continue;
    }
    h.template(exp, dom, id, kind, fields, scopeCount, received, sink);
  }
}

function invalid(exp: ExporterState, dom: DomainState, what: string, sink: DecodeSink): void {
  sink.error(exp.address, 'template_invalid', `${what} (from ${describeDomain(exp, dom)})`);
}
