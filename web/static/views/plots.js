// #/plots?router=&peer=&view=&range=1h   (or &from=&to= for a fixed window)
// Routes per peer and view over time, and BGP updates per second per router,
// from /api/v1/series/*. A window that ends "now" refreshes itself while
// the live indicator is on. Hover or arrow keys read values at a time; the
// same numbers are in a table below for screen readers and copying.
import { api, errorBox, fromLocalInput, h, localTime, render, s, toLocalInput, utcTitle } from '../lib.js';
import { fmtNum, seriesStyle, stepChart, valueAt } from '../chart.js';

const VIEWS = ['pre-policy', 'post-policy', 'loc-rib', 'adj-rib-out-pre', 'adj-rib-out-post'];
const RANGES = [['15m', 15 * 60e3], ['1h', 3600e3], ['6h', 6 * 3600e3], ['24h', 86400e3], ['7d', 7 * 86400e3]];
const REFRESH_MS = 10000;

function windowOf(params) {
  if (params.get('from') || params.get('to')) {
    const t1 = params.get('to') ? Date.parse(params.get('to')) : Date.now();
    const t0 = params.get('from') ? Date.parse(params.get('from')) : t1 - 3600e3;
    return { t0, t1, fixed: true };
  }
  const r = RANGES.find(([k]) => k === params.get('range')) || RANGES[1];
  const t1 = Date.now();
  return { t0: t1 - r[1], t1, fixed: false, range: r[0] };
}

