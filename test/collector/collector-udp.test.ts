import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { corpusPath } from '../helpers/corpus.js';
import {
  decoderReady,
  EchoDecoder,
  MemoryOutput,
  quietLogger,
  sendUdp,
  testConfig,
  waitFor,
} from './helpers.js';

const V5 = readFileSync(corpusPath('netflow5/telegraf_netflow_v5_example_netflow_v5.bin'));

test('NetFlow v5 over UDP loopback: telegraf capture decoded with exporter 127.0.0.1', async (t) => {
  if (!decoderReady([V5])) return t.skip('NetFlow v5 decoder not landed yet');
  const output = new MemoryOutput();
  const c = await startCollector(testConfig({}), quietLogger, { output });
  try {
    await sendUdp('127.0.0.1', c.listeners[0].port, [V5]);
    await waitFor('the v5 datagram', () => c.stats().decode.datagrams === 1 || c.stats().received === 1);
    await c.flush();
    assert.equal(output.records.length, 8, 'telegraf_netflow_v5_example_netflow_v5.bin carries 8 flows');
    const r = output.records[0];
    assert.equal(r.flowsrcip, '127.0.0.1');
    assert.equal(r.srcip, '140.82.121.3');
    assert.equal(r.dstip, '192.168.119.100');
    assert.equal(r.srcport, 443);
    assert.equal(r.dstport, 55516);
    assert.equal(r.packets, 78);
    assert.equal(r.bits, 87477 * 8);
    assert.equal(r.protocolint, 6);
    assert.equal(output.records[7].srcip, '192.168.119.100');
    assert.equal(output.records[7].packets, 4);
    const s = c.stats();
    assert.equal(s.exporters.length, 1);
    assert.equal(s.exporters[0].address, '127.0.0.1');
    assert.equal(s.exporters[0].datagrams, 1);
    assert.equal(s.exporters[0].bytes, 408);
    assert.equal(s.exporters[0].records, 8);
  } finally {
    await c.stop();
  }
});

test('receiver on dual-stack [::]:0 reports IPv4 exporters as plain IPv4, IPv6 ones as IPv6', async () => {
  const output = new MemoryOutput();
  const decoder = new EchoDecoder();
  const c = await startCollector(testConfig({ flow: { listen: ['[::]:0'] } }), quietLogger, {
    output,
    decoder,
  });
  try {
    const port = c.listeners[0].port;
    assert.notEqual(port, 0);
    assert.match(c.listeners[0].address, /^\[::\]:\d+$/);
    await sendUdp('127.0.0.1', port, [Buffer.from('v4 exporter')]);
    await sendUdp('::1', port, [Buffer.from('v6 exporter!')], 6);
    await waitFor('two datagrams', () => c.stats().received === 2);
    await c.flush();
    const byAddress = new Map(output.records.map((r) => [r.flowsrcip, r]));
    assert.deepEqual([...byAddress.keys()].sort(), ['127.0.0.1', '::1']);
    assert.equal(byAddress.get('127.0.0.1')?.bits, 11 * 8);
    assert.equal(byAddress.get('127.0.0.1')?.dstport, port, 'dstPort is the local port');
    assert.equal(byAddress.get('::1')?.bits, 12 * 8);
  } finally {
    await c.stop();
  }
});

test('receiver on [::1]:0 (IPv6 only host address)', async () => {
  const output = new MemoryOutput();
  const c = await startCollector(testConfig({ flow: { listen: ['[::1]:0'] } }), quietLogger, {
    output,
    decoder: new EchoDecoder(),
  });
  try {
    await sendUdp('::1', c.listeners[0].port, [Buffer.from('x')], 6);
    await waitFor('one datagram', () => c.stats().received === 1);
    await c.flush();
    assert.equal(output.records[0].flowsrcip, '::1');
  } finally {
    await c.stop();
  }
});

