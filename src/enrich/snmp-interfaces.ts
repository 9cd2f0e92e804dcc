/**
 * Interface names, aliases and speeds polled from the exporters themselves over SNMP (IF-MIB,
 * RFC 2863), for exporters that announce nothing in options data and are not configured.
 *
 * The hot path only reads a cache: `lookup` answers from what the last poll of that exporter
 * returned and, the first time it sees an exporter, starts a poll in the background. Polls are
 * bounded (one in flight per exporter, at most `maxExporters` exporters known) and refreshed every
 * `intervalSec`. A failed refresh keeps the previous answers: a stale interface name is more
 * useful than none while a device is briefly unreachable.
 */
import { type ColumnCell, SnmpSession, type SnmpUser } from './snmp-session.js';

export interface SnmpOptions {
  version: '2c' | '3';
  community: string;
  user?: SnmpUser;
  /** Agent UDP port (default 161). */
  port?: number;
  /** Refresh period of every known exporter (default 3600). */
  intervalSec?: number;
  /** Per request (default 2000); a poll of an unreachable agent fails after timeoutMs × (retries + 1). */
  timeoutMs?: number;
  retries?: number;
  /** Exporters beyond this many are not polled (default 1024): a spoofed-source flood cannot grow the table. */
  maxExporters?: number;
}

export interface SnmpInterface {
  name: string | null;
  alias: string | null;
  speedBps: number | null;
}

export interface SnmpExporterStatus {
  address: string;
  interfaces: number;
  /** When the last poll finished (Unix ms), successful or not. */
  lastPollMs: number | null;
  lastError: string | null;
  polls: number;
  failures: number;
}

export type SnmpLog = (msg: string, detail: object) => void;

// IF-MIB (RFC 2863) columns.
const IF_DESCR = '1.3.6.1.2.1.2.2.1.2';
const IF_NAME = '1.3.6.1.2.1.31.1.1.1.1';
const IF_HIGH_SPEED = '1.3.6.1.2.1.31.1.1.1.15';
const IF_ALIAS = '1.3.6.1.2.1.31.1.1.1.18';

interface ExporterState {
  interfaces: Map<number, SnmpInterface>;
  inFlight: Promise<void> | null;
  lastPollMs: number | null;
  lastError: string | null;
  polls: number;
  failures: number;
}

function text(value: ColumnCell['value']): string | null {
  if (value === null || value === undefined) return null;
  const s = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  // An empty ifAlias means "no description configured", not a description.
  return s === '' ? null : s;
}

/** ifHighSpeed is in Mb/s; zero is what agents report when they have no estimate (RFC 2863). */
function speedBps(value: ColumnCell['value']): number | null {
  const mbps = typeof value === 'bigint' ? Number(value) : typeof value === 'number' ? value : NaN;
  return Number.isFinite(mbps) && mbps > 0 ? mbps * 1_000_000 : null;
}

export class SnmpInterfaces {
  private readonly opts: Required<Omit<SnmpOptions, 'user'>> & { user?: SnmpUser };
  private readonly exporters = new Map<string, ExporterState>();
  private readonly sessions = new Set<SnmpSession>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private refusedLogged = false;

  constructor(
    opts: SnmpOptions,
    private readonly log: SnmpLog = () => {},
  ) {
    this.opts = {
      version: opts.version,
      community: opts.community,
      user: opts.user,
      port: opts.port ?? 161,
      intervalSec: opts.intervalSec ?? 3600,
      timeoutMs: opts.timeoutMs ?? 2000,
      retries: opts.retries ?? 1,
      maxExporters: opts.maxExporters ?? 1024,
    };
  }

  lookup(exporter: string, ifIndex: number): SnmpInterface | null {
    const state = this.exporters.get(exporter);
    if (state) return state.interfaces.get(ifIndex) ?? null;
    if (this.track(exporter)) void this.poll(exporter);
    return null;
  }

  poll(exporter: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    const state = this.exporters.get(exporter) ?? this.track(exporter);
    if (!state) return Promise.resolve();
    if (!state.inFlight) {
      state.inFlight = this.pollOnce(exporter, state).finally(() => {
        state.inFlight = null;
      });
    }
    return state.inFlight;
  }

  start(): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => {
      for (const address of this.exporters.keys()) void this.poll(address);
    }, this.opts.intervalSec * 1000);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const session of this.sessions) session.close();
    this.sessions.clear();
  }

  status(): { exporters: SnmpExporterStatus[] } {
    const exporters: SnmpExporterStatus[] = [];
    for (const [address, s] of this.exporters) {
      exporters.push({
        address,
        interfaces: s.interfaces.size,
        lastPollMs: s.lastPollMs,
        lastError: s.lastError,
        polls: s.polls,
        failures: s.failures,
      });
    }
    return { exporters };
  }

  /** Registers an exporter, or returns null when the table is full. */
  private track(exporter: string): ExporterState | null {
    if (this.exporters.size >= this.opts.maxExporters) {
      if (!this.refusedLogged) {
        this.refusedLogged = true;
        this.log('snmp: exporter limit reached, further exporters are not polled', {
          exporter,
          maxExporters: this.opts.maxExporters,
        });
      }
      return null;
    }
    const state: ExporterState = {
      interfaces: new Map(),
      inFlight: null,
      lastPollMs: null,
      lastError: null,
      polls: 0,
      failures: 0,
    };
    this.exporters.set(exporter, state);
    return state;
  }

  private async pollOnce(exporter: string, state: ExporterState): Promise<void> {
    state.polls++;
    let session: SnmpSession | null = null;
    try {
      session = new SnmpSession(exporter, this.opts);
      this.sessions.add(session);
      state.interfaces = await this.walkInterfaces(session);
      state.lastError = null;
    } catch (err) {
      state.failures++;
      const reason = err instanceof Error ? err.message : String(err);
      state.lastError = `SNMP${this.opts.version === '3' ? 'v3' : 'v2c'} poll of ${exporter} port ${this.opts.port} failed: ${reason}`;
      this.log('snmp: poll failed, interface names from SNMP unavailable for this exporter', {
        exporter,
        error: state.lastError,
      });
    } finally {
      state.lastPollMs = Date.now();
      if (session) {
        session.close();
        this.sessions.delete(session);
      }
    }
  }

  private async walkInterfaces(session: SnmpSession): Promise<Map<number, SnmpInterface>> {
    let names = await session.walkColumn(IF_NAME);
    // ifXTable is optional (RFC 2863 §6); old agents only have ifTable's ifDescr.
    if (names.length === 0) names = await session.walkColumn(IF_DESCR);
    const aliases = await session.walkColumn(IF_ALIAS);
    const speeds = await session.walkColumn(IF_HIGH_SPEED);

    const interfaces = new Map<number, SnmpInterface>();
    const row = (index: number): SnmpInterface => {
      let entry = interfaces.get(index);
      if (!entry) {
        entry = { name: null, alias: null, speedBps: null };
        interfaces.set(index, entry);
      }
      return entry;
    };
    for (const cell of names) row(cell.index).name = text(cell.value);
    for (const cell of aliases) row(cell.index).alias = text(cell.value);
    for (const cell of speeds) row(cell.index).speedBps = speedBps(cell.value);
    return interfaces;
  }
}
