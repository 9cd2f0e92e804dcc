import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { loopbackTarget, startDemoExporters } from '../../src/demo/demo-exporters.js';
import { normalizeExporterAddress } from '../../src/record/address.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { assertNoSequenceGaps } from './helpers.js';

describe('demo exporters', () => {
  it('send decodable NetFlow v9, IPFIX and sFlow to a local UDP socket for ~1 s, then stop', async () => {
    const socket = createSocket('udp4');
    const decoder = new FlowDecoder(defaultDecoderSettings());
    const sink = new CollectingSink();
    let received = 0;
    socket.on('message', (payload, info) => {
      received++;
      decoder.decode(
        {
          payload,
          srcAddress: normalizeExporterAddress(info.address),
          srcPort: info.port,
          dstPort: 0,
          receivedAtMs: Date.now(),
          connectionId: null,
        },
        sink,
      );
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const port = (socket.address() as AddressInfo).port;
    try {
      const demo = await startDemoExporters({
        target: { host: '127.0.0.1', port },
        ratePerSec: 400,
        seed: 9,
        attackAfterSec: 0.5,
        tickMs: 100,
      });
      await sleep(1100);
      const atStop = demo.stats();
      await demo.stop();
      await demo.stop(); // idempotent
      await sleep(200);
      const after = received;
      await sleep(300);
      assert.equal(received, after, 'nothing sent after stop()');
      assert.equal(atStop.sendErrors, 0);
      assert.equal(received, atStop.datagrams, 'every datagram arrived');
      // ~400 flows/s for ~1.1 s plus attack flows: bounded.
      assert.ok(atStop.flows > 250 && atStop.flows < 1200, `${atStop.flows} flows`);
      assert.equal(atStop.attackActive, true);
      assert.deepEqual(sink.errors, []);
      assert.equal(sink.samplingUnknownCount, 0);
      const byType = new Map<string, Set<number | null>>();
      for (const r of sink.records) {
        const key = `${r.flowtype}${r.flowversion}`;
        if (!byType.has(key)) byType.set(key, new Set());
        byType.get(key)?.add(r.samplerate);
      }
      assert.deepEqual(byType.get('netflow9'), new Set([100]));
      assert.deepEqual(byType.get('netflow10'), new Set([1]));
      assert.deepEqual(byType.get('sflow5'), new Set([256]));
      assert.equal(sink.records.length, atStop.flows);
      assert.ok(sink.counterSamples.length >= 9, 'switch interface counters');
      assert.ok(
        sink.records.some((r) => r.dstip === '10.1.20.5' && r.srcport === 123),
        'flood under way',
      );
      assertNoSequenceGaps(sink);
      const exporters = new Set(sink.datagrams.map((d) => d.exporter));
      assert.equal(exporters.size >= 2, true, [...exporters].join(','));
    } finally {
      socket.close();
    }
  });

  it('refuses every target that is not loopback, and rates out of bounds', async () => {
    for (const host of ['192.0.2.1', '0.0.0.0', '::', '10.0.0.1', 'example.com', '2001:db8::1', '']) {
      await assert.rejects(startDemoExporters({ target: { host, port: 2055 } }), /only to loopback/, host);
    }
    await assert.rejects(
      startDemoExporters({ target: { host: '127.0.0.1', port: 2055 }, ratePerSec: 1e9 }),
      /out of bounds/,
    );
    assert.equal(loopbackTarget('localhost'), '127.0.0.1');
    assert.equal(loopbackTarget('127.0.0.9'), '127.0.0.9');
    assert.equal(loopbackTarget('[::1]'), '::1');
  });
});
