import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { ConfigError } from '../../src/config/errors.js';
import { type LoadOptions, loadConfig, loadConfigWith } from '../../src/config/load.js';
import { MASK, printConfig } from '../../src/config/print.js';

const dir = mkdtempSync(join(tmpdir(), 'flowgate-config-'));
let n = 0;
function yamlFile(text: string): string {
  const file = join(dir, `flowgate-${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}

/** Loads with an isolated environment and no default file. */
function load(opts: LoadOptions) {
  return loadConfig({ env: {}, defaultFile: join(dir, 'absent.yaml'), ...opts });
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
}

test('no file and no overrides: defaults, file null', () => {
  const { config, file } = load({});
  assert.equal(file, null);
  assert.equal(config.flow.udpbuffer, 4_194_304);
  assert.deepEqual(config.flow.listen, ['[::]:2055', '[::]:4739', '[::]:6343']);
});

test('the default file is read when it exists', () => {
  const file = yamlFile('general:\n  statsinterval: 15\n');
  const { config, file: used } = loadConfig({ env: {}, defaultFile: file });
  assert.equal(used, file);
  assert.equal(config.general.statsinterval, 15);
  // FLOWGATE_CONFIG names the file when no --config is given.
  const other = yamlFile('general:\n  statsinterval: 25\n');
  const viaEnv = loadConfig({ env: { FLOWGATE_CONFIG: other }, defaultFile: file });
  assert.equal(viaEnv.file, other);
  assert.equal(viaEnv.config.general.statsinterval, 25);
});

test('precedence: file < environment < flags, key by key', () => {
  const file = yamlFile(
    'flow:\n  udpbuffer: 1048576\n  queue: 5000\n  workers: 2\noutput:\n  batchsize: 10\nlog:\n  level: warn\n',
  );
  const env = {
    FLOWGATE_FLOW_UDPBUFFER: '2097152',
    FLOWGATE_FLOW_QUEUE: '6000',
    FLOWGATE_LOG_LEVEL: 'debug',
  };
  const { config } = load({ file, env, flags: { 'flow.udpbuffer': '8388608', 'log.level': 'error' } });
  assert.equal(config.flow.udpbuffer, 8_388_608, 'flag beats env and file');
  assert.equal(config.flow.queue, 6000, 'env beats file');
  assert.equal(config.flow.workers, 2, 'file kept where nothing overrides it');
  assert.equal(config.output.batchsize, 10);
  assert.equal(config.log.level, 'error');
  assert.equal(config.flow.tcplisten.length, 0, 'defaults fill the rest');
});

test('environment values are coerced to the key type', () => {
  const { config } = load({
    env: {
      FLOWGATE_FLOW_LISTEN: '127.0.0.1:9995, [::1]:9996',
      FLOWGATE_FLOW_ALLOW: '',
      FLOWGATE_FLOW_WORKERS: '0',
      FLOWGATE_OUTPUT_STDOUT: '0',
      FLOWGATE_OUTPUT_FILE: '/var/log/flows.json',
      FLOWGATE_GENERAL_DOWNSAMPLE: '10',
      FLOWGATE_EXPORTERS: '[{match: 192.0.2.0/24, name: edge1, samplerate: 512, tags: [lab]}]',
    },
  });
  assert.deepEqual(config.flow.listen, ['127.0.0.1:9995', '[::1]:9996']);
  assert.deepEqual(config.flow.allow, []);
  assert.equal(config.flow.workers, 0);
  assert.equal(config.output.stdout, false);
  assert.equal(config.output.file, '/var/log/flows.json');
  assert.equal(config.general.downsample, 10);
  assert.equal(config.exporters[0].match, '192.0.2.0/24');
  assert.equal(config.exporters[0].name, 'edge1');
  assert.equal(config.exporters[0].samplerate, 512);
  assert.deepEqual(config.exporters[0].tags, ['lab']);

  assert.equal(load({ env: { FLOWGATE_OUTPUT_STDOUT: 'TRUE' } }).config.output.stdout, true);
  assert.equal(load({ env: { FLOWGATE_OUTPUT_STDOUT: 'false' } }).config.output.stdout, false);
  assert.equal(load({ env: { FLOWGATE_OUTPUT_STDOUT: '1' } }).config.output.stdout, true);
  // Empty string is null where null is allowed (output.file in the file is cleared).
  const file = yamlFile('output:\n  file: /tmp/x.json\n');
  assert.equal(load({ file, env: { FLOWGATE_OUTPUT_FILE: '' } }).config.output.file, null);
});

test('environment values that do not coerce are reported with the variable and key', () => {
  const problems = problemsOf(() =>
    load({ env: { FLOWGATE_FLOW_UDPBUFFER: 'big', FLOWGATE_OUTPUT_STDOUT: 'yes please' } }),
  );
  assert.deepEqual(problems, [
    'environment variable FLOWGATE_FLOW_UDPBUFFER: flow.udpbuffer: expected a positive integer, got "big"',
    'environment variable FLOWGATE_OUTPUT_STDOUT: output.stdout: expected true or false, got "yes please"',
  ]);
});

test('unknown environment keys under a section are errors with a suggestion; other FLOWGATE_ variables are ignored', () => {
  const problems = problemsOf(() =>
    load({
      env: {
        FLOWGATE_FLOW_UDPBUFER: '1',
        // Kubernetes service variables for a Service named "flowgate".
        FLOWGATE_PORT: 'udp://10.96.0.10:2055',
        FLOWGATE_SERVICE_HOST: '10.96.0.10',
      },
    }),
  );
  assert.deepEqual(problems, [
    'environment variable FLOWGATE_FLOW_UDPBUFER: flow.udpbufer: unknown key (did you mean flow.udpbuffer?)',
  ]);
});

test('file errors name the file, the line, the dotted key and what is wrong', () => {
  const file = yamlFile(
    [
      '# Flowgate', // 1
      'general:', // 2
      '  statsinterval: 30', // 3
      'flow:', // 4
      '  udpbuffer: big', // 5
      '  listen:', // 6
      '    - "[::]:2055"', // 7
      '    - "192.0.2.1:70000"', // 8
      '  udpbufer: 5', // 9
      'exporters:', // 10
      '  - match: 192.0.2.0/24', // 11
      '    samplerate: 0', // 12
      '  - name: edge2', // 13
      'log:', // 14
      '  level: loud', // 15
      'outputs:', // 16
      '  stdout: false', // 17
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    problemsOf(() => load({ file })),
    [
      `${file}:5: flow.udpbuffer: expected a positive integer, got "big"`,
      `${file}:8: flow.listen[1]: expected an address "host:port" or "[v6]:port" with port 1-65535, got "192.0.2.1:70000"`,
      `${file}:9: flow.udpbufer: unknown key (did you mean flow.udpbuffer?)`,
      `${file}:12: exporters[0].samplerate: expected a positive integer, got 0`,
      `${file}:13: exporters[1].match: required key missing`,
      `${file}:15: log.level: expected one of trace, debug, info, warn, error, fatal, got "loud"`,
      `${file}:16: outputs: unknown key (did you mean output?)`,
    ],
  );
});

test('a key in the wrong section is pointed to the right one', () => {
  const file = yamlFile('general:\n  udpbuffer: 1\n');
  assert.deepEqual(
    problemsOf(() => load({ file })),
    [`${file}:2: general.udpbuffer: unknown key (did you mean flow.udpbuffer?)`],
  );
});

test('YAML syntax errors and unreadable files are reported with the file (and line)', () => {
  const bad = yamlFile('flow:\n  listen: ["[::]:2055"\nlog:\n  level: info\n');
  const [first] = problemsOf(() => load({ file: bad }));
  assert.match(first, new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: YAML syntax: `));
  const dup = yamlFile('flow:\n  queue: 1\n  queue: 2\n');
  assert.match(problemsOf(() => load({ file: dup }))[0], /:3: YAML syntax: .*unique/);
  const list = yamlFile('- a\n- b\n');
  assert.deepEqual(
    problemsOf(() => load({ file: list })),
    [`${list}:1: expected a mapping of sections, got a list`],
  );
  assert.match(
    problemsOf(() => load({ file: join(dir, 'missing.yaml') }))[0],
    /missing\.yaml: cannot read .*ENOENT/,
  );
});

