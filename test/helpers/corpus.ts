import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared/testdata beside the repository (read from there, never copied in). */
export const TESTDATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/testdata');

export function corpusPath(relative: string): string {
  const p = join(TESTDATA, relative);
  if (!existsSync(p)) throw new Error(`test capture missing: ${p}`);
  return p;
}

/** Every file of a corpus folder (netflow5, netflow9, ipfix, sflow, ...), sorted. */
export function corpusFiles(folder: string): string[] {
  return readdirSync(join(TESTDATA, folder))
    .sort()
    .map((f) => join(TESTDATA, folder, f));
}
