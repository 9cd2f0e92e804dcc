/**
 * /api/alerts and /api/alerts/{id} on a real API server on loopback, fed by an AlertStore that
 * received events as the detection engine sends them; and the flowgate_alerts_* metrics.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Alert } from '../../src/detect/alert.js';
import { AlertStore } from '../../src/detect/alert-store.js';
import { eventOf, T0 } from '../detect/alert-fixtures.js';
import { parsePrometheus, type Stack, startStack } from './helpers.js';

interface ListBody {
  detection: string;
  counts: { active: number; ended: number; byKind: Record<string, { active: number; ended: number }> };
  alerts: Alert[];
}

let store: AlertStore;
let stack: Stack;

/** A SYN flood that ended, a UDP flood going on, a port scan going on (started in that order). */
function feed(s: AlertStore): void {
  s.handle(eventOf('start', { id: 'syn-1', startedAt: T0, updatedAt: T0 }));
  s.handle(eventOf('end', { id: 'syn-1', startedAt: T0, updatedAt: T0 + 30_000, endedAt: T0 + 90_000 }));
  s.handle(
    eventOf('start', { id: 'udp-1', kind: 'udp_flood', target: '192.0.2.20', startedAt: T0 + 600_000 }),
  );
  s.handle(
    eventOf('update', {
      id: 'udp-1',
      kind: 'udp_flood',
      target: '192.0.2.20',
      startedAt: T0 + 600_000,
      peak: 9e5,
    }),
  );
  s.handle(
    eventOf('start', { id: 'scan/1', kind: 'port_scan', target: '203.0.113.5', startedAt: T0 + 900_000 }),
  );
}

before(async () => {
  store = new AlertStore();
  feed(store);
  stack = await startStack({ alerts: store });
});
after(async () => {
  await stack?.close();
  await store?.close();
});

const get = (path: string) => fetch(`${stack.base}${path}`);
async function list(query = ''): Promise<ListBody> {
  const res = await get(`/api/alerts${query}`);
  assert.equal(res.status, 200, query);
  return (await res.json()) as ListBody;
}
const ids = (b: ListBody) => b.alerts.map((a) => a.id);

test('GET /api/alerts: every alert, newest first, with counts', async () => {
  const body = await list();
  assert.equal(body.detection, 'on');
  assert.deepEqual(ids(body), ['scan/1', 'udp-1', 'syn-1']);
  assert.deepEqual([body.counts.active, body.counts.ended], [2, 1]);
  assert.deepEqual(body.counts.byKind.udp_flood, { active: 1, ended: 0 });
  const udp = body.alerts[1];
  assert.equal(udp.peak, 9e5, 'the latest version');
  assert.equal(body.alerts[2].state, 'ended');
});

test('GET /api/alerts: state, kind, target, from/to (epoch ms or ISO 8601) and limit filter', async () => {
  assert.deepEqual(ids(await list('?state=active')), ['scan/1', 'udp-1']);
  assert.deepEqual(ids(await list('?state=ENDED')), ['syn-1']);
  assert.deepEqual(ids(await list('?kind=port_scan')), ['scan/1']);
  assert.deepEqual(ids(await list('?target=192.0.2.20')), ['udp-1']);
  assert.deepEqual(ids(await list(`?from=${T0 + 100_000}`)), ['scan/1', 'udp-1']);
  const iso = new Date(T0 + 700_000).toISOString();
  assert.deepEqual(ids(await list(`?to=${encodeURIComponent(iso)}`)), ['udp-1', 'syn-1']);
  assert.deepEqual(ids(await list('?limit=1')), ['scan/1']);
  assert.deepEqual(ids(await list('?kind=exporter_silent')), []);
});

test('GET /api/alerts: bad parameters answer 400 with a message that says why', async () => {
  const cases: [string, RegExp][] = [
    ['state=open', /state "open" is not one of active, ended/],
    ['kind=ddos', /kind "ddos" is not one of volumetric, syn_flood/],
    ['limit=0', /limit "0" must be an integer from 1 to 1000/],
    ['limit=1001', /limit "1001" must be an integer from 1 to 1000/],
    ['from=yesterday', /from "yesterday" is neither epoch milliseconds nor an ISO 8601 time/],
    [`from=${T0}&to=${T0}`, /from \(2026-11-23T12:00:00.000Z\) must be before to/],
    ['kind=syn_flood&kind=udp_flood', /kind is given 2 times: give it once/],
    [`target=${'x'.repeat(300)}`, /target is 300 characters long: at most 256/],
  ];
  for (const [query, message] of cases) {
    const res = await get(`/api/alerts?${query}`);
    assert.equal(res.status, 400, query);
    const body = (await res.json()) as { error: string; allowed?: string[] };
    assert.match(body.error, message, query);
    if (query.startsWith('state=')) assert.deepEqual(body.allowed, ['active', 'ended']);
  }
});

