import { statSync } from 'node:fs';
import { readSecretFile } from '../../config/env.js';
import { AzureBlobReader } from './azure-blob-reader.js';
import type { Checkpoint } from './checkpoint.js';
import { FileReader } from './file-reader.js';
import type { FlowLogReader } from './flow-log-reader.js';
import { FolderReader } from './folder-reader.js';
import { S3Reader } from './s3-reader.js';

/** Where flow logs are and how to reach them: what `flowgate ingest` flags and `cloud.sources` entries say. */
export interface FlowLogLocation {
  /** A file, a folder, `s3://bucket/prefix` or `azure://container/prefix`. */
  readonly source: string;
  readonly checkpoint: Checkpoint;
  readonly pollMs: number;
  readonly pattern: RegExp | null;
  /** S3 */
  readonly endpoint: string | null;
  readonly region: string;
  readonly accessKeyId: string | null;
  readonly secretAccessKey: string | null;
  /** Azure */
  readonly connectionString: string | null;
}

/**
 * The Azure storage connection string from the environment: AZURE_STORAGE_CONNECTION_STRING, or
 * the file AZURE_STORAGE_CONNECTION_STRING_FILE names (a secret passed at run time, never stored).
 */
export function azureConnectionStringFromEnv(env: NodeJS.ProcessEnv): string | null {
  if (env.AZURE_STORAGE_CONNECTION_STRING !== undefined) return env.AZURE_STORAGE_CONNECTION_STRING;
  const file = env.AZURE_STORAGE_CONNECTION_STRING_FILE;
  if (file === undefined) return null;
  const secret = readSecretFile(file);
  if ('problem' in secret)
    throw new FlowLogSourceError(`AZURE_STORAGE_CONNECTION_STRING_FILE: ${secret.problem}`);
  return secret.value;
}

/** Thrown when a source cannot be opened; the message says what to change. */
export class FlowLogSourceError extends Error {}

/** The reader for a location, chosen by its scheme (s3://, azure://) or, for a path, file or folder. */
export function openFlowLogReader(loc: FlowLogLocation): FlowLogReader {
  const pattern = loc.pattern === null ? {} : { pattern: loc.pattern };
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(loc.source);
  if (s3 !== null) {
    return new S3Reader({
      bucket: s3[1] as string,
      prefix: s3[2] ?? '',
      region: loc.region,
      checkpoint: loc.checkpoint,
      pollMs: loc.pollMs,
      ...(loc.endpoint === null ? {} : { endpoint: loc.endpoint }),
      ...(loc.accessKeyId === null || loc.secretAccessKey === null
        ? {}
        : { accessKeyId: loc.accessKeyId, secretAccessKey: loc.secretAccessKey }),
      ...pattern,
    });
  }
  const azure = /^azure:\/\/([^/]+)\/?(.*)$/.exec(loc.source);
  if (azure !== null) {
    if (loc.connectionString === null) {
      throw new FlowLogSourceError(
        `${loc.source}: no storage connection string (AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_CONNECTION_STRING_FILE)`,
      );
    }
    return new AzureBlobReader({
      connectionString: loc.connectionString,
      container: azure[1] as string,
      prefix: azure[2] ?? '',
      checkpoint: loc.checkpoint,
      pollMs: loc.pollMs,
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(loc.source)) {
    throw new FlowLogSourceError(
      `${loc.source}: unknown scheme (a path, s3://bucket/prefix or azure://container/prefix)`,
    );
  }
  let isFolder: boolean;
  try {
    isFolder = statSync(loc.source).isDirectory();
  } catch (e) {
    throw new FlowLogSourceError(
      `${loc.source}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : (e as Error).message}`,
    );
  }
  return isFolder
    ? new FolderReader(loc.source, { checkpoint: loc.checkpoint, pollMs: loc.pollMs, ...pattern })
    : new FileReader(loc.source, { checkpoint: loc.checkpoint, pollMs: loc.pollMs });
}
