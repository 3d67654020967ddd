#!/usr/bin/env node
// The README's demo with real routers, watched in the browser: starts
// `demo/pathwatch-demo start --mode live` (seven FRR routers in network
// namespaces sending BMP to pathwatch with examples/sea-cust11.yaml), checks
// that the overview shows the site healthy, sets off a fault on a real router
// (`pathwatch-demo fault vpn-down`: the VPN gateway shuts its BGP session)
// and checks that the right tile turns red and the alert appears within 15 s
// without a page reload, restores it, and stops the demo with Ctrl-C
// (SIGINT), which must leave no namespace behind. Needs root and FRR.
//
// usage: node demo_live.test.mjs [PATHWATCH_BINARY]   (default: build/pathwatch)
// Ends with the line "N passed, N failed"; exit 0 only when all passed.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Steps, check, checkSanitizers, freePort, hashGo, launch, marker, runMain, shot, text, top, waitFor } from './harness.mjs';

const BINARY = path.resolve(process.argv[2] || process.env.PATHWATCH || path.join(top, 'build/pathwatch'));
const DEMO = path.join(top, 'demo/pathwatch-demo');
const SITE = 'sea-cust11';
const VPN0 = '10.17.11.76';   // VPN instance0 as the firewall sees it

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-demo-live-'));
const steps = new Steps(work);
const view = (p, name) => shot(p, 'demo-live', name);
let demo = null, demoExit = null, browser = null, page = null, base = null;
const demoLog = path.join(work, 'demo.log');

const demoCmd = (...args) => execFileSync('python3', [DEMO, '--state', work, ...args], { encoding: 'utf8', timeout: 120000 });
async function api(p) {
  const r = await fetch(base + p);
  if (!r.ok) throw new Error(`GET ${p}: HTTP ${r.status}`);
  return r.json();
}
const tile = (peer) => `.site[data-site=${SITE}] .tile[data-peer="${peer}"]`;

async function main() {
  check(process.getuid() === 0, 'the live demo needs root (network namespaces)');
  check(fs.existsSync('/usr/lib/frr/bgpd'), 'FRR is not installed (apt-get install frr)');
  const http = await freePort(), bmpPort = await freePort();
  base = `http://127.0.0.1:${http}`;
  const log = fs.openSync(demoLog, 'a');
  demo = spawn('python3', [DEMO, '--state', work, 'start', '--mode', 'live', '--http', `127.0.0.1:${http}`,
    '--bmp-port', String(bmpPort), '--binary', BINARY], { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  demo.on('exit', (code, sig) => { demoExit = { code, sig }; });

  await steps.step('the demo starts real FRR routers and the site becomes healthy', async () => {
    await waitFor(async () => {
      check(!demoExit, `the demo exited ${JSON.stringify(demoExit)}`);
      return (await api('/api/v1/sites')).sites.find((s) => s.name === SITE)?.health === 'ok';
    }, 180000, `site ${SITE} healthy (API)`);
    const st = demoCmd('status');
    check(/live mode/.test(st) && /FRR bgpd:/.test(st), 'status: live mode with FRR bgpd processes', st);
  });

  browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
  page = await ctx.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(10000);
  steps.main = steps.front = page;

  await steps.step('overview: the demo site healthy, four green tiles', async () => {
    await page.goto(base + '/');
    await page.waitForSelector(`.site[data-site=${SITE}][data-health=ok]`);
    const levels = await page.$$eval(`.site[data-site=${SITE}] .tile`, (ts) => ts.map((t) => t.dataset.level));
    check(levels.length === 4 && levels.every((l) => l === 'ok'), 'ER primary, ER secondary, VPN instance0 and 1: all ok', levels);
    await page.waitForSelector('#live[data-state=live]');
    await view(page, 'overview-healthy');
  });

  await steps.step('fault on a real router: VPN gateway 0 shuts its session; red tile and alert within 15 s, no reload', async () => {
    await marker(page, true);
    const t0 = Date.now();
    const out = demoCmd('fault', 'vpn-down');
    check(/vpn-down/.test(out), 'the demo set off the fault', out);
    await page.waitForSelector(`${tile(VPN0)}[data-level=bad]`, { timeout: 15000 });
    await page.waitForSelector(`.site[data-site=${SITE}] .alert-lines li[data-rule=vpn-session-down]`, { timeout: Math.max(1000, 15000 - (Date.now() - t0)) });
    const took = Date.now() - t0;
    check(took <= 15000, 'within 15 s of the fault', took);
    check(await marker(page) === 'kept', 'no page reload');
    check((await text(page, tile(VPN0))).includes('DOWN'), 'the tile says DOWN');
    const others = await page.$$eval(`.site[data-site=${SITE}] .tile:not([data-peer="${VPN0}"])`, (ts) => ts.map((t) => t.dataset.level));
    check(others.every((l) => l === 'ok'), 'the other three tiles stay green', others);
    console.log(`     (tile red and alert shown ${took} ms after the fault command)`);
    await view(page, 'overview-fault');
    await hashGo(page, '#/alerts');
    await page.waitForSelector('article.alert-card[data-rule=vpn-session-down][data-state=firing]');
    check((await text(page, 'article.alert-card[data-rule=vpn-session-down]')).includes(VPN0), 'the alert names the VPN session');
    await view(page, 'alerts');
  });

  await steps.step('restore: the session comes back, the tile turns green and the alert resolves', async () => {
    demoCmd('restore', 'vpn-down');
    await hashGo(page, '#/');
    await page.waitForSelector(`${tile(VPN0)}[data-level=ok]`, { timeout: 90000 });
    await waitFor(async () => !(await api('/api/v1/alerts?state=firing')).alerts.some((a) => a.rule === 'vpn-session-down'),
      60000, 'the alert resolved (API)');
    check(await marker(page) === 'kept', 'still no reload');
  });

  await steps.step('no script errors in the page', async () => {
    check(pageErrors.length === 0, 'no uncaught errors', pageErrors);
  });
}

async function stopDemo() {
  if (!demo || demoExit) return;
  const done = new Promise((r) => demo.once('exit', r));
  demo.kill('SIGINT');   // as Ctrl-C
  const t = setTimeout(() => demo.kill('SIGKILL'), 60000);
  await done;
  clearTimeout(t);
}

const fatal = await runMain(main, async () => { if (browser) await browser.close().catch(() => {}); },
  () => { if (demo && !demoExit) demo.kill('SIGKILL'); });
steps.main = steps.front = null;   // the browser is closed
if (demo) {
  await steps.step('Ctrl-C stops the demo and leaves no namespace, router or collector behind', async () => {
    await stopDemo();
    check(demoExit && demoExit.code === 0, 'the demo exits 0 after Ctrl-C', demoExit);
    const ns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    check(!ns.includes(`pwdemo${demo.pid}-`), 'its namespaces are gone', ns);
    const log = fs.readFileSync(demoLog, 'utf8');
    check(/nothing left running/.test(log), 'it says what it stopped', log.slice(-600));
    checkSanitizers(path.join(work, 'pathwatch.log'));
  });
}
const status = steps.summary(fatal);
if (status) console.log(`--- demo log (tail) ---\n${fs.existsSync(demoLog) ? fs.readFileSync(demoLog, 'utf8').slice(-3000) : ''}\n--- work dir: ${work}`);
else if (!process.env.PW_BROWSER_KEEP) fs.rmSync(work, { recursive: true, force: true });
process.exit(status);
