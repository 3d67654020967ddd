// #/history?prefix=&match=&router=&peer=&view=&from=&to=
// A prefix's history: an SVG timeline with one lane per router/peer/view
// (announce ▲, change ◆, withdraw ✖; a bar while the route was present),
// for a site's Azure prefix the path that was best over time (a lane on
// top) and its failovers/failbacks (vertical marks across the lanes), and
// the table of events with their attributes.
import { api, asPath, badge, copyable, debounce, errorBox, fromLocalInput, h, localTime, render, s, time, toLocalInput, utcTitle } from '../lib.js';
import { matchesFilter } from './rib.js';
import { timeAxis } from '../chart.js';

const VIEWS = ['pre-policy', 'post-policy', 'loc-rib', 'adj-rib-out-pre', 'adj-rib-out-post'];
const KEYS = ['prefix', 'match', 'router', 'peer', 'view', 'from', 'to'];
const MAX_EVENTS = 5000;
const ACTION_LVL = { announce: 'ok', change: 'warn', withdraw: 'bad' };
const BEST_TEXT = { er: 'ExpressRoute', vpn: 'VPN', none: 'no path', unknown: 'unknown' };

function mark(action, x, y) {
  if (action === 'announce') return s('path', { d: `M${x} ${y - 7} L${x + 7} ${y + 6} L${x - 7} ${y + 6} Z`, class: 'mk mk-announce' });
  if (action === 'change') return s('path', { d: `M${x} ${y - 7} L${x + 7} ${y} L${x} ${y + 7} L${x - 7} ${y} Z`, class: 'mk mk-change' });
  return s('path', { d: `M${x - 6} ${y - 6} L${x + 6} ${y + 6} M${x + 6} ${y - 6} L${x - 6} ${y + 6}`, class: 'mk mk-withdraw' });
}

