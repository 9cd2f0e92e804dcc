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

export class AddressClassifier {
  private readonly addresses = new RecordAddresses();

  constructor(
    readonly internal: PrefixSet,
    readonly bogons: PrefixSet | null,
  ) {}

  /**
   * Sets srcinternal/dstinternal and (when enabled) bogonsrc/bogondst. A null or unparseable address
   * leaves its fields null: unknown, not "external". `addresses`: as Tagger.tag.
   */
  classify(rec: FlowRecord, addresses?: RecordAddresses): void {
    const view = addresses ?? this.addresses;
    if (addresses === undefined) view.begin(rec);
    const src = view.src();
    if (src.family !== 0) {
      rec.srcinternal = this.internal.hasParsed(src);
      if (this.bogons !== null) rec.bogonsrc = this.bogons.hasParsed(src);
    }
    const dst = view.dst();
    if (dst.family !== 0) {
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
