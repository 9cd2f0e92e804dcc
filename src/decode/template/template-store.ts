import type { DecoderSettings, ExporterDecodeSettings } from '../settings.js';
import type { DecodeSink } from '../sink.js';
import type { CompiledTemplate, SamplingLookup, TemplateField, TemplateProtocol } from './contract.js';
import { compileTemplate } from './field-compiler.js';
import { SamplingTable } from './sampling-table.js';

export type TemplateKind = 'data' | 'options';

/** Expired templates are swept at most this often per exporter when its template limit is hit. */
const SWEEP_INTERVAL_MS = 1000;

/** A template as received, with its compiled reader. */
export interface StoredTemplate {
  readonly id: number;
  readonly kind: TemplateKind;
  readonly fields: readonly TemplateField[];
  /** Options templates: how many leading fields are scope fields (0 for data templates). */
  readonly scopeFieldCount: number;
  readonly compiled: CompiledTemplate;
  /** Last time the exporter (re)sent it, epoch ms: templates not refreshed within the TTL expire. */
  refreshedAtMs: number;
}

/** What `defineTemplate` did, so the caller can report it. */
export type DefineResult = 'added' | 'replaced' | 'refreshed' | 'limit';

/**
 * One NetFlow v9 source id / IPFIX observation domain of one exporter: its templates, sampling
 * rates and the header values restart detection compares against.
 */
export class DomainState {
  readonly templates = new Map<number, StoredTemplate>();
  readonly sampling = new SamplingTable();
  /** 160 systemInitTimeMilliseconds from options data: the base of IPFIX sysUpTime times. */
  systemInitTimeMs: number | null = null;
  /** Domain rates first, then any rate the exporter announced in another domain (bound once). */
  readonly lookup: SamplingLookup;

  // restart detection (see netflow9.ts / ipfix.ts)
  /** v9: header sysUptime of the last message. */
  lastUptimeMs: number | null = null;
  /** v9: last package sequence; IPFIX: the sequence number expected next. */
  lastSequence: number | null = null;
  /** v9 unix_secs of the last message; IPFIX: latest export time (s). */
  lastExportTimeSec = 0;

  constructor(
    readonly protocol: TemplateProtocol,
    readonly id: number,
    exporterSampling: SamplingTable,
  ) {
    const own = this.sampling;
    this.lookup = (samplerId) => own.rateFor(samplerId) ?? exporterSampling.rateFor(samplerId);
  }
}

/** Templates held over all exporters (decode.maxtemplates bounds it). */
export interface TemplateTally {
  held: number;
  /**
   * Templates each exporter may hold whatever the others do: a flood of spoofed exporters can use
   * up the shared pool but not an exporter's own share, so a real exporter that sends a new
   * template during the flood still has it decoded.
   */
  readonly reserve: number;
  /** Templates beyond each exporter's reserve: what the shared pool holds. */
  pooled: number;
}

/**
 * The reserve per exporter: half of decode.maxtemplates spread over decode.maxexporters (5 with
 * the defaults; 0 when maxtemplates is below twice maxexporters); the other half is the shared
 * pool, so the UDP exporters' templates all fit within maxTemplates. (IPFIX-over-TCP sessions,
 * bounded by flow.tcpmaxconnections instead, have a reserve each too.)
 */
export function templateReserve(maxTemplates: number, maxExporters: number): number {
  return Math.floor(maxTemplates / maxExporters / 2);
}

/** Per exporter (address, or address + UDP port, or one IPFIX-over-TCP connection). */
export class ExporterState {
  readonly domains = new Map<string, DomainState>();
  /** Every rate learnt in any of this exporter's domains (fallback for the others). */
  readonly sampling = new SamplingTable();
  private held = 0;
  /** When expired templates were last swept (see TemplateStore.defineTemplate). */
  sweptAtMs = Number.NEGATIVE_INFINITY;
  restarts = 0;
  lastSeenMs = 0;
  /**
   * Flow records have been decoded from it. When the shared template pool is full, exporters that
   * never sent any (the spoofed sources of a template flood) give their templates up to those that
   * did, so a real exporter's new template is decoded during a flood.
   */
  productive = false;
  /** v9 36/37 (options data): the exporter's flow cache timeouts, seconds. */
  activeTimeoutSec: number | null = null;
  inactiveTimeoutSec: number | null = null;
  /** 82/83 interfaceName/Description by ifIndex, from options data. */
  readonly interfaces = new Map<number, { name: string | null; description: string | null }>();
  /**
   * Appended to sequence stream names (`ipfix:0@2055`, `v9:1@tcp:c7`): streams are keyed like
   * templates, so that exporting processes behind one address (keyByPort) or several TCP
   * connections never mix their counters. Empty in the common case (`ipfix:0`).
   */
  readonly streamSuffix: string;

