import { FlowRecord } from '../../record/flow-record.js';
import type { Datagram } from '../datagram.js';
import type { DecoderSettings } from '../settings.js';
import type { DecodeSink } from '../sink.js';
import {
  type MessageContext,
  RecordScratch,
  type TemplateField,
  type TemplateProtocol,
  VARIABLE_LENGTH,
} from './contract.js';
import { decodeIpfixMessages } from './ipfix.js';
import { decodeNetflow9Message } from './netflow9.js';
import { finishRecord, recordSamplingRate } from './record-finish.js';

import {
  allZero,
  type DomainState,
  describeDomain,
  type ExporterState,
  restoreState,
  type SavedState,
  type StoredTemplate,
  saveStoreState,
  type TemplateKind,
  type TemplateSetHandler,
  TemplateStore,
} from './template-store.js';

/** Interface names kept per exporter (options data); beyond this, new ones are not stored. */
const MAX_INTERFACES_PER_EXPORTER = 65_536;

/** Per-exporter state summary for stats (`exporterStats()`). */
export interface TemplateExporterStats {
  exporter: string;
  /** UDP source port when the exporter is keyed by port. */
  port: number | null;
  /** IPFIX-over-TCP connection id, null for UDP. */
  connectionId: string | null;
  /** Templates + options templates held, over all domains. */
  templates: number;
  /** Restarts detected (uptime or sequence reset): templates learnt before were dropped. */
  restarts: number;
  lastSeenMs: number;
  /** Flow cache timeouts the exporter announced (v9 36/37 options data), seconds. */
  activeTimeoutSec: number | null;
  inactiveTimeoutSec: number | null;
}

/**
 * NetFlow v9 and IPFIX: the template-based protocols, sharing one template and sampling state
 * keyed by exporter (+ port when configured) + observation domain + template id. Framing lives in
 * netflow9.ts / ipfix.ts, state in template-store.ts; this class decodes data sets and applies
 * options data to the exporter state.
 */
export class TemplateDecoder implements TemplateSetHandler {
  readonly store: TemplateStore;
  /** Reused for every record and message: nothing per record but the FlowRecord itself. */
  private readonly scratch = new RecordScratch();
  private readonly ctx: MessageContext = {
    protocol: 'netflow9',
    exporter: '',
    exportTimeSec: 0,
    sysUptimeMs: null,
    receivedAtMs: 0,
    systemInitTimeMs: null,
  };

  constructor(readonly settings: DecoderSettings) {
    this.store = new TemplateStore(settings);
  }

  decodeNetflow9(d: Datagram, sink: DecodeSink): void {
    decodeNetflow9Message(d, this, sink);
  }

  decodeIpfix(d: Datagram, sink: DecodeSink): void {
    decodeIpfixMessages(d, this, sink);
  }

  /** Forget the state learnt over one IPFIX-over-TCP connection (it closed). */
  closeConnection(connectionId: string): void {
    this.store.closeConnection(connectionId);
  }

  /** UDP template/sampling state as a JSON-serialisable value (for the template DB file). */
  saveState(nowMs: number): SavedState {
    return saveStoreState(this.store, nowMs);
  }

  /**
   * Restore what `saveState` produced; expired entries are skipped. Returns templates loaded.
   * Throws an Error when the value is not a saved state (the caller names the file).
   */
  loadState(state: unknown, nowMs: number): number {
    return restoreState(this.store, state, nowMs);
  }

  /** Template count, detected restarts, last seen and announced timeouts per exporter. */
  exporterStats(): TemplateExporterStats[] {
    const out: TemplateExporterStats[] = [];
    for (const e of this.store.all()) {
      out.push({
        exporter: e.address,
        port: e.port,
        connectionId: e.connectionId,
        templates: e.templateCount,
        restarts: e.restarts,
        lastSeenMs: e.lastSeenMs,
        activeTimeoutSec: e.activeTimeoutSec,
        inactiveTimeoutSec: e.inactiveTimeoutSec,
      });
    }
    return out;
  }

  /** Interface name/description an exporter announced for an ifIndex (options data 82/83). */
  interfaceName(
    exporter: string,
    ifIndex: number,
  ): { name: string | null; description: string | null } | null {
    for (const e of this.store.all()) {
      if (e.address !== exporter) continue;
      const i = e.interfaces.get(ifIndex);
      if (i !== undefined) return i;
    }
    return null;
  }

