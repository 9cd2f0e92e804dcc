import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  bogonPrefixSet,
  compileAddressClasses,
  DEFAULT_INTERNAL_NETWORKS,
} from '../../src/enrich/address-classes.js';
import { parseNetwork } from '../../src/enrich/prefix-set.js';
import { IPV4_SPECIAL_PURPOSE, IPV6_SPECIAL_PURPOSE } from '../../src/enrich/special-purpose-registry.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { decodeCapture } from '../helpers/store-records.js';

/** pmacct test 100: Cisco IPFIX, 8 records 10.x -> 10.192.12.x and 4 records 2001:1700:... -> 2001:918:... */
const PMACCT_MIXED = 'ipfix/pmacct_100-IPFIXv10-CISCO_traffic-00.pcap';
/** pmacct test 111: 13 IPv6 records, record 9 is fe80::205 -> fe80::303 (link-local). */
const PMACCT_V6 = 'ipfix/pmacct_111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources_traffic-01.pcap';

function classes(rec: FlowRecord): [boolean | null, boolean | null, boolean | null, boolean | null] {
  return [rec.srcinternal, rec.dstinternal, rec.bogonsrc, rec.bogondst];
}

describe('address classes on real captures', () => {
  const classifier = compileAddressClasses();

  it('pmacct Cisco IPFIX: RFC 1918 IPv4 is internal and a bogon, global IPv6 is neither', () => {
    const recs = decodeCapture(PMACCT_MIXED);
    assert.equal(recs.length, 12);
    for (const r of recs) classifier.classify(r);
    const v4 = recs.filter((r) => r.ipversion === 4);
    const v6 = recs.filter((r) => r.ipversion === 6);
    assert.equal(v4.length, 8);
    assert.equal(v6.length, 4);
    for (const r of v4) assert.deepEqual(classes(r), [true, true, true, true], `${r.srcip} -> ${r.dstip}`);
    for (const r of v6)
      assert.deepEqual(classes(r), [false, false, false, false], `${r.srcip} -> ${r.dstip}`);
  });

  it('pmacct IPv6: only the link-local record is internal/bogon', () => {
    const recs = decodeCapture(PMACCT_V6);
    for (const r of recs) classifier.classify(r);
    const flagged = recs.flatMap((r, i) =>
      r.srcinternal || r.dstinternal || r.bogonsrc || r.bogondst ? [i] : [],
    );
    assert.deepEqual(flagged, [9]);
    assert.equal(recs[9].srcip, 'fe80::205');
    assert.deepEqual(classes(recs[9]), [true, true, true, true]);
    assert.deepEqual(classes(recs[0]), [false, false, false, false]);
  });

  it('akvorado NetFlow v5: every address public', () => {
    const recs = decodeCapture('netflow5/akvorado_netflow_nfv5.pcap');
    for (const r of recs) classifier.classify(r);
    assert.equal(recs.length, 29);
    for (const r of recs)
      assert.deepEqual(classes(r), [false, false, false, false], `${r.srcip} -> ${r.dstip}`);
  });

  it('configured internal networks replace the defaults; bogons can be turned off', () => {
    const own = compileAddressClasses({
      internalnetworks: ['202.152.0.0/16', '61.6.224.0/19'],
      bogons: false,
    });
    const recs = decodeCapture('netflow5/akvorado_netflow_nfv5.pcap');
    for (const r of recs) own.classify(r);
    const internalDst = recs.filter((r) => r.dstinternal === true).map((r) => r.dstip);
    assert.equal(internalDst.length, 19); // 5 in 202.152/16, 14 in 61.6.224/19
    assert.ok(internalDst.every((a) => a?.startsWith('202.152.') || a?.startsWith('61.6.')));
    assert.ok(recs.every((r) => r.srcinternal === false && r.bogonsrc === null && r.bogondst === null));
  });
});

