import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AllowList } from '../../src/receive/allowlist.js';
import { parseListenAddress } from '../../src/receive/listen-address.js';
import { recvBufferWarning, usableRecvBuffer } from '../../src/receive/udp-receiver.js';

test('listen addresses: host:port, [v6]:port, :port, port 0', () => {
  assert.deepEqual(parseListenAddress('0.0.0.0:2055'), {
    host: '0.0.0.0',
    port: 2055,
    family: 4,
    text: '0.0.0.0:2055',
  });
  assert.deepEqual(parseListenAddress('[::]:4739'), { host: '::', port: 4739, family: 6, text: '[::]:4739' });
  assert.deepEqual(parseListenAddress('[2001:db8::1]:6343'), {
    host: '2001:db8::1',
    port: 6343,
    family: 6,
    text: '[2001:db8::1]:6343',
  });
  assert.equal(parseListenAddress(':2055').host, '::');
  assert.equal(parseListenAddress('127.0.0.1:0').port, 0);
  assert.equal(parseListenAddress('localhost:9995').family, 4);
  for (const bad of [
    '2055',
    '2001:db8::1:2055',
    '[::1]2055',
    '[::1]:',
    '1.2.3.4:65536',
    '1.2.3.4:-1',
    '1.2.3.4:x',
  ]) {
    assert.throws(() => parseListenAddress(bad), /listen address/, bad);
  }
});

test('allow-list: IPv4 and IPv6 CIDRs, single addresses, IPv4-mapped entries and sources', () => {
  const a = new AllowList(['10.0.0.0/8', '192.0.2.7', '2001:db8:1::/48', '::ffff:198.51.100.0/120']);
  assert.equal(a.allows('10.255.0.1'), true);
  assert.equal(a.allows('11.0.0.1'), false);
  assert.equal(a.allows('192.0.2.7'), true);
  assert.equal(a.allows('192.0.2.8'), false);
  assert.equal(a.allows('2001:db8:1:ffff::1'), true);
  assert.equal(a.allows('2001:db8:2::1'), false);
  assert.equal(a.allows('198.51.100.200'), true, 'IPv4-mapped entry matches plain IPv4');
  assert.equal(a.allows('::ffff:10.1.2.3'), true, 'IPv4-mapped source matches an IPv4 range');
  assert.equal(a.allows('not an address'), false);
  // cached verdicts stay right
  for (let i = 0; i < 3; i++) assert.equal(a.allows('11.0.0.1'), false);
  assert.equal(new AllowList([]).allows('203.0.113.9'), true, 'empty list allows every source');
  assert.equal(new AllowList(['0.0.0.0/0']).allows('203.0.113.9'), true);
  assert.throws(() => new AllowList(['10.0.0.0/33']), /flow.allow: "10.0.0.0\/33"/);
});

test('receive buffer: Linux reports double; the warning says how to raise it', () => {
  assert.equal(usableRecvBuffer(425_984, 'linux'), 212_992);
  assert.equal(usableRecvBuffer(425_984, 'darwin'), 425_984);
  const l = {
    transport: 'udp' as const,
    configured: '[::]:2055',
    address: '[::]:2055',
    port: 2055,
    recvBufferRequested: 4_194_304,
    recvBufferActual: 212_992,
  };
  const w = recvBufferWarning(l);
  assert.ok(w !== null);
  assert.match(w, /\[::\]:2055 is 212992 bytes, asked for 4194304/);
  assert.match(w, /sysctl -w net\.core\.rmem_max=4194304/);
  assert.equal(recvBufferWarning({ ...l, recvBufferActual: 4_194_304 }), null);
});
