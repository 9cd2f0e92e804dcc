/**
 * Flowgate's own log lines to a syslog server, as RFC 5424 messages over UDP or TCP (RFC 6587
 * octet counting), for pino.multistream:
 *
 *   <27>1 2026-11-24T01:39:01.000Z host flowgate 4242 - - bind failed address="[::]:2055"
 *
 * MSGID and STRUCTURED-DATA are NILVALUE; MSG is the log message then its fields as key=JSON.
 * The framing, transports, reconnection and UDP size limit are the alert notifier's
 * (notify/syslog.ts). Logging must never hold up the collector, so this is lossy by design: a
 * line is formatted and handed on synchronously, and when the server is slow or away the
 * bounded queue drops lines and counts them. Secrets are masked by the logger before a line
 * gets here (logger.ts redact paths).
 */
import { facilityCode, parseServer } from '../notify/notifiers.js';
import { type NotifyLog, SILENT_LOG } from '../notify/notify-log.js';
import { SyslogNotifier, type SyslogProtocol, type SyslogStatus } from '../notify/syslog.js';
import { type FacilityName, type SyslogParts, syslogHeader } from '../notify/syslog-message.js';

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

const LEVEL_VALUES: Record<LogLevelName, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

export interface SyslogDestinationOptions {
  /** "host:port", "[v6]:port" or "host" (port 514). */
  readonly server: string;
  readonly protocol?: SyslogProtocol;
  /** Lines below this level are not sent (default info). */
  readonly level?: LogLevelName;
  /** Default daemon. */
  readonly facility?: FacilityName | number;
  /** Lines waiting for the server (TCP) or for the socket (UDP); beyond it lines are dropped. */
  readonly maxQueued?: number;
  readonly reconnectMs?: number;
  readonly reconnectMaxMs?: number;
  readonly closeTimeoutMs?: number;
  /**
   * Where transport trouble is reported. Must not write back into this destination (a failing
   * server would then feed itself): give the stderr-only logger, or leave the default (silent).
   */
  readonly log?: NotifyLog;
}

export interface SyslogDestinationStats extends SyslogStatus {
  /** Lines dropped here because the UDP socket had maxQueued sends outstanding. */
  readonly overloaded: number;
  /** Lines below the level. */
  readonly filtered: number;
}

export interface SyslogDestination {
  /** For pino.multistream: takes one serialised pino line per write, never blocks, never throws. */
  readonly stream: { write(line: string): void };
  close(): Promise<void>;
  stats(): SyslogDestinationStats;
}

export function createSyslogDestination(opts: SyslogDestinationOptions): SyslogDestination {
  const { host, port } = parseServer(opts.server);
  const protocol = opts.protocol ?? 'udp';
  const facility = facilityCode(opts.facility ?? 'daemon');
  const minLevel = LEVEL_VALUES[opts.level ?? 'info'];
  const maxQueued = opts.maxQueued ?? 1000;
  const notifier = new SyslogNotifier({
    host,
    port,
    protocol,
    format: 'rfc5424',
    facility,
    productVersion: '',
    maxQueued,
    reconnectMs: opts.reconnectMs,
    reconnectMaxMs: opts.reconnectMaxMs,
    closeTimeoutMs: opts.closeTimeoutMs,
    log: opts.log ?? SILENT_LOG,
  });
  const send = (parts: SyslogParts) => notifier.send(parts);
  let handed = 0;
  let overloaded = 0;
  let filtered = 0;
  let closed = false;

  const write = (line: string): void => {
    if (closed) return;
    const entry = parseLogLine(line);
    if (entry.level < minLevel) {
      filtered++;
      return;
    }
    if (protocol === 'udp') {
      // The notifier does not bound UDP sends (alerts are few); log lines can come in floods.
      const s = notifier.status();
      if (handed - s.sent - s.failed >= maxQueued) {
        overloaded++;
        return;
      }
    }
    handed++;
    send(logParts(entry, facility));
  };

  return {
    stream: { write },
    close: async () => {
      closed = true;
      await notifier.close();
    },
    stats: () => ({ ...notifier.status(), overloaded, filtered }),
  };
}

/** What a syslog message needs from one pino line. */
export interface LogEntry {
  /** pino's numeric level. */
  readonly level: number;
  readonly timeMs: number;
  /** The message then the fields: `bind failed address="[::]:2055"`. */
  readonly text: string;
}

const NOT_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/**
 * A pino JSON line (level as label or number, time as ISO string or epoch ms). A line that is
 * not JSON (a pretty line) is sent whole at info, rather than lost.
 */
export function parseLogLine(line: string): LogEntry {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { level: LEVEL_VALUES.info, timeMs: Date.now(), text: oneLine(line.trim()) };
  }
  if (rec === null || typeof rec !== 'object')
    return { level: LEVEL_VALUES.info, timeMs: Date.now(), text: oneLine(line.trim()) };
  let text = typeof rec.msg === 'string' ? rec.msg : '';
  for (const [k, v] of Object.entries(rec)) {
    if (NOT_FIELDS.has(k) || v === undefined) continue;
    text += `${text === '' ? '' : ' '}${k}=${JSON.stringify(v)}`;
  }
  return { level: levelValue(rec.level), timeMs: timeMs(rec.time), text: oneLine(text) };
}

function levelValue(level: unknown): number {
  if (typeof level === 'number') return level;
  if (typeof level === 'string' && level in LEVEL_VALUES) return LEVEL_VALUES[level as LogLevelName];
  return LEVEL_VALUES.info;
}

function timeMs(time: unknown): number {
  if (typeof time === 'number') return time;
  if (typeof time === 'string') {
    const ms = Date.parse(time);
    if (!Number.isNaN(ms)) return ms;
  }
  return Date.now();
}

/** A raw line break would end the message for receivers that split on newlines. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/**
 * RFC 5424 §6.2.1 severity of a pino level: fatal → crit (2), error → err (3), warn → warning (4),
 * info → info (6), debug and trace → debug (7).
 */
export function logSeverity(level: number): number {
  if (level >= LEVEL_VALUES.fatal) return 2;
  if (level >= LEVEL_VALUES.error) return 3;
  if (level >= LEVEL_VALUES.warn) return 4;
  if (level >= LEVEL_VALUES.info) return 6;
  return 7;
}

export function logParts(entry: LogEntry, facility: number): SyslogParts {
  return {
    header: syslogHeader({
      facility,
      severity: logSeverity(entry.level),
      timestampMs: entry.timeMs,
      msgid: '-',
    }),
    structuredData: '-',
    msg: entry.text,
  };
}
