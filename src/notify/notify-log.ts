/**
 * What notifiers need from a logger: pino's Logger fits, and so does a test's line collector.
 * Notifiers redact secrets themselves before a field reaches it (see redact.ts).
 */
export interface NotifyLog {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

/** For notifiers built without a logger (tests, one-off tools). */
export const SILENT_LOG: NotifyLog = { info: () => {}, warn: () => {} };
