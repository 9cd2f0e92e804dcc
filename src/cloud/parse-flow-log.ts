import { gunzipSync } from 'node:zlib';
import type { FlowRecord } from '../record/flow-record.js';
import { parseAwsFlowLog } from './aws-flow-log.js';
import { parseAzureFlowLog } from './azure-flow-log.js';
import { parseGcpFlowLog } from './gcp-flow-log.js';

/**
 * One entry point over the three providers' parsers, so readers, `flowgate ingest` and the
 * collector treat every flow log alike: bytes in (gzip or text), records and located errors out.
 */

export type CloudProvider = 'aws' | 'gcp' | 'azure';
export const CLOUD_PROVIDERS: readonly CloudProvider[] = ['aws', 'gcp', 'azure'];

export interface FlowLogParseOptions {
  /** AWS: the flow log's LogFormat, for files without a header line. */
  readonly format?: string;
  /**
   * Largest decompressed size accepted from one gzip piece: a small hostile object must not
   * expand into gigabytes of memory. Default 1 GiB (an hour of a busy VPC is tens of MB).
   */
  readonly maxInflatedBytes?: number;
}

export interface FlowLogParseError {
  /** 1-based line of the (decompressed) piece; 0 for the piece as a whole. */
  readonly line: number;
  readonly reason: string;
}

export interface FlowLogParseResult {
  readonly records: FlowRecord[];
  readonly errors: FlowLogParseError[];
  /** Lines (AWS), entries (GCP) or flow tuples (Azure) read, good or bad. */
  readonly units: number;
  /** AWS NODATA/SKIPDATA lines and GCP duplicate reports: read, on purpose no record. */
  readonly skipped: number;
}

const DEFAULT_MAX_INFLATED = 1 << 30;

export function parseFlowLog(
  provider: CloudProvider,
  data: Uint8Array | string,
  options: FlowLogParseOptions = {},
): FlowLogParseResult {
  let input: Uint8Array | string = data;
  if (typeof data !== 'string' && data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      input = gunzipSync(data, { maxOutputLength: options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED });
    } catch (e) {
      return {
        records: [],
        errors: [{ line: 0, reason: `not readable gzip: ${(e as Error).message}` }],
        units: 0,
        skipped: 0,
      };
    }
  }
  if (provider === 'aws') {
    const r = parseAwsFlowLog(input, options.format === undefined ? {} : { format: options.format });
    return { records: r.records, errors: r.errors, units: r.lines, skipped: r.nodata + r.skipdata };
  }
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
  if (provider === 'gcp') {
    const r = parseGcpFlowLog(text);
    return {
      records: r.records,
      errors: r.errors.map((e) => ({ line: e.line, reason: `${e.where}: ${e.reason}` })),
      units: r.entries,
      skipped: r.duplicates,
    };
  }
  const r = parseAzureFlowLog(text);
  return {
    records: r.records,
    errors: r.errors.map((e) => ({ line: e.line, reason: `${e.where}: ${e.reason}` })),
    units: r.tuples,
    skipped: 0,
  };
}
