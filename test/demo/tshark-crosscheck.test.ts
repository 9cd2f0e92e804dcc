/**
 * The demo encoders against tshark (Wireshark's cflow and sflow dissectors) as an independent
 * decoder: no malformed packet anywhere, and the key fields of every record as written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { IpfixEncoder } from '../../src/demo/encode/ipfix-encoder.js';
import { Netflow9Encoder } from '../../src/demo/encode/netflow9-encoder.js';
import { SflowEncoder } from '../../src/demo/encode/sflow-encoder.js';
import type { SyntheticFlow } from '../../src/demo/synthetic-flow.js';
import { TrafficModel } from '../../src/demo/traffic-model.js';
import { datagramOf } from '../helpers/datagram.js';
import {
  cflowDatagrams,
  type KeyRecord,
  sflowDatagrams,
  toolAvailable,
  tsharkJson,
  writeUdpPcap,
} from '../helpers/tshark.js';
import { NOW, sampleCounters, sampleFlows } from './helpers.js';

const haveTshark = toolAvailable('tshark');
const work = mkdtempSync(join(tmpdir(), 'flowgate-demo-tshark-'));
after(() => rmSync(work, { recursive: true, force: true }));

const PORT = 2055;

function pcapOf(name: string, datagrams: Buffer[], src: string): string {
  const file = join(work, `${name}.pcap`);
  writeUdpPcap(
    file,
    datagrams.map((d) => datagramOf(d, src, NOW)),
    PORT,
  );
  return file;
}

/** Wireshark expert severities (epan/proto.h): PI_WARN 0x00600000, PI_ERROR 0x00800000. */
const EXPERT_WARN = 0x00600000;

/**
 * Frames tshark found malformed or warned about, from whole-packet JSON (every layer, no -J
 * filter, so an exception anywhere shows as _ws.malformed). The cflow dissector warns about
 * "Unexpected flow sequence" per domain: a second, independent check of sequence numbers.
 */
function malformedFrames(file: string, proto: 'cflow' | 'sflow'): number[] {
  const res = spawnSync('tshark', ['-r', file, '-T', 'json', '-d', `udp.port==${PORT},${proto}`], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 60_000,
  });
  assert.equal(res.status, 0, res.stderr);
  const packets = JSON.parse(res.stdout) as unknown[];
  const bad: number[] = [];
  packets.forEach((p, i) => {
    const text = JSON.stringify(p);
    const severities = [...text.matchAll(/"_ws\.expert\.severity":"(\d+)"/g)].map((m) => Number(m[1]));
    if (text.includes('_ws.malformed') || severities.some((v) => v >= EXPERT_WARN)) bad.push(i + 1);
  });
  assert.equal(packets.length > 0, true);
  return bad;
}

function assertKeyFields(got: KeyRecord, f: SyntheticFlow, where: string, sampled: boolean): void {
  assert.equal(got.srcip, f.srcAddr, where);
  assert.equal(got.dstip, f.dstAddr, where);
  assert.equal(got.srcport, f.srcPort, where);
  assert.equal(got.dstport, f.dstPort, where);
  assert.equal(got.protocol, f.protocol, where);
  assert.equal(got.input, f.input, where);
  assert.equal(got.output, f.output, where);
  if (sampled) {
    assert.equal(got.bytes, Math.max(64, Math.round(f.bytes / f.packets)), where);
  } else {
    assert.equal(got.bytes, f.bytes, where);
    assert.equal(got.packets, f.packets, where);
    assert.equal(got.start, f.startMs, where);
    assert.equal(got.end, f.endMs, where);
  }
}

/** Hand-made flows plus a stretch of the demo's own traffic with the attack in it. */
function flowsFor(protocol: 'netflow9' | 'ipfix' | 'sflow5'): SyntheticFlow[] {
  const model = new TrafficModel({ seed: 11, startMs: NOW - 5000, attackAfterSec: 2 });
  const exporter = model.exporters.find((e) => e.protocol === protocol);
  assert.ok(exporter);
  return [...sampleFlows(40), ...model.flows(exporter, 80, NOW)];
}

