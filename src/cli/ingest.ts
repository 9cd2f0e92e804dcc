import type cliProgress from 'cli-progress';
import { FlowLogSource } from '../cloud/flow-log-source.js';
import type { CloudProvider } from '../cloud/parse-flow-log.js';
import { Checkpoint } from '../cloud/read/checkpoint.js';
import {
  azureConnectionStringFromEnv,
  FlowLogSourceError,
  openFlowLogReader,
} from '../cloud/read/open-reader.js';
import type { FlowgateConfig } from '../config/types.js';
import { Enricher } from '../enrich/enricher.js';
import { toJsonLine } from '../record/json.js';
import { type LineSink, LineWriter } from './line-writer.js';
import { byteProgressBar } from './progress-bar.js';

export interface IngestCommandOptions {
  /** AWS: the flow log's LogFormat, for files without a header line. */
  format?: string;
  /** Progress file: a later run continues where this one stopped. None: read everything. */
  checkpoint?: string;
  /** Keep reading new objects and appended data until interrupted. */
  follow?: boolean;
  /** Seconds between looks for new data with --follow. */
  poll?: string;
  /** Only objects whose name matches this regular expression. */
  pattern?: string;
  /** S3: an S3-compatible endpoint. */
  endpoint?: string;
  region?: string;
  /** Show a progress bar (default: when stderr is a terminal). */
  progress: boolean;
  /** Where JSON lines go (default process.stdout). */
  out?: LineSink;
  /** Where the summary, problems and the progress bar go (default process.stderr). */
  err?: NodeJS.WritableStream;
  /** Environment for credentials (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Ends a --follow run (default: SIGINT or SIGTERM). */
  signal?: AbortSignal;
}

/** Problems printed per run at most; the rest are counted in the summary. */
const PRINTED_PROBLEMS = 50;

/**
 * `flowgate ingest aws|gcp|azure SOURCE`: cloud flow logs to JSON lines on stdout (enriched as
 * `flowgate collect` would), summary on stderr. Returns the exit code: 0 when everything could
 * be read (rejected lines are reported, not fatal), 2 when an object could not be read (it stays
 * unread in the checkpoint, for the next run), 1 when the source cannot be opened at all.
 */
export async function runIngest(
  provider: CloudProvider,
  source: string,
  config: FlowgateConfig,
  opts: IngestCommandOptions,
): Promise<number> {
  const err = opts.err ?? process.stderr;
  const env = opts.env ?? process.env;
  const fail = (text: string): number => {
    err.write(`flowgate ingest: ${text}\n`);
    return 1;
  };
  const pollSec = opts.poll === undefined ? 10 : Number(opts.poll);
  if (!Number.isFinite(pollSec) || pollSec <= 0)
    return fail(`--poll: expected seconds > 0, got ${opts.poll}`);
  let pattern: RegExp | null = null;
  if (opts.pattern !== undefined) {
    try {
      pattern = new RegExp(opts.pattern);
    } catch (e) {
      return fail(`--pattern: ${(e as Error).message}`);
    }
  }
  let reader: ReturnType<typeof openFlowLogReader>;
  try {
    reader = openFlowLogReader({
      source,
      checkpoint: Checkpoint.open(opts.checkpoint ?? null),
      pollMs: pollSec * 1000,
      pattern,
      endpoint: opts.endpoint ?? null,
      region: opts.region ?? env.AWS_REGION ?? 'us-east-1',
      // S3 credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY when both are set (and no session
      // token), else the AWS SDK's own chain (environment with a session token, profile, role).
      ...s3KeysFromEnv(env),
      connectionString: azureConnectionStringFromEnv(env),
    });
  } catch (e) {
    if (e instanceof FlowLogSourceError || (e instanceof Error && e.message.startsWith('checkpoint '))) {
      return fail(e.message);
    }
    throw e;
  }

  const writer = new LineWriter(opts.out ?? process.stdout);
  // The same enrichment as `flowgate collect` (classes, AS/geo, tags, filters); no SNMP here.
  const enricher = new Enricher({ ...config, snmp: { ...config.snmp, enabled: false } }, {});
  let printed = 0;
  let written = 0;
  let bar: cliProgress.SingleBar | null = null;
  const flowLogs = new FlowLogSource(reader, {
    name: provider,
    provider,
    ...(opts.format === undefined ? {} : { format: opts.format }),
    onRecords: async (records, piece) => {
      for (const rec of records) {
        if (!enricher.apply(rec)) continue;
        writer.line(toJsonLine(rec));
        written++;
      }
      writer.flush();
      await writer.ready();
      bar?.increment(piece.data.length);
      if (writer.closed) throw new OutputClosed();
    },
    onProblem: (where, text) => {
      if (printed++ < PRINTED_PROBLEMS) {
        bar?.stop();
        err.write(`flowgate ingest: ${where}: ${text}\n`);
      }
    },
  });

  const stopped = new AbortController();
  const stop = (): void => stopped.abort();
  opts.signal?.addEventListener('abort', stop, { once: true });
  if (opts.signal === undefined && opts.follow === true) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  let exitCode = 0;
  try {
    if (opts.progress && opts.follow !== true) {
      const pending = await reader.pending();
      const total = pending.reduce((n, p) => n + p.bytes, 0);
      if (total > 0) bar = byteProgressBar(err, reader.description, total);
    }
    await flowLogs.run(opts.follow === true, stopped.signal);
  } catch (e) {
    if (!(e instanceof OutputClosed)) {
      err.write(`flowgate ingest: ${(e as Error).message}\n`);
      exitCode = 1;
    }
  } finally {
    bar?.stop();
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  await writer.end();
  if (writer.error !== null) {
    err.write(`flowgate ingest: cannot write output: ${writer.error.message}\n`);
    exitCode ||= 1;
  }
  const s = flowLogs.stats;
  if (s.readErrors > 0) exitCode ||= 2;
  err.write(
    `${s.description}: ${s.pieces} pieces (${s.bytes} bytes), ${s.units} ${unitName(provider)}, ${s.records} records (${written} written, ${s.records - written} filtered), ${s.skipped} skipped on purpose, ${s.parseErrors} rejected, ${s.readErrors} read errors\n`,
  );
  return exitCode;
}

function s3KeysFromEnv(env: NodeJS.ProcessEnv): {
  accessKeyId: string | null;
  secretAccessKey: string | null;
} {
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (!id || !secret || env.AWS_SESSION_TOKEN) return { accessKeyId: null, secretAccessKey: null };
  return { accessKeyId: id, secretAccessKey: secret };
}

/** The reader of our output went away (`| head`): stop reading, not an error. */
class OutputClosed extends Error {}

function unitName(provider: CloudProvider): string {
  return provider === 'aws' ? 'lines' : provider === 'gcp' ? 'entries' : 'flow tuples';
}
