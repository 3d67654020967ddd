"""nslab: the harness shared by the integration tests in this directory.

frr_bmp.py, gobgp_bmp.py and site_topology.py each build a lab of network
namespaces named <tag>-<KEY> (tag = a per-test prefix + the test's PID), run
routers and the collector inside them, talk to the collector's HTTP API
through a helper process started with `ip netns exec`, and undo everything
they did (processes stopped by PID, namespaces deleted, temp dir removed) on
success, failure, Ctrl-C, SIGTERM and SIGHUP.

This module holds what they share:
  - logging (log, step, jdump, tail), polling (wait_for, observe, remaining,
    require) and the test's overall deadline (configure);
  - Http: GET requests through the in-namespace helper, cursor pagination;
  - Lab: namespaces, processes, commands, per-router directories, the
    collector (start, kill with a signal), FRR bgpd + vtysh, cleanup;
    TwoRouterLab: namespaces R and N + one veth, the collector in R;
  - route helpers (flat_asns, norm_communities, route_key, wait_settled,
    frr_bmp_uptimes);
  - the command line harness: parse_args, the skip-with-77 logic
    (skip_status, check_collector, check_tools), signal/alarm traps,
    run_test (PASS/FAIL/SKIP/INTERRUPTED, diagnostics, cleanup) and
    run_main (all of main() for a test without options of its own).

The tests import it as `nslab`: Python puts a script's own directory first
on sys.path, so this works from any cwd. Python 3 standard library only.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

SKIP = 77   # exit status meson reports as "skipped"
T0 = time.monotonic()

BGPD = os.environ.get("FRR_BGPD", "/usr/lib/frr/bgpd")
VTYSH = os.environ.get("FRR_VTYSH", shutil.which("vtysh") or "/usr/bin/vtysh")

_settings = {"deadline": 240.0, "jdump_limit": 6000}


def configure(deadline=None, jdump_limit=None):
    """Set the test's overall deadline (seconds since T0; wait_for and
    remaining() use it) and jdump's default length limit."""
    if deadline is not None:
        _settings["deadline"] = float(deadline)
    if jdump_limit is not None:
        _settings["jdump_limit"] = jdump_limit


class TestFailure(Exception):
    pass


class Skip(Exception):
    pass


# --------------------------------------------------------------------------
# Logging and polling
# --------------------------------------------------------------------------

