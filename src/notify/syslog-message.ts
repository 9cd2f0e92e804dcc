/**
 * Alert events as RFC 5424 syslog messages:
 * `<PRI>1 TIMESTAMP HOSTNAME flowgate PROCID start|update|end [flowgate@32473 ...] summary`.
 * 32473 is the private enterprise number RFC 5612 reserves for documentation; the SD-ID is
 * stable so receivers can parse on it.
 */
import { hostname } from 'node:os';
import type { AlertEvent, AlertSeverity } from '../detect/alert.js';

export const SD_ID = 'flowgate@32473';
export const APP_NAME = 'flowgate';

/** RFC 5424 §6.2.1 facility codes by their usual names. */
export const FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  console: 14,
  solaris_cron: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type FacilityName = keyof typeof FACILITIES;

/**
 * Syslog severity (RFC 5424 §6.2.1) of an event: critical → crit (2), high → err (3), medium →
 * warning (4), low → notice (5). An end event is notice (5) whatever the alert's severity: the
 * incident is over, nobody needs paging for it.
 */
export function syslogSeverity(event: AlertEvent): number {
  if (event.type === 'end') return 5;
  return SEVERITY_CODES[event.alert.severity];
}

const SEVERITY_CODES: Record<AlertSeverity, number> = { critical: 2, high: 3, medium: 4, low: 5 };

/** RFC 5424 §6.3.3: inside PARAM-VALUE, `"`, `\` and `]` are escaped with a backslash. */
export function escapeSdValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** SD-PARAMs of an event, in this order; values absent from the alert are left out. */
export function alertSdParams(event: AlertEvent): [string, string][] {
  const a = event.alert;
  const params: [string, string | number | null][] = [
    ['id', a.id],
    ['kind', a.kind],
    ['target', a.target],
    ['targetKind', a.targetKind],
    ['exporter', a.interface?.exporter ?? null],
    ['ifIndex', a.interface?.index ?? null],
    ['ifName', a.interface?.name ?? null],
    ['severity', a.severity],
    ['state', a.state],
    ['direction', a.direction],
    ['hostgroup', a.hostgroup],
    ['metric', a.metric],
    ['value', a.value],
    ['peak', a.peak],
    ['threshold', a.threshold],
    ['baseline', a.baseline],
    ['bits', a.totals.bits],
    ['packets', a.totals.packets],
    ['flows', a.totals.flows],
    ['startedAt', new Date(a.startedAt).toISOString()],
    ['endedAt', a.endedAt === null ? null : new Date(a.endedAt).toISOString()],
  ];
  return params.filter((p): p is [string, string | number] => p[1] !== null).map(([k, v]) => [k, String(v)]);
}

export function structuredData(event: AlertEvent): string {
  const params = alertSdParams(event).map(([k, v]) => ` ${k}="${escapeSdValue(v)}"`);
  return `[${SD_ID}${params.join('')}]`;
}

export interface SyslogHeaderFields {
  readonly facility: number;
  readonly severity: number;
  readonly timestampMs: number;
  readonly msgid: string;
}

/** HOSTNAME is PRINTUSASCII without spaces, at most 255 (§6.2.4); anything else becomes "-". */
const LOCAL_HOSTNAME = ((): string => {
  const h = hostname();
  return /^[\x21-\x7e]{1,255}$/.test(h) ? h : '-';
})();

/** Everything up to and including the space before STRUCTURED-DATA. */
export function syslogHeader(f: SyslogHeaderFields): string {
  const pri = f.facility * 8 + f.severity;
  const ts = new Date(f.timestampMs).toISOString();
  return `<${pri}>1 ${ts} ${LOCAL_HOSTNAME} ${APP_NAME} ${process.pid} ${f.msgid} `;
}

/**
 * The message as its three parts, so a transport that must shorten it (UDP) cuts only MSG.
 * MSG is sent without a BOM (MSG-ANY, §6.4): many receivers show a BOM as garbage.
 */
export interface SyslogParts {
  readonly header: string;
  readonly structuredData: string;
  readonly msg: string;
}

export function rfc5424Parts(event: AlertEvent, facility: number, nowMs: number): SyslogParts {
  return {
    header: syslogHeader({
      facility,
      severity: syslogSeverity(event),
      timestampMs: nowMs,
      msgid: event.type,
    }),
    structuredData: structuredData(event),
    msg: event.alert.summary.replace(/[\r\n]+/g, ' '),
  };
}

export function joinParts(p: SyslogParts): string {
  return p.msg === '' ? `${p.header}${p.structuredData}` : `${p.header}${p.structuredData} ${p.msg}`;
}
