import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCollect } from '../../src/cli/collect.js';
import { logCapture, testConfig, waitFor } from './helpers.js';

test('flowgate collect: logs stats every statsinterval and stops cleanly on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-run-'));
  const { logger, lines } = logCapture();
  const templatedb = join(dir, 'templates.json');
  const config = testConfig({
    general: { statsinterval: 1, templatedb },
    output: { file: join(dir, 'flows.jsonl') },
  });
  try {
    const run = runCollect(config, logger);
    await waitFor('a stats line', () => lines.some((l) => l.msg === 'stats'), 4000);
    const stats = lines.find((l) => l.msg === 'stats') as {
      queue: { capacity: number };
      listeners: unknown[];
    };
    assert.equal(stats.queue.capacity, 1000);
    assert.equal(stats.listeners.length, 1);
    process.kill(process.pid, 'SIGTERM');
    await run;
    assert.ok(lines.some((l) => l.msg === 'stopped'));
    assert.ok(existsSync(templatedb), 'template DB saved at stop');
    assert.equal(process.listenerCount('SIGTERM'), 0, 'signal handlers removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
