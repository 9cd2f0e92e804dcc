// Human units for the dashboard: SI prefixes as network engineers read them (1 kb/s = 1000 b/s).

const PREFIXES = ['', 'k', 'M', 'G', 'T', 'P'];

/** 1234567 -> "1.23 M" (three significant digits); small plain numbers stay as they are. */
export function si(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  let v = Math.abs(value);
  let i = 0;
  while (v >= 999.5 && i < PREFIXES.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 ? (Number.isInteger(v) ? 0 : v < 10 ? 2 : 1) : v >= 100 ? 0 : v >= 10 ? 1 : 2;
  const text = `${value < 0 ? '-' : ''}${v.toFixed(digits)}`;
  return i === 0 ? text : `${text} ${PREFIXES[i]}`;
}

/** Unit of a traffic metric (per second when it is a rate). */
export function formatMetric(metric, v, perSecond) {
  const n = si(v);
  // si() ends with a space-separated prefix ("1.2 M") or none ("12"): "1.2 Mb/s", "12 b/s".
  const sep = /[kMGTP]$/.test(n) ? '' : ' ';
  if (metric === 'bits') return `${n}${sep}${perSecond ? 'b/s' : 'b'}`;
  if (metric === 'packets') return perSecond ? `${n}${sep}pps` : n;
  return perSecond ? `${n}${sep}flows/s` : n;
}

/** Epoch ms -> "2026-11-23 20:41:05" (UTC: flow times are UTC everywhere in Flowgate). */
export function utc(ms) {
  if (ms === null || ms === undefined) return '–';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** "5 s ago", "3 min ago", ... */
export function ago(ms, now) {
  if (ms === null || ms === undefined) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** A length of time in ms: "45 s", "12 min", "3 h 05 min", "2 d 4 h". */
export function duration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${String(min % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/**
 * Exporter clock skew (arrival minus the exporter's header export time, seconds): "+2 s", "−130 s",
 * "+17 min"; "—" when unknown (sFlow carries no export time, or the collector does not report it).
 */
export function skew(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '—';
  const s = Math.round(seconds);
  // U+2212: a real minus sign lines up with the plus in a right-aligned column.
  const sign = s > 0 ? '+' : s < 0 ? '\u2212' : '';
  const a = Math.abs(s);
  const text =
    a < 600
      ? `${a} s`
      : a < 7200
        ? `${Math.round(a / 60)} min`
        : a < 172800
          ? `${Math.round(a / 3600)} h`
          : `${Math.round(a / 86400)} d`;
  return `${sign}${text}`;
}
