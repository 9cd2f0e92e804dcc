import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Spool } from '../../src/deliver/spool/spool.js';
import { body as bodyOf, crashBody, drain, openSpool as open, withDir } from './spool-helpers.js';

const body = (n: number): Buffer => bodyOf(n, 300 + n * 10);

/** Frame size of batch `b<n>` as frame.ts lays it out: 16-byte prefix, 13-byte header, id, body. */
function frameSize(n: number): number {
  return 16 + 13 + `b${n}`.length + body(n).length;
}

const N = 6;
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** A one-segment spool holding b0..b5; returns the segment's path and bytes. */
async function sixBatches(dir: string): Promise<{ path: string; bytes: Buffer }> {
  const spool = await open(dir);
  for (let i = 0; i < N; i++) await spool.append({ id: `b${i}`, records: 1, body: body(i) });
  await spool.close();
  const path = join(dir, '00000001.spool');
  return { path, bytes: readFileSync(path) };
}

function offsetOf(n: number): number {
  let offset = 0;
  for (let i = 0; i < n; i++) offset += frameSize(i);
  return offset;
}

test('a torn last write is cut away and never replayed', async () => {
  await withDir(async (dir) => {
    const { path, bytes } = await sixBatches(dir);
    const lastStart = offsetOf(N - 1);
    assert.equal(bytes.length, lastStart + frameSize(N - 1));
    // Inside the magic, the lengths, the CRC, the header, the id, the body, one byte short.
    for (const cut of [1, 4, 7, 12, 15, 16, 20, 29, 31, 200, frameSize(N - 1) - 1]) {
      writeFileSync(path, bytes.subarray(0, lastStart + cut));
      rmSync(join(dir, 'ack'), { force: true });
      const spool = await open(dir);
      assert.equal(spool.stats().tornSkipped, 1, `cut at ${cut}`);
      assert.equal(spool.stats().corruptSkipped, 0, `cut at ${cut}`);
      assert.equal(spool.stats().batches, N - 1, `cut at ${cut}`);
      assert.equal(statSync(path).size, lastStart, `cut at ${cut}: torn bytes truncated`);
      // The next append starts on the frame boundary, so it replays after the good ones.
      await spool.append({ id: 'b9', records: 1, body: body(9) });
      await spool.close();
      const again = await open(dir);
      assert.equal(again.stats().tornSkipped, 0);
      assert.deepEqual(await drain(again), [...range(0, N - 1), 9], `cut at ${cut}`);
      await again.close();
    }
  });
});

test('garbage after the last record is counted as torn and cut away', async () => {
  await withDir(async (dir) => {
    const { path, bytes } = await sixBatches(dir);
    const garbage = [
      randomBytes(1),
      randomBytes(5000),
      Buffer.alloc(4096),
      Buffer.concat([Buffer.from('FGSP\x01\x00'), randomBytes(300)]),
      // A copy of a real frame header with a body cut short.
      bytes.subarray(0, frameSize(0) - 10),
    ];
    for (const [i, g] of garbage.entries()) {
      writeFileSync(path, Buffer.concat([bytes, g]));
      rmSync(join(dir, 'ack'), { force: true });
      const spool = await open(dir);
      assert.equal(spool.stats().tornSkipped, 1, `garbage ${i}`);
      assert.equal(statSync(path).size, bytes.length, `garbage ${i}`);
      assert.deepEqual(await drain(spool), range(0, N), `garbage ${i}`);
      await spool.close();
    }
  });
});

test('a damaged record in the middle is skipped and the rest replay', async () => {
  await withDir(async (dir) => {
    const { path, bytes } = await sixBatches(dir);
    const at = offsetOf(2);
    // Magic, version, header length, payload length (up and down), CRC, record count, id, body.
    const damage: [number, number][] = [
      [0, 0x01],
      [4, 0x02],
      [6, 0x01],
      [8, 0x40],
      [11, 0x80],
      [13, 0x10],
      [16, 0x01],
      [30, 0x20],
      [100, 0x04],
    ];
    for (const [pos, bit] of damage) {
      const copy = Buffer.from(bytes);
      copy[at + pos] ^= bit;
      writeFileSync(path, copy);
      rmSync(join(dir, 'ack'), { force: true });
      const spool = await open(dir);
      const s = spool.stats();
      assert.equal(s.corruptSkipped, 1, `byte ${pos}`);
      assert.equal(s.tornSkipped, 0, `byte ${pos}`);
      assert.deepEqual(await drain(spool), [0, 1, 3, 4, 5], `byte ${pos}`);
      await spool.close();
    }
  });
});

test('a record damaged after open is skipped when peeked', async () => {
  await withDir(async (dir) => {
    const { path, bytes } = await sixBatches(dir);
    const spool = await open(dir);
    const copy = Buffer.from(bytes);
    copy[offsetOf(1) + 50] ^= 0xff;
    writeFileSync(path, copy);
    assert.deepEqual(await drain(spool), [0, 2, 3, 4, 5]);
    assert.equal(spool.stats().corruptSkipped, 1);
    await spool.close();
  });
});

