#!/usr/bin/env python3
"""End-to-end tests of the collector on real captures, without namespaces:
captured router streams are replayed from files (pathwatch replay) or sent
over TCP to a running daemon exactly as the router sent them, and the HTTP
API is checked as a user would read it.

usage: api_replay.py PATHWATCH FIXTURE_DIR
"""
import json
import os
import socket
import urllib.error
import urllib.request
import struct
import subprocess
import sys
import threading
import time

import bmpwriter as bw
from pwtest import Daemon, Failure, check, read_sse, run_tests, wait_for

PW, FIX = sys.argv[1], sys.argv[2]


def fixture(name):
    return os.path.join(FIX, name)


def replay(db, name, router=None):
    cmd = [PW, "replay", fixture(name), "--db", db] + (["--router", router] if router else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    check(r.returncode == 0, f"replay {name} failed: {r.stderr[-500:]}")


def messages(name):
    """A capture's BMP messages."""
    return bw.split(open(fixture(name), "rb").read())


def send(daemon, chunks, keep_open=False):
    s = socket.create_connection(("127.0.0.1", daemon.bmp_port))
    for c in chunks:
        s.sendall(c)
    if keep_open:
        return s
    s.close()
    return None


def by_key(routes):
    return {(r["router"], r["peer"], r["view"], r["prefix"], r["path_id"]): r for r in routes}


# ---------------------------------------------------------------- tests

def test_reference_topology_api(tmp):
    db = os.path.join(tmp, "pw.db")
    for f in ("frr-steady-ce1.bmp", "frr-steady-ce2.bmp", "frr-steady-fw.bmp"):
        replay(db, f)
    d = Daemon(PW, db, tmp).start()
    try:
        st = d.settled()
        check(st["routers"] == 3 and st["peers"] >= 8, "status counts routers and peers", st)
        routers = {r["name"]: r for r in d.get("/api/v1/routers")["routers"]}
        check(set(routers) == {"CE1", "CE2", "FW"}, "routers named by sysName", routers)
        check(not any(r["connected"] for r in routers.values()), "replayed routers are not connected", routers)
        peers = d.get("/api/v1/peers", router="FW")["peers"]
        vpn = [p for p in peers if p["address"] in ("10.17.11.76", "10.17.11.77")]
        check(len(vpn) == 2 and all(p["asn"] == 65515 and p["state"] == "up" for p in vpn),
              "FW has both VPN peers up with AS 65515", peers)
        check(all(p["prefixes"]["pre-policy"] == 3 and p["prefixes"]["post-policy"] == 2 for p in vpn),
              "each VPN peer: hub, spoke and the echoed on-prem prefix pre-policy; 2 post-policy", vpn)

        # Azure hub prefix on the firewall: from both CEs (iBGP, lp 150) and both VPN peers
        rib = d.get("/api/v1/rib", router="FW", prefix="10.17.11.0/25", view="post-policy")["routes"]
        got = {r["peer"]: r for r in rib}
        check(set(got) == {"192.168.11.0", "192.168.11.2", "10.17.11.76", "10.17.11.77"},
              "hub prefix post-policy from 4 peers", rib)
        check(got["192.168.11.0"]["local_pref"] == 150 and got["192.168.11.0"]["as_path"] == [12076],
              "ER-learned route via CE1 carries local-pref 150 and AS path 12076", got["192.168.11.0"])
        vr = got["10.17.11.76"]
        check(vr["local_pref"] is None and vr["as_path"] == [65515] and vr["as_path_raw"] == [65020, 65515],
              "VPN route: FRR's own-AS prepend normalised, raw path kept", vr)
        for field in ("router", "peer", "peer_asn", "view", "prefix", "path_id", "as_path", "next_hop",
                      "local_pref", "med", "communities", "since"):
            check(field in vr, f"route has field {field}", vr)

        # match=longer / shorter are range look-ups
        longer = d.get("/api/v1/rib", router="FW", view="pre-policy", peer="10.17.11.76",
                       prefix="10.17.11.0/24", match="longer")["routes"]
        check(sorted(r["prefix"] for r in longer) == ["10.17.11.0/25", "10.17.11.128/26"],
              "longer-match of the /24 gives hub and spoke", longer)
        shorter = d.get("/api/v1/rib", router="FW", view="pre-policy", peer="10.17.11.76",
                        prefix="10.17.11.132/32", match="shorter")["routes"]
        check([r["prefix"] for r in shorter] == ["10.17.11.128/26"], "the spoke VM is covered by the /26", shorter)
        check(d.get("/api/v1/rib", prefix="10.99.0.0/16", match="longer")["routes"] == [],
              "no route under an unknown prefix")

        # pagination walks every route exactly once
        everything = d.get("/api/v1/rib", limit=1000)
        check(everything["next"] is None, "one page holds the small RIB", everything["next"])
        paged = d.all_routes(limit=3)
        check(len(paged) == len(everything["routes"]) == st["routes"],
              "limit=3 pages return the same routes as one page, and status counts them",
              [len(paged), len(everything["routes"]), st["routes"]])
        check(len(by_key(paged)) == len(paged), "no route repeated across pages")
        page = d.get("/api/v1/rib", limit=3)
        check(len(page["routes"]) == 3 and page["next"], "a page of 3 with a cursor", page)

        # AS path filters, on the path as shown (FRR's own-AS prepend removed)
        post = {(r["peer"], r["prefix"]): r for r in d.get("/api/v1/rib", router="FW", view="post-policy")["routes"]}

        def keys(**f):
            return {(r["peer"], r["prefix"]) for r in d.get("/api/v1/rib", router="FW", view="post-policy", limit=1000, **f)["routes"]}
        for pat, want in (("12076", lambda r: 12076 in r["as_path"]),
                          ("^65515$", lambda r: r["as_path"] == [65515]),
                          ("65515$", lambda r: r["as_path"][-1:] == [65515]),
                          ("^12076", lambda r: r["as_path"][:1] == [12076]),
                          ("65020 65515", lambda r: False)):  # only in as_path_raw: not matched
            expect = {k for k, r in post.items() if want(r)}
            check(keys(as_path=pat) == expect, f"as_path={pat!r} gives exactly the routes whose path matches",
                  [sorted(keys(as_path=pat)), sorted(expect)])
        check(keys(as_path="^65515$"), "the VPN routes match ^65515$ (raw path 65020 65515)")
    finally:
        d.stop()


def test_bad_parameters(tmp):
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp).start()
    try:
        for params, name in (({"view": "best"}, "view"), ({"prefix": "10.17.11.5/25"}, "prefix"),
                             ({"prefix": "nonsense"}, "prefix"), ({"limit": "0"}, "limit"),
                             ({"limit": "abc"}, "limit"), ({"match": "exact"}, "match"),
                             ({"prefix": "10.0.0.0/8", "match": "wider"}, "match"),
                             ({"cursor": "zz"}, "cursor"), ({"at": "yesterday"}, "at"),
                             ({"colour": "red"}, "colour")):
            code, body = d.get_status("/api/v1/rib", **params)
            check(code == 400 and body.get("parameter") == name and body.get("error"),
                  f"/api/v1/rib {params} is a 400 naming {name}", body)
        code, body = d.get_status("/api/v1/history", frm="1")
        check(code == 400 and body["parameter"] == "frm", "unknown history parameter rejected", body)
        code, body = d.get_status("/api/v1/history", **{"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"})
        check(code == 400, "from after to rejected", body)
        code, body = d.get_status("/api/v1/nothing")
        check(code == 404 and "error" in body, "unknown endpoint is a JSON 404", body)
        req = urllib.request.Request(f"http://127.0.0.1:{d.http_port}/api/v1/silences", method="POST",
                                     data=b'{"matchers": {"site": "x"}, "duration": "1h"}',
                                     headers={"Authorization": "Bearer anything"})
        try:
            urllib.request.urlopen(req, timeout=10)
            code = 200
        except urllib.error.HTTPError as e:
            code, body = e.code, json.loads(e.read())
        check(code == 403 and "token" in body["detail"], "without a configured token, write endpoints are refused", body)
        code, body = d.get_status("/api/v1/rib", limit="1000")
        check(code == 200 and body == {"routes": [], "next": None}, "limit 1000 accepted; empty RIB", body)
    finally:
        d.stop()