export default function plotsView(app) {
  let root = null, form = null, out = null, params = new URLSearchParams();
  let data = null, error = null, seq = 0, timer = null, ro = null, width = 800;
  const hidden = new Set();          // series keys switched off in the legends
  const cursor = { prefixes: null, updates: null };   // ms under the mouse / keyboard

  function buildForm(routers) {
    const f = h('form', { class: 'filters', 'data-morph': 'keep', role: 'search', 'aria-label': 'Plot filters' },
      h('div', { class: 'field' }, h('label', { for: 'pl-router' }, 'Router'),
        h('select', { id: 'pl-router', name: 'router' }, h('option', { value: '' }, 'all'), routers.map((r) => h('option', { value: r }, r)))),
      h('div', { class: 'field' }, h('label', { for: 'pl-peer' }, 'Peer'), h('input', { id: 'pl-peer', name: 'peer', autocomplete: 'off', placeholder: 'address' })),
      h('div', { class: 'field' }, h('label', { for: 'pl-view' }, 'View'),
        h('select', { id: 'pl-view', name: 'view' }, h('option', { value: '' }, 'all'), VIEWS.map((v) => h('option', { value: v }, v)))),
      h('div', { class: 'field' }, h('span', { class: 'label', id: 'pl-range-l' }, 'Last'),
        h('div', { class: 'ranges', role: 'group', 'aria-labelledby': 'pl-range-l' },
          RANGES.map(([k]) => h('button', { type: 'button', 'data-range': k, 'aria-pressed': 'false' }, k)))),
      h('div', { class: 'field' }, h('label', { for: 'pl-from' }, 'From'), h('input', { id: 'pl-from', name: 'from', type: 'datetime-local', step: '1' })),
      h('div', { class: 'field' }, h('label', { for: 'pl-to' }, 'To'), h('input', { id: 'pl-to', name: 'to', type: 'datetime-local', step: '1' })),
      h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Show')));
    const go = (extra) => {
      const el = f.elements;
      app.navigate('/plots', { router: el.router.value, peer: el.peer.value.trim(), view: el.view.value, ...extra });
    };
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      const from = fromLocalInput(f.elements.from.value), to = fromLocalInput(f.elements.to.value);
      go(from || to ? { from, to } : { range: params.get('range') || '' });
    });
    f.addEventListener('click', (e) => {
      const b = e.target.closest('[data-range]');
      if (b) go({ range: b.dataset.range });
    });
    return f;
  }

  function syncForm() {
    if (!form) return;
    const el = form.elements;
    el.router.value = params.get('router') || '';
    el.peer.value = params.get('peer') || '';
    el.view.value = params.get('view') || '';
    el.from.value = params.get('from') ? toLocalInput(params.get('from')) : '';
    el.to.value = params.get('to') ? toLocalInput(params.get('to')) : '';
    const w = windowOf(params);
    for (const b of form.querySelectorAll('[data-range]')) b.setAttribute('aria-pressed', String(!w.fixed && b.dataset.range === w.range));
  }

  function prefixSeries() {
    return data.prefixes.series.map((x, i) => ({
      key: `${x.router}|${x.peer}|${x.peer_type}|${x.view}`, label: `${x.router} ← ${x.peer} (AS${x.asn}${x.peer_type !== 'global' ? ', ' + x.peer_type : ''}) · ${x.view}`,
      style: seriesStyle(i), points: x.points.map(([t, v]) => [Date.parse(t), v]),
    }));
  }
  function updateSeries() {
    return data.updates.series.map((x, i) => ({
      key: x.router, label: x.router, style: seriesStyle(i),
      points: x.points.map(([t, v, secs]) => [Date.parse(t), v, secs * 1000]),
    }));
  }
  const rateAt = (points, t) => { for (const [pt, v, w] of points) if (t > pt - w && t <= pt) return v; return 0; };

  function plot(kind, title, series, mode, unit) {
    const w = data.window;
    const shown = series.filter((se) => !hidden.has(kind + se.key));
    const at = cursor[kind];
    const valAt = (se) => (mode === 'hold' ? valueAt(se.points, at) : rateAt(se.points, at));
    const chart = h('div', { class: 'chart', tabindex: '0', 'data-kind': kind,
      'aria-label': `${title}: use the left and right arrow keys to read values at a time` });
    const svg = stepChart({ series: shown, t0: w.t0, t1: w.t1, end: Math.min(Date.now(), w.t1), width, mode, label: title });
    if (at !== null) {
      const x = 64 + (at - w.t0) / (w.t1 - w.t0) * (width - 80);
      svg.appendChild(s('line', { x1: x, x2: x, y1: 10, y2: 212, class: 'cursor' }));
    }
    chart.appendChild(svg);
    return h('section', { class: 'sub plot', 'data-plot': kind, 'data-key': kind },
      h('h2', null, title),
      series.length ? null : h('p', { class: 'empty' }, 'No data in this window yet: series are sampled every few seconds while routers send BMP.'),
      chart,
      h('p', { class: 'plot-hover', 'aria-live': 'off' }, at === null ? 'Point at the plot to read values.'
        : [h('time', { datetime: new Date(at).toISOString(), title: utcTitle(new Date(at).toISOString()) }, localTime(new Date(at).toISOString())),
          ': ', shown.map((se) => `${se.label} ${valAt(se) === null ? '—' : fmtNum(valAt(se))}${unit}`).join(' · ')]),
      h('ul', { class: 'plot-legend', 'aria-label': `${title}: series` }, series.map((se) =>
        h('li', { 'data-key': se.key }, h('label', null,
          h('input', { type: 'checkbox', 'data-toggle': kind + se.key, checked: !hidden.has(kind + se.key) }),
          h('span', { class: 'swatch', style: `border-color:${se.style.color};border-top-style:${se.style.dash ? 'dashed' : 'solid'}` }),
          se.label, ' ', h('span', { class: 'val' }, se.points.length ? fmtNum(se.points[se.points.length - 1][1]) + unit : '—'))))));
  }

  function table(ps, us) {
    const stats = (pts) => pts.length ? [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1])), pts[pts.length - 1][1]] : [null, null, null];
    return h('details', { class: 'sub', 'data-key': 'table' }, h('summary', null, 'Data as a table'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'grid plot-table' },
        h('caption', null, 'Lowest, highest and latest value of each series in the window'),
        h('thead', null, h('tr', null, ['Series', 'Lowest', 'Highest', 'Latest'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, [...ps.map((se) => ['routes', se]), ...us.map((se) => ['updates/s', se])].map(([what, se]) =>
          h('tr', { 'data-key': what + se.key }, h('th', { scope: 'row' }, `${se.label} (${what})`),
            stats(se.points).map((v) => h('td', { class: 'num' }, v === null ? '—' : fmtNum(v)))))))));
  }

  function draw() {
    if (!root) return;
    out.setAttribute('aria-busy', data === null && !error ? 'true' : 'false');
    if (error || !data) { render(out, error ? errorBox(error) : h('p', { class: 'loading' }, 'Loading plots…')); return; }
    const ps = prefixSeries(), us = updateSeries();
    const w = data.window;
    render(out,
      h('p', { class: 'muted', 'data-key': 'window' }, w.fixed ? 'Window ' : `Last ${w.range}, refreshed every ${REFRESH_MS / 1000} s: `,
        h('time', { title: utcTitle(new Date(w.t0).toISOString()) }, localTime(new Date(w.t0).toISOString())), ' → ',
        h('time', { title: utcTitle(new Date(w.t1).toISOString()) }, localTime(new Date(w.t1).toISOString()))),
      plot('prefixes', 'Routes per peer and view', ps, 'hold', ''),
      plot('updates', 'BGP updates per second per router', us, 'rate', '/s'),
      table(ps, us));
    out.dataset.loaded = location.hash;
  }

  async function load() {
    const my = ++seq;
    const w = windowOf(params);
    const common = { from: new Date(w.t0).toISOString(), to: new Date(w.t1).toISOString(), points: Math.max(50, Math.min(2000, Math.floor(width / 2))) };
    const q = { ...common };
    for (const k of ['router', 'peer', 'view']) if (params.get(k)) q[k] = params.get(k);
    try {
      const [prefixes, updates] = await Promise.all([api('/series/prefixes', q),
        api('/series/updates', { ...common, ...(q.router ? { router: q.router } : {}) })]);
      if (my !== seq) return;
      data = { prefixes, updates, window: w };
      error = null;
    } catch (e) {
      if (my !== seq) return;
      error = e;
    }
    draw();
  }

  function schedule() {
    clearInterval(timer);
    timer = setInterval(() => { if (!windowOf(params).fixed && app.live.state !== 'paused') load(); }, REFRESH_MS);
  }

  function pointTo(kind, t) {
    cursor[kind] = t;
    draw();
  }

  function onMove(e) {
    const chart = e.target.closest('.chart[data-kind]');
    if (!chart || !data) return;
    const r = chart.getBoundingClientRect();
    const w = data.window;
    const t = w.t0 + (e.clientX - r.left - 64) / Math.max(1, r.width - 80) * (w.t1 - w.t0);
    pointTo(chart.dataset.kind, Math.min(w.t1, Math.max(w.t0, t)));
  }

  function onKey(e) {
    const chart = e.target.closest('.chart[data-kind]');
    if (!chart || !data || (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight')) return;
    e.preventDefault();
    const w = data.window, k = chart.dataset.kind;
    const step = (w.t1 - w.t0) / 50 * (e.key === 'ArrowLeft' ? -1 : 1);
    pointTo(k, Math.min(w.t1, Math.max(w.t0, (cursor[k] ?? w.t1) + step)));
  }

  return {
    title: () => 'Plots',
    async mount(el, p) {
      params = p;
      root = h('div', { class: 'plots' });
      out = h('div', { class: 'plots-result' });
      root.append(h('h1', null, 'Plots'));
      el.appendChild(root);
      width = Math.max(320, (el.clientWidth || 800) - 2);
      let routers = [];
      try { routers = (await api('/routers')).routers.map((r) => r.name); } catch (e) { error = e; }
      if (!root) return;
      form = buildForm(routers);
      root.append(form, out);
      out.addEventListener('mousemove', onMove);
      out.addEventListener('mouseleave', () => { cursor.prefixes = cursor.updates = null; draw(); });
      out.addEventListener('keydown', onKey);
      out.addEventListener('change', (e) => {
        const k = e.target.dataset && e.target.dataset.toggle;
        if (!k) return;
        if (e.target.checked) hidden.delete(k); else hidden.add(k);
        draw();
      });
      ro = new ResizeObserver(() => {
        const cw = out.clientWidth;
        if (cw && Math.abs(cw - width) > 8) { width = cw; draw(); }
      });
      ro.observe(out);
      syncForm();
      load();
      schedule();
    },
    update(p) { params = p; syncForm(); data = null; draw(); load(); },
    unmount() { clearInterval(timer); if (ro) ro.disconnect(); root = null; },
  };
}
