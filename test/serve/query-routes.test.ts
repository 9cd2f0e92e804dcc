import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FilterSyntaxError, parseFilter } from '../../src/query/filter-parse.js';
import { startApiServer } from '../../src/serve/api-server.js';
import type { TimeseriesPoint, TopRow } from '../../src/store/contract.js';
import { quietLogger } from '../collector/helpers.js';
import { expectedTop, RANGE, type StoreStack, startStoreStack } from './store-stack.js';

let stack: StoreStack;
before(async () => {
  stack = await startStoreStack();
});
after(async () => {
  await stack?.close();
});

const range = `from=${RANGE.fromMs}&to=${new Date(RANGE.toMs).toISOString()}`;

async function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${stack.base}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function byKey(rows: TopRow[]): Map<unknown, TopRow> {
  return new Map(rows.map((r) => [r.key, r]));
}

test('the direct decode the expectations come from: 29 unsampled + 4 records sampled 1 in 100', () => {
  assert.equal(stack.expected.length, 33);
  const sampled = stack.expected.filter((r) => r.samplerate === 100);
  assert.equal(sampled.length, 4);
  assert.equal(stack.collector.stats().store?.recordsWritten, 33);
  assert.equal(stack.collector.stats().store?.ready, true);
});

test('/api/top by srcip: every source with exact bits, packets (× samplerate × weight) and flows', async () => {
  const { status, body } = await get(`/api/top?${range}&dimension=srcip&metric=bits&limit=1000`);
  assert.equal(status, 200);
  const rows = body.rows as TopRow[];
  const want = expectedTop(stack.expected, 'srcip');
  assert.equal(rows.length, want.length);
  assert.deepEqual(byKey(rows), byKey(want));
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].bits >= rows[i].bits, 'ordered by bits');
  // A source of the sampled capture: its bits are 100 × what was exported.
  const sampled = stack.expected.find((r) => r.samplerate === 100);
  assert.ok(sampled?.srcip);
  const exported = stack.expected
    .filter((r) => r.srcip === sampled.srcip)
    .reduce((n, r) => n + (r.bits ?? 0), 0);
  assert.equal(byKey(rows).get(sampled.srcip)?.bits, exported * 100);
});

test('/api/top by dstport ordered by packets, limited to 5', async () => {
  const { status, body } = await get(`/api/top?${range}&dimension=dstport&metric=packets&limit=5`);
  assert.equal(status, 200);
  const rows = body.rows as TopRow[];
  const want = expectedTop(stack.expected, 'dstport').sort((a, b) => b.packets - a.packets);
  assert.equal(rows.length, 5);
  const wanted = byKey(want);
  for (const r of rows) assert.deepEqual(r, wanted.get(r.key), `dstport ${r.key}`);
  assert.deepEqual(
    rows.map((r) => r.packets),
    want.slice(0, 5).map((r) => r.packets),
  );
});

test('/api/flows with a filter returns exactly the matching records', async () => {
  const port = stack.expected[0].dstport;
  assert.equal(port, 11963);
  const { status, body } = await get(
    `/api/flows?${range}&filter=${encodeURIComponent(`dst port ${port} or proto udp`)}&limit=10000`,
  );
  assert.equal(status, 200);
  const flows = body.flows as { dstport: number; protocol: string; srcip: string; bits: number }[];
  const want = stack.expected.filter((r) => r.dstport === port || r.protocolint === 17);
  assert.equal(flows.length, want.length);
  for (const f of flows) assert.ok(f.dstport === port || f.protocol === 'udp', `${f.srcip} matches`);
  assert.deepEqual(
    flows.map((f) => `${f.srcip} ${f.dstport} ${f.bits}`).sort(),
    want.map((r) => `${r.srcip} ${r.dstport} ${r.bits}`).sort(),
  );
});

test('/api/flows: newest first, limit honoured, limit above 10000 refused', async () => {
  const { body } = await get(`/api/flows?${range}&limit=3`);
  const flows = body.flows as { end: number }[];
  assert.equal(flows.length, 3);
  const newest = Math.max(...stack.expected.map((r) => r.end ?? 0));
  assert.equal(flows[0].end, newest);
  const big = await get(`/api/flows?${range}&limit=10001`);
  assert.equal(big.status, 400);
  assert.match(String(big.body.error), /limit "10001" must be an integer from 1 to 10000/);
});

