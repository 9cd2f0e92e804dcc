/**
 * The real `flowgate collect` as an unprivileged user with no capability, as deploy/ runs it
 * (systemd DynamicUser, distroless uid 65532): here uid/gid 65534 through `setpriv` with empty
 * inheritable, ambient and bounding sets and no_new_privs. It receives flows on a high port, writes
 * nothing outside its data directory (watched with strace: the container runs --read-only), fails
 * with an actionable message on a port below 1024, gets that port with CAP_NET_BIND_SERVICE and
 * nothing else, and reports a data directory it cannot write without a stack trace.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from '../helpers/collector-process.js';
import { corpusPath } from '../helpers/corpus.js';
import { commandExists, freePort, stopProcess, waitForOutput } from '../helpers/traffic.js';

const NOBODY = 65534;
const skip =
  process.getuid?.() !== 0
    ? 'needs root, to drop to uid 65534 with setpriv'
    : !commandExists('setpriv')
      ? 'setpriv not installed (apt-get install util-linux)'
      : false;

const work = mkdtempSync(join(tmpdir(), 'flowgate-lp-'));
chmodSync(work, 0o755);
after(() => rmSync(work, { recursive: true, force: true }));

/** A directory owned by the unprivileged user (the systemd StateDirectory, the container volume). */
function ownedDir(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  chownSync(dir, NOBODY, NOBODY);
  chmodSync(dir, 0o700);
  return dir;
}

/** tsx's compile cache (os.tmpdir()); the built dist/ has none. */
const tsxCache = skip === false ? ownedDir('tsx-cache') : '';
/** The tsx loader by absolute path: the collector runs with cwd "/", where `--import tsx` would not resolve. */
const TSX = fileURLToPath(import.meta.resolve('tsx'));
const MAIN = join(REPO_ROOT, 'src/cli/main.ts');

interface Run {
  child: ChildProcess;
  records: Record<string, unknown>[];
  log: () => string;
}

/**
 * `flowgate <args>` as uid 65534 with cwd "/" and HOME absent, so any write to the working
 * directory, $HOME or a shared /tmp would fail or show. `bindService`: CAP_NET_BIND_SERVICE in the
 * bounding, inheritable and ambient sets, and nothing else.
 */
function runAsNobody(args: string[], opts: { bindService?: boolean; straceFile?: string } = {}): Run {
  const cap = opts.bindService === true ? ',+net_bind_service' : '';
  const argv = [
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    '--clear-groups',
    `--inh-caps=-all${cap}`,
    ...(opts.bindService === true ? ['--ambient-caps=+net_bind_service'] : []),
    `--bounding-set=-all${cap}`,
    '--no-new-privs',
    'env',
    '-i',
    `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
    'HOME=/nonexistent',
    `TMPDIR=${tsxCache}`,
    'NO_COLOR=1',
    'NODE_OPTIONS=--max-semi-space-size=64',
    ...(opts.straceFile === undefined
      ? []
      : [
          'strace',
          '-f',
          '-qq',
          '-e',
          'trace=open,openat,creat,truncate,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat,unlink,unlinkat,rmdir',
          '-o',
          opts.straceFile,
        ]),
    process.execPath,
    '--import',
    TSX,
    MAIN,
    ...args,
  ];
  const child = spawn('setpriv', argv, { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  const records: Record<string, unknown>[] = [];
  let logText = '';
  let partial = '';
  child.stdout?.on('data', (b: Buffer) => {
    partial += b.toString();
    for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
      const line = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      const obj = line.startsWith('{') ? (JSON.parse(line) as Record<string, unknown>) : null;
      if (obj !== null && 'flowtype' in obj) records.push(obj);
      else logText += `${line}\n`;
    }
  });
  child.stderr?.on('data', (b: Buffer) => {
    logText += b.toString();
  });
  return { child, records, log: () => logText };
}

function exitCode(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function sendNetflow5(port: number): Promise<void> {
  const payload = readFileSync(corpusPath('netflow5/fluent_netflow.v5.dump'));
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) =>
    socket.send(payload, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
  );
  socket.close();
}

async function waitForRecords(run: Run, port: number): Promise<void> {
  for (let i = 0; i < 100 && run.records.length === 0; i++) {
    if (i % 10 === 0) await sendNetflow5(port);
    await sleep(100);
  }
  assert.ok(run.records.length > 0, `no record from the collector on ${port}:\n${run.log()}`);
}

/** A port below 1024 free on 127.0.0.1 (tried as root, released). */
async function freeLowPort(kind: 'udp' | 'tcp'): Promise<number> {
  for (let port = 1000; port > 900; port--) {
    if (await bindable(kind, port)) return port;
  }
  throw new Error(`no free ${kind} port in 901-1000`);
}

function bindable(kind: 'udp' | 'tcp', port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (kind === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => s.close(() => resolve(false)));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
      return;
    }
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Paths the strace log shows written, created, renamed or removed (attempts included). */
function writtenPaths(straceLog: string): string[] {
  const out = new Set<string>();
  for (const line of straceLog.split('\n')) {
    const opens = /\bopen(at)?\(/.test(line);
    if (opens && !/O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(line)) continue;
    if (
      !opens &&
      !/\b(creat|truncate|mkdir(at)?|rename(at2?)?|link(at)?|symlink(at)?|unlink(at)?|rmdir)\(/.test(line)
    )
      continue;
    for (const m of line.matchAll(/"([^"]*)"/g)) out.add(isAbsolute(m[1]) ? m[1] : join('/', m[1]));
  }
  return [...out].sort();
}

test('uid 65534 without capabilities: collects on a high port, writes only under its datadir', {
  skip,
}, async () => {
  const datadir = ownedDir('data-high');
  const port = await freePort('udp');
  const apiPort = await freePort('tcp');
  const straceFile = join(ownedDir('strace'), 'trace.txt');
  const straced = commandExists('strace');
  const run = runAsNobody(
    [
      '--set',
      `general.datadir=${datadir}`,
      '--set',
      `api.listen=127.0.0.1:${apiPort}`,
      'collect',
      '--listen',
      `127.0.0.1:${port}`,
      '--stdout',
    ],
    straced ? { straceFile } : {},
  );
  try {
    await waitForOutput(run.child, /serving the HTTP API/, 30_000);
    await waitForRecords(run, port);
    const stats = (await (await fetch(`http://127.0.0.1:${apiPort}/stats`)).json()) as { received: number };
    assert.ok(stats.received >= 1);
  } finally {
    // Under strace the collector is strace's child: SIGTERM goes to it (strace then exits with it).
    const pid = run.child.pid as number;
    const inner = straced
      ? Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0])
      : pid;
    process.kill(inner, 'SIGTERM');
    const code = await exitCode(run.child, 15_000).catch(async (e) => {
      await stopProcess(run.child, 'SIGKILL');
      throw e;
    });
    assert.equal(code, 0, run.log());
  }
  // What it wrote: the store, the template database, the alert file, all in the datadir.
  const files = readdirSync(datadir, { recursive: true }).map(String).sort();
  assert.ok(files.includes('templates.json'), files.join(' '));
  assert.ok(
    files.some((f) => /^flows\/flows-.*\.duckdb$/.test(f)),
    files.join(' '),
  );
  if (!straced) return;
  const written = writtenPaths(readFileSync(straceFile, 'utf8'));
  assert.ok(written.includes(join(datadir, 'templates.json')), 'strace saw the writes');
  const outside = written.filter(
    (p) => !p.startsWith(`${datadir}/`) && p !== datadir && !p.startsWith(`${tsxCache}/`) && p !== tsxCache,
  );
  assert.deepEqual(outside, [], 'written outside the datadir: a --read-only container would fail there');
});

