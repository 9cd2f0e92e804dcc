import dgram from 'node:dgram';
import { formatHostPort, type ListenAddress } from './listen-address.js';

/** What the receiver hands on for every datagram; must return at once (no await, no decode). */
export type DatagramHandler = (payload: Buffer, srcAddress: string, srcPort: number, dstPort: number) => void;

export interface BoundListener {
  transport: 'udp' | 'tcp';
  /** As configured. */
  configured: string;
  /** Actually bound "host:port" (port 0 resolved). */
  address: string;
  port: number;
  /** UDP: SO_RCVBUF asked for and what the kernel granted (bytes usable for packets). */
  recvBufferRequested: number | null;
  recvBufferActual: number | null;
}

/** Linux reports twice the usable size from SO_RCVBUF (socket(7): the kernel doubles it). */
export function usableRecvBuffer(reported: number, platform: NodeJS.Platform = process.platform): number {
  return platform === 'linux' ? Math.floor(reported / 2) : reported;
}

/** Turns bind failures into messages that name the address and say what to do. */
export function bindErrorMessage(
  transport: string,
  address: ListenAddress,
  err: NodeJS.ErrnoException,
): string {
  const where = `${transport} ${address.text}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the port is already in use by another process (another collector?)`;
    case 'EACCES':
      return address.port < 1024
        ? `cannot listen on ${where}: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port >= 1024`
        : `cannot listen on ${where}: permission denied`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: ${address.host} is not an address of this host`;
    default:
      return `cannot listen on ${where}: ${err.message}`;
  }
}

/**
 * One UDP socket for one `flow.listen` address. IPv6 addresses (and "::") are bound dual-stack
 * (ipv6Only false) so IPv4 exporters arrive too, as ::ffff:a.b.c.d (normalised downstream).
 */
export class UdpReceiver {
  private socket: dgram.Socket | null = null;
  listener: BoundListener | null = null;

  constructor(
    readonly address: ListenAddress,
    private readonly recvBufferBytes: number,
    private readonly onDatagram: DatagramHandler,
  ) {}

  /** Binds; resolves with the bound address, rejects with a clear message. */
  async start(): Promise<BoundListener> {
    const a = this.address;
    const socket = dgram.createSocket({ type: a.family === 6 ? 'udp6' : 'udp4', ipv6Only: false });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        socket.close();
        reject(new Error(bindErrorMessage('udp', a, err)));
      };
      socket.once('error', onError);
      socket.bind({ address: a.host, port: a.port, exclusive: true }, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    this.socket = socket;
    const port = socket.address().port;
    // The handler only stamps and queues; everything slow happens in the decode slices.
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port, port));
    // After bind an ICMP-induced error must not kill the process; the socket stays usable.
    socket.on('error', () => {});
    let actual: number | null = null;
    try {
      socket.setRecvBufferSize(this.recvBufferBytes);
    } catch {
      // Refused (e.g. above a BSD limit): what we got is read back below.
    }
    try {
      actual = usableRecvBuffer(socket.getRecvBufferSize());
    } catch {
      actual = null;
    }
    this.listener = {
      transport: 'udp',
      configured: a.text,
      address: formatHostPort(socket.address().address, port),
      port,
      recvBufferRequested: this.recvBufferBytes,
      recvBufferActual: actual,
    };
    return this.listener;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    if (s === null) return;
    this.socket = null;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** The warning for a receive buffer the kernel capped, or null when it got what it asked for. */
export function recvBufferWarning(l: BoundListener): string | null {
  if (l.recvBufferRequested === null || l.recvBufferActual === null) return null;
  if (l.recvBufferActual >= l.recvBufferRequested) return null;
  return (
    `UDP receive buffer for ${l.address} is ${l.recvBufferActual} bytes, asked for ${l.recvBufferRequested}: ` +
    `bursts will be dropped by the kernel. Raise the limit with ` +
    `\`sysctl -w net.core.rmem_max=${l.recvBufferRequested}\` (persist it in /etc/sysctl.d/), then restart`
  );
}
