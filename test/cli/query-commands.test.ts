import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { humanSi } from '../../src/cli/query-commands.js';
import { startApiServer } from '../../src/serve/api-server.js';
import { quietLogger } from '../collector/helpers.js';
import { REPO_ROOT } from '../helpers/collector-process.js';
import { expectedTop, type StoreStack, startStoreStack } from '../serve/store-stack.js';

let stack: StoreStack;
before(async () => {
  stack = await startStoreStack();
});
after(async () => {
  await stack?.close();
});

/** The hour of the akvorado NetFlow v5 capture (its 29 flows end 2023-04-04 16:44). */
const FROM = '2023-04-04T16:00:00Z';
const TO = '2023-04-04T17:00:00Z';

/** Runs the real CLI (asynchronously: the API answering it lives in this process). */
function flowgate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const k of Object.keys(env)) if (k.startsWith('FLOWGATE_')) delete env[k];
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: REPO_ROOT, env, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function akvorado() {
  const from = Date.parse(FROM);
  const to = Date.parse(TO);
  return stack.expected.filter((r) => (r.end ?? 0) >= from && (r.end ?? 0) < to);
}

test('flowgate top dstport --metric packets: the table of the top 5 ports with rates, packets, flows', async () => {
  const r = await flowgate([
    'top',
    'dstport',
    '--metric',
    'packets',
    '--limit',
    '5',
    '--from',
    FROM,
    '--to',
    TO,
    '--api',
    stack.base,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'top dstport by packets, 2023-04-04T16:00:00.000Z - 2023-04-04T17:00:00.000Z');
  assert.match(lines[1], /^DSTPORT\s+BITS\/S\s+PACKETS\s+FLOWS$/);
  assert.equal(lines.length, 2 + 5);
  const records = akvorado();
  assert.equal(records.length, 29);
  const want = expectedTop(records, 'dstport').sort((a, b) => b.packets - a.packets);
  const rows = lines.slice(2).map((l) => l.split(/\s{2,}/));
  assert.deepEqual(
    rows.map((cells) => cells[2]),
    want.slice(0, 5).map((w) => humanSi(w.packets)),
  );
  for (const cells of rows) {
    const w = want.find((x) => String(x.key) === cells[0]);
    assert.ok(w, `port ${cells[0]} is a destination port of the capture`);
    assert.deepEqual(cells, [
      String(w.key),
      humanSi(w.bits / 3600, 'b/s'),
      humanSi(w.packets),
      humanSi(w.flows),
    ]);
  }
});

test('flowgate query FILTER: matching records as JSON lines (API URL from api.listen)', async () => {
  const r = await flowgate([
    '--set',
    `api.listen=127.0.0.1:${stack.api.port}`,
    'query',
    'dst',
    'port',
    '11963',
    '--from',
    FROM,
    '--to',
    TO,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const flows = r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { srcip: string; dstport: number; flowsrcip: string });
  const want = akvorado().filter((x) => x.dstport === 11963);
  assert.ok(want.length >= 1);
  assert.equal(flows.length, want.length);
  assert.deepEqual(flows.map((f) => f.srcip).sort(), want.map((x) => x.srcip).sort());
  assert.ok(flows.every((f) => f.dstport === 11963 && f.flowsrcip === '127.0.0.1'));
});

test('a filter syntax error: exit 1, the API message and a caret under the column', async () => {
  const r = await flowgate(['query', 'dst port 443 and and proto tcp', '--api', stack.base]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0], /^flowgate: http:\/\/127\.0\.0\.1:\d+\/api\/flows: 400 /);
  assert.equal(lines[1], '  dst port 443 and and proto tcp');
  assert.equal(lines[2], `  ${' '.repeat(17)}^`);
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  const port = address !== null && typeof address === 'object' ? address.port : 0;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

test('no collector running: a clear error naming the URL, exit 1', async () => {
  const port = await closedPort();
  const r = await flowgate(['top', 'srcip', '--api', `http://127.0.0.1:${port}`]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `^flowgate: no collector API at http://127\\.0\\.0\\.1:${port}: is \`flowgate collect\` running\\?`,
    ),
  );
  assert.equal(r.stdout, '');
});

test('--token-file: the token is sent; without it the 401 says how to give one', async () => {
  const token = 'cli-test-token-0123456789';
  const secured = await startApiServer({
    listen: '127.0.0.1:0',
    token,
    allowNoToken: false,
    collector: stack.collector,
    templates: () => [],
    flowStore: stack.collector.store,
    logger: quietLogger,
  });
  try {
    const api = `http://127.0.0.1:${secured.port}`;
    const denied = await flowgate(['top', 'protocol', '--api', api, '--from', FROM, '--to', TO]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /refused the request \(401\): give the API token with --token-file/);
    const file = join(mkdtempSync(join(tmpdir(), 'flowgate-token-')), 'token');
    writeFileSync(file, `${token}\n`);
    const ok = await flowgate([
      'top',
      'protocol',
      '--api',
      api,
      '--token-file',
      file,
      '--from',
      FROM,
      '--to',
      TO,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^tcp\s/m);
  } finally {
    await secured.close();
  }
});
