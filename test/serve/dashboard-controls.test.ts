/**
 * The dashboard's controls and layout in headless Chromium with classic scrollbars: the custom time
 * range, the chart's stack dimension, auto-refresh on and off, the exporter clock skew column and
 * no sideways page scroll on a laptop (1366x768) or desktop (1920x1080) screen. The exporters are
 * the demo's own encoders sending real datagrams over loopback from three addresses, their clocks
 * set ahead, behind, or absent (sFlow); the flows are the captures in a DuckDB store, moved into the
 * last hour. Screenshots go to test-artifacts/.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type Collector, startCollector } from '../../src/collector.js';
import { IpfixEncoder } from '../../src/demo/encode/ipfix-encoder.js';
import { Netflow9Encoder } from '../../src/demo/encode/netflow9-encoder.js';
import { SflowEncoder } from '../../src/demo/encode/sflow-encoder.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import type { ApiServer } from '../../src/serve/api-server.js';
import { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { MemoryOutput, quietLogger, testConfig, waitFor } from '../collector/helpers.js';
import { sampleFlows } from '../demo/helpers.js';
import {
  ARTIFACTS,
  column,
  decodedRecords,
  launchChromium,
  legendLabels,
  loaded,
  paintedPixels,
  skipWithoutChromium as skip,
  startDashboardApi,
  watchErrors,
} from './dashboard-page.js';

/** The exporters' clocks: NetFlow v9 130 s ahead of the collector, IPFIX 2 s behind, sFlow has none. */
const AHEAD = { address: '127.0.0.2', offsetMs: 130_000 };
const BEHIND = { address: '127.0.0.3', offsetMs: -2_000 };
const SFLOW = '127.0.0.4';

let collector: Collector;
let store: DuckDbStore;
let storeDir: string;
let api: ApiServer;
let browser: Browser;
let records: FlowRecord[];
let recordsNowMs: number;

async function sendFrom(address: string, port: number, datagrams: Buffer[]): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind({ address, port: 0 }, resolve));
  try {
    for (const d of datagrams)
      await new Promise<void>((resolve, reject) =>
        s.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      );
  } finally {
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** Datagrams of the three exporters, each stamped with its own clock's time. */
function exporterDatagrams(nowMs: number): { address: string; datagrams: Buffer[] }[] {
  const bootMs = nowMs - 86_400_000;
  const ahead = nowMs + AHEAD.offsetMs;
  const behind = nowMs + BEHIND.offsetMs;
  const nf9 = new Netflow9Encoder({ sourceId: 0, samplingInterval: 100, bootMs });
  const ipfix = new IpfixEncoder({ observationDomainId: 1, samplingInterval: 1 });
  const sflow = new SflowEncoder({ agentAddress: SFLOW, subAgentId: 0, samplingRate: 512, bootMs });
  const samples = sampleFlows(5, nowMs).map((f) => ({ ...f, bytes: 1200, packets: 1 }));
  return [
    { address: AHEAD.address, datagrams: nf9.encode(sampleFlows(10, ahead), ahead) },
    { address: BEHIND.address, datagrams: ipfix.encode(sampleFlows(10, behind), behind) },
    { address: SFLOW, datagrams: sflow.encode(samples, [], nowMs) },
  ];
}

before(async () => {
  if (skip) return;
  collector = await startCollector(testConfig({}), quietLogger, { output: new MemoryOutput() });
  const port = collector.listeners[0].port;
  const sent = exporterDatagrams(Date.now());
  for (const e of sent) await sendFrom(e.address, port, e.datagrams);
  const total = sent.reduce((n, e) => n + e.datagrams.length, 0);
  await waitFor('exporter datagrams decoded', () => collector.stats().decode.datagrams === total);
  storeDir = mkdtempSync(join(tmpdir(), 'flowgate-dashboard-controls-'));
  store = new DuckDbStore({ dir: storeDir });
  await store.open();
  recordsNowMs = Date.now();
  records = decodedRecords(recordsNowMs);
  await store.write(records);
  api = await startDashboardApi(collector, store, null);
  browser = await launchChromium({ scrollbars: true });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await api?.close();
  await store?.close();
  await collector?.stop();
  if (storeDir) rmSync(storeDir, { recursive: true, force: true });
});

interface Opened {
  context: BrowserContext;
  page: Page;
  errors: string[];
  /** URLs of every API and /stats request the page made, in order. */
  requests: string[];
  gen: number;
}

async function open(width: number, height: number): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const requests: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/api/') || path === '/stats') requests.push(r.url());
  });
  await page.goto(`http://127.0.0.1:${api.port}/`);
  const gen = await loaded(page, 0);
  return { context, page, errors, requests, gen };
}

