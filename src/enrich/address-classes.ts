/**
 * Address classes of a record: srcinternal/dstinternal from the operator's internal networks,
 * bogonsrc/bogondst from the IANA special-purpose registries (rule in special-purpose-registry.ts).
 * Each address is parsed once and looked up in both sets.
 */
import type { FlowRecord } from '../record/flow-record.js';
import { EnrichOptionError, listOption, mappingOption, shown } from './option-error.js';
import { PrefixSet } from './prefix-set.js';
import { RecordAddresses } from './record-addresses.js';
import { bogonEntries } from './special-purpose-registry.js';

/** As in the config file (all keys optional). */
export interface AddressClassOptions {
  /** Networks whose addresses are "internal"; default DEFAULT_INTERNAL_NETWORKS. */
  internalnetworks?: string[];
  /** Fill bogonsrc/bogondst; default true. */
  bogons?: boolean;
}

/** RFC 1918, RFC 6598 shared (CGNAT), loopback and link-local for both families, RFC 4193. */
export const DEFAULT_INTERNAL_NETWORKS: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  'fc00::/7',
  '::1/128',
  'fe80::/10',
];

const KEYS = ['internalnetworks', 'bogons'] as const;

let bogonSet: PrefixSet | null = null;

/** The compiled registry, built once per process. */
export function bogonPrefixSet(): PrefixSet {
  bogonSet ??= PrefixSet.fromEntries(bogonEntries(), 'special-purpose registry');
  return bogonSet;
}

/** Bits of AddressClassifier.byBlock. */
const INTERNAL = 1;
const BOGON = 2;
/** The /16 holds addresses of different classes: look the address up in the sets. */
const MIXED = 4;

/** Sets `bit` on every /16 inside one of the set's ranges, MIXED on those a range only partly covers. */
function paintBlocks(byBlock: Uint8Array, set: PrefixSet, bit: number): void {
  set.forEachV4Range((first, last) => {
    for (let b = first >>> 16; b <= last >>> 16; b++) {
      const whole = first <= b * 65536 && last >= b * 65536 + 65535;
      byBlock[b] = (byBlock[b] as number) | (whole ? bit : MIXED);
    }
  });
}

export class AddressClassifier {
  private readonly addresses = new RecordAddresses();
  /**
   * The classes of each IPv4 /16 (INTERNAL | BOGON, or MIXED), so the usual IPv4 address costs
   * one read of a 64 KB table rather than a binary search per set (bench/enrich-pipeline.ts: the
   * two searches per address were ~70 ns of a record's enrichment). Internal networks shorter
   * than /16 and most special-purpose blocks are whole /16s; the rest (192.0.2.0/24, a /24 of
   * your own) is MIXED.
   */
  private readonly byBlock = new Uint8Array(65536);

  constructor(
    readonly internal: PrefixSet,
    readonly bogons: PrefixSet | null,
  ) {
    paintBlocks(this.byBlock, internal, INTERNAL);
    if (bogons !== null) paintBlocks(this.byBlock, bogons, BOGON);
  }

  private classifyV4(rec: FlowRecord, v4: number, src: boolean): void {
    let bits = this.byBlock[v4 >>> 16] as number;
    if ((bits & MIXED) !== 0) {
      bits = (this.internal.hasV4(v4) ? INTERNAL : 0) | (this.bogons?.hasV4(v4) ? BOGON : 0);
    }
    const bogons = this.bogons !== null;
    if (src) {
      rec.srcinternal = (bits & INTERNAL) !== 0;
      if (bogons) rec.bogonsrc = (bits & BOGON) !== 0;
    } else {
      rec.dstinternal = (bits & INTERNAL) !== 0;
      if (bogons) rec.bogondst = (bits & BOGON) !== 0;
    }
  }

  /**
   * Sets srcinternal/dstinternal and (when enabled) bogonsrc/bogondst. A null or unparseable address
   * leaves its fields null: unknown, not "external". `addresses`: as Tagger.tag.
   */
  classify(rec: FlowRecord, addresses?: RecordAddresses): void {
    const view = addresses ?? this.addresses;
    if (addresses === undefined) view.begin(rec);
    const src = view.src();
    if (src.family === 4) this.classifyV4(rec, src.v4, true);
    else if (src.family === 6) {
      rec.srcinternal = this.internal.hasParsed(src);
      if (this.bogons !== null) rec.bogonsrc = this.bogons.hasParsed(src);
    }
    const dst = view.dst();
    if (dst.family === 4) this.classifyV4(rec, dst.v4, false);
    else if (dst.family === 6) {
      rec.dstinternal = this.internal.hasParsed(dst);
      if (this.bogons !== null) rec.bogondst = this.bogons.hasParsed(dst);
    }
  }
}

/** Validates `options` (path names the section in error texts) and builds the classifier. */
export function compileAddressClasses(options: unknown = {}, path = 'addressclasses'): AddressClassifier {
  const o = mappingOption(options ?? {}, path, KEYS);
  const networks =
    o.internalnetworks === undefined
      ? DEFAULT_INTERNAL_NETWORKS
      : listOption(o.internalnetworks, `${path}.internalnetworks`);
  const bogons = o.bogons ?? true;
  if (typeof bogons !== 'boolean') {
    throw new EnrichOptionError(`${path}.bogons`, `expected true or false, got ${shown(bogons)}`);
  }
  return new AddressClassifier(
    PrefixSet.compile(networks, `${path}.internalnetworks`),
    bogons ? bogonPrefixSet() : null,
  );
}
