/**
 * The inputs test/fuzz/api.fuzz.test.ts found, reduced to the smallest that showed each bug, against
 * the real API over a real DuckDB store. Each was an HTTP 500 ("internal error (logged)") and is now
 * a 400 naming the parameter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseBucket, parseFilterParam, parseTime, QueryParamError } from '../../src/serve/query-params.js';
import { RANGE, type StoreStack, startStoreStack } from '../serve/store-stack.js';

let stack: StoreStack;
before(async () => {
  stack = await startStoreStack();
});
after(async () => {
  await stack?.close();
});

const RANGE_QS = `from=${RANGE.fromMs}&to=${RANGE.toMs}`;
const NINES_400 = '9'.repeat(400);

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.base}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('a NUL character in a filter value', () => {
  it('is a 400 pointing at it (DuckDB strings cannot hold NUL: filterToSql threw, a 500)', async () => {
    const filter = 'site "\0"';
    assert.throws(
      () => parseFilterParam({ filter }),
      (err) => err instanceof QueryParamError && err.position === 6,
    );
    const { status, body } = await get(`/api/flows?${RANGE_QS}&filter=${encodeURIComponent(filter)}`);
    assert.equal(status, 400);
    assert.equal(body.position, 6);
    assert.match(String(body.error), /NUL character at column 7/);
    const list = await get(`/api/top?${RANGE_QS}&filter=${encodeURIComponent('tag a\0b')}`);
    assert.equal(list.status, 400);
  });
});

describe('epoch milliseconds beyond what a Date holds', () => {
  it('from=8640000000000001 is a 400 (formatting it for the "from before to" message threw)', async () => {
    assert.throws(() => parseTime('8640000000000001', 'from'), QueryParamError);
    const { status, body } = await get('/api/flows?from=8640000000000001');
    assert.equal(status, 400);
    assert.match(String(body.error), /from 8640000000000001 is out of range/);
  });

  it('400 digits is a 400 (it read as Infinity and the store refused the range)', async () => {
    const { status, body } = await get(`/api/flows?from=0&to=${NINES_400}`);
    assert.equal(status, 400);
    assert.match(String(body.error), /^to 9+ is out of range/);
  });

  it('/api/alerts too (it shares parseTime)', async () => {
    const { status } = await get('/api/alerts?from=99999999999999999999&to=1');
    assert.equal(status, 400);
  });

  it('the limits themselves are still accepted', async () => {
    assert.equal(parseTime('-8640000000000000', 'from'), -8.64e15);
    const { status, body } = await get('/api/flows?from=-8640000000000000&to=8640000000000000&limit=10000');
    assert.equal(status, 200);
    assert.equal((body.flows as unknown[]).length, stack.expected.length);
  });
});

describe('a bucket width above 2^53 seconds', () => {
  it('is a 400 (400 digits read as Infinity and the store refused it)', async () => {
    const range = { fromMs: RANGE.fromMs, toMs: RANGE.toMs };
    assert.throws(() => parseBucket({ bucket: NINES_400 }, range), QueryParamError);
    assert.throws(() => parseBucket({ bucket: '9007199254740993' }, range), QueryParamError);
    assert.equal(parseBucket({ bucket: '9007199254740991' }, range), 9007199254740991);
    const { status, body } = await get(`/api/timeseries?${RANGE_QS}&bucket=${NINES_400}`);
    assert.equal(status, 400);
    assert.match(String(body.error), /must be a positive number of seconds/);
  });
});
