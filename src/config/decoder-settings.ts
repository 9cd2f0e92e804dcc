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

interface Matcher {
  range: Parsed;
  bits: number;
  entry: ExporterConfig;
}

function compile(entries: ExporterConfig[]): Matcher[] {
  return entries.map((entry) => {
    if (entry.match.includes('/')) {
      const [range, bits] = ipaddr.parseCIDR(entry.match);
      return { range, bits, entry };
    }
    const range = plain(ipaddr.parse(entry.match));
    return { range, bits: range.kind() === 'ipv4' ? 32 : 128, entry };
  });
}

/**
 * The first `exporters:` entry whose address or CIDR contains `address`, or null. Builds the
 * matchers once; the returned function is what per-exporter lookups call.
 */
export function exporterMatcher(entries: ExporterConfig[]): (address: string) => ExporterConfig | null {
  const matchers = compile(entries);
  return (address) => {
    if (matchers.length === 0 || !ipaddr.isValid(address)) return null;
    const a = plain(ipaddr.parse(address));
    for (const m of matchers) {
      if (m.range.kind() === a.kind() && a.match(m.range, m.bits)) return m.entry;
    }
    return null;
  };
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
