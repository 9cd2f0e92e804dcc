import dgram from 'node:dgram';
import net, { isIPv6 } from 'node:net';
import { TemplateRefresh } from '../demo/encode/template-datagrams.js';
import type { MeteredFlow } from './flow-cache.js';
import { buildIpfixMessage, IPFIX_MAX_MESSAGE_BYTES, IPFIX_MIN_MESSAGE_BYTES } from './ipfix-message.js';

export interface IpfixExporterOptions {
  host: string;
  port: number;
  transport: 'udp' | 'tcp';
  observationDomainId: number;
  /** UDP: templates are re-sent at least this often (60000). */
  templateRefreshMs: number;
  /** UDP: templates are re-sent after this many messages without them (1000). */
  templateRefreshPackets: number;
  /** Upper bound of every message (1400: one Ethernet frame after IP/UDP headers). */
  maxMessageBytes: number;
  /** TCP: flows held while disconnected; beyond it they are dropped and counted (default 65536). */
  maxQueuedFlows?: number;
  /** TCP: longest wait between reconnection attempts (default 30000; the first waits 250 ms, then doubles). */
  reconnectMaxMs?: number;
}

export interface IpfixExporterStats {
  /** Messages handed to the socket. */
  messages: number;
  /** Data records in them. */
  records: number;
  /** Messages that carried the template set. */
  templates: number;
  /** UDP sends that failed, TCP connections that failed or broke. */
  sendErrors: number;
  /** Flows never sent: TCP queue full while disconnected, or still queued at close. */
  dropped: number;
}

const RECONNECT_FIRST_MS = 250;
const DEFAULT_RECONNECT_MAX_MS = 30_000;
const DEFAULT_MAX_QUEUED_FLOWS = 65_536;
/** TCP: bytes the kernel has not taken yet beyond which flows are dropped rather than buffered without bound. */
const MAX_TCP_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * The agent's exporting process (RFC 7011): IPFIX messages of metered flows to one collector over
 * UDP or TCP. Over UDP the templates lead the first message and are re-sent by time and by message
 * count (section 8.4), since a collector may lose them or start late; over TCP they are sent once
 * at the start of every connection (section 8.1), and a broken connection is re-opened with capped
 * exponential backoff while flows wait in a bounded queue. The sequence number counts data records
 * per transport session (section 3.1), so it starts again at 0 on a new TCP connection.
 */
export class IpfixExporter {
  private readonly counters: IpfixExporterStats = {
    messages: 0,
    records: 0,
    templates: 0,
    sendErrors: 0,
    dropped: 0,
  };
  private sequence = 0;
  private readonly refresh: TemplateRefresh;
  private udp: dgram.Socket | null = null;
  private tcp: net.Socket | null = null;
  private tcpReady = false;
  private queue: MeteredFlow[] = [];
  private reconnectMs = RECONNECT_FIRST_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closing = false;

  private constructor(private readonly options: IpfixExporterOptions) {
    this.refresh = new TemplateRefresh(options.templateRefreshMs, options.templateRefreshPackets);
  }

  /**
   * UDP: binds a socket of the collector address's family. TCP: resolves once the first attempt
   * connected or failed; a failed or broken connection keeps being retried in the background.
   */
  static async open(options: IpfixExporterOptions): Promise<IpfixExporter> {
    const max = options.maxMessageBytes;
    if (!(Number.isInteger(max) && max >= IPFIX_MIN_MESSAGE_BYTES && max <= IPFIX_MAX_MESSAGE_BYTES))
      throw new RangeError(
        `IPFIX maxMessageBytes must be an integer in ${IPFIX_MIN_MESSAGE_BYTES}..${IPFIX_MAX_MESSAGE_BYTES}, not ${max}`,
      );
    const e = new IpfixExporter(options);
    if (options.transport === 'udp') await e.openUdp();
    else await e.connectTcp();
    return e;
  }

  get stats(): IpfixExporterStats {
    return { ...this.counters };
  }

  /** TCP: a connection is up and has its templates. UDP: always true once open. */
  get connected(): boolean {
    return this.options.transport === 'udp' ? this.udp !== null : this.tcpReady;
  }

  /** Flows waiting for a TCP connection. */
  get queued(): number {
    return this.queue.length;
  }