  constructor(
    readonly key: string,
    readonly address: string,
    /** UDP source port when the exporter is keyed by port, else null. */
    readonly port: number | null,
    readonly connectionId: string | null,
    readonly settings: ExporterDecodeSettings,
    private readonly tally: TemplateTally = { held: 0, reserve: 0, pooled: 0 },
  ) {
    this.streamSuffix = connectionId !== null ? `@tcp:${connectionId}` : port !== null ? `@${port}` : '';
  }

  /**
   * The state of one observation domain / source id, created on first sight; null when the
   * exporter already has `maxDomains` of them (a hostile exporter cycling through ids must not
   * grow memory: the bound is the per-exporter template limit, as every useful domain holds at
   * least one template).
   */
  get templateCount(): number {
    return this.held;
  }

  /** Every change of the count goes through here, so the store-wide tally stays exact. */
  countTemplates(delta: number): void {
    const t = this.tally;
    const pooledBefore = Math.max(0, this.held - t.reserve);
    this.held += delta;
    t.held += delta;
    t.pooled += Math.max(0, this.held - t.reserve) - pooledBefore;
  }

  domain(protocol: TemplateProtocol, id: number, maxDomains: number): DomainState | null {
    const k = protocol === 'netflow9' ? `v9:${id}` : `ipfix:${id}`;
    let dom = this.domains.get(k);
    if (dom === undefined) {
      if (this.domains.size >= maxDomains) return null;
      dom = new DomainState(protocol, id, this.sampling);
      this.domains.set(k, dom);
    }
    return dom;
  }

  removeTemplate(dom: DomainState, id: number): boolean {
    if (!dom.templates.delete(id)) return false;
    this.countTemplates(-1);
    return true;
  }

  /** Drops templates of every domain last refreshed before `cutoffMs`; returns how many. */
  removeExpired(cutoffMs: number): number {
    let n = 0;
    for (const dom of this.domains.values()) {
      for (const t of dom.templates.values()) {
        if (t.refreshedAtMs < cutoffMs) {
          dom.templates.delete(t.id);
          n++;
        }
      }
    }
    this.countTemplates(-n);
    return n;
  }

  /**
   * Stores a sampler's rate in the domain and exporter tables. False, and nothing changed, for a
   * new sampler id once the exporter holds `max` of them: options data naming ever new ids must
   * not grow memory without bound. Known ids are still updated.
   */
  learnSamplingRate(dom: DomainState, samplerId: number | null, rate: number, max: number): boolean {
    // Every id of a domain table is in the exporter table too, so this bounds both.
    if (!this.sampling.has(samplerId) && this.sampling.size >= max) return false;
    dom.sampling.set(samplerId, rate);
    this.sampling.set(samplerId, rate);
    return true;
  }

  /** IPFIX "withdraw all" (RFC 7011 section 8.1), or every kind when `kind` is null. */
  removeAll(dom: DomainState, kind: TemplateKind | null): number {
    let n = 0;
    for (const t of dom.templates.values()) {
      if (kind === null || t.kind === kind) {
        dom.templates.delete(t.id);
        n++;
      }
    }
    this.countTemplates(-n);
    return n;
  }

  /**
   * The exporter restarted: templates learnt before (or loaded from the template DB) may now mean
   * something else, and its boot time changed. Templates it re-sends after the restart are learnt
   * again as they come. Sampling rates are kept: they are configuration, not boot state.
   */
  restarted(dom: DomainState): void {
    this.removeAll(dom, null);
    dom.systemInitTimeMs = null;
    this.restarts++;
  }
}

function sameFields(a: readonly TemplateField[], b: readonly TemplateField[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.id !== y.id || x.enterprise !== y.enterprise || x.length !== y.length) return false;
  }
  return true;
}