function timelineSVG(events, width, range, extra = { best: [], failovers: [] }) {
  const lanes = new Map();
  for (const e of events) {
    const k = `${e.router}|${e.peer}|${e.view}|${e.prefix}|${e.path_id || 0}`;
    if (!lanes.has(k)) lanes.set(k, []);
    lanes.get(k).push(e);
  }
  const best = extra.best.filter((b) => b.points.length);
  const laneH = 40, top = 8 + (extra.failovers.length ? 16 : 0), axisH = 28, padL = 12, padR = 16;
  const nLanes = best.length + lanes.size;
  const height = top + nLanes * laneH + axisH;
  const times = events.map((e) => Date.parse(e.time));
  let t0 = range.from ? Date.parse(range.from) : Math.min(...times);
  let t1 = range.to ? Date.parse(range.to) : Math.max(Date.now(), ...times);
  if (t1 - t0 < 2000) { t0 -= 1000; t1 += 1000; }
  const pad = (t1 - t0) * 0.03;
  t0 -= pad; t1 += pad;
  const now = Math.min(Date.now(), t1 - pad);
  const x = (t) => padL + (Math.min(Math.max(t, t0), t1) - t0) / (t1 - t0) * (width - padL - padR);
  const multiPrefix = new Set(events.map((e) => e.prefix)).size > 1;
  const rows = [];
  let i = 0;
  for (const b of best) {
    const y = top + i * laneH + 26;
    rows.push(s('g', { class: 'lane lane-best', 'data-key': `best|${b.site}|${b.prefix}`, 'data-site': b.site },
      s('text', { x: padL, y: y - 12, class: 'lane-label' }, `best path · site ${b.site}${multiPrefix ? ' · ' + b.prefix : ''}`),
      b.points.map(([t, kind, peer, how], j) => {
        const a = Date.parse(t), z = j + 1 < b.points.length ? Date.parse(b.points[j + 1][0]) : now;
        const w = Math.max(1, x(z) - x(a));
        return s('g', { class: `bp bp-${kind}`, 'data-best': kind },
          s('rect', { x: x(a), y: y - 8, width: w, height: 16, rx: 2 }),
          w > 70 ? s('text', { x: x(a) + 4, y: y + 4, class: 'bp-text' }, BEST_TEXT[kind] || kind) : null,
          s('title', null, `${BEST_TEXT[kind] || kind}${peer ? ' via ' + peer : ''} from ${localTime(t)}${how ? '\n' + how : ''}\n${utcTitle(t)}`));
      })));
    i++;
  }
  for (const [k, evs] of lanes) {
    const y = top + i * laneH + 26;
    const e0 = evs[0];
    const label = `${e0.router} ← ${e0.peer} · ${e0.view}${multiPrefix ? ' · ' + e0.prefix : ''}${e0.path_id ? ' · path ' + e0.path_id : ''}`;
    const bars = [];
    let start = null;
    for (const e of evs) {
      const t = Date.parse(e.time);
      if (e.action !== 'withdraw' && start === null) start = t;
      if (e.action === 'withdraw' && start !== null) { bars.push([start, t]); start = null; }
    }
    if (start !== null) bars.push([start, t1 - pad]);
    rows.push(s('g', { class: 'lane', 'data-lane': k, 'data-key': k },
      s('text', { x: padL, y: y - 12, class: 'lane-label' }, label),
      s('line', { x1: padL, x2: width - padR, y1: y, y2: y, class: 'lane-axis' }),
      bars.map(([a, b]) => s('rect', { x: x(a), y: y - 3, width: Math.max(1, x(b) - x(a)), height: 6, class: 'present', rx: 2 },
        s('title', null, `present ${localTime(new Date(a).toISOString())} → ${b >= t1 - pad - 1 ? 'now' : localTime(new Date(b).toISOString())}`))),
      evs.map((e) => s('g', { class: `ev ev-${e.action}`, 'data-action': e.action, 'data-event-id': e.id },
        mark(e.action, x(Date.parse(e.time)), y),
        s('title', null, `${e.action}${e.reason ? ' (' + e.reason + ')' : ''} — ${localTime(e.time)} — ${utcTitle(e.time)}` +
          (e.action !== 'withdraw' ? `\nAS path ${asPath(e.as_path) || '∅'} · next hop ${e.next_hop || '—'} · LP ${e.local_pref ?? '—'}` : ''))))));
    i++;
  }
  const ay = top + nLanes * laneH + 4;
  const marks = extra.failovers.filter((f) => { const t = Date.parse(f.started); return t >= t0 && t <= t1; }).map((f) => {
    const a = Date.parse(f.started), z = f.converged ? Date.parse(f.converged) : now;
    const txt = f.kind === 'failback' ? 'failback' : f.to === 'none' ? 'ER lost, came back' :
      `failover${f.duration_ms !== null ? ' ' + (f.duration_ms / 1000).toFixed(1) + ' s' : ', not converged'}`;
    return s('g', { class: `fo fo-${f.kind}`, 'data-failover-id': f.id },
      s('rect', { x: x(a), y: 2, width: Math.max(2, x(z) - x(a)), height: ay - 2, class: 'fo-span' }),
      s('line', { x1: x(a), x2: x(a), y1: 2, y2: ay, class: 'fo-line' }),
      s('text', { x: x(a) + 3, y: 13, class: 'fo-text' }, txt),
      s('title', null, `${f.kind} ${f.from} → ${f.to} at ${localTime(f.started)}${f.converged ? ', converged ' + localTime(f.converged) : ''}` +
        `${f.duration_ms !== null ? ' (' + f.duration_ms + ' ms)' : ''}${f.drill_id ? ' · drill #' + f.drill_id : ''}\n${utcTitle(f.started)}`));
  });
  return s('svg', { class: 'timeline-svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `Timeline of ${events.length} events in ${lanes.size} lanes` +
      (best.length ? `, best path over time, ${marks.length} failover${marks.length === 1 ? '' : 's'}` : '') },
  marks, rows, timeAxis(t0, t1, x, ay, width, padL, padR));
}

/** For one exact prefix: its best path over the shown time and its failovers
 *  (empty unless it is a site's Azure prefix). */
async function sitePrefixExtra(q, events) {
  if (!q.prefix || (q.match && q.match !== 'exact') || !events.length) return { best: [], failovers: [] };
  const from = q.from || events[0].time;
  const [bp, fo] = await Promise.all([
    api('/series/best_paths', { prefix: q.prefix, from, ...(q.to ? { to: q.to } : {}) }),
    api('/failovers', { prefix: q.prefix, limit: 1000 }),
  ]);
  return { best: bp.series, failovers: fo.failovers };
}

