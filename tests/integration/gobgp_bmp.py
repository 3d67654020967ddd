#!/usr/bin/env python3
"""Integration test: a real GoBGP router in a network namespace feeding pathwatch over BMP.

Usage:  tests/integration/gobgp_bmp.py PATH/TO/pathwatch [--keep]

Topology (all created by this script, names unique per run):

    netns pwg<pid>-N                          netns pwg<pid>-R
    gobgpd AS 65002        10.99.0.1/30  <-veth->  10.99.0.2/30   gobgpd AS 65001
    (router-id 10.99.0.1)  fd00:99::1/64           fd00:99::2/64  (router-id 10.99.0.2)
    announces 10.100.{1,2,3}.0/24 and              | BMP -> 127.0.0.1:11019, policy "all"
    2001:db8:100::/48 (next hop fd00:99::1),       pathwatch (BMP 127.0.0.1:11019,
    community 65002:100, over one IPv4 session               HTTP 127.0.0.1:18080)
    R's import policy: MED 50 + community 65001:200 (pre-policy and post-policy differ)

GoBGP's BMP "all" policy gives pre-policy and post-policy Adj-RIB-In (peer
type 0) and the Loc-RIB (peer type 3, peer address 0.0.0.0, never announced
with a Peer Up). The collector runs inside R, so the HTTP API is only
reachable there; a small helper process started with `ip netns exec R`
performs the HTTP requests. Routes are changed with the `gobgp` CLI on N.

Exit status: 0 = all checks passed, 1 = a check failed / error,
77 = skipped (no privileges for network namespaces or GoBGP missing; set
PATHWATCH_REQUIRE_INTEGRATION=1 to turn a skip into a failure).
Python 3 standard library only.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import nslab
from nslab import (TestFailure, flat_asns, jdump, log, norm_communities, observe, require,
                   route_key, step, tail, wait_for, wait_settled)

TEST_DEADLINE = 240.0  # seconds, whole test
nslab.configure(deadline=TEST_DEADLINE)

GOBGPD = os.environ.get("GOBGPD", shutil.which("gobgpd") or "/usr/bin/gobgpd")
GOBGP = os.environ.get("GOBGP", shutil.which("gobgp") or "/usr/bin/gobgp")
BMP_PORT = 11019
HTTP_PORT = 18080
API_PORT = 50051          # gobgpd gRPC API, 127.0.0.1 inside each namespace
N_ADDR = "10.99.0.1"
R_ADDR = "10.99.0.2"
N_ADDR6 = "fd00:99::1"
R_ADDR6 = "fd00:99::2"
N_AS = 65002
R_AS = 65001
R_NAME = "GoBGP"          # GoBGP's default BMP sysName (sys-name not configured)
LOC_RIB_PEER = "0.0.0.0"  # GoBGP's Loc-RIB peer header: address 0.0.0.0, AS = own AS
PREFIX6 = "2001:db8:100::/48"
PREFIXES = ["10.100.1.0/24", "10.100.2.0/24", "10.100.3.0/24", PREFIX6]
WITHDRAWN = "10.100.3.0/24"          # step 3
GONE_WHILE_DOWN = "10.100.2.0/24"    # step 5: withdrawn while the collector is down
VIEWS = ["pre-policy", "post-policy", "loc-rib"]
N_COMMUNITY = "65002:100"   # set by N on its routes -> in every view
R_COMMUNITY = "65001:200"   # added by R's import policy -> post-policy and loc-rib only
R_MED = 50                  # set by R's import policy -> post-policy and loc-rib only
RESYNC_TIMEOUT = 8          # collector resync_timeout (s); GoBGP sends no Loc-RIB End-of-RIB
# GoBGP statistics-timeout (s); 15 is GoBGP's minimum, 0 = leave it out (GoBGP's
# default: no statistics) -- then GoBGP never notices the collector restart by
# itself and step 4 fails after RECONNECT_TIMEOUT (see bmp_config()).
STATS_TIMEOUT = int(os.environ.get("GOBGP_BMP_STATISTICS_TIMEOUT", "15"))
# s to wait for GoBGP to reconnect after a collector restart (needs <= 2 x STATS_TIMEOUT)
RECONNECT_TIMEOUT = 2 * STATS_TIMEOUT + 15 if STATS_TIMEOUT else 60


def peer_of(view):
    """The peer address under which a route of `view` appears."""
    return LOC_RIB_PEER if view == "loc-rib" else N_ADDR


# --------------------------------------------------------------------------
# Environment: namespaces, processes, temp dir, cleanup (see nslab.py)
# --------------------------------------------------------------------------

class Env(nslab.TwoRouterLab):
    def __init__(self, collector, keep=False):
        super().__init__("pwg", collector, keep, bmp_port=BMP_PORT, http_port=HTTP_PORT)
        self.collector_conf = os.path.join(self.tmp, "pathwatch.yaml")
        self.gobgpd = {}

    def gobgp(self, router, *args, check=True, as_json=False, timeout=10):
        """Run the gobgp CLI against router R or N (inside its namespace)."""
        argv = ["ip", "netns", "exec", self.ns(router), GOBGP,
                "-u", "127.0.0.1", "-p", str(API_PORT)]
        if as_json:
            argv.append("-j")
        argv += list(args)
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=timeout)
        if r.returncode != 0 or (check and r.stderr.strip()):
            if check:
                raise TestFailure("gobgp on %s failed (rc=%d): %s\n%s%s"
                                  % (router, r.returncode, " ".join(args), r.stdout, r.stderr))
            return None
        if as_json:
            try:
                return json.loads(r.stdout) if r.stdout.strip() else None
            except ValueError:
                raise TestFailure("gobgp on %s: %s: invalid JSON:\n%s"
                                  % (router, " ".join(args), r.stdout[:3000]))
        return r.stdout

    def start_gobgpd(self, router, config):
        ns = self.ns(router)
        d, conf = self.router_dir(router, "gobgpd.toml", config)
        # -d (dry run) rejects unknown keys and bad values (unlike bgpd -C).
        r = self.run([GOBGPD, "-f", conf, "-t", "toml", "-d"], check=False)
        if r.returncode != 0:
            raise TestFailure("gobgpd rejected config for %s:\n%s\n--- config ---\n%s"
                              % (router, r.stdout, config))
        logpath = os.path.join(d, "gobgpd.log")
        out = open(logpath, "w")
        p = self.spawn(
            ["ip", "netns", "exec", ns, GOBGPD, "-f", conf, "-t", "toml",
             "--api-hosts", "127.0.0.1:%d" % API_PORT,
             "--pprof-disable",
             "-p",                      # plain-text log lines
             "-l", "debug"],            # BMP connect/write messages are debug level
            name="gobgpd-" + router,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        self.gobgpd[router] = p

        def api_ready():
            if p.poll() is not None:
                raise TestFailure("gobgpd %s exited with status %s:\n%s"
                                  % (router, p.returncode, tail(logpath)))
            return self.gobgp(router, "global", check=False) is not None

        wait_for("gobgpd %s gRPC API" % router, api_ready, timeout=15, interval=0.2)
        log("gobgpd %s started (pid %d) in %s" % (router, p.pid, ns))
        return p

    def start_collector(self):
        with open(self.collector_conf, "w") as f:
            f.write("# written by gobgp_bmp.py\ncollector:\n  resync_timeout: %d\n"
                    % RESYNC_TIMEOUT)
        super().start_collector("--config", self.collector_conf)

    def diagnostics(self):
        super().diagnostics()
        for router in ("R", "N"):
            print("--- gobgpd %s log (tail, BMP/peer lines first)" % router)
            path = os.path.join(self.tmp, router, "gobgpd.log")
            print(grep_tail(path, ("bmp", "BMP", "Peer", "peer", "fatal", "error"), 20))
            print("--- (last lines)")
            print(tail(path, 10))
        for router in ("R", "N"):
            if router not in self.gobgpd or self.gobgpd[router].poll() is not None:
                continue
            for args in (("neighbor",), ("bmp",), ("global", "rib", "-a", "ipv4"),
                         ("global", "rib", "-a", "ipv6")):
                try:
                    out = self.gobgp(router, *args, check=False, timeout=5)
                    print("--- gobgp %s: %s\n%s" % (router, " ".join(args), out))
                except Exception as e:
                    print("(gobgp %s %s failed: %s)" % (router, " ".join(args), e))
        sys.stdout.flush()


def grep_tail(path, words, n=20):
    try:
        with open(path, "r", errors="replace") as f:
            lines = [l for l in f if any(w in l for w in words)]
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    return "".join(lines[-n:]).rstrip("\n")


# --------------------------------------------------------------------------
# GoBGP configuration
# --------------------------------------------------------------------------

def neighbor_config(addr, asn):
    # Both AFIs over the one IPv4 session. Short timers so that session
    # changes show quickly.
    return """\
