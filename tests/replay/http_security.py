#!/usr/bin/env python3
"""The HTTP side's defences, against a running daemon with real clients
(Python's ssl/urllib, curl, raw sockets): loopback by default, the bearer
token on every write endpoint, HTTPS with a certificate made here by
openssl, the request body limit, the per-client rate limit (429), no secret
in logs, API output or error pages, and static files that cannot be escaped
with "..", percent-encoded or not.

usage: http_security.py PATHWATCH
"""
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error

from pwtest import Daemon, Failure, check, free_port, run_tests, wait_for

PW = sys.argv[1]
TOKEN = "TOKENSECRET-7c1e55aa90d4"


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def self_signed(tmp):
    """A certificate for 127.0.0.1 and its key, made by openssl."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, text=True)
    check(r.returncode == 0, f"openssl could not make a certificate: {r.stderr}")
    return cert, key


def call(d, method, path, body=None, token=None, headers=None):
    """(status, headers, body text) of one request; never raises on 4xx/5xx."""
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        h["Content-Type"] = "application/json"
    try:
        with d.open(path, data=data, method=method, headers=h) as r:
            return r.status, dict(r.headers), r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


def raw(port, request, src="127.0.0.1"):
    """Sends bytes as they are; returns (status or None, whole reply)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0)) as s:
        s.sendall(request)
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    m = re.match(rb"HTTP/1\.[01] (\d{3})", out)
    return (int(m.group(1)) if m else None), out


# Every write endpoint, with a body it would accept.
WRITES = [
    ("POST", "/api/v1/alerts/1/ack", {"by": "test"}),
    ("POST", "/api/v1/silences", {"matchers": {"site": "x"}, "duration": "1h", "created_by": "test"}),
    ("DELETE", "/api/v1/silences?id=1", None),
    ("DELETE", "/api/v1/silences/1", None),
    ("POST", "/api/v1/drills", {"site": "x", "duration": "1h"}),
    ("POST", "/api/v1/receivers/pager/test", None),
]


# ---------------------------------------------------------------- tests

def test_loopback_by_default(tmp):
    """With no listen address configured, the API is on 127.0.0.1:8080 only.
    Run in a network namespace of its own (unprivileged with a user
    namespace), so the default port is free whatever runs on this host."""
    db = os.path.join(tmp, "pw.db")
    script = ('ip link set lo up; "$0" --db "$1" >"$2" 2>&1 & pid=$!; i=0; '
              'while [ $i -lt 100 ] && ! ss -ltnH | grep -q ":8080 "; do sleep 0.1; i=$((i+1)); done; '
              'ss -ltnH; kill -TERM $pid; wait $pid; echo "exit=$?"')
    r = subprocess.run(["unshare", "-rn", "sh", "-c", script, PW, db, os.path.join(tmp, "log")],
                       capture_output=True, text=True, timeout=60)
    listening = [l.split()[3] for l in r.stdout.splitlines() if l.startswith("LISTEN")]
    check("127.0.0.1:8080" in listening, "the API does not listen on 127.0.0.1:8080 by default", r.stdout + r.stderr)
    check(not any(a.endswith(":8080") and not a.startswith("127.0.0.1:") for a in listening),
          "the API listens beyond loopback by default", listening)
    check("exit=0" in r.stdout, "the daemon did not stop cleanly", r.stdout)


