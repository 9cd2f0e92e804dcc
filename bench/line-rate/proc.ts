import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** What /proc says about a target: its process tree (pmacct forks a process per plugin). */

function readStat(pid: number): { ppid: number; ticks: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/** The process and all its descendants alive now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (s === null) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(pid);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const pid = todo.pop() as number;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/**
 * CPU seconds (utime + stime) per process of the tree, kept by pid so a later sample can be
 * subtracted process by process (a process that exits between samples just stops counting).
 */
export function cpuSample(root: number): Map<number, number> {
  const m = new Map<number, number>();
  for (const pid of processTree(root)) {
    const s = readStat(pid);
    if (s !== null) m.set(pid, s.ticks / 100);
  }
  return m;
}

export function cpuBetween(a: Map<number, number>, b: Map<number, number>): number {
  let sec = 0;
  for (const [pid, v] of b) sec += v - (a.get(pid) ?? 0);
  return sec;
}

/** Sum of VmHWM over the tree, in MB (each process's own peak; pmacct's are separate processes). */
export function peakRssMb(root: number): number {
  let kb = 0;
  for (const pid of processTree(root)) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // exited meanwhile
    }
  }
  return kb / 1024;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/**
 * Raises net.core.rmem_max to at least `bytes` so every target can get a 4 MiB socket buffer
 * (nfcapd as root uses SO_RCVBUFFORCE and would get it anyway; Node and pmacct cannot).
 * Returns a line saying what was there and what is set now.
 */
export function ensureRmemMax(bytes: number): string {
  const read = () => Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  const before = read();
  if (before >= bytes) return `net.core.rmem_max = ${before} (already >= ${bytes}, left as is)`;
  try {
    execFileSync('sysctl', ['-w', `net.core.rmem_max=${bytes}`], { stdio: 'ignore' });
  } catch (e) {
    return `net.core.rmem_max = ${before}: could not raise it to ${bytes} (${(e as Error).message})`;
  }
  return `set net.core.rmem_max = ${read()} (was ${before})`;
}

/** Kernel drops of the UDP socket bound to `port` (/proc/net/udp "drops", last column). */
export function kernelDrops(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let drops = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(hex)) drops += Number(cols[cols.length - 1]);
    }
  }
  return drops;
}
