import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { sleepUnlessAborted } from '../../notify/backoff.js';
import type { Checkpoint } from './checkpoint.js';
import type { FlowLogPiece, FlowLogReader, PendingObject, ReadOptions } from './flow-log-reader.js';
import { isFlowLogKey, s3KeyInfo } from './s3-keys.js';

/**
 * Reads VPC flow logs from an S3 bucket (or an S3-compatible server): lists the objects under a
 * prefix, and hands each new flow-log object over whole (gzip stays compressed), oldest first.
 * S3 objects are immutable, so an object read once is done until its ETag changes (it was
 * overwritten); the checkpoint keeps {offset: size, size, tag: ETag} per key.
 */

export interface S3ReaderOptions {
  readonly bucket: string;
  /** Only keys starting with this are listed (e.g. `AWSLogs/123456789012/vpcflowlogs/`). */
  readonly prefix?: string;
  /** An S3-compatible server (MinIO, Ceph, s3rver): path-style requests to this URL. */
  readonly endpoint?: string;
  readonly region?: string;
  /**
   * Static credentials; without them the SDK's default chain is used (AWS_ACCESS_KEY_ID and
   * AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, the instance or task role).
   */
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  readonly checkpoint: Checkpoint;
  /** How often the bucket is listed again while following (ms). */
  readonly pollMs?: number;
  /** AWSLogs objects whose date folder (day or hour) ends before this are skipped. */
  readonly since?: Date;
  /** Keys this matches are read whatever their name. */
  readonly pattern?: RegExp;
  /** Keys per ListObjectsV2 page (MaxKeys); S3's default is 1000. */
  readonly pageSize?: number;
}

export interface S3ReaderStats {
  /** Objects read and delivered. */
  objects: number;
  /** Bytes of those objects (as stored: compressed when gzip). */
  bytes: number;
  /** Failed listings plus objects that could not be read. */
  errors: number;
}

/** A listed flow-log object. */
interface S3Object {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
  /** For ordering: the time in the key, else LastModified (ms). */
  readonly time: number;
  readonly lastModified: number;
}

const DEFAULT_POLL_MS = 60_000;

export class S3Reader implements FlowLogReader {
  readonly description: string;
  readonly stats: S3ReaderStats = { objects: 0, bytes: 0, errors: 0 };
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly pollMs: number;
  /** Where requests go, for error messages: never the credentials. */
  private readonly where: string;
  private client: S3Client | null = null;

  constructor(private readonly options: S3ReaderOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.where =
      options.endpoint === undefined
        ? `AWS region ${options.region ?? 'us-east-1'}`
        : `endpoint ${endpointWithoutUserInfo(options.endpoint)}`;
    this.description = `s3://${this.bucket}/${this.prefix}`;
  }

  async pending(): Promise<PendingObject[]> {
    try {
      const todo = this.unread(await this.list(undefined));
      return todo.map((o) => ({ source: this.source(o.key), bytes: o.size }));
    } catch (err) {
      throw new Error(this.listingFailure(err));
    } finally {
      this.close();
    }
  }

  async run(deliver: (piece: FlowLogPiece) => Promise<void>, options: ReadOptions): Promise<void> {
    const signal = options.signal ?? new AbortController().signal;
    try {
      while (!signal.aborted) {
        let listed: S3Object[] | null = null;
        try {
          listed = await this.list(signal);
        } catch (err) {
          if (signal.aborted) return;
          this.stats.errors++;
          const message = this.listingFailure(err);
          options.onError?.(this.description, new Error(message));
          if (!options.follow) throw new Error(message);
        }
        if (listed !== null) {
          this.pruneUnlisted(listed);
          for (const o of this.unread(listed)) {
            if (signal.aborted) return;
            await this.readOne(o, deliver, signal, options);
          }
        }
        if (!options.follow) return;
        await sleepUnlessAborted(this.pollMs, signal);
      }
    } finally {
      // Idle keep-alive sockets would otherwise hold the process open after the run.
      this.close();
    }
  }

  /** Releases the client's sockets; the next call makes a new client. */
  close(): void {
    this.client?.destroy();
    this.client = null;
  }