def test_every_write_endpoint_needs_the_token(tmp):
    cfg = write(tmp, "pw.yaml", f"api:\n  token: {TOKEN}\n")
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, ["--config", cfg]).start()
    try:
        for method, path, body in WRITES:
            for label, tok, hdrs in (("no token", None, None), ("a wrong token", "nope", None),
                                     ("a prefix of the token", TOKEN[:-1], None),
                                     ("the token plus a byte", TOKEN + "x", None),
                                     ("Basic auth", None, {"Authorization": f"Basic {TOKEN}"}),
                                     ("the token without Bearer", None, {"Authorization": TOKEN})):
                st, h, text = call(d, method, path, body, tok, hdrs)
                check(st == 401, f"{method} {path} with {label}: expected 401", [st, text])
                check(h.get("WWW-Authenticate") == "Bearer", f"{method} {path}: 401 without WWW-Authenticate")
                check(json.loads(text)["error"] == "unauthorized", f"{method} {path}: 401 body", text)
            st, _, text = call(d, method, path, body, TOKEN)
            check(st not in (401, 403), f"{method} {path} with the right token was refused", [st, text])
        # nothing was written by the refused requests: one silence, by the authorised POST
        check(len(d.get("/api/v1/silences")["silences"]) == 1, "an unauthorised write took effect",
              d.get("/api/v1/silences"))
        check("HTTP write refused" in d.log_text(), "refused writes are not logged")
        # methods not served are not a way around
        for method in ("PUT", "PATCH"):
            st, _, _ = call(d, method, "/api/v1/silences", {"x": 1}, None)
            check(st in (404, 405), f"{method} /api/v1/silences answered {st}")
    finally:
        d.stop()
    # no token configured: every write refused
    d = Daemon(PW, os.path.join(tmp, "pw2.db"), tmp).start()
    try:
        for method, path, body in WRITES:
            st, _, text = call(d, method, path, body, TOKEN)
            check(st == 403, f"{method} {path} without a configured token: expected 403", [st, text])
    finally:
        d.stop()


def test_tls(tmp):
    cert, key = self_signed(tmp)
    cfg = write(tmp, "pw.yaml", f"collector:\n  http_tls_cert: {cert}\n  http_tls_key: {key}\n"
                                f"api:\n  token: {TOKEN}\n")
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, ["--config", cfg], tls_ca=cert).start()
    try:
        st = d.get("/api/v1/status")  # Python's ssl, verifying the certificate and the address
        check(st["version"], "status over HTTPS", st)
        st, _, text = call(d, "POST", "/api/v1/silences", {"matchers": {"site": "x"}, "duration": "1h"}, TOKEN)
        check(st == 201, "a write over HTTPS", [st, text])
        curl = shutil.which("curl")
        check(curl, "curl is needed for this test (apt-get install curl)")
        r = subprocess.run([curl, "-sS", "--cacert", cert, f"https://127.0.0.1:{d.http_port}/api/v1/status"],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode == 0 and json.loads(r.stdout)["version"], "curl over HTTPS failed", r.stderr)
        r = subprocess.run([curl, "-sS", f"https://127.0.0.1:{d.http_port}/api/v1/status"],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode != 0, "curl trusted a self-signed certificate it was not given")
        # plain HTTP on the HTTPS port gets no answer
        status, _ = raw(d.http_port, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(status is None, "plain HTTP was answered on the HTTPS port", status)
        # the certificate served is the configured one
        ctx = ssl.create_default_context(cafile=cert)
        with socket.create_connection(("127.0.0.1", d.http_port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                served = ssl.DER_cert_to_PEM_cert(t.getpeercert(True))
        check(served.split() == open(cert).read().split(), "a different certificate was served")
    finally:
        d.stop()
    # configuration errors, each with its line
    bad = write(tmp, "bad.yaml", f"collector:\n  http_tls_cert: {tmp}/missing.pem\n  http_tls_key: {cert}\n")
    r = subprocess.run([PW, "check-config", bad], capture_output=True, text=True)
    check(r.returncode != 0 and f"{bad}:2: http_tls_cert" in r.stderr and "No such file" in r.stderr,
          "a missing certificate file is not reported with its line", r.stderr)
    check(f"{bad}:3: http_tls_key" in r.stderr and "not a PEM PRIVATE KEY" in r.stderr,
          "a certificate given as the key is not reported", r.stderr)
    half = write(tmp, "half.yaml", f"collector:\n  http_tls_cert: {cert}\n")
    r = subprocess.run([PW, "check-config", half], capture_output=True, text=True)
    check(r.returncode != 0 and "go together" in r.stderr, "a certificate without a key is accepted", r.stderr)


def test_body_limit(tmp):
    cfg = write(tmp, "pw.yaml", f"collector:\n  http_max_body_bytes: 2048\napi:\n  token: {TOKEN}\n")
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, ["--config", cfg]).start()
    try:
        big = {"matchers": {"site": "x"}, "duration": "1h", "comment": "x" * 4000}
        st, _, text = call(d, "POST", "/api/v1/silences", big, TOKEN)
        check(st == 413, "a 4 kB body over a 2 kB limit was not refused with 413", [st, text])
        check(json.loads(text)["error"] == "request body too large", "413 body", text)
        # a declared length far beyond: refused from the headers alone, the body never read
        t0 = time.time()
        status, _ = raw(d.http_port, b"POST /api/v1/silences HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
                                     b"Content-Type: application/json\r\n\r\n{")
        check(status == 413 and time.time() - t0 < 5, "a 1 GB Content-Length was not refused at once", status)
        # chunked, no length: the connection is closed once the limit is passed, no success
        chunk = b"800\r\n" + b"x" * 0x800 + b"\r\n"
        status, out = raw(d.http_port, b"POST /api/v1/silences HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                       b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n" + chunk * 4 + b"0\r\n\r\n")
        check(status is None or status >= 400, "a chunked body over the limit was accepted", out[:200].decode(errors="replace"))
        st, _, text = call(d, "POST", "/api/v1/silences", dict(big, comment="small"), TOKEN)
        check(st == 201, "a body under the limit was refused", [st, text])
        check(d.get("/api/v1/status")["version"], "the API stopped answering")
    finally:
        d.stop()


def test_rate_limit(tmp):
    cfg = write(tmp, "pw.yaml", "collector:\n  http_rate_limit: 5\n  http_rate_burst: 10\n")
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, ["--config", cfg]).start()
    try:
        time.sleep(2.2)  # the start-up polls' tokens come back
        statuses, retry = [], None
        conn = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=10)
        for _ in range(30):
            conn.request("GET", "/api/v1/status")
            r = conn.getresponse()
            body = r.read()
            statuses.append(r.status)
            if r.status == 429 and retry is None:
                retry = r.getheader("Retry-After")
                check(json.loads(body)["error"] == "too many requests", "429 body", body.decode())
        conn.close()
        ok, limited = statuses.count(200), statuses.count(429)
        check(10 <= ok <= 13 and ok + limited == 30, f"burst 10 at 5/s: {ok} answered, {limited} limited", statuses)
        check(retry and retry.isdigit() and 1 <= int(retry) <= 2, "429 without a sensible Retry-After", retry)
        # another client is not affected
        other = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=10, source_address=("127.0.0.2", 0))
        other.request("GET", "/api/v1/status")
        check(other.getresponse().status == 200, "another client address was limited too")
        other.close()
        time.sleep(int(retry))
        st, _, _ = call(d, "GET", "/api/v1/status")
        check(st == 200, "the client was not let back in after Retry-After", st)
        m = d.metric("pathwatch_http_requests_total", endpoint="other", status="429")
        check(m >= limited, "429s are not counted in /metrics", m)
        check("HTTP client over its request rate" in d.log_text(), "rate limiting is not logged")
    finally:
        d.stop()


