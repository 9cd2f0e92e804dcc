/**
 * PRODUCT.md JSON lines to a file that is rotated by size and by age, with rotated files gzipped
 * in the background and the oldest deleted beyond a count:
 *
 *   flows.jsonl                              the open file (appended on restart)
 *   flows.20261124T013901.123Z.jsonl         rotated, waiting for compression
 *   flows.20261124T013901.123Z.jsonl.gz      rotated and compressed
 *
 * The stamp is the UTC time of rotation (the file holds what came before it), kept strictly
 * increasing so names never collide and sort by time as plain strings. A crash between rotation
 * and compression leaves a rotated `.jsonl`, compressed by the next start; the `.jsonl` is only
 * removed once its `.gz` is complete and fsync'd, and a `.gz` only appears under its final name
 * when complete (it is written as `.gz.tmp` and renamed).
 */
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { type FileHandle, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { FlowRecord } from '../record/flow-record.js';
import { toJsonLine } from '../record/json.js';
import type { RecordOutput } from './output.js';

export interface RotatingJsonlOptions {
  /** The open file, e.g. /var/log/flowgate/flows.jsonl; rotated files go beside it. */
  readonly path: string;
  /** Rotate before a record would take the file past this size (default 100 MiB). */
  readonly maxbytes?: number;
  /** Rotate a file whose first record is this old, in seconds (default 3600); null: never. */
  readonly maxage?: number | null;
  /** Gzip rotated files (default true). */
  readonly compress?: boolean;
  /** Rotated files kept, the oldest deleted beyond it (default 24); null: keep all. */
  readonly keep?: number | null;
  /** Milliseconds since the epoch; tests inject a clock. */
  readonly now?: () => number;
  /** Background failures (compression, deletion), which never fail a write. */
  readonly onError?: (err: Error) => void;
}

export interface RotatingJsonlStats {
  readonly rotated: number;
  readonly compressed: number;
  readonly deleted: number;
  /** Bytes in the open file. */
  readonly currentBytes: number;
  readonly lastError: string | null;
}

const MIB = 1024 * 1024;
const STAMP = String.raw`\d{8}T\d{6}\.\d{3}Z`;

export class RotatingJsonlWriter implements RecordOutput {
  readonly name: string;
  private readonly path: string;
  private readonly dir: string;
  /** File name without `.jsonl`: the prefix of every rotated name. */
  private readonly stem: string;
  private readonly rotatedName: RegExp;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number | null;
  private readonly compress: boolean;
  private readonly keep: number | null;
  private readonly now: () => number;
  private readonly onError: (err: Error) => void;

  private stream: WriteStream | null = null;
  private streamError: Error | null = null;
  private size = 0;
  /** When the open file got its first record; null while it is empty. */
  private firstWriteMs: number | null = null;
  private lastStampMs = 0;
  private ageTimer: NodeJS.Timeout | null = null;
  /** Writes and rotations, one at a time (a timer-driven rotation must not cut a write in two). */
  private foreground: Promise<void> = Promise.resolve();
  /** Compression and deletion of rotated files, one file at a time, off the write path. */
  private background: Promise<void> = Promise.resolve();
  private closed = false;

  private rotated = 0;
  private compressed = 0;
  private deleted = 0;
  private lastError: string | null = null;

  constructor(opts: RotatingJsonlOptions) {
    this.path = opts.path;
    this.dir = dirname(opts.path);
    this.stem = basename(opts.path).replace(/\.jsonl$/, '');
    this.rotatedName = new RegExp(`^${escapeRegExp(this.stem)}\\.(${STAMP})\\.jsonl(\\.gz)?$`);
    this.maxBytes = opts.maxbytes ?? 100 * MIB;
    this.maxAgeMs = opts.maxage === undefined ? 3_600_000 : opts.maxage === null ? null : opts.maxage * 1000;
    this.compress = opts.compress ?? true;
    this.keep = opts.keep === undefined ? 24 : opts.keep;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => {});
    if (!(this.maxBytes > 0)) throw new Error(`${opts.path}: maxbytes must be positive`);
    if (this.maxAgeMs !== null && !(this.maxAgeMs > 0))
      throw new Error(`${opts.path}: maxage must be positive`);
    if (this.keep !== null && !(Number.isInteger(this.keep) && this.keep >= 0))
      throw new Error(`${opts.path}: keep must be a whole number ≥ 0`);
    this.name = `jsonl(${opts.path}, rotating)`;
  }

  /**
   * Opens the file (appending to what a previous run left) and queues the compression of rotated
   * files a crash left uncompressed. Rejects when the file cannot be opened, so startup fails loudly.
   */
  async ready(): Promise<void> {
    const leftovers = await this.scanRotated();
    for (const r of leftovers) this.lastStampMs = Math.max(this.lastStampMs, r.stampMs);
    let existing = 0;
    try {
      existing = (await stat(this.path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await this.openCurrent(existing);
    // The age of a file left by a previous run is unknown: it counts from this start.
    if (existing > 0) this.startAgeClock();
    const uncompressed = leftovers.filter((r) => !r.gz).map((r) => r.name);
    this.inBackground(async () => {
      await this.prune();
      if (this.compress) for (const name of uncompressed) await this.compressFile(name);
    });
  }

  write(batch: readonly FlowRecord[]): Promise<void> {
    const done = this.foreground.then(() => this.writeNow(batch));
    this.foreground = done.catch(() => {});
    return done;
  }

  async close(): Promise<void> {
    // Writes queued before close() still land; a rotation the age timer queues later sees `closed`.
    await this.foreground;
    this.closed = true;
    this.clearAgeTimer();
    const s = this.stream;
    this.stream = null;
    if (s !== null) await endStream(s);
    await this.background;
  }

  /** Resolves once every queued compression and deletion is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.background;
  }

  stats(): RotatingJsonlStats {
    return {
      rotated: this.rotated,
      compressed: this.compressed,
      deleted: this.deleted,
      currentBytes: this.size,
      lastError: this.lastError,
    };
  }

  private async writeNow(batch: readonly FlowRecord[]): Promise<void> {
    if (this.closed || this.stream === null) throw new Error(`${this.name}: closed or not ready`);
    if (batch.length === 0) return;
    if (this.isTooOld()) await this.rotate();
    let text = '';
    for (let i = 0; i < batch.length; i++) text += `${toJsonLine(batch[i])}\n`;
    const bytes = Buffer.byteLength(text, 'utf8');
    if (this.size + bytes <= this.maxBytes) {
      await this.append(text, bytes);
      return;
    }
    // The batch crosses the limit: split it between records, never inside one. A record larger
    // than maxbytes gets a file of its own rather than being refused.
    let chunk = '';
    let chunkBytes = 0;
    for (let i = 0; i < batch.length; i++) {
      const line = `${toJsonLine(batch[i])}\n`;
      const lineBytes = Buffer.byteLength(line, 'utf8');
      if (this.size + chunkBytes + lineBytes > this.maxBytes && this.size + chunkBytes > 0) {
        if (chunkBytes > 0) await this.append(chunk, chunkBytes);
        await this.rotate();
        chunk = '';
        chunkBytes = 0;
      }
      chunk += line;
      chunkBytes += lineBytes;
    }
    if (chunkBytes > 0) await this.append(chunk, chunkBytes);
  }

  /** Writes and, when the file's buffer is full, waits for 'drain' (backpressure on the batcher). */
  private async append(text: string, bytes: number): Promise<void> {
    const s = this.stream;
    if (s === null || s.destroyed || this.streamError !== null)
      throw new Error(`${this.name}: file not writable: ${this.streamError?.message ?? 'closed'}`);
    if (this.firstWriteMs === null) this.startAgeClock();
    this.size += bytes;
    if (!s.write(text)) await once(s, 'drain');
  }

  private isTooOld(): boolean {
    return (
      this.maxAgeMs !== null &&
      this.firstWriteMs !== null &&
      this.size > 0 &&
      this.now() - this.firstWriteMs >= this.maxAgeMs
    );
  }

  /** The open file got its first record now: its age counts from here. */
  private startAgeClock(): void {
    this.firstWriteMs = this.now();
    if (this.maxAgeMs !== null) this.armAgeTimer(this.maxAgeMs);
  }

  /** An idle file is rotated too, so whoever reads the closed files does not wait for traffic. */
  private armAgeTimer(delayMs: number): void {
    this.clearAgeTimer();
    if (this.closed) return;
    this.ageTimer = setTimeout(() => {
      this.ageTimer = null;
      this.foreground = this.foreground
        .then(() => this.rotateIfOld())
        .catch((err: unknown) => this.noteError(err));
    }, delayMs);
    this.ageTimer.unref();
  }

  private async rotateIfOld(): Promise<void> {
    if (this.closed || this.firstWriteMs === null || this.maxAgeMs === null) return;
    if (this.isTooOld()) await this.rotate();
    // An injected clock may lag the timer: look again when it says the file will be old.
    else this.armAgeTimer(Math.max(10, this.maxAgeMs - (this.now() - this.firstWriteMs)));
  }

  private clearAgeTimer(): void {
    if (this.ageTimer !== null) clearTimeout(this.ageTimer);
    this.ageTimer = null;
  }

  /** Closes the open file, renames it with a time stamp, opens a fresh one, queues compression. */
  private async rotate(): Promise<void> {
    const s = this.stream;
    if (s === null || this.size === 0) return;
    this.clearAgeTimer();
    this.stream = null;
    await endStream(s);
    const stampMs = Math.max(this.now(), this.lastStampMs + 1);
    this.lastStampMs = stampMs;
    const name = `${this.stem}.${fileStamp(stampMs)}.jsonl`;
    await rename(this.path, join(this.dir, name));
    this.rotated++;
    this.firstWriteMs = null;
    await this.openCurrent(0);
    this.inBackground(async () => {
      // Pruning first: no time spent compressing a file about to be deleted.
      await this.prune();
      if (this.compress) await this.compressFile(name);
    });
  }

  private async openCurrent(existingBytes: number): Promise<void> {
    const s = createWriteStream(this.path, { flags: 'a' });
    this.streamError = null;
    s.on('error', (err) => {
      this.streamError = err;
      this.noteError(err);
    });
    await once(s, 'open');
    this.stream = s;
    this.size = existingBytes;
  }

  /**
   * NAME.jsonl → NAME.jsonl.gz.tmp → fsync → NAME.jsonl.gz → unlink NAME.jsonl. A crash at any
   * step leaves the .jsonl, which the next start compresses again.
   */
  private async compressFile(name: string): Promise<void> {
    const src = join(this.dir, name);
    const gz = `${src}.gz`;
    const tmp = `${gz}.tmp`;
    let input: FileHandle;
    try {
      input = await open(src, 'r');
    } catch (err) {
      // Pruned while it waited for its turn (rotations outran compression): nothing to do.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.noteError(err);
      return;
    }
    try {
      // Both files opened before the pipeline: a failure cannot leave a .tmp created after the
      // unlink below (a write stream opens its file asynchronously).
      const output = await open(tmp, 'w');
      await pipeline(input.createReadStream(), createGzip(), output.createWriteStream());
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, gz);
      await syncDir(this.dir);
      await unlink(src);
      this.compressed++;
    } catch (err) {
      await unlink(tmp).catch(() => {});
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.noteError(err);
    } finally {
      await input.close().catch(() => {});
    }
  }

  /** Deletes the oldest rotated files beyond `keep` (a stamp counts once, .jsonl or .gz). */
  private async prune(): Promise<void> {
    if (this.keep === null) return;
    const rotated = await this.scanRotated();
    const stamps = [...new Set(rotated.map((r) => r.stamp))].sort();
    const excess = new Set(stamps.slice(0, Math.max(0, stamps.length - this.keep)));
    for (const r of rotated) {
      if (!excess.has(r.stamp)) continue;
      try {
        await unlink(join(this.dir, r.name));
        this.deleted++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.noteError(err);
      }
    }
  }

  private async scanRotated(): Promise<{ name: string; stamp: string; stampMs: number; gz: boolean }[]> {
    const out: { name: string; stamp: string; stampMs: number; gz: boolean }[] = [];
    for (const name of await readdir(this.dir)) {
      const m = this.rotatedName.exec(name);
      if (m === null) continue;
      out.push({ name, stamp: m[1], stampMs: stampMs(m[1]), gz: m[2] !== undefined });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private inBackground(job: () => Promise<void>): void {
    this.background = this.background.then(job).catch((err: unknown) => this.noteError(err));
  }

  private noteError(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    this.lastError = e.message;
    this.onError(e);
  }
}

async function endStream(s: WriteStream): Promise<void> {
  if (s.destroyed) return;
  const closed = once(s, 'close');
  s.end();
  await closed;
}

/** So the rename of the .gz survives a power cut before the .jsonl is gone. Best effort. */
async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the file itself is already synced.
  }
}

/** ISO 8601 basic format, UTC, milliseconds: 20261124T013901.123Z (fixed width: sorts as text). */
export function fileStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '');
}

function stampMs(stamp: string): number {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)\.(\d{3})Z$/.exec(stamp);
  if (m === null) return 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
