/** Alerts and their events as the detection engine emits them, for the alert store's tests. */
import type { Alert, AlertEvent, AlertEventType } from '../../src/detect/alert.js';

/** 2026-11-23 12:00:00 UTC, flow time. */
export const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

const EMPTY_TOP = { sources: [], destinations: [], srcports: [], dstports: [], protocols: [] };

/** An active SYN flood on 192.0.2.10 started at T0, with any field replaced. */
export function alertOf(fields: Partial<Alert> = {}): Alert {
  return {
    id: 'a1',
    kind: 'syn_flood',
    severity: 'high',
    state: 'active',
    direction: 'inbound',
    target: '192.0.2.10',
    targetKind: 'host',
    interface: null,
    hostgroup: null,
    summary: 'SYN flood to 192.0.2.10: 310 kpps (threshold 100 kpps)',
    metric: 'pps',
    threshold: 100_000,
    value: 310_000,
    peak: 310_000,
    baseline: null,
    startedAt: T0,
    updatedAt: T0 + 10_000,
    endedAt: null,
    detectedAt: T0 + 12_000,
    totals: { bits: 1e9, packets: 3e6, flows: 4_100 },
    distinctSources: 4_100,
    top: EMPTY_TOP,
    exporters: ['198.51.100.1'],
    ...fields,
  };
}

/** The event of `type` for an alert (ended and endedAt set for `end`). */
export function eventOf(type: AlertEventType, fields: Partial<Alert> = {}): AlertEvent {
  const alert = alertOf(fields);
  if (type !== 'end') return { type, alert };
  return {
    type,
    alert: { ...alert, state: 'ended', endedAt: fields.endedAt ?? alert.updatedAt + 60_000 },
  };
}
