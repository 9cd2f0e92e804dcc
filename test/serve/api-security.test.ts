/**
 * The API's defences, each tried on a real server over loopback: the security headers of the
 * dashboard and of data responses, no CORS, the limits on request size and on how long a client
 * may take (slowloris), the constant-time token comparison, and (end to end, `flowgate collect`
 * with every secret-bearing setting set) that no secret reaches a response or a log line.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mock, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CollectorStats } from '../../src/collector.js';
import {
  type ApiServerOptions,
  BODY_LIMIT,
  DATA_CSP,
  HTTP_LIMITS,
  MAX_PARAM_LENGTH,
  SECURITY_HEADERS,
  startApiServer,
} from '../../src/serve/api-server.js';
import { BearerAuth } from '../../src/serve/auth.js';
import { OPENAPI_DOCUMENT } from '../../src/serve/openapi.js';
import { DASHBOARD_CSP, DASHBOARD_PATHS } from '../../src/serve/routes/dashboard.js';
import { quietLogger } from '../collector/helpers.js';
import { REPO_ROOT } from '../helpers/collector-process.js';
import { heavyTcpV5 } from '../helpers/netflow5-heavy-flow.js';
import { freePort, stopProcess, waitForOutput } from '../helpers/traffic.js';
import { startStack } from './helpers.js';

const TOKEN = 'security-test-token-0123456789';

const server = (over: Partial<ApiServerOptions> = {}) =>
  startApiServer({
    listen: '127.0.0.1:0',
    token: null,
    allowNoToken: false,
    collector: { stats: () => ({ listeners: [] }) as unknown as CollectorStats },
    templates: () => [],
    reload: async () => ({ applied: [], needsRestart: [] }),
    logger: quietLogger,
    ...over,
  });

function assertSecurityHeaders(r: Response, csp: string, what: string): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS))
    assert.equal(r.headers.get(name), value, `${what}: ${name}`);
  assert.equal(r.headers.get('content-security-policy'), csp, what);
  assert.equal(r.headers.get('strict-transport-security'), null, `${what}: no HSTS over plain HTTP`);
}

test('dashboard: every page file carries the strict CSP and the security headers; the page has no inline code', async () => {
  const s = await startStack({ token: TOKEN });
  try {
    for (const path of DASHBOARD_PATHS) {
      const r = await fetch(`${s.base}${path}`);
      assert.equal(r.status, 200, path);
      assertSecurityHeaders(r, DASHBOARD_CSP, path);
      await r.arrayBuffer();
    }
    for (const directive of [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "object-src 'none'",
    ])
      assert.ok(DASHBOARD_CSP.split('; ').includes(directive), directive);
    assert.doesNotMatch(DASHBOARD_CSP, /unsafe|\*/);
    // What the CSP would refuse: inline scripts, style elements or attributes, event handlers.
    const html = await (await fetch(`${s.base}/`)).text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=|javascript:/i);
    // Data responses, answered or refused, carry the data policy.
    for (const [path, status] of [
      ['/healthz', 200],
      ['/stats', 401],
      ['/nope', 401],
    ] as const) {
      const r = await fetch(`${s.base}${path}`);
      assert.equal(r.status, status, path);
      assertSecurityHeaders(r, DATA_CSP, path);
    }
    const stats = await fetch(`${s.base}/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(stats.status, 200);
    assertSecurityHeaders(stats, DATA_CSP, '/stats with the token');
  } finally {
    await s.close();
  }
});

test('CORS is off: no Access-Control-Allow-* for another origin, preflights included', async () => {
  for (const token of [TOKEN, null]) {
    const s = await startStack({ token });
    try {
      const origin = { origin: 'https://evil.example' };
      const auth: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
      const answers = [
        await fetch(`${s.base}/healthz`, { headers: origin }),
        await fetch(`${s.base}/stats`, { headers: { ...origin, ...auth } }),
        await fetch(`${s.base}/stats`, { headers: origin }),
        await fetch(`${s.base}/stats`, {
          method: 'OPTIONS',
          headers: {
            ...origin,
            'access-control-request-method': 'GET',
            'access-control-request-headers': 'authorization',
          },
        }),
        await fetch(`${s.base}/api/reload`, {
          method: 'OPTIONS',
          headers: { ...origin, 'access-control-request-method': 'POST' },
        }),
      ];
      assert.equal(answers[0].status, 200);
      assert.equal(answers[1].status, 200);
      // A preflight is never answered with permission: unknown route (404) or no token (401).
      assert.ok(answers[3].status === 404 || answers[3].status === 401, String(answers[3].status));
      for (const r of answers) {
        const cors = [...r.headers.keys()].filter((h) => h.startsWith('access-control-'));
        assert.deepEqual(cors, [], `${r.url} ${r.status}`);
        await r.arrayBuffer();
      }
    } finally {
      await s.close();
    }
  }
});

test('size limits: a body over 64 KiB is 413; a request head over 16 KiB is 431; a longer path parameter than any id is 414', async () => {
  const api = await server();
  const base = `http://127.0.0.1:${api.port}`;
  try {
    const post = (body: string | ReadableStream, headers: Record<string, string> = {}) =>
      fetch(`${base}/api/reload`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        duplex: 'half',
      } as RequestInit);
    const json = (n: number) => JSON.stringify({ pad: 'x'.repeat(n - 10) });
    assert.equal(json(BODY_LIMIT).length, BODY_LIMIT);
    assert.equal((await post(json(BODY_LIMIT))).status, 200, 'exactly the limit is accepted');
    const big = await post(json(BODY_LIMIT + 1));
    assert.equal(big.status, 413);
    // The same without Content-Length (chunked): counted as it arrives.
    const chunks = [json(BODY_LIMIT + 1)];
    const stream = new ReadableStream({
      pull(c) {
        const next = chunks.shift();
        if (next === undefined) c.close();
        else c.enqueue(new TextEncoder().encode(next));
      },
    });
    assert.equal((await post(stream)).status, 413);

    assert.equal(HTTP_LIMITS.maxHeaderBytes, 16 * 1024);
    assert.equal((await fetch(`${base}/healthz?q=${'a'.repeat(8 * 1024)}`)).status, 200, '8 KiB URL');
    assert.equal((await fetch(`${base}/healthz?q=${'a'.repeat(20 * 1024)}`)).status, 431, '20 KiB URL');
    assert.equal(
      (await fetch(`${base}/healthz`, { headers: { 'x-big': 'a'.repeat(20 * 1024) } })).status,
      431,
    );

    const longest = await fetch(`${base}/api/alerts/${'a'.repeat(MAX_PARAM_LENGTH)}`);
    assert.equal(longest.status, 404);
    assert.match(await longest.text(), /detection is off/, 'the route answered');
    const tooLong = await fetch(`${base}/api/alerts/${'a'.repeat(MAX_PARAM_LENGTH + 1)}`);
    assert.equal(tooLong.status, 414);
  } finally {
    await api.close();
  }
});

