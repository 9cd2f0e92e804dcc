/**
 * The `output.ingest` configuration of the HTTP ingest uploader, in the config file's own key
 * names and units (seconds), with the connector's defaults (research/netoflow.md: flush 5 s or
 * 2000 records, 5 retries 5 s apart). The config layer resolves the token (env, _FILE, command)
 * before it gets here.
 */
import type { SpoolWhenFull } from '../spool/spool.js';

export type IngestProfileName = 'generic' | 'connector' | 'elasticsearch' | 'splunk';
export type IngestFormat = 'jsonlines' | 'array';
export type IngestCompression = 'gzip' | 'none';

export interface IngestSpoolConfig {
  dir: string;
  /** Bytes on disk at most (default 1 GiB). */
  maxbytes: number;
  whenfull: SpoolWhenFull;
}

export interface IngestConfig {
  url: string;
  profile: IngestProfileName;
  /** generic profile only: one JSON object per line, or one JSON array per request. */
  format: IngestFormat;
  compression: IngestCompression;
  /** The secret, already resolved; null = no authentication header. Never logged. */
  token: string | null;
  /** 'Authorization' sends "<scheme> <token>"; any other name (X-API-Key) sends the bare token. */
  authheader: string;
  flushcount: number;
  /** Seconds. */
  flushinterval: number;
  retries: number;
  /** Seconds: the base of the exponential backoff. */
  retryinterval: number;
  /** Seconds per request. */
  timeout: number;
  /** Seconds that close() waits for the backend before it spools what is left. */
  closetimeout: number;
  /** Encoded batches allowed to wait in memory before write() waits. */
  maxbatchesinmemory: number;
  /** null = no spool: a batch that fails every retry is dropped (counted). */
  spool: IngestSpoolConfig | null;
  /** elasticsearch: index name (%Y %m %d from the record time, UTC); splunk: the HEC index. */
  index: string | null;
  /** Extra request headers (they cannot replace the ones the uploader sets). */
  headers: Record<string, string>;
}

export const INGEST_DEFAULTS: Omit<IngestConfig, 'url'> = {
  profile: 'generic',
  format: 'jsonlines',
  compression: 'gzip',
  token: null,
  authheader: 'Authorization',
  flushcount: 2000,
  flushinterval: 5,
  retries: 5,
  retryinterval: 5,
  timeout: 30,
  closetimeout: 10,
  maxbatchesinmemory: 4,
  spool: null,
  index: null,
  headers: {},
};

export const INGEST_SPOOL_DEFAULTS: Omit<IngestSpoolConfig, 'dir'> = {
  maxbytes: 1024 ** 3,
  whenfull: 'dropoldest',
};

/** The defaults under what is given (a partial `output.ingest` section). */
export function ingestConfig(
  given: Partial<Omit<IngestConfig, 'spool'>> & { url: string; spool?: Partial<IngestSpoolConfig> | null },
): IngestConfig {
  const { spool, ...rest } = given;
  return {
    ...INGEST_DEFAULTS,
    ...rest,
    spool:
      spool === undefined || spool === null || spool.dir === undefined
        ? null
        : {
            dir: spool.dir,
            maxbytes: spool.maxbytes ?? INGEST_SPOOL_DEFAULTS.maxbytes,
            whenfull: spool.whenfull ?? INGEST_SPOOL_DEFAULTS.whenfull,
          },
  };
}
