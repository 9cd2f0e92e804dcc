import { createSocket, type Socket } from 'node:dgram';

/** A UDP socket on 127.0.0.1 that keeps every datagram it receives (for exporter replays). */
export class UdpSink {
  readonly datagrams: Buffer[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (b) => this.datagrams.push(b));
  }

  static async open(): Promise<UdpSink> {
    // Exporters replaying a file send hundreds of datagrams in a burst: the default 208 KiB buffer drops some.
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new UdpSink(socket, socket.address().port);
  }

  /** Waits until no datagram has arrived for `quietMs` (bounded by `timeoutMs`). */
  async settle(quietMs = 300, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let seen = -1;
    while (seen !== this.datagrams.length && Date.now() < deadline) {
      seen = this.datagrams.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