/** A raw connection to the API: everything it receives, and a promise of its closing. */
function rawConnection(port: number): { socket: net.Socket; received: () => string; closed: Promise<void> } {
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    data += d;
  });
  // Writes after the server closed the connection fail (EPIPE): that is the point.
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => data, closed };
}

/** Writes `piece(i)` every intervalMs until the connection closes; how many pieces went out. */
async function dribble(c: ReturnType<typeof rawConnection>, piece: (i: number) => string, limit: number) {
  let sent = 0;
  let open = true;
  void c.closed.then(() => {
    open = false;
  });
  while (open && sent < limit) {
    c.socket.write(piece(sent++));
    await sleep(100);
  }
  return { sent, open };
}

test('slow clients are closed: headers dribbled (slowloris) and a body dribbled get 408', async () => {
  const api = await server({
    httpLimits: { headersTimeoutMs: 500, requestTimeoutMs: 1_000, timeoutCheckIntervalMs: 100 },
  });
  try {
    const heads = rawConnection(api.port);
    heads.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    // 200 header lines at 10 per second would take 20 s: the server must close long before.
    const h = await dribble(heads, (i) => `X-Pad-${i}: y\r\n`, 200);
    assert.equal(h.open, false, 'connection still open after 200 dribbled header lines');
    assert.match(heads.received(), /^HTTP\/1\.1 408 Request Timeout/);

    const body = rawConnection(api.port);
    body.socket.write(
      'POST /api/reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000\r\n\r\n',
    );
    const b = await dribble(body, () => ' ', 200);
    assert.equal(b.open, false, 'connection still open after 200 dribbled body bytes');
    assert.match(body.received(), /^HTTP\/1\.1 408 Request Timeout/);
  } finally {
    await api.close();
  }
});

