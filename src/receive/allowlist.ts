import ipaddr from 'ipaddr.js';

/** Cached verdicts; a flood from many spoofed sources only costs a cache reset now and then. */
const CACHE_LIMIT = 4096;

/**
 * Exporter allow-list (`flow.allow`): addresses or CIDRs, compiled once. Empty = every source.
 * IPv4 ranges are compared as u32s; IPv6 ranges through ipaddr.js. Verdicts are cached per
 * source address because a handful of exporters send almost every datagram.
 */
export class AllowList {
  readonly allowsAll: boolean;
  private readonly v4Net: Uint32Array;
  private readonly v4Mask: Uint32Array;
  private readonly v6: [ipaddr.IPv6, number][] = [];
  private readonly cache = new Map<string, boolean>();

  constructor(entries: readonly string[]) {
    const nets: number[] = [];
    const masks: number[] = [];
    for (const raw of entries) {
      const entry = raw.trim();
      let addr: ipaddr.IPv4 | ipaddr.IPv6;
      let bits: number;
      try {
        if (entry.includes('/')) [addr, bits] = ipaddr.parseCIDR(entry);
        else {
          addr = ipaddr.parse(entry);
          bits = addr.kind() === 'ipv4' ? 32 : 128;
        }
      } catch {
        throw new Error(`flow.allow: "${raw}" is not an address or CIDR`);
      }
      if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
        addr = (addr as ipaddr.IPv6).toIPv4Address();
        bits = Math.max(0, bits - 96);
      }
      if (addr.kind() === 'ipv4') {
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        nets.push((v4ToU32(addr.toByteArray()) & mask) >>> 0);
        masks.push(mask);
      } else {
        this.v6.push([addr as ipaddr.IPv6, bits]);
      }
    }
    this.v4Net = Uint32Array.from(nets);
    this.v4Mask = Uint32Array.from(masks);
    this.allowsAll = entries.length === 0;
  }

  /** `address` is a normalised exporter address (IPv4-mapped already turned into IPv4). */
  allows(address: string): boolean {
    if (this.allowsAll) return true;
    const cached = this.cache.get(address);
    if (cached !== undefined) return cached;
    const verdict = this.match(address);
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(address, verdict);
    return verdict;
  }

  private match(address: string): boolean {
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = ipaddr.parse(address);
    } catch {
      return false;
    }
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      addr = (addr as ipaddr.IPv6).toIPv4Address();
    }
    if (addr.kind() === 'ipv4') {
      const v = v4ToU32(addr.toByteArray());
      for (let i = 0; i < this.v4Net.length; i++) {
        if ((v & this.v4Mask[i]) >>> 0 === this.v4Net[i]) return true;
      }
      return false;
    }
    const v6 = addr as ipaddr.IPv6;
    for (const [net, bits] of this.v6) if (v6.match(net, bits)) return true;
    return false;
  }
}

function v4ToU32(b: number[]): number {
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}