  // ---- TemplateSetHandler: called by netflow9.ts / ipfix.ts ----

  beginMessage(
    protocol: TemplateProtocol,
    exporter: string,
    exportTimeSec: number,
    sysUptimeMs: number | null,
    receivedAtMs: number,
    dom: DomainState,
  ): void {
    const ctx = this.ctx;
    ctx.protocol = protocol;
    ctx.exporter = exporter;
    ctx.exportTimeSec = exportTimeSec;
    ctx.sysUptimeMs = sysUptimeMs;
    ctx.receivedAtMs = receivedAtMs;
    ctx.systemInitTimeMs = dom.systemInitTimeMs;
  }

  template(
    exp: ExporterState,
    dom: DomainState,
    id: number,
    kind: TemplateKind,
    fields: TemplateField[],
    scopeFieldCount: number,
    receivedAtMs: number,
    sink: DecodeSink,
  ): void {
    const limits = this.settings.limits;
    const what = `${kind === 'options' ? 'options template' : 'template'} ${id} from ${describeDomain(exp, dom)}`;
    if (fields.length === 0) {
      sink.error(exp.address, 'template_invalid', `${what} has no fields: ignored`);
      return;
    }
    if (fields.length > limits.maxFieldsPerTemplate) {
      sink.error(
        exp.address,
        'template_invalid',
        `${what} has more than ${limits.maxFieldsPerTemplate} fields (decode.maxfieldspertemplate): ignored`,
      );
      return;
    }
    for (const f of fields) {
      if (f.length !== VARIABLE_LENGTH && f.length > limits.maxFieldLength) {
        sink.error(
          exp.address,
          'field_too_long',
          `${what}: field ${f.enterprise === 0 ? f.id : `${f.enterprise}/${f.id}`} is ${f.length} bytes, over decode.maxfieldlength ${limits.maxFieldLength}: template ignored`,
        );
        return;
      }
    }
    if (this.store.defineTemplate(exp, dom, id, kind, fields, scopeFieldCount, receivedAtMs) === 'limit') {
      const full = exp.templateCount >= limits.maxTemplatesPerExporter;
      sink.error(
        exp.address,
        'template_limit',
        full
          ? `${what} not stored: exporter already has ${limits.maxTemplatesPerExporter} templates (decode.maxtemplatesperexporter)`
          : `${what} not stored: the templates shared by all exporters are used up (decode.maxtemplates ${limits.maxTemplates}; each exporter keeps ${this.store.templateReserve} of its own)`,
      );
    }
  }

  dataSet(
    buf: Buffer,
    off: number,
    end: number,
    templateId: number,
    exp: ExporterState,
    dom: DomainState,
    receivedAtMs: number,
    sink: DecodeSink,
  ): number {
    const tpl = this.store.template(exp, dom, templateId, receivedAtMs);
    if (tpl === undefined) {
      sink.error(
        exp.address,
        'template_unknown',
        `template ${templateId} from ${describeDomain(exp, dom)} unknown: ${end - off} bytes of records skipped`,
      );
      return -1;
    }
    if (tpl.kind === 'options') return this.optionsRecords(buf, off, end, tpl, exp, dom, sink);

    const compiled = tpl.compiled;
    const scratch = this.scratch;
    const ctx = this.ctx;
    const lookup = dom.lookup;
    const settings = exp.settings;
    const address = exp.address;
    const version = dom.protocol === 'netflow9' ? 9 : 10;
    const uptime = ctx.sysUptimeMs;
    const timestamp = Math.floor(receivedAtMs / 1000);
    // Fewer bytes than the smallest record left: padding (RFC 3954 5.3, RFC 7011 3.3.1).
    const min = compiled.minRecordLength > 0 ? compiled.minRecordLength : 1;
    let p = off;
    let n = 0;
    while (end - p >= min) {
      const rec = new FlowRecord();
      const next = compiled.read(buf, p, end, rec, scratch);
      if (next <= p) {
        if (next < 0 && this.recordDoesNotFit(buf, p, end, tpl, exp, dom, sink)) return -1;
        break;
      }
      rec.flowsrcip = address;
      rec.flowtype = 'netflow';
      rec.flowversion = version;
      rec.timestamp = timestamp;
      rec.uptime = uptime;
      finishRecord(rec, scratch, ctx, lookup, settings, sink);
      sink.record(rec);
      n++;
      p = next;
    }
    if (n > 0) exp.productive = true;
    return n;
  }