/**
 * All template/sampling state of one decoder, bounded by `settings.limits` (a flood of spoofed
 * exporters or templates must not exhaust memory).
 */
export class TemplateStore {
  private readonly exporters = new Map<string, ExporterState>();
  private readonly byConnection = new Map<string, ExporterState>();
  private readonly settingsCache = new Map<string, ExporterDecodeSettings>();
  private readonly tally: TemplateTally;
  /** decode.maxtemplates less every exporter's reserve. */
  private readonly poolSize: number;
  /** When every exporter's expired templates were last swept (decode.maxtemplates reached). */
  private sweptAllAtMs = Number.NEGATIVE_INFINITY;
  private evictedAtMs = Number.NEGATIVE_INFINITY;
  /** Exporters that never sent a record whose templates went to a productive exporter. */
  exportersReclaimed = 0;
  /** Exporters dropped after limits.exporterIdleMs of silence to make room (table full). */
  exportersEvicted = 0;

  constructor(readonly settings: DecoderSettings) {
    const { maxTemplates, maxExporters } = settings.limits;
    const reserve = templateReserve(maxTemplates, maxExporters);
    this.tally = { held: 0, reserve, pooled: 0 };
    this.poolSize = Math.max(0, maxTemplates - maxExporters * reserve);
  }

  exporterSettings(address: string): ExporterDecodeSettings {
    let s = this.settingsCache.get(address);
    if (s === undefined) {
      // Bounded like the exporter table: addresses beyond it are looked up again, not cached.
      s = this.settings.exporterSettings(address);
      if (this.settingsCache.size < this.settings.limits.maxExporters * 2) this.settingsCache.set(address, s);
    }
    return s;
  }

  /**
   * The state of an exporter, created on first sight; null when the exporter limit is reached and
   * no exporter has been silent long enough to make room (`nowMs`: the datagram's receive time).
   */
  exporter(
    address: string,
    srcPort: number,
    connectionId: string | null,
    nowMs?: number,
  ): ExporterState | null {
    const settings = this.exporterSettings(address);
    return this.exporterByKey(address, settings.keyByPort ? srcPort : null, connectionId, settings, nowMs);
  }

  /** `port` only when the exporter is keyed by port (ignored over TCP). */
  exporterByKey(
    address: string,
    port: number | null,
    connectionId: string | null,
    settings: ExporterDecodeSettings,
    nowMs?: number,
  ): ExporterState | null {
    // Over TCP the connection is the transport session of RFC 7011 section 8: templates are its own.
    if (connectionId !== null) port = null;
    const key =
      connectionId !== null
        ? `${address} tcp ${connectionId}`
        : port !== null
          ? `${address.includes(':') ? `[${address}]` : address}:${port}`
          : address;
    let exp = this.exporters.get(key);
    if (exp === undefined) {
      // TCP sessions are bounded by flow.tcpmaxconnections and cannot be spoofed: a table filled
      // by spoofed UDP sources must not lock out an exporter that connects.
      if (connectionId === null && this.udpExporters() >= this.settings.limits.maxExporters) {
        if (nowMs === undefined || !this.evictIdle(nowMs)) return null;
      }
      exp = new ExporterState(key, address, port, connectionId, settings, this.tally);
      this.exporters.set(key, exp);
      if (connectionId !== null) this.byConnection.set(connectionId, exp);
    }
    return exp;
  }

  private udpExporters(): number {
    return this.exporters.size - this.byConnection.size;
  }

  /**
   * With the exporter table full, exporters silent for limits.exporterIdleMs make room (at most one
   * scan a second); true if any went. Exporters that keep sending, if only template refreshes, stay.
   */
  private evictIdle(nowMs: number, keep: ExporterState | null = null): boolean {
    if (nowMs - this.evictedAtMs < SWEEP_INTERVAL_MS && nowMs >= this.evictedAtMs) return false;
    this.evictedAtMs = nowMs;
    let n = 0;
    for (const [key, e] of this.exporters) {
      // A TCP session's state lives as long as its connection (closeConnection removes it).
      if (e === keep || e.connectionId !== null) continue;
      if (nowMs - e.lastSeenMs < this.settings.limits.exporterIdleMs) continue;
      e.countTemplates(-e.templateCount);
      this.exporters.delete(key);
      n++;
    }
    this.exportersEvicted += n;
    return n > 0;
  }

