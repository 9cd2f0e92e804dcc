/**
 * A real S3-compatible server for tests: s3rver (npm) as a child process on 127.0.0.1, on a port
 * it picks itself, storing in a mkdtemp directory removed by stop(). s3rver accepts one key pair,
 * S3RVER / S3RVER, and answers ListObjectsV2 (list-type=2) with continuation tokens (see the
 * OpenSSL note below).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const S3RVER_BIN = join(import.meta.dirname, '..', '..', 'node_modules', 's3rver', 'bin', 's3rver.js');

export const S3RVER_ACCESS_KEY_ID = 'S3RVER';
export const S3RVER_SECRET_ACCESS_KEY = 'S3RVER';

export interface S3Server {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  /** A client for the test's own uploads (path-style, s3rver's credentials). */
  readonly client: S3Client;
  createBucket(name: string): Promise<void>;
  /** Stops the process and removes its directory. */
  stop(): Promise<void>;
}

/** Servers still running when the test process exits are killed and their directories removed. */
const running = new Map<string, ChildProcess>();
process.on('exit', () => {
  for (const [dir, child] of running) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error(`s3rver did not start in 20 s: ${err}`)), 20_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /listening on [^\s:]+:(\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(Number(m[1]));
      }
    };
    const onExit = (code: number | null): void => fail(new Error(`s3rver exited with ${code}: ${err}`));
    function fail(e: Error): void {
      clearTimeout(timer);
      reject(e);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('exit', onExit);
  });
}

export async function startS3Server(buckets: readonly string[] = []): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-s3rver-'));
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17+) only
  // offers through its legacy provider: without it every truncated listing is a 500 InternalError.
  const args = ['--openssl-legacy-provider', S3RVER_BIN, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--silent'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.set(dir, child);
  let port: number;
  try {
    port = await listeningPort(child);
  } catch (e) {
    child.kill('SIGKILL');
    running.delete(dir);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_ACCESS_KEY_ID, secretAccessKey: S3RVER_SECRET_ACCESS_KEY },
    // s3rver predates the SDK's default CRC32 checksums, sent in aws-chunked bodies with trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const server: S3Server = {
    endpoint,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async stop() {
      client.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  for (const b of buckets) await server.createBucket(b);
  return server;
}