test('an empty file is the defaults', () => {
  const { config } = load({ file: yamlFile('# nothing yet\n') });
  assert.equal(config.flow.queue, 100_000);
});

test('flag errors name the flag; unknown flag keys get a suggestion', () => {
  const problems = problemsOf(() =>
    load({
      flags: { 'flow.listen': ['[::]:2055', 'nonsense'], 'flow.qeue': '5' },
      flagLabels: { 'flow.listen': '--listen' },
    }),
  );
  assert.deepEqual(problems, [
    'flag --set: flow.qeue: unknown key (did you mean flow.queue?)',
    'flag --listen: flow.listen[1]: expected an address "host:port" or "[v6]:port" with port 1-65535, got "nonsense"',
  ]);
});

// The real schema has no secret yet (the API token comes later): exercise the mechanism on a test schema.
const secretSchema = z.strictObject({
  api: z
    .strictObject({ token: z.string().min(8).nullable().default(null), port: z.number().int().default(8080) })
    .prefault({}),
});
const SECRETS = ['api.token'];

test('secrets: <KEY>_FILE reads the value from a file, trailing newline trimmed', () => {
  const secretFile = join(dir, 'token');
  writeFileSync(secretFile, 's3cr3t-token-value\n');
  const { config } = loadConfigWith(secretSchema, SECRETS, { env: { FLOWGATE_API_TOKEN_FILE: secretFile } });
  assert.equal(config.api.token, 's3cr3t-token-value');
  // The environment variable without _FILE works too; flags override both.
  const direct = loadConfigWith(secretSchema, SECRETS, {
    env: { FLOWGATE_API_TOKEN: 'from-environment' },
    flags: { 'api.port': '9090' },
  });
  assert.equal(direct.config.api.token, 'from-environment');
  assert.equal(direct.config.api.port, 9090);

  const missing = problemsOf(() =>
    loadConfigWith(secretSchema, SECRETS, { env: { FLOWGATE_API_TOKEN_FILE: join(dir, 'nope') } }),
  );
  assert.equal(missing.length, 1);
  assert.match(
    missing[0],
    /^environment variable FLOWGATE_API_TOKEN_FILE: api\.token: cannot read .*nope \(ENOENT\)$/,
  );
});

