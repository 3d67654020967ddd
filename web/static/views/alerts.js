// #/alerts[?state=&site=&rule=]  and  #/alerts/ID
// Alerts with summary, evidence, timeline (GET /api/v1/alerts/{id}),
// acknowledge and silence (token asked once), links to the routes concerned.
// Updated in place from the live stream.
import { api, apiWrite, badge, copyable, debounce, dialog, errorBox, h, hashLink, levelOfSeverity, prettyJSON, render, time, toast } from '../lib.js';

const STATES = [
  { value: 'active', label: 'Firing + pending' },
  { value: 'firing', label: 'Firing' },
  { value: 'pending', label: 'Pending' },
  { value: 'resolved', label: 'Resolved' },
  { value: 'all', label: 'All' },
];

const BY_KEY = 'pathwatch.by';

function stateBadge(a) {
  if (a.state === 'firing') return badge(levelOfSeverity(a.severity), `FIRING · ${a.severity}`, { 'data-field': 'state' });
  if (a.state === 'pending') return badge('info', 'PENDING', { 'data-field': 'state', class: 'badge lvl-pending' });
  if (a.state === 'resolved') return badge('ok', 'RESOLVED', { 'data-field': 'state' });
  return badge('unknown', a.state, { 'data-field': 'state' });
}

function routeLinks(a) {
  const links = [];
  if (a.router) {
    const p = { router: a.router };
    if (a.peer) p.peer = a.peer;
    if (a.prefix) { p.prefix = a.prefix; p.match = 'exact'; }
    links.push(h('a', { href: hashLink('/rib', p), class: 'btn-link', 'data-link': 'rib' }, '⇢ Routes concerned'));
  } else if (a.prefix) {
    links.push(h('a', { href: hashLink('/rib', { prefix: a.prefix, match: 'exact' }), class: 'btn-link', 'data-link': 'rib' }, '⇢ Routes concerned'));
  }
  if (a.prefix) links.push(h('a', { href: hashLink('/history', { prefix: a.prefix }), class: 'btn-link', 'data-link': 'history' }, '⇢ Prefix history'));
  if (a.router) links.push(h('a', { href: hashLink('/routers', { router: a.router }), class: 'btn-link', 'data-link': 'router' }, `⇢ Router ${a.router}`));
  return links;
}

function timeline(detail) {
  if (!detail) return h('p', { class: 'loading' }, 'Loading timeline…');
  if (detail instanceof Error) return errorBox(detail);
  const tr = detail.transitions || [];
  if (!tr.length) return h('p', { class: 'muted' }, 'No transitions recorded.');
  return h('ol', { class: 'timeline' }, tr.map((t, i) => h('li', { 'data-key': String(i), class: `to-${t.to}` },
    time(t.time), ' ', h('span', { class: 'tl-move' }, `${t.from || '∅'} → ${t.to}`), t.note ? h('span', { class: 'muted' }, ` · ${t.note}`) : null)));
}

function alertCard(a, ui) {
  const key = String(a.id);
  const open = ui.open.has(key);
  const ack = a.acknowledged;
  return h('article', { class: `alert-card st-${a.state} lvl-${a.state === 'firing' ? levelOfSeverity(a.severity) : a.state === 'resolved' ? 'ok' : 'info'}`,
    'data-key': key, 'data-alert-id': a.id, 'data-rule': a.rule, 'data-state': a.state, 'aria-labelledby': `al-${a.id}` },
  h('header', { class: 'alert-head' },
    stateBadge(a),
    h('h2', { id: `al-${a.id}` }, h('a', { href: `#/alerts/${a.id}` }, a.summary || a.rule)),
    h('span', { class: 'alert-id muted' }, `#${a.id}`)),
  h('dl', { class: 'kv' },
    h('div', null, h('dt', null, 'Rule'), h('dd', null, h('code', null, a.rule))),
    h('div', null, h('dt', null, 'Site'), h('dd', null, a.site || '—')),
    a.router ? h('div', null, h('dt', null, 'Router'), h('dd', null, a.router)) : null,
    a.peer ? h('div', null, h('dt', null, 'Peer'), h('dd', null, copyable(a.peer, 'addr'))) : null,
    a.prefix ? h('div', null, h('dt', null, 'Prefix'), h('dd', null, copyable(a.prefix))) : null,
    h('div', null, h('dt', null, 'Since'), h('dd', null, time(a.since, { ago: true }))),
    a.started && a.started !== a.since ? h('div', null, h('dt', null, 'Started'), h('dd', null, time(a.started))) : null,
    a.resolved_at ? h('div', null, h('dt', null, 'Resolved'), h('dd', null, time(a.resolved_at))) : null,
    a.flaps ? h('div', null, h('dt', null, 'Flaps'), h('dd', null, String(a.flaps))) : null),
  a.unknown ? h('p', { class: 'note' }, badge('unknown', 'unknown'), ' ', a.unknown) : null,
  h('div', { class: 'alert-status' },
    ack ? h('span', { class: 'tag ack', 'data-field': 'ack' }, '✔ Acknowledged by ', h('strong', null, ack.by), ack.at ? [' at ', time(ack.at)] : null,
      ack.comment ? h('span', null, ` — “${ack.comment}”`) : null) : null,
    a.silenced ? h('span', { class: 'tag silenced', 'data-field': 'silenced' }, '⊘ Silenced', a.silence_id ? ` (silence #${a.silence_id})` : '') : null),
  h('div', { class: 'actions' },
    a.state !== 'resolved' ? h('button', { type: 'button', 'data-action': 'ack', 'data-id': a.id }, ack ? 'Acknowledge again…' : '✔ Acknowledge…') : null,
    h('button', { type: 'button', 'data-action': 'silence', 'data-id': a.id }, '⊘ Silence…'),
    routeLinks(a)),
  h('details', { 'data-key': key, class: 'more', open },
    h('summary', null, 'Evidence and timeline'),
    h('div', { class: 'more-body' },
      h('section', null, h('h3', null, 'Evidence'), a.evidence ? prettyJSON(a.evidence) : h('p', { class: 'muted' }, 'none')),
      h('section', null, h('h3', null, 'Timeline'), timeline(ui.details.get(key))))));
}

