/**
 * deploy/Dockerfile and .dockerignore, checked without Docker (no daemon, no registry for images
 * here): the Dockerfile passes dockerfile-utils' validator (the linter of the VS Code Docker
 * extension; hadolint is not packaged in Debian), and our own rules hold: a distroless non-root
 * final stage, numeric non-root USER, no secret in ARG/ENV, the data VOLUME is the configured
 * datadir, exec-form ENTRYPOINT, and a build context that carries no dependencies, data or history.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ValidationSeverity, validate } from 'dockerfile-utils';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from '../helpers/collector-process.js';

const DOCKERFILE = readFileSync(join(REPO_ROOT, 'deploy/Dockerfile'), 'utf8');
const DOCKERIGNORE = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions with continuation lines joined and comment lines dropped, as Docker reads them. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending: { text: string; line: number } | null = null;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === null)) return;
    const continued = line.endsWith('\\');
    const part = continued ? line.slice(0, -1).trim() : line;
    pending =
      pending === null ? { text: part, line: i + 1 } : { ...pending, text: `${pending.text} ${part}` };
    if (continued) return;
    const m = /^(\S+)\s*(.*)$/.exec(pending.text);
    if (m) out.push({ keyword: m[1].toUpperCase(), args: m[2], line: pending.line });
    pending = null;
  });
  return out;
}

/** Instructions of each stage (split at FROM). */
function stages(list: Instruction[]): Instruction[][] {
  const out: Instruction[][] = [];
  for (const ins of list) {
    if (ins.keyword === 'FROM') out.push([]);
    out[out.length - 1]?.push(ins);
  }
  return out;
}

/** ENV/ARG assignments "K=V K2=V2" (ENV's legacy "K V" form too). */
function assignments(args: string): [string, string][] {
  if (!args.includes('=')) {
    const [k, ...v] = args.split(/\s+/);
    return [[k, v.join(' ')]];
  }
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)].map((m) => [m[1], m[2]]);
}

/** Whether .dockerignore leaves `path` out of the build context (Docker's rules: last match wins). */
function ignored(path: string, patterns: string[]): boolean {
  let out = false;
  for (const p of patterns) {
    const negate = p.startsWith('!');
    const glob = (negate ? p.slice(1) : p).replace(/^\/+/, '');
    const re = new RegExp(
      `^${glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '\u0000')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')
        .replaceAll('\u0000', '(.*/)?')}(/.*)?$`,
    );
    if (re.test(path)) out = !negate;
  }
  return out;
}

/** A diagnostic's text (the type allows markup; dockerfile-utils gives plain strings). */
function text(d: ReturnType<typeof validate>[number]): string {
  return typeof d.message === 'string' ? d.message : d.message.value;
}

const all = instructions(DOCKERFILE);
const [buildStage, runtimeStage] = stages(all);
const ignorePatterns = DOCKERIGNORE.split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

test('dockerfile-utils finds no problem in deploy/Dockerfile, every check at error level', () => {
  const strict = ValidationSeverity.ERROR;
  const problems = validate(DOCKERFILE, {
    deprecatedMaintainer: strict,
    directiveCasing: strict,
    emptyContinuationLine: strict,
    instructionCasing: strict,
    instructionCmdMultiple: strict,
    instructionEntrypointMultiple: strict,
    instructionHealthcheckMultiple: strict,
    instructionJSONInSingleQuotes: strict,
    instructionWorkdirRelative: strict,
  });
  assert.deepEqual(
    problems.map((p) => `line ${p.range.start.line + 1}: ${text(p)}`),
    [],
  );
});

test('the linter does report a broken Dockerfile (the check above can fail)', () => {
  const broken = DOCKERFILE.replace('EXPOSE 2055/udp', 'EXPOSE 2055/udpp').replace(
    'WORKDIR /opt/flowgate',
    'WORKDIR opt/flowgate',
  );
  const messages = validate(broken, { instructionWorkdirRelative: ValidationSeverity.ERROR }).map(text);
  assert.ok(
    messages.some((m) => /proto/i.test(m)),
    messages.join('\n'),
  );
  assert.ok(
    messages.some((m) => /absolute/i.test(m)),
    messages.join('\n'),
  );
});

test('two stages: build on the official Node 20 Debian image, run on distroless Node 20 nonroot', () => {
  assert.equal(stages(all).length, 2);
  assert.match(buildStage[0].args, /^node:20-bookworm(@sha256:[0-9a-f]{64})? AS build$/);
  assert.match(
    runtimeStage[0].args,
    /^gcr\.io\/distroless\/nodejs20-debian12:nonroot(@sha256:[0-9a-f]{64})?$/,
  );
  // Nothing but copies from the build stage: distroless has no shell to RUN anything in.
  assert.deepEqual(
    runtimeStage.filter((i) => i.keyword === 'RUN'),
    [],
  );
});

