// The dashboard: reads the controls, asks the API, fills the panels. Every panel refreshes on its
// own so one failing query (or a missing store) never blanks the others.
import { ApiError, getJson, onTokenNeeded } from './api.js';
import { clearChart, drawStacked, resizeChart } from './charts.js';
import { ago, duration, formatMetric, si, skew, utc } from './format.js';

const $ = (id) => document.getElementById(id);

/** Bucket widths the chart picks from (seconds): about 120 buckets over the range. */
const BUCKETS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
/** Top lists: dimension, title, heading of the key column. */
const TOPS = [
  ['srcip', 'Source IPs', 'address'],
  ['dstip', 'Destination IPs', 'address'],
  ['srcport', 'Source ports', 'port'],
  ['dstport', 'Destination ports', 'port'],
  ['protocol', 'Protocols', 'protocol'],
  ['exporter', 'Exporters', 'exporter'],
  ['srcas', 'Source AS', 'AS'],
  ['dstas', 'Destination AS', 'AS'],
  ['srccountry', 'Source countries', 'country'],
  ['dstcountry', 'Destination countries', 'country'],
  ['input', 'Input interfaces', 'ifIndex'],
  ['output', 'Output interfaces', 'ifIndex'],
];
const EMPTY = 'No flows in this range.';

function el(tag, props = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

/**
 * A table; `cols` is [header, (row) => text, numeric?, (row) => {class?, title?}?]. Text cells carry
 * their text as a tooltip too: a cell cut short with an ellipsis can still be read in full.
 */
function table(cols, rows) {
  const head = el(
    'tr',
    {},
    cols.map(([h, , num]) => el('th', num ? { class: 'num' } : {}, [h])),
  );
  const body = rows.map((r) =>
    el(
      'tr',
      {},
      cols.map(([, f, num, extra]) => {
        const text = String(f(r));
        const more = extra?.(r) ?? {};
        const cls = [num ? 'num' : '', more.class ?? ''].filter(Boolean).join(' ');
        const title = more.title ?? (num ? '' : text);
        return el('td', { ...(cls ? { class: cls } : {}), ...(title ? { title } : {}) }, [text]);
      }),
    ),
  );
  return el('table', {}, [el('thead', {}, [head]), el('tbody', {}, body)]);
}

const message = (text, cls = 'empty') => el('p', { class: cls }, [text]);

function range() {
  const v = $('range').value;
  if (v === 'custom') {
    const from = Date.parse(`${$('from').value}Z`);
    const to = Date.parse(`${$('to').value}Z`);
    if (Number.isFinite(from) && Number.isFinite(to) && from < to) return { from, to };
  }
  const to = Date.now();
  const seconds = v === 'custom' ? 3600 : Number(v);
  return { from: to - seconds * 1000, to };
}

const filterText = () => $('filter').value.trim();

/** Shows a filter syntax error under the box, with a caret at the column the API reported. */
function showFilterError(err) {
  const box = $('filter-error');
  if (err === null) {
    box.hidden = true;
    box.replaceChildren();
    $('filter').removeAttribute('aria-invalid');
    return;
  }
  const pos = typeof err.position === 'number' ? err.position : null;
  const text = filterText();
  const why = err.error ?? 'invalid filter';
  // The parser's message usually names the column already.
  const lines = [pos === null || /column \d/.test(why) ? why : `${why} (column ${pos + 1})`];
  if (pos !== null) lines.push(text, `${' '.repeat(Math.min(pos, text.length))}^`);
  box.replaceChildren(el('pre', {}, [lines.join('\n')]));
  box.hidden = false;
  $('filter').setAttribute('aria-invalid', 'true');
}

/** Runs one panel's query; a 400 is a filter error (shown once, at the box), anything else is the panel's. */
async function panel(target, run) {
  try {
    await run();
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 400 && err.body && 'position' in err.body) {
      showFilterError(err.body);
      $('chart-empty').hidden = true;
      target.replaceChildren(message('Fix the filter to see results.'));
    } else {
      const why =
        err instanceof ApiError && err.status === 404 ? 'not available on this collector' : err.message;
      target.replaceChildren(message(`Could not load: ${why}`, 'error'));
    }
    return false;
  }
}

