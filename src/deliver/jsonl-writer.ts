import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { FlowRecord } from '../record/flow-record.js';
import { toJsonLine } from '../record/json.js';
import type { RecordOutput } from './output.js';

/**
 * PRODUCT.md JSON lines to stdout and/or a file (appended). A batch becomes one string and one
 * write per stream; when a stream's buffer is full the write waits for 'drain', so a slow
 * terminal or disk pushes back on the batcher (which bounds and drops) instead of growing memory.
 */
export class JsonlWriter implements RecordOutput {
  readonly name: string;
  private readonly streams: Writable[] = [];
  private readonly owned: Writable[] = [];

  constructor(opts: { stdout: boolean; file: string | null; stdoutStream?: Writable }) {
    const names: string[] = [];
    if (opts.stdout) {
      this.streams.push(opts.stdoutStream ?? process.stdout);
      names.push('stdout');
    }
    if (opts.file !== null) {
      const file = createWriteStream(opts.file, { flags: 'a' });
      this.streams.push(file);
      this.owned.push(file);
      names.push(opts.file);
    }
    this.name = `jsonl(${names.join(', ') || 'none'})`;
  }

  /** Resolves once the file is open (or rejects with why it cannot be), so startup errors surface. */
  async ready(): Promise<void> {
    for (const s of this.owned) {
      const fs = s as ReturnType<typeof createWriteStream>;
      if (fs.pending) await once(fs, 'open');
    }
  }

  async write(batch: readonly FlowRecord[]): Promise<void> {
    if (batch.length === 0 || this.streams.length === 0) return;
    let text = '';
    for (let i = 0; i < batch.length; i++) text += toJsonLine(batch[i]) + '\n';
    const waits: Promise<unknown>[] = [];
    for (const s of this.streams) {
      if (s.destroyed) throw new Error(`${this.name}: stream closed`);
      if (!s.write(text)) waits.push(once(s, 'drain'));
    }
    if (waits.length > 0) await Promise.all(waits);
  }

  async close(): Promise<void> {
    for (const s of this.owned) {
      s.end();
      if (!s.writableFinished) await once(s, 'finish');
    }
  }
}
