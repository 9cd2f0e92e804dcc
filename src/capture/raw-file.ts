import type { ByteSource } from './byte-source.js';

/** A UDP payload is at most 65,507 bytes (IPv4); a larger "raw" file is not one datagram. */
const MAX_RAW_PAYLOAD = 65535;

/**
 * A .dat/.bin/.dump file as the test suites of logstash, graylog, telegraf and fluent keep them:
 * exactly one UDP payload, no link, IP or UDP header. Null when the file is too large to be one.
 */
export function readRawPayload(src: ByteSource): Buffer | null {
  if (src.size > MAX_RAW_PAYLOAD) return null;
  return src.take(src.size);
}
