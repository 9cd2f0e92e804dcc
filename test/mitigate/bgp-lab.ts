/**
 * A real BGP session for one test file: two network namespaces joined by a veth pair, gobgpd
 * (AS 65001, the speaker Flowgate drives) in one and BIRD 2 (AS 65002, importing everything,
 * IPv4 unicast and flowspec) in the other. Nothing leaves the namespaces; stop() kills both
 * daemons and deletes both namespaces (which deletes the veth pair).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './logs.js';

/** Why namespaces cannot be used here (not root, no CAP_SYS_ADMIN, no `ip`), or null. */
export function namespacesUnavailable(): string | null {
  const probe = `fgmprobe${randomBytes(3).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (add.error !== undefined) return `cannot run ip (iproute2): ${add.error.message}`;
  if (add.status !== 0) return `ip netns add failed: ${add.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}

export interface BgpLab {
  /** The namespace gobgpd runs in (run the gobgp CLI there). */
  readonly speakerNs: string;
  /** gobgpd's address on the link, and a free on-link address usable as a next hop. */
  readonly speakerAddress: string;
  readonly spareAddress: string;
  /** `birdc show route ...` in the peer's namespace; stdout. */
  birdRoutes(args: readonly string[]): string;
  /** Both daemons' logs, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

function run(argv: readonly string[]): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr || r.error?.message}`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startBgpLab(): Promise<BgpLab> {
  const id = randomBytes(3).toString('hex');
  const speakerNs = `fgm-gobgp-${id}`;
  const peerNs = `fgm-bird-${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bgp-lab-'));
  const children: ChildProcess[] = [];
  const namespaces: string[] = [];
  const cleanup = async (): Promise<void> => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.race([Promise.all(children.map(exited)), new Promise((r) => setTimeout(r, 5000))]);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  };
  const gobgpdLog = join(dir, 'gobgpd.log');
  const birdLog = join(dir, 'bird.log');
  const socket = join(dir, 'bird.ctl');
  const logs = (): string =>
    [gobgpdLog, birdLog].map((f) => `--- ${f}\n${readFileSync(f, 'utf8').slice(-3000)}`).join('\n');
  try {
    for (const ns of [speakerNs, peerNs]) {
      run(['ip', 'netns', 'add', ns]);
      namespaces.push(ns);
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    // Created straight into the namespaces, so no interface name is ever taken in the root one.
    run([
      'ip',
      'link',
      'add',
      `fgm${id}a`,
      'netns',
      speakerNs,
      'type',
      'veth',
      'peer',
      'name',
      `fgm${id}b`,
      'netns',
      peerNs,
    ]);
    run(['ip', '-n', speakerNs, 'addr', 'add', '10.255.0.1/29', 'dev', `fgm${id}a`]);
    run(['ip', '-n', peerNs, 'addr', 'add', '10.255.0.2/29', 'dev', `fgm${id}b`]);
    run(['ip', '-n', speakerNs, 'link', 'set', `fgm${id}a`, 'up']);
    run(['ip', '-n', peerNs, 'link', 'set', `fgm${id}b`, 'up']);

    const gobgpdConf = join(dir, 'gobgpd.toml');
    writeFileSync(
      gobgpdConf,
      [
        '[global.config]',
        '  as = 65001',
        '  router-id = "10.255.0.1"',
        '[[neighbors]]',
        '  [neighbors.config]',
        '    neighbor-address = "10.255.0.2"',
        '    peer-as = 65002',
        '  [[neighbors.afi-safis]]',
        '    [neighbors.afi-safis.config]',
        '      afi-safi-name = "ipv4-unicast"',
        '  [[neighbors.afi-safis]]',
        '    [neighbors.afi-safis.config]',
        '      afi-safi-name = "ipv4-flowspec"',
        '',
      ].join('\n'),
    );
    const birdConf = join(dir, 'bird.conf');
    writeFileSync(
      birdConf,
      [
        'router id 10.255.0.2;',
        'log stderr all;',
        'protocol device {}',
        'flow4 table flowtab4;',
        'protocol bgp gobgp {',
        '  local 10.255.0.2 as 65002;',
        '  neighbor 10.255.0.1 as 65001;',
        '  ipv4 { import all; export none; };',
        '  flow4 { table flowtab4; import all; export none; };',
        '}',
        '',
      ].join('\n'),
    );
    const gobgpdOut = openLog(gobgpdLog);
    children.push(
      spawn(
        'ip',
        [
          'netns',
          'exec',
          speakerNs,
          'gobgpd',
          '-f',
          gobgpdConf,
          '--api-hosts',
          '127.0.0.1:50051',
          '--pprof-disable',
          '-p',
        ],
        { stdio: ['ignore', gobgpdOut, gobgpdOut] },
      ),
    );
    closeSync(gobgpdOut);
    const birdOut = openLog(birdLog);
    children.push(
      spawn('ip', ['netns', 'exec', peerNs, 'bird', '-c', birdConf, '-s', socket, '-f'], {
        stdio: ['ignore', birdOut, birdOut],
      }),
    );
    closeSync(birdOut);
    const birdc = (args: readonly string[]): string =>
      spawnSync('birdc', ['-s', socket, ...args], { encoding: 'utf8', timeout: 5000 }).stdout ?? '';
    try {
      await waitFor('the BGP session gobgpd-BIRD to be established', () =>
        /Established/.test(birdc(['show', 'protocols', 'gobgp'])),
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${logs()}`);
    }
    return {
      speakerNs,
      speakerAddress: '10.255.0.1',
      spareAddress: '10.255.0.3',
      birdRoutes: (args) => birdc(['show', 'route', ...args]),
      logs,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function openLog(path: string): number {
  writeFileSync(path, '');
  // A file descriptor, so the daemons keep logging without the test reading their pipes.
  return openSync(path, 'a');
}
