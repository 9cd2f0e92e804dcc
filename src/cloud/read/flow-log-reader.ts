/**
 * The contract every flow-log reader (a file, a folder, S3, Azure Blob) keeps, so that
 * `flowgate ingest` and the collector's continuous reading drive them the same way.
 *
 * A reader finds objects (files, S3 objects, blobs), reads what is new in each, and hands the
 * caller *pieces*: bytes that parse on their own (a whole object, or the complete lines or JSON
 * records appended since the last read). It records progress in its checkpoint only after the
 * caller's `deliver` has resolved, so a restart neither skips a piece (progress is saved after
 * delivery) nor repeats one that was delivered (progress is saved before the next piece is read).
 * Only a crash between a delivery and its checkpoint write repeats that one piece.
 */

/** Bytes that parse on their own, from one object. */
export interface FlowLogPiece {
  /** Where it came from, for logs and errors: a path, `s3://bucket/key`, `azure://container/blob`. */
  readonly source: string;
  /** The content: a whole object (gzip stays compressed; the parsers gunzip), or complete new lines/records. */
  readonly data: Buffer;
}

/** An object with something left to read, for a progress bar. */
export interface PendingObject {
  readonly source: string;
  /** Bytes not read yet (the whole size for an object never read). */
  readonly bytes: number;
}

export interface ReadOptions {
  /** Keep polling for new objects and appended data until `signal` aborts; otherwise read what is there once. */
  readonly follow: boolean;
  readonly signal?: AbortSignal;
  /**
   * An object that could not be read (permissions, network, a file that vanished). It is not
   * marked done: with `follow` it is tried again at the next poll; without, it is left for the next run.
   */
  readonly onError?: (source: string, err: Error) => void;
}

export interface FlowLogReader {
  /** Says what is read, for logs: `folder /var/log/vpc`, `s3://bucket/prefix`. */
  readonly description: string;
  /** What is left to read now, oldest first. */
  pending(): Promise<PendingObject[]>;
  /**
   * Reads what is left, oldest first, handing each piece to `deliver` and checkpointing it once
   * `deliver` resolves. A rejected `deliver` stops the run with that error and the piece stays
   * unread. Resolves when everything is read (or, with `follow`, when the signal aborts).
   */
  run(deliver: (piece: FlowLogPiece) => Promise<void>, options: ReadOptions): Promise<void>;
}
