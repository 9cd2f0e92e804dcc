import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTags } from '../../src/enrich/tags.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { decodeCapture, NFV5_CAPTURE } from '../helpers/store-records.js';

/** akvorado sFlow 1140: 5 samples, 0/2/4 IPv6 SSH (dstport 22, ACK), 3 a bare SYN to 191.87.91.27:5555. */
const SFLOW_1140 = 'sflow/akvorado_sflow_data-1140.pcap';
/** pmacct test 111: 13 IPv6 records from exporter 2001:4d98:a100:303:0:931:f:1, srcas/dstas 0. */
const PMACCT_V6 = 'ipfix/pmacct_111-IPFIXv10-NFv9-IPv6-IPv4-mix_sources_traffic-01.pcap';

/** Indexes of the records of `capture` that one rule labelled "x". */
function tagged(capture: string, rule: Record<string, unknown>, prepare?: (r: FlowRecord) => void): number[] {
  const tagger = compileTags([{ labels: ['x'], ...rule }]);
  const recs = decodeCapture(capture);
  return recs.flatMap((r, i) => {
    prepare?.(r);
    tagger.tag(r);
    return r.tags?.includes('x') ? [i] : [];
  });
}

/** What an interface enrichment would give the akvorado v5 exporter's ifIndexes. */
const IF_NAMES: Record<number, string> = {
  115: 'xe-0/0/1',
  116: 'xe-0/0/2',
  117: 'et-0/1/0',
  118: 'et-0/1/1',
};
function nameInterfaces(r: FlowRecord): void {
  r.inputname = r.input === null ? null : (IF_NAMES[r.input] ?? null);
  r.outputname = r.output === null ? null : `ae${r.output}`;
}

