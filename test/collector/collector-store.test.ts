import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { REPO_ROOT } from '../helpers/collector-process.js';
import { captureDatagrams, NFV5_CAPTURE } from '../helpers/store-records.js';
import { MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from './helpers.js';

const APRIL_2023 = { fromMs: Date.UTC(2023, 3, 1), toMs: Date.UTC(2023, 4, 1) };

test('store enabled: the JSON-lines file and the store both get every record; stop closes the store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-collector-store-'));
  const file = join(dir, 'flows.json');
  try {
    const c = await startCollector(
      testConfig({
        output: { file },
        store: { enabled: true, dir: join(dir, 'flows'), retentiondays: null },
      }),
      quietLogger,
    );
    await sendUdp(
      '127.0.0.1',
      c.listeners[0].port,
      captureDatagrams(NFV5_CAPTURE).map((d) => d.payload),
    );
    await waitFor('the v5 datagram', () => c.stats().decode.datagrams === 1);
    await c.flush();
    const s = c.stats();
    assert.match(s.output.name, /^jsonl/);
    assert.equal(s.output.written, 29);
    assert.deepEqual(
      { name: s.store?.name, recordsWritten: s.store?.recordsWritten, queueDepth: s.store?.queueDepth },
      { name: 'duckdb', recordsWritten: 29, queueDepth: 0 },
    );
    await c.stop();
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 29);
    assert.equal((JSON.parse(lines[0]) as { srcip: string }).srcip, '161.202.212.212');
    // Closed at stop: the same directory opens again in this process, with the records in it.
    const again = new DuckDbStore({ dir: join(dir, 'flows') });
    await again.open();
    try {
      const flows = await again.flows({ range: APRIL_2023, filter: null, limit: 100 });
      assert.equal(flows.length, 29);
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('store disabled: no store in the stats, records only to the output', async () => {
  const output = new MemoryOutput();
  const c = await startCollector(testConfig({}), quietLogger, { output });
  try {
    assert.equal(c.store, null);
    assert.equal(c.stats().store, null);
    assert.equal(c.stats().output.name, 'memory');
  } finally {
    await c.stop();
  }
});

function damagedStore(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-damaged-'));
  writeFileSync(join(dir, 'flows-2024-01-01.duckdb'), 'this is not a DuckDB database file '.repeat(200));
  return dir;
}

test('a damaged store: startCollector rejects naming the store directory', async () => {
  const dir = damagedStore();
  try {
    await assert.rejects(
      startCollector(testConfig({ store: { enabled: true, dir } }), quietLogger, {
        output: new MemoryOutput(),
      }),
      (err: Error) => err.message.startsWith(`flow store at ${dir} cannot be opened`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flowgate collect with a damaged store exits 1 with the path on stderr', async () => {
  const dir = damagedStore();
  try {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          '--set',
          'api.enabled=false',
          '--set',
          `store.dir=${dir}`,
          'collect',
          '--templatedb',
          join(dir, 'templates.json'),
          // The store is opened before any socket is bound: this port is never used.
          '--listen',
          '127.0.0.1:9',
        ],
        { cwd: REPO_ROOT, timeout: 30_000 },
        (err, _stdout, stderr) =>
          resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stderr }),
      );
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`flowgate: flow store at ${dir} cannot be opened`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