test('idle connections are closed: a silent new one (connection timeout) and a kept-alive one', async () => {
  const api = await server({
    httpLimits: {
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      connectionTimeoutMs: 300,
      keepAliveTimeoutMs: 1_000,
    },
  });
  try {
    const silent = rawConnection(api.port);
    const s = await Promise.race([silent.closed.then(() => 'closed'), sleep(15_000).then(() => 'open')]);
    assert.equal(s, 'closed', 'a connection that sends nothing is closed');
    assert.equal(silent.received(), '');

    const kept = rawConnection(api.port);
    kept.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const k = await Promise.race([kept.closed.then(() => 'closed'), sleep(15_000).then(() => 'open')]);
    assert.equal(k, 'closed', 'an idle kept-alive connection is closed');
    assert.match(kept.received(), /^HTTP\/1\.1 200 OK/);
    assert.match(kept.received(), /\r\nkeep-alive: timeout=1\r\n/i, 'the client was told the timeout');
  } finally {
    await api.close();
  }
});

test('the defaults are explicit and bound slow clients', () => {
  assert.deepEqual(HTTP_LIMITS, {
    maxHeaderBytes: 16_384,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    connectionTimeoutMs: 120_000,
    keepAliveTimeoutMs: 5_000,
    timeoutCheckIntervalMs: 1_000,
  });
  assert.ok(HTTP_LIMITS.headersTimeoutMs <= HTTP_LIMITS.requestTimeoutMs, 'Node requires it');
});

test('tokens of any length or shared prefix are compared with crypto.timingSafeEqual on equal-length SHA-256 digests', (t) => {
  const compare = t.mock.method(crypto, 'timingSafeEqual');
  try {
    const auth = new BearerAuth(TOKEN);
    const sha = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest();
    const wrong = [
      'a',
      TOKEN.slice(0, 1),
      TOKEN.slice(0, 8),
      TOKEN.slice(0, -1),
      `${TOKEN}x`,
      `x${TOKEN}`,
      TOKEN.toUpperCase(),
      `${TOKEN.slice(0, -1)}${String.fromCharCode(TOKEN.charCodeAt(TOKEN.length - 1) + 1)}`,
      'ü€😀'.repeat(3),
      'z'.repeat(10_000),
    ];
    for (const candidate of [...wrong, TOKEN]) {
      const before = compare.mock.callCount();
      const result = auth.check(`Bearer ${candidate}`);
      assert.equal(result, candidate === TOKEN ? 'ok' : 'invalid', candidate.slice(0, 40));
      assert.equal(compare.mock.callCount(), before + 1, `one comparison for ${candidate.slice(0, 40)}`);
      const [given, expected] = compare.mock.calls[before].arguments as [Buffer, Buffer];
      assert.equal(given.length, 32);
      assert.equal(expected.length, 32);
      assert.deepEqual(given, sha(candidate), 'the digest of what was sent, not the text');
      assert.deepEqual(expected, sha(TOKEN));
    }
  } finally {
    mock.restoreAll();
  }
});

// ---- end to end: no secret in any response or log line ----

/** A distinctive value per secret-bearing setting; none may appear in any answer or log. */
const MARK = (what: string) => `fgsecret${what}${crypto.randomBytes(6).toString('hex')}`;

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** Stands in for the ingest endpoint, the webhook receiver, S3 and Azure: records, answers 500. */
async function recordingHttpServer(): Promise<{
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}> {
  const requests: Recorded[] = [];
  const srv = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => res.writeHead(500, { 'content-type': 'text/plain' }).end('unavailable'));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

