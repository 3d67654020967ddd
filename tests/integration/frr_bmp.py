#!/usr/bin/env python3
"""Integration test: real FRR routers in network namespaces feeding pathwatch over BMP.

Usage:  tests/integration/frr_bmp.py PATH/TO/pathwatch [--keep]

Topology (all created by this script, names unique per run):

    netns pwt<pid>-N                       netns pwt<pid>-R
    bgpd AS 65002 "N1"  10.99.0.1/30 <-veth-> 10.99.0.2/30  bgpd AS 65001 "R1"
    announces 10.100.{1,2,3}.0/24                       |  BMP -> 127.0.0.1:11019
                                                         pathwatch (BMP 127.0.0.1:11019,
                                                                    HTTP 127.0.0.1:18080)

The collector runs inside R, so the HTTP API is only reachable there; a small
helper process started with `ip netns exec R` performs the HTTP requests.

Exit status: 0 = all checks passed, 1 = a check failed / error,
77 = skipped (no privileges for network namespaces or FRR missing; set
PATHWATCH_REQUIRE_INTEGRATION=1 to turn a skip into a failure).
Python 3 standard library only.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

SKIP = 77
TEST_DEADLINE = 240.0  # seconds, whole test

BGPD = os.environ.get("FRR_BGPD", "/usr/lib/frr/bgpd")
VTYSH = os.environ.get("FRR_VTYSH", shutil.which("vtysh") or "/usr/bin/vtysh")
BMP_PORT = 11019
HTTP_PORT = 18080
N_ADDR = "10.99.0.1"
R_ADDR = "10.99.0.2"
N_AS = 65002
R_AS = 65001
R_NAME = "R1"
PREFIXES = ["10.100.1.0/24", "10.100.2.0/24", "10.100.3.0/24"]
WITHDRAWN = "10.100.3.0/24"
KEPT = [p for p in PREFIXES if p != WITHDRAWN]
VIEWS = ["pre-policy", "post-policy"]
N_COMMUNITY = "65002:100"   # set by N on export -> in pre- and post-policy
R_COMMUNITY = "65001:200"   # added by R's import policy -> post-policy only
R_MED = 50                  # set by R's import policy -> post-policy only

T0 = time.monotonic()


class TestFailure(Exception):
    pass


class Skip(Exception):
    pass


def log(msg):
    print("[%6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def step(msg):
    print("", flush=True)
    log("== " + msg)


def jdump(obj, limit=6000):
    s = json.dumps(obj, indent=1, sort_keys=True)
    if len(s) > limit:
        s = s[:limit] + "\n... (%d more characters)" % (len(s) - limit)
    return s


# --------------------------------------------------------------------------
# HTTP helper running inside the router namespace
# --------------------------------------------------------------------------

HELPER_CODE = r"""
import json, sys, urllib.request, urllib.error
for line in sys.stdin:
    req = json.loads(line)
    try:
        with urllib.request.urlopen(req["url"], timeout=req.get("timeout", 5)) as r:
            out = {"status": r.status, "body": r.read().decode("utf-8", "replace")}
    except urllib.error.HTTPError as e:
        out = {"status": e.code, "body": e.read().decode("utf-8", "replace")}
    except Exception as e:
        out = {"error": "%s: %s" % (type(e).__name__, e)}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
