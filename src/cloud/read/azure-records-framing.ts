/**
 * Finds the complete top-level objects of an Azure flow-log blob's `records` array in bytes that
 * may stop anywhere, so that a blob Azure is still appending to can be read a bit at a time.
 *
 * Azure writes each hourly `PT1H.json` as `{"records":[{...},{...}]}` and, during the hour,
 * re-commits it with more records before the closing `]}` (NSG/VNet flow logs, "Log file" section
 * of the Network Watcher docs). The bytes up to the end of the last complete record therefore
 * never change; the closing `]}` does. A reader remembers that end and, next time, frames from
 * there in state `separator` (the byte before it was the record's `}`).
 *
 * A small byte scanner, not a JSON parser: it tracks strings (quotes and backslash escapes) and
 * brace depth, which is all it takes to find where an object ends. UTF-8 multi-byte sequences
 * never contain `"`, `\`, `{` or `}` bytes, so scanning bytes is safe. What is inside a record is
 * the flow-log parser's job.
 */

/** Where framing starts: at byte 0 of the blob, before a record (after `[` or `,`), or after one (after `}`). */
export type FramingStart = 'document' | 'value' | 'separator';

export interface FramedRecords {
  /** Each complete record, a view into the input (not a copy). */
  readonly records: Uint8Array[];
  /**
   * Bytes of the input that will never need reading again: up to the end of the last complete
   * record, or of the `{"records":[` header when no record is complete yet. 0 when nothing is.
   */
  readonly consumed: number;
  /** The state to resume in at `consumed` (`value` right after the header, `separator` after a record). */
  readonly resume: FramingStart;
  /** Whether the array's closing `]` was seen: nothing more until the blob changes. */
  readonly closed: boolean;
  /** Runs of bytes that are neither a record nor a separator, each counted once and skipped. */
  readonly errors: string[];
  /** The input does not begin with `{"records":[` (only when starting at `document`): nothing was framed. */
  readonly notRecordsDocument: boolean;
}

/** The state to resume in after `byte` (the one just before a saved offset); null if it cannot end a framed unit. */
export function framingStartAfter(byte: number | undefined): FramingStart | null {
  if (byte === BRACE_CLOSE) return 'separator';
  if (byte === BRACKET_OPEN) return 'value';
  return null;
}

const BRACE_OPEN = 0x7b;
const BRACE_CLOSE = 0x7d;
const BRACKET_OPEN = 0x5b;
const BRACKET_CLOSE = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const RECORDS_KEY = Buffer.from('"records"');

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

function skipSpace(data: Uint8Array, i: number): number {
  let p = i;
  while (p < data.length && isSpace(data[p] as number)) p++;
  return p;
}

/**
 * Matches `{ "records" : [` (JSON whitespace allowed) at the start of `data`: the offset after
 * `[`, -1 when the bytes so far are a prefix of it (wait for more), -2 when they are not.
 */
function matchHeader(data: Uint8Array): number {
  let p = skipSpace(data, 0);
  if (p >= data.length) return -1;
  if (data[p] !== BRACE_OPEN) return -2;
  p = skipSpace(data, p + 1);
  for (let k = 0; k < RECORDS_KEY.length; k++, p++) {
    if (p >= data.length) return -1;
    if (data[p] !== RECORDS_KEY[k]) return -2;
  }
  p = skipSpace(data, p);
  if (p >= data.length) return -1;
  if (data[p] !== COLON) return -2;
  p = skipSpace(data, p + 1);
  if (p >= data.length) return -1;
  if (data[p] !== BRACKET_OPEN) return -2;
  return p + 1;
}

/** The offset just after the object that starts at `start` (a `{`), or -1 if it does not end in `data`. */
function objectEnd(data: Uint8Array, start: number): number {
  let depth = 0;
  let inString = false;
  for (let p = start; p < data.length; p++) {
    const b = data[p];
    if (inString) {
      if (b === BACKSLASH) p++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === BRACE_OPEN) {
      depth++;
    } else if (b === BRACE_CLOSE) {
      depth--;
      if (depth === 0) return p + 1;
    }
  }
  return -1;
}

/** Frames the complete records in `data`, which starts in state `start`. Never throws. */
export function frameAzureRecords(data: Uint8Array, start: FramingStart): FramedRecords {
  const records: Uint8Array[] = [];
  const errors: string[] = [];
  let p = 0;
  let consumed = 0;
  let state: 'value' | 'separator' = start === 'separator' ? 'separator' : 'value';
  let resume: FramingStart = start;
  if (start === 'document') {
    const h = matchHeader(data);
    if (h === -2) {
      return { records, consumed: 0, resume, closed: false, errors, notRecordsDocument: true };
    }
    if (h === -1) return { records, consumed: 0, resume, closed: false, errors, notRecordsDocument: false };
    p = h;
    consumed = h;
    resume = 'value';
  }
  let closed = false;
  while (true) {
    p = skipSpace(data, p);
    if (p >= data.length) break;
    const b = data[p];
    if (b === BRACE_OPEN) {
      // A `{` where a comma was due is counted as garbage, but the record is still taken.
      if (state === 'separator') errors.push(`missing "," before the record at byte ${p}`);
      const end = objectEnd(data, p);
      if (end < 0) break; // incomplete: left for the next read
      records.push(data.subarray(p, end));
      p = end;
      consumed = end;
      resume = 'separator';
      state = 'separator';
    } else if (b === COMMA && state === 'separator') {
      p++;
      state = 'value';
    } else if (b === BRACKET_CLOSE) {
      closed = true;
      break;
    } else {
      // Garbage: skip to the next byte that can start or end something at this level.
      const from = p;
      while (p < data.length) {
        const c = data[p];
        if (c === BRACE_OPEN || c === BRACKET_CLOSE || (c === COMMA && p > from)) break;
        p++;
      }
      errors.push(`${p - from} unexpected byte(s) in the records array at byte ${from}`);
      if (p < data.length && data[p] === COMMA) p++;
      state = 'value';
    }
  }
  return { records, consumed, resume, closed, errors, notRecordsDocument: false };
}

const PIECE_OPEN = Buffer.from('{"records":[');
const PIECE_CLOSE = Buffer.from(']}');
const COMMA_BYTES = Buffer.from(',');

/** `{"records":[<r1>,<r2>]}`: framed records as one document the Azure parser reads. */
export function recordsDocument(records: readonly Uint8Array[]): Buffer {
  const parts: Uint8Array[] = [PIECE_OPEN];
  for (let i = 0; i < records.length; i++) {
    if (i > 0) parts.push(COMMA_BYTES);
    parts.push(records[i] as Uint8Array);
  }
  parts.push(PIECE_CLOSE);
  return Buffer.concat(parts);
}
