/**
 * Tees: every raw datagram received (after the allow-list, before the decode queue, so a tee keeps
 * getting datagrams while decode sheds load) is sent on, byte for byte, to other collectors over UDP.
 *
 * The forwarded packets leave from Flowgate's own address, not the exporter's: nothing is spoofed.
 * A NetFlow v9/IPFIX collector that keys templates by source address therefore sees Flowgate as the
 * exporter, and tells exporters apart only by the header's source id (v9) / observation domain
 * (IPFIX). With several exporters behind one tee, the second collector must key by source id (as
 * nfcapd does), or each exporter gets its own tee target with a `filter` naming that exporter.
 *
 * One connected UDP socket per target rather than one shared socket per address family: Linux
 * reports ICMP port unreachable (ECONNREFUSED) only on a connected socket, and only then can the
 * error be charged to the target that caused it; connecting also fixes the route once.
 * Datagrams are sent without copying: the receive path hands over a fresh Buffer per datagram
 * (node:dgram allocates one per message) and decoders never write into it.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { addressMatcher } from '../config/decoder-settings.js';
import { formatHostPort } from './listen-address.js';

/** Datagrams waiting per target when `queue` is not given. */
export const DEFAULT_TEE_QUEUE = 10_000;
/** How long close() waits for datagrams already handed to the socket. */
const CLOSE_DRAIN_MS = 1000;
/** Cached filter verdicts; a few exporters send almost every datagram. */
const FILTER_CACHE_LIMIT = 4096;

export interface UdpTeeOptions {
  /** "host:port" or "[ipv6]:port"; host names are resolved once, at start. */
  targets: readonly string[];
  /** Local address to send from (port chosen by the system); default: chosen by the routing table. */
  sourcebind?: string | null;
  /** Datagrams waiting per target; beyond it new ones are dropped and counted. */
  queue?: number;
  /** Only datagrams from these exporter addresses or CIDRs; empty or absent: every datagram. */
  filter?: readonly string[];
}

export interface TeeTargetStats {
  /** As configured. */
  target: string;
  /** Resolved "ip:port" the datagrams go to. */
  address: string;
  sent: number;
  /** Refused because `queue` datagrams were already waiting for this target. */
  dropped: number;
  /** Send failures and ICMP errors reported by the kernel (e.g. ECONNREFUSED: nothing listens). */
  errors: number;
  lastError: string | null;
  /** Handed to the socket, not yet sent. */
  waiting: number;
}

/** A parsed tee target, before resolution. */
export interface TeeTargetAddress {
  host: string;
  port: number;
  text: string;
}

/** "host:port" or "[ipv6]:port"; a port is required (1..65535). */
export function parseTeeTarget(text: string): TeeTargetAddress {
  const s = text.trim();
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') throw new Error(`tee target "${text}": expected "[ipv6]:port"`);
    host = s.slice(1, close);
    portText = s.slice(close + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) throw new Error(`tee target "${text}": expected "host:port"`);
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) {
      throw new Error(`tee target "${text}": write IPv6 addresses in brackets, "[${host}]:${portText}"`);
    }
  }
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`tee target "${text}": port must be 1..65535`);
  }
  if (host === '') throw new Error(`tee target "${text}": empty host`);
  return { host, port, text: s };
}

/** The exporter filter as a cached predicate; throws naming the bad entry. */
function exporterFilter(entries: readonly string[]): (address: string) => boolean {
  if (entries.length === 0) return () => true;
  for (const e of entries) {
    const ok = e.includes('/') ? ipaddr.isValidCIDR(e) : ipaddr.isValid(e);
    if (!ok) throw new Error(`tee filter: "${e}" is not an address or CIDR`);
  }
  const match = addressMatcher(entries, (e) => e);
  const cache = new Map<string, boolean>();
  return (address) => {
    let verdict = cache.get(address);
    if (verdict === undefined) {
      verdict = match(address) !== null;
      if (cache.size >= FILTER_CACHE_LIMIT) cache.clear();
      cache.set(address, verdict);
    }
    return verdict;
  };
}

function errorText(err: NodeJS.ErrnoException, address: string): string {
  if (err.code === 'ECONNREFUSED') {
    return `ECONNREFUSED: nothing listens on ${address} (ICMP port unreachable); datagrams are lost until it does`;
  }
  return err.code === undefined ? err.message : `${err.code}: ${err.message}`;
}

/** One target: its connected socket and counters; the send callback is made once, not per datagram. */
class TeeTarget {
  readonly stats: TeeTargetStats;
  readonly onSent: (err: Error | null) => void;