function silencesTable(sil) {
  if (!sil) return null;
  return h('section', { class: 'sub silences' }, h('h2', null, 'Silences'),
    !sil.length ? h('p', { class: 'muted' }, 'No silences.') : h('div', { class: 'table-wrap' }, h('table', { class: 'grid' },
      h('thead', null, h('tr', null, ['#', 'Matchers', 'Starts', 'Ends', 'By', 'Comment', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, sil.slice(0, 50).map((x) => h('tr', { 'data-key': String(x.id), 'data-silence-id': x.id },
        h('td', null, String(x.id)),
        h('td', null, Object.entries(x.matchers || {}).map(([k, v]) => h('code', { class: 'matcher' }, `${k}=${v}`))),
        h('td', null, time(x.starts)), h('td', null, time(x.ends)),
        h('td', null, x.created_by || '—'), h('td', null, x.comment || ''),
        h('td', null, x.active ? badge('info', 'active') : badge('unknown', x.expired ? 'expired' : 'ended')),
        h('td', null, x.active ? h('button', { type: 'button', 'data-action': 'expire', 'data-id': x.id }, 'Expire') : null)))))));
}

export default function alertsView(app) {
  let root = null, params = new URLSearchParams(), list = null, single = null, sil = null, error = null, offs = [];
  const ui = { open: new Set(), details: new Map() };

  const stateOf = () => params.get('state') || 'active';
  const singleId = () => params.get('id');

  function filters() {
    const st = stateOf();
    const keep = {};
    for (const k of ['site', 'rule']) if (params.get(k)) keep[k] = params.get(k);
    return h('nav', { class: 'filters', 'aria-label': 'Alert state filter', 'data-morph': 'none' },
      h('ul', { class: 'tabs' }, STATES.map((s) => h('li', null, h('a', {
        href: hashLink('/alerts', { ...keep, state: s.value === 'active' ? '' : s.value }),
        'aria-current': s.value === st ? 'page' : null, 'data-state-filter': s.value }, s.label)))),
      Object.keys(keep).length ? h('p', { class: 'muted' }, 'Only ', Object.entries(keep).map(([k, v]) => `${k}=${v} `),
        h('a', { href: hashLink('/alerts', { state: st === 'active' ? '' : st }) }, 'clear')) : null);
  }

  function draw() {
    if (!root) return;
    const id = singleId();
    let body;
    if (id) {
      body = [h('p', null, h('a', { href: '#/alerts' }, '← All alerts')),
        single ? alertCard(single, ui) : error ? null : h('p', { class: 'loading' }, 'Loading alert…')];
    } else {
      body = [filters(),
        list === null ? h('p', { class: 'loading' }, 'Loading alerts…')
          : list.length ? h('div', { class: 'alert-list' }, list.map((a) => alertCard(a, ui)))
            : h('div', { class: 'empty' }, h('p', null, '✔ No ', stateOf() === 'active' ? 'firing or pending' : stateOf() === 'all' ? '' : stateOf(), ' alerts.')),
        silencesTable(sil)];
    }
    render(root, h('h1', null, id ? `Alert #${id}` : 'Alerts'), error ? errorBox(error) : null, body);
  }

  async function load() {
    try {
      const id = singleId();
      if (id) {
        single = await api(`/alerts/${id}`);
        ui.open.add(String(single.id));
        ui.details.set(String(single.id), single);
      } else {
        const st = stateOf();
        const q = { site: params.get('site'), rule: params.get('rule'), limit: 500 };
        if (st === 'active') {
          const [f, p] = await Promise.all([api('/alerts', { ...q, state: 'firing' }), api('/alerts', { ...q, state: 'pending' })]);
          list = [...f.alerts, ...p.alerts];
        } else {
          list = (await api('/alerts', { ...q, state: st === 'all' ? '' : st })).alerts;
        }
        list.sort((a, b) => (b.id - a.id));
        // refresh the timelines that are open
        await Promise.all([...ui.open].filter((k) => list.some((a) => String(a.id) === k)).map(loadDetail));
        sil = (await api('/silences')).silences;
      }
      error = null;
    } catch (e) { error = e; }
    draw();
  }

  async function loadDetail(key) {
    try { ui.details.set(key, await api(`/alerts/${key}`)); } catch (e) { ui.details.set(key, e); }
  }

  const soon = debounce(load, 250);
  // the collector applies a silence to its alerts on its next evaluation
  // (about a second) and sends no event for it: look again shortly
  function settle() { load(); setTimeout(soon, 1300); setTimeout(soon, 3000); }

  function findAlert(id) {
    id = String(id);
    if (single && String(single.id) === id) return single;
    return (list || []).find((a) => String(a.id) === id);
  }

  async function acknowledge(a) {
    const v = await dialog({
      title: `Acknowledge alert #${a.id}`,
      text: a.summary,
      fields: [
        { name: 'by', label: 'By (who is handling it)', required: true, value: localStorage.getItem(BY_KEY) || '' },
        { name: 'comment', label: 'Comment', type: 'textarea', placeholder: 'e.g. ticket NOC-1234, on it' },
      ],
      submit: 'Acknowledge',
    });
    if (!v) return;
    localStorage.setItem(BY_KEY, v.by);
    try {
      await apiWrite('POST', `/alerts/${a.id}/ack`, { by: v.by, comment: v.comment });
      toast(`Alert #${a.id} acknowledged by ${v.by}`);
    } catch (e) { toast(`Acknowledge failed: ${e.message}`, 'error'); }
    load();
  }

  async function silence(a) {
    const fields = [];
    for (const k of ['rule', 'site', 'router', 'peer', 'prefix']) {
      if (!a[k]) continue;
      fields.push({ name: `use_${k}`, label: `Match ${k}`, type: 'checkbox', checked: true });
      fields.push({ name: `m_${k}`, label: `${k}`, value: a[k], required: false });
    }
    fields.push({ name: 'duration', label: 'Duration', value: '2h', required: true, pattern: '^[0-9]+[smhdw]$', help: 'e.g. 30m, 2h, 1d' });
    fields.push({ name: 'created_by', label: 'By', required: true, value: localStorage.getItem(BY_KEY) || '' });
    fields.push({ name: 'comment', label: 'Comment', type: 'textarea', placeholder: 'why, until when' });
    const v = await dialog({ title: `Silence alerts like #${a.id}`, text: 'Matching alerts still show, but no page is sent while the silence lasts.', fields, submit: 'Create silence' });
    if (!v) return;
    localStorage.setItem(BY_KEY, v.created_by);
    const matchers = {};
    for (const k of ['rule', 'site', 'router', 'peer', 'prefix']) if (v[`use_${k}`] && v[`m_${k}`]) matchers[k] = v[`m_${k}`].trim();
    if (!Object.keys(matchers).length) { toast('A silence needs at least one matcher', 'error'); return; }
    try {
      const r = await apiWrite('POST', '/silences', { matchers, duration: v.duration.trim(), created_by: v.created_by, comment: v.comment });
      toast(`Silence #${r && r.id} created for ${v.duration}`);
    } catch (e) { toast(`Silence failed: ${e.message}`, 'error'); }
    settle();
  }

  async function expire(id) {
    try {
      await apiWrite('DELETE', `/silences/${id}`);
      toast(`Silence #${id} expired`);
    } catch (e) { toast(`Expire failed: ${e.message}`, 'error'); }
    settle();
  }

  async function onClick(e) {
    const b = e.target.closest('button[data-action]');
    if (!b || !root.contains(b)) return;
    const id = b.dataset.id, act = b.dataset.action;
    if (act === 'expire') { expire(id); return; }
    if (act !== 'ack' && act !== 'silence') return;
    let a = findAlert(id);
    if (!a) {   // the list is being reloaded: ask the collector
      try { a = await api(`/alerts/${id}`); } catch (err) { toast(`Alert #${id}: ${err.message}`, 'error'); return; }
    }
    if (act === 'ack') acknowledge(a); else silence(a);
  }

  function onToggle(e) {
    const d = e.target;
    if (!d.matches || !d.matches('details.more')) return;
    const k = d.dataset.key;
    if (d.open) {
      if (!ui.open.has(k)) { ui.open.add(k); if (!ui.details.has(k)) loadDetail(k).then(draw); }
    } else ui.open.delete(k);
  }

  return {
    title: (p) => p.get('id') ? `Alert #${p.get('id')}` : 'Alerts',
    mount(el, p) {
      params = p;
      root = h('div', { class: 'alerts' });
      el.appendChild(root);
      root.addEventListener('click', onClick);
      root.addEventListener('toggle', onToggle, true);
      draw();
      load();
      offs = [
        app.live.on('alert', () => soon()),
        app.live.on('open', () => soon()),
      ];
    },
    update(p) {
      const changed = p.get('id') !== params.get('id') || p.get('state') !== params.get('state');
      params = p;
      if (changed) { list = null; single = null; }
      draw();
      load();
    },
    unmount() { offs.forEach((f) => f()); soon.cancel(); root = null; },
  };
}
