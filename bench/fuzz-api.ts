/**
 * A longer fuzzing run of the HTTP API than the test suite's (test/fuzz/api.fuzz.test.ts), with a
 * new seed each run (printed, so a failure can be replayed with FUZZ_SEED). In process: the
 * query-parameter parsers, and filter parse + compile to SQL for both stores. Over HTTP (keep-alive,
 * loopback) against the real server and a real DuckDB store: random query strings with the token,
 * grammar-aware filters checked against the in-memory matcher, and protected routes and random
 * paths without the token. Prints cases, seconds and cases per hour for each target and in total.
 *
 *   FUZZ_RUNS=1000000 [FUZZ_HTTP_RUNS=20000] [FUZZ_SEED=123] node --import tsx bench/fuzz-api.ts
 */
import os from 'node:os';
import fc from 'fast-check';
import { DASHBOARD_PATHS } from '../src/serve/routes/dashboard.js';
import {
  checkFilterCompiles,
  checkQueryParams,
  FUZZ_TOKEN,
  filterText,
  fuzzPath,
  GOOD_AUTH,
  grammarFilter,
  matchingCount,
  methods,
  PARAM_ROUTES,
  pathSegment,
  queryObject,
  queryPairs,
  queryStringOf,
  RawClient,
  responseProblem,
  SQL_ENGINE_ERROR,
  timeText,
  unicodeText,
  wrongAuth,
} from '../test/helpers/api-fuzz-inputs.js';
import { RANGE, startStoreStack } from '../test/serve/store-stack.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 200_000);
const HTTP_RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? Math.max(1000, Math.round(RUNS / 50)));
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const NOW = Date.UTC(2024, 0, 1);
const RANGE_QS = `from=${RANGE.fromMs}&to=${RANGE.toMs}`;

interface Row {
  target: string;
  cases: number;
  seconds: number;
  failure: string | null;
}
const rows: Row[] = [];

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(what);
}

async function target(
  name: string,
  numRuns: number,
  property: fc.IProperty<unknown[]> | fc.IAsyncProperty<unknown[]>,
): Promise<void> {
  const t0 = performance.now();
  const run = await fc.check(property as fc.IAsyncProperty<unknown[]>, {
    seed: SEED,
    numRuns,
    endOnFailure: true,
  });
  const seconds = (performance.now() - t0) / 1000;
  let failure: string | null = null;
  if (run.failed) {
    const err = run.errorInstance;
    failure = `${err instanceof Error ? err.message : String(err)} | input (path ${run.counterexamplePath}): ${fc
      .stringify(run.counterexample)
      .slice(0, 1000)}`;
  }
  rows.push({ target: name, cases: run.numRuns, seconds, failure });
  console.log(
    `  ${name}: ${run.numRuns} cases in ${seconds.toFixed(1)} s${failure === null ? '' : `, FAILED: ${failure}`}`,
  );
}

const perHour = (cases: number, seconds: number) => Math.round((cases / seconds) * 3600).toLocaleString('en');