  constructor(
    readonly socket: dgram.Socket,
    target: string,
    address: string,
  ) {
    this.stats = { target, address, sent: 0, dropped: 0, errors: 0, lastError: null, waiting: 0 };
    this.onSent = (err) => {
      this.stats.waiting--;
      if (err) this.fail(err);
      else this.stats.sent++;
    };
    // ICMP errors arrive as socket errors after the send itself succeeded: counted, never fatal.
    socket.on('error', (err) => this.fail(err));
  }

  fail(err: NodeJS.ErrnoException): void {
    this.stats.errors++;
    this.stats.lastError = errorText(err, this.stats.address);
  }
}

/** The system's resolver (getaddrinfo: /etc/hosts, then DNS). */
export type HostLookup = (host: string) => Promise<{ address: string; family: number }>;

/** The target's address: a literal as is, a host name through `lookupHost` (once, at start). */
export async function resolveTeeTarget(
  t: TeeTargetAddress,
  lookupHost: HostLookup = lookup,
): Promise<{ ip: string; family: 4 | 6 }> {
  const literal = isIP(t.host);
  if (literal !== 0) return { ip: t.host, family: literal === 6 ? 6 : 4 };
  try {
    const r = await lookupHost(t.host);
    return { ip: r.address, family: r.family === 6 ? 6 : 4 };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(`tee target "${t.text}": cannot resolve ${t.host} (${code})`);
  }
}

async function openTargetSocket(
  t: TeeTargetAddress,
  ip: string,
  family: 4 | 6,
  sourcebind: string | null,
): Promise<dgram.Socket> {
  const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  const where = `tee target "${t.text}" (${formatHostPort(ip, t.port)})`;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      const connect = () => socket.connect(t.port, ip, () => resolve());
      if (sourcebind === null) connect();
      else socket.bind({ address: sourcebind, port: 0 }, connect);
    });
  } catch (err) {
    socket.close();
    const e = err as NodeJS.ErrnoException;
    if (sourcebind !== null && e.syscall === 'bind') {
      throw new Error(`${where}: cannot send from ${sourcebind}: ${e.code ?? e.message}`);
    }
    throw new Error(`${where}: ${e.code ?? e.message}`);
  }
  socket.removeAllListeners('error');
  return socket;
}

/**
 * Sends every datagram it is given to each target, unchanged. `forward` never waits and never
 * throws: a full target queue drops the datagram (counted), a send error is counted.
 */
export class UdpTee {
  private closed = false;

  private constructor(
    private readonly targets: TeeTarget[],
    private readonly queue: number,
    private readonly accepts: (address: string) => boolean,
  ) {}

  /** Resolves the targets and opens their sockets; rejects with a message naming the bad entry. */
  static async start(options: UdpTeeOptions): Promise<UdpTee> {
    const queue = options.queue ?? DEFAULT_TEE_QUEUE;
    if (!Number.isInteger(queue) || queue < 1) throw new Error(`tee queue must be >= 1, got ${queue}`);
    const accepts = exporterFilter(options.filter ?? []);
    const sourcebind = options.sourcebind?.trim() || null;
    if (sourcebind !== null && isIP(sourcebind) === 0) {
      throw new Error(`tee sourcebind "${sourcebind}" is not an IP address of this host`);
    }
    const parsed = options.targets.map(parseTeeTarget);
    const resolved = await Promise.all(parsed.map((t) => resolveTeeTarget(t)));
    const targets: TeeTarget[] = [];
    try {
      for (const [i, t] of parsed.entries()) {
        const { ip, family } = resolved[i]!;
        if (sourcebind !== null && isIP(sourcebind) !== family) {
          throw new Error(
            `tee target "${t.text}" is IPv${family} but sourcebind ${sourcebind} is not: ` +
              'use a target of the same family or drop sourcebind',
          );
        }
        const socket = await openTargetSocket(t, ip, family, sourcebind);
        targets.push(new TeeTarget(socket, t.text, formatHostPort(ip, t.port)));
      }
    } catch (err) {
      for (const t of targets) t.socket.close();
      throw err;
    }
    return new UdpTee(targets, queue, accepts);
  }

  /** `srcAddress` is the normalised exporter address (for the filter); `payload` is sent as is. */
  forward(payload: Buffer, srcAddress: string): void {
    if (this.closed || !this.accepts(srcAddress)) return;
    for (const t of this.targets) {
      if (t.stats.waiting >= this.queue) {
        t.stats.dropped++;
        continue;
      }
      t.stats.waiting++;
      t.socket.send(payload, t.onSent);
    }
  }

  stats(): TeeTargetStats[] {
    return this.targets.map((t) => ({ ...t.stats }));
  }

  /** Lets datagrams already handed over go out (bounded wait), then closes the sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const deadline = Date.now() + CLOSE_DRAIN_MS;
    while (this.targets.some((t) => t.stats.waiting > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(this.targets.map((t) => new Promise<void>((r) => t.socket.close(() => r()))));
  }
}
