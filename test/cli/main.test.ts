import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DecodeCommandOptions } from '../../src/cli/decode.js';
import { runCli } from '../../src/cli/program.js';
import type { FlowgateConfig } from '../../src/config/types.js';
import { createLogger } from '../../src/log/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-cli-'));
const noDefaultFile = join(dir, 'absent.yaml');

/** Environment without FLOWGATE_* variables, so the host cannot change what is tested. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLOWGATE_')) env[k] = v;
  return { ...env, ...extra };
}

function flowgate(args: string[], env: NodeJS.ProcessEnv = cleanEnv()) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const good = join(dir, 'good.yaml');
writeFileSync(good, 'flow:\n  udpbuffer: 8388608\n  allow: [192.0.2.0/24]\nlog:\n  format: pretty\n');
const bad = join(dir, 'bad.yaml');
writeFileSync(bad, 'flow:\n  udpbuffer: big\n  lisen: ["[::]:2055"]\n');

test('--help lists collect, decode and config; --version is the package version', () => {
  const help = flowgate(['--help']);
  assert.equal(help.code, 0);
  for (const cmd of ['collect', 'decode', 'config'])
    assert.match(help.stdout, new RegExp(`^  ${cmd}\\b`, 'm'), cmd);
  assert.match(help.stdout, /--config <file>/);
  assert.match(help.stdout, /--set <key=value>/);
  const version = flowgate(['--version']);
  assert.equal(version.code, 0);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  assert.equal(version.stdout.trim(), pkg.version);
});

test('config check: a good file prints "FILE: ok" and exits 0', () => {
  const r = flowgate(['config', 'check', good]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${good}: ok\n`);
  assert.equal(r.stderr, '');
});

test('config check: a bad file prints every problem with line and key, exits 1, no stack trace', () => {
  const r = flowgate(['config', 'check', bad]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `${bad}:2: flow.udpbuffer: expected a positive integer, got "big"\n` +
      `${bad}:3: flow.lisen: unknown key (did you mean flow.listen?)\n`,
  );
});

test('config check applies the environment: an override error names the variable', () => {
  const r = flowgate(['config', 'check', good], cleanEnv({ FLOWGATE_FLOW_QUEUE: '-5' }));
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    'environment variable FLOWGATE_FLOW_QUEUE: flow.queue: expected a positive integer, got -5\n',
  );
});

test('config check refuses an API on a non-loopback address without a token, as collect would', () => {
  const r = flowgate(['config', 'check', good], cleanEnv({ FLOWGATE_API_LISTEN: '0.0.0.0:8080' }));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /api\.listen 0\.0\.0\.0:8080 is not a loopback address and api\.token is not set/);
  const withToken = flowgate(
    ['config', 'check', good],
    cleanEnv({ FLOWGATE_API_LISTEN: '0.0.0.0:8080', FLOWGATE_API_TOKEN: 'a-token-of-enough-length' }),
  );
  assert.equal(withToken.code, 0, withToken.stderr);
});

test('config print shows the effective configuration (file < env < --set)', () => {
  const r = flowgate(
    ['--config', good, '--set', 'flow.queue=777', 'config', 'print'],
    cleanEnv({ FLOWGATE_FLOW_QUEUE: '555', FLOWGATE_FLOW_WORKERS: '3' }),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}udpbuffer: 8388608$/m);
  assert.match(r.stdout, /^ {2}queue: 777$/m);
  assert.match(r.stdout, /^ {2}workers: 3$/m);
  assert.match(r.stdout, /^ {2}format: pretty$/m);
});

test('unknown command: non-zero exit with the help on stderr', () => {
  const r = flowgate(['colect']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown command 'colect'/);
  assert.match(r.stderr, /Usage: flowgate/);
});

test('a configuration error in collect: the message only, exit 1', () => {
  const r = flowgate(['--config', bad, 'collect']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.yaml:2: flow\.udpbuffer: expected a positive integer, got "big"/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

/** In-process runs with recording stand-ins for collect/decode. */
function harness(env: NodeJS.ProcessEnv = {}, stderrIsTTY = false) {
  const seen: { config?: FlowgateConfig; files?: string[]; opts?: DecodeCommandOptions } = {};
  let out = '';
  let err = '';
  const deps = {
    env,
    stderrIsTTY,
    defaultConfigFile: noDefaultFile,
    logger: createLogger({ level: 'fatal', format: 'json' }, { destination: { write: () => {} } }),
    out: (s: string) => {
      out += s;
    },
    err: (s: string) => {
      err += s;
    },
    runCollect: async (config: FlowgateConfig) => {
      seen.config = config;
    },
    runDecode: async (files: string[], config: FlowgateConfig, opts: DecodeCommandOptions) => {
      seen.files = files;
      seen.config = config;
      seen.opts = opts;
      return 3;
    },
  };
  return { seen, deps, output: () => ({ out, err }) };
}

