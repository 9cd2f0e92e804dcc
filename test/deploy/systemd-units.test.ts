/**
 * deploy/flowgate.service and deploy/flowgate-agent.service: systemd's own checker accepts them
 * (`systemd-analyze verify`), their sandbox scores stay low (`systemd-analyze security
 * --offline=true`), and the settings the deployment relies on are there. The units in deploy/ are
 * verified as written; a copy with ExecStart pointing at this machine's node and this checkout is
 * verified too, so the test means the same where node is not /usr/bin/node (verify checks that
 * the executable exists). systemd is not running here: nothing is started.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { REPO_ROOT } from '../helpers/collector-process.js';
import { commandExists } from '../helpers/traffic.js';

const COLLECTOR = join(REPO_ROOT, 'deploy/flowgate.service');
const AGENT = join(REPO_ROOT, 'deploy/flowgate-agent.service');
/**
 * Exposure scores measured with systemd 252 (Debian 12): collector 1.4, agent 2.1 (CAP_NET_ADMIN,
 * CAP_NET_RAW, AF_NETLINK, AF_PACKET, no private user namespace). A tenth of headroom each, so a
 * loosened setting fails here.
 */
const MAX_EXPOSURE = { collector: 1.5, agent: 2.2 };

const skip = commandExists('systemd-analyze')
  ? false
  : 'systemd-analyze not installed (apt-get install systemd)';
