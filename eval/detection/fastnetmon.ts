import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GroupProcess, killGroup, startGroupProcess } from './bounded-process.js';

/**
 * Debian's FastNetMon (community 1.2.4) as the reference detector, fed the same flow export as
 * Flowgate. Findings that shape this module:
 * - It runs unprivileged: every path it writes (pid, cli stats, notify script) is set in its config
 *   and points into a private temp directory. As root we drop to `nobody` with setpriv and hand that
 *   directory to it. The one fixed path, /var/log/fastnetmon_attacks (attack detail files), only
 *   logs "[ERROR] Folder for attack details does not exist" when missing: bans still happen.
 * - Counters are preallocated for every address in networks_list (~730 bytes each: a /16 needs
 *   46 MB, a /8 12 GB), so only small internal networks may be listed.
 * - It rates traffic by the wall clock at which flow records ARRIVE (average over
 *   `average_calculation_time`), ignoring the records' start/end times: a replay that delivers a
 *   minute of flood in one second shows a 60x higher rate, and ban times are wall-clock times that
 *   say nothing about pcap time. Compare detection (which host, which attack type), not delay.
 * - The notify script is called as `script <ip> <incoming|outgoing> <pps> <ban|unban|attack_details>`
 *   with the attack details on stdin (for ban: type, protocol, rates, a sample of flows).
 */

export interface FastnetmonOptions {
  /** UDP port on 127.0.0.1 for NetFlow v5/v9/IPFIX (at least one of the two ports). */
  netflowPort?: number;
  /** UDP port on 127.0.0.1 for sFlow v5. */
  sflowPort?: number;
  /** Internal networks (CIDR). Keep them small, see the module comment. */
  networks: readonly string[];
  thresholdPps: number;
  thresholdMbps: number;
  /** Ban on new flows per second too (off unless set). */
  thresholdFlows?: number;
  /** Multiplies NetFlow v9/IPFIX counters (FastNetMon ignores the sampling options the exporter sends). */
  netflowSamplingRatio?: number;
  /** Seconds over which rates are averaged (FastNetMon default 5). */
  averageCalculationSeconds?: number;
  /** Further fastnetmon.conf keys (e.g. per-protocol `threshold_udp_pps`); they win over the defaults above. */
  extraSettings?: Readonly<Record<string, string | number>>;
  startTimeoutMs?: number;
}

export interface FastnetmonBan {
  ip: string;
  direction: string;
  /** Attack power FastNetMon reported (packets/s at detection). */
  pps: number;
  action: 'ban' | 'unban' | 'attack_details';
  /** e.g. udp_flood, syn_flood, ip_fragmentation_flood, unknown; null when not in the details. */
  attackType: string | null;
  protocol: string | null;
  /** Wall clock (epoch ms) when the notify script ran. */
  notifiedAtMs: number;
  details: string;
}

const NOTIFY_SCRIPT = `#!/bin/sh
# Appends one block per call: a header line, the attack details FastNetMon writes to stdin, an end marker.
out="$(dirname "$0")/notifications.log"
{
  echo "=== $(date +%s%3N) $1 $2 $3 $4"
  cat
  echo "=== end"
} >> "$out"
`;

function configText(dir: string, o: FastnetmonOptions): string {
  const onOff = (b: boolean): string => (b ? 'on' : 'off');
  const settings: Record<string, string | number> = {
    logging_level: 'info',
    logging_local_syslog_logging: 'off',
    disable_usage_report: 'on',
    enable_ban: 'on',
    enable_ban_ipv6: 'on',
    process_incoming_traffic: 'on',
    process_outgoing_traffic: 'on',
    ban_details_records_count: 20,
    ban_time: 3600,
    unban_only_if_attack_finished: 'on',
    networks_list_path: join(dir, 'networks_list'),
    white_list_path: join(dir, 'networks_whitelist'),
    check_period: 1,
    enable_connection_tracking: 'on',
    ban_for_pps: 'on',
    ban_for_bandwidth: 'on',
    ban_for_flows: onOff(o.thresholdFlows !== undefined),
    threshold_pps: o.thresholdPps,
    threshold_mbps: o.thresholdMbps,
    threshold_flows: o.thresholdFlows ?? 1_000_000,
    average_calculation_time: o.averageCalculationSeconds ?? 5,
    speed_calculation_delay: 1,
    pcap: 'off',
    mirror_afpacket: 'off',
    mirror_afxdp: 'off',
    mirror_netmap: 'off',
    netflow: onOff(o.netflowPort !== undefined),
    netflow_host: '127.0.0.1',
    netflow_port: o.netflowPort ?? 2055,
    netflow_sampling_ratio: o.netflowSamplingRatio ?? 1,
    sflow: onOff(o.sflowPort !== undefined),
    sflow_host: '127.0.0.1',
    sflow_port: o.sflowPort ?? 6343,
    notify_script_path: join(dir, 'notify.sh'),
    collect_attack_pcap_dumps: 'off',
    redis_enabled: 'off',
    mongodb_enabled: 'off',
    exabgp: 'off',
    gobgp: 'off',
    influxdb: 'off',
    graphite: 'off',
    monitor_local_ip_addresses: 'off',
    pid_path: join(dir, 'fastnetmon.pid'),
    cli_stats_file_path: join(dir, 'fastnetmon.dat'),
    cli_stats_ipv6_file_path: join(dir, 'fastnetmon_ipv6.dat'),
    enable_api: 'off',
    prometheus: 'off',
    ...o.extraSettings,
  };
  return Object.entries(settings)
    .map(([k, v]) => `${k} = ${v}\n`)
    .join('');
}

