/**
 * Hostile inputs for the HTTP API, shared by test/fuzz/api.fuzz.test.ts and the longer
 * bench/fuzz-api.ts: query strings (known and random keys; huge, negative, non-numeric and unicode
 * values; repeated keys; broken percent-encoding), filter expressions (grammar-aware, with string
 * values full of quotes, backslashes and SQL fragments, and token soup), paths, methods, headers and
 * Authorization values that are wrong by construction, a keep-alive HTTP client that keeps the
 * raw request path (fetch would normalise it), and the checks both apply to what comes back.
 */
import http from 'node:http';
import fc from 'fast-check';
import type { FilterExpr } from '../../src/query/filter-ast.js';
import { matchFilter } from '../../src/query/filter-match.js';
import { FilterSyntaxError, parseFilter } from '../../src/query/filter-parse.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import {
  parseBucket,
  parseDimension,
  parseFilterParam,
  parseGroupBy,
  parseLimit,
  parseMetric,
  parseRange,
  parseTime,
  QueryParamError,
  type QueryString,
} from '../../src/serve/query-params.js';
import { parseAlertQuery } from '../../src/serve/routes/alerts.js';
import { CLICKHOUSE_DIALECT, filterToSql } from '../../src/store/sql/filter-sql.js';

/** The API token of the fuzzed server; no generator below ever produces it as a valid credential. */
export const FUZZ_TOKEN = 'fuzz-T0ken_9c2e71d4a8b3f5';
export const GOOD_AUTH = `Bearer ${FUZZ_TOKEN}`;

export const QUERY_ROUTES = ['/api/flows', '/api/top', '/api/timeseries', '/api/exporters'] as const;
export const PARAM_ROUTES = [...QUERY_ROUTES, '/api/alerts'] as const;
/** Every GET route that needs the token: with it, each answers 200 or a 400 for bad parameters. */
export const TOKEN_GET_ROUTES = [
  ...PARAM_ROUTES,
  '/api/templates',
  '/api/alerts/x',
  '/stats',
  '/metrics',
  '/readyz',
  '/api/openapi.json',
] as const;

export const PARAM_KEYS = [
  'from',
  'to',
  'filter',
  'limit',
  'dimension',
  'metric',
  'bucket',
  'groupby',
  'state',
  'kind',
  'target',
  'exporter',
] as const;

/** Strings that end or escape a SQL literal, comment out the rest, or smuggle a second statement. */
export const SQL_FRAGMENTS = [
  "x' OR '1'='1",
  "' OR 1=1 --",
  "'; DROP TABLE flows; --",
  "') OR ('a'='a",
  "' UNION SELECT * FROM duckdb_settings() --",
  "\\' OR 1=1 --",
  '\\',
  "\\'",
  "''",
  "'",
  '"',
  '""',
  '`',
  ';',
  '--',
  '/*',
  '*/',
  '$$',
  '%',
  '_',
  "E'\\x00'",
  "'::INTEGER",
  "' || (SELECT 1) || '",
  '\n',
  '\r\n',
  '\t',
  '\0',
  'a\0b',
  "x'; ATTACH '/tmp/x.db' AS x; --",
  '\u2019 OR \u20181\u2019=\u20181',
  '\uff07 OR 1=1',
];

const SPECIAL_NUMBERS = [
  'NaN',
  'Infinity',
  '-Infinity',
  '1e309',
  '-1e309',
  '1e3',
  '-0',
  '0',
  '0x10',
  '0b11',
  '1.5',
  '+1',
  '00000000000000000001',
  '9'.repeat(400),
  `-${'9'.repeat(400)}`,
  '9007199254740993',
  '8640000000000000',
  '8640000000000001',
  '-8640000000000001',
  '18446744073709551616',
  '',
  ' ',
  '٣',
  '１２３',
];

const BAD_TIMES = [
  '2024-13-45T99:99:99Z',
  '2024-01-01T00:00:00+99:00',
  '+275760-09-13T00:00:00Z',
  '275760-09-14T00:00:00Z',
  '0000-01-01',
  '9999-12-31T23:59:59.999Z',
  '2024-02-30',
  '2024-01-01T00:00:00.000000000001Z',
  '1970-01-01',
  'yesterday',
  'now',
];

const ENUM_WORDS = [
  'srcip',
  'DSTIP',
  'dstport',
  'protocol',
  'exporter',
  'flowtype',
  'bits',
  'PACKETS',
  'flows',
  'bytes',
  'active',
  'ended',
  'volumetric',
  'scan',
  'İ',
  'ſrcip',
];

