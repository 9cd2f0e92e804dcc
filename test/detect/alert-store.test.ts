import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AlertStore, COMPACT_FACTOR } from '../../src/detect/alert-store.js';
import { eventOf, T0 } from './alert-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-alert-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `sub-${++files}`, 'alerts.jsonl');
const fileLines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
const ids = (alerts: readonly { id: string }[]) => alerts.map((a) => a.id);

test('an update or end replaces the alert; get and counts follow the latest version', async () => {
  const s = new AlertStore();
  s.handle(eventOf('start', { id: 'a1', value: 200_000 }));
  s.handle(eventOf('update', { id: 'a1', value: 310_000, peak: 310_000 }));
  assert.equal(s.get('a1')?.value, 310_000);
  assert.equal(s.counts().active, 1);
  s.handle(eventOf('end', { id: 'a1', endedAt: T0 + 90_000 }));
  assert.equal(s.get('a1')?.state, 'ended');
  assert.equal(s.get('a1')?.endedAt, T0 + 90_000);
  assert.equal(s.get('nope'), null);
  assert.equal(s.list().length, 1);
  const c = s.counts();
  assert.deepEqual([c.active, c.ended, c.byKind.syn_flood.ended, c.byKind.port_scan.ended], [0, 1, 1, 0]);
  assert.equal(s.startsByKind().syn_flood, 1);
  await s.close();
});

test('list: newest first, filtered by state, kind, target, time range and limit', () => {
  const s = new AlertStore();
  s.handle(eventOf('start', { id: 'old', startedAt: T0, updatedAt: T0 }));
  s.handle(eventOf('end', { id: 'old', startedAt: T0, updatedAt: T0, endedAt: T0 + 60_000 }));
  s.handle(
    eventOf('start', { id: 'scan', kind: 'port_scan', target: '203.0.113.5', startedAt: T0 + 120_000 }),
  );
  s.handle(eventOf('start', { id: 'new', startedAt: T0 + 300_000, updatedAt: T0 + 300_000 }));
  assert.deepEqual(ids(s.list()), ['new', 'scan', 'old']);
  assert.deepEqual(ids(s.list({ state: 'active' })), ['new', 'scan']);
  assert.deepEqual(ids(s.list({ state: 'ended' })), ['old']);
  assert.deepEqual(ids(s.list({ kind: 'port_scan' })), ['scan']);
  assert.deepEqual(ids(s.list({ target: '192.0.2.10' })), ['new', 'old']);
  assert.deepEqual(ids(s.list({ limit: 2 })), ['new', 'scan']);
  // Overlap: "old" ran T0..T0+60 s; the active ones go on until now.
  assert.deepEqual(ids(s.list({ from: T0 + 61_000 })), ['new', 'scan']);
  assert.deepEqual(ids(s.list({ from: T0 + 60_000 })), ['new', 'scan', 'old']);
  assert.deepEqual(ids(s.list({ to: T0 + 120_000 })), ['old']);
  assert.deepEqual(ids(s.list({ from: T0 + 100_000, to: T0 + 200_000 })), ['scan']);
});

test('bounded: the alert that ended longest ago goes first, active ones only when nothing has ended', () => {
  const s = new AlertStore({ maxAlerts: 3 });
  for (const id of ['a', 'b', 'c']) s.handle(eventOf('start', { id }));
  s.handle(eventOf('end', { id: 'c' }));
  s.handle(eventOf('end', { id: 'b' }));
  s.handle(eventOf('start', { id: 'd' }));
  // c ended before b: c is dropped although b started earlier.
  assert.deepEqual(ids(s.list()).sort(), ['a', 'b', 'd']);
  s.handle(eventOf('start', { id: 'e' }));
  assert.deepEqual(ids(s.list()).sort(), ['a', 'd', 'e']);
  // All active: the first seen goes.
  s.handle(eventOf('start', { id: 'f' }));
  assert.deepEqual(ids(s.list()).sort(), ['d', 'e', 'f']);
  assert.equal(s.health().dropped, 3);
  assert.throws(() => new AlertStore({ maxAlerts: 0 }), /maxAlerts 0 must be a positive integer/);
});

