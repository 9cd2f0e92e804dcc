import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { ipv6At, recentIpv6Words } from '../../src/record/address.js';
import { ipv6AtBefore as ipv6AtReference } from '../helpers/ipv6-text-before.js';

/** The address's 4 words, most significant first. */
function wordsOf(bytes: Uint8Array, off = 0): number[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset + off, 16);
  return [v.getUint32(0), v.getUint32(4), v.getUint32(8), v.getUint32(12)];
}

/** Groups drawn so that zero runs of every length and position, ties included, are common. */
const zeroHeavyGroup = fc.oneof(
  { weight: 5, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constantFrom(1, 0xf, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0xffff) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
const zeroHeavyAddress = fc.array(zeroHeavyGroup, { minLength: 8, maxLength: 8 }).map((gs) => {
  const b = new Uint8Array(16);
  gs.forEach((g, i) => {
    b[2 * i] = g >>> 8;
    b[2 * i + 1] = g & 255;
  });
  return b;
});
const mappedAddress = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((v4) => {
  const b = new Uint8Array(16);
  b[10] = b[11] = 0xff;
  b.set(v4, 12);
  return b;
});
const anyAddress = fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), zeroHeavyAddress, mappedAddress);

describe('ipv6At', () => {
  it('RFC 5952 examples and edges', () => {
    const cases: [string, string][] = [
      ['00000000000000000000000000000000', '::'],
      ['00000000000000000000000000000001', '::1'],
      ['20010db8000000000000000000000001', '2001:db8::1'],
      ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'], // one zero group stays (4.2.2)
      ['20010000000000010000000000000001', '2001:0:0:1::1'], // longest run (4.2.3)
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // first run on a tie (4.2.3)
      ['20010db8000000000000000000000000', '2001:db8::'],
      ['fe800000000000000000000000000000', 'fe80::'],
      ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
      ['00000000000000000000ffff00000000', '::ffff:0.0.0.0'],
      ['20010DB8ABCDEF0112345678FFFF0000', '2001:db8:abcd:ef01:1234:5678:ffff:0'],
      ['000100000000000000000000000000ff', '1::ff'],
    ];
    for (const [hex, text] of cases) assert.equal(ipv6At(Buffer.from(hex, 'hex'), 0), text, hex);
  });

  it('same text as the previous implementation, at any offset', () => {
    fc.assert(
      fc.property(anyAddress, fc.nat(7), (bytes, pad) => {
        const buf = new Uint8Array(pad + 16);
        buf.set(bytes, pad);
        assert.equal(ipv6At(buf, pad), ipv6AtReference(buf, pad));
      }),
      { numRuns: 20_000 },
    );
  });

  it('same text as ipaddr.js toRFC5952String (addresses that are not IPv4-mapped)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 16, maxLength: 16 }), zeroHeavyAddress), (bytes) => {
        fc.pre(!(wordsOf(bytes)[0] === 0 && wordsOf(bytes)[1] === 0 && wordsOf(bytes)[2] === 0xffff));
        assert.equal(ipv6At(bytes, 0), (ipaddr.fromByteArray([...bytes]) as ipaddr.IPv6).toRFC5952String());
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('recentIpv6Words', () => {
  it('gives back the words of each of the last 8 formatted addresses, newest overwriting oldest', () => {
    fc.assert(
      fc.property(fc.array(anyAddress, { minLength: 9, maxLength: 20 }), (list) => {
        const texts = list.map((b) => ipv6At(b, 0));
        const out = new Uint32Array(4);
        for (let i = list.length - 8; i < list.length; i++) {
          assert.equal(recentIpv6Words(texts[i] as string, out), true);
          assert.deepEqual([...out], wordsOf(list[i] as Uint8Array));
        }
        // Older ones are gone unless an equal address was formatted again since.
        const recent = new Set(texts.slice(-8));
        for (const t of texts.slice(0, -8)) {
          if (!recent.has(t)) assert.equal(recentIpv6Words(t, out), false, t);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('an equal string built separately finds the same words; other text finds nothing', () => {
    const bytes = Buffer.from('20010db8000100020003000400050006', 'hex');
    const text = ipv6At(bytes, 0);
    const rebuilt = ['2001', 'db8', '1', '2', '3', '4', '5', '6'].join(':');
    assert.equal(rebuilt, text);
    const out = new Uint32Array([7, 7, 7, 7]);
    assert.equal(recentIpv6Words(rebuilt, out), true);
    assert.deepEqual([...out], wordsOf(bytes));

    const untouched = new Uint32Array([7, 7, 7, 7]);
    for (const other of ['2001:db8:1:2:3:4:5:7', '2001:DB8:1:2:3:4:5:6', '192.0.2.1', '', 'x']) {
      assert.equal(recentIpv6Words(other, untouched), false, other);
    }
    assert.deepEqual([...untouched], [7, 7, 7, 7]);
  });

  it('the empty string is never taken for an address before anything was formatted', async () => {
    // A fresh module instance: its memory holds no formatted address yet.
    const fresh = (await import(`../../src/record/address.js?fresh=${Date.now()}`)) as {
      recentIpv6Words: typeof recentIpv6Words;
    };
    assert.equal(fresh.recentIpv6Words('', new Uint32Array(4)), false);
    assert.equal(fresh.recentIpv6Words('0', new Uint32Array(4)), false);
  });
});
