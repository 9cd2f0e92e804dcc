import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Checkpoint } from './checkpoint.js';
import {
  deliverNewBytes,
  emptyStats,
  type LocalReadStats,
  unreadBytes,
  waitUnlessAborted,
} from './file-reader.js';
import type { FlowLogPiece, FlowLogReader, PendingObject, ReadOptions } from './flow-log-reader.js';

export interface FolderReaderOptions {
  readonly checkpoint: Checkpoint;
  /** With `follow`, how often the folder is listed again. */
  readonly pollMs?: number;
  /** How long a file's size and mtime must stay unchanged before it is read whole. */
  readonly settleMs?: number;
  /** Only files whose path relative to the folder (with `/`) matches, e.g. `/\.log(\.gz)?$/`. */
  readonly pattern?: RegExp;
  /** Read subfolders too (an S3 export copied locally: AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/). */
  readonly recursive?: boolean;
}

/** A regular file found by a listing. */
interface Listed {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Names of files a writer has not finished: `aws s3 cp`, curl, browsers and rsync use these. */
const IN_PROGRESS = /\.(tmp|part|partial)$/i;

/**
 * Every flow-log file in a folder, oldest first by (mtime, path), each read once it has settled;
 * lines appended to a file already read are delivered on their own (see file-reader.ts for the
 * per-file rules). With `follow`, the folder is listed again every `pollMs`, so files that arrive
 * while running are picked up.
 */
export class FolderReader implements FlowLogReader {
  readonly description: string;
  readonly stats: LocalReadStats = emptyStats();
  private readonly checkpoint: Checkpoint;
  private readonly pollMs: number;
  private readonly settleMs: number;
  private readonly pattern: RegExp | undefined;
  private readonly recursive: boolean;
  /** Size and mtime of each file when first seen so, for files whose mtime cannot be trusted. */
  private readonly seen = new Map<string, { size: number; mtimeMs: number; at: number }>();

  constructor(
    readonly dir: string,
    options: FolderReaderOptions,
  ) {
    this.description = `folder ${dir}`;
    this.checkpoint = options.checkpoint;
    this.pollMs = options.pollMs ?? 2000;
    this.settleMs = options.settleMs ?? 1000;
    this.pattern = options.pattern;
    this.recursive = options.recursive ?? true;
  }

  async pending(): Promise<PendingObject[]> {
    const out: PendingObject[] = [];
    for (const f of await this.list()) {
      const bytes = unreadBytes(this.checkpoint.get(f.path), f.size);
      if (bytes > 0) out.push({ source: f.path, bytes });
    }
    return out;
  }

  /**
   * Without `follow`, files still being written are waited for once (`settleMs`) and then left for
   * the next run, so a file that never stops growing cannot hold `ingest` forever. A folder that
   * cannot be listed rejects the run; with `follow` it goes to onError and is tried again (a mount
   * that comes back).
   */
  async run(deliver: (piece: FlowLogPiece) => Promise<void>, options: ReadOptions): Promise<void> {
    const { follow, signal, onError } = options;
    let waitedForUnsettled = false;
    while (!signal?.aborted) {
      let unsettled = 0;
      try {
        unsettled = await this.readPass(deliver, signal, onError);
      } catch (e) {
        if (!(e instanceof ListingError) || !follow) throw e;
        this.stats.errors++;
        onError?.(this.dir, e);
      }
      if (!follow) {
        if (unsettled === 0 || waitedForUnsettled) return;
        waitedForUnsettled = true;
        if (!(await waitUnlessAborted(this.settleMs, signal))) return;
        continue;
      }
      if (!(await waitUnlessAborted(this.pollMs, signal))) return;
    }
  }

  /** One listing and the reads it calls for; returns how many files wait to settle. */
  private async readPass(
    deliver: (piece: FlowLogPiece) => Promise<void>,
    signal: AbortSignal | undefined,
    onError: ReadOptions['onError'],
  ): Promise<number> {
    const files = await this.list();
    let unsettled = 0;
    for (const f of files) {
      if (signal?.aborted) break;
      if (unreadBytes(this.checkpoint.get(f.path), f.size) === 0) continue;
      // A file still being written may still give its appended complete lines: a line is only
      // delivered once its `\n` is written. Whole reads (new, gzip, rewritten) wait for it to settle.
      const settled = this.isSettled(f, Date.now());
      const read = await deliverNewBytes(f.path, this.checkpoint, deliver, this.stats, onError, settled);
      if (!settled && !read) unsettled++;
    }
    return unsettled;
  }

  /**
   * A file is settled once its size and mtime have not changed for `settleMs`. An mtime that old
   * already says so (no poll needed for files that were there before the start); otherwise the
   * reader watches it across polls, which also covers an mtime in the future (clock skew on a share).
   */
  private isSettled(f: Listed, now: number): boolean {
    if (now - f.mtimeMs >= this.settleMs && now >= f.mtimeMs) return true;
    const s = this.seen.get(f.path);
    if (s === undefined || s.size !== f.size || s.mtimeMs !== f.mtimeMs) {
      this.seen.set(f.path, { size: f.size, mtimeMs: f.mtimeMs, at: now });
      return false;
    }
    return now - s.at >= this.settleMs;
  }

  /**
   * The flow-log files under the folder, oldest first. A complete listing also prunes checkpoint
   * entries (and settle state) of files under the folder that no longer exist.
   */
  private async list(): Promise<Listed[]> {
    const all: Listed[] = [];
    let complete = true;
    const walk = async (dir: string, isRoot: boolean): Promise<void> => {
      let entries: Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (isRoot) throw new ListingError(this.dir, e as Error);
        complete = false; // a subfolder that vanished or is unreadable: its files stay checkpointed
        return;
      }
      for (const ent of entries) {
        const name = ent.name;
        if (name.startsWith('.') || IN_PROGRESS.test(name)) continue;
        const path = join(dir, name);
        if (ent.isDirectory()) {
          if (this.recursive) await walk(path, false);
          continue;
        }
        if (!ent.isFile() && !ent.isSymbolicLink()) continue;
        try {
          const st = await stat(path);
          if (st.isFile()) all.push({ path, size: st.size, mtimeMs: st.mtimeMs });
        } catch {
          // Vanished since the readdir (or a dangling link): nothing to read.
        }
      }
    };
    await walk(this.dir, true);
    const ownCheckpoint = this.checkpoint.path;
    const files = all.filter(
      (f) =>
        f.path !== ownCheckpoint &&
        !(ownCheckpoint !== null && f.path.startsWith(`${ownCheckpoint}.tmp-`)) &&
        (this.pattern === undefined || this.pattern.test(relative(this.dir, f.path).split(sep).join('/'))),
    );
    if (complete) this.prune(new Set(all.map((f) => f.path)));
    files.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return files;
  }

  /** Whether a checkpoint entry belongs to this folder (a checkpoint may be shared). */
  private isInside(name: string): boolean {
    const rel = relative(this.dir, name);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  }

  private prune(existing: Set<string>): void {
    this.checkpoint.prune((name) => this.isInside(name) && !existing.has(name));
    for (const name of this.seen.keys()) if (!existing.has(name)) this.seen.delete(name);
  }
}

/** The folder itself could not be listed. */
class ListingError extends Error {
  constructor(dir: string, cause: Error) {
    super(`folder ${dir}: ${cause.message}`, { cause });
    this.name = 'ListingError';
  }
}
