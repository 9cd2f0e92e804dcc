/** Alert events as the detection engine will emit them, for feeding a Mitigator. */
import type { Alert, AlertEvent, AlertEventType, AlertKind, AlertTopEntry } from '../../src/detect/alert.js';

function topEntry(key: string): AlertTopEntry {
  return { key, bits: 8e9, packets: 1e6, flows: 4000 };
}

export interface FakeAlert {
  id: string;
  target: string;
  kind?: AlertKind;
  direction?: Alert['direction'];
  targetKind?: Alert['targetKind'];
  /** Top source port, e.g. "123" for NTP reflection. */
  srcport?: string;
  protocol?: string;
}

export function alertEvent(type: AlertEventType, a: FakeAlert): AlertEvent {
  const kind = a.kind ?? 'udp_flood';
  const now = Date.now();
  const alert: Alert = {
    id: a.id,
    kind,
    severity: 'critical',
    state: type === 'end' ? 'ended' : 'active',
    direction: a.direction === undefined ? 'inbound' : a.direction,
    target: a.target,
    targetKind: a.targetKind ?? 'host',
    interface: null,
    hostgroup: null,
    summary: `${kind} to ${a.target}: 8 Gbps (threshold 1 Gbps)`,
    metric: 'bps',
    threshold: 1e9,
    value: 8e9,
    peak: 8e9,
    baseline: null,
    startedAt: now - 30_000,
    updatedAt: now,
    endedAt: type === 'end' ? now : null,
    detectedAt: now - 25_000,
    totals: { bits: 2.4e11, packets: 3e7, flows: 120_000 },
    distinctSources: 4100,
    top: {
      sources: [topEntry('198.51.100.7')],
      destinations: [topEntry(a.target)],
      srcports: a.srcport === undefined ? [] : [topEntry(a.srcport)],
      dstports: [],
      protocols: [topEntry(a.protocol ?? 'udp')],
    },
    exporters: ['203.0.113.1'],
  };
  return { type, alert };
}