test('collect options override their configuration keys, over environment and --set', async () => {
  const h = harness({ FLOWGATE_FLOW_LISTEN: '0.0.0.0:1', FLOWGATE_OUTPUT_FILE: '/env.json' });
  const code = await runCli(
    [
      'node',
      'flowgate',
      '--config',
      good,
      '--log-level',
      'debug',
      '--set',
      'flow.listen=127.0.0.1:2',
      '--set',
      'general.statsinterval=5',
      'collect',
      '--listen',
      '127.0.0.1:9995',
      '[::1]:9996',
      '--tcp-listen',
      '[::1]:4739',
      '--allow',
      '10.0.0.0/8',
      '2001:db8::/32',
      '--output-file',
      '/tmp/flows.json',
      '--no-stdout',
      '--templatedb',
      '/tmp/templates.json',
    ],
    h.deps,
  );
  assert.equal(code, 0, h.output().err);
  const c = h.seen.config!;
  assert.deepEqual(c.flow.listen, ['127.0.0.1:9995', '[::1]:9996']);
  assert.deepEqual(c.flow.tcplisten, ['[::1]:4739']);
  assert.deepEqual(c.flow.allow, ['10.0.0.0/8', '2001:db8::/32']);
  assert.equal(c.output.file, '/tmp/flows.json');
  assert.equal(c.output.stdout, false);
  assert.equal(c.general.templatedb, '/tmp/templates.json');
  assert.equal(c.general.statsinterval, 5);
  assert.equal(c.log.level, 'debug');
  assert.equal(c.flow.udpbuffer, 8_388_608, 'from the file');
});

test('collect without options keeps the file values (no --stdout/--no-stdout: output.stdout from the file)', async () => {
  const file = join(dir, 'stdout.yaml');
  writeFileSync(file, 'output:\n  stdout: true\n');
  const h = harness();
  assert.equal(await runCli(['node', 'flowgate', '-c', file, 'collect'], h.deps), 0);
  assert.equal(h.seen.config?.output.stdout, true);
  assert.deepEqual(h.seen.config?.flow.listen, ['[::]:2055', '[::]:4739', '[::]:6343']);
});

test('--stdout turns JSON lines on stdout on (off by default: records go to the store)', async () => {
  const off = harness();
  assert.equal(await runCli(['node', 'flowgate', 'collect'], off.deps), 0);
  assert.equal(off.seen.config?.output.stdout, false);
  const on = harness();
  assert.equal(await runCli(['node', 'flowgate', 'collect', '--stdout'], on.deps), 0);
  assert.equal(on.seen.config?.output.stdout, true);
});

test('a bad --listen value is reported against the flag', async () => {
  const h = harness();
  const code = await runCli(['node', 'flowgate', 'collect', '--listen', '2055'], h.deps);
  assert.equal(code, 1);
  assert.equal(h.seen.config, undefined);
  assert.equal(
    h.output().err,
    'flag --listen: flow.listen[0]: expected an address "host:port" or "[v6]:port" with port 1-65535, got "2055"\n',
  );
});

test('--set without "=" is an error naming the flag', async () => {
  const h = harness();
  assert.equal(await runCli(['node', 'flowgate', '--set', 'flow.queue', 'collect'], h.deps), 1);
  assert.match(h.output().err, /^flag --set: expected KEY=VALUE .*got "flow.queue"\n$/);
});

test('decode passes files and config, exits with its code; progress only on a terminal and without --no-progress', async () => {
  const tty = harness({ FLOWGATE_DECODE_MAXFIELDLENGTH: '512' }, true);
  assert.equal(await runCli(['node', 'flowgate', 'decode', 'a.pcap', 'b.pcapng'], tty.deps), 3);
  assert.deepEqual(tty.seen.files, ['a.pcap', 'b.pcapng']);
  assert.equal(tty.seen.config?.decode.maxfieldlength, 512);
  assert.deepEqual(tty.seen.opts, { progress: true });

  const noProgress = harness({}, true);
  assert.equal(await runCli(['node', 'flowgate', 'decode', '--no-progress', 'a.pcap'], noProgress.deps), 3);
  assert.deepEqual(noProgress.seen.opts, { progress: false });

  const piped = harness({}, false);
  assert.equal(await runCli(['node', 'flowgate', 'decode', 'a.pcap'], piped.deps), 3);
  assert.deepEqual(piped.seen.opts, { progress: false });
});