def events_for(d, prefix, view, peer=None):
    ev = d.all_events(prefix=prefix, **({"peer": peer} if peer else {}))
    return [e for e in ev if e["view"] == view]


def test_history_across_sessions_and_peer_down(tmp):
    # probe-frr-1: first BMP session; probe-frr-2: the router's reconnection
    # with its re-dump, then the neighbour goes down (Peer Down, twice)
    db = os.path.join(tmp, "pw.db")
    replay(db, "probe-frr-1.bmp")
    replay(db, "probe-frr-2.bmp")
    d = Daemon(PW, db, tmp).start()
    try:
        d.settled()
        check(d.get("/api/v1/rib", router="DUT-FRR")["routes"] == [], "peer down emptied the RIB")
        peer = d.get("/api/v1/peers", router="DUT-FRR")["peers"]
        check(len(peer) == 1 and peer[0]["state"] == "down" and peer[0]["down_reason"]["code"] == 4,
              "the neighbour is down with reason 4", peer)
        acts = [(e["action"], e["reason"], e["as_path"]) for e in events_for(d, "10.100.1.0/24", "pre-policy")]
        check(acts == [("announce", None, [65002]), ("change", None, [65002, 65010]),
                       ("change", None, [65002]), ("withdraw", "peer-down", [65002])],
              "10.100.1.0/24 pre-policy: announce, change, change on re-dump, withdraw at peer down", acts)
        v6 = [(e["action"], e["reason"]) for e in events_for(d, "2001:db8:100::/48", "post-policy")]
        check(v6 == [("announce", None), ("withdraw", "peer-down")],
              "IPv6 route: the unchanged re-dump wrote nothing; peer down withdrew it", v6)
        for e in d.all_events(router="DUT-FRR"):
            for f in ("time", "router_time", "router", "peer", "view", "prefix", "action", "reason"):
                check(f in e, f"history event has {f}", e)
        # the RIB as of a past moment: before the peer down, the routes were there
        ev = d.all_events(router="DUT-FRR")
        down = [e for e in ev if e["reason"] == "peer-down"][0]["id"]
        before = [e for e in ev if e["id"] < down][-1]["time"]
        past = d.get("/api/v1/rib", router="DUT-FRR", at=before, limit=100)["routes"]
        check({(r["view"], r["prefix"]) for r in past} >= {("pre-policy", "10.100.1.0/24"),
                                                            ("post-policy", "2001:db8:100::/48")},
              "rib?at= shows the routes that were live before the peer down", past)
        check(d.get("/api/v1/rib", router="DUT-FRR", at="2000-01-01T00:00:00Z")["routes"] == [],
              "rib?at= before any history is empty")
        newest = d.get("/api/v1/history", router="DUT-FRR", order="desc", limit=1)["events"]
        check(newest[0]["reason"] == "peer-down", "order=desc gives the newest first", newest)
        # a prefix's history (its routes' chains) is exactly what the whole
        # history (read in id order) holds for it, in the same order, paged,
        # both ways and from a time on
        import ipaddress
        net = ipaddress.ip_network("10.100.0.0/16")

        def inside(e):
            p = ipaddress.ip_network(e["prefix"])
            return p.version == 4 and p.subnet_of(net)
        want = [e for e in ev if inside(e)]
        got = d.all_events(router="DUT-FRR", prefix="10.100.0.0/16", match="longer", limit=3)
        check(len(want) > 3 and got == want, "history of a prefix and its more-specifics = the whole history's rows",
              [len(got), len(want)])
        got = d.all_events(router="DUT-FRR", prefix="10.100.0.0/16", match="longer", order="desc", limit=3)
        check(got == want[::-1], "... newest first", [len(got), len(want)])
        since = want[len(want) // 2]["time"]
        got = d.all_events(router="DUT-FRR", prefix="10.100.0.0/16", match="longer", **{"from": since})
        check(got == [e for e in want if e["time"] >= since], "... from a time on", [len(got), len(want)])
    finally:
        d.stop()


def wait_routes(d, router, n, timeout=10):
    return wait_for(lambda: len(d.all_routes(router=router)) == n and d.get("/api/v1/status")["store_pending"] == 0,
                    timeout, f"{n} routes for {router}")


def announced_routes(name):
    """Distinct routes the reference decode says the capture announces."""
    keys = set()
    for line in open(fixture(name[:-4] + ".decoded.txt")):
        if "RouteMonitoring" in line and "nlri=['" in line:
            peer, view = line.split()[2], line.split()[4]
            keys |= {(peer, view, p) for p in line.split("nlri=")[1].split("]")[0].strip("[").split(", ")}
    return len(keys)


def test_live_feed_reconnect_and_restart(tmp):
    db = os.path.join(tmp, "pw.db")
    msgs = messages("frr-steady-fw.bmp")
    n = announced_routes("frr-steady-fw.bmp")
    d = Daemon(PW, db, tmp).start()
    try:
        sock = send(d, msgs, keep_open=True)
        wait_routes(d, "FW", n)
        routers = d.get("/api/v1/routers")["routers"]
        check(routers[0]["name"] == "FW" and routers[0]["connected"], "FW connected by sysName", routers)
        rows = d.settled()["history_rows"]
        check(rows == n, "one history row per announced route", [rows, n])
        sock.close()
        wait_for(lambda: not d.get("/api/v1/routers")["routers"][0]["connected"], 10, "disconnect noticed")
        check(len(d.all_routes(router="FW")) == n, "a lost feed keeps its routes")
        check(all(r["stale"] for r in d.all_routes(router="FW")), "... marked stale")

        # the router reconnects and re-sends an unchanged table: no history
        send(d, msgs, keep_open=True).close()
        time.sleep(1)
        st = d.settled()
        check(st["history_rows"] == rows, "unchanged re-dump writes no history", st)
    finally:
        d.stop()

    # collector restart: state comes back from SQLite; the re-dump is diffed
    d = Daemon(PW, db, tmp).start()
    try:
        check(d.settled()["routes"] == n, "routes restored from the store")
        # re-send without the hub prefix from CE2 (post-policy): after that
        # peer's End-of-RIB it must be withdrawn with reason resync
        # per-peer header: flags at 7 (L = post-policy), IPv4 peer address at 28..32;
        # the UPDATE ends with the NLRI 10.17.11.0/25
        dropped = [m for m in msgs if m[5] == 0 and m[28:32] == bytes([192, 168, 11, 2]) and m[7] & 0x40
                   and m.endswith(b"\x19\x0a\x11\x0b\x00")]
        check(len(dropped) == 1, "found CE2's post-policy hub announcement in the capture", len(dropped))
        sock = send(d, [m for m in msgs if m not in dropped], keep_open=True)
        wait_for(lambda: d.settled()["history_rows"] == n + 1, 10, "one resync withdraw")
        ev = d.get("/api/v1/history", prefix="10.17.11.0/25", peer="192.168.11.2", view="post-policy")["events"]
        check([(e["action"], e["reason"]) for e in ev] == [("announce", None), ("withdraw", "resync")],
              "the route not re-sent before End-of-RIB is withdrawn with reason resync", ev)
        check(len(d.all_routes(router="FW")) == n - 1, "all but that route left")
        sock.close()
    finally:
        d.stop()


def test_hostile_feeds_close_only_themselves(tmp):
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp).start()
    try:
        good = send(d, messages("frr-steady-ce1.bmp"), keep_open=True)
        bad = [
            b"\x02\x00\x00\x00\x06\x04",                      # BMP version 2
            b"\x03\x00\x00\x00\x02\x04",                      # length below the header
            b"\x03\xff\xff\xff\xff\x00",                      # length 4 GiB
            bytes(range(256)) * 4,                            # garbage
        ]
        socks = []
        for b in bad:
            s = socket.create_connection(("127.0.0.1", d.bmp_port))
            s.sendall(b)
            socks.append(s)
        for s in socks:
            s.settimeout(5)
            try:
                closed = s.recv(1) == b""
            except ConnectionResetError:
                closed = True
            check(closed, "the collector closed a feed that lost framing")
            s.close()
        # a truncated message just waits for more bytes; it does not take anything down
        trunc = socket.create_connection(("127.0.0.1", d.bmp_port))
        trunc.sendall(messages("frr-steady-ce2.bmp")[0][:10])
        wait_routes(d, "CE1", announced_routes("frr-steady-ce1.bmp"))
        good.sendall(b"".join(messages("frr-steady-ce1.bmp")[3:5]))
        st = d.settled()
        check(st["routers"] == 1, "garbage connections created no routers", st)
        routers = d.get("/api/v1/routers")["routers"]
        check(routers[0]["name"] == "CE1" and routers[0]["connected"], "the healthy feed is still connected", routers)
        check(len(d.all_routes(router="CE1")) > 0, "the healthy feed's routes are there")
        trunc.close()
        good.close()
    finally:
        d.stop()


