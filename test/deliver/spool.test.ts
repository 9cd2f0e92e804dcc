import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { tableCrc32 } from '../../src/deliver/spool/crc32.js';
import { Spool } from '../../src/deliver/spool/spool.js';
import { body, drain, openSpool as open, withDir } from './spool-helpers.js';

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.spool'))
    .sort();
}

function diskBytes(dir: string): number {
  return segmentFiles(dir).reduce((sum, n) => sum + statSync(join(dir, n)).size, 0);
}

test('the table CRC-32 matches zlib and known values', () => {
  assert.equal(tableCrc32(Buffer.from('123456789')), 0xcbf43926);
  const data = body(7, 5000);
  assert.equal(tableCrc32(data.subarray(100), tableCrc32(data.subarray(0, 100))), tableCrc32(data));
  const z = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32;
  if (z !== undefined) assert.equal(tableCrc32(data), z(data));
});

test('batches replay oldest first, acks survive a reopen', async () => {
  await withDir(async (dir) => {
    let spool = await open(dir, { fsync: true });
    for (let i = 0; i < 5; i++) {
      assert.equal(
        await spool.append({ id: `b${i}`, records: i + 1, body: body(i), createdAt: 1000 + i }),
        true,
      );
    }
    assert.equal(spool.stats().batches, 5);
    assert.equal(spool.stats().records, 15);
    const first = await spool.peek();
    assert.equal(first?.id, 'b0');
    assert.equal(first?.records, 1);
    assert.equal(first?.createdAt, 1000);
    assert.deepEqual(first?.body, body(0));
    assert.equal((await spool.peek())?.id, 'b0', 'peek does not consume');
    await assert.rejects(spool.ack('b1'), /oldest batch is b0/);
    await spool.ack('b0');
    await spool.close();
    await assert.rejects(spool.peek(), /closed/);

    spool = await open(dir);
    assert.equal(spool.stats().batches, 4);
    assert.equal(spool.stats().records, 14);
    const second = await spool.peek();
    assert.equal(second?.id, 'b1');
    assert.equal(second?.createdAt, 1001);
    await spool.ack('b1');
    await spool.append({ id: 'b5', records: 1, body: body(5) });
    await spool.close();

    spool = await open(dir);
    assert.deepEqual(await drain(spool), [2, 3, 4, 5]);
    assert.equal(await spool.peek(), null);
    await assert.rejects(spool.ack('b5'), /spool is empty/);
    const { maxBytes, ...rest } = spool.stats();
    assert.equal(maxBytes, 1 << 24);
    assert.ok(
      Object.keys(rest).length === 9 && Object.values(rest).every((v) => v === 0),
      JSON.stringify(rest),
    );
    await spool.close();
    spool = await open(dir);
    assert.equal(await spool.peek(), null, 'everything acknowledged stays acknowledged');
    await spool.close();
  });
});

test('concurrent appends are stored in call order', async () => {
  await withDir(async (dir) => {
    const spool = await open(dir, { fsync: true, segmentBytes: 2000 });
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => spool.append({ id: `b${i}`, records: 1, body: body(i, 150 + i) })),
    );
    assert.ok(results.every((r) => r === true));
    assert.ok(segmentFiles(dir).length > 3, 'rolled over several segments');
    await spool.close();
    const again = await open(dir);
    assert.deepEqual(
      await drain(again),
      Array.from({ length: 60 }, (_, i) => i),
    );
    await again.close();
  });
});

test('segments roll over and fully acknowledged ones are deleted', async () => {
  await withDir(async (dir) => {
    const spool = await open(dir, { segmentBytes: 4096 });
    for (let i = 0; i < 40; i++) await spool.append({ id: `b${i}`, records: 2, body: body(i, 1000) });
    const files = segmentFiles(dir);
    // 1000-byte bodies plus a ~34-byte frame: three per 4 KiB segment.
    assert.equal(files.length, 14);
    assert.equal(files[0], '00000001.spool');
    const before = diskBytes(dir);
    assert.equal(before, spool.stats().bytes);

    for (let i = 0; i < 30; i++) {
      assert.equal((await spool.peek())?.id, `b${i}`);
      await spool.ack(`b${i}`);
    }
    const after = diskBytes(dir);
    assert.ok(after < before / 2, `disk use went down: ${before} -> ${after}`);
    assert.equal(segmentFiles(dir)[0], '00000011.spool', 'segments 1..10 held only acknowledged batches');
    assert.equal(spool.stats().batches, 10);
    await spool.close();

    const again = await open(dir, { segmentBytes: 4096 });
    assert.deepEqual(
      await drain(again),
      Array.from({ length: 10 }, (_, i) => 30 + i),
    );
    assert.deepEqual(segmentFiles(dir), ['00000014.spool'], 'only the write segment is left');
    // Fill the write segment and acknowledge it all: it stays while it is written to, and goes
    // when the next append rolls over to a new one.
    for (let i = 40; i < 42; i++) await again.append({ id: `b${i}`, records: 1, body: body(i, 1000) });
    assert.deepEqual(await drain(again), [40, 41]);
    assert.deepEqual(segmentFiles(dir), ['00000014.spool']);
    await again.append({ id: 'b42', records: 1, body: body(42, 1000) });
    assert.deepEqual(segmentFiles(dir), ['00000015.spool']);
    assert.equal(again.stats().batches, 1);
    await again.close();
  });
});

