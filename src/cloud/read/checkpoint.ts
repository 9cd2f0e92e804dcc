import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomicSync } from '../../state/atomic-write.js';

/**
 * How far a flow-log reader got in each object: read up to `offset` of an object that was
 * `size` bytes with version `tag` (a file's mtime, an S3 ETag, a blob's ETag) when last read.
 * An object whose offset equals its size is done, until its size or tag changes.
 */
export interface ObjectProgress {
  readonly offset: number;
  readonly size: number;
  readonly tag: string;
}

interface CheckpointFile {
  readonly version: 1;
  readonly objects: Record<string, ObjectProgress>;
}

/**
 * A reader's progress, kept in one JSON file written atomically after every change (so a crash
 * leaves the previous or the new state, never half of one). `null` as the path keeps it in
 * memory only (a one-off `flowgate ingest` without `--checkpoint`).
 */
export class Checkpoint {
  private readonly objects: Map<string, ObjectProgress>;

  private constructor(
    readonly path: string | null,
    objects: Map<string, ObjectProgress>,
  ) {
    this.objects = objects;
  }

  /**
   * Loads `path` (a missing file is an empty checkpoint). Throws an Error naming the file when it
   * exists but is not a checkpoint: reading everything again silently would repeat records.
   */
  static open(path: string | null): Checkpoint {
    const objects = new Map<string, ObjectProgress>();
    if (path === null) return new Checkpoint(null, objects);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Checkpoint(path, objects);
      throw new Error(`checkpoint ${path}: ${(e as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new Error(
        `checkpoint ${path} is not JSON (${(e as Error).message}): move it away to read everything again`,
      );
    }
    const file = parsed as Partial<CheckpointFile> | null;
    if (
      file === null ||
      typeof file !== 'object' ||
      file.version !== 1 ||
      typeof file.objects !== 'object' ||
      file.objects === null
    ) {
      throw new Error(`checkpoint ${path} is not a Flowgate flow-log checkpoint (version 1)`);
    }
    for (const [name, p] of Object.entries(file.objects)) {
      if (
        p === null ||
        typeof p !== 'object' ||
        !Number.isSafeInteger(p.offset) ||
        !Number.isSafeInteger(p.size) ||
        typeof p.tag !== 'string'
      ) {
        throw new Error(`checkpoint ${path}: entry ${JSON.stringify(name)} is malformed`);
      }
      objects.set(name, { offset: p.offset, size: p.size, tag: p.tag });
    }
    return new Checkpoint(path, objects);
  }

  get(name: string): ObjectProgress | undefined {
    return this.objects.get(name);
  }

  /** Whether `name`, now `size` bytes with version `tag`, has nothing left to read. */
  isDone(name: string, size: number, tag: string): boolean {
    const p = this.objects.get(name);
    return p !== undefined && p.tag === tag && p.size === size && p.offset >= size;
  }

  get size(): number {
    return this.objects.size;
  }

  names(): IterableIterator<string> {
    return this.objects.keys();
  }

  /** Records progress and saves the file before returning. */
  set(name: string, progress: ObjectProgress): void {
    this.objects.set(name, progress);
    this.save();
  }

  /** Forgets the entries `drop` picks (objects deleted at the source, or before a high-water mark), then saves. */
  prune(drop: (name: string, progress: ObjectProgress) => boolean): number {
    let dropped = 0;
    for (const [name, p] of this.objects) {
      if (drop(name, p)) {
        this.objects.delete(name);
        dropped++;
      }
    }
    if (dropped > 0) this.save();
    return dropped;
  }

  private save(): void {
    if (this.path === null) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const file: CheckpointFile = { version: 1, objects: Object.fromEntries(this.objects) };
    writeFileAtomicSync(this.path, JSON.stringify(file));
  }
}
