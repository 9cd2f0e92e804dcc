import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { fileStamp, RotatingJsonlWriter } from '../../src/deliver/rotating-jsonl.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { toJsonLine } from '../../src/record/json.js';

/** A record told apart from the others by its packet count. */
function record(id: number): FlowRecord {
  const r = new FlowRecord();
  r.timestamp = 1_700_000_000 + id;
  r.srcip = '192.0.2.1';
  r.dstip = '2001:db8::7';
  r.srcport = 40000 + (id % 20000);
  r.dstport = 443;
  r.protocolint = 6;
  r.packets = id;
  r.bits = id * 8 * 1500;
  return r;
}

function batches(count: number, size: number): FlowRecord[][] {
  return Array.from({ length: count }, (_, b) =>
    Array.from({ length: size }, (_, i) => record(b * size + i)),
  );
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-rotating-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ROTATED = /^flows\.\d{8}T\d{6}\.\d{3}Z\.jsonl(\.gz)?$/;

/** Rotated files oldest first, then the open file: names sort by time. */
function filesInOrder(dir: string): string[] {
  const names = readdirSync(dir);
  for (const n of names) assert.ok(n === 'flows.jsonl' || ROTATED.test(n), `unexpected file ${n}`);
  const rotated = names.filter((n) => ROTATED.test(n)).sort();
  return names.includes('flows.jsonl') ? [...rotated, 'flows.jsonl'] : rotated;
}

function fileText(dir: string, name: string): string {
  const raw = readFileSync(join(dir, name));
  return (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

/** Packet counts (record ids) of every line of a file; every line must be a whole JSON object. */
function idsIn(dir: string, name: string): number[] {
  const text = fileText(dir, name);
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), `${name}: ends inside a record`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      let obj: { packets: number };
      try {
        obj = JSON.parse(line) as { packets: number };
      } catch {
        assert.fail(`${name} line ${i + 1} is not JSON: ${line.slice(0, 80)}`);
      }
      return obj.packets;
    });
}

test('size rotation: whole records per file, none over maxbytes, every record once across the gzipped files', async () => {
  await withDir(async (dir) => {
    const lineBytes = toJsonLine(record(100)).length + 1;
    const maxbytes = lineBytes * 10 + 5;
    const writer = new RotatingJsonlWriter({
      path: join(dir, 'flows.jsonl'),
      maxbytes,
      maxage: null,
      keep: null,
    });
    await writer.ready();
    const all = batches(12, 17);
    for (const b of all) await writer.write(b);
    await writer.close();

    const names = filesInOrder(dir);
    const rotated = names.filter((n) => n !== 'flows.jsonl');
    assert.ok(
      rotated.length >= 19,
      `expected ≥ 19 rotated files for 204 records of 10 per file, got ${rotated.length}`,
    );
    for (const n of rotated) assert.ok(n.endsWith('.jsonl.gz'), `${n} was not compressed`);
    const seen: number[] = [];
    for (const n of names) {
      const size = Buffer.byteLength(fileText(dir, n), 'utf8');
      assert.ok(size <= maxbytes, `${n}: ${size} bytes > maxbytes ${maxbytes}`);
      seen.push(...idsIn(dir, n));
    }
    // In file-name order the records come out in the order written: nothing lost, doubled or reordered.
    assert.deepEqual(
      seen,
      all.flat().map((r) => r.packets),
    );
    const st = writer.stats();
    assert.equal(st.rotated, rotated.length);
    assert.equal(st.compressed, rotated.length);
    assert.equal(st.deleted, 0);
    assert.equal(st.lastError, null);
    assert.equal(st.currentBytes, statSync(join(dir, 'flows.jsonl')).size);
  });
});

test('a record larger than maxbytes gets a file of its own instead of being split or refused', async () => {
  await withDir(async (dir) => {
    const writer = new RotatingJsonlWriter({
      path: join(dir, 'flows.jsonl'),
      maxbytes: 100,
      maxage: null,
      compress: false,
    });
    await writer.ready();
    await writer.write([record(1), record(2), record(3)]);
    await writer.close();
    const names = filesInOrder(dir);
    assert.deepEqual(
      names.map((n) => idsIn(dir, n)),
      [[1], [2], [3]],
    );
  });
});

test('time rotation: a file whose first record is maxage old is rotated before the next write (injected clock)', async () => {
  await withDir(async (dir) => {
    let clock = Date.UTC(2026, 10, 24, 1, 0, 0);
    const writer = new RotatingJsonlWriter({
      path: join(dir, 'flows.jsonl'),
      maxage: 60,
      compress: false,
      now: () => clock,
    });
    await writer.ready();
    await writer.write([record(1)]);
    clock += 59_000;
    await writer.write([record(2)]);
    assert.equal(writer.stats().rotated, 0, 'rotated before maxage');
    clock += 1_000;
    await writer.write([record(3)]);
    await writer.close();
    assert.deepEqual(readdirSync(dir).sort(), ['flows.20261124T010100.000Z.jsonl', 'flows.jsonl']);
    assert.deepEqual(idsIn(dir, 'flows.20261124T010100.000Z.jsonl'), [1, 2]);
    assert.deepEqual(idsIn(dir, 'flows.jsonl'), [3]);
  });
});

