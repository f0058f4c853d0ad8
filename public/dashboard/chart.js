// Override rate per arm over time, drawn with uPlot (served from node_modules, no CDN).
import uPlot from '/dashboard/vendor/uPlot.esm.js';
import { h } from './dom.js';
import { count, pct } from './format.js';

export const ARM_COLORS = { control: '#4f6bed', candidate: '#e0a100' };

/** Which bucket fits a rollout of this age: minutes while young, hours, then days. */
export function bucketFor(createdAt, now = Date.now()) {
  const ageH = (now - new Date(createdAt).getTime()) / 3_600_000;
  if (!(ageH >= 0) || ageH < 6) return 'minute';
  if (ageH < 24 * 21) return 'hour';
  return 'day';
}

/** Timeseries points → uPlot's columns: x (seconds), control and candidate override rates. */
export function toColumns(points) {
  const byT = new Map();
  for (const p of points ?? []) {
    const t = Math.floor(new Date(p.t).getTime() / 1000);
    if (!Number.isFinite(t)) continue;
    const row = byT.get(t) ?? { control: null, candidate: null };
    if (p.arm === 'control' || p.arm === 'candidate') row[p.arm] = p;
    byT.set(t, row);
  }
  const xs = [...byT.keys()].sort((a, b) => a - b);
  const rate = (p) => (p && p.reviewed > 0 ? p.overridden / p.reviewed : null);
  return {
    xs,
    rows: xs.map((t) => byT.get(t)),
    data: [xs, xs.map((t) => rate(byT.get(t).control)), xs.map((t) => rate(byT.get(t).candidate))],
  };
}

/**
 * Renders the chart into `host`; returns a dispose function. Reviewed counts are shown in the
 * legend on hover, so a spike on three reviews reads as what it is.
 */
export function renderChart(host, points, bucket) {
  const { xs, rows, data } = toColumns(points);
  const hasRates = data[1].some((v) => v !== null) || data[2].some((v) => v !== null);
  if (!xs.length || !hasRates) {
    host.append(
      h(
        'div',
        { class: 'empty chart-empty', testid: 'chart-empty' },
        xs.length
          ? 'No reviewed runs yet: runs have arrived, but no reviewer has sent feedback. The trend appears as reviews come in.'
          : 'No reviewed runs yet. The trend appears as calls are made and reviewers send feedback.',
      ),
    );
    return () => {};
  }
  const width = Math.max(320, host.clientWidth || 640);
  const reviewedAt = (arm) => (u, v, si, i) =>
    i === null || i === undefined || !rows[i]?.[arm] ? '—' : `${pct(v)} of ${count(rows[i][arm].reviewed)}`;
  const series = (label, arm) => ({
    label,
    stroke: ARM_COLORS[arm],
    width: 2,
    spanGaps: true,
    points: { show: xs.length < 60, size: 6, fill: ARM_COLORS[arm] },
    value: reviewedAt(arm),
  });
  const step = bucket === 'day' ? 86400 : bucket === 'hour' ? 3600 : 60;
  const lo = xs[0];
  const hi = xs[xs.length - 1];
  const opts = {
    width,
    height: 300,
    padding: [12, 12, 0, 4],
    cursor: { drag: { x: true, y: false } },
    legend: { live: true },
    scales: {
      // One bucket alone: uPlot does not call a range function for a single x value (the scale
      // stays zero-wide and nothing is drawn), so the range is fixed, a bucket either side.
      x: xs.length < 2 ? { time: true, auto: false, range: [lo - step, hi + step] } : { time: true, range: () => [lo, hi] },
      y: { range: (u, min, max) => [0, Math.max(0.05, Math.min(1, (max ?? 0) * 1.25))] },
    },
    axes: [
      { stroke: '#5b6475', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#e3e6ec' } },
      {
        stroke: '#5b6475',
        grid: { stroke: '#eef0f4' },
        ticks: { stroke: '#e3e6ec' },
        values: (u, vals) => vals.map((v) => `${Math.round(v * 1000) / 10}%`),
        size: 56,
      },
    ],
    series: [{ label: 'Time' }, series('Control', 'control'), series('Candidate', 'candidate')],
  };
  const plot = new uPlot(opts, data, host);
  // A rollout younger than two buckets (the demo's first minute) has dots, not a line yet: say so.
  if (xs.length < 2) {
    const at = new Date(lo * 1000).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
    host.append(
      h(
        'p',
        { class: 'muted small chart-note', testid: 'chart-note' },
        `One ${bucket} of data so far (${at}): each dot is that ${bucket}'s override rate; the trend line appears from the next ${bucket}.`,
      ),
    );
  }
  const resize = new ResizeObserver(() => {
    const w = Math.max(320, host.clientWidth);
    if (Math.abs(w - plot.width) > 2) plot.setSize({ width: w, height: 300 });
  });
  resize.observe(host);
  return () => {
    resize.disconnect();
    plot.destroy();
  };
}
