/**
 * Rule conditions shared by tag rules and flow-filter rules: compiled once from the config shape,
 * evaluated per record with no allocation. Conditions of a rule are AND-ed; the entries of one
 * condition are OR-ed. A condition on a field the record does not carry (null) does not match:
 * "dstports: [53]" never matches a record without ports.
 */
import type { FlowRecord } from '../record/flow-record.js';
import { protocolKeyword } from '../record/protocols.js';
import { EnrichOptionError, listOption, shown } from './option-error.js';
import { PrefixSet, parseNetwork } from './prefix-set.js';
import type { RecordAddresses } from './record-addresses.js';

/** Conditions the flow filter knows (the connector's filter fields). */
export interface FilterConditionOptions {
  /** CIDRs or addresses, IPv4 and IPv6. */
  srcnets?: string[];
  dstnets?: string[];
  /** Port numbers or ranges "1024-65535". */
  srcports?: (number | string)[];
  dstports?: (number | string)[];
  /** IANA keywords ("tcp", "udp", "ipv6-icmp", case-insensitive) or numbers 0-255. */
  protocols?: (string | number)[];
  /** AS numbers or ranges "64512-65534" (see recordAs for which AS of the record). */
  srcasns?: (number | string)[];
  dstasns?: (number | string)[];
}

/** Conditions a tag rule knows: the filter's plus flags, interfaces and exporter. */
export interface TagConditionOptions extends FilterConditionOptions {
  /** "syn", "syn,!ack": every named flag set, every !flag clear; entries OR-ed. */
  tcpflags?: string[];
  /** Interface names: exact, or "/regex/" (flags after the closing slash, e.g. "/^et-/i"). */
  inputnames?: string[];
  outputnames?: string[];
  /** Exporter address/CIDR (matches flowsrcip) or name (matches flowsrcname exactly). */
  exporters?: string[];
}

export const FILTER_CONDITION_KEYS = [
  'srcnets',
  'dstnets',
  'srcports',
  'dstports',
  'protocols',
  'srcasns',
  'dstasns',
] as const;

export const TAG_CONDITION_KEYS = [
  ...FILTER_CONDITION_KEYS,
  'tcpflags',
  'inputnames',
  'outputnames',
  'exporters',
] as const;

/** TCP flag bits as tcpflagsint carries them (RFC 9293 plus NS, RFC 3540). */
export const TCP_FLAG_BITS: Readonly<Record<string, number>> = {
  fin: 0x01,
  syn: 0x02,
  rst: 0x04,
  psh: 0x08,
  ack: 0x10,
  urg: 0x20,
  ece: 0x40,
  cwr: 0x80,
  ns: 0x100,
};

/**
 * The AS a condition on source/destination AS tests: the flow's own (srcas/dstas) when the exporter
 * sent one, else the owner AS from the AS database. Exporters send 0 when they do not know
 * (RFC 7607 reserves AS 0), so 0 counts as not sent.
 */
export function recordAs(flowAs: number | null, owner: { asnumber: number | null } | null): number | null {
  if (flowAs !== null && flowAs !== 0) return flowAs;
  return owner?.asnumber ?? null;
}

/** Inclusive integer ranges, sorted and merged, for AS numbers (up to 2^32-1). */
class IntRanges {
  constructor(
    private readonly lo: Float64Array,
    private readonly hi: Float64Array,
  ) {}

  has(v: number | null): boolean {
    if (v === null) return false;
    const lo = this.lo;
    let a = 0;
    let b = lo.length - 1;
    if (v < lo[0]) return false;
    while (a < b) {
      const mid = (a + b + 1) >>> 1;
      if (lo[mid] <= v) a = mid;
      else b = mid - 1;
    }
    return v <= this.hi[a];
  }
}

function parseRange(v: unknown, max: number, what: string, path: string): [number, number] {
  const bad = () =>
    new EnrichOptionError(path, `expected ${what} 0-${max} or a range "low-high", got ${shown(v)}`);
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > max) throw bad();
    return [v, v];
  }
  if (typeof v !== 'string') throw bad();
  const m = /^\s*(\d{1,10})\s*(?:-\s*(\d{1,10})\s*)?$/.exec(v);
  if (m === null) throw bad();
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo > max || hi > max) throw bad();
  if (lo > hi) throw new EnrichOptionError(path, `range ${JSON.stringify(v)} runs backwards`);
  return [lo, hi];
}

function compilePorts(v: unknown, path: string): Uint8Array {
  const set = new Uint8Array(65_536);
  listOption(v, path).forEach((item, i) => {
    const [lo, hi] = parseRange(item, 65_535, 'a port', `${path}[${i}]`);
    set.fill(1, lo, hi + 1);
  });
  return set;
}

