import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AlertEvent } from '../../src/detect/alert.js';
import { ScriptNotifier, STDERR_KEEP_BYTES } from '../../src/notify/script.js';
import { eventually, makeEvent } from './alert-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-notify-script-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function writeScript(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('script: event JSON on stdin, alert id/kind/event in the environment, argv passed as is', async () => {
  const out = join(dir, 'out');
  const script = writeScript(
    'record.sh',
    `cat > "$1/$FLOWGATE_ALERT_ID-$FLOWGATE_EVENT.json"
printf '%s %s %s' "$FLOWGATE_ALERT_KIND" "$FLOWGATE_EVENT" "$2" > "$1/$FLOWGATE_ALERT_ID-$FLOWGATE_EVENT.env"`,
  );
  mkdirSync(out);
  const sink = new ScriptNotifier({ command: [script, out, 'two words; $(no shell)'], timeoutSeconds: 10 });
  sink.handle(makeEvent('start', { id: 'a-7', kind: 'udp_flood' }));
  sink.handle(makeEvent('end', { id: 'a-7', kind: 'udp_flood', state: 'ended' }));
  await sink.close();
  const got = JSON.parse(readFileSync(join(out, 'a-7-start.json'), 'utf8')) as AlertEvent;
  assert.equal(got.type, 'start');
  assert.equal(got.alert.id, 'a-7');
  assert.equal(got.alert.kind, 'udp_flood');
  assert.equal(readFileSync(join(out, 'a-7-start.env'), 'utf8'), 'udp_flood start two words; $(no shell)');
  assert.equal((JSON.parse(readFileSync(join(out, 'a-7-end.json'), 'utf8')) as AlertEvent).type, 'end');
  assert.equal(sink.status().succeeded, 2);
  assert.equal(sink.status().failed, 0);
});

test('script: a failing run is counted with its exit code and the first 1 KB of stderr', async () => {
  const script = writeScript(
    'fail.sh',
    `cat >/dev/null; echo "no route to ticketing" >&2; head -c 5000 /dev/zero | tr '\\0' x >&2; exit 3`,
  );
  const sink = new ScriptNotifier({ command: [script], timeoutSeconds: 10 });
  sink.handle(makeEvent('start'));
  await sink.close();
  const s = sink.status();
  assert.equal(s.failed, 1);
  assert.equal(s.recentFailures.length, 1);
  const f = s.recentFailures[0];
  assert.equal(f.exitCode, 3);
  assert.equal(f.timedOut, false);
  assert.ok(f.stderr.startsWith('no route to ticketing\n'), f.stderr.slice(0, 50));
  assert.equal(Buffer.byteLength(f.stderr), STDERR_KEEP_BYTES);
});

test('script: a missing executable is a counted failure, not a throw', async () => {
  const sink = new ScriptNotifier({ command: [join(dir, 'does-not-exist')] });
  sink.handle(makeEvent('start'));
  await sink.close();
  assert.equal(sink.status().failed, 1);
  assert.match(sink.status().recentFailures[0].stderr, /could not start: .*ENOENT/);
});

test('script: a run past the timeout is killed, with the children it started', async () => {
  const marker = join(dir, 'should-not-exist');
  // The background sleep would outlive a kill of the shell alone.
  const script = writeScript('slow.sh', `(sleep 4; touch "${marker}") & sleep 30`);
  const sink = new ScriptNotifier({ command: [script], timeoutSeconds: 1 });
  const t0 = Date.now();
  sink.handle(makeEvent('start'));
  await eventually(
    () => sink.status().timedOut === 1,
    10_000,
    () => JSON.stringify(sink.status()),
  );
  const took = Date.now() - t0;
  assert.ok(took < 5000, `killed after ${took} ms`);
  assert.equal(sink.status().failed, 1);
  assert.equal(sink.status().recentFailures[0].signal, 'SIGTERM');
  await sleep(4500 - took);
  assert.equal(existsSync(marker), false, 'the script child survived the kill');
  await sink.close();
});

test('script: at most `concurrency` runs at once, the rest queued (bounded)', async () => {
  const runs = join(dir, 'runs');
  mkdirSync(runs);
  // Each run leaves a file while it runs; the highest count seen at once is the concurrency.
  const script = writeScript(
    'count.sh',
    `f="${runs}/$FLOWGATE_ALERT_ID.$$"; touch "$f"; n=$(ls "${runs}" | wc -l); echo "$n" >> "${dir}/peaks"; sleep 0.3; rm "$f"`,
  );
  const sink = new ScriptNotifier({ command: [script], concurrency: 2, maxQueued: 5, timeoutSeconds: 10 });
  for (let i = 0; i < 9; i++) sink.handle(makeEvent('start', { id: `a-${i}` }));
  assert.equal(sink.status().running, 2);
  assert.equal(sink.status().queued, 5);
  assert.equal(sink.status().dropped, 2);
  await sink.close();
  assert.equal(sink.status().succeeded, 7);
  const peaks = readFileSync(join(dir, 'peaks'), 'utf8').trim().split('\n').map(Number);
  assert.equal(peaks.length, 7);
  assert.ok(Math.max(...peaks) <= 2, `up to ${Math.max(...peaks)} ran at once`);
  assert.equal(readdirSync(runs).length, 0);
});
