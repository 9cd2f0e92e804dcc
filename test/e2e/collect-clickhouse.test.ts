/**
 * `flowgate collect` into ClickHouse, end to end with real processes on loopback: softflowd
 * exports a scenario pcap (NetFlow v9) to the collector, which writes every record to a JSON
 * lines file (the ground truth) and to a ClickHouse 18.16 server started here (store.engine
 * clickhouse). The store must hold exactly the file's records, and the API must answer from it.
 * (That the password never shows is tested on the store itself, test/store/clickhouse-store.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { replaySoftflowd } from '../../eval/detection/replay.js';
import { generateScenario } from '../../eval/detection/scenarios.js';
import {
  CollectorProcess,
  fileRecords,
  waitFor,
  waitForOutputFile,
} from '../deliver/collector-ingest-helpers.js';
import { ApiClient } from '../helpers/api-client.js';
import { type ClickHouseServer, clickhouseSkip, startClickHouse } from '../helpers/clickhouse-server.js';
import { commandExists, freePort } from '../helpers/traffic.js';

const skip =
  clickhouseSkip ||
  (commandExists('softflowd') ? false : 'softflowd is not installed (Debian package softflowd)');

describe('flowgate collect into ClickHouse (softflowd → collector → clickhouse-server 18.16)', {
  skip,
}, () => {
  let dir = '';
  let server: ClickHouseServer | null = null;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-ch-e2e-'));
    server = await startClickHouse();
  });
  after(async () => {
    await server?.dispose();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('stores every record the collector decoded, and the API answers from ClickHouse', async () => {
    const ch = server as ClickHouseServer;
    const ports = { udp: await freePort('udp'), api: await freePort('tcp') };
    const output = join(dir, 'flows.jsonl');
    const config = join(dir, 'flowgate.json');
    writeFileSync(
      config,
      JSON.stringify({
        general: { datadir: join(dir, 'data') },
        flow: { listen: [`127.0.0.1:${ports.udp}`] },
        detection: { enabled: false },
        api: { enabled: true, listen: `127.0.0.1:${ports.api}` },
        output: { file: output },
        store: { engine: 'clickhouse', clickhouse: { url: ch.url, database: 'flowgate_e2e' } },
      }),
    );
    const pcaps = mkdtempSync(join(dir, 'pcaps-'));
    const pcap = generateScenario('busy-web-server', pcaps).pcapPath;
    const collector = await CollectorProcess.start(config, ports.api);
    try {
      await replaySoftflowd(pcap, { port: ports.udp, version: 9, timeoutMs: 30_000 });
      const lines = await waitForOutputFile(collector, output);
      assert.ok(lines > 100, `softflowd exported flows (${lines})`);
      const api = new ApiClient(`http://127.0.0.1:${ports.api}`);
      await waitFor(
        'every record in ClickHouse',
        async () => (await api.storeStats())?.recordsWritten === lines,
        20_000,
      );
      const store = await api.storeStats();
      assert.equal(store?.name, 'clickhouse');
      assert.equal(store?.drops, 0);

      const records = fileRecords(output);
      // The scenario's flows are years old (the capture clock): everything up to tomorrow.
      const range = { fromMs: 0, toMs: Date.now() + 86_400_000 };
      const exporters = await api.exporters(range);
      assert.equal(
        exporters.reduce((n, e) => n + e.records, 0),
        lines,
        'the store holds as many records as the file',
      );
      const fileBits = records.reduce((n, r) => n + Number(r.bits), 0);
      const top = await api.top({ range, dimension: 'protocol', metric: 'bits', limit: 10 });
      assert.equal(
        top.reduce((n, r) => n + r.bits, 0),
        fileBits,
        'the bits ClickHouse sums are those of the file',
      );
      const flows = await api.get<{ flows: unknown[] }>('/api/flows', {
        from: range.fromMs,
        to: range.toMs,
        limit: 5,
      });
      assert.equal(flows.flows.length, 5);
    } finally {
      assert.equal(await collector.terminate(), 0, `SIGTERM: exit code 0\n${collector.log()}`);
    }
  });
});