function pickBucket(r) {
  const raw = (r.to - r.from) / 1000 / 120;
  return BUCKETS.find((b) => b >= raw) ?? BUCKETS[BUCKETS.length - 1];
}

const keyLabel = (k) => (k === null || k === undefined || k === '' ? 'unknown' : String(k));

async function loadTraffic(r, filter) {
  const chart = $('chart');
  const metric = $('metric').value;
  const groupby = $('groupby').value;
  const bucket = pickBucket(r);
  const base = { from: r.from, to: r.to, filter, bucket, metric };
  const [total, grouped] = await Promise.all([
    getJson('/api/timeseries', { ...base, limit: 1 }),
    groupby === '' ? null : getJson('/api/timeseries', { ...base, groupby, limit: 5 }),
  ]);
  $('chart-empty').hidden = total.points.length > 0;
  if (total.points.length === 0) {
    clearChart(chart);
    return;
  }
  const first = Math.floor(r.from / 1000 / bucket) * bucket;
  const times = [];
  for (let t = first; t * 1000 < r.to; t += bucket) times.push(t);
  const index = new Map(times.map((t, i) => [t * 1000, i]));
  const perSecond = (points, key) => {
    const values = times.map(() => 0);
    for (const p of points) {
      const i = index.get(p.bucketMs);
      if (i !== undefined && (key === undefined || keyLabel(p.key) === key)) values[i] += p[metric] / bucket;
    }
    return values;
  };
  const all = perSecond(total.points);
  const series = [];
  if (grouped !== null) {
    const keys = [...new Set(grouped.points.map((p) => keyLabel(p.key)))].slice(0, 5);
    for (const k of keys) series.push({ label: k, values: perSecond(grouped.points, k) });
    const other = all.map((v, i) => Math.max(0, v - series.reduce((s, x) => s + x.values[i], 0)));
    if (other.some((v) => v > all[other.indexOf(v)] * 1e-9 && v > 0))
      series.push({ label: 'other', values: other });
  } else {
    series.push({ label: 'total', values: all });
  }
  drawStacked(chart, times, series, metric);
}

async function loadTops(r, filter) {
  const metric = $('topmetric').value;
  const seconds = (r.to - r.from) / 1000;
  const grid = $('tops');
  const cards = TOPS.map(([dim, title, keyHeading]) => {
    const body = el('div', { class: 'card-body' }, [message('loading…')]);
    return {
      dim,
      keyHeading,
      card: el('div', { class: 'card', 'data-dimension': dim }, [el('h3', {}, [title]), body]),
      body,
    };
  });
  grid.replaceChildren(...cards.map((c) => c.card));
  const results = await Promise.all(
    cards.map((c) =>
      panel(c.body, async () => {
        const { rows } = await getJson('/api/top', {
          from: r.from,
          to: r.to,
          filter,
          dimension: c.dim,
          metric,
          limit: 10,
        });
        c.body.replaceChildren(
          rows.length === 0
            ? message(EMPTY)
            : table(
                [
                  [c.keyHeading, (x) => keyLabel(x.key)],
                  // Traffic as the average rate over the range; packets and flows as totals.
                  ['avg rate', (x) => formatMetric('bits', x.bits / seconds, true), true],
                  ['packets', (x) => si(x.packets), true],
                  ['flows', (x) => si(x.flows), true],
                ],
                rows,
              ),
        );
      }),
    ),
  );
  return results.every(Boolean);
}

