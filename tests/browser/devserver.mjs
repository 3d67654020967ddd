#!/usr/bin/env node
// Dashboard development without rebuilding the collector: serves web/static
// from disk (index.html at /, the rest at /static/...) and passes /api/ and
// /metrics through to a running collector (the event stream too).
//
//   node tests/browser/devserver.mjs [--collector http://127.0.0.1:8080] [--port 8081]
//
// The browser tests never use it: they go through the collector's own server.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const STATIC = path.resolve(here, '../../web/static');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.json': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon' };

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
}
const collector = new URL(arg('--collector', 'http://127.0.0.1:8080'));
const port = +arg('--port', '8081');

http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname.startsWith('/api/') || u.pathname === '/metrics') {
    const up = http.request({ host: collector.hostname, port: collector.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => { res.writeHead(502, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ error: 'collector unreachable', detail: e.message })); });
    req.pipe(up);
    res.on('close', () => up.destroy());
    return;
  }
  const name = u.pathname === '/' ? 'index.html' : u.pathname.startsWith('/static/') ? u.pathname.slice(8) : null;
  const file = name && path.resolve(STATIC, name);
  if (!file || !file.startsWith(STATIC + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found', detail: u.pathname }));
    return;
  }
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
  fs.createReadStream(file).pipe(res);
}).listen(port, '127.0.0.1', () => console.log(`dashboard from ${STATIC} on http://127.0.0.1:${port}/ (API: ${collector.origin})`));
