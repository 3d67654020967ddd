// #/rib?router=&peer=&view=&prefix=&match=&as_path=&community=&limit=&cursor=&at=
// The RIB browser: server-side filters, pages with the API's cursor (next /
// previous / first), every attribute of a route, and "as of" a past time
// (at=, answered from history). Live route changes that match the filter
// are counted, not pushed into the page under the reader's eyes.
import { api, asPath, badge, copyable, errorBox, fromLocalInput, h, hashLink, prettyJSON, render, time, toLocalInput } from '../lib.js';

const VIEWS = ['pre-policy', 'post-policy', 'loc-rib', 'adj-rib-out-pre', 'adj-rib-out-post'];
const LIMITS = [25, 50, 100, 250, 500, 1000];
const FILTER_KEYS = ['router', 'peer', 'view', 'prefix', 'match', 'as_path', 'community', 'limit', 'at'];

// ---- prefix arithmetic for matching live events against the filter
function parsePrefix(p) {
  const [addr, len] = String(p).split('/');
  let bits = 0n, width;
  if (addr.includes(':')) {
    width = 128;
    const [hd, tl] = addr.split('::');
    const hs = hd ? hd.split(':') : [], ts = tl !== undefined && tl ? tl.split(':') : [];
    const groups = tl === undefined ? hs : [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
    for (const g of groups) bits = (bits << 16n) | BigInt(parseInt(g || '0', 16));
  } else {
    width = 32;
    for (const o of addr.split('.')) bits = (bits << 8n) | BigInt(parseInt(o, 10));
  }
  const l = len === undefined ? width : parseInt(len, 10);
  return { width, bits, len: l };
}
function covers(outer, inner) { // outer contains inner
  if (outer.width !== inner.width || outer.len > inner.len) return false;
  const shift = BigInt(outer.width - outer.len);
  return (outer.bits >> shift) === (inner.bits >> shift);
}
function matchesFilter(ev, f) {
  if (f.router && ev.router !== f.router) return false;
  if (f.peer && ev.peer !== f.peer) return false;
  if (f.view && ev.view !== f.view) return false;
  if (f.prefix) {
    try {
      const a = parsePrefix(f.prefix), b = parsePrefix(ev.prefix);
      const m = f.match || 'exact';
      if (m === 'exact') return a.width === b.width && a.len === b.len && covers(a, b);
      if (m === 'longer') return covers(a, b);
      if (m === 'shorter') return covers(b, a);
    } catch { return true; }
  }
  return true;
}

const routeKey = (r) => `${r.router}|${r.peer}|${r.view}|${r.prefix}|${r.path_id || 0}`;

function attrValue(k, v) {
  if (v === null || v === undefined) return h('span', { class: 'muted' }, '—');
  if (k === 'as_path' || k === 'as_path_raw') return h('code', null, asPath(v) || '(empty)');
  if (k === 'since') return time(v);
  if (k === 'prefix') return copyable(v);
  if (Array.isArray(v)) return v.length ? h('ul', { class: 'plain' }, v.map((x) => h('li', null, h('code', null, typeof x === 'object' ? JSON.stringify(x) : String(x))))) : h('span', { class: 'muted' }, 'none');
  if (typeof v === 'object') return prettyJSON(v);
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return h('code', null, String(v));
}

function routeDetail(r) {
  return h('div', { class: 'route-detail' },
    h('dl', { class: 'attrs' }, Object.entries(r).map(([k, v]) => h('div', { 'data-attr': k }, h('dt', null, k), h('dd', null, attrValue(k, v))))),
    h('p', null, h('a', { href: hashLink('/history', { prefix: r.prefix, router: r.router, peer: r.peer }), class: 'btn-link' }, '⇢ History of this route'),
      ' ', h('a', { href: hashLink('/history', { prefix: r.prefix }), class: 'btn-link' }, '⇢ History of the prefix')),
    h('details', null, h('summary', null, 'Raw JSON'), prettyJSON(r)));
}

export default function ribView(app) {
  let root = null, form = null, result = null;
  let params = new URLSearchParams();
  let page = null, error = null, loading = false, seq = 0;
  let routers = [], peers = [];
  let stack = [];            // cursors of the previous pages ('' = first page)
  let sig = null;            // the filter the stack belongs to
  let changes = 0;
  const open = new Set();
  let offs = [];

  const filt = () => Object.fromEntries(FILTER_KEYS.map((k) => [k, params.get(k) || '']));
  const sigOf = (p) => FILTER_KEYS.map((k) => p.get(k) || '').join('\u0001');

  function buildForm() {
    const f = h('form', { class: 'filters rib-form', 'data-morph': 'keep', role: 'search', 'aria-label': 'RIB filters' },
      h('div', { class: 'field' }, h('label', { for: 'rib-router' }, 'Router'),
        h('select', { id: 'rib-router', name: 'router' }, h('option', { value: '' }, 'any'))),
      h('div', { class: 'field' }, h('label', { for: 'rib-peer' }, 'Peer'),
        h('input', { id: 'rib-peer', name: 'peer', list: 'rib-peers', placeholder: 'address', autocomplete: 'off', spellcheck: 'false' }),
        h('datalist', { id: 'rib-peers' })),
      h('div', { class: 'field' }, h('label', { for: 'rib-view' }, 'View'),
        h('select', { id: 'rib-view', name: 'view' }, h('option', { value: '' }, 'any'), VIEWS.map((v) => h('option', { value: v }, v)))),
      h('div', { class: 'field wide' }, h('label', { for: 'rib-prefix' }, 'Prefix'),
        h('input', { id: 'rib-prefix', name: 'prefix', placeholder: '10.17.11.0/25', autocomplete: 'off', spellcheck: 'false' })),
      h('div', { class: 'field' }, h('label', { for: 'rib-match' }, 'Match'),
        h('select', { id: 'rib-match', name: 'match' },
          h('option', { value: 'exact' }, 'exact'), h('option', { value: 'longer' }, 'longer (and more specific)'), h('option', { value: 'shorter' }, 'shorter (covering)'))),
      h('div', { class: 'field' }, h('label', { for: 'rib-aspath', title: 'AS numbers in a row; ^ = first AS (neighbour), $ = origin. E.g. 12076, ^65020 12076, 65515$' }, 'AS path'),
        h('input', { id: 'rib-aspath', name: 'as_path', placeholder: '^12076 or 65515$', autocomplete: 'off', spellcheck: 'false' })),
      h('div', { class: 'field' }, h('label', { for: 'rib-community', title: 'A:B, A:B:C (large), * for any part, or no-export, no-advertise, blackhole' }, 'Community'),
        h('input', { id: 'rib-community', name: 'community', placeholder: '12076:5010, 65020:*', autocomplete: 'off', spellcheck: 'false' })),
      h('div', { class: 'field' }, h('label', { for: 'rib-limit' }, 'Per page'),
        h('select', { id: 'rib-limit', name: 'limit' }, LIMITS.map((n) => h('option', { value: n }, String(n))))),
      h('div', { class: 'field wide' }, h('label', { for: 'rib-at' }, 'As of (your time zone)'),
        h('div', { class: 'inline' },
          h('input', { id: 'rib-at', name: 'at', type: 'datetime-local', step: '1' }),
          h('button', { type: 'button', 'data-action': 'now', title: 'Back to the live RIB' }, 'Live'))),
      h('div', { class: 'field buttons' },
        h('button', { type: 'submit', class: 'primary' }, 'Apply'),
        h('button', { type: 'button', 'data-action': 'reset' }, 'Reset')));
    f.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
    f.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-action]');
      if (!b) return;
      if (b.dataset.action === 'now') { f.elements.at.value = ''; apply(); }
      if (b.dataset.action === 'reset') app.navigate('/rib', {});
    });
    f.elements.router.addEventListener('change', fillPeers);
    return f;
  }

  function fillOptions() {
    const sel = form.elements.router;
    const cur = params.get('router') || sel.value;
    sel.replaceChildren(h('option', { value: '' }, 'any'), ...routers.map((r) => h('option', { value: r.name }, r.name)));
    if (cur && !routers.some((r) => r.name === cur)) sel.appendChild(h('option', { value: cur }, cur));
    sel.value = cur || '';
    fillPeers();
  }
  function fillPeers() {
    const r = form.elements.router.value;
    const list = [...new Set(peers.filter((p) => !r || p.router === r).map((p) => p.address))].sort();
    form.querySelector('#rib-peers').replaceChildren(...list.map((a) => h('option', { value: a })));
  }

  function syncForm() {
    const e = form.elements;
    e.router.value = params.get('router') || '';
    if (params.get('router') && e.router.value !== params.get('router')) { e.router.appendChild(h('option', { value: params.get('router') }, params.get('router'))); e.router.value = params.get('router'); }
    e.peer.value = params.get('peer') || '';
    e.view.value = params.get('view') || '';
    e.prefix.value = params.get('prefix') || '';
    e.match.value = params.get('match') || 'exact';
    e.as_path.value = params.get('as_path') || '';
    e.community.value = params.get('community') || '';
    e.limit.value = params.get('limit') || '100';
    e.at.value = params.get('at') ? toLocalInput(params.get('at')) : '';
  }

  function apply() {
    const e = form.elements;
    const p = {
      router: e.router.value, peer: e.peer.value.trim(), view: e.view.value, prefix: e.prefix.value.trim(),
      match: e.prefix.value.trim() && e.match.value !== 'exact' ? e.match.value : (e.prefix.value.trim() ? 'exact' : ''),
      as_path: e.as_path.value.trim(), community: e.community.value.trim(),
      limit: e.limit.value !== '100' ? e.limit.value : '', at: fromLocalInput(e.at.value),
    };
    app.navigate('/rib', p);
  }

  function link(cursor, drop = []) {
    const p = {};
    for (const k of FILTER_KEYS) if (params.get(k) && !drop.includes(k)) p[k] = params.get(k);
    if (cursor) p.cursor = cursor;
    return hashLink('/rib', p);
  }

  function pager(where) {
    if (!page) return null;
    // what is shown is the page last loaded (not the one being fetched)
    const n = page.routes.length, m = page.meta;
    const known = !(m.cursor && !m.depth);
    const pageNo = known ? m.depth + 1 : null;
    const from = known ? m.depth * m.limit + 1 : null;
    const prev = m.prev !== null ? link(m.prev) : m.cursor ? link('') : null;
    return h('nav', { class: 'pager', 'aria-label': `Pages (${where})` },
      h('span', { class: 'page-info', 'data-field': 'page' },
        pageNo ? `Page ${pageNo}` : 'Page ?', n ? ` · routes ${from ? `${from}–${from + n - 1}` : n}` : ' · no routes'),
      m.cursor ? h('a', { href: link(''), class: 'btn-link', 'data-page': 'first' }, '⇤ First') : h('span', { class: 'btn-link disabled', 'aria-disabled': 'true' }, '⇤ First'),
      prev ? h('a', { href: prev, class: 'btn-link', 'data-page': 'prev', rel: 'prev' }, '← Previous') : h('span', { class: 'btn-link disabled', 'aria-disabled': 'true' }, '← Previous'),
      page.next ? h('a', { href: link(page.next), class: 'btn-link', 'data-page': 'next', rel: 'next' }, 'Next →') : h('span', { class: 'btn-link disabled', 'aria-disabled': 'true', 'data-page': 'end' }, 'Next →'));
  }

  function table() {
    if (!page.routes.length) {
      return h('div', { class: 'empty' }, h('p', null, params.get('at') ? 'No route matched at that time.' : 'No route matches these filters.'));
    }
    const cols = ['', 'Prefix', 'Router', 'Peer', 'View', 'Next hop', 'AS path', 'LP', 'MED', 'Origin', 'Communities', 'Since'];
    return h('div', { class: 'table-wrap' }, h('table', { class: 'grid rib-table' },
      h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col' }, c)))),
      page.routes.map((r) => {
        const k = routeKey(r);
        const isOpen = open.has(k);
        const comms = [...(r.communities || []), ...(r.large_communities || []), ...(r.extended_communities || [])];
        return h('tbody', { 'data-key': k, class: r.stale ? 'stale' : '' },
          h('tr', { class: 'route-row', 'data-prefix': r.prefix },
            h('td', null, h('button', { type: 'button', class: 'expand', 'data-action': 'detail', 'data-route': k,
              'aria-expanded': isOpen ? 'true' : 'false', title: 'Every attribute of this route', 'aria-label': `Details of ${r.prefix} from ${r.peer}` }, isOpen ? '▾' : '▸')),
            h('td', null, copyable(r.prefix)),
            h('td', null, r.router),
            h('td', null, r.peer, r.peer_asn ? h('span', { class: 'muted' }, ` AS${r.peer_asn}`) : null),
            h('td', null, r.view),
            h('td', null, r.next_hop || '—'),
            h('td', null, h('code', null, asPath(r.as_path) || '∅')),
            h('td', { class: 'num' }, r.local_pref ?? '—'),
            h('td', { class: 'num' }, r.med ?? '—'),
            h('td', null, r.origin || '—'),
            h('td', null, comms.length ? h('span', { title: comms.map((c) => typeof c === 'object' ? JSON.stringify(c) : c).join(' ') }, comms.slice(0, 3).map(String).join(' '), comms.length > 3 ? ` +${comms.length - 3}` : '') : h('span', { class: 'muted' }, '—')),
            h('td', null, time(r.since), r.stale ? badge('warn', 'stale') : null)),
          isOpen ? h('tr', { class: 'detail-row' }, h('td', { colspan: cols.length }, routeDetail(r))) : null);
      })));
  }

  function draw() {
    if (!root) return;
    const at = params.get('at');
    result.dataset.loaded = page && !loading ? page.meta.hash : '';
    result.setAttribute('aria-busy', loading ? 'true' : 'false');
    render(result,
      at ? h('p', { class: 'asof', 'data-field': 'asof' }, badge('info', 'HISTORY'), ' As of ', time(at), h('span', { class: 'muted' }, ` — ${at}`), ' · ',
        h('a', { href: link('', ['at']), 'data-link': 'live' }, 'back to the live RIB'))
        : h('p', { class: 'asof live', 'data-field': 'asof' }, badge('ok', 'LIVE'), ' The live RIB'),
      error ? errorBox(error) : null,
      h('p', { class: 'changes', 'data-field': 'changes', style: changes && !at ? null : 'visibility:hidden' },
        `${changes} route change${changes === 1 ? '' : 's'} matching these filters since this page was loaded · `,
        h('button', { type: 'button', 'data-action': 'reload' }, 'Reload page')),
      page ? [pager('top'), table(), page.routes.length > 15 ? pager('bottom') : null]
        : h('p', { class: 'loading' }, loading ? 'Loading routes…' : ''),
      loading && page ? h('p', { class: 'loading overlay', 'aria-live': 'polite' }, 'Loading…') : null);
  }

  async function load() {
    const my = ++seq;
    loading = true;
    draw();
    const q = {};
    for (const k of [...FILTER_KEYS, 'cursor']) if (params.get(k)) q[k] = params.get(k);
    if (q.prefix && !q.match) q.match = 'exact';
    try {
      const r = await api('/rib', q);
      if (my !== seq) return;
      page = r;
      page.meta = { hash: location.hash, cursor: params.get('cursor') || '', depth: stack.length,
        prev: stack.length ? stack[stack.length - 1] : null, limit: parseInt(params.get('limit') || '100', 10) };
      error = null;
      changes = 0;
    } catch (e) {
      if (my !== seq) return;
      error = e;
      page = null;
    }
    loading = false;
    draw();
  }

  function onParams(p) {
    const old = params;
    params = p;
    const s = sigOf(p);
    const cur = p.get('cursor') || '';
    if (s !== sig) { stack = []; sig = s; open.clear(); }
    else if (page && cur && cur === page.next) stack.push(old.get('cursor') || '');
    else if (stack.length && cur === stack[stack.length - 1]) stack.pop();
    else if (!cur) stack = [];
    syncForm();
    load();
  }

  function onClick(e) {
    const b = e.target.closest('button[data-action]');
    if (!b || !result.contains(b)) return;
    if (b.dataset.action === 'detail') {
      const k = b.dataset.route;
      open.has(k) ? open.delete(k) : open.add(k);
      draw();
    } else if (b.dataset.action === 'reload') load();
  }

  return {
    title: () => 'RIB',
    mount(el, p) {
      root = h('div', { class: 'rib' });
      form = buildForm();
      result = h('div', { class: 'rib-result' });
      root.append(h('h1', null, 'RIB browser'), form, result);
      el.appendChild(root);
      result.addEventListener('click', onClick);
      onParams(p);
      Promise.all([api('/routers'), api('/peers')]).then(([r, ps]) => { routers = r.routers; peers = ps.peers; if (root) fillOptions(); }).catch(() => {});
      offs = [app.live.on('route', (ev) => {
        if (!ev || params.get('at')) return;
        if (matchesFilter(ev, filt())) { changes++; draw(); }
      }), app.live.on('open', (d) => { if (d && (d.reset || d.reconnect)) { changes++; draw(); } })];
    },
    update(p) { onParams(p); },
    unmount() { offs.forEach((f) => f()); root = null; },
  };
}
export { matchesFilter };