test('persisted: one JSON line per event, reloaded after a restart', async () => {
  const path = freshPath();
  const s = new AlertStore({ path });
  s.handle(eventOf('start', { id: 'a1' }));
  s.handle(eventOf('start', { id: 'a2', kind: 'udp_flood', target: '192.0.2.20' }));
  s.handle(eventOf('update', { id: 'a1', value: 400_000, peak: 400_000 }));
  s.handle(eventOf('end', { id: 'a2' }));
  await s.close();
  const lines = fileLines(path).map((l) => JSON.parse(l) as { type: string; alert: { id: string } });
  assert.deepEqual(
    lines.map((l) => `${l.type} ${l.alert.id}`),
    ['start a1', 'start a2', 'update a1', 'end a2'],
  );
  const again = new AlertStore({ path });
  assert.deepEqual(again.list(), s.list());
  assert.equal(again.get('a1')?.peak, 400_000);
  assert.equal(again.get('a2')?.state, 'ended');
  // Counted starts are this process's: the replayed ones were counted by the previous one.
  assert.equal(again.startsByKind().syn_flood, 0);
  assert.equal(again.health().badLines, 0);
  await again.close();
});

test('a torn last line is skipped and counted, and the next append starts on a fresh line', async () => {
  const path = freshPath();
  const s = new AlertStore({ path });
  s.handle(eventOf('start', { id: 'a1' }));
  s.handle(eventOf('start', { id: 'a2' }));
  await s.close();
  const whole = JSON.stringify(eventOf('update', { id: 'a1', value: 1 }));
  appendFileSync(path, whole.slice(0, whole.length / 2));

  const reloaded = new AlertStore({ path });
  assert.equal(reloaded.health().badLines, 1);
  assert.deepEqual(ids(reloaded.list()).sort(), ['a1', 'a2']);
  assert.equal(reloaded.get('a1')?.value, 310_000, 'the torn update is not applied');
  reloaded.handle(eventOf('end', { id: 'a2' }));
  await reloaded.close();

  const third = new AlertStore({ path });
  assert.equal(third.health().badLines, 0);
  assert.equal(third.get('a2')?.state, 'ended');
  assert.equal(fileLines(path).length, 3);
  await third.close();
});

test('the file is compacted past 4 lines per kept alert, atomically, to the latest versions', async () => {
  const path = freshPath();
  const s = new AlertStore({ path, maxAlerts: 2 });
  s.handle(eventOf('start', { id: 'a1' }));
  s.handle(eventOf('start', { id: 'a2' }));
  for (let i = 1; i <= 20; i++) s.handle(eventOf('update', { id: 'a1', value: i, updatedAt: T0 + i }));
  s.handle(eventOf('end', { id: 'a2' }));
  assert.ok(s.health().compactions >= 2, `compactions ${s.health().compactions}`);
  const lines = fileLines(path);
  assert.ok(lines.length <= COMPACT_FACTOR * 2, `${lines.length} lines`);
  assert.equal(existsSync(`${path}.tmp`), false);
  // Events dropped by the bound disappear from the file at the next compaction.
  for (const id of ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8']) s.handle(eventOf('start', { id }));
  await s.close();
  const again = new AlertStore({ path, maxAlerts: 2 });
  assert.deepEqual(again.list(), s.list());
  assert.deepEqual(ids(again.list()).sort(), ['b7', 'b8']);
  assert.ok(fileLines(path).length <= COMPACT_FACTOR * 2);
  await again.close();

  // One alert updated again and again: the reloaded file gives its latest version.
  const onePath = freshPath();
  const one = new AlertStore({ path: onePath });
  for (let i = 1; i <= 9; i++) one.handle(eventOf('update', { id: 'x', value: i }));
  await one.close();
  const reloaded = new AlertStore({ path: onePath });
  assert.equal(reloaded.get('x')?.value, 9);
  assert.ok(fileLines(onePath).length <= COMPACT_FACTOR);
  await reloaded.close();
});

test('a file that cannot be read is a clear error at start', () => {
  assert.throws(() => new AlertStore({ path: dir }), /alert file .* cannot be read: EISDIR/);
});