def test_no_secret_anywhere(tmp):
    cert, key = self_signed(tmp)
    hook_port = free_port()  # nothing listens: every delivery fails and is logged
    url_secret, hmac_secret = "URLSECRET-41f0a9c2", "HMACSECRET-99e1d3b7"
    secret_file = write(tmp, "hmac", hmac_secret + "\n")
    os.environ["PW_TEST_TOKEN"] = TOKEN
    cfg = write(tmp, "pw.yaml", f"""collector:
  http_tls_cert: {cert}
  http_tls_key: {key}
  log_level: debug
api:
  token_env: PW_TEST_TOKEN
receivers:
  - name: pager
    format: generic
    url: http://127.0.0.1:{hook_port}/hook/{url_secret}
    secret_file: {secret_file}
routes:
  - receiver: pager
""")
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, ["--config", cfg], tls_ca=cert).start()
    replies = []
    try:
        st, _, text = call(d, "POST", "/api/v1/receivers/pager/test", None, TOKEN)
        check(st == 201, "test notification", [st, text])
        wait_for(lambda: any(n["attempts"] >= 1 for n in d.get("/api/v1/notifications")["notifications"]), 20,
                 "the test notification was never attempted")
        guesses = ("WRONGGUESS-1", TOKEN[:-1])
        for method, path, body in WRITES:
            for tok in (None,) + guesses:
                replies.append(call(d, method, path, body, tok))
        for path in ("/api/v1/status", "/api/v1/notifications", "/api/v1/sites", "/api/v1/alerts",
                     "/api/v1/routers", "/metrics", "/", "/no/such/page",
                     "/api/v1/rib?prefix=nonsense", "/api/v1/status?token=" + TOKEN):
            replies.append(call(d, "GET", path, None, "WRONGGUESS-1"))
        replies.append(call(d, "POST", "/api/v1/status", {"x": 1}, TOKEN))  # 405
        status, out = raw(d.http_port, b"GET /api/v1/status HTTP/1.1\r\n\r\n")  # plain on TLS: no reply
        replies.append((status, {}, out.decode(errors="replace")))
    finally:
        d.stop()
        del os.environ["PW_TEST_TOKEN"]
    log = d.log_text()
    key_lines = [l for l in open(key).read().splitlines() if l and not l.startswith("-----")]
    secrets = [TOKEN, url_secret, hmac_secret, "WRONGGUESS-1"] + key_lines[:5]
    for st, headers, text in replies:
        whole = text + json.dumps(headers)
        for s in secrets:
            check(s not in whole, f"a secret ({s[:12]}...) in an HTTP reply ({st})", whole[:500])
    for s in secrets:
        check(s not in log, f"a secret ({s[:12]}...) in the log", log[log.find(s) - 300:log.find(s) + 100])
    check("notification delivery failed" in log, "the failing delivery was not logged (nothing was checked)")
    r = subprocess.run([PW, "check-config", cfg], capture_output=True, text=True,
                       env=dict(os.environ, PW_TEST_TOKEN=TOKEN))
    check(r.returncode == 0 and not any(s in r.stdout + r.stderr for s in secrets), "check-config prints a secret")