test('a segment left behind by a crash before its deletion is not replayed', async () => {
  await withDir(async (dir) => {
    const spool = await open(dir, { segmentBytes: 1000 });
    for (let i = 0; i < 6; i++) await spool.append({ id: `b${i}`, records: 1, body: body(i) });
    const first = readFileSync(join(dir, '00000001.spool'));
    for (let i = 0; i < 3; i++) await spool.ack(`b${i}`);
    await spool.close();
    writeFileSync(join(dir, '00000001.spool'), first);
    const again = await open(dir, { segmentBytes: 1000 });
    assert.ok(!readdirSync(dir).includes('00000001.spool'), 'deleted at open');
    assert.deepEqual(await drain(again), [3, 4, 5]);
    await again.close();
  });
});

test('a torn ack slot falls back to the previous position (replay, never loss)', async () => {
  await withDir(async (dir) => {
    const spool = await open(dir);
    for (let i = 0; i < 4; i++) await spool.append({ id: `b${i}`, records: 1, body: body(i) });
    await spool.ack('b0');
    await spool.ack('b1');
    await spool.close();
    const ackPath = join(dir, 'ack');
    const ack = readFileSync(ackPath);
    // Which slot is newer is the ack file's business: damage each in turn.
    const replays: number[][] = [];
    for (const slot of [0, 512]) {
      const copy = Buffer.from(ack);
      copy[slot + 20] ^= 0xff;
      writeFileSync(ackPath, copy);
      const again = await open(dir);
      const oldest = await again.peek();
      replays.push([again.stats().batches, Number(oldest?.id.slice(1))]);
      await again.close();
    }
    replays.sort((a, b) => a[0] - b[0]);
    assert.deepEqual(replays, [
      [2, 2],
      [3, 1],
    ]);
  });
});

interface ChildRun {
  appended: number[];
  acked: number[];
  signal: NodeJS.Signals | null;
}

/** Runs the writer child from `start`, kills it with SIGKILL after a random number of lines. */
async function runAndKill(dir: string, start: number): Promise<ChildRun> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'spool-writer-child.ts'), dir, String(start)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('close', (_code, sig) => resolve(sig)),
  );
  const killAfter = randomInt(5, 400);
  for (let waited = 0; out.split('\n').length <= killAfter && child.exitCode === null; waited++) {
    if (waited > 3000) throw new Error(`child made no progress: ${err}`);
    await sleep(5);
  }
  await sleep(randomInt(0, 5));
  child.kill('SIGKILL');
  const signal = await exited;
  const appended: number[] = [];
  const acked: number[] = [];
  // A last line without its newline may be cut mid-write: only whole lines count.
  for (const line of out.split('\n').slice(0, -1)) {
    const [kind, n] = line.split(' ');
    (kind === 'A' ? appended : acked).push(Number(n));
  }
  assert.equal(err, '', 'child wrote to stderr');
  return { appended, acked, signal };
}

test('SIGKILL at random moments: every resolved append is there, in order, once', async (t) => {
  await withDir(async (dir) => {
    const spoolDir = join(dir, 'spool');
    let next = 0;
    let lastAcked = -1;
    let lastAppended = -1;
    for (let round = 0; round < 6; round++) {
      const run = await runAndKill(spoolDir, next);
      assert.equal(run.signal, 'SIGKILL', `round ${round}: the child was killed, not finished`);
      if (run.appended.length > 0) lastAppended = run.appended[run.appended.length - 1];
      if (run.acked.length > 0) lastAcked = run.acked[run.acked.length - 1];

      // Check a copy, so the next round continues on the spool exactly as the crash left it.
      const copy = join(dir, `check-${round}`);
      cpSync(spoolDir, copy, { recursive: true });
      const spool = await Spool.open({ dir: copy, maxBytes: 1 << 30, whenFull: 'refusenewest' });
      assert.equal(spool.stats().corruptSkipped, 0, `round ${round}`);
      const torn = spool.stats().tornSkipped;
      const left: number[] = [];
      for (let b = await spool.peek(); b !== null; b = await spool.peek()) {
        const n = Number(b.id.slice(1));
        assert.deepEqual(b.body, crashBody(n), `round ${round}: body of ${b.id}`);
        assert.equal(b.records, n % 7);
        assert.equal(b.createdAt, n);
        left.push(n);
        await spool.ack(b.id);
      }
      await spool.close();
      rmSync(copy, { recursive: true });

      assert.ok(left.length > 0, `round ${round}: the child acknowledges only one batch in three`);
      for (let i = 1; i < left.length; i++) {
        assert.equal(left[i], left[i - 1] + 1, `round ${round}: in order, no gap, no duplicate`);
      }
      // An ack or an append may have been in flight: done on disk, not yet reported.
      assert.ok(
        left[0] === lastAcked + 1 || left[0] === lastAcked + 2,
        `round ${round}: oldest ${left[0]} after acked ${lastAcked}`,
      );
      const newest = left[left.length - 1];
      assert.ok(
        newest === lastAppended || newest === lastAppended + 1,
        `round ${round}: newest ${newest}, last resolved append ${lastAppended}`,
      );
      t.diagnostic(
        `round ${round}: ${run.appended.length} appends reported, ${left.length} left, torn ${torn}`,
      );
      lastAcked = left[0] - 1;
      lastAppended = newest;
      next = newest + 1;
    }
    assert.ok(next > 6, 'the children appended something');
  });
});
