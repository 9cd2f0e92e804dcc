import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { parseAwsFlowLog } from '../../../src/cloud/aws-flow-log.js';
import { parseAzureFlowLog } from '../../../src/cloud/azure-flow-log.js';
import { parseGcpFlowLog } from '../../../src/cloud/gcp-flow-log.js';
import { Checkpoint } from '../../../src/cloud/read/checkpoint.js';
import { FileReader } from '../../../src/cloud/read/file-reader.js';
import type { FlowLogPiece } from '../../../src/cloud/read/flow-log-reader.js';
import { FolderReader } from '../../../src/cloud/read/folder-reader.js';

const SAMPLES = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'testdata', 'cloud');
const sample = (cloud: string, name: string): Buffer => readFileSync(join(SAMPLES, cloud, name));

const root = mkdtempSync(join(tmpdir(), 'flowgate-folder-reader-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
/** A fresh folder per test, under the one temporary root removed at the end. */
function freshDir(): string {
  const d = join(root, `t${++dirs}`);
  mkdirSync(d);
  return d;
}

/** An hour ago, plus `n` seconds: settled, and ordered by n. */
const OLD = Math.floor(Date.now() / 1000) - 3600;
function put(path: string, data: string | Buffer, ageOrder: number): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  utimesSync(path, OLD + ageOrder, OLD + ageOrder);
  return path;
}

function collector(): { pieces: FlowLogPiece[]; deliver: (p: FlowLogPiece) => Promise<void> } {
  const pieces: FlowLogPiece[] = [];
  return {
    pieces,
    deliver: async (p) => {
      pieces.push(p);
    },
  };
}

/** Resolves when `check` holds, polling; fails the test (not a speed assertion) after a generous guard. */
async function until(check: () => boolean, what: string, guardMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > guardMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function recordsIn(piece: FlowLogPiece): number {
  const parse = piece.source.includes('/gcp/')
    ? parseGcpFlowLog
    : piece.source.includes('/azure/')
      ? parseAzureFlowLog
      : parseAwsFlowLog;
  const res = parse(piece.data);
  assert.deepEqual(res.errors, [], piece.source);
  return res.records.length;
}

test('the AWS, GCP and Azure samples in a folder tree: each file once, oldest first, parsing to the expected records', async () => {
  const dir = freshDir();
  const aws = join(dir, 'AWSLogs', '123456789010', 'vpcflowlogs', 'us-east-1', '2024', '01');
  // name, content, records; AWS exports to S3 are gzip (the parser gunzips), so most are gzipped here.
  const files: [string, Buffer, number][] = [
    [join(aws, '01', 'accept-reject.log.gz'), gzipSync(sample('aws', 'beats_accept-reject-traffic.log')), 4],
    [join(aws, '01', 'ipv6.log.gz'), gzipSync(sample('aws', 'beats_ipv6.log')), 1],
    [join(aws, '02', 'ecs.log'), sample('aws', 'integrations_test-ecs-samples.log'), 4],
    [join(aws, '02', 'extra.log.gz'), gzipSync(sample('aws', 'integrations_test-extra-samples.log')), 5],
    [join(aws, '03', 'v5.log'), sample('aws', 'integrations_test-v5-all-fields.log'), 1],
    [join(dir, 'gcp', 'entries.json'), sample('gcp', 'beats_vpc-flow-log-entries_part1.json.log'), 8],
    [join(dir, 'azure', 'nsg.json'), sample('azure', 'integrations_nsg_sample_logs_testdata.log'), 14],
    [join(dir, 'azure', 'vnet.json'), sample('azure', 'integrations_vnet_sample_logs_testdata.log'), 24],
  ];
  // Oldest first is by mtime, not by name: give them mtimes in reverse name order for some.
  const order = [3, 1, 2, 0, 4, 7, 5, 6];
  for (const [i, [path, data]] of files.entries()) put(path, data, order[i] as number);
  // Writers in progress and hidden files are not flow logs yet.
  put(join(dir, '.hidden.log'), 'garbage', 0);
  put(join(aws, '03', 'upload.log.gz.part'), 'garbage', 0);
  put(join(aws, '03', 'copy.log.tmp'), 'garbage', 0);
  put(join(dir, 'gcp', 'more.json.partial'), 'garbage', 0);
  // The checkpoint may live in the folder it tracks.
  const checkpointPath = join(dir, 'progress.json');

  const reader = new FolderReader(dir, { checkpoint: Checkpoint.open(checkpointPath) });
  const pending = await reader.pending();
  assert.equal(pending.length, files.length);
  assert.equal(
    pending.reduce((n, p) => n + p.bytes, 0),
    files.reduce((n, [, d]) => n + d.length, 0),
  );

  const { pieces, deliver } = collector();
  await reader.run(deliver, { follow: false });
  const byAge = files.map((f, i) => ({ path: f[0], age: order[i] as number })).sort((a, b) => a.age - b.age);
  assert.deepEqual(
    pieces.map((p) => p.source),
    byAge.map((f) => f.path),
    'each file once, oldest first',
  );
  for (const [path, data, records] of files) {
    const piece = pieces.find((p) => p.source === path);
    assert.ok(piece, path);
    assert.deepEqual(piece.data, data, `${path}: the whole file, gzip still compressed`);
    assert.equal(recordsIn(piece), records, `${path}: records`);
  }
  assert.deepEqual(reader.stats, {
    objects: files.length,
    bytes: files.reduce((n, [, d]) => n + d.length, 0),
    pieces: files.length,
    errors: 0,
    rewritten: 0,
  });
  assert.deepEqual(await reader.pending(), []);

  const again = new FolderReader(dir, { checkpoint: Checkpoint.open(checkpointPath) });
  const second = collector();
  await again.run(second.deliver, { follow: false });
  assert.deepEqual(second.pieces, [], 'a restart reads nothing again');
});

test('pattern and recursive narrow what is read', async () => {
  const dir = freshDir();
  put(join(dir, 'top.log'), sample('aws', 'beats_ipv6.log'), 1);
  put(join(dir, 'notes.txt'), 'not a flow log\n', 2);
  put(join(dir, 'sub', 'deep.log'), sample('aws', 'beats_ipv6.log'), 3);

  const flat = collector();
  await new FolderReader(dir, { checkpoint: Checkpoint.open(null), recursive: false }).run(flat.deliver, {
    follow: false,
  });
  assert.deepEqual(
    flat.pieces.map((p) => p.source),
    [join(dir, 'top.log'), join(dir, 'notes.txt')],
  );

  const logs = collector();
  await new FolderReader(dir, { checkpoint: Checkpoint.open(null), pattern: /^sub\/.*\.log$/ }).run(
    logs.deliver,
    { follow: false },
  );
  assert.deepEqual(
    logs.pieces.map((p) => p.source),
    [join(dir, 'sub', 'deep.log')],
  );
});

test('follow: files added while running are picked up after the first poll', async () => {
  const dir = freshDir();
  const first = put(join(dir, 'a.log'), sample('aws', 'beats_accept-reject-traffic.log'), 1);
  const reader = new FolderReader(dir, { checkpoint: Checkpoint.open(null), pollMs: 50, settleMs: 200 });
  const { pieces, deliver } = collector();
  const ac = new AbortController();
  const run = reader.run(deliver, { follow: true, signal: ac.signal });
  await until(() => pieces.length === 1, 'the first file');
  assert.equal(pieces[0]?.source, first);

  const added = join(dir, '2024', '06', 'b.log.gz');
  mkdirSync(dirname(added), { recursive: true });
  writeFileSync(added, gzipSync(sample('aws', 'integrations_test-extra-samples.log')));
  const third = join(dir, 'gcp', 'c.json');
  mkdirSync(dirname(third));
  writeFileSync(third, sample('gcp', 'beats_vpc-flow-log-entries_part1.json.log'));
  await until(() => pieces.length === 3, 'the two added files');
  ac.abort();
  await run;
  assert.deepEqual(pieces.map((p) => p.source).sort(), [first, added, third].sort());
  assert.deepEqual(pieces.map(recordsIn).sort(), [4, 5, 8]);
});

test('a file still being written is not read until it has settled', async () => {
  const dir = freshDir();
  const path = join(dir, 'growing.log');
  const lines = sample('aws', 'beats_accept-reject-traffic.log').toString('utf8');
  const reader = new FolderReader(dir, { checkpoint: Checkpoint.open(null), pollMs: 50, settleMs: 800 });
  let writing = true;
  const seenWhileWriting: string[] = [];
  const pieces: FlowLogPiece[] = [];
  const ac = new AbortController();
  const run = reader.run(
    async (p) => {
      if (writing) seenWhileWriting.push(p.source);
      pieces.push(p);
    },
    { follow: true, signal: ac.signal },
  );
  // Written in small chunks, a line cut in the middle, as a slow copy would: no read may see it.
  writeFileSync(path, '');
  for (let i = 0; i < lines.length; i += 40) {
    appendFileSync(path, lines.slice(i, i + 40));
    await sleep(60);
  }
  writing = false;
  await until(() => pieces.length === 1, 'the settled file');
  ac.abort();
  await run;
  assert.deepEqual(seenWhileWriting, [], 'nothing delivered while the file grew');
  assert.equal(pieces.length, 1);
  assert.equal(pieces[0]?.data.toString('utf8'), lines, 'the whole file in one piece');
  assert.equal(recordsIn(pieces[0] as FlowLogPiece), 4);
});

test('restart mid-way: a failed delivery stops the run, and a new reader delivers exactly the rest', async () => {
  const dir = freshDir();
  const checkpointPath = join(root, `restart-${dirs}.json`);
  const paths: string[] = [];
  for (let i = 0; i < 6; i++) {
    paths.push(put(join(dir, `day${i}`, `flows-${i}.log`), sample('aws', 'beats_ipv6.log'), i));
  }
  const firstRun: string[] = [];
  const reader = new FolderReader(dir, { checkpoint: Checkpoint.open(checkpointPath) });
  await assert.rejects(
    reader.run(
      async (p) => {
        if (firstRun.length === 2) throw new Error('output down');
        firstRun.push(p.source);
      },
      { follow: false },
    ),
    /output down/,
  );
  assert.deepEqual(firstRun, paths.slice(0, 2));

  const restarted = new FolderReader(dir, { checkpoint: Checkpoint.open(checkpointPath) });
  assert.deepEqual(
    (await restarted.pending()).map((p) => p.source),
    paths.slice(2),
  );
  const { pieces, deliver } = collector();
  await restarted.run(deliver, { follow: false });
  const secondRun = pieces.map((p) => p.source);
  assert.deepEqual(secondRun, paths.slice(2), 'the piece that failed and the ones after it');
  assert.deepEqual([...firstRun, ...secondRun], paths, 'none twice, none missed');
});

test('appended lines are delivered once, on their own; gzip that grew and a file that shrank are read whole again', async () => {
  const dir = freshDir();
  const gcpLines = sample('gcp', 'beats_vpc-flow-log-entries_part1.json.log').toString('utf8').split('\n');
  const ndjson = put(join(dir, 'gcp', 'live.json'), `${gcpLines.slice(0, 5).join('\n')}\n`, 1);
  const awsLines = sample('aws', 'beats_accept-reject-traffic.log').toString('utf8').split('\n');
  const awsLive = put(join(dir, 'aws-live.log'), `${awsLines.slice(0, 2).join('\n')}\n`, 2);
  const gz = put(join(dir, 'export.log.gz'), gzipSync(sample('aws', 'beats_ipv6.log')), 3);
  const cp = Checkpoint.open(join(root, `append-${dirs}.json`));
  const reader = new FolderReader(dir, { checkpoint: cp });
  const { pieces, deliver } = collector();
  await reader.run(deliver, { follow: false });
  assert.deepEqual(pieces.map(recordsIn), [5, 1, 1]);

  // New complete lines, then half a line the writer has not finished.
  appendFileSync(ndjson, `${gcpLines.slice(5, 7).join('\n')}\n${(gcpLines[7] ?? '').slice(0, 50)}`);
  appendFileSync(awsLive, `${awsLines.slice(2, 5).join('\n')}\n`);
  writeFileSync(gz, gzipSync(sample('aws', 'integrations_test-extra-samples.log')));
  for (const [p, age] of [
    [ndjson, 4],
    [awsLive, 5],
    [gz, 6],
  ] as const) {
    utimesSync(p, OLD + age, OLD + age);
  }
  pieces.length = 0;
  await reader.run(deliver, { follow: false });
  assert.deepEqual(
    pieces.map((p) => [p.source, recordsIn(p)]),
    [
      [ndjson, 2],
      [awsLive, 3],
      [gz, 5],
    ],
    'only the new complete lines (AWS lines after the header parse in the default format); the gzip whole',
  );
  assert.equal(pieces[0]?.data.toString('utf8'), `${gcpLines.slice(5, 7).join('\n')}\n`);
  assert.equal(reader.stats.rewritten, 1);

  // The rest of the half line arrives: only that line is delivered.
  appendFileSync(ndjson, `${(gcpLines[7] ?? '').slice(50)}\n`);
  pieces.length = 0;
  await reader.run(deliver, { follow: false });
  assert.deepEqual(
    pieces.map((p) => p.data.toString('utf8')),
    [`${gcpLines[7]}\n`],
  );

  // Nothing changed: nothing delivered, even after a restart with the saved checkpoint.
  pieces.length = 0;
  await new FolderReader(dir, { checkpoint: Checkpoint.open(cp.path) }).run(deliver, { follow: false });
  assert.equal(pieces.length, 0);

  // Truncated and rewritten smaller (log rotation under the same name): read whole again.
  truncateSync(awsLive, 0);
  writeFileSync(awsLive, `${awsLines.slice(0, 2).join('\n')}\n`);
  utimesSync(awsLive, OLD + 7, OLD + 7);
  await reader.run(deliver, { follow: false });
  assert.deepEqual(
    pieces.map((p) => [p.source, recordsIn(p)]),
    [[awsLive, 1]],
  );
  assert.equal(reader.stats.rewritten, 2);
});

test('a file that vanishes between listing and reading goes to onError and the run continues; gone files leave the checkpoint', async () => {
  const dir = freshDir();
  const a = put(join(dir, 'a.log'), sample('aws', 'beats_ipv6.log'), 1);
  const b = put(join(dir, 'b.log'), sample('aws', 'beats_ipv6.log'), 2);
  const c = put(join(dir, 'c.log'), sample('aws', 'beats_ipv6.log'), 3);
  const cp = Checkpoint.open(join(root, `vanish-${dirs}.json`));
  const reader = new FolderReader(dir, { checkpoint: cp });
  const delivered: string[] = [];
  const errors: [string, string | undefined][] = [];
  await reader.run(
    async (p) => {
      delivered.push(p.source);
      if (p.source === a) unlinkSync(b); // listed already, gone before it is read
    },
    { follow: false, onError: (source, err) => errors.push([source, (err as NodeJS.ErrnoException).code]) },
  );
  assert.deepEqual(delivered, [a, c]);
  assert.deepEqual(errors, [[b, 'ENOENT']]);
  assert.equal(reader.stats.errors, 1);
  assert.deepEqual([...cp.names()].sort(), [a, c]);

  unlinkSync(a);
  await reader.run(async () => assert.fail('nothing to deliver'), { follow: false });
  assert.deepEqual([...Checkpoint.open(cp.path).names()], [c], 'the deleted file was pruned');
});

test('abort resolves run promptly: while polling, while waiting to settle, and before it starts', async () => {
  const dir = freshDir();
  put(join(dir, 'a.log'), sample('aws', 'beats_ipv6.log'), 1);
  writeFileSync(join(dir, 'fresh.log'), sample('aws', 'beats_ipv6.log')); // not settled for a minute
  const reader = new FolderReader(dir, {
    checkpoint: Checkpoint.open(null),
    pollMs: 60_000,
    settleMs: 60_000,
  });
  const { pieces, deliver } = collector();

  const guard = (p: Promise<void>) =>
    Promise.race([
      p.then(() => 'resolved'),
      sleep(10_000, undefined, { ref: false }).then(() => 'still running'),
    ]);
  const ac = new AbortController();
  const following = reader.run(deliver, { follow: true, signal: ac.signal });
  await until(() => pieces.length === 1, 'the settled file');
  ac.abort();
  assert.equal(await guard(following), 'resolved', 'a 60 s poll interval does not hold the abort');

  const ac2 = new AbortController();
  const once = reader.run(deliver, { follow: false, signal: ac2.signal }); // waits for fresh.log to settle
  await sleep(100);
  ac2.abort();
  assert.equal(await guard(once), 'resolved', 'nor does the wait for an unsettled file');

  const aborted = AbortSignal.abort();
  assert.equal(await guard(reader.run(deliver, { follow: true, signal: aborted })), 'resolved');
  assert.equal(pieces.length, 1);
});

test('FileReader: one file read whole once, gzip kept compressed; appended lines with follow', async () => {
  const dir = freshDir();
  const gz = put(join(dir, 'one.log.gz'), gzipSync(sample('aws', 'integrations_test-ecs-samples.log')), 1);
  const cpPath = join(root, `file-${dirs}.json`);
  const reader = new FileReader(gz, { checkpoint: Checkpoint.open(cpPath) });
  assert.deepEqual(await reader.pending(), [{ source: gz, bytes: readFileSync(gz).length }]);
  const { pieces, deliver } = collector();
  await reader.run(deliver, { follow: false });
  assert.equal(pieces.length, 1);
  assert.deepEqual(pieces[0]?.data, readFileSync(gz));
  assert.equal(recordsIn(pieces[0] as FlowLogPiece), 4);
  await new FileReader(gz, { checkpoint: Checkpoint.open(cpPath) }).run(deliver, { follow: false });
  assert.equal(pieces.length, 1, 'done per the checkpoint: not read again');
  assert.deepEqual(await reader.pending(), []);

  const live = put(join(dir, 'live.log'), sample('aws', 'beats_accept-reject-traffic.log'), 2);
  const follower = new FileReader(live, { checkpoint: Checkpoint.open(null), pollMs: 50 });
  const followed = collector();
  const ac = new AbortController();
  const run = follower.run(followed.deliver, { follow: true, signal: ac.signal });
  await until(() => followed.pieces.length === 1, 'the whole file');
  appendFileSync(
    live,
    sample('aws', 'beats_accept-reject-traffic.log').toString('utf8').split('\n')[1] + '\n',
  );
  await until(() => followed.pieces.length === 2, 'the appended line');
  ac.abort();
  await run;
  assert.deepEqual(followed.pieces.map(recordsIn), [4, 1]);

  const missing = join(dir, 'missing.log');
  const errors: string[] = [];
  await new FileReader(missing, { checkpoint: Checkpoint.open(null) }).run(deliver, {
    follow: false,
    onError: (source) => errors.push(source),
  });
  assert.deepEqual(errors, [missing]);
});
