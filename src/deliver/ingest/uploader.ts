/**
 * Records to an HTTP ingest endpoint (a SaaS ingest API, Elasticsearch/OpenSearch `_bulk`, Splunk
 * HEC), as the connector uploads them (research/netoflow.md): a batch every `flushcount` records or
 * `flushinterval` seconds, retried with backoff, and kept in a crash-safe spool while the backend
 * does not answer, so an outage loses nothing that fitted in the spool.
 *
 * Order: one request in flight at a time, batches in the order they were cut. While the spool
 * holds anything, new batches go to the spool too and one loop drains it oldest first; when the
 * spool is empty again batches go back to memory. Every batch carries one id
 * (X-Flowgate-Batch-Id) on every retry and replay, so a receiver can drop what it already has
 * (a request can reach the backend and its answer still be lost).
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { FlowRecord } from '../../record/flow-record.js';
import type { RecordOutput } from '../output.js';
import { Spool, type SpoolStats } from '../spool/spool.js';
import { postBatch } from './http-post.js';
import type { IngestConfig } from './options.js';
import { authorizationValue, type IngestProfile, ingestProfile } from './profiles.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** The longest wait between two attempts (before Retry-After), however many have failed. */
const MAX_BACKOFF_MS = 60_000;
/** A Retry-After longer than this is cut to it: a backend must not park the uploader for hours. */
const MAX_RETRY_AFTER_MS = 600_000;
/** Headers the uploader sets itself; `headers` from the configuration cannot replace them. */
const OWN_HEADERS = new Set(['content-type', 'content-encoding', 'x-flowgate-batch-id', 'content-length']);

export type BackendState = 'ok' | 'retrying' | 'down';

export interface IngestLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface IngestDeps {
  log?: IngestLog;
  /** [0, 1) for the backoff jitter (tests make it fixed). */
  random?: () => number;
}

export interface IngestStats {
  name: string;
  /** The endpoint without credentials or query. */
  url: string;
  backend: BackendState;
  batchesSent: number;
  recordsSent: number;
  retries: number;
  /** Failed attempts by reason: "HTTP 503", "HTTP 429", "network ECONNREFUSED", "timeout", "item 429". */
  failures: Record<string, number>;
  /** Refused for good by the backend (4xx other than 408/429, `_bulk` items with such a status). */
  rejectedBatches: number;
  rejectedRecords: number;
  spooledBatches: number;
  spooledRecords: number;
  /** Delivered from the spool. */
  replayedBatches: number;
  replayedRecords: number;
  /** Lost: failed every retry with no spool, refused by a full spool, or unencodable. */
  droppedBatches: number;
  droppedRecords: number;
  /** Records not cut into a batch yet, and batches waiting in memory. */
  pendingRecords: number;
  batchesInMemory: number;
  spool: SpoolStats | null;
  lastError: string | null;
  lastErrorAt: number | null;
  lastSuccessAt: number | null;
}

interface Batch {
  readonly id: string;
  records: number;
  readonly createdAt: number;
  body: Buffer;
}

type Attempt = { done: true } | { done: false; retryAfterMs: number | null };