  closeConnection(connectionId: string): void {
    const exp = this.byConnection.get(connectionId);
    if (exp === undefined) return;
    this.byConnection.delete(connectionId);
    exp.countTemplates(-exp.templateCount);
    this.exporters.delete(exp.key);
  }

  /**
   * Frees pooled templates for a productive exporter: every template of the first exporter that
   * has sent none but holds more than its reserve. True when the pool has room again.
   */
  private evictUnproductive(exp: ExporterState): boolean {
    const reserve = this.tally.reserve;
    for (const e of this.exporters.values()) {
      if (e === exp || e.productive || e.templateCount <= reserve) continue;
      for (const dom of e.domains.values()) e.removeAll(dom, null);
      this.exportersReclaimed++;
      if (!this.poolFull(exp)) return true;
    }
    return false;
  }

  /** Whether a new template of `exp` would go to the shared pool, and the pool is full. */
  private poolFull(exp: ExporterState): boolean {
    return exp.templateCount >= this.tally.reserve && this.tally.pooled >= this.poolSize;
  }

  /** Templates each exporter may hold however full the shared pool is. */
  get templateReserve(): number {
    return this.tally.reserve;
  }

  /** Templates held now over all exporters. */
  get templatesHeld(): number {
    return this.tally.held;
  }

  all(): IterableIterator<ExporterState> {
    return this.exporters.values();
  }

  /**
   * Stores (or refreshes) a template. A redefinition with other fields replaces and recompiles it
   * (RFC 7011 section 8.1 allows reuse of an id after withdrawal; v9 exporters just resend).
   */
  defineTemplate(
    exp: ExporterState,
    dom: DomainState,
    id: number,
    kind: TemplateKind,
    fields: TemplateField[],
    scopeFieldCount: number,
    nowMs: number,
  ): DefineResult {
    const old = dom.templates.get(id);
    if (old !== undefined && old.kind === kind && sameFields(old.fields, fields)) {
      old.refreshedAtMs = nowMs;
      return 'refreshed';
    }
    const limits = this.settings.limits;
    if (old === undefined && exp.templateCount >= limits.maxTemplatesPerExporter) {
      // Expired templates only leave when data refers to them: sweep this exporter's before
      // refusing, at most once a second so that a template flood costs no scan per template.
      if (nowMs - exp.sweptAtMs >= SWEEP_INTERVAL_MS || nowMs < exp.sweptAtMs) {
        exp.sweptAtMs = nowMs;
        exp.removeExpired(nowMs - limits.templateTtlMs);
      }
      if (exp.templateCount >= limits.maxTemplatesPerExporter) return 'limit';
    }
    if (old === undefined && this.poolFull(exp)) {
      // Room comes from expired templates, then from exporters silent for exporterIdleMs (the
      // spoofed sources of a flood that has ended).
      if (nowMs - this.sweptAllAtMs >= SWEEP_INTERVAL_MS || nowMs < this.sweptAllAtMs) {
        this.sweptAllAtMs = nowMs;
        for (const e of this.exporters.values()) e.removeExpired(nowMs - limits.templateTtlMs);
        if (this.poolFull(exp)) this.evictIdle(nowMs, exp);
      }
      if (this.poolFull(exp) && !(exp.productive && this.evictUnproductive(exp))) return 'limit';
    }
    const compiled = compileTemplate(fields, dom.protocol, this.settings);
    dom.templates.set(id, { id, kind, fields, scopeFieldCount, compiled, refreshedAtMs: nowMs });
    if (old === undefined) {
      exp.countTemplates(1);
      return 'added';
    }
    return 'replaced';
  }

  /** A template still valid at `nowMs` (expired ones are dropped here), or undefined. */
  template(exp: ExporterState, dom: DomainState, id: number, nowMs: number): StoredTemplate | undefined {
    const t = dom.templates.get(id);
    if (t !== undefined && nowMs - t.refreshedAtMs > this.settings.limits.templateTtlMs) {
      exp.removeTemplate(dom, id);
      return undefined;
    }
    return t;
  }
}

/** "10.0.0.1 domain 0" / "10.0.0.1:2055 source id 3": how messages name where a template lives. */
export function describeDomain(exp: ExporterState, dom: DomainState): string {
  const who = exp.port !== null ? exp.key : exp.address;
  return dom.protocol === 'netflow9' ? `${who} source id ${dom.id}` : `${who} domain ${dom.id}`;
}

