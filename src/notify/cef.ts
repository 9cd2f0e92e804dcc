/**
 * Alert events in ArcSight Common Event Format (CEF rev. 25, "Implementing ArcSight CEF"):
 * `CEF:0|Flowgate|Flowgate|<version>|<kind>|<summary>|<severity>|<extensions>`, carried as the MSG
 * of a syslog message for SIEMs that parse CEF rather than RFC 5424 structured data.
 */
import type { AlertEvent, AlertSeverity, AlertTopEntry } from '../detect/alert.js';

/** CEF severity 0-10: low 3, medium 5, high 8, critical 10 (the ArcSight bands Low/Medium/High/Very-High). */
const CEF_SEVERITY: Record<AlertSeverity, number> = { low: 3, medium: 5, high: 8, critical: 10 };

/** Header fields: `\` and `|` are escaped; a header cannot hold a line break, so it becomes a space. */
export function escapeCefHeader(value: string): string {
  return value.replace(/[\\|]/g, (c) => `\\${c}`).replace(/\r\n|[\r\n]/g, ' ');
}

/** Extension values: `\` and `=` are escaped; line breaks are written as `\n` / `\r`. */
export function escapeCefExtension(value: string): string {
  return value
    .replace(/[\\=]/g, (c) => `\\${c}`)
    .replace(/\r\n|\n/g, '\\n')
    .replace(/\r/g, '\\r');
}

function topKey(entries: readonly AlertTopEntry[]): string | null {
  return entries.length > 0 ? entries[0].key : null;
}

/**
 * The alert's target is dst (inbound: the victim) or src (outbound, scans: the source); the other
 * end, the ports and the protocol are the heaviest contributors. Exporter alerts name the exporter
 * as dvc (the device that reported); interface alerts name the device and its interface; hostgroup
 * alerts name the group in cs3 and its most hit host as dst.
 */
export function cefExtensions(event: AlertEvent): [string, string][] {
  const a = event.alert;
  const top = a.top;
  const fields: [string, string | number | null][] = [];
  if (a.targetKind === 'exporter') {
    fields.push(['dvc', a.target]);
  } else if (a.interface !== null) {
    // The device and its interface; the heaviest ends of the traffic through it.
    const i = a.interface;
    fields.push(
      ['dvc', i.exporter],
      [
        i.direction === 'in' ? 'deviceInboundInterface' : 'deviceOutboundInterface',
        i.name ?? String(i.index),
      ],
      ['src', topKey(top.sources)],
      ['dst', topKey(top.destinations)],
    );
  } else if (a.targetKind === 'hostgroup') {
    // The hostgroup is named in msg and cs3; dst is its most hit host.
    fields.push(
      ['src', topKey(top.sources)],
      ['dst', topKey(top.destinations)],
      ['cs3Label', 'hostgroup'],
      ['cs3', a.target],
    );
  } else if (a.direction === 'outbound') {
    fields.push(['src', a.target], ['dst', topKey(top.destinations)]);
  } else {
    fields.push(['src', topKey(top.sources)], ['dst', a.target]);
  }
  fields.push(
    ['spt', topKey(top.srcports)],
    ['dpt', topKey(top.dstports)],
    ['proto', topKey(top.protocols)],
    ['cnt', a.totals.flows],
    ['start', a.startedAt],
    ['end', a.endedAt],
    ['act', event.type],
    ['cs1Label', 'alertId'],
    ['cs1', a.id],
    ['cs2Label', 'metric'],
    ['cs2', a.metric],
    ['cn1Label', 'peak'],
    ['cn1', Math.round(a.peak)],
    ['cn2Label', 'threshold'],
    ['cn2', Math.round(a.threshold)],
    ['msg', a.summary],
  );
  return fields.filter((f): f is [string, string | number] => f[1] !== null).map(([k, v]) => [k, String(v)]);
}

export function cefLine(event: AlertEvent, productVersion: string): string {
  const a = event.alert;
  const header = [
    'CEF:0',
    'Flowgate',
    'Flowgate',
    escapeCefHeader(productVersion),
    escapeCefHeader(a.kind),
    escapeCefHeader(a.summary),
    String(CEF_SEVERITY[a.severity]),
  ].join('|');
  const ext = cefExtensions(event)
    .map(([k, v]) => `${k}=${escapeCefExtension(v)}`)
    .join(' ');
  return `${header}|${ext}`;
}
