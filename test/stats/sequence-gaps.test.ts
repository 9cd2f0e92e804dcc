import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SequenceStream } from '../../src/stats/sequence-gaps.js';

function counters(s: SequenceStream) {
  return { missing: s.missing, reordered: s.reordered, duplicates: s.duplicates, resets: s.resets };
}

test('in-order NetFlow v5 datagrams (sequence counts flows) give no gap', () => {
  const s = new SequenceStream();
  s.observe(0, 30);
  s.observe(30, 30);
  s.observe(60, 8);
  s.observe(68, 30);
  assert.deepEqual(counters(s), { missing: 0, reordered: 0, duplicates: 0, resets: 0 });
});

test('a lost datagram counts its units as missing', () => {
  const s = new SequenceStream();
  s.observe(100, 30);
  s.observe(160, 30); // 130..159 lost
  assert.equal(s.missing, 30);
  s.observe(190, 1);
  assert.equal(s.missing, 30);
});

test('a late datagram fills its hole: reordered, not a gap and not a reset', () => {
  const s = new SequenceStream();
  s.observe(1, 1);
  s.observe(3, 1); // 2 missing for now
  s.observe(4, 1);
  assert.equal(s.missing, 1);
  s.observe(2, 1); // arrives late
  assert.deepEqual(counters(s), { missing: 0, reordered: 1, duplicates: 0, resets: 0 });
  s.observe(5, 1); // expected unchanged by the late one
  assert.equal(s.missing, 0);
});

test('a late datagram filling the middle of a hole leaves both ends missing', () => {
  const s = new SequenceStream();
  s.observe(0, 10);
  s.observe(50, 10); // 10..49 missing (40)
  s.observe(20, 10); // 20..29 arrive late
  assert.equal(s.missing, 30);
  s.observe(10, 10);
  s.observe(40, 10);
  assert.equal(s.missing, 10);
  s.observe(30, 10);
  assert.deepEqual(counters(s), { missing: 0, reordered: 4, duplicates: 0, resets: 0 });
});

test('a repeated datagram is a duplicate, not a fill', () => {
  const s = new SequenceStream();
  s.observe(10, 1);
  s.observe(11, 1);
  s.observe(10, 1);
  assert.deepEqual(counters(s), { missing: 0, reordered: 0, duplicates: 1, resets: 0 });
});

test('exporter restart (big jump backwards, then continuing) is a reset, no gap', () => {
  const s = new SequenceStream();
  s.observe(1_000_000, 1);
  s.observe(1_000_001, 1);
  s.observe(0, 1); // restarted
  s.observe(1, 1);
  s.observe(2, 1);
  assert.deepEqual(counters(s), { missing: 0, reordered: 0, duplicates: 0, resets: 1 });
  s.observe(4, 1);
  assert.equal(s.missing, 1);
});

test('one very late datagram beyond the window does not reset accounting', () => {
  const s = new SequenceStream();
  for (let i = 0; i < 1000; i++) s.observe(i, 1);
  s.observe(5, 1); // 995 datagrams late: looks like a reset until the next one
  s.observe(1000, 1);
  s.observe(1001, 1);
  assert.deepEqual(counters(s), { missing: 0, reordered: 0, duplicates: 1, resets: 0 });
});

test('u32 wrap: 0xffffffff then 0 is in order; a gap across the wrap is counted', () => {
  const s = new SequenceStream();
  s.observe(0xfffffffe, 1);
  s.observe(0xffffffff, 1);
  s.observe(0, 1);
  assert.equal(s.missing, 0);
  const t = new SequenceStream();
  t.observe(0xfffffff0, 8); // next expected 0xfffffff8
  t.observe(2, 1); // 0xfffffff8..0xffffffff and 0,1 lost = 10
  assert.equal(t.missing, 10);
  t.observe(0xfffffffe, 2); // late, across the wrap
  assert.deepEqual(counters(t), { missing: 8, reordered: 1, duplicates: 0, resets: 0 });
});

test('IPFIX: sequence counts data records, units per message', () => {
  const s = new SequenceStream();
  s.observe(500, 12);
  s.observe(512, 7);
  s.observe(530, 3); // 519..529 lost = 11
  assert.equal(s.missing, 11);
});

test('units -1 (IPFIX message with an undecodable set): resync on the next number, no gap', () => {
  const s = new SequenceStream();
  s.observe(500, 12);
  s.observe(512, -1); // a set with an unknown template: 512.. carried 37 records we could not count
  s.observe(549, 5);
  assert.deepEqual(counters(s), { missing: 0, reordered: 0, duplicates: 0, resets: 0 });
  s.observe(560, 4); // counting goes on from 554: 554..559 lost
  assert.equal(s.missing, 6);
  // A gap before the unknown message is still a gap: its own sequence number is known.
  const t = new SequenceStream();
  t.observe(0, 10);
  t.observe(20, -1); // 10..19 lost
  t.observe(30, -1);
  t.observe(40, 1);
  assert.deepEqual(counters(t), { missing: 10, reordered: 0, duplicates: 0, resets: 0 });
  // The first message of a stream with an unknown count.
  const u = new SequenceStream();
  u.observe(7, -1);
  u.observe(100, 1);
  u.observe(101, 1);
  assert.deepEqual(counters(u), { missing: 0, reordered: 0, duplicates: 0, resets: 0 });
});

test('units -1 late into a hole: reordered; a restart to an unknown-count message: reset, no gap', () => {
  const s = new SequenceStream();
  s.observe(0, 10);
  s.observe(30, 10); // 10..29 missing (20)
  s.observe(10, -1); // late, count unknown: at least record 10 arrived
  assert.deepEqual(counters(s), { missing: 19, reordered: 1, duplicates: 0, resets: 0 });
  const t = new SequenceStream();
  t.observe(1_000_000, 100);
  t.observe(1_000_100, 100);
  t.observe(0, -1); // restarted, first message has an undecodable set
  t.observe(57, 3);
  t.observe(60, 1);
  assert.deepEqual(counters(t), { missing: 0, reordered: 0, duplicates: 0, resets: 1 });
});

test('units 0 (IPFIX templates-only message): the next message has the same number, no duplicate', () => {
  const s = new SequenceStream();
  s.observe(6, 0); // templates only
  s.observe(6, 7);
  s.observe(13, 0);
  s.observe(13, 0);
  s.observe(13, 5);
  s.observe(18, 1);
  assert.deepEqual(counters(s), { missing: 0, reordered: 0, duplicates: 0, resets: 0 });
});
