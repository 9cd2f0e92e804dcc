import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { parseAzureFlowLog } from '../../../src/cloud/azure-flow-log.js';
import { AzureBlobReader } from '../../../src/cloud/read/azure-blob-reader.js';
import {
  type FramingStart,
  frameAzureRecords,
  framingStartAfter,
  recordsDocument,
} from '../../../src/cloud/read/azure-records-framing.js';
import { Checkpoint } from '../../../src/cloud/read/checkpoint.js';
import type { FlowLogPiece } from '../../../src/cloud/read/flow-log-reader.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, type RunningAzurite, startAzurite } from '../../helpers/azurite.js';
import { freePort } from '../../helpers/traffic.js';

const DIR = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'testdata', 'cloud', 'azure');
const NSG = 'integrations_nsg_sample_logs_testdata.log';
const VNET = 'integrations_vnet_sample_logs_testdata.log';
const nsgBytes = readFileSync(join(DIR, NSG));
const vnetBytes = readFileSync(join(DIR, VNET));

/** The records of a sample, each as compact JSON text (what the framing must find, in order). */
function expectedRecords(doc: Buffer | string): string[] {
  const parsed = JSON.parse(doc.toString()) as { records: unknown[] };
  return parsed.records.map((r) => JSON.stringify(r));
}

function asJson(records: readonly Uint8Array[]): string[] {
  return records.map((r) => JSON.stringify(JSON.parse(Buffer.from(r).toString('utf8'))));
}

/** Frames `data` the way the reader does across reads that end at each of `cuts`. */
function frameInSteps(data: Buffer, cuts: number[]): { records: string[]; errors: number } {
  const records: string[] = [];
  let errors = 0;
  let offset = 0;
  let start: FramingStart = 'document';
  for (const cut of [...cuts, data.length]) {
    if (cut < offset) continue;
    const f = frameAzureRecords(data.subarray(offset, cut), start);
    records.push(...asJson(f.records));
    errors += f.errors.length;
    assert.equal(f.notRecordsDocument, false);
    if (f.consumed > 0) {
      offset += f.consumed;
      start = f.resume;
      // The reader derives the resume state from the byte before its offset: it must agree.
      assert.equal(framingStartAfter(data[offset - 1]), start, `byte before offset ${offset}`);
    }
  }
  return { records, errors };
}

describe('Azure records framing', () => {
  for (const [name, bytes] of [
    [NSG, nsgBytes],
    [VNET, vnetBytes],
  ] as const) {
    test(`${name}: whole, and split at every byte position: each record once`, () => {
      const expected = expectedRecords(bytes);
      const whole = frameAzureRecords(bytes, 'document');
      assert.deepEqual(asJson(whole.records), expected);
      assert.equal(whole.closed, true);
      assert.deepEqual(whole.errors, []);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const got = frameInSteps(bytes, [cut]);
        assert.deepEqual(got.records, expected, `${name} split at byte ${cut}`);
        assert.equal(got.errors, 0, `${name} split at byte ${cut}`);
      }
      // Many small reads, as a blob that grows a few bytes at a time.
      for (const step of [1, 7, 61]) {
        const cuts: number[] = [];
        for (let c = step; c < bytes.length; c += step) cuts.push(c);
        assert.deepEqual(frameInSteps(bytes, cuts).records, expected, `${name} read ${step} bytes at a time`);
      }
    });
  }

  test('the framed piece parses like the sample', () => {
    const f = frameAzureRecords(nsgBytes, 'document');
    const res = parseAzureFlowLog(recordsDocument(f.records));
    assert.deepEqual(res.errors, []);
    assert.equal(res.tuples, 11);
    assert.equal(res.records.length, 14);
  });

  test('strings with braces, brackets, quotes and escapes; whitespace between records', () => {
    const records = [
      { a: '}', b: '{{', c: ']', d: '"quoted" }' },
      { e: 'back\\slash\\', f: '\\"}', g: { h: [{ i: '}{' }] } },
      { j: 'tab\tnew\nline \u00e9\u4e2d', k: '\\\\' },
    ];
    const doc = Buffer.from(JSON.stringify({ records }, null, 2));
    const expected = records.map((r) => JSON.stringify(r));
    for (let cut = 0; cut <= doc.length; cut++) {
      assert.deepEqual(frameInSteps(doc, [cut]).records, expected, `split at byte ${cut}`);
    }
  });

  test('an incomplete trailing record is left for the next read, the closing ]} is never consumed', () => {
    const doc = Buffer.from('{"records":[{"a":1},{"b":"}');
    const f = frameAzureRecords(doc, 'document');
    assert.deepEqual(asJson(f.records), ['{"a":1}']);
    assert.equal(f.consumed, '{"records":[{"a":1}'.length);
    assert.equal(f.closed, false);
    const done = frameAzureRecords(Buffer.from('{"records":[{"a":1}]}'), 'document');
    assert.equal(done.consumed, '{"records":[{"a":1}'.length);
    assert.equal(done.closed, true);
    const empty = frameAzureRecords(Buffer.from('{ "records" : [ '), 'document');
    assert.equal(empty.consumed, '{ "records" : ['.length);
    assert.equal(empty.resume, 'value');
  });

  test('garbage is counted and skipped, not a crash', () => {
    const f = frameAzureRecords(Buffer.from('{"records":[{"a":1},xyz,{"b":2} {"c":3}]}'), 'document');
    assert.deepEqual(asJson(f.records), ['{"a":1}', '{"b":2}', '{"c":3}']);
    assert.equal(f.errors.length, 2, f.errors.join('; '));
    const other = frameAzureRecords(Buffer.from('[{"records":1}]'), 'document');
    assert.equal(other.notRecordsDocument, true);
    assert.equal(other.records.length, 0);
    // Random bytes after a valid header: never throws, never yields a record that is not an object.
    let seed = 12345;
    for (let n = 0; n < 300; n++) {
      const junk = Buffer.alloc(200);
      for (let i = 0; i < junk.length; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        junk[i] = seed & 0xff;
      }
      const r = frameAzureRecords(Buffer.concat([Buffer.from('{"records":['), junk]), 'document');
      for (const rec of r.records) assert.equal(rec[0], 0x7b);
      assert.ok(r.consumed <= 12 + junk.length);
    }
  });
});

