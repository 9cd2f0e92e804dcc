// Stacked traffic chart on uPlot. uPlot has no stacking of its own: each series is drawn as the
// running sum of itself and the series below it, largest sum first so smaller areas paint on top;
// the legend and the tooltip still show each series' own value.

import { formatMetric, utc } from './format.js';
import uPlot from './uPlot.esm.js';

const COLORS = ['#2f6fdf', '#e8793a', '#2ba36b', '#c9427a', '#8a63d2', '#9aa3ad'];

let plot = null;

/**
 * times: bucket starts in seconds; series: [{label, values}] bottom first (values per second).
 * Replaces the chart in `el`.
 */
export function drawStacked(el, times, series, metric) {
  const sums = [];
  let below = times.map(() => 0);
  for (const s of series) {
    below = below.map((b, i) => b + (s.values[i] ?? 0));
    sums.push(below);
  }
  const order = series.map((_s, i) => i).reverse();
  const data = [times, ...order.map((i) => sums[i])];
  const width = Math.max(300, el.clientWidth);
  const span = times.length > 1 ? times[times.length - 1] - times[0] : 0;
  const opts = {
    width,
    height: 260,
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] } },
    axes: [
      // Over more than a day the time alone is ambiguous: show the date too.
      { values: (_u, ticks) => ticks.map((t) => utc(t * 1000).slice(span > 86400 ? 5 : 11, 16)) },
      { size: 80, values: (_u, ticks) => ticks.map((t) => formatMetric(metric, t, true)) },
    ],
    series: [
      { label: 'time (UTC)', value: (_u, t) => (t === null ? '–' : utc(t * 1000)) },
      ...order.map((i) => ({
        label: series[i].label,
        stroke: COLORS[i % COLORS.length],
        fill: `${COLORS[i % COLORS.length]}cc`,
        width: 1,
        points: { show: false },
        value: (_u, _v, _si, idx) => (idx === null ? '–' : formatMetric(metric, series[i].values[idx], true)),
      })),
    ],
    legend: { live: true },
  };
  if (plot !== null) plot.destroy();
  el.replaceChildren();
  plot = new uPlot(opts, data, el);
  return plot;
}

export function clearChart(el) {
  if (plot !== null) plot.destroy();
  plot = null;
  el.replaceChildren();
}

export function resizeChart(el) {
  const width = Math.max(300, el.clientWidth);
  if (plot !== null && plot.width !== width) plot.setSize({ width, height: 260 });
}
