#!/usr/bin/env python3
"""The site rules and the alert lifecycle, end to end through the daemon:
the reference topology's real captures (CE1, CE2, FW from FRR 8.4) are
streamed over TCP as the routers sent them, then faults are injected as
BMP messages (a Peer Down, withdraws, a rewritten local-pref, Adj-RIB-Out
routes per RFC 8671 that no Debian router exports) and the alerts API is
checked as the NOC would read it.

usage: rules_replay.py PATHWATCH FIXTURE_DIR
"""
import json
import os
import signal
import socket
import sys
import time
import urllib.request

import bmpwriter as bw
from pwtest import Daemon, Failure, check, read_sse, run_tests, wait_for

PW, FIX = sys.argv[1], sys.argv[2]
TOKEN = "test-token"
# the lab site (its token is TOKEN), shared with the browser test
SITE = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "lab-site.yaml")).read()


def capture(name):
    return bw.split(open(os.path.join(FIX, name), "rb").read())


class Lab:
    def __init__(self, tmp, db=None):
        cfg = os.path.join(tmp, "site.yaml")
        with open(cfg, "w") as f:
            f.write(SITE)
        self.d = Daemon(PW, db or os.path.join(tmp, "pw.db"), tmp, extra=["--config", cfg]).start()
        self.socks = {}
        self.msgs = {r: capture(f"frr-steady-{r.lower()}.bmp") for r in ("CE1", "CE2", "FW")}

    def connect(self, router):
        s = socket.create_connection(("127.0.0.1", self.d.bmp_port))
        s.sendall(b"".join(self.msgs[router]))
        self.socks[router] = s

    def send(self, router, *msgs):
        self.socks[router].sendall(b"".join(msgs))

    def alerts(self, state=None, **match):
        al = self.d.get("/api/v1/alerts", **({"state": state} if state else {}), limit=1000)["alerts"]
        return [a for a in al if all(a.get(k) == v for k, v in match.items())]

    def site(self):
        return self.d.get("/api/v1/sites")["sites"][0]

    def wait_alert(self, state, timeout=10, **match):
        return wait_for(lambda: self.alerts(state, **match), timeout,
                        f"alert {match} {state} (firing now: {[(a['rule'], a['peer'], a['prefix']) for a in self.alerts('firing')]})")[0]

    def healthy(self, timeout=15):
        try:
            wait_for(lambda: self.site()["health"] == "ok", timeout, "site healthy")
        except Failure as e:
            raise Failure(f"{e}\n    site: {json.dumps(self.site())[:3000]}")
        check(self.alerts("firing") == [] and self.alerts("pending") == [], "nothing firing or pending when healthy",
              self.alerts("firing") + self.alerts("pending"))

    def post(self, path, body, token=TOKEN, method="POST"):
        req = urllib.request.Request(f"http://127.0.0.1:{self.d.http_port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def close(self):
        for s in self.socks.values():
            s.close()
        self.d.stop()


def fw_msgs(lab, peer, kinds=(bw.ROUTE_MONITORING,)):
    return [m for m in lab.msgs["FW"] if m[5] in kinds and bw.peer_of(m)[1] == peer]


def test_healthy_then_feed_down(tmp):
    lab = Lab(tmp)
    try:
        for r in ("CE1", "CE2", "FW"):
            lab.connect(r)
        lab.healthy()
        s = lab.site()
        check(s["symmetry"] == "symmetric", "symmetric when ER is preferred", s)
        for b in s["best_paths"]:
            check(b["best"] == "er" and "local-pref" in b["decided_by"], "ER wins on local-pref 150 vs 100", b)
        check(all(p["state"] == "up" and p["prefixes_present"] == 2 for p in s["paths"]) and len(s["paths"]) == 4,
              "ER primary/secondary and both VPN instances up with both Azure prefixes", s["paths"])
        unk = {(u["rule"], u["router"]): u["reason"] for u in s["unknown"]}
        check("Adj-RIB-Out" in unk.get(("vpn-advert-missing", "FW"), ""),
              "vpn-advert-missing is unknown, with the reason, on a router without Adj-RIB-Out", s["unknown"])

        lab.socks.pop("FW").close()
        a = lab.wait_alert("firing", rule="feed-down", router="FW")
        check(a["evidence"]["connected"] is False and a["severity"] and a["summary"], "feed-down with evidence", a)
        firing = [x["rule"] for x in lab.alerts("firing")]
        check(firing == ["feed-down"], "the blind router's other rules are unknown, not firing", firing)
        check(lab.site()["health"] != "ok", "a blind site is not healthy")
        lab.connect("FW")
        lab.wait_alert("resolved", rule="feed-down", router="FW")
        lab.healthy()
    finally:
        lab.close()


def test_vpn_session_down_and_back(tmp):
    lab = Lab(tmp)
    try:
        for r in ("CE1", "CE2", "FW"):
            lab.connect(r)
        lab.healthy()
        up = fw_msgs(lab, "10.17.11.76", (bw.PEER_UP,))[0]
        lab.send("FW", bw.peer_down(bw.header_of(up), reason=4))
        a = lab.wait_alert("firing", rule="vpn-session-down", router="FW", peer="10.17.11.76")
        check(a["evidence"]["state"] == "down" and a["evidence"]["down_reason"]["code"] == 4,
              "evidence carries the Peer Down reason", a)
        check(a["prefix"] is None and a["site"] == "lab" and a["id"], "identity fields", a)
        check(not lab.alerts("firing", rule="vpn-routes-missing"), "no missing-routes alert for a down session")
        vpn = [p for p in lab.site()["paths"] if p["peer"] == "10.17.11.76"][0]
        check(vpn["state"] == "down", "the site shows the VPN instance down", vpn)
        # the session comes back: Peer Up, its routes, End-of-RIB
        lab.send("FW", up, *fw_msgs(lab, "10.17.11.76"))
        lab.wait_alert("resolved", rule="vpn-session-down", peer="10.17.11.76")
        lab.healthy()
        detail = lab.d.get(f"/api/v1/alerts/{a['id']}")
        check([t["to"] for t in detail["transitions"]] == ["pending", "firing", "resolved"],
              "timeline: pending, firing, resolved", detail["transitions"])
    finally:
        lab.close()


def test_vpn_route_withdrawn(tmp):
    lab = Lab(tmp)
    try:
        for r in ("CE1", "CE2", "FW"):
            lab.connect(r)
        lab.healthy()
        spoke = [m for m in fw_msgs(lab, "10.17.11.77") if m.endswith(bw.nlri("10.17.11.128/26"))]
        check(len(spoke) == 2, "pre- and post-policy announcements of the spoke prefix from .77", len(spoke))
        lab.send("FW", *[bw.route_monitoring(bw.header_of(m), bw.update(withdraw=["10.17.11.128/26"])) for m in spoke])
        a = lab.wait_alert("firing", rule="vpn-routes-missing", peer="10.17.11.77", prefix="10.17.11.128/26")
        check(a["router"] == "FW" and a["evidence"]["view"] == "post-policy", "evidence names the view", a)
        lab.send("FW", *spoke)
        lab.wait_alert("resolved", rule="vpn-routes-missing", prefix="10.17.11.128/26")
        lab.healthy()
    finally:
        lab.close()


def test_local_pref_removed_is_asymmetric(tmp):
    lab = Lab(tmp)
    try:
        for r in ("CE1", "CE2", "FW"):
            lab.connect(r)
        lab.healthy()
        lp150 = bytes([0x40, 5, 4, 0, 0, 0, 150])
        er = [m for m in fw_msgs(lab, "192.168.11.0") + fw_msgs(lab, "192.168.11.2") if lp150 in m]
        check(len(er) >= 4, "the CEs' local-pref 150 routes in the capture", len(er))
        lab.send("FW", *[m.replace(lp150, bytes([0x40, 5, 4, 0, 0, 0, 100])) for m in er])
        a = lab.wait_alert("firing", rule="asymmetric-preference", router="FW", prefix="10.17.11.0/25", peer=None)
        check("ebgp" in a["evidence"]["decided_by"] and len(a["evidence"]["candidates"]) == 4,
              "decided by BGP's order (eBGP over iBGP once local-prefs tie), all four paths shown", a["evidence"])
        lp = lab.wait_alert("firing", rule="asymmetric-preference", peer="192.168.11.0", prefix="10.17.11.0/25")
        check(lp["evidence"]["local_pref"] == 100 and lp["evidence"]["expected_local_pref"] == 150,
              "the ER route's local-pref is flagged with the expected value", lp["evidence"])
        check(lab.site()["symmetry"] == "asymmetric", "the site says asymmetric")
        lab.send("FW", *er)
        wait_for(lambda: not lab.alerts("firing", rule="asymmetric-preference"), 10, "asymmetry resolved")
        lab.healthy()
    finally:
        lab.close()


def test_adj_rib_out_rules(tmp):
    lab = Lab(tmp)
    try:
        for r in ("CE1", "CE2", "FW"):
            lab.connect(r)
        lab.healthy()
        fw = bw.header_of(fw_msgs(lab, "10.17.11.76", (bw.PEER_UP,))[0])
        out76 = fw[:1] + bytes([fw[1] | bw.FLAG_O | bw.FLAG_L]) + fw[2:]
        onprem = bw.attrs(as_path=[65020], next_hop="192.168.11.88")
        lab.send("FW", bw.route_monitoring(out76, bw.update(["10.1.11.0/25"], path_attrs=onprem)), bw.end_of_rib(out76))
        time.sleep(2.5)
        check(not lab.alerts("firing"), "on-prem prefix advertised to .76: nothing fires", lab.alerts("firing"))
        # a more specific prefix over the VPN
        lab.send("FW", bw.route_monitoring(out76, bw.update(["10.1.11.64/26"], path_attrs=onprem)))
        a = lab.wait_alert("firing", rule="vpn-more-specific", peer="10.17.11.76", prefix="10.1.11.64/26")
        check(a["evidence"]["onprem_prefix"] == "10.1.11.0/25" and a["evidence"]["source"] == "adj-rib-out",
              "evidence: the covering on-prem prefix and where it was seen", a["evidence"])
        # the on-prem prefix no longer advertised to .76
        lab.send("FW", bw.route_monitoring(out76, bw.update(withdraw=["10.1.11.0/25", "10.1.11.64/26"])))
        b = lab.wait_alert("firing", rule="vpn-advert-missing", peer="10.17.11.76", prefix="10.1.11.0/25")
        check(b["evidence"]["view"] == "adj-rib-out-post", "advert checked in Adj-RIB-Out post-policy", b)
        lab.wait_alert("resolved", rule="vpn-more-specific", prefix="10.1.11.64/26")
    finally:
        lab.close()


def test_ack_silence_drill_and_restart(tmp):
    db = os.path.join(tmp, "pw.db")
    lab = Lab(tmp, db)
    try:
        for r in ("CE1", "CE2", "FW"):
            lab.connect(r)
        lab.healthy()
        up = fw_msgs(lab, "10.17.11.77", (bw.PEER_UP,))[0]
        lab.send("FW", bw.peer_down(bw.header_of(up)))
        a = lab.wait_alert("firing", rule="vpn-session-down", peer="10.17.11.77")
        code, body = lab.post(f"/api/v1/alerts/{a['id']}/ack", {"by": "noc-alice", "comment": "on it"}, token=None)
        check(code == 401, "ack without a token is refused", body)
        code, body = lab.post(f"/api/v1/alerts/{a['id']}/ack", {"by": "noc-alice"}, token="wrong")
        check(code == 401, "ack with a wrong token is refused", body)
        code, body = lab.post(f"/api/v1/alerts/{a['id']}/ack", {"comment": "who?"})
        check(code == 400 and body["parameter"] == "by", "ack needs who", body)
        code, body = lab.post(f"/api/v1/alerts/{a['id']}/ack", {"by": "noc-alice", "comment": "on it"})
        check(code == 200, "ack accepted", body)
        code, body = lab.post("/api/v1/alerts/99999/ack", {"by": "x"})
        check(code == 404, "ack of an unknown alert is a 404", body)
        wait_for(lambda: (lab.d.get(f"/api/v1/alerts/{a['id']}")["acknowledged"] or {}).get("by") == "noc-alice", 5,
                 "acknowledgement stored")
        code, s = lab.post("/api/v1/silences", {"matchers": {"rule": "vpn-session-down", "site": "lab"},
                                                "duration": "2h", "created_by": "noc-alice", "comment": "drill window"})
        check(code == 201 and s["id"], "silence created", s)
        wait_for(lambda: lab.d.get(f"/api/v1/alerts/{a['id']}")["silenced"], 5, "alert silenced")
        code, body = lab.post("/api/v1/silences", {"matchers": {"rule": "no-such-rule"}, "duration": "1h"})
        check(code == 400, "a silence for an unknown rule is refused", body)
        for bad in ({"duration": "nan"}, {"duration": 1e300}, {"duration": -5}, {"starts": 1e300, "duration": "1h"},
                    {"duration": "inf"}):
            code, body = lab.post("/api/v1/silences", {"matchers": {"site": "lab"}, "created_by": "t", **bad})
            check(code == 400, f"a silence with {bad} is refused", [code, body])
        code, body = lab.post(f"/api/v1/silences/{s['id']}", None, method="DELETE")
        check(code == 200, "silence expired", body)
        wait_for(lambda: not lab.d.get(f"/api/v1/alerts/{a['id']}")["silenced"], 5, "alert no longer silenced")
        sil = lab.d.get("/api/v1/silences")["silences"]
        check(len(sil) == 1 and not sil[0]["active"] and sil[0]["expired"], "the expired silence is kept", sil)
        code, dr = lab.post("/api/v1/drills", {"site": "lab", "duration": "1h", "declared_by": "noc-alice"})
        check(code == 201 and lab.d.get("/api/v1/drills")["drills"][0]["site"] == "lab", "drill declared", dr)
        code, body = lab.post("/api/v1/drills", {"site": "nowhere"})
        check(code == 404, "a drill for an unknown site is a 404", body)

        before = lab.d.get(f"/api/v1/alerts/{a['id']}")
        lab.d.settled()
        lab.d.stop(signal.SIGKILL)
        for s_ in lab.socks.values():
            s_.close()
        lab.socks = {}
        lab.d.start()
        time.sleep(3)
        after = lab.d.get(f"/api/v1/alerts/{a['id']}")
        check(after["state"] == "firing" and len(after["transitions"]) == len(before["transitions"]),
              "after kill -9 the alert is still firing, not re-fired", [before, after])
        check(after["acknowledged"]["by"] == "noc-alice", "the acknowledgement survived the restart", after)
        check(after["unknown"], "while the feeds are gone its rule cannot decide: unknown, not resolved", after)
    finally:
        lab.close()


def test_live_events_and_metrics(tmp):
    lab = Lab(tmp)
    try:
        for r in ("CE1", "CE2", "FW"):
            lab.connect(r)
        lab.healthy()
        import threading
        got = []
        t = threading.Thread(target=lambda: got.extend(read_sse(lab.d.http_port, 6)))
        t.start()
        time.sleep(0.5)
        up = fw_msgs(lab, "10.17.11.77", (bw.PEER_UP,))[0]
        lab.send("FW", bw.peer_down(bw.header_of(up)))
        t.join()
        kinds = {e for e, _ in got}
        check({"peer", "route", "alert", "site"} <= kinds, "peer, route, alert and site events arrive live", sorted(kinds))
        check(any(e == "peer" and d["address"] == "10.17.11.77" and d["state"] == "down" for e, d in got),
              "the peer event says which peer went down", got[:5])
        check(any(e == "route" and d["action"] == "withdraw" and d["peer"] == "10.17.11.77" for e, d in got),
              "route withdraws are streamed", [x for x in got if x[0] == "route"][:3])
        check(any(e == "alert" and d["rule"] == "vpn-session-down" and d["state"] in ("pending", "firing") for e, d in got),
              "the alert transition is streamed", [x for x in got if x[0] == "alert"])
        with urllib.request.urlopen(f"http://127.0.0.1:{lab.d.http_port}/metrics", timeout=10) as r:
            ctype, text = r.headers["Content-Type"], r.read().decode()
        check(ctype.startswith("text/plain") and "version=0.0.4" in ctype, "Prometheus text format", ctype)
        import promparse
        try:
            series = promparse.parse(text)
        except ValueError as e:
            raise Failure(f"/metrics breaks the exposition format: {e}")
        routes = {dict(k[1]).get("view"): v for k, v in series.items()
                  if k[0] == "pathwatch_routes" and dict(k[1]).get("peer") == "10.17.11.76"}
        check(routes.get("post-policy") == 2 and routes.get("pre-policy") == 3,
              "parsed: routes per router, peer and view", routes)
        firing = [v for k, v in series.items() if k[0] == "pathwatch_alerts" and dict(k[1]) == {"state": "firing"}]
        check(firing and firing[0] >= 0, "parsed: alerts by state", firing)
        for needle in ('pathwatch_bmp_messages_total{router="FW",type="route_monitoring"}',
                       'pathwatch_routes{router="FW",peer="10.17.11.76",view="post-policy"} 2',
                       "pathwatch_history_rows_total", "pathwatch_store_queue_depth", "pathwatch_store_queue_bytes",
                       "pathwatch_store_index_pending",
                       "pathwatch_store_batch_seconds_total",
                       'pathwatch_alerts{state="firing"}', 'pathwatch_parse_errors_total{router="CE1",kind="update_errors"} 0',
                       'pathwatch_http_requests_total{endpoint="/api/v1/sites",status="200"}'):
            check(needle in text, f"/metrics has {needle}", text[:3000])
        with urllib.request.urlopen(f"http://127.0.0.1:{lab.d.http_port}/", timeout=10) as r:
            check(r.status == 200 and r.headers["Content-Type"].startswith("text/html"), "the dashboard is served at /")
        code, body = lab.d.get_status("/static/../../../etc/passwd")
        check(code == 404, "static files cannot be escaped with ..", body)
    finally:
        lab.close()


def test_failover_observed_and_slow(tmp):
    lab = Lab(tmp)
    try:
        for r in ("CE1", "CE2", "FW"):
            lab.connect(r)
        lab.healthy()
        hub = bw.nlri("10.17.11.0/25")
        er = [m for m in fw_msgs(lab, "192.168.11.0") + fw_msgs(lab, "192.168.11.2") if m.endswith(hub)]
        check(len(er) == 4, "the hub prefix from both CEs, pre- and post-policy", len(er))
        withdraw = [bw.route_monitoring(bw.header_of(m), bw.update(withdraw=["10.17.11.0/25"])) for m in er]
        # ExpressRoute goes away for the hub prefix: the VPN takes over
        lab.send("FW", *withdraw)
        fo = wait_for(lambda: [f for f in lab.d.get("/api/v1/failovers")["failovers"] if f["kind"] == "failover"], 10,
                      "a failover recorded")[0]
        check(fo["prefix"] == "10.17.11.0/25" and fo["from"] == "er" and fo["to"] == "vpn" and fo["duration_ms"] is not None
              and fo["duration_ms"] <= 2000, "failover ER -> VPN with its convergence time", fo)
        best = [b for b in lab.site()["best_paths"] if b["prefix"] == "10.17.11.0/25"][0]
        check(best["best"] == "vpn", "the VPN is now the best path", best)
        check(lab.site()["last_failover"], "the site shows its last failover")
        # ER comes back: failback
        lab.send("FW", *er)
        wait_for(lambda: any(f["kind"] == "failback" for f in lab.d.get("/api/v1/failovers")["failovers"]), 10,
                 "failback recorded")
        lab.healthy()
        # the prefix history's plot: failovers of one prefix, the best path over time
        only = lab.d.get("/api/v1/failovers", prefix="10.17.11.0/25")["failovers"]
        check(only and all(f["prefix"] == "10.17.11.0/25" for f in only)
              and lab.d.get("/api/v1/failovers", prefix="10.17.11.128/26")["failovers"] == [],
              "failovers?prefix= gives that prefix's failovers only", only)
        bp = lab.d.get("/api/v1/series/best_paths", prefix="10.17.11.0/25")["series"]
        check(len(bp) == 1 and bp[0]["site"] == "lab", "one best-path series for the hub prefix", bp)
        kinds = [p[1] for p in bp[0]["points"]]
        check(kinds[-3:] == ["er", "vpn", "er"], "best path over time: ER, then the VPN, then ER again", bp)
        vpn_pt = bp[0]["points"][-2]
        check(vpn_pt[2] in ("10.17.11.76", "10.17.11.77") and vpn_pt[3],
              "the VPN period names the winning session and how it was decided", vpn_pt)
        later = lab.d.get("/api/v1/series/best_paths", prefix="10.17.11.0/25", **{"from": bp[0]["points"][-1][0]})
        check([p[1] for p in later["series"][0]["points"]][0] == "vpn",
              "from= starts with the path in force just before it", later)
        # a stale backup: the VPN routes for the hub are gone too when ER fails
        vpn = [m for m in fw_msgs(lab, "10.17.11.76") + fw_msgs(lab, "10.17.11.77") if m.endswith(hub)]
        lab.send("FW", *[bw.route_monitoring(bw.header_of(m), bw.update(withdraw=["10.17.11.0/25"])) for m in vpn])
        lab.wait_alert("firing", rule="vpn-routes-missing", prefix="10.17.11.0/25")
        lab.send("FW", *withdraw)
        a = lab.wait_alert("firing", rule="failover-slow", prefix="10.17.11.0/25")
        check("no VPN path" in a["summary"], "failover-slow says no VPN path took over", a)
    finally:
        lab.close()


if __name__ == "__main__":
    sys.exit(run_tests([
        ("healthy site, then a feed goes down and comes back", test_healthy_then_feed_down),
        ("VPN session down and back", test_vpn_session_down_and_back),
        ("VPN gateway withdraws an Azure prefix", test_vpn_route_withdrawn),
        ("CEs' local-pref 150 removed: asymmetric preference", test_local_pref_removed_is_asymmetric),
        ("Adj-RIB-Out (RFC 8671): advert missing, more specific over VPN", test_adj_rib_out_rules),
        ("acknowledge, silence, drill, and a kill -9 restart", test_ack_silence_drill_and_restart),
        ("failover observed, failback, and a failed failover", test_failover_observed_and_slow),
        ("live events (SSE), /metrics, the dashboard's files", test_live_events_and_metrics),
    ]))
