import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AlertEvent } from '../../src/detect/alert.js';
import type { NotifyLog } from '../../src/notify/notify-log.js';
import { WebhookNotifier, type WebhookOptions } from '../../src/notify/webhook.js';
import { REPO_ROOT } from '../helpers/collector-process.js';
import { stopProcess, waitForOutput } from '../helpers/traffic.js';
import { eventually, makeEvent } from './alert-fixture.js';

const SECRET = 'Bearer s3cr3t-token-0123456789abcdef';

interface Received {
  attempts: number;
  accepted: { path: string; headers: Record<string, string>; body: string; at: number }[];
}

/** http-receiver.ts as a child process on 127.0.0.1. */
class Receiver {
  private constructor(
    private child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<Receiver> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test/helpers/http-receiver.ts'), String(port)],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    running.add(child);
    const out = await waitForOutput(child, /listening (\d+)/, 15_000);
    return new Receiver(child, Number(/listening (\d+)/.exec(out)![1]));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async control(mode: Record<string, unknown>): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${this.port}/_control`, {
      method: 'POST',
      body: JSON.stringify(mode),
    });
    assert.equal(res.status, 200);
  }

  async received(): Promise<Received> {
    return (await (await fetch(`http://127.0.0.1:${this.port}/_received`)).json()) as Received;
  }

  async stop(): Promise<void> {
    await stopProcess(this.child);
    running.delete(this.child);
  }
}

const running = new Set<ChildProcess>();
after(async () => {
  for (const c of running) await stopProcess(c);
});

function options(url: string, over: Partial<WebhookOptions> = {}): WebhookOptions {
  return { url, timeoutMs: 2000, retries: 3, retryIntervalMs: 50, closeTimeoutMs: 5000, ...over };
}

function bodies(r: Received): AlertEvent[] {
  return r.accepted.map((a) => JSON.parse(a.body) as AlertEvent);
}

/** Every log line, as text, for the secret checks. */
function collectingLog(): NotifyLog & { text: () => string } {
  const lines: string[] = [];
  const push = (fields: Record<string, unknown>, msg: string): void => {
    lines.push(`${msg} ${JSON.stringify(fields)}`);
  };
  return { info: push, warn: push, text: () => lines.join('\n') };
}

test('webhook: POSTs {type, alert} as JSON with the configured headers', async () => {
  const rx = await Receiver.start();
  try {
    const hook = new WebhookNotifier(
      options(rx.url, { headers: { authorization: SECRET, 'x-team': 'noc' } }),
    );
    hook.handle(makeEvent('start'));
    await hook.close();
    const r = await rx.received();
    assert.equal(r.accepted.length, 1);
    const got = r.accepted[0];
    assert.equal(got.path, '/hook');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers.authorization, SECRET);
    assert.equal(got.headers['x-team'], 'noc');
    const body = JSON.parse(got.body) as AlertEvent;
    assert.equal(body.type, 'start');
    assert.equal(body.alert.id, 'a-1');
    assert.equal(body.alert.kind, 'syn_flood');
    assert.deepEqual(Object.keys(body), ['type', 'alert']);
    assert.deepEqual(
      { sent: hook.status().sent, failed: hook.status().failed, retried: hook.status().retried },
      { sent: 1, failed: 0, retried: 0 },
    );
  } finally {
    await rx.stop();
  }
});

test('webhook: 500 answers are retried, then the event arrives; retries exhausted count as failed', async () => {
  const rx = await Receiver.start();
  try {
    await rx.control({ status: 500, times: 2 });
    const hook = new WebhookNotifier(options(rx.url, { retries: 3 }));
    hook.handle(makeEvent('start'));
    await eventually(
      () => hook.status().sent === 1,
      10_000,
      () => JSON.stringify(hook.status()),
    );
    assert.equal(hook.status().retried, 2);
    assert.equal((await rx.received()).attempts, 3);

    await rx.control({ status: 500 });
    hook.handle(makeEvent('update', { id: 'a-2' }));
    await eventually(
      () => hook.status().failed === 1,
      10_000,
      () => JSON.stringify(hook.status()),
    );
    assert.equal((await rx.received()).attempts, 3 + 4, 'first attempt + 3 retries');
    assert.match(hook.status().lastError ?? '', /HTTP 500/);
    await hook.close();
  } finally {
    await rx.stop();
  }
});

