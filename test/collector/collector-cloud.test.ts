/**
 * `cloud.sources`: the collector follows a folder of flow logs continuously, records go through
 * the same enrichment and outputs as decoded ones, /stats counts them, and a restart continues
 * from the checkpoint without repeating or skipping a file.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import type { CloudSourceConfig, FlowgateConfig } from '../../src/config/types.js';
import { MemoryOutput, quietLogger, testConfig, waitFor } from './helpers.js';

const SAMPLES = join(import.meta.dirname, '..', '..', '..', 'shared', 'testdata', 'cloud');
const tmp = mkdtempSync(join(tmpdir(), 'flowgate-collector-cloud-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cloudConfig(datadir: string, sources: Partial<CloudSourceConfig>[]): FlowgateConfig {
  const base = testConfig({ general: { datadir } });
  return {
    ...base,
    flow: { ...base.flow, listen: [] },
    cloud: {
      sources: sources.map((s) => ({
        name: 'vpc',
        provider: 'aws',
        source: '',
        format: null,
        poll: 1,
        endpoint: null,
        region: 'us-east-1',
        accesskeyid: null,
        secretaccesskey: null,
        connectionstring: null,
        pattern: null,
        ...s,
      })),
    },
  };
}

test('a followed folder: files present and added later are collected once; a restart repeats nothing', async () => {
  const datadir = join(tmp, 'data');
  const logs = join(tmp, 'aws');
  const azureLogs = join(tmp, 'azure');
  mkdirSync(logs);
  mkdirSync(azureLogs);
  copyFileSync(join(SAMPLES, 'aws', 'beats_accept-reject-traffic.log'), join(logs, 'a.log'));
  copyFileSync(
    join(SAMPLES, 'azure', 'integrations_nsg_sample_logs_testdata.log'),
    join(azureLogs, 'PT1H.json'),
  );
  const config = cloudConfig(datadir, [
    { name: 'prod-vpc', source: logs },
    { name: 'nsg', provider: 'azure', source: azureLogs },
  ]);
  const out = new MemoryOutput();
  let c = await startCollector(config, quietLogger, { output: out });
  try {
    await waitFor('first files', () => c.stats().cloud.reduce((n, s) => n + s.records, 0) === 4 + 14, 15_000);
    // A file that arrives while the collector runs.
    copyFileSync(join(SAMPLES, 'aws', 'integrations_test-extra-samples.log'), join(logs, 'b.log'));
    await waitFor('the new file', () => (c.stats().cloud[0]?.records ?? 0) === 9, 15_000);
    await c.flush();
    const aws = out.records.filter((r) => r.flowtype === 'aws');
    assert.equal(aws.length, 9);
    assert.ok(aws.every((r) => r.flowsrcname === 'prod-vpc'));
    assert.equal(out.records.filter((r) => r.flowtype === 'azure' && r.flowsrcname === 'nsg').length, 14);
    const st = c.stats().cloud;
    assert.deepEqual(
      st.map((s) => [s.name, s.provider, s.pieces, s.parseErrors, s.readErrors]),
      [
        ['prod-vpc', 'aws', 2, 0, 0],
        ['nsg', 'azure', 1, 0, 0],
      ],
    );
  } finally {
    await c.stop();
  }
  assert.ok(existsSync(join(datadir, 'cloud', 'prod-vpc.checkpoint.json')));

  // Restart: one more file arrived while it was down.
  copyFileSync(join(SAMPLES, 'aws', 'beats_ipv6.log'), join(logs, 'c.log'));
  const again = new MemoryOutput();
  c = await startCollector(config, quietLogger, { output: again });
  try {
    await waitFor('the file that came while down', () => (c.stats().cloud[0]?.records ?? 0) === 1, 15_000);
    // Give the readers a further poll to (wrongly) read old files again.
    await new Promise((r) => setTimeout(r, 2500));
    await c.flush();
    assert.equal(again.records.length, 1, 'only c.log: nothing read twice');
    assert.equal(again.records[0]?.flowtype, 'aws');
    assert.equal(c.stats().cloud[1]?.records, 0);
  } finally {
    await c.stop();
  }
});

test('a cloud source that cannot be opened stops the start with its name', async () => {
  const config = cloudConfig(join(tmp, 'data2'), [{ name: 'typo', source: join(tmp, 'no-such-folder') }]);
  await assert.rejects(
    startCollector(config, quietLogger, { output: new MemoryOutput() }),
    /cloud source typo: .*no such file or folder/,
  );
});
