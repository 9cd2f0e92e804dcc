/**
 * A real Prometheus (Debian's `prometheus`, scripts/install-test-deps.sh) scrapes the API's
 * /metrics: the exposition must parse for Prometheus' own parser, not only for ours, and a
 * bearer-token API must be scrapable with Prometheus' `authorization` scrape setting.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Collector, startCollector } from '../../src/collector.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { type ApiServer, startApiServer } from '../../src/serve/api-server.js';
import { MemoryOutput, quietLogger, sendUdp, testConfig, waitFor } from '../collector/helpers.js';
import { commandExists, freePort } from '../helpers/traffic.js';
import { V5 } from './helpers.js';

const skip = commandExists('prometheus') ? false : 'prometheus not installed (scripts/install-test-deps.sh)';
const TOKEN = 'scrape-token-0123456789abcdef';
const TIMEOUT_MS = 30_000;

const work = mkdtempSync(join(tmpdir(), 'flowgate-prometheus-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Flowgate {
  collector: Collector;
  api: ApiServer;
  close(): Promise<void>;
}

/** A collector that has decoded the v5 capture (8 records from 127.0.0.1) and the API before it. */
async function startFlowgate(token: string | null): Promise<Flowgate> {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const collector = await startCollector(testConfig({}), quietLogger, {
    output: new MemoryOutput(),
    decoder,
  });
  try {
    await sendUdp('127.0.0.1', collector.listeners[0].port, [V5]);
    await waitFor('v5 datagram decoded', () => collector.stats().decode.datagrams === 1);
    const api = await startApiServer({
      listen: '127.0.0.1:0',
      token,
      allowNoToken: false,
      collector,
      templates: () => decoder.templates.exporterStats(),
      logger: quietLogger,
    });
    return {
      collector,
      api,
      close: async () => {
        await api.close();
        await collector.stop();
      },
    };
  } catch (err) {
    await collector.stop();
    throw err;
  }
}

interface Prometheus {
  base: string;
  stderr(): string;
  running(): boolean;
  stop(): Promise<void>;
}

/** Starts Prometheus on its own free loopback port (never the packaged service's :9090). */
async function startPrometheus(name: string, scrapeConfigs: string): Promise<Prometheus> {
  const dir = join(work, name);
  const config = join(work, `${name}.yml`);
  writeFileSync(
    config,
    `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${scrapeConfigs}`,
  );
  const port = await freePort('tcp');
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 20_000) stderr += s;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    base: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        // The grace timer is unref'd so that it cannot hold the test process open once we are done.
        const grace = sleep(10_000, false, { ref: false });
        if (!(await Promise.race([exited.then(() => true), grace]))) child.kill('SIGKILL');
      }
      await exited;
    },
  };
}

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** GET on Prometheus' HTTP API; null while it is not answering yet. */
async function apiGet<T>(p: Prometheus, path: string): Promise<T | null> {
  try {
    const r = await fetch(p.base + path, { signal: AbortSignal.timeout(2000) });
    if (r.status !== 200) return null;
    const body = (await r.json()) as { status: string; data: T };
    return body.status === 'success' ? body.data : null;
  } catch {
    return null;
  }
}

