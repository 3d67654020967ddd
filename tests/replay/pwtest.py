"""Shared helpers for the Python tests: start a pathwatch daemon on free
loopback ports, query its API, wait for conditions. Standard library only."""
import http.server
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Failure(Exception):
    pass


def check(cond, what, detail=None):
    if not cond:
        msg = what if detail is None else f"{what}\n    got: {json.dumps(detail)[:2000]}"
        raise Failure(msg)


class Daemon:
    """A pathwatch process on 127.0.0.1 with its own database."""

    def __init__(self, binary, db, workdir, extra=(), tls_ca=None, fd_limit=None, wrap=()):
        """tls_ca: the daemon serves HTTPS; its certificate is checked against this file.
        fd_limit: RLIMIT_NOFILE (soft and hard) for the daemon.
        wrap: a command the daemon runs under (setpriv ...)."""
        self.fd_limit, self.wrap = fd_limit, list(wrap)
        self.binary, self.db, self.workdir = binary, db, workdir
        self.ssl = ssl.create_default_context(cafile=tls_ca) if tls_ca else None
        self.base_url = None
        self.bmp_port, self.http_port = free_port(), free_port()
        self.extra = list(extra)
        self.proc = None
        self.log_path = os.path.join(workdir, f"pathwatch-{self.http_port}.log")
        self.base_url = f"{'https' if tls_ca else 'http'}://127.0.0.1:{self.http_port}"

    def open(self, path, data=None, method=None, headers=None):
        """urlopen on this daemon (HTTP or HTTPS); the caller closes the response."""
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers or {})
        return urllib.request.urlopen(req, timeout=10, context=self.ssl)

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [*self.wrap, self.binary, "--db", self.db, "--bmp-listen", f"127.0.0.1:{self.bmp_port}",
             "--http-listen", f"127.0.0.1:{self.http_port}", *self.extra],
            stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=self._limits if self.fd_limit else None)
        wait_for(lambda: self.try_get("/api/v1/status") is not None, 10, "API did not come up")
        return self

    def _limits(self):
        import resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.fd_limit, self.fd_limit))

    def try_get(self, path):
        try:
            return self.get(path)
        except (urllib.error.URLError, ConnectionError, OSError):
            if self.proc.poll() is not None:
                raise Failure(f"pathwatch exited with {self.proc.returncode}:\n{self.log_tail()}")
            return None

    def get(self, path, **params):
        q = ("?" + urllib.parse.urlencode(params)) if params else ""
        with self.open(f"{path}{q}") as r:
            return json.loads(r.read())

    def get_status(self, path, **params):
        """(HTTP status, JSON body) without raising on 4xx/5xx."""
        try:
            return 200, self.get(path, **params)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def paged(self, path, key, **params):
        """Every item of a paginated endpoint, following "next"."""
        items, cursor = [], None
        while True:
            p = dict(params, limit=params.get("limit", 1000))
            if cursor:
                p["cursor"] = cursor
            page = self.get(path, **p)
            items += page[key]
            cursor = page["next"]
            if not cursor:
                return items

    def all_routes(self, **params):
        return self.paged("/api/v1/rib", "routes", **params)

    def all_events(self, **params):
        return self.paged("/api/v1/history", "events", **params)

    def metrics(self):
        """/metrics parsed strictly: {(name, frozenset(labels)): value}."""
        import promparse
        with self.open("/metrics") as r:
            return promparse.parse(r.read().decode())

    def metric(self, name, **labels):
        """One sample's value (0 when the series is absent)."""
        return self.metrics().get((name, frozenset(labels.items())), 0)

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def settled(self):
        """Waits until everything queued is committed; returns the status."""
        wait_for(lambda: self.get("/api/v1/status")["store_pending"] == 0, 10, "store never settled")
        return self.get("/api/v1/status")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
            # under ASan/UBSan/LSan builds: a report in the log is a failure
            with open(self.log_path, errors="replace") as f:
                text = f.read()
            for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
                if marker in text:
                    i = text.index(marker)
                    raise Failure(f"sanitizer report in the collector's log:\n{text[max(0, i - 200):i + 3000]}")
        return self.proc.returncode if self.proc else None

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""


def still_open(sock, wait=1.0):
    """True when the peer keeps the connection open (no EOF or reset) for `wait` seconds."""
    sock.settimeout(wait)
    try:
        return sock.recv(1) != b""
    except socket.timeout:
        return True
    except ConnectionResetError:
        return False


def read_sse(port, seconds):
    """Events seen on /api/v1/events for a while: [(event, data)]."""
    out = []
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    s.settimeout(0.5)
    buf, end = b"", time.time() + seconds
    while time.time() < end:
        try:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        except socket.timeout:
            pass
    s.close()
    text = buf.decode(errors="replace")
    for block in text.split("\n\n"):
        ev = [l[7:] for l in block.splitlines() if l.startswith("event: ")]
        data = [l[6:] for l in block.splitlines() if l.startswith("data: ")]
        if ev and data:
            out.append((ev[0], json.loads(data[0])))
    return out


def wait_for(cond, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = cond()
            if last:
                return last
        except Failure:
            raise
        except Exception as e:  # transient (connection refused while starting)
            last = e
        time.sleep(0.1)
    raise Failure(f"timed out after {timeout}s: {what} (last: {last!r})")


def run_tests(tests):
    """Runs (name, fn) pairs; prints one line each; returns an exit code."""
    failed = 0
    for name, fn in tests:
        with tempfile.TemporaryDirectory(prefix="pwtest-") as tmp:
            try:
                fn(tmp)
                print(f"ok   {name}", flush=True)
            except Exception as e:  # a crash in a test is a failure too
                failed += 1
                print(f"FAIL {name}\n     {type(e).__name__}: {e}", flush=True)
    print(f"{len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


class Receiver:
    """Records every request; answers from a per-path script of statuses."""

    def __init__(self):
        self.port = free_port()
        self.requests = []
        self.script = {}        # path -> list of (status, headers) to answer first
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with rec.lock:
                    rec.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body),
                                         "raw": body, "time": time.time()})
                    steps = rec.script.get(self.path) or []
                    status, headers = steps.pop(0) if steps else (200, {})
                if status == "slow":
                    time.sleep(3)
                    status = 200
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(b"{}")
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the collector gave up waiting (its timeout): expected for "slow"

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def got(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"] == path]
