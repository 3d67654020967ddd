// #/routers[?router=NAME]  Routers (BMP feeds) and their peers: feed state,
// sysName/sysDescr, message counters, per-peer state, down reason, the
// capabilities of both OPENs, per-view prefix counts, statistics reports.
import { ago, api, badge, copyable, errorBox, h, hashLink, render, time } from '../lib.js';

const VIEWS = ['pre-policy', 'post-policy', 'loc-rib', 'adj-rib-out-pre', 'adj-rib-out-post'];

function capText(c) {
  const parts = [];
  for (const [k, v] of Object.entries(c)) {
    if (k === 'code' || k === 'name') continue;
    if (k === 'family' && v && v.family) parts.push(v.family);
    else if (k === 'families' && Array.isArray(v)) {
      parts.push(v.map((f) => [f.family || `${f.afi}/${f.safi}`, f.send ? 'send' : null, f.receive ? 'receive' : null,
        f.forwarding_state ? 'fwd-state' : null].filter(Boolean).join(' ')).join(', ') || 'no families');
    } else if (v !== null && typeof v === 'object') parts.push(`${k}=${JSON.stringify(v)}`);
    else if (v !== '' && v !== null) parts.push(`${k}=${v}`);
  }
  return parts.join(' · ');
}

function capsTable(session) {
  const sent = (session.sent_open && session.sent_open.capabilities) || [];
  const recv = (session.received_open && session.received_open.capabilities) || [];
  const names = [...new Set([...sent.map((c) => c.name || `cap-${c.code}`), ...recv.map((c) => c.name || `cap-${c.code}`)])];
  const find = (arr, n) => arr.filter((c) => (c.name || `cap-${c.code}`) === n);
  const cell = (cs) => cs.length ? cs.map((c) => h('div', null, capText(c) || '✔')) : h('span', { class: 'muted' }, '✖ not sent');
  const o = (x) => x ? `AS${x.asn} · hold ${x.hold_time}s · id ${x.bgp_id} · v${x.version}` : '—';
  return h('div', { class: 'caps' },
    h('p', null, `Local ${session.local_address || '?'}:${session.local_port ?? '?'} → remote port ${session.remote_port ?? '?'}`),
    h('div', { class: 'table-wrap' }, h('table', { class: 'grid caps-table' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Capability'), h('th', { scope: 'col' }, 'Sent OPEN (router)'), h('th', { scope: 'col' }, 'Received OPEN (peer)'))),
      h('tbody', null,
        h('tr', null, h('th', { scope: 'row' }, 'OPEN'), h('td', null, o(session.sent_open)), h('td', null, o(session.received_open))),
        names.map((n) => {
          const a = find(sent, n), b = find(recv, n);
          return h('tr', { class: a.length && b.length ? '' : 'one-sided', 'data-key': n },
            h('th', { scope: 'row' }, n, a.length && b.length ? null : h('span', { class: 'muted' }, ' (one side only)')), h('td', null, cell(a)), h('td', null, cell(b)));
        })))));
}

function peerState(p) {
  if (p.stale) return badge('unknown', 'STALE', { title: 'the feed is gone: last known state' });
  if (p.state === 'up') return badge('ok', 'UP');
  if (p.state === 'down') return badge('bad', 'DOWN');
  return badge('unknown', (p.state || 'unknown').toUpperCase());
}

function peersTable(router, peers, open) {
  if (!peers.length) return h('p', { class: 'muted' }, 'No peers reported by this router.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid peers' },
    h('thead', null, h('tr', null,
      ['Peer', 'ASN', 'BGP ID', 'Type', 'State', 'Since', 'Down reason'].map((t) => h('th', { scope: 'col' }, t)),
      VIEWS.map((v) => h('th', { scope: 'col', class: 'num', title: `${v} routes` }, v.replace('adj-rib-', ''))),
      h('th', { scope: 'col' }, 'Details'))),
    h('tbody', null, peers.map((p) => {
      const key = `${router}|${p.address}|${p.rd || 0}`;
      const dk = 'peer|' + key;
      const dr = p.down_reason;
      return h('tr', { 'data-key': key, 'data-peer': p.address, 'data-state': p.state },
        h('td', null, copyable(p.address, 'addr')),
        h('td', { class: 'num' }, p.asn ? `AS${p.asn}` : '—'),
        h('td', null, p.bgp_id || '—'),
        h('td', null, p.peer_type || '—', p.rd ? ` rd ${p.rd}` : ''),
        h('td', null, peerState(p)),
        h('td', { class: 'nowrap' }, time(p.state === 'up' ? p.up_since : p.down_since || p.up_since), h('div', { class: 'ago' }, ago(p.state === 'up' ? p.up_since : p.down_since || p.up_since))),
        h('td', null, dr ? [h('strong', null, dr.reason || `code ${dr.code}`),
          dr.notification ? h('div', { class: 'muted' }, typeof dr.notification === 'object' ? Object.entries(dr.notification).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ') : String(dr.notification)) : null,
          Object.keys(dr).filter((k) => !['reason', 'code', 'notification'].includes(k)).length
            ? h('div', { class: 'muted' }, Object.entries(dr).filter(([k]) => !['reason', 'code', 'notification'].includes(k)).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' · ')) : null]
          : h('span', { class: 'muted' }, '—')),
        VIEWS.map((v) => {
          const n = p.prefixes ? p.prefixes[v] : null;
          return h('td', { class: 'num' }, n ? h('a', { href: hashLink('/rib', { router, peer: p.address, view: v }), title: `${n} ${v} routes from ${p.address}` }, String(n)) : h('span', { class: 'muted' }, n === 0 ? '0' : '—'));
        }),
        h('td', null, h('details', { 'data-key': dk, open: open.has(dk) },
          h('summary', null, 'OPENs, stats'),
          h('div', { class: 'peer-more' },
            p.session ? capsTable(p.session) : h('p', { class: 'muted' }, 'No Peer Up seen (no OPEN messages).'),
            h('h4', null, 'Statistics (last report)'),
            p.stats ? h('dl', { class: 'counters' }, Object.entries(p.stats).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', { class: 'num' }, typeof v === 'object' ? JSON.stringify(v) : String(v)))))
              : h('p', { class: 'muted' }, 'No statistics report received.'),
            h('p', null, `Local AS ${p.local_asn || '—'}`)))));
    }))));
}

