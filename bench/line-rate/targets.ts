import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startClickHouse } from '../../test/helpers/clickhouse-server.js';
import type { SetProtocol } from './datagram-set.js';
import { freePort, kernelDrops } from './proc.js';

/**
 * The collectors under test. Each starts fresh in its own temp dir, listens on 127.0.0.1 with a
 * 4 MiB socket buffer, and after the sender stops says how many records it got: Flowgate from
 * /stats, nfcapd from its stored file (`nfdump -I`), nfacctd/sfacctd from a print plugin's CSV.
 */

export interface Received {
  /** Records the target counted (or packets, when `unit` says so). */
  received: number;
  unit: 'records' | 'packets';
  kernelDrops: number;
  /** Target-specific drop counters and notes, for the log line. */
  detail: string;
}

export interface RunningTarget {
  pid: number;
  port: number;
  /** Waits until the target has processed what it is going to, then counts. May stop the process. */
  finish(): Promise<Received>;
  stop(): Promise<void>;
}

export interface Target {
  name: string;
  protocols: readonly SetProtocol[];
  start(dir: string, protocol: SetProtocol): Promise<RunningTarget>;
}

const SOCKET_BUFFER = 4_194_304;

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited(child);
  clearTimeout(killer);
}

async function waitFor(what: string, child: ChildProcess, ready: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before it was ready`);
    if (await ready().catch(() => false)) return;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`${what} did not become ready`);
}

// biome-ignore lint/suspicious/noExplicitAny: /stats JSON, read loosely
type Stats = any;

async function flowgateStats(apiPort: number): Promise<Stats> {
  const res = await fetch(`http://127.0.0.1:${apiPort}/stats`);
  return res.json();
}

/** `flowgate collect` from the sources (node --import tsx src/cli/main.ts), with extra --set pairs. */
function flowgateTarget(name: string, sets: (dir: string) => string[], extraSets: readonly string[]): Target {
  return {
    name,
    protocols: ['netflow9', 'ipfix', 'sflow'],
    async start(dir) {
      const port = await freePort();
      const apiPort = await freePort();
      const config = join(dir, 'flowgate.yaml');
      writeFileSync(
        config,
        [
          'general:',
          `  datadir: ${dir}`,
          `  templatedb: ${join(dir, 'templates.json')}`,
          'flow:',
          `  listen: ["127.0.0.1:${port}"]`,
          `  udpbuffer: ${SOCKET_BUFFER}`,
          'api:',
          `  listen: 127.0.0.1:${apiPort}`,
          'log:',
          '  level: warn',
          '',
        ].join('\n'),
      );
      const setArgs = [...sets(dir), ...extraSets].flatMap((s) => ['--set', s]);
      const child = spawn(
        process.execPath,
        [
          ...flowgateNodeArgs(),
          '--import',
          'tsx',
          'src/cli/main.ts',
          '--config',
          config,
          ...setArgs,
          'collect',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      await waitFor(name, child, async () => {
        await flowgateStats(apiPort);
        return true;
      });
      const pid = child.pid as number;
      return {
        pid,
        port,
        async finish() {
          // Drain: counters and queues unchanged for 2 s.
          let s: Stats = await flowgateStats(apiPort);
          let stable = 0;
          let last = -1;
          const t0 = Date.now();
          const counted = (x: Stats): number =>
            x.store ? (x.store.recordsWritten ?? 0) : (x.output?.written ?? x.totals.records);
          while (stable < 8 && Date.now() - t0 < 120_000) {
            await sleep(250);
            s = await flowgateStats(apiPort);
            const idle =
              (s.store?.queueDepth ?? 0) === 0 && s.queue.depth === 0 && (s.output?.depth ?? 0) === 0;
            const n = counted(s) + s.totals.records;
            stable = idle && n === last ? stable + 1 : 0;
            last = n;
          }
          return {
            received: counted(s),
            unit: 'records',
            kernelDrops: kernelDrops(port),
            detail:
              `decoded ${s.totals.records}, queue drops ${s.queue.drops} (high water ${s.queue.highWater}), ` +
              `output drops ${s.output?.drops ?? 0}, store drops ${s.store?.drops ?? 0}, decode errors ${s.totals.errors}`,
          };
        },
        stop: () => stopChild(child),
      };
    },
  };
}

/**
 * nfcapd stores every flow; `nfdump -I` over the file it closes on exit counts them. sFlow would
 * need sfcapd, which Debian's nfdump 1.7.1 does not ship (nfcapd itself stores 0 sFlow records).
 */
const nfcapd: Target = {
  name: 'nfcapd',
  protocols: ['netflow9', 'ipfix'],
  async start(dir) {
    const port = await freePort();
    const child = spawn(
      'nfcapd',
      ['-w', dir, '-p', String(port), '-b', '127.0.0.1', '-t', '3600', '-B', String(SOCKET_BUFFER)],
      {
        stdio: 'ignore',
      },
    );
    await waitFor('nfcapd', child, async () => kernelDrops(port) >= 0 && isBound(port));
    let drops = 0;
    return {
      pid: child.pid as number,
      port,
      async finish() {
        await sleep(1000);
        drops = kernelDrops(port);
        // On SIGTERM nfcapd flushes and closes the current file (nfcapd.YYYYMMDDhhmm).
        await stopChild(child);
        const files = readdirSync(dir).filter((f) => /^nfcapd\.\d{12}$/.test(f));
        let flows = 0;
        for (const f of files) {
          const out = execFileSync('nfdump', ['-r', join(dir, f), '-I'], { encoding: 'utf8' });
          flows += Number(/^Flows:\s+(\d+)/m.exec(out)?.[1] ?? 0);
        }
        return { received: flows, unit: 'records', kernelDrops: drops, detail: `${files.length} file(s)` };
      },
      stop: () => stopChild(child),
    };
  },
};

function isBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      if (
        readFileSync(file, 'utf8')
          .split('\n')
          .some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex))
      )
        return true;
    } catch {
      // no IPv6
    }
  }
  return false;
}