/** Same text as the page's status line for a range: "11-23 21:10 – 11-23 21:20 UTC". */
const statusOf = (fromMs: number, toMs: number) => {
  const minute = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(5, 16);
  return `${minute(fromMs)} – ${minute(toMs)} UTC`;
};

/** `<input type="datetime-local">` value of a UTC time, to the second. */
const inputValue = (ms: number) => new Date(ms).toISOString().slice(0, 19);

async function waitForStatus(page: Page, expected: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const status = await page.textContent('#status');
    if (status === expected) return;
    if (Date.now() > until) throw new Error(`status "${status}", expected "${expected}"`);
    await sleep(50);
  }
}

/** Whether the page (or an element) scrolls sideways. */
const sideways = (page: Page, selector: string) =>
  page.$$eval(selector, (els) =>
    els.filter((e) => e.scrollWidth > e.clientWidth).map((e) => `${e.id || e.className}: ${e.scrollWidth}`),
  );

test('exporter health shows each exporter clock skew; no sideways page scroll at 1366 and 1920 px', {
  skip,
}, async () => {
  for (const [width, height] of [
    [1366, 768],
    [1920, 1080],
  ]) {
    const { context, page, errors } = await open(width, height);
    try {
      const headers = await page.$$eval('#exporters thead th', (ths) => ths.map((t) => t.textContent));
      const skewAt = headers.indexOf('clock skew');
      assert.ok(skewAt > 0, `clock skew column in ${headers.join(', ')}`);
      const rows = await page.$$eval(
        '#exporters tbody tr',
        (trs, i) =>
          trs.map((tr) => ({
            address: tr.children[0].textContent,
            skew: tr.children[i].textContent,
            warn: tr.children[i].classList.contains('warn'),
          })),
        skewAt,
      );
      const row = (address: string) => rows.find((r) => r.address === address);
      // NetFlow v9 header times are whole seconds: 130 s ahead arrives 129-130 s "early".
      assert.match(row(AHEAD.address)?.skew ?? '', /^\u22121(29|30) s ⚠$/);
      assert.equal(row(AHEAD.address)?.warn, true, 'beyond general.maxclockskew (10 s)');
      assert.match(row(BEHIND.address)?.skew ?? '', /^\+[23] s$/);
      assert.equal(row(BEHIND.address)?.warn, false);
      assert.equal(row(SFLOW)?.skew, '—', 'sFlow datagrams carry no export time');
      assert.equal(row(SFLOW)?.warn, false);

      const doc = await page.evaluate(() => {
        const d = (globalThis as unknown as DocumentWindow).document.documentElement;
        return { scrollWidth: d.scrollWidth, clientWidth: d.clientWidth };
      });
      assert.ok(
        doc.scrollWidth <= doc.clientWidth,
        `${width} px: page is ${doc.scrollWidth} px wide in a ${doc.clientWidth} px window`,
      );
      // Readable without scrolling inside the panels either: top lists and the exporter table fit.
      assert.deepEqual(await sideways(page, '.card, #exporters'), [], `${width} px`);
      await page.screenshot({ path: join(ARTIFACTS, `dashboard-${width}.png`), fullPage: true });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  }
});

test('the skew formatter: signs, units and unknown values', { skip }, async () => {
  const { context, page, errors } = await open(1366, 768);
  try {
    const texts = await page.evaluate(async () => {
      const url = '/dashboard/format.js';
      const { skew } = await import(url);
      return [2, -130, 0, 0.4, -599.6, 1000, -90_000, 400_000, null, undefined, Number.NaN, '5'].map(skew);
    });
    assert.deepEqual(texts, [
      '+2 s',
      '\u2212130 s',
      '0 s',
      '0 s',
      '\u221210 min',
      '+17 min',
      '\u221225 h',
      '+5 d',
      '—',
      '—',
      '—',
      '—',
    ]);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('custom range: the from/to picked go to the API and only flows inside them show', { skip }, async () => {
  const { context, page, errors, requests, gen } = await open(1366, 768);
  try {
    await page.selectOption('#range', 'custom');
    await loaded(page, gen);
    assert.equal(await page.isVisible('#from'), true);
    // Prefilled with the last hour, so switching to custom alone changes nothing. (Chromium leaves
    // the seconds out of a datetime-local value when they are 0: one run in 60.)
    assert.match(await page.inputValue('#from'), /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/);

    // Records end one per minute, 1-50 min ago; the window's edges fall half-way between two.
    const fromMs = Math.floor((recordsNowMs - 30.5 * 60_000) / 1000) * 1000;
    const toMs = Math.floor((recordsNowMs - 20.5 * 60_000) / 1000) * 1000;
    await page.fill('#from', inputValue(fromMs));
    await page.fill('#to', inputValue(toMs));
    await page.click('#controls button[type="submit"]');
    await waitForStatus(page, statusOf(fromMs, toMs));

    const flowQuery = new URL(requests.filter((u) => u.includes('/api/flows')).at(-1) ?? '');
    assert.equal(flowQuery.searchParams.get('from'), String(fromMs));
    assert.equal(flowQuery.searchParams.get('to'), String(toMs));
    const inside = records.filter((r) => (r.end ?? 0) >= fromMs && (r.end ?? 0) < toMs);
    assert.ok(inside.length > 0 && inside.length < records.length, `${inside.length} records inside`);
    const ends = await column(page, '#flows', 0);
    assert.equal(ends.length, inside.length);
    const text = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
    for (const end of ends) assert.ok(end >= text(fromMs) && end < text(toMs), end);
    // The top lists cover the same window: their flows add up to the flows inside it.
    const protocolFlows = await column(page, '[data-dimension="protocol"]', 3);
    assert.equal(
      protocolFlows.reduce((n, f) => n + Number(f), 0),
      inside.length,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-custom-range.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('stack dimension: the chart redraws with one series per top key of the new dimension', {
  skip,
}, async () => {
  const { context, page, errors, gen: first } = await open(1366, 768);
  try {
    assert.deepEqual(new Set(await legendLabels(page)), new Set(['tcp', 'udp', 'icmp']));
    const grouped: { groupby: string; keys: string[] }[] = [];
    page.on('response', async (res) => {
      const url = new URL(res.url());
      const groupby = url.searchParams.get('groupby');
      if (url.pathname !== '/api/timeseries' || groupby === null) return;
      const body = (await res.json()) as { points: { key: string | number | null }[] };
      grouped.push({ groupby, keys: body.points.map((p) => (p.key === null ? 'unknown' : String(p.key))) });
    });

    await page.selectOption('#groupby', 'dstport');
    const gen = await loaded(page, first);
    const answer = grouped.find((g) => g.groupby === 'dstport');
    assert.ok(answer, 'the chart asked for the series by destination port');
    const expected = new Set(answer.keys);
    const legend = await legendLabels(page);
    assert.ok(legend.includes('443'), legend.join(','));
    assert.deepEqual(new Set(legend.filter((l) => l !== 'other')), expected);
    assert.ok(!legend.includes('tcp'), 'the protocol series are gone');
    assert.ok((await paintedPixels(page)) > 2000, 'the new series are painted');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-by-dstport.png') });

    // "nothing": one total series, and no grouped query.
    const asked = grouped.length;
    await page.selectOption('#groupby', '');
    await loaded(page, gen);
    assert.deepEqual(await legendLabels(page), ['total']);
    assert.equal(grouped.length, asked);
    assert.ok((await paintedPixels(page)) > 2000);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('auto-refresh: at 10 s the page queries again after the interval; off, it queries nothing', {
  skip,
}, async () => {
  const { context, page, errors, requests, gen } = await open(1366, 768);
  try {
    await page.selectOption('#refresh', '10');
    const before = requests.length;
    // Choosing an interval does not refresh by itself, and nothing comes before the interval ends.
    await sleep(5_000);
    assert.equal(requests.length, before, 'no request within 5 s of a 10 s interval');
    const next = await loaded(page, gen, 10_000);
    const fresh = requests.slice(before).map((u) => new URL(u).pathname);
    for (const path of ['/stats', '/api/timeseries', '/api/top', '/api/flows'])
      assert.ok(fresh.includes(path), `${path} asked again: ${fresh.join(', ')}`);

    await page.selectOption('#refresh', '0');
    const atOff = requests.length;
    await sleep(12_000);
    assert.equal(requests.length, atOff, 'refresh off: no request in 12 s');
    assert.equal(Number(await page.getAttribute('body', 'data-loaded')), next);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

/** The part of the browser's window the layout check reads (the tests have no DOM types). */
interface DocumentWindow {
  document: { documentElement: { scrollWidth: number; clientWidth: number } };
}
