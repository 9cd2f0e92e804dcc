import type cliProgress from 'cli-progress';
import { CaptureFileError, newCaptureStats, readCaptureFile } from '../capture/capture-reader.js';
import { decoderSettingsFromConfig } from '../config/decoder-settings.js';
import type { FlowgateConfig } from '../config/types.js';
import { FlowDecoder } from '../decode/flow-decoder.js';
import { Enricher } from '../enrich/enricher.js';
import { toJsonLine } from '../record/json.js';
import { ExporterStats } from '../stats/exporter-stats.js';
import { type DecodedFile, formatDecodeSummary } from './decode-summary.js';
import { type LineSink, LineWriter } from './line-writer.js';
import { byteProgressBar } from './progress-bar.js';

export interface DecodeCommandOptions {
  /** Show a progress bar (default: when stderr is a terminal). */
  progress: boolean;
  /** Where JSON lines go (default process.stdout). */
  out?: LineSink;
  /** Where the summary, read errors and the progress bar go (default process.stderr). */
  err?: NodeJS.WritableStream;
}

/** Files smaller than this decode in about a second: no progress bar. */
const PROGRESS_MIN_BYTES = 32 << 20;
/** Datagrams between backpressure / progress checks. */
const CHECK_EVERY = 64;
/** sFlow interface counter sets kept for the run (only counted, never printed here). */
const MAX_INTERFACES = 10_000;

/**
 * `flowgate decode FILE...`: JSON lines on stdout, summary on stderr. Returns the exit code:
 * 0 when every file could be read (decode errors are reported, not fatal), 2 when one could not.
 * One decoder serves all files in the order given, so templates from one file apply to data in
 * the next (`flowgate decode tpl.dat data.dat`).
 */
export async function runDecode(
  files: string[],
  config: FlowgateConfig,
  opts: DecodeCommandOptions,
): Promise<number> {
  const err = opts.err ?? process.stderr;
  const writer = new LineWriter(opts.out ?? process.stdout);
  const decoder = new FlowDecoder(decoderSettingsFromConfig(config));
  // The same enrichment as `flowgate collect` (names, classes, AS/geo, tags, filters).
  // Never SNMP from here: the exporters of a capture file are not ours to poll.
  const enricher = new Enricher(
    { ...config, snmp: { ...config.snmp, enabled: false } },
    {
      announcedInterface: (exporter, ifIndex) => decoder.templates.interfaceName(exporter, ifIndex),
    },
  );
  const sink = new ExporterStats({
    maxExporters: config.decode.maxexporters,
    maxInterfaces: MAX_INTERFACES,
    maxClockSkewSec: config.general.maxclockskew,
    downsample: config.general.downsample,
    forward: (rec) => {
      if (enricher.apply(rec)) writer.line(toJsonLine(rec));
    },
  });
  const done: DecodedFile[] = [];
  let exitCode = 0;

  for (const path of files) {
    if (writer.closed) break;
    const stats = newCaptureStats();
    const file: DecodedFile = { path, stats, failure: null };
    done.push(file);
    let bar: cliProgress.SingleBar | null = null;
    try {
      let n = 0;
      for (const d of readCaptureFile(path, stats)) {
        if (bar === null && opts.progress && n === 0 && stats.fileBytes >= PROGRESS_MIN_BYTES) {
          bar = byteProgressBar(err, path, stats.fileBytes);
        }
        sink.nowMs = d.receivedAtMs;
        decoder.decode(d, sink);
        if (++n % CHECK_EVERY === 0) {
          bar?.update(stats.bytesRead);
          writer.flush();
          await writer.ready();
          if (writer.closed) break;
        }
      }
      bar?.update(stats.fileBytes);
    } catch (e) {
      if (!(e instanceof CaptureFileError)) throw e;
      file.failure = e.message;
      exitCode = 2;
      err.write(`flowgate decode: ${e.message}\n`);
    } finally {
      bar?.stop();
    }
  }
  await writer.end();
  if (writer.error !== null) {
    err.write(`flowgate decode: cannot write output: ${writer.error.message}\n`);
    exitCode = exitCode || 1;
  }
  err.write(formatDecodeSummary(done, sink.snapshot()));
  return exitCode;
}
