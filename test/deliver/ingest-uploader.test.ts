/**
 * The ingest uploader against a real HTTP receiver process (ingest-receiver.mjs) on loopback, with
 * a real spool on disk: delivery, failures the receiver is told to produce, a receiver killed and
 * restarted, shutdown with the backend down. Records carry their sequence number in srcport so
 * order and exactly-once (after the receiver's de-duplication by batch id) can be checked.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type IngestConfig, ingestConfig } from '../../src/deliver/ingest/options.js';
import { type IngestLog, IngestUploader } from '../../src/deliver/ingest/uploader.js';
import { FlowRecord } from '../../src/record/flow-record.js';
import { Receiver } from './ingest-receiver-process.js';

const SECRET = 'tok-3f9a1c77e2b54d08';

/** Records numbered from `from`: the number is the source port. */
function records(from: number, n: number): FlowRecord[] {
  return Array.from({ length: n }, (_, i) =>
    Object.assign(new FlowRecord(), {
      timestamp: 1767614401,
      start: 1767614399000,
      end: 1767614400000,
      srcip: '10.0.0.1',
      dstip: '192.0.2.80',
      srcport: from + i,
      dstport: 443,
      protocolint: 6,
      bits: 800,
      packets: 1,
      flowsrcip: '172.16.10.10',
    }),
  );
}

