/**
 * The `notify` configuration section and the sinks it builds. The config schema (zod) validates
 * and fills defaults; this module only turns validated settings into notifiers.
 */
import { readFileSync } from 'node:fs';
import type { AlertSink } from '../detect/alert.js';
import type { NotifyLog } from './notify-log.js';
import { ScriptNotifier } from './script.js';
import { type SyslogFormat, SyslogNotifier, type SyslogProtocol } from './syslog.js';
import { FACILITIES, type FacilityName } from './syslog-message.js';
import { WebhookNotifier } from './webhook.js';

export interface WebhookConfig {
  readonly url: string;
  /** Sent with every request; values are secrets (never logged). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per request, ms (default 5000). */
  readonly timeout?: number;
  /** Further attempts after a failed one (default 3). */
  readonly retries?: number;
  /** First retry delay, ms, doubled per retry with jitter (default 1000). */
  readonly retryinterval?: number;
  /** Events waiting for delivery; the oldest are dropped beyond it (default 1000). */
  readonly maxqueued?: number;
}

export interface SyslogConfig {
  /** "host:port" or "[v6]:port"; the port defaults to 514. */
  readonly server: string;
  readonly protocol?: SyslogProtocol;
  readonly format?: SyslogFormat;
  /** A facility name (local0 ... local7, daemon, ...) or its code (default local0). */
  readonly facility?: FacilityName | number;
}

export interface ScriptConfig {
  /** argv: the executable and its arguments (no shell). */
  readonly command: readonly string[];
  /** Seconds before a run is killed (default 30). */
  readonly timeout?: number;
  /** Runs at once (default 2). */
  readonly concurrency?: number;
}

export interface NotifyConfig {
  readonly webhooks?: readonly WebhookConfig[];
  readonly syslog?: readonly SyslogConfig[];
  readonly scripts?: readonly ScriptConfig[];
}

const DEFAULT_SYSLOG_PORT = 514;

export function buildNotifiers(config: NotifyConfig, log: NotifyLog): AlertSink[] {
  const sinks: AlertSink[] = [];
  for (const w of config.webhooks ?? []) {
    sinks.push(
      new WebhookNotifier({
        url: w.url,
        headers: w.headers,
        timeoutMs: w.timeout,
        retries: w.retries,
        retryIntervalMs: w.retryinterval,
        maxQueued: w.maxqueued,
        log,
      }),
    );
  }
  for (const s of config.syslog ?? []) {
    const { host, port } = parseServer(s.server);
    sinks.push(
      new SyslogNotifier({
        host,
        port,
        protocol: s.protocol ?? 'udp',
        format: s.format ?? 'rfc5424',
        facility: facilityCode(s.facility ?? 'local0'),
        productVersion: flowgateVersion(),
        log,
      }),
    );
  }
  for (const c of config.scripts ?? []) {
    sinks.push(
      new ScriptNotifier({ command: c.command, timeoutSeconds: c.timeout, concurrency: c.concurrency, log }),
    );
  }
  return sinks;
}

export function facilityCode(facility: FacilityName | number): number {
  const code = typeof facility === 'number' ? facility : FACILITIES[facility];
  if (code === undefined || !Number.isInteger(code) || code < 0 || code > 23)
    throw new Error(`syslog facility ${JSON.stringify(facility)}: expected local0..local7, a name or 0-23`);
  return code;
}

/** "host:port", "[v6]:port", "host" (port 514), or a bare IPv6 address. */
export function parseServer(server: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  const plain = /^([^:]+)(?::(\d+))?$/.exec(server);
  const m = bracketed ?? plain;
  if (m === null) {
    if (server.includes(':')) return { host: server, port: DEFAULT_SYSLOG_PORT };
    throw new Error(`syslog server ${JSON.stringify(server)}: expected host:port`);
  }
  const port = m[2] === undefined ? DEFAULT_SYSLOG_PORT : Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`syslog server ${JSON.stringify(server)}: port out of range`);
  return { host: m[1], port };
}

let cachedVersion: string | null = null;

/** ../../package.json from both src/notify (tsx) and dist/notify (built). */
function flowgateVersion(): string {
  if (cachedVersion === null) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version?: string;
      };
      cachedVersion = pkg.version ?? 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}