  /** Options data records: no flow records, they update the exporter state instead. */
  private optionsRecords(
    buf: Buffer,
    off: number,
    end: number,
    tpl: StoredTemplate,
    exp: ExporterState,
    dom: DomainState,
    sink: DecodeSink,
  ): number {
    const compiled = tpl.compiled;
    const scratch = this.scratch;
    const min = compiled.minRecordLength > 0 ? compiled.minRecordLength : 1;
    let p = off;
    let n = 0;
    while (end - p >= min) {
      const next = compiled.read(buf, p, end, new FlowRecord(), scratch);
      if (next <= p) {
        if (next < 0 && this.recordDoesNotFit(buf, p, end, tpl, exp, dom, sink)) return -1;
        break;
      }
      this.applyOptions(scratch, exp, dom, sink);
      n++;
      p = next;
    }
    return n;
  }

  private applyOptions(s: RecordScratch, exp: ExporterState, dom: DomainState, sink: DecodeSink): void {
    const rate = recordSamplingRate(s);
    if (rate !== null) {
      // Sampling by interface scope (v9 scope 2) is not modelled: such a rate applies exporter-wide.
      const id = s.samplerId ?? s.selectorId ?? null;
      // Sampler ids are bounded like templates: one id per options record would otherwise let an
      // exporter grow the table without end.
      const max = this.settings.limits.maxTemplatesPerExporter;
      if (!exp.learnSamplingRate(dom, id, rate, max)) {
        sink.error(
          exp.address,
          'template_limit',
          `sampler ${id} from ${describeDomain(exp, dom)} (rate ${rate}) not stored: sampler table full, already ${max} samplers (decode.maxtemplatesperexporter)`,
        );
      }
    }
    if (s.activeTimeoutSec !== null) exp.activeTimeoutSec = s.activeTimeoutSec;
    if (s.inactiveTimeoutSec !== null) exp.inactiveTimeoutSec = s.inactiveTimeoutSec;
    if (s.interfaceIndex !== null && (s.interfaceName !== null || s.interfaceDescription !== null)) {
      if (exp.interfaces.size < MAX_INTERFACES_PER_EXPORTER || exp.interfaces.has(s.interfaceIndex)) {
        exp.interfaces.set(s.interfaceIndex, { name: s.interfaceName, description: s.interfaceDescription });
      }
    }
    if (s.systemInitTimeMs !== null) {
      dom.systemInitTimeMs = s.systemInitTimeMs;
      // Data sets after this one in the same message are read against it already.
      this.ctx.systemInitTimeMs = s.systemInitTimeMs;
    }
  }

  /**
   * Cold path: a record the compiled reader could not fit. Walks the template again to tell a
   * variable-length field over the limit (field_too_long) from a cut record (truncated); zero
   * bytes are padding. Returns false for padding, true when records were skipped (reported).
   */
  private recordDoesNotFit(
    buf: Buffer,
    p: number,
    end: number,
    tpl: StoredTemplate,
    exp: ExporterState,
    dom: DomainState,
    sink: DecodeSink,
  ): boolean {
    if (allZero(buf, p, end)) return false;
    const limit = this.settings.limits.maxFieldLength;
    let q = p;
    for (const f of tpl.fields) {
      if (f.length !== VARIABLE_LENGTH) {
        q += f.length;
        continue;
      }
      if (q >= end) break;
      let l = buf[q++];
      if (l === 255) {
        if (q + 2 > end) break;
        l = buf.readUInt16BE(q);
        q += 2;
      }
      if (l > limit) {
        sink.error(
          exp.address,
          'field_too_long',
          `template ${tpl.id} from ${describeDomain(exp, dom)}: variable-length field ${f.id} of ${l} bytes is over decode.maxfieldlength ${limit}: rest of set skipped`,
        );
        return true;
      }
      q += l;
    }
    sink.error(
      exp.address,
      'truncated',
      `template ${tpl.id} from ${describeDomain(exp, dom)}: record cut short (${end - p} bytes left): rest of set skipped`,
    );
    return true;
  }
}
