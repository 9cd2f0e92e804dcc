/**
 * A private Net-SNMP agent (Debian's /usr/sbin/snmpd) for one test: its own config and persistent
 * directory in a temp dir, listening on udp:127.0.0.1:<free port> only, `-C` so no system config
 * (/etc/snmp, /var/lib/snmp) is read or written. Answers v2c for community `public` and, if asked,
 * SNMPv3 for one authPriv user.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './child-process.js';

export const SNMPD = '/usr/sbin/snmpd';

/** A community that sees only ifTable (1.3.6.1.2.1.2), not ifXTable. */
export const IFTABLE_ONLY_COMMUNITY = 'iftable-only';

export function snmpdAvailable(): boolean {
  return existsSync(SNMPD);
}

export interface SnmpdV3User {
  name: string;
  authProtocol: 'SHA' | 'MD5';
  authKey: string;
  privProtocol: 'AES' | 'DES';
  privKey: string;
}

export interface RunningSnmpd {
  port: number;
  community: string;
  /** The agent's own log (-Lf), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** A UDP port on 127.0.0.1 that was free a moment ago (bind to 0, read, release). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export async function startSnmpd(opts: { v3User?: SnmpdV3User } = {}): Promise<RunningSnmpd> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-snmpd-'));
  const persist = join(dir, 'persist');
  const mibs = join(dir, 'mibs');
  mkdirSync(persist);
  mkdirSync(mibs);
  const port = await freeUdpPort();
  const community = 'public';
  const lines = [
    // `[snmp]` because persistentDir is a library token, not an snmpd one.
    `[snmp] persistentDir ${persist}`,
    `agentaddress udp:127.0.0.1:${port}`,
    `rocommunity ${community} 127.0.0.1`,
    // An agent without IF-MIB's ifXTable as old devices have it: only the interfaces group.
    `rocommunity ${IFTABLE_ONLY_COMMUNITY} 127.0.0.1 .1.3.6.1.2.1.2`,
  ];
  const u = opts.v3User;
  if (u) {
    lines.push(
      `createUser ${u.name} ${u.authProtocol} ${u.authKey} ${u.privProtocol} ${u.privKey}`,
      `rouser ${u.name} priv`,
    );
  }
  const conf = join(dir, 'snmpd.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const logFile = join(dir, 'snmpd.log');
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  // -M/-m: an empty MIB dir and no MIB modules, so the agent does not parse (and complain about)
  // the system's MIB files: it serves numeric OIDs either way.
  const child = spawn(SNMPD, ['-f', '-Lf', logFile, '-C', '-c', conf, '-M', mibs, '-m', ''], {
    stdio: 'ignore',
  });
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };

  // snmpd logs its version once its listening sockets are open; it exits if the bind fails.
  const deadline = Date.now() + 10_000;
  while (!log().includes('NET-SNMP version')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const text = log();
      await stop();
      throw new Error(`snmpd did not start on 127.0.0.1:${port}: ${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, community, log, stop };
}

/**
 * One IF-MIB column as Net-SNMP's own snmpwalk sees it: ifIndex -> value (strings unquoted,
 * numbers as numbers). The independent reference the poller's results are compared with.
 */
export function snmpwalkColumn(port: number, community: string, oid: string): Map<number, string | number> {
  const res = spawnSync(
    'snmpwalk',
    ['-v2c', '-c', community, '-On', '-Oe', '-M', '/nonexistent', '-m', '', `127.0.0.1:${port}`, oid],
    { encoding: 'utf8' },
  );
  if (res.status !== 0) throw new Error(`snmpwalk ${oid} failed: ${res.stderr}`);
  const out = new Map<number, string | number>();
  for (const line of res.stdout.split('\n')) {
    // .1.3.6.1.2.1.31.1.1.1.1.1 = STRING: "lo"   |   ... = Gauge32: 10   |   ... = ""
    const m = /^\.?([\d.]+) = (?:(\w+): )?(.*)$/.exec(line);
    if (!m?.[1].startsWith(`${oid}.`)) continue;
    const index = Number(m[1].slice(oid.length + 1));
    const raw = m[3];
    const value = m[2] === 'STRING' || raw.startsWith('"') ? raw.replace(/^"|"$/g, '') : Number(raw);
    out.set(index, value);
  }
  return out;
}

export function snmpwalkAvailable(): boolean {
  return spawnSync('snmpwalk', ['-V'], { encoding: 'utf8' }).error === undefined;
}
