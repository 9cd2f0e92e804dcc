import { type ChildProcess, spawn } from 'node:child_process';

/** A child started in its own process group, so that it and every process it forks can be ended together. */
export interface GroupProcess {
  child: ChildProcess;
  /** stdout and stderr so far (the last 64 KiB). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

const OUTPUT_LIMIT = 64 * 1024;

export function startGroupProcess(command: string, args: readonly string[], cwd?: string): GroupProcess {
  const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const collect = (b: Buffer): void => {
    out += b.toString();
    if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  return { child, output: () => out, exited };
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Ends the whole group: SIGTERM, then SIGKILL after `graceMs`. Only this group's processes are signalled. */
export async function killGroup(p: GroupProcess, graceMs = 3000): Promise<void> {
  const pgid = p.child.pid;
  if (pgid === undefined) return;
  const signal = (s: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, s);
    } catch {
      // The group is already gone.
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(pgid)) signal('SIGKILL');
  await p.exited.catch(() => null);
}

/**
 * Waits until the leader has exited AND every process of its group is gone (pmacctd's plugins are
 * forked children that flush their last export after the core exits); kills the group at the deadline.
 */
export async function waitForGroupExit(
  p: GroupProcess,
  timeoutMs: number,
  what: string,
): Promise<number | null> {
  const pgid = p.child.pid;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const code = await Promise.race([p.exited, timedOut]).finally(() => clearTimeout(timer));
  if (code === 'timeout') {
    await killGroup(p);
    throw new Error(
      `${what} did not finish within ${timeoutMs} ms (killed); output:\n${p.output().slice(-2000)}`,
    );
  }
  const deadline = Date.now() + timeoutMs;
  while (pgid !== undefined && groupAlive(pgid)) {
    if (Date.now() > deadline) {
      await killGroup(p);
      throw new Error(`${what}: child processes still running ${timeoutMs} ms after exit (killed)`);
    }
    await sleep(50);
  }
  return code;
}
