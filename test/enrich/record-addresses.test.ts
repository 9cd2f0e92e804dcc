import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ParsedAddress } from '../../src/enrich/prefix-set.js';
import { RecordAddresses } from '../../src/enrich/record-addresses.js';
import { ipv4At, ipv6At, recentIpv6Words } from '../../src/record/address.js';
import { FlowRecord } from '../../src/record/flow-record.js';

/** What a lookup can see of a parse: the family, and the number of that family. */
function seen(p: ParsedAddress): string {
  if (p.family === 4) return `4 ${p.v4}`;
  if (p.family === 6) return `6 ${[...p.words].join(',')}`;
  return '0';
}

/** The same parse done from the text alone. */
function fromText(text: string | null): string {
  const p = new ParsedAddress();
  p.parseText(text);
  return seen(p);
}

const zeroHeavyGroup = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.constant(0xffff) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);
const address = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc
    .array(zeroHeavyGroup, { minLength: 8, maxLength: 8 })
    .map((gs) => Uint8Array.from(gs.flatMap((g) => [g >>> 8, g & 255]))),
  fc
    .uint8Array({ minLength: 4, maxLength: 4 })
    .map((v4) => Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...v4])),
);

/** An equal string that is not the same string object. */
function rebuilt(text: string): string {
  return text
    .split('')
    .map((c) => String.fromCharCode(c.charCodeAt(0)))
    .join('');
}

describe('ParsedAddress.parse taking back what ipv6At formatted', () => {
  it('same result as parsing the text, for the string itself and for an equal one built apart', () => {
    const p = new ParsedAddress();
    fc.assert(
      fc.property(address, address, (a, b) => {
        const src = ipv6At(a, 0);
        const dst = ipv6At(b, 0);
        // The shortcut is what is being tested: both must be remembered.
        assert.equal(recentIpv6Words(src, new Uint32Array(4)), true);
        for (const text of [dst, src, rebuilt(src), rebuilt(dst)]) {
          p.parse(text);
          assert.equal(seen(p), fromText(text), text);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  it('text that was not formatted recently, or is not an address, is parsed as before', () => {
    const p = new ParsedAddress();
    const texts: (string | null)[] = [
      '2001:db8::1',
      '2001:DB8:0:0:0:0:0:1', // the same address spelled otherwise
      '::ffff:192.0.2.1',
      '::ffff:c000:201',
      '192.0.2.1',
      '10.0.0.256',
      '::',
      '',
      'not an address',
      null,
    ];
    fc.assert(
      fc.property(fc.array(address, { maxLength: 10 }), fc.constantFrom(...texts), (formatted, text) => {
        for (const a of formatted) ipv6At(a, 0);
        p.parse(text);
        assert.equal(seen(p), fromText(text), String(text));
      }),
      { numRuns: 2_000 },
    );
    p.parse('2001:DB8:0:0:0:0:0:1');
    assert.equal(seen(p), '6 536939960,0,0,1');
    p.parse('::ffff:c000:201');
    assert.equal(seen(p), `4 ${0xc0000201}`);
  });

  it('an IPv4-mapped address formatted by the decoder is looked up as IPv4', () => {
    const p = new ParsedAddress();
    const text = ipv6At(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 198, 51, 100, 7]), 0);
    assert.equal(text, '::ffff:198.51.100.7');
    p.parse(text);
    assert.equal(p.family, 4);
    assert.equal(
      ipv4At(Uint8Array.from([p.v4 >>> 24, (p.v4 >>> 16) & 255, (p.v4 >>> 8) & 255, p.v4 & 255]), 0),
      '198.51.100.7',
    );
  });
});

describe('RecordAddresses', () => {
  function record(src: string, dst: string, exporter: string, v4 = -1): FlowRecord {
    const rec = new FlowRecord();
    rec.srcip = src;
    rec.dstip = dst;
    rec.srcip4 = v4;
    rec.dstip4 = -1;
    rec.flowsrcip = exporter;
    return rec;
  }

  it('src, dst and exporter of each record, records decoded one after another', () => {
    const view = new RecordAddresses();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(address, address, fc.constantFrom('192.0.2.1', '2001:db8::9', '192.0.2.2', '')), {
          minLength: 1,
          maxLength: 20,
        }),
        (flows) => {
          for (const [a, b, exporter] of flows) {
            // As a decoder does: format the record's addresses, then hand it to enrichment.
            const rec = record(ipv6At(a, 0), ipv6At(b, 0), rebuilt(exporter));
            view.begin(rec);
            assert.equal(seen(view.dst()), fromText(rec.dstip));
            assert.equal(seen(view.src()), fromText(rec.srcip));
            assert.equal(seen(view.exporter()), fromText(rec.flowsrcip));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('an IPv4 address handed over as a number is taken as it is; the exporter follows changes', () => {
    const view = new RecordAddresses();
    view.begin(record('10.1.2.3', '2001:db8::2', '192.0.2.1', 0x0a010203));
    assert.equal(seen(view.src()), `4 ${0x0a010203}`);
    assert.equal(seen(view.exporter()), `4 ${0xc0000201}`);
    view.begin(record('10.1.2.3', '2001:db8::2', '2001:db8::9', 0x0a010203));
    assert.equal(seen(view.exporter()), fromText('2001:db8::9'));
    view.begin(record('10.1.2.3', '2001:db8::2', '', 0x0a010203));
    assert.equal(view.exporter().family, 0);
    view.begin(record('10.1.2.3', '2001:db8::2', '192.0.2.1', 0x0a010203));
    assert.equal(seen(view.exporter()), `4 ${0xc0000201}`);
  });
});
