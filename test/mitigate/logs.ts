/** A pino logger whose lines the test can read (the Mitigator's refusals must be logged). */
import pino, { type Logger } from 'pino';

export interface CapturedLogger {
  logger: Logger;
  lines: () => Record<string, unknown>[];
}

export function capturedLogger(): CapturedLogger {
  const raw: string[] = [];
  const logger = pino({ level: 'debug', base: undefined }, { write: (line: string) => raw.push(line) });
  return { logger, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Polls `check` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