test('GET /api/alerts/{id}: the alert, or 404', async () => {
  const res = await get(`/api/alerts/${encodeURIComponent('scan/1')}`);
  assert.equal(res.status, 200);
  const { alert } = (await res.json()) as { alert: Alert };
  assert.equal(alert.kind, 'port_scan');
  assert.equal(alert.target, '203.0.113.5');
  const missing = await get('/api/alerts/nope');
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: 'no alert with id "nope"' });
});

test('/metrics: flowgate_alerts_active per kind, flowgate_alerts_total counts starts', async () => {
  let m = parsePrometheus(await (await get('/metrics')).text());
  assert.equal(m.get('flowgate_alerts_active{kind="udp_flood"}'), 1);
  assert.equal(m.get('flowgate_alerts_active{kind="port_scan"}'), 1);
  assert.equal(m.get('flowgate_alerts_active{kind="syn_flood"}'), 0, 'ended');
  assert.equal(m.get('flowgate_alerts_active{kind="exporter_silent"}'), 0, 'every kind has a series');
  assert.equal(m.get('flowgate_alerts_total{kind="syn_flood"}'), 1);
  assert.equal(m.get('flowgate_alerts_total{kind="udp_flood"}'), 1, 'updates are not starts');
  // A second SYN flood starts and the UDP flood ends.
  store.handle(eventOf('start', { id: 'syn-2', startedAt: T0 + 950_000 }));
  store.handle(
    eventOf('end', { id: 'udp-1', kind: 'udp_flood', target: '192.0.2.20', startedAt: T0 + 600_000 }),
  );
  m = parsePrometheus(await (await get('/metrics')).text());
  assert.equal(m.get('flowgate_alerts_total{kind="syn_flood"}'), 2);
  assert.equal(m.get('flowgate_alerts_active{kind="syn_flood"}'), 1);
  assert.equal(m.get('flowgate_alerts_active{kind="udp_flood"}'), 0);
  store.handle(eventOf('end', { id: 'syn-2', startedAt: T0 + 950_000 }));
});

test('without an alert store: an empty list marked "detection": "off", 404 by id, no alert metrics', async () => {
  const off = await startStack();
  try {
    const res = await fetch(`${off.base}/api/alerts?state=active`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as ListBody;
    assert.equal(body.detection, 'off');
    assert.deepEqual(body.alerts, []);
    assert.deepEqual([body.counts.active, body.counts.ended], [0, 0]);
    assert.equal((await fetch(`${off.base}/api/alerts?limit=0`)).status, 400, 'parameters still checked');
    const one = await fetch(`${off.base}/api/alerts/syn-1`);
    assert.equal(one.status, 404);
    assert.match(((await one.json()) as { error: string }).error, /detection is off/);
    const metrics = await (await fetch(`${off.base}/metrics`)).text();
    assert.deepEqual(
      metrics.split('\n').filter((l) => l.includes('flowgate_alerts_')),
      [],
    );
  } finally {
    await off.close();
  }
});

test('with a token, /api/alerts needs it; with a file, alerts survive a restart of the API', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-alerts-api-'));
  const path = join(dir, 'alerts.jsonl');
  const token = 'alerts-token-0123456789abcdef';
  const first = new AlertStore({ path });
  feed(first);
  const before = await startStack({ alerts: first, token });
  let expected: ListBody;
  try {
    assert.equal((await fetch(`${before.base}/api/alerts`)).status, 401);
    const res = await fetch(`${before.base}/api/alerts`, { headers: { authorization: `Bearer ${token}` } });
    expected = (await res.json()) as ListBody;
    assert.equal(expected.alerts.length, 3);
  } finally {
    await before.close();
    await first.close();
  }
  const second = new AlertStore({ path });
  const restarted = await startStack({ alerts: second });
  try {
    assert.deepEqual((await (await fetch(`${restarted.base}/api/alerts`)).json()) as ListBody, expected);
  } finally {
    await restarted.close();
    await second.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
