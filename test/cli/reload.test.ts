/**
 * Live reload of `flowgate collect` (a real process): SIGHUP and POST /api/reload re-read the
 * configuration while an exporter keeps sending. A detection threshold and the output file change
 * without closing the socket: no datagram is lost or written twice across the reloads, records
 * move to the new file, the new threshold raises an alert; an invalid file changes nothing; what
 * needs a restart is named in the log.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../helpers/collector-process.js';
import { heavyTcpV5 } from '../helpers/netflow5-heavy-flow.js';
import { freePort, stopProcess, waitForOutput } from '../helpers/traffic.js';

function lines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('SIGHUP and POST /api/reload change a threshold and the output file while an exporter sends: nothing lost or doubled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-reload-'));
  const udpPort = await freePort('udp');
  const apiPort = await freePort('tcp');
  const configFile = join(dir, 'flowgate.json');
  const fileA = join(dir, 'a.jsonl');
  const fileB = join(dir, 'b.jsonl');
  const config = (file: string, pps: number) => ({
    general: { datadir: dir, templatedb: join(dir, 'templates.json') },
    flow: { listen: [`127.0.0.1:${udpPort}`] },
    store: { enabled: false },
    api: { listen: `127.0.0.1:${apiPort}` },
    output: { file },
    detection: { thresholds: { pps }, exportersilent: null },
    alerts: { persist: false },
  });
  writeFileSync(configFile, JSON.stringify(config(fileA, 1e12)));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', '--config', configFile, 'collect'],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  const sock = createSocket('udp4');
  try {
    await waitForOutput(child, /serving the HTTP API/, 30_000);
    const api = `http://127.0.0.1:${apiPort}`;
    let seq = 0;
    let sending = true;
    // ~200 datagrams/s: 400,000 pps to 10.0.0.5 (the first threshold is far above it).
    const sender = (async () => {
      while (sending) {
        for (let i = 0; i < 10; i++) sock.send(heavyTcpV5(seq++), udpPort, '127.0.0.1');
        await sleep(50);
      }
    })();
    await sleep(2_000);
    // SIGHUP: a new output file and a pps threshold the traffic is above.
    writeFileSync(configFile, JSON.stringify(config(fileB, 100_000)));
    child.kill('SIGHUP');
    await waitForOutput(child, /configuration reloaded/, 10_000).catch(() => {});
    await sleep(3_000);
    // An invalid file: refused over the API, nothing changes.
    writeFileSync(configFile, JSON.stringify({ ...config(fileA, 100_000), flow: { listen: ['nonsense'] } }));
    const bad = await fetch(`${api}/api/reload`, { method: 'POST' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /flow\.listen/);
    // A change that needs a restart is applied where it can be and named.
    writeFileSync(
      configFile,
      JSON.stringify({
        ...config(fileB, 100_000),
        flow: { listen: [`127.0.0.1:${udpPort}`], udpbuffer: 1_048_576 },
      }),
    );
    const ok = await fetch(`${api}/api/reload`, { method: 'POST' });
    assert.equal(ok.status, 200);
    const result = (await ok.json()) as { applied: string[]; needsRestart: string[] };
    assert.deepEqual(result.applied, []);
    assert.deepEqual(result.needsRestart, ['flow.udpbuffer changed: needs a restart']);
    await sleep(1_000);
    sending = false;
    await sender;
    const sent = seq;
    await sleep(1_500);
    const stats = (await (await fetch(`${api}/stats`)).json()) as {
      received: number;
      queue: { drops: number };
    };
    assert.equal(stats.received, sent, 'every datagram received across the reloads');
    const alerts = (await (await fetch(`${api}/api/alerts`)).json()) as {
      alerts: { kind: string; target: string; threshold: number }[];
    };
    assert.ok(
      alerts.alerts.some(
        (a) => a.kind === 'volumetric' && a.target === '10.0.0.5' && a.threshold === 100_000,
      ),
      JSON.stringify(alerts.alerts),
    );
    await stopProcess(child, 'SIGTERM', 15_000);
    assert.equal(child.exitCode, 0, log.slice(-2000));
    const a = lines(fileA);
    const b = lines(fileB);
    assert.ok(a.length > 0 && b.length > 0, `records in both files: ${a.length}, ${b.length}`);
    assert.equal(a.length + b.length, sent, 'every record written once, in one file or the other');
    // The files split the stream: the first file's records all come before the second's.
    const ports = [...a, ...b].map((r) => r.srcport as number);
    assert.deepEqual(
      ports,
      Array.from({ length: sent }, (_, i) => 40_000 + (i % 20_000)),
      'in order, none twice',
    );
    assert.match(log, /"applied":\["detection","output.file"\]/);
    assert.match(log, /reload: flow\.udpbuffer changed: needs a restart/);
  } finally {
    sock.close();
    await stopProcess(child, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