[[neighbors]]
  [neighbors.config]
    neighbor-address = "{addr}"
    peer-as = {asn}
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
""".format(addr=addr, asn=asn)


def bmp_config():
    # statistics-timeout: GoBGP 3.10 never reads from the BMP socket, so it only
    # notices that the collector went away when a write fails, and the first
    # write after the collector died still "succeeds" (it only draws the RST).
    # With no statistics (the default, 0) and no route changes it keeps the
    # dead session "Up" for ever and never reconnects. A statistics report
    # every 15 s (the minimum GoBGP accepts) bounds that to about 30 s.
    stats = "    statistics-timeout = %d\n" % STATS_TIMEOUT if STATS_TIMEOUT else ""
    return """\
[[bmp-servers]]
  [bmp-servers.config]
    address = "127.0.0.1"
    port = {bmp}
    route-monitoring-policy = "all"
{stats}""".format(bmp=BMP_PORT, stats=stats)


def r_config():
    return """\
[global.config]
  as = {ras}
  router-id = "{raddr}"
[global.apply-policy.config]
  import-policy-list = ["pw-in"]
  default-import-policy = "accept-route"

[[policy-definitions]]
  name = "pw-in"
  [[policy-definitions.statements]]
    name = "pw-in-10"
    [policy-definitions.statements.actions]
      route-disposition = "accept-route"
      [policy-definitions.statements.actions.bgp-actions]
        set-med = "{med}"
        [policy-definitions.statements.actions.bgp-actions.set-community]
          options = "add"
          [policy-definitions.statements.actions.bgp-actions.set-community.set-community-method]
            communities-list = ["{rc}"]