/**
 * nfacctd (NetFlow/IPFIX) or sfacctd (sFlow) with a print plugin aggregated by protocol plus the
 * `flows` counter: pmacct has no per-record output, and any finer key would still merge the flows
 * the sender repeats when it loops over the set, but FLOWS counts every record it accounted.
 * The plugin pipe is large (64 MiB) so the core-to-plugin hop is not what limits; with the default
 * pipe nfacctd loses ~11 % of records at 50k records/s with no kernel drops.
 */
function pmacctTarget(daemon: 'nfacctd' | 'sfacctd'): Target {
  return {
    name: daemon,
    protocols: daemon === 'nfacctd' ? ['netflow9', 'ipfix'] : ['sflow'],
    async start(dir) {
      const port = await freePort();
      const csv = join(dir, 'out.csv');
      const conf = join(dir, `${daemon}.conf`);
      writeFileSync(
        conf,
        [
          'daemonize: false',
          `${daemon}_ip: 127.0.0.1`,
          `${daemon}_port: ${port}`,
          `${daemon}_pipe_size: ${SOCKET_BUFFER}`,
          ...(daemon === 'sfacctd' ? ['sfacctd_renormalize: false'] : []),
          'plugins: print[p]',
          'aggregate[p]: proto, flows',
          'print_output[p]: csv',
          `print_output_file[p]: ${csv}`,
          'print_output_file_append[p]: true',
          'print_refresh_time[p]: 1',
          'plugin_pipe_size[p]: 67108864',
          'plugin_buffer_size[p]: 65536',
          '',
        ].join('\n'),
      );
      const child = spawn(daemon, ['-f', conf], { stdio: 'ignore' });
      await waitFor(daemon, child, async () => isBound(port));
      return {
        pid: child.pid as number,
        port,
        async finish() {
          await sleep(3000);
          const drops = kernelDrops(port);
          // SIGINT makes the plugin write its last interval before exiting.
          await stopChild(child, 'SIGINT');
          let text = '';
          try {
            text = readFileSync(csv, 'utf8');
          } catch {
            // nothing written
          }
          // FLOWS counts NetFlow/IPFIX records and sFlow flow samples (checked against the sender).
          const sums = { FLOWS: 0, PACKETS: 0 };
          let header: string[] = [];
          for (const line of text.split('\n')) {
            const cells = line.split(',');
            if (cells[0] === 'PROTOCOL') {
              header = cells;
              continue;
            }
            for (const k of ['FLOWS', 'PACKETS'] as const) {
              const i = header.indexOf(k);
              if (i >= 0 && cells.length > i) sums[k] += Number(cells[i]) || 0;
            }
          }
          return {
            received: sums.FLOWS,
            unit: 'records',
            kernelDrops: drops,
            detail: `print plugin (aggregate proto, flows): ${sums.FLOWS} flows, ${sums.PACKETS} packets`,
          };
        },
        stop: () => stopChild(child, 'SIGINT'),
      };
    },
  };
}

/**
 * Flowgate writing to ClickHouse: a throwaway clickhouse-server (the tests' own starter) per run,
 * `store.engine=clickhouse` pointed at it. The server's CPU is not in the target's figure.
 */
function clickhouseTarget(extraSets: readonly string[]): Target {
  const inner = (url: string) =>
    flowgateTarget(
      'flowgate-clickhouse',
      () => [
        'output.discard=false',
        'store.enabled=true',
        'detection.enabled=false',
        'store.engine=clickhouse',
        `store.clickhouse.url=${url}`,
      ],
      extraSets,
    );
  return {
    name: 'flowgate-clickhouse',
    protocols: ['netflow9', 'ipfix', 'sflow'],
    async start(dir, protocol) {
      const server = await startClickHouse();
      try {
        const t = await inner(server.url).start(dir, protocol);
        return {
          ...t,
          async stop() {
            await t.stop();
            await server.dispose();
          },
        };
      } catch (e) {
        await server.dispose();
        throw e;
      }
    },
  };
}

/** FLOWGATE_NODE_ARGS="--flag ...": Node/V8 flags for the Flowgate targets only (not the sender). */
function flowgateNodeArgs(): string[] {
  return (process.env.FLOWGATE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

/** All targets by name; `extraSets` are --set pairs passed to every Flowgate target. */
export function targets(extraSets: readonly string[]): Map<string, Target> {
  const list: Target[] = [
    // Like for like with nfcapd and nfacctd: no detection unless the target's name says so.
    flowgateTarget(
      'flowgate-decode',
      () => ['output.discard=true', 'store.enabled=false', 'detection.enabled=false'],
      extraSets,
    ),
    flowgateTarget('flowgate-detect', () => ['output.discard=true', 'store.enabled=false'], extraSets),
    flowgateTarget('flowgate-duckdb', () => ['detection.enabled=false'], extraSets),
    flowgateTarget('flowgate-duckdb-detect', () => [], extraSets),
    clickhouseTarget(extraSets),
    nfcapd,
    pmacctTarget('nfacctd'),
    pmacctTarget('sfacctd'),
  ];
  return new Map(list.map((t) => [t.name, t]));
}
