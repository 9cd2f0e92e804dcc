/**
 * Announcing and withdrawing through the gobgp CLI, which talks to the operator's gobgpd over its
 * gRPC API. Flowgate starts no BGP speaker itself. The CLI is run with execFile (an argv, no
 * shell) and a timeout; every value in the argv was parsed by bgp-values.ts.
 */
import { execFile } from 'node:child_process';
import type { Announcement } from './announcement.js';

export interface CommandResult {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the command could not be run or was killed (timeout). */
  readonly failure: string | null;
}

/** Runs argv[0] with the rest as arguments. Must not reject. */
export type CommandRunner = (argv: readonly string[], timeoutMs: number) => Promise<CommandResult>;

export const execFileRunner: CommandRunner = (argv, timeoutMs) =>
  new Promise((resolve) => {
    const [file, ...args] = argv;
    execFile(
      file,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve({ exitCode: 0, stdout, stderr, failure: null });
          return;
        }
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
        const exitCode = typeof e.code === 'number' ? e.code : null;
        let failure: string | null = null;
        if (e.killed) failure = `killed after ${timeoutMs} ms`;
        else if (exitCode === null) failure = e.message;
        resolve({ exitCode, stdout, stderr, failure });
      },
    );
  });

export interface GobgpTarget {
  /** The CLI and what runs it, e.g. ["gobgp"] or ["ip", "netns", "exec", "bgp", "gobgp"]. */
  readonly command: readonly string[];
  readonly host: string;
  readonly port: number;
}

function base(target: GobgpTarget, family: string): string[] {
  return [...target.command, '-u', target.host, '-p', String(target.port), 'global', 'rib', '-a', family];
}

/** The flowspec match part: "match destination P [protocol udp] [source-port ==123]". */
function flowspecMatch(a: Announcement & { type: 'flowspec' }): string[] {
  const match = ['match', 'destination', a.destination];
  if (a.protocol !== null) match.push('protocol', a.protocol);
  if (a.sourcePort !== null) match.push('source-port', `==${a.sourcePort}`);
  return match;
}

export function announceArgv(target: GobgpTarget, a: Announcement): string[] {
  if (a.type === 'blackhole') {
    const argv = [...base(target, `ipv${a.family}`), 'add', a.prefix, 'community', a.community];
    if (a.nexthop !== null) argv.push('nexthop', a.nexthop);
    return argv;
  }
  const then =
    a.action.type === 'discard'
      ? ['then', 'discard']
      : ['then', 'rate-limit', String(a.action.bytesPerSecond)];
  return [...base(target, `ipv${a.family}-flowspec`), 'add', ...flowspecMatch(a), ...then];
}

/** gobgpd identifies a locally originated path by its NLRI, so the attributes are not repeated. */
export function withdrawArgv(target: GobgpTarget, a: Announcement): string[] {
  if (a.type === 'blackhole') return [...base(target, `ipv${a.family}`), 'del', a.prefix];
  return [...base(target, `ipv${a.family}-flowspec`), 'del', ...flowspecMatch(a)];
}

/** Why a finished command counts as failed, or null when it succeeded. */
export function commandProblem(result: CommandResult): string | null {
  if (result.failure !== null) return result.failure;
  if (result.exitCode === 0) return null;
  // gobgp prints its errors on stdout or stderr depending on where they arise.
  const output = `${result.stderr} ${result.stdout}`.replace(/\s+/g, ' ').trim().slice(0, 300);
  return `exit code ${result.exitCode}${output === '' ? '' : `: ${output}`}`;
}
