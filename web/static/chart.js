// Small SVG charts for the dashboard: a time axis with readable ticks and a
// step chart (each value holds until the next point). No library: the
// plots are few and simple, and an SVG is readable by tests and screen
// readers (each series has a <title>, the view also offers a table).
import { localTime, s, utcTitle } from './lib.js';

// Okabe–Ito: distinguishable with the common colour-vision deficiencies;
// past eight series the dash pattern changes too.
export const PALETTE = ['#56b4e9', '#e69f00', '#009e73', '#f0e442', '#0072b2', '#d55e00', '#cc79a7', '#999999'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];
export const seriesStyle = (i) => ({ color: PALETTE[i % PALETTE.length], dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length] });

/** Tick times between t0 and t1 (ms) for a chart `width` pixels wide. */
export function niceTicks(t0, t1, width) {
  const n = Math.max(2, Math.min(8, Math.floor(width / 140)));
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map((x) => x * 1000);
  const span = Math.max(1, t1 - t0);
  const step = steps.find((st) => span / st <= n) || span / n;
  const out = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t);
  return { ticks: out, step };
}

/** The time axis at y, from x(t0) to x(t1): ticks in the browser's zone, UTC on hover. */
export function timeAxis(t0, t1, x, y, width, padL, padR) {
  const { ticks, step } = niceTicks(t0, t1, width);
  const showDate = t1 - t0 > 86400000 || new Date(t0).toDateString() !== new Date(t1).toDateString();
  return [
    s('line', { x1: padL, x2: width - padR, y1: y, y2: y, class: 'axis' }),
    ticks.map((t) => {
      const iso = new Date(t).toISOString();
      const lt = localTime(iso, { zone: false, seconds: step < 60000 });
      return s('g', { class: 'tick' }, s('line', { x1: x(t), x2: x(t), y1: y, y2: y + 5, class: 'axis' }),
        s('text', { x: x(t), y: y + 18, 'text-anchor': 'middle', class: 'tick-label' }, showDate ? lt.slice(5) : lt.slice(11)),
        s('title', null, utcTitle(iso)));
    }),
  ];
}

function niceMax(v) {
  if (v <= 0) return 1;
  const e = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * e) return m * e;
  return 10 * e;
}

export const fmtNum = (v) => (Math.abs(v) >= 100 || Number.isInteger(v) ? Math.round(v).toLocaleString() : v.toFixed(1));

/**
 * A step chart. series: [{key, label, style, points: [[ms, value, widthMs?]]}]
 *  mode 'hold': a value holds from its time to the next point (or `end`);
 *  mode 'rate': a value covers the widthMs before its time; gaps are zero.
 * Returns an <svg> with one <g class="series" data-key> per series.
 */
export function stepChart({ series, t0, t1, end, width, height = 240, mode = 'hold', label }) {
  const padL = 64, padR = 16, top = 10, axisH = 28;
  const plotH = height - top - axisH;
  let vmax = 0;
  for (const se of series) for (const p of se.points) vmax = Math.max(vmax, p[1]);
  vmax = niceMax(vmax * 1.05);
  const x = (t) => padL + (Math.min(Math.max(t, t0), t1) - t0) / Math.max(1, t1 - t0) * (width - padL - padR);
  const y = (v) => top + plotH - v / vmax * plotH;
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = vmax * f;
    return s('g', { class: 'ygrid' }, s('line', { x1: padL, x2: width - padR, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: padL - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick-label' }, fmtNum(v)));
  });
  const paths = series.map((se) => {
    let d = '';
    if (mode === 'hold') {
      se.points.forEach(([t, v], i) => {
        const next = i + 1 < se.points.length ? se.points[i + 1][0] : end;
        d += `${i ? 'L' : 'M'}${x(t).toFixed(1)} ${y(v).toFixed(1)} H${x(next).toFixed(1)}`;
      });
    } else {
      let last = null;   // end of the previous interval, ms
      for (const [t, v, w] of se.points) {
        const a = t - w;
        if (last === null || a - last > 1) d += `${last === null ? '' : `V${y(0).toFixed(1)}`}M${x(a).toFixed(1)} ${y(0).toFixed(1)}`;
        d += `V${y(v).toFixed(1)}H${x(t).toFixed(1)}`;
        last = t;
      }
      if (last !== null) d += `V${y(0).toFixed(1)}`;
    }
    const lastVal = se.points.length ? se.points[se.points.length - 1][1] : null;
    return s('g', { class: 'series', 'data-key': se.key, 'data-points': se.points.length },
      s('path', { d, fill: 'none', stroke: se.style.color, 'stroke-width': 2, 'stroke-dasharray': se.style.dash || null },
        s('title', null, `${se.label}: ${lastVal === null ? 'no data' : fmtNum(lastVal)} (latest)`)));
  });
  return s('svg', { class: 'chart-svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label },
    grid, paths, timeAxis(t0, t1, x, top + plotH, width, padL, padR));
}

/** The value of a 'hold' series at time t (ms), or null. */
export function valueAt(points, t) {
  let v = null;
  for (const [pt, pv] of points) { if (pt <= t) v = pv; else break; }
  return v;
}