"""


class Http:
    def __init__(self, env):
        self.env = env
        self.proc = None

    def _start(self):
        self.proc = self.env.spawn(
            [
                "ip", "netns", "exec", self.env.ns_r,
                sys.executable, "-u", "-c", HELPER_CODE,
            ],
            name="http-helper",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def raw(self, path, timeout=5):
        """Return (status, body) or raise OSError-like RuntimeError on transport error."""
        url = "http://127.0.0.1:%d%s" % (HTTP_PORT, path)
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

    def get(self, path, **params):
        q = {k: v for k, v in params.items() if v is not None}
        if q:
            path = path + "?" + urllib.parse.urlencode(q)
        try:
            status, body = self.raw(path)
        except RuntimeError as e:
            c = self.env.collector
            state = "still running" if c and c.poll() is None else \
                "collector has exited with status %s" % (c.returncode if c else None)
            raise TestFailure("GET %s failed: %s (%s)" % (path, e, state))
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
            p.setdefault("limit", 500)
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
# Environment: namespaces, processes, temp dir, cleanup
# --------------------------------------------------------------------------

class Env:
    def __init__(self, collector, keep=False):
        self.collector_bin = collector
        self.keep = keep
        tag = "pwt%d" % os.getpid()
        self.ns_r = tag + "-R"
        self.ns_n = tag + "-N"
        self.veth_r = tag + "r"
        self.veth_n = tag + "n"
        self.namespaces = []
        self.procs = []  # (name, Popen)
        self.tmp = tempfile.mkdtemp(prefix="pwt%d-" % os.getpid())
        os.chmod(self.tmp, 0o755)
        self.db = os.path.join(self.tmp, "pathwatch.db")
        self.collector_log = os.path.join(self.tmp, "collector.log")
        self.collector = None
        self.http = Http(self)

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

    def vtysh(self, router, *cmds):
        argv = [VTYSH, "--vty_socket", os.path.join(self.tmp, router)]
        for c in cmds:
            argv += ["-c", c]
        r = self.run(argv, check=False)
        bad = [l for l in r.stdout.splitlines()
               if l.startswith("%") or "Unknown command" in l or "No such command" in l]
        if r.returncode != 0 or bad:
            raise TestFailure("vtysh on %s failed (rc=%d): %s\n%s"
                              % (router, r.returncode, cmds, r.stdout))
        return r.stdout

    # ---- topology
    def setup_netns(self):
        r = self.run(["ip", "netns", "add", self.ns_r], check=False)
        if r.returncode != 0:
            raise Skip("cannot create a network namespace (need root / CAP_NET_ADMIN "
                       "and CAP_SYS_ADMIN): `ip netns add` said: %s" % r.stdout.strip())
        self.namespaces.append(self.ns_r)
        self.run(["ip", "netns", "add", self.ns_n])
        self.namespaces.append(self.ns_n)
        self.run(["ip", "link", "add", self.veth_r, "type", "veth", "peer", "name", self.veth_n])
        try:
            self.run(["ip", "link", "set", self.veth_r, "netns", self.ns_r])
            self.run(["ip", "link", "set", self.veth_n, "netns", self.ns_n])
        except TestFailure:
            self.run(["ip", "link", "del", self.veth_r], check=False)
            raise
        for ns, dev, addr in ((self.ns_r, self.veth_r, R_ADDR), (self.ns_n, self.veth_n, N_ADDR)):
            self.run(["ip", "-n", ns, "link", "set", "lo", "up"])
            self.run(["ip", "-n", ns, "addr", "add", addr + "/30", "dev", dev])
            self.run(["ip", "-n", ns, "link", "set", dev, "up"])
        log("namespaces %s, %s; veth %s(%s) <-> %s(%s)"
            % (self.ns_n, self.ns_r, self.veth_n, N_ADDR, self.veth_r, R_ADDR))

    def start_bgpd(self, router, ns, config):
        d = os.path.join(self.tmp, router)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        conf = os.path.join(d, "bgpd.conf")
        with open(conf, "w") as f:
            f.write(config)
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
            name="bgpd-" + router,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        sock = os.path.join(d, "bgpd.vty")

        def vty_ready():
            if p.poll() is not None:
                raise TestFailure("bgpd %s exited with status %s:\n%s\n%s"
                                  % (router, p.returncode, tail(os.path.join(d, "bgpd.out")),
                                     tail(os.path.join(d, "bgpd.log"))))
            return os.path.exists(sock)

        wait_for("bgpd %s vty socket" % router, vty_ready, timeout=15)
        log("bgpd %s started (pid %d) in %s" % (router, p.pid, ns))
        return p

    def start_collector(self):
        with open(self.collector_log, "a") as f:
            f.write("\n===== pathwatch-test: starting collector at %s =====\n" % time.ctime())
        logf = open(self.collector_log, "a")
        argv = [
            "ip", "netns", "exec", self.ns_r, self.collector_bin,
            "--bmp-listen", "127.0.0.1:%d" % BMP_PORT,
            "--http-listen", "127.0.0.1:%d" % HTTP_PORT,
            "--db", self.db,
        ]
        self.collector = self.spawn(argv, name="collector", stdout=logf, stderr=logf, cwd=self.tmp)
        logf.close()
        p = self.collector

        def ready():
            if p.poll() is not None:
                raise TestFailure("collector exited with status %s during startup" % p.returncode)
            try:
                st, body = self.http.raw("/api/v1/status", timeout=2)
            except RuntimeError:
                return False
            return st == 200

        wait_for("collector HTTP API to answer", ready, timeout=20, interval=0.2)
        log("collector running (pid %d): %s" % (p.pid, " ".join(argv[4:])))

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
        print("\n---------------- diagnostics ----------------", flush=True)
        print("--- collector log (tail): %s" % self.collector_log)
        print(tail(self.collector_log, 60))
        for router in ("R", "N"):
            print("--- bgpd %s log (tail)" % router)
            print(tail(os.path.join(self.tmp, router, "bgpd.log"), 25))
        for router in ("R",):
            try:
                out = self.run([VTYSH, "--vty_socket", os.path.join(self.tmp, router),
                                "-c", "show bgp summary", "-c", "show bmp"],
                               check=False, timeout=5).stdout
                print("--- vtysh %s: show bgp summary / show bmp\n%s" % (router, out))
            except Exception as e:
                print("(vtysh %s failed: %s)" % (router, e))
        sys.stdout.flush()


def tail(path, n=40):
    try:
        with open(path, "r", errors="replace") as f:
            lines = f.readlines()
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    return "".join(lines[-n:]).rstrip("\n")


def wait_for(what, fn, timeout, interval=0.3):
    """Poll fn() until it returns a truthy value; TestFailure on timeout.

    fn may raise TestFailure to abort at once; it records what it last saw
    with observe(x) so that the observation is printed on timeout."""
    deadline = time.monotonic() + timeout
    wait_for.last = None
    start = time.monotonic()
    while True:
        if time.monotonic() - T0 > TEST_DEADLINE:
            raise TestFailure("test exceeded its overall deadline of %ds while waiting for %s"
                              % (TEST_DEADLINE, what))
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


# --------------------------------------------------------------------------
# FRR configuration
# --------------------------------------------------------------------------

def r_config():
    return """\
