/**
 * The demo encoders against Flowgate's own decoders: every datagram decodes with no error, every
 * value written comes back, sequence numbers run without gaps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { IpfixEncoder } from '../../src/demo/encode/ipfix-encoder.js';
import { Netflow9Encoder } from '../../src/demo/encode/netflow9-encoder.js';
import { SflowEncoder } from '../../src/demo/encode/sflow-encoder.js';
import type { SyntheticFlow } from '../../src/demo/synthetic-flow.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { datagramOf } from '../helpers/datagram.js';
import { assertNoSequenceGaps, NOW, sampleCounters, sampleFlows } from './helpers.js';

function decodeAll(datagrams: Buffer[], src = '127.0.0.2', receivedAtMs = NOW): CollectingSink {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const d of datagrams) decoder.decode(datagramOf(d, src, receivedAtMs), sink);
  return sink;
}

function assertTemplateFlows(sink: CollectingSink, flows: SyntheticFlow[], rate: number, version: number) {
  assert.deepEqual(sink.errors, []);
  assert.equal(sink.samplingUnknownCount, 0);
  assert.equal(sink.records.length, flows.length);
  for (let i = 0; i < flows.length; i++) {
    const f = flows[i];
    const r = sink.records[i];
    const where = `record ${i}`;
    assert.equal(r.flowversion, version, where);
    assert.equal(r.srcip, f.srcAddr, where);
    assert.equal(r.dstip, f.dstAddr, where);
    assert.equal(r.srcport, f.srcPort, where);
    assert.equal(r.dstport, f.dstPort, where);
    assert.equal(r.protocolint, f.protocol, where);
    assert.equal(r.ipversion, f.ipVersion, where);
    assert.equal(r.bits, f.bytes * 8, where);
    assert.equal(r.packets, f.packets, where);
    assert.equal(r.start, f.startMs, where);
    assert.equal(r.end, f.endMs, where);
    assert.equal(r.input, f.input, where);
    assert.equal(r.output, f.output, where);
    assert.equal(r.samplerate, rate, where);
    assert.equal(r.tos, f.tos, where);
    assert.equal(r.tcpflagsint, f.protocol === 6 ? f.tcpFlags : null, where);
    assert.equal(r.srcmask, f.srcMask, where);
    assert.equal(r.dstmask, f.dstMask, where);
    assert.equal(r.nexthop, f.nextHop, where);
    assert.equal(r.srcvlan, f.vlan, where);
  }
}

describe('demo NetFlow v9 encoder', () => {
  it('round-trips every field, the options sampling interval and the header times', () => {
    const bootMs = NOW - 3_600_000 - 123;
    const enc = new Netflow9Encoder({ sourceId: 7, samplingInterval: 100, bootMs });
    const flows = sampleFlows(200);
    const datagrams = enc.encode(flows, NOW);
    assert.ok(datagrams.length > 3);
    for (const d of datagrams) assert.ok(d.length <= 1400, `datagram of ${d.length} bytes`);
    const sink = decodeAll(datagrams);
    assertTemplateFlows(sink, flows, 100, 9);
    assert.equal(sink.records[0].uptime, Math.floor(NOW / 1000) * 1000 - bootMs);
    assert.equal(sink.sequences.length, datagrams.length);
    assert.ok(sink.sequences.every((s) => s.stream === 'v9:7'));
    assertNoSequenceGaps(sink);
  });

  it('sends templates first and again after the refresh interval, never an empty datagram', () => {
    const enc = new Netflow9Encoder({
      sourceId: 0,
      samplingInterval: 100,
      bootMs: NOW - 1000,
      templateRefreshMs: 5000,
    });
    const first = enc.encode([], NOW);
    assert.equal(first.length, 1);
    assert.equal(first[0].readUInt16BE(20), 0, 'template flowset first');
    assert.equal(first[0].readUInt16BE(2), 4, 'count: 2 templates, options template, options data');
    assert.deepEqual(enc.encode([], NOW + 1000), []);
    const later = enc.encode(sampleFlows(3), NOW + 2000);
    assert.equal(later[0].readUInt16BE(20), 256, 'data only');
    const refreshed = enc.encode(sampleFlows(3), NOW + 6000);
    assert.equal(refreshed[0].readUInt16BE(20), 0);
    // A decoder that missed the first templates decodes from the refresh on.
    const sink = decodeAll(refreshed, '127.0.0.2', NOW + 6000);
    assert.deepEqual(sink.errors, []);
    assert.equal(sink.records.length, 3);
    assert.equal(sink.records[0].samplerate, 100);
  });
});

describe('demo IPFIX encoder', () => {
  it('round-trips every field and the PSAMP sampling interval; sequence counts data records', () => {
    const enc = new IpfixEncoder({ observationDomainId: 3, samplingInterval: 1 });
    const flows = sampleFlows(150);
    const datagrams = [...enc.encode(flows.slice(0, 100), NOW), ...enc.encode(flows.slice(100), NOW + 500)];
    for (const d of datagrams) assert.ok(d.length <= 1400);
    const sink = decodeAll(datagrams);
    assertTemplateFlows(sink, flows, 1, 10);
    assertNoSequenceGaps(sink);
    // 150 flows + 1 options data record.
    assert.equal(enc.recordsSent, 151);
    assert.ok(sink.sequences.every((s) => s.stream === 'ipfix:3'));
  });

  it('announces 1-in-N as samplingPacketInterval 1 / samplingPacketSpace N-1', () => {
    const enc = new IpfixEncoder({ observationDomainId: 0, samplingInterval: 512 });
    const sink = decodeAll(enc.encode(sampleFlows(5), NOW));
    assert.deepEqual(sink.errors, []);
    assert.deepEqual(
      sink.records.map((r) => r.samplerate),
      [512, 512, 512, 512, 512],
    );
  });
});

describe('demo sFlow encoder', () => {
  it('flow samples decode to the sampled packet with rate, interfaces, VLAN, masks, next hop', () => {
    const enc = new SflowEncoder({
      agentAddress: '127.0.0.4',
      subAgentId: 1,
      samplingRate: 2048,
      bootMs: NOW - 60_000,
    });
    const flows = sampleFlows(60);
    const datagrams = enc.encode(flows, [sampleCounters(1), sampleCounters(49)], NOW);
    assert.ok(datagrams.length > 1);
    for (const d of datagrams) assert.ok(d.length <= 1400);
    const sink = decodeAll(datagrams, '127.0.0.1');
    assert.deepEqual(sink.errors, []);
    assert.equal(sink.records.length, flows.length);
    for (let i = 0; i < flows.length; i++) {
      const f = flows[i];
      const r = sink.records[i];
      const where = `sample ${i}`;
      assert.equal(r.flowsrcip, '127.0.0.4', where);
      assert.equal(r.flowtype, 'sflow', where);
      assert.equal(r.srcip, f.srcAddr, where);
      assert.equal(r.dstip, f.dstAddr, where);
      assert.equal(r.srcport, f.srcPort, where);
      assert.equal(r.dstport, f.dstPort, where);
      assert.equal(r.protocolint, f.protocol, where);
      assert.equal(r.tos, f.tos, where);
      assert.equal(r.tcpflagsint, f.protocol === 6 ? f.tcpFlags : null, where);
      assert.equal(r.bits, Math.round(f.bytes / f.packets) * 8, where);
      assert.equal(r.packets, 1, where);
      assert.equal(r.samplerate, 2048, where);
      assert.equal(r.input, f.input, where);
      assert.equal(r.output, f.output, where);
      assert.equal(r.srcvlan, f.vlan, where);
      assert.equal(r.srcmask, f.srcMask, where);
      assert.equal(r.dstmask, f.dstMask, where);
      assert.equal(r.nexthop, f.nextHop, where);
      assert.equal(r.uptime, 60_000, where);
    }
    assert.equal(sink.counterSamples.length, 2);
    const c = sink.counterSamples[1];
    assert.equal(c.agent, '127.0.0.4');
    assert.equal(c.ifIndex, 49);
    assert.equal(c.ifSpeed, 10_000_000_000);
    assert.equal(c.ifInOctets, 2 ** 40 + 49);
    assert.equal(c.ifInUcastPkts, 1_000_049);
    assert.equal(c.ifOutOctets, 2 ** 35 + 7);
    assert.equal(c.ifOutErrors, 4);
    assert.equal(c.ifOperUp, true);
    assert.equal(c.ifPromiscuousMode, false);
    assertNoSequenceGaps(sink);
    assert.deepEqual(
      sink.sequences.map((s) => s.sequence),
      datagrams.map((_, i) => i),
    );
  });
});
