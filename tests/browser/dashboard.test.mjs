#!/usr/bin/env node
// The dashboard end to end, in Debian's headless Chromium driven by
// playwright-core (no browser download): the collector is started with the
// lab site of tests/replay/rules_replay.py, the three real FRR captures are
// streamed to it over TCP as the routers sent them, faults are injected as
// BMP messages, and the page, served by the collector itself, is checked as
// the NOC would read it.
//
// usage: node dashboard.test.mjs [PATHWATCH_BINARY]   (default: build/pathwatch)
// env:   CHROMIUM=/usr/bin/chromium  PW_BROWSER_KEEP=1 (keep the work dir)
// Ends with the line "N passed, N failed"; exit 0 only when all passed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as bmp from './bmp.mjs';
import { Failure, Steps, check, checkSanitizers, freePort, hashGo, launch, marker, runMain, shot, sleep, text, top, waitFor } from './harness.mjs';

const BINARY = path.resolve(process.argv[2] || process.env.PATHWATCH || path.join(top, 'build/pathwatch'));
const FIX = path.join(top, 'tests/fixtures/bmp');
const TOKEN = 'test-token';
const TZ = 'America/New_York';   // not the machine's zone: local time and UTC must differ
// the lab site of tests/replay/rules_replay.py (token TOKEN), plots sampled every second
const SITE = 'collector:\n  series_interval: 1s\n' + fs.readFileSync(path.join(top, 'tests/fixtures/lab-site.yaml'), 'utf8');
const GEN = { name: 'GEN', peer: '198.51.100.1', asn: 64999, count: 2000 };
const genPrefix = (i) => `100.${64 + (i >> 8)}.${i & 255}.0/24`;
const WITHDRAWN = genPrefix(5);   // 100.64.5.0/24

class Daemon {
  constructor(work) {
    this.work = work;
    this.db = path.join(work, 'pw.db');
    this.cfg = path.join(work, 'site.yaml');
    this.logPath = path.join(work, 'pathwatch.log');
    fs.writeFileSync(this.cfg, SITE);
  }
  async start() {
    if (!this.bmpPort) { this.bmpPort = await freePort(); this.httpPort = await freePort(); }
    this.base = `http://127.0.0.1:${this.httpPort}`;
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(BINARY, ['--db', this.db, '--bmp-listen', `127.0.0.1:${this.bmpPort}`,
      '--http-listen', `127.0.0.1:${this.httpPort}`, '--config', this.cfg], { stdio: ['ignore', log, log] });
    this.exited = null;
    this.proc.on('exit', (code, sig) => { this.exited = { code, sig }; });
    fs.closeSync(log);
    await waitFor(async () => {
      if (this.exited) throw new Failure(`pathwatch exited ${JSON.stringify(this.exited)}:\n${this.tail()}`);
      return (await this.get('/api/v1/status')).version;
    }, 10000, 'the API comes up');
    return this;
  }
  async stop() {
    if (!this.proc || this.exited) return;
    const done = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 15000);
    await done;
    clearTimeout(t);
  }
  async get(p, params) {
    const q = params ? '?' + new URLSearchParams(params) : '';
    const r = await fetch(this.base + p + q);
    if (!r.ok) throw new Error(`GET ${p}${q}: HTTP ${r.status}`);
    return r.json();
  }
  async settled() {
    await waitFor(async () => (await this.get('/api/v1/status')).store_pending === 0, 10000, 'store settled');
  }
  tail(n = 30) {
    try { return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-n).join('\n'); } catch { return ''; }
  }
}

// ---------------------------------------------------------------- the lab
const capture = (r) => bmp.split(fs.readFileSync(path.join(FIX, `frr-steady-${r.toLowerCase()}.bmp`)));
const msgs = { CE1: capture('CE1'), CE2: capture('CE2'), FW: capture('FW') };
const fwMsgs = (peer, types = [bmp.ROUTE_MONITORING]) => msgs.FW.filter((m) => types.includes(bmp.typeOf(m)) && bmp.peerOf(m) === peer);
const socks = {};

function genMessages() {
  const hdr = bmp.peerHeader(GEN.peer, GEN.asn, GEN.peer, { ts: Math.floor(Date.now() / 1000) });
  const out = [bmp.initiation(GEN.name), bmp.peerUp(hdr, '198.51.100.2', 65020, GEN.asn, GEN.peer)];
  for (let i = 0; i < GEN.count; i += 100) {
    const pfx = [];
    for (let j = i; j < Math.min(GEN.count, i + 100); j++) pfx.push(genPrefix(j));
    out.push(bmp.routeMonitoring(hdr, bmp.update({ announce: pfx,
      pathAttrs: bmp.attrs({ asPath: [GEN.asn, 64500 + (i / 100) % 7], nextHop: GEN.peer }) })));
  }
  out.push(bmp.endOfRib(hdr));
  return { hdr, out };
}

