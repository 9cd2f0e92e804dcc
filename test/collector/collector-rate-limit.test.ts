/**
 * flow.ratelimit in the running collector, on both receive paths (sockets read on the main thread,
 * and a receiving thread): what is over a source's bucket is dropped before decode and counted per
 * source in /stats; other sources are not affected; the limits in force are reported.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { EchoDecoder, logCapture, sendUdp, testConfig, waitFor } from './helpers.js';

/** Datagrams from another loopback address (all of 127/8 is local on Linux). */
async function sendFrom(address: string, port: number, n: number): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  for (let i = 0; i < n; i++)
    await new Promise<void>((resolve, reject) =>
      s.send(Buffer.alloc(40), port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

for (const workers of [0, 1]) {
  test(`flow.ratelimit (workers ${workers}): one source over its bucket is limited, another is not`, async () => {
    const base = testConfig({});
    const { logger, lines } = logCapture();
    const c = await startCollector(
      {
        ...base,
        flow: { ...base.flow, workers, ratelimit: 5, rateburst: 20 },
        output: { ...base.output, discard: true },
      },
      logger,
      { decoder: new EchoDecoder() },
    );
    try {
      const port = c.listeners[0]?.port as number;
      // 200 at once from one source: the burst of 20 (and a token or two more while sending) pass.
      await sendUdp(
        '127.0.0.1',
        port,
        Array.from({ length: 200 }, () => Buffer.alloc(40)),
      );
      await waitFor(
        '200 accounted for',
        () => {
          const s = c.stats();
          return s.decode.datagrams + s.totals.rateLimited >= 200;
        },
        10_000,
      );
      // Another source, sending while the first one's bucket is empty, has a full bucket of its own.
      await sendFrom('127.0.0.2', port, 15);
      await waitFor(
        '15 more decoded',
        () => c.stats().decode.datagrams + c.stats().totals.rateLimited >= 215,
        10_000,
      );
      const s = c.stats();
      assert.equal(s.rateLimited['127.0.0.2'], undefined);
      assert.ok(s.decode.datagrams >= 35 && s.decode.datagrams <= 45, `${s.decode.datagrams} decoded`);
      assert.equal(s.rateLimited['127.0.0.1'], s.totals.rateLimited);
      assert.equal(s.decode.datagrams + s.totals.rateLimited, 215);
      assert.equal(s.limits.ratelimit, 5);
      assert.equal(s.limits.rateburst, 20);
      assert.equal(s.limits.maxtemplates, base.decode.maxtemplates);
      assert.equal(s.limits.tcpmessagetimeout, base.flow.tcpmessagetimeout);
      assert.equal(s.decode.templates, 0);
      // Said in the log too, once for the burst (then at most every 10 s).
      await waitFor(
        'the warning',
        () => lines.some((l) => String(l.msg).includes('over flow.ratelimit')),
        5000,
      );
      const warnings = lines.filter((l) => String(l.msg).includes('over flow.ratelimit'));
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]?.exporter, '127.0.0.1');
    } finally {
      await c.stop();
    }
  });
}
