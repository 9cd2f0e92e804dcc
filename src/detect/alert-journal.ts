/**
 * The alert store's file: one AlertEvent per line (JSON lines), appended as events arrive and
 * replayed at start, so alerts survive a restart. Alerts are rare (a few events per second at the
 * worst of an attack), so appends are synchronous: the order on disk is the order of the events
 * and nothing is pending when the process stops.
 *
 * A crash can leave the last line half written; loading skips (and counts) any line that is not a
 * whole event, and the store then rewrites the file so the next append starts on a fresh line.
 * Rewrites go through a temporary file and a rename: a crash during one leaves the old file or
 * the new one, never a mix.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ALERT_KINDS, type AlertEvent } from './alert.js';

export interface JournalContents {
  /** Whole events, in file order. */
  readonly events: AlertEvent[];
  /** Lines skipped: torn by a crash, or not an alert event. */
  readonly badLines: number;
}

const EVENT_TYPES: readonly string[] = ['start', 'update', 'end'];
const STATES: readonly string[] = ['active', 'ended'];
const KINDS: readonly string[] = ALERT_KINDS;

/** Enough of the shape to index and filter it; the rest is served as it was written. */
function isAlertEvent(v: unknown): v is AlertEvent {
  if (typeof v !== 'object' || v === null) return false;
  const { type, alert } = v as { type?: unknown; alert?: unknown };
  if (typeof type !== 'string' || !EVENT_TYPES.includes(type)) return false;
  if (typeof alert !== 'object' || alert === null) return false;
  const a = alert as Record<string, unknown>;
  return (
    typeof a.id === 'string' &&
    typeof a.kind === 'string' &&
    KINDS.includes(a.kind) &&
    typeof a.state === 'string' &&
    STATES.includes(a.state) &&
    typeof a.target === 'string' &&
    typeof a.startedAt === 'number' &&
    typeof a.updatedAt === 'number' &&
    (a.endedAt === null || typeof a.endedAt === 'number')
  );
}

/** The events in `path`; an absent file is an empty journal. */
export function readJournal(path: string): JournalContents {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { events: [], badLines: 0 };
    throw new Error(`alert file ${path} cannot be read: ${(err as Error).message}`);
  }
  const events: AlertEvent[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      badLines++;
      continue;
    }
    if (isAlertEvent(parsed)) events.push(parsed);
    else badLines++;
  }
  return { events, badLines };
}

const lineOf = (event: AlertEvent): string => `${JSON.stringify(event)}\n`;

/** Appends events to the file; `rewrite` replaces its whole content atomically. */
export class AlertJournal {
  private fd: number | null;
  /** Lines in the file now (compaction compares it with the alerts kept). */
  lines: number;

  constructor(
    readonly path: string,
    linesOnDisk: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a', 0o600);
    this.lines = linesOnDisk;
  }

  /** Throws on a write error (the store counts and logs it). */
  append(event: AlertEvent): void {
    if (this.fd === null) return;
    writeSync(this.fd, lineOf(event));
    this.lines++;
  }

  /** The file becomes exactly these events (temp file, fsync, rename, then appends go on there). */
  rewrite(events: Iterable<AlertEvent>): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    let lines = 0;
    try {
      let chunk = '';
      for (const e of events) {
        chunk += lineOf(e);
        lines++;
        if (chunk.length > 1 << 20) {
          writeSync(fd, chunk);
          chunk = '';
        }
      }
      if (chunk !== '') writeSync(fd, chunk);
      // Without it a crash just after the rename could leave an empty file under the real name.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.fd = openSync(this.path, 'a', 0o600);
    this.lines = lines;
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
