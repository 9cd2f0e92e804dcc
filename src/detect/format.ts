/** Numbers in alert summaries, as a network engineer reads them: 1.2 Gb/s, 310 kpps, 4,100. */

const SI = ['', 'k', 'M', 'G', 'T', 'P'];

function scaled(v: number): string {
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1000 && i < SI.length - 1) {
    x /= 1000;
    i++;
  }
  const digits = x >= 100 || i === 0 ? 0 : 1;
  return `${x.toFixed(digits)} ${SI[i]}`;
}

/** "1.2 Gb" (append "/s" for a rate). */
export function formatBits(bits: number): string {
  return `${scaled(bits)}b`;
}

/** "4,100". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** "310 kpps (threshold 100 kpps)". */
export function describeRate(value: number, threshold: number, unit: 'bps' | 'pps' | 'flows/s'): string {
  const f = (v: number) =>
    unit === 'bps' ? `${formatBits(v)}/s` : unit === 'pps' ? `${scaled(v)}pps` : `${formatCount(v)} flows/s`;
  return `${f(value)} (threshold ${f(threshold)})`;
}
