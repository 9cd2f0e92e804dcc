/**
 * A private Azurite blob service (npm devDependency) for one test: a child process listening on
 * 127.0.0.1:<free port>, its data in a temp dir removed by stop(). The account is Azurite's
 * well-known development account (devstoreaccount1, its published key).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './child-process.js';
import { freePort } from './traffic.js';

export const AZURITE_ACCOUNT = 'devstoreaccount1';
/** Azurite's documented development key (not a secret). */
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const AZURITE_BIN = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'azurite-blob');

export interface RunningAzurite {
  readonly connectionString: string;
  /** The blob endpoint, `http://127.0.0.1:<port>/devstoreaccount1`. */
  readonly accountUrl: string;
  /** Azurite's own output, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startAzurite(): Promise<RunningAzurite> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-azurite-'));
  const port = await freePort('tcp');
  const child = spawn(
    AZURITE_BIN,
    [
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--location',
      dir,
      '--silent',
      '--skipApiVersionCheck',
      '--loose',
      '--disableTelemetry',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`azurite-blob did not start on 127.0.0.1:${port}: ${out.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const accountUrl = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${accountUrl};`;
  return { connectionString, accountUrl, output: () => out, stop };
}
