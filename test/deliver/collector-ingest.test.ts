/**
 * The collector's delivery to an HTTP ingest API, end to end with real processes on loopback:
 * softflowd exports a scenario pcap (NetFlow v9) to `flowgate collect`, which writes every record
 * to a JSON lines file (the ground truth) and uploads it to ingest-receiver.mjs. The receiver is
 * killed, answers 500, 429 and slowly; the collector is stopped with the backend down and
 * SIGKILLed with a torn frame at the end of its spool. After each, the receiver must hold the
 * file's records in the file's order, each once (after its de-duplication by batch id).
 */
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { replaySoftflowd } from '../../eval/detection/replay.js';
import { generateScenario } from '../../eval/detection/scenarios.js';
import { Spool } from '../../src/deliver/spool/spool.js';
import { commandExists, freePort } from '../helpers/traffic.js';
import {
  assertSameRecords,
  CollectorProcess,
  fileRecords,
  receivedRows,
  untilDelivered,
  waitFor,
  waitForOutputFile,
  writeCollectorConfig,
} from './collector-ingest-helpers.js';
import { Receiver } from './ingest-receiver-process.js';

const skip = commandExists('softflowd') ? false : 'softflowd is not installed (Debian package softflowd)';

/** softflowd -r: exports the whole pcap as fast as it reads it, then exits. */
async function exportPcap(pcap: string, udpPort: number): Promise<void> {
  await replaySoftflowd(pcap, { port: udpPort, version: 9, timeoutMs: 30_000 });
}