  private async readOne(
    o: S3Object,
    deliver: (piece: FlowLogPiece) => Promise<void>,
    signal: AbortSignal,
    options: ReadOptions,
  ): Promise<void> {
    const source = this.source(o.key);
    let data: Buffer;
    let etag: string;
    try {
      const res = await this.s3().send(new GetObjectCommand({ Bucket: this.bucket, Key: o.key }), {
        abortSignal: signal,
      });
      if (res.Body === undefined) throw new Error('no body in the response');
      const bytes = await res.Body.transformToByteArray();
      data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      // The object may have been overwritten since the listing: what was read is what counts.
      etag = res.ETag ?? o.etag;
    } catch (err) {
      if (signal.aborted) return;
      this.stats.errors++;
      options.onError?.(source, new Error(`reading ${source} at ${this.where}: ${this.describe(err)}`));
      return;
    }
    await deliver({ source, data });
    this.options.checkpoint.set(o.key, { offset: data.length, size: data.length, tag: etag });
    this.stats.objects++;
    this.stats.bytes += data.length;
  }

  /** Lists every flow-log object under the prefix (all pages), or throws the SDK's error. */
  private async list(signal: AbortSignal | undefined): Promise<S3Object[]> {
    const out: S3Object[] = [];
    const since = this.options.since?.getTime();
    let token: string | undefined;
    do {
      const page = await this.s3().send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix,
          ContinuationToken: token,
          MaxKeys: this.options.pageSize,
        }),
        { abortSignal: signal },
      );
      for (const c of page.Contents ?? []) {
        if (c.Key === undefined) continue;
        const info = s3KeyInfo(c.Key);
        if (!isFlowLogKey(c.Key, info, this.options.pattern)) continue;
        if (since !== undefined && info.periodEnd !== null && info.periodEnd <= since) continue;
        const lastModified = c.LastModified?.getTime() ?? 0;
        out.push({
          key: c.Key,
          size: c.Size ?? 0,
          etag: c.ETag ?? '',
          time: info.time ?? lastModified,
          lastModified,
        });
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return out;
  }

  /** The listed objects not read yet at their current ETag, oldest first. */
  private unread(listed: readonly S3Object[]): S3Object[] {
    const cp = this.options.checkpoint;
    return listed
      .filter((o) => !cp.isDone(o.key, o.size, o.etag))
      .sort(
        (a, b) =>
          a.time - b.time || a.lastModified - b.lastModified || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
      );
  }

  /**
   * Forgets keys no longer listed (deleted by a lifecycle rule, or outside the prefix now), so the
   * checkpoint stays the size of the bucket's current contents.
   */
  private pruneUnlisted(listed: readonly S3Object[]): void {
    const keys = new Set(listed.map((o) => o.key));
    this.options.checkpoint.prune((name) => !keys.has(name));
  }

  private s3(): S3Client {
    if (this.client !== null) return this.client;
    const o = this.options;
    this.client = new S3Client({
      region: o.region ?? 'us-east-1',
      ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint, forcePathStyle: true }),
      ...(o.accessKeyId !== undefined && o.secretAccessKey !== undefined
        ? {
            credentials: {
              accessKeyId: o.accessKeyId,
              secretAccessKey: o.secretAccessKey,
              ...(o.sessionToken === undefined ? {} : { sessionToken: o.sessionToken }),
            },
          }
        : {}),
    });
    return this.client;
  }

  private source(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  private listingFailure(err: unknown): string {
    return `cannot list s3://${this.bucket}/${this.prefix} at ${this.where}: ${this.describe(err)}`;
  }

  /**
   * The SDK error's code, HTTP status and message, with any credential removed: these messages
   * reach logs and `/stats`. A new Error is made rather than wrapping the SDK's, whose fields
   * (the raw response, the request id) are not for logs.
   */
  private describe(err: unknown): string {
    const e = err as Partial<Error> & {
      code?: string;
      $metadata?: { httpStatusCode?: number };
      errors?: unknown[];
    };
    let message = typeof e?.message === 'string' ? e.message : String(err);
    // Node's connection errors through several addresses are an AggregateError with no message.
    if (message === '' && Array.isArray(e.errors) && e.errors.length > 0) {
      message = (e.errors[0] as Error).message ?? '';
    }
    if (message === '' && e.code !== undefined) message = e.code;
    const name = e?.name !== undefined && e.name !== 'Error' ? `${e.name}` : '';
    const status = e?.$metadata?.httpStatusCode;
    let text = [name, status === undefined ? '' : `(HTTP ${status})`].filter((s) => s !== '').join(' ');
    text = text === '' ? message : `${text}: ${message}`;
    for (const secret of [
      this.options.secretAccessKey,
      this.options.sessionToken,
      this.options.accessKeyId,
    ]) {
      if (secret !== undefined && secret !== '') text = text.split(secret).join('***');
    }
    return text;
  }
}

/** `https://user:pass@host/` → `https://host/`, so an endpoint is safe to print. */
function endpointWithoutUserInfo(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return endpoint.replace(/\/\/[^@/]*@/, '//');
  }
}
