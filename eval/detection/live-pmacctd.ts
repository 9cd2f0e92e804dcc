import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GroupProcess, killGroup, startGroupProcess } from './bounded-process.js';

/**
 * One pmacctd (1.7.7) capturing a live interface and exporting the same packets twice: IPFIX
 * (nfprobe) for Flowgate and sFlow v5 (sfprobe) for FastNetMon. Both plugins read the same capture
 * in one process, so both detectors see exactly the same traffic.
 */
export interface LivePmacctdOptions {
  interface: string;
  ipfixPort: number;
  sflowPort: number;
  /**
   * The capture is already 1-in-N sampled (a scenario's scale): announced in the IPFIX records'
   * sampling fields and as the sFlow sampling rate, with every packet sent as a sample.
   */
  externalSamplingRate: number;
  /** nfprobe_timeouts, e.g. `maxlife=10:general=5:...:expint=1`. */
  nfprobeTimeouts: string;
  /** What Flowgate gets on `ipfixPort`: IPFIX (default) or the same sFlow as FastNetMon. */
  flowgateFeed?: 'ipfix' | 'sflow';
}

export function livePmacctdConfig(o: LivePmacctdOptions): string {
  return [
    'daemonize: false',
    `pcap_interface: ${o.interface}`,
    ...(o.externalSamplingRate > 1 ? [`pmacctd_ext_sampling_rate: ${o.externalSamplingRate}`] : []),
    ...(o.flowgateFeed === 'sflow'
      ? [
          'plugins: sfprobe[fg], sfprobe[fnm]',
          `sfprobe_receiver[fg]: 127.0.0.1:${o.ipfixPort}`,
          'sfprobe_agentip[fg]: 127.0.0.1',
        ]
      : [
          'plugins: nfprobe[fg], sfprobe[fnm]',
          `nfprobe_receiver[fg]: 127.0.0.1:${o.ipfixPort}`,
          'nfprobe_version[fg]: 10',
          `nfprobe_timeouts[fg]: ${o.nfprobeTimeouts}`,
        ]),
    `sfprobe_receiver[fnm]: 127.0.0.1:${o.sflowPort}`,
    'sfprobe_agentip[fnm]: 127.0.0.1',
    '',
  ].join('\n');
}

export interface LivePmacctd {
  config: string;
  /** Capture statistics and plugin messages so far. */
  output(): string;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts pmacctd and resolves once it has opened the interface and forked both plugins. */
export async function startLivePmacctd(o: LivePmacctdOptions, startTimeoutMs = 15_000): Promise<LivePmacctd> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-pmacctd-live-'));
  const config = livePmacctdConfig(o);
  writeFileSync(join(dir, 'pmacctd.conf'), config);
  const p: GroupProcess = startGroupProcess('pmacctd', ['-f', join(dir, 'pmacctd.conf')]);
  const stop = async (): Promise<void> => {
    // SIGTERM: the core prints its capture counters and the plugins flush their caches.
    await killGroup(p, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = [
    /link type is/,
    o.flowgateFeed === 'sflow'
      ? /sfprobe \): Exporting flows[\s\S]*sfprobe \): Exporting flows/
      : /nfprobe \): Exporting flows/,
    /sfprobe \): Exporting flows/,
  ];
  const deadline = Date.now() + startTimeoutMs;
  while (!ready.every((re) => re.test(p.output()))) {
    if (p.child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`pmacctd did not start:\n${p.output().slice(-2000)}`);
    }
    await sleep(100);
  }
  return { config, output: () => p.output(), stop };
}