export const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.double().map(String),
  fc.constantFrom(...SPECIAL_NUMBERS),
);

export const timeText: fc.Arbitrary<string> = fc.oneof(
  numberText,
  fc
    .date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc.integer({ min: 0, max: 2 ** 31 }).map((ms) => new Date(ms * 1000).toISOString().slice(0, 10)),
  fc.constantFrom(...BAD_TIMES),
);

/** Any unicode (lone surrogates included: encodeURIComponent refuses them, so they go raw-escaped). */
export const unicodeText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(...SQL_FRAGMENTS),
);

/** One path segment: route names, dot segments, broken percent-encoding, or random text encoded. */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    ...['api', 'flows', 'top', 'timeseries', 'exporters', 'alerts', 'templates', 'reload', 'openapi.json'],
    ...['healthz', 'readyz', 'stats', 'metrics', 'dashboard', 'app.js', '..', '.', '', '%2e%2e', '%2F'],
    ...['%00', '%', '%zz', 'é'],
  ),
  unicodeText.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '_'))),
);

/**
 * The request path for random segments and query pairs; null to skip the case. HEAD gets ASCII
 * only and no huge path: a refused request's error body would be read as the next response.
 */
export function fuzzPath(segments: string[], pairs: QueryPair[], method: string): string | null {
  const path = `/${segments.join('/')}${pairs.length > 0 ? `?${queryStringOf(pairs)}` : ''}`;
  if (method !== 'HEAD') return path;
  return path.length > 15_000 ? null : path.replace(/[^\x21-\x7e]/g, '%C3%A9');
}

// ---- filter expressions ----

const RECORD_PORTS = ['11963', '53', '80', '443', '0', '65535', '65536', '4294967296'];
const RECORD_ADDRESSES = ['127.0.0.1', '10.19.144.41', '192.168.0.1', '0.0.0.0', '::1', '::ffff:1.2.3.4'];

function quoted(s: string, quote: '"' | "'"): string {
  return `${quote}${s.replaceAll('\\', '\\\\').replaceAll(quote, `\\${quote}`)}${quote}`;
}

/** A string value for a string field: quoted properly, quoted carelessly, or bare. */
export const filterString: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.oneof(fc.constantFrom(...SQL_FRAGMENTS), unicodeText),
      fc.constantFrom('"', "'") as fc.Arbitrary<'"' | "'">,
    )
    .map(([s, q]) => quoted(s, q)),
  fc.constantFrom(...SQL_FRAGMENTS).map((s) => `"${s}"`),
  fc.constantFrom(...SQL_FRAGMENTS).map((s) => `'${s}'`),
  fc.constantFrom('edge', 'x', 'create', 'ingress', 'a-b', 'NAT44'),
);

const address: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...RECORD_ADDRESSES),
  fc.ipV4(),
  fc.ipV6(),
  fc.ipV4Extended(),
  fc.tuple(fc.ipV4(), fc.integer({ min: -1, max: 40 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 130 })).map(([a, p]) => `${a}/${p}`),
  fc.constantFrom('10/8', '172.16/12', '10.0.0.0/8', '2001:db8::/32', '::/0', '0.0.0.0/0', '1.2.3.4/'),
);

const numberWord: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...RECORD_PORTS),
  fc.nat().map(String),
  fc.tuple(fc.nat(70000), fc.nat(70000)).map(([a, b]) => `${a}-${b}`),
  fc.constantFrom(...SPECIAL_NUMBERS.filter((s) => s.trim() !== '')),
);

const op = fc.constantFrom('', '= ', '== ', '!= ', '< ', '<= ', '> ', '>= ', 'eq ', 'ne ', 'gt ', 'le ');
const dir = fc.constantFrom('', 'src ', 'dst ', 'src or dst ', 'src and dst ');

