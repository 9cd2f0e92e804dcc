import type { FlowRecord } from '../record/flow-record.js';
import { type CloudProvider, type FlowLogParseOptions, parseFlowLog } from './parse-flow-log.js';
import type { FlowLogPiece, FlowLogReader } from './read/flow-log-reader.js';

/**
 * A reader and a parser together: pieces in, records out, with the counters an operator needs
 * (/stats `cloud`, the `flowgate ingest` summary). Used once by `flowgate ingest` and
 * continuously by the collector.
 */

export interface FlowLogSourceStats {
  readonly name: string;
  readonly provider: CloudProvider;
  readonly description: string;
  /** Pieces (whole objects, or data appended to one) parsed. */
  pieces: number;
  /** Bytes of those pieces as read (compressed when the object was). */
  bytes: number;
  records: number;
  /** Lines, entries or flow tuples read. */
  units: number;
  /** NODATA/SKIPDATA lines and duplicate reports: read, on purpose no record. */
  skipped: number;
  /** Lines or entries rejected by the parser. */
  parseErrors: number;
  /** Objects that could not be read (they are retried). */
  readErrors: number;
  lastError: string | null;
  /** Unix ms of the last piece. */
  lastReadMs: number | null;
}

export interface FlowLogSourceOptions extends FlowLogParseOptions {
  readonly name: string;
  readonly provider: CloudProvider;
  /**
   * Takes a piece's records; the piece is checkpointed when the returned promise resolves, so
   * a caller that can only accept so much waits here (backpressure) instead of dropping.
   */
  readonly onRecords: (records: FlowRecord[], piece: FlowLogPiece) => Promise<void> | void;
  /** A located parse error or a read error, already counted. */
  readonly onProblem?: (source: string, problem: string) => void;
}

/** Parse errors reported per piece at most; the rest are only counted. */
const REPORTED_ERRORS_PER_PIECE = 5;

export class FlowLogSource {
  readonly stats: FlowLogSourceStats;

  constructor(
    readonly reader: FlowLogReader,
    private readonly options: FlowLogSourceOptions,
  ) {
    this.stats = {
      name: options.name,
      provider: options.provider,
      description: reader.description,
      pieces: 0,
      bytes: 0,
      records: 0,
      units: 0,
      skipped: 0,
      parseErrors: 0,
      readErrors: 0,
      lastError: null,
      lastReadMs: null,
    };
  }

  /** Reads what is there (or, with follow, until the signal aborts); resolves when done. */
  run(follow: boolean, signal?: AbortSignal): Promise<void> {
    return this.reader.run((piece) => this.deliver(piece), {
      follow,
      ...(signal === undefined ? {} : { signal }),
      onError: (source, err) => {
        this.stats.readErrors++;
        this.problem(source, err.message);
      },
    });
  }

  private async deliver(piece: FlowLogPiece): Promise<void> {
    const parsed = parseFlowLog(this.options.provider, piece.data, this.options);
    const s = this.stats;
    s.pieces++;
    s.bytes += piece.data.length;
    s.units += parsed.units;
    s.skipped += parsed.skipped;
    s.parseErrors += parsed.errors.length;
    s.lastReadMs = Date.now();
    for (const e of parsed.errors.slice(0, REPORTED_ERRORS_PER_PIECE)) {
      this.problem(piece.source, e.line > 0 ? `line ${e.line}: ${e.reason}` : e.reason);
    }
    if (parsed.errors.length > REPORTED_ERRORS_PER_PIECE) {
      this.problem(piece.source, `${parsed.errors.length - REPORTED_ERRORS_PER_PIECE} more errors`);
    }
    // The source name is the records' exporter name: cloud records have no exporter address.
    for (const rec of parsed.records) rec.flowsrcname ??= this.options.name;
    s.records += parsed.records.length;
    if (parsed.records.length > 0) await this.options.onRecords(parsed.records, piece);
  }

  private problem(source: string, text: string): void {
    this.stats.lastError = `${source}: ${text}`;
    this.options.onProblem?.(source, text);
  }
}
