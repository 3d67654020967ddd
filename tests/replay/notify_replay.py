#!/usr/bin/env python3
"""Pager delivery end to end: a real HTTP receiver (http.server, started by
the test on 127.0.0.1) behind each payload format; alerts raised by
injecting faults into the reference topology's real captures; the receiver
answers 500, 429 with Retry-After, 400, or is down, and the collector is
killed with -9 while notifications are pending.

usage: notify_replay.py PATHWATCH FIXTURE_DIR
"""
import hashlib
import hmac
import http.server
import json
import os
import signal
import socket
import sqlite3
import sys
import threading
import time

import bmpwriter as bw
from pwtest import Daemon, Failure, Receiver, check, free_port, run_tests, wait_for
from rules_replay import SITE, TOKEN, Lab, fw_msgs

PW, FIX = sys.argv[1], sys.argv[2]
SECRET = "hmac-secret-value"
PD_KEY = "pd-routing-key-value"


def config(rcv, repeat="1h"):
    url = f"http://127.0.0.1:{rcv.port}"
    return SITE + f"""
receivers:
  - {{ name: generic, format: generic, url: "{url}/generic", secret: {SECRET}, timeout: 2s }}
  - {{ name: am, format: alertmanager, url: "{url}/am", timeout: 2s }}
  - {{ name: pd, format: pagerduty, url: "{url}/pd", routing_key: {PD_KEY}, timeout: 2s }}
  - {{ name: slack, format: slack, url: "{url}/slack", timeout: 2s }}
routes:
  - {{ receiver: generic, match: {{ site: lab }}, continue: true, group_wait: 1s, repeat_interval: {repeat} }}
  - {{ receiver: am, continue: true, group_wait: 1s }}
  - {{ receiver: pd, match: {{ severity: warning }}, continue: true, group_wait: 0s }}
  - {{ receiver: slack, group_wait: 1s }}
"""


class NLab(Lab):
    def __init__(self, tmp, rcv, db=None, repeat="1h"):
        self.rcv = rcv
        import rules_replay
        saved = rules_replay.SITE
        rules_replay.SITE = config(rcv, repeat)
        try:
            super().__init__(tmp, db)
        finally:
            rules_replay.SITE = saved

    def up(self):
        for r in ("CE1", "CE2", "FW"):
            self.connect(r)
        self.healthy()

    def vpn_down(self, peer="10.17.11.77"):
        up = fw_msgs(self, peer, (bw.PEER_UP,))[0]
        self.send("FW", bw.peer_down(bw.header_of(up)))
        return up

    def vpn_back(self, up, peer="10.17.11.77"):
        self.send("FW", up, *fw_msgs(self, peer))


def events(reqs, fmt):
    out = []
    for r in reqs:
        b = r["body"]
        if fmt == "generic":
            out += [(a["event"], a["dedup_key"]) for a in b["alerts"]]
        elif fmt == "pd":
            out.append((b["event_action"], b["dedup_key"]))
    return out


