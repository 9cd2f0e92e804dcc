/**
 * The on-disk spool of upload batches: when the HTTP backend is down or slow the uploader appends
 * its encoded batches here and replays them, oldest first, when it is back. Nothing that was
 * acknowledged to the uploader as stored is lost by a crash, and nothing damaged is replayed.
 *
 * Files in `dir`:
 * - `00000001.spool`, `00000002.spool`, ...: segments holding framed batches back to back (format
 *   in frame.ts: magic, version, lengths, CRC-32, id, record count, created time, body). A new
 *   segment starts when the next batch would take the current one past `segmentBytes`; a segment
 *   is deleted once every batch in it is acknowledged (or dropped), which is how disk is freed.
 * - `ack`: the read position (segment + offset of the oldest unacknowledged batch), see ack-file.ts.
 *
 * Crash safety (with `fsync`, the default):
 * - Appends run one at a time; each is a single positional write at the end of the newest segment
 *   followed by fdatasync, and `append` resolves only after it. A crash can therefore tear only the
 *   last frame of the newest segment. A new segment's directory entry is fsync'd before anything
 *   is written into it.
 * - `open` scans every segment from the read position. A frame that is incomplete or fails its CRC
 *   with no good frame after it is a torn tail: counted (`tornSkipped`) and truncated away, so the
 *   next append starts on a frame boundary. A bad frame followed by good ones (bit rot, a write
 *   reordered by a disk without fsync) is skipped by searching for the next magic whose frame
 *   passes its CRC (`corruptSkipped`). `peek` checks the CRC again when it reads a body.
 * - The read position is persisted before any segment is deleted, so a crash in between leaves a
 *   segment that `open` recognises as acknowledged (it lies before the position) and deletes.
 * - Acknowledgement is at least once: a crash between a successful upload and `ack` resolving may
 *   replay that batch after the restart. Batch ids let the receiver recognise the repeat.
 *
 * Bound: `maxBytes` counts the framed bytes of the unacknowledged batches. Disk use can exceed it
 * by the acknowledged start of the oldest segment (less than one segment) and the 544-byte ack file.
 */
import { constants } from 'node:fs';
import { access, type FileHandle, mkdir, open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { AckFile, type SpoolPosition } from './ack-file.js';
import { encodeFrameHead, parseFrame, scanSegment } from './frame.js';
import { listSegments, segmentPath, syncDirectory } from './segment-files.js';

export type SpoolWhenFull = 'dropoldest' | 'refusenewest';

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  whenFull: SpoolWhenFull;
  /** Default: 16 MiB or maxBytes / 8, whichever is smaller (at least 4 KiB). */
  segmentBytes?: number;
  /** Default true. False trades crash safety for speed (tests, throwaway spools). */
  fsync?: boolean;
}

export interface SpooledBatch {
  readonly id: string;
  readonly records: number;
  readonly createdAt: number;
  readonly body: Buffer;
}

export interface SpoolStats {
  batches: number;
  records: number;
  bytes: number;
  maxBytes: number;
  droppedBatches: number;
  droppedRecords: number;
  refusedBatches: number;
  refusedRecords: number;
  tornSkipped: number;
  corruptSkipped: number;
}

/** Where an unacknowledged batch lies; its body stays on disk until `peek` reads it. */
interface Entry {
  readonly segment: number;
  readonly offset: number;
  readonly size: number;
  readonly id: string;
  readonly records: number;
}

const ACK_FILE = 'ack';
const MAX_DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
const MIN_DEFAULT_SEGMENT_BYTES = 4096;