function routerCard(r, peers, open) {
  const conn = r.connected ? badge('ok', 'CONNECTED') : r.stale ? badge('bad', 'DISCONNECTED · routes stale') : badge('bad', 'DISCONNECTED');
  const c = r.counters || {};
  const errs = ['bad_messages', 'update_errors', 'attributes_discarded', 'treat_as_withdraw', 'framing_errors', 'addpath_mismatch'];
  const ck = 'ctr|' + r.name;
  return h('article', { class: `router-card ${r.connected ? 'lvl-ok' : 'lvl-bad'}`, 'data-key': r.name, 'data-router': r.name, id: `router-${r.name}` },
    h('header', { class: 'router-head' },
      h('h2', null, r.name), conn,
      h('a', { href: hashLink('/rib', { router: r.name }), class: 'btn-link' }, '⇢ RIB'),
      h('a', { href: hashLink('/routers', { router: r.name }), class: 'btn-link' }, '⇢ only this router')),
    h('dl', { class: 'kv' },
      h('div', null, h('dt', null, 'sysName'), h('dd', null, r.sys_name || '—')),
      h('div', null, h('dt', null, 'sysDescr'), h('dd', null, r.sys_descr || '—')),
      h('div', null, h('dt', null, 'Address'), h('dd', null, r.address || '—')),
      h('div', null, h('dt', null, r.connected ? 'Connected since' : 'Disconnected since'), h('dd', null, time(r.connected ? r.connected_since : r.disconnected_since, { ago: true }))),
      h('div', null, h('dt', null, 'Last message'), h('dd', null, time(r.last_message, { ago: true }))),
      h('div', null, h('dt', null, 'Peers up'), h('dd', { class: 'num' }, `${r.peers_up ?? '?'} / ${r.peers ?? '?'}`)),
      h('div', null, h('dt', null, 'Sessions'), h('dd', { class: 'num' }, String(r.sessions ?? '—'))),
      r.termination ? h('div', null, h('dt', null, 'Termination'), h('dd', null, typeof r.termination === 'object' ? JSON.stringify(r.termination) : String(r.termination))) : null,
      h('div', null, h('dt', null, 'Messages'), h('dd', { class: 'num' }, `${c.messages ?? '—'} (${c.bytes ?? '?'} bytes)`)),
      h('div', null, h('dt', null, 'Errors'), h('dd', { class: 'num' },
        errs.some((k) => c[k]) ? badge('warn', errs.filter((k) => c[k]).map((k) => `${k} ${c[k]}`).join(', ')) : badge('ok', 'none')))),
    h('details', { 'data-key': ck, open: open.has(ck) }, h('summary', null, 'All counters'),
      h('dl', { class: 'counters' }, Object.entries(c).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', { class: 'num' }, typeof v === 'object' ? JSON.stringify(v) : String(v))))),
      r.as_path_normalized !== undefined ? h('p', { class: 'muted' }, `AS paths normalised (FRR eBGP prepend): ${r.as_path_normalized ? 'yes' : 'no'}`) : null),
    h('h3', null, 'Peers'),
    peersTable(r.name, peers, open));
}

export default function routersView(app) {
  let root = null, params = new URLSearchParams(), routers = null, peers = [], error = null, offs = [];
  const open = new Set();
  let pending = null, last = 0;

  function draw() {
    if (!root) return;
    const only = params.get('router');
    const shown = routers ? routers.filter((r) => !only || r.name === only) : null;
    render(root,
      h('h1', null, only ? `Router ${only}` : 'Routers and peers'),
      error ? errorBox(error) : null,
      routers && routers.length > 1 ? h('nav', { class: 'jump', 'aria-label': 'Routers' }, only ? h('a', { href: '#/routers' }, 'All routers') : null,
        routers.map((r) => h('a', { href: hashLink('/routers', { router: r.name }), 'aria-current': r.name === only ? 'page' : null },
          r.connected ? '✔ ' : '✖ ', r.name))) : null,
      shown === null ? h('p', { class: 'loading' }, 'Loading routers…')
        : shown.length ? shown.map((r) => routerCard(r, peers.filter((p) => p.router === r.name), open))
          : h('div', { class: 'empty' }, h('p', null, only ? `No router named ${only}.` : 'No router has connected yet.'),
            h('p', { class: 'muted' }, 'Point the routers\' BMP at this collector (see README).')));
  }

  async function load() {
    last = Date.now();
    try {
      const [r, p] = await Promise.all([api('/routers'), api('/peers')]);
      routers = r.routers;
      peers = p.peers;
      error = null;
    } catch (e) { error = e; }
    draw();
  }
  // at most one refetch every 2 s while events stream in
  function soon() {
    if (pending) return;
    pending = setTimeout(() => { pending = null; load(); }, Math.max(300, 2000 - (Date.now() - last)));
  }

  return {
    title: (p) => p.get('router') ? `Router ${p.get('router')}` : 'Routers',
    mount(el, p) {
      params = p;
      root = h('div', { class: 'routers' });
      el.appendChild(root);
      root.addEventListener('toggle', (e) => {
        const k = e.target.dataset && e.target.dataset.key;
        if (k && e.target.tagName === 'DETAILS') e.target.open ? open.add(k) : open.delete(k);
      }, true);
      draw();
      load();
      offs = ['peer', 'route', 'site', 'alert', 'open'].map((t) => app.live.on(t, soon));   // a lost feed shows in site/alert events
    },
    update(p) { params = p; draw(); load(); },
    unmount() { offs.forEach((f) => f()); clearTimeout(pending); root = null; },
  };
}