def log(msg):
    print("[%6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def step(msg):
    print("", flush=True)
    log("== " + msg)


def jdump(obj, limit=None):
    if limit is None:
        limit = _settings["jdump_limit"]
    s = json.dumps(obj, indent=1, sort_keys=True)
    if len(s) > limit:
        s = s[:limit] + "\n... (%d more characters)" % (len(s) - limit)
    return s


def tail(path, n=40):
    try:
        with open(path, "r", errors="replace") as f:
            lines = f.readlines()
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    return "".join(lines[-n:]).rstrip("\n")


def remaining():
    """Seconds left before the test's overall deadline."""
    return _settings["deadline"] - (time.monotonic() - T0)


def wait_for(what, fn, timeout, interval=0.3):
    """Poll fn() until it returns a truthy value; TestFailure on timeout.

    fn may raise TestFailure to abort at once; it records what it last saw
    with observe(x) so that the observation is printed on timeout."""
    deadline = time.monotonic() + timeout
    wait_for.last = None
    start = time.monotonic()
    while True:
        if remaining() <= 0:
            raise TestFailure("test exceeded its overall deadline of %ds while waiting for %s"
                              % (_settings["deadline"], what))
        v = fn()
        if v:
            log("ok: %s (%.1fs)" % (what, time.monotonic() - start))
            return v
        if time.monotonic() >= deadline:
            msg = "timed out after %.0fs waiting for %s" % (timeout, what)
            if wait_for.last is not None:
                last = wait_for.last
                msg += "\nlast observation:\n" + (last if isinstance(last, str) else jdump(last))
            raise TestFailure(msg)
        time.sleep(interval)


def observe(x):
    wait_for.last = x
    return x


def require(cond, msg, data=None):
    if not cond:
        if data is not None:
            msg += "\n" + (data if isinstance(data, str) else jdump(data))
        raise TestFailure(msg)


# --------------------------------------------------------------------------
# HTTP helper running inside a namespace
# --------------------------------------------------------------------------

HELPER_CODE = r"""
import json, sys, urllib.request, urllib.error
for line in sys.stdin:
    req = json.loads(line)
    try:
        r0 = urllib.request.Request(req["url"], method=req.get("method", "GET"),
                                    headers=req.get("headers", {}),
                                    data=req["data"].encode() if req.get("data") is not None else None)
        with urllib.request.urlopen(r0, timeout=req.get("timeout", 5)) as r:
            out = {"status": r.status, "body": r.read().decode("utf-8", "replace")}
    except urllib.error.HTTPError as e:
        out = {"status": e.code, "body": e.read().decode("utf-8", "replace")}
    except Exception as e:
        out = {"error": "%s: %s" % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
"""


class Http:
    """GET http://127.0.0.1:PORT/... inside namespace `ns`, through a helper
    process started (and restarted when it dies) with `ip netns exec`."""

    page_limit = 500   # `limit` of each page in get_all

    def __init__(self, env, ns, port):
        self.env = env
        self.ns = ns
        self.port = port
        self.proc = None

    def _start(self):
        self.proc = self.env.spawn(
            ["ip", "netns", "exec", self.ns, sys.executable, "-u", "-c", HELPER_CODE],
            name="http-helper", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True)

    def raw(self, path, timeout=5):
        """Return (status, body) or raise RuntimeError on a transport error."""
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        for _ in range(2):
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            try:
                self.proc.stdin.write(json.dumps({"url": url, "timeout": timeout}) + "\n")
                self.proc.stdin.flush()
                line = self.proc.stdout.readline()
            except (BrokenPipeError, OSError):
                line = ""
            if line:
                break
            self.env.stop_proc(self.proc)
            self.proc = None
        else:
            raise RuntimeError("HTTP helper in namespace died")
        res = json.loads(line)
        if "error" in res:
            raise RuntimeError(res["error"])
        return res["status"], res["body"]

    def transport_error(self, path, e):
        """The exception to raise when GET `path` failed with RuntimeError `e`."""
        c = self.env.collector
        state = "still running" if c and c.poll() is None else \
            "collector has exited with status %s" % (c.returncode if c else None)
        return TestFailure("GET %s failed: %s (%s)" % (path, e, state))

    def fetch(self, path, **params):
        """(path with the query string, status, body); params that are None are
        left out. A transport error raises transport_error()."""
        q = {k: v for k, v in params.items() if v is not None}
        if q:
            path = path + "?" + urllib.parse.urlencode(q)
        try:
            status, body = self.raw(path)
        except RuntimeError as e:
            raise self.transport_error(path, e)
        return path, status, body

    def try_get(self, path, **params):
        """(status, parsed JSON or None, body); raises TestFailure on transport errors."""
        _, status, body = self.fetch(path, **params)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        return status, doc, body

    def get(self, path, **params):
        """The parsed JSON of a 200 answer; TestFailure otherwise."""
        path, status, body = self.fetch(path, **params)
        if status != 200:
            raise TestFailure("GET %s -> HTTP %s\n%s" % (path, status, body[:3000]))
        try:
            return json.loads(body)
        except ValueError:
            raise TestFailure("GET %s -> invalid JSON:\n%s" % (path, body[:3000]))

    def get_all(self, path, key, **params):
        """Follow `next` cursors; return the concatenated list under `key`."""
        items = []
        cursor = None
        for _ in range(100):
            p = dict(params)
            p.setdefault("limit", self.page_limit)
            if cursor is not None:
                p["cursor"] = cursor
            doc = self.get(path, **p)
            if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
                raise TestFailure("GET %s: expected object with list %r, got:\n%s"
                                  % (path, key, jdump(doc)))
            items.extend(doc[key])
            cursor = doc.get("next")
            if cursor in (None, "", False):
                return items
        raise TestFailure("GET %s: more than 100 pages, cursor loop?" % path)


# --------------------------------------------------------------------------
# The lab: namespaces, processes, temp dir, cleanup
# --------------------------------------------------------------------------

class Lab:
    """Namespaces <tag>-KEY (tag = prefix + PID), the processes started in
    them, and a temp dir /tmp/<tag>-XXXX (kept with keep=True). A subclass
    sets self.http (an Http) and adds its routers and diagnostics()."""

    def __init__(self, prefix, collector, keep=False):
        self.collector_bin = collector
        self.keep = keep
        self.tag = "%s%d" % (prefix, os.getpid())
        self.namespaces = []
        self.procs = []  # (name, Popen)
        self.bgpd = {}   # router key -> Popen
        self.tmp = tempfile.mkdtemp(prefix=self.tag + "-")
        os.chmod(self.tmp, 0o755)
        self.collector_log = os.path.join(self.tmp, "collector.log")
        self.collector = None
        self.http = None

    def ns(self, key):
        return "%s-%s" % (self.tag, key)

    # ---- processes
    def spawn(self, argv, name, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        self.procs.append((name, p))
        return p

    def stop_proc(self, p, sig=signal.SIGTERM, timeout=5.0):
        """Stop one process we started, by PID. Returns its exit status."""
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(5)
        for stream in (p.stdin, p.stdout, p.stderr):
            if stream:
                try:
                    stream.close()
                except OSError:
                    pass
        self.procs = [(n, q) for (n, q) in self.procs if q is not p]
        return p.returncode

    # ---- commands
    def run(self, argv, check=True, timeout=20):
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise TestFailure("command failed (%d): %s\n%s"
                              % (r.returncode, " ".join(argv), r.stdout))
        return r

    # ---- topology
    def add_netns(self, *keys):
        """Create namespaces <tag>-KEY. If the first cannot be created, the
        test has no privileges for namespaces: Skip."""
        for i, key in enumerate(keys):
            name = self.ns(key)
            if i == 0:
                r = self.run(["ip", "netns", "add", name], check=False)
                if r.returncode != 0:
                    raise Skip("cannot create a network namespace (need root / CAP_NET_ADMIN "
                               "and CAP_SYS_ADMIN): `ip netns add` said: %s" % r.stdout.strip())
            else:
                self.run(["ip", "netns", "add", name])
            self.namespaces.append(name)

    def router_dir(self, router, conf_name, config):
        """(TMP/ROUTER, TMP/ROUTER/conf_name): the directory for one router's
        files, created, with `config` written to conf_name in it."""
        d = os.path.join(self.tmp, router)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        conf = os.path.join(d, conf_name)
        with open(conf, "w") as f:
            f.write(config)
        return d, conf

    # ---- FRR
    def start_bgpd(self, router, config, interval=0.3, log_start=True):
        """FRR bgpd with `config` in namespace <tag>-ROUTER, all its files in
        TMP/ROUTER (vty socket, pid, logs); waits for its vty socket."""
        ns = self.ns(router)
        d, conf = self.router_dir(router, "bgpd.conf", config)
        common = [BGPD, "-Z", "-S", "-M", "bmp", "-f", conf]
        # bgpd -C exits 0 even on bad lines; look at its output instead.
        r = self.run(common + ["-C"], check=False)
        if r.returncode != 0 or "No such command" in r.stdout or "rror" in r.stdout:
            raise TestFailure("bgpd rejected config for %s:\n%s\n--- config ---\n%s"
                              % (router, r.stdout, config))
        out = open(os.path.join(d, "bgpd.out"), "w")
        p = self.spawn(
            ["ip", "netns", "exec", ns] + common + [
                "-i", os.path.join(d, "bgpd.pid"),
                "--vty_socket", d,
                "-P", "0",                       # no vty TCP port
                "--log", "file:" + os.path.join(d, "bgpd.log"),
            ],
            name="bgpd-" + router, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.bgpd[router] = p
        sock = os.path.join(d, "bgpd.vty")

        def vty_ready():
            if p.poll() is not None:
                raise TestFailure("bgpd %s exited with status %s:\n%s\n%s"
                                  % (router, p.returncode, tail(os.path.join(d, "bgpd.out")),
                                     tail(os.path.join(d, "bgpd.log"))))
            return os.path.exists(sock)

        wait_for("bgpd %s vty socket" % router, vty_ready, timeout=15, interval=interval)
        if log_start:
            log("bgpd %s started (pid %d) in %s" % (router, p.pid, ns))
        return p

    def vtysh(self, router, *cmds, check=True):
        argv = [VTYSH, "--vty_socket", os.path.join(self.tmp, router)]
        for c in cmds:
            argv += ["-c", c]
        r = self.run(argv, check=False)
        bad = [l for l in r.stdout.splitlines()
               if l.startswith("%") or "Unknown command" in l or "No such command" in l]
        if check and (r.returncode != 0 or bad):
            raise TestFailure("vtysh on %s failed (rc=%d): %s\n%s"
                              % (router, r.returncode, cmds, r.stdout))
        return r.stdout

    # ---- the collector
    def launch_collector(self, ns, args, banner="pathwatch-test", env=None):
        """Start the collector in namespace `ns` with `args` (stdout+stderr
        appended to collector.log, cwd the temp dir) and wait until its HTTP
        API answers /api/v1/status."""
        with open(self.collector_log, "a") as f:
            f.write("\n===== %s: starting collector at %s =====\n" % (banner, time.ctime()))
        logf = open(self.collector_log, "a")
        argv = ["ip", "netns", "exec", ns, self.collector_bin] + list(args)
        self.collector = self.spawn(argv, name="collector", stdout=logf, stderr=logf,
                                    cwd=self.tmp, env=env)
        logf.close()
        p = self.collector

        def ready():
            if p.poll() is not None:
                raise self.collector_died(p)
            try:
                st, _ = self.http.raw("/api/v1/status", timeout=2)
            except RuntimeError:
                return False
            return st == 200

        wait_for("collector HTTP API to answer", ready, timeout=20, interval=0.2)
        log("collector running (pid %d): %s" % (p.pid, " ".join(argv[4:])))
        return p

    def collector_died(self, p):
        """The exception for a collector that exited during startup."""
        return TestFailure("collector exited with status %s during startup" % p.returncode)

    def kill_collector(self, sig=signal.SIGKILL, how="exited with status"):
        """Send `sig` to the collector, wait for it (15 s); returns its exit status."""
        p = self.collector
        os.kill(p.pid, sig)
        try:
            rc = p.wait(15)
        except subprocess.TimeoutExpired:
            raise TestFailure("collector did not exit within 15s of %s" % signal.Signals(sig).name)
        self.stop_proc(p)
        log("collector (pid %d) %s %s" % (p.pid, how, rc))
        return rc

    SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

    def check_sanitizers(self):
        """Stops the collector (SIGTERM: LeakSanitizer reports at exit) and
        fails on any sanitizer report in its log, from every run of it."""
        if self.collector and self.collector.poll() is None:
            self.stop_proc(self.collector)
        try:
            with open(self.collector_log, errors="replace") as f:
                text = f.read()
        except OSError:
            return
        for m in self.SANITIZER_MARKERS:
            if m in text:
                i = text.index(m)
                raise TestFailure("sanitizer report in the collector's log:\n" + text[max(0, i - 300):i + 3000])

    # ---- the end
    def cleanup(self):
        for name, p in list(reversed(self.procs)):
            try:
                self.stop_proc(p)
            except Exception as e:  # keep going
                print("cleanup: stopping %s (pid %d): %s" % (name, p.pid, e), flush=True)
        for ns in reversed(self.namespaces):
            r = subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                print("cleanup: ip netns del %s: %s" % (ns, r.stdout.strip()), flush=True)
        self.namespaces = []
        if self.keep:
            print("keeping temp dir %s" % self.tmp, flush=True)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def diagnostics(self):
        """Printed after a failure: the collector log's tail (the tests add
        their routers' state)."""
        print("\n---------------- diagnostics ----------------", flush=True)
        print("--- collector log (tail): %s" % self.collector_log)
        print(tail(self.collector_log, 60))


class TwoRouterLab(Lab):
    """Namespaces <tag>-R (the monitored router and the collector) and
    <tag>-N (its neighbour), joined by the veth pair <tag>r / <tag>n; the
    collector's API is reached in R."""

    def __init__(self, prefix, collector, keep=False, bmp_port=11019, http_port=18080):
        super().__init__(prefix, collector, keep)
        self.ns_r = self.ns("R")
        self.ns_n = self.ns("N")
        self.veth_r = self.tag + "r"
        self.veth_n = self.tag + "n"
        self.bmp_port = bmp_port
        self.db = os.path.join(self.tmp, "pathwatch.db")
        self.http = Http(self, self.ns_r, http_port)

    def start_collector(self, *args):
        """The collector in R (`args` first): BMP and HTTP on R's 127.0.0.1,
        database TMP/pathwatch.db."""
        self.launch_collector(self.ns_r, list(args) + [
            "--bmp-listen", "127.0.0.1:%d" % self.bmp_port,
            "--http-listen", "127.0.0.1:%d" % self.http.port,
            "--db", self.db,
        ])

    def setup_netns(self, r_addr, n_addr, r_addr6=None, n_addr6=None):
        """The two namespaces and the veth: IPv4 /30 (and IPv6 /64) addresses."""
        self.add_netns("R", "N")
        self.run(["ip", "link", "add", self.veth_r, "type", "veth", "peer", "name", self.veth_n])
        try:
            self.run(["ip", "link", "set", self.veth_r, "netns", self.ns_r])
            self.run(["ip", "link", "set", self.veth_n, "netns", self.ns_n])
        except TestFailure:
            self.run(["ip", "link", "del", self.veth_r], check=False)
            raise
        for ns, dev, addr, addr6 in ((self.ns_r, self.veth_r, r_addr, r_addr6),
                                     (self.ns_n, self.veth_n, n_addr, n_addr6)):
            self.run(["ip", "-n", ns, "link", "set", "lo", "up"])
            self.run(["ip", "-n", ns, "addr", "add", addr + "/30", "dev", dev])
            if addr6:
                # nodad: usable at once (only the BGP next hop uses it, not the session)
                self.run(["ip", "-n", ns, "-6", "addr", "add", addr6 + "/64", "dev", dev,
                          "nodad"])
            self.run(["ip", "-n", ns, "link", "set", dev, "up"])
        log("namespaces %s, %s; veth %s(%s) <-> %s(%s)"
            % (self.ns_n, self.ns_r, self.veth_n, ", ".join(a for a in (n_addr, n_addr6) if a),
               self.veth_r, ", ".join(a for a in (r_addr, r_addr6) if a)))


# --------------------------------------------------------------------------
# Routes as the API shows them
# --------------------------------------------------------------------------

def flat_asns(as_path):
    out = []
    if isinstance(as_path, (list, tuple)):
        for x in as_path:
            out.extend(flat_asns(x))
    elif isinstance(as_path, dict):
        for v in as_path.values():
            out.extend(flat_asns(v))
    elif isinstance(as_path, int):
        out.append(as_path)
    elif isinstance(as_path, str):
        for tok in as_path.replace("{", " ").replace("}", " ").replace(",", " ").split():
            if tok.isdigit():
                out.append(int(tok))
    return out


def norm_communities(c):
    out = set()
    if c is None:
        return out
    if isinstance(c, str):
        return set(c.split())
    for x in c:
        if isinstance(x, str):
            out.add(x)
        elif isinstance(x, int):
            out.add("%d:%d" % (x >> 16, x & 0xFFFF))
        elif isinstance(x, (list, tuple)) and len(x) == 2:
            out.add("%s:%s" % (x[0], x[1]))
        elif isinstance(x, dict):
            a = x.get("asn", x.get("high"))
            v = x.get("value", x.get("low"))
            out.add("%s:%s" % (a, v))
    return out


def route_key(r):
    return (r.get("router"), r.get("peer"), r.get("view"), r.get("prefix"), r.get("path_id"))


def wait_settled(env, extra=3.0):
    """Wait until the store has committed everything, then a bit more, then again."""
    def pending_zero():
        st = observe(env.http.get("/api/v1/status"))
        return st.get("store_pending") == 0

    wait_for("store_pending == 0", pending_zero, timeout=20)
    time.sleep(extra)
    wait_for("store_pending == 0 (again, after %.0fs)" % extra, pending_zero, timeout=20)
    return env.http.get("/api/v1/status")


def frr_bmp_uptimes(show_bmp):
    """Uptimes (seconds) of the connected clients listed by FRR 8.4 `show bmp`."""
    ups = []
    in_clients = False
    for line in show_bmp.splitlines():
        if "connected clients" in line:
            in_clients = True
            continue
        f = line.split()
        if in_clients and len(f) >= 2 and ":" in f[0] and not f[0].startswith("-"):
            if f[1].count(":") == 2:          # HH:MM:SS
                try:
                    h, m, sec = (int(x) for x in f[1].split(":"))
                    ups.append(h * 3600 + m * 60 + sec)
                except ValueError:
                    pass
            else:                             # e.g. 1d02h03m: long enough
                ups.append(10 ** 6)
    return ups


# --------------------------------------------------------------------------
# Command line, skips, signals
# --------------------------------------------------------------------------

def parse_args(argv):
    """(collector, keep) of `X.py PATH/TO/pathwatch [--keep]`; None after
    printing the usage (exit 2)."""
    args = [a for a in argv[1:] if not a.startswith("--")]
    keep = "--keep" in argv[1:]
    if len(args) != 1:
        print("usage: %s PATH/TO/pathwatch [--keep]" % argv[0], file=sys.stderr)
        return None
    return os.path.abspath(args[0]), keep


def skip_status(why):
    """Print the skip; 77, or 1 with PATHWATCH_REQUIRE_INTEGRATION=1."""
    print("SKIP: " + why, flush=True)
    if os.environ.get("PATHWATCH_REQUIRE_INTEGRATION") == "1":
        print("FAIL: PATHWATCH_REQUIRE_INTEGRATION=1, so a skip counts as a failure")
        return 1
    return SKIP


def check_collector(collector):
    """False (after printing FAIL) unless the collector binary is executable."""
    if not (os.path.isfile(collector) and os.access(collector, os.X_OK)):
        print("FAIL: collector binary %s does not exist or is not executable" % collector)
        return False
    return True


def check_tools(tools):
    """None if the test can run, else its exit status (a skip): each (path,
    description) of `tools` executable, iproute2 present, running as root."""
    for tool, what in tools:
        if not os.access(tool, os.X_OK):
            return skip_status("%s not found at %s" % (what, tool))
    if not shutil.which("ip"):
        return skip_status("iproute2 `ip` not found")
    if os.geteuid() != 0:
        return skip_status("needs root (CAP_NET_ADMIN/CAP_SYS_ADMIN) to create network "
                           "namespaces")
    return None


def trap_signals(hard_limit):
    """SIGINT/SIGTERM/SIGHUP -> KeyboardInterrupt (so that the lab is cleaned
    up); SIGALRM after hard_limit seconds -> TestFailure."""
    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGINT, on_signal)   # also when started with SIGINT ignored
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    def on_alarm(signum, frame):
        raise TestFailure("hard deadline of %ds exceeded (something hung)" % hard_limit)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(hard_limit))


def release_signals():
    """No alarm any more; ignore SIGINT/SIGTERM/SIGHUP while cleaning up."""
    signal.alarm(0)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)