/** Sequence numbers in the order the receiver stored them. */
function stored(out: string): { seq: number[]; batches: Set<string> } {
  if (!existsSync(out)) return { seq: [], batches: new Set() };
  const lines = readFileSync(out, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const rows = lines.map((l) => JSON.parse(l) as { batch: string; record: { srcport: number } });
  return { seq: rows.map((r) => r.record.srcport), batches: new Set(rows.map((r) => r.batch)) };
}

function range(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

class Logs implements IngestLog {
  readonly lines: string[] = [];
  info(msg: string): void {
    this.lines.push(msg);
  }
  warn(msg: string): void {
    this.lines.push(msg);
  }
}

describe('ingest uploader against a receiver process', () => {
  let dir = '';
  let out = '';
  let receiver: Receiver | null = null;
  let uploader: IngestUploader | null = null;
  let logs = new Logs();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-ingest-'));
    out = join(dir, 'received.jsonl');
    logs = new Logs();
  });

  afterEach(async () => {
    await uploader?.close();
    uploader = null;
    await receiver?.kill();
    receiver = null;
    rmSync(dir, { recursive: true, force: true });
  });

  function config(url: string, over: Partial<IngestConfig> = {}): IngestConfig {
    return ingestConfig({
      url,
      token: SECRET,
      flushcount: 10,
      flushinterval: 0.2,
      retries: 5,
      retryinterval: 0.1,
      timeout: 2,
      closetimeout: 2,
      spool: { dir: join(dir, 'spool') },
      ...over,
    });
  }

  async function open(over: Partial<IngestConfig> = {}): Promise<IngestUploader> {
    assert.ok(receiver);
    uploader = await IngestUploader.open(config(receiver.url, over), { log: logs });
    return uploader;
  }

  /** The secret is sent (the receiver saw it) but never in stats, errors or logs. */
  function assertSecretKept(up: IngestUploader): void {
    const text = JSON.stringify(up.stats());
    assert.ok(!text.includes(SECRET), `secret in stats: ${text}`);
    for (const line of logs.lines) assert.ok(!line.includes(SECRET), `secret in log: ${line}`);
  }

  it('delivers batches by count and by interval, gzipped, with the token and a batch id', async () => {
    receiver = await Receiver.start(out);
    const up = await open();
    await up.write(records(0, 25));
    await waitFor('25 records', () => stored(out).seq.length === 25);
    const got = stored(out);
    assert.deepEqual(got.seq, range(0, 25));
    assert.equal(got.batches.size, 3, '10 + 10 by count, 5 by the interval');
    const c = await receiver.counts();
    assert.equal(c.lastHeaders.authorization, `Bearer ${SECRET}`);
    assert.equal(c.lastHeaders['content-encoding'], 'gzip');
    assert.equal(c.lastHeaders['content-type'], 'application/x-ndjson');
    assert.match(c.lastHeaders['x-flowgate-batch-id'], /^[0-9a-f-]{36}$/);
    const s = up.stats();
    assert.equal(s.batchesSent, 3);
    assert.equal(s.recordsSent, 25);
    assert.equal(s.backend, 'ok');
    assert.equal(s.retries, 0);
    assert.ok(s.lastSuccessAt !== null);
    assertSecretKept(up);
  });

  it('sends a JSON array uncompressed with an API-key header', async () => {
    receiver = await Receiver.start(out);
    const up = await open({
      format: 'array',
      compression: 'none',
      authheader: 'X-API-Key',
      headers: { 'X-Site': 'lab' },
    });
    await up.write(records(0, 10));
    await waitFor('10 records', () => stored(out).seq.length === 10);
    const c = await receiver.counts();
    assert.equal(c.lastHeaders['x-api-key'], SECRET);
    assert.equal(c.lastHeaders.authorization, undefined);
    assert.equal(c.lastHeaders['content-encoding'], undefined);
    assert.equal(c.lastHeaders['content-type'], 'application/json');
    assert.equal(c.lastHeaders['x-site'], 'lab');
    assert.deepEqual(stored(out).seq, range(0, 10));
  });

  it('retries through 500s and delivers everything once, in order', async () => {
    receiver = await Receiver.start(out);
    await receiver.control({ mode: '500' });
    const up = await open();
    await up.write(records(0, 30));
    await waitFor('failed attempts', async () => (await receiver!.counts()).failed >= 3);
    await receiver.control({ mode: 'ok' });
    await up.write(records(30, 10));
    await waitFor('40 records', () => stored(out).seq.length >= 40);
    await up.close();
    assert.deepEqual(stored(out).seq, range(0, 40));
    const s = up.stats();
    assert.ok((s.failures['HTTP 500'] ?? 0) >= 3, JSON.stringify(s.failures));
    assert.equal(s.recordsSent, 40);
    assert.equal(s.backend, 'ok');
    assert.match(s.lastError ?? '', /HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/ingest/);
    assertSecretKept(up);
  });

  it('waits as long as a 429 Retry-After asks', async () => {
    receiver = await Receiver.start(out);
    await receiver.control({ mode: '429', retryAfter: 1 });
    const up = await open();
    await up.write(records(0, 10));
    await waitFor('the 429', async () => (await receiver!.counts()).requests >= 1);
    await receiver.control({ mode: 'ok' });
    await waitFor('10 records', () => stored(out).seq.length === 10);
    const { log } = await receiver.counts();
    assert.equal(log.length, 2, 'one 429, then one accepted attempt');
    assert.equal(log[0].id, log[1].id, 'the retry carries the same batch id');
    const gap = log[1].at - log[0].at;
    assert.ok(gap >= 900, `retried ${gap} ms after a Retry-After of 1 s`);
    assert.equal(up.stats().failures['HTTP 429'], 1);
  });

  it('spools while the receiver is gone and replays in order when it is back', async () => {
    receiver = await Receiver.start(out, 0);
    const port = receiver.port;
    const up = await open();
    await up.write(records(0, 10));
    await waitFor('first 10 records', () => stored(out).seq.length === 10);
    await receiver.kill();
    await up.write(records(10, 30));
    await waitFor('backend down', () => up.stats().backend === 'down', 30_000);
    await waitFor('3 batches spooled', () => up.stats().spooledBatches === 3);
    // New batches queue behind the spooled ones.
    await up.write(records(40, 10));
    await waitFor('the spool to take them', () => up.stats().spooledRecords === 40);
    assert.match(up.stats().lastError ?? '', /cannot reach http:\/\/127\.0\.0\.1:\d+\/ingest/);
    assert.ok(
      Object.keys(up.stats().failures).some((k) => k.startsWith('network ')),
      'network failure counted',
    );
    receiver = await Receiver.start(out, port);
    await waitFor('50 records', () => stored(out).seq.length >= 50, 30_000);
    assert.deepEqual(stored(out).seq, range(0, 50));
    // The receiver stores a batch before it answers: the uploader counts it once the answer is in.
    await waitFor('the last replay counted', () => up.stats().replayedRecords >= 40);
    const s = up.stats();
    assert.equal(s.replayedRecords, 40);
    assert.equal(s.backend, 'ok');
    await waitFor('an empty spool', () => up.stats().spool?.batches === 0);
    assertSecretKept(up);
  });

  it('a receiver slower than the timeout: retried, nothing lost or stored twice', async () => {
    receiver = await Receiver.start(out);
    await receiver.control({ mode: 'slow', delayMs: 1500 });
    const up = await open({ timeout: 0.4 });
    await up.write(records(0, 20));
    await waitFor('timeouts', () => (up.stats().failures.timeout ?? 0) >= 2);
    await receiver.control({ mode: 'ok' });
    await waitFor('20 records', () => stored(out).seq.length >= 20 && up.stats().recordsSent === 20, 30_000);
    await up.close();
    assert.deepEqual(stored(out).seq, range(0, 20));
    const c = await receiver.counts();
    assert.ok(c.requests > 2, `${c.requests} requests`);
    assert.match(up.stats().lastError ?? '', /no answer from .* within 0\.4 s/);
  });

  it('a 400 is rejected once, not retried, and the echoed secret is not repeated', async () => {
    receiver = await Receiver.start(out);
    await receiver.control({ mode: '400' });
    const up = await open();
    await up.write(records(0, 10));
    await waitFor('the rejection', () => up.stats().rejectedBatches === 1);
    await sleep(500);
    const c = await receiver.counts();
    assert.equal(c.requests, 1, 'not retried');
    const s = up.stats();
    assert.equal(s.rejectedRecords, 10);
    assert.equal(s.retries, 0);
    assert.equal(s.spooledBatches, 0);
    assert.equal(s.failures['HTTP 400'], 1);
    // The receiver put the Authorization header in its answer; the uploader masks it.
    assert.match(s.lastError ?? '', /HTTP 400 from .*bad request from Bearer \[secret\]/);
    assert.ok(logs.lines.some((l) => l.includes('rejected')));
    assertSecretKept(up);
  });

  it('close() spools what the backend does not take; the next start replays it', async () => {
    receiver = await Receiver.start(out);
    await receiver.control({ mode: '500' });
    const first = await open({ closetimeout: 0.5 });
    await first.write(records(0, 15));
    await first.close();
    assert.equal(first.stats().spooledRecords, 15);
    assert.deepEqual(stored(out).seq, []);
    await receiver.control({ mode: 'ok' });
    const second = await open();
    await second.write(records(15, 5));
    await waitFor('20 records', () => stored(out).seq.length >= 20);
    assert.deepEqual(stored(out).seq, range(0, 20));
    assert.equal(second.stats().replayedRecords, 15);
  });

  it('elasticsearch _bulk: retries only the items that failed with 429, counts the 400s as rejected', async () => {
    receiver = await Receiver.start(out);
    await receiver.control({ bulk429: [1, 3], bulk400: [4] });
    const up = await IngestUploader.open(
      config(`http://127.0.0.1:${receiver.port}/_bulk`, { profile: 'elasticsearch', flushcount: 6 }),
      { log: logs },
    );
    uploader = up;
    await up.write(records(0, 6));
    await waitFor('the batch done', () => up.stats().batchesSent === 1);
    const ports = readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { record: { source: { port: number } } }).record.source.port);
    assert.deepEqual(ports, [0, 2, 5, 1, 3]);
    const c = await receiver.counts();
    assert.deepEqual(
      c.log.map((e) => (e as { items?: number }).items),
      [6, 2],
      'the second request carries the two 429 items only',
    );
    const s = up.stats();
    assert.equal(s.recordsSent, 5);
    assert.equal(s.rejectedRecords, 1);
    assert.deepEqual(s.failures, { 'item 429': 2, 'item 400': 1 });
    assert.equal(c.lastHeaders.authorization, `ApiKey ${SECRET}`);
    assert.equal(c.lastHeaders['content-type'], 'application/x-ndjson');
  });

  it('bounds memory: write() waits for a slow backend and spills to the spool behind a failing one', async () => {
    receiver = await Receiver.start(out);
    await receiver.control({ mode: 'slow', delayMs: 100 });
    const up = await open({ maxbatchesinmemory: 2 });
    await up.write(records(0, 60));
    // Six batches were cut; at most two (the one in flight among them) may still be in memory.
    assert.ok(up.stats().batchesInMemory <= 2);
    assert.ok(up.stats().recordsSent >= 40, `${up.stats().recordsSent} sent when write() returned`);
    await waitFor('60 records', () => up.stats().recordsSent === 60);
    await receiver.control({ mode: '500' });
    await up.write(records(60, 60));
    // The writer did not wait out the retries: the failing batches went to the spool.
    assert.ok(up.stats().spooledBatches >= 1, JSON.stringify(up.stats()));
    await receiver.control({ mode: 'ok' });
    await waitFor('120 records', () => stored(out).seq.length >= 120, 30_000);
    assert.deepEqual(stored(out).seq, range(0, 120));
  });

  it('without a spool, a batch that fails every retry is dropped and counted', async () => {
    receiver = await Receiver.start(out);
    await receiver.control({ mode: '500' });
    const up = await open({ spool: null, retries: 2 });
    await up.write(records(0, 10));
    await waitFor('the drop', () => up.stats().droppedRecords === 10);
    assert.equal((await receiver.counts()).requests, 3, 'one attempt and two retries');
    assert.equal(up.stats().backend, 'down');
  });
});
