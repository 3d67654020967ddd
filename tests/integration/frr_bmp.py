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
import signal
import sys
import time

import nslab
from nslab import (BGPD, VTYSH, TestFailure, flat_asns, frr_bmp_uptimes, jdump, log,
                   norm_communities, observe, require, route_key, step, tail, wait_for,
                   wait_settled)

TEST_DEADLINE = 240.0  # seconds, whole test
nslab.configure(deadline=TEST_DEADLINE)

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


# --------------------------------------------------------------------------
# Environment: namespaces, processes, temp dir, cleanup (see nslab.py)
# --------------------------------------------------------------------------

class Env(nslab.TwoRouterLab):
    def __init__(self, collector, keep=False):
        super().__init__("pwt", collector, keep, bmp_port=BMP_PORT, http_port=HTTP_PORT)

    def diagnostics(self):
        super().diagnostics()
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
    env.setup_netns(R_ADDR, N_ADDR)
    env.start_collector()
    env.start_bgpd("N", n_config())
    t_router = time.monotonic()
    env.start_bgpd("R", r_config())

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

    rc = env.kill_collector(sig)
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
    return nslab.run_main(argv, ((BGPD, "FRR bgpd (apt-get install frr)"),
                                 (VTYSH, "FRR vtysh (apt-get install frr)")),
                          lambda collector: "using %s, %s, collector %s" % (BGPD, VTYSH, collector),
                          Env, test, "all FRR/BMP integration checks passed",
                          TEST_DEADLINE + 30)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