hostname {name}
!
route-map PW-IN permit 10
 set metric {med}
 set community {rc} additive
exit
!
router bgp {ras}
 bgp router-id {raddr}
 no bgp ebgp-requires-policy
 no bgp network import-check
 timers bgp 3 9
 neighbor {naddr} remote-as {nas}
 neighbor {naddr} timers connect 1
 address-family ipv4 unicast
  neighbor {naddr} soft-reconfiguration inbound
  neighbor {naddr} route-map PW-IN in
 exit-address-family
 bmp targets pw
  bmp monitor ipv4 unicast pre-policy
  bmp monitor ipv4 unicast post-policy
  bmp connect 127.0.0.1 port {bmp} min-retry 100 max-retry 1000
 exit
exit
!
""".format(name=R_NAME, med=R_MED, rc=R_COMMUNITY, ras=R_AS, raddr=R_ADDR,
           naddr=N_ADDR, nas=N_AS, bmp=BMP_PORT)


def n_config():
    nets = "".join("  network %s\n" % p for p in PREFIXES)
    return """\
hostname N1
!
route-map PW-OUT permit 10
 set community {nc}
exit
!
router bgp {nas}
 bgp router-id {naddr}
 no bgp ebgp-requires-policy
 no bgp network import-check
 timers bgp 3 9
 neighbor {raddr} remote-as {ras}
 neighbor {raddr} timers connect 1
 address-family ipv4 unicast
{nets}  neighbor {raddr} route-map PW-OUT out
 exit-address-family