// ---------------------------------------------------------------- page helpers
async function tileInfo(page) {
  return page.$$eval('.site[data-site=lab] .tile', (ts) => ts.map((t) => {
    const r = t.getBoundingClientRect();
    return { path: t.dataset.path, peer: t.dataset.peer, level: t.dataset.level, state: t.dataset.state,
      text: t.querySelector('.tile-state').innerText.trim(), icon: t.querySelector('.tile-state .icon').textContent,
      border: getComputedStyle(t).borderTopColor, rect: [r.x, r.y, r.width, r.height].map(Math.round), same: t.__pwMark === 1 };
  }));
}
const cssVar = (page, name) => page.evaluate((n) => {
  const el = document.createElement('div');
  el.style.color = `var(${n})`;
  document.body.appendChild(el);
  const c = getComputedStyle(el).color;
  el.remove();
  return c;
}, name);

async function ribPageInfo(page) {
  return page.evaluate(() => ({
    info: document.querySelector('.pager .page-info')?.innerText || '',
    prefixes: [...document.querySelectorAll('.rib-table tr.route-row')].map((r) => r.dataset.prefix),
    next: !!document.querySelector('.pager [data-page=next]'),
    hash: location.hash,
  }));
}

async function ribApply(page, fields) {
  for (const [k, v] of Object.entries(fields)) {
    const el = page.locator(`form.rib-form [name=${k}]`);
    if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(String(v));
    else await el.fill(String(v));
  }
  const before = await page.evaluate(() => location.hash);
  await page.locator('form.rib-form button[type=submit]').click();
  return before;
}

/** Waits until the RIB view shows the page of the current URL. */
async function waitRibLoaded(page, what) {
  await page.waitForFunction(() => {
    const r = document.querySelector('.rib-result');
    return r && r.dataset.loaded === location.hash && r.getAttribute('aria-busy') === 'false';
  }, null, { timeout: 10000 }).catch(() => { throw new Failure(`RIB page did not load: ${what}`); });
}
async function ribClick(page, which, expectPage) {
  const before = await page.evaluate(() => location.hash);
  await page.locator('.pager').first().locator(`[data-page=${which}]`).click();
  await page.waitForFunction((b) => location.hash !== b, before);
  await waitRibLoaded(page, `${which} page`);
  const info = await ribPageInfo(page);
  check(info.info.startsWith(`Page ${expectPage} `), `${which}: page ${expectPage}`, info.info);
  return info;
}
/** Waits until the history view shows the events of the current URL. */
async function waitHistoryLoaded(page) {
  await page.waitForFunction(() => {
    const r = document.querySelector('.history-result');
    return r && r.dataset.loaded === location.hash && r.getAttribute('aria-busy') === 'false';
  }, null, { timeout: 10000 }).catch(() => { throw new Failure('history page did not load'); });
}
async function alertId() {
  if (!shared.alertId) {
    const a = (await daemon.get('/api/v1/alerts', { rule: 'vpn-session-down' })).alerts.find((x) => x.peer === '10.17.11.77');
    check(a, 'the vpn-session-down alert exists (API)');
    shared.alertId = a.id;
  }
  return shared.alertId;
}

// ---------------------------------------------------------------- the run
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-browser-'));
const steps = new Steps(work);
const step = (name, fn) => steps.step(name, fn);
const toFront = (p) => steps.toFront(p);
const view = (p, name) => shot(p, 'dashboard', name);   // a screenshot kept as a test artifact
let daemon, browser, ctx, page, page2;
const shared = {};

