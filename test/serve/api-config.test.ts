import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startCollector } from '../../src/collector.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { FlowDecoder } from '../../src/decode/flow-decoder.js';
import { defaultDecoderSettings } from '../../src/decode/settings.js';
import { createLogger } from '../../src/log/logger.js';
import { startApiFromConfig } from '../../src/serve/start-from-config.js';
import { MemoryOutput, quietLogger, testConfig } from '../collector/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-api-config-'));
const TOKEN = 'file-token-abcdef0123456789';
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, `${TOKEN}\n`);
const absent = join(dir, 'absent.yaml');
const empty = join(dir, 'empty.yaml');
writeFileSync(empty, '# defaults only\n');

/** Environment without FLOWGATE_* variables, so the host cannot change what is tested. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLOWGATE_')) env[k] = v;
  return { ...env, ...extra };
}

test('api defaults: enabled on 127.0.0.1:8080, no token, no opt-out', () => {
  const { config } = loadConfig({ env: {}, defaultFile: absent });
  assert.deepEqual(config.api, {
    enabled: true,
    listen: '127.0.0.1:8080',
    token: null,
    allownotoken: false,
    tlscert: null,
    tlskey: null,
  });
});

test('api.token from FLOWGATE_API_TOKEN_FILE; a short token is refused without showing it', () => {
  const { config } = loadConfig({ env: { FLOWGATE_API_TOKEN_FILE: tokenFile }, defaultFile: absent });
  assert.equal(config.api.token, TOKEN, 'trailing newline removed');
  assert.throws(
    () => loadConfig({ env: { FLOWGATE_API_TOKEN: 'short-secret' }, defaultFile: absent }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message.includes('api.token: invalid value (not shown: the key is a secret)') &&
      !e.message.includes('short-secret'),
  );
});

test('config print masks api.token read from FLOWGATE_API_TOKEN_FILE; logs redact it', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'print'], {
    env: cleanEnv({ FLOWGATE_API_TOKEN_FILE: tokenFile, FLOWGATE_CONFIG: empty }),
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^api:\n {2}enabled: true\n {2}listen: 127\.0\.0\.1:8080\n {2}token: "\*{8}"$/m);
  assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN));

  const { config } = loadConfig({ env: { FLOWGATE_API_TOKEN_FILE: tokenFile }, defaultFile: absent });
  const lines: string[] = [];
  const log = createLogger(config.log, { destination: { write: (l: string) => lines.push(l) } });
  log.info({ config }, 'effective configuration');
  log.info({ api: config.api }, 'api section');
  assert.equal(lines.length, 2);
  assert.ok(!lines.join('').includes(TOKEN), lines.join(''));
  assert.match(lines[0], /"token":"\*{8}"/);
});

test('startApiFromConfig: null when api.enabled is false; serves /stats of the collector when enabled', async () => {
  const decoder = new FlowDecoder(defaultDecoderSettings());
  const collector = await startCollector(testConfig({}), quietLogger, {
    output: new MemoryOutput(),
    decoder,
  });
  try {
    const disabled = testConfig({});
    assert.equal(await startApiFromConfig(disabled, collector, decoder, quietLogger), null);
    const enabled = {
      ...testConfig({}),
      api: {
        enabled: true,
        listen: '127.0.0.1:0',
        token: null,
        allownotoken: false,
        tlscert: null,
        tlskey: null,
      },
    };
    const api = await startApiFromConfig(enabled, collector, decoder, quietLogger);
    assert.ok(api !== null);
    try {
      assert.match(api.address, /^127\.0\.0\.1:\d+$/);
      const stats = (await (await fetch(`http://${api.address}/stats`)).json()) as {
        listeners: { port: number }[];
      };
      assert.equal(stats.listeners[0].port, collector.listeners[0].port);
      assert.deepEqual(await (await fetch(`http://${api.address}/api/templates`)).json(), []);
    } finally {
      await api.close();
    }
    await assert.rejects(
      startApiFromConfig(
        { ...enabled, api: { ...enabled.api, listen: '0.0.0.0:0' } },
        collector,
        decoder,
        quietLogger,
      ),
      /not a loopback address/,
    );
  } finally {
    await collector.stop();
  }
});
