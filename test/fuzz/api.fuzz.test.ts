/**
 * Hostile input against the HTTP API: the real server on 127.0.0.1 with a bearer token, in front of a
 * real DuckDB store holding 33 NetFlow v5 records (test/serve/store-stack.ts). Random and
 * grammar-aware query strings, filters, paths, methods, headers and Authorization values
 * (test/helpers/api-fuzz-inputs.ts). Every answer must be a clean one: status below 500, a JSON
 * message on 4xx, the token nowhere in it; without the token every protected route says 401 and
 * nothing more; a filter's string values stay SQL literals (the count over HTTP equals the in-memory
 * matcher's); the query-parameter parsers return a value or a QueryParamError, nothing else.
 *
 * Fixed seeds and modest run counts keep this file under a minute on 2 cores; a longer run is
 * `FUZZ_RUNS=100000 node --import tsx bench/fuzz-api.ts`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { DASHBOARD_PATHS } from '../../src/serve/routes/dashboard.js';
import {
  checkFilterCompiles,
  checkQueryParams,
  extraHeaders,
  FUZZ_TOKEN,
  filterText,
  fuzzPath,
  GOOD_AUTH,
  grammarFilter,
  matchingCount,
  methods,
  pathSegment,
  queryObject,
  queryPairs,
  queryStringOf,
  RawClient,
  type RawResponse,
  responseProblem,
  SQL_ENGINE_ERROR,
  SQL_FRAGMENTS,
  TOKEN_GET_ROUTES,
  timeText,
  unicodeText,
  wrongAuth,
} from '../helpers/api-fuzz-inputs.js';
import { RANGE, type StoreStack, startStoreStack } from '../serve/store-stack.js';

const SEED = 20261124;
const NOW = Date.UTC(2024, 0, 1);
const RANGE_QS = `from=${RANGE.fromMs}&to=${RANGE.toMs}`;
const PUBLIC = new Set(['/healthz', ...DASHBOARD_PATHS]);
/** Keys of the bodies that carry data: none may appear in a 401. */
const DATA_KEYS = /"(flows|rows|points|exporters|alerts|alert|records|templates|store|collector)"/;

/**
 * Checks a property with the fixed seed; a failure names the (shrunk) input and what went wrong,
 * which fc.assert leaves in an error cause the test runner does not print.
 */
async function holds(property: fc.IProperty<unknown[]> | fc.IAsyncProperty<unknown[]>, numRuns: number) {
  const run = await fc.check(property as fc.IAsyncProperty<unknown[]>, { seed: SEED, numRuns });
  if (!run.failed) return;
  const err = run.errorInstance;
  assert.fail(
    `${err instanceof Error ? err.message : String(err)}\n  input (seed ${SEED}, path ${run.counterexamplePath}): ` +
      fc.stringify(run.counterexample).slice(0, 2000),
  );
}

describe('fuzz: query parameters, in process', () => {
  it('every parser returns a sane value or throws a QueryParamError, nothing else', async () => {
    await holds(
      fc.property(queryObject, timeText, (q, t) => checkQueryParams(q, t, NOW)),
      20_000,
    );
  });

  it('a filter either fails to parse (FilterSyntaxError) or compiles to SQL for both stores', async () => {
    await holds(fc.property(fc.oneof(filterText, grammarFilter), checkFilterCompiles), 20_000);
  });
});