/** Waits until `cond` holds, failing with `what` after 20 s (a hang, not a speed check). */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function hourly(mac: string, hour: number): string {
  return `resourceId=/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG1/y=2024/m=05/d=01/h=${String(hour).padStart(2, '0')}/m=00/macAddress=${mac}/PT1H.json`;
}

/** The records of delivered pieces, as compact JSON, and the parser's totals over them. */
function collect(pieces: FlowLogPiece[]): {
  records: string[];
  flows: number;
  tuples: number;
  errors: number;
} {
  const records: string[] = [];
  let flows = 0;
  let tuples = 0;
  let errors = 0;
  for (const p of pieces) {
    records.push(...expectedRecords(p.data));
    const res = parseAzureFlowLog(p.data);
    flows += res.records.length;
    tuples += res.tuples;
    errors += res.errors.length;
  }
  return { records, flows, tuples, errors };
}

describe('AzureBlobReader against Azurite', () => {
  let azurite: RunningAzurite;
  let service: BlobServiceClient;
  let dir: string;
  let n = 0;

  before(async () => {
    azurite = await startAzurite();
    service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    dir = mkdtempSync(join(tmpdir(), 'flowgate-azure-reader-'));
  });
  after(async () => {
    await azurite?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function newContainer(): Promise<ContainerClient> {
    const c = service.getContainerClient(`insights-logs-networksecuritygroupflowevent-${++n}`);
    await c.create();
    return c;
  }

  test('follow: append blobs growing in several blocks (one ending mid-record), each record once', async () => {
    const container = await newContainer();
    const nsg = expectedRecords(nsgBytes);
    const vnet = expectedRecords(vnetBytes);
    const nsgBlob = container.getAppendBlobClient(hourly('000D3AF87856', 12));
    await nsgBlob.create();
    const first = `{"records":[${nsg[0]}`;
    // The first block ends in the middle of the first record.
    await nsgBlob.appendBlock(first.slice(0, 100), 100);

    const checkpoint = Checkpoint.open(join(dir, 'follow.json'));
    const reader = new AzureBlobReader({
      connectionString: azurite.connectionString,
      container: container.containerName,
      checkpoint,
      pollMs: 50,
    });
    const pieces: FlowLogPiece[] = [];
    const errors: string[] = [];
    const ac = new AbortController();
    const running = reader.run(
      async (p) => {
        pieces.push(p);
      },
      { follow: true, signal: ac.signal, onError: (s, e) => errors.push(`${s}: ${e.message}`) },
    );
    await until(
      () => checkpoint.get(`azure://${container.containerName}/${hourly('000D3AF87856', 12)}`) !== undefined,
      'first poll',
    );
    assert.equal(pieces.length, 0, 'no complete record yet');

    const rest = `${first.slice(100)},${nsg[1]}]}`;
    const cut = first.length - 100 + 1 + 40; // inside the second record
    await nsgBlob.appendBlock(rest.slice(0, cut), Buffer.byteLength(rest.slice(0, cut)));
    await until(() => collect(pieces).records.length === 1, 'the first record');
    await nsgBlob.appendBlock(rest.slice(cut), Buffer.byteLength(rest.slice(cut)));
    await until(() => collect(pieces).records.length === 2, 'the second record');

    const vnetBlob = container.getAppendBlobClient(hourly('00224871C205', 13));
    await vnetBlob.create();
    await vnetBlob.appendBlock(vnetBytes, vnetBytes.length);
    await until(() => collect(pieces).records.length === 3, 'the VNet blob');

    ac.abort();
    await running;
    const got = collect(pieces);
    assert.deepEqual(got.records, [...nsg, ...vnet]);
    assert.equal(got.errors, 0);
    assert.equal(got.tuples, 11 + 19);
    assert.equal(got.flows, 14 + 24);
    assert.ok(pieces.every((p) => p.source.startsWith(`azure://${container.containerName}/resourceId=`)));
    assert.deepEqual(errors, []);
    assert.equal(reader.stats.records, 3);
    assert.equal(reader.stats.rewritten, 0);
    assert.equal(reader.stats.errors, 0);
  });

  test('restart with the same checkpoint continues from the offset (account URL + key)', async () => {
    const container = await newContainer();
    const nsg = expectedRecords(nsgBytes);
    const blob = container.getAppendBlobClient(hourly('000D3AF87856', 14));
    await blob.create();
    const part1 = `{"records":[${nsg[0]},${nsg[1]?.slice(0, 50)}`;
    await blob.appendBlock(part1, Buffer.byteLength(part1));
    const path = join(dir, 'restart.json');
    const open = () =>
      new AzureBlobReader({
        accountUrl: azurite.accountUrl,
        accountName: AZURITE_ACCOUNT,
        accountKey: AZURITE_KEY,
        container: container.containerName,
        checkpoint: Checkpoint.open(path),
      });
    const once = async (r: AzureBlobReader) => {
      const pieces: FlowLogPiece[] = [];
      await r.run(
        async (p) => {
          pieces.push(p);
        },
        { follow: false },
      );
      return collect(pieces).records;
    };
    const r1 = open();
    assert.equal((await r1.pending()).length, 1);
    assert.deepEqual(await once(r1), [nsg[0]]);

    const part2 = `${nsg[1]?.slice(50)}]}`;
    await blob.appendBlock(part2, Buffer.byteLength(part2));
    const r2 = open();
    const pending = await r2.pending();
    assert.equal(pending.length, 1);
    // What is left: from the end of the first record to the end of the blob.
    assert.equal(pending[0]?.bytes, Buffer.byteLength(`,${nsg[1]}]}`));
    assert.deepEqual(await once(r2), [nsg[1]]);
    assert.ok(r2.stats.bytes < Buffer.byteLength(part1 + part2), 'the second run read only the new bytes');

    const r3 = open();
    assert.deepEqual(await r3.pending(), []);
    assert.deepEqual(await once(r3), []);
    assert.equal(r3.stats.bytes, 0, 'an unchanged blob is not downloaded');
  });

  test('a block blob re-committed with more records gives only the new ones; a rewritten blob is read again', async () => {
    const container = await newContainer();
    const nsg = expectedRecords(nsgBytes);
    const name = hourly('000D3AF87856', 15);
    const blob = container.getBlockBlobClient(name);
    const checkpoint = Checkpoint.open(null);
    const reader = new AzureBlobReader({
      connectionString: azurite.connectionString,
      container: container.containerName,
      checkpoint,
    });
    const pieces: FlowLogPiece[] = [];
    const runOnce = () =>
      reader.run(
        async (p) => {
          pieces.push(p);
        },
        { follow: false },
      );
    const one = `{"records":[${nsg[0]}]}`;
    await blob.upload(one, Buffer.byteLength(one));
    await runOnce();
    // As Azure does during the hour: the same document with one more record before `]}`.
    const two = `{"records":[${nsg[0]},${nsg[1]}]}`;
    await blob.upload(two, Buffer.byteLength(two));
    await runOnce();
    assert.deepEqual(collect(pieces).records, [nsg[0], nsg[1]]);
    assert.equal(reader.stats.rewritten, 0);

    // Shorter: a new document.
    const shorter = `{"records":[${nsg[1]}]}`;
    assert.ok(Buffer.byteLength(shorter) < Buffer.byteLength(two));
    await blob.upload(shorter, Buffer.byteLength(shorter));
    await runOnce();
    assert.deepEqual(collect(pieces).records, [nsg[0], nsg[1], nsg[1]]);
    assert.equal(reader.stats.rewritten, 1);

    // Longer, but the bytes before the saved offset changed (not an append): read whole again.
    const longer = `{"records":[${nsg[0]},${nsg[1]}]}`;
    const saved = checkpoint.get(`azure://${container.containerName}/${name}`)?.offset ?? 0;
    assert.ok(!'}['.includes(longer[saved - 1] ?? ''), 'the byte before the old offset is no record end');
    await blob.upload(longer, Buffer.byteLength(longer));
    await runOnce();
    assert.deepEqual(collect(pieces).records, [nsg[0], nsg[1], nsg[1], nsg[0], nsg[1]]);
    assert.equal(reader.stats.rewritten, 2);

    // Not a flow-log document: counted and reported, nothing delivered, no crash.
    await container.getBlockBlobClient('other/readme.txt').upload('hello', 5);
    const errors: string[] = [];
    await reader.run(
      async (p) => {
        pieces.push(p);
      },
      { follow: false, onError: (_s, e) => errors.push(e.message) },
    );
    assert.equal(pieces.length, 4);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /not an Azure flow-log document/);
  });

  test('a listing that fails: rejects once without follow, onError and retry with follow; abort resolves', async () => {
    // A blob endpoint where nothing listens.
    const port = await freePort('tcp');
    const cs = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};`;
    const reader = new AzureBlobReader({
      connectionString: cs,
      container: 'insights-logs-flowlogflowevent',
      checkpoint: Checkpoint.open(null),
      pollMs: 50,
    });
    await assert.rejects(
      reader.run(async () => {}, { follow: false }),
      (e: Error) => {
        assert.match(e.message, /cannot list azure:\/\/insights-logs-flowlogflowevent\//);
        assert.ok(!e.message.includes(AZURITE_KEY), e.message);
        return true;
      },
    );
    const sas = new AzureBlobReader({
      accountUrl: `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}?sv=2022-11-02&sig=SECRETSIGNATURE`,
      container: 'insights-logs-flowlogflowevent',
      checkpoint: Checkpoint.open(null),
    });
    await assert.rejects(
      sas.run(async () => {}, { follow: false }),
      (e: Error) => {
        assert.ok(!e.message.includes('SECRETSIGNATURE'), e.message);
        return true;
      },
    );
    const errors: Error[] = [];
    const ac = new AbortController();
    const running = reader.run(async () => {}, {
      follow: true,
      signal: ac.signal,
      onError: (_s, e) => {
        errors.push(e);
        if (errors.length === 2) ac.abort();
      },
    });
    await running;
    assert.equal(errors.length, 2, 'retried after the first failure');
    for (const e of errors) assert.ok(!e.message.includes(AZURITE_KEY), e.message);
  });

  test('abort while following an idle container resolves', async () => {
    const container = await newContainer();
    const reader = new AzureBlobReader({
      connectionString: azurite.connectionString,
      container: container.containerName,
      checkpoint: Checkpoint.open(null),
      pollMs: 60_000,
    });
    const ac = new AbortController();
    let listed = false;
    const running = reader
      .run(async () => {}, { follow: true, signal: ac.signal })
      .then(() => {
        listed = true;
      });
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    // With a 60 s poll interval, resolving here means the wait was cut short by the abort.
    await Promise.race([
      running,
      new Promise((_r, reject) =>
        setTimeout(() => reject(new Error('run did not resolve after abort')), 10_000),
      ),
    ]);
    assert.equal(listed, true);
  });
});
