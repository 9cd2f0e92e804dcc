import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Segment files are `00000001.spool`, `00000002.spool`, ...: numbered in append order. */
const SEGMENT_NAME = /^(\d+)\.spool$/;

export function segmentPath(dir: string, segment: number): string {
  return join(dir, `${String(segment).padStart(8, '0')}.spool`);
}

/** The segment numbers present in `dir`, oldest first. */
export async function listSegments(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir(dir)) {
    const m = SEGMENT_NAME.exec(name);
    if (m !== null) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/**
 * Makes created (or renamed) directory entries durable: without it a file can be fsync'd and
 * still be missing after a power cut. Some platforms cannot open a directory for syncing; there
 * the entry is as durable as the platform allows.
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM on platforms without directory fsync (Windows): nothing more can be done.
  } finally {
    await handle?.close();
  }
}