const predicate: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(dir, op, numberWord).map(([d, o, n]) => `${d}port ${o}${n}`),
  fc
    .tuple(dir, fc.array(numberWord, { minLength: 1, maxLength: 5 }))
    .map(([d, ns]) => `${d}port in [${ns.join(' ')}]`),
  fc.tuple(dir, address).map(([d, a]) => `${d}host ${a}`),
  fc.tuple(dir, address).map(([d, a]) => `${d}net ${a}`),
  address.map((a) => `exporter ${a}`),
  fc.tuple(fc.constantFrom('nexthop', 'bgpnexthop', 'natip', 'xip'), address).map(([k, a]) => `${k} ${a}`),
  fc
    .tuple(
      fc.constantFrom('proto', 'bytes', 'bits', 'packets', 'duration', 'tos', 'as', 'vlan', 'mask'),
      op,
      numberWord,
    )
    .map(([k, o, n]) => `${k} ${o}${n}`),
  fc.constantFrom(
    'tcp',
    'udp',
    'icmp',
    'icmp6',
    'gre',
    'ipv4',
    'ipv6',
    'any',
    'proto tcp',
    'proto ipv6-icmp',
  ),
  fc
    .tuple(
      fc.constantFrom(
        'site',
        'exporter name',
        'if name',
        'in if name',
        'out if name',
        'tag',
        'fwevent',
        'natevent',
      ),
      fc.constantFrom('', '= ', '!= ', 'ne ', 'eq '),
      filterString,
    )
    .map(([k, o, s]) => `${k} ${o}${s}`),
  fc
    .tuple(
      fc.constantFrom('site', 'tag', 'exporter name'),
      fc.array(filterString, { minLength: 1, maxLength: 4 }),
    )
    .map(([k, ss]) => (k === 'tag' ? `tag ${ss[0]}` : `${k} in [${ss.join(', ')}]`)),
  fc
    .tuple(dir, fc.constantFrom('US', 'de', 'XX', '"US"', "'fr'", 'USA', "U'"))
    .map(([d, c]) => `${d}country ${c}`),
  fc.constantFrom('netflow', 'sflow', 'NETFLOW', 'aws', "netflow'", 'x').map((t) => `flowtype ${t}`),
  fc.constantFrom('S', 'SA', 'FSRPAUECN', '2', '511', '512', '0', 'Z').map((f) => `flags ${f}`),
  fc.tuple(fc.constantFrom('in if', 'out if', 'if'), numberWord).map(([k, n]) => `${k} ${n}`),
);

/** Filter text from the language's grammar: mostly valid, with hostile values. */
export const grammarFilter: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    predicate,
    tie('expr').map((e) => `not ${e}`),
    tie('expr').map((e) => `!${e}`),
    tie('expr').map((e) => `(${e})`),
    fc
      .tuple(tie('expr'), fc.constantFrom(' and ', ' or ', ' && ', ' || ', '&&', '||'), tie('expr'))
      .map(([a, o, b]) => `${a}${o}${b}`),
  ),
})).expr;

const SOUP_TOKENS = [
  'src',
  'dst',
  'host',
  'net',
  'port',
  'and',
  'or',
  'not',
  '(',
  ')',
  '[',
  ']',
  ',',
  'in',
  '!',
  '&&',
  '||',
  '&',
  '|',
  '=',
  '<',
  '>=',
  'site',
  'tag',
  'name',
  'exporter',
  'if',
  'flags',
  'proto',
  'any',
  '"',
  "'",
  '\\',
  '53',
  '10.0.0.0/8',
  '::',
];

/** Tokens of the language in random order, and filters that only look like filters. */
export const soupFilter: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(fc.oneof(fc.constantFrom(...SOUP_TOKENS), fc.constantFrom(...SQL_FRAGMENTS), unicodeText), {
      maxLength: 12,
    })
    .chain((ts) => fc.constantFrom(ts.join(' '), ts.join(''))),
  fc.constantFrom(
    '(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((port 53',
    `${'not '.repeat(70)}tcp`,
    `${'!'.repeat(65)}tcp`,
    Array(900).fill('ah').join('||'),
    Array(900).fill('ah').join('&&'),
    `port in [${Array(257).fill('1').join(' ')}]`,
    `port in [${Array(256).fill('1').join(',')}]`,
    'x'.repeat(5000),
    `site "${'\\'.repeat(3000)}"`,
  ),
);

export const filterText: fc.Arbitrary<string> = fc.oneof(grammarFilter, soupFilter, unicodeText);

// ---- query strings ----

/** One query-string value, by what a key usually holds and then anything. */
const paramValue: fc.Arbitrary<string> = fc.oneof(
  timeText,
  numberText,
  filterText,
  fc.constantFrom(...ENUM_WORDS),
  unicodeText,
);

const paramKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PARAM_KEYS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'filter[]', 'a[b]', 'FROM', ''),
  },
  { weight: 1, arbitrary: unicodeText },
);

/** Raw pieces that are not valid percent-encoding, or that change how the query string splits. */
const GARBAGE = [
  '%',
  '%z',
  '%zz',
  '%C3',
  '%C3%28',
  '%ED%A0%80',
  '%00',
  '%FF',
  '+',
  '&',
  '&&',
  '=',
  '==',
  ';',
  '#',
  '?',
  'é',
  '%25',
];

