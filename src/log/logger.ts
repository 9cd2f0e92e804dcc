/**
 * Structured logs on stderr (stdout carries records): JSON lines by default, or a plain human
 * line format for a terminal ('pretty', no extra dependency). Secret keys are redacted wherever
 * they appear in a logged object (a whole config, or a section of it).
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { MASK } from '../config/print.js';
import { SECRET_KEYS } from '../config/schema.js';
import type { FlowgateConfig } from '../config/types.js';
import { createSyslogDestination } from './syslog-destination.js';

export interface LoggerOptions {
  /** Where lines go; default stderr. */
  destination?: DestinationStream;
  secretKeys?: readonly string[];
  /** Also send lines to a syslog server (the `syslog:` section); null or no server: not. */
  syslog?: FlowgateConfig['syslog'] | null;
}

const LEVEL_ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/** Destinations a logger owns (the syslog socket), closed by closeLogger. */
const owned = new WeakMap<Logger, { close(): Promise<void> }>();

/** Sends what is queued for syslog (TCP, briefly) and closes its socket; stderr needs nothing. */
export async function closeLogger(logger: Logger): Promise<void> {
  await owned.get(logger)?.close();
  owned.delete(logger);
}

export function createLogger(config: FlowgateConfig['log'], opts: LoggerOptions = {}): Logger {
  const secretKeys = opts.secretKeys ?? SECRET_KEYS;
  // The key as logged in a whole config, nested one level deeper, or as part of its section.
  const redactPaths = secretKeys.flatMap((k) => {
    const inSection = k.split('.').slice(1).join('.');
    return inSection === '' ? [k, `*.${k}`] : [k, `*.${k}`, inSection, `*.${inSection}`];
  });
  const stderr = opts.destination ?? pino.destination({ dest: 2, sync: true });
  let out: DestinationStream | pino.MultiStreamRes =
    config.format === 'pretty' ? prettyStream(stderr) : stderr;
  let level: string = config.level;
  const syslog = opts.syslog ?? null;
  let syslogDestination: { close(): Promise<void> } | null = null;
  if (syslog !== null && syslog.server !== null) {
    // Syslog gets pino's JSON lines (the pretty format only wraps stderr); each stream has its
    // own level, the logger the lower of both. Transport trouble is not logged back into syslog.
    const dest = createSyslogDestination({
      server: syslog.server,
      protocol: syslog.protocol,
      level: syslog.level,
      facility: syslog.facility,
    });
    syslogDestination = dest;
    out = pino.multistream([
      { level: config.level, stream: out },
      { level: syslog.level, stream: dest.stream },
    ]);
    level = LEVEL_ORDER[
      Math.min(LEVEL_ORDER.indexOf(config.level), LEVEL_ORDER.indexOf(syslog.level))
    ] as string;
  }
  const logger = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: redactPaths.length > 0 ? { paths: [...new Set(redactPaths)], censor: MASK } : undefined,
    },
    out,
  );
  if (syslogDestination !== null) owned.set(logger, syslogDestination);
  return logger;
}

/** Wraps a stream so that each pino JSON line is written as one human-readable line. */
function prettyStream(target: DestinationStream): DestinationStream {
  return { write: (line: string) => target.write(prettyLine(line)) };
}

const HIDDEN = new Set(['level', 'time', 'msg']);

/** `2024-05-01T10:00:00.000Z INFO  listening address=[::]:2055`; an error's stack follows, indented. */
export function prettyLine(jsonLine: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  let line = `${String(rec.time ?? '')} ${String(rec.level ?? '')
    .toUpperCase()
    .padEnd(5)} ${String(rec.msg ?? '')}`;
  let stack = '';
  for (const [k, v] of Object.entries(rec)) {
    if (HIDDEN.has(k)) continue;
    if (v !== null && typeof v === 'object' && typeof (v as { stack?: unknown }).stack === 'string') {
      stack = `\n    ${(v as { stack: string }).stack.split('\n').join('\n    ')}`;
      line += ` ${k}=${fieldValue((v as { message?: unknown }).message ?? '')}`;
      continue;
    }
    line += ` ${k}=${fieldValue(v)}`;
  }
  return `${line}${stack}\n`;
}

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}
