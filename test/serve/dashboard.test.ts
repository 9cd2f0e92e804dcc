/**
 * The dashboard in headless Chromium (playwright-core driving Debian's chromium): a real collector
 * has received captures (NetFlow v5, Cisco ASA NetFlow v9, Mikrotik IPFIX) for /stats, and a DuckDB
 * store holds the records decoded from the same captures, their times moved into the last hour so
 * the default range shows them. Screenshots go to test-artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { type Collector, startCollector } from '../../src/collector.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import type { ApiServer } from '../../src/serve/api-server.js';
import { DASHBOARD_CSP } from '../../src/serve/routes/dashboard.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from '../collector/helpers.js';
import {
  ARTIFACTS,
  column,
  decodedRecords,
  launchChromium,
  loaded,
  PAYLOADS,
  paintedPixels,
  skipWithoutChromium as skip,
  startDashboardApi,
  watchErrors,
} from './dashboard-page.js';

const TOKEN = 'dashboard-token-0123456789';
let collector: Collector;
let store: DuckDbStore;
let storeDir: string;
let browser: Browser;
let records: FlowRecord[];

const startApi = (token: string | null): Promise<ApiServer> => startDashboardApi(collector, store, token);

/** The part of the browser's window the token check reads (the tests have no DOM types). */
interface Window {
  sessionStorage: { getItem(key: string): string | null };
}

before(async () => {
  if (skip) return;
  collector = await startCollector(testConfig({}), quietLogger, { output: new MemoryOutput() });
  await sendUdp('127.0.0.1', collector.listeners[0].port, PAYLOADS);
  await waitFor('six datagrams decoded', () => collector.stats().decode.datagrams === PAYLOADS.length);
  storeDir = mkdtempSync(join(tmpdir(), 'flowgate-dashboard-'));
  store = new DuckDbStore({ dir: storeDir });
  await store.open();
  records = decodedRecords(Date.now());
  await store.write(records);
  browser = await launchChromium();
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await store?.close();
  await collector?.stop();
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
});

test('dashboard: page and assets are served with the page CSP, without a token', { skip }, async () => {
  const api = await startApi(TOKEN);
  try {
    const base = `http://127.0.0.1:${api.port}`;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('content-security-policy'), DASHBOARD_CSP);
    assert.match(await page.text(), /<script type="module" src="\/dashboard\/app.js">/);
    const lib = await fetch(`${base}/dashboard/uPlot.esm.js`);
    assert.equal(lib.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(await lib.text(), /export \{ uPlot as default \}/);
    // Only the listed files: nothing else answers (401 first: unknown paths are not public).
    for (const path of ['/dashboard/../package.json', '/dashboard/%2e%2e/package.json', '/dashboard/x.js']) {
      const r = await fetch(`${base}${path}`);
      assert.ok(r.status === 401 || r.status === 404, `${path}: ${r.status}`);
      assert.doesNotMatch(await r.text(), /dependencies/, path);
    }
    assert.equal((await fetch(`${base}/api/top`)).status, 401);
  } finally {
    await api.close();
  }
});

