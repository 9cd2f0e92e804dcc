/** The collector's /stats carries the kernel's drop counter of each UDP listener (receive/kernel-drops.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { MemoryOutput, quietLogger, testConfig } from './helpers.js';

test('/stats reports the kernel drops of each UDP listener (Linux), zero on an idle socket', async () => {
  const c = await startCollector(testConfig({}), quietLogger, { output: new MemoryOutput() });
  try {
    const k = c.stats().kernelDrops;
    assert.equal(k.length, 1);
    assert.equal(k[0]?.address, c.listeners[0]?.address);
    if (process.platform === 'linux') assert.equal(k[0]?.drops, 0);
  } finally {
    await c.stop();
  }
});
