/** Alert events for the notifier tests, with fields overridable per test. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Alert, AlertEvent, AlertEventType } from '../../src/detect/alert.js';

export function makeAlert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'a-1',
    kind: 'syn_flood',
    severity: 'high',
    state: 'active',
    direction: 'inbound',
    target: '192.0.2.10',
    targetKind: 'host',
    interface: null,
    hostgroup: null,
    summary: 'SYN flood to 192.0.2.10: 310 kpps (threshold 100 kpps), 4,100 sources',
    metric: 'pps',
    threshold: 100_000,
    value: 310_000,
    peak: 310_000,
    baseline: null,
    startedAt: Date.UTC(2024, 4, 1, 10, 0, 0),
    updatedAt: Date.UTC(2024, 4, 1, 10, 0, 30),
    endedAt: null,
    detectedAt: Date.UTC(2024, 4, 1, 10, 0, 12),
    totals: { bits: 8e9, packets: 9_300_000, flows: 4100 },
    distinctSources: 4100,
    top: {
      sources: [{ key: '198.51.100.7', bits: 1e8, packets: 2e5, flows: 10 }],
      destinations: [{ key: '192.0.2.10', bits: 8e9, packets: 9.3e6, flows: 4100 }],
      srcports: [{ key: '40000', bits: 1e6, packets: 2e3, flows: 1 }],
      dstports: [{ key: '443', bits: 8e9, packets: 9.3e6, flows: 4100 }],
      protocols: [{ key: 'tcp', bits: 8e9, packets: 9.3e6, flows: 4100 }],
    },
    exporters: ['203.0.113.1'],
    ...over,
  };
}

export function makeEvent(type: AlertEventType, over: Partial<Alert> = {}): AlertEvent {
  return { type, alert: makeAlert(over) };
}

/** Polls until check() returns true; fails with what() after timeoutMs. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: () => string,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what()}`);
    await sleep(50);
  }
}