/** Parses the notify log written by NOTIFY_SCRIPT. */
export function parseNotifications(text: string): FastnetmonBan[] {
  const bans: FastnetmonBan[] = [];
  const blocks = text.split(/^=== end$/m);
  // What follows the last end marker is a notification still being written: not read yet
  // (a ban read before its details came without its attack type).
  blocks.pop();
  for (const block of blocks) {
    const m = /^=== (\d+) (\S+) (\S+) (\S+) (\S+)$/m.exec(block);
    if (m === null) continue;
    const details = block.slice((m.index ?? 0) + m[0].length).trim();
    const action = m[5];
    if (action !== 'ban' && action !== 'unban' && action !== 'attack_details') continue;
    bans.push({
      ip: m[2],
      direction: m[3],
      pps: Number(m[4]),
      action,
      attackType: /^Attack type: (.+)$/m.exec(details)?.[1]?.trim() ?? null,
      protocol: /^Attack protocol: (.+)$/m.exec(details)?.[1]?.trim() ?? null,
      notifiedAtMs: Number(m[1]),
      details,
    });
  }
  return bans;
}

function nobodyIds(): { uid: number; gid: number } | null {
  const id = (flag: string): number =>
    Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  return Number.isInteger(uid) && Number.isInteger(gid) && uid > 0 ? { uid, gid } : null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const FASTNETMON_BINARY = '/usr/sbin/fastnetmon';

export class FastnetmonProcess {
  private constructor(
    private readonly proc: GroupProcess,
    readonly dir: string,
  ) {}

  /** Starts FastNetMon and resolves once its listeners are up. */
  static async start(o: FastnetmonOptions): Promise<FastnetmonProcess> {
    if (o.netflowPort === undefined && o.sflowPort === undefined)
      throw new Error('fastnetmon: no listener port given');
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-fastnetmon-'));
    writeFileSync(join(dir, 'fastnetmon.conf'), configText(dir, o));
    writeFileSync(join(dir, 'networks_list'), o.networks.map((n) => `${n}\n`).join(''));
    writeFileSync(join(dir, 'networks_whitelist'), '');
    writeFileSync(join(dir, 'notify.sh'), NOTIFY_SCRIPT);
    chmodSync(join(dir, 'notify.sh'), 0o755);
    const args = [
      '--configuration_file',
      join(dir, 'fastnetmon.conf'),
      '--log_to_console',
      '--disable_pid_logic',
    ];
    const nobody = process.getuid?.() === 0 ? nobodyIds() : null;
    let proc: GroupProcess;
    if (nobody !== null) {
      for (const f of ['', 'fastnetmon.conf', 'networks_list', 'networks_whitelist', 'notify.sh']) {
        chownSync(join(dir, f), nobody.uid, nobody.gid);
      }
      proc = startGroupProcess('setpriv', [
        `--reuid=${nobody.uid}`,
        `--regid=${nobody.gid}`,
        '--clear-groups',
        FASTNETMON_BINARY,
        ...args,
      ]);
    } else {
      proc = startGroupProcess(FASTNETMON_BINARY, args);
    }
    const fnm = new FastnetmonProcess(proc, dir);
    const ready = [
      ...(o.netflowPort !== undefined ? [/netflow plugin will listen on/] : []),
      ...(o.sflowPort !== undefined ? [/sflow: plugin will listen on/] : []),
    ];
    const deadline = Date.now() + (o.startTimeoutMs ?? 20_000);
    while (!ready.every((re) => re.test(proc.output()))) {
      if (proc.child.exitCode !== null || Date.now() > deadline) {
        await fnm.stop();
        throw new Error(`fastnetmon did not start:\n${proc.output().slice(-2000)}`);
      }
      await sleep(100);
    }
    // The log line comes just before bind(); give the listener thread a moment.
    await sleep(500);
    return fnm;
  }

  /** Every notification so far (bans, unbans, detail reports), oldest first. */
  notifications(): FastnetmonBan[] {
    const file = join(this.dir, 'notifications.log');
    return existsSync(file) ? parseNotifications(readFileSync(file, 'utf8')) : [];
  }

  bans(): FastnetmonBan[] {
    return this.notifications().filter((n) => n.action === 'ban');
  }

  /** Polls until a ban matches (or the timeout passes: then resolves with null). */
  async waitForBan(match: (b: FastnetmonBan) => boolean, timeoutMs: number): Promise<FastnetmonBan | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.bans().find(match);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline) return null;
      await sleep(200);
    }
  }

  /** The real user id FastNetMon runs as (from /proc), or null once it has exited. */
  uid(): number | null {
    const pid = this.proc.child.pid;
    if (pid === undefined || !existsSync(`/proc/${pid}/status`)) return null;
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? null : Number(m[1]);
  }

  log(): string {
    return this.proc.output();
  }

  async stop(): Promise<void> {
    await killGroup(this.proc);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
