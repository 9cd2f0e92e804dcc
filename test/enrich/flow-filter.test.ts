import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileAddressClasses } from '../../src/enrich/address-classes.js';
import { compileFlowFilter } from '../../src/enrich/flow-filter.js';
import { RecordAddresses } from '../../src/enrich/record-addresses.js';
import { compileTags } from '../../src/enrich/tags.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { decodeCapture, NFV5_CAPTURE } from '../helpers/store-records.js';

/** pmacct test 100: Cisco IPFIX, 8 IPv4 records (10.x, UDP 17000 or 1024->80) and 4 IPv6 (UDP 1024->80). */
const PMACCT_MIXED = 'ipfix/pmacct_100-IPFIXv10-CISCO_traffic-00.pcap';

/** Indexes of the records the filter keeps. */
function kept(
  capture: string,
  options: unknown,
): { kept: number[]; filter: ReturnType<typeof compileFlowFilter> } {
  const filter = compileFlowFilter(options);
  const recs = decodeCapture(capture);
  return { kept: recs.flatMap((r, i) => (filter.keep(r) ? [i] : [])), filter };
}

const ALL_NFV5 = Array.from({ length: 29 }, (_, i) => i);
const without = (drop: number[]) => ALL_NFV5.filter((i) => !drop.includes(i));

describe('flow filter on real captures', () => {
  it('no rules: the default decides', () => {
    assert.deepEqual(kept(NFV5_CAPTURE, {}).kept, ALL_NFV5);
    const dropAll = kept(NFV5_CAPTURE, { defaultaction: 'drop' });
    assert.deepEqual(dropAll.kept, []);
    assert.equal(dropAll.filter.droppedByDefault, 29);
    assert.equal(dropAll.filter.dropped, 29);
  });

  it('each condition kind drops exactly its records (default accept, rules drop)', () => {
    const cases: [Record<string, unknown>, number[]][] = [
      [{ srcnets: ['142.250.0.0/15'] }, [5, 8, 15, 20, 21, 22]],
      [{ dstnets: ['202.160.0.0/16'] }, [1, 9, 16, 17, 27]],
      [{ srcports: ['1024-65535'] }, [0, 9, 19]],
      [{ dstports: ['3964', 6324] }, [11, 20]],
      [{ protocols: ['udp'] }, [2, 4, 12, 15, 16, 19, 24]],
      [{ srcasns: [15169, 32934] }, [1, 2, 4, 5, 8, 11, 12, 14, 15, 16, 17, 20, 21, 22, 24, 25, 27, 28]],
      [{ dstasns: [10101] }, [0, 3, 14, 18, 19]],
    ];
    for (const [conditions, dropped] of cases) {
      const { kept: k, filter } = kept(NFV5_CAPTURE, { rules: [{ name: 'r', ...conditions }] });
      assert.deepEqual(k, without(dropped), JSON.stringify(conditions));
      assert.deepEqual(filter.counts(), [
        { rule: 'r', action: 'drop', matched: dropped.length, dropped: dropped.length },
      ]);
    }
  });

  it('conditions AND-ed: QUIC from Google only', () => {
    const { kept: k } = kept(NFV5_CAPTURE, {
      rules: [{ protocols: ['udp'], srcports: [443], srcasns: [15169] }],
    });
    assert.deepEqual(k, without([2, 15, 16]));
  });

  it('first match wins, counted per rule; IPv4 and IPv6 in one capture', () => {
    const { kept: k, filter } = kept(PMACCT_MIXED, {
      defaultaction: 'drop',
      rules: [
        { name: 'ipv6 web', action: 'accept', dstnets: ['2001:918::/32'], dstports: [80] },
        { name: 'no 10.237', action: 'drop', srcnets: ['10.237.0.0/16'] },
        { name: 'rest of web', action: 'accept', dstports: [80] },
        { name: 'internal', action: 'accept', srcnets: ['10.0.0.0/8'] },
      ],
    });
    // 4, 5, 10, 11: IPv6 web; 7, 8, 9: 10.237 dropped before "rest of web"; 0-3, 6: 10.23x -> 17000.
    assert.deepEqual(k, [0, 1, 2, 3, 4, 5, 6, 10, 11]);
    assert.deepEqual(filter.counts(), [
      { rule: 'ipv6 web', action: 'accept', matched: 4, dropped: 0 },
      { rule: 'no 10.237', action: 'drop', matched: 3, dropped: 3 },
      { rule: 'rest of web', action: 'accept', matched: 0, dropped: 0 },
      { rule: 'internal', action: 'accept', matched: 5, dropped: 0 },
    ]);
    assert.equal(filter.dropped, 3);
    assert.equal(filter.droppedByDefault, 0);
  });

  it('a rule without action is the opposite of the default', () => {
    const { kept: k, filter } = kept(NFV5_CAPTURE, {
      defaultaction: 'drop',
      rules: [{ dstnets: ['61.6.0.0/16'] }],
    });
    assert.deepEqual(k, [2, 4, 5, 6, 8, 11, 13, 15, 20, 21, 22, 23, 24, 26]);
    assert.equal(filter.droppedByDefault, 15);
    assert.deepEqual(filter.counts(), [{ rule: 'rule 1', action: 'accept', matched: 14, dropped: 0 }]);
  });

  it('null fields never match a condition', () => {
    const filter = compileFlowFilter({
      rules: [{ srcports: ['0-65535'] }, { srcnets: ['0.0.0.0/0', '::/0'] }],
    });
    const r = new FlowRecord();
    assert.equal(filter.keep(r), true);
    r.srcip = '::ffff:192.0.2.1';
    assert.equal(filter.keep(r), false, 'a mapped address is IPv4 and in 0.0.0.0/0');
  });

  it('rejects bad options naming the value', () => {
    assert.throws(
      () => compileFlowFilter({ defaultaction: 'deny' }),
      /filter\.defaultaction: expected "accept" or "drop", got "deny"/,
    );
    assert.throws(
      () => compileFlowFilter({ rules: [{ action: 'reject', srcports: [1] }] }),
      /filter\.rules\[0\]\.action: expected "accept" or "drop"/,
    );
    assert.throws(
      () => compileFlowFilter({ rules: [{ tcpflags: ['syn'] }] }),
      /filter\.rules\[0\]: unknown key "tcpflags"/,
    );
    assert.throws(
      () => compileFlowFilter({ rules: [{ name: 'a' }] }),
      /filter\.rules\[0\]: a rule needs at least one condition/,
    );
    assert.throws(
      () =>
        compileFlowFilter({
          rules: [
            { name: 'a', srcports: [1] },
            { name: 'a', srcports: [2] },
          ],
        }),
      /filter\.rules\[1\]\.name: "a" names two rules/,
    );
    assert.throws(
      () => compileFlowFilter({ rules: [{ dstnets: ['10.0.0.1/8'] }] }),
      /filter\.rules\[0\]\.dstnets\[0\]: "10.0.0.1\/8": host bits are set/,
    );
    assert.throws(() => compileFlowFilter('drop'), /filter: expected a mapping, got "drop"/);
  });
});

