import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../helpers/collector-process.js';
import { corpusPath } from '../helpers/corpus.js';
import { stopProcess } from '../helpers/traffic.js';

/** A TCP port free right now on 127.0.0.1. */
async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function poll<T>(what: string, f: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

test('flowgate collect serves the HTTP API on loopback: health, stats and metrics of what it received', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-collect-api-'));
  const apiPort = await freeTcpPort();
  const flowPort = await freeTcpPort(); // free for TCP now; UDP on the same number is almost surely free too
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      '--set',
      `api.listen=127.0.0.1:${apiPort}`,
      '--set',
      `store.dir=${join(dir, 'flows')}`,
      'collect',
      '--listen',
      `127.0.0.1:${flowPort}`,
      '--templatedb',
      join(dir, 'templates.json'),
      '--no-stdout',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  try {
    const base = `http://127.0.0.1:${apiPort}`;
    await poll('/healthz', async () => ((await fetch(`${base}/healthz`)).ok ? true : null));
    assert.match(log, /serving the HTTP API/);
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);

    const sock = createSocket('udp4');
    const v5 = readFileSync(corpusPath('netflow5/telegraf_netflow_v5_example_netflow_v5.bin'));
    await new Promise<void>((r) => sock.send(v5, flowPort, '127.0.0.1', () => r()));
    sock.close();

    const stats = await poll('an exporter in /stats', async () => {
      const s = (await (await fetch(`${base}/stats`)).json()) as {
        exporters: { address: string; records: number }[];
      };
      return s.exporters.length > 0 ? s : null;
    });
    assert.equal(stats.exporters[0].address, '127.0.0.1');
    assert.equal(stats.exporters[0].records, 8);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^flowgate_records_total\{exporter="127\.0\.0\.1"\} 8$/m);
  } finally {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  }
});
