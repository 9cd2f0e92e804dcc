import {
  BlobServiceClient,
  type ContainerClient,
  RestError,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import {
  type FramingStart,
  frameAzureRecords,
  framingStartAfter,
  recordsDocument,
} from './azure-records-framing.js';
import type { Checkpoint, ObjectProgress } from './checkpoint.js';
import { waitUnlessAborted } from './file-reader.js';
import type { FlowLogPiece, FlowLogReader, PendingObject, ReadOptions } from './flow-log-reader.js';

/**
 * Azure NSG and VNet flow logs from Blob Storage, read as they grow.
 *
 * Azure writes one blob per resource and hour (`.../y=YYYY/m=MM/d=DD/h=HH/m=00/macAddress=.../PT1H.json`,
 * in `insights-logs-networksecuritygroupflowevent` or `insights-logs-flowlogflowevent`) and keeps
 * appending records to it during the hour. Reading it whole at every poll would repeat records, so
 * the reader remembers, per blob, the byte offset just after the last complete record and
 * range-reads from there; the complete records found (azure-records-framing.ts) go out as one
 * `{"records":[...]}` document the Azure parser reads. The closing `]}` is never counted as read:
 * Azure replaces it when it appends.
 *
 * Checkpoint per `azure://container/blob`: offset = end of the last complete record, size = the
 * blob's length and tag = its ETag when read. A blob with the same length and ETag is skipped
 * without a request. A blob that shrank, or whose bytes at the start or just before the offset no
 * longer fit (`{"records":[` and a record's `}`), was rewritten: it is read whole again.
 */

export interface AzureBlobReaderOptions {
  /** A storage connection string (`DefaultEndpointsProtocol=...;AccountName=...;AccountKey=...`). */
  readonly connectionString?: string;
  /** Instead of a connection string: the account's blob endpoint, with a SAS query or with `accountName`/`accountKey`. */
  readonly accountUrl?: string;
  readonly accountName?: string;
  readonly accountKey?: string;
  readonly container: string;
  /** Only blobs whose name starts with this, e.g. `resourceId=/SUBSCRIPTIONS/.../`. */
  readonly prefix?: string;
  readonly checkpoint: Checkpoint;
  /** With `follow`, how often the container is listed again (Azure appends about once a minute). */
  readonly pollMs?: number;
}

/** Counters for logs and `/stats`. */
export interface AzureReadStats {
  /** Blob reads that found new bytes. */
  blobs: number;
  /** Bytes downloaded. */
  bytes: number;
  /** Complete records framed and delivered. */
  records: number;
  /** Blobs that could not be read, listings that failed, and bytes that were no record (framing). */
  errors: number;
  /** Blobs read whole again because they shrank or their start changed. */
  rewritten: number;
}

interface ListedBlob {
  readonly name: string;
  readonly size: number;
  readonly etag: string;
}

/** A rejected `deliver`: it ends the run with the caller's error instead of going to onError. */
class DeliverFailed extends Error {
  constructor(readonly reason: unknown) {
    super('deliver failed');
  }
}

/** Bytes of the blob start that are read to check it still is the document read before. */
const HEAD_BYTES = 64;

export class AzureBlobReader implements FlowLogReader {
  readonly description: string;
  readonly stats: AzureReadStats = { blobs: 0, bytes: 0, records: 0, errors: 0, rewritten: 0 };
  private readonly container: ContainerClient;
  private readonly containerName: string;
  private readonly prefix: string;
  private readonly checkpoint: Checkpoint;
  private readonly pollMs: number;
  /** Secrets that must never appear in an error message. */
  private readonly secrets: string[];

  constructor(opts: AzureBlobReaderOptions) {
    this.containerName = opts.container;
    this.prefix = opts.prefix ?? '';
    this.checkpoint = opts.checkpoint;
    this.pollMs = opts.pollMs ?? 60_000;
    this.description = `azure://${opts.container}/${this.prefix}`;
    this.secrets = [];
    // The SDK's default (4 tries, 4 s doubling) holds a failing `ingest` for half a minute per request.
    const pipeline: StoragePipelineOptions = {
      retryOptions: { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 5_000 },
    };
    let service: BlobServiceClient;
    if (opts.connectionString !== undefined) {
      if (opts.accountUrl !== undefined) {
        throw new Error(`${this.description}: give a connection string or an account URL, not both`);
      }
      for (const m of opts.connectionString.matchAll(/(?:AccountKey|SharedAccessSignature)=([^;]+)/gi)) {
        this.secrets.push(m[1] as string);
      }
      try {
        service = BlobServiceClient.fromConnectionString(opts.connectionString, pipeline);
      } catch (e) {
        throw new Error(`${this.description}: the connection string is not usable: ${this.redact(e)}`);
      }
    } else if (opts.accountUrl !== undefined) {
      const query = opts.accountUrl.indexOf('?');
      if (query >= 0) this.secrets.push(opts.accountUrl.slice(query + 1));
      if (opts.accountKey !== undefined) this.secrets.push(opts.accountKey);
      if ((opts.accountName === undefined) !== (opts.accountKey === undefined)) {
        throw new Error(
          `${this.description}: an account key needs its account name, and the other way round`,
        );
      }
      const credential =
        opts.accountName !== undefined && opts.accountKey !== undefined
          ? new StorageSharedKeyCredential(opts.accountName, opts.accountKey)
          : undefined;
      service = new BlobServiceClient(opts.accountUrl, credential, pipeline);
    } else {
      throw new Error(`${this.description}: no connection string and no account URL`);
    }
    this.container = service.getContainerClient(opts.container);
  }

  async pending(): Promise<PendingObject[]> {
    const out: PendingObject[] = [];
    for (const b of await this.list(undefined)) {
      const p = this.checkpoint.get(this.source(b.name));
      if (p !== undefined && p.size === b.size && p.tag === b.etag) continue;
      const bytes = p === undefined || b.size < p.size ? b.size : b.size - p.offset;
      if (bytes > 0) out.push({ source: this.source(b.name), bytes });
    }
    return out;
  }

  /**
   * Lists the container and reads what is new in each blob, name order (the hourly layout makes
   * that time order per resource). A listing that fails rejects the run without `follow`; with it,
   * goes to onError and is tried again at the next poll.
   */
  async run(deliver: (piece: FlowLogPiece) => Promise<void>, options: ReadOptions): Promise<void> {
    const { follow, signal, onError } = options;
    while (!signal?.aborted) {
      let blobs: ListedBlob[] | null = null;
      try {
        blobs = await this.list(signal);
      } catch (e) {
        if (signal?.aborted) return;
        const err = new Error(`cannot list ${this.description}: ${this.redact(e)}`);
        if (!follow) throw err;
        this.stats.errors++;
        onError?.(this.description, err);
      }
      for (const b of blobs ?? []) {
        if (signal?.aborted) return;
        try {
          await this.readBlob(b, deliver, signal, onError);
        } catch (e) {
          if (e instanceof DeliverFailed) throw e.reason;
          if (signal?.aborted) return;
          this.stats.errors++;
          onError?.(this.source(b.name), new Error(`${this.source(b.name)}: ${this.redact(e)}`));
        }
      }
      if (!follow) return;
      if (!(await waitUnlessAborted(this.pollMs, signal))) return;
    }
  }

  private source(name: string): string {
    return `azure://${this.containerName}/${name}`;
  }

  private async list(signal: AbortSignal | undefined): Promise<ListedBlob[]> {
    const out: ListedBlob[] = [];
    const iter = this.container.listBlobsFlat({
      ...(this.prefix === '' ? {} : { prefix: this.prefix }),
      ...(signal === undefined ? {} : { abortSignal: signal }),
    });
    for await (const item of iter) {
      const size = item.properties.contentLength;
      const etag = item.properties.etag;
      if (size === undefined || etag === undefined) continue;
      out.push({ name: item.name, size, etag });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Reads what is new in one blob, delivers its complete records as one piece, then checkpoints. */
  private async readBlob(
    blob: ListedBlob,
    deliver: (piece: FlowLogPiece) => Promise<void>,
    signal: AbortSignal | undefined,
    onError: ReadOptions['onError'],
  ): Promise<void> {
    const source = this.source(blob.name);
    const prev = this.checkpoint.get(source);
    if (prev !== undefined && prev.size === blob.size && prev.tag === blob.etag) return;

    let rewritten = prev !== undefined && blob.size < prev.size;
    let offset = rewritten ? 0 : (prev?.offset ?? 0);
    let start: FramingStart = 'document';
    let data: Buffer | null = null;
    if (offset > 0) {
      const head = await this.download(blob, 0, Math.min(blob.size, HEAD_BYTES), signal);
      // The byte before the offset tells the state to resume in, and that a record's `}` (or the
      // header's `[`) is still there.
      const tail = frameAzureRecords(head, 'document').notRecordsDocument
        ? null
        : await this.download(blob, offset - 1, blob.size - offset + 1, signal);
      const resume = tail === null ? null : framingStartAfter(tail[0]);
      if (tail !== null && resume !== null) {
        start = resume;
        data = tail.subarray(1);
      } else {
        rewritten = true;
        offset = 0;
      }
    }
    if (data === null) data = await this.download(blob, 0, blob.size, signal);
    if (rewritten) this.stats.rewritten++;
    if (data.length > 0) this.stats.blobs++;

    const framed = frameAzureRecords(data, start);
    let progress: ObjectProgress = { offset: offset + framed.consumed, size: blob.size, tag: blob.etag };
    if (framed.notRecordsDocument) {
      this.stats.errors++;
      onError?.(
        source,
        new Error(
          `${source} is not an Azure flow-log document (does not begin with {"records":[): skipped until it changes`,
        ),
      );
      progress = { offset: 0, size: blob.size, tag: blob.etag };
    }
    for (const reason of framed.errors) {
      this.stats.errors++;
      onError?.(source, new Error(`${source}: ${reason} (after offset ${offset}): skipped`));
    }
    if (framed.records.length > 0) {
      const piece: FlowLogPiece = { source, data: recordsDocument(framed.records) };
      try {
        await deliver(piece);
      } catch (e) {
        throw new DeliverFailed(e);
      }
      this.stats.records += framed.records.length;
    }
    this.checkpoint.set(source, progress);
  }

  /**
   * `count` bytes from `offset` of the blob version that was listed (If-Match its ETag), so the
   * checkpoint's tag and size describe exactly the bytes read; a blob that changed since the
   * listing fails with 412 and is read at the next poll.
   */
  private async download(
    blob: ListedBlob,
    offset: number,
    count: number,
    signal: AbortSignal | undefined,
  ): Promise<Buffer> {
    if (count <= 0) return Buffer.alloc(0);
    const res = await this.container.getBlobClient(blob.name).download(offset, count, {
      conditions: { ifMatch: blob.etag },
      ...(signal === undefined ? {} : { abortSignal: signal }),
    });
    const body = res.readableStreamBody;
    if (body === undefined) throw new Error('download returned no body');
    const chunks: Buffer[] = [];
    for await (const chunk of body)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    const out = Buffer.concat(chunks);
    this.stats.bytes += out.length;
    return out;
  }

  /** An SDK error's message without the account key or SAS, in one line. */
  private redact(e: unknown): string {
    let text: string;
    if (e instanceof RestError) {
      const first = (e.message.split('\n')[0] ?? '').trim();
      text = e.statusCode === 412 ? 'changed while being read; read again at the next poll' : first;
      if (e.statusCode !== undefined && e.statusCode !== 412)
        text = `HTTP ${e.statusCode} ${e.code ?? ''}: ${text}`;
    } else {
      text = e instanceof Error ? e.message : String(e);
    }
    for (const s of this.secrets) if (s !== '') text = text.split(s).join('<redacted>');
    return text.replace(/([?&;](?:sig|AccountKey|SharedAccessSignature)=)[^&;\s]+/gi, '$1<redacted>');
  }
}
