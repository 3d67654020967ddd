// Shared helpers for the dashboard: DOM building, in-place updates (morph),
// the API client, times, dialogs. No framework, no build step.

// ---------------------------------------------------------------- DOM

/** h('div', {class: 'x', 'data-key': k}, child, [children], 'text') → Element.
 *  Attributes only (no listeners): views use event delegation on data-action,
 *  so a re-rendered tree can be morphed into the live one. */
export function h(tag, attrs, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** s('circle', {...}) → an SVG element. */
export const s = (tag, attrs, ...children) => h('svg:' + tag, attrs, ...children);

/** Makes `from` (live) look like `to` (fresh), reusing nodes: no layout jump,
 *  focus and scroll stay. Children with data-key are matched by key. */
export function morph(from, to) {
  if (from.nodeType !== to.nodeType || from.nodeName !== to.nodeName ||
      (from.nodeType === 1 && from.dataset.key !== to.dataset.key)) {
    from.replaceWith(to);
    return to;
  }
  if (from.nodeType !== 1) {
    if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
    return from;
  }
  // a <details> the reader opened or closed stays so: its `open` is theirs
  const keep = from.nodeName === 'DETAILS' ? 'open' : null;
  for (const a of [...from.attributes]) if (a.name !== keep && !to.hasAttribute(a.name)) from.removeAttribute(a.name);
  for (const a of [...to.attributes]) if (a.name !== keep && from.getAttribute(a.name) !== a.value) from.setAttribute(a.name, a.value);
  if (from.dataset.morph === 'keep') return from;   // owned by its view (forms being edited)
  morphChildren(from, to);
  return from;
}

function morphChildren(from, to) {
  const keyed = new Map();
  for (const k of from.children) if (k.dataset.key !== undefined) keyed.set(k.dataset.key, k);
  let ref = from.firstChild;
  for (const nk of [...to.childNodes]) {
    const key = nk.nodeType === 1 ? nk.dataset.key : undefined;
    let match = null;
    if (key !== undefined) {
      match = keyed.get(key) || null;
      keyed.delete(key);
    } else if (ref && !(ref.nodeType === 1 && ref.dataset.key !== undefined)) {
      match = ref;
    }
    if (match) {
      if (match !== ref) from.insertBefore(match, ref);
      const kept = morph(match, nk);
      ref = kept.nextSibling;
    } else {
      from.insertBefore(nk, ref);
    }
  }
  while (ref) {
    const next = ref.nextSibling;
    ref.remove();
    ref = next;
  }
}

/** Replaces the content of `root` by `nodes`, in place. */
export function render(root, ...nodes) {
  const to = root.cloneNode(false);
  append(to, nodes);
  morphChildren(root, to);
}

// ---------------------------------------------------------------- API

export class ApiError extends Error {
  constructor(status, body, path) {
    super(body && body.error ? `${body.error}${body.detail ? ': ' + body.detail : ''}` : `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.path = path;
  }
}

export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== null && v !== undefined && v !== '') p.set(k, v);
  const t = p.toString();
  return t ? '?' + t : '';
}

export async function api(path, params, init) {
  const url = '/api/v1' + path + qs(params);
  let r;
  try {
    r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store', ...init });
  } catch (e) {
    throw new ApiError(0, { error: 'collector unreachable', detail: String(e.message || e) }, path);
  }
  let body = null;
  try { body = await r.json(); } catch { /* empty or not JSON */ }
  if (!r.ok) throw new ApiError(r.status, body, path);
  return body;
}

const TOKEN_KEY = 'pathwatch.token';
export const token = {
  get: () => localStorage.getItem(TOKEN_KEY) || '',
  set: (t) => t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY),
};

/** A write request with the bearer token; asks for the token (once, kept in
 *  localStorage) when none is stored or the collector refuses it. */
export async function apiWrite(method, path, body) {
  for (let attempt = 0; attempt < 3; attempt++) {
    let t = token.get();
    if (!t) {
      t = await askToken(attempt ? 'The collector refused the token. Enter a valid API token.' : null);
      if (!t) throw new ApiError(0, { error: 'cancelled', detail: 'no API token given' }, path);
    }
    try {
      return await api(path, null, {
        method,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'Bearer ' + t },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      if (e.status === 401) { token.set(''); continue; }
      throw e;
    }
  }
  throw new ApiError(401, { error: 'unauthorized', detail: 'the token was refused' }, path);
}

export async function askToken(why) {
  const v = await dialog({
    title: 'API token',
    text: why || 'Write actions (acknowledge, silence) need the collector\'s API token (api.token in its configuration). It is kept in this browser\'s localStorage.',
    fields: [{ name: 'token', label: 'Bearer token', type: 'password', required: true, autocomplete: 'current-password' }],
    submit: 'Save token',
  });
  if (!v) return null;
  token.set(v.token.trim());
  return v.token.trim();
}

// ---------------------------------------------------------------- times

const pad = (n, w = 2) => String(n).padStart(w, '0');

function zoneName(d) {
  try {
    const p = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' }).formatToParts(d);
    return (p.find((x) => x.type === 'timeZoneName') || {}).value || '';
  } catch { return ''; }
}

/** "2026-11-25 05:42:11 PST" in the browser's zone. */
export function localTime(iso, { seconds = true, zone = true } = {}) {
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const t = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}` +
    (seconds ? ':' + pad(d.getSeconds()) : '');
  return zone ? `${t} ${zoneName(d)}` : t;
}

export function utcTitle(iso) {
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toISOString().replace('.000Z', 'Z') + ' (UTC)';
}

export function ago(iso, now = Date.now()) {
  const d = new Date(iso);
  if (isNaN(d)) return '';
  let s = Math.round((now - d) / 1000);
  const future = s < 0;
  s = Math.abs(s);
  const t = s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : s < 86400 ? `${Math.floor(s / 3600)}h ${Math.floor(s % 3600 / 60)}m`
    : `${Math.floor(s / 86400)}d ${Math.floor(s % 86400 / 3600)}h`;
  return future ? `in ${t}` : `${t} ago`;
}

/** A <time> in local time with the UTC value on hover. */
export function time(iso, opts = {}) {
  if (!iso) return h('span', { class: 'muted' }, opts.none || '—');
  return h('time', { datetime: iso, title: utcTitle(iso), class: 'ts' }, localTime(iso, opts),
    opts.ago ? h('span', { class: 'ago' }, ' (' + ago(iso) + ')') : null);
}

/** datetime-local value (browser zone) ↔ RFC 3339 UTC. */
export function toLocalInput(iso) {
  const d = new Date(iso);
  if (isNaN(d)) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
export function fromLocalInput(v) {
  if (!v) return '';
  const d = new Date(v);   // "YYYY-MM-DDTHH:MM[:SS]" without zone = local time
  return isNaN(d) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---------------------------------------------------------------- bits

/** A state badge: colour AND icon shape AND text (colour-blind safe). */
const ICONS = {
  ok: '✔', up: '▲', down: '✖', bad: '✖', warn: '▲', unknown: '?', info: '●', paused: '❚❚',
};
export function badge(level, text, attrs = {}) {
  return h('span', { class: `badge lvl-${level}`, ...attrs },
    h('span', { class: 'icon', 'aria-hidden': 'true' }, ICONS[level] || '●'), h('span', { class: 'txt' }, text));
}

export function levelOfHealth(health) {
  return { ok: 'ok', degraded: 'warn', critical: 'bad', unknown: 'unknown' }[health] || 'unknown';
}
export function levelOfSeverity(sev) {
  return { critical: 'bad', warning: 'warn', info: 'info' }[sev] || 'warn';
}

/** A prefix (or any value) with a copy button. */
export function copyable(text, cls = 'pfx') {
  if (text === null || text === undefined || text === '') return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'copyable' }, h('code', { class: cls }, text),
    h('button', { type: 'button', class: 'copy', 'data-action': 'copy', 'data-copy': text,
      title: `Copy ${text}`, 'aria-label': `Copy ${text}` }, copyIcon()));
}

function copyIcon() {
  return s('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false' },
    s('rect', { x: 9, y: 9, width: 12, height: 12, rx: 2 }), s('path', { d: 'M5 15H4a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2h9a2 2 0 0 1 2 2v1' }));
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = h('textarea', { class: 'offscreen', readonly: true });
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  toast(`Copied ${text}`);
}

/** One global delegated handler for copy buttons. */
document.addEventListener('click', (e) => {
  const b = e.target.closest('[data-action="copy"]');
  if (b) { e.preventDefault(); copyText(b.dataset.copy); }
});

export function prettyJSON(v) {
  return h('pre', { class: 'json' }, JSON.stringify(v, null, 2));
}

export function asPath(p) {
  if (!Array.isArray(p)) return p === null || p === undefined ? '' : String(p);
  return p.map((x) => Array.isArray(x) ? '{' + x.join(',') + '}' : String(x)).join(' ');
}

export function hashLink(path, params) {
  return '#' + path + qs(params);
}

export function debounce(fn, ms) {
  let t = null;
  const d = (...a) => { clearTimeout(t); t = setTimeout(() => { t = null; fn(...a); }, ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}

let toastTimer = null;
export function toast(text, kind = 'info') {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = text;
  el.className = 'toast show ' + kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = 'toast'; }, kind === 'error' ? 6000 : 2500);
}

export function errorBox(e) {
  return h('div', { class: 'error', role: 'alert' },
    h('strong', null, '✖ ', e instanceof ApiError && e.status ? `HTTP ${e.status}: ` : ''), e.message || String(e),
    e.body && e.body.parameter ? h('span', null, ` (parameter “${e.body.parameter}”)`) : null);
}

// ---------------------------------------------------------------- dialogs

/** A modal form. fields: {name, label, type, value, required, options,
 *  placeholder, help, checked}. Resolves to the values, or null (cancel). */
export function dialog({ title, text, fields, submit = 'OK', extra }) {
  return new Promise((resolve) => {
    const form = h('form', { method: 'dialog', class: 'dlg' },
      h('h2', null, title),
      text ? h('p', { class: 'muted' }, text) : null,
      extra || null,
      fields.map((f, i) => {
        const id = `dlg-${f.name}-${i}`;
        let input;
        if (f.type === 'select') {
          input = h('select', { id, name: f.name }, f.options.map((o) =>
            h('option', { value: o.value ?? o, selected: (o.value ?? o) === f.value }, o.label ?? o)));
        } else if (f.type === 'textarea') {
          input = h('textarea', { id, name: f.name, rows: 3, placeholder: f.placeholder }, f.value || '');
        } else if (f.type === 'checkbox') {
          input = h('input', { id, name: f.name, type: 'checkbox', checked: !!f.checked });
        } else {
          input = h('input', { id, name: f.name, type: f.type || 'text', required: !!f.required,
            placeholder: f.placeholder, autocomplete: f.autocomplete || 'off', pattern: f.pattern });
          input.value = f.value ?? '';
        }
        return h('div', { class: 'field' + (f.type === 'checkbox' ? ' check' : '') },
          f.type === 'checkbox' ? [input, h('label', { for: id }, f.label)] : [h('label', { for: id }, f.label), input],
          f.help ? h('small', { class: 'muted' }, f.help) : null);
      }),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', value: 'cancel', 'data-role': 'cancel' }, 'Cancel'),
        h('button', { type: 'submit', value: 'ok', class: 'primary' }, submit)));
    const dlg = h('dialog', { class: 'modal', 'aria-label': title }, form);
    document.body.appendChild(dlg);
    let done = false;
    const finish = (v) => { if (done) return; done = true; dlg.close(); dlg.remove(); resolve(v); };
    form.querySelector('[data-role=cancel]').addEventListener('click', () => finish(null));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); finish(null); });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      const v = {};
      for (const f of fields) {
        const el = form.elements[f.name];
        v[f.name] = f.type === 'checkbox' ? el.checked : el.value;
      }
      finish(v);
    });
    dlg.showModal();
    const first = form.querySelector('input:not([type=checkbox]),select,textarea');
    if (first) first.focus();
  });
}
