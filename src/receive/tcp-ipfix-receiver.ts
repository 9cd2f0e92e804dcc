import net from 'node:net';
import { normalizeExporterAddress } from '../record/address.js';
import { formatHostPort, type ListenAddress } from './listen-address.js';
import { type BoundListener, bindErrorMessage } from './udp-receiver.js';

/** IPFIX message header: version(2) length(2) export time(4) sequence(4) domain(4); RFC 7011 3.1. */
const IPFIX_HEADER = 16;
const IPFIX_VERSION = 10;

export interface TcpIpfixOptions {
  /** A connection silent for this long is closed (exporters send templates/keepalives far more often). */
  idleTimeoutMs: number;
  /** Largest message accepted; the u16 length allows 65535 at most. */
  maxMessageBytes: number;
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
}

export const DEFAULT_TCP_IDLE_MS = 5 * 60_000;

/**
 * IPFIX over TCP (RFC 7011 10.4): a byte stream of messages framed by the header's length.
 * Anything that is not a version 10 header with a sane length closes the connection: there is
 * no way to find the next message boundary in a stream once framing is lost.
 */
export class TcpIpfixReceiver {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private nextId = 1;
  listener: BoundListener | null = null;
  connectionsTotal = 0;

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

  private accept(socket: net.Socket): void {
    const src = normalizeExporterAddress(socket.remoteAddress ?? '');
    const srcPort = socket.remotePort ?? 0;
    const dstPort = socket.localPort ?? 0;
    if (!this.opts.allows(src)) {
      this.opts.onNotAllowed(src);
      socket.destroy();
      return;
    }
    const id = `tcp:${formatHostPort(src, srcPort)}#${this.nextId++}`;
    this.sockets.add(socket);
    this.connectionsTotal++;
    let pending: Buffer | null = null;
    socket.setTimeout(this.opts.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
      pending = null;
      let off = 0;
      while (buf.length - off >= 4) {
        const version = buf.readUInt16BE(off);
        const length = buf.readUInt16BE(off + 2);
        if (version !== IPFIX_VERSION || length < IPFIX_HEADER || length > this.opts.maxMessageBytes) {
          this.opts.onFramingError(
            src,
            `IPFIX over TCP from ${formatHostPort(src, srcPort)}: message with version ${version} and ` +
              `length ${length} (need version 10, length 16..${this.opts.maxMessageBytes}): connection closed`,
          );
          socket.destroy();
          return;
        }
        if (buf.length - off < length) break;
        // A copy: the queued message must not pin the (possibly large) chunk it came in.
        this.opts.onMessage(Buffer.from(buf.subarray(off, off + length)), src, srcPort, dstPort, id);
        off += length;
      }
      if (off < buf.length) pending = buf.subarray(off);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.sockets.delete(socket);
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
