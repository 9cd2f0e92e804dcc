import type { CaptureStats } from '../capture/capture-reader.js';
import type { ExporterStatsSnapshot } from '../stats/exporter-stats.js';

/** One file of a `flowgate decode` run: its read counters, or why it could not be read. */
export interface DecodedFile {
  path: string;
  stats: CaptureStats;
  /** Set when the file could not be read (the run exits 2). */
  failure: string | null;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function errorList(errors: Record<string, number>): string {
  const kinds = Object.keys(errors).sort();
  return kinds.length === 0 ? 'no errors' : kinds.map((k) => `${k} ${errors[k]}`).join(', ');
}

/**
 * The human-readable end-of-run summary on stderr: per file what was read, per exporter what was
 * decoded, and decode errors by kind, so a bad capture or a missing template is obvious at a glance.
 */
export function formatDecodeSummary(files: DecodedFile[], snap: ExporterStatsSnapshot): string {
  const lines: string[] = [];
  let packets = 0;
  let datagrams = 0;
  let skipped = 0;
  let bad = 0;
  for (const f of files) {
    packets += f.stats.packets;
    datagrams += f.stats.datagrams;
    skipped += f.stats.skipped;
    bad += f.stats.bad;
  }
  const totalErrors: Record<string, number> = {};
  for (const e of snap.exporters) {
    for (const [kind, n] of Object.entries(e.errors)) totalErrors[kind] = (totalErrors[kind] ?? 0) + n;
  }
  lines.push(
    `decoded ${plural(files.length, 'file')}: ${plural(packets, 'packet')}, ${plural(datagrams, 'datagram')}, ` +
      `${plural(snap.totals.records, 'record')}; ${skipped} not UDP, ${bad} malformed; ` +
      `decode errors: ${errorList(totalErrors)}`,
  );
  for (const f of files) {
    if (f.failure !== null) {
      lines.push(`  ${f.path}: NOT READ: ${f.failure}`);
      continue;
    }
    const s = f.stats;
    const frag = s.fragments > 0 ? `, ${s.fragments} IP fragments` : '';
    lines.push(
      `  ${f.path}: ${s.format ?? 'unknown format'}, ${plural(s.packets, 'packet')}, ${plural(s.datagrams, 'datagram')}, ` +
        `${s.skipped} not UDP, ${s.bad} malformed${frag}`,
    );
  }
  if (snap.exporters.length > 0) lines.push('exporters:');
  for (const e of snap.exporters) {
    const seq = e.sequence.missing > 0 ? `, ${e.sequence.missing} missing by sequence` : '';
    const unknown = e.samplingUnknown > 0 ? `, ${e.samplingUnknown} with unknown sampling` : '';
    lines.push(
      `  ${e.address} (${e.protocol ?? '-'}): ${plural(e.datagrams, 'datagram')}, ${plural(e.records, 'record')}` +
        `${unknown}${seq}; ${errorList(e.errors)}`,
    );
    if (e.lastError !== null) lines.push(`    last error: ${e.lastError}`);
  }
  return `${lines.join('\n')}\n`;
}
