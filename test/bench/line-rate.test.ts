/**
 * The harness's own pieces against real components: a small seeded pcap, softflowd turning it into
 * a NetFlow v9 set, and the sender process replaying it to a UDP socket on 127.0.0.1.
 *
 *   node --import tsx --test test/bench/line-rate.test.ts
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ensureSets, readSet } from '../../bench/line-rate/datagram-set.js';
import { writeTraffic } from '../../bench/line-rate/traffic.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowgate-line-rate-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('the same seed writes the same capture', () => {
  const a = writeTraffic(join(dir, 'a.pcap'), 500, 9, 1_700_000_000_000);
  const b = writeTraffic(join(dir, 'b.pcap'), 500, 9, 1_700_000_000_000);
  assert.deepEqual(a, b);
  assert.ok(readFileSync(join(dir, 'a.pcap')).equals(readFileSync(join(dir, 'b.pcap'))));
  assert.equal(a.flows, 500);
  assert.ok(a.packets >= 500);
});

test('softflowd exports one v9 record per synthetic flow, and the sender replays them fresh', async () => {
  const cache = join(dir, 'cache');
  await ensureSets(cache, 2000, () => {}, ['netflow9']);
  const { meta, payloads } = readSet(cache, 'netflow9');
  assert.equal(meta.recordingDrops, 0);
  assert.equal(payloads.length, meta.datagrams);
  // Distinct 5-tuples: softflowd cannot merge flows, it may only split long ones.
  assert.ok(meta.totalRecords >= 2000, `${meta.totalRecords} records for 2000 flows`);

  const sock = createSocket('udp4');
  const sequences: number[] = [];
  let received = 0;
  sock.on('message', (m) => {
    received++;
    assert.equal(m.readUInt16BE(0), 9);
    sequences.push(m.readUInt32BE(12));
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const port = sock.address().port;
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/line-rate/sender.ts', '--cache', cache, '--protocol', 'netflow9'].concat([
        '--port',
        String(port),
        '--rate',
        '20000',
        '--seconds',
        '1',
      ]),
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
    });
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`sender exited ${code}`))));
  });
  sock.close();
  const sent = JSON.parse(out) as { records: number; datagrams: number; errors: number };
  assert.equal(sent.errors, 0);
  // Never more than the rate owes (plus one datagram); it loops over the set, so more than the set.
  assert.ok(sent.records > meta.totalRecords, `${sent.records} records sent`);
  assert.ok(sent.records <= 20_000 + 30, `${sent.records} records sent in 1 s at 20k/s`);
  assert.equal(received, sent.datagrams);
  // Header sequence numbers are rewritten: 0, 1, 2, ... across loops over the set.
  assert.deepEqual(sequences.slice(0, 5), [0, 1, 2, 3, 4]);
  assert.equal(sequences[sequences.length - 1], sent.datagrams - 1);
});
