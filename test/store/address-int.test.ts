import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { ipv6Groups } from '../../src/store/sql/address-int.js';

function groups(s: string): number[] | null {
  const out = new Uint16Array(8);
  return ipv6Groups(s, out) ? [...out] : null;
}

test('ipv6Groups: the RFC 4291 text forms', () => {
  assert.deepEqual(groups('2001:db8::1'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(groups('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(groups('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual(groups('fe80::'), [0xfe80, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(groups('::ffff:192.0.2.1'), [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]);
  assert.deepEqual(groups('1:2:3:4:5:6:7:8'), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(groups('1:2:3:4:5:6:192.0.2.1'), [1, 2, 3, 4, 5, 6, 0xc000, 0x0201]);
  assert.deepEqual(groups('ABCD:EF01::'), [0xabcd, 0xef01, 0, 0, 0, 0, 0, 0]);
  for (const bad of [
    '',
    ':',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '12345::',
    'g::',
    'fe80::1%eth0',
    '::1.2.3.256',
    '1:2:3:4:5:6:7::8',
  ]) {
    assert.equal(groups(bad), null, bad);
  }
});

test('ipv6Groups agrees with ipaddr.js on any address, in any of its text forms', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), (parts) => {
      const a = new ipaddr.IPv6(parts);
      for (const text of [a.toString(), a.toNormalizedString(), a.toRFC5952String()]) {
        assert.deepEqual(groups(text), parts, text);
      }
    }),
    { numRuns: 2000 },
  );
});

test('ipv6Groups never accepts what ipaddr.js rejects, and agrees where both accept', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9a-f:.]{0,20}$/), (s) => {
      const mine = groups(s);
      if (!ipaddr.IPv6.isValid(s)) assert.equal(mine, null, s);
      else if (mine !== null) assert.deepEqual(mine, ipaddr.IPv6.parse(s).parts, s);
    }),
    { numRuns: 5000 },
  );
});