describe('address classes: edge cases', () => {
  const classifier = compileAddressClasses();

  function classify(src: string | null, dst: string | null): FlowRecord {
    const r = new FlowRecord();
    r.srcip = src;
    r.dstip = dst;
    classifier.classify(r);
    return r;
  }

  it('defaults cover RFC 1918, CGNAT, loopback, link-local and ULA, and their edges', () => {
    const internal = [
      '10.0.0.1',
      '172.31.255.255',
      '192.168.0.1',
      '100.64.0.0',
      '100.127.255.255',
      '127.0.0.1',
      '169.254.1.1',
      'fd00::1',
      'fc00::',
      '::1',
      'fe80::1',
    ];
    const external = [
      '172.32.0.0',
      '100.128.0.0',
      '100.63.255.255',
      '8.8.8.8',
      '2001:4860::8888',
      '::2',
      'fec0::1',
      '192.0.2.1',
    ];
    for (const a of internal) assert.equal(classify(a, null).srcinternal, true, a);
    for (const a of external) assert.equal(classify(a, null).srcinternal, false, a);
    assert.equal(DEFAULT_INTERNAL_NETWORKS.length, 9);
  });

  it('null or unparseable addresses stay unknown', () => {
    const r = classify(null, 'not-an-address');
    assert.deepEqual(classes(r), [null, null, null, null]);
  });

  it('bogons follow the most specific registry row', () => {
    const bogon = [
      '0.1.2.3',
      '10.1.2.3',
      '100.64.0.1',
      '127.0.0.1',
      '169.254.1.1',
      '172.16.0.1',
      '192.0.0.1',
      '192.0.0.8',
      '192.0.0.170',
      '192.0.2.1',
      '192.88.99.1',
      '192.88.99.2',
      '192.168.1.1',
      '198.18.0.1',
      '198.51.100.1',
      '203.0.113.1',
      '240.0.0.1',
      '255.255.255.255',
      '::',
      '::1',
      '64:ff9b:1::1',
      '100::1',
      '100:0:0:1::1',
      '2001::1',
      '2001:1::4',
      '2001:2::1',
      '2001:10::1',
      '2001:db8::1',
      '2002::1',
      '3fff::1',
      '5f00::1',
      'fd12:3456::1',
      'fe80::1',
    ];
    const notBogon = [
      '8.8.8.8',
      '1.1.1.1',
      '192.0.0.9',
      '192.0.0.10',
      '192.31.196.1',
      '192.52.193.1',
      '192.175.48.1',
      '224.0.0.1',
      '2001:4860:4860::8888',
      '64:ff9b::808:808',
      '2001:1::1',
      '2001:1::2',
      '2001:1::3',
      '2001:3::1',
      '2001:4:112::1',
      '2001:20::1',
      '2001:30::1',
      '2001:200::',
      '2620:4f:8000::1',
      'ff02::1',
    ];
    for (const a of bogon)
      assert.equal(classify(a, a).bogonsrc && classify(a, a).bogondst, true, `${a} is a bogon`);
    for (const a of notBogon) assert.equal(classify(a, null).bogonsrc, false, `${a} is not a bogon`);
  });

  it('IPv4-mapped addresses are judged as the IPv4 address they carry', () => {
    assert.deepEqual(classes(classify('::ffff:10.0.0.1', '::ffff:8.8.8.8')), [true, false, true, false]);
    assert.equal(classify('::ffff:192.0.0.9', null).bogonsrc, false);
  });

  it('registry rows all parse and the counts match the registries (25 rows each, 170/171 split)', () => {
    assert.equal(IPV4_SPECIAL_PURPOSE.length, 26);
    assert.equal(IPV6_SPECIAL_PURPOSE.length, 25);
    for (const row of [...IPV4_SPECIAL_PURPOSE, ...IPV6_SPECIAL_PURPOSE]) {
      assert.equal(typeof parseNetwork(row.network), 'object', row.network);
    }
    assert.ok(bogonPrefixSet().ranges > 20);
  });

  it('rejects bad options naming the value', () => {
    assert.throws(
      () => compileAddressClasses({ internalnetworks: ['10.0.0.0/8', 'lan'] }),
      /addressclasses\.internalnetworks\[1\]: "lan": not an IPv4\/IPv6/,
    );
    assert.throws(
      () => compileAddressClasses({ internalnetworks: '10.0.0.0/8' }),
      /addressclasses\.internalnetworks: expected a list, got "10.0.0.0\/8"/,
    );
    assert.throws(
      () => compileAddressClasses({ bogons: 'yes' }),
      /addressclasses\.bogons: expected true or false, got "yes"/,
    );
    assert.throws(() => compileAddressClasses({ internalnetwork: [] }), /unknown key "internalnetwork"/);
  });
});

describe('the IPv4 /16 table of the classifier', () => {
  it('classifies like the networks themselves, for any internal networks and address', () => {
    const network = fc.tuple(fc.nat({ max: 0xffffffff }), fc.integer({ min: 4, max: 32 })).map(([a, len]) => {
      const base = len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
      return `${base >>> 24}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/${len}`;
    });
    fc.assert(
      fc.property(
        fc.array(network, { maxLength: 8 }),
        fc.array(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 50 }),
        fc.boolean(),
        (networks, addresses, bogons) => {
          const classifier = compileAddressClasses({ internalnetworks: networks, bogons });
          for (const a of addresses) {
            const text = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
            // Through the number the decoders hand over, and through the text.
            const byNumber = Object.assign(new FlowRecord(), { srcip: text, srcip4: a, dstip: text });
            classifier.classify(byNumber);
            assert.equal(byNumber.srcinternal, classifier.internal.has(text), `${text} in ${networks}`);
            assert.equal(byNumber.dstinternal, byNumber.srcinternal);
            assert.equal(byNumber.bogonsrc, bogons ? bogonPrefixSet().has(text) : null, text);
            assert.equal(byNumber.bogondst, byNumber.bogonsrc);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('partly covered /16s: 192.0.2.0/24 (documentation) and a configured /24', () => {
    const classifier = compileAddressClasses({ internalnetworks: ['203.0.113.128/25'] });
    const rec = (ip: string, n: number) =>
      Object.assign(new FlowRecord(), { srcip: ip, srcip4: n, dstip: null });
    const cases: [string, number, boolean, boolean][] = [
      ['192.0.2.1', 0xc0000201, false, true],
      ['192.0.3.1', 0xc0000301, false, false],
      ['203.0.113.200', 0xcb0071c8, true, true],
      ['203.0.113.1', 0xcb007101, false, true],
      ['203.0.114.1', 0xcb007201, false, false],
    ];
    for (const [ip, n, internal, bogon] of cases) {
      const r = rec(ip, n);
      classifier.classify(r);
      assert.deepEqual([r.srcinternal, r.bogonsrc], [internal, bogon], ip);
    }
  });
});