def run_main(argv, tools, describe, make_env, test, passed, hard_limit):
    """main() of a test with the command line `X.py PATH/TO/pathwatch [--keep]`:
    check the collector and `tools` (skip if missing), log describe(collector),
    then run_test() with env = make_env(collector, keep). Returns the exit status."""
    parsed = parse_args(argv)
    if parsed is None:
        return 2
    collector, keep = parsed
    if not check_collector(collector):
        return 1
    status = check_tools(tools)
    if status is not None:
        return status
    log(describe(collector))
    return run_test(lambda: make_env(collector, keep), test, passed, hard_limit)


def run_test(make_env, test, passed, hard_limit):
    """Run test(env) on env = make_env() under trap_signals(hard_limit); print
    PASS/FAIL (with env.diagnostics()), SKIP or INTERRUPTED and the `N passed,
    N failed` line; always clean the lab up. Returns the exit status."""
    env = None
    status = 1
    trap_signals(hard_limit)
    try:
        env = make_env()
        log("temp dir %s" % env.tmp)
        test(env)
        env.check_sanitizers()
        print("", flush=True)
        log("PASS: " + passed)
        print("1 passed, 0 failed", flush=True)
        status = 0
    except Skip as e:
        status = skip_status(str(e))
    except TestFailure as e:
        print("\nFAIL: %s" % e, flush=True)
        if env:
            env.diagnostics()
        print("0 passed, 1 failed", flush=True)
        status = 1
    except KeyboardInterrupt as e:
        print("\nINTERRUPTED (%s), cleaning up" % (e or "Ctrl-C"), flush=True)
        status = 130
    except Exception:
        traceback.print_exc()
        if env:
            env.diagnostics()
        print("0 passed, 1 failed", flush=True)
        status = 1
    finally:
        release_signals()
        if env:
            env.cleanup()
            log("cleaned up (processes, namespaces%s)" % ("" if env.keep else ", temp dir"))
    return status