def test_configuration_file(tmp):
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("collector:\n  bmp_listen: nowhere\n  colour: red\nrouters:\n  - name: FW\n"
                "    normalize_as_path: maybe\n")
    r = subprocess.run([PW, "check-config", bad], capture_output=True, text=True)
    check(r.returncode != 0, "check-config fails on a bad file", r.stdout + r.stderr)
    for line in ("bad.yaml:2: bmp_listen", "bad.yaml:3: collector: unknown key \"colour\"",
                 "bad.yaml:6: normalize_as_path"):
        check(line in r.stderr, f"error reported with its line: {line}", r.stderr)
    r = subprocess.run([PW, "--config", bad], capture_output=True, text=True, timeout=10)
    check(r.returncode != 0 and "bad.yaml:3" in r.stderr, "the collector refuses to start on a bad file", r.stderr)

    # a valid file: its settings are used, flags override it
    db = os.path.join(tmp, "pw.db")
    good = os.path.join(tmp, "good.yaml")
    with open(good, "w") as f:
        f.write(f"collector:\n  db: {db}\n  http_listen: 127.0.0.1:1\n"
                "routers:\n  - name: FW\n    normalize_as_path: no\n")
    r = subprocess.run([PW, "check-config", good], capture_output=True, text=True)
    check(r.returncode == 0, "check-config accepts a good file", r.stdout + r.stderr)
    r = subprocess.run([PW, "replay", fixture("frr-steady-fw.bmp"), "--config", good], capture_output=True, text=True)
    check(r.returncode == 0, "replay with the configuration", r.stderr)
    d = Daemon(PW, db, tmp, extra=["--config", good]).start()  # --http-listen/--db flags override the file
    try:
        vr = d.get("/api/v1/rib", router="FW", peer="10.17.11.76", prefix="10.17.11.0/25", view="post-policy")
        check(vr["routes"][0]["as_path"] == [65020, 65515] and "as_path_raw" not in vr["routes"][0],
              "normalize_as_path: no shows FRR's path as sent", vr)
    finally:
        d.stop()
    help_text = subprocess.run([PW, "--help"], capture_output=True, text=True).stdout
    for flag in ("--config", "--bmp-listen", "--http-listen", "--db"):
        check(flag in help_text, f"--help lists {flag}", help_text)


