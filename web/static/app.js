// pathwatch dashboard: a hash router over the views, the live indicator,
// the status footer. Each view has its own URL (deep links):
//   #/                     overview (sites)
//   #/alerts[?state=]      alerts;  #/alerts/ID  one alert
//   #/routers[?router=]    routers and peers
//   #/rib?router=&peer=&view=&prefix=&match=&limit=&cursor=&at=
//   #/history?prefix=&match=&router=&peer=&view=
//   #/plots?router=&peer=&view=&range=|from=&to=
import { api, askToken, dialog, h, render, time, toast, token } from './lib.js';
import { Live } from './live.js';
import overview from './views/overview.js';
import alerts from './views/alerts.js';
import routers from './views/routers.js';
import rib from './views/rib.js';
import historyView from './views/history.js';
import plots from './views/plots.js';

const ROUTES = [
  { re: /^\/$/, view: overview, nav: '/' },
  { re: /^\/alerts(?:\/(\d+))?$/, view: alerts, nav: '/alerts', args: ['id'] },
  { re: /^\/routers$/, view: routers, nav: '/routers' },
  { re: /^\/rib$/, view: rib, nav: '/rib' },
  { re: /^\/history$/, view: historyView, nav: '/history' },
  { re: /^\/plots$/, view: plots, nav: '/plots' },
];

const live = new Live();
const app = { live, current: null, navigate };
window.pathwatch = app;   // for the console and the browser tests

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query] = raw.split('?');
  return { path: path || '/', params: new URLSearchParams(query || '') };
}

function navigate(path, params, { replace = false } = {}) {
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== null && v !== undefined)).toString() : '';
  const target = '#' + path + (q ? '?' + q : '');
  if (target === location.hash) { route(); return; }
  if (replace) { window.history.replaceState(null, '', target); route(); } else location.hash = target;
}

let mounted = null;   // {entry, view, el}
const viewRoot = document.getElementById('view');

function route() {
  const { path, params } = parseHash();
  let entry = null, m = null;
  for (const r of ROUTES) if ((m = r.re.exec(path))) { entry = r; break; }
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (entry && a.dataset.nav === entry.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!entry) {
    if (mounted) { mounted.view.unmount && mounted.view.unmount(); mounted = null; }
    render(viewRoot, h('section', { class: 'notfound' }, h('h1', null, 'Not found'),
      h('p', null, 'No view at ', h('code', null, path), '. ', h('a', { href: '#/' }, 'Back to the overview'))));
    document.title = 'Not found · pathwatch';
    return;
  }
  (entry.args || []).forEach((name, i) => { if (m[i + 1] !== undefined) params.set(name, m[i + 1]); });
  if (mounted && mounted.entry === entry && mounted.view.update) {
    mounted.view.update(params);
  } else {
    if (mounted) mounted.view.unmount && mounted.view.unmount();
    viewRoot.replaceChildren();
    const view = entry.view(app);
    mounted = { entry, view };
    app.current = view;
    view.mount(viewRoot, params);
    // a new view: move focus to the content for keyboard and screen-reader users
    if (document.activeElement && document.activeElement.closest && document.activeElement.closest('#nav')) {
      document.getElementById('main').focus({ preventScroll: true });
    }
  }
  document.title = (mounted.view.title ? mounted.view.title(params) + ' · ' : '') + 'pathwatch';
}

window.addEventListener('hashchange', route);

// ------------------------------------------------------------ live indicator
const liveBtn = document.getElementById('live');
const LIVE_TEXT = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', paused: 'paused' };
live.onState((s) => {
  liveBtn.dataset.state = s;
  liveBtn.querySelector('.live-text').textContent = LIVE_TEXT[s] || s;
  liveBtn.setAttribute('aria-pressed', s === 'paused' ? 'true' : 'false');
  liveBtn.title = s === 'paused' ? 'Live updates paused: click to resume' : `Live updates ${LIVE_TEXT[s]}: click to pause`;
});
liveBtn.addEventListener('click', () => live.toggle());

document.getElementById('token-btn').addEventListener('click', async () => {
  if (token.get()) {
    const v = await dialog({ title: 'API token', text: 'A token is stored in this browser.',
      fields: [{ name: 'action', label: 'Action', type: 'select', value: 'replace',
        options: [{ value: 'replace', label: 'Replace it' }, { value: 'forget', label: 'Forget it' }] }], submit: 'Apply' });
    if (!v) return;
    if (v.action === 'forget') { token.set(''); toast('Token forgotten'); return; }
  }
  if (await askToken()) toast('Token saved');
});

// ------------------------------------------------------------ footer + firing count
const foot = document.getElementById('foot');
const navFiring = document.getElementById('nav-firing');
let statusErr = null;
async function refreshStatus() {
  try {
    const [st, al] = await Promise.all([api('/status'), api('/alerts', { state: 'firing' })]);
    statusErr = null;
    render(foot, h('span', null, `pathwatch ${st.version}`),
      h('span', null, `${st.routers_connected}/${st.routers} routers connected`),
      h('span', null, `${st.peers_up}/${st.peers} peers up`),
      h('span', null, `${st.routes} routes`),
      h('span', { class: st.store_ok ? '' : 'lvl-bad-text' }, st.store_ok ? 'store ok' : '✖ store failing'),
      h('span', null, 'collector time ', time(st.time)));
    const n = al.alerts.length;
    navFiring.hidden = n === 0;
    navFiring.textContent = n ? `${n} firing` : '';
  } catch (e) {
    if (!statusErr) render(foot, h('span', { class: 'lvl-bad-text' }, '✖ collector unreachable: ', e.message));
    statusErr = e;
  }
}
const statusSoon = (() => { let t = null; return () => { clearTimeout(t); t = setTimeout(refreshStatus, 500); }; })();
live.on('alert', statusSoon);
live.on('peer', statusSoon);
live.on('open', statusSoon);
setInterval(() => { if (live.state !== 'paused') refreshStatus(); }, 30000);

route();
refreshStatus();
live.start();