test('secrets: an invalid secret is reported without its value', () => {
  const problems = problemsOf(() =>
    loadConfigWith(secretSchema, SECRETS, { env: { FLOWGATE_API_TOKEN: 'short' } }),
  );
  assert.deepEqual(problems, [
    'environment variable FLOWGATE_API_TOKEN: api.token: invalid value (not shown: the key is a secret)',
  ]);
  assert.ok(!problems[0].includes('short'));
});

test('config print masks secrets that are set and leaves other values', () => {
  const secretFile = join(dir, 'token2');
  writeFileSync(secretFile, 'another-secret-token\n');
  const { config } = loadConfigWith(secretSchema, SECRETS, { env: { FLOWGATE_API_TOKEN_FILE: secretFile } });
  const text = printConfig(config, SECRETS);
  assert.ok(!text.includes('another-secret-token'), text);
  assert.match(text, new RegExp(`token: "?\\${MASK.split('').join('\\')}"?`));
  assert.match(text, /port: 8080/);
  assert.equal(config.api.token, 'another-secret-token', 'masking works on a copy');
  // Unset secrets print as null (useful: "not set").
  assert.match(
    printConfig(loadConfigWith(secretSchema, SECRETS, { env: {} }).config, SECRETS),
    /token: null/,
  );
});

test('config print of the real schema is YAML that loads back to the same configuration', () => {
  const { config } = load({ env: { FLOWGATE_FLOW_UDPBUFFER: '8388608' } });
  const again = load({ file: yamlFile(printConfig(config)) });
  assert.deepEqual(again.config, config);
});
