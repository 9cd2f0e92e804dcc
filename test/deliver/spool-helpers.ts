import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool, type SpoolOptions } from '../../src/deliver/spool/spool.js';

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-spool-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A test spool: 16 MiB, refusenewest, no fsync unless asked. */
export function openSpool(dir: string, over: Partial<SpoolOptions> = {}): Promise<Spool> {
  return Spool.open({ dir, maxBytes: 1 << 24, whenFull: 'refusenewest', fsync: false, ...over });
}

/** A body whose bytes say which batch (`b<n>`) it belongs to, so a mix-up cannot pass unnoticed. */
export function body(n: number, size = 100): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (n * 31 + i) & 0xff;
  return b;
}

/** Peeks and acknowledges everything left, returning the batch numbers in replay order. */
export async function drain(spool: Spool): Promise<number[]> {
  const out: number[] = [];
  for (let batch = await spool.peek(); batch !== null; batch = await spool.peek()) {
    const n = Number(batch.id.slice(1));
    assert.deepEqual(batch.body, body(n, batch.body.length), `body of ${batch.id}`);
    out.push(n);
    await spool.ack(batch.id);
  }
  return out;
}

/** Body of batch n in the SIGKILL test (spool-writer-child.ts): length and bytes depend on n. */
export function crashBody(n: number): Buffer {
  const b = Buffer.alloc(200 + ((n * 7919) % 3000));
  for (let i = 0; i < b.length; i++) b[i] = (n + i * 13) & 0xff;
  return b;
}