describe('collector to an HTTP ingest API (softflowd → flowgate collect → ingest-receiver)', { skip }, () => {
  let pcaps = '';
  let webServer = '';
  let dnsResolver = '';
  before(() => {
    pcaps = mkdtempSync(join(tmpdir(), 'flowgate-ingest-e2e-pcaps-'));
    webServer = generateScenario('busy-web-server', pcaps).pcapPath;
    dnsResolver = generateScenario('dns-resolver', pcaps).pcapPath;
  });
  after(() => {
    if (pcaps !== '') rmSync(pcaps, { recursive: true, force: true });
  });

  /** Per test: a temp dir and every process it starts, all removed in `finally`. */
  async function withWorkspace(
    body: (w: { dir: string; receivers: Receiver[]; collectors: CollectorProcess[] }) => Promise<void>,
  ): Promise<void> {
    const w = {
      dir: mkdtempSync(join(tmpdir(), 'flowgate-ingest-e2e-')),
      receivers: [] as Receiver[],
      collectors: [] as CollectorProcess[],
    };
    try {
      await body(w);
    } catch (err) {
      const logs = w.collectors.map(
        (c, i) => `--- collector #${i + 1} log (tail) ---\n${c.log().slice(-3000)}`,
      );
      throw new Error(`${(err as Error).message}\n${logs.join('\n')}`, { cause: err });
    } finally {
      await Promise.all([...w.collectors.map((c) => c.kill()), ...w.receivers.map((r) => r.kill())]);
      rmSync(w.dir, { recursive: true, force: true });
    }
  }

  it('an outage, 500s, 429s and a slow backend lose nothing: every record once, in order', async () => {
    await withWorkspace(async ({ dir, receivers, collectors }) => {
      const out = join(dir, 'received.jsonl');
      const first = await Receiver.start(out, 0);
      receivers.push(first);
      const { files, ports } = await writeCollectorConfig(dir, `http://127.0.0.1:${first.port}/ingest`);
      const collector = await CollectorProcess.start(files.config, ports.api);
      collectors.push(collector);

      await exportPcap(webServer, ports.udp);
      const linesA = await waitForOutputFile(collector, files.output);
      await waitFor('scenario A at the receiver', () => receivedRows(out).length >= linesA, 20_000);
      assert.equal((await collector.stats()).ingest.spooledRecords, 0, 'a healthy backend: nothing spooled');

      await first.kill();
      await exportPcap(dnsResolver, ports.udp);
      const lines = await waitForOutputFile(collector, files.output);
      assert.ok(lines > linesA, `scenario B added records to the output file (${linesA} → ${lines})`);
      await waitFor(
        'scenario B in the spool',
        async () => {
          const s = (await collector.stats()).ingest;
          return s.pendingRecords === 0 && s.batchesInMemory === 0 && s.spool?.records === lines - linesA;
        },
        20_000,
        () => `(${lines - linesA} records of scenario B in the output file)`,
      );
      const spooled = lines - linesA;

      // Restarted on the same port: 500 until one request got it (at least a second), then 429
      // with Retry-After until one got that, then answers slower than the uploader's timeout
      // (the receiver still stores the batch: the retry is a duplicate), then ok.
      const receiver = await Receiver.start(out, first.port);
      receivers.push(receiver);
      await receiver.control({ mode: '500' });
      const phaseStart = Date.now();
      const saw = async (status: number) => (await receiver.counts()).log.some((e) => e.status === status);
      await waitFor(
        'a request answered 500',
        async () => (await saw(500)) && Date.now() - phaseStart >= 1000,
        20_000,
      );
      await receiver.control({ mode: '429', retryAfter: 1 });
      await waitFor('a request answered 429', () => saw(429), 20_000);
      await receiver.control({ mode: 'slow', delayMs: 1500 });
      await waitFor(
        'a timed-out batch sent again',
        async () => (await receiver.counts()).duplicates > 0,
        20_000,
      );
      await receiver.control({ mode: 'ok' });

      await waitFor(
        'every record at the receiver',
        () => receivedRows(out).length >= lines,
        30_000,
        () => {
          return `(${receivedRows(out).length} of ${lines})`;
        },
      );
      await waitFor(
        'the spool to drain',
        async () => (await collector.stats()).ingest.spool?.batches === 0,
        20_000,
      );
      const stats = (await collector.stats()).ingest;
      const counts = await receiver.counts();
      assertSameRecords(receivedRows(out), fileRecords(files.output));
      assert.equal(stats.droppedRecords, 0, 'the uploader dropped nothing');
      assert.equal(stats.replayedRecords, spooled, 'what was spooled was replayed');
      assert.ok(counts.duplicates > 0, 'the retried slow batch reached the receiver twice (de-duplicated)');

      assert.equal(await collector.terminate(), 0, 'SIGTERM: exit code 0');
      assertSameRecords(receivedRows(out), fileRecords(files.output));
    });
  });

  it('SIGTERM while the backend is down keeps the records for the next start', async () => {
    await withWorkspace(async ({ dir, receivers, collectors }) => {
      const out = join(dir, 'received.jsonl');
      const receiverPort = await freePort('tcp');
      const { files, ports } = await writeCollectorConfig(dir, `http://127.0.0.1:${receiverPort}/ingest`);
      const down = await CollectorProcess.start(files.config, ports.api);
      collectors.push(down);

      await exportPcap(dnsResolver, ports.udp);
      assert.equal(await down.terminate(), 0, `SIGTERM with the backend down: exit code 0\n${down.log()}`);
      const lines = fileRecords(files.output).length;
      assert.ok(lines > 0, 'the collector wrote the records it had before stopping');

      receivers.push(await Receiver.start(out, receiverPort));
      const again = await CollectorProcess.start(files.config, ports.api);
      collectors.push(again);
      await untilDelivered(again, out, lines);
      assert.equal(fileRecords(files.output).length, lines, 'the restart added no records to the file');
      assertSameRecords(receivedRows(out), fileRecords(files.output));
      assert.equal(await again.terminate(), 0);
    });
  });

  it('SIGKILL with a torn frame at the end of the spool: the whole batches are delivered once', async () => {
    await withWorkspace(async ({ dir, receivers, collectors }) => {
      const out = join(dir, 'received.jsonl');
      const receiverPort = await freePort('tcp');
      const { files, ports } = await writeCollectorConfig(dir, `http://127.0.0.1:${receiverPort}/ingest`);
      const crashed = await CollectorProcess.start(files.config, ports.api);
      collectors.push(crashed);

      await exportPcap(webServer, ports.udp);
      const lines = await waitForOutputFile(crashed, files.output);
      await waitFor(
        'every record in the spool',
        async () => {
          const s = (await crashed.stats()).ingest;
          return s.spooledRecords === lines && s.spool?.records === lines;
        },
        20_000,
        () => `(${lines} in the file)`,
      );
      await crashed.kill();

      // The crash tore the last append: the first 20 bytes of a frame (its prefix and the start of
      // its header) at the end of the newest segment.
      const segments = readdirSync(files.spool)
        .filter((f) => f.endsWith('.spool'))
        .sort();
      assert.ok(segments.length > 0, 'the spool has a segment');
      const newest = join(files.spool, segments[segments.length - 1]);
      appendFileSync(newest, readFileSync(newest).subarray(0, 20));

      // Counted on a copy, so that the collector itself meets the torn tail.
      const copy = join(dir, 'spool-copy');
      cpSync(files.spool, copy, { recursive: true });
      const probe = await Spool.open({ dir: copy, maxBytes: 1024 ** 3, whenFull: 'dropoldest' });
      const held = probe.stats();
      await probe.close();
      assert.equal(held.tornSkipped, 1, 'the torn frame is found');
      assert.equal(held.records, lines, 'the spool holds every record of the output file');

      receivers.push(await Receiver.start(out, receiverPort));
      const again = await CollectorProcess.start(files.config, ports.api);
      collectors.push(again);
      await untilDelivered(again, out, lines);
      const stats = (await again.stats()).ingest;
      assert.equal(stats.spool?.tornSkipped, 1, 'the restarted collector cut the torn frame away');
      assert.equal(stats.replayedBatches, held.batches, 'every whole batch was replayed');
      assert.equal(stats.replayedRecords, held.records);
      const rows = receivedRows(out);
      assert.ok(
        rows.every((r) => typeof r.record === 'object' && r.record !== null && 'flowtype' in r.record),
        'no garbage reached the receiver',
      );
      assertSameRecords(rows, fileRecords(files.output));
      // Nothing more arrives later (a batch replayed twice under another id would).
      await sleep(500);
      assert.equal(receivedRows(out).length, lines);
      assert.equal(await again.terminate(), 0);
    });
  });
});
