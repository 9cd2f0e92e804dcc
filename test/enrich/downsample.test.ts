import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileDownsample, flowKeyHash } from '../../src/enrich/downsample.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { decodeCapture } from '../helpers/store-records.js';

/** overflowd: 78,684 NetFlow v5 records from one exporter (many flows repeat across datagrams). */
const OVERFLOWD = 'netflow5/overflowd_netflow_4M.pcap';

function key(r: FlowRecord): string {
  return `${r.srcip}|${r.dstip}|${r.srcport}|${r.dstport}|${r.protocolint}|${r.flowsrcip}`;
}

describe('downsample', () => {
  const recs = decodeCapture(OVERFLOWD);

  it('rate 1 keeps everything with weight 1', () => {
    const d = compileDownsample(1);
    const sample = decodeCapture('netflow5/akvorado_netflow_nfv5.pcap');
    assert.ok(sample.every((r) => d.keep(r) && r.weight === 1));
    assert.equal(d.kept, 29);
  });

  it('the same flow key is always kept or always dropped, whatever the order', () => {
    const forward = compileDownsample(10);
    const decision = new Map<string, boolean>();
    let conflicts = 0;
    for (const r of recs) {
      const k = key(r);
      const keep = forward.keep(r);
      const before = decision.get(k);
      if (before !== undefined && before !== keep) conflicts++;
      decision.set(k, keep);
    }
    assert.equal(conflicts, 0);
    assert.ok(decision.size < recs.length, 'the capture repeats flow keys, so the check means something');
    // Reverse arrival order: the same keys are kept.
    const backward = compileDownsample(10);
    const again = decodeCapture(OVERFLOWD).reverse();
    for (const r of again) assert.equal(backward.keep(r), decision.get(key(r)));
    assert.equal(backward.kept, forward.kept);
  });

  it('keeps about 1 in N distinct flows and sets weight N on kept records', () => {
    const d = compileDownsample(10);
    const keys = new Set<string>();
    const keptKeys = new Set<string>();
    for (const r of decodeCapture(OVERFLOWD)) {
      keys.add(key(r));
      if (d.keep(r)) {
        keptKeys.add(key(r));
        assert.equal(r.weight, 10);
      } else {
        assert.equal(r.weight, 1);
      }
    }
    const share = keptKeys.size / keys.size;
    // Binomial with thousands of keys: 1/10 within a few standard deviations.
    assert.ok(share > 0.08 && share < 0.12, `kept ${keptKeys.size} of ${keys.size} flow keys`);
    assert.equal(d.kept + d.dropped, recs.length);
  });

  it('weight multiplies an earlier weight', () => {
    const r = recs.find((x) => flowKeyHash(x) % 4 === 0)!;
    const copy = Object.assign(Object.create(Object.getPrototypeOf(r)), r) as FlowRecord;
    copy.weight = 3;
    assert.equal(compileDownsample(4).keep(copy), true);
    assert.equal(copy.weight, 12);
  });

  it('null fields hash apart from empty ones', () => {
    const a = Object.assign(Object.create(Object.getPrototypeOf(recs[0])), recs[0]) as FlowRecord;
    const b = Object.assign(Object.create(Object.getPrototypeOf(recs[0])), recs[0]) as FlowRecord;
    a.srcport = null;
    b.srcport = 0;
    assert.notEqual(flowKeyHash(a), flowKeyHash(b));
  });

  it('rejects bad rates naming the value', () => {
    for (const bad of [0, -1, 1.5, '10', null]) {
      assert.throws(
        () => compileDownsample(bad),
        /downsample: expected a whole number of records N >= 1/,
        String(bad),
      );
    }
  });
});
