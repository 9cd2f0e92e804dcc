import net from 'node:net';
import { normalizeExporterAddress } from '../record/address.js';
import type { ExporterRateLimit } from './exporter-rate-limit.js';
import { formatHostPort, type ListenAddress } from './listen-address.js';
import { type BoundListener, bindErrorMessage } from './udp-receiver.js';

/** IPFIX message header: version(2) length(2) export time(4) sequence(4) domain(4); RFC 7011 3.1. */
const IPFIX_HEADER = 16;
const IPFIX_VERSION = 10;

export interface TcpIpfixOptions {
  /** A connection silent for this long is closed (exporters send templates/keepalives far more often). */
  idleTimeoutMs: number;
  /**
   * A message must arrive whole within this long of its first byte (and the first message within
   * this long of the connect): a peer that opens connections and dribbles bytes (slowloris) is closed.
   */
  messageTimeoutMs: number;
  /** Connections open at once over all peers, and per peer address; beyond them a new one is closed. */
  maxConnections: number;
  maxPerPeer: number;
  /** Largest message accepted; the u16 length allows 65535 at most. */
  maxMessageBytes: number;
  /**
   * flow.ratelimit, shared with UDP. Over TCP a message over the limit is not dropped (the session's
   * templates are sent only once, RFC 7011 8.1): reading pauses until a token is due, and TCP flow
   * control slows the exporter down.
   */
  rateLimit: ExporterRateLimit | null;
  /** Whether a peer may connect (the allow-list); refused connections are closed at once. */
  allows: (address: string) => boolean;
  /** One complete IPFIX message. Must return at once (it is queued for decode). */
  onMessage: (
    payload: Buffer,
    srcAddress: string,
    srcPort: number,
    dstPort: number,
    connectionId: string,
  ) => void;
  /** A connection ended: its templates go with it (RFC 7011 8.1: templates are per session). */
  onClose: (connectionId: string) => void;
  /** Framing broken (bad version, impossible length): the connection is closed and counted. */
  onFramingError: (srcAddress: string, message: string) => void;
  onNotAllowed: (srcAddress: string) => void;
  /** A connection closed by a limit or a timeout, with a message for the log. */
  onLimit?: (srcAddress: string, message: string) => void;
}

export const DEFAULT_TCP_IDLE_MS = 5 * 60_000;

/** Connections refused and closed by the limits (reported in /stats tcp). */
export interface TcpLimitCounters {
  refused: { maxConnections: number; maxPerPeer: number };
  timeouts: { idle: number; stalled: number };
  /** Times reading paused because a peer was over flow.ratelimit. */
  ratePauses: number;
}

/**
 * IPFIX over TCP (RFC 7011 10.4): a byte stream of messages framed by the header's length.
 * Anything that is not a version 10 header with a sane length closes the connection: there is
 * no way to find the next message boundary in a stream once framing is lost.
 */
export class TcpIpfixReceiver {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly perPeer = new Map<string, number>();
  private nextId = 1;
  listener: BoundListener | null = null;
  connectionsTotal = 0;
  readonly limits: TcpLimitCounters = {
    refused: { maxConnections: 0, maxPerPeer: 0 },
    timeouts: { idle: 0, stalled: 0 },
    ratePauses: 0,
  };

  constructor(
    readonly address: ListenAddress,
    private readonly opts: TcpIpfixOptions,
  ) {}

  get connections(): number {
    return this.sockets.size;
  }