test('dashboard: charts, top lists, exporter health and flows render from the store; the filter filters', {
  skip,
}, async () => {
  const api = await startApi(null);
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`http://127.0.0.1:${api.port}/`);
    let gen = await loaded(page, 0);

    // Traffic chart, stacked by protocol (the default): tcp, udp and icmp from the captures.
    assert.ok((await paintedPixels(page)) > 2000, 'chart canvas has painted series');
    const legend = await page.$$eval('#chart .u-legend .u-series .u-label', (ls) =>
      ls.map((l) => l.textContent),
    );
    for (const p of ['tcp', 'udp', 'icmp'])
      assert.ok(legend.includes(p), `legend ${legend.join(',')} has ${p}`);

    // Top source IPs ordered by estimated bits: the heaviest sender in the captures comes first.
    const bitsBySrc = new Map<string, number>();
    for (const r of records)
      bitsBySrc.set(r.srcip ?? '', (bitsBySrc.get(r.srcip ?? '') ?? 0) + (r.bits ?? 0));
    const heaviest = [...bitsBySrc].sort((a, b) => b[1] - a[1])[0][0];
    const srcTop = await column(page, '[data-dimension="srcip"]', 0);
    assert.equal(srcTop.length, 10);
    assert.equal(srcTop[0], heaviest);
    const protocols = await column(page, '[data-dimension="protocol"]', 0);
    assert.deepEqual(new Set(protocols), new Set(['tcp', 'udp', 'icmp']));
    assert.ok((await column(page, '[data-dimension="dstport"]', 0)).includes('443'));

    // Exporter health from /stats: the one loopback exporter with every record it sent.
    const exporters = await page.$$eval('#exporters tbody tr', (rows) =>
      rows.map((r) => [...r.children].map((c) => c.textContent)),
    );
    assert.equal(exporters.length, 1);
    assert.equal(exporters[0][0], '127.0.0.1');
    assert.equal(exporters[0][3], String(records.length));
    assert.equal(exporters[0][4], String(PAYLOADS.length));

    // Flow search: the newest 100 (there are fewer), newest first.
    assert.equal((await column(page, '#flows', 0)).length, records.length);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

    // The filter box: only UDP flows (36 in the Mikrotik capture) everywhere.
    await page.fill('#filter', 'proto udp');
    await page.press('#filter', 'Enter');
    gen = await loaded(page, gen);
    const udpProtos = await column(page, '#flows', 4);
    assert.equal(udpProtos.length, records.filter((r) => r.protocolint === 17).length);
    assert.ok(udpProtos.every((p) => p === 'udp'));
    assert.deepEqual(await column(page, '[data-dimension="protocol"]', 0), ['udp']);
    assert.ok(
      (await column(page, '[data-dimension="dstport"]', 0)).includes('123'),
      'NTP from the Mikrotik capture',
    );
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-filtered.png'), fullPage: true });

    // Nothing matches: empty states, not errors.
    await page.fill('#filter', 'dst port 9');
    await page.press('#filter', 'Enter');
    gen = await loaded(page, gen);
    assert.equal(await page.textContent('#flows'), 'No flows in this range.');
    assert.equal(await page.isVisible('#chart-empty'), true);
    assert.equal(await page.isVisible('#filter-error'), false);
    assert.deepEqual(errors, []);

    // A bad filter: the API's message and column under the box.
    await page.fill('#filter', 'proto udp and');
    await page.press('#filter', 'Enter');
    gen = await loaded(page, gen);
    assert.equal(await page.isVisible('#filter-error'), true);
    const message = (await page.textContent('#filter-error')) ?? '';
    assert.match(message, /found the end of the filter at column 14\n/);
    assert.match(message, /proto udp and\n {13}\^/);
    assert.equal(await page.getAttribute('#filter', 'aria-invalid'), 'true');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-filter-error.png') });
    // Chromium logs every 400 response; nothing else may appear.
    assert.deepEqual(
      errors.filter((e) => !/status of 400 \(Bad Request\)/.test(e)),
      [],
    );
  } finally {
    await context.close();
    await api.close();
  }
});

test('dashboard: with api.token the page asks once, keeps it for the tab and sends it as a header', {
  skip,
}, async () => {
  const api = await startApi(TOKEN);
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await context.newPage();
    const requests: { url: string; auth: string | undefined }[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/') || r.url().endsWith('/stats'))
        requests.push({ url: r.url(), auth: r.headers().authorization });
    });
    await page.goto(`http://127.0.0.1:${api.port}/`);
    await page.waitForSelector('#login[open]', { timeout: 10_000 });
    await page.fill('#token', 'wrong-token');
    await page.press('#token', 'Enter');
    await page.waitForSelector('#login-error:not([hidden])', { timeout: 10_000 });
    assert.equal(await page.textContent('#login-error'), 'invalid token');
    await page.fill('#token', TOKEN);
    await page.press('#token', 'Enter');
    const gen = await loaded(page, 0);
    assert.equal(await page.isVisible('#login'), false);
    assert.ok((await column(page, '#flows', 0)).length > 0);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as Window).sessionStorage.getItem('flowgate.token')),
      TOKEN,
    );
    // Later refreshes reuse the token without asking.
    await page.press('#filter', 'Enter');
    await loaded(page, gen);
    assert.ok(requests.some((r) => r.auth === `Bearer ${TOKEN}`));
    assert.ok(
      requests.every((r) => !r.url.includes(TOKEN)),
      'token never in a URL',
    );
  } finally {
    await context.close();
    await api.close();
  }
});
