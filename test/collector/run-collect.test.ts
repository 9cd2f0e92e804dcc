import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCollect } from '../../src/cli/collect.js';
import { corpusPath } from '../helpers/corpus.js';
import { logCapture, testConfig, waitFor } from './helpers.js';

const V5 = 'netflow5/telegraf_netflow_v5_example_netflow_v5.bin';

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
    const limits = lines.find((l) => l.msg === 'limits in force') as { decode: Record<string, number> };
    assert.equal(limits.decode.maxexporters, config.decode.maxexporters, 'limits are stated at start');
    assert.equal(stats.listeners.length, 1);
    // One datagram from a v5 exporter: it gets its own stats line with its counters.
    const port = Number((stats.listeners[0] as { address: string }).address.split(':').pop());
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) =>
      sock.send(readFileSync(corpusPath(V5)), port, '127.0.0.1', () => resolve()),
    );
    sock.close();
    await waitFor('an exporter stats line', () => lines.some((l) => l.msg === 'exporter stats'), 4000);
    const exp = (
      lines.find((l) => l.msg === 'exporter stats') as {
        exporter: { address: string; records: number; datagrams: number };
      }
    ).exporter;
    assert.equal(exp.address, '127.0.0.1');
    assert.equal(exp.datagrams, 1);
    assert.equal(exp.records, 8);
    process.kill(process.pid, 'SIGTERM');
    await run;
    assert.ok(lines.some((l) => l.msg === 'stopped'));
    assert.ok(existsSync(templatedb), 'template DB saved at stop');
    assert.equal(process.listenerCount('SIGTERM'), 0, 'signal handlers removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