/** A UDP socket keeping every datagram (syslog lines, SNMP requests). */
async function udpSink(): Promise<{ port: number; datagrams: Buffer[]; close(): void }> {
  const sock = createSocket('udp4');
  const datagrams: Buffer[] = [];
  sock.on('message', (m) => datagrams.push(m));
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return { port: sock.address().port, datagrams, close: () => sock.close() };
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

test('flowgate collect with every secret set: no secret in any response (body or header) or log line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-api-secrets-'));
  const http = await recordingHttpServer();
  const syslog = await udpSink();
  const snmp = await udpSink();
  const udpPort = await freePort('udp');
  const apiPort = await freePort('tcp');
  const m = {
    apiToken: MARK('apitoken'),
    wrongToken: MARK('wrongtoken'),
    ingestToken: MARK('ingesttoken'),
    ingestHeader: MARK('ingestheader'),
    clickhouse: MARK('clickhouse'),
    community: MARK('community'),
    authKey: MARK('snmpauth'),
    privKey: MARK('snmppriv'),
    hookPath: MARK('hookpath'),
    hookHeader: MARK('hookheader'),
    s3Secret: MARK('s3secret'),
    // Azure account keys are base64; this one decodes to bytes, its text is the marker.
    azureKey: Buffer.from(MARK('azurekey')).toString('base64'),
  };
  // After the reload: every secret in the file changed, the old and the new must stay out.
  const m2 = Object.fromEntries(Object.entries(m).map(([k, v]) => [k, `${v}v2`])) as typeof m;
  const hook = (marks: typeof m) => `http://127.0.0.1:${http.port}/hook/${marks.hookPath}`;
  const config = (marks: typeof m) => ({
    general: { datadir: dir, templatedb: join(dir, 'templates.json') },
    flow: { listen: [`127.0.0.1:${udpPort}`] },
    store: { dir: join(dir, 'flows'), clickhouse: { password: marks.clickhouse } },
    output: {
      ingest: {
        url: `http://127.0.0.1:${http.port}/ingest`,
        headers: { 'X-Api-Key': marks.ingestHeader },
        flushcount: 1,
        flushinterval: 0.2,
        retries: 1,
        retryinterval: 0.1,
        spool: { dir: join(dir, 'spool') },
      },
    },
    snmp: {
      enabled: true,
      port: snmp.port,
      timeout: 200,
      retries: 0,
      authkey: marks.authKey,
      privkey: marks.privKey,
    },
    detection: { thresholds: { pps: 100_000 }, exportersilent: null },
    notify: {
      webhooks: [
        {
          url: hook(marks),
          headers: { authorization: `Bearer ${marks.hookHeader}` },
          retries: 1,
          retryinterval: 100,
        },
      ],
      syslog: [{ server: `127.0.0.1:${syslog.port}` }],
    },
    alerts: { persist: false },
    api: { listen: `127.0.0.1:${apiPort}` },
    log: { level: 'debug' },
    syslog: { server: `127.0.0.1:${syslog.port}`, level: 'debug' },
    cloud: {
      sources: [
        {
          name: 's3-logs',
          provider: 'aws',
          source: 's3://flowlogs/AWSLogs/',
          endpoint: `http://127.0.0.1:${http.port}`,
          accesskeyid: 'AKIDFLOWGATETEST',
          secretaccesskey: marks.s3Secret,
          poll: 1,
        },
        {
          name: 'azure-logs',
          provider: 'azure',
          source: 'azure://insights-logs/resourceId=/',
          connectionstring:
            `DefaultEndpointsProtocol=http;AccountName=devacct;AccountKey=${marks.azureKey};` +
            `BlobEndpoint=http://127.0.0.1:${http.port}/devacct;`,
          poll: 1,
        },
      ],
    },
  });
  const configFile = join(dir, 'flowgate.json');
  writeFileSync(configFile, JSON.stringify(config(m)));
  const tokenFile = join(dir, 'api-token');
  writeFileSync(tokenFile, `${m.apiToken}\n`, { mode: 0o600 });
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', '--config', configFile, 'collect'],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NO_COLOR: '1',
        FLOWGATE_API_TOKEN_FILE: tokenFile,
        FLOWGATE_OUTPUT_INGEST_TOKEN: m.ingestToken,
        FLOWGATE_SNMP_COMMUNITY: m.community,
      },
    },
  );
  let log = '';
  child.stdout?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  const answers: string[] = [];
  const base = `http://127.0.0.1:${apiPort}`;
  /** Every answer is kept whole (status line, headers, body) for the final search. */
  const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
    const r = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
    const body = await r.clone().text();
    answers.push(`${init.method ?? 'GET'} ${path} -> ${r.status}\n${[...r.headers].join('\n')}\n\n${body}`);
    return r;
  };
  const sock = createSocket('udp4');
  let sending = true;
  try {
    await waitForOutput(child, /serving the HTTP API/, 30_000);
    let seq = 0;
    const sender = (async () => {
      while (sending) {
        for (let i = 0; i < 10; i++) sock.send(heavyTcpV5(seq++), udpPort, '127.0.0.1');
        await sleep(50);
      }
    })();
    const auth = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });
    // Until the alert (so the webhook and syslog notifiers run) and the other secrets are in use.
    await until('an alert', () => http.requests.some((r) => r.url.startsWith('/hook/')), 30_000);
    sending = false;
    await sender;
    await until('an ingest upload', () => http.requests.some((r) => r.url.startsWith('/ingest')), 15_000);
    await until('an S3 listing', () => http.requests.some((r) => r.url.startsWith('/flowlogs')), 15_000);
    await until('an Azure listing', () => http.requests.some((r) => r.url.startsWith('/devacct')), 15_000);
    await until('an SNMP request', () => snmp.datagrams.length > 0, 15_000);
    // The secrets were in use, so their absence below means something.
    const byPath = (p: string) => http.requests.find((r) => r.url.startsWith(p));
    assert.equal(byPath('/ingest')?.headers.authorization, `Bearer ${m.ingestToken}`);
    assert.equal(byPath('/ingest')?.headers['x-api-key'], m.ingestHeader);
    assert.equal(byPath(`/hook/${m.hookPath}`)?.headers.authorization, `Bearer ${m.hookHeader}`);
    assert.match(String(byPath('/flowlogs')?.headers.authorization), /Credential=AKIDFLOWGATETEST\//);
    assert.match(String(byPath('/devacct')?.headers.authorization), /^SharedKey devacct:/);
    assert.ok(
      snmp.datagrams.some((d) => d.includes(m.community)),
      'SNMP requests carry the community',
    );

    const paths = Object.entries(OPENAPI_DOCUMENT.paths as Record<string, Record<string, unknown>>);
    const gets = paths.filter(([, ops]) => 'get' in ops).map(([p]) => p.replace('{id}', 'no-such-alert'));
    assert.ok(gets.length >= 15, `${gets.length} GET routes`);
    const extra = ['/api/config', '/nope', '/api/top?dimension=dstip&metric=packets', '/api/flows?limit=5'];
    for (const path of [...gets, ...extra]) {
      await call(path);
      await call(path, auth(m.wrongToken));
      await call(path, auth(m.apiToken));
    }
    assert.equal((await call('/stats', auth(m.wrongToken))).status, 401);
    assert.equal((await call('/stats', auth(m.apiToken))).status, 200);
    const alerts = (await (await call('/api/alerts', auth(m.apiToken))).json()) as {
      alerts: { id: string }[];
    };
    assert.ok(alerts.alerts.length > 0, 'the alert is listed');
    await call(`/api/alerts/${alerts.alerts[0].id}`, auth(m.apiToken));
    await call('/api/config', { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    const tooBig = await call('/api/reload', {
      method: 'POST',
      headers: { authorization: `Bearer ${m.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(BODY_LIMIT) }),
    });
    assert.equal(tooBig.status, 413);
    assert.equal((await call('/api/reload', { method: 'POST', ...auth(m.wrongToken) })).status, 401);
    writeFileSync(configFile, JSON.stringify(config(m2)));
    const reload = await call('/api/reload', { method: 'POST', ...auth(m.apiToken) });
    assert.equal(reload.status, 200, await reload.clone().text());
    const changed = (await reload.json()) as { applied: string[]; needsRestart: string[] };
    assert.ok(
      changed.applied.length + changed.needsRestart.length > 0,
      'the new secrets were seen as changes',
    );
    await sleep(1_000);
    await stopProcess(child, 'SIGTERM', 15_000);

    assert.match(log, /HTTP API listening/);
    assert.match(log, /configuration reloaded/);
    const syslogText = syslog.datagrams.map((d) => d.toString('latin1')).join('\n');
    assert.match(syslogText, /HTTP API listening/, 'log lines reached syslog too');
    const wheres: [string, string][] = [
      ['an API answer', answers.join('\n\n')],
      ['the log (stdout, stderr)', log],
      ['syslog', syslogText],
    ];
    const leaks = new Map<string, string[]>();
    const reloaded = Object.entries(m2).map(([k, v]) => [k, v, ' (after the reload)'] as const);
    for (const [name, value, when] of [
      ...Object.entries(m).map(([k, v]) => [k, v, ''] as const),
      ...reloaded,
    ]) {
      for (const [where, text] of wheres) {
        const at = text.indexOf(value);
        if (at < 0) continue;
        const found = leaks.get(name) ?? [];
        found.push(`${name}${when} in ${where}: ...${text.slice(Math.max(0, at - 200), at + 60)}...`);
        leaks.set(name, found);
      }
    }
    // Including the webhook URL's path, where chat services put their token (notify/redact.ts).
    assert.deepEqual([...leaks.values()].flat(), []);
    assert.ok(!log.includes(Buffer.from(m.azureKey, 'base64').toString()), 'the decoded Azure key');
  } finally {
    sending = false;
    sock.close();
    await stopProcess(child, 'SIGKILL');
    await http.close();
    syslog.close();
    snmp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
