/** test/deliver/ingest-receiver.mjs as its own process, for the uploader's and the collector's tests. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const RECEIVER = fileURLToPath(new URL('./ingest-receiver.mjs', import.meta.url));

export interface ReceiverCounts {
  requests: number;
  accepted: number;
  duplicates: number;
  records: number;
  failed: number;
  log: { at: number; id: string | null; status: number }[];
  lastHeaders: Record<string, string>;
}

export class Receiver {
  private constructor(
    readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  /** Starts it on `port` (0: any free port), accepted records appended to `out`. */
  static async start(out: string, port = 0): Promise<Receiver> {
    const proc = spawn(process.execPath, [RECEIVER, '--port', String(port), '--out', out], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: proc.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      proc.once('exit', (code) => reject(new Error(`receiver exited (${code}) before listening`)));
    });
    const m = /^listening (\d+)$/.exec(first);
    assert.ok(m, `receiver said ${first}`);
    return new Receiver(proc, Number(m[1]));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/ingest`;
  }

  /** Changes how it answers: {"mode": "ok"|"500"|"429"|"400"|"slow", "retryAfter", "delayMs"}. */
  async control(body: Record<string, unknown>): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${this.port}/control`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
  }

  async counts(): Promise<ReceiverCounts> {
    return (await (await fetch(`http://127.0.0.1:${this.port}/control`)).json()) as ReceiverCounts;
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.kill('SIGKILL');
    await exited;
  }
}
