/**
 * Real clickhouse-server processes for tests: each in its own mkdtemp directory with a minimal
 * config.xml + users.xml, on free loopback ports (http, tcp, interserver), ready once /ping answers.
 * `startClickHouseCluster(2)` starts two servers whose configs both define the cluster
 * `flowgate_test` (remote_servers) with one shard per server, for a Distributed table; no ZooKeeper.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLICKHOUSE_BIN = '/usr/sbin/clickhouse-server';
export const TEST_CLUSTER = 'flowgate_test';

/** Why ClickHouse tests are skipped, or false when the server binary is there. */
export const clickhouseSkip: string | false = existsSync(CLICKHOUSE_BIN)
  ? false
  : `${CLICKHOUSE_BIN} is not installed (apt-get install clickhouse-server): ClickHouse tests skipped`;

export interface ClickHouseServer {
  /** http://127.0.0.1:PORT */
  url: string;
  httpPort: number;
  tcpPort: number;
  dir: string;
  /** The server's process id (it changes on restart); for benches that read its CPU time. */
  readonly pid: number;
  /** Stops the process (SIGTERM, SIGKILL after 10 s); keeps the data directory. */
  stop(): Promise<void>;
  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data directory. */
  restart(): Promise<void>;
  /** stop() and remove the directory. */
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

interface Ports {
  http: number;
  tcp: number;
  interserver: number;
}

function remoteServersXml(shards: readonly Ports[]): string {
  if (shards.length === 0) return '';
  const s = shards
    .map(
      (p) =>
        `<shard><replica><host>127.0.0.1</host><port>${p.tcp}</port><user>default</user></replica></shard>`,
    )
    .join('');
  return `<remote_servers><${TEST_CLUSTER}>${s}</${TEST_CLUSTER}></remote_servers>`;
}

function writeConfig(dir: string, ports: Ports, cluster: readonly Ports[]): string {
  writeFileSync(
    join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default>
    <password></password>
    <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota>
  </default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
`,
  );
  const config = join(dir, 'config.xml');
  writeFileSync(
    config,
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>
  <interserver_http_port>${ports.interserver}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  ${remoteServersXml(cluster)}
</yandex>
`,
  );
  return config;
}

async function ping(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

function launch(config: string, dir: string): ChildProcess {
  const child = spawn(CLICKHOUSE_BIN, [`--config-file=${config}`], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.resume();
  return child;
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`clickhouse-server exited with ${child.exitCode}`);
    if (await ping(url)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`clickhouse-server at ${url} not ready after 20 s`);
}

async function exited(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(timer);
}

/**
 * Servers still running when the test process exits (a crashed test, a closed output pipe) are
 * killed and their directories removed, so none outlives its test.
 */
const running = new Map<string, () => ChildProcess>();
process.on('exit', () => {
  for (const [dir, child] of running) {
    child().kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

async function startOne(ports: Ports, cluster: readonly Ports[]): Promise<ClickHouseServer> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-clickhouse-'));
  const config = writeConfig(dir, ports, cluster);
  const url = `http://127.0.0.1:${ports.http}`;
  let child = launch(config, dir);
  running.set(dir, () => child);
  try {
    await waitReady(url, child);
  } catch (err) {
    await exited(child, 'SIGKILL');
    running.delete(dir);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const server: ClickHouseServer = {
    url,
    httpPort: ports.http,
    tcpPort: ports.tcp,
    dir,
    get pid() {
      return child.pid ?? 0;
    },
    stop: () => exited(child, 'SIGTERM'),
    kill: () => exited(child, 'SIGKILL'),
    async restart() {
      await exited(child, 'SIGTERM');
      child = launch(config, dir);
      await waitReady(url, child);
    },
    async dispose() {
      await exited(child, 'SIGTERM');
      running.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

async function ports(): Promise<Ports> {
  return { http: await freePort(), tcp: await freePort(), interserver: await freePort() };
}

/** One server, no cluster. */
export async function startClickHouse(): Promise<ClickHouseServer> {
  return startOne(await ports(), []);
}

/** `count` servers, each configured with the cluster TEST_CLUSTER of all of them as shards. */
export async function startClickHouseCluster(count: number): Promise<ClickHouseServer[]> {
  const all: Ports[] = [];
  for (let i = 0; i < count; i++) all.push(await ports());
  const servers: ClickHouseServer[] = [];
  try {
    for (const p of all) servers.push(await startOne(p, all));
  } catch (err) {
    for (const s of servers) await s.dispose();
    throw err;
  }
  return servers;
}
