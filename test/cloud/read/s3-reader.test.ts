/**
 * The S3 reader end to end against s3rver (a real S3-compatible server in a child process on
 * 127.0.0.1): the AWS samples uploaded under the AWSLogs layout, some gzipped here, read through
 * the SDK and parsed with parseAwsFlowLog.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parseAwsFlowLog } from '../../../src/cloud/aws-flow-log.js';
import { Checkpoint } from '../../../src/cloud/read/checkpoint.js';
import type { FlowLogPiece, ReadOptions } from '../../../src/cloud/read/flow-log-reader.js';
import { S3Reader, type S3ReaderOptions } from '../../../src/cloud/read/s3-reader.js';
import {
  S3RVER_ACCESS_KEY_ID,
  S3RVER_SECRET_ACCESS_KEY,
  type S3Server,
  startS3Server,
} from '../../helpers/s3-server.js';

const DIR = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'testdata', 'cloud', 'aws');
const BUCKET = 'flow-logs';

/** The samples that parse without a `format` option, with their record counts (test/cloud/aws-flow-log.test.ts). */
const SAMPLES = [
  { file: 'beats_accept-reject-traffic.log', records: 4, gzip: true },
  { file: 'beats_ipv6.log', records: 1, gzip: false },
  { file: 'integrations_test-ecs-samples.log', records: 4, gzip: true },
  { file: 'integrations_test-extra-samples.log', records: 5, gzip: false },
  { file: 'integrations_test-v5-all-fields.log', records: 1, gzip: true },
] as const;

let s3: S3Server;
let tmp: string;

before(async () => {
  s3 = await startS3Server([BUCKET]);
  tmp = await mkdtemp(join(tmpdir(), 'flowgate-s3-reader-'));
});
after(async () => {
  await s3?.stop();
  await rm(tmp, { recursive: true, force: true });
});

/** `<prefix>AWSLogs/<account>/vpcflowlogs/us-east-1/2024/05/<day>/…_<stamp>_….log[.gz]`, as AWS names them. */
function awsKey(prefix: string, day: number, hhmm: string, gzip: boolean, account = '123456789012'): string {
  const dd = String(day).padStart(2, '0');
  const name = `${account}_vpcflowlogs_us-east-1_fl-0abc1234_202405${dd}T${hhmm}Z_0a1b2c3d.log${gzip ? '.gz' : ''}`;
  return `${prefix}AWSLogs/${account}/vpcflowlogs/us-east-1/2024/05/${dd}/${name}`;
}

function sampleBody(file: string, gzip: boolean): Buffer {
  const text = readFileSync(join(DIR, file));
  return gzip ? gzipSync(text) : text;
}

