/**
 * Kinds of decode problems. Each is counted per exporter and surfaced in stats; the message that
 * goes with it is written for a network engineer ("template 260 from 10.0.0.1 domain 0 unknown:
 * record skipped"). Add a kind here rather than inventing strings elsewhere.
 */
export const DECODE_ERROR_KINDS = [
  /** First bytes are not NetFlow v5/v9, IPFIX or sFlow v5. */
  'unknown_version',
  /** Shorter than a header, a set, a record or a sample claims. */
  'truncated',
  /** A length field that is impossible (0, past the end, inconsistent with the header). */
  'bad_length',
  /** Data set / records for a template this exporter+domain has not sent (yet). */
  'template_unknown',
  /** Template with no fields, too many fields, or an invalid field length. */
  'template_invalid',
  /** Template not stored: the per-exporter template limit was reached. */
  'template_limit',
  /** New exporter not tracked: the exporter limit was reached. */
  'exporter_limit',
  /** A variable-length field longer than the limit or than what remains. */
  'field_too_long',
  /** A record or sample that cannot be decoded (bad enum, inconsistent values). */
  'record_invalid',
  /** sFlow: sample/record counts above the configured limit. */
  'too_many_records',
  /** Not from an allow-listed exporter (counted by the receiver). */
  'not_allowed',
] as const;

export type DecodeErrorKind = (typeof DECODE_ERROR_KINDS)[number];