def test_formats_field_by_field(tmp):
    rcv = Receiver().start()
    lab = NLab(tmp, rcv)
    try:
        lab.up()
        up = lab.vpn_down()
        a = lab.wait_alert("firing", rule="vpn-session-down", peer="10.17.11.77")
        for path in ("/generic", "/am", "/pd", "/slack"):
            wait_for(lambda: rcv.got(path), 10, f"a notification at {path}")
        g = rcv.got("/generic")[0]
        sig = hmac.new(SECRET.encode(), g["raw"], hashlib.sha256).hexdigest()
        check(g["headers"].get("X-Pathwatch-Signature") == f"sha256={sig}", "generic: HMAC-SHA256 signature header", g["headers"])
        b = g["body"]
        check(b["version"] == "1" and b["status"] == "firing" and b["receiver"] == "generic" and len(b["alerts"]) == 1,
              "generic: version, status, receiver", b)
        al = b["alerts"][0]
        check(al["rule"] == "vpn-session-down" and al["id"] == a["id"] and al["peer"] == "10.17.11.77" and
              al["event"] == "trigger" and al["dedup_key"].startswith("pathwatch/") and al["evidence"]["state"] == "down",
              "generic: the alert with evidence and a dedup key", al)
        am = rcv.got("/am")[0]["body"]
        check(am["version"] == "4" and am["status"] == "firing" and am["receiver"] == "am" and am["groupKey"] and
              am["groupLabels"] == {"site": "lab"}, "alertmanager: version 4 envelope", am)
        x = am["alerts"][0]
        check(x["status"] == "firing" and x["labels"]["alertname"] == "vpn-session-down" and x["labels"]["site"] == "lab"
              and x["labels"]["router"] == "FW" and x["labels"]["peer"] == "10.17.11.77" and x["labels"]["severity"]
              and x["annotations"]["summary"] and x["startsAt"].endswith("Z") and x["endsAt"] == "0001-01-01T00:00:00Z"
              and len(x["fingerprint"]) == 16, "alertmanager: labels, annotations, times, fingerprint", x)
        pd = rcv.got("/pd")[0]["body"]
        check(pd["routing_key"] == PD_KEY and pd["event_action"] == "trigger" and pd["dedup_key"] == al["dedup_key"]
              and pd["payload"]["summary"] and pd["payload"]["source"] == "FW"
              and pd["payload"]["severity"] in ("critical", "error", "warning", "info"),
              "pagerduty: Events API v2 trigger", pd)
        sl = rcv.got("/slack")[0]["body"]
        check("FIRING" in sl["text"] and "lab" in sl["text"], "slack: a readable text", sl)

        # acknowledgement -> PagerDuty acknowledge (only PagerDuty)
        code, _ = lab.post(f"/api/v1/alerts/{a['id']}/ack", {"by": "noc-bob"})
        check(code == 200, "ack accepted")
        wait_for(lambda: any(r["body"]["event_action"] == "acknowledge" for r in rcv.got("/pd")), 10, "PD acknowledge")
        # resolve
        lab.vpn_back(up)
        lab.wait_alert("resolved", rule="vpn-session-down", peer="10.17.11.77")
        wait_for(lambda: len(rcv.got("/generic")) >= 2 and len(rcv.got("/am")) >= 2 and
                 any(r["body"]["event_action"] == "resolve" for r in rcv.got("/pd")), 10, "resolve notifications")
        check(rcv.got("/generic")[-1]["body"]["status"] == "resolved", "generic: resolved")
        amr = rcv.got("/am")[-1]["body"]
        check(amr["status"] == "resolved" and amr["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z", "alertmanager: resolved with endsAt", amr)
        check([e for e, _ in events(rcv.got("/pd"), "pd")] == ["trigger", "acknowledge", "resolve"],
              "pagerduty: trigger, acknowledge, resolve — once each", events(rcv.got("/pd"), "pd"))
        check(len({k for _, k in events(rcv.got("/pd"), "pd")}) == 1, "one dedup key for the alert's whole life")
        # the delivery log shows attempts, never the secrets
        log = json.dumps(lab.d.get("/api/v1/notifications", limit=100))
        check(SECRET not in log and PD_KEY not in log, "no secret in /api/v1/notifications")
        check(all(n["state"] == "delivered" for n in lab.d.get("/api/v1/notifications")["notifications"]),
              "every notification delivered", log[:1500])
        # the test button
        code, body = lab.post("/api/v1/receivers/slack/test", {})
        check(code == 201, "receiver test accepted", body)
        wait_for(lambda: any("TEST" in r["body"]["text"] for r in rcv.got("/slack")), 10, "test notification arrives")
        code, body = lab.post("/api/v1/receivers/nobody/test", {})
        check(code == 404, "test of an unknown receiver is a 404", body)
    finally:
        lab.close()
        rcv.stop()
        logtext = open(lab.d.log_path).read()
        check(SECRET not in logtext and PD_KEY not in logtext and str(rcv.port) + "/slack" not in logtext,
              "no secret or webhook URL in the log")


def test_retries_errors_and_order(tmp):
    rcv = Receiver().start()
    rcv.script["/generic"] = [(500, {}), (500, {}), (503, {})]
    rcv.script["/am"] = [(429, {"Retry-After": "2"})]
    rcv.script["/slack"] = [(400, {})]
    rcv.script["/pd"] = [("slow", {})]  # answers after 3 s: past the 2 s timeout
    lab = NLab(tmp, rcv)
    try:
        lab.up()
        up = lab.vpn_down()
        lab.wait_alert("firing", rule="vpn-session-down", peer="10.17.11.77")
        lab.vpn_back(up)  # resolves soon after: the resolve must not overtake the trigger
        lab.wait_alert("resolved", rule="vpn-session-down", peer="10.17.11.77")
        vpn = lambda: [e for e, k in events(rcv.got("/generic"), "generic") if "vpn-session-down" in k]
        wait_for(lambda: vpn() == ["trigger"] * 4 + ["resolve"], 30,
                 "generic: the trigger retried after 3 server errors, then the resolve, in order")
        ams = rcv.got("/am")
        wait_for(lambda: len(rcv.got("/am")) >= 2, 15, "alertmanager retried after 429")
        ams = rcv.got("/am")
        check(ams[1]["time"] - ams[0]["time"] >= 1.9, "Retry-After: 2 was honoured",
              [ams[1]["time"] - ams[0]["time"]])
        failed = wait_for(lambda: lab.d.get("/api/v1/notifications", receiver="slack", state="failed")["notifications"], 10,
                          "failed notification in the log")
        check(failed[0]["last_error"] == "HTTP 400" and failed[0]["http_status"] == 400 and failed[0]["attempts"] == 1,
              "a 400 is recorded as failed after one attempt, not retried", failed)
        a = lab.wait_alert("firing", rule="notify-failed", peer="slack")
        check("slack" in a["summary"], "notify-failed alert names the receiver", a)
        pd = wait_for(lambda: [n for n in lab.d.get("/api/v1/notifications", receiver="pd")["notifications"]
                               if n["state"] == "delivered" and n["attempts"] >= 2], 20,
                      "pagerduty delivered after a timed-out attempt")
        check("imeout" in (pd[-1]["last_error"] or "") or pd[-1]["attempts"] >= 2, "the timeout was retried", pd)
    finally:
        lab.close()
        rcv.stop()


def test_receiver_down_and_kill9(tmp):
    rcv = Receiver()            # not listening yet: connection refused
    db = os.path.join(tmp, "pw.db")
    lab = NLab(tmp, rcv, db)
    try:
        lab.up()
        lab.vpn_down()
        a = lab.wait_alert("firing", rule="vpn-session-down", peer="10.17.11.77")
        wait_for(lambda: any(n["attempts"] >= 1 and n["state"] == "pending"
                             for n in lab.d.get("/api/v1/notifications", receiver="generic")["notifications"]), 10,
                 "a failed attempt recorded while the receiver is down")
        lab.d.settled()
        lab.d.stop(signal.SIGKILL)
        for s in lab.socks.values():
            s.close()
        lab.socks = {}
        rcv.start()
        lab.d.start()
        for path in ("/generic", "/am", "/pd", "/slack"):
            wait_for(lambda: rcv.got(path), 40, f"the pending notification reaches {path} after the restart")
        time.sleep(2)
        trig = [k for e, k in events(rcv.got("/generic"), "generic") if e == "trigger" and "vpn-session-down" in k]
        check(len(trig) >= 1 and len(set(trig)) == 1, "the alert's trigger arrived; duplicates only with the same key", trig)
        pd = [e for e, _ in events(rcv.got("/pd"), "pd")]
        check(pd.count("trigger") >= 1, "pagerduty got the trigger", pd)
        check(lab.d.get(f"/api/v1/alerts/{a['id']}")["state"] == "firing", "the alert survived, still firing")
    finally:
        lab.close()
        rcv.stop()


def test_kill9_loop_during_delivery(tmp):
    """kill -9 at random moments while pages are in flight, six times: no page is lost."""
    import random
    rnd = random.Random(int(os.environ.get("PW_FAULT_SEED", "1")))
    rcv = Receiver().start()
    db = os.path.join(tmp, "pw.db")
    lab = NLab(tmp, rcv, db)
    try:
        lab.up()
        for round_ in range(6):
            # slow and failing answers keep deliveries in flight when the kill comes
            rcv.script["/generic"] = [("slow", {}), (500, {}), ("slow", {})]
            peer = ("10.17.11.76", "10.17.11.77")[round_ % 2]
            up = lab.vpn_down(peer)
            time.sleep(rnd.uniform(1.5, 4.0))
            lab.vpn_back(up, peer)
            time.sleep(rnd.uniform(0.0, 2.0))
            lab.d.stop(signal.SIGKILL)
            for sock in lab.socks.values():
                sock.close()
            lab.socks = {}
            lab.d.start()
            c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            check(c.execute("PRAGMA integrity_check").fetchone()[0] == "ok", f"round {round_}: integrity_check ok")
            c.close()
            lab.up()
        # quiet: every notification row ends delivered and was received at least once
        wait_for(lambda: lab.d.get("/api/v1/notifications", state="pending")["notifications"] == [], 90,
                 "no notification left pending")
        rows = lab.d.get("/api/v1/notifications", receiver="generic", limit=1000)["notifications"]
        check(rows and all(n["state"] == "delivered" for n in rows), "every generic notification delivered",
              [(n["id"], n["state"]) for n in rows if n["state"] != "delivered"])
        got = {a["notification_id"] for r in rcv.got("/generic") for a in r["body"]["alerts"]}
        lost = [n["id"] for n in rows if n["id"] not in got]
        check(not lost, f"each of the {len(rows)} notifications reached the receiver (at least once)", lost)
        trig = [k for e, k in events(rcv.got("/generic"), "generic") if e == "trigger"]
        check(len(set(trig)) >= 2, "triggers for both VPN sessions' alerts", trig)
    finally:
        lab.close()
        rcv.stop()


def test_flap_inside_hold_sends_nothing(tmp):
    rcv = Receiver().start()
    lab = NLab(tmp, rcv)
    try:
        lab.up()
        up = lab.vpn_down()
        lab.vpn_back(up)   # gone again before `for` (1s) elapses: never fires
        time.sleep(4)
        check(not lab.alerts("firing"), "no alert fired")
        check(not rcv.requests, "nothing was sent for a blip", [r["path"] for r in rcv.requests])
    finally:
        lab.close()
        rcv.stop()


def test_repeat_while_firing_and_silence(tmp):
    rcv = Receiver().start()
    lab = NLab(tmp, rcv, repeat="2s")
    try:
        lab.up()
        lab.vpn_down()
        lab.wait_alert("firing", rule="vpn-session-down", peer="10.17.11.77")
        vpn = lambda: [e for e, k in events(rcv.got("/generic"), "generic") if "vpn-session-down" in k]
        wait_for(lambda: vpn()[:3] == ["trigger", "repeat", "repeat"], 15, "repeats every 2 s while firing")
        # a silence stops the repeats
        code, s_ = lab.post("/api/v1/silences", {"matchers": {"rule": "vpn-session-down"}, "duration": "1h"})
        check(code == 201, "silence created", s_)
        time.sleep(1)
        n = len(vpn())
        time.sleep(4.5)
        check(len(vpn()) == n, "no repeat while silenced", vpn())
    finally:
        lab.close()
        rcv.stop()


if __name__ == "__main__":
    sys.exit(run_tests([
        ("each payload format, field by field; ack; resolve; test button; no secrets", test_formats_field_by_field),
        ("500s retried in order, 429 Retry-After, 400 failed and alerted", test_retries_errors_and_order),
        ("receiver down, collector killed with -9, restarted: delivered", test_receiver_down_and_kill9),
        ("kill -9 six times while pages are in flight: none lost", test_kill9_loop_during_delivery),
        ("a blip shorter than for: sends nothing", test_flap_inside_hold_sends_nothing),
        ("repeat_interval while firing; a silence stops the repeats", test_repeat_while_firing_and_silence),
    ]))
