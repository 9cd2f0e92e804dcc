import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { mock, test } from 'node:test';
import type { CollectorStats } from '../../src/collector.js';
import { startApiServer } from '../../src/serve/api-server.js';
import { isLoopbackHost } from '../../src/serve/auth.js';
import { OPENAPI_DOCUMENT } from '../../src/serve/openapi.js';
import type { StoreHealth } from '../../src/store/contract.js';
import { logCapture, quietLogger, sendUdp, waitFor } from '../collector/helpers.js';
import { ASA_DATA, ASA_TPL, expectedCounts, parsePrometheus, startStack, V5 } from './helpers.js';

const TOKEN = 'test-token-0123456789abcdef';

test('/healthz answers 200 with security headers and no CORS headers', async () => {
  const s = await startStack();
  try {
    const r = await fetch(`${s.base}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'ok' });
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
    assert.equal(r.headers.get('access-control-allow-origin'), null);
    // Unknown routes get the same headers.
    const missing = await fetch(`${s.base}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-content-type-options'), 'nosniff');
  } finally {
    await s.close();
  }
});

test('/readyz: 200 with the flow listener bound; 503 with the reason when the store is not ready', async () => {
  const s = await startStack();
  try {
    const r = await fetch(`${s.base}/readyz`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: 'ok' });
  } finally {
    await s.close();
  }
  const health: StoreHealth = {
    ready: false,
    lastError: 'disk full',
    recordsWritten: 0,
    partitions: 0,
    bytes: 0,
  };
  const withStore = await startStack({ store: { health: () => health } });
  try {
    const r = await fetch(`${withStore.base}/readyz`);
    assert.equal(r.status, 503);
    assert.deepEqual(await r.json(), { status: 'unavailable', reason: 'store not ready: disk full' });
    health.ready = true;
    assert.equal((await fetch(`${withStore.base}/readyz`)).status, 200);
  } finally {
    await withStore.close();
  }
});

test('/readyz: 503 when no flow listener is bound', async () => {
  const stats = { listeners: [] } as unknown as CollectorStats;
  const api = await startApiServer({
    listen: '127.0.0.1:0',
    token: null,
    allowNoToken: false,
    collector: { stats: () => stats },
    templates: () => [],
    logger: quietLogger,
  });
  try {
    const r = await fetch(`http://127.0.0.1:${api.port}/readyz`);
    assert.equal(r.status, 503);
    assert.deepEqual(await r.json(), { status: 'unavailable', reason: 'no flow listener bound' });
  } finally {
    await api.close();
  }
});