describe('tag rules on real captures (one rule kind at a time)', () => {
  it('srcnets / dstnets', () => {
    assert.deepEqual(tagged(NFV5_CAPTURE, { srcnets: ['142.250.0.0/15'] }), [5, 8, 15, 20, 21, 22]);
    assert.deepEqual(tagged(NFV5_CAPTURE, { dstnets: ['202.160.0.0/16'] }), [1, 9, 16, 17, 27]);
    assert.deepEqual(tagged(SFLOW_1140, { dstnets: ['2a0c:8880::/32'] }), [0, 2, 4]);
    assert.deepEqual(tagged(SFLOW_1140, { srcnets: ['0.0.0.0/0'] }), [1, 3]);
  });

  it('srcports / dstports, numbers and ranges', () => {
    assert.deepEqual(tagged(NFV5_CAPTURE, { srcports: ['1024-65535'] }), [0, 9, 19]);
    assert.deepEqual(tagged(NFV5_CAPTURE, { srcports: [443] }).length, 26);
    assert.deepEqual(tagged(SFLOW_1140, { dstports: [22, '5555'] }), [0, 2, 3, 4]);
  });

  it('protocols by keyword and number', () => {
    const udp = [2, 4, 12, 15, 16, 19, 24];
    assert.deepEqual(tagged(NFV5_CAPTURE, { protocols: ['udp'] }), udp);
    assert.deepEqual(tagged(NFV5_CAPTURE, { protocols: [17] }), udp);
    assert.deepEqual(tagged(NFV5_CAPTURE, { protocols: ['TCP', '17'] }).length, 29);
    assert.deepEqual(tagged(PMACCT_V6, { protocols: ['udp'] }), [5, 9, 10, 11]);
  });

  it('tcpflags: set, clear, OR of entries; records without flags never match', () => {
    assert.deepEqual(tagged(SFLOW_1140, { tcpflags: ['syn,!ack'] }), [3]);
    assert.deepEqual(
      tagged(NFV5_CAPTURE, { tcpflags: ['ack,psh'] }),
      [0, 5, 7, 9, 10, 11, 13, 18, 21, 22, 23, 26, 27, 28],
    );
    assert.deepEqual(tagged(NFV5_CAPTURE, { tcpflags: ['ack,!psh'] }), [1, 3, 6, 8, 14, 17, 20, 25]);
    assert.deepEqual(tagged(NFV5_CAPTURE, { tcpflags: ['syn', 'rst', 'fin'] }), []);
    assert.deepEqual(
      tagged(NFV5_CAPTURE, { tcpflags: ['!syn'] }).length,
      22,
      'the 7 UDP records have no flags',
    );
  });

  it('srcasns / dstasns, with ranges and the owner-AS fallback for AS 0', () => {
    assert.deepEqual(
      tagged(NFV5_CAPTURE, { srcasns: [15169] }),
      [1, 2, 5, 8, 11, 14, 15, 16, 17, 20, 21, 22, 27],
    );
    assert.deepEqual(
      tagged(NFV5_CAPTURE, { dstasns: ['10000-10100'] }),
      [2, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 16, 20, 21, 22, 23, 24, 25, 26],
    );
    // pmacct reports AS 0 (unknown): the AS database's owner AS is used instead.
    assert.deepEqual(tagged(PMACCT_V6, { srcasns: [0] }), []);
    const owner = (r: FlowRecord) => {
      r.srcowneras = r.srcip?.startsWith('2a02:') ? { asnumber: 51050, asorg: 'test' } : null;
    };
    assert.deepEqual(tagged(PMACCT_V6, { srcasns: [51050] }, owner), [1, 4, 6, 8]);
  });

  it('input / output interface names: exact and /regex/', () => {
    assert.deepEqual(
      tagged(NFV5_CAPTURE, { inputnames: ['/^et-/'] }, nameInterfaces),
      [0, 3, 4, 7, 12, 23, 24, 25, 26, 28],
    );
    assert.deepEqual(tagged(NFV5_CAPTURE, { inputnames: ['xe-0/0/2'] }, nameInterfaces), [6, 9, 10, 13, 19]);
    assert.deepEqual(
      tagged(NFV5_CAPTURE, { outputnames: ['AE86', '/^ae86$/i'] }, nameInterfaces),
      [0, 1, 3, 12, 14, 17, 18, 27, 28],
    );
    assert.deepEqual(tagged(NFV5_CAPTURE, { inputnames: ['/^et-/'] }), [], 'no names known: no match');
  });

  it('exporters by address, CIDR and name', () => {
    assert.equal(tagged(NFV5_CAPTURE, { exporters: ['10.19.144.0/24'] }).length, 29);
    assert.equal(tagged(NFV5_CAPTURE, { exporters: ['10.19.144.42'] }).length, 0);
    assert.equal(tagged(PMACCT_V6, { exporters: ['2001:4d98:a100:303:0:931:f:1'] }).length, 13);
    const named = (r: FlowRecord) => {
      r.flowsrcname = 'edge-sin-1';
    };
    assert.equal(tagged(NFV5_CAPTURE, { exporters: ['edge-sin-1'] }, named).length, 29);
    assert.equal(tagged(NFV5_CAPTURE, { exporters: ['edge-sin-2'] }, named).length, 0);
  });

  it('conditions AND-ed within a rule', () => {
    assert.deepEqual(tagged(NFV5_CAPTURE, { protocols: ['udp'], srcasns: [15169] }), [2, 15, 16]);
    assert.deepEqual(
      tagged(NFV5_CAPTURE, { protocols: ['udp'], srcasns: [15169], dstnets: ['202.160.0.0/16'] }),
      [16],
    );
  });
});