def test_static_cannot_be_escaped(tmp):
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp).start()
    try:
        status, out = raw(d.http_port, b"GET /static/app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        check(status == 200 and b"javascript" in out.lower(), "a real static file is not served", out[:300].decode(errors="replace"))
        index = raw(d.http_port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[1].split(b"\r\n\r\n", 1)[1]
        attempts = [
            "/static/../../../../../../etc/passwd", "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
            "/static/%2E%2E/%2E%2E/%2E%2E/etc/passwd", "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
            "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/static/.%2e/.%2e/.%2e/etc/passwd",
            "/static/%252e%252e/%252e%252e/etc/passwd", "/static/..\\..\\..\\etc\\passwd",
            "/static/....//....//....//etc/passwd", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
            "/static/views/../../../etc/passwd", "/static/views/%2e%2e/index.html", "/static/./index.html",
            "/static/index.html%00.js", "/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
            "/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "/static/../meson.build", "/static/../httpd.c",
        ]
        for path in attempts:
            status, out = raw(d.http_port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            body = out.split(b"\r\n\r\n", 1)[-1]
            check(status in (400, 404), f"GET {path} answered {status}", out[:300].decode(errors="replace"))
            check(b"root:" not in body and b"project(" not in body and b"#include" not in body,
                  f"GET {path} leaked a file", out[:300].decode(errors="replace"))
            check(body != index, f"GET {path} resolved a dot segment to a static file")
        check(d.get("/api/v1/status")["version"], "the API stopped answering")
    finally:
        d.stop()


if __name__ == "__main__":
    sys.exit(run_tests([
        ("the API listens on 127.0.0.1 by default", test_loopback_by_default),
        ("every write endpoint needs the bearer token (401), none configured: 403", test_every_write_endpoint_needs_the_token),
        ("HTTPS with a self-signed certificate: Python ssl and curl verify it", test_tls),
        ("request body limit: 413, huge Content-Length refused at once, chunked overflow closed", test_body_limit),
        ("per-client rate limit: 429 with Retry-After, other clients unaffected", test_rate_limit),
        ("no secret in logs, API output or error pages", test_no_secret_anywhere),
        ("static files cannot be escaped with .. (raw, percent-encoded)", test_static_cannot_be_escaped),
    ]))