test('/api/timeseries: daily buckets sum to the totals; grouped by dstport sums too', async () => {
  const { status, body } = await get(`/api/timeseries?${range}&bucket=86400`);
  assert.equal(status, 200);
  const points = body.points as TimeseriesPoint[];
  const total = expectedTop(stack.expected, 'flowtype')[0];
  const sum = (ps: TimeseriesPoint[], k: 'bits' | 'packets' | 'flows') => ps.reduce((n, p) => n + p[k], 0);
  assert.equal(sum(points, 'bits'), total.bits);
  assert.equal(sum(points, 'packets'), total.packets);
  assert.equal(sum(points, 'flows'), 33);
  for (const p of points) assert.equal(p.bucketMs % 86_400_000, 0);
  // Two days carry traffic: 2017-07-25 (sampled capture) and 2023-04-04.
  assert.deepEqual(
    [...new Set(points.filter((p) => p.flows > 0).map((p) => new Date(p.bucketMs).toISOString()))].sort(),
    ['2017-07-25T00:00:00.000Z', '2023-04-04T00:00:00.000Z'],
  );
  const grouped = await get(`/api/timeseries?${range}&bucket=86400&groupby=dstport&limit=100`);
  assert.equal(sum(grouped.body.points as TimeseriesPoint[], 'flows'), 33);
});

test('/api/exporters: 127.0.0.1 with every stored record', async () => {
  const { status, body } = await get(`/api/exporters?${range}`);
  assert.equal(status, 200);
  const exporters = body.exporters as { exporter: string; records: number; flowtype: string }[];
  assert.equal(
    exporters.reduce((n, e) => n + e.records, 0),
    33,
  );
  assert.ok(exporters.every((e) => e.exporter === '127.0.0.1' && e.flowtype === 'netflow'));
});

test('a filter syntax error is HTTP 400 with the column it points at', async () => {
  const filter = 'dst port 443 and and proto tcp';
  let position = -1;
  try {
    parseFilter(filter);
  } catch (err) {
    assert.ok(err instanceof FilterSyntaxError);
    position = err.position;
  }
  assert.equal(position, 17);
  const { status, body } = await get(`/api/top?${range}&filter=${encodeURIComponent(filter)}`);
  assert.equal(status, 400);
  assert.equal(body.position, 17);
  assert.equal(typeof body.error, 'string');
});

test('an unknown dimension or metric is HTTP 400 with the allowed values; bad times too', async () => {
  const dim = await get(`/api/top?${range}&dimension=colour`);
  assert.equal(dim.status, 400);
  assert.ok((dim.body.allowed as string[]).includes('dstport'));
  assert.match(String(dim.body.error), /dimension "colour" is not one of srcip, dstip/);
  const metric = await get(`/api/timeseries?${range}&metric=bytes`);
  assert.equal(metric.status, 400);
  assert.deepEqual(metric.body.allowed, ['bits', 'packets', 'flows']);
  const time = await get('/api/flows?from=yesterday');
  assert.equal(time.status, 400);
  assert.match(
    String(time.body.error),
    /from "yesterday" is neither epoch milliseconds nor an ISO 8601 time/,
  );
  const reversed = await get(`/api/flows?from=${RANGE.toMs}&to=${RANGE.fromMs}`);
  assert.equal(reversed.status, 400);
});

test('without a store the query routes answer 503; /stats shows the store with its queue', async () => {
  const server = await startApiServer({
    listen: '127.0.0.1:0',
    token: null,
    allowNoToken: false,
    collector: stack.collector,
    templates: () => [],
    logger: quietLogger,
  });
  try {
    for (const path of ['/api/flows', '/api/top', '/api/timeseries', '/api/exporters']) {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
      assert.equal(res.status, 503, path);
      assert.match(((await res.json()) as { error: string }).error, /no flow store/);
    }
  } finally {
    await server.close();
  }
  const stats = await get('/stats');
  const store = stats.body.store as Record<string, unknown>;
  assert.equal(store.name, 'duckdb');
  assert.equal(store.recordsWritten, 33);
  assert.equal(store.queueDepth, 0);
  assert.equal(store.drops, 0);
  assert.equal(store.ready, true);
  assert.equal((await fetch(`${stack.base}/readyz`)).status, 200);
});

test('with api.token the query routes require it', async () => {
  const res = await fetch(`${stack.base}/api/top?${range}`);
  assert.equal(res.status, 200);
  const secured = await startApiServer({
    listen: '127.0.0.1:0',
    token: 'a-long-enough-token-123',
    allowNoToken: false,
    collector: stack.collector,
    templates: () => [],
    flowStore: stack.collector.store,
    logger: quietLogger,
  });
  try {
    const url = `http://127.0.0.1:${secured.port}/api/top?${range}`;
    assert.equal((await fetch(url)).status, 401);
    const ok = await fetch(url, { headers: { authorization: 'Bearer a-long-enough-token-123' } });
    assert.equal(ok.status, 200);
    assert.ok(((await ok.json()) as { rows: TopRow[] }).rows.length > 0);
  } finally {
    await secured.close();
  }
});
