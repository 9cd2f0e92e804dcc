/**
 * The dashboard's Alerts panel in headless Chromium (Debian's chromium through playwright-core),
 * against a real API server whose AlertStore holds alerts; alert text comes from network data, so
 * a target that looks like HTML must stay text.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { AlertStore } from '../../src/detect/alert-store.js';
import { eventOf, T0 } from '../detect/alert-fixtures.js';
import { ARTIFACTS, column, launchChromium, loaded, skipWithoutChromium as skip } from './dashboard-page.js';
import { type Stack, startStack } from './helpers.js';

const HOSTILE_TARGET = '<img src=x onerror="document.body.dataset.pwned=1">';
let browser: Browser;

before(async () => {
  if (!skip) browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** Opens the dashboard of `stack` and waits for its first refresh; `use` gets the page. */
async function withDashboard(stack: Stack, use: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  try {
    const page = await context.newPage();
    await page.goto(`${stack.base}/`);
    await loaded(page, 0);
    await use(page);
  } finally {
    await context.close();
  }
}

test('alerts panel: the active alert first, the ended one below, every field as text', { skip }, async () => {
  const store = new AlertStore();
  store.handle(
    eventOf('start', {
      id: 'hostile',
      kind: 'udp_flood',
      severity: 'critical',
      target: HOSTILE_TARGET,
      metric: 'bps',
      value: 2.5e9,
      threshold: 1e9,
      startedAt: T0 + 600_000,
      updatedAt: T0 + 600_000 + 330_000,
    }),
  );
  store.handle(eventOf('start', { id: 'syn' }));
  store.handle(eventOf('end', { id: 'syn', startedAt: T0, updatedAt: T0 + 60_000, endedAt: T0 + 120_000 }));
  const stack = await startStack({ alerts: store });
  try {
    await withDashboard(stack, async (page) => {
      assert.equal(await page.textContent('#alerts-badge'), '1 active');
      const active = '#alerts [data-state="active"]';
      assert.deepEqual(await column(page, active, 0), ['udp flood']);
      assert.deepEqual(await column(page, active, 1), [HOSTILE_TARGET], 'the target shown as typed');
      assert.deepEqual(await column(page, active, 2), ['critical']);
      assert.equal(await page.getAttribute(`${active} tbody td:nth-child(3)`, 'class'), 'sev sev-critical');
      assert.deepEqual(await column(page, active, 3), ['2.50 G / 1.00 G bps']);
      assert.deepEqual(await column(page, active, 5), ['2026-11-23 12:10:00']);
      assert.deepEqual(await column(page, active, 6), ['5 min']);

      const ended = '#alerts [data-state="ended"]';
      assert.deepEqual(await column(page, ended, 0), ['syn flood']);
      assert.deepEqual(await column(page, ended, 1), ['192.0.2.10']);
      assert.deepEqual(await column(page, ended, 6), ['2 min']);

      // Active above ended in the page.
      const order = await page.$$eval('#alerts [data-state]', (ds) =>
        ds.map((d) => d.getAttribute('data-state')),
      );
      assert.deepEqual(order, ['active', 'ended']);
      assert.equal(await page.locator('#alerts img').count(), 0, 'no element made from the target');
      assert.equal(await page.getAttribute('body', 'data-pwned'), null);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-alerts.png'), fullPage: true });

      // The next refresh shows what detection raised since.
      store.handle(
        eventOf('start', { id: 'scan', kind: 'port_scan', target: '203.0.113.5', startedAt: T0 + 900_000 }),
      );
      const gen = Number(await page.getAttribute('body', 'data-loaded'));
      await page.press('#filter', 'Enter');
      await loaded(page, gen);
      assert.deepEqual(await column(page, active, 1), ['203.0.113.5', HOSTILE_TARGET]);
      assert.equal(await page.textContent('#alerts-badge'), '2 active');
    });
  } finally {
    await stack.close();
    await store.close();
  }
});

test('alerts panel: "No alerts" with an empty store, "Detection is off" without one', { skip }, async () => {
  const store = new AlertStore();
  const on = await startStack({ alerts: store });
  try {
    await withDashboard(on, async (page) => {
      assert.equal(await page.textContent('#alerts'), 'No alerts.');
      assert.equal(await page.isVisible('#alerts-badge'), false);
    });
  } finally {
    await on.close();
    await store.close();
  }
  const off = await startStack();
  try {
    await withDashboard(off, async (page) => {
      assert.match((await page.textContent('#alerts')) ?? '', /^Detection is off/);
    });
  } finally {
    await off.close();
  }
});
