/**
 * Alert events to a syslog server over UDP (one datagram per message) or TCP (RFC 6587 §3.4.1
 * octet counting: `LEN SP MSG`), as RFC 5424 with structured data or as CEF inside RFC 5424.
 * handle() only formats and queues. TCP reconnects with backoff when the server goes away and
 * keeps what could not be written meanwhile (bounded); a message written just before the
 * connection broke can be lost, as syslog over TCP has no acknowledgement.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, isIPv6, type Socket as TcpSocket } from 'node:net';
import type { AlertEvent, AlertSink } from '../detect/alert.js';
import { backoffDelayMs } from './backoff.js';
import { cefLine } from './cef.js';
import { type NotifyLog, SILENT_LOG } from './notify-log.js';
import { joinParts, rfc5424Parts, type SyslogParts, syslogHeader, syslogSeverity } from './syslog-message.js';

export type SyslogProtocol = 'udp' | 'tcp';
export type SyslogFormat = 'rfc5424' | 'cef';

export interface SyslogOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: SyslogProtocol;
  readonly format: SyslogFormat;
  /** RFC 5424 facility code (16 = local0). */
  readonly facility: number;
  /** Flowgate's version, for the CEF header. */
  readonly productVersion: string;
  /** TCP: messages kept while disconnected; beyond it the oldest are dropped. */
  readonly maxQueued?: number;
  /** TCP: first reconnect delay, doubled per failed attempt up to reconnectMaxMs. */
  readonly reconnectMs?: number;
  readonly reconnectMaxMs?: number;
  readonly closeTimeoutMs?: number;
  readonly log?: NotifyLog;
}

export interface SyslogStatus {
  readonly server: string;
  readonly protocol: SyslogProtocol;
  readonly sent: number;
  /** Messages that could not be sent (UDP send errors, TCP messages still queued at close). */
  readonly failed: number;
  /** TCP: dropped because the queue was full while the server was away. */
  readonly dropped: number;
  /** UDP: messages shortened to fit UDP_MAX_BYTES. */
  readonly truncated: number;
  readonly reconnects: number;
  readonly queued: number;
  readonly connected: boolean;
  readonly lastError: string | null;
}

/**
 * Largest UDP message: fits a 1500-byte Ethernet MTU with IPv6 and UDP headers, so no IP
 * fragmentation (fragments are often dropped by firewalls). Longer messages lose the end of MSG.
 */
export const UDP_MAX_BYTES = 1400;

export class SyslogNotifier implements AlertSink {
  readonly name: string;
  private readonly opts: SyslogOptions;
  private readonly log: NotifyLog;
  private readonly maxQueued: number;
  private udp: UdpSocket | null = null;
  private tcp: TcpSocket | null = null;
  private tcpConnected = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectAttempt = 0;
  /** TCP frames not yet handed to a connected socket. */
  private readonly pending: Buffer[] = [];
  /** Writes/sends handed to a socket whose callback has not come yet. */
  private inFlight = 0;
  private closed = false;
  /** close() has stopped waiting: no more reconnects. */
  private finished = false;
  private sent = 0;
  private failed = 0;
  private dropped = 0;
  private truncated = 0;
  private reconnects = 0;
  private lastError: string | null = null;
  private settledWaiters: (() => void)[] = [];

  constructor(opts: SyslogOptions) {
    this.opts = opts;
    this.log = opts.log ?? SILENT_LOG;
    this.maxQueued = opts.maxQueued ?? 1000;
    this.name = `syslog ${opts.protocol}://${hostPort(opts.host, opts.port)}`;
  }

