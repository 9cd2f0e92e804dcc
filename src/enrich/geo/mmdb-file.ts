/**
 * One MaxMind-format database file, kept open and replaced when the file on disk changes.
 *
 * The file is read whole into memory (mmdb-lib walks a Buffer), so replacing it on disk, by
 * rename or by rewriting it, never disturbs lookups in progress. `reloadIfChanged()` compares
 * inode, size, mtime and ctime with the version last tried; a new version is parsed and
 * sanity-checked before it is swapped in, so a truncated or corrupt replacement leaves the
 * previous good version in use and is reported in `status().error` (with the path).
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Reader, type Response } from 'maxmind';
import { GenerationalCache } from './generational-cache.js';
import { layoutOfDatabaseType, type MmdbLayout } from './record-layout.js';

export interface MmdbFileStatus {
  readonly path: string;
  /** A version of the file is in use (it may be older than the file on disk; see `error`). */
  readonly loaded: boolean;
  readonly layout: MmdbLayout | null;
  /** `database_type` from the file's metadata, e.g. "GeoLite2-ASN". */
  readonly databaseType: string | null;
  /** When the version in use was built by its publisher (ISO 8601). */
  readonly buildEpoch: string | null;
  /** When the version in use was loaded (ISO 8601). */
  readonly loadedAt: string | null;
  /** Successful loads after the first one. */
  readonly reloads: number;
  /** Attempts that failed (missing, unreadable, corrupt), including the first. */
  readonly failedLoads: number;
  /** Why the latest attempt failed; null once a later attempt succeeds. */
  readonly error: string | null;
}

/** Decoded records are cached by data-section offset: many networks share one record. */
const DECODED_RECORDS_CACHED = 4096;
const GZIP_MAGIC = 0x1f8b;
/** Addresses that must resolve without an exception in a sound file (found or not found). */
const PROBE_ADDRESSES = ['1.1.1.1', '8.8.8.8', '2001:db8::1', '2a00::1'];

interface Loaded {
  readonly reader: Reader<Response>;
  readonly layout: MmdbLayout;
  readonly loadedAt: Date;
}

function fileSignature(s: { ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

/** Stands in for a signature when the file cannot even be stat()ed. */
function failureKey(err: unknown): string {
  return `unreadable:${(err as NodeJS.ErrnoException)?.code ?? 'unknown'}`;
}

function describeFailure(path: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return `GeoIP database ${path}: file not found`;
  if (e?.code === 'EACCES') return `GeoIP database ${path}: permission denied`;
  if (e?.code === 'EISDIR') return `GeoIP database ${path}: is a directory, not a file`;
  return `GeoIP database ${path}: ${e instanceof Error ? e.message : String(err)}`;
}

/** Parses and checks a whole file's bytes; throws an Error whose message a user can act on. */
function parseDatabase(bytes: Buffer): Loaded {
  if (bytes.length >= 2 && bytes.readUInt16BE(0) === GZIP_MAGIC) {
    throw new Error('file is gzip-compressed: decompress it first (the .mmdb inside the archive)');
  }
  let reader: Reader<Response>;
  try {
    reader = new Reader<Response>(bytes, {
      cache: new GenerationalCache<number, unknown>(DECODED_RECORDS_CACHED),
    });
    const md = reader.metadata;
    if (md.binaryFormatMajorVersion !== 2) {
      throw new Error(`unsupported MaxMind DB format version ${md.binaryFormatMajorVersion}`);
    }
    if (md.searchTreeSize + 16 > bytes.length) throw new Error('search tree larger than the file');
    for (const address of PROBE_ADDRESSES) reader.get(address);
  } catch (err) {
    throw new Error(`not a readable MaxMind DB file (${(err as Error).message})`);
  }
  return {
    reader,
    layout: layoutOfDatabaseType(reader.metadata.databaseType),
    loadedAt: new Date(),
  };
}

export class MmdbFile {
  readonly path: string;
  private current: Loaded | null = null;
  /** Signature of the version last tried, good or bad: an unchanged bad file is not re-read. */
  private triedSignature: string | null = null;
  private reloadCount = 0;
  private failedCount = 0;
  private lastError: string | null = null;
  private checking = false;

  constructor(path: string) {
    this.path = path;
  }

  get layout(): MmdbLayout | null {
    return this.current?.layout ?? null;
  }

  /** First load, synchronous so that enrichment works from the first record. Never throws. */
  loadNow(): boolean {
    let signature: string | null = null;
    try {
      signature = fileSignature(statSync(this.path));
      const loaded = parseDatabase(readFileSync(this.path));
      this.accept(loaded, signature);
      return true;
    } catch (err) {
      this.reject(err, signature ?? failureKey(err));
      return false;
    }
  }

  /**
   * Loads the file again if it changed since the version last tried. Resolves to true when a new
   * version is now in use. Never rejects.
   */
  async reloadIfChanged(): Promise<boolean> {
    if (this.checking) return false;
    this.checking = true;
    let signature: string | null = null;
    try {
      signature = fileSignature(await stat(this.path));
      if (signature === this.triedSignature) return false;
      const bytes = await readFile(this.path);
      // A writer still busy with the file changes its size or mtime again: read it next time.
      const after = fileSignature(await stat(this.path));
      if (after !== signature) return false;
      this.accept(parseDatabase(bytes), signature);
      return true;
    } catch (err) {
      // Missing while a new version is renamed into place, or corrupt: keep the previous one.
      // The same failure seen again on the next poll is not counted twice.
      const key = signature ?? failureKey(err);
      if (key !== this.triedSignature) this.reject(err, key);
      return false;
    } finally {
      this.checking = false;
    }
  }

  /** The raw record for an address, or null (not found, no database, or a corrupt tree). */
  lookup(address: string): unknown {
    const loaded = this.current;
    if (loaded === null) return null;
    return loaded.reader.get(address);
  }

  status(): MmdbFileStatus {
    const md = this.current?.reader.metadata;
    return {
      path: this.path,
      loaded: this.current !== null,
      layout: this.current?.layout ?? null,
      databaseType: md?.databaseType ?? null,
      buildEpoch: md ? md.buildEpoch.toISOString() : null,
      loadedAt: this.current ? this.current.loadedAt.toISOString() : null,
      reloads: this.reloadCount,
      failedLoads: this.failedCount,
      error: this.lastError,
    };
  }

  private accept(loaded: Loaded, signature: string): void {
    if (this.current !== null) this.reloadCount++;
    this.current = loaded;
    this.triedSignature = signature;
    this.lastError = null;
  }

  private reject(err: unknown, signature: string): void {
    this.triedSignature = signature;
    this.failedCount++;
    const kept = this.current
      ? `; still using the version loaded at ${this.current.loadedAt.toISOString()}`
      : '';
    this.lastError = describeFailure(this.path, err) + kept;
  }
}