{nbr}
{bmp}""".format(ras=R_AS, raddr=R_ADDR, med=R_MED, rc=R_COMMUNITY,
                nbr=neighbor_config(N_ADDR, N_AS), bmp=bmp_config())


def n_config():
    return """\
[global.config]
  as = {nas}
  router-id = "{naddr}"

{nbr}""".format(nas=N_AS, naddr=N_ADDR, nbr=neighbor_config(R_ADDR, R_AS))


def n_announce(env, prefix):
    if ":" in prefix:
        # Without an explicit next hop GoBGP sends IPv6 routes over an IPv4
        # session with the IPv4-mapped next hop ::ffff:10.99.0.1.
        env.gobgp("N", "global", "rib", "add", "-a", "ipv6", prefix, "nexthop", N_ADDR6,
                  "origin", "igp", "community", N_COMMUNITY)
    else:
        env.gobgp("N", "global", "rib", "add", "-a", "ipv4", prefix,
                  "origin", "igp", "community", N_COMMUNITY)


def n_withdraw(env, prefix):
    env.gobgp("N", "global", "rib", "del", "-a", "ipv6" if ":" in prefix else "ipv4", prefix)


def r_table(env):
    """Prefixes in R's global RIB (both families), from `gobgp -j global rib`."""
    out = set()
    for fam in ("ipv4", "ipv6"):
        doc = env.gobgp("R", "global", "rib", "-a", fam, as_json=True)
        if isinstance(doc, dict):
            out.update(doc.keys())
    return out


def gobgp_bmp_sessions(env):
    """[(target, state, uptime seconds or None)] from `gobgp bmp` on R."""
    out = env.gobgp("R", "bmp", check=False) or ""
    res = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0].endswith(":%d" % BMP_PORT):
            up = None
            if len(f) >= 3:
                m = re.match(r"^(\d+):(\d\d):(\d\d)$", f[2])
                if m:
                    up = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
                else:
                    up = 10 ** 6   # e.g. "1d 02:03:04": long enough
            res.append((f[0], f[1], up))
    return res


# --------------------------------------------------------------------------
# Helpers for assertions
# --------------------------------------------------------------------------

def route_fingerprint(r):
    return (route_key(r), tuple(flat_asns(r.get("as_path"))), r.get("next_hop"),
            r.get("med"), r.get("local_pref"), r.get("origin"),
            tuple(sorted(norm_communities(r.get("communities")))))