test('time rotation: an idle file is rotated and compressed once maxage passes (real clock, 1 s)', async () => {
  await withDir(async (dir) => {
    const writer = new RotatingJsonlWriter({ path: join(dir, 'flows.jsonl'), maxage: 1 });
    await writer.ready();
    await writer.write([record(7), record(8)]);
    const deadline = Date.now() + 10_000;
    while (writer.stats().compressed < 1 && Date.now() < deadline) await sleep(50);
    await writer.idle();
    const gz = readdirSync(dir).filter((n) => n.endsWith('.jsonl.gz'));
    assert.equal(gz.length, 1, `files: ${readdirSync(dir).join(', ')}`);
    assert.deepEqual(idsIn(dir, gz[0]), [7, 8]);
    assert.equal(statSync(join(dir, 'flows.jsonl')).size, 0);
    // An empty file is never rotated, however old.
    await sleep(1_300);
    assert.equal(writer.stats().rotated, 1);
    await writer.close();
  });
});

test('keep: only the newest rotated files remain, the oldest are deleted', async () => {
  await withDir(async (dir) => {
    const lineBytes = toJsonLine(record(100)).length + 1;
    const writer = new RotatingJsonlWriter({
      path: join(dir, 'flows.jsonl'),
      maxbytes: lineBytes * 2,
      maxage: null,
      keep: 3,
    });
    await writer.ready();
    const all = batches(10, 2);
    for (const b of all) await writer.write(b);
    await writer.close();
    const names = filesInOrder(dir);
    assert.equal(names.length, 4, `files: ${names.join(', ')}`);
    // 10 files of 2 records: the 3 newest rotated ones plus the open one hold the last 8 records.
    assert.deepEqual(
      names.flatMap((n) => idsIn(dir, n)),
      [12, 13, 14, 15, 16, 17, 18, 19],
    );
    assert.equal(writer.stats().rotated, 9);
    assert.equal(writer.stats().deleted, 6);
  });
});

test('on start, rotated files a crash left uncompressed are compressed; the open file is appended to', async () => {
  await withDir(async (dir) => {
    const leftover = 'flows.20300101T000000.000Z.jsonl';
    const leftoverText = `${toJsonLine(record(1))}\n${toJsonLine(record(2))}\n`;
    writeFileSync(join(dir, leftover), leftoverText);
    // A compression cut short: its temporary file is replaced, never taken as the result.
    writeFileSync(join(dir, `${leftover}.gz.tmp`), 'partial');
    writeFileSync(join(dir, 'flows.jsonl'), `${toJsonLine(record(3))}\n`);
    writeFileSync(join(dir, 'unrelated.jsonl'), 'left alone\n');

    // A clock behind the leftover's stamp: the next rotated name must still sort after it.
    const clock = Date.UTC(2026, 0, 1);
    const writer = new RotatingJsonlWriter({
      path: join(dir, 'flows.jsonl'),
      maxbytes: 10_000_000,
      maxage: null,
      now: () => clock,
    });
    await writer.ready();
    await writer.idle();
    assert.ok(!existsSync(join(dir, leftover)), 'leftover .jsonl still there after compression');
    assert.ok(!existsSync(join(dir, `${leftover}.gz.tmp`)), 'temporary file left behind');
    assert.equal(gunzipSync(readFileSync(join(dir, `${leftover}.gz`))).toString('utf8'), leftoverText);
    assert.equal(writer.stats().compressed, 1);

    await writer.write([record(4)]);
    await writer.close();
    assert.deepEqual(idsIn(dir, 'flows.jsonl'), [3, 4]);
    assert.equal(writer.stats().currentBytes, statSync(join(dir, 'flows.jsonl')).size);

    // Force a rotation through a second writer with a tiny maxbytes.
    const second = new RotatingJsonlWriter({
      path: join(dir, 'flows.jsonl'),
      maxbytes: 10,
      maxage: null,
      now: () => clock,
    });
    await second.ready();
    await second.write([record(5)]);
    await second.close();
    const rotated = readdirSync(dir)
      .filter((n) => ROTATED.test(n))
      .sort();
    assert.deepEqual(rotated, [`${leftover}.gz`, `flows.${fileStamp(Date.UTC(2030, 0, 1) + 1)}.jsonl.gz`]);
    assert.deepEqual(idsIn(dir, rotated[1]), [3, 4]);
    assert.deepEqual(idsIn(dir, 'flows.jsonl'), [5]);
    assert.equal(readFileSync(join(dir, 'unrelated.jsonl'), 'utf8'), 'left alone\n');
  });
});