def test_plot_series(tmp):
    cfg = os.path.join(tmp, "series.yaml")
    with open(cfg, "w") as f:
        f.write("collector:\n  series_interval: 1s\n")
    msgs = messages("frr-steady-fw.bmp")
    rm = sum(1 for m in msgs if m[5] == bw.ROUTE_MONITORING)
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, extra=["--config", cfg]).start()
    try:
        sock = send(d, msgs, keep_open=True)
        wait_routes(d, "FW", announced_routes("frr-steady-fw.bmp"))
        peers = {(p["address"], v): n for p in d.get("/api/v1/peers", router="FW")["peers"]
                 for v, n in p["prefixes"].items()}

        def last_values():
            ser = d.get("/api/v1/series/prefixes", router="FW")["series"]
            return {(x["peer"], x["view"]): x["points"][-1][1] for x in ser}
        wait_for(lambda: last_values() == {k: n for k, n in peers.items() if n}, 10,
                 "the plotted prefix counts reach the peers' counts")
        upd = wait_for(lambda: d.get("/api/v1/series/updates", router="FW")["series"], 10, "an updates series")
        total = round(sum(p[1] * p[2] for p in upd[0]["points"]))
        check(upd[0]["router"] == "FW" and total == rm,
              "updates/s over time add up to the capture's Route Monitoring messages", [total, rm, upd])

        # a withdraw: the count steps down by one, the earlier value stays in the past
        vpn = next(m for m in msgs if m[5] == bw.ROUTE_MONITORING and bw.peer_of(m)[1] == "10.17.11.76"
                   and not m[7] & 0x40 and m.endswith(bw.nlri("10.17.11.0/25")))
        before = peers[("10.17.11.76", "pre-policy")]
        sock.sendall(bw.route_monitoring(bw.header_of(vpn), bw.update(withdraw=["10.17.11.0/25"])))
        key = ("10.17.11.76", "pre-policy")
        wait_for(lambda: last_values().get(key) == before - 1, 10, "the plot follows the withdraw")
        pts = next(x for x in d.get("/api/v1/series/prefixes", router="FW", peer="10.17.11.76", view="pre-policy")["series"])
        check([p[1] for p in pts["points"]][-2:] == [before, before - 1], "the step from the old to the new count", pts)
        check(pts["view"] == "pre-policy" and pts["peer_type"] == "global" and pts["asn"] == 65515,
              "a series names its router, peer, peer type, AS and view", pts)

        # the time window and the number of points
        first = pts["points"][0][0]
        early = d.get("/api/v1/series/prefixes", router="FW", to=first)
        check(all(len(x["points"]) <= 1 for x in early["series"]), "nothing after to=", early)
        # the route comes back: on a one-point-per-hour plot the dip still shows
        sock.sendall(vpn)
        wait_for(lambda: last_values().get(key) == before, 10, "the plot follows the re-announce")
        one = d.get("/api/v1/series/prefixes", router="FW", view="pre-policy", points=1)["series"]
        check(one and all(len(x["points"]) <= 4 for x in one),
              "points=1: the value at from plus the lowest, highest and last of the one bucket", one)
        dip = next(x for x in one if x["peer"] == "10.17.11.76")
        check([p[1] for p in dip["points"]][-2:] == [before - 1, before], "the short dip is kept at any zoom", dip)
        check(d.get_status("/api/v1/series/prefixes", points=0)[0] == 400
              and d.get_status("/api/v1/series/updates", view="loc-rib")[0] == 400,
              "bad points and parameters the endpoint does not take are 400s")
        sock.close()
    finally:
        d.stop()


