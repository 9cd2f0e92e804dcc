/**
 * One process per store directory: a lock file holding the owner's pid, created exclusively.
 * DuckDB locks each partition file itself, but a directory with no partition yet (a new store)
 * had nothing to lock, so two collectors could both start on it and later fight over the first
 * day's file. A lock left by a process that no longer runs (kill -9, power loss) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'flowgate.lock';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, owned by another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory's lock or throws naming the process that holds it; returns the release. */
export function lockDirectory(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let pid = Number.NaN;
    try {
      pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    } catch {
      // Removed meanwhile: try again.
    }
    // Our own pid: another store object of this process holds it (a closed one removes the file).
    if (Number.isInteger(pid) && pid > 0 && running(pid)) {
      throw new Error(`store directory ${dir} is in use by process ${pid} (${path})`);
    }
    try {
      unlinkSync(path);
    } catch {
      // Someone else removed the stale lock first.
    }
  }
  throw new Error(`store directory ${dir}: cannot take the lock ${path}`);
}