test('dropoldest drops whole oldest batches to make room, and counts them', async () => {
  await withDir(async (dir) => {
    // Each frame is 16 + 13 + 2 (id) + 1000 = 1031 bytes; 5 fit in 5200.
    const spool = await open(dir, { maxBytes: 5200, whenFull: 'dropoldest', segmentBytes: 2100 });
    for (let i = 0; i < 8; i++) {
      assert.equal(await spool.append({ id: `b${i}`, records: 10 + i, body: body(i, 1000) }), true);
    }
    let s = spool.stats();
    assert.equal(s.batches, 5);
    assert.equal(s.bytes, 5 * 1031);
    assert.equal(s.droppedBatches, 3);
    assert.equal(s.droppedRecords, 10 + 11 + 12);
    assert.ok(diskBytes(dir) <= 5200 + 2100, 'disk stays within maxBytes plus one segment');

    assert.equal(await spool.append({ id: 'big', records: 99, body: Buffer.alloc(6000) }), false);
    s = spool.stats();
    assert.equal(s.refusedBatches, 1);
    assert.equal(s.refusedRecords, 99);
    assert.equal(s.batches, 5, 'a batch larger than the spool drops nothing');
    await spool.close();

    const again = await open(dir, { maxBytes: 5200, whenFull: 'dropoldest' });
    assert.deepEqual(await drain(again), [3, 4, 5, 6, 7]);
    await again.close();
  });
});

test('a batch dropped while it was being uploaded can still be acknowledged', async () => {
  await withDir(async (dir) => {
    const spool = await open(dir, { maxBytes: 2100, whenFull: 'dropoldest' });
    await spool.append({ id: 'b0', records: 1, body: body(0, 1000) });
    await spool.append({ id: 'b1', records: 1, body: body(1, 1000) });
    const inFlight = await spool.peek();
    assert.equal(inFlight?.id, 'b0');
    await spool.append({ id: 'b2', records: 1, body: body(2, 1000) });
    assert.equal(spool.stats().droppedBatches, 1);
    await spool.ack('b0');
    assert.equal((await spool.peek())?.id, 'b1', 'the late ack removed nothing else');
    await assert.rejects(spool.ack('b0'), /oldest batch is b1/);
    await spool.close();
  });
});

test('refusenewest keeps the oldest and refuses what does not fit', async () => {
  await withDir(async (dir) => {
    const spool = await open(dir, { maxBytes: 5200, whenFull: 'refusenewest' });
    const results: boolean[] = [];
    for (let i = 0; i < 8; i++)
      results.push(await spool.append({ id: `b${i}`, records: 3, body: body(i, 1000) }));
    assert.deepEqual(results, [true, true, true, true, true, false, false, false]);
    const s = spool.stats();
    assert.equal(s.refusedBatches, 3);
    assert.equal(s.refusedRecords, 9);
    assert.equal(s.droppedBatches, 0);
    assert.equal(await spool.append({ id: 'huge', records: 1, body: Buffer.alloc(10_000) }), false);
    assert.equal(spool.stats().refusedBatches, 4);
    // Room again after an ack.
    await spool.ack('b0');
    assert.equal(await spool.append({ id: 'b8', records: 3, body: body(8, 1000) }), true);
    assert.deepEqual(await drain(spool), [1, 2, 3, 4, 8]);
    await spool.close();
  });
});

test('invalid batches and unusable directories are clear errors', async () => {
  await withDir(async (dir) => {
    const spool = await open(join(dir, 'nested', 'spool'));
    await assert.rejects(spool.append({ id: 'x'.repeat(129), records: 1, body: body(0) }), /at most 128/);
    await assert.rejects(spool.append({ id: 'a', records: -1, body: body(0) }), /32-bit unsigned/);
    assert.equal(await spool.append({ id: 'é'.repeat(64), records: 1, body: body(0) }), true);
    assert.equal((await spool.peek())?.id, 'é'.repeat(64));
    await spool.close();

    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    await assert.rejects(open(file), /spool directory .*a-file is not usable/);
    await assert.rejects(open(join(file, 'below')), /is not usable/);
    await assert.rejects(open(dir, { maxBytes: 0 }), /maxBytes/);
  });
});

test('2,000 batches of 10 KB with fsync', async () => {
  await withDir(async (dir) => {
    const maxBytes = 64 * 1024 * 1024;
    const spool = await Spool.open({ dir, maxBytes, whenFull: 'refusenewest' });
    for (let i = 0; i < 2000; i++) {
      assert.equal(await spool.append({ id: `b${i}`, records: 50, body: body(i, 10_000) }), true);
    }
    assert.equal(spool.stats().batches, 2000);
    assert.equal(spool.stats().records, 100_000);
    assert.equal(segmentFiles(dir).length, 3, '8 MiB segments (maxBytes / 8)');
    await spool.close();
    const again = await Spool.open({ dir, maxBytes, whenFull: 'refusenewest' });
    assert.equal(again.stats().batches, 2000);
    const ids = await drain(again);
    assert.equal(ids.length, 2000);
    assert.equal(ids[1999], 1999);
    assert.equal(segmentFiles(dir).length, 1);
    await again.close();
  });
});
