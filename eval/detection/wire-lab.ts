import { spawnSync } from 'node:child_process';
import { startGroupProcess, waitForGroupExit } from './bounded-process.js';

/**
 * A private wire for replaying a pcap in real time: a network namespace of our own holding the
 * sending end of a veth pair, whose other end (the capture interface) sits in the root namespace,
 * where the exporters capture and send their export to 127.0.0.1.
 *
 * Nothing replayed may leave the pair: the capture end has no address, no ARP, no IPv6 and IPv4
 * forwarding off, and the scenario frames are addressed to 02:02:02:02:02:02 (not the veth's MAC),
 * so the root namespace's IP stack drops them as "other host" after the capture has seen them.
 * Deleting the namespace deletes the pair; only interfaces created here are ever touched.
 */
export interface WireLab {
  /** The root-namespace end: capture here. */
  captureInterface: string;
  /** Sends the pcap onto the wire with its own timing; resolves with the wall clock of the start. */
  replay(pcap: string, timeoutMs: number): Promise<{ startedAtMs: number; output: string }>;
  close(): void;
}

let labCount = 0;

function run(argv: string[]): void {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${(r.stderr ?? '').trim()}`);
}

export function createWireLab(): WireLab {
  // Interface names are limited to 15 characters; pid plus a counter keeps parallel runs apart.
  const id = `${process.pid.toString(36)}${(labCount++).toString(36)}`;
  const namespace = `fgrt${id}`;
  const captureInterface = `fgrt${id}c`;
  const sendInterface = `fgrt${id}s`;
  let created = false;
  const close = (): void => {
    if (!created) return;
    spawnSync('ip', ['netns', 'del', namespace]);
    // Normally gone with the namespace (its peer was in it); deleted by its unique name otherwise.
    if (spawnSync('ip', ['link', 'show', captureInterface]).status === 0)
      spawnSync('ip', ['link', 'del', captureInterface]);
    created = false;
  };
  try {
    run(['ip', 'netns', 'add', namespace]);
    created = true;
    run(['ip', '-n', namespace, 'link', 'set', 'lo', 'up']);
    // Created straight in place: the root namespace only ever gets the one uniquely named end.
    run([
      'ip',
      'link',
      'add',
      captureInterface,
      'type',
      'veth',
      'peer',
      'name',
      sendInterface,
      'netns',
      namespace,
    ]);
    run([
      'sysctl',
      '-qw',
      `net.ipv6.conf.${captureInterface}.disable_ipv6=1`,
      `net.ipv4.conf.${captureInterface}.forwarding=0`,
    ]);
    run(['ip', 'link', 'set', captureInterface, 'arp', 'off', 'up']);
    // No IPv6 on the sending end either: its router solicitations would show up in the capture.
    run(['ip', 'netns', 'exec', namespace, 'sysctl', '-qw', `net.ipv6.conf.${sendInterface}.disable_ipv6=1`]);
    run(['ip', '-n', namespace, 'link', 'set', sendInterface, 'arp', 'off', 'up']);
  } catch (e) {
    close();
    throw e;
  }
  return {
    captureInterface,
    async replay(pcap, timeoutMs) {
      // tcpreplay keeps the pcap's inter-packet gaps by default (no --topspeed/--multiplier) and
      // sends the captured bytes unchanged.
      const startedAtMs = Date.now();
      const p = startGroupProcess('ip', [
        'netns',
        'exec',
        namespace,
        'tcpreplay',
        '--intf1',
        sendInterface,
        pcap,
      ]);
      const code = await waitForGroupExit(p, timeoutMs, `tcpreplay ${pcap}`);
      if (code !== 0) throw new Error(`tcpreplay exited with ${code}:\n${p.output().slice(-2000)}`);
      return { startedAtMs, output: p.output() };
    },
    close,
  };
}
