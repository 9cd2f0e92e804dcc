import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConntrackLine } from '../../src/agent/conntrack-events.js';

// Lines as conntrack-tools 1.4.7 printed them (`-E -o extended,id,timestamp`, `-L -o extended,id`).
const NEW_TCP =
  '[1795497721.124955]\t    [NEW] ipv4     2 tcp      6 120 SYN_SENT src=127.0.0.1 dst=127.0.0.1 sport=58660 dport=8099 [UNREPLIED] src=127.0.0.1 dst=127.0.0.1 sport=8099 dport=58660 id=3237647340';
const UPDATE_TIME_WAIT =
  '[1795497721.126165]\t [UPDATE] ipv4     2 tcp      6 120 TIME_WAIT src=127.0.0.1 dst=127.0.0.1 sport=58660 dport=8099 src=127.0.0.1 dst=127.0.0.1 sport=8099 dport=58660 [ASSURED] id=3237647340';
const DESTROY_TCP =
  '[1795497734.922457]\t[DESTROY] ipv4     2 tcp      6 106 TIME_WAIT src=127.0.0.1 dst=127.0.0.1 sport=58660 dport=8099 packets=6 bytes=398 src=127.0.0.1 dst=127.0.0.1 sport=8099 dport=58660 packets=6 bytes=1511 [ASSURED] id=3237647340 [USERSPACE] portid=2521222855';
const LIST_TCP =
  'ipv4     2 tcp      6 119 TIME_WAIT src=10.213.7.2 dst=10.213.7.1 sport=58660 dport=8099 packets=6 bytes=398 src=10.213.7.1 dst=10.213.7.2 sport=8099 dport=58660 packets=5 bytes=1511 [ASSURED] mark=0 use=1 id=42';
const LIST_ICMP =
  'ipv4     2 icmp     1 29 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=4711 packets=1 bytes=84 src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=4711 packets=1 bytes=84 mark=0 use=1 id=99';
const LIST_UDP6 =
  'ipv6     10 udp      17 29 src=fd00::1 dst=fd00::2 sport=5353 dport=53 packets=2 bytes=160 [UNREPLIED] src=fd00::2 dst=fd00::1 sport=53 dport=5353 packets=0 bytes=0 mark=0 zone=3 use=1 id=7';

test('a NEW event: time, id, TCP state, both tuples, no counters', () => {
  const e = parseConntrackLine(NEW_TCP);
  assert.ok(e);
  assert.equal(e.type, 'NEW');
  assert.equal(e.timeMs, 1795497721125);
  assert.equal(e.id, 3237647340);
  assert.equal(e.state, 'SYN_SENT');
  assert.deepEqual(e.orig, {
    family: 4,
    src: '127.0.0.1',
    dst: '127.0.0.1',
    srcPort: 58660,
    dstPort: 8099,
    protocol: 6,
  });
  assert.deepEqual(e.reply, {
    family: 4,
    src: '127.0.0.1',
    dst: '127.0.0.1',
    srcPort: 8099,
    dstPort: 58660,
    protocol: 6,
  });
  assert.equal(e.origCounters, null);
  assert.equal(e.replyCounters, null);
});

test('an UPDATE to TIME_WAIT carries the state but no counters', () => {
  const e = parseConntrackLine(UPDATE_TIME_WAIT);
  assert.equal(e?.type, 'UPDATE');
  assert.equal(e?.state, 'TIME_WAIT');
  assert.equal(e?.origCounters, null);
});

test('a DESTROY event carries both directions counters; trailing [USERSPACE] portid= is ignored', () => {
  const e = parseConntrackLine(DESTROY_TCP);
  assert.equal(e?.type, 'DESTROY');
  assert.equal(e?.id, 3237647340);
  assert.deepEqual(e?.origCounters, { packets: 6, bytes: 398 });
  assert.deepEqual(e?.replyCounters, { packets: 6, bytes: 1511 });
});

test('a listing line: no time, type LIST, mark/use skipped', () => {
  const e = parseConntrackLine(LIST_TCP);
  assert.equal(e?.type, 'LIST');
  assert.equal(e?.timeMs, null);
  assert.equal(e?.id, 42);
  assert.equal(e?.orig.src, '10.213.7.2');
  assert.equal(e?.reply.src, '10.213.7.1');
  assert.deepEqual(e?.replyCounters, { packets: 5, bytes: 1511 });
});

test('ICMP: type*256+code as the destination port, the echo id is not the conntrack id', () => {
  const e = parseConntrackLine(LIST_ICMP);
  assert.equal(e?.id, 99);
  assert.equal(e?.state, null);
  assert.deepEqual(e?.orig, {
    family: 4,
    src: '10.0.0.1',
    dst: '10.0.0.2',
    srcPort: 0,
    dstPort: 8 * 256,
    protocol: 1,
  });
  assert.equal(e?.reply.dstPort, 0);
});

test('IPv6 UDP with zone=, unreplied reply counters of zero', () => {
  const e = parseConntrackLine(LIST_UDP6);
  assert.equal(e?.orig.family, 6);
  assert.equal(e?.orig.protocol, 17);
  assert.equal(e?.orig.dst, 'fd00::2');
  assert.deepEqual(e?.replyCounters, { packets: 0, bytes: 0 });
  assert.equal(e?.id, 7);
});

test('summary lines, blanks and garbage give null', () => {
  assert.equal(
    parseConntrackLine('conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.'),
    null,
  );
  assert.equal(parseConntrackLine(''), null);
  assert.equal(parseConntrackLine('ipv4 2 tcp 6 src=1.1.1.1'), null);
  assert.equal(parseConntrackLine('[NEW] bogus'), null);
});
