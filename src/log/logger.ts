/**
 * Structured logs on stderr (stdout carries records): JSON lines by default, or a plain human
 * line format for a terminal ('pretty', no extra dependency). Secret keys are redacted wherever
 * they appear in a logged object (a whole config, or a section of it).
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { MASK } from '../config/print.js';
import { SECRET_KEYS } from '../config/schema.js';
import type { FlowgateConfig } from '../config/types.js';

export interface LoggerOptions {
  /** Where lines go; default stderr. */
  destination?: DestinationStream;
  secretKeys?: readonly string[];
}

export function createLogger(config: FlowgateConfig['log'], opts: LoggerOptions = {}): Logger {
  const secretKeys = opts.secretKeys ?? SECRET_KEYS;
  // The key as logged in a whole config, nested one level deeper, or as part of its section.
  const redactPaths = secretKeys.flatMap((k) => {
    const inSection = k.split('.').slice(1).join('.');
    return inSection === '' ? [k, `*.${k}`] : [k, `*.${k}`, inSection, `*.${inSection}`];
  });
  const stderr = opts.destination ?? pino.destination({ dest: 2, sync: true });
  const out = config.format === 'pretty' ? prettyStream(stderr) : stderr;
  return pino(
    {
      level: config.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: redactPaths.length > 0 ? { paths: [...new Set(redactPaths)], censor: MASK } : undefined,
    },
    out,
  );
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
