import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startGroupProcess, waitForGroupExit } from '../../eval/detection/bounded-process.js';

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('bounded exporter processes', () => {
  it('kills the whole process group (forked children too) at the timeout', async () => {
    // Like pmacctd: the leader forks workers; both must be gone after the timeout.
    const p = startGroupProcess('sh', ['-c', 'sleep 30 & sleep 30']);
    const pgid = p.child.pid!;
    await assert.rejects(
      waitForGroupExit(p, 300, 'sleeper'),
      /sleeper did not finish within 300 ms \(killed\)/,
    );
    assert.equal(groupAlive(pgid), false);
  });

  it('waits for forked children that outlive the leader', async () => {
    const p = startGroupProcess('sh', ['-c', '(sleep 0.5; echo flushed) & echo leader done']);
    const started = Date.now();
    assert.equal(await waitForGroupExit(p, 10_000, 'flusher'), 0);
    assert.equal(Date.now() - started >= 400, true, 'returned before the child finished');
    assert.match(p.output(), /flushed/);
  });
});