def rib_of(http):
    """{(view, prefix): fingerprint} of every route of router R in our three views."""
    out = {}
    for r in http.get_all("/api/v1/rib", "routes", router=R_NAME):
        if r.get("view") in VIEWS:
            out[(r.get("view"), r.get("prefix"))] = route_fingerprint(r)
    return out


def short_events(evs):
    return [(e.get("view"), e.get("peer"), e.get("prefix"), e.get("action"), e.get("reason"))
            for e in evs]


def router_doc(http):
    doc = observe(http.get("/api/v1/routers"))
    rs = [r for r in doc.get("routers", []) if r.get("name") == R_NAME]
    return rs[0] if rs else None


def peer_doc(http, address, peer_type=None):
    doc = observe(http.get("/api/v1/peers", router=R_NAME))
    ps = [p for p in doc.get("peers", []) if p.get("address") == address
          and (peer_type is None or p.get("peer_type") == peer_type)]
    return ps[0] if ps else None


# --------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------

def test(env):
    http = env.http
    facts = {}

    step("1. setup: namespaces, collector, gobgpd N (announcing) and gobgpd R (BMP)")
    env.setup_netns(R_ADDR, N_ADDR, R_ADDR6, N_ADDR6)
    env.start_collector()
    env.start_gobgpd("N", n_config())
    for p in PREFIXES:
        n_announce(env, p)
    log("N announces %s" % ", ".join(PREFIXES))
    t_router = time.monotonic()
    env.start_gobgpd("R", r_config())

    # ---------------------------------------------------------------- 2
    step("2. router connects: routers / peers / RIB in pre-policy, post-policy, loc-rib")

    def router_connected():
        r = router_doc(http)
        return r and r.get("connected") is True

    wait_for("router %s (GoBGP's BMP sysName) listed and connected in /api/v1/routers"
             % R_NAME, router_connected, timeout=20)
    facts["bmp_connect_after_start"] = time.monotonic() - t_router
    r1 = router_doc(http)
    require(r1.get("address") == "127.0.0.1",
            "router %s: expected address 127.0.0.1" % R_NAME, r1)
    log("router: sys_name=%r sys_descr=%r" % (r1.get("sys_name"), r1.get("sys_descr")))

    def peer_up():
        p = peer_doc(http, N_ADDR)
        return p and p.get("state") == "up" and p.get("asn") == N_AS \
            and p.get("router") == R_NAME

    wait_for("peer %s AS %d state up (router %s) in /api/v1/peers" % (N_ADDR, N_AS, R_NAME),
             peer_up, timeout=30)
    facts["bgp_up_after_start"] = time.monotonic() - t_router

    want_all = {(v, p) for v in VIEWS for p in PREFIXES}

    def rib_full():
        return set(observe(rib_of(http))) >= want_all

    wait_for("all %d prefixes in the pre-policy, post-policy and loc-rib views of "
             "/api/v1/rib?router=%s" % (len(PREFIXES), R_NAME), rib_full, timeout=20)
    for v in VIEWS:
        rs = http.get_all("/api/v1/rib", "routes", router=R_NAME, view=v)
        got = sorted(r.get("prefix") for r in rs)
        require(got == sorted(PREFIXES),
                "/api/v1/rib?router=%s&view=%s should hold exactly %s" % (R_NAME, v, PREFIXES),
                rs)
    routes = http.get_all("/api/v1/rib", "routes", router=R_NAME)
    for r in routes:
        v, pfx = r.get("view"), r.get("prefix")
        where = "route %s %s" % (v, pfx)
        require(v in VIEWS, where + ": unexpected view", r)
        require(r.get("router") == R_NAME, where + ": wrong router", r)
        require(r.get("peer") == peer_of(v),
                where + ": peer should be %s (GoBGP's %s peer header)"
                % (peer_of(v), "Loc-RIB" if v == "loc-rib" else "Adj-RIB-In"), r)
        require(r.get("path_id") in (0, None), where + ": GoBGP sends no path ids", r)
        require(flat_asns(r.get("as_path")) == [N_AS], where + ": as_path should be [%d]"
                % N_AS, r)
        want_nh = N_ADDR6 if ":" in pfx else N_ADDR
        require(r.get("next_hop") == want_nh, where + ": next_hop should be %s" % want_nh, r)
        require(r.get("origin") == "igp", where + ": origin should be igp", r)
        require(r.get("stale") is False, where + ": should not be stale", r)
        comms = norm_communities(r.get("communities"))
        require(N_COMMUNITY in comms, where + ": communities lack %s" % N_COMMUNITY, r)
        if v == "pre-policy":
            require(r.get("peer_asn") == N_AS, where + ": peer_asn should be %d" % N_AS, r)
            require(R_COMMUNITY not in comms and r.get("med") != R_MED,
                    where + ": pre-policy must not show R's import policy (MED %d, "
                    "community %s)" % (R_MED, R_COMMUNITY), r)
        else:
            require(R_COMMUNITY in comms and r.get("med") == R_MED,
                    where + ": R's import policy sets MED %d and adds %s; the %s view must "
                    "show them" % (R_MED, R_COMMUNITY, v), r)
    log("ok: %d routes; attributes as expected (pre-policy without, post-policy and loc-rib "
        "with R's import policy); IPv6 %s next hop %s" % (len(routes), PREFIX6, N_ADDR6))

    lp = peer_doc(http, LOC_RIB_PEER)
    require(lp is not None, "/api/v1/peers: no entry for the Loc-RIB (peer %s) although "
            "loc-rib routes exist" % LOC_RIB_PEER, http.get("/api/v1/peers"))
    require(lp.get("peer_type") == "loc-rib", "Loc-RIB peer: peer_type should be loc-rib", lp)
    log("Loc-RIB pseudo-peer as listed by /api/v1/peers: %s"
        % json.dumps({k: lp.get(k) for k in ("address", "asn", "state", "peer_type",
                                              "bgp_id", "prefixes")}, sort_keys=True))

    def announced():
        ev = observe(http.get_all("/api/v1/history", "events", router=R_NAME))
        have = {(e.get("view"), e.get("prefix")) for e in ev if e.get("action") == "announce"}
        return have >= want_all

    wait_for("history has an announce event per prefix and view", announced, timeout=10)
    ev = http.get_all("/api/v1/history", "events", router=R_NAME)
    dup = [k for k in set(short_events(ev)) if short_events(ev).count(k) > 1]
    require(not dup, "duplicate history events after the initial dump", dup)

    if STATS_TIMEOUT:
        def stats_seen():
            r = router_doc(http)
            p = peer_doc(http, N_ADDR)
            return r and (r.get("counters") or {}).get("statistics", 0) >= 1 \
                and p and p.get("stats")

        wait_for("a BMP Statistics Report (GoBGP sends one per established peer every %d s) "
                 "counted in /api/v1/routers and shown in /api/v1/peers" % STATS_TIMEOUT,
                 stats_seen, timeout=STATS_TIMEOUT + 5, interval=0.5)
        log("peer %s stats: %s" % (N_ADDR, json.dumps(peer_doc(http, N_ADDR).get("stats"),
                                                      sort_keys=True)))

    # ---------------------------------------------------------------- 3
    step("3. withdraw %s on the neighbour" % WITHDRAWN)
    n_withdraw(env, WITHDRAWN)

    def withdrawn():
        ev = observe(http.get_all("/api/v1/history", "events", prefix=WITHDRAWN,
                                  match="exact"))
        last = {}
        for e in ev:
            last[e.get("view")] = e
        return all(v in last and last[v].get("action") == "withdraw" for v in VIEWS)

    wait_for("history?prefix=%s ends with a withdraw in %s" % (WITHDRAWN, ", ".join(VIEWS)),
             withdrawn, timeout=15)
    ev = http.get_all("/api/v1/history", "events", prefix=WITHDRAWN, match="exact")
    for e in ev:
        require(e.get("prefix") == WITHDRAWN,
                "history?prefix=%s returned another prefix" % WITHDRAWN, ev)
    wd = [e for e in ev if e.get("action") == "withdraw"]
    require(sorted(e.get("view") for e in wd) == sorted(VIEWS),
            "expected exactly one withdraw per view for %s" % WITHDRAWN, ev)
    for e in wd:
        require(e.get("reason") is None and e.get("peer") == peer_of(e.get("view")),
                "withdraw caused by an UPDATE must have reason null (peer %s)"
                % peer_of(e.get("view")), e)
    times = [e.get("time") for e in ev]
    require(times == sorted(times, key=lambda t: (t is None, t)),
            "history events are not chronological", ev)

    def rib_without():
        rs = observe(http.get_all("/api/v1/rib", "routes", router=R_NAME, prefix=WITHDRAWN,
                                  match="exact"))
        return rs == []

    wait_for("%s gone from /api/v1/rib (all views)" % WITHDRAWN, rib_without, timeout=10)
    present = [p for p in PREFIXES if p != WITHDRAWN]
    have = set(rib_of(http))
    require(have == {(v, p) for v in VIEWS for p in present},
            "the other prefixes must still be in the RIB, in all views", sorted(have))

    # ---------------------------------------------------------------- 4, 5
    restart_check(env, 4, present, facts)

    gone, back = GONE_WHILE_DOWN, WITHDRAWN
    present = [p for p in PREFIXES if p != gone]

    def change_while_down():
        log("while the collector is down: N withdraws %s and re-announces %s" % (gone, back))
        n_withdraw(env, gone)
        n_announce(env, back)

        def r_has_new_table():
            return observe(sorted(r_table(env))) == sorted(present)

        wait_for("R's BGP table to be %s" % present, r_has_new_table, timeout=20)

    restart_check(env, 5, present, facts, during_down=change_while_down,
                  expect={gone: ("withdraw", "resync"), back: ("announce", None)})

    # ---------------------------------------------------------------- 6
    step("6. shut the BGP session on the neighbour (gobgp neighbor %s disable on N)" % R_ADDR)
    hist_before = http.get_all("/api/v1/history", "events", router=R_NAME)
    env.gobgp("N", "neighbor", R_ADDR, "disable")

    def peer_down():
        p = peer_doc(http, N_ADDR)
        return p and p.get("state") == "down"

    wait_for("peer %s state down in /api/v1/peers" % N_ADDR, peer_down, timeout=20)
    log("down_reason: %s" % json.dumps(peer_doc(http, N_ADDR).get("down_reason")))

    def rib_empty():
        return observe(http.get_all("/api/v1/rib", "routes", router=R_NAME)) == []

    wait_for("/api/v1/rib?router=%s empty (pre-policy, post-policy and loc-rib)" % R_NAME,
             rib_empty, timeout=10)

    def all_withdrawn():
        ev = observe(http.get_all("/api/v1/history", "events", router=R_NAME))
        new = ev[len(hist_before):]
        got = {(e.get("view"), e.get("prefix")) for e in new if e.get("action") == "withdraw"}
        return got >= {(v, p) for v in VIEWS for p in present}

    wait_for("withdraw events for %s in all views" % ", ".join(present), all_withdrawn,
             timeout=10)
    wait_settled(env, extra=2.0)
    ev = http.get_all("/api/v1/history", "events", router=R_NAME)
    require(ev[:len(hist_before)] == hist_before,
            "history before the shutdown changed (events must be append-only/chronological)",
            {"before": hist_before, "now": ev[:len(hist_before)]})
    new = ev[len(hist_before):]
    log("history events after the shutdown (view, peer, prefix, action, reason):\n"
        + "\n".join("  %s" % (x,) for x in short_events(new)))
    # GoBGP 3.10 on a session going down: first explicit post-policy withdraws
    # and Loc-RIB withdraws (best path lost), then the Peer Down message, which
    # withdraws the pre-policy routes (and whatever post-policy routes GoBGP did
    # not withdraw explicitly: its per-BMP-client "ribout" suppresses the
    # post-policy withdraw of a route that it only ever sent in a (re)connect
    # dump -- here 10.100.3.0/24, re-announced while the collector was down).
    want_reason = {"pre-policy": ("peer-down",), "post-policy": (None, "peer-down"),
                   "loc-rib": (None,)}
    for v in VIEWS:
        for p in present:
            hits = [e for e in new if e.get("view") == v and e.get("prefix") == p]
            ok = len(hits) == 1 and hits[0].get("action") == "withdraw" \
                and hits[0].get("reason") in want_reason[v] and hits[0].get("peer") == peer_of(v)
            require(ok, "expected exactly one withdraw with reason %s for %s %s (peer %s)"
                    % (" or ".join(json.dumps(x) for x in want_reason[v]), v, p, peer_of(v)),
                    hits or new)
    log("ok: exactly one withdraw per prefix and view; post-policy: explicit (reason null) "
        "for %s, by the Peer Down for %s"
        % (sorted(e.get("prefix") for e in new if e.get("view") == "post-policy"
                  and e.get("reason") is None),
           sorted(e.get("prefix") for e in new if e.get("view") == "post-policy"
                  and e.get("reason") == "peer-down")))
    stray = [e for e in new if e.get("prefix") not in present]
    require(not stray, "prefixes that were not in the RIB must not get withdraws", stray)

    # ---------------------------------------------------------------- 7
    step("7. re-enable the session: peer up, routes back in all views")
    t_en = time.monotonic()
    env.gobgp("N", "neighbor", R_ADDR, "enable")

    def peer_up_again():
        p = peer_doc(http, N_ADDR)
        return p and p.get("state") == "up"

    wait_for("peer %s state up again" % N_ADDR, peer_up_again, timeout=40)

    def routes_back():
        return set(observe(rib_of(http))) == {(v, p) for v in VIEWS for p in present}

    wait_for("%s back in all views" % ", ".join(present), routes_back, timeout=20)
    facts["session_back_after_enable"] = time.monotonic() - t_en
    for p in present:
        ev = http.get_all("/api/v1/history", "events", prefix=p, match="exact")
        for v in VIEWS:
            last = [e for e in ev if e.get("view") == v][-1:]
            require(last and last[0].get("action") == "announce",
                    "history for %s %s should end with an announce after the session "
                    "came back" % (v, p), ev)

    r1 = router_doc(http)
    log("router counters at the end: %s" % json.dumps(r1.get("counters"), sort_keys=True))
    print("", flush=True)
    log("GoBGP timings: " + ", ".join("%s=%.1fs" % (k, v) if isinstance(v, float)
                                      else "%s=%s" % (k, v) for k, v in facts.items()))


