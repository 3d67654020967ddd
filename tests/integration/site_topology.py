#!/usr/bin/env python3
"""Integration test: the reference site of docs/DOMAIN.md built from real FRR
routers in network namespaces, feeding pathwatch over BMP; each scripted fault
must raise (and, once undone, resolve) the right rule alert.

Usage:  tests/integration/site_topology.py PATH/TO/pathwatch [--keep] [--config FILE]

Topology (namespaces pws<pid>-NAME, all created and deleted by this script):

                 MSEE  AS 12076  (announces 10.17.11.0/25, 10.17.11.128/26)
   192.168.11.18/30 |                       | 192.168.11.22/30
   192.168.11.17/30 |                       | 192.168.11.21/30
          CE1 "SEA-MX03-01" AS 65020   CE2 "SEA-MX03-02" AS 65020
   (originate 10.1.11.0/25; route-map TO-FW sets local-pref 150 on the Azure prefixes)
   192.168.11.0/31  |                       | 192.168.11.2/31
   192.168.11.1/31  |                       | 192.168.11.3/31
                FW "SEA-SRX42-01" AS 65020 (originates 10.1.11.0/25)
                lo 192.168.11.88/32 -- eBGP (update-source .88) --
               /                                                  \\
     VPNGW0 AS 65515 lo 10.17.11.76/32          VPNGW1 AS 65515 lo 10.17.11.77/32
     (each announces 10.17.11.0/25 and 10.17.11.128/26; a veth per "tunnel",
      /32 device routes on both ends instead of IPsec)

   COL: the collector, one veth to each monitored router (172.30.{1,2,3}.1/30);
   CE1, CE2 and FW send BMP (pre- and post-policy) to 172.30.N.1:1790; the HTTP
   API listens on 127.0.0.1:8080 inside COL, reached through a helper process.
   The pager: a webhook receiver (http.server, answers 200, records every POST
   with its arrival time) on 127.0.0.1:8099 inside COL; the collector runs with
   the site config (--config) + `receivers:` (one generic receiver, HMAC secret)
   + `routes:` (group_wait 1s, repeat_interval 1h), written to the temp dir.

Scenarios (each fault must raise its alert FIRING within 15 s and, undone,
RESOLVED within 30 s; no firing alert of another rule meanwhile):
  0 healthy: zero firing, zero pending (watched until the rules really decide:
    FRR sends no BMP End-of-RIB for sessions established after the BMP connect,
    so that is initial_sync_timeout after the connect);
  1 ER primary session down;
  2 one VPN session down, paged: exactly one signed trigger, then one resolve
    with the same dedup_key, nothing else for the alert;
  3 a VPN gateway withdraws an Azure prefix;
  4 the CEs stop setting local-pref 150;
  5 collector SIGKILL + restart: (a) healthy: resolved alerts unchanged, nothing
    pending or firing, nothing paged; (b) while vpn-session-down fires: same alert
    (id, since) still firing after the restart, resolves after the undo; paged
    once (trigger before the restart, not re-sent after it), resolved once.
Scenario 0 also requires that the receiver got nothing at all.

Exit status: 0 = all scenarios passed, 1 = a scenario failed / error,
77 = skipped (no privileges for network namespaces or FRR missing; set
PATHWATCH_REQUIRE_INTEGRATION=1 to turn a skip into a failure).
Python 3 standard library only.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import nslab
from nslab import (BGPD, VTYSH, Skip, TestFailure, flat_asns, frr_bmp_uptimes, jdump, log,
                   observe, remaining, step, tail, wait_for)

TEST_DEADLINE = 290.0  # seconds, whole test
nslab.configure(deadline=TEST_DEADLINE, jdump_limit=8000)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.normpath(os.path.join(HERE, "..", "..", "examples", "sea-cust11.yaml"))
BMP_PORT = 1790
HTTP_PORT = 8080
TOKEN = "test-token"

FIRE_WITHIN = 15.0      # fault injected -> alert firing
RESOLVE_WITHIN = 30.0   # fault undone -> alert resolved
HEALTHY_SETTLE = 20.0   # scenario 0: quiet period before asserting no alerts
LATE_GRACE = 20.0       # after a missed deadline: how long to keep watching, to report

# ---- the pager: a webhook receiver inside COL, the collector's only receiver
PAGER_PORT = 8099                 # 127.0.0.1 inside COL (the namespace is the test's own)
PAGER_RECEIVER = "noc-webhook"
PAGER_SECRET = "pws-hmac-7c1e0b9a"  # HMAC-SHA256 key of the generic format
PAGER_WITHIN = 10.0     # alert firing / resolved -> its notification at the receiver
PAGER_SETTLE = 3.0      # after the last expected notification: watch for more

# ---- the site, as in docs/DOMAIN.md and examples/sea-cust11.yaml
SITE = "sea-cust11"
CE1, CE2, FW = "SEA-MX03-01", "SEA-MX03-02", "SEA-SRX42-01"
MONITORED = [CE1, CE2, FW]
ONPREM = "10.1.11.0/25"
AZURE = ["10.17.11.0/25", "10.17.11.128/26"]
ER_LP = 150
MSEE_AS, VPN_AS, ONPREM_AS = 12076, 65515, 65020
MSEE1, MSEE2 = "192.168.11.18", "192.168.11.22"       # MSEE side of ER primary / secondary
CE1_ER, CE2_ER = "192.168.11.17", "192.168.11.21"     # CE side
CE1_FW, FW_CE1 = "192.168.11.0", "192.168.11.1"
CE2_FW, FW_CE2 = "192.168.11.2", "192.168.11.3"
FW_VPN = "192.168.11.88"
VPN0, VPN1 = "10.17.11.76", "10.17.11.77"
VIEWS = ["pre-policy", "post-policy"]

# router key -> (hostname / BMP sysName, ASN, collector address it sends BMP to or None)
ROUTERS = {
    "MSEE": ("MSEE", MSEE_AS, None),
    "VPN0": ("VPNGW0", VPN_AS, None),
    "VPN1": ("VPNGW1", VPN_AS, None),
    "CE1": (CE1, ONPREM_AS, "172.30.1.1"),
    "CE2": (CE2, ONPREM_AS, "172.30.2.1"),
    "FW": (FW, ONPREM_AS, "172.30.3.1"),
}
NAMESPACES = ["COL", "MSEE", "VPN0", "VPN1", "CE1", "CE2", "FW"]
# (ns A, ifname in A, address in A, ns B, ifname in B, address in B)
LINKS = [
    ("MSEE", "ce1", MSEE1 + "/30", "CE1", "msee", CE1_ER + "/30"),
    ("MSEE", "ce2", MSEE2 + "/30", "CE2", "msee", CE2_ER + "/30"),
    ("CE1", "fw", CE1_FW + "/31", "FW", "ce1", FW_CE1 + "/31"),
    ("CE2", "fw", CE2_FW + "/31", "FW", "ce2", FW_CE2 + "/31"),
    ("FW", "vpn0", None, "VPN0", "fw", None),      # the "tunnels": /32 routes, see below
    ("FW", "vpn1", None, "VPN1", "fw", None),
    ("COL", "ce1", "172.30.1.1/30", "CE1", "col", "172.30.1.2/30"),
    ("COL", "ce2", "172.30.2.1/30", "CE2", "col", "172.30.2.2/30"),
    ("COL", "fw", "172.30.3.1/30", "FW", "col", "172.30.3.2/30"),
]
LOOPBACKS = {"FW": [FW_VPN], "VPN0": [VPN0], "VPN1": [VPN1]}
# (ns, destination, device, source address)
DEVICE_ROUTES = [
    ("FW", VPN0 + "/32", "vpn0", FW_VPN),
    ("FW", VPN1 + "/32", "vpn1", FW_VPN),
    ("VPN0", FW_VPN + "/32", "fw", VPN0),
    ("VPN1", FW_VPN + "/32", "fw", VPN1),
]

# sessions each monitored router must report up: (router, peer) -> peer AS
EXPECTED_PEERS = {
    (CE1, MSEE1): MSEE_AS, (CE1, FW_CE1): ONPREM_AS,
    (CE2, MSEE2): MSEE_AS, (CE2, FW_CE2): ONPREM_AS,
    (FW, CE1_FW): ONPREM_AS, (FW, CE2_FW): ONPREM_AS,
    (FW, VPN0): VPN_AS, (FW, VPN1): VPN_AS,
}
# where the Azure prefixes must be: (router, peer, AS path, local-pref or None = not checked)
AZURE_SOURCES = [
    (CE1, MSEE1, [MSEE_AS], None),
    (CE2, MSEE2, [MSEE_AS], None),
    (FW, CE1_FW, [MSEE_AS], ER_LP),
    (FW, CE2_FW, [MSEE_AS], ER_LP),
    (FW, VPN0, [VPN_AS], None),
    (FW, VPN1, [VPN_AS], None),
]

SEVERITY = {  # examples/sea-cust11.yaml
    "vpn-session-down": "critical", "vpn-routes-missing": "critical",
    "asymmetric-preference": "critical", "er-not-redundant": "warning",
}


class CollectorDied(TestFailure):
    pass


# --------------------------------------------------------------------------
# HTTP helper running inside the collector's namespace (nslab.Http)
# --------------------------------------------------------------------------

class Http(nslab.Http):
    page_limit = 1000

    def transport_error(self, path, e):
        c = self.env.collector
        if c is not None and c.poll() is not None:
            return CollectorDied("GET %s failed: %s (collector has exited with status %s)"
                                 % (path, e, c.returncode))
        return TestFailure("GET %s failed: %s (collector still running)" % (path, e))

    def get(self, path, **params):
        status, doc, body = self.try_get(path, **params)
        if status != 200:
            raise TestFailure("GET %s %s -> HTTP %s\n%s" % (path, params, status, body[:3000]))
        if doc is None:
            raise TestFailure("GET %s -> invalid JSON:\n%s" % (path, body[:3000]))
        return doc


# --------------------------------------------------------------------------
# The pager: a webhook receiver inside the collector's namespace
# --------------------------------------------------------------------------

# Runs as `ip netns exec COL python3 pager_receiver.py PORT OUT READY`: answers
# every POST with 200 and appends it to OUT as one JSON line (arrival time,
# path, headers, raw body in base64 so the HMAC can be checked byte for byte).
RECEIVER_CODE = r"""
import base64, http.server, json, sys, threading, time
port, out, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # answers `Expect: 100-continue`, keeps connections

    def body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self):
        raw = self.body()
        rec = {"t": time.time(), "method": self.command, "path": self.path,
               "headers": [[k, v] for k, v in self.headers.items()],
               "raw_b64": base64.b64encode(raw).decode()}
        with lock:
            with open(out, "a") as f:
                f.write(json.dumps(rec) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_PUT = do_POST

    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
srv.daemon_threads = True
open(ready, "w").close()
srv.serve_forever()
"""


class Pager:
    """The test's webhook receiver and what it recorded."""

    def __init__(self, env):
        self.env = env
        self.script = os.path.join(env.tmp, "pager_receiver.py")
        self.out = os.path.join(env.tmp, "pager.jsonl")
        self.ready = os.path.join(env.tmp, "pager.ready")
        self.log = os.path.join(env.tmp, "pager.log")
        self.url = "http://127.0.0.1:%d/hook" % PAGER_PORT
        self.proc = None

    def write_config(self, src):
        """src + `receivers:` (this receiver, generic format, signed) + `routes:`,
        checked with `pathwatch check-config`; returns the new file's path."""
        with open(src) as f:
            text = f.read()
        m = re.search(r"^(receivers|routes)\s*:", text, re.M)
        if m:
            raise TestFailure("%s already has a top-level `%s:`; the test adds its own receiver "
                              "and route (give a --config without them)" % (src, m.group(1)))
        text = text.rstrip("\n") + """

# ---- added by tests/integration/site_topology.py: the test's webhook receiver (in COL)
receivers:
  - name: {name}
    format: generic
    url: "{url}"
    secret: "{secret}"
    timeout: 2s
routes:
  - {{ receiver: {name}, group_wait: 1s, repeat_interval: 1h }}
""".format(name=PAGER_RECEIVER, url=self.url, secret=PAGER_SECRET)
        dst = os.path.join(self.env.tmp, "pathwatch.yaml")
        with open(dst, "w") as f:
            f.write(text)
        os.chmod(dst, 0o644)
        r = subprocess.run([self.env.collector_bin, "check-config", dst], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20,
                           env=dict(os.environ, PATHWATCH_TOKEN=TOKEN))
        if r.returncode != 0:
            raise TestFailure("`pathwatch check-config` rejected the configuration with the "
                              "test's receiver (exit %d):\n%s\n--- %s (tail)\n%s"
                              % (r.returncode, r.stdout.rstrip(), dst, tail(dst, 12)))
        log("config %s = %s + receiver %s (generic, signed, %s) + route (group_wait 1s, "
            "repeat_interval 1h); check-config: %s"
            % (dst, src, PAGER_RECEIVER, self.url, r.stdout.strip().splitlines()[0]))
        return dst

    def start(self):
        with open(self.script, "w") as f:
            f.write(RECEIVER_CODE)
        logf = open(self.log, "w")
        self.proc = self.env.spawn(
            ["ip", "netns", "exec", self.env.ns("COL"), sys.executable, "-u", self.script,
             str(PAGER_PORT), self.out, self.ready],
            name="pager-receiver", stdout=logf, stderr=subprocess.STDOUT)
        logf.close()

        def ready():
            if self.proc.poll() is not None:
                raise TestFailure("webhook receiver exited with status %s:\n%s"
                                  % (self.proc.returncode, tail(self.log)))
            return os.path.exists(self.ready)
        wait_for("webhook receiver listening on 127.0.0.1:%d in COL (pid %d)"
                 % (PAGER_PORT, self.proc.pid), ready, timeout=10, interval=0.1)

    def received(self):
        """Every request so far, in arrival order: dicts n, t, path, headers
        (lower-case names), raw (bytes), body (parsed JSON or None)."""
        if self.proc is None:
            return []
        if self.proc.poll() is not None:
            raise TestFailure("the webhook receiver exited with status %s:\n%s"
                              % (self.proc.returncode, tail(self.log)))
        try:
            with open(self.out, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        out = []
        for i, line in enumerate(data.split(b"\n")[:-1]):  # complete lines only
            rec = json.loads(line)
            raw = base64.b64decode(rec["raw_b64"])
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            out.append({"n": i + 1, "t": rec["t"], "method": rec.get("method"),
                        "path": rec.get("path"), "raw": raw, "body": body,
                        "headers": {k.lower(): v for k, v in rec.get("headers", [])}})
        return out


def pages_of(req):
    """The alert entries of a notification ([] unless a generic payload)."""
    b = req.get("body")
    a = b.get("alerts") if isinstance(b, dict) else None
    return [x for x in a if isinstance(x, dict)] if isinstance(a, list) else []


def signature_problem(req):
    """None if X-Pathwatch-Signature is the HMAC-SHA256 of the raw body, else why not."""
    want = "sha256=" + hmac.new(PAGER_SECRET.encode(), req["raw"], hashlib.sha256).hexdigest()
    got = req["headers"].get("x-pathwatch-signature")
    if got is None:
        return "no X-Pathwatch-Signature header"
    if not hmac.compare_digest(got.strip().lower(), want):
        return "X-Pathwatch-Signature %r, expected %r" % (got, want)
    return None


def page_brief(req, t0=None):
    es = pages_of(req)
    what = ", ".join("%s %s[%s] %s/%s dedup %s" % (e.get("event"), e.get("rule"), e.get("id"),
                                                  e.get("router"), e.get("peer"),
                                                  e.get("dedup_key")) for e in es)
    b = req.get("body")
    return "#%d %s%s %s status=%s: %s" % (
        req["n"], time.strftime("%H:%M:%S", time.localtime(req["t"])),
        ".%03d" % (req["t"] % 1 * 1000) if t0 is None else " (%+.1fs)" % (req["t"] - t0),
        req.get("path"), b.get("status") if isinstance(b, dict) else "?",
        what or ("body %r" % req["raw"][:200]))


def pager_diagnostics(env, reqs, alert_id=None, why=""):
    """Payloads as received, the delivery log and the collector's alert/notification lines."""
    print("\n--------- pager diagnostics%s ---------" % (" (%s)" % why if why else ""), flush=True)
    print("--- %d notification(s) received:" % len(reqs))
    for r in reqs:
        print(page_brief(r))
        print("    X-Pathwatch-Signature: %s" % r["headers"].get("x-pathwatch-signature"))
        print("    " + (jdump(r["body"], 3000) if r["body"] is not None
                        else repr(r["raw"][:3000])).replace("\n", "\n    "))
    try:
        st, doc, body = env.http.try_get("/api/v1/notifications", limit=50,
                                         alert=alert_id if alert_id else None)
        print("--- /api/v1/notifications%s -> HTTP %s:\n%s"
              % ("?alert=%s" % alert_id if alert_id else "", st,
                 jdump(doc, 6000) if doc is not None else body[:3000]))
    except TestFailure as e:
        print("(API not reachable: %s)" % e)
    try:
        with open(env.collector_log, errors="replace") as f:
            lines = [l.rstrip("\n") for l in f
                     if re.search(r"msg=\"(alert |notification|undelivered|monitoring sites)"
                                  r"|starting collector", l)]
    except OSError as e:
        lines = ["(%s)" % e]
    print("--- collector log, alert / notification lines (last 40 of %d):" % len(lines))
    print("\n".join(lines[-40:]))
    print("-------------------------------------------", flush=True)


class AlertPages:
    """What the receiver got for one alert from a mark on: one trigger when it
    fires, one resolve when it resolves, nothing else."""

    def __init__(self, env, res, rule, router, peer):
        self.env, self.res = env, res
        self.rule, self.router, self.peer = rule, router, peer
        self.mark = len(env.pager.received())
        self.t_mark = time.time()
        self.alert_id = None
        self.trigger = None
        self.failed = False
        self.restart_at = None   # time.time() of a collector restart in between, if any

    def since_mark(self):
        return self.env.pager.received()[self.mark:]

    def of_alert(self, reqs):
        return [r for r in reqs if any(e.get("id") == self.alert_id for e in pages_of(r))]

    def fail(self, msg):
        self.res.fail("pager: " + msg)
        self.failed = True

    def expected_dedup(self):
        return "pathwatch/%s|%s|%s|%s|" % (self.rule, SITE, self.router, self.peer)

    def check_payload(self, req, event, status):
        b = req["body"]
        es = pages_of(req)
        where = "notification #%d (%s)" % (req["n"], event)
        if not isinstance(b, dict):
            self.fail("%s: body is not a JSON object: %r" % (where, req["raw"][:300]))
            return
        probs = []
        sig = signature_problem(req)
        if sig:
            probs.append(sig)
        if req.get("path") != "/hook":
            probs.append("path %r, expected /hook" % req.get("path"))
        if "application/json" not in (req["headers"].get("content-type") or ""):
            probs.append("Content-Type %r" % req["headers"].get("content-type"))
        for k, v in (("version", "1"), ("receiver", PAGER_RECEIVER), ("status", status)):
            if b.get(k) != v:
                probs.append("%s %r, expected %r" % (k, b.get(k), v))
        if not es:
            probs.append("no alerts[]")
        else:
            a = es[0]
            for k, v in (("rule", self.rule), ("event", event), ("peer", self.peer),
                         ("router", self.router), ("site", SITE), ("id", self.alert_id),
                         ("dedup_key", self.expected_dedup())):
                if a.get(k) != v:
                    probs.append("alerts[0].%s %r, expected %r" % (k, a.get(k), v))
            if len(es) > 1:
                probs.append("%d alerts in one notification: %s"
                             % (len(es), ["%s[%s]" % (e.get("rule"), e.get("id")) for e in es]))
        if probs:
            self.fail("%s: %s" % (where, "; ".join(probs)))
        else:
            log("ok: pager %s: %s, signature valid" % (event, page_brief(req, self.t_mark)))

    def fired(self, alert):
        """The alert fired: exactly one trigger for it reaches the receiver."""
        self.alert_id = alert.get("id")
        t = time.monotonic()
        got = []
        while time.monotonic() - t < PAGER_WITHIN and remaining() > 0:
            got = self.of_alert(self.since_mark())
            if got:
                break
            time.sleep(0.2)
        if not got:
            self.fail("no notification for %s[%s] at the receiver within %.0fs of it firing"
                      % (self.rule, self.alert_id, PAGER_WITHIN))
        else:
            log("ok: notification for %s[%s] at the receiver %.1fs after the alert was seen "
                "firing" % (self.rule, self.alert_id, time.monotonic() - t))
            trig = [r for r in got if any(e.get("id") == self.alert_id and e.get("event") == "trigger"
                                          for e in pages_of(r))]
            if len(got) != 1 or len(trig) != 1:
                self.fail("%d notifications for %s[%s] right after it fired, expected exactly one "
                          "trigger: %s" % (len(got), self.rule, self.alert_id,
                                           [page_brief(r, self.t_mark) for r in got]))
            if got:
                self.trigger = got[0]
                self.check_payload(got[0], "trigger", "firing")
        if self.failed:
            pager_diagnostics(self.env, self.since_mark(), self.alert_id,
                              "scenario %s, trigger" % self.res.n)

    def resolved(self):
        """The alert resolved: exactly one resolve, same dedup_key; nothing else for it."""
        t = time.monotonic()
        res_reqs = []
        while time.monotonic() - t < PAGER_WITHIN and remaining() > 0:
            res_reqs = [r for r in self.of_alert(self.since_mark())
                        if any(e.get("id") == self.alert_id and e.get("event") == "resolve"
                               for e in pages_of(r))]
            if res_reqs:
                break
            time.sleep(0.2)
        if not res_reqs:
            self.fail("no resolve for %s[%s] at the receiver within %.0fs of it resolving"
                      % (self.rule, self.alert_id, PAGER_WITHIN))
        else:
            log("ok: resolve for %s[%s] at the receiver %.1fs after the alert was seen resolved; "
                "watching %.0fs for more" % (self.rule, self.alert_id, time.monotonic() - t,
                                             PAGER_SETTLE))
            time.sleep(PAGER_SETTLE)
        mine = self.of_alert(self.since_mark())
        events = [e.get("event") for r in mine for e in pages_of(r) if e.get("id") == self.alert_id]
        if events != ["trigger", "resolve"]:
            extra = ""
            if self.restart_at is not None:
                late = [r for r in mine if r["t"] > self.restart_at and any(
                    e.get("id") == self.alert_id and e.get("event") in ("trigger", "repeat")
                    for e in pages_of(r))]
                if late:
                    extra = " (re-sent after the collector restart, which did not remember " \
                            "it had paged this alert: %s)" % ", ".join(
                                "#%d %s %.1fs after the SIGKILL" % (
                                    r["n"], pages_of(r)[0].get("event"), r["t"] - self.restart_at)
                                for r in late)
            self.fail("notifications for %s[%s]: events %s, expected exactly [trigger, resolve]%s: %s"
                      % (self.rule, self.alert_id, events, extra,
                         [page_brief(r, self.t_mark) for r in mine]))
        if res_reqs:
            self.check_payload(res_reqs[0], "resolve", "resolved")
            keys = {e.get("dedup_key") for r in mine for e in pages_of(r)
                    if e.get("id") == self.alert_id}
            if len(keys) != 1:
                self.fail("dedup_key changed over the alert's life: %s" % sorted(map(str, keys)))
        # the same finding under another alert id (a new alert instead of this one)
        other = [r for r in self.since_mark() if any(
            e.get("id") != self.alert_id and e.get("rule") == self.rule
            and e.get("peer") == self.peer for e in pages_of(r))]
        if other:
            self.fail("notifications for another %s alert on %s: %s"
                      % (self.rule, self.peer, [page_brief(r, self.t_mark) for r in other]))
        try:
            with open(self.env.collector_log, errors="replace") as f:
                if PAGER_SECRET in f.read():
                    self.fail("the HMAC secret appears in the collector log %s"
                              % self.env.collector_log)
        except OSError:
            pass
        if self.failed:
            pager_diagnostics(self.env, self.since_mark(), self.alert_id,
                              "scenario %s, resolve" % self.res.n)


def wait_delivered(env, res, alert_id=None):
    """Until the collector has recorded every notification (and one for alert_id)
    as delivered: a re-send after a SIGKILL is then a bug, not an allowed duplicate."""
    def recorded():
        rows = observe(env.http.get("/api/v1/notifications", limit=1000)).get("notifications")
        rows = rows or []
        undelivered = [r for r in rows if r.get("state") != "delivered"]
        return (not undelivered and (alert_id is None or any(
            r.get("alert_id") == alert_id for r in rows))) or None
    try:
        wait_for("every notification%s recorded as delivered (/api/v1/notifications)"
                 % (" (alert %s's trigger too)" % alert_id if alert_id else ""),
                 recorded, timeout=PAGER_WITHIN, interval=0.2)
    except TestFailure as e:
        res.fail("pager: notifications not recorded as delivered before the SIGKILL: %s"
                 % str(e).splitlines()[0])
        print(str(e), flush=True)


def pager_quiet(env, res, mark, why):
    """No notification at all reached the receiver since `mark`."""
    got = env.pager.received()[mark:]
    if got:
        res.fail("pager: %d notification(s) reached the receiver %s: %s"
                 % (len(got), why, [page_brief(r) for r in got]))
        pager_diagnostics(env, got, None, "scenario %s" % res.n)
    else:
        log("ok: pager: nothing reached the receiver %s" % why)


# --------------------------------------------------------------------------
# Environment: namespaces, processes, temp dir, cleanup (see nslab.py)
# --------------------------------------------------------------------------

class Env(nslab.Lab):
    def __init__(self, collector, config, keep=False):
        super().__init__("pws", collector, keep)
        self.config = config
        self.db = os.path.join(self.tmp, "pw.db")
        self.http = Http(self, self.ns("COL"), HTTP_PORT)
        self.pager = Pager(self)

    def bgp(self, router, *cmds):
        """Configuration commands inside `router bgp ASN` of one router."""
        asn = ROUTERS[router][1]
        log("vtysh %s: %s" % (router, " / ".join(cmds)))
        return self.vtysh(router, "configure terminal", "router bgp %d" % asn, *cmds)

    # ---- topology
    def setup_netns(self):
        self.add_netns(*NAMESPACES)
        for key in NAMESPACES:
            self.run(["ip", "-n", self.ns(key), "link", "set", "lo", "up"])
        for (a, ia, aa, b, ib, ab) in LINKS:
            # created directly inside the two namespaces: no name clash in the root namespace
            self.run(["ip", "link", "add", "name", ia, "netns", self.ns(a), "type", "veth",
                      "peer", "name", ib, "netns", self.ns(b)])
            for ns, dev, addr in ((a, ia, aa), (b, ib, ab)):
                if addr:
                    self.run(["ip", "-n", self.ns(ns), "addr", "add", addr, "dev", dev])
                self.run(["ip", "-n", self.ns(ns), "link", "set", dev, "up"])
        for key, addrs in LOOPBACKS.items():
            for a in addrs:
                self.run(["ip", "-n", self.ns(key), "addr", "add", a + "/32", "dev", "lo"])
        for (key, dst, dev, src) in DEVICE_ROUTES:
            self.run(["ip", "-n", self.ns(key), "route", "add", dst, "dev", dev, "src", src])
        log("namespaces %s-{%s}; %d veth links" % (self.tag, ",".join(NAMESPACES), len(LINKS)))
        # the VPN "tunnels" must carry packets before BGP can use them
        for key, dst in (("FW", VPN0), ("FW", VPN1), ("VPN0", FW_VPN)):
            r = self.run(["ip", "netns", "exec", self.ns(key), "ping", "-c", "1", "-W", "2", dst],
                         check=False)
            if r.returncode != 0 and shutil.which("ping"):
                raise TestFailure("no connectivity %s -> %s:\n%s" % (key, dst, r.stdout))

    def start_bgpd(self, router, config):
        return super().start_bgpd(router, config, interval=0.1, log_start=False)

    def start_collector(self):
        args = ["--config", self.config] if self.config else []
        args += ["--db", self.db,
                 "--bmp-listen", "0.0.0.0:%d" % BMP_PORT,
                 "--http-listen", "127.0.0.1:%d" % HTTP_PORT]
        self.launch_collector(self.ns("COL"), args, banner="site_topology",
                              env=dict(os.environ, PATHWATCH_TOKEN=TOKEN))

    def collector_died(self, p):
        return CollectorDied("collector exited with status %s during startup:\n%s"
                             % (p.returncode, tail(self.collector_log, 20)))

    def frr_diagnostics(self, routers=("CE1", "CE2", "FW")):
        for router in routers:
            try:
                out = self.vtysh(router, "show bgp summary", "show bmp", check=False)
                print("--- vtysh %s: show bgp summary / show bmp\n%s" % (router, out.rstrip()))
            except Exception as e:
                print("(vtysh %s failed: %s)" % (router, e))
            print("--- bgpd %s log (tail)" % router)
            try:
                with open(os.path.join(self.tmp, router, "bgpd.log"), errors="replace") as f:
                    lines = [l for l in f if "zclient_send_message" not in l]
                print("".join(lines[-15:]).rstrip("\n"))
            except OSError as e:
                print("(%s)" % e)
        sys.stdout.flush()


# --------------------------------------------------------------------------
# FRR configuration
# --------------------------------------------------------------------------

def bgp_common(key, router_id):
    name, asn, _ = ROUTERS[key]
    return """\
hostname {name}
!
ip prefix-list AZURE seq 5 permit {az0}
ip prefix-list AZURE seq 10 permit {az1}
ip prefix-list ONPREM seq 5 permit {onprem}
!
""".format(name=name, az0=AZURE[0], az1=AZURE[1], onprem=ONPREM), """\
router bgp {asn}
 bgp router-id {rid}
 no bgp ebgp-requires-policy
 no bgp network import-check
 timers bgp 3 9
""".format(asn=asn, rid=router_id)


def neighbor(addr, asn, *extra):
    s = (" neighbor %s remote-as %d\n neighbor %s timers connect 1\n"
         " neighbor %s advertisement-interval 0\n" % (addr, asn, addr, addr))
    for e in extra:
        s += " neighbor %s %s\n" % (addr, e)
    return s


def bmp_block(key):
    col = ROUTERS[key][2]
    return """\
 bmp targets pw
  bmp monitor ipv4 unicast pre-policy
  bmp monitor ipv4 unicast post-policy
  bmp stats interval 5000
  bmp connect {col} port {port} min-retry 100 max-retry 1000
 exit
""".format(col=col, port=BMP_PORT)


def msee_config():
    head, rb = bgp_common("MSEE", MSEE1)
    return head + rb + neighbor(CE1_ER, ONPREM_AS) + neighbor(CE2_ER, ONPREM_AS) + """\
 address-family ipv4 unicast
  network {az0}
  network {az1}
 exit-address-family
exit
!
""".format(az0=AZURE[0], az1=AZURE[1], c1=CE1_ER, c2=CE2_ER)


def vpngw_config(key, addr):
    head, rb = bgp_common(key, addr)
    return head + rb + neighbor(FW_VPN, ONPREM_AS, "update-source %s" % addr,
                                "disable-connected-check") + """\
 address-family ipv4 unicast
  network {az0}
  network {az1}
 exit-address-family
exit
!
""".format(az0=AZURE[0], az1=AZURE[1], fw=FW_VPN)


def ce_config(key, my_er, msee, fw):
    head, rb = bgp_common(key, my_er)
    return head + """\
route-map TO-FW permit 10
 match ip address prefix-list AZURE
 set local-preference {lp}
exit
route-map TO-FW permit 20
exit
!
route-map TO-MSEE permit 10
 match ip address prefix-list ONPREM
exit
!
""".format(lp=ER_LP) + rb + neighbor(msee, MSEE_AS) + neighbor(fw, ONPREM_AS) + """\
 address-family ipv4 unicast
  network {onprem}
  neighbor {msee} route-map TO-MSEE out
  neighbor {msee} soft-reconfiguration inbound
  neighbor {fw} soft-reconfiguration inbound
  neighbor {fw} next-hop-self
  neighbor {fw} route-map TO-FW out
 exit-address-family
""".format(onprem=ONPREM, msee=msee, fw=fw) + bmp_block(key) + "exit\n!\n"


def fw_config():
    head, rb = bgp_common("FW", FW_VPN)
    vpn_extra = ("update-source %s" % FW_VPN, "disable-connected-check")
    return head + """\
route-map TO-VPN permit 10
 match ip address prefix-list ONPREM
exit
!
""" + rb + neighbor(CE1_FW, ONPREM_AS) + neighbor(CE2_FW, ONPREM_AS) + \
        neighbor(VPN0, VPN_AS, *vpn_extra) + neighbor(VPN1, VPN_AS, *vpn_extra) + """\
 address-family ipv4 unicast
  network {onprem}
  neighbor {c1} next-hop-self
  neighbor {c2} next-hop-self
  neighbor {c1} soft-reconfiguration inbound
  neighbor {c2} soft-reconfiguration inbound
  neighbor {v0} soft-reconfiguration inbound
  neighbor {v1} soft-reconfiguration inbound
  neighbor {v0} route-map TO-VPN out
  neighbor {v1} route-map TO-VPN out
 exit-address-family
""".format(onprem=ONPREM, c1=CE1_FW, c2=CE2_FW, v0=VPN0, v1=VPN1) + bmp_block("FW") + "exit\n!\n"


CONFIGS = {
    "MSEE": msee_config,
    "VPN0": lambda: vpngw_config("VPN0", VPN0),
    "VPN1": lambda: vpngw_config("VPN1", VPN1),
    "CE1": lambda: ce_config("CE1", CE1_ER, MSEE1, FW_CE1),
    "CE2": lambda: ce_config("CE2", CE2_ER, MSEE2, FW_CE2),
    "FW": fw_config,
}


# --------------------------------------------------------------------------
# What the collector shows: topology snapshot
# --------------------------------------------------------------------------

class Snapshot:
    def __init__(self, http):
        self.routers = {r.get("name"): r for r in http.get("/api/v1/routers").get("routers", [])}
        self.peers = {}
        for p in http.get("/api/v1/peers").get("peers", []):
            self.peers[(p.get("router"), p.get("address"))] = p
        self.routes = {}
        for r in http.get_all("/api/v1/rib", "routes"):
            self.routes[(r.get("router"), r.get("peer"), r.get("view"), r.get("prefix"))] = r

    def peer_state(self, router, addr):
        p = self.peers.get((router, addr))
        return p.get("state") if p else None

    def route(self, router, peer, prefix, view="post-policy"):
        return self.routes.get((router, peer, view, prefix))

    def summary(self):
        return {
            "routers": {n: r.get("connected") for n, r in self.routers.items()},
            "peers": {"%s/%s" % k: "%s AS%s" % (p.get("state"), p.get("asn"))
                      for k, p in sorted(self.peers.items(), key=lambda kv: str(kv[0]))},
            "routes": sorted("%s %s %s %s lp=%s path=%s" % (k[0], k[1], k[2], k[3],
                                                            r.get("local_pref"),
                                                            flat_asns(r.get("as_path")))
                             for k, r in self.routes.items()),
        }

    def health_problems(self):
        """Everything that differs from the healthy reference topology ([] = healthy)."""
        probs = []
        for name in MONITORED:
            r = self.routers.get(name)
            if not r or r.get("connected") is not True:
                probs.append("router %s not connected" % name)
        for (router, addr), asn in EXPECTED_PEERS.items():
            p = self.peers.get((router, addr))
            if not p or p.get("state") != "up":
                probs.append("peer %s/%s not up (%s)" % (router, addr, p and p.get("state")))
            elif p.get("asn") != asn:
                probs.append("peer %s/%s AS %s, expected %d" % (router, addr, p.get("asn"), asn))
        for (router, peer, path, lp) in AZURE_SOURCES:
            for prefix in AZURE:
                for view in VIEWS:
                    r = self.route(router, peer, prefix, view)
                    where = "%s %s %s %s" % (router, peer, view, prefix)
                    if not r:
                        probs.append(where + " missing")
                    elif flat_asns(r.get("as_path")) != path:
                        probs.append(where + " as_path %s, expected %s"
                                     % (r.get("as_path"), path))
                    elif lp is not None and r.get("local_pref") != lp:
                        probs.append(where + " local_pref %s, expected %s"
                                     % (r.get("local_pref"), lp))
                    elif r.get("stale"):
                        probs.append(where + " stale (feed not re-dumped yet)")
        for router, peer in ((CE1, FW_CE1), (CE2, FW_CE2)):
            if not self.route(router, peer, ONPREM):
                probs.append("%s %s post-policy %s missing" % (router, peer, ONPREM))
        return probs


def wait_healthy(env, what, timeout):
    def healthy():
        s = Snapshot(env.http)
        probs = s.health_problems()
        observe({"problems": probs, "state": s.summary()} if probs else None)
        return not probs
    return wait_for(what, healthy, timeout=timeout, interval=0.5)


# --------------------------------------------------------------------------
# Alerts (the contract being built)
# --------------------------------------------------------------------------

class AlertsUnavailable(Exception):
    pass


def alerts(http, state):
    status, doc, body = http.try_get("/api/v1/alerts", state=state)
    if status != 200 or not isinstance(doc, dict) or not isinstance(doc.get("alerts"), list):
        raise AlertsUnavailable("GET /api/v1/alerts?state=%s -> HTTP %s: %s"
                                % (state, status, body[:300].strip()))
    items = list(doc["alerts"])
    cursor = doc.get("next")
    for _ in range(50):
        if cursor in (None, "", False):
            break
        status, doc, body = http.try_get("/api/v1/alerts", state=state, cursor=cursor)
        if status != 200 or not isinstance(doc, dict):
            break
        items.extend(doc.get("alerts") or [])
        cursor = doc.get("next")
    return items


def all_alerts(http):
    out = {}
    for st in ("firing", "pending", "resolved"):
        try:
            out[st] = alerts(http, st)
        except AlertsUnavailable as e:
            out[st] = str(e)
    return out


def brief(a):
    return "%s[%s] %s/%s/%s %s since %s: %s" % (
        a.get("rule"), a.get("id"), a.get("router"), a.get("peer"), a.get("prefix"),
        a.get("state"), a.get("since"), a.get("summary"))


def text_of(x):
    return x if isinstance(x, str) else json.dumps(x, sort_keys=True)


def dump_alert_diagnostics(env, why):
    try:
        al = all_alerts(env.http)
    except TestFailure as e:
        al = str(e)
    if isinstance(al, dict) and all(isinstance(v, str) for v in al.values()):
        if getattr(env, "api_missing_reported", False):
            print("(diagnostics for %s: the alerts API is still unavailable, see above)" % why)
            return
        env.api_missing_reported = True
    print("\n--------- diagnostics (%s) ---------" % why, flush=True)
    try:
        print("--- /api/v1/alerts (all states):\n" + jdump(al))
        st, doc, body = env.http.try_get("/api/v1/sites")
        print("--- /api/v1/sites -> HTTP %s:\n%s" % (st, jdump(doc) if doc is not None
                                                    else body[:3000]))
    except TestFailure as e:
        print("(API not reachable: %s)" % e)
    print("--- collector log (tail): %s" % env.collector_log)
    print(tail(env.collector_log, 40))
    print("-------------------------------------------", flush=True)


# --------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------

class Result:
    def __init__(self, n, title):
        self.n, self.title = n, title
        self.failures = []
        self.notes = []

    def fail(self, msg):
        log("FAIL (scenario %s): %s" % (self.n, msg.splitlines()[0]))
        if "\n" in msg:
            print(msg, flush=True)
        self.failures.append(msg.splitlines()[0])

    def note(self, msg):
        log(msg)
        self.notes.append(msg)

    @property
    def ok(self):
        return not self.failures


def watch(env, res, allowed, seen, until, fn=None, interval=0.5):
    """Poll firing alerts until fn(firing) is truthy or `until` passes.
    Records firing alerts of rules not in `allowed` into `seen` (id -> alert).
    Returns fn's value or None."""
    while True:
        firing = alerts(env.http, "firing")
        for a in firing:
            if a.get("rule") not in allowed and a.get("id") not in seen:
                seen[a.get("id")] = a
                log("  unexpected firing alert: " + brief(a))
        if fn is not None:
            v = fn(firing)
            if v:
                return v
        if time.monotonic() >= until or remaining() <= 0:
            return None
        time.sleep(interval)


def check_alert_fields(res, a, rule, router, peer=None, prefix=None):
    ok = True
    for k in ("id", "rule", "state", "site", "router", "peer", "prefix", "severity", "since",
              "summary", "evidence"):
        if k not in a:
            res.fail("alert %s lacks field %r" % (a.get("id"), k))
            ok = False
    if a.get("site") != SITE:
        res.fail("alert %s: site %r, expected %r" % (a.get("id"), a.get("site"), SITE))
        ok = False
    if rule in SEVERITY and a.get("severity") != SEVERITY[rule]:
        res.fail("alert %s: severity %r, expected %r (examples/sea-cust11.yaml)"
                 % (a.get("id"), a.get("severity"), SEVERITY[rule]))
        ok = False
    if not a.get("evidence"):
        res.fail("alert %s: empty evidence" % a.get("id"))
        ok = False
    ev = text_of(a.get("evidence")) + " " + text_of(a.get("summary"))
    for what in (peer, prefix):
        if what and what not in ev:
            res.note("note: alert %s: summary/evidence do not mention %s" % (a.get("id"), what))
    return ok


def run_fault(env, n, title, inject, injected, undo, rule, router, peer=None, prefixes=None,
              allowed=(), extra_check=None, paged=False):
    """Inject a fault, expect `rule` firing (router/peer/prefixes), undo, expect resolved.
    paged: also expect exactly one trigger and then one resolve for it at the receiver."""
    step("%s. %s" % (n, title))
    res = Result(n, title)
    http = env.http
    allowed = set(allowed) | {rule}
    seen_other = {}
    pages = AlertPages(env, res, rule, router, peer) if paged else None
    t_inj = time.monotonic()
    inject()
    try:
        wait_for("fault visible in the collector's peers/RIB", lambda: injected(Snapshot(http)),
                 timeout=FIRE_WITHIN)
    except TestFailure as e:
        res.fail("fault not visible through /api/v1/peers, /api/v1/rib: %s" % e)
        env.frr_diagnostics()
    fired = None
    if res.ok:
        def match(firing):
            m = [a for a in firing if a.get("rule") == rule and a.get("router") == router
                 and (peer is None or a.get("peer") == peer)]
            if prefixes:
                got = {a.get("prefix") for a in m}
                if not set(prefixes) <= got:
                    return None
                m = [a for a in m if a.get("prefix") in prefixes]
            return m or None
        try:
            fired = watch(env, res, allowed, seen_other, t_inj + FIRE_WITHIN, match)
            if fired:
                log("ok: %s firing %.1fs after the fault:\n    %s"
                    % (rule, time.monotonic() - t_inj, "\n    ".join(brief(a) for a in fired)))
                for a in fired:
                    check_alert_fields(res, a, rule, router, peer, a.get("prefix"))
                if extra_check:
                    extra_check(res, fired)
                if pages:
                    if len(fired) != 1:
                        res.fail("pager: expected one %s alert, %d fire" % (rule, len(fired)))
                    pages.fired(fired[0])
            else:
                firing = alerts(http, "firing")
                res.fail("no firing %s alert (router %s, peer %s, prefix %s) within %.0fs; "
                         "firing: %s" % (rule, router, peer, "/".join(prefixes or []) or None,
                                         FIRE_WITHIN, [brief(a) for a in firing] or "none"))
        except AlertsUnavailable as e:
            res.fail("alerts API unavailable: %s" % e)
    if not res.ok:
        dump_alert_diagnostics(env, "scenario %s" % n)

    # ---- undo
    t_undo = time.monotonic()
    undo()
    try:
        wait_healthy(env, "topology healthy again after undoing the fault", RESOLVE_WITHIN)
    except TestFailure as e:
        res.fail("topology did not heal after the undo: %s" % e)
        env.frr_diagnostics()
    if fired:
        ids = {a.get("id") for a in fired}

        def resolved(firing):
            still = {a.get("id") for a in firing} & ids
            if still:
                return None
            done = {a.get("id"): a for a in alerts(http, "resolved") if a.get("id") in ids}
            return done if set(done) == ids else None
        try:
            done = watch(env, res, allowed, seen_other, t_undo + RESOLVE_WITHIN, resolved)
            if done:
                log("ok: resolved %.1fs after the undo: %s"
                    % (time.monotonic() - t_undo, ", ".join(brief(a) for a in done.values())))
                for a in done.values():
                    if a.get("state") != "resolved":
                        res.fail("alert %s listed under state=resolved with state %r"
                                 % (a.get("id"), a.get("state")))
                if pages and pages.alert_id is not None:
                    pages.resolved()
            else:
                late = watch(env, res, allowed, seen_other, time.monotonic() + LATE_GRACE,
                             resolved)
                res.fail("%s alert(s) %s not resolved within %.0fs of the undo (%s)"
                         % (rule, sorted(ids, key=str), RESOLVE_WITHIN,
                            "resolved after %.1fs" % (time.monotonic() - t_undo) if late
                            else "still not resolved after %.0fs" % (RESOLVE_WITHIN + LATE_GRACE)))
            # whatever else this fault raised (same rule elsewhere) must also clear
            left = watch(env, res, allowed, seen_other, time.monotonic() + 15,
                         lambda firing: not firing or None)
            if left is None:
                res.fail("alerts still firing 15s after resolution: %s"
                         % [brief(a) for a in alerts(http, "firing")])
        except AlertsUnavailable as e:
            res.fail("alerts API unavailable: %s" % e)
    if seen_other:
        res.fail("firing alerts of other rules appeared: %s"
                 % "; ".join(brief(a) for a in seen_other.values()))
    if not res.ok and fired:
        dump_alert_diagnostics(env, "scenario %s, after undo" % n)
    return res


def initial_sync_timeout(config):
    """initial_sync_timeout of the site (seconds), from the YAML; 30 if absent."""
    try:
        with open(config) as f:
            m = re.search(r"^\s*initial_sync_timeout:\s*(\d+)\s*s?\b", f.read(), re.M)
        return float(m.group(1)) if m else 30.0
    except (OSError, TypeError):
        return 30.0


def scenario_healthy(env, t_bmp):
    # FRR 8.4 sends no BMP End-of-RIB for sessions that come up after the BMP
    # session began (here: all of them, the collector starts first), so the
    # rules only decide initial_sync_timeout after the BMP connect. Wait past
    # that plus the rules' `for` before judging "healthy".
    sync = initial_sync_timeout(env.config)
    end = max(time.monotonic() + HEALTHY_SETTLE, t_bmp + sync + 8.0)
    step("0. healthy site: no firing and no pending alert (watching %.0fs: convergence + %.0fs "
         "and BMP connect + initial_sync_timeout %.0fs + 8s)"
         % (end - time.monotonic(), HEALTHY_SETTLE, sync))
    res = Result(0, "healthy topology: zero firing, zero pending")
    http = env.http
    seen = {}
    try:
        pend = {}

        def pending_too(firing):
            for a in alerts(http, "pending"):
                if a.get("id") not in pend:
                    pend[a.get("id")] = a
                    log("  pending: " + brief(a))
            return None
        watch(env, res, set(), seen, end, pending_too, interval=1.0)
        if seen:
            res.fail("firing while healthy: %s" % "; ".join(brief(a) for a in seen.values()))
        if pend:
            res.note("note: pending while healthy (not fired): %s"
                     % "; ".join(brief(a) for a in pend.values()))
        firing = alerts(http, "firing")
        pending = alerts(http, "pending")
        if firing or pending:
            res.fail("after %.0fs healthy: firing=%s pending=%s"
                     % (HEALTHY_SETTLE, [brief(a) for a in firing], [brief(a) for a in pending]))
        else:
            log("ok: zero firing, zero pending")
    except AlertsUnavailable as e:
        res.fail("alerts API unavailable: %s" % e)
    st, doc, body = http.try_get("/api/v1/sites")
    sites = doc.get("sites") if isinstance(doc, dict) else None
    if st != 200 or not isinstance(sites, list):
        res.fail("GET /api/v1/sites -> HTTP %s: %s" % (st, body[:200].strip()))
    else:
        names = [s.get("name") for s in sites if isinstance(s, dict)]
        if SITE not in names:
            res.fail("/api/v1/sites does not list %s (got %s)" % (SITE, names))
        else:
            site = [x for x in sites if x.get("name") == SITE][0]
            log("ok: /api/v1/sites lists %s:\n%s" % (SITE, jdump(site, 2500)))
            waiting = sorted(set(re.findall(r"waiting for [^\"]*", json.dumps(site))))
            if waiting:
                res.fail("/api/v1/sites: rules still not deciding: %s" % waiting)
    pager_quiet(env, res, 0, "since the collector started (site healthy)")
    if not res.ok:
        dump_alert_diagnostics(env, "scenario 0")
    return res


def scenario_lp_check(res, fired):
    for a in fired:
        if not re.search(r"local[-_ ]?pref", text_of(a.get("evidence")), re.I):
            res.fail("asymmetric-preference alert %s: evidence does not mention local-pref: %s"
                     % (a.get("id"), text_of(a.get("evidence"))[:300]))


def restart_and_wait(env):
    t = time.monotonic()
    env.kill_collector(signal.SIGKILL)
    env.start_collector()

    def frr_reconnected():
        fresh = []
        for key in ("CE1", "CE2", "FW"):
            ups = frr_bmp_uptimes(env.vtysh(key, "show bmp"))
            if any(u <= time.monotonic() - t + 1 for u in ups):
                fresh.append(key)
        observe("routers with a new BMP session (FRR `show bmp`): %s" % fresh)
        return len(fresh) == 3

    def connected():
        doc = observe(env.http.get("/api/v1/routers"))
        up = {r.get("name") for r in doc.get("routers", []) if r.get("connected") is True}
        return set(MONITORED) <= up
    wait_for("CE1, CE2, FW show a new BMP session (show bmp)", frr_reconnected, timeout=20)
    wait_for("all three routers connected in /api/v1/routers", connected, timeout=20)
    log("routers reconnected %.1fs after the SIGKILL" % (time.monotonic() - t))


def alert_key(a):
    return (a.get("id"), a.get("rule"), a.get("router"), a.get("peer"), a.get("prefix"),
            a.get("since"))


def scenario_restart(env, results_so_far):
    http = env.http
    # ---- 5a: healthy restart
    step("5a. collector SIGKILL + restart on the same db, site healthy")
    res = Result("5a", "restart while healthy: resolved kept, nothing re-fires")
    wait_delivered(env, res)
    mark = len(env.pager.received())
    try:
        before = {st: alerts(http, st) for st in ("firing", "pending", "resolved")}
        log("before: %d firing, %d pending, %d resolved"
            % tuple(len(before[s]) for s in ("firing", "pending", "resolved")))
    except AlertsUnavailable as e:
        before = None
        res.fail("alerts API unavailable: %s" % e)
    restart_and_wait(env)
    try:
        wait_healthy(env, "topology healthy after the restart", 20)
    except TestFailure as e:
        res.fail("topology not healthy after the restart: %s" % e)
    if before is not None:
        try:
            seen = {}
            pend = {}

            def pending_too(firing):
                for a in alerts(http, "pending"):
                    if a.get("id") not in pend:
                        pend[a.get("id")] = a
                        log("  pending after the restart: " + brief(a))
                return None
            sync = initial_sync_timeout(env.config)
            watch(env, res, set(), seen, time.monotonic() + max(HEALTHY_SETTLE, sync + 8.0),
                  pending_too, interval=1.0)
            if seen:
                res.fail("alerts fired after the restart: %s"
                         % "; ".join(brief(a) for a in seen.values()))
            if pend:
                res.fail("alerts went pending after the restart (nothing changed in the "
                         "network): %s" % "; ".join(brief(a) for a in pend.values()))
            pending = alerts(http, "pending")
            if pending:
                res.fail("still pending after the restart: %s" % [brief(a) for a in pending])
            after_list = alerts(http, "resolved")
            after = {alert_key(a): a for a in after_list}
            by_id = {a.get("id"): a for a in after_list}
            lost = [a for a in before["resolved"] if alert_key(a) not in after]
            if lost:
                res.fail("resolved alerts lost or rewritten by the restart: %s"
                         % "; ".join("%s[%s] %s/%s since %s -> %s" % (
                             a.get("rule"), a.get("id"), a.get("router"), a.get("peer"),
                             a.get("since"),
                             ("since %s" % by_id[a.get("id")].get("since"))
                             if a.get("id") in by_id else "gone from state=resolved")
                             for a in lost))
            else:
                log("ok: all %d resolved alerts kept (same id/since), nothing firing or pending"
                    % len(before["resolved"]))
            if not before["resolved"] and any(r.n in (1, 2, 3, 4) for r in results_so_far):
                res.note("note: no resolved alert existed before the restart to check")
        except AlertsUnavailable as e:
            res.fail("alerts API unavailable: %s" % e)
    pager_quiet(env, res, mark, "since the restart (all paged before it recorded as delivered)")
    if not res.ok:
        dump_alert_diagnostics(env, "scenario 5a")
    out = [res]

    # ---- 5b: restart while an alert is firing
    step("5b. collector SIGKILL + restart while vpn-session-down is firing")
    res = Result("5b", "restart while firing: same alert stays firing, then resolves")
    allowed = {"vpn-session-down"}
    seen_other = {}
    pages = AlertPages(env, res, "vpn-session-down", FW, VPN0)
    env.bgp("VPN0", "neighbor %s shutdown" % FW_VPN)
    t_inj = time.monotonic()
    fired = None
    try:
        fired = watch(env, res, allowed, seen_other, t_inj + FIRE_WITHIN, lambda f: [
            a for a in f if a.get("rule") == "vpn-session-down" and a.get("peer") == VPN0] or None)
        if not fired:
            res.fail("vpn-session-down for %s not firing within %.0fs" % (VPN0, FIRE_WITHIN))
        else:
            log("ok: firing before the restart: %s" % brief(fired[0]))
            pages.fired(fired[0])
            wait_delivered(env, res, fired[0].get("id"))
    except AlertsUnavailable as e:
        res.fail("alerts API unavailable: %s" % e)
    pages.restart_at = time.time()
    restart_and_wait(env)
    if fired:
        key = alert_key(fired[0])
        try:
            t = time.monotonic()
            ok = None
            while time.monotonic() - t < FIRE_WITHIN:
                for a in alerts(http, "resolved"):
                    if a.get("id") == key[0]:
                        res.fail("alert %s went to resolved after the restart although the "
                                 "session is still down: %s" % (key[0], brief(a)))
                        ok = False
                if ok is False:
                    break
                firing = alerts(http, "firing")
                for a in firing:
                    if a.get("rule") not in allowed and a.get("id") not in seen_other:
                        seen_other[a.get("id")] = a
                same = [a for a in firing if alert_key(a) == key]
                dup = [a for a in firing if a.get("rule") == "vpn-session-down"
                       and a.get("peer") == VPN0 and a.get("id") != key[0]]
                if dup:
                    res.fail("a new vpn-session-down alert replaced %s after the restart: %s"
                             % (key[0], [brief(a) for a in dup]))
                    break
                if same:
                    ok = True
                    log("ok: still firing after the restart, same id and since: %s"
                        % brief(same[0]))
                    break
                time.sleep(0.5)
            if ok is None:
                res.fail("alert %s not firing (same id/since) within %.0fs after the restart; "
                         "firing: %s" % (key[0], FIRE_WITHIN,
                                         [brief(a) for a in alerts(http, "firing")]))
        except AlertsUnavailable as e:
            res.fail("alerts API unavailable: %s" % e)
    t_undo = time.monotonic()
    env.bgp("VPN0", "no neighbor %s shutdown" % FW_VPN)
    try:
        wait_healthy(env, "topology healthy again", RESOLVE_WITHIN)
    except TestFailure as e:
        res.fail("topology did not heal: %s" % e)
    if fired:
        try:
            ids = {fired[0].get("id")}
            done = watch(env, res, allowed, seen_other, t_undo + RESOLVE_WITHIN, lambda f: (
                not ({a.get("id") for a in f} & ids)
                and ids <= {a.get("id") for a in alerts(http, "resolved")}) or None)
            if done:
                log("ok: resolved %.1fs after the undo" % (time.monotonic() - t_undo))
                if pages.alert_id is not None:
                    pages.resolved()
            else:
                sites_now = env.http.try_get("/api/v1/sites")[1]
                waiting = sorted(set(re.findall(r"waiting for [^\"]*", json.dumps(sites_now))))
                late = watch(env, res, allowed, seen_other, time.monotonic() + LATE_GRACE,
                             lambda f: (not ({a.get("id") for a in f} & ids)
                                        and ids <= {a.get("id") for a in alerts(http, "resolved")})
                             or None)
                res.fail("alert %s not resolved within %.0fs of the undo (%s)%s"
                         % (fired[0].get("id"), RESOLVE_WITHIN,
                            "resolved after %.1fs" % (time.monotonic() - t_undo) if late
                            else "still not resolved after %.0fs" % (RESOLVE_WITHIN + LATE_GRACE),
                            "; /api/v1/sites at the deadline: %s" % waiting if waiting else ""))
        except AlertsUnavailable as e:
            res.fail("alerts API unavailable: %s" % e)
    if seen_other:
        res.fail("firing alerts of other rules appeared: %s"
                 % "; ".join(brief(a) for a in seen_other.values()))
    if not res.ok:
        dump_alert_diagnostics(env, "scenario 5b")
    out.append(res)
    return out


def set_er_local_pref(env, on):
    for key, fw_addr in (("CE1", FW_CE1), ("CE2", FW_CE2)):
        log("vtysh %s: route-map TO-FW permit 10: %sset local-preference %d; soft out to %s"
            % (key, "" if on else "no ", ER_LP, fw_addr))
        env.vtysh(key, "configure terminal", "route-map TO-FW permit 10",
                  ("" if on else "no ") + "set local-preference %d" % ER_LP)
        env.vtysh(key, "clear bgp ipv4 unicast %s soft out" % fw_addr)


def test(env, results):
    http = env.http
    step("setup: namespaces, webhook receiver, collector, FRR routers")
    env.config = env.pager.write_config(env.config)
    env.setup_netns()
    env.pager.start()
    env.start_collector()
    for key in ("MSEE", "VPN0", "VPN1", "CE1", "CE2", "FW"):
        env.start_bgpd(key, CONFIGS[key]())
    log("bgpd started: %s" % ", ".join("%s pid %d" % (k, p.pid) for k, p in env.bgpd.items()))
    t = time.monotonic()
    wait_healthy(env, "reference topology converged (3 routers, 8 sessions, Azure routes "
                 "with the expected AS paths and local-pref 150 from the CEs)", 45)
    log("converged %.1fs after the routers started" % (time.monotonic() - t))

    results.append(scenario_healthy(env, t))

    results.append(run_fault(
        env, 1, "ER primary session down (CE1: neighbor %s shutdown)" % MSEE1,
        inject=lambda: env.bgp("CE1", "neighbor %s shutdown" % MSEE1),
        injected=lambda s: s.peer_state(CE1, MSEE1) == "down"
        and not s.route(FW, CE1_FW, AZURE[0]),
        undo=lambda: env.bgp("CE1", "no neighbor %s shutdown" % MSEE1),
        rule="er-not-redundant", router=CE1, peer=MSEE1))

    results.append(run_fault(
        env, 2, "one VPN session down (VPNGW0: neighbor %s shutdown)" % FW_VPN,
        inject=lambda: env.bgp("VPN0", "neighbor %s shutdown" % FW_VPN),
        injected=lambda s: s.peer_state(FW, VPN0) == "down",
        undo=lambda: env.bgp("VPN0", "no neighbor %s shutdown" % FW_VPN),
        rule="vpn-session-down", router=FW, peer=VPN0, paged=True))

    results.append(run_fault(
        env, 3, "VPNGW1 withdraws %s (no network)" % AZURE[1],
        inject=lambda: env.bgp("VPN1", "address-family ipv4 unicast", "no network %s" % AZURE[1]),
        injected=lambda s: not s.route(FW, VPN1, AZURE[1]) and s.route(FW, VPN1, AZURE[0])
        and s.route(FW, VPN0, AZURE[1]),
        undo=lambda: env.bgp("VPN1", "address-family ipv4 unicast", "network %s" % AZURE[1]),
        rule="vpn-routes-missing", router=FW, peer=VPN1, prefixes=[AZURE[1]]))

    results.append(run_fault(
        env, 4, "both CEs stop setting local-preference %d toward the firewall" % ER_LP,
        inject=lambda: set_er_local_pref(env, False),
        injected=lambda s: all(s.route(FW, ce, p) and s.route(FW, ce, p).get("local_pref") != ER_LP
                               for ce in (CE1_FW, CE2_FW) for p in AZURE),
        undo=lambda: set_er_local_pref(env, True),
        rule="asymmetric-preference", router=FW, prefixes=AZURE,
        extra_check=scenario_lp_check))

    results.extend(scenario_restart(env, results))


# --------------------------------------------------------------------------

def main(argv):
    args = []
    keep = False
    config = DEFAULT_CONFIG
    it = iter(argv[1:])
    for a in it:
        if a == "--keep":
            keep = True
        elif a == "--config":
            config = next(it, None)
        elif a.startswith("--config="):
            config = a.split("=", 1)[1]
        elif a.startswith("--"):
            args = []
            break
        else:
            args.append(a)
    if len(args) != 1 or config is None:
        print("usage: %s PATH/TO/pathwatch [--keep] [--config FILE]" % argv[0], file=sys.stderr)
        return 2
    collector = os.path.abspath(args[0])
    config = os.path.abspath(config) if config else None
    if not nslab.check_collector(collector):
        return 1
    if config and not os.path.isfile(config):
        print("FAIL: site configuration %s not found" % config)
        return 1
    status = nslab.check_tools(((BGPD, "FRR bgpd (apt-get install frr)"),
                                (VTYSH, "FRR vtysh (apt-get install frr)")))
    if status is not None:
        return status
    log("using %s, %s, collector %s, config %s" % (BGPD, VTYSH, collector, config))

    env = None
    status = 1
    results = []
    nslab.trap_signals(TEST_DEADLINE + 20)
    aborted = None
    pages = None
    try:
        env = Env(collector, config, keep=keep)
        log("temp dir %s" % env.tmp)
        try:
            test(env, results)
        except TestFailure as e:
            aborted = str(e)
            print("\nFAIL (aborting the run): %s" % e, flush=True)
            dump_alert_diagnostics(env, "abort")
            env.frr_diagnostics(("MSEE", "VPN0", "VPN1", "CE1", "CE2", "FW"))
        except Exception:
            import traceback
            traceback.print_exc()
            aborted = "internal error (traceback above)"
            dump_alert_diagnostics(env, "internal error")
    except Skip as e:
        status = nslab.skip_status(str(e))
        results = None
    except KeyboardInterrupt as e:
        print("\nINTERRUPTED (%s), cleaning up" % (e or "Ctrl-C"), flush=True)
        status = 130
        results = None
    finally:
        nslab.release_signals()
        if env:
            try:
                pages = env.pager.received() if env.pager.proc else None
            except Exception as e:
                print("(webhook receiver log unreadable: %s)" % str(e).splitlines()[0])
            env.cleanup()
            log("cleaned up (processes, namespaces%s)" % ("" if keep else ", temp dir"))
    if results is None:
        return status
    if pages is not None:
        print("\n--- the webhook receiver got %d notification(s):" % len(pages))
        for r in pages:
            print("  " + page_brief(r) + ("" if signature_problem(r) is None
                                          else "  [%s]" % signature_problem(r)))
    print("\n================ summary ================", flush=True)
    for r in results:
        print("scenario %-3s %s  %s" % (r.n, "PASS" if r.ok else "FAIL", r.title))
        for f in r.failures:
            print("      - " + f[:400])
    if aborted:
        print("run aborted: %s" % aborted.splitlines()[0])
    npass = sum(1 for r in results if r.ok)
    nfail = len(results) - npass + (1 if aborted else 0)
    print("%d passed, %d failed (%.0fs)" % (npass, nfail, time.monotonic() - nslab.T0),
          flush=True)
    return 0 if nfail == 0 and not aborted else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
