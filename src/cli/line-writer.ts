/** What LineWriter needs of a stream (process.stdout, a file stream, a test's PassThrough). */
export interface LineSink {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): unknown;
  removeListener(event: 'drain' | 'error', listener: (...args: never[]) => void): unknown;
}

const FLUSH_AT = 64 * 1024;

/**
 * Lines gathered into ~64 KiB writes (one write per record would dominate decode time), with
 * backpressure: after a write the stream refuses, `ready()` waits for 'drain'. A reader that goes
 * away (`flowgate decode x.pcap | head` gives EPIPE) just closes the writer: no error, no stack.
 */
export class LineWriter {
  private buf = '';
  private blocked = false;
  closed = false;
  private readonly onError = (err: NodeJS.ErrnoException) => {
    // EPIPE: the reader is gone. Anything else on an output stream ends the output as well.
    this.closed = true;
    this.error = err.code === 'EPIPE' ? null : err;
  };
  /** A write error other than EPIPE, if one happened. */
  error: NodeJS.ErrnoException | null = null;

  constructor(private readonly out: LineSink) {
    out.on('error', this.onError);
  }

  line(text: string): void {
    if (this.closed) return;
    this.buf += text;
    this.buf += '\n';
    if (this.buf.length >= FLUSH_AT) this.flush();
  }

  flush(): void {
    if (this.buf.length === 0 || this.closed) return;
    const chunk = this.buf;
    this.buf = '';
    if (!this.out.write(chunk)) this.blocked = true;
  }

  /** Resolves when the stream takes more (immediately unless the last write was refused). */
  async ready(): Promise<void> {
    if (!this.blocked || this.closed) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.out.removeListener('drain', done);
        this.out.removeListener('error', done);
        resolve();
      };
      this.out.once('drain', done);
      this.out.on('error', done);
    });
    this.blocked = false;
  }

  /** Flushes what is left and waits until the stream took it. */
  async end(): Promise<void> {
    this.flush();
    await this.ready();
  }
}