def restart_check(env, n, present, facts, during_down=None, expect=None):
    """SIGKILL the collector, optionally change routes while it is down,
    restart it on the same database, let GoBGP reconnect by itself and check
    the history/RIB afterwards (after the re-dump and the resync deadline).

    expect: {prefix: (action, reason)} -- exactly one new event per view for
    each of these prefixes (reason None = not checked); no other prefix may
    get new events."""
    http = env.http
    expect = expect or {}
    what = "routes change while it is down" if during_down else "the router stays up"
    step("%d. SIGKILL the collector and restart it on the same --db; %s" % (n, what))
    st0 = wait_settled(env, extra=1.0)
    rows0 = st0.get("history_rows")
    require(isinstance(rows0, int), "/api/v1/status: history_rows missing", st0)
    hist0 = http.get_all("/api/v1/history", "events")
    rib0 = rib_of(http)
    log("before: status=%s" % json.dumps(st0, sort_keys=True))

    t_kill = time.monotonic()
    env.kill_collector(signal.SIGKILL, how="killed, exit status")
    if during_down:
        during_down()
    log("GoBGP's view of its BMP session with the collector dead: %s"
        % gobgp_bmp_sessions(env))
    t_restart = time.monotonic()
    env.start_collector()

    def reconnected():
        r = router_doc(http)
        return r and r.get("connected") is True

    try:
        wait_for("router %s connected again (GoBGP reconnects by itself)" % R_NAME,
                 reconnected, timeout=RECONNECT_TIMEOUT, interval=0.2)
    except TestFailure as e:
        raise TestFailure("GoBGP did not reconnect within %ds of the collector restart "
                          "(%.0fs after the SIGKILL; statistics-timeout %s); `gobgp bmp` "
                          "on R says %s\n%s"
                          % (RECONNECT_TIMEOUT, time.monotonic() - t_kill,
                             STATS_TIMEOUT or "not set", gobgp_bmp_sessions(env), e))
    dt_restart = time.monotonic() - t_restart
    dt_kill = time.monotonic() - t_kill
    facts["reconnect_step%d" % n] = "%.1fs after restart (%.1fs after SIGKILL)" \
        % (dt_restart, dt_kill)
    t_connected = time.monotonic()
    log("GoBGP reconnected %.1fs after the collector restart, %.1fs after the SIGKILL"
        % (dt_restart, dt_kill))
    # Informational only: `gobgp bmp` compares whole-second up/down times, so a
    # session re-established within the second its predecessor failed is
    # shown as "Down" although it is up.
    log("`gobgp bmp` on R now says %s" % gobgp_bmp_sessions(env))

    def peer_up():
        p = peer_doc(http, N_ADDR)
        return p and p.get("state") == "up"

    wait_for("peer %s up" % N_ADDR, peer_up, timeout=10)

    want = {(v, p) for v in VIEWS for p in present}

    def rib_as_expected():
        return set(observe(rib_of(http))) == want

    wait_for("RIB of %s to hold exactly %s in %s" % (R_NAME, present, ", ".join(VIEWS)),
             rib_as_expected, timeout=RESYNC_TIMEOUT + 15)
    # GoBGP sends End-of-RIB for pre-policy and post-policy (per family) but
    # none for the Loc-RIB: only the collector's resync deadline ends the
    # Loc-RIB re-dump. Wait past it so that any resync withdraw is written.
    left = RESYNC_TIMEOUT + 2.0 - (time.monotonic() - t_connected)
    st1 = wait_settled(env, extra=max(left, 2.0))
    rib1 = rib_of(http)
    for k, fp in rib1.items():
        if k[1] not in expect:
            require(rib0.get(k) == fp, "route %s %s differs after the restart" % k,
                    {"before": rib0.get(k), "after": fp})

    stale = [r for r in http.get_all("/api/v1/rib", "routes", router=R_NAME)
             if r.get("stale") is not False]
    require(not stale, "routes still marked stale after the re-dump and the resync deadline",
            stale)

    hist1 = http.get_all("/api/v1/history", "events")
    if hist1[:len(hist0)] != hist0:
        raise TestFailure(
            "history before the restart was altered by the restart\nbefore:\n%s\nafter:\n%s"
            % (jdump(hist0), jdump(hist1)))
    new = hist1[len(hist0):]
    if new:
        log("new history events after the restart (view, peer, prefix, action, reason):\n"
            + "\n".join("  %s" % (x,) for x in short_events(new)))
    resync = [e for e in new if e.get("reason") == "resync"]
    if resync:
        log("rows with reason resync, by view: %s"
            % {v: sorted(e.get("prefix") for e in resync if e.get("view") == v)
               for v in VIEWS if any(e.get("view") == v for e in resync)})
    unexpected = [e for e in new if e.get("prefix") not in expect]
    require(not unexpected,
            "the re-dump of unchanged routes after a SIGKILL restart wrote new history "
            "events (GoBGP re-sent every route in every view; %d of them have reason resync: "
            "%s)" % (len(resync), sorted(set((e.get("view"), e.get("prefix")) for e in resync
                                               if e.get("prefix") not in expect))),
            unexpected)
    for prefix, (action, reason) in expect.items():
        for v in VIEWS:
            hits = [e for e in new if e.get("prefix") == prefix and e.get("view") == v]
            ok = len(hits) == 1 and hits[0].get("action") == action and \
                hits[0].get("peer") == peer_of(v) and \
                (reason is None or hits[0].get("reason") == reason)
            require(ok, "expected exactly one %s event%s for %s %s after the restart"
                    % (action, " with reason %s" % reason if reason else "", v, prefix), new)
    rows1 = st1.get("history_rows")
    require(rows1 == rows0 + len(new),
            "history_rows went from %s to %s across the restart, but /api/v1/history shows "
            "%d new events" % (rows0, rows1, len(new)), st1)
    if expect:
        log("ok: exactly the expected events %s in each view, nothing for unchanged routes; "
            "history_rows %s -> %s" % ({k: v[0] for k, v in expect.items()}, rows0, rows1))
    else:
        log("ok: no new history rows (history_rows=%s), RIB unchanged (%d routes)"
            % (rows1, len(rib1)))


# --------------------------------------------------------------------------

def main(argv):
    def describe(collector):
        ver = subprocess.run([GOBGPD, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True).stdout.strip()
        return "using %s (%s), %s, collector %s" % (GOBGPD, ver, GOBGP, collector)

    return nslab.run_main(argv, ((GOBGPD, "GoBGP gobgpd (apt-get install gobgpd)"),
                                 (GOBGP, "GoBGP CLI gobgp (apt-get install gobgpd)")),
                          describe, Env, test, "all GoBGP/BMP integration checks passed",
                          TEST_DEADLINE + 30)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
