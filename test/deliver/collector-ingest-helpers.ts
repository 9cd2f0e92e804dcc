/**
 * Pieces of the collector-to-ingest end-to-end tests: the real `flowgate collect` process started
 * from a configuration file (UDP in, JSON lines file and ingest uploader out, /stats polled over
 * the API), the ingest-receiver.mjs process, and the files both write (the collector's output file
 * is the ground truth of what it accepted; the receiver's file is what reached the backend).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IngestStats } from '../../src/deliver/ingest/uploader.js';
import { REPO_ROOT } from '../helpers/collector-process.js';
import { freePort, waitForOutput } from '../helpers/traffic.js';

export type Json = Record<string, unknown>;

/** Resolves once `cond` holds; rejects after `ms` with `what` and the last `detail()`. */
export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms: number,
  detail: () => string = () => '',
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what} ${detail()}`);
    await sleep(100);
  }
}

function exited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

/** Sends `signal` and resolves with the exit code (null when the signal killed it). */
async function signalAndWait(proc: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (exited(proc)) return proc.exitCode;
  const done = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill(signal);
  return done;
}

/** A batch as the receiver stored it. */
export interface ReceivedRow {
  batch: string | null;
  record: unknown;
}

/**
 * The complete lines of a JSON-lines file another process is writing, parsed; [] before it
 * exists. The last piece is '' after a complete line, or a line still being written: not yet.
 */
function completeLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop();
  return lines.filter((l) => l !== '').map((l) => JSON.parse(l) as T);
}

/** Every line of the receiver's file, parsed. */
export function receivedRows(out: string): ReceivedRow[] {
  return completeLines<ReceivedRow>(out);
}

/** The collector's JSON lines output file, parsed. */
export function fileRecords(file: string): Json[] {
  return completeLines<Json>(file);
}

export interface CollectorPorts {
  udp: number;
  api: number;
}

export interface CollectorFiles {
  /** The configuration file. */
  config: string;
  /** The JSON lines output (ground truth). */
  output: string;
  /** `general.datadir`; the spool is `<datadir>/spool`. */
  datadir: string;
  spool: string;
}

/**
 * Writes the collector's configuration into `dir`: flows on a free UDP port, the API on a free TCP
 * port, no store, no detection, every record to a JSON lines file and to `ingestUrl`. Small,
 * quick batches and short retry waits so an outage and a recovery fit in seconds.
 */
export async function writeCollectorConfig(
  dir: string,
  ingestUrl: string,
): Promise<{ files: CollectorFiles; ports: CollectorPorts }> {
  const ports = { udp: await freePort('udp'), api: await freePort('tcp') };
  const datadir = join(dir, 'data');
  const files: CollectorFiles = {
    config: join(dir, 'flowgate.json'),
    output: join(dir, 'flows.jsonl'),
    datadir,
    spool: join(datadir, 'spool'),
  };
  const config = {
    general: { datadir, templatedb: join(datadir, 'templates.json') },
    flow: { listen: [`127.0.0.1:${ports.udp}`] },
    store: { enabled: false },
    detection: { enabled: false },
    api: { enabled: true, listen: `127.0.0.1:${ports.api}` },
    output: {
      file: files.output,
      ingest: {
        url: ingestUrl,
        flushcount: 500,
        flushinterval: 0.2,
        retries: 2,
        retryinterval: 0.2,
        timeout: 1,
        closetimeout: 3,
      },
    },
  };
  writeFileSync(files.config, JSON.stringify(config, null, 2));
  return { files, ports };
}

/** The parts of GET /stats these tests read. */
export interface CollectorStatsView {
  totals: { records: number };
  ingest: IngestStats;
}

/** `flowgate collect --config FILE` as a child process, ready once its API answers. */
export class CollectorProcess {
  private logText = '';

  private constructor(
    readonly proc: ChildProcess,
    private readonly apiPort: number,
  ) {
    proc.stdout?.on('data', (b: Buffer) => {
      this.logText += b.toString();
    });
    proc.stderr?.on('data', (b: Buffer) => {
      this.logText += b.toString();
    });
  }

  static async start(config: string, apiPort: number): Promise<CollectorProcess> {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'collect', '--config', config],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    const c = new CollectorProcess(proc, apiPort);
    try {
      await waitForOutput(proc, /serving the HTTP API/, 30_000);
    } catch (err) {
      await c.kill();
      throw err;
    }
    return c;
  }

  log(): string {
    return this.logText;
  }

  async stats(): Promise<CollectorStatsView> {
    const res = await fetch(`http://127.0.0.1:${this.apiPort}/stats`);
    assert.equal(res.status, 200);
    return (await res.json()) as CollectorStatsView;
  }

  /** SIGTERM and the exit code. */
  terminate(): Promise<number | null> {
    return signalAndWait(this.proc, 'SIGTERM');
  }

  async kill(): Promise<void> {
    await signalAndWait(this.proc, 'SIGKILL');
  }
}