test('uid 65534 without capabilities: a UDP port below 1024 is refused with the fix in the message', {
  skip,
}, async () => {
  const low = await freeLowPort('udp');
  const run = runAsNobody([
    '--set',
    `general.datadir=${ownedDir('data-refused')}`,
    '--set',
    'api.enabled=false',
    'collect',
    '--listen',
    `127.0.0.1:${low}`,
    '--no-stdout',
  ]);
  assert.equal(await exitCode(run.child, 30_000), 1, run.log());
  assert.match(
    run.log(),
    new RegExp(
      `cannot listen on udp 127\\.0\\.0\\.1:${low}: ports below 1024 need root or CAP_NET_BIND_SERVICE; use a port >= 1024`,
    ),
  );
  assert.doesNotMatch(run.log(), /\n\s+at /, 'no stack trace');
});

test('uid 65534 without capabilities: an API port below 1024 is refused, naming the address', {
  skip,
}, async () => {
  const low = await freeLowPort('tcp');
  const run = runAsNobody([
    '--set',
    `general.datadir=${ownedDir('data-api')}`,
    '--set',
    `api.listen=127.0.0.1:${low}`,
    'collect',
    '--listen',
    `127.0.0.1:${await freePort('udp')}`,
    '--no-stdout',
  ]);
  assert.equal(await exitCode(run.child, 30_000), 1, run.log());
  assert.match(
    run.log(),
    new RegExp(
      `cannot listen on API 127\\.0\\.0\\.1:${low}: ports below 1024 need root or CAP_NET_BIND_SERVICE`,
    ),
  );
  assert.doesNotMatch(run.log(), /\n\s+at /, 'no stack trace');
});

test('uid 65534 with CAP_NET_BIND_SERVICE only: the port below 1024 works', { skip }, async () => {
  const low = await freeLowPort('udp');
  const run = runAsNobody(
    [
      '--set',
      `general.datadir=${ownedDir('data-low')}`,
      '--set',
      'api.enabled=false',
      'collect',
      '--listen',
      `127.0.0.1:${low}`,
      '--stdout',
    ],
    { bindService: true },
  );
  try {
    await waitForOutput(run.child, /listening for flows/, 30_000);
    // The process holds that one capability and no other (CapEff bit 10 = CAP_NET_BIND_SERVICE).
    const status = readFileSync(`/proc/${run.child.pid}/status`, 'utf8');
    assert.match(status, /^CapEff:\s*0*400$/m);
    assert.match(status, /^Uid:\s+65534\s/m);
    await waitForRecords(run, low);
  } finally {
    await stopProcess(run.child, 'SIGTERM', 10_000);
  }
});

test('a datadir the user cannot write: a clear error naming it, exit 1, no stack trace', {
  skip,
}, async () => {
  // Owned by root, mode 0755: the unprivileged user can read it but not create anything in it.
  const rootOwned = join(work, 'root-owned');
  mkdirSync(rootOwned, { mode: 0o755 });
  const datadir = join(rootOwned, 'data');
  const run = runAsNobody([
    '--set',
    `general.datadir=${datadir}`,
    '--set',
    'api.enabled=false',
    'collect',
    '--listen',
    `127.0.0.1:${await freePort('udp')}`,
    '--no-stdout',
  ]);
  assert.equal(await exitCode(run.child, 30_000), 1, run.log());
  const errorLine = run
    .log()
    .split('\n')
    .find((l) => l.startsWith('flowgate: '));
  assert.ok(errorLine, run.log());
  assert.ok(errorLine.includes(datadir), errorLine);
  assert.match(errorLine, /EACCES|permission denied/i);
  assert.doesNotMatch(run.log(), /\n\s+at /, 'no stack trace');
});