test('webhook: a 4xx answer (other than 408/429) is not retried', async () => {
  const rx = await Receiver.start();
  try {
    await rx.control({ status: 400 });
    const hook = new WebhookNotifier(options(rx.url));
    hook.handle(makeEvent('start'));
    await eventually(
      () => hook.status().failed === 1,
      10_000,
      () => JSON.stringify(hook.status()),
    );
    assert.equal(hook.status().retried, 0);
    assert.equal((await rx.received()).attempts, 1);
    await hook.close();
  } finally {
    await rx.stop();
  }
});

test('webhook: 429 and 503 Retry-After (seconds and HTTP date) are waited for', async () => {
  const rx = await Receiver.start();
  try {
    // The backoff alone would retry after 25-50 ms; Retry-After: 1 holds the retry for a second.
    await rx.control({ status: 429, retryAfter: '1', times: 1 });
    const hook = new WebhookNotifier(options(rx.url, { retryIntervalMs: 50 }));
    const t0 = Date.now();
    hook.handle(makeEvent('start'));
    await eventually(
      () => hook.status().sent === 1,
      10_000,
      () => JSON.stringify(hook.status()),
    );
    assert.ok(Date.now() - t0 >= 950, `retried after ${Date.now() - t0} ms, before Retry-After: 1`);

    const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
    await rx.control({ status: 503, retryAfter: inTwoSeconds, times: 1 });
    const t1 = Date.now();
    hook.handle(makeEvent('update'));
    await eventually(
      () => hook.status().sent === 2,
      10_000,
      () => JSON.stringify(hook.status()),
    );
    // HTTP dates have 1 s resolution: at least ~1 s of the 2 s must have been waited.
    assert.ok(Date.now() - t1 >= 900, `retried after ${Date.now() - t1} ms, before the Retry-After date`);
    assert.equal(hook.status().retried, 2);
    await hook.close();
  } finally {
    await rx.stop();
  }
});

test('webhook: a slow endpoint times out and the retry is sent', async () => {
  const rx = await Receiver.start();
  try {
    await rx.control({ delayMs: 3000, times: 1 });
    const hook = new WebhookNotifier(options(rx.url, { timeoutMs: 500 }));
    hook.handle(makeEvent('start'));
    await eventually(
      () => hook.status().sent === 1,
      10_000,
      () => JSON.stringify(hook.status()),
    );
    assert.equal(hook.status().retried, 1);
    assert.match(hook.status().lastError ?? '', /no answer within 500 ms/);
    await hook.close();
  } finally {
    await rx.stop();
  }
});

test('webhook: receiver stopped then restarted: the retried events arrive, in order per alert', async () => {
  let rx = await Receiver.start();
  const port = rx.port;
  await rx.stop();
  const hook = new WebhookNotifier(
    options(`http://127.0.0.1:${port}/hook`, { retries: 20, retryIntervalMs: 100 }),
  );
  const sequence = [
    makeEvent('start', { id: 'a-1' }),
    makeEvent('start', { id: 'a-2' }),
    makeEvent('update', { id: 'a-1', value: 1 }),
    makeEvent('update', { id: 'a-1', value: 2 }),
    makeEvent('update', { id: 'a-2', value: 1 }),
    makeEvent('end', { id: 'a-1', state: 'ended' }),
    makeEvent('end', { id: 'a-2', state: 'ended' }),
  ];
  for (const e of sequence) hook.handle(e);
  await eventually(
    () => hook.status().retried >= 2,
    10_000,
    () => JSON.stringify(hook.status()),
  );
  assert.equal(hook.status().sent, 0);
  assert.match(hook.status().lastError ?? '', /ECONNREFUSED/);
  rx = await Receiver.start(port);
  try {
    await eventually(
      () => hook.status().sent === sequence.length,
      20_000,
      () => JSON.stringify(hook.status()),
    );
    const got = bodies(await rx.received());
    for (const id of ['a-1', 'a-2']) {
      const want = sequence.filter((e) => e.alert.id === id).map((e) => `${e.type}:${e.alert.value}`);
      const have = got.filter((e) => e.alert.id === id).map((e) => `${e.type}:${e.alert.value}`);
      assert.deepEqual(have, want, `events of ${id} out of order`);
    }
    assert.equal(hook.status().failed, 0);
    await hook.close();
  } finally {
    await rx.stop();
  }
});

