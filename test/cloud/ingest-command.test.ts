import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type IngestCommandOptions, runIngest } from '../../src/cli/ingest.js';
import { runCli } from '../../src/cli/program.js';
import type { CloudProvider } from '../../src/cloud/parse-flow-log.js';
import { testConfig } from '../helpers/config.js';
import { S3RVER_ACCESS_KEY_ID, S3RVER_SECRET_ACCESS_KEY, startS3Server } from '../helpers/s3-server.js';

/** `flowgate ingest`: the cloud samples through a reader, the parser and enrichment to JSON lines. */

const SAMPLES = join(import.meta.dirname, '..', '..', '..', 'shared', 'testdata', 'cloud');
const tmp = mkdtempSync(join(tmpdir(), 'flowgate-ingest-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number;
  lines: Record<string, unknown>[];
  stderr: string;
}

async function ingest(
  provider: CloudProvider,
  source: string,
  opts: Partial<IngestCommandOptions> = {},
): Promise<Run> {
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
  const code = await runIngest(provider, source, testConfig(), {
    progress: false,
    out: o,
    err: e,
    env: {},
    ...opts,
  });
  const lines = stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines, stderr };
}

/** A folder holding copies of one provider's samples (copied at run time, never into the repository). */
function sampleFolder(provider: CloudProvider, skip: (name: string) => boolean = () => false): string {
  const dir = join(tmp, `${provider}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(join(SAMPLES, provider)))
    if (!skip(f)) copyFileSync(join(SAMPLES, provider, f), join(dir, f));
  return dir;
}

test('aws folder: every sample file once, records as JSON lines with flowtype aws, summary on stderr', async () => {
  const dir = sampleFolder('aws', (f) => f.includes('transit-gateway'));
  const run = await ingest('aws', dir);
  assert.equal(run.code, 0, run.stderr);
  // 4 + 1 + 4 + 5 + 1 records in the five files with a header or a default layout.
  assert.equal(run.lines.length, 15);
  assert.ok(run.lines.every((r) => r.flowtype === 'aws' && r.flowsrcname === 'aws'));
  assert.ok(run.lines.some((r) => r.action === 'reject'));
  assert.match(
    run.stderr,
    /5 pieces .* 15 records \(15 written, 0 filtered\), 8 skipped on purpose, 0 rejected, 0 read errors/,
  );
});

test('aws --format reads a headerless custom layout; without it the line is rejected and reported', async () => {
  const file = join(tmp, 'tgw.log');
  copyFileSync(join(SAMPLES, 'aws', 'beats_custom-transit-gateway.log'), file);
  const bare = await ingest('aws', file);
  assert.equal(bare.code, 0);
  assert.equal(bare.lines.length, 0);
  assert.match(bare.stderr, /tgw\.log: line 1: /);
  assert.match(bare.stderr, /1 rejected/);
  const format =
    'version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr action log-status';
  const run = await ingest('aws', file, { format });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.lines.length, 1);
  assert.equal(run.lines[0]?.flowtype, 'aws');
});

test('gzip objects are read like text; gcp and azure samples give their record counts', async () => {
  const dir = join(tmp, 'gz');
  mkdirSync(dir);
  const src = readdirSync(join(SAMPLES, 'gcp'))[0] as string;
  writeFileSync(
    join(dir, 'gcp.json.gz'),
    gzipSync(Buffer.from(readdirSync(join(SAMPLES, 'gcp')).length > 0 ? '' : '')),
  );
  rmSync(join(dir, 'gcp.json.gz'));
  copyFileSync(join(SAMPLES, 'gcp', src), join(dir, 'plain.json'));
  const gcp = await ingest('gcp', dir);
  assert.equal(gcp.code, 0, gcp.stderr);
  assert.equal(gcp.lines.length, 8);
  assert.ok(gcp.lines.every((r) => r.flowtype === 'gcp'));
  const azure = await ingest('azure', sampleFolder('azure'));
  assert.equal(azure.code, 0, azure.stderr);
  assert.equal(azure.lines.length, 14 + 24);
  assert.ok(azure.lines.every((r) => r.flowtype === 'azure'));
});

test('--checkpoint: a second run reads only what arrived since the first', async () => {
  const dir = sampleFolder('aws', (f) => !f.startsWith('beats_accept') && !f.startsWith('beats_ipv6'));
  const checkpoint = join(tmp, 'aws.checkpoint.json');
  const first = await ingest('aws', dir, { checkpoint });
  assert.equal(first.lines.length, 5);
  const again = await ingest('aws', dir, { checkpoint });
  assert.equal(again.lines.length, 0, 'nothing new: nothing repeated');
  copyFileSync(join(SAMPLES, 'aws', 'integrations_test-extra-samples.log'), join(dir, 'later.log'));
  const third = await ingest('aws', dir, { checkpoint });
  assert.equal(third.lines.length, 5);
});

test('s3://bucket/prefix against an S3-compatible server: gzip objects in the AWSLogs layout, credentials from the environment', async () => {
  const s3 = await startS3Server(['flowlogs']);
  try {
    const prefix = 'AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/24/';
    for (const f of ['beats_accept-reject-traffic.log', 'integrations_test-extra-samples.log']) {
      await s3.client.send(
        new PutObjectCommand({
          Bucket: 'flowlogs',
          Key: `${prefix}123456789012_vpcflowlogs_eu-west-1_fl-0_20261124T1200Z_${f.slice(0, 8)}.log.gz`,
          Body: gzipSync(readFileSync(join(SAMPLES, 'aws', f))),
        }),
      );
    }
    const env = { AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: S3RVER_SECRET_ACCESS_KEY };
    const checkpoint = join(tmp, 's3.checkpoint.json');
    const run = await ingest('aws', 's3://flowlogs/AWSLogs/', { endpoint: s3.endpoint, env, checkpoint });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.lines.length, 4 + 5);
    assert.match(run.stderr, /^s3:\/\/flowlogs\/AWSLogs\/: 2 pieces/m);
    const again = await ingest('aws', 's3://flowlogs/AWSLogs/', { endpoint: s3.endpoint, env, checkpoint });
    assert.equal(again.lines.length, 0);
    const denied = await ingest('aws', 's3://flowlogs/AWSLogs/', {
      endpoint: s3.endpoint,
      env: { AWS_ACCESS_KEY_ID: 'someone', AWS_SECRET_ACCESS_KEY: 'not-the-secret-1234' },
    });
    assert.notEqual(denied.code, 0);
    assert.ok(!denied.stderr.includes('not-the-secret-1234'), denied.stderr);
  } finally {
    await s3.stop();
  }
});

test('a source that does not exist, a bad provider and a bad scheme: exit 1 with a message', async () => {
  const missing = await ingest('aws', join(tmp, 'nope'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope: no such file or folder/);
  const scheme = await ingest('aws', 'gs://bucket/x');
  assert.equal(scheme.code, 1);
  assert.match(scheme.stderr, /unknown scheme/);
  const azure = await ingest('azure', 'azure://flowlogs/');
  assert.equal(azure.code, 1);
  assert.match(azure.stderr, /AZURE_STORAGE_CONNECTION_STRING/);
  let err = '';
  const code = await runCli(['node', 'flowgate', 'ingest', 'oracle', tmp], {
    err: (s) => (err += s),
    out: () => true,
  });
  assert.equal(code, 1);
  assert.match(err, /provider must be aws, gcp or azure/);
});