function compileAsns(v: unknown, path: string): IntRanges {
  const ranges = listOption(v, path).map((item, i) =>
    parseRange(item, 4_294_967_295, 'an AS number', `${path}[${i}]`),
  );
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const prev = merged[merged.length - 1];
    if (prev !== undefined && r[0] <= prev[1] + 1) prev[1] = Math.max(prev[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return new IntRanges(
    Float64Array.from(merged, (r) => r[0]),
    Float64Array.from(merged, (r) => r[1]),
  );
}

const PROTOCOL_NUMBERS = new Map<string, number>();
for (let p = 0; p < 256; p++) {
  const k = protocolKeyword(p);
  if (k !== null) PROTOCOL_NUMBERS.set(k, p);
}

function compileProtocols(v: unknown, path: string): Uint8Array {
  const set = new Uint8Array(256);
  listOption(v, path).forEach((item, i) => {
    let p: number | undefined;
    if (typeof item === 'number') p = Number.isInteger(item) && item >= 0 && item <= 255 ? item : undefined;
    else if (typeof item === 'string') {
      p = /^\d{1,3}$/.test(item) ? Number(item) : PROTOCOL_NUMBERS.get(item.toLowerCase());
      if (p !== undefined && p > 255) p = undefined;
    }
    if (p === undefined) {
      throw new EnrichOptionError(
        `${path}[${i}]`,
        `expected an IANA protocol keyword (tcp, udp, icmp, ipv6-icmp, gre, ...) or a number 0-255, got ${shown(item)}`,
      );
    }
    set[p] = 1;
  });
  return set;
}

/** Flag tests: (flags & mask) === value for at least one entry. */
function compileTcpFlags(v: unknown, path: string): Uint16Array {
  const list = listOption(v, path);
  const tests = new Uint16Array(list.length * 2);
  list.forEach((item, i) => {
    const where = `${path}[${i}]`;
    if (typeof item !== 'string' || item.trim() === '') {
      throw new EnrichOptionError(where, `expected flags such as "syn" or "syn,!ack", got ${shown(item)}`);
    }
    let mask = 0;
    let value = 0;
    for (const raw of item.split(',')) {
      const term = raw.trim().toLowerCase();
      const negated = term.startsWith('!');
      const name = negated ? term.slice(1).trim() : term;
      const bit = TCP_FLAG_BITS[name];
      if (bit === undefined) {
        throw new EnrichOptionError(
          where,
          `unknown TCP flag ${JSON.stringify(name)} in ${JSON.stringify(item)} (known: ${Object.keys(TCP_FLAG_BITS).join(', ')}; prefix ! for "not set")`,
        );
      }
      if (mask & bit)
        throw new EnrichOptionError(where, `flag "${name}" named twice in ${JSON.stringify(item)}`);
      mask |= bit;
      if (!negated) value |= bit;
    }
    tests[i * 2] = mask;
    tests[i * 2 + 1] = value;
  });
  return tests;
}

class NameMatcher {
  constructor(
    private readonly exact: Set<string>,
    private readonly patterns: RegExp[],
  ) {}

  has(name: string | null): boolean {
    if (name === null) return false;
    if (this.exact.has(name)) return true;
    for (const re of this.patterns) if (re.test(name)) return true;
    return false;
  }
}

function compileNames(v: unknown, path: string): NameMatcher {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  listOption(v, path).forEach((item, i) => {
    if (typeof item !== 'string' || item === '') {
      throw new EnrichOptionError(
        `${path}[${i}]`,
        `expected an interface name or "/regex/", got ${shown(item)}`,
      );
    }
    // Interface names contain slashes ("xe-0/0/0") but never start with one.
    const m = /^\/(.+)\/([imsu]*)$/.exec(item);
    if (m === null) {
      exact.add(item);
      return;
    }
    try {
      patterns.push(new RegExp(m[1], m[2]));
    } catch (e) {
      throw new EnrichOptionError(`${path}[${i}]`, `bad regular expression ${item}: ${(e as Error).message}`);
    }
  });
  return new NameMatcher(exact, patterns);
}

class ExporterMatcher {
  constructor(
    readonly networks: PrefixSet | null,
    private readonly names: Set<string>,
  ) {}

  has(rec: FlowRecord, addresses: RecordAddresses): boolean {
    if (this.networks?.hasParsed(addresses.exporter())) return true;
    return rec.flowsrcname !== null && this.names.has(rec.flowsrcname);
  }
}

function compileExporters(v: unknown, path: string): ExporterMatcher {
  const networks: string[] = [];
  const names = new Set<string>();
  listOption(v, path).forEach((item, i) => {
    if (typeof item !== 'string' || item === '') {
      throw new EnrichOptionError(
        `${path}[${i}]`,
        `expected an exporter address, CIDR or name, got ${shown(item)}`,
      );
    }
    // Anything that looks like an address is one (and must parse): "10.0.0" is a typo, not a name.
    if (/^[\d.]+(\/\d*)?$/.test(item) || item.includes(':') || item.includes('/')) {
      const n = parseNetwork(item);
      if (typeof n === 'string')
        throw new EnrichOptionError(`${path}[${i}]`, `${JSON.stringify(item)}: ${n}`);
      networks.push(item);
    } else {
      names.add(item);
    }
  });
  return new ExporterMatcher(networks.length === 0 ? null : PrefixSet.compile(networks, path), names);
}

/** One rule's compiled conditions; absent conditions are null and always hold. */
export class Conditions {
  srcnets: PrefixSet | null = null;
  dstnets: PrefixSet | null = null;
  srcports: Uint8Array | null = null;
  dstports: Uint8Array | null = null;
  protocols: Uint8Array | null = null;
  srcasns: IntRanges | null = null;
  dstasns: IntRanges | null = null;
  tcpflags: Uint16Array | null = null;
  inputnames: NameMatcher | null = null;
  outputnames: NameMatcher | null = null;
  exporters: ExporterMatcher | null = null;

  matches(rec: FlowRecord, addresses: RecordAddresses): boolean {
    // Cheapest tests first: integer fields, then addresses, then names.
    if (this.protocols !== null && (rec.protocolint === null || this.protocols[rec.protocolint] !== 1)) {
      return false;
    }
    if (this.srcports !== null && (rec.srcport === null || this.srcports[rec.srcport] !== 1)) return false;
    if (this.dstports !== null && (rec.dstport === null || this.dstports[rec.dstport] !== 1)) return false;
    if (this.tcpflags !== null && !flagsMatch(this.tcpflags, rec.tcpflagsint)) return false;
    if (this.srcasns !== null && !this.srcasns.has(recordAs(rec.srcas, rec.srcowneras))) return false;
    if (this.dstasns !== null && !this.dstasns.has(recordAs(rec.dstas, rec.dstowneras))) return false;
    if (this.srcnets !== null && !this.srcnets.hasParsed(addresses.src())) return false;
    if (this.dstnets !== null && !this.dstnets.hasParsed(addresses.dst())) return false;
    if (this.exporters !== null && !this.exporters.has(rec, addresses)) return false;
    if (this.inputnames !== null && !this.inputnames.has(rec.inputname)) return false;
    if (this.outputnames !== null && !this.outputnames.has(rec.outputname)) return false;
    return true;
  }
}

function flagsMatch(tests: Uint16Array, flags: number | null): boolean {
  if (flags === null) return false;
  for (let i = 0; i < tests.length; i += 2) if ((flags & tests[i]) === tests[i + 1]) return true;
  return false;
}

/**
 * Compiles the condition keys present in `rule` (already checked for unknown keys by the caller).
 * A rule with no condition at all is refused: it would match every record, which is what the
 * filter's default action (or an exporter's tags) is for.
 */
export function compileConditions(rule: Record<string, unknown>, path: string): Conditions {
  const c = new Conditions();
  let any = false;
  const at = (key: string) => `${path}.${key}`;
  for (const key of TAG_CONDITION_KEYS) {
    const v = rule[key];
    if (v === undefined) continue;
    any = true;
    switch (key) {
      case 'srcnets':
        c.srcnets = PrefixSet.compile(listOption(v, at(key)), at(key));
        break;
      case 'dstnets':
        c.dstnets = PrefixSet.compile(listOption(v, at(key)), at(key));
        break;
      case 'srcports':
        c.srcports = compilePorts(v, at(key));
        break;
      case 'dstports':
        c.dstports = compilePorts(v, at(key));
        break;
      case 'protocols':
        c.protocols = compileProtocols(v, at(key));
        break;
      case 'srcasns':
        c.srcasns = compileAsns(v, at(key));
        break;
      case 'dstasns':
        c.dstasns = compileAsns(v, at(key));
        break;
      case 'tcpflags':
        c.tcpflags = compileTcpFlags(v, at(key));
        break;
      case 'inputnames':
        c.inputnames = compileNames(v, at(key));
        break;
      case 'outputnames':
        c.outputnames = compileNames(v, at(key));
        break;
      case 'exporters':
        c.exporters = compileExporters(v, at(key));
        break;
    }
    if (Array.isArray(v) && v.length === 0) {
      throw new EnrichOptionError(at(key), 'empty list: it would never match (leave the key out instead)');
    }
  }
  if (!any) throw new EnrichOptionError(path, 'a rule needs at least one condition');
  return c;
}