export class Spool {
  /** Unacknowledged batches, oldest at `head` (a queue without shifting the array). */
  private entries: Entry[] = [];
  private head = 0;
  private bytes = 0;
  private records = 0;
  private readonly counters = {
    droppedBatches: 0,
    droppedRecords: 0,
    refusedBatches: 0,
    refusedRecords: 0,
    tornSkipped: 0,
    corruptSkipped: 0,
  };
  /** Segment numbers on disk, oldest first; the last one is the write segment. */
  private segments: number[] = [];
  private writeHandle: FileHandle | null = null;
  private writeSize = 0;
  private readHandle: FileHandle | null = null;
  private readSegment = -1;
  private persisted: SpoolPosition | null = null;
  /** The head batch as last returned by `peek`, so a retry loop does not re-read it. */
  private peeked: { entry: Entry; batch: SpooledBatch } | null = null;
  /** A peeked batch that `dropoldest` removed while it was being uploaded: its `ack` is a no-op. */
  private droppedWhilePeeked: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly whenFull: SpoolWhenFull,
    private readonly segmentBytes: number,
    private readonly fsync: boolean,
    private readonly ackFile: AckFile,
  ) {}

  /**
   * Opens the spool in `dir` (created if missing) and finds the unacknowledged batches, repairing
   * torn or corrupt frames as it goes. Rejects only when the directory or its files cannot be used.
   */
  static async open(options: SpoolOptions): Promise<Spool> {
    const { dir, maxBytes, whenFull } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new Error(`spool: maxBytes must be a positive integer, got ${maxBytes}`);
    }
    if (whenFull !== 'dropoldest' && whenFull !== 'refusenewest') {
      throw new Error(`spool: whenFull must be 'dropoldest' or 'refusenewest', got ${String(whenFull)}`);
    }
    const segmentBytes =
      options.segmentBytes ??
      Math.max(MIN_DEFAULT_SEGMENT_BYTES, Math.min(MAX_DEFAULT_SEGMENT_BYTES, Math.floor(maxBytes / 8)));
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= 0) {
      throw new Error(`spool: segmentBytes must be a positive integer, got ${segmentBytes}`);
    }
    const fsync = options.fsync ?? true;
    let ack: Awaited<ReturnType<typeof AckFile.open>> | null = null;
    let spool: Spool | null = null;
    try {
      await mkdir(dir, { recursive: true });
      if (!(await stat(dir)).isDirectory()) throw new Error('not a directory');
      await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
      ack = await AckFile.open(join(dir, ACK_FILE), fsync);
      if (ack.created && fsync) await syncDirectory(dir);
      spool = new Spool(dir, maxBytes, whenFull, segmentBytes, fsync, ack.file);
      await spool.recover(ack.position);
      return spool;
    } catch (err) {
      await spool?.writeHandle?.close().catch(() => undefined);
      await ack?.file.close().catch(() => undefined);
      throw new Error(`spool directory ${dir} is not usable: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Stores a batch; resolves true once it is on disk (fsync'd), false when the spool refused it
   * (too large, or full under `refusenewest`). Rejects on an invalid batch or a failed write.
   * Calls are queued, so batches are stored in call order.
   */
  append(batch: { id: string; records: number; body: Buffer; createdAt?: number }): Promise<boolean> {
    return this.enqueue(() =>
      this.appendNow(batch.id, batch.records, batch.body, batch.createdAt ?? Date.now()),
    );
  }

  /** The oldest unacknowledged batch, or null when the spool is empty. */
  peek(): Promise<SpooledBatch | null> {
    return this.enqueue(() => this.peekNow());
  }

  /** Removes the oldest batch, which must be `id`; the new read position is durable on resolve. */
  ack(id: string): Promise<void> {
    return this.enqueue(async () => {
      const entry = this.headEntry();
      if (entry !== null && entry.id === id) {
        this.removeHead();
        await this.release();
        return;
      }
      if (this.droppedWhilePeeked === id) {
        this.droppedWhilePeeked = null;
        return;
      }
      const oldest = entry === null ? 'none (the spool is empty)' : entry.id;
      throw new Error(`spool: ack of batch ${id}, but the oldest batch is ${oldest}`);
    });
  }

  stats(): SpoolStats {
    return {
      batches: this.entries.length - this.head,
      records: this.records,
      bytes: this.bytes,
      maxBytes: this.maxBytes,
      ...this.counters,
    };
  }

  /** Waits for queued operations, then closes the files; later calls reject. */
  close(): Promise<void> {
    if (this.closed) return this.queue.then(() => undefined);
    const done = this.enqueue(async () => {
      await this.writeHandle?.close();
      await this.readHandle?.close();
      await this.ackFile.close();
      this.writeHandle = null;
      this.readHandle = null;
    });
    this.closed = true;
    return done;
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`spool ${this.dir} is closed`));
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async recover(position: SpoolPosition | null): Promise<void> {
    const found = await listSegments(this.dir);
    const start = position ?? { segment: found[0] ?? 1, offset: 0 };
    for (const segment of found) {
      if (segment < start.segment) await unlink(segmentPath(this.dir, segment));
      else this.segments.push(segment);
    }
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i];
      const last = i === this.segments.length - 1;
      const handle = await open(segmentPath(this.dir, segment), 'r+');
      try {
        const buf = await handle.readFile();
        const from = segment === start.segment ? Math.min(start.offset, buf.length) : 0;
        const scan = scanSegment(buf, from);
        for (const f of scan.frames) {
          this.pushEntry({ segment, offset: f.offset, size: f.size, id: f.id, records: f.records });
        }
        this.counters.corruptSkipped += scan.corruptRegions;
        if (scan.goodEnd < buf.length) {
          // Only the newest segment can end in a torn write; elsewhere a bad end is damage.
          if (last) this.counters.tornSkipped++;
          else this.counters.corruptSkipped++;
          await handle.truncate(scan.goodEnd);
          if (this.fsync) await handle.datasync();
        }
        if (last) {
          this.writeHandle = handle;
          this.writeSize = scan.goodEnd;
        }
      } finally {
        if (!last) await handle.close();
      }
    }
    if (this.writeHandle === null) {
      // No segment left: number the new one so that the persisted offset cannot point into it.
      const next = position === null || position.offset === 0 ? start.segment : start.segment + 1;
      await this.createSegment(Math.max(next, (found[found.length - 1] ?? 0) + 1));
    }
    this.persisted = position;
    await this.release();
  }

  private async appendNow(id: string, records: number, body: Buffer, createdAt: number): Promise<boolean> {
    const head = encodeFrameHead({ id, records, body, createdAt });
    const size = head.length + body.length;
    if (size > this.maxBytes || (this.bytes + size > this.maxBytes && this.whenFull === 'refusenewest')) {
      this.counters.refusedBatches++;
      this.counters.refusedRecords += records;
      return false;
    }
    let moved = false;
    while (this.bytes + size > this.maxBytes) {
      const peekedOldest = this.peeked !== null && this.peeked.entry === this.headEntry();
      const oldest = this.removeHead();
      if (peekedOldest) this.droppedWhilePeeked = oldest.id;
      this.counters.droppedBatches++;
      this.counters.droppedRecords += oldest.records;
      moved = true;
    }
    if (this.writeSize > 0 && this.writeSize + size > this.segmentBytes) {
      await this.createSegment(this.segments[this.segments.length - 1] + 1);
      moved = true;
    }
    if (moved) await this.release();
    const handle = this.writeHandle!;
    const offset = this.writeSize;
    try {
      const { bytesWritten } = await handle.writev([head, body], offset);
      if (bytesWritten !== size)
        throw new Error(`short write, ${bytesWritten} of ${size} bytes (disk full?)`);
      if (this.fsync) await handle.datasync();
    } catch (err) {
      // Cut what may have been written, so the segment keeps ending on a frame boundary.
      await handle.truncate(offset).catch(() => undefined);
      const path = segmentPath(this.dir, this.segments[this.segments.length - 1]);
      throw new Error(`spool: writing batch ${id} to ${path} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.writeSize += size;
    this.pushEntry({ segment: this.segments[this.segments.length - 1], offset, size, id, records });
    return true;
  }

  private async peekNow(): Promise<SpooledBatch | null> {
    for (let entry = this.headEntry(); entry !== null; entry = this.headEntry()) {
      if (this.peeked?.entry === entry) return this.peeked.batch;
      const buf = Buffer.allocUnsafe(entry.size);
      const handle = await this.handleFor(entry.segment);
      let read = 0;
      while (read < entry.size) {
        const { bytesRead } = await handle.read(buf, read, entry.size - read, entry.offset + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      const frame = read === entry.size ? parseFrame(buf, 0, entry.size) : null;
      if (frame !== null && frame.id === entry.id) {
        const batch: SpooledBatch = {
          id: frame.id,
          records: frame.records,
          createdAt: frame.createdAt,
          body: buf.subarray(frame.payloadStart),
        };
        this.peeked = { entry, batch };
        this.droppedWhilePeeked = null;
        return batch;
      }
      // Damaged on disk since it was written or scanned: skip it, like a corrupt frame at open.
      this.counters.corruptSkipped++;
      this.removeHead();
      await this.release();
    }
    return null;
  }

  private headEntry(): Entry | null {
    return this.head < this.entries.length ? this.entries[this.head] : null;
  }

  private pushEntry(entry: Entry): void {
    this.entries.push(entry);
    this.bytes += entry.size;
    this.records += entry.records;
  }

  private removeHead(): Entry {
    const entry = this.entries[this.head++];
    this.bytes -= entry.size;
    this.records -= entry.records;
    if (this.peeked?.entry === entry) this.peeked = null;
    if (this.head >= 1024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  /** Persists the read position if it moved, then deletes the segments entirely before it. */
  private async release(): Promise<void> {
    const entry = this.headEntry();
    const writeSegment = this.segments[this.segments.length - 1];
    const position =
      entry !== null
        ? { segment: entry.segment, offset: entry.offset }
        : { segment: writeSegment, offset: this.writeSize };
    if (this.persisted?.segment !== position.segment || this.persisted.offset !== position.offset) {
      await this.ackFile.write(position);
      this.persisted = position;
    }
    while (this.segments[0] < position.segment) {
      const segment = this.segments.shift()!;
      if (this.readSegment === segment) {
        await this.readHandle?.close();
        this.readHandle = null;
        this.readSegment = -1;
      }
      await unlink(segmentPath(this.dir, segment));
    }
  }

  /** Starts a new write segment; its directory entry is durable before anything is written to it. */
  private async createSegment(segment: number): Promise<void> {
    const handle = await open(segmentPath(this.dir, segment), 'wx+');
    if (this.fsync) await syncDirectory(this.dir);
    await this.writeHandle?.close();
    this.writeHandle = handle;
    this.writeSize = 0;
    this.segments.push(segment);
  }

  private async handleFor(segment: number): Promise<FileHandle> {
    if (segment === this.segments[this.segments.length - 1]) return this.writeHandle!;
    if (this.readSegment !== segment) {
      await this.readHandle?.close();
      this.readHandle = null;
      this.readHandle = await open(segmentPath(this.dir, segment), 'r');
      this.readSegment = segment;
    }
    return this.readHandle!;
  }
}