async function loadFlows(r, filter) {
  const target = $('flows');
  return panel(target, async () => {
    const { flows } = await getJson('/api/flows', { from: r.from, to: r.to, filter, limit: 100 });
    const hostPort = (ip, port) =>
      ip === null ? '–' : port === null ? ip : ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
    target.replaceChildren(
      flows.length === 0
        ? message(EMPTY)
        : table(
            [
              ['end (UTC)', (f) => utc(f.end ?? f.start)],
              ['exporter', (f) => f.flowsrcip ?? '–'],
              ['source', (f) => hostPort(f.srcip, f.srcport)],
              ['destination', (f) => hostPort(f.dstip, f.dstport)],
              ['proto', (f) => f.protocol ?? f.protocolint ?? '–'],
              ['bytes', (f) => (f.bits === null ? '–' : si(f.bits / 8)), true],
              ['packets', (f) => si(f.packets), true],
              ['in', (f) => f.input ?? '–', true],
              ['out', (f) => f.output ?? '–', true],
              ['sampling', (f) => (f.samplerate === null ? '–' : `1:${f.samplerate}`), true],
              ['type', (f) => `${f.flowtype ?? '–'} ${f.flowversion ?? ''}`],
            ],
            flows,
          ),
    );
  });
}

/** Severities with a colour (a class); anything else is shown as plain text. */
const SEVERITIES = new Set(['low', 'medium', 'high', 'critical']);
const ENDED_SHOWN = 20;

const ALERT_COLUMNS = [
  ['kind', (a) => String(a.kind).replaceAll('_', ' ')],
  ['target', (a) => a.target],
  [
    'severity',
    (a) => a.severity,
    false,
    (a) => (SEVERITIES.has(a.severity) ? { class: `sev sev-${a.severity}` } : {}),
  ],
  ['value / threshold', (a) => `${si(a.value)} / ${si(a.threshold)} ${a.metric}`, true],
  ['peak', (a) => si(a.peak), true],
  ['started (UTC)', (a) => utc(a.startedAt)],
  // Flow time: an active alert has lasted until its latest update.
  ['duration', (a) => duration((a.endedAt ?? a.updatedAt) - a.startedAt), true],
  ['summary', (a) => a.summary ?? ''],
];

async function loadAlerts() {
  const target = $('alerts');
  const badge = $('alerts-badge');
  return panel(target, async () => {
    const [active, ended] = await Promise.all([
      getJson('/api/alerts', { state: 'active', limit: 100 }),
      getJson('/api/alerts', { state: 'ended', limit: ENDED_SHOWN }),
    ]);
    const n = active.counts?.active ?? active.alerts.length;
    badge.hidden = n === 0;
    badge.textContent = `${n} active`;
    if (active.detection === 'off') {
      target.replaceChildren(message('Detection is off: this collector raises no alerts.'));
      return;
    }
    if (active.alerts.length === 0 && ended.alerts.length === 0) {
      target.replaceChildren(message('No alerts.'));
      return;
    }
    const more = n > active.alerts.length ? ` (newest ${active.alerts.length} shown)` : '';
    target.replaceChildren(
      el('h3', {}, [`Active: ${n}${more}`]),
      active.alerts.length === 0
        ? message('No active alerts.')
        : el('div', { 'data-state': 'active' }, [table(ALERT_COLUMNS, active.alerts)]),
      el('h3', {}, ['Recently ended']),
      ended.alerts.length === 0
        ? message('None.')
        : el('div', { 'data-state': 'ended' }, [table(ALERT_COLUMNS, ended.alerts)]),
    );
  });
}

// Collectors older than the clock skew check send neither field: the column then shows "—".
const clockSkewText = (e) => `${skew(e.clockSkewSec)}${e.clockSkewed === true ? ' ⚠' : ''}`;
const clockSkewCell = (e) =>
  e.clockSkewed === true
    ? { class: 'warn', title: "beyond the collector's clock skew threshold: check the exporter's NTP" }
    : {
        title:
          "arrival minus the exporter's header export time: + its clock is behind, − ahead; none for sFlow",
      };

/** Previous /stats snapshot: records/s is the difference between two polls. */
let lastStats = null;