exit
!
""".format(nc=N_COMMUNITY, nas=N_AS, naddr=N_ADDR, raddr=R_ADDR, ras=R_AS, nets=nets)


# --------------------------------------------------------------------------
# Helpers for assertions
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


def require(cond, msg, data=None):
    if not cond:
        if data is not None:
            msg += "\n" + (data if isinstance(data, str) else jdump(data))
        raise TestFailure(msg)


def route_key(r):
    return (r.get("router"), r.get("peer"), r.get("view"), r.get("prefix"), r.get("path_id"))


def route_fingerprint(r):
    return (route_key(r), tuple(flat_asns(r.get("as_path"))), r.get("next_hop"),
            r.get("med"), r.get("local_pref"),
            tuple(sorted(norm_communities(r.get("communities")))))


# --------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------

def test(env):
    http = env.http

    step("1. setup: namespaces, collector, FRR routers")
    env.setup_netns()
    env.start_collector()
    env.start_bgpd("N", env.ns_n, n_config())
    t_router = time.monotonic()
    env.start_bgpd("R", env.ns_r, r_config())

    # ---------------------------------------------------------------- 1
    step("2. router connects: routers / peers / RIB populated")

    def router_connected():
        doc = observe(http.get("/api/v1/routers"))
        rs = [r for r in doc.get("routers", []) if r.get("name") == R_NAME]
        return rs and rs[0].get("connected") is True

    wait_for("router %s listed and connected in /api/v1/routers" % R_NAME, router_connected,
             timeout=20)
    routers = http.get("/api/v1/routers")["routers"]
    r1 = [r for r in routers if r.get("name") == R_NAME][0]
    require(r1.get("address") == "127.0.0.1",
            "router %s: expected address 127.0.0.1" % R_NAME, r1)

    def peer_up():
        doc = observe(http.get("/api/v1/peers"))
        ps = [p for p in doc.get("peers", []) if p.get("address") == N_ADDR]
        return ps and ps[0].get("state") == "up" and ps[0].get("asn") == N_AS \
            and ps[0].get("router") == R_NAME

    wait_for("peer %s AS %d state up (router %s) in /api/v1/peers" % (N_ADDR, N_AS, R_NAME),
             peer_up, timeout=30)

    def rib_full():
        routes = observe(http.get_all("/api/v1/rib", "routes", router=R_NAME))
        have = {(r.get("view"), r.get("prefix")) for r in routes if r.get("peer") == N_ADDR}
        return all((v, p) in have for v in VIEWS for p in PREFIXES)

    wait_for("all %d prefixes in pre-policy and post-policy views of /api/v1/rib?router=%s"
             % (len(PREFIXES), R_NAME), rib_full, timeout=20)
    routes = http.get_all("/api/v1/rib", "routes", router=R_NAME)
    for r in routes:
        if r.get("peer") != N_ADDR or r.get("prefix") not in PREFIXES:
            continue
        where = "route %s %s" % (r.get("view"), r.get("prefix"))
        require(r.get("router") == R_NAME, where + ": wrong router", r)
        require(r.get("peer_asn") == N_AS, where + ": peer_asn should be %d" % N_AS, r)
        # FRR 8.4 encodes eBGP Adj-RIB-In paths in BMP with its own AS prepended
        # ([65001, 65002]); the path as the neighbour sent it is [65002].
        require(flat_asns(r.get("as_path")) == [N_AS],
                where + ": as_path should be [%d] (as sent by the neighbour, without "
                "FRR's own AS %d that FRR prepends in BMP)" % (N_AS, R_AS), r)
        require(r.get("next_hop") == N_ADDR, where + ": next_hop should be %s" % N_ADDR, r)
        comms = norm_communities(r.get("communities"))
        require(N_COMMUNITY in comms, where + ": communities lack %s" % N_COMMUNITY, r)
        if r.get("view") == "post-policy":
            require(R_COMMUNITY in comms,
                    where + ": R's import policy adds %s; post-policy view must show it"
                    % R_COMMUNITY, r)
            require(r.get("med") == R_MED,
                    where + ": R's import policy sets MED %d; post-policy view must show it"
                    % R_MED, r)
        elif r.get("view") == "pre-policy":
            require(R_COMMUNITY not in comms,
                    where + ": pre-policy view must not show %s (added by import policy)"
                    % R_COMMUNITY, r)
            require(r.get("med") != R_MED,
                    where + ": pre-policy view must not show MED %d (set by import policy)"
                    % R_MED, r)
    log("ok: %d routes, as_path/next_hop/peer_asn/communities/MED as expected "
        "(pre-policy vs post-policy differ per R's import policy)" % len(routes))
    # exact-prefix filter
    one = http.get_all("/api/v1/rib", "routes", router=R_NAME, prefix=PREFIXES[0], match="exact")
    require(one and all(r.get("prefix") == PREFIXES[0] for r in one),
            "/api/v1/rib?prefix=%s&match=exact returned other prefixes or nothing" % PREFIXES[0],
            one)
    # history shows the announcements
    def announced():
        ev = observe(http.get_all("/api/v1/history", "events", prefix=PREFIXES[0]))
        return {e.get("view") for e in ev if e.get("action") == "announce"} >= set(VIEWS)

    wait_for("history has announce events for %s in both views" % PREFIXES[0], announced,
             timeout=10)
    log("router %s connected %.1fs after bgpd start" % (R_NAME, time.monotonic() - t_router))

    # ---------------------------------------------------------------- 2
    step("3. withdraw %s on the neighbour" % WITHDRAWN)
    env.vtysh("N", "configure terminal", "router bgp %d" % N_AS,
              "address-family ipv4 unicast", "no network %s" % WITHDRAWN)

    def withdrawn():
        ev = observe(http.get_all("/api/v1/history", "events", prefix=WITHDRAWN))
        last = {}
        for e in ev:
            if e.get("peer") == N_ADDR:
                last[e.get("view")] = e
        return all(v in last and last[v].get("action") == "withdraw" for v in VIEWS)

    wait_for("history?prefix=%s ends with a withdraw in both views" % WITHDRAWN, withdrawn,
             timeout=15)
    ev = http.get_all("/api/v1/history", "events", prefix=WITHDRAWN)
    for e in ev:
        require(e.get("prefix") == WITHDRAWN,
                "history?prefix=%s returned another prefix" % WITHDRAWN, ev)
    wd = [e for e in ev if e.get("action") == "withdraw"]
    require(len(wd) == len(VIEWS),
            "expected exactly one withdraw per view for %s" % WITHDRAWN, ev)
    for e in wd:
        require(e.get("reason") is None,
                "withdraw caused by an UPDATE must have reason null", e)
    times = [e.get("time") for e in ev]
    require(times == sorted(times, key=lambda t: (t is None, t)),
            "history events are not chronological", ev)

    def rib_without():
        rs = observe(http.get_all("/api/v1/rib", "routes", router=R_NAME, prefix=WITHDRAWN,
                                  match="exact"))
        return rs == []

    wait_for("%s gone from /api/v1/rib" % WITHDRAWN, rib_without, timeout=10)
    rs = http.get_all("/api/v1/rib", "routes", router=R_NAME)
    have = {(r.get("view"), r.get("prefix")) for r in rs}
    require(all((v, p) in have for v in VIEWS for p in KEPT),
            "the other prefixes must still be in the RIB", rs)

    # ---------------------------------------------------------------- 3
    present = list(KEPT)
    restart_check(env, 4, signal.SIGTERM, present)
    restart_check(env, 5, signal.SIGKILL, present)

    # a route disappears and another appears while the collector is down
    gone, back = KEPT[1], WITHDRAWN
    present = [KEPT[0], WITHDRAWN]

    def change_while_down():
        log("while the collector is down: N withdraws %s and re-announces %s" % (gone, back))
        env.vtysh("N", "configure terminal", "router bgp %d" % N_AS,
                  "address-family ipv4 unicast", "no network %s" % gone, "network %s" % back)

        def r_has_new_table():
            out = observe(env.vtysh("R", "show bgp ipv4 unicast json"))
            try:
                routes = json.loads(out).get("routes", {})
            except ValueError:
                return False
            return sorted(routes) == sorted(present)

        wait_for("R's BGP table to be %s" % present, r_has_new_table, timeout=20)

    restart_check(env, 6, signal.SIGKILL, present, during_down=change_while_down,
                  expect={gone: ("withdraw", "resync"), back: ("announce", None)})

    # ---------------------------------------------------------------- 4
    step("7. shut the BGP session on the neighbour (neighbor %s shutdown)" % R_ADDR)
    hist_before = http.get_all("/api/v1/history", "events", router=R_NAME)
    env.vtysh("N", "configure terminal", "router bgp %d" % N_AS,
              "neighbor %s shutdown" % R_ADDR)

    def peer_down():
        doc = observe(http.get("/api/v1/peers"))
        ps = [p for p in doc.get("peers", []) if p.get("address") == N_ADDR]
        return ps and ps[0].get("state") == "down"

    wait_for("peer %s state down in /api/v1/peers" % N_ADDR, peer_down, timeout=20)

    def rib_peer_empty():
        return observe(http.get_all("/api/v1/rib", "routes", router=R_NAME, peer=N_ADDR)) == []

    wait_for("/api/v1/rib?router=%s&peer=%s empty" % (R_NAME, N_ADDR), rib_peer_empty,
             timeout=10)

    def peer_down_withdraws():
        ev = observe(http.get_all("/api/v1/history", "events", router=R_NAME))
        new = ev[len(hist_before):]
        got = {(e.get("view"), e.get("prefix")) for e in new
               if e.get("action") == "withdraw" and e.get("reason") == "peer-down"}
        return all((v, p) in got for v in VIEWS for p in present)

    wait_for("withdraw events with reason peer-down for %s in both views" % ", ".join(present),
             peer_down_withdraws, timeout=10)
    wait_settled(env)
    ev = http.get_all("/api/v1/history", "events", router=R_NAME)
    require(ev[:len(hist_before)] == hist_before,
            "history before the shutdown changed (events must be append-only/chronological)",
            {"before": hist_before, "now": ev[:len(hist_before)]})
    new = ev[len(hist_before):]
    log("history events after the shutdown:\n" + jdump(new))
    for v in VIEWS:
        for p in present:
            hits = [e for e in new if e.get("view") == v and e.get("prefix") == p]
            require(len(hits) == 1 and hits[0].get("action") == "withdraw"
                    and hits[0].get("reason") == "peer-down"
                    and hits[0].get("peer") == N_ADDR,
                    "expected exactly one peer-down withdraw for %s %s (note: FRR 8.4 sends "
                    "the Peer Down message twice; the second must not add events)" % (v, p),
                    new)
    stray = [e for e in new if e.get("prefix") not in present]
    require(not stray, "prefixes that were not in the RIB must not get peer-down withdraws",
            stray)

    # ---------------------------------------------------------------- 5
    step("8. re-enable the session: peer up, routes back")
    env.vtysh("N", "configure terminal", "router bgp %d" % N_AS,
              "no neighbor %s shutdown" % R_ADDR)
    wait_for("peer %s state up again" % N_ADDR, peer_up, timeout=30)

    def routes_back():
        rs = observe(http.get_all("/api/v1/rib", "routes", router=R_NAME, peer=N_ADDR))
        have = {(r.get("view"), r.get("prefix")) for r in rs}
        return all((v, p) in have for v in VIEWS for p in present)

    wait_for("%s back in both views" % ", ".join(present), routes_back, timeout=20)
    for p in present:
        ev = http.get_all("/api/v1/history", "events", prefix=p)
        for v in VIEWS:
            last = [e for e in ev if e.get("view") == v][-1:]
            require(last and last[0].get("action") == "announce",
                    "history for %s %s should end with an announce after the session "
                    "came back" % (v, p), ev)


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
        if not in_clients:
            continue
        f = line.split()
        if len(f) >= 2 and ":" in f[0] and not f[0].startswith("-"):
            t = f[1]
            try:
                if t.count(":") == 2:          # HH:MM:SS
                    h, m, sec = (int(x) for x in t.split(":"))
                    ups.append(h * 3600 + m * 60 + sec)
                else:                          # e.g. 1d02h03m: long enough
                    ups.append(10 ** 6)
            except ValueError:
                pass
    return ups


def rib_of(http):
    """{(view, prefix): fingerprint} of every route of router R1 / peer N."""
    return {(r.get("view"), r.get("prefix")): route_fingerprint(r)
            for r in http.get_all("/api/v1/rib", "routes", router=R_NAME, peer=N_ADDR)}


def restart_check(env, n, sig, present, during_down=None, expect=None):
    """Stop the collector with `sig`, optionally change routes while it is down,
    restart it on the same database and check the history/RIB afterwards.

    expect: {prefix: (action, reason)} -- exactly one new event per view for
    each of these prefixes (reason None = not checked); no other prefix may
    get new events."""
    http = env.http
    expect = expect or {}
    signame = signal.Signals(sig).name
    what = "routes change while it is down" if during_down else "the router stays up"
    step("%d. restart the collector with %s; %s" % (n, signame, what))
    st0 = wait_settled(env, extra=1.0)
    rows0 = st0.get("history_rows")
    require(isinstance(rows0, int), "/api/v1/status: history_rows missing", st0)
    hist0 = http.get_all("/api/v1/history", "events")
    rib0 = rib_of(http)
    log("before: status=%s" % json.dumps(st0, sort_keys=True))

    p = env.collector
    os.kill(p.pid, sig)
    try:
        rc = p.wait(15)
    except subprocess.TimeoutExpired:
        raise TestFailure("collector did not exit within 15s of %s" % signame)
    env.stop_proc(p)
    log("collector (pid %d) exited with status %s" % (p.pid, rc))
    if sig == signal.SIGTERM:
        require(rc == 0, "collector should exit with status 0 on SIGTERM, got %s" % rc)
    if during_down:
        during_down()
    t_restart = time.monotonic()
    env.start_collector()

    def frr_reconnected():
        # FRR's own view: a BMP client whose uptime began after the restart.
        up = frr_bmp_uptimes(observe(env.vtysh("R", "show bmp")))
        return any(u <= time.monotonic() - t_restart + 1 for u in up)

    def reconnected():
        doc = observe(http.get("/api/v1/routers"))
        rs = [r for r in doc.get("routers", []) if r.get("name") == R_NAME]
        return rs and rs[0].get("connected") is True

    def peer_up():
        doc = observe(http.get("/api/v1/peers"))
        ps = [p for p in doc.get("peers", []) if p.get("address") == N_ADDR]
        return ps and ps[0].get("state") == "up"

    wait_for("FRR (R) shows a new BMP session in `show bmp`", frr_reconnected, timeout=20)
    wait_for("router %s connected again" % R_NAME, reconnected, timeout=20)
    log("router reconnected %.1fs after the collector restart" % (time.monotonic() - t_restart))
    wait_for("peer %s up" % N_ADDR, peer_up, timeout=10)

    want = {(v, p) for v in VIEWS for p in present}

    def rib_as_expected():
        return set(observe(rib_of(http))) == want

    wait_for("RIB of %s/%s to hold exactly %s in both views" % (R_NAME, N_ADDR, present),
             rib_as_expected, timeout=20)
    st1 = wait_settled(env, extra=4.0)   # re-dump + End-of-RIB + commit
    rib1 = rib_of(http)
    for k, fp in rib1.items():
        if k[1] not in expect:
            require(rib0.get(k) == fp, "route %s %s differs after the restart" % k,
                    {"before": rib0.get(k), "after": fp})

    hist1 = http.get_all("/api/v1/history", "events")
    if hist1[:len(hist0)] != hist0:
        raise TestFailure(
            "history before the restart was altered by the restart\nbefore:\n%s\nafter:\n%s"
            % (jdump(hist0), jdump(hist1)))
    new = hist1[len(hist0):]
    if new:
        log("new history events after the restart:\n" + jdump(new))
    unexpected = [e for e in new if e.get("prefix") not in expect]
    require(not unexpected, "the re-dump of unchanged routes after a %s restart wrote new "
            "history events" % signame, unexpected)
    for prefix, (action, reason) in expect.items():
        for v in VIEWS:
            hits = [e for e in new if e.get("prefix") == prefix and e.get("view") == v]
            ok = len(hits) == 1 and hits[0].get("action") == action and \
                hits[0].get("peer") == N_ADDR and (reason is None or hits[0].get("reason") == reason)
            require(ok, "expected exactly one %s event%s for %s %s after the restart"
                    % (action, " with reason %s" % reason if reason else "", v, prefix), new)
    rows1 = st1.get("history_rows")
    require(rows1 == rows0 + len(new),
            "history_rows went from %s to %s across the restart, but /api/v1/history shows "
            "%d new events" % (rows0, rows1, len(new)), st1)
    if expect:
        log("ok: exactly the expected events %s, nothing for unchanged routes"
            % {k: v[0] for k, v in expect.items()})
    else:
        log("ok: no new history rows (history_rows=%s), RIB unchanged (%d routes)"
            % (rows1, len(rib1)))


# --------------------------------------------------------------------------

def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    keep = "--keep" in argv[1:]
    if len(args) != 1:
        print("usage: %s PATH/TO/pathwatch [--keep]" % argv[0], file=sys.stderr)
        return 2
    collector = os.path.abspath(args[0])
    strict = os.environ.get("PATHWATCH_REQUIRE_INTEGRATION") == "1"

    def skip(why):
        print("SKIP: " + why, flush=True)
        if strict:
            print("FAIL: PATHWATCH_REQUIRE_INTEGRATION=1, so a skip counts as a failure")
            return 1
        return SKIP

    if not (os.path.isfile(collector) and os.access(collector, os.X_OK)):
        print("FAIL: collector binary %s does not exist or is not executable" % collector)
        return 1
    for tool, what in ((BGPD, "FRR bgpd (apt-get install frr)"),
                       (VTYSH, "FRR vtysh (apt-get install frr)")):
        if not os.access(tool, os.X_OK):
            return skip("%s not found at %s" % (what, tool))
    if not shutil.which("ip"):
        return skip("iproute2 `ip` not found")
    if os.geteuid() != 0:
        return skip("needs root (CAP_NET_ADMIN/CAP_SYS_ADMIN) to create network namespaces")
    log("using %s, %s, collector %s" % (BGPD, VTYSH, collector))

    env = None
    status = 1

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)

    signal.signal(signal.SIGINT, on_signal)   # also when started with SIGINT ignored
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    def on_alarm(signum, frame):
        raise TestFailure("hard deadline of %ds exceeded (something hung)" % (TEST_DEADLINE + 30))

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(TEST_DEADLINE) + 30)
    try:
        env = Env(collector, keep=keep)
        log("temp dir %s" % env.tmp)
        test(env)
        print("", flush=True)
        log("PASS: all FRR/BMP integration checks passed")
        print("1 passed, 0 failed", flush=True)
        status = 0
    except Skip as e:
        status = skip(str(e))
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
        import traceback
        traceback.print_exc()
        if env:
            env.diagnostics()
        print("0 passed, 1 failed", flush=True)
        status = 1
    finally:
        signal.alarm(0)
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        if env:
            env.cleanup()
            log("cleaned up (processes, namespaces%s)"
                % ("" if keep else ", temp dir"))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
