import ipaddr from 'ipaddr.js';
import {
  DEFAULT_EXPORTER_SETTINGS,
  type DecoderSettings,
  type ExporterDecodeSettings,
} from '../decode/settings.js';
import type { ExporterConfig, FlowgateConfig } from './types.js';

type Parsed = ipaddr.IPv4 | ipaddr.IPv6;

/** v4-mapped IPv6 (::ffff:a.b.c.d) compares as the IPv4 address it carries. */
function plain(a: Parsed): Parsed {
  return a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()
    ? (a as ipaddr.IPv6).toIPv4Address()
    : a;
}

interface Matcher<T> {
  range: Parsed;
  bits: number;
  entry: T;
}

/**
 * The first of `entries` whose address or CIDR (`cidrOf`) contains `address`, or null; IPv4-mapped
 * IPv6 compares as IPv4. Builds the matchers once: the returned function is what per-record and
 * per-exporter lookups call. Shared by everything keyed by exporter address (sampling settings,
 * exporter labels, interface entries, count-once rules).
 */
export function addressMatcher<T>(
  entries: readonly T[],
  cidrOf: (entry: T) => string,
): (address: string) => T | null {
  const matchers: Matcher<T>[] = entries.map((entry) => {
    const match = cidrOf(entry);
    if (match.includes('/')) {
      const [range, bits] = ipaddr.parseCIDR(match);
      return { range, bits, entry };
    }
    const range = plain(ipaddr.parse(match));
    return { range, bits: range.kind() === 'ipv4' ? 32 : 128, entry };
  });
  return (address) => {
    if (matchers.length === 0 || !ipaddr.isValid(address)) return null;
    const a = plain(ipaddr.parse(address));
    for (const m of matchers) {
      if (m.range.kind() === a.kind() && a.match(m.range, m.bits)) return m.entry;
    }
    return null;
  };
}

/** The first `exporters:` entry whose address or CIDR contains `address`, or null. */
export function exporterMatcher(entries: ExporterConfig[]): (address: string) => ExporterConfig | null {
  return addressMatcher(entries, (e) => e.match);
}

/**
 * What the decoders are told by a validated configuration: `decode.*` limits, per-exporter
 * sampling/keying from `exporters:` (first matching entry), and the mapped extra fields.
 * Per-exporter answers are cached (bounded by maxexporters, like decoder state).
 */
export function decoderSettingsFromConfig(config: FlowgateConfig): DecoderSettings {
  const d = config.decode;
  const match = exporterMatcher(config.exporters);
  const cache = new Map<string, ExporterDecodeSettings>();
  return {
    limits: {
      maxExporters: d.maxexporters,
      maxTemplatesPerExporter: d.maxtemplatesperexporter,
      maxTemplates: d.maxtemplates,
      exporterIdleMs: d.exporteridle * 1000,
      maxFieldsPerTemplate: d.maxfieldspertemplate,
      maxFieldLength: d.maxfieldlength,
      maxSflowSamplesPerDatagram: d.maxsflowsamples,
      maxSflowRecordsPerSample: d.maxsflowrecords,
      templateTtlMs: d.templatettl * 1000,
    },
    exporterSettings(address: string): ExporterDecodeSettings {
      let s = cache.get(address);
      if (s !== undefined) return s;
      const e = match(address);
      s =
        e === null
          ? DEFAULT_EXPORTER_SETTINGS
          : {
              defaultSampleRate: e.samplerate,
              sampleRateOverride: e.samplerateoverride,
              keyByPort: e.keybyport,
            };
      if (cache.size >= d.maxexporters) cache.clear();
      cache.set(address, s);
      return s;
    },
    extraFields: d.extrafields.map((f) => ({
      name: f.name,
      id: f.id,
      enterprise: f.enterprise,
      type: f.type,
    })),
  };
}