  handle(event: AlertEvent): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    try {
      this.sendParts(this.format(event));
    } catch (err) {
      // A sink must not throw into detection; a formatting bug is counted like a send failure.
      this.failed++;
      this.lastError = err instanceof Error ? err.message : String(err);
    }
  }

  /** Sends a message formatted elsewhere (Flowgate's own log lines, log/syslog-destination.ts). */
  send(parts: SyslogParts): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    try {
      this.sendParts(parts);
    } catch (err) {
      this.failed++;
      this.lastError = err instanceof Error ? err.message : String(err);
    }
  }

  private sendParts(parts: SyslogParts): void {
    if (this.opts.protocol === 'udp') this.sendUdp(parts);
    else this.queueTcp(Buffer.from(joinParts(parts), 'utf8'));
  }

  status(): SyslogStatus {
    return {
      server: hostPort(this.opts.host, this.opts.port),
      protocol: this.opts.protocol,
      sent: this.sent,
      failed: this.failed,
      dropped: this.dropped,
      truncated: this.truncated,
      reconnects: this.reconnects,
      queued: this.pending.length,
      connected: this.opts.protocol === 'udp' ? this.udp !== null : this.tcpConnected,
      lastError: this.lastError,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.opts.closeTimeoutMs ?? 5000);
    });
    await Promise.race([this.settled(), expired]);
    clearTimeout(timer);
    this.finished = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.failed += this.pending.length;
    this.pending.length = 0;
    if (this.tcp !== null) {
      const sock = this.tcp;
      await new Promise<void>((resolve) => {
        sock.once('close', () => resolve());
        sock.end();
        // A server that does not close its side must not hold close() up.
        setTimeout(() => sock.destroy(), 1000).unref();
      });
    }
    if (this.udp !== null) {
      const sock = this.udp;
      this.udp = null;
      await new Promise<void>((resolve) => sock.close(() => resolve()));
    }
  }

  private format(event: AlertEvent): SyslogParts {
    const now = Date.now();
    if (this.opts.format === 'rfc5424') return rfc5424Parts(event, this.opts.facility, now);
    return {
      header: syslogHeader({
        facility: this.opts.facility,
        severity: syslogSeverity(event),
        timestampMs: now,
        msgid: event.type,
      }),
      structuredData: '-',
      msg: cefLine(event, this.opts.productVersion),
    };
  }

  private sendUdp(parts: SyslogParts): void {
    if (this.udp === null) {
      this.udp = createSocket(isIPv6(this.opts.host) ? 'udp6' : 'udp4');
      this.udp.on('error', (err) => this.noteError(err));
    }
    const { message, wasTruncated } = fitDatagram(parts, UDP_MAX_BYTES);
    if (wasTruncated) this.truncated++;
    this.inFlight++;
    this.udp.send(message, this.opts.port, this.opts.host, (err) => {
      this.inFlight--;
      if (err) {
        this.failed++;
        this.noteError(err);
      } else {
        this.sent++;
      }
      this.checkSettled();
    });
  }

  private queueTcp(message: Buffer): void {
    // RFC 6587 §3.4.1: MSG-LEN is the octet count of the message, in decimal, then one space.
    this.pending.push(Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]));
    while (this.pending.length > this.maxQueued) {
      this.pending.shift();
      this.dropped++;
    }
    if (this.tcpConnected) this.flushTcp();
    else if (this.tcp === null && this.reconnectTimer === null) this.connectTcp();
  }

  private connectTcp(): void {
    this.reconnectTimer = null;
    const sock = createConnection({ host: this.opts.host, port: this.opts.port });
    this.tcp = sock;
    sock.setKeepAlive(true, 30_000);
    sock.on('connect', () => {
      if (this.reconnectAttempt > 0) {
        this.reconnects++;
        this.log.info({ notifier: this.name }, 'syslog server reachable again');
      }
      this.reconnectAttempt = 0;
      this.tcpConnected = true;
      this.flushTcp();
    });
    sock.on('drain', () => this.flushTcp());
    // Syslog servers send nothing; reading keeps 'end' (the server went away) observable.
    sock.on('data', () => {});
    sock.on('error', (err) => this.noteError(err));
    sock.on('close', () => {
      this.tcp = null;
      this.tcpConnected = false;
      // Stay disconnected while idle (the next message reconnects) and once close() gave up.
      if (this.pending.length > 0 && !this.finished) this.scheduleReconnect();
      this.checkSettled();
    });
  }

  private scheduleReconnect(): void {
    this.reconnectAttempt++;
    const delay = backoffDelayMs(
      this.opts.reconnectMs ?? 500,
      this.reconnectAttempt,
      this.opts.reconnectMaxMs ?? 30_000,
    );
    this.reconnectTimer = setTimeout(() => this.connectTcp(), delay);
  }

  private flushTcp(): void {
    const sock = this.tcp;
    if (sock === null || !this.tcpConnected) return;
    while (this.pending.length > 0) {
      const frame = this.pending.shift()!;
      this.inFlight++;
      const more = sock.write(frame, (err) => {
        this.inFlight--;
        if (err) this.failed++;
        else this.sent++;
        this.checkSettled();
      });
      if (!more) return;
    }
    this.checkSettled();
  }

  private noteError(err: Error): void {
    const first = this.lastError === null;
    this.lastError = err.message;
    // One line per outage, not one per reconnect attempt.
    if (first || this.reconnectAttempt <= 1)
      this.log.warn({ notifier: this.name, error: err.message }, 'syslog send failed');
  }

  /** Resolves once nothing is queued or in flight. */
  private settled(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private checkSettled(): void {
    if (this.pending.length > 0 || this.inFlight > 0) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const w of waiters) w();
  }
}

function hostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Shortens a message to maxBytes by cutting the end of MSG on a character boundary, never inside
 * an escape (a trailing lone `\` of CEF). Header and structured data stay whole, so the message
 * still parses; if they alone are too long, the structured data is replaced by "-".
 */
export function fitDatagram(
  parts: SyslogParts,
  maxBytes: number,
): { message: Buffer; wasTruncated: boolean } {
  const whole = Buffer.from(joinParts(parts), 'utf8');
  if (whole.length <= maxBytes) return { message: whole, wasTruncated: false };
  let sd = parts.structuredData;
  let fixed = Buffer.byteLength(`${parts.header}${sd} `, 'utf8');
  if (fixed >= maxBytes) {
    sd = '-';
    fixed = Buffer.byteLength(`${parts.header}${sd} `, 'utf8');
  }
  const msg = truncateUtf8(parts.msg, Math.max(0, maxBytes - fixed));
  return {
    message: Buffer.from(joinParts({ header: parts.header, structuredData: sd, msg }), 'utf8'),
    wasTruncated: true,
  };
}

function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back up to the start of a character: continuation bytes are 10xxxxxx.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  let cut = bytes.subarray(0, end).toString('utf8');
  const trailingBackslashes = /\\+$/.exec(cut)?.[0].length ?? 0;
  if (trailingBackslashes % 2 === 1) cut = cut.slice(0, -1);
  return cut;
}
