/**
 * Datagrams the kernel dropped because one of our UDP sockets' receive buffer was full: the
 * "we lost it" half of loss. Read beside the exporters' sequence gaps ("the network lost it, or
 * we did"): sequence gaps with no kernel drops point at the network or the exporter.
 *
 * Linux only: /proc/net/udp and /proc/net/udp6 (proc(5)) list every UDP socket of this network
 * namespace, one per line, with the counter the kernel increments on each drop (sk_drops). On
 * other systems the files do not exist and every listener reports null (unknown), never 0.
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import ipaddr from 'ipaddr.js';
import { ipv4At, ipv6At } from '../record/address.js';

export interface UdpSocketRow {
  family: 4 | 6;
  /** Bound address as text: dotted quad, or RFC 5952 for IPv6 (`::`, `::1`, `::ffff:a.b.c.d`). */
  localAddress: string;
  localPort: number;
  /** Receive-buffer memory held by queued datagrams (kernel accounting, overhead included). */
  rxQueueBytes: number;
  /** Datagrams dropped on this socket since it was opened (a u32 in the kernel: it can wrap). */
  drops: number;
  inode: number;
}

export interface KernelDropsOfListener {
  /** The listener's "host:port" / "[v6]:port", as given. */
  address: string;
  /** null when no socket in the table matches (not Linux, or the socket is closed). */
  drops: number | null;
  rxQueueBytes: number | null;
}

export const DEFAULT_UDP_TABLES = ['/proc/net/udp', '/proc/net/udp6'];

/** The kernel prints each 32-bit word of an address with %08X in host byte order. */
const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Every UDP socket in the tables. A file that is missing or unreadable (not Linux, IPv6
 * disabled) contributes nothing; lines that do not parse are skipped.
 */
export function readUdpSocketTable(
  paths: readonly string[] = DEFAULT_UDP_TABLES,
  read: (path: string, encoding: 'utf8') => string = readFileSync,
): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = read(path, 'utf8');
    } catch {
      continue;
    }
    rows.push(...parseUdpSocketTable(text));
  }
  return rows;
}

/** Parses the text of /proc/net/udp or /proc/net/udp6 (the family is read from each address). */
export function parseUdpSocketTable(text: string, littleEndian = HOST_LITTLE_ENDIAN): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  for (const line of text.split('\n')) {
    const row = parseLine(line, littleEndian);
    if (row !== null) rows.push(row);
  }
  return rows;
}

// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
const LINE =
  /^\s*\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+\S+\s+[0-9A-Fa-f]{2}\s+[0-9A-Fa-f]{8}:([0-9A-Fa-f]{8})\s+\S+\s+\S+\s+\d+\s+-?\d+\s+(\d+)\s+-?\d+\s+\S+\s+(\d+)\s*$/;

const addressBytes = new Uint8Array(16);

function parseLine(line: string, littleEndian: boolean): UdpSocketRow | null {
  const m = LINE.exec(line);
  if (m === null) return null;
  const hex = m[1];
  const words = hex.length / 8;
  for (let w = 0; w < words; w++) {
    const v = Number.parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    for (let b = 0; b < 4; b++) {
      const shift = littleEndian ? 8 * b : 24 - 8 * b;
      addressBytes[w * 4 + b] = (v >>> shift) & 255;
    }
  }
  return {
    family: words === 1 ? 4 : 6,
    localAddress: words === 1 ? ipv4At(addressBytes, 0) : ipv6At(addressBytes, 0),
    localPort: Number.parseInt(m[2], 16),
    rxQueueBytes: Number.parseInt(m[3], 16),
    drops: Number(m[5]),
    inode: Number(m[4]),
  };
}

/** Family and RFC 5952 / dotted-quad host of "host:port" or "[v6]:port"; null when not an address. */
function listenerHost(address: string): { family: 4 | 6; host: string } | null {
  let host: string;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) return null;
    host = address.slice(1, close);
  } else {
    const colon = address.lastIndexOf(':');
    host = colon < 0 ? address : address.slice(0, colon);
  }
  if (host.includes(':')) {
    if (!ipaddr.IPv6.isValid(host)) return null;
    return { family: 6, host: ipv6At(Uint8Array.from(ipaddr.IPv6.parse(host).toByteArray()), 0) };
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(host)) return null;
  return { family: 4, host: ipaddr.IPv4.parse(host).toString() };
}

/**
 * The row of each listener: same port, same family and same bound address (a wildcard matches
 * only the wildcard). The family matters: the same port is often open in both tables, and a
 * dual-stack "[::]:port" listener receives its IPv4 exporters on the udp6 socket alone.
 */
export function kernelDropsFor(
  listeners: readonly { address: string; port: number }[],
  rows: readonly UdpSocketRow[],
): KernelDropsOfListener[] {
  return listeners.map((l) => {
    const want = listenerHost(l.address);
    let drops: number | null = null;
    let rxQueueBytes: number | null = null;
    if (want !== null) {
      for (const r of rows) {
        if (r.localPort !== l.port || r.family !== want.family || r.localAddress !== want.host) continue;
        // Several rows only with SO_REUSEPORT/SO_REUSEADDR sockets sharing the address: sum them.
        drops = (drops ?? 0) + r.drops;
        rxQueueBytes = (rxQueueBytes ?? 0) + r.rxQueueBytes;
      }
    }
    return { address: l.address, drops, rxQueueBytes };
  });
}

/**
 * Reads the tables at most once per `maxAgeMs`: stats and /metrics are polled often, and the
 * tables list every UDP socket of the host's namespace.
 */
export class KernelDropSampler {
  private cached: UdpSocketRow[] = [];
  private readAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: {
      paths?: readonly string[];
      read?: (path: string, encoding: 'utf8') => string;
      now?: () => number;
      maxAgeMs?: number;
    } = {},
  ) {}

  rows(): UdpSocketRow[] {
    const now = (this.options.now ?? Date.now)();
    if (now - this.readAt >= (this.options.maxAgeMs ?? 1000) || now < this.readAt) {
      this.cached = readUdpSocketTable(this.options.paths, this.options.read);
      this.readAt = now;
    }
    return this.cached;
  }

  dropsFor(listeners: readonly { address: string; port: number }[]): KernelDropsOfListener[] {
    return kernelDropsFor(listeners, this.rows());
  }
}
