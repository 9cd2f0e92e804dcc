import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { inIPv4Network, parseIPv4, parseIPv6, samePrefix } from '../../src/query/filter-address.js';
import { ipv6At } from '../../src/record/address.js';

const SEED = 20261123;

describe('filter address parsing', () => {
  it('IPv4 dotted quads', () => {
    assert.equal(parseIPv4('0.0.0.0'), 0);
    assert.equal(parseIPv4('10.1.2.3'), 0x0a010203);
    assert.equal(parseIPv4('255.255.255.255'), 4294967295);
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.4.5',
      '256.0.0.1',
      '01.2.3.4',
      '1..2.3',
      '1.2.3.',
      'a.b.c.d',
      ' 1.2.3.4',
    ]) {
      assert.equal(parseIPv4(bad), -1, bad);
    }
    assert.ok(inIPv4Network(0xc0000280, 0xc0000200, 24));
    assert.ok(!inIPv4Network(0xc0000380, 0xc0000200, 24));
    assert.ok(inIPv4Network(4294967295, 0, 0));
    assert.ok(inIPv4Network(0x0a000001, 0x0a000001, 32));
  });

  it('IPv6 text forms', () => {
    const out = new Uint8Array(16);
    const cases: [string, string][] = [
      ['::', '::'],
      ['::1', '::1'],
      ['1::', '1::'],
      ['2001:DB8::0:1', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['::192.0.2.1', '::c000:201'],
      ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
      ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ];
    for (const [text, canonical] of cases) {
      assert.ok(parseIPv6(text, out), text);
      assert.equal(ipv6At(out, 0), canonical, text);
    }
    for (const bad of [
      '',
      ':',
      ':::',
      '1:::2',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1::2:3:4:5:6:7:8',
      '12345::',
      '1:',
      'g::',
      '::1.2.3',
    ]) {
      assert.equal(parseIPv6(bad, out), false, bad);
    }
  });

  it('IPv6 agrees with Node and ipaddr.js on random text', () => {
    const out = new Uint8Array(16);
    const text = fc
      .array(fc.constantFrom('0', '1', 'a', 'F', 'ff', '1234', '12345', ':', '::', '.', '192.0.2.1'), {
        maxLength: 14,
      })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (s) => {
        const ok = parseIPv6(s, out);
        assert.equal(ok, isIPv6(s), s);
        // ipaddr.js reads the deprecated IPv4-compatible form `::a.b.c.d` (RFC 4291 section 2.5.5.1)
        // as IPv4-mapped; the RFC's reading (96 zero bits) is the one checked in 'IPv6 text forms'.
        if (ok && !/^::[0-9]+\./.test(s)) assert.deepEqual([...out], ipaddr.IPv6.parse(s).toByteArray(), s);
      }),
      { seed: SEED, numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        assert.ok(parseIPv6(ipv6At(bytes, 0), out));
        assert.deepEqual(out, bytes);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('IPv4 agrees with Node on random text', () => {
    const text = fc
      .array(fc.constantFrom('0', '1', '25', '255', '256', '09', '.', '..'), { maxLength: 9 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (s) => assert.equal(parseIPv4(s) >= 0, isIPv4(s), s)),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('prefix comparison', () => {
    const a = new Uint8Array(16);
    const b = new Uint8Array(16);
    a[5] = 0b1010_0000;
    b[5] = 0b1011_0000;
    assert.ok(samePrefix(a, b, 43));
    assert.ok(!samePrefix(a, b, 44));
    assert.ok(samePrefix(a, b, 0));
  });
});
