/**
 * What the dashboard's browser tests share: the captures they store, launching Debian's Chromium
 * through playwright-core, watching a page for console errors, waiting for a refresh to finish and
 * reading its tables and chart.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import type { Collector } from '../../src/collector.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import type { FlowRecord } from '../../src/record/flow-record.js';
import { type ApiServer, startApiServer } from '../../src/serve/api-server.js';
import type { DuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { quietLogger } from '../collector/helpers.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { corpusPath } from '../helpers/corpus.js';
import { datagramOf } from '../helpers/datagram.js';
import { ASA_DATA, ASA_TPL, V5 } from './helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Where screenshots are kept as test artefacts. */
export const ARTIFACTS = 'test-artifacts';
const MIKROTIK = ['tpl', 'data258', 'data259'].map((f) =>
  readFileSync(corpusPath(`ipfix/logstash_ipfix_mikrotik_${f}.dat`)),
);
/** NetFlow v5, Cisco ASA NetFlow v9 and Mikrotik IPFIX, all from one exporter. */
export const PAYLOADS = [V5, ASA_TPL, ASA_DATA, ...MIKROTIK];

/** The captures decoded, each record's time moved into the last 50 minutes (one per minute). */
export function decodedRecords(nowMs: number): FlowRecord[] {
  const d = new FlowDecoder(defaultDecoderSettings());
  const sink = new CollectingSink();
  for (const p of PAYLOADS) d.decode(datagramOf(p, '127.0.0.1'), sink);
  return sink.records.map((r, i) => {
    r.end = nowMs - 60_000 - (i % 50) * 60_000;
    r.start = r.end - 2_000;
    r.duration = 2_000;
    return r;
  });
}

/** The API (and so the dashboard) on an ephemeral loopback port: /stats from the collector, flows from the store. */
export function startDashboardApi(
  collector: Collector,
  store: DuckDbStore,
  token: string | null,
): Promise<ApiServer> {
  return startApiServer({
    listen: '127.0.0.1:0',
    token,
    allowNoToken: false,
    collector,
    templates: () => [],
    store,
    flowStore: store,
    logger: quietLogger,
  });
}

/** Reason to skip the browser tests, or false when Chromium is installed. */
export const skipWithoutChromium = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} missing (scripts/install-test-deps.sh installs it)`;

/**
 * Headless Chromium. `scrollbars`: keep classic scrollbars (playwright hides them in headless mode),
 * so a page that overflows by its scrollbar's width shows it as it would on a desktop.
 */
export async function launchChromium(opts: { scrollbars?: boolean } = {}): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    // playwright-core gives every launch a fresh temporary profile (its own --user-data-dir).
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    ignoreDefaultArgs: opts.scrollbars ? ['--hide-scrollbars'] : [],
    timeout: 15_000,
  });
}

/** Console errors and uncaught exceptions of a page. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  return errors;
}

/**
 * Waits until a refresh started after `previous` has filled every panel (body data-loaded). The
 * bound is generous: headless Chromium on a loaded 2-core CI machine once took over 10 s.
 */
export async function loaded(page: Page, previous: number, timeoutMs = 30_000): Promise<number> {
  // Polled from here: in-page predicates given as strings are eval, which the page's CSP forbids.
  const until = Date.now() + timeoutMs;
  for (;;) {
    const n = Number((await page.getAttribute('body', 'data-loaded')) ?? 0);
    if (n > previous) return n;
    if (Date.now() > until)
      throw new Error(`dashboard refresh ${previous + 1} did not finish in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The text of one column of a table's body rows. */
export const column = (page: Page, selector: string, index: number): Promise<string[]> =>
  page.$$eval(`${selector} tbody tr`, (rows, i) => rows.map((r) => r.children[i]?.textContent ?? ''), index);

/** Series labels of the traffic chart's legend (the time column excluded). */
export const legendLabels = (page: Page): Promise<string[]> =>
  page.$$eval('#chart .u-legend .u-series .u-label', (ls) => ls.slice(1).map((l) => l.textContent ?? ''));

/** Pixels of the chart canvas painted with a series colour (not background, grid or text). */
export function paintedPixels(page: Page): Promise<number> {
  return page.$eval('#chart canvas', (canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
    }
    return n;
  });
}