/** Polls until `check` returns a value, or fails after TIMEOUT_MS with Prometheus' log. */
async function poll<T>(p: Prometheus, what: string, check: () => Promise<T | null>): Promise<T> {
  const until = Date.now() + TIMEOUT_MS;
  for (;;) {
    const v = await check();
    if (v !== null) return v;
    if (!p.running()) throw new Error(`prometheus exited while waiting for ${what}:\n${p.stderr()}`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; prometheus said:\n${p.stderr()}`);
    await sleep(200);
  }
}

/** The target of `job` once it has been scraped (health no longer "unknown"). */
function scrapedTarget(p: Prometheus, job: string): Promise<Target> {
  return poll(p, `a scrape of job ${job}`, async () => {
    const data = await apiGet<{ activeTargets: Target[] }>(p, '/api/v1/targets?state=active');
    const t = data?.activeTargets.find((a) => a.labels.job === job);
    return t === undefined || t.health === 'unknown' ? null : t;
  });
}

/** The instant vector of `query` once `ok` accepts it. */
function queryUntil(p: Prometheus, query: string, ok: (r: Sample[]) => boolean): Promise<Sample[]> {
  return poll(p, `query ${query}`, async () => {
    const data = await apiGet<{ resultType: string; result: Sample[] }>(
      p,
      `/api/v1/query?query=${encodeURIComponent(query)}`,
    );
    return data !== null && ok(data.result) ? data.result : null;
  });
}

function job(name: string, port: number, extra = ''): string {
  return `  - job_name: ${name}\n    metrics_path: /metrics\n${extra}    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`;
}

// Each Prometheus waits ~5 s before its first scrape (its discovery manager batches target
// updates), so the two run side by side, each with its own collector, API and Prometheus.
describe('Prometheus scraping the API', { skip, concurrency: true }, () => {
  test('Prometheus scrapes /metrics: target up, 8 v5 records from 127.0.0.1, then 16', async () => {
    const f = await startFlowgate(null);
    const p = await startPrometheus('open', job('flowgate', f.api.port));
    try {
      const target = await scrapedTarget(p, 'flowgate');
      assert.equal(target.health, 'up', `scrape failed: ${target.lastError}`);
      assert.equal(target.lastError, '');
      assert.equal(target.labels.instance, `127.0.0.1:${f.api.port}`);

      const up = await queryUntil(p, 'up{job="flowgate"}', (r) => r.length === 1);
      assert.equal(up[0].value[1], '1');

      const records = await queryUntil(p, 'flowgate_records_total', (r) => r.length > 0);
      assert.equal(records.length, 1);
      assert.deepEqual(records[0].metric, {
        __name__: 'flowgate_records_total',
        exporter: '127.0.0.1',
        instance: `127.0.0.1:${f.api.port}`,
        job: 'flowgate',
      });
      assert.equal(records[0].value[1], '8');
      const datagrams = await queryUntil(
        p,
        'flowgate_datagrams_total{exporter="127.0.0.1"}',
        (r) => r.length > 0,
      );
      assert.equal(datagrams[0].value[1], '1');
      const bytes = await queryUntil(
        p,
        'flowgate_datagram_bytes_total{exporter="127.0.0.1"}',
        (r) => r.length > 0,
      );
      assert.equal(bytes[0].value[1], '408', 'the v5 capture is 408 bytes');
      const capacity = await queryUntil(p, 'flowgate_queue_capacity', (r) => r.length > 0);
      assert.equal(capacity[0].value[1], '1000');

      // Later scrapes follow the collector: a second copy of the capture adds its 8 records.
      await sendUdp('127.0.0.1', f.collector.listeners[0].port, [V5]);
      await waitFor('second v5 datagram', () => f.collector.stats().decode.datagrams === 2);
      const more = await queryUntil(
        p,
        'flowgate_records_total{exporter="127.0.0.1"}',
        (r) => r.length === 1 && r[0].value[1] !== '8',
      );
      assert.equal(more[0].value[1], '16');
    } finally {
      await p.stop();
      await f.close();
    }
  });

  test('Prometheus with api.token: the job with `authorization` is up, the one without gets 401', {
    skip,
  }, async () => {
    const f = await startFlowgate(TOKEN);
    const p = await startPrometheus(
      'token',
      job('flowgate', f.api.port, `    authorization:\n      type: Bearer\n      credentials: ${TOKEN}\n`) +
        job('flowgate-no-token', f.api.port),
    );
    try {
      const authed = await scrapedTarget(p, 'flowgate');
      assert.equal(authed.health, 'up', `scrape failed: ${authed.lastError}`);
      assert.equal(authed.lastError, '');
      const refused = await scrapedTarget(p, 'flowgate-no-token');
      assert.equal(refused.health, 'down');
      assert.match(refused.lastError, /401/);

      const up = await queryUntil(p, 'up', (r) => r.length === 2);
      const byJob = Object.fromEntries(up.map((s) => [s.metric.job, s.value[1]]));
      assert.deepEqual(byJob, { flowgate: '1', 'flowgate-no-token': '0' });
      const records = await queryUntil(p, 'flowgate_records_total', (r) => r.length > 0);
      assert.equal(records.length, 1, 'only the authorized job has flowgate series');
      assert.equal(records[0].metric.job, 'flowgate');
      assert.equal(records[0].value[1], '8');
    } finally {
      await p.stop();
      await f.close();
    }
  });
});