describe('one RecordAddresses shared by classes, tags and filter', () => {
  it('gives the same results as each step parsing on its own', () => {
    const classes = compileAddressClasses();
    const tags = compileTags([
      { labels: ['v6-web'], dstnets: ['2001:918::/32'] },
      { labels: ['lan'], srcnets: ['10.0.0.0/8'], exporters: ['138.187.0.0/16'] },
    ]);
    const filter = compileFlowFilter({ rules: [{ srcnets: ['10.237.0.0/16'] }] });
    const view = new RecordAddresses();
    const alone = decodeCapture(PMACCT_MIXED);
    const shared = decodeCapture(PMACCT_MIXED);
    const keptAlone = alone.map((r) => {
      classes.classify(r);
      tags.tag(r);
      return filter.keep(r);
    });
    const keptShared = shared.map((r) => {
      view.begin(r);
      classes.classify(r, view);
      tags.tag(r, view);
      return filter.keep(r, view);
    });
    assert.deepEqual(keptShared, keptAlone);
    assert.deepEqual(
      shared.map((r) => [r.srcinternal, r.bogondst, r.tags]),
      alone.map((r) => [r.srcinternal, r.bogondst, r.tags]),
    );
    assert.deepEqual(shared[4].tags, ['v6-web']);
    assert.deepEqual(shared[0].tags, ['lan']);
    assert.deepEqual(
      keptShared.flatMap((k, i) => (k ? [] : [i])),
      [7, 8, 9],
    );
  });
});