test('the build runs no install script and keeps no dev dependency or the pcap binding', () => {
  const runs = buildStage
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.args)
    .join('\n');
  assert.match(runs, /npm ci --ignore-scripts/);
  assert.match(runs, /npm run build/);
  assert.match(runs, /npm prune --omit=dev/);
  assert.match(runs, /rm -rf node_modules\/cap/);
  assert.doesNotMatch(runs, /libpcap|apt-get/);
});

test('runtime: numeric non-root USER, data VOLUME = datadir of deploy/flowgate.yaml, exec-form ENTRYPOINT', () => {
  const users = runtimeStage.filter((i) => i.keyword === 'USER');
  assert.equal(users.length, 1);
  assert.match(users[0].args, /^\d+(:\d+)?$/, 'numeric, so runAsNonRoot can verify it');
  assert.notEqual(Number(users[0].args.split(':')[0]), 0);
  assert.equal(users[0].args, '65532:65532');

  const config = parseYaml(readFileSync(join(REPO_ROOT, 'deploy/flowgate.yaml'), 'utf8')) as {
    general: { datadir: string };
  };
  const volumes = runtimeStage.filter((i) => i.keyword === 'VOLUME');
  assert.equal(volumes.length, 1);
  assert.deepEqual(JSON.parse(volumes[0].args), [config.general.datadir]);
  // The volume directory is created owned by the runtime user (a new named volume inherits it).
  assert.ok(
    runtimeStage.some(
      (i) =>
        i.keyword === 'COPY' &&
        i.args.includes('--chown=65532:65532') &&
        i.args.endsWith(config.general.datadir),
    ),
  );

  const entry = runtimeStage.filter((i) => i.keyword === 'ENTRYPOINT');
  assert.equal(entry.length, 1);
  const argv = JSON.parse(entry[0].args) as string[];
  assert.ok(Array.isArray(argv), 'exec form: signals reach node, no shell in between');
  assert.deepEqual(argv, [
    '/nodejs/bin/node',
    '/opt/flowgate/dist/cli/main.js',
    '--config',
    '/etc/flowgate/flowgate.yaml',
    'collect',
  ]);
  const healthcheck = runtimeStage.find((i) => i.keyword === 'HEALTHCHECK');
  assert.match(healthcheck?.args ?? '', /CMD \["\/nodejs\/bin\/node"/);

  const exposed = runtimeStage
    .filter((i) => i.keyword === 'EXPOSE')
    .flatMap((i) => i.args.split(/\s+/))
    .sort();
  assert.deepEqual(exposed, ['2055/udp', '4739/udp', '6343/udp', '8080/tcp']);
});

test('no secret in ARG or ENV: secret-looking names only as *_FILE paths under /run/secrets', () => {
  assert.deepEqual(
    all.filter((i) => i.keyword === 'ARG'),
    [],
  );
  const env = new Map(runtimeStage.filter((i) => i.keyword === 'ENV').flatMap((i) => assignments(i.args)));
  for (const [name, value] of env) {
    if (!/token|secret|password|passwd|community|authkey|privkey|credential/i.test(name)) continue;
    assert.match(name, /_FILE$/, `${name} would put a secret into the image`);
    assert.match(value, /^\/run\/secrets\//, name);
  }
  assert.equal(env.get('NODE_OPTIONS'), '--max-semi-space-size=64');
  assert.equal(env.get('FLOWGATE_API_TOKEN_FILE'), '/run/secrets/flowgate_api_token');
  // The API is published, so it leaves loopback: the collector then insists on the token.
  assert.equal(env.get('FLOWGATE_API_LISTEN'), '0.0.0.0:8080');
});

test('.dockerignore keeps dependencies, builds, data, history and test output out of the build context', () => {
  for (const path of [
    'node_modules',
    'node_modules/yaml/package.json',
    'dist',
    'data',
    'data/flows',
    '.git',
    'test-artifacts',
    'test',
    '.env',
    'api-token',
  ])
    assert.ok(ignored(path, ignorePatterns), `${path} is sent to the build`);
  // ... but every file the Dockerfile copies from the context is there.
  const sources = all
    .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
    .filter((s) => !s.startsWith('--'));
  assert.ok(sources.length >= 6, sources.join(' '));
  for (const source of sources) {
    assert.ok(existsSync(join(REPO_ROOT, source)), `${source} does not exist`);
    assert.ok(!ignored(source, ignorePatterns), `${source} is copied but excluded by .dockerignore`);
  }
});