async function main() {
  check(fs.existsSync(BINARY), `no pathwatch binary at ${BINARY} (build it: ninja -C build)`);
  daemon = await new Daemon(work).start();
  for (const r of ['CE1', 'CE2', 'FW']) socks[r] = await bmp.connect(daemon.bmpPort, ...msgs[r]);
  await waitFor(async () => (await daemon.get('/api/v1/sites')).sites[0].health === 'ok', 20000, 'the lab site healthy (API)');

  browser = await launch();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: TZ, locale: 'en-US' });
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.base });
  const pageErrors = [];
  page = await ctx.newPage();
  steps.main = steps.front = page;
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(10000);

  await step('the collector serves the dashboard (/, /static/*) with the right types', async () => {
    const r = await fetch(daemon.base + '/');
    check(r.ok && r.headers.get('content-type').startsWith('text/html'), 'GET / is HTML', [r.status, r.headers.get('content-type')]);
    const html = await r.text();
    check(html.includes('/static/app.js'), 'index.html loads /static/app.js');
    for (const [f, t] of [['app.js', 'text/javascript'], ['style.css', 'text/css'], ['views/overview.js', 'text/javascript'], ['views/rib.js', 'text/javascript']]) {
      const s = await fetch(`${daemon.base}/static/${f}`);
      check(s.ok && (s.headers.get('content-type') || '').startsWith(t), `/static/${f} is ${t}`, [s.status, s.headers.get('content-type')]);
    }
    const ev = await fetch(daemon.base + '/api/v1/events', { signal: AbortSignal.timeout(3000) });
    check(ev.ok && ev.headers.get('content-type').startsWith('text/event-stream'), '/api/v1/events is an event stream', [ev.status, ev.headers.get('content-type')]);
    ev.body.cancel().catch(() => {});
  });

  await step('overview: the site is healthy, all four paths up, green with text and icon', async () => {
    await page.goto(daemon.base + '/');
    await page.waitForSelector('.site[data-site=lab][data-health=ok]');
    check((await text(page, '.site[data-site=lab] .site-health')).includes('Healthy'), 'health says Healthy');
    const tiles = await tileInfo(page);
    check(tiles.length === 4, 'four tiles: ER primary, ER secondary, VPN instance0 and 1', tiles);
    check(tiles.map((t) => t.path).join() === 'er-primary,er-secondary,vpn,vpn', 'tile order', tiles);
    const green = await cssVar(page, '--ok');
    for (const t of tiles) {
      check(t.level === 'ok' && t.text.includes('UP') && t.icon === '✔', `tile ${t.path} ${t.peer}: UP with ✔`, t);
      check(t.border === green, `tile ${t.path} ${t.peer} has the green border`, [t.border, green]);
    }
    const t = await page.locator('.site[data-site=lab] .tile').first().innerText();
    check(/2 \/ 2/.test(t), 'prefixes present / expected shown', t);
    check((await text(page, '.site[data-site=lab] [data-field=symmetry]')).includes('symmetric'), 'symmetric shown');
    check((await text(page, '.site[data-site=lab] table.best tbody')).match(/ER/g).length === 2, 'best path ER for both Azure prefixes');
    check(/next drill due/i.test(await text(page, '.site[data-site=lab] .facts')), 'next drill due shown');
    await page.waitForSelector('#live[data-state=live]', { timeout: 10000 });
    check((await text(page, '#live')).includes('live'), 'the indicator says live');
    await view(page, 'overview-healthy');
  });

  await step('a VPN Peer Down turns the tile red and raises the alert live, without reload, in place', async () => {
    page2 = await ctx.newPage();
    page2.on('pageerror', (e) => pageErrors.push(e.message));
    await page2.goto(daemon.base + '/#/alerts');
    await page2.waitForSelector('.alerts .empty');
    await page2.waitForSelector('#live[data-state=live]');
    await marker(page, true);
    await marker(page2, true);
    await page.$$eval('.site[data-site=lab] .tile', (ts) => ts.forEach((t) => { t.__pwMark = 1; }));
    const before = await tileInfo(page);
    const up = fwMsgs('10.17.11.77', [bmp.PEER_UP])[0];
    shared.up77 = up;
    const t0 = Date.now();
    await bmp.send(socks.FW, bmp.peerDown(bmp.headerOf(up), 4));
    await page.waitForSelector('.tile[data-peer="10.17.11.77"][data-level=bad]', { timeout: 15000 });
    await page.waitForSelector('.site[data-site=lab] .alert-lines li[data-rule=vpn-session-down]', { timeout: 15000 - (Date.now() - t0) });
    await page2.waitForSelector('article.alert-card[data-rule=vpn-session-down][data-state=firing]', { timeout: Math.max(1000, 15000 - (Date.now() - t0)) });
    const took = Date.now() - t0;
    check(took <= 15000, 'within 15 s', took);
    check(await marker(page) === 'kept' && await marker(page2) === 'kept', 'no page reload (overview and alerts)');
    const after = await tileInfo(page);
    const red = await cssVar(page, '--bad');
    const t77 = after.find((t) => t.peer === '10.17.11.77');
    check(t77.text.includes('DOWN') && t77.icon === '✖' && t77.border === red, 'VPN instance1: DOWN, ✖, red', [t77, red]);
    check(after.filter((t) => t.peer !== '10.17.11.77').every((t) => t.level === 'ok'), 'the other three stay green', after);
    check(after.every((t) => t.same), 'tiles updated in place (same DOM nodes)', after);
    check(JSON.stringify(after.map((t) => t.rect)) === JSON.stringify(before.map((t) => t.rect)), 'no layout jump: tiles keep their boxes',
      [before.map((t) => t.rect), after.map((t) => t.rect)]);
    check(/Degraded|Critical/.test(await text(page, '.site-health')), 'site health no longer healthy');
    const card = page2.locator('article.alert-card[data-rule=vpn-session-down]');
    check((await card.innerText()).includes('10.17.11.77 is down'), 'summary shown', await card.innerText());
    shared.alertId = Number(await card.getAttribute('data-alert-id'));
    await view(page, 'overview-fault');
    await view(page2, 'alerts');
    console.log(`     (tile red and alert shown ${took} ms after the Peer Down)`);
  });

  await step('alert detail: evidence, timeline, links to the routes concerned', async () => {
    await toFront(page2);
    await alertId();
    const card = page2.locator(`article.alert-card[data-alert-id="${shared.alertId}"]`);
    await card.locator('details.more > summary').click();
    await card.locator('ol.timeline li').nth(1).waitFor();
    const tl = await card.locator('ol.timeline').innerText();
    check(/→ pending/.test(tl) && /pending → firing/.test(tl), 'timeline: pending, then firing', tl);
    const ev = JSON.parse(await card.locator('pre.json').innerText());
    check(ev.down_reason && ev.down_reason.code === 4 && ev.state === 'down', 'evidence is the pretty JSON with the down reason', ev);
    const href = await card.locator('a[data-link=rib]').getAttribute('href');
    check(href === '#/rib?router=FW&peer=10.17.11.77', 'routes link filters by router and peer', href);
    const t = await card.locator('time').first();
    const [dt, title, shown] = [await t.getAttribute('datetime'), await t.getAttribute('title'), await t.innerText()];
    check(title === new Date(dt).toISOString().replace('.000Z', 'Z') + ' (UTC)', 'UTC on hover', [dt, title]);
    check(/E[SD]T/.test(shown) && !shown.includes(dt.slice(11, 19)), `shown in the browser's zone (${TZ})`, [dt, shown]);
    await page2.goto(daemon.base + `/#/alerts/${shared.alertId}`);
    await page2.waitForSelector(`article.alert-card[data-alert-id="${shared.alertId}"] ol.timeline li`);
    check((await page2.title()).includes(`Alert #${shared.alertId}`), 'deep link to one alert', await page2.title());
    await page2.goto(daemon.base + '/#/alerts');
    await page2.waitForSelector('.alerts nav.filters');
    await page2.waitForSelector('.alert-list article.alert-card[data-rule=vpn-session-down]');
  });

  await step('acknowledge from the page (token asked once, a wrong one asked again, kept in localStorage)', async () => {
    await toFront(page2);
    await alertId();
    await page2.evaluate(() => localStorage.setItem('pathwatch.token', 'wrong-token'));
    const card = page2.locator(`article.alert-card[data-alert-id="${shared.alertId}"]`);
    await card.locator('button[data-action=ack]').click();
    const dlg = page2.locator('dialog.modal[open]');
    await dlg.locator('input[name=by]').fill('noc-alice');
    await dlg.locator('textarea[name=comment]').fill('on it, ticket NOC-42');
    await dlg.locator('button[type=submit]').click();
    // the stored token is refused: asked for a valid one
    await page2.locator('dialog.modal[open] input[name=token]').waitFor();
    check((await page2.locator('dialog.modal[open]').innerText()).includes('refused'), 'the dialog says the token was refused');
    await page2.locator('dialog.modal[open] input[name=token]').fill(TOKEN);
    await page2.locator('dialog.modal[open] button[type=submit]').click();
    await card.locator('.tag.ack').waitFor({ timeout: 10000 });
    const tag = await card.locator('.tag.ack').innerText();
    check(tag.includes('noc-alice') && tag.includes('NOC-42'), 'the card shows who acknowledged and why', tag);
    const a = await daemon.get(`/api/v1/alerts/${shared.alertId}`);
    check(a.acknowledged && a.acknowledged.by === 'noc-alice' && a.acknowledged.comment === 'on it, ticket NOC-42', 'stored by the collector', a.acknowledged);
    check(await page2.evaluate(() => localStorage.getItem('pathwatch.token')) === TOKEN, 'the token is kept in localStorage');
  });

  await step('silence from the page: matchers prefilled from the alert, duration', async () => {
    await toFront(page2);
    await alertId();
    const card = page2.locator(`article.alert-card[data-alert-id="${shared.alertId}"]`);
    await card.locator('button[data-action=silence]').click();
    const dlg = page2.locator('dialog.modal[open]');
    const val = (n) => dlg.locator(`[name=${n}]`).inputValue();
    const pre = { rule: await val('m_rule'), site: await val('m_site'), router: await val('m_router'), peer: await val('m_peer') };
    check(JSON.stringify(pre) === JSON.stringify({ rule: 'vpn-session-down', site: 'lab', router: 'FW', peer: '10.17.11.77' }), 'matchers prefilled', pre);
    check(await val('created_by') === 'noc-alice', '"by" remembered from the acknowledgement');
    check(await dlg.locator('[name=m_prefix]').count() === 0, 'no prefix matcher for an alert without prefix');
    await dlg.locator('[name=use_router]').uncheck();
    await dlg.locator('[name=duration]').fill('90m');
    await dlg.locator('[name=comment]').fill('maintenance window');
    await dlg.locator('button[type=submit]').click();
    check(await page2.locator('dialog.modal[open] input[name=token]').count() === 0, 'the token is not asked again');
    await card.locator('.tag.silenced').waitFor({ timeout: 10000 });
    const sil = (await daemon.get('/api/v1/silences')).silences;
    check(sil.length === 1 && sil[0].active, 'one active silence', sil);
    const sorted = (o) => JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
    check(sorted(sil[0].matchers) === sorted({ rule: 'vpn-session-down', site: 'lab', peer: '10.17.11.77' }), 'its matchers (router unticked)', sil[0].matchers);
    const mins = (Date.parse(sil[0].ends) - Date.parse(sil[0].starts)) / 60000;
    check(Math.abs(mins - 90) < 1, 'its duration is 90 minutes', sil[0]);
    check((await daemon.get(`/api/v1/alerts/${shared.alertId}`)).silenced, 'the alert is silenced');
    await page2.locator(`.silences tr[data-silence-id="${sil[0].id}"]`).waitFor();
    // expire it again from the page
    await page2.locator(`.silences tr[data-silence-id="${sil[0].id}"] button[data-action=expire]`).click();
    await waitFor(async () => !(await daemon.get(`/api/v1/alerts/${shared.alertId}`)).silenced, 10000, 'the alert no longer silenced');
    await card.locator('.tag.silenced').waitFor({ state: 'detached', timeout: 10000 });
  });

  await step('routers view: feed state, sysDescr, per-peer state, down reason, OPEN capabilities', async () => {
    await hashGo(page, '#/routers?router=FW');
    const fw = page.locator('article.router-card[data-router=FW]');
    await fw.waitFor();
    const t = await fw.innerText();
    check(t.includes('CONNECTED') && t.includes('FRRouting 8.4.4'), 'connected, sysDescr', t.slice(0, 400));
    const row = fw.locator('tr[data-peer="10.17.11.77"]');
    check((await row.getAttribute('data-state')) === 'down', 'peer .77 down');
    const rt = await row.innerText();
    check(rt.includes('DOWN') && rt.includes('remote-no-notification'), 'down reason decoded', rt);
    await fw.locator('tr[data-peer="10.17.11.76"] details > summary').click();
    const caps = await fw.locator('tr[data-peer="10.17.11.76"] .caps-table').innerText();
    check(caps.includes('4-octet-as') && caps.includes('multiprotocol') && caps.includes('AS65515'), 'capabilities of both OPENs', caps.slice(0, 600));
    check(await page.locator('article.router-card').count() === 1, '?router= shows only that router');
    check(await marker(page) === 'kept', 'navigation between views without reload');
    await view(page, 'routers');
  });

  await step('live indicator: paused holds the page, resume catches up', async () => {
    await hashGo(page, '#/');
    await page.waitForSelector('.tile[data-peer="10.17.11.77"][data-level=bad]');
    await page.locator('#live').click();
    await page.waitForSelector('#live[data-state=paused]');
    check((await text(page, '#live')).includes('paused'), 'the indicator says paused');
    await bmp.send(socks.FW, shared.up77, ...fwMsgs('10.17.11.77'));
    await waitFor(async () => (await daemon.get('/api/v1/sites')).sites[0].paths[3].state === 'up', 10000, 'VPN instance1 back up (API)');
    await sleep(1500);
    check(await page.locator('.tile[data-peer="10.17.11.77"][data-level=bad]').count() === 1, 'paused: the page did not change');
    await page.locator('#live').click();
    await page.waitForSelector('#live[data-state=live]', { timeout: 10000 });
    await page.waitForSelector('.tile[data-peer="10.17.11.77"][data-level=ok]', { timeout: 10000 });
    check(await marker(page) === 'kept', 'no reload');
  });

  await step('RIB browser pages through a generated table of 2000 routes (4th router)', async () => {
    const { hdr, out } = genMessages();
    shared.genHdr = hdr;
    socks.GEN = await bmp.connect(daemon.bmpPort, ...out);
    await waitFor(async () => {
      const p = (await daemon.get('/api/v1/peers', { router: GEN.name })).peers.find((x) => x.address === GEN.peer);
      return p && p.prefixes['pre-policy'] === GEN.count;
    }, 20000, `${GEN.count} routes from ${GEN.name}`);
    await daemon.settled();
    shared.at = Math.ceil(Date.now() / 1000) * 1000;   // a whole second after every announce
    await hashGo(page, '#/rib');
    await page.waitForSelector(`form.rib-form select[name=router] option[value=${GEN.name}]`, { state: 'attached' });
    await ribApply(page, { router: GEN.name, limit: '100' });
    await page.waitForFunction(() => location.hash.includes('router=GEN'));
    await waitRibLoaded(page, 'first page');
    let info = await ribPageInfo(page);
    check(info.prefixes.length === 100 && /Page 1 · routes 1–100/.test(info.info), 'page 1: 100 routes', info.info);
    const seen = [...info.prefixes];
    const pages = [info.prefixes];
    for (let n = 2; info.next && n < 40; n++) {
      info = await ribClick(page, 'next', n);
      seen.push(...info.prefixes);
      pages.push(info.prefixes);
    }
    check(pages.length === 20, '20 pages of 100', pages.length);
    check(/Page 20 · routes 1901–2000/.test(info.info) && !info.next, 'the last page has no next', info);
    check(new Set(seen).size === GEN.count && seen.length === GEN.count, 'every route exactly once', [seen.length, new Set(seen).size]);
    const api = await daemon.get('/api/v1/rib', { router: GEN.name, limit: 10000 });
    check(JSON.stringify(api.routes.map((r) => r.prefix)) === JSON.stringify(seen), 'same order as the API');
    info = await ribClick(page, 'prev', 19);
    check(JSON.stringify(info.prefixes) === JSON.stringify(pages[18]), 'previous page is page 19 again', info.info);
    await page.goBack();   // the browser's back button: page 20 again
    await page.waitForFunction(() => /Page 20 /.test(document.querySelector('.pager .page-info')?.innerText || ''));
    await waitRibLoaded(page, 'back button');
    info = await ribClick(page, 'first', 1);
    check(JSON.stringify(info.prefixes) === JSON.stringify(pages[0]), 'first page again');
  });

  await step('RIB browser filters by prefix (exact, longer) and AS path, and shows every attribute', async () => {
    await ribApply(page, { router: '', prefix: '10.17.11.128/26', match: 'exact', limit: '100' });
    await page.waitForFunction(() => location.hash.includes('prefix=10.17.11.128'));
    await waitRibLoaded(page, 'exact prefix');
    let info = await ribPageInfo(page);
    const api = await daemon.get('/api/v1/rib', { prefix: '10.17.11.128/26', match: 'exact', limit: 1000 });
    check(info.prefixes.length === api.routes.length && info.prefixes.every((p) => p === '10.17.11.128/26'), 'only that prefix, as many as the API has', [info.prefixes.length, api.routes.length]);
    const routersShown = new Set(await page.$$eval('.rib-table tr.route-row td:nth-child(3)', (tds) => tds.map((t) => t.innerText)));
    check(['CE1', 'CE2', 'FW'].every((r) => routersShown.has(r)), 'from the three lab routers', [...routersShown]);
    await ribApply(page, { prefix: '100.64.0.0/16', match: 'longer', limit: '100' });
    await page.waitForFunction(() => location.hash.includes('match=longer'));
    await waitRibLoaded(page, 'longer');
    info = await ribPageInfo(page);
    check(info.prefixes.length === 100 && info.prefixes.every((p) => p.startsWith('100.64.')) && info.next, 'longer: 100.64.x.0/24, first page', info);
    await ribClick(page, 'next', 2);
    info = await ribClick(page, 'next', 3);
    check(info.prefixes.length === 56 && !info.next && /routes 201–256/.test(info.info), 'longer: 256 routes in 3 pages', info.info);
    // route detail: every attribute
    const row = page.locator('.rib-table tbody').first();
    await row.locator('button[data-action=detail]').click();
    const attrs = await row.locator('dl.attrs').evaluate((dl) => [...dl.querySelectorAll('[data-attr]')].map((d) => d.dataset.attr));
    const r0 = (await daemon.get('/api/v1/rib', { prefix: info.prefixes[0], match: 'exact', router: GEN.name })).routes[0];
    check(Object.keys(r0).every((k) => attrs.includes(k)), 'the detail lists every attribute of the route', [Object.keys(r0), attrs]);
    check((await row.locator('dl.attrs [data-attr=as_path]').innerText()).includes('64999'), 'AS path in the detail');
    check((await row.getAttribute('data-key')).includes(info.prefixes[0]), 'detail of the right route');
    await view(page, 'rib');
    // by AS path, on the server: every 7th block of 100 generated routes has origin 64503
    await ribApply(page, { prefix: '', match: 'exact', as_path: '64999 64503$', limit: '250' });
    await page.waitForFunction(() => location.hash.includes('as_path='));
    await waitRibLoaded(page, 'as_path');
    const want = [];
    for (let i = 0; i < GEN.count; i++) if (Math.floor(i / 100) % 7 === 3) want.push(genPrefix(i));
    info = await ribPageInfo(page);
    const got = [...info.prefixes];
    check(info.prefixes.length === 250 && info.next, 'as_path: a full first page', info.info);
    info = await ribClick(page, 'next', 2);
    got.push(...info.prefixes);
    check(!info.next && new Set(got).size === want.length && want.every((p) => got.includes(p)),
      `as_path=64999 64503$: exactly the ${want.length} routes with that path`, [got.length, want.length]);
  });

  await step('as-of picker: a withdrawn route shows at a past time', async () => {
    check(shared.at, 'the generated routes were sent');
    const atIso = new Date(shared.at).toISOString().replace('.000Z', 'Z');
    await sleep(Math.max(0, shared.at + 1500 - Date.now()));
    await bmp.send(socks.GEN, bmp.routeMonitoring(shared.genHdr, bmp.update({ withdraw: [WITHDRAWN] })));
    await waitFor(async () => (await daemon.get('/api/v1/rib', { prefix: WITHDRAWN, match: 'exact' })).routes.length === 0, 10000, 'withdrawn (API)');
    await daemon.settled();
    await ribApply(page, { router: '', prefix: WITHDRAWN, match: 'exact', as_path: '', limit: '100', at: '' });
    await page.waitForFunction((p) => location.hash.includes(encodeURIComponent(p)) && !location.hash.includes('at='), WITHDRAWN);
    await waitRibLoaded(page, 'live, withdrawn');
    check(await page.locator('.rib-result .empty').count() === 1, 'the live RIB no longer has it', await text(page, '.rib-result'));
    const local = await page.evaluate((iso) => {
      const d = new Date(iso), p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    }, atIso);
    await ribApply(page, { at: local });
    await page.waitForFunction(() => location.hash.includes('at='));
    await waitRibLoaded(page, 'as of');
    const hash = decodeURIComponent(await page.evaluate(() => location.hash));
    check(hash.includes(`at=${atIso}`), `the picker's local time (${TZ}) becomes at=${atIso}`, hash);
    const info = await ribPageInfo(page);
    check(info.prefixes.length === 1 && info.prefixes[0] === WITHDRAWN, 'the withdrawn route as of then', info);
    const banner = await text(page, '.asof');
    check(banner.includes('HISTORY') && banner.includes(atIso), 'the page says it is history, as of when', banner);
    await view(page, 'rib-as-of');
    await page.locator('.asof a[data-link=live]').click();
    await page.waitForFunction(() => !location.hash.includes('at='));
    await waitRibLoaded(page, 'back to live');
    check(await page.locator('.rib-result .empty').count() === 1, 'back to the live RIB: gone again');
  });

  await step('history view: events table and SVG timeline for a prefix', async () => {
    await hashGo(page, '#/history');
    await page.locator('#hi-prefix').fill(WITHDRAWN);
    await page.locator('.history form button[type=submit]').click();
    await page.waitForFunction((p) => location.hash.includes(encodeURIComponent(p)), WITHDRAWN);
    await waitHistoryLoaded(page);
    const rows = await page.$$eval('.history-table tbody tr', (rs) => rs.map((r) => r.dataset.action));
    check(JSON.stringify(rows) === JSON.stringify(['withdraw', 'announce']), 'announce then withdraw (newest first)', rows);
    const svg = await page.evaluate(() => ({
      lanes: document.querySelectorAll('.timeline-svg g.lane').length,
      announce: document.querySelectorAll('.timeline-svg g.ev-announce').length,
      withdraw: document.querySelectorAll('.timeline-svg g.ev-withdraw').length,
      label: document.querySelector('.timeline-svg .lane-label')?.textContent,
    }));
    check(svg.lanes === 1 && svg.announce === 1 && svg.withdraw === 1, 'one lane with an announce and a withdraw mark', svg);
    check(svg.label.includes(GEN.name) && svg.label.includes(GEN.peer), 'the lane names router and peer', svg.label);
    check((await page.title()).includes(WITHDRAWN), 'title names the prefix');
    // a deep link: the hub prefix, with the peer-down withdraws of .77
    await page.goto(daemon.base + '/#/history?prefix=10.17.11.0/25');
    await waitHistoryLoaded(page);
    const ev = await page.$$eval('.history-table tbody tr', (rs) => rs.map((r) => r.innerText));
    const api = await daemon.get('/api/v1/history', { prefix: '10.17.11.0/25', limit: 1000 });
    check(ev.length === api.events.length, 'every event of the prefix', [ev.length, api.events.length]);
    check(ev.some((t) => t.includes('withdraw') && t.includes('peer-down') && t.includes('10.17.11.77')), 'the peer-down withdraws of .77');
    const lanes = await page.locator('.timeline-svg g.lane:not(.lane-best)').count();
    const expectLanes = new Set(api.events.map((e) => `${e.router}|${e.peer}|${e.view}`)).size;
    check(lanes === expectLanes, 'one lane per router/peer/view', [lanes, expectLanes]);
    check(await page.locator('.timeline-svg g.lane[data-lane^="FW|10.17.11.77|post-policy"] g.ev-withdraw').count() >= 1, 'withdraw mark on the .77 lane');
    check(await page.locator('.timeline-svg g.lane-best[data-site=lab] g.bp[data-best=er]').count() >= 1,
      'an Azure prefix of the site: a best-path lane, ExpressRoute');
  });

  await step('failover of the hub prefix: the history shows the best path over time and the failover', async () => {
    const hub = bmp.nlri('10.17.11.0/25');
    const er = [...fwMsgs('192.168.11.0'), ...fwMsgs('192.168.11.2')].filter((m) => m.subarray(m.length - hub.length).equals(hub));
    check(er.length === 4, 'the hub prefix from both CEs, pre- and post-policy, in the capture', er.length);
    // failovers are timed on the routers' clocks: the messages carry the time they are sent, as a router's would
    await bmp.send(socks.FW, ...er.map((m) => bmp.stampedNow(bmp.routeMonitoring(bmp.headerOf(m), bmp.update({ withdraw: ['10.17.11.0/25'] })))));
    await waitFor(async () => (await daemon.get('/api/v1/failovers', { prefix: '10.17.11.0/25' })).failovers.some((f) => f.kind === 'failover'),
      10000, 'a failover recorded (API)');
    await sleep(1000);
    await bmp.send(socks.FW, ...er.map(bmp.stampedNow));
    await waitFor(async () => (await daemon.get('/api/v1/failovers', { prefix: '10.17.11.0/25' })).failovers.some((f) => f.kind === 'failback'),
      10000, 'the failback recorded (API)');
    // the page already shows this prefix: it offers the new events, a click loads them
    await page.locator('.history-result [data-action=reload]').click();
    await page.waitForSelector('.timeline-svg g.fo-failback');
    const svg = await page.evaluate(() => ({
      best: [...document.querySelectorAll('.timeline-svg g.lane-best g.bp')].map((g) => g.dataset.best),
      fo: [...document.querySelectorAll('.timeline-svg g.fo')].map((g) => g.getAttribute('class')),
      text: document.querySelector('.timeline-svg g.fo-failover .fo-text')?.textContent,
    }));
    check(svg.best.slice(-3).join() === 'er,vpn,er', 'best path: ExpressRoute, then the VPN, then ExpressRoute again', svg);
    check(svg.fo.some((c) => c.includes('fo-failover')) && svg.fo.some((c) => c.includes('fo-failback')), 'failover and failback marked', svg);
    check(/failover \d+\.\d s/.test(svg.text), 'the failover mark says how long it took', svg.text);
    await view(page, 'history');
  });

  await step('plots: routes per peer and view, updates per second, refreshed live', async () => {
    await marker(page, true);
    await hashGo(page, '#/plots?router=GEN&range=15m');
    const sel = '.plot[data-plot=prefixes] g.series[data-key="GEN|198.51.100.1|global|pre-policy"]';
    await page.waitForSelector(sel);
    const legend = () => page.locator('.plot[data-plot=prefixes] .plot-legend li[data-key="GEN|198.51.100.1|global|pre-policy"] .val').innerText();
    await waitFor(async () => (await legend()) === (GEN.count - 1).toLocaleString('en-US'), 10000, 'the latest count: all generated routes but the withdrawn one');
    check(Number(await page.locator(sel).getAttribute('data-points')) >= 2, 'the count rose and stepped down: several points');
    const upd = page.locator('.plot[data-plot=updates] g.series[data-key=GEN]');
    check(Number(await upd.getAttribute('data-points')) >= 1, 'GEN\'s updates per second plotted');
    // a withdraw arrives: the plot follows on its own, no reload
    await bmp.send(socks.GEN, bmp.routeMonitoring(shared.genHdr, bmp.update({ withdraw: [genPrefix(6)] })));
    await waitFor(async () => (await legend()) === (GEN.count - 2).toLocaleString('en-US'), 20000, 'the plot refreshed with the new count');
    check(await marker(page) === 'kept', 'no reload');
    // keyboard: read values at a time
    await page.locator('.plot[data-plot=prefixes] .chart').focus();
    await page.keyboard.press('ArrowLeft');
    const hover = await text(page, '.plot[data-plot=prefixes] .plot-hover');
    check(/GEN ← 198\.51\.100\.1/.test(hover) && /\d/.test(hover), 'arrow keys read the values at a time', hover);
    // the table holds the same numbers
    const row = await page.locator('.plot-table tr[data-key="routesGEN|198.51.100.1|global|pre-policy"]').evaluate((r) => [...r.cells].map((c) => c.textContent));
    check(row[2] === GEN.count.toLocaleString('en-US') && row[3] === (GEN.count - 2).toLocaleString('en-US'), 'table: highest and latest', row);
    await view(page, 'plots');
  });

  await step('copy button, keyboard navigation, narrow window', async () => {
    await page.goto(daemon.base + '/');
    await page.waitForSelector('.site[data-site=lab] table.best button.copy');
    await page.locator('.site[data-site=lab] table.best button.copy').first().click();
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    check(clip === '10.17.11.0/25', 'the prefix is copied', clip);
    // keyboard: skip link first, then the nav links; Enter follows
    await page.goto(daemon.base + '/#/');
    await page.reload();   // a fresh document: focus starts at the top
    await page.waitForSelector('.site[data-site=lab]');
    await page.keyboard.press('Tab');
    check(await page.evaluate(() => document.activeElement.id) === 'skip', 'first Tab: the skip link',
      await page.evaluate(() => document.activeElement.outerHTML.slice(0, 200)));
    let found = false;
    for (let i = 0; i < 8 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.activeElement.dataset.nav === '/alerts');
    }
    check(found, 'the Alerts link is reachable with Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    check(outline !== 'none', 'focused link shows a focus outline', outline);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.hash === '#/alerts');
    await page.waitForSelector('.alerts h1');
    // narrow window: nothing wider than the screen
    await page.setViewportSize({ width: 360, height: 800 });
    await page.goto(daemon.base + '/');
    await page.waitForSelector('.site[data-site=lab] .tile');
    const w = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, win: innerWidth,
      tiles: [...document.querySelectorAll('.tile')].map((t) => Math.round(t.getBoundingClientRect().left)) }));
    check(w.doc <= w.win, 'overview fits a 360 px window (no horizontal scroll)', w);
    check(new Set(w.tiles).size === 1, 'tiles stacked in one column', w.tiles);
    for (const h of ['#/alerts', '#/routers', '#/rib', '#/history?prefix=10.17.11.0/25', '#/plots']) {
      await hashGo(page, h);
      await page.waitForTimeout(800);
      const d = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      check(d <= 0, `${h} fits a 360 px window (wide tables scroll inside their box)`, d);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await step('the collector goes away: "reconnecting", then live again on its own', async () => {
    await page.goto(daemon.base + '/');
    await page.waitForSelector('#live[data-state=live]');
    await marker(page, true);
    for (const s of Object.values(socks)) s.destroy();
    await daemon.stop();
    await page.waitForSelector('#live[data-state=reconnecting]', { timeout: 10000 });
    check((await text(page, '#live')).includes('reconnecting'), 'the indicator says reconnecting');
    await daemon.start();
    await page.waitForSelector('#live[data-state=live]', { timeout: 20000 });
    check(await marker(page) === 'kept', 'no reload');
    // the routers' feeds are gone after the restart: the site is not shown healthy
    await page.waitForSelector('.site[data-site=lab]:not([data-health=ok])', { timeout: 20000 });
  });

  await step('no script errors in the pages', async () => {
    check(pageErrors.length === 0, 'no uncaught errors', pageErrors);
  });
}

const fatal = await runMain(main, async () => {
  if (browser) await browser.close().catch(() => {});
  for (const s of Object.values(socks)) s.destroy();
  if (daemon) await daemon.stop().catch(() => {});
}, () => { if (daemon && daemon.proc && !daemon.exited) daemon.proc.kill('SIGKILL'); });   // never leave a collector behind
steps.main = steps.front = null;   // the browser is closed
if (daemon) await steps.step('the collector stops cleanly, with no sanitizer report', async () => checkSanitizers(daemon.logPath));
const bad = fatal || steps.results.some(([, ok]) => !ok);
if (bad && daemon) console.log(`--- pathwatch log (tail) ---\n${daemon.tail()}\n--- work dir: ${work}`);
if (!bad && !process.env.PW_BROWSER_KEEP) fs.rmSync(work, { recursive: true, force: true });
process.exit(steps.summary(fatal));
