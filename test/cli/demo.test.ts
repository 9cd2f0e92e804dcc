import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../helpers/collector-process.js';
import { stopProcess } from '../helpers/traffic.js';

async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

interface TopRow {
  key: string | number | null;
  flows: number;
}

test('flowgate demo: three built-in exporters reach the store, the attack shows up, the dashboard is served', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-demo-'));
  const apiPort = await freeTcpPort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      '--set',
      `api.listen=127.0.0.1:${apiPort}`,
      '--set',
      `general.datadir=${dir}`,
      'demo',
      '--rate',
      '400',
      '--attack-after',
      '1',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  const base = `http://127.0.0.1:${apiPort}`;
  const top = async (query: string): Promise<TopRow[]> => {
    const res = await fetch(`${base}/api/top?${query}`);
    if (!res.ok) return [];
    return ((await res.json()) as { rows: TopRow[] }).rows;
  };
  try {
    const deadline = Date.now() + 30_000;
    let exporters: TopRow[] = [];
    let udpSources: TopRow[] = [];
    while (Date.now() < deadline) {
      exporters = await top('dimension=exporter&metric=flows&limit=10').catch(() => []);
      udpSources = await top(
        `dimension=srcport&metric=flows&limit=50&filter=${encodeURIComponent('proto udp and dst net 10.1.20.5/32')}`,
      ).catch(() => []);
      if (exporters.length >= 3 && udpSources.some((r) => r.key === 123)) break;
      await sleep(250);
    }
    assert.match(log, /demo running: open http:\/\/127\.0\.0\.1:\d+\//, log);
    assert.deepEqual(
      exporters.map((r) => r.key).sort(),
      ['127.0.0.2', '127.0.0.3', '127.0.0.4'],
      'the edge router (NetFlow v9), firewall (IPFIX) and switch (sFlow) are all stored',
    );
    assert.ok(
      udpSources.some((r) => r.key === 123),
      `the NTP reflection flood toward 10.1.20.5 is in the store: ${JSON.stringify(udpSources)}`,
    );
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Flowgate/);
    assert.ok(existsSync(join(dir, 'demo', 'flows')), 'demo data kept apart under <datadir>/demo');

    // The detectors see the attack: the port scan at once, the reflection flood once the window's
    // average passes the threshold.
    let alerts: { kind: string; target: string; state: string }[] = [];
    const alertDeadline = Date.now() + 60_000;
    while (Date.now() < alertDeadline) {
      const res = await fetch(`${base}/api/alerts`);
      alerts = res.ok ? ((await res.json()) as { alerts: typeof alerts }).alerts : [];
      const kinds = new Set(alerts.map((a) => `${a.kind} ${a.target}`));
      if (kinds.has('port_scan 203.0.113.66') && kinds.has('reflection 10.1.20.5')) break;
      await sleep(500);
    }
    const seen = alerts.map((a) => `${a.kind} ${a.target}`);
    assert.ok(seen.includes('port_scan 203.0.113.66'), JSON.stringify(seen));
    assert.ok(seen.includes('reflection 10.1.20.5'), JSON.stringify(seen));
    assert.match(log, /alert started: Reflection\/amplification to 10\.1\.20\.5/);
  } finally {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  }
});