export default function historyView(app) {
  let root = null, form = null, result = null, chart = null;
  let params = new URLSearchParams();
  let events = null, extra = { best: [], failovers: [] }, loadedHash = '', truncated = false, error = null, seq = 0, newCount = 0, offs = [], ro = null, width = 800;

  function buildForm() {
    const f = h('form', { class: 'filters', 'data-morph': 'keep', role: 'search', 'aria-label': 'History filters' },
      h('div', { class: 'field wide' }, h('label', { for: 'hi-prefix' }, 'Prefix'),
        h('input', { id: 'hi-prefix', name: 'prefix', placeholder: '10.17.11.0/25', autocomplete: 'off', spellcheck: 'false' })),
      h('div', { class: 'field' }, h('label', { for: 'hi-match' }, 'Match'),
        h('select', { id: 'hi-match', name: 'match' }, h('option', { value: 'exact' }, 'exact'), h('option', { value: 'longer' }, 'longer'), h('option', { value: 'shorter' }, 'shorter'))),
      h('div', { class: 'field' }, h('label', { for: 'hi-router' }, 'Router'), h('input', { id: 'hi-router', name: 'router', autocomplete: 'off' })),
      h('div', { class: 'field' }, h('label', { for: 'hi-peer' }, 'Peer'), h('input', { id: 'hi-peer', name: 'peer', autocomplete: 'off' })),
      h('div', { class: 'field' }, h('label', { for: 'hi-view' }, 'View'),
        h('select', { id: 'hi-view', name: 'view' }, h('option', { value: '' }, 'any'), VIEWS.map((v) => h('option', { value: v }, v)))),
      h('div', { class: 'field' }, h('label', { for: 'hi-from' }, 'From'), h('input', { id: 'hi-from', name: 'from', type: 'datetime-local', step: '1' })),
      h('div', { class: 'field' }, h('label', { for: 'hi-to' }, 'To'), h('input', { id: 'hi-to', name: 'to', type: 'datetime-local', step: '1' })),
      h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Show'),
        h('button', { type: 'button', 'data-action': 'reset' }, 'Reset')));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      const el = f.elements;
      app.navigate('/history', {
        prefix: el.prefix.value.trim(), match: el.prefix.value.trim() && el.match.value !== 'exact' ? el.match.value : '',
        router: el.router.value.trim(), peer: el.peer.value.trim(), view: el.view.value,
        from: fromLocalInput(el.from.value), to: fromLocalInput(el.to.value),
      });
    });
    f.querySelector('[data-action=reset]').addEventListener('click', () => app.navigate('/history', {}));
    return f;
  }

  function syncForm() {
    const el = form.elements;
    for (const k of ['prefix', 'router', 'peer', 'view']) el[k].value = params.get(k) || '';
    el.match.value = params.get('match') || 'exact';
    el.from.value = params.get('from') ? toLocalInput(params.get('from')) : '';
    el.to.value = params.get('to') ? toLocalInput(params.get('to')) : '';
  }

  function table() {
    const rows = [...events].reverse();
    return h('div', { class: 'table-wrap' }, h('table', { class: 'grid history-table' },
      h('caption', null, `${events.length} event${events.length === 1 ? '' : 's'}${truncated ? ` (first ${MAX_EVENTS} only: narrow the filter)` : ''}, newest first`),
      h('thead', null, h('tr', null, ['Time', 'Action', 'Router', 'Peer', 'View', 'Reason', 'Prefix', 'AS path', 'Next hop', 'LP', 'MED', 'Communities', 'Router time'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, rows.map((e) => h('tr', { 'data-key': String(e.id), 'data-action': e.action, class: `act-${e.action}` },
        h('td', null, time(e.time)),
        h('td', null, badge(ACTION_LVL[e.action] || 'unknown', e.action)),
        h('td', null, e.router),
        h('td', null, e.peer),
        h('td', null, e.view),
        h('td', null, e.reason || h('span', { class: 'muted' }, '—')),
        h('td', null, copyable(e.prefix)),
        h('td', null, e.action === 'withdraw' && !e.as_path ? h('span', { class: 'muted' }, '—') : h('code', null, asPath(e.as_path) || '∅')),
        h('td', null, e.next_hop || '—'),
        h('td', { class: 'num' }, e.local_pref ?? '—'),
        h('td', { class: 'num' }, e.med ?? '—'),
        h('td', null, (e.communities || []).join(' ') || h('span', { class: 'muted' }, '—')),
        h('td', { title: 'the router\'s own timestamp (BMP per-peer header)' }, time(e.router_time)))))));
  }

  function draw() {
    if (!root) return;
    const p = params.get('prefix');
    result.dataset.loaded = events === null ? '' : loadedHash;
    result.setAttribute('aria-busy', events === null ? 'true' : 'false');
    render(result,
      error ? errorBox(error) : null,
      h('p', { class: 'changes', style: newCount ? null : 'visibility:hidden' },
        `${newCount} new event${newCount === 1 ? '' : 's'} since loaded · `, h('button', { type: 'button', 'data-action': 'reload' }, 'Reload')),
      events === null ? h('p', { class: 'loading' }, 'Loading history…')
        : !events.length ? h('div', { class: 'empty' }, h('p', null, p ? ['No event recorded for ', h('code', null, p), '.'] : 'No event recorded.'))
          : [
            h('section', { class: 'sub' }, h('h2', null, 'Timeline'),
              h('p', { class: 'legend' }, h('span', { class: 'lg lg-announce' }, '▲ announce'), h('span', { class: 'lg lg-change' }, '◆ change'),
                h('span', { class: 'lg lg-withdraw' }, '✖ withdraw'), h('span', { class: 'lg lg-present' }, '▬ route present'),
                extra.best.length ? [h('span', { class: 'lg lg-best' }, '■ best path: ExpressRoute / VPN / none'),
                  h('span', { class: 'lg lg-fo' }, '┆ failover / failback')] : null),
              chart),
            h('section', { class: 'sub' }, h('h2', null, 'Events'), table()),
          ]);
    if (chart && events && events.length) chart.replaceChildren(timelineSVG(events, width, { from: params.get('from'), to: params.get('to') }, extra));
  }

  async function load() {
    const my = ++seq;
    events = null; error = null; newCount = 0; truncated = false;
    draw();
    const q = {};
    for (const k of KEYS) if (params.get(k)) q[k] = params.get(k);
    const all = [];
    try {
      if (!q.prefix && !q.router && !q.peer) {
        // nothing chosen: the latest events, newest first from the API
        const r = await api('/history', { ...q, order: 'desc', limit: 200 });
        all.push(...r.events.reverse());
      } else {
        let cursor = null;
        do {
          const r = await api('/history', { ...q, limit: 1000, cursor });
          all.push(...r.events);
          cursor = r.next;
          if (my !== seq) return;
        } while (cursor && all.length < MAX_EVENTS);
        truncated = !!cursor;
      }
      if (my !== seq) return;
      extra = await sitePrefixExtra(q, all);
      if (my !== seq) return;
      events = all;
      loadedHash = location.hash;
    } catch (e) {
      if (my !== seq) return;
      error = e;
      events = [];
      loadedHash = location.hash;
    }
    draw();
  }

  const redraw = debounce(() => { if (chart && chart.clientWidth && chart.clientWidth !== width) { width = chart.clientWidth; draw(); } }, 150);

  return {
    title: (p) => p.get('prefix') ? `History ${p.get('prefix')}` : 'History',
    mount(el, p) {
      params = p;
      root = h('div', { class: 'history' });
      form = buildForm();
      result = h('div', { class: 'history-result' });
      chart = h('div', { class: 'chart', 'data-morph': 'keep' });
      root.append(h('h1', null, 'Prefix history'), form, result);
      el.appendChild(root);
      result.addEventListener('click', (e) => { if (e.target.closest('[data-action=reload]')) load(); });
      width = Math.max(320, (el.clientWidth || 800) - 2);
      ro = new ResizeObserver(redraw);
      ro.observe(chart);
      syncForm();
      load();
      offs = [app.live.on('route', (ev) => {
        if (!ev || !events) return;
        const f = Object.fromEntries(['prefix', 'match', 'router', 'peer', 'view'].map((k) => [k, params.get(k) || '']));
        if (!f.prefix && !f.router && !f.peer) return;
        if (matchesFilter(ev, f)) { newCount++; draw(); }
      })];
    },
    update(p) { params = p; syncForm(); load(); },
    unmount() { offs.forEach((f) => f()); if (ro) ro.disconnect(); root = null; },
  };
}