function isGzip(body: Buffer): boolean {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

/** The URL as it may be shown: without user:password@ and without the query (it may hold a key). */
function urlLabel(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class IngestUploader implements RecordOutput {
  readonly name: string;
  private readonly profile: IngestProfile;
  private readonly label: string;
  private readonly headers: Record<string, string>;
  private readonly flushCount: number;
  private readonly log: IngestLog | null;
  private readonly random: () => number;

  private pending: FlowRecord[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  /** Cut batches being encoded, in order; write() and close() wait on it. */
  private intake: Promise<void> = Promise.resolve();
  private intakeSettled = false;
  private readonly memory: Batch[] = [];
  private readonly spaceWaiters: (() => void)[] = [];
  /** Set while the spool may hold batches: new batches go there, behind them. */
  private spoolMode: boolean;
  private spoolWrites: Promise<void> = Promise.resolve();
  private spoolWritesPending = 0;

  private readonly loop: Promise<void>;
  private wakeLoop: (() => void) | null = null;
  private endSleep: (() => void) | null = null;
  private readonly shutdown = new AbortController();
  private closing = false;
  /** close() waited `closetimeout`: what is left goes to the spool without another attempt. */
  private graceOver = false;
  private closed: Promise<void> | null = null;

  private backend: BackendState = 'ok';
  private readonly counts = {
    batchesSent: 0,
    recordsSent: 0,
    retries: 0,
    rejectedBatches: 0,
    rejectedRecords: 0,
    spooledBatches: 0,
    spooledRecords: 0,
    replayedBatches: 0,
    replayedRecords: 0,
    droppedBatches: 0,
    droppedRecords: 0,
  };
  private readonly failures: Record<string, number> = {};
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  private lastSuccessAt: number | null = null;

  /** Opens the spool (batches left by the previous run are replayed first). */
  static async open(config: IngestConfig, deps: IngestDeps = {}): Promise<IngestUploader> {
    const spool =
      config.spool === null
        ? null
        : await Spool.open({
            dir: config.spool.dir,
            maxBytes: config.spool.maxbytes,
            whenFull: config.spool.whenfull,
          });
    return new IngestUploader(config, spool, deps);
  }

  private constructor(
    private readonly config: IngestConfig,
    private readonly spool: Spool | null,
    deps: IngestDeps,
  ) {
    this.profile = ingestProfile(config);
    this.name = `ingest:${this.profile.name}`;
    this.label = urlLabel(config.url);
    this.flushCount = Math.max(1, config.flushcount);
    this.log = deps.log ?? null;
    this.random = deps.random ?? Math.random;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(config.headers)) {
      if (!OWN_HEADERS.has(k.toLowerCase()) && k.toLowerCase() !== config.authheader.toLowerCase())
        headers[k] = v;
    }
    headers['Content-Type'] = this.profile.contentType;
    if (config.token !== null && config.token !== '') {
      headers[config.authheader] = authorizationValue(
        config.authheader,
        this.profile.authScheme,
        config.token,
      );
    }
    this.headers = headers;
    this.spoolMode = spool !== null && spool.stats().batches > 0;
    this.loop = this.run();
  }

  /** Batches cut but not yet queued (compressing, or waiting for room in memory). */
  private encoding = 0;

  async write(batch: readonly FlowRecord[]): Promise<void> {
    if (this.closing) {
      this.drop(batch.length, 'record batch written after close');
      return;
    }
    for (const r of batch) this.pending.push(r);
    let cut = false;
    while (this.pending.length >= this.flushCount) {
      this.cut(this.pending.splice(0, this.flushCount));
      cut = true;
    }
    if (cut && this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.pending.length > 0 && this.flushTimer === null) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        if (this.pending.length > 0) this.cut(this.pending.splice(0));
      }, this.config.flushinterval * 1000);
      this.flushTimer.unref();
    }
    // One batch may be compressing (or waiting for room) while the caller prepares the next;
    // beyond that the caller waits, so memory stays bounded.
    if (this.encoding > 1) await this.intake;
  }

  /**
   * Sends what is in memory, or spools it if the backend has not taken it within `closetimeout`;
   * batches already in the spool stay there for the next start.
   */
  close(): Promise<void> {
    this.closed ??= this.shutDown();
    return this.closed;
  }

  stats(): IngestStats {
    return {
      name: this.name,
      url: this.label,
      backend: this.backend,
      ...this.counts,
      failures: { ...this.failures },
      pendingRecords: this.pending.length,
      batchesInMemory: this.memory.length,
      spool: this.spool?.stats() ?? null,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      lastSuccessAt: this.lastSuccessAt,
    };
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.pending.length > 0) this.cut(this.pending.splice(0));
    const grace = setTimeout(() => {
      this.graceOver = true;
      this.shutdown.abort();
      this.endSleep?.();
    }, this.config.closetimeout * 1000);
    this.endSleep?.();
    this.kick();
    await this.intake;
    this.intakeSettled = true;
    this.kick();
    await this.loop;
    clearTimeout(grace);
    await this.spoolWrites;
    await this.spool?.close();
  }

  // ---- batches in ----

  /**
   * Encodes a batch now and compresses it on libuv's threads while the next one is encoded
   * (measured: encoding and gzip each took about half of the time per record, one after the
   * other); batches still join the queue in the order they were cut.
   */
  private cut(records: FlowRecord[]): void {
    const id = randomUUID();
    let body: Promise<Buffer>;
    try {
      const text = this.profile.encode(records, id);
      body = this.config.compression === 'gzip' ? gzipAsync(text) : Promise.resolve(Buffer.from(text));
    } catch (err) {
      body = Promise.reject(err);
    }
    // Awaited by admit() in turn; this only keeps a failure from counting as unhandled meanwhile.
    body.catch(() => {});
    this.encoding++;
    this.intake = this.intake.then(() =>
      this.admit(id, records.length, body).finally(() => {
        this.encoding--;
      }),
    );
  }

  /** Queues one encoded batch (memory, or the spool behind older batches). Never throws. */
  private async admit(id: string, records: number, encoded: Promise<Buffer>): Promise<void> {
    let body: Buffer;
    try {
      body = await encoded;
    } catch (err) {
      this.drop(records, `cannot encode a batch: ${message(err)}`);
      return;
    }
    const batch: Batch = { id, records, createdAt: Date.now(), body };
    while (!this.spoolMode && this.memory.length >= this.config.maxbatchesinmemory) {
      await new Promise<void>((resolve) => {
        this.spaceWaiters.push(resolve);
        // A retry wait is cut short: the loop moves the failing batches to the spool instead.
        if (this.spool !== null) this.endSleep?.();
      });
    }
    if (this.spoolMode) await this.toSpool([batch]);
    else {
      this.memory.push(batch);
      this.kick();
    }
  }

  private releaseSpace(): void {
    for (const w of this.spaceWaiters.splice(0)) w();
  }

  /** Appends in order (one append chain), and switches new batches to the spool. */
  private toSpool(batches: Batch[]): Promise<void> {
    const spool = this.spool;
    if (spool === null) {
      for (const b of batches) this.drop(b.records, 'no spool configured');
      return Promise.resolve();
    }
    this.spoolMode = true;
    this.spoolWritesPending++;
    const done = this.spoolWrites.then(async () => {
      for (const b of batches) {
        try {
          const before = spool.stats();
          if (await spool.append(b)) {
            this.counts.spooledBatches++;
            this.counts.spooledRecords += b.records;
            // dropoldest made room: the spool counts it; the operator must hear of it too.
            const after = spool.stats();
            const lost = after.droppedRecords - before.droppedRecords;
            if (lost > 0) {
              const batches = after.droppedBatches - before.droppedBatches;
              this.noteError(`spool full: ${batches} oldest batches dropped`);
              this.log?.warn(
                `ingest: spool full: ${lost} records in the ${batches} oldest batches dropped to make room`,
              );
            }
          } else this.drop(b.records, 'spool full: batch refused');
        } catch (err) {
          this.drop(b.records, `cannot spool a batch: ${message(err)}`);
        }
      }
      this.spoolWritesPending--;
    });
    this.spoolWrites = done;
    this.releaseSpace();
    this.kick();
    return done;
  }

  // ---- the delivery loop ----

  private kick(): void {
    const wake = this.wakeLoop;
    this.wakeLoop = null;
    wake?.();
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeLoop = resolve;
    });
  }

  /** A wait that close() (and a writer waiting for memory) cuts short. */
  private sleep(ms: number): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const end = () => {
        clearTimeout(timer);
        if (this.endSleep === end) this.endSleep = null;
        resolve();
      };
      const timer = setTimeout(end, ms);
      this.endSleep = end;
    });
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.closing && this.intakeSettled && this.memory.length === 0) return;
      if (this.spoolMode && this.spool !== null) {
        if (this.closing) {
          await this.idle();
          continue;
        }
        await this.spoolWrites;
        let head = null;
        try {
          head = await this.spool.peek();
        } catch (err) {
          this.noteError(`cannot read the spool: ${message(err)}`);
          await this.sleep(this.backoffMs(this.config.retries, null));
          continue;
        }
        if (head === null) {
          if (this.spoolWritesPending === 0) {
            this.spoolMode = false;
            this.releaseSpace();
          }
          continue;
        }
        await this.replay({ id: head.id, records: head.records, createdAt: head.createdAt, body: head.body });
        continue;
      }
      const batch = this.memory[0];
      if (batch === undefined) {
        await this.idle();
        continue;
      }
      const sent = await this.deliver(batch);
      if (sent || this.spool === null) {
        this.memory.shift();
        if (!sent) this.drop(batch.records, `batch dropped after ${this.config.retries} retries: no spool`);
        this.releaseSpace();
      } else {
        // The failing batch and everything behind it, in order: the spool loop takes over.
        await this.toSpool(this.memory.splice(0));
      }
    }
  }

  /** A batch from memory: true once the backend took (or refused) it, false to spool it. */
  private async deliver(b: Batch): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (this.graceOver) return false;
      const r = await this.attempt(b, false);
      if (r.done) return true;
      if (this.closing) return false;
      if (attempt >= this.config.retries) {
        this.setBackend('down');
        return false;
      }
      // Writers wait for memory behind a failing backend: spool rather than make them wait more.
      if (this.spool !== null && this.spaceWaiters.length > 0) return false;
      this.counts.retries++;
      this.setBackend('retrying');
      await this.sleep(this.backoffMs(attempt, r.retryAfterMs));
      if (this.spool !== null && this.spaceWaiters.length > 0) return false;
    }
  }

  /** The oldest spooled batch, tried until it is taken or the uploader closes. */
  private async replay(b: Batch): Promise<void> {
    for (let attempt = 0; !this.closing; attempt++) {
      const r = await this.attempt(b, true);
      if (r.done) {
        try {
          await this.spool?.ack(b.id);
        } catch (err) {
          this.noteError(`cannot remove a sent batch from the spool: ${message(err)}`);
        }
        return;
      }
      if (this.closing) return;
      this.counts.retries++;
      this.setBackend(this.backend === 'down' || attempt >= this.config.retries ? 'down' : 'retrying');
      await this.sleep(this.backoffMs(Math.min(attempt, this.config.retries), r.retryAfterMs));
    }
  }

  /**
   * Exponential backoff with full jitter (a random wait up to base × 2^attempt), capped at what
   * the last configured retry would wait (and at a minute), never shorter than Retry-After.
   */
  private backoffMs(attempt: number, retryAfterMs: number | null): number {
    const base = this.config.retryinterval * 1000;
    const cap = Math.min(MAX_BACKOFF_MS, base * 2 ** this.config.retries);
    const jitter = this.random() * Math.min(cap, base * 2 ** attempt);
    return Math.max(jitter, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  }

  private async attempt(b: Batch, replay: boolean): Promise<Attempt> {
    const headers: Record<string, string> = { ...this.headers, 'X-Flowgate-Batch-Id': b.id };
    if (isGzip(b.body)) headers['Content-Encoding'] = 'gzip';
    const out = await postBatch({
      url: this.config.url,
      label: this.label,
      headers,
      body: b.body,
      timeoutMs: this.config.timeout * 1000,
      signal: this.shutdown.signal,
    });
    if (out.kind === 'retry') {
      this.fail(out.reason, out.message);
      return { done: false, retryAfterMs: out.retryAfterMs };
    }
    if (out.kind === 'permanent') {
      this.fail(out.reason, out.message);
      this.counts.rejectedBatches++;
      this.counts.rejectedRecords += b.records;
      this.log?.warn(
        `ingest: batch of ${b.records} records rejected, not retried: ${this.redact(out.message)}`,
      );
      return { done: true };
    }
    const failed = this.profile.failedItems?.(out.text) ?? null;
    if (failed !== null) {
      for (const [reason, n] of Object.entries(failed.reasons))
        this.failures[reason] = (this.failures[reason] ?? 0) + n;
      this.counts.rejectedRecords += failed.rejected;
      this.counts.recordsSent += b.records - failed.retry.length - failed.rejected;
      const reasons = Object.entries(failed.reasons)
        .map(([k, v]) => `${v} × ${k}`)
        .join(', ');
      this.noteError(`${this.label} refused items of a batch (${reasons})`);
      if (failed.retry.length > 0) {
        try {
          await this.keepItems(b, failed.retry);
          return { done: false, retryAfterMs: null };
        } catch (err) {
          this.drop(failed.retry.length, `cannot cut the failed items out of a batch: ${message(err)}`);
        }
      }
    } else this.counts.recordsSent += b.records;
    this.counts.batchesSent++;
    if (replay) {
      this.counts.replayedBatches++;
      this.counts.replayedRecords += b.records;
    }
    this.lastSuccessAt = Date.now();
    this.setBackend('ok');
    return { done: true };
  }

  /** Reduces a batch to the items to send again (a `_bulk` answer with failed items). */
  private async keepItems(b: Batch, items: readonly number[]): Promise<void> {
    const select = this.profile.selectItems;
    if (select === undefined) return;
    const gz = isGzip(b.body);
    const text = (gz ? await gunzipAsync(b.body) : b.body).toString('utf8');
    const kept = select(text, items);
    b.body = gz ? await gzipAsync(kept) : Buffer.from(kept);
    b.records = items.length;
  }

  // ---- accounting ----

  private fail(reason: string, text: string): void {
    this.failures[reason] = (this.failures[reason] ?? 0) + 1;
    this.noteError(text);
  }

  private noteError(text: string): void {
    this.lastError = this.redact(text);
    this.lastErrorAt = Date.now();
  }

  private drop(records: number, why: string): void {
    this.counts.droppedBatches++;
    this.counts.droppedRecords += records;
    this.noteError(why);
    this.log?.warn(`ingest: ${records} records lost: ${this.redact(why)}`);
  }

  /** Whatever a backend or a library echoes back, the secret never leaves in a message. */
  private redact(text: string): string {
    const token = this.config.token;
    return token === null || token === '' ? text : text.replaceAll(token, '[secret]');
  }

  private setBackend(state: BackendState): void {
    if (state === this.backend) return;
    const was = this.backend;
    this.backend = state;
    if (state === 'ok') this.log?.info(`ingest: ${this.label} takes batches again`);
    else if (state === 'down') {
      const where = this.spool === null ? 'dropping batches' : 'spooling batches';
      this.log?.warn(
        `ingest: ${this.label} failed ${this.config.retries} retries, ${where}: ${this.lastError}`,
      );
    } else if (was === 'ok') this.log?.warn(`ingest: ${this.label} failing, retrying: ${this.lastError}`);
  }
}