test('allow-list: sources outside flow.allow are dropped before decode and counted per source', async () => {
  const output = new MemoryOutput();
  const decoder = new EchoDecoder();
  const c = await startCollector(
    testConfig({ flow: { allow: ['10.0.0.0/8', '2001:db8::/32'] } }),
    quietLogger,
    {
      output,
      decoder,
    },
  );
  try {
    await sendUdp('127.0.0.1', c.listeners[0].port, [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
    await waitFor('three refused datagrams', () => c.stats().totals.notAllowed === 3);
    await c.flush();
    const s = c.stats();
    assert.deepEqual(s.notAllowed, { '127.0.0.1': 3 });
    assert.equal(s.received, 0);
    assert.equal(decoder.seen.length, 0);
    assert.equal(output.records.length, 0);
    assert.equal(s.exporters.length, 0, 'refused sources are not exporters');
  } finally {
    await c.stop();
  }
  const ok = await startCollector(testConfig({ flow: { allow: ['127.0.0.0/8'] } }), quietLogger, {
    output,
    decoder: new EchoDecoder(),
  });
  try {
    await sendUdp('127.0.0.1', ok.listeners[0].port, [Buffer.from('a')]);
    await waitFor('one allowed datagram', () => ok.stats().received === 1);
    await ok.flush();
    assert.equal(output.records.length, 1);
    assert.equal(ok.stats().totals.notAllowed, 0);
  } finally {
    await ok.stop();
  }
});

test('a full datagram queue drops whole datagrams before decode, counted, memory bounded', async () => {
  const output = new MemoryOutput();
  const decoder = new EchoDecoder();
  decoder.busyMs = 2;
  const c = await startCollector(testConfig({ flow: { queue: 4 } }), quietLogger, { output, decoder });
  try {
    const client = dgram.createSocket('udp4');
    const port = c.listeners[0].port;
    // A burst: every send issued before the collector gets to read any of them.
    await Promise.all(
      Array.from(
        { length: 60 },
        (_, i) =>
          new Promise<void>((resolve, reject) =>
            client.send(Buffer.from(`datagram ${i}`), port, '127.0.0.1', (err) =>
              err ? reject(err) : resolve(),
            ),
          ),
      ),
    );
    client.close();
    await waitFor('60 datagrams received or dropped', () => c.stats().received === 60);
    await c.flush();
    const s = c.stats();
    assert.ok(s.queue.drops > 0, `expected queue drops with a queue of 4, got ${JSON.stringify(s.queue)}`);
    assert.ok(s.queue.highWater <= 4);
    assert.equal(s.decode.datagrams + s.queue.drops, 60);
    assert.equal(decoder.seen.length, s.decode.datagrams);
    assert.equal(output.records.length, s.decode.datagrams);
  } finally {
    await c.stop();
  }
});

test('JSON lines to output.file: one line per record, appended, flushed at stop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-collect-'));
  const file = join(dir, 'flows.jsonl');
  try {
    const c = await startCollector(testConfig({ output: { file, batchsize: 1000 } }), quietLogger, {
      decoder: new EchoDecoder(),
    });
    await sendUdp('127.0.0.1', c.listeners[0].port, [Buffer.from('12345'), Buffer.from('1234567')]);
    await waitFor('two datagrams', () => c.stats().received === 2);
    await c.stop(); // the partial batch of 2 (< batchsize) must be written by stop
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 2);
    const first = JSON.parse(lines[0]);
    assert.equal(first.flowsrcip, '127.0.0.1');
    assert.equal(first.bits, 40);
    assert.equal(JSON.parse(lines[1]).bits, 56);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('general.downsample 3 keeps whole flows (by flow key) with weight 3, the same ones every time', async () => {
  const output = new MemoryOutput();
  const c = await startCollector(testConfig({ general: { downsample: 3 } }), quietLogger, { output });
  try {
    // The same 8 flows, three times.
    await sendUdp('127.0.0.1', c.listeners[0].port, [V5, V5, V5]);
    await waitFor('three datagrams', () => c.stats().decode.datagrams === 3);
    await c.flush();
    const kept = output.records.length;
    assert.equal(kept % 3, 0, 'each kept flow is kept in all three copies');
    assert.ok(kept > 0 && kept < 24, `${kept} of 24 records kept`);
    assert.ok(output.records.every((r) => r.weight === 3));
    assert.equal(c.stats().totals.records, 24);
    assert.equal(c.stats().totals.downsampled, 24 - kept);
    const keys = output.records.map((r) => `${r.srcip} ${r.srcport} ${r.dstip} ${r.dstport}`);
    assert.equal(new Set(keys).size, kept / 3);
  } finally {
    await c.stop();
  }
});

test('a port already in use fails with a message naming the address', async () => {
  const a = await startCollector(testConfig({}), quietLogger, {
    output: new MemoryOutput(),
    decoder: new EchoDecoder(),
  });
  try {
    const taken = `127.0.0.1:${a.listeners[0].port}`;
    await assert.rejects(
      startCollector(testConfig({ flow: { listen: [taken] } }), quietLogger, { output: new MemoryOutput() }),
      (err: Error) => err.message.includes(`udp ${taken}`) && err.message.includes('already in use'),
    );
  } finally {
    await a.stop();
  }
});

test('stats: listeners report the bound port and the receive buffer the kernel granted', async () => {
  const c = await startCollector(testConfig({ flow: { listen: ['127.0.0.1:0', '[::1]:0'] } }), quietLogger, {
    output: new MemoryOutput(),
    decoder: new EchoDecoder(),
  });
  try {
    const s = c.stats();
    assert.equal(s.listeners.length, 2);
    for (const l of s.listeners) {
      assert.equal(l.transport, 'udp');
      assert.ok(l.port > 0);
      assert.equal(l.recvBufferRequested, 262_144);
      assert.ok(l.recvBufferActual !== null && l.recvBufferActual > 0);
    }
    assert.equal(s.listeners[0].address, `127.0.0.1:${s.listeners[0].port}`);
    assert.equal(s.listeners[1].address, `[::1]:${s.listeners[1].port}`);
    JSON.stringify(s); // JSON-able
  } finally {
    await c.stop();
  }
});

test('sFlow over UDP: the agent address is the exporter; interface counters land in stats', async () => {
  const counters = readFileSync(corpusPath('sflow/logstash_sflow_counters_sample.dat'));
  const flows = readFileSync(corpusPath('sflow/logstash_sflow_flow_sample.dat'));
  const output = new MemoryOutput();
  const c = await startCollector(testConfig({}), quietLogger, { output });
  try {
    await sendUdp('127.0.0.1', c.listeners[0].port, [counters, flows]);
    await waitFor('two sFlow datagrams', () => c.stats().received === 2);
    await c.flush();
    const s = c.stats();
    // logstash_sflow_counters_sample.dat: agent 10.243.29.150, 9 generic interface counter records
    assert.equal(s.interfaces.length, 9);
    const if80 = s.interfaces.find((i) => i.agent === '10.243.29.150' && i.ifIndex === 80);
    assert.equal(if80?.ifInOctets, 39096809265);
    assert.equal(if80?.ifSpeed, 1_000_000_000);
    // logstash_sflow_flow_sample.dat: agent 10.1.240.66, one flow sample 1-in-2048
    assert.equal(output.records.length, 1);
    assert.equal(output.records[0].flowsrcip, '10.1.240.66');
    assert.equal(output.records[0].srcip, '10.243.27.17');
    assert.equal(output.records[0].samplerate, 2048);
    assert.deepEqual(s.exporters.map((e) => [e.address, e.protocol, e.datagrams, e.bytes]).sort(), [
      ['10.1.240.66', 'sflow5', 1, 276],
      ['10.243.29.150', 'sflow5', 1, 1304],
    ]);
  } finally {
    await c.stop();
  }
});
