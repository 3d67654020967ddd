// #/  Overview: one card per site (GET /api/v1/sites): a tile per path (ER
// primary / secondary, each VPN instance), best path per Azure prefix,
// symmetry, last failover, next drill due, what is firing and what the
// rules cannot decide. Updated in place from the live stream.
import { api, asPath, badge, copyable, debounce, errorBox, h, hashLink, levelOfHealth, levelOfSeverity, render, time } from '../lib.js';

const HEALTH_TEXT = { ok: 'Healthy', degraded: 'Degraded', critical: 'Critical', unknown: 'Unknown' };

function pathTitle(p) {
  if (p.path === 'er-primary') return 'ExpressRoute primary';
  if (p.path === 'er-secondary') return 'ExpressRoute secondary';
  if (p.path === 'vpn') return `VPN ${p.name || p.peer}`;
  return p.path;
}

/** level + words for a path tile: colour, shape and text agree. */
export function pathLevel(p) {
  if (p.state === 'down') return { level: 'bad', text: 'DOWN' };
  if (p.state === 'up') {
    if (p.prefixes_present !== null && p.prefixes_present !== undefined && p.prefixes_present < p.prefixes_expected) {
      return { level: 'warn', text: 'UP · ROUTES MISSING' };
    }
    return { level: 'ok', text: 'UP' };
  }
  return { level: 'unknown', text: (p.state || 'unknown').toUpperCase() };
}

function tile(p) {
  const { level, text } = pathLevel(p);
  const key = `${p.path}|${p.router}|${p.peer}`;
  const present = p.prefixes_present === null || p.prefixes_present === undefined ? '?' : p.prefixes_present;
  return h('div', { class: `tile lvl-${level}`, 'data-key': key, 'data-path': p.path, 'data-peer': p.peer,
    'data-state': p.state, 'data-level': level, role: 'group', 'aria-label': `${pathTitle(p)}: ${text}` },
  h('div', { class: 'tile-title' }, pathTitle(p)),
  h('div', { class: 'tile-state' }, badge(level, text, { class: `badge big lvl-${level}` })),
  h('div', { class: 'tile-peer' }, h('a', { href: hashLink('/routers', { router: p.router }) }, p.router), ' ↔ ',
    h('a', { href: hashLink('/rib', { router: p.router, peer: p.peer }) }, p.peer)),
  h('dl', { class: 'tile-facts' },
    h('div', null, h('dt', null, 'Azure prefixes'), h('dd', { class: 'num', 'data-field': 'prefixes' }, `${present} / ${p.prefixes_expected}`)),
    h('div', null, h('dt', null, p.state === 'down' ? 'Down since' : p.state === 'up' ? 'Up since' : 'Since'),
      h('dd', null, time(p.since, { ago: true, seconds: true })))),
  p.reason ? h('p', { class: 'tile-reason' }, p.reason) : null);
}

function bestLevel(b) {
  if (b.best === 'er') return ['ok', 'ER'];
  if (b.best === 'vpn') return ['warn', 'VPN'];
  if (b.best === 'none') return ['bad', 'NONE'];
  return ['unknown', (b.best || 'unknown').toUpperCase()];
}