/** A query-string component: percent-encoded, or with raw garbage spliced in. */
function encoded(s: string, garbage: string | null, at: number): string {
  let e: string;
  try {
    e = encodeURIComponent(s);
  } catch {
    // A lone surrogate: its UTF-16 code unit as Latin-1-ish escapes (invalid UTF-8 on purpose).
    e = [...s]
      .map((c) => (c.length === 1 && c.charCodeAt(0) >= 0xd800 ? '%ED%B0%80' : encodeURIComponent(c)))
      .join('');
  }
  if (garbage === null) return e;
  const i = at % (e.length + 1);
  return e.slice(0, i) + garbage + e.slice(i);
}

export interface QueryPair {
  key: string;
  value: string;
  garbage: string | null;
  at: number;
}

export const queryPairs: fc.Arbitrary<QueryPair[]> = fc.array(
  fc.record({
    key: paramKey,
    value: paramValue,
    garbage: fc.option(fc.constantFrom(...GARBAGE), { freq: 4 }),
    at: fc.nat(),
  }),
  { maxLength: 8 },
);

export function queryStringOf(pairs: readonly QueryPair[]): string {
  return pairs.map((p) => `${encoded(p.key, null, 0)}=${encoded(p.value, p.garbage, p.at)}`).join('&');
}

/** What the route handlers receive (Fastify's querystring parser: strings, arrays when repeated). */
export const queryObject: fc.Arbitrary<QueryString> = fc
  .array(fc.tuple(paramKey, paramValue), { maxLength: 8 })
  .map((pairs) => {
    const q: QueryString = Object.create(null);
    for (const [k, v] of pairs) {
      const had = q[k];
      q[k] = had === undefined ? v : [...[had].flat(), v];
    }
    return q;
  });

// ---- requests ----

export const methods = fc.constantFrom(
  'GET',
  'GET',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
);

const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 60,
});

/** Extra request headers (never Host, framing, Expect or Authorization: those are chosen elsewhere). */
export const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'accept',
      'accept-encoding',
      'content-type',
      'x-forwarded-for',
      'cookie',
      'range',
      'if-none-match',
      'origin',
    ),
    fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
  ),
  fc.oneof(
    headerValue,
    fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'gzip, br',
      'bytes=0-1',
      '*/*',
    ),
  ),
  { maxKeys: 4 },
);