describe('fuzz: the HTTP API with a token, over a real DuckDB store', () => {
  let stack: StoreStack;
  let client: RawClient;
  let total = 0;
  before(async () => {
    stack = await startStoreStack(FUZZ_TOKEN);
    client = new RawClient(stack.api.port);
    total = stack.expected.length;
  });
  after(async () => {
    client?.close();
    await stack?.close();
  });

  function clean(res: RawResponse, method: string, what: string): void {
    const problem = responseProblem(res, method);
    if (problem !== null) assert.fail(`${method} ${what}: ${problem}`);
  }

  /** The records /api/flows returns for `filter` over the whole range, or the 400 message. */
  async function flowsFor(filter: string): Promise<{ status: number; count: number; error: string }> {
    const path = `/api/flows?${RANGE_QS}&limit=10000&filter=${encodeURIComponent(filter)}`;
    const res = await client.request('GET', path, { authorization: GOOD_AUTH });
    clean(res, 'GET', path);
    const body = JSON.parse(res.body) as { flows?: unknown[]; error?: string };
    return { status: res.status, count: body.flows?.length ?? -1, error: body.error ?? '' };
  }

  it('random query strings on every GET route: 200 or 400 with a JSON error, never 500', async () => {
    await holds(
      fc.asyncProperty(
        fc.constantFrom(...TOKEN_GET_ROUTES),
        queryPairs,
        extraHeaders,
        async (route, pairs, headers) => {
          const path = `${route}?${queryStringOf(pairs)}`;
          const res = await client.request('GET', path, { ...headers, authorization: GOOD_AUTH });
          clean(res, 'GET', path);
          // /api/alerts/x: detection is off in this collector, so no alert has that id.
          const ok = route === '/api/alerts/x' ? [404, 400] : [200, 400];
          if (path.length > 15_000) ok.push(431); // over Node's 16 KiB for the request head
          assert.ok(ok.includes(res.status), `GET ${path}: ${res.status} ${res.body}`);
          if (res.status === 400) {
            const { error } = JSON.parse(res.body) as { error: string };
            assert.equal(typeof error, 'string');
            assert.doesNotMatch(error, SQL_ENGINE_ERROR, `GET ${path}`);
          }
        },
      ),
      2000,
    );
  });

  it('grammar-aware filters: the store answers exactly what the in-memory matcher selects', async () => {
    await holds(
      fc.asyncProperty(grammarFilter, async (filter) => {
        const want = matchingCount(stack.expected, filter);
        const got = await flowsFor(filter);
        if (want === null) {
          assert.equal(got.status, 400, `filter ${JSON.stringify(filter)} is refused`);
          assert.doesNotMatch(got.error, SQL_ENGINE_ERROR);
        } else {
          assert.equal(got.status, 200, `filter ${JSON.stringify(filter)}: ${got.error}`);
          assert.equal(got.count, want, `filter ${JSON.stringify(filter)}`);
        }
      }),
      1500,
    );
  });

  it("string values with quotes and SQL fragments stay literals: x' OR '1'='1 widens nothing", async () => {
    const fields = ['site', 'exporter name', 'if name', 'tag', 'fwevent', 'natevent'];
    for (const field of fields) {
      const none = await flowsFor(`${field} "no-such-value-zz"`);
      assert.equal(none.status, 200);
      assert.equal(none.count, 0, `${field} "no-such-value-zz"`);
      for (const fragment of SQL_FRAGMENTS) {
        for (const quote of ['"', "'"]) {
          const value = `${quote}${fragment.replaceAll('\\', '\\\\').replaceAll(quote, `\\${quote}`)}${quote}`;
          const hit = await flowsFor(`${field} ${value}`);
          if (hit.status === 400) {
            assert.doesNotMatch(hit.error, SQL_ENGINE_ERROR, `${field} ${value}`);
            continue;
          }
          assert.equal(hit.status, 200, `${field} ${value}: ${hit.error}`);
          assert.equal(hit.count, none.count, `${field} ${value} matches no more than an impossible value`);
          const negated = await flowsFor(`not ${field} ${value}`);
          assert.equal(negated.count, total, `not ${field} ${value}`);
        }
      }
    }
    // The same on a column every record has a value in: the exporter's address range.
    const all = await flowsFor("exporter 127.0.0.1 or site \"x' OR '1'='1\"");
    assert.equal(all.count, total);
    const injected = await flowsFor("exporter 10.0.0.0/8 and site \"x' OR '1'='1\"");
    assert.equal(injected.count, 0);
  });

  it('without the right token every protected route answers 401 and no data', async () => {
    const protectedRoutes = stack.api.routes.filter((r) => !PUBLIC.has(r.url));
    assert.ok(protectedRoutes.length >= 8, 'the protected routes are registered');
    await holds(
      fc.asyncProperty(
        fc.constantFrom(...protectedRoutes),
        fc.oneof(fc.constant('x'), unicodeText),
        queryPairs,
        wrongAuth,
        extraHeaders,
        fc.boolean(),
        async (route, id, pairs, auth, headers, head) => {
          // Raw non-ASCII bytes are not HTTP: the parser refuses them (400) before any route runs.
          const query = queryStringOf(pairs).replace(/[^\x21-\x7e]/g, '%C3%A9');
          const path = `${route.url.replace('{id}', encodeURIComponent(id.replace(/[\ud800-\udfff]/g, '_')))}?${query}`;
          // A 431 (too long for the HTTP parser) carries a body that a HEAD's reader cannot frame.
          const method = head && route.method === 'GET' && path.length < 15_000 ? 'HEAD' : route.method;
          const h: Record<string, string> = { ...headers };
          if (auth !== undefined) h.authorization = auth;
          const res = await client.request(method, path, h);
          clean(res, method, path);
          if (res.status === 431 && path.length > 15_000) return;
          assert.equal(res.status, 401, `${method} ${path} with ${JSON.stringify(auth)}: ${res.body}`);
          assert.match(String(res.headers['www-authenticate']), /^Bearer realm="flowgate"/);
          if (method !== 'HEAD') {
            const body = JSON.parse(res.body) as Record<string, unknown>;
            assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'statusCode']);
            assert.doesNotMatch(res.body, DATA_KEYS);
          }
        },
      ),
      2000,
    );
  });

  it('random paths, methods, headers, bodies and credentials: never 500, never the token, no data without it', async () => {
    const publicBodies = new Set<string>();
    for (const path of PUBLIC) publicBodies.add((await client.request('GET', path)).body);
    await holds(
      fc.asyncProperty(
        fc.array(pathSegment, { minLength: 1, maxLength: 5 }),
        queryPairs,
        methods,
        fc.oneof(fc.constant(GOOD_AUTH), wrongAuth),
        extraHeaders,
        fc.option(unicodeText, { freq: 3 }),
        async (segments, pairs, method, auth, headers, body) => {
          const path = fuzzPath(segments, pairs, method);
          if (path === null) return;
          const h: Record<string, string> = { ...headers };
          if (auth !== undefined) h.authorization = auth;
          const sendBody =
            typeof body === 'string' && method !== 'GET' && method !== 'HEAD' ? body : undefined;
          const res = await client.request(method, path, h, sendBody);
          clean(res, method, path);
          if (auth !== GOOD_AUTH && res.status !== 401) {
            // Only a public route (health, the dashboard's static files) or an error answers without a token.
            const what = `${method} ${path} answered ${res.status} without a token: ${res.body.slice(0, 200)}`;
            if (method === 'HEAD' || publicBodies.has(res.body)) return;
            const body = JSON.parse(res.body) as Record<string, unknown>;
            assert.ok(res.status >= 400, what);
            // Fastify's own errors (a malformed URL, an unknown route) add their `code`.
            assert.ok(
              Object.keys(body).every((k) => ['statusCode', 'error', 'message', 'code'].includes(k)),
              what,
            );
          }
        },
      ),
      2000,
    );
  });

  it('the server is still up and serving after all of it', async () => {
    const health = await client.request('GET', '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
    const top = await client.request('GET', `/api/top?${RANGE_QS}`, { authorization: GOOD_AUTH });
    assert.equal(top.status, 200);
    assert.ok((JSON.parse(top.body) as { rows: unknown[] }).rows.length > 0);
    const stored = stack.collector.stats().store;
    assert.equal(stored?.ready, true);
    assert.equal(stored?.lastError ?? null, null);
  });
});
