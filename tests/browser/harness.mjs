// What the browser tests share: waiting and checking, Chromium's flags
// (Debian's browser, never a download), page helpers, the step runner with
// its "ok/FAIL" lines and "N passed, N failed" summary, and the screenshots
// of each view kept as test artifacts.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const top = path.resolve(here, '../..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// screenshots of every view: PW_ARTIFACTS, else build/test-artifacts/browser
export const ARTIFACTS = path.resolve(process.env.PW_ARTIFACTS || path.join(top, 'build/test-artifacts/browser'));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

export class Failure extends Error {}
export function check(cond, what, detail) {
  if (!cond) throw new Failure(detail === undefined ? what : `${what}\n      got: ${JSON.stringify(detail).slice(0, 1500)}`);
}

export async function waitFor(fn, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try { last = await fn(); if (last) return last; } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Failure(`timed out after ${timeoutMs / 1000}s: ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 500)})`);
}

/** Chromium with a fresh profile (playwright-core makes one per launch). */
export function launch() {
  check(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export async function hashGo(page, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
}
/** marker(page, true) sets a flag in the page; marker(page) reads it back: 'kept' unless the page reloaded. */
export async function marker(page, set) {
  if (set) return page.evaluate(() => { window.__pwNoReload = 'kept'; });
  return page.evaluate(() => window.__pwNoReload);
}
export const text = (page, sel) => page.locator(sel).first().innerText();

const SANITIZER = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'];
/** Fails when a collector log holds a sanitizer report (ASan builds; LeakSanitizer reports at exit). */
export function checkSanitizers(logPath) {
  const text = fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '';
  const hit = SANITIZER.find((m) => text.includes(m));
  check(!hit, 'no sanitizer report in the collector\'s log', hit ? text.slice(Math.max(0, text.indexOf(hit) - 300), text.indexOf(hit) + 3000) : '');
}

/** Saves a full-page screenshot as ARTIFACTS/<prefix>-<name>.png. */
export async function shot(page, prefix, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${prefix}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Runs the test's main(): a throw is reported as a failed setup; `cleanup`
 * (close the browser, stop what was started) always runs after it; `kill`
 * ends the children on any exit (Ctrl-C, a closed pipe, a crash). Returns
 * the error that stopped main, or null.
 */
export async function runMain(main, cleanup, kill) {
  process.on('exit', kill);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(1));
  process.stdout.on('error', () => {});
  let fatal = null;
  try {
    await main();
  } catch (e) {
    fatal = e;
    console.log(`FAIL setup\n     ${e.message}`);
  } finally {
    await cleanup();
  }
  return fatal;
}

/** Runs named steps; a failed step is reported with a screenshot and the run goes on. */
export class Steps {
  constructor(work) {
    this.work = work;
    this.results = [];
    this.front = null;   // the page in front: a background tab gets throttled timers and no focus
    this.main = null;    // the page brought to the front before each step
  }
  async toFront(p) { this.front = p; await p.bringToFront(); }
  async step(name, fn) {
    const t0 = Date.now();
    try {
      if (this.main && this.front !== this.main) await this.toFront(this.main);
      await fn();
      this.results.push([name, true]);
      console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    } catch (e) {
      this.results.push([name, false]);
      const file = path.join(this.work, `fail-${this.results.length}.png`);
      try { if (this.front) await this.front.screenshot({ path: file, fullPage: true }); } catch { /* no page */ }
      console.log(`FAIL ${name}\n     ${e instanceof Failure ? '' : e.name + ': '}${e.message}\n     screenshot: ${file}`);
    }
  }
  /** Prints "N passed, N failed" and returns the exit status. */
  summary(fatal) {
    const failed = this.results.filter(([, ok]) => !ok).length + (fatal ? 1 : 0);
    const passed = this.results.filter(([, ok]) => ok).length;
    console.log(`${passed} passed, ${failed} failed`);
    return failed || !passed ? 1 : 0;
  }
}
