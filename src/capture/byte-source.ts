import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const CHUNK = 1 << 20;

/** The file cannot be opened or read as a file: the only error capture readers throw. */
export class CaptureFileError extends Error {
  override name = 'CaptureFileError';
}

/**
 * Sequential, synchronous reads from a file in 1 MiB chunks, so a capture of any size is decoded
 * with bounded memory. Every refill allocates a fresh chunk instead of reusing one: the views
 * handed out (packet data, payloads) stay valid after the reader moves on, without a copy.
 */
export class ByteSource {
  private readonly fd: number;
  readonly size: number;
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Bytes of the file consumed so far (for progress). */
  consumed = 0;
  private eof = false;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new CaptureFileError(`cannot read capture file ${path}: ${(e as Error).message}`);
    }
    const st = fstatSync(this.fd);
    if (!st.isFile()) {
      closeSync(this.fd);
      throw new CaptureFileError(`cannot read capture file ${path}: not a regular file`);
    }
    this.size = st.size;
  }

  /** The next `n` bytes without consuming them, or null when the file ends before. */
  peek(n: number): Buffer | null {
    if (this.chunk.length - this.pos < n && !this.fill(n)) return null;
    return this.chunk.subarray(this.pos, this.pos + n);
  }

  /** The next `n` bytes, consumed; null when the file ends before (nothing consumed then). */
  take(n: number): Buffer | null {
    const b = this.peek(n);
    if (b === null) return null;
    this.pos += n;
    this.consumed += n;
    return b;
  }

  /** Bytes left in the file from the current position. */
  remaining(): number {
    return this.size - this.consumed;
  }

  close(): void {
    closeSync(this.fd);
  }

  private fill(n: number): boolean {
    // A bogus length field must not make us allocate past the end of the file.
    if (this.eof || n > this.size - this.consumed) return false;
    const left = this.chunk.length - this.pos;
    const next = Buffer.allocUnsafe(Math.max(CHUNK, n));
    this.chunk.copy(next, 0, this.pos);
    let len = left;
    while (len < next.length) {
      const r = this.read(next, len);
      if (r === 0) {
        this.eof = true;
        break;
      }
      len += r;
    }
    this.chunk = next.subarray(0, len);
    this.pos = 0;
    return len >= n;
  }

  private read(into: Buffer, at: number): number {
    try {
      return readSync(this.fd, into, at, into.length - at, null);
    } catch (e) {
      throw new CaptureFileError(`cannot read capture file ${this.path}: ${(e as Error).message}`);
    }
  }
}