async function loadExporters() {
  const target = $('exporters');
  return panel(target, async () => {
    const stats = await getJson('/stats');
    const now = Date.now();
    const prev = new Map((lastStats?.stats.exporters ?? []).map((e) => [e.address, e]));
    const rateOf = (e) => {
      const p = prev.get(e.address);
      if (p !== undefined) return (e.records - p.records) / Math.max(1, (now - lastStats.at) / 1000);
      const first = Date.parse(e.firstSeen);
      const last = Date.parse(e.lastSeen);
      return last > first ? e.records / ((last - first) / 1000) : null;
    };
    lastStats = { stats, at: now };
    const errors = (e) => Object.values(e.errors ?? {}).reduce((a, b) => a + b, 0);
    const exporters = stats.exporters ?? [];
    target.replaceChildren(
      exporters.length === 0
        ? message('No exporter has sent anything yet.')
        : table(
            [
              ['exporter', (e) => e.address],
              ['protocol', (e) => e.protocol ?? '–'],
              ['records/s', (e) => si(rateOf(e)), true],
              ['records', (e) => si(e.records), true],
              ['datagrams', (e) => si(e.datagrams), true],
              ['sequence loss', (e) => si(e.sequence?.missing ?? null), true],
              ['errors', (e) => si(errors(e)), true],
              ['templates', (e) => (e.templateState === null ? '–' : e.templateState.templates), true],
              ['restarts', (e) => (e.templateState === null ? '–' : e.templateState.restarts), true],
              ['last seen', (e) => ago(e.lastSeen === null ? null : Date.parse(e.lastSeen), now)],
              ['clock skew', clockSkewText, true, clockSkewCell],
              ['last error', (e) => e.lastError ?? ''],
            ],
            exporters,
          ),
    );
  });
}

let generation = 0;

async function refresh() {
  const mine = ++generation;
  const r = range();
  const filter = filterText();
  showFilterError(null);
  $('status').textContent = 'loading…';
  const ok = await Promise.all([
    loadAlerts(),
    panel($('chart'), () => loadTraffic(r, filter)),
    loadTops(r, filter),
    loadFlows(r, filter),
    loadExporters(),
  ]);
  if (mine !== generation) return;
  $('status').textContent =
    `${utc(r.from).slice(5, 16)} – ${utc(r.to).slice(5, 16)} UTC${ok.every(Boolean) ? '' : ' (some panels failed)'}`;
  document.body.dataset.loaded = String(mine);
}

let timer = null;
function schedule() {
  if (timer !== null) clearInterval(timer);
  const s = Number($('refresh').value);
  timer = s > 0 ? setInterval(refresh, s * 1000) : null;
}

function askToken(reason) {
  const dialog = $('login');
  $('login-error').hidden = reason === null;
  $('login-error').textContent = reason ?? '';
  $('token').value = '';
  return new Promise((resolve) => {
    $('login-form').addEventListener(
      'submit',
      () => {
        resolve($('token').value.trim());
      },
      { once: true },
    );
    if (!dialog.open) dialog.showModal();
  });
}

function start() {
  onTokenNeeded(askToken);
  $('controls').addEventListener('submit', (e) => {
    e.preventDefault();
    refresh();
  });
  $('range').addEventListener('change', () => {
    const custom = $('range').value === 'custom';
    $('custom').hidden = !custom;
    if (custom && $('from').value === '') {
      const to = Date.now();
      $('from').value = new Date(to - 3600e3).toISOString().slice(0, 19);
      $('to').value = new Date(to).toISOString().slice(0, 19);
    }
    refresh();
  });
  for (const id of ['from', 'to', 'metric', 'groupby', 'topmetric'])
    $(id).addEventListener('change', refresh);
  $('refresh').addEventListener('change', schedule);
  // Not only window resizes: the page's scrollbar appearing once the tables fill narrows the chart too.
  // Deferred to the next frame so resizing the plot never re-enters the observer in the same frame.
  new ResizeObserver(() => requestAnimationFrame(() => resizeChart($('chart')))).observe($('chart'));
  schedule();
  refresh();
}

start();