test('webhook: a full queue drops the oldest events and counts them', async () => {
  const rx = await Receiver.start();
  try {
    // One alert: one delivery at a time; the first is held by the slow answer, the rest queue.
    await rx.control({ delayMs: 1500, times: 1 });
    const hook = new WebhookNotifier(options(rx.url, { maxQueued: 3, timeoutMs: 5000 }));
    for (let i = 0; i < 10; i++) hook.handle(makeEvent('update', { value: i }));
    assert.equal(hook.status().dropped, 6, 'event 0 in flight, 1-6 dropped, 7-9 queued');
    assert.equal(hook.status().queued, 3);
    await hook.close();
    const values = bodies(await rx.received()).map((e) => e.alert.value);
    assert.deepEqual(values, [0, 7, 8, 9]);
    assert.equal(hook.status().sent, 4);
  } finally {
    await rx.stop();
  }
});

test('webhook: close() is bounded: pending retries are given up and counted as failed', async () => {
  const rx = await Receiver.start();
  try {
    await rx.control({ status: 503 });
    const hook = new WebhookNotifier(
      options(rx.url, { retries: 100, retryIntervalMs: 200, closeTimeoutMs: 500 }),
    );
    hook.handle(makeEvent('start'));
    hook.handle(makeEvent('update'));
    const t0 = Date.now();
    await hook.close();
    assert.ok(Date.now() - t0 < 3000, `close took ${Date.now() - t0} ms`);
    assert.equal(hook.status().failed, 2);
    assert.equal(hook.status().sent, 0);
    hook.handle(makeEvent('end'));
    assert.equal(hook.status().dropped, 1, 'events after close are dropped, not sent');
  } finally {
    await rx.stop();
  }
});

test('webhook: the secret header value never appears in status(), error text or logs', async () => {
  const rx = await Receiver.start();
  try {
    // The endpoint echoes our headers in its error body, which lastError quotes.
    await rx.control({ status: 401, echoHeaders: true });
    const log = collectingLog();
    const url = `http://user:urlpass99@127.0.0.1:${rx.port}/hook?token=querysecret77`;
    const hook = new WebhookNotifier(options(url, { headers: { 'x-api-key': SECRET }, log }));
    hook.handle(makeEvent('start'));
    await eventually(
      () => hook.status().failed === 1,
      10_000,
      () => JSON.stringify(hook.status()),
    );
    await hook.close();
    const shown = `${JSON.stringify(hook.status())}\n${hook.name}\n${log.text()}`;
    assert.match(hook.status().lastError ?? '', /HTTP 401: rejected, you sent .*\[redacted\]/);
    assert.match(log.text(), /webhook delivery failed/);
    const sent = (await rx.received()).attempts;
    assert.equal(sent, 1, 'the request reached the endpoint (credentials moved to a header)');
    const basic = Buffer.from('user:urlpass99').toString('base64');
    for (const secret of ['s3cr3t-token-0123456789abcdef', 'urlpass99', 'querysecret77', basic]) {
      assert.ok(!shown.includes(secret), `${secret} shown in: ${shown}`);
    }
  } finally {
    await rx.stop();
  }
});
