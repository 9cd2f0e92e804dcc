import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Checkpoint } from '../../../src/cloud/read/checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'flowgate-checkpoint-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('round trip: progress saved on set is what a new open loads', () => {
  const path = join(root, 'sub', 'round-trip.json');
  const cp = Checkpoint.open(path);
  assert.equal(cp.size, 0, 'a missing file is an empty checkpoint');
  cp.set('/logs/a.log', { offset: 100, size: 100, tag: '1700000000000' });
  cp.set('/logs/b.log', { offset: 10, size: 40, tag: '1700000000001' });

  const again = Checkpoint.open(path);
  assert.deepEqual(again.get('/logs/a.log'), { offset: 100, size: 100, tag: '1700000000000' });
  assert.deepEqual(again.get('/logs/b.log'), { offset: 10, size: 40, tag: '1700000000001' });
  assert.equal(again.isDone('/logs/a.log', 100, '1700000000000'), true);
  assert.equal(again.isDone('/logs/a.log', 120, '1700000000000'), false, 'grown: not done');
  assert.equal(again.isDone('/logs/a.log', 100, 'other'), false, 'other tag: not done');
  assert.equal(again.isDone('/logs/b.log', 40, '1700000000001'), false, 'offset short of size');
  assert.deepEqual([...again.names()].sort(), ['/logs/a.log', '/logs/b.log']);

  assert.equal(
    again.prune((name) => name.endsWith('b.log')),
    1,
  );
  assert.deepEqual([...Checkpoint.open(path).names()], ['/logs/a.log'], 'prune is saved');
});

test('atomic: a leftover temporary file from a crashed write is ignored, and no temporary is left', () => {
  const dir = join(root, 'atomic');
  const path = join(dir, 'cp.json');
  const cp = Checkpoint.open(path);
  cp.set('x', { offset: 5, size: 5, tag: 't1' });
  // What a crash in the middle of the next write leaves: half a JSON text beside the real file.
  writeFileSync(`${path}.tmp-99999`, '{"version":1,"objects":{"x":{"offset":');
  const reopened = Checkpoint.open(path);
  assert.deepEqual(reopened.get('x'), { offset: 5, size: 5, tag: 't1' });
  reopened.set('y', { offset: 1, size: 2, tag: 't2' });
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), {
    version: 1,
    objects: { x: { offset: 5, size: 5, tag: 't1' }, y: { offset: 1, size: 2, tag: 't2' } },
  });
  assert.deepEqual(readdirSync(dir).sort(), ['cp.json', 'cp.json.tmp-99999'], 'own temporary renamed away');
});

test('a malformed file throws an error naming the path', () => {
  const cases: [string, string, RegExp][] = [
    ['not-json.json', '{"version":1,', /is not JSON/],
    ['wrong-version.json', '{"version":2,"objects":{}}', /not a Flowgate flow-log checkpoint/],
    ['null.json', 'null', /not a Flowgate flow-log checkpoint/],
    [
      'bad-entry.json',
      '{"version":1,"objects":{"a.log":{"offset":"1","size":1,"tag":"t"}}}',
      /"a\.log" is malformed/,
    ],
  ];
  for (const [name, text, reason] of cases) {
    const path = join(root, name);
    writeFileSync(path, text);
    assert.throws(
      () => Checkpoint.open(path),
      (e: Error) => e.message.includes(path) && reason.test(e.message),
      name,
    );
  }
});

test('a null path keeps progress in memory only and writes nothing', () => {
  const before = readdirSync(root).sort();
  const cp = Checkpoint.open(null);
  assert.equal(cp.path, null);
  cp.set('a', { offset: 3, size: 3, tag: 'm' });
  assert.equal(cp.isDone('a', 3, 'm'), true);
  assert.equal(
    cp.prune(() => true),
    1,
  );
  assert.equal(cp.size, 0);
  assert.deepEqual(readdirSync(root).sort(), before);
});
