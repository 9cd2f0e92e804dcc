import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { after, test } from 'node:test';
import { runDecode } from '../../src/cli/decode.js';
import type { LineSink } from '../../src/cli/line-writer.js';
import type { FlowgateConfig } from '../../src/config/types.js';
import { testConfig } from '../helpers/config.js';
import { corpusPath } from '../helpers/corpus.js';

const tmp = mkdtempSync(join(tmpdir(), 'flowgate-decode-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number;
  lines: Record<string, unknown>[];
  stderr: string;
}

async function decode(files: string[], config: FlowgateConfig = testConfig(), out?: LineSink): Promise<Run> {
  const o = new PassThrough();
  const e = new PassThrough();
  let stdout = '';
  let stderr = '';
  o.on('data', (c) => {
    stdout += c;
  });
  e.on('data', (c) => {
    stderr += c;
  });
  const code = await runDecode(files, config, { progress: false, out: out ?? o, err: e });
  const lines = stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines, stderr };
}

test('a NetFlow v5 pcap becomes one JSON line per record, with a summary on stderr', async () => {
  const run = await decode([corpusPath('netflow5/graylog_netflow5.pcap')]);
  assert.equal(run.code, 0);
  assert.equal(run.lines.length, 4);
  const first = run.lines[0];
  assert.equal(first.srcip, '192.168.1.100');
  assert.equal(first.dstip, '192.168.1.1');
  assert.equal(first.protocol, 'icmp');
  assert.equal(first.icmptype, 8);
  assert.equal(first.bits, 672);
  assert.equal(first.packets, 1);
  assert.equal(first.samplerate, 100);
  assert.equal(first.start, 1500985930055);
  assert.equal(first.timestamp, 1500986281);
  assert.equal(first.flowsrcip, '192.168.1.1');
  assert.equal(first.flowtype, 'netflow');
  assert.equal(first.flowversion, 5);
  const second = run.lines[1];
  assert.equal(second.protocol, 'udp');
  assert.equal(second.dstip, '239.255.255.250');
  assert.equal(second.dstport, 1900);
  assert.match(run.stderr, /decoded 1 file: 3 packets, 3 datagrams, 4 records; 0 not UDP, 0 malformed/);
  assert.match(run.stderr, /192\.168\.1\.1 \(netflow5\): 3 datagrams, 4 records; no errors/);
});

test('exporter settings from the config apply (sampling override by CIDR)', async () => {
  const config = testConfig({
    exporters: [
      {
        match: '10.0.0.0/8',
        name: null,
        site: null,
        samplerate: null,
        samplerateoverride: 7,
        keybyport: false,
        tags: [],
      },
      {
        match: '192.168.0.0/16',
        name: 'lab',
        site: null,
        samplerate: null,
        samplerateoverride: 1000,
        keybyport: false,
        tags: [],
      },
    ],
  });
  const run = await decode([corpusPath('netflow5/graylog_netflow5.pcap')], config);
  assert.deepEqual(
    run.lines.map((l) => l.samplerate),
    [1000, 1000, 1000, 1000],
  );
});

test('files decode in the order given: templates from one file apply to data in the next', async () => {
  const tpl = corpusPath('ipfix/logstash_ipfix_mikrotik_tpl.dat');
  const data = corpusPath('ipfix/logstash_ipfix_mikrotik_data258.dat');
  const inOrder = await decode([tpl, data]);
  assert.equal(inOrder.code, 0);
  assert.ok(inOrder.lines.length > 0, 'records after the template');
  assert.ok(inOrder.lines.every((l) => l.flowversion === 10));
  const reversed = await decode([data, tpl]);
  assert.equal(reversed.code, 0);
  assert.equal(reversed.lines.length, 0);
  assert.match(reversed.stderr, /template_unknown/);
});

test('an unreadable file: exit 2, the message on stderr, the other files still decoded', async () => {
  const missing = join(tmp, 'missing.pcap');
  const run = await decode([missing, corpusPath('netflow5/fluent_netflow.v5.dump')]);
  assert.equal(run.code, 2);
  assert.equal(run.lines.length, 1);
  assert.equal(run.lines[0].srcip, '10.0.0.11');
  assert.match(run.stderr, /cannot read capture file .*missing\.pcap: ENOENT/);
  assert.match(run.stderr, /missing\.pcap: NOT READ/);
});

test('decode errors are reported in the summary, not fatal', async () => {
  const run = await decode([corpusPath('netflow5/logstash_netflow5_invalid02.dat')]);
  assert.equal(run.code, 0);
  assert.equal(run.lines.length, 30);
  assert.match(run.stderr, /decode errors: bad_length 1/);
  assert.match(run.stderr, /last error: NetFlow v5 datagram from 0\.0\.0\.0 .* says 163 records/);
});

test('a slow reader gets every line (backpressure)', async () => {
  let received = '';
  const slow = new Writable({
    highWaterMark: 1024,
    write(chunk, _enc, cb) {
      received += chunk;
      setImmediate(cb);
    },
  });
  const run = await decode([corpusPath('netflow5/overflowd_netflow_4M.pcap')], testConfig(), slow);
  assert.equal(run.code, 0);
  const lines = received.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 78684);
  assert.equal(JSON.parse(lines[0]).srcip, '122.166.90.143');
  assert.equal(JSON.parse(lines[lines.length - 1]).flowsrcip, '122.166.4.242');
});

test('`| head`: a closed pipe ends the run quietly with exit 0', () => {
  const script = join(tmp, 'run.mts');
  const decodeModule = resolve('src/cli/decode.ts');
  const configModule = resolve('test/helpers/config.ts');
  writeFileSync(
    script,
    `import { runDecode } from ${JSON.stringify(decodeModule)};
import { testConfig } from ${JSON.stringify(configModule)};
process.exitCode = await runDecode(process.argv.slice(2), testConfig(), { progress: false });
`,
  );
  const file = corpusPath('netflow5/overflowd_netflow_4M.pcap');
  const res = spawnSync(
    'bash',
    ['-c', `node --import tsx "${script}" "${file}" | head -n 2; echo "node exit \${PIPESTATUS[0]}" >&2`],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(res.stdout.trim().split('\n').length, 2);
  assert.equal(JSON.parse(res.stdout.split('\n')[0]).srcip, '122.166.90.143');
  assert.match(res.stderr, /node exit 0/);
  assert.doesNotMatch(res.stderr, /EPIPE|Error/);
});

test('decode applies the configured enrichment: interface names from options data, tags, filters', async () => {
  const config = testConfig({ tags: [{ labels: ['sub-124'], inputnames: ['TenGigE0_0_0_16.124'] }] });
  const run = await decode(
    [corpusPath('ipfix/pmacct_112-IPFIXv10-CISCO-options-map-reassignment_traffic-00.pcap')],
    config,
  );
  assert.equal(run.code, 0);
  assert.equal(run.lines.length, 9);
  const tagged = run.lines.filter((l) => (l.tags as string[] | null)?.includes('sub-124'));
  assert.equal(tagged.length, 1);
  assert.equal(tagged[0]?.inputname, 'TenGigE0_0_0_16.124');
  assert.ok(run.lines.every((l) => typeof l.inputname === 'string'));
  const dropAll = testConfig({ filters: { defaultaction: 'drop', rules: [] } });
  assert.equal((await decode([corpusPath('netflow5/graylog_netflow5.pcap')], dropAll)).lines.length, 0);
});