/** Authorization values that must all be refused: absent, malformed, near misses of the token. */
export const wrongAuth: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(
    '',
    'Bearer',
    'Bearer ',
    FUZZ_TOKEN,
    `Basic ${Buffer.from(`user:${FUZZ_TOKEN}`).toString('base64')}`,
    `Bearer ${FUZZ_TOKEN}x`,
    `Bearer x${FUZZ_TOKEN}`,
    `Bearer ${FUZZ_TOKEN.slice(0, -1)}`,
    `Bearer ${FUZZ_TOKEN.toUpperCase()}`,
    `Bearer ${FUZZ_TOKEN} ${FUZZ_TOKEN}`,
    `Bearer\u00a0${FUZZ_TOKEN}`,
    `Bearer,${FUZZ_TOKEN}`,
    `Token ${FUZZ_TOKEN}`,
  ),
  headerValue.map((v) => `Bearer ${v}`),
  headerValue,
);

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Keep-alive HTTP/1.1 to 127.0.0.1: the path goes out as given (bytes 0x21-0xff). */
export class RawClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  constructor(private readonly port: number) {}

  /**
   * One request. A request a reused keep-alive socket could not carry is sent once more on a new
   * one (Node's documented pattern): a 400 for a URL the HTTP parser refuses closes the connection
   * without a `Connection: close` header, so the agent may already have picked that socket again.
   */
  async request(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<RawResponse> {
    try {
      return await this.once(method, path, headers, body);
    } catch (err) {
      if (!(err as { reusedSocket?: boolean }).reusedSocket) throw err;
      return this.once(method, path, headers, body);
    }
  }

  private once(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: this.port, method, path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.on('error', (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        reject(
          Object.assign(err, {
            reusedSocket: req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE'),
          }),
        );
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Why a response is not a clean answer (status < 500, JSON error body on 4xx, token absent), or null. */
export function responseProblem(res: RawResponse, method: string): string | null {
  if (!Number.isInteger(res.status) || res.status < 100 || res.status > 599) return `status ${res.status}`;
  if (res.status >= 500) return `status ${res.status}: ${res.body.slice(0, 300)}`;
  const headerText = JSON.stringify(res.headers);
  if (headerText.includes(FUZZ_TOKEN) || res.body.includes(FUZZ_TOKEN)) return 'the token is in the response';
  // Node's HTTP parser refuses a request line and headers over 16 KiB before any route runs.
  if (res.status === 431 && res.body === '') return null;
  const json = /application\/json/.test(String(res.headers['content-type'] ?? ''));
  if (res.status >= 400 && method !== 'HEAD') {
    if (!json) return `${res.status} without a JSON body (${res.headers['content-type']})`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      return `${res.status} with a body that is not JSON: ${res.body.slice(0, 200)}`;
    }
    const o = parsed as { error?: unknown; message?: unknown };
    if (typeof o.error !== 'string' && typeof o.message !== 'string')
      return `${res.status} without a message`;
  }
  if (json && method !== 'HEAD' && res.body !== '') {
    try {
      JSON.parse(res.body);
    } catch {
      return 'a JSON content-type with a body that is not JSON';
    }
  }
  return null;
}

/** Messages that would mean the filter reached the SQL engine as SQL text, not as a literal. */
export const SQL_ENGINE_ERROR =
  /(Parser|Binder|Conversion|Catalog|Invalid Input|Out of Range) Error:|syntax error at or near/;

// ---- in-process checks ----

/** Returns what `f` returns, null for a QueryParamError; anything else it throws is a finding. */
function valueOrParamError<T>(what: string, f: () => T): T | null {
  try {
    return f();
  } catch (err) {
    if (err instanceof QueryParamError) return null;
    throw new Error(`${what} threw ${(err as Error)?.name}: ${(err as Error)?.stack ?? String(err)}`);
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

/**
 * Every query-parameter parser on `q` (and parseTime on `time`) returns a sane value or throws a
 * QueryParamError; a filter they accept compiles to SQL for both stores. Throws what it found.
 */
export function checkQueryParams(q: QueryString, time: string, nowMs: number): void {
  const range = valueOrParamError('parseRange', () => parseRange(q, nowMs));
  if (range !== null) {
    check(Number.isFinite(range.fromMs) && range.fromMs < range.toMs, `range ${JSON.stringify(range)}`);
    const bucket = valueOrParamError('parseBucket', () => parseBucket(q, range));
    check(bucket === null || (Number.isSafeInteger(bucket) && bucket >= 1), `bucket ${bucket}`);
  }
  const limit = valueOrParamError('parseLimit', () => parseLimit(q, 100, 10_000));
  check(limit === null || (Number.isInteger(limit) && limit >= 1 && limit <= 10_000), `limit ${limit}`);
  valueOrParamError('parseDimension', () => parseDimension(q, 'dimension', 'srcip'));
  valueOrParamError('parseMetric', () => parseMetric(q));
  valueOrParamError('parseGroupBy', () => parseGroupBy(q));
  valueOrParamError('parseAlertQuery', () => parseAlertQuery(q));
  const ms = valueOrParamError('parseTime', () => parseTime(time, 'from'));
  check(ms === null || Number.isFinite(new Date(ms).getTime()), `time ${JSON.stringify(time)} -> ${ms}`);
  const filter = valueOrParamError('parseFilterParam', () => parseFilterParam(q));
  if (filter !== null) {
    filterToSql(filter);
    filterToSql(filter, CLICKHOUSE_DIALECT);
  }
}

/** A filter either fails to parse (FilterSyntaxError, QueryParamError) or compiles for both stores. */
export function checkFilterCompiles(text: string): void {
  try {
    parseFilter(text);
  } catch (err) {
    if (!(err instanceof FilterSyntaxError)) throw new Error(`parseFilter threw ${(err as Error).stack}`);
  }
  const expr = valueOrParamError('parseFilterParam', () => parseFilterParam({ filter: text }));
  if (expr !== null) {
    filterToSql(expr);
    filterToSql(expr, CLICKHOUSE_DIALECT);
  }
}

/** How many of `records` the in-memory matcher selects with `filter`; null when it is refused (400). */
export function matchingCount(records: readonly FlowRecord[], filter: string): number | null {
  let expr: FilterExpr | null;
  try {
    expr = parseFilterParam({ filter });
  } catch (err) {
    if (err instanceof QueryParamError) return null;
    throw err;
  }
  return expr === null ? records.length : records.filter((r) => matchFilter(expr, r)).length;
}