def test_attribute_filters(tmp):
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp).start()
    try:
        hdr = bw.peer_header("192.0.2.1", 64999, "192.0.2.1")
        routes = [("203.0.113.0/24", ["12076:5010", "65020:1"], []),
                  ("203.0.113.128/25", ["12076:5020"], ["65020:7:9"]),
                  ("198.51.100.0/24", ["65535:65281"], []),
                  ("198.51.100.128/25", [], [])]
        msgs = [bw.initiation("COMM"), bw.peer_up(hdr, "192.0.2.2", 65020, 64999, "192.0.2.1")]
        for pfx, comms, large in routes:
            msgs.append(bw.route_monitoring(hdr, bw.update(announce=[pfx], path_attrs=bw.attrs(
                as_path=[64999, 12076], communities=comms, large_communities=large))))
        sock = send(d, msgs, keep_open=True)
        wait_routes(d, "COMM", len(routes))

        def prefixes(**f):
            return sorted(r["prefix"] for r in d.get("/api/v1/rib", router="COMM", **f)["routes"])
        check(prefixes(community="12076:5010") == ["203.0.113.0/24"], "an exact community")
        check(prefixes(community="12076:*") == ["203.0.113.0/24", "203.0.113.128/25"], "a wildcard community")
        check(prefixes(community="*:1") == ["203.0.113.0/24"], "a wildcard ASN part")
        check(prefixes(community="no-export") == ["198.51.100.0/24"], "a well-known name")
        check(prefixes(community="65020:7:9") == ["203.0.113.128/25"], "a large community")
        check(prefixes(community="65020:7") == [], "a standard community does not match a large one")
        check(prefixes(community="12076:*", prefix="203.0.113.0/24", match="longer", as_path="^64999 12076$")
              == ["203.0.113.0/24", "203.0.113.128/25"], "combined with prefix and AS path filters")
        r = d.get("/api/v1/rib", router="COMM", community="12076:*", limit=1)
        nxt = d.get("/api/v1/rib", router="COMM", community="12076:*", limit=1, cursor=r["next"])
        check([x["prefix"] for x in r["routes"] + nxt["routes"]] == ["203.0.113.0/24", "203.0.113.128/25"]
              and nxt["next"] is None, "filtered pages follow the cursor", [r, nxt])
        for param, value in (("community", "70000:1"), ("community", "1:2:3:4"), ("community", "no-such-name"),
                             ("as_path", "12076 abc"), ("as_path", "$12076"), ("as_path", "^")):
            code, body = d.get_status("/api/v1/rib", **{param: value})
            check(code == 400 and body.get("parameter") == param and body["error"] == "bad parameter",
                  f"{param}={value!r} is a 400 naming the parameter", [code, body])
        sock.close()
    finally:
        d.stop()