describe('demo encoders cross-checked with tshark', { skip: !haveTshark && 'tshark not installed' }, () => {
  it('NetFlow v9: no malformed packet; key fields and times match; options record seen', () => {
    const flows = flowsFor('netflow9');
    const enc = new Netflow9Encoder({ sourceId: 0, samplingInterval: 100, bootMs: NOW - 86_400_000 });
    const file = pcapOf('v9', enc.encode(flows, NOW), '127.0.0.2');
    assert.deepEqual(malformedFrames(file, 'cflow'), []);
    const dgs = cflowDatagrams(tsharkJson(file, [PORT], 'cflow'));
    assert.ok(dgs.every((d) => !d.malformed && d.setsWithoutTemplate === 0));
    assert.equal(dgs[0].optionsRecords, 1);
    // Header count is every record of the packet (templates, options, data): RFC 3954 section 5.1.
    assert.ok(dgs.every((d) => d.headerCount === d.parsedRecords));
    const records = dgs.flatMap((d) => d.records);
    assert.equal(records.length, flows.length);
    for (const [i, r] of records.entries()) assertKeyFields(r, flows[i], `v9 record ${i}`, false);
  });

  it('IPFIX: no malformed packet; key fields and absolute times match; PSAMP options record seen', () => {
    const flows = flowsFor('ipfix');
    const enc = new IpfixEncoder({ observationDomainId: 1, samplingInterval: 1 });
    const file = pcapOf('ipfix', enc.encode(flows, NOW), '127.0.0.3');
    assert.deepEqual(malformedFrames(file, 'cflow'), []);
    const dgs = cflowDatagrams(tsharkJson(file, [PORT], 'cflow'));
    assert.ok(dgs.every((d) => !d.malformed && d.setsWithoutTemplate === 0));
    assert.equal(dgs[0].optionsRecords, 1);
    const records = dgs.flatMap((d) => d.records);
    assert.equal(records.length, flows.length);
    for (const [i, r] of records.entries()) assertKeyFields(r, flows[i], `IPFIX record ${i}`, false);
  });

  it('sFlow: no malformed packet; sampled headers, rate, interfaces and counter samples match', () => {
    const flows = flowsFor('sflow5');
    const enc = new SflowEncoder({
      agentAddress: '127.0.0.4',
      subAgentId: 0,
      samplingRate: 2048,
      bootMs: NOW - 1000,
    });
    const file = pcapOf(
      'sflow',
      enc.encode(flows, [sampleCounters(1), sampleCounters(49)], NOW),
      '127.0.0.4',
    );
    assert.deepEqual(malformedFrames(file, 'sflow'), []);
    const dgs = sflowDatagrams(tsharkJson(file, [PORT], 'sflow'));
    assert.ok(dgs.every((d) => !d.malformed));
    assert.equal(
      dgs.reduce((s, d) => s + d.counterSamples, 0),
      2,
    );
    // tshark names flow samples "seq N" per source: equal names in one datagram are merged into
    // one JSON array (--no-duplicate-keys), which reorders them; compare in a stable order.
    const key = (srcip: string | null, srcport: number | null, dstport: number | null) =>
      `${srcip}|${srcport}|${dstport}`;
    const records = dgs
      .flatMap((d) => d.records)
      .sort((a, b) => key(a.srcip, a.srcport, a.dstport).localeCompare(key(b.srcip, b.srcport, b.dstport)));
    const expected = [...flows].sort((a, b) =>
      key(a.srcAddr, a.srcPort, a.dstPort).localeCompare(key(b.srcAddr, b.srcPort, b.dstPort)),
    );
    assert.equal(records.length, flows.length);
    records.forEach((r, i) => {
      assert.equal(r.samplerate, 2048);
      assertKeyFields(r, expected[i], `sFlow sample ${i}`, true);
    });
  });
});