async function put(key: string, body: Buffer): Promise<void> {
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function remove(key: string): Promise<void> {
  await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
}

/**
 * Uploads the samples under `prefix`, sample i dated day 1 + i, so that neither the upload order
 * nor the key order (accounts 999… down to 555…) is the date order.
 */
async function uploadSamples(prefix: string): Promise<string[]> {
  const keys = SAMPLES.map((s, i) => awsKey(prefix, 1 + i, '0005', s.gzip, String(9 - i).repeat(12)));
  for (let i = SAMPLES.length - 1; i >= 0; i--) {
    const s = SAMPLES[i]!;
    await put(keys[i]!, sampleBody(s.file, s.gzip));
  }
  return keys;
}

function reader(prefix: string, checkpoint: Checkpoint, extra: Partial<S3ReaderOptions> = {}): S3Reader {
  return new S3Reader({
    bucket: BUCKET,
    prefix,
    endpoint: s3.endpoint,
    accessKeyId: S3RVER_ACCESS_KEY_ID,
    secretAccessKey: S3RVER_SECRET_ACCESS_KEY,
    checkpoint,
    pollMs: 100,
    ...extra,
  });
}

interface Collected {
  pieces: FlowLogPiece[];
  errors: { source: string; message: string }[];
}

/** Runs `r` once (or following until `signal` aborts), collecting pieces and errors. */
async function collect(
  r: S3Reader,
  options: Partial<ReadOptions> = {},
  into?: Collected,
): Promise<Collected> {
  const got: Collected = into ?? { pieces: [], errors: [] };
  await r.run(
    async (p) => {
      got.pieces.push(p);
    },
    {
      follow: false,
      onError: (source, err) => got.errors.push({ source, message: err.message }),
      ...options,
    },
  );
  return got;
}

function recordCount(pieces: readonly FlowLogPiece[]): number {
  let n = 0;
  for (const p of pieces) {
    const res = parseAwsFlowLog(p.data);
    assert.deepEqual(res.errors, [], `${p.source} parses without errors`);
    n += res.records.length;
  }
  return n;
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const src = (key: string): string => `s3://${BUCKET}/${key}`;

test('reads each flow-log object once, oldest first by the date in the key, gzip kept; other keys skipped', async () => {
  const prefix = 'once/';
  const keys = await uploadSamples(prefix);
  // Not flow logs: another service's log under AWSLogs/, AWS's write test object, a Parquet file, a note.
  await put(`${prefix}AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/trail.json.gz`, gzipSync('{}'));
  await put(`${prefix}AWSLogs/123456789012/aws-logs-write-test`, Buffer.from('Permission Check Successful'));
  await put(awsKey(prefix, 9, '0000', false).replace(/\.log$/, '.parquet'), Buffer.from('PAR1'));
  await put(`${prefix}README.txt`, Buffer.from('not a flow log'));

  const cp = Checkpoint.open(null);
  const r = reader(prefix, cp);
  const pending = await r.pending();
  assert.deepEqual(
    pending.map((p) => p.source),
    keys.map(src),
  );
  assert.deepEqual(
    pending.map((p) => p.bytes),
    SAMPLES.map((s) => sampleBody(s.file, s.gzip).length),
    'pending sizes are the stored sizes',
  );

  const got = await collect(r);
  assert.deepEqual(got.errors, []);
  assert.deepEqual(
    got.pieces.map((p) => p.source),
    keys.map(src),
    'oldest first',
  );
  for (const [i, p] of got.pieces.entries()) {
    assert.deepEqual(
      p.data,
      sampleBody(SAMPLES[i]!.file, SAMPLES[i]!.gzip),
      `${p.source} delivered as stored`,
    );
  }
  assert.equal(got.pieces[0]!.data[0], 0x1f, 'gzip stays compressed');
  assert.equal(
    recordCount(got.pieces),
    SAMPLES.reduce((n, s) => n + s.records, 0),
  );
  assert.deepEqual(r.stats, {
    objects: SAMPLES.length,
    bytes: got.pieces.reduce((n, p) => n + p.data.length, 0),
    errors: 0,
  });
  assert.deepEqual([...cp.names()].sort(), [...keys].sort(), 'checkpointed by key');
  const first = cp.get(keys[0]!)!;
  assert.equal(first.offset, first.size);
  assert.match(first.tag, /^"[0-9a-f]{32}"$/, 'the ETag');

  assert.deepEqual(await r.pending(), []);
  const again = await collect(r);
  assert.equal(again.pieces.length, 0, 'nothing read twice');
});

test('pattern: keys it matches are read whatever their name', async () => {
  const prefix = 'pattern/';
  const flow = awsKey(prefix, 1, '0000', false);
  await put(flow, sampleBody('beats_ipv6.log', false));
  await put(`${prefix}exports/vpc-2024-05-01.txt`, sampleBody('integrations_test-extra-samples.log', false));
  await put(`${prefix}exports/notes.txt`, Buffer.from('no'));
  const got = await collect(reader(prefix, Checkpoint.open(null), { pattern: /\/vpc-[^/]*\.txt$/ }));
  assert.deepEqual(
    got.pieces.map((p) => p.source).sort(),
    [flow, `${prefix}exports/vpc-2024-05-01.txt`].map(src).sort(),
  );
  assert.equal(recordCount(got.pieces), 6);
});

test('more than one listing page', async () => {
  const prefix = 'pages/';
  const keys = await uploadSamples(prefix);
  const got = await collect(reader(prefix, Checkpoint.open(null), { pageSize: 2 }));
  assert.deepEqual(
    got.pieces.map((p) => p.source),
    keys.map(src),
  );
});

test('following: an object uploaded while running is picked up, each delivered once; abort ends the run', async () => {
  const prefix = 'follow/';
  const keys = await uploadSamples(prefix);
  const ac = new AbortController();
  const got: Collected = { pieces: [], errors: [] };
  const running = collect(reader(prefix, Checkpoint.open(null)), { follow: true, signal: ac.signal }, got);
  await until('the first objects', () => got.pieces.length === keys.length);
  const late = awsKey(prefix, 20, '1010', true);
  await put(late, sampleBody('beats_accept-reject-traffic.log', true));
  await until('the late object', () => got.pieces.some((p) => p.source === src(late)));
  // A few more polls: nothing is delivered twice.
  await new Promise((r) => setTimeout(r, 400));
  ac.abort();
  await running;
  assert.deepEqual(
    got.pieces.map((p) => p.source),
    [...keys, late].map(src),
  );
  assert.deepEqual(got.errors, []);
});

test('restart with the same checkpoint file: a failed delivery stops the run, the next run reads only what is new', async () => {
  const prefix = 'restart/';
  const keys = await uploadSamples(prefix);
  const path = join(tmp, 'restart.json');

  const delivered: string[] = [];
  await assert.rejects(
    reader(prefix, Checkpoint.open(path)).run(
      async (p) => {
        if (delivered.length === 2) throw new Error('output down');
        delivered.push(p.source);
      },
      { follow: false },
    ),
    /output down/,
  );
  assert.deepEqual(delivered, keys.slice(0, 2).map(src));

  const late = awsKey(prefix, 21, '0000', false);
  await put(late, sampleBody('beats_ipv6.log', false));
  const got = await collect(reader(prefix, Checkpoint.open(path)));
  assert.deepEqual(
    got.pieces.map((p) => p.source),
    [...keys.slice(2), late].map(src),
    'neither skipped nor repeated',
  );
  const third = await collect(reader(prefix, Checkpoint.open(path)));
  assert.equal(third.pieces.length, 0);
});

test('an object overwritten with new content (new ETag) is read again; the same content is not', async () => {
  const prefix = 'overwrite/';
  const key = awsKey(prefix, 1, '0000', false);
  await put(key, sampleBody('beats_ipv6.log', false));
  const cp = Checkpoint.open(null);
  const r = reader(prefix, cp);
  assert.equal((await collect(r)).pieces.length, 1);
  const tag = cp.get(key)!.tag;

  await put(key, sampleBody('beats_ipv6.log', false));
  assert.equal((await collect(r)).pieces.length, 0, 'same bytes, same ETag');

  await put(key, sampleBody('integrations_test-extra-samples.log', false));
  const got = await collect(r);
  assert.equal(got.pieces.length, 1);
  assert.equal(recordCount(got.pieces), 5, 'the new content');
  assert.notEqual(cp.get(key)!.tag, tag);
});

test('the prefix limits what is read; since skips older day folders; deleted keys leave the checkpoint', async () => {
  const a = await uploadSamples('tenant-a/');
  await uploadSamples('tenant-b/');
  const cp = Checkpoint.open(null);
  const got = await collect(reader('tenant-a/', cp, { since: new Date(Date.UTC(2024, 4, 3, 12)) }));
  assert.deepEqual(
    got.pieces.map((p) => p.source),
    a.slice(2).map(src),
    'only tenant-a, and only from the day of `since` on',
  );

  await remove(a[2]!);
  await collect(reader('tenant-a/', cp));
  assert.equal(cp.get(a[2]!), undefined, 'pruned');
  assert.deepEqual([...cp.names()].sort(), [...a.slice(0, 2), ...a.slice(3)].sort());
});

test('an object that cannot be read is reported with its source and the others are still read', async () => {
  const prefix = 'vanish/';
  const keys = await uploadSamples(prefix);
  const cp = Checkpoint.open(null);
  const r = reader(prefix, cp);
  const got: Collected = { pieces: [], errors: [] };
  await r.run(
    async (p) => {
      got.pieces.push(p);
      // Deleted between the listing and its GetObject: what a 403 or a dropped connection also looks like.
      if (p.source === src(keys[0]!)) await remove(keys[1]!);
    },
    { follow: false, onError: (source, err) => got.errors.push({ source, message: err.message }) },
  );
  assert.deepEqual(
    got.pieces.map((p) => p.source),
    [keys[0]!, ...keys.slice(2)].map(src),
  );
  assert.equal(got.errors.length, 1);
  assert.equal(got.errors[0]!.source, src(keys[1]!));
  assert.match(got.errors[0]!.message, /NoSuchKey/);
  assert.equal(cp.get(keys[1]!), undefined, 'not marked done');
  assert.equal(r.stats.errors, 1);
});

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET';

test('wrong credentials: a clear error naming bucket and endpoint, without the secret', async () => {
  const errors: { source: string; message: string }[] = [];
  const r = new S3Reader({
    bucket: BUCKET,
    prefix: 'once/',
    endpoint: s3.endpoint,
    accessKeyId: 'AKIAWRONGKEY0000',
    secretAccessKey: SECRET,
    checkpoint: Checkpoint.open(null),
  });
  await assert.rejects(
    r.run(async () => {}, {
      follow: false,
      onError: (source, err) => errors.push({ source, message: err.message }),
    }),
    (e: Error) => {
      assert.match(e.message, new RegExp(`s3://${BUCKET}/once/`));
      assert.ok(e.message.includes(s3.endpoint), e.message);
      assert.match(e.message, /InvalidAccessKeyId.*HTTP 403/);
      assert.ok(!e.message.includes(SECRET));
      assert.ok(!e.message.includes('AKIAWRONGKEY0000'));
      return true;
    },
  );
  assert.deepEqual(
    errors.map((e) => e.source),
    [`s3://${BUCKET}/once/`],
  );
  assert.ok(!errors[0]!.message.includes(SECRET));
  assert.equal(r.stats.errors, 1);
  await assert.rejects(r.pending(), /InvalidAccessKeyId/);
});

async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

test('wrong endpoint: once rejects naming bucket and endpoint; following reports and retries until aborted', async () => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const options: S3ReaderOptions = {
    bucket: BUCKET,
    endpoint,
    accessKeyId: S3RVER_ACCESS_KEY_ID,
    secretAccessKey: SECRET,
    checkpoint: Checkpoint.open(null),
    pollMs: 50,
  };
  await assert.rejects(
    new S3Reader(options).run(async () => {}, { follow: false }),
    (e: Error) => {
      assert.ok(e.message.includes(`s3://${BUCKET}/`), e.message);
      assert.ok(e.message.includes(endpoint), e.message);
      assert.match(e.message, /ECONNREFUSED/);
      assert.ok(!e.message.includes(SECRET));
      return true;
    },
  );

  const ac = new AbortController();
  const errors: string[] = [];
  const running = new S3Reader(options).run(async () => {}, {
    follow: true,
    signal: ac.signal,
    onError: (source) => errors.push(source),
  });
  await until('two failed listings', () => errors.length >= 2);
  ac.abort();
  await running;
  assert.ok(errors.every((s) => s === `s3://${BUCKET}/`));
});

test('abort while waiting for the next poll resolves the run without waiting for the poll', async () => {
  const prefix = 'abort/';
  await uploadSamples(prefix);
  const ac = new AbortController();
  const got: Collected = { pieces: [], errors: [] };
  let resolved = false;
  const running = collect(
    reader(prefix, Checkpoint.open(null), { pollMs: 3_600_000 }),
    { follow: true, signal: ac.signal },
    got,
  ).then(() => {
    resolved = true;
  });
  await until('the first pass', () => got.pieces.length === SAMPLES.length);
  ac.abort();
  // An hour's poll interval: only the abort can end the run within this wait.
  await until('the run to resolve after abort', () => resolved, 10_000);
  await running;
});