function bestPaths(site, openSet) {
  if (!site.best_paths || !site.best_paths.length) return h('p', { class: 'muted' }, 'No Azure prefixes configured.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'grid best' },
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Azure prefix'), h('th', { scope: 'col' }, 'Best path'),
      h('th', { scope: 'col' }, 'Symmetric'), h('th', { scope: 'col' }, 'Decided by'), h('th', { scope: 'col' }, 'Candidates'))),
    h('tbody', null, site.best_paths.map((b) => {
      const [lvl, txt] = bestLevel(b);
      const sym = b.symmetric === true ? badge('ok', 'yes') : b.symmetric === false ? badge('bad', 'no') : badge('unknown', 'unknown');
      const dkey = `cand|${site.name}|${b.prefix}`;
      return h('tr', { 'data-key': b.prefix },
        h('td', null, copyable(b.prefix)),
        h('td', null, badge(lvl, txt)),
        h('td', null, sym),
        h('td', null, b.decided_by || '—'),
        h('td', null, (b.candidates || []).length ? h('details', { 'data-key': dkey, open: openSet.has(dkey) },
          h('summary', null, `${b.candidates.length} path${b.candidates.length === 1 ? '' : 's'}`),
          h('ul', { class: 'cands' }, b.candidates.map((c) => h('li', { class: c.best ? 'best' : '' },
            c.best ? h('strong', null, '★ best ') : null,
            `${(c.path || '').toUpperCase()} via ${c.router} ← ${c.peer}`,
            ` · LP ${c.effective_local_pref ?? c.local_pref ?? '—'}${c.local_pref_defaulted ? ' (default)' : ''}`,
            ` · AS path ${asPath(c.as_path) || '(empty)'}`, ` · ${c.view}`)))) : h('span', { class: 'muted' }, 'none')));
    }))));
}

function siteCard(site, alerts, failovers, openSet) {
  const lvl = levelOfHealth(site.health);
  const symLvl = site.symmetry === 'symmetric' ? 'ok' : site.symmetry === 'asymmetric' ? 'bad' : 'unknown';
  const due = site.next_drill_due ? new Date(site.next_drill_due) : null;
  const overdue = due && due < new Date();
  const mine = alerts.filter((a) => a.site === site.name);
  const lastFo = failovers.filter((f) => f.site === site.name).sort((a, b) => String(b.time || b.started || '').localeCompare(String(a.time || a.started || '')))[0];
  return h('article', { class: `site lvl-${lvl}`, 'data-key': site.name, 'data-site': site.name, 'data-health': site.health,
    'aria-labelledby': `site-${site.name}` },
  h('header', { class: 'site-head' },
    h('div', null, h('h2', { id: `site-${site.name}` }, site.name), site.description ? h('p', { class: 'muted' }, site.description) : null),
    h('div', { class: 'site-health', 'data-field': 'health' }, badge(lvl, HEALTH_TEXT[site.health] || site.health, { class: `badge huge lvl-${lvl}` }))),
  h('div', { class: 'tiles' }, (site.paths || []).map(tile)),
  h('div', { class: 'facts' },
    h('div', { class: 'fact' }, h('span', { class: 'k' }, 'Traffic'), badge(symLvl, site.symmetry || 'unknown', { 'data-field': 'symmetry', class: `badge lvl-${symLvl}` })),
    h('div', { class: 'fact' }, h('span', { class: 'k' }, 'Alerts firing'),
      h('a', { href: hashLink('/alerts', { state: 'firing', site: site.name }), 'data-field': 'firing' },
        site.alerts_firing ? badge(lvl === 'ok' ? 'warn' : lvl, String(site.alerts_firing)) : badge('ok', '0'))),
    h('div', { class: 'fact' }, h('span', { class: 'k' }, 'Last failover'),
      site.last_failover ? time(site.last_failover, { ago: true }) : h('span', { class: 'muted' }, 'none observed'),
      lastFo ? h('small', { class: 'muted' }, ` ${lastFo.kind || ''} ${lastFo.prefix || ''} ${lastFo.duration_ms !== null && lastFo.duration_ms !== undefined ? '· ' + lastFo.duration_ms + ' ms' : ''}`) : null),
    h('div', { class: 'fact' }, h('span', { class: 'k' }, 'Next drill due'),
      overdue ? badge('bad', 'overdue') : null, ' ', time(site.next_drill_due, { ago: true, seconds: false }))),
  h('section', { class: 'sub' }, h('h3', null, 'Best path per Azure prefix'), bestPaths(site, openSet)),
  h('section', { class: 'sub' }, h('h3', null, 'Active alerts'),
    mine.length ? h('ul', { class: 'alert-lines' }, mine.map((a) => h('li', { 'data-key': String(a.id), 'data-alert-id': a.id, 'data-rule': a.rule, 'data-state': a.state },
      badge(a.state === 'firing' ? levelOfSeverity(a.severity) : 'info', a.state === 'firing' ? a.severity : a.state),
      ' ', h('a', { href: `#/alerts/${a.id}` }, a.summary || a.rule),
      a.acknowledged ? h('span', { class: 'tag' }, ' ✔ ack') : null, a.silenced ? h('span', { class: 'tag' }, ' ⊘ silenced') : null)))
      : h('p', { class: 'muted' }, '✔ Nothing firing or pending.')),
  site.unknown && site.unknown.length ? h('section', { class: 'sub' }, h('h3', null, 'Cannot decide (unknown)'),
    h('ul', { class: 'unknown-lines' }, site.unknown.map((u, i) => h('li', { 'data-key': `${u.rule}|${u.router}|${i}` },
      badge('unknown', u.rule), ' ', h('span', null, `${u.router}: ${u.reason}`))))) : null);
}

