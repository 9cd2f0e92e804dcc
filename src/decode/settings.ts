/**
 * What decoders are told by configuration. Decoders take these plain values (never the config
 * file itself), so they stay testable alone; `config/` maps the file onto them.
 */

/** Hard bounds on decoder state and work: hostile input must not exhaust memory or CPU. */
export interface DecodeLimits {
  /** Exporters (address, or address+port when keyed by port) with template/sampling state. */
  maxExporters: number;
  /** Templates (data + options) per exporter, over all its observation domains. */
  maxTemplatesPerExporter: number;
  /** Templates over all exporters: a flood from many spoofed exporters stays bounded too. */
  maxTemplates: number;
  /**
   * With maxExporters reached, exporters silent this long are forgotten to make room for new ones
   * (a burst of spoofed sources then fills the table only for a while, not until a restart).
   */
  exporterIdleMs: number;
  /** Fields in one template. */
  maxFieldsPerTemplate: number;
  /** Bytes in one variable-length field value. */
  maxFieldLength: number;
  /** sFlow samples in one datagram. */
  maxSflowSamplesPerDatagram: number;
  /** sFlow flow/counter records in one sample. */
  maxSflowRecordsPerSample: number;
  /** A template not refreshed for this long is dropped (and not loaded from the template DB). */
  templateTtlMs: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxExporters: 10_000,
  maxTemplatesPerExporter: 1_024,
  maxTemplates: 100_000,
  exporterIdleMs: 600_000,
  maxFieldsPerTemplate: 256,
  maxFieldLength: 4_096,
  maxSflowSamplesPerDatagram: 256,
  maxSflowRecordsPerSample: 64,
  templateTtlMs: 7 * 24 * 3600 * 1000,
};

/** Per-exporter decode settings (config `exporters:` entries matched by address/CIDR). */
export interface ExporterDecodeSettings {
  /** Sampling used while the exporter has not told us its own (null: leave unknown). */
  defaultSampleRate: number | null;
  /** Forced sampling rate for devices that report none or a wrong one (null: use what is sent). */
  sampleRateOverride: number | null;
  /**
   * Whether the UDP source port is part of the template/sampling key. Default false: some devices
   * send options from another port than data; multiple exporting processes behind one address
   * need true.
   */
  keyByPort: boolean;
}

export const DEFAULT_EXPORTER_SETTINGS: ExporterDecodeSettings = {
  defaultSampleRate: null,
  sampleRateOverride: null,
  keyByPort: false,
};

/** How a mapped extra field's bytes are turned into a JSON value. */
export type ExtraFieldType =
  | 'unsigned'
  | 'signed'
  | 'float'
  | 'boolean'
  | 'string'
  | 'ipv4'
  | 'ipv6'
  | 'mac'
  | 'hex';

/**
 * A vendor / non-record field mapped by configuration to a named extra field of the record,
 * e.g. `{ name: 'appid', id: 95 }` or `{ name: 'pan_user', id: 56702, type: 'string' }` (Palo Alto User-ID, a plain v9 type).
 * `enterprise` 0 means an IANA IPFIX element or a NetFlow v9 field type (v9 types >= 32768 are
 * plain v9 types, not enterprise fields). `type` defaults to the IANA data type when known, else hex.
 */
export interface ExtraFieldMapping {
  name: string;
  id: number;
  enterprise: number;
  type: ExtraFieldType | null;
}

export interface DecoderSettings {
  limits: DecodeLimits;
  /** Settings for an exporter address (looked up once per new exporter, then cached). */
  exporterSettings(address: string): ExporterDecodeSettings;
  extraFields: ExtraFieldMapping[];
}

export function defaultDecoderSettings(overrides: Partial<DecoderSettings> = {}): DecoderSettings {
  return {
    limits: DEFAULT_DECODE_LIMITS,
    exporterSettings: () => DEFAULT_EXPORTER_SETTINGS,
    extraFields: [],
    ...overrides,
  };
}