async function main(): Promise<void> {
  console.log(
    `fuzz-api: seed ${SEED}, ${RUNS} in-process and ${HTTP_RUNS} HTTP cases per target; ` +
      `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'})`,
  );
  await target(
    'query-params parsers (in process)',
    RUNS,
    fc.property(queryObject, timeText, (q, t) => checkQueryParams(q, t, NOW)),
  );
  await target(
    'filter parse + compile to SQL (in process)',
    RUNS,
    fc.property(fc.oneof(filterText, grammarFilter), checkFilterCompiles),
  );

  const stack = await startStoreStack(FUZZ_TOKEN);
  const client = new RawClient(stack.api.port);
  try {
    await target(
      'HTTP: random query strings, with the token',
      HTTP_RUNS,
      fc.asyncProperty(fc.constantFrom(...PARAM_ROUTES), queryPairs, async (route, pairs) => {
        const path = `${route}?${queryStringOf(pairs)}`;
        const res = await client.request('GET', path, { authorization: GOOD_AUTH });
        const problem = responseProblem(res, 'GET');
        check(problem === null, `GET ${path}: ${problem}`);
        check(res.status === 200 || res.status === 400 || res.status === 431, `GET ${path}: ${res.status}`);
        check(!SQL_ENGINE_ERROR.test(res.body), `GET ${path}: ${res.body}`);
      }),
    );
    await target(
      'HTTP: grammar filters vs the in-memory matcher',
      Math.max(100, Math.round(HTTP_RUNS / 4)),
      fc.asyncProperty(grammarFilter, async (filter) => {
        const want = matchingCount(stack.expected, filter);
        const path = `/api/flows?${RANGE_QS}&limit=10000&filter=${encodeURIComponent(filter)}`;
        const res = await client.request('GET', path, { authorization: GOOD_AUTH });
        check(responseProblem(res, 'GET') === null, `GET ${path}: ${responseProblem(res, 'GET')}`);
        const body = JSON.parse(res.body) as { flows?: unknown[]; error?: string };
        if (want === null)
          check(res.status === 400 && !SQL_ENGINE_ERROR.test(res.body), `${filter}: ${res.body}`);
        else
          check(
            res.status === 200 && body.flows?.length === want,
            `${filter}: want ${want}, got ${res.body.slice(0, 200)}`,
          );
      }),
    );
    const publicPaths = new Set(['/healthz', ...DASHBOARD_PATHS]);
    const protectedRoutes = stack.api.routes.filter((r) => !publicPaths.has(r.url));
    await target(
      'HTTP: protected routes without the token',
      HTTP_RUNS,
      fc.asyncProperty(
        fc.constantFrom(...protectedRoutes),
        queryPairs,
        wrongAuth,
        async (route, pairs, auth) => {
          const path = `${route.url.replace('{id}', 'x')}?${queryStringOf(pairs).replace(/[^\x21-\x7e]/g, '%C3%A9')}`;
          const res = await client.request(
            route.method,
            path,
            auth === undefined ? {} : { authorization: auth },
          );
          check(
            responseProblem(res, route.method) === null,
            `${path}: ${responseProblem(res, route.method)}`,
          );
          check(res.status === 401 || (res.status === 431 && path.length > 15_000), `${path}: ${res.status}`);
          check(
            res.status !== 401 || /^Bearer realm=/.test(String(res.headers['www-authenticate'])),
            'challenge',
          );
        },
      ),
    );
    const publicBodies = new Set<string>();
    for (const p of publicPaths) publicBodies.add((await client.request('GET', p)).body);
    await target(
      'HTTP: random paths, methods, bodies, credentials',
      HTTP_RUNS,
      fc.asyncProperty(
        fc.array(pathSegment, { minLength: 1, maxLength: 5 }),
        queryPairs,
        methods,
        fc.oneof(fc.constant(GOOD_AUTH), wrongAuth),
        fc.option(unicodeText, { freq: 3 }),
        async (segments, pairs, method, auth, body) => {
          const path = fuzzPath(segments, pairs, method);
          if (path === null) return;
          const sendBody =
            typeof body === 'string' && method !== 'GET' && method !== 'HEAD' ? body : undefined;
          const res = await client.request(
            method,
            path,
            auth === undefined ? {} : { authorization: auth },
            sendBody,
          );
          check(responseProblem(res, method) === null, `${method} ${path}: ${responseProblem(res, method)}`);
          if (auth === GOOD_AUTH || res.status === 401 || method === 'HEAD' || publicBodies.has(res.body))
            return;
          const keys = Object.keys(JSON.parse(res.body) as object);
          check(
            res.status >= 400 && keys.every((k) => ['statusCode', 'error', 'message', 'code'].includes(k)),
            `${method} ${path} without the token: ${res.status} ${res.body.slice(0, 200)}`,
          );
        },
      ),
    );
    const health = await client.request('GET', '/healthz');
    check(health.status === 200, `/healthz after the run: ${health.status}`);
    console.log('  /healthz after the run: 200');
  } finally {
    client.close();
    await stack.close();
  }

  const total = rows.reduce((t, r) => ({ cases: t.cases + r.cases, seconds: t.seconds + r.seconds }), {
    cases: 0,
    seconds: 0,
  });
  console.log('\n| target | cases | seconds | cases/hour | result |\n|---|---:|---:|---:|---|');
  for (const r of rows) {
    const result = r.failure === null ? 'ok' : 'FAILED';
    console.log(
      `| ${r.target} | ${r.cases} | ${r.seconds.toFixed(1)} | ${perHour(r.cases, r.seconds)} | ${result} |`,
    );
  }
  console.log(
    `| total | ${total.cases} | ${total.seconds.toFixed(1)} | ${perHour(total.cases, total.seconds)} | |`,
  );
  if (rows.some((r) => r.failure !== null)) process.exitCode = 1;
}

await main();