export default function overview(app) {
  let root = null, sites = null, alerts = [], failovers = [], error = null, offs = [], ticker = null;
  const openSet = new Set();

  function draw() {
    if (!root) return;
    if (!sites) { render(root, h('h1', { class: 'sr-only' }, 'Overview'), error ? errorBox(error) : h('p', { class: 'loading' }, 'Loading sites…')); return; }
    render(root,
      h('h1', { class: 'sr-only' }, 'Overview'),
      error ? errorBox(error) : null,
      sites.length ? h('div', { class: 'sites' }, sites.map((s) => siteCard(s, alerts, failovers, openSet)))
        : h('div', { class: 'empty' }, h('p', null, 'No sites configured.'),
          h('p', { class: 'muted' }, 'Add a ', h('code', null, 'sites:'), ' section to the collector configuration (see examples/sea-cust11.yaml).')));
  }

  async function loadSites() {
    try { sites = (await api('/sites')).sites; error = null; } catch (e) { error = e; }
    draw();
  }
  async function loadAlerts() {
    try {
      const [f, p] = await Promise.all([api('/alerts', { state: 'firing' }), api('/alerts', { state: 'pending' })]);
      alerts = [...f.alerts, ...p.alerts];
    } catch (e) { error = e; }
    draw();
  }
  async function loadFailovers() {
    try { failovers = (await api('/failovers')).failovers || []; } catch { failovers = []; }
    draw();
  }
  const sitesSoon = debounce(loadSites, 250);
  const alertsSoon = debounce(loadAlerts, 250);
  const failoversSoon = debounce(loadFailovers, 1000);

  return {
    title: () => 'Overview',
    mount(el) {
      root = h('div', { class: 'overview' });
      el.appendChild(root);
      root.addEventListener('toggle', (e) => {
        const k = e.target.dataset && e.target.dataset.key;
        if (k) e.target.open ? openSet.add(k) : openSet.delete(k);
      }, true);
      draw();
      loadSites(); loadAlerts(); loadFailovers();
      offs = [
        app.live.on('site', (d) => {
          // the event carries the /sites object: use it at once, then confirm
          if (d && Array.isArray(d.sites)) { sites = d.sites; draw(); }
          else if (d && d.name && sites) { sites = sites.map((s) => s.name === d.name ? d : s); draw(); }
          sitesSoon(); failoversSoon();
        }),
        app.live.on('alert', () => { alertsSoon(); sitesSoon(); }),
        app.live.on('peer', () => sitesSoon()),
        app.live.on('open', () => { sitesSoon(); alertsSoon(); failoversSoon(); }),
      ];
      ticker = setInterval(draw, 15000);   // "… ago" stays true
    },
    update() { loadSites(); loadAlerts(); },
    unmount() { offs.forEach((f) => f()); clearInterval(ticker); sitesSoon.cancel(); alertsSoon.cancel(); failoversSoon.cancel(); root = null; },
  };
}