  async start(): Promise<BoundListener> {
    const a = this.address;
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(new Error(bindErrorMessage('tcp', a, err)));
      server.once('error', onError);
      server.listen({ host: a.host, port: a.port, ipv6Only: false, exclusive: true }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', () => {});
    this.server = server;
    const bound = server.address() as net.AddressInfo;
    this.listener = {
      transport: 'tcp',
      configured: a.text,
      address: formatHostPort(bound.address, bound.port),
      port: bound.port,
      recvBufferRequested: null,
      recvBufferActual: null,
    };
    return this.listener;
  }

  /** Whether another connection from `src` fits the limits; counts and reports when it does not. */
  private admit(src: string, peer: string): boolean {
    const o = this.opts;
    if (this.sockets.size >= o.maxConnections) {
      this.limits.refused.maxConnections++;
      o.onLimit?.(
        src,
        `IPFIX over TCP from ${peer} refused: ${o.maxConnections} connections open (flow.tcpmaxconnections)`,
      );
      return false;
    }
    if ((this.perPeer.get(src) ?? 0) >= o.maxPerPeer) {
      this.limits.refused.maxPerPeer++;
      o.onLimit?.(
        src,
        `IPFIX over TCP from ${peer} refused: ${o.maxPerPeer} connections open from ${src} (flow.tcpmaxperpeer)`,
      );
      return false;
    }
    return true;
  }

  private accept(socket: net.Socket): void {
    const src = normalizeExporterAddress(socket.remoteAddress ?? '');
    const srcPort = socket.remotePort ?? 0;
    const dstPort = socket.localPort ?? 0;
    const peer = formatHostPort(src, srcPort);
    if (!this.opts.allows(src)) {
      this.opts.onNotAllowed(src);
      socket.destroy();
      return;
    }
    if (!this.admit(src, peer)) {
      socket.destroy();
      return;
    }
    const id = `tcp:${peer}#${this.nextId++}`;
    this.sockets.add(socket);
    this.perPeer.set(src, (this.perPeer.get(src) ?? 0) + 1);
    this.connectionsTotal++;
    new TcpConnection(socket, src, srcPort, dstPort, id, this.opts, this.limits).start();
    socket.on('close', () => {
      this.sockets.delete(socket);
      const n = (this.perPeer.get(src) ?? 1) - 1;
      if (n > 0) this.perPeer.set(src, n);
      else this.perPeer.delete(src);
      this.opts.onClose(id);
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

/** One accepted connection: framing, the message deadline and rate-limit pauses. */
class TcpConnection {
  /** Bytes of a message not yet complete. */
  private pending: Buffer | null = null;
  /** Runs while a message is incomplete (and from the connect until the first one). */
  private deadline: NodeJS.Timeout | null = null;
  private paused = false;
  private readonly peer: string;

  constructor(
    private readonly socket: net.Socket,
    private readonly src: string,
    private readonly srcPort: number,
    private readonly dstPort: number,
    private readonly id: string,
    private readonly opts: TcpIpfixOptions,
    private readonly limits: TcpLimitCounters,
  ) {
    this.peer = formatHostPort(src, srcPort);
  }

  start(): void {
    const s = this.socket;
    s.setTimeout(this.opts.idleTimeoutMs, () => {
      if (this.paused) return; // our own pause, not the peer's silence
      this.limits.timeouts.idle++;
      this.close(`silent for ${this.opts.idleTimeoutMs / 1000} s (flow.tcpidletimeout)`);
    });
    this.armDeadline();
    s.on('data', (chunk: Buffer) => {
      this.pending = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
      this.frame();
    });
    s.on('error', () => {});
    s.on('close', () => this.clearDeadline());
  }

  /** Hands on every complete message in `pending`; stops at a partial one or a rate-limit pause. */
  private frame(): void {
    const buf = this.pending;
    if (buf === null) return;
    const o = this.opts;
    let off = 0;
    while (buf.length - off >= 4) {
      const version = buf.readUInt16BE(off);
      const length = buf.readUInt16BE(off + 2);
      if (version !== IPFIX_VERSION || length < IPFIX_HEADER || length > o.maxMessageBytes) {
        o.onFramingError(
          this.src,
          `IPFIX over TCP from ${this.peer}: message with version ${version} and ` +
            `length ${length} (need version 10, length 16..${o.maxMessageBytes}): connection closed`,
        );
        this.pending = null;
        this.socket.destroy();
        return;
      }
      if (buf.length - off < length) break;
      if (o.rateLimit !== null && !o.rateLimit.allows(this.src, Date.now(), false)) {
        this.pauseForRate(o.rateLimit.msPerToken);
        break;
      }
      // A copy: the queued message must not pin the (possibly large) chunk it came in.
      o.onMessage(
        Buffer.from(buf.subarray(off, off + length)),
        this.src,
        this.srcPort,
        this.dstPort,
        this.id,
      );
      off += length;
      // A complete message: the next one has its own deadline from its first byte.
      this.clearDeadline();
    }
    this.pending = off < buf.length ? buf.subarray(off) : null;
    if (this.pending !== null && !this.paused) this.armDeadline();
  }

  private pauseForRate(ms: number): void {
    this.limits.ratePauses++;
    this.paused = true;
    this.clearDeadline();
    this.socket.pause();
    setTimeout(
      () => {
        if (this.socket.destroyed) return;
        this.paused = false;
        this.socket.resume();
        this.frame();
      },
      Math.max(1, Math.ceil(ms)),
    ).unref();
  }

  private armDeadline(): void {
    if (this.deadline !== null) return;
    this.deadline = setTimeout(() => {
      this.deadline = null;
      this.limits.timeouts.stalled++;
      this.close(
        `no complete message within ${this.opts.messageTimeoutMs / 1000} s (flow.tcpmessagetimeout)`,
      );
    }, this.opts.messageTimeoutMs);
    this.deadline.unref();
  }

  private clearDeadline(): void {
    if (this.deadline === null) return;
    clearTimeout(this.deadline);
    this.deadline = null;
  }

  private close(why: string): void {
    this.opts.onLimit?.(this.src, `IPFIX over TCP from ${this.peer} closed: ${why}`);
    this.socket.destroy();
  }
}