/**
 * Waits until the collector has written every record it decoded to its output file and the count
 * has not moved for a second (softflowd has exited before this is called).
 */
export async function waitForOutputFile(c: CollectorProcess, file: string): Promise<number> {
  let last = -1;
  let stableSince = Date.now();
  let decoded = 0;
  await waitFor(
    'the output file to hold every decoded record',
    async () => {
      decoded = (await c.stats()).totals.records;
      const lines = fileRecords(file).length;
      if (lines !== last) {
        last = lines;
        stableSince = Date.now();
      }
      return lines > 0 && lines === decoded && Date.now() - stableSince >= 1000;
    },
    20_000,
    () => `(file ${last} lines, ${decoded} decoded)`,
  );
  return last;
}

/** A key that names a record in a failure message. */
function describe(r: unknown): string {
  if (r === null || typeof r !== 'object') return JSON.stringify(r);
  const o = r as Json;
  return `${o.srcip}:${o.srcport} > ${o.dstip}:${o.dstport} packets ${o.packets} bits ${o.bits} start ${o.start} end ${o.end}`;
}

/**
 * The receiver's records must be the output file's records, in order, each once: reports how many
 * are missing, how many came twice and the first position where they differ.
 */
export function assertSameRecords(received: ReceivedRow[], expected: Json[]): void {
  const got = received.map((r) => r.record);
  const batchIds = new Set(received.map((r) => r.batch));
  assert.ok(!batchIds.has(null), 'every request carried X-Flowgate-Batch-Id');
  const keys = (list: unknown[]) => list.map((r) => JSON.stringify(r));
  const want = new Map<string, number>();
  for (const k of keys(expected)) want.set(k, (want.get(k) ?? 0) + 1);
  const have = new Map<string, number>();
  for (const k of keys(got)) have.set(k, (have.get(k) ?? 0) + 1);
  let missing = 0;
  let extra = 0;
  for (const [k, n] of want) missing += Math.max(0, n - (have.get(k) ?? 0));
  for (const [k, n] of have) extra += Math.max(0, n - (want.get(k) ?? 0));
  let firstDiff = -1;
  for (let i = 0; i < Math.max(got.length, expected.length); i++) {
    if (JSON.stringify(got[i]) !== JSON.stringify(expected[i])) {
      firstDiff = i;
      break;
    }
  }
  assert.ok(
    missing === 0 && extra === 0 && firstDiff === -1,
    `receiver holds ${got.length} records, the output file ${expected.length}: ${missing} missing, ` +
      `${extra} extra or twice; first difference at #${firstDiff}: received ${describe(got[firstDiff])}, ` +
      `file ${describe(expected[firstDiff])}`,
  );
}

/** Waits until the receiver holds `lines` records and `c`'s spool is empty (after a restart). */
export async function untilDelivered(c: CollectorProcess, out: string, lines: number): Promise<void> {
  await waitFor(
    'every record at the receiver',
    () => receivedRows(out).length >= lines,
    30_000,
    () => `(${receivedRows(out).length} of ${lines})`,
  );
  await waitFor('the spool to drain', async () => (await c.stats()).ingest.spool?.batches === 0, 20_000);
}