def test_live_stream_rate_limit(tmp):
    """A burst of route changes: the live stream sends at most 200 route events a
    second, then tells the dashboard to refetch (reset) and goes on."""
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp).start()
    try:
        got = []
        t = threading.Thread(target=lambda: got.extend(read_sse(d.http_port, 5)))
        t.start()
        time.sleep(0.5)
        hdr = bw.peer_header("192.0.2.1", 64999, "192.0.2.1")
        path = bw.attrs(as_path=[64999, 12076])
        burst = [bw.initiation("BURST"), bw.peer_up(hdr, "192.0.2.2", 65020, 64999, "192.0.2.1")]
        for u in range(3):  # 1200 routes in three UPDATEs, sent at once
            burst.append(bw.route_monitoring(hdr, bw.update(
                announce=[f"10.{u}.{i // 256}.{i % 256}/32" for i in range(400)], path_attrs=path)))
        sock = send(d, burst, keep_open=True)
        time.sleep(1.5)  # the next change comes in a later second
        sock.sendall(bw.route_monitoring(hdr, bw.update(announce=["172.16.99.0/24"], path_attrs=path)))
        t.join()
        sock.close()
        routes = [x for e, x in got if e == "route"]
        resets = [i for i, (e, _) in enumerate(got) if e == "reset"]
        check(resets and got[resets[0]][1].get("reason") == "route events were rate limited",
              "after a burst the stream says it dropped route events (reset)", [e for e, _ in got][:10])
        before = sum(1 for e, _ in got[:resets[0]] if e == "route") if resets else len(routes)
        check(0 < before <= 200, "at most 200 route events a second", before)
        check(any(x["prefix"] == "172.16.99.0/24" for e, x in got[resets[0] + 1:] if e == "route"),
              "a change after the reset is streamed", routes[-3:])
        check(len(d.all_routes(router="BURST")) == 1201, "the RIB holds every route of the burst")
    finally:
        d.stop()


if __name__ == "__main__":
    sys.exit(run_tests([
        ("reference topology through replay and the API", test_reference_topology_api),
        ("bad parameters are 400s naming the parameter", test_bad_parameters),
        ("history across sessions, peer down, as-of", test_history_across_sessions_and_peer_down),
        ("plots: prefix counts and updates per second over time", test_plot_series),
        ("RIB filters by AS path and community", test_attribute_filters),
        ("live feed: disconnect, unchanged re-dump, restart, resync", test_live_feed_reconnect_and_restart),
        ("hostile feeds close only themselves", test_hostile_feeds_close_only_themselves),
        ("configuration file: errors with lines, settings applied", test_configuration_file),
        ("live stream: route events rate limited, then reset", test_live_stream_rate_limit),
    ]))