/** Zero padding (RFC 3954 5.3, RFC 7011 3.3.1) rather than garbage. */
export function allZero(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** What the v9 and IPFIX framing code (netflow9.ts, ipfix.ts) needs from the decoder. */
export interface TemplateSetHandler {
  readonly store: TemplateStore;
  /** Sets the context the records of one message are interpreted against. */
  beginMessage(
    protocol: TemplateProtocol,
    exporter: string,
    exportTimeSec: number,
    sysUptimeMs: number | null,
    receivedAtMs: number,
    dom: DomainState,
  ): void;
  /** A template or options template as parsed (limits checked here). */
  template(
    exp: ExporterState,
    dom: DomainState,
    id: number,
    kind: TemplateKind,
    fields: TemplateField[],
    scopeFieldCount: number,
    receivedAtMs: number,
    sink: DecodeSink,
  ): void;
  /**
   * The records of one data set buf[off, end); returns how many data records it held, or -1 when
   * that is unknown (template unknown, or the rest of the set skipped after a bad record).
   */
  dataSet(
    buf: Buffer,
    off: number,
    end: number,
    templateId: number,
    exp: ExporterState,
    dom: DomainState,
    receivedAtMs: number,
    sink: DecodeSink,
  ): number;
}

// ---- saved state (the template DB file content; see src/state/template-db.ts) ----

export interface SavedTemplate {
  id: number;
  kind: TemplateKind;
  scopeFieldCount: number;
  /** [element id, enterprise, length] */
  fields: [number, number, number][];
  refreshedAtMs: number;
}

export interface SavedDomain {
  protocol: TemplateProtocol;
  id: number;
  systemInitTimeMs: number | null;
  /** [sampler id or null for exporter-wide, 1-in-N rate] */
  sampling: [number | null, number][];
  // kept so that a restart of the exporter while the collector was down is still detected
  lastUptimeMs: number | null;
  lastSequence: number | null;
  lastExportTimeSec: number;
  templates: SavedTemplate[];
}

export interface SavedExporter {
  address: string;
  port: number | null;
  activeTimeoutSec: number | null;
  inactiveTimeoutSec: number | null;
  /** [ifIndex, name, description] */
  interfaces: [number, string | null, string | null][];
  domains: SavedDomain[];
}

export interface SavedState {
  version: 1;
  savedAtMs: number;
  exporters: SavedExporter[];
}

/** UDP state only: IPFIX-over-TCP templates die with their connection (RFC 7011 section 8). */
export function saveStoreState(store: TemplateStore, nowMs: number): SavedState {
  const ttl = store.settings.limits.templateTtlMs;
  const exporters: SavedExporter[] = [];
  for (const e of store.all()) {
    if (e.connectionId !== null) continue;
    const domains: SavedDomain[] = [];
    for (const d of e.domains.values()) {
      const templates: SavedTemplate[] = [];
      for (const t of d.templates.values()) {
        if (nowMs - t.refreshedAtMs > ttl) continue;
        templates.push({
          id: t.id,
          kind: t.kind,
          scopeFieldCount: t.scopeFieldCount,
          fields: t.fields.map((f): [number, number, number] => [f.id, f.enterprise, f.length]),
          refreshedAtMs: t.refreshedAtMs,
        });
      }
      domains.push({
        protocol: d.protocol,
        id: d.id,
        systemInitTimeMs: d.systemInitTimeMs,
        sampling: d.sampling.entries(),
        lastUptimeMs: d.lastUptimeMs,
        lastSequence: d.lastSequence,
        lastExportTimeSec: d.lastExportTimeSec,
        templates,
      });
    }
    exporters.push({
      address: e.address,
      port: e.port,
      activeTimeoutSec: e.activeTimeoutSec,
      inactiveTimeoutSec: e.inactiveTimeoutSec,
      interfaces: [...e.interfaces].map(([i, v]): [number, string | null, string | null] => [
        i,
        v.name,
        v.description,
      ]),
      domains,
    });
  }
  return { version: 1, savedAtMs: nowMs, exporters };
}

class BadState extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function num(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadState(`"${k}" is not a number`);
  return v;
}
function numOrNull(o: Record<string, unknown>, k: string): number | null {
  return o[k] === null || o[k] === undefined ? null : num(o, k);
}
function arr(o: Record<string, unknown>, k: string): unknown[] {
  const v = o[k];
  if (!Array.isArray(v)) throw new BadState(`"${k}" is not a list`);
  return v;
}
function strOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * Restores `saveStoreState` output into `store` (merging with what it holds). Templates older than
 * the TTL are skipped, limits apply as for received templates. Returns templates loaded; throws
 * an Error saying what is wrong when `value` is not a saved state.
 */
export function restoreState(store: TemplateStore, value: unknown, nowMs: number): number {
  try {
    // Validate everything on a throwaway store first: a corrupt file changes nothing.
    restore(new TemplateStore(store.settings), value, nowMs);
    return restore(store, value, nowMs);
  } catch (e) {
    if (e instanceof BadState) throw new Error(`not a Flowgate template state: ${e.message}`);
    throw e;
  }
}

function restore(store: TemplateStore, value: unknown, nowMs: number): number {
  if (!isObject(value) || value.version !== 1) throw new BadState('missing "version": 1');
  const limits = store.settings.limits;
  let loaded = 0;
  for (const x of arr(value, 'exporters')) {
    if (!isObject(x) || typeof x.address !== 'string') throw new BadState('exporter without "address"');
    const settings = store.exporterSettings(x.address);
    const port = numOrNull(x, 'port');
    // Saved under another keyByPort setting: unkeyed state cannot be split by port, keyed state
    // is merged into the address.
    if (settings.keyByPort && port === null) continue;
    const exp = store.exporterByKey(x.address, settings.keyByPort ? port : null, null, settings);
    if (exp === null) break;
    exp.activeTimeoutSec = numOrNull(x, 'activeTimeoutSec');
    exp.inactiveTimeoutSec = numOrNull(x, 'inactiveTimeoutSec');
    for (const i of arr(x, 'interfaces')) {
      if (Array.isArray(i) && typeof i[0] === 'number') {
        exp.interfaces.set(i[0], { name: strOrNull(i[1]), description: strOrNull(i[2]) });
      }
    }
    for (const y of arr(x, 'domains')) {
      if (!isObject(y) || (y.protocol !== 'netflow9' && y.protocol !== 'ipfix')) {
        throw new BadState(`domain of ${x.address} without a protocol`);
      }
      const dom = exp.domain(y.protocol, num(y, 'id'), limits.maxTemplatesPerExporter);
      if (dom === null) continue;
      dom.systemInitTimeMs = numOrNull(y, 'systemInitTimeMs');
      dom.lastUptimeMs = numOrNull(y, 'lastUptimeMs');
      dom.lastSequence = numOrNull(y, 'lastSequence');
      dom.lastExportTimeSec = num(y, 'lastExportTimeSec');
      for (const s of arr(y, 'sampling')) {
        if (!Array.isArray(s) || (s[0] !== null && typeof s[0] !== 'number') || typeof s[1] !== 'number') {
          throw new BadState(`bad sampling entry for ${x.address}`);
        }
        // Beyond the bound (a file written with a higher limit) further samplers are not loaded.
        exp.learnSamplingRate(dom, s[0], s[1], limits.maxTemplatesPerExporter);
      }
      for (const t of arr(y, 'templates')) {
        if (!isObject(t) || (t.kind !== 'data' && t.kind !== 'options')) {
          throw new BadState(`template of ${x.address} without a kind`);
        }
        const refreshedAtMs = num(t, 'refreshedAtMs');
        if (nowMs - refreshedAtMs > limits.templateTtlMs) continue;
        const fields: TemplateField[] = [];
        for (const f of arr(t, 'fields')) {
          if (!Array.isArray(f) || f.length !== 3 || !f.every((n) => Number.isInteger(n) && n >= 0)) {
            throw new BadState(`bad field in template ${String(t.id)} of ${x.address}`);
          }
          fields.push({ id: f[0], enterprise: f[1], length: f[2] });
        }
        if (fields.length === 0 || fields.length > limits.maxFieldsPerTemplate) continue;
        const r = store.defineTemplate(
          exp,
          dom,
          num(t, 'id'),
          t.kind,
          fields,
          num(t, 'scopeFieldCount'),
          refreshedAtMs,
        );
        if (r === 'added') loaded++;
      }
    }
  }
  return loaded;
}