test('/stats: the exporter 127.0.0.1 with its datagrams, bytes, records and templates; store health', async () => {
  const want = expectedCounts();
  assert.ok(want.records > 8 && want.templates > 0, 'the ASA capture adds records and templates');
  const health: StoreHealth = {
    ready: true,
    lastError: null,
    recordsWritten: 42,
    partitions: 3,
    bytes: 4096,
  };
  const s = await startStack({ store: { health: () => health } });
  try {
    const r = await fetch(`${s.base}/stats`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as CollectorStats & { store: StoreHealth };
    assert.equal(body.exporters.length, 1);
    const e = body.exporters[0];
    assert.equal(e.address, '127.0.0.1');
    assert.equal(e.datagrams, 3);
    assert.equal(e.bytes, 408 + ASA_TPL.length + ASA_DATA.length, 'v5 capture is 408 bytes');
    assert.equal(e.records, want.records);
    assert.equal(e.templateState?.templates, want.templates);
    assert.equal(body.totals.records, want.records);
    assert.equal(body.listeners[0].transport, 'udp');
    assert.deepEqual(body.store, health);
  } finally {
    await s.close();
  }
});

test('/metrics: Prometheus text with per-exporter records, templates, queue and process metrics', async () => {
  const want = expectedCounts();
  const s = await startStack();
  try {
    const r = await fetch(`${s.base}/metrics`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const m = parsePrometheus(await r.text());
    assert.equal(m.get('flowgate_records_total{exporter="127.0.0.1"}'), want.records);
    assert.equal(m.get('flowgate_datagrams_total{exporter="127.0.0.1"}'), 3);
    assert.equal(m.get('flowgate_templates{exporter="127.0.0.1"}'), want.templates);
    assert.equal(m.get('flowgate_sequence_missing_total{exporter="127.0.0.1"}'), 0);
    assert.equal(m.get('flowgate_queue_depth'), 0);
    assert.equal(m.get('flowgate_queue_capacity'), 1000);
    assert.equal(m.get('flowgate_queue_drops_total'), 0);
    assert.equal(m.get('flowgate_output_drops_total'), 0);
    assert.equal(m.get('flowgate_received_datagrams_total'), 3);
    const port = s.collector.listeners[0].port;
    const buffer = m.get(
      `flowgate_listener_receive_buffer_bytes{listen="127.0.0.1:${port}",transport="udp"}`,
    );
    assert.ok(buffer !== undefined && buffer > 0, 'receive buffer granted by the kernel');
    assert.ok((m.get('flowgate_process_resident_memory_bytes') ?? 0) > 0, 'default process metrics');
    // The next scrape follows the collector: one more v5 datagram adds its 8 records.
    await sendUdp('127.0.0.1', port, [V5]);
    await waitFor('fourth datagram', () => s.collector.stats().decode.datagrams === 4);
    const again = parsePrometheus(await (await fetch(`${s.base}/metrics`)).text());
    assert.equal(again.get('flowgate_records_total{exporter="127.0.0.1"}'), want.records + 8);
  } finally {
    await s.close();
  }
});

test('/metrics: decode errors by kind, and counters never go down when a snapshot value does', async () => {
  let records = 100;
  const stats = () =>
    ({
      uptimeSec: 5,
      listeners: [],
      received: 10,
      queue: { capacity: 10, depth: 2, highWater: 3, drops: 1 },
      decode: { datagrams: 10, failures: 0, templates: 0, exportersEvicted: 0, exportersReclaimed: 0 },
      output: { name: 'memory', depth: 0, written: records, drops: 0 },
      tcp: {
        connections: 0,
        connectionsTotal: 0,
        framingErrors: 0,
        refused: { maxConnections: 0, maxPerPeer: 0 },
        timeouts: { idle: 0, stalled: 0 },
        ratePauses: 0,
      },
      templateDb: { path: null, loaded: 0, lastSaveError: null },
      exporters: [
        {
          address: '192.0.2.1',
          protocol: 'ipfix',
          firstSeen: '2024-05-01T10:00:00.000Z',
          lastSeen: '2024-05-01T10:00:10.000Z',
          datagrams: 10,
          bytes: 1000,
          records,
          samplingUnknown: 0,
          errors: { template_unknown: 4, truncated: 1 },
          lastError: 'template 260 from 192.0.2.1 domain 0 unknown: record skipped',
          sequence: { streams: 1, missing: 7, reordered: 0, duplicates: 0, resets: 0 },
          clockSkewSec: null,
          clockSkewed: false,
          templateState: null,
        },
      ],
      totals: {
        exporters: 1,
        datagrams: 10,
        bytes: 1000,
        records,
        downsampled: 0,
        errors: 5,
        samplingUnknown: 0,
        sequenceMissing: 7,
        notAllowed: 0,
        rateLimited: 0,
        clockSkewed: 0,
      },
      notAllowed: {},
      rateLimited: {},
      interfaces: [],
      interfacesDropped: 0,
    }) as unknown as CollectorStats;
  const api = await startApiServer({
    listen: '127.0.0.1:0',
    token: null,
    allowNoToken: false,
    collector: { stats },
    templates: () => [],
    logger: quietLogger,
  });
  try {
    const scrape = async () =>
      parsePrometheus(await (await fetch(`http://127.0.0.1:${api.port}/metrics`)).text());
    const first = await scrape();
    assert.equal(first.get('flowgate_decode_errors_total{exporter="192.0.2.1",kind="template_unknown"}'), 4);
    assert.equal(first.get('flowgate_decode_errors_total{exporter="192.0.2.1",kind="truncated"}'), 1);
    assert.equal(first.get('flowgate_sequence_missing_total{exporter="192.0.2.1"}'), 7);
    assert.equal(first.get('flowgate_queue_depth'), 2);
    assert.equal(first.get('flowgate_queue_drops_total'), 1);
    assert.equal(first.get('flowgate_exporter_last_seen_seconds{exporter="192.0.2.1"}'), 1714557610);
    assert.equal(first.get('flowgate_records_total{exporter="192.0.2.1"}'), 100);
    records = 60;
    assert.equal((await scrape()).get('flowgate_records_total{exporter="192.0.2.1"}'), 100, 'not lowered');
    records = 130;
    assert.equal((await scrape()).get('flowgate_records_total{exporter="192.0.2.1"}'), 130);
  } finally {
    await api.close();
  }
});

test('/api/templates: template state of 127.0.0.1; exporter filter; invalid query is 400', async () => {
  const want = expectedCounts();
  const s = await startStack();
  try {
    const rows = (await (await fetch(`${s.base}/api/templates`)).json()) as {
      exporter: string;
      templates: number;
      connectionId: string | null;
      lastSeen: string | null;
    }[];
    assert.equal(rows.length, 1);
    assert.equal(rows[0].exporter, '127.0.0.1');
    assert.equal(rows[0].templates, want.templates);
    assert.equal(rows[0].connectionId, null);
    assert.ok(rows[0].lastSeen !== null && Date.parse(rows[0].lastSeen) > Date.now() - 60_000);
    const none = await fetch(`${s.base}/api/templates?exporter=192.0.2.99`);
    assert.deepEqual(await none.json(), []);
    const one = await fetch(`${s.base}/api/templates?exporter=127.0.0.1`);
    assert.equal(((await one.json()) as unknown[]).length, 1);
    const bad = await fetch(`${s.base}/api/templates?exporter=`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /exporter/);
  } finally {
    await s.close();
  }
});

test('token: 401 with WWW-Authenticate without or with a wrong token, 200 with it; /healthz open', async (t) => {
  const { logger, lines } = logCapture();
  const s = await startStack({ token: TOKEN }, logger);
  const compare = t.mock.method(crypto, 'timingSafeEqual');
  try {
    assert.equal((await fetch(`${s.base}/healthz`)).status, 200);
    for (const path of ['/readyz', '/stats', '/metrics', '/api/templates', '/api/openapi.json', '/nope']) {
      const none = await fetch(`${s.base}${path}`);
      assert.equal(none.status, 401, path);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="flowgate"', path);
    }
    const wrong = await fetch(`${s.base}/stats`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="flowgate", error="invalid_token"');
    assert.ok(!(await wrong.text()).includes(TOKEN), 'the token is never echoed');
    const basic = await fetch(`${s.base}/stats`, { headers: { authorization: `Basic ${TOKEN}` } });
    assert.equal(basic.status, 401);
    const calls = compare.mock.callCount();
    assert.ok(calls >= 1, 'the wrong token was compared with crypto.timingSafeEqual');
    const right = await fetch(`${s.base}/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(right.status, 200);
    assert.equal(((await right.json()) as CollectorStats).exporters[0].address, '127.0.0.1');
    assert.equal(compare.mock.callCount(), calls + 1);
    const [a, b] = compare.mock.calls[calls].arguments as [Buffer, Buffer];
    assert.equal(a.length, 32, 'equal-length SHA-256 digests are compared');
    assert.equal(b.length, 32);
    assert.ok(lines.some((l) => l.msg === 'HTTP API listening' && l.authentication === true));
    assert.ok(!JSON.stringify(lines).includes(TOKEN), 'the token is never logged');
  } finally {
    mock.restoreAll();
    await s.close();
  }
});

test('a non-loopback listen address without a token is refused; allownotoken serves it with a warning', async () => {
  const base = {
    token: null,
    collector: { stats: () => ({ listeners: [] }) as unknown as CollectorStats },
    templates: () => [],
    logger: quietLogger,
  };
  await assert.rejects(
    startApiServer({ ...base, listen: '0.0.0.0:0', allowNoToken: false }),
    /api\.listen 0\.0\.0\.0:0 is not a loopback address and api\.token is not set/,
  );
  await assert.rejects(startApiServer({ ...base, listen: '[::]:0', allowNoToken: false }), /not a loopback/);
  const { logger, lines } = logCapture();
  const open = await startApiServer({ ...base, listen: '0.0.0.0:0', allowNoToken: true, logger });
  try {
    assert.ok(
      lines.some((l) => l.level === 40 && String(l.msg).startsWith('API SERVED WITHOUT AUTHENTICATION')),
    );
    assert.equal((await fetch(`http://127.0.0.1:${open.port}/healthz`)).status, 200);
  } finally {
    await open.close();
  }
  const withToken = await startApiServer({ ...base, listen: '0.0.0.0:0', allowNoToken: false, token: TOKEN });
  await withToken.close();
});

test('isLoopbackHost: 127/8, ::1, IPv4-mapped loopback and localhost only', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1', 'localhost'])
    assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '192.0.2.1', '2001:db8::1', 'flowgate.example.net'])
    assert.equal(isLoopbackHost(h), false, h);
});

test('OpenAPI: every registered route is described, and the document is served', async () => {
  const s = await startStack();
  try {
    const paths = OPENAPI_DOCUMENT.paths as Record<string, Record<string, unknown>>;
    const registered = new Set<string>();
    for (const r of s.api.routes) {
      registered.add(r.url);
      assert.ok(
        paths[r.url]?.[r.method.toLowerCase()] !== undefined,
        `${r.method} ${r.url} not in openapi.ts`,
      );
    }
    for (const p of ['/healthz', '/readyz', '/stats', '/metrics', '/api/templates', '/api/openapi.json'])
      assert.ok(registered.has(p), p);
    for (const p of Object.keys(paths)) assert.ok(registered.has(p), `${p} described but not served`);
    const served = (await (await fetch(`${s.base}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: object;
    };
    assert.equal(served.openapi, '3.1.0');
    assert.deepEqual(Object.keys(served.paths), Object.keys(paths));
  } finally {
    await s.close();
  }
});