const dir = mkdtempSync(join(tmpdir(), 'flowgate-units-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function analyze(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Directive values of a unit file, by key, in file order (comments and sections left out). */
function directives(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** A copy whose ExecStart runs this node on this checkout (the unit's name is kept). */
function localCopy(file: string): string {
  const text = readFileSync(file, 'utf8')
    .replaceAll('/usr/bin/node ', `${process.execPath} `)
    .replaceAll('/opt/flowgate/', `${REPO_ROOT}/`);
  const copy = join(dir, file.split('/').pop() as string);
  writeFileSync(copy, text);
  return copy;
}

function exposure(file: string): number {
  const r = analyze(['security', '--offline=true', '--no-pager', file]);
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(r.stdout);
  assert.ok(m, `no exposure level in systemd-analyze security output:\n${r.stdout}\n${r.stderr}`);
  return Number(m[1]);
}

for (const [name, file] of [
  ['collector', COLLECTOR],
  ['agent', AGENT],
] as const) {
  test(`${name} unit: systemd-analyze verify finds nothing to say`, { skip }, () => {
    const targets = [localCopy(file)];
    if (existsSync('/usr/bin/node')) targets.push(file);
    for (const target of targets) {
      const r = analyze(['verify', '--man=no', target]);
      assert.equal(r.code, 0, `${target}:\n${r.stderr}`);
      // Unknown keys and bad values are only warnings (exit 0): none is accepted either.
      assert.equal(r.stderr.trim(), '', `${target}:\n${r.stderr}`);
    }
  });

  test(`${name} unit: exposure score at most ${MAX_EXPOSURE[name]} (systemd-analyze security --offline)`, {
    skip,
  }, () => {
    const score = exposure(file);
    assert.ok(score <= MAX_EXPOSURE[name], `exposure ${score} > ${MAX_EXPOSURE[name]}`);
  });
}

test('systemd-analyze verify does flag a mistyped directive (the check above can fail)', { skip }, () => {
  const broken = join(dir, 'broken.service');
  writeFileSync(
    broken,
    readFileSync(localCopy(COLLECTOR), 'utf8').replace('ProtectSystem=strict', 'ProtectSytem=strict'),
  );
  const r = analyze(['verify', '--man=no', broken]);
  assert.match(r.stderr, /ProtectSytem/);
});

test('collector unit: runs dist/cli/main.js collect with the deploy config, as a dynamic user, no capability', () => {
  const d = directives(COLLECTOR);
  // package.json's bin is bin/flowgate.js, which only imports dist/cli/main.js (built from src/cli/main.ts).
  assert.match(
    readFileSync(join(REPO_ROOT, 'bin/flowgate.js'), 'utf8'),
    /import '\.\.\/dist\/cli\/main\.js'/,
  );
  assert.deepEqual(d.get('ExecStart'), [
    '/usr/bin/node /opt/flowgate/dist/cli/main.js --config /etc/flowgate/flowgate.yaml collect',
  ]);
  assert.deepEqual(d.get('DynamicUser'), ['yes']);
  assert.deepEqual(d.get('StateDirectory'), ['flowgate']);
  assert.deepEqual(d.get('CapabilityBoundingSet'), ['']);
  assert.deepEqual(d.get('AmbientCapabilities'), ['']);
  assert.deepEqual(d.get('RestrictAddressFamilies'), ['AF_INET AF_INET6 AF_UNIX']);
  assert.deepEqual(d.get('UMask'), ['0077']);
  assert.deepEqual(d.get('Restart'), ['on-failure']);
  assert.ok(d.get('Environment')?.includes('NODE_OPTIONS=--max-semi-space-size=64'));
  // The token: a credential, read through the *_FILE convention (src/config/env.ts).
  assert.deepEqual(d.get('LoadCredential'), ['api-token:/etc/flowgate/api-token']);
  assert.ok(d.get('Environment')?.includes('FLOWGATE_API_TOKEN_FILE=%d/api-token'));
  // V8's JIT needs W+X memory: this setting would make Node abort at start.
  assert.equal(d.get('MemoryDenyWriteExecute'), undefined);
  // Kernel UDP drop counters come from /proc/net/udp: ProcSubset=pid would hide them.
  assert.equal(d.get('ProcSubset'), undefined);
});

test('agent unit: CAP_NET_ADMIN and CAP_NET_RAW only, netlink and packet sockets, /proc/sys read-only but the accounting switch', () => {
  const d = directives(AGENT);
  assert.match(
    d.get('ExecStart')?.[0] ?? '',
    /^\/usr\/bin\/node \/opt\/flowgate\/dist\/cli\/main\.js agent --collector /,
  );
  assert.deepEqual(d.get('CapabilityBoundingSet'), ['CAP_NET_ADMIN CAP_NET_RAW']);
  assert.deepEqual(d.get('AmbientCapabilities'), ['CAP_NET_ADMIN CAP_NET_RAW']);
  assert.deepEqual(d.get('RestrictAddressFamilies'), ['AF_INET AF_INET6 AF_UNIX AF_NETLINK AF_PACKET']);
  assert.deepEqual(d.get('ProtectKernelTunables'), ['yes']);
  assert.deepEqual(d.get('ReadWritePaths'), ['-/proc/sys/net/netfilter/nf_conntrack_acct']);
  // The path the agent writes (src/agent/conntrack-source.ts) is the one made writable.
  assert.match(
    readFileSync(join(REPO_ROOT, 'src/agent/conntrack-source.ts'), 'utf8'),
    /ACCT_PATH = '\/proc\/sys\/net\/netfilter\/nf_conntrack_acct'/,
  );
  assert.equal(d.get('MemoryDenyWriteExecute'), undefined);
});

test('deploy/flowgate.yaml passes config check with the token handed over as the unit does (FLOWGATE_API_TOKEN_FILE)', () => {
  const tokenFile = join(dir, 'api-token');
  writeFileSync(tokenFile, 'k3Jp0vX9-example-token-for-test\n', { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLOWGATE_')) env[k] = v;
  env.FLOWGATE_API_TOKEN_FILE = tokenFile;
  const file = join(REPO_ROOT, 'deploy/flowgate.yaml');
  const check = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', file], {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(check.status, 0, check.stderr);
  assert.equal(check.stdout, `${file}: ok\n`);
  const print = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', '--config', file, 'config', 'print'],
    { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(print.status, 0, print.stderr);
  assert.match(print.stdout, /datadir: \/var\/lib\/flowgate/);
  assert.match(print.stdout, /listen: 127\.0\.0\.1:8080/);
  // The token came from the file (masked), not from the configuration.
  assert.match(print.stdout, /token: "\*+"/);
  assert.doesNotMatch(print.stdout, /k3Jp0vX9/);
});