  export(flows: readonly MeteredFlow[], nowMs: number): void {
    if (this.closing) {
      this.counters.dropped += flows.length;
      return;
    }
    if (this.options.transport === 'udp') this.exportUdp(flows, nowMs);
    else if (this.tcpReady && this.tcp !== null) this.writeTcp(this.tcp, flows, nowMs);
    else this.enqueue(flows);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.counters.dropped += this.queue.length;
    this.queue = [];
    const udp = this.udp;
    this.udp = null;
    if (udp !== null) await new Promise<void>((r) => udp.close(() => r()));
    const tcp = this.tcp;
    this.tcp = null;
    this.tcpReady = false;
    if (tcp !== null && !tcp.destroyed) {
      // end() lets the kernel deliver what is written; a peer that never closes is cut after 5 s.
      await new Promise<void>((r) => {
        const timer = setTimeout(() => tcp.destroy(), 5000);
        tcp.once('close', () => {
          clearTimeout(timer);
          r();
        });
        tcp.end();
      });
    }
  }

  private async openUdp(): Promise<void> {
    const s = dgram.createSocket(isIPv6(this.options.host) ? 'udp6' : 'udp4');
    // Errors are reported through the send callbacks; without a listener one would crash the process.
    s.on('error', () => {
      this.counters.sendErrors++;
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(this.options.port, this.options.host, () => {
        s.off('error', reject);
        resolve();
      });
    });
    this.udp = s;
  }

  private exportUdp(flows: readonly MeteredFlow[], nowMs: number): void {
    const s = this.udp;
    if (s === null) {
      this.counters.dropped += flows.length;
      return;
    }
    let i = 0;
    // An empty export still sends the templates when they are due, for a collector started late.
    do {
      const withTemplates = this.refresh.due(nowMs);
      if (!withTemplates && i >= flows.length) break;
      if (!withTemplates) this.refresh.sent();
      const m = this.message(flows, i, nowMs, withTemplates);
      i = m.next;
      s.send(m.bytes, (err) => {
        if (err) this.counters.sendErrors++;
      });
    } while (i < flows.length);
  }

  private message(flows: readonly MeteredFlow[], from: number, nowMs: number, withTemplates: boolean) {
    const m = buildIpfixMessage(flows, from, {
      observationDomainId: this.options.observationDomainId,
      maxMessageBytes: this.options.maxMessageBytes,
      exportTimeMs: nowMs,
      sequence: this.sequence,
      withTemplates,
    });
    this.sequence = (this.sequence + m.records) >>> 0;
    this.counters.messages++;
    this.counters.records += m.records;
    if (withTemplates) this.counters.templates++;
    return m;
  }

  private writeTcp(s: net.Socket, flows: readonly MeteredFlow[], nowMs: number): void {
    if (s.writableLength > MAX_TCP_BACKLOG_BYTES) {
      this.counters.dropped += flows.length;
      return;
    }
    let i = 0;
    while (i < flows.length) {
      const m = this.message(flows, i, nowMs, false);
      i = m.next;
      s.write(m.bytes);
    }
  }

  private enqueue(flows: readonly MeteredFlow[]): void {
    const max = this.options.maxQueuedFlows ?? DEFAULT_MAX_QUEUED_FLOWS;
    const room = Math.max(0, max - this.queue.length);
    for (let i = 0; i < flows.length && i < room; i++) this.queue.push(flows[i] as MeteredFlow);
    if (flows.length > room) this.counters.dropped += flows.length - room;
  }

  /** One attempt; resolves when it connected or failed (a retry is then scheduled). */
  private connectTcp(): Promise<void> {
    return new Promise<void>((resolve) => {
      const s = net.connect({ host: this.options.host, port: this.options.port });
      s.setNoDelay(true);
      this.tcp = s;
      let settled = false;
      s.once('connect', () => {
        settled = true;
        this.reconnectMs = RECONNECT_FIRST_MS;
        this.sequence = 0;
        const now = Date.now();
        // A new transport session: templates first (RFC 7011 section 8.1), then what waited.
        s.write(this.message([], 0, now, true).bytes);
        this.tcpReady = true;
        const waiting = this.queue;
        this.queue = [];
        this.writeTcp(s, waiting, now);
        resolve();
      });
      s.on('error', () => {
        this.counters.sendErrors++;
      });
      s.once('close', () => {
        if (this.tcp === s) {
          this.tcp = null;
          this.tcpReady = false;
        }
        if (!settled) {
          settled = true;
          resolve();
        }
        this.scheduleReconnect();
      });
    });
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer !== null) return;
    const wait = this.reconnectMs;
    this.reconnectMs = Math.min(wait * 2, this.options.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connectTcp();
    }, wait);
    this.reconnectTimer.unref();
  }
}
