import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGroupProcess, waitForGroupExit } from './bounded-process.js';

/**
 * Turns a scenario pcap into real flow export sent to 127.0.0.1:<port>, with the Debian exporters.
 *
 * Time (measured with softflowd 1.1.0 and pmacctd 1.7.7 from Debian 12):
 * both read the file as fast as they can (a 270 s scenario takes 0.5-8 s) and neither paces its
 * export by the capture clock, so wall-clock arrival time says nothing about when traffic happened.
 * - softflowd -r: flow start/end are the pcap times. Without -a the export header (sysUptime,
 *   unix_secs) is the wall clock, so absolute start/end decoded from v5/v9 are wrong (the uptime wraps);
 *   with -a (always used here) the header is the pcap clock too and v5/v9/IPFIX flow times are pcap
 *   times (v9 within 1 s: its header has whole seconds). Flows expire only when the flow table is full
 *   (-m, default 8192), when a packet finds its flow past maxlife, or at the end of the file: the
 *   header export time is then the pcap time of that event, not a timeout-driven export time.
 * - pmacctd nfprobe: flow start/end are pcap times (v5, v9 and IPFIX), the export header is the wall
 *   clock. pmacctd sfprobe: sFlow samples carry no packet time at all, only the wall clock of sending.
 * So time-to-alert is measured on the pcap clock from the flow records' end times (NetFlow/IPFIX);
 * sFlow replays can only score detection, not delay.
 */

export type NetflowVersion = 5 | 9 | 10;

export interface ReplayResult {
  /** The command line as run (for the evaluation report). */
  command: string[];
  exitCode: number | null;
  wallMs: number;
  /** The exporter's stdout+stderr (softflowd prints its flow statistics there). */
  output: string;
}

interface CommonOptions {
  /** UDP port on 127.0.0.1 that receives the export. */
  port: number;
  /** The exporter is killed after this long (default 60 s). */
  timeoutMs?: number;
}

export interface SoftflowdOptions extends CommonOptions {
  version: NetflowVersion;
  /** Flows longer than this are cut into several records (default 60 s, like a router's active timeout). */
  maxlifeSeconds?: number;
  /** Flow table size; the table filling up is what expires flows in -r mode (softflowd default 8192). */
  maxFlows?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** pmacctd reads its settings from a file; a private directory keeps parallel runs apart. */
function withWorkDir<T>(prefix: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

async function runExporter(command: string[], what: string, timeoutMs: number): Promise<ReplayResult> {
  const started = Date.now();
  const p = startGroupProcess(command[0], command.slice(1));
  const exitCode = await waitForGroupExit(p, timeoutMs, what);
  if (exitCode !== 0) throw new Error(`${what} exited with ${exitCode}:\n${p.output().slice(-2000)}`);
  return { command, exitCode, wallMs: Date.now() - started, output: p.output() };
}

export function softflowdCommand(pcap: string, o: SoftflowdOptions): string[] {
  return [
    'softflowd',
    '-r',
    pcap,
    '-n',
    `127.0.0.1:${o.port}`,
    '-v',
    String(o.version),
    '-t',
    `maxlife=${o.maxlifeSeconds ?? 60}`,
    '-m',
    String(o.maxFlows ?? 8192),
    // Export header on the pcap clock (see the module comment).
    '-a',
    // No -c: with -r and an explicit control socket, softflowd 1.1.0 waits on accept() forever
    // after the file ends instead of exiting. Without it no socket is made in -r mode.
  ];
}

/** softflowd reads the whole file, exports, flushes every remaining flow and exits. */
export function replaySoftflowd(pcap: string, o: SoftflowdOptions): Promise<ReplayResult> {
  return runExporter(softflowdCommand(pcap, o), `softflowd -r ${pcap}`, o.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

export interface PmacctNetflowOptions extends CommonOptions {
  version: NetflowVersion;
  maxlifeSeconds?: number;
  /**
   * Declares the file as already sampled 1-in-N (`pmacctd_ext_sampling_rate`), exported in the
   * records' sampling fields: pass the scenario's scale so that collectors renormalise.
   */
  externalSamplingRate?: number;
}

export interface PmacctSflowOptions extends CommonOptions {
  /**
   * Either pmacctd's own random 1-in-N sampling (`sampling_rate`), or, as for NetFlow, the rate the
   * file was already sampled at (every packet becomes a sample announcing it). pmacctd refuses both
   * at once ("Internal packet sampling and external packet sampling are mutual exclusive").
   * Default: every packet, announced as 1 in 1.
   */
  sampling?: { internal: number } | { external: number };
}

function pmacctConfig(pcap: string, plugin: string[], externalSamplingRate: number | undefined): string {
  const lines = [
    'daemonize: false',
    `pcap_savefile: ${pcap}`,
    ...(externalSamplingRate !== undefined ? [`pmacctd_ext_sampling_rate: ${externalSamplingRate}`] : []),
    ...plugin,
  ];
  return lines.join('\n') + '\n';
}

export function pmacctNetflowConfig(pcap: string, o: PmacctNetflowOptions): string {
  return pmacctConfig(
    pcap,
    [
      'plugins: nfprobe[nf]',
      `nfprobe_receiver[nf]: 127.0.0.1:${o.port}`,
      `nfprobe_version[nf]: ${o.version}`,
      `nfprobe_timeouts[nf]: maxlife=${o.maxlifeSeconds ?? 60}`,
    ],
    o.externalSamplingRate,
  );
}

export function pmacctSflowConfig(pcap: string, o: PmacctSflowOptions): string {
  return pmacctConfig(
    pcap,
    [
      'plugins: sfprobe[sf]',
      `sfprobe_receiver[sf]: 127.0.0.1:${o.port}`,
      'sfprobe_agentip[sf]: 127.0.0.1',
      ...(o.sampling === undefined || 'internal' in o.sampling
        ? [`sampling_rate[sf]: ${o.sampling?.internal ?? 1}`]
        : []),
    ],
    o.sampling !== undefined && 'external' in o.sampling ? o.sampling.external : undefined,
  );
}

/**
 * pmacctd sleeps ~2 s before it reads the file; it exits at the end of the file, and its plugin
 * processes flush on the way out (waited for: the whole process group must be gone). Known loss:
 * sfprobe drops its last, partly filled datagram at exit (a handful of samples).
 */
function replayPmacctd(config: string, what: string, timeoutMs: number): Promise<ReplayResult> {
  return withWorkDir('flowgate-pmacctd-', async (dir) => {
    const conf = join(dir, 'pmacctd.conf');
    writeFileSync(conf, config);
    const result = await runExporter(['pmacctd', '-f', conf], what, timeoutMs);
    return { ...result, command: [...result.command, `# ${conf}:`, ...config.trimEnd().split('\n')] };
  });
}

export function replayPmacctdNetflow(pcap: string, o: PmacctNetflowOptions): Promise<ReplayResult> {
  return replayPmacctd(
    pmacctNetflowConfig(pcap, o),
    `pmacctd nfprobe ${pcap}`,
    o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  );
}

export function replayPmacctdSflow(pcap: string, o: PmacctSflowOptions): Promise<ReplayResult> {
  return replayPmacctd(
    pmacctSflowConfig(pcap, o),
    `pmacctd sfprobe ${pcap}`,
    o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  );
}
