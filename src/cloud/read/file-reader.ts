import { type FileHandle, open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Checkpoint, ObjectProgress } from './checkpoint.js';
import type { FlowLogPiece, FlowLogReader, PendingObject, ReadOptions } from './flow-log-reader.js';

/**
 * Reading local flow-log files: what is new in one file given its checkpoint entry (shared with
 * the folder reader), and `FileReader`, the reader of one named file.
 *
 * The rules, per file (the checkpoint tag is the mtime in milliseconds):
 * - never read: the whole file (gzip stays compressed; the parsers gunzip);
 * - grew since it was read, and not gzip: only the new complete lines (up to the last `\n`), since
 *   NDJSON and AWS lines are appended to live files; a partial last line waits for its `\n`;
 * - grew and gzip, or shrank: read whole again and counted as `rewritten` (a gzip member cannot be
 *   cut at a line, and a smaller file is a new file under an old name);
 * - same size, other mtime: not read again. A `touch` or an identical re-copy (`aws s3 sync`, `cp`)
 *   is far more common than a flow log rewritten to exactly its old size, and reading it again
 *   would repeat every record. Comparing the first bytes would be the next refinement.
 */

/** Counters a local reader keeps, for logs and `/stats`. */
export interface LocalReadStats {
  /** Files read whole (first reads and rewrites). */
  objects: number;
  /** Bytes delivered. */
  bytes: number;
  /** Pieces delivered (whole files and appended lines). */
  pieces: number;
  /** Files that could not be read (vanished, permissions). */
  errors: number;
  /** Files read whole again because they shrank, or a gzip that grew. */
  rewritten: number;
}

export function emptyStats(): LocalReadStats {
  return { objects: 0, bytes: 0, pieces: 0, errors: 0, rewritten: 0 };
}

/** What `readNewBytes` found: the bytes to deliver and the progress to record once they are delivered. */
export interface NewBytes {
  readonly data: Buffer;
  readonly progress: ObjectProgress;
  /** The whole file (not appended lines). */
  readonly whole: boolean;
  /** Read whole again after it shrank, or a gzip that grew. */
  readonly rewritten: boolean;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const NEWLINE = 0x0a;

/** The checkpoint tag of a file: its mtime, in milliseconds. */
export function fileTag(mtimeMs: number): string {
  return `${mtimeMs}`;
}

/**
 * Bytes not read yet in a file of `size` bytes, for a progress bar: the whole file when never read
 * or shrunk, the appended bytes when it grew (a grown gzip is in fact read whole), 0 otherwise.
 */
export function unreadBytes(progress: ObjectProgress | undefined, size: number): number {
  if (progress === undefined || size < progress.size) return size;
  return size === progress.size ? 0 : size - progress.offset;
}

/**
 * What is new in the file at `path` since `checkpoint` last recorded it, or null when nothing is
 * (done, or only a partial appended line). Throws the file system's error (ENOENT for a file that
 * vanished); the caller reports it. Reads exactly the size it stat()ed, so bytes written meanwhile
 * are left for the next read instead of being attributed to the old size. `wholeAllowed` false
 * (a file still being written) returns only appended lines, never the whole file.
 */
export async function readNewBytes(
  path: string,
  checkpoint: Checkpoint,
  wholeAllowed = true,
): Promise<NewBytes | null> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const size = st.size;
    const tag = fileTag(st.mtimeMs);
    const prev = checkpoint.get(path);
    if (prev !== undefined && size === prev.size) {
      // Nothing new, or only a partial appended line that has not grown.
      return null;
    }
    if (prev !== undefined && size > prev.size && !(await startsWithGzip(fh))) {
      const from = Math.min(prev.offset, size);
      const tail = await readRange(fh, from, size - from);
      const end = tail.lastIndexOf(NEWLINE) + 1;
      if (end === 0) return null;
      return {
        data: tail.subarray(0, end),
        progress: { offset: from + end, size, tag },
        whole: false,
        rewritten: false,
      };
    }
    if (!wholeAllowed) return null;
    const data = await readRange(fh, 0, size);
    return {
      data,
      progress: { offset: data.length, size: data.length, tag },
      whole: true,
      rewritten: prev !== undefined,
    };
  } finally {
    await fh.close();
  }
}

async function startsWithGzip(fh: FileHandle): Promise<boolean> {
  const head = await readRange(fh, 0, 2);
  return head.length === 2 && head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
}

/** Up to `length` bytes at `position` (fewer if the file was truncated meanwhile). */
async function readRange(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Reads what is new in `path`, hands it to `deliver`, then records it in `checkpoint` (after the
 * delivery resolved, per the reader contract) and counts it. A file that cannot be read (vanished,
 * permissions) goes to `onError` and stays unread; a rejected `deliver` rejects.
 * `wholeAllowed` as for `readNewBytes`. Returns whether a piece was delivered.
 */
export async function deliverNewBytes(
  path: string,
  checkpoint: Checkpoint,
  deliver: (piece: FlowLogPiece) => Promise<void>,
  stats: LocalReadStats,
  onError: ReadOptions['onError'],
  wholeAllowed = true,
): Promise<boolean> {
  let found: NewBytes | null;
  try {
    found = await readNewBytes(path, checkpoint, wholeAllowed);
  } catch (e) {
    stats.errors++;
    onError?.(path, asError(e));
    return false;
  }
  if (found === null) return false;
  await deliver({ source: path, data: found.data });
  checkpoint.set(path, found.progress);
  stats.pieces++;
  stats.bytes += found.data.length;
  if (found.whole) stats.objects++;
  if (found.rewritten) stats.rewritten++;
  return true;
}

/** Waits `ms`; false when `signal` aborted first (an abort ends a run, it is not an error). */
export async function waitUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch (e) {
    if ((e as Error).name === 'AbortError') return false;
    throw e;
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

export interface FileReaderOptions {
  readonly checkpoint: Checkpoint;
  /** With `follow`, how often the file is checked for appended lines. */
  readonly pollMs?: number;
}

/**
 * One local flow-log file (`flowgate ingest aws vpc.log.gz`). Read whole once; a file done per the
 * checkpoint is not read again. With `follow`, lines appended later are delivered as they come.
 */
export class FileReader implements FlowLogReader {
  readonly description: string;
  readonly stats: LocalReadStats = emptyStats();
  private readonly checkpoint: Checkpoint;
  private readonly pollMs: number;

  constructor(
    readonly path: string,
    options: FileReaderOptions,
  ) {
    this.description = `file ${path}`;
    this.checkpoint = options.checkpoint;
    this.pollMs = options.pollMs ?? 2000;
  }

  async pending(): Promise<PendingObject[]> {
    const st = await stat(this.path);
    const bytes = unreadBytes(this.checkpoint.get(this.path), st.size);
    return bytes > 0 ? [{ source: this.path, bytes }] : [];
  }

  async run(deliver: (piece: FlowLogPiece) => Promise<void>, options: ReadOptions): Promise<void> {
    const { follow, signal, onError } = options;
    while (!signal?.aborted) {
      await deliverNewBytes(this.path, this.checkpoint, deliver, this.stats, onError);
      if (!follow || !(await waitUnlessAborted(this.pollMs, signal))) return;
    }
  }
}
