/** The real command runner: a hung CLI is killed at the timeout, a missing one is a counted problem. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandProblem, execFileRunner } from '../../src/mitigate/gobgp-cli.js';

test('a command that outlives its timeout is killed and reported as such', async () => {
  const started = Date.now();
  const result = await execFileRunner(['sleep', '20'], 300);
  assert.ok(Date.now() - started < 10_000, 'did not wait for sleep to finish');
  assert.equal(commandProblem(result), 'killed after 300 ms');
});

test('a missing program and a non-zero exit are problems with their text; exit 0 is none', async () => {
  assert.match(commandProblem(await execFileRunner(['/nonexistent/gobgp', 'global'], 2000)) ?? '', /ENOENT/);
  const failed = await execFileRunner(['sh', '-c', 'echo "rpc error: connection refused" >&2; exit 1'], 2000);
  assert.equal(commandProblem(failed), 'exit code 1: rpc error: connection refused');
  assert.equal(commandProblem(await execFileRunner(['true'], 2000)), null);
});