describe('tag rule evaluation', () => {
  it('every matching rule appends its labels in rule order, once; final stops', () => {
    const tagger = compileTags([
      { labels: ['google', 'cdn'], srcasns: [15169] },
      { labels: ['quic'], protocols: ['udp'], srcports: [443] },
      { labels: ['cdn', 'web'], srcports: [443], final: true },
      { labels: ['never'], srcports: [443] },
      { labels: ['other'], srcports: ['1024-65535'] },
    ]);
    const recs = decodeCapture(NFV5_CAPTURE);
    for (const r of recs) tagger.tag(r);
    assert.deepEqual(recs[2].tags, ['google', 'cdn', 'quic', 'web']);
    assert.deepEqual(recs[1].tags, ['google', 'cdn', 'web']);
    assert.deepEqual(recs[3].tags, ['cdn', 'web']);
    assert.deepEqual(recs[0].tags, ['other']);
    assert.deepEqual(tagger.matched, [13, 6, 26, 0, 3]);
  });

  it('existing tags are kept and never shared arrays grown', () => {
    const shared = ['site-a'];
    const tagger = compileTags([{ labels: ['site-a', 'web'], srcports: [443] }]);
    const recs = decodeCapture(NFV5_CAPTURE);
    for (const r of recs) {
      r.tags = shared;
      tagger.tag(r);
    }
    assert.deepEqual(shared, ['site-a']);
    assert.deepEqual(recs[1].tags, ['site-a', 'web']);
    assert.equal(recs[0].tags, shared, 'not matched: untouched');
  });

  it('records matching the same rules share one frozen label list; more than 31 rules still work', () => {
    const tagger = compileTags([
      { labels: ['https'], srcports: [443] },
      { labels: ['other'], srcports: ['1024-65535'] },
    ]);
    const recs = decodeCapture(NFV5_CAPTURE);
    for (const r of recs) tagger.tag(r);
    const https = recs.filter((r) => r.tags?.[0] === 'https');
    assert.ok(https.length > 1);
    for (const r of https) assert.equal(r.tags, https[0]?.tags, 'the same array');
    const list = https[0]?.tags as string[];
    assert.ok(Object.isFrozen(list));
    // A list shared by many records cannot be changed through one of them.
    assert.throws(() => list.push('x'), TypeError);

    const many = compileTags([
      ...Array.from({ length: 40 }, (_, i) => ({ labels: [`r${i}`], protocols: [200] })),
      { labels: ['last'], srcports: [443] },
    ]);
    const again = decodeCapture(NFV5_CAPTURE);
    for (const r of again) many.tag(r);
    assert.deepEqual(
      again.map((r) => r.tags),
      recs.map((r) => (r.tags?.includes('https') ? ['last'] : null)),
    );
  });

  it('no rules: records untouched', () => {
    const recs = decodeCapture(NFV5_CAPTURE);
    assert.equal(compileTags().tag(recs[0]), false);
    assert.equal(recs[0].tags, null);
  });

  it('rejects bad rules naming the value', () => {
    const bad: [unknown, RegExp][] = [
      [{ labels: [], srcports: [1] }, /tags\[0\]\.labels: a rule needs at least one label/],
      [{ labels: ['x'] }, /tags\[0\]: a rule needs at least one condition/],
      [{ labels: ['x'], dstport: [53] }, /tags\[0\]: unknown key "dstport"/],
      [
        { labels: ['x'], dstports: ['53-'] },
        /tags\[0\]\.dstports\[0\]: expected a port 0-65535 or a range "low-high", got "53-"/,
      ],
      [{ labels: ['x'], dstports: [70000] }, /got 70000/],
      [{ labels: ['x'], dstports: ['100-10'] }, /range "100-10" runs backwards/],
      [
        { labels: ['x'], protocols: ['tcpp'] },
        /protocols\[0\]: expected an IANA protocol keyword .* got "tcpp"/,
      ],
      [{ labels: ['x'], protocols: [256] }, /got 256/],
      [{ labels: ['x'], tcpflags: ['syn,!ak'] }, /tcpflags\[0\]: unknown TCP flag "ak" in "syn,!ak"/],
      [{ labels: ['x'], tcpflags: ['syn,!syn'] }, /flag "syn" named twice/],
      [{ labels: ['x'], srcasns: [-1] }, /srcasns\[0\]: expected an AS number 0-4294967295/],
      [{ labels: ['x'], inputnames: ['/(/'] }, /inputnames\[0\]: bad regular expression/],
      [{ labels: ['x'], exporters: ['10.0.0'] }, /exporters\[0\]: "10.0.0": not an IPv4\/IPv6/],
      [{ labels: ['x'], srcnets: [] }, /tags\[0\]\.srcnets: empty list/],
      [{ labels: ['x'], srcnets: '10.0.0.0/8' }, /tags\[0\]\.srcnets: expected a list/],
      [{ labels: ['x'], srcports: [1], final: 'yes' }, /tags\[0\]\.final: expected true or false/],
    ];
    for (const [rule, message] of bad)
      assert.throws(() => compileTags([rule]), message, JSON.stringify(rule));
    assert.throws(() => compileTags({}), /tags: expected a list, got a mapping/);
  });
});
