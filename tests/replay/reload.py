#!/usr/bin/env python3
"""Signals on a running daemon. SIGHUP reloads the configuration file (sites,
rules, receivers, routes, the BMP allow-list) without dropping a BMP
connection; an invalid file is rejected with a clear log line and the
running configuration kept. SIGTERM shuts down cleanly: routes received just
before it are in the database after a restart.

usage: reload.py PATHWATCH
"""
import http.server
import json
import os
import signal
import socket
import sys
import threading
import time

import bmpwriter as bw
from pwtest import Daemon, check, run_tests, still_open, wait_for

PW = sys.argv[1]
TOKEN = "reload-test-token"


class Receiver(http.server.ThreadingHTTPServer):
    """A real webhook receiver on loopback, recording what it gets."""

    def __init__(self):
        got = self.got = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                got.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        super().__init__(("127.0.0.1", 0), H)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def site(name, router):
    return (f"  - name: {name}\n    routers: [{router}]\n    azure_prefixes: [10.200.0.0/16]\n"
            f"    rules:\n      default: {{ for: 1s, hold: 1s }}\n")


def peer_hdr():
    return bw.peer_header("192.0.2.1", 65001, bgp_id="192.0.2.1")


def start_stream(name):
    return bw.initiation(name) + bw.peer_up(peer_hdr(), "192.0.2.2", 65000, 65001, "192.0.2.1")


def announce(prefixes):
    return bw.route_monitoring(peer_hdr(), bw.update(prefixes, path_attrs=bw.attrs((65001,), "192.0.2.1")))


def connect(port, src):
    return socket.create_connection(("127.0.0.1", port), source_address=(src, 0))


def post(d, path):
    try:
        with d.open(path, data=b"", method="POST", headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            return r.status
    except Exception as e:
        return getattr(e, "code", None)


def log_has(d, text, n=1):
    return d.log_text().count(text) >= n


def test_sighup(tmp):
    rx = Receiver()
    cfg = os.path.join(tmp, "pathwatch.yaml")

    def write(text):
        with open(cfg + ".new", "w") as f:
            f.write(text)
        os.replace(cfg + ".new", cfg)

    base = f"api:\n  token: {TOKEN}\n"
    write(base + 'collector:\n  bmp_allow: ["127.0.0.1/32", "127.0.0.3/32"]\nsites:\n' + site("site-one", "r1"))
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, ["--config", cfg]).start()
    try:
        r1 = connect(d.bmp_port, "127.0.0.1")
        r1.sendall(start_stream("r1") + announce(["10.1.0.0/24"]))
        r3 = connect(d.bmp_port, "127.0.0.3")
        r3.sendall(start_stream("r3") + announce(["10.3.0.0/24"]))
        wait_for(lambda: len(d.all_routes()) == 2, 10, "routes of r1 and r3")
        wait_for(lambda: [s["name"] for s in d.get("/api/v1/sites")["sites"]] == ["site-one"], 10, "site-one")
        check(post(d, "/api/v1/receivers/pager/test") == 404, "a receiver that is not configured yet")

        # a new site, a receiver and its route; 127.0.0.3 leaves the allow-list
        write(base + 'collector:\n  bmp_allow: ["127.0.0.1/32"]\nsites:\n' + site("site-one", "r1") +
              site("site-two", "r1") +
              f"receivers:\n  - name: pager\n    format: generic\n    url: http://127.0.0.1:{rx.server_port}/hook\n"
              "routes:\n  - receiver: pager\n")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: log_has(d, 'msg="configuration reloaded"'), 10, "the reload is not logged")
        wait_for(lambda: [s["name"] for s in d.get("/api/v1/sites")["sites"]] == ["site-one", "site-two"], 10,
                 "site-two did not appear after the reload")
        check(post(d, "/api/v1/receivers/pager/test") == 201, "the new receiver is not usable")
        wait_for(lambda: any(p == "/hook" for p, _ in rx.got), 15, "the new receiver got nothing")
        check(still_open(r1), "r1's BMP connection was dropped by the reload")
        r1.sendall(announce(["10.1.1.0/24"]))
        wait_for(lambda: len(d.all_routes(router="r1")) == 2, 10, "r1's routes after the reload do not arrive")
        routers = {r["name"]: r for r in d.get("/api/v1/routers")["routers"]}
        check(routers["r1"]["connected"] and not routers["r3"]["connected"],
              "r1 must stay connected, r3 (no longer allowed) be closed", routers)
        check(d.metric("pathwatch_bmp_feeds_closed_total", reason="not_allowed") == 1, "the allow-list close is not counted")
        check(d.metric("pathwatch_bmp_connections_accepted_total") == 2, "a feed reconnected: the reload dropped it")
        r3b = connect(d.bmp_port, "127.0.0.3")
        r3b.settimeout(5)
        check(r3b.recv(1) == b"", "127.0.0.3 is still accepted after leaving the allow-list")

        # an invalid file: rejected, with its line, the running configuration kept
        write(base + "collector:\n  bmp_alow: []\nsites:\n" + site("site-three", "r1"))
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: log_has(d, "configuration reload rejected"), 10, "the rejected reload is not logged")
        # the lines naming each error follow the rejection line
        wait_for(lambda: log_has(d, f"{cfg}:4:"), 10, "the error line is not logged")
        log = d.log_text()
        check(f"{cfg}:4: collector: unknown key" in log and "bmp_alow" in log,
              "the rejected reload does not say which line", log[-1500:])
        time.sleep(1.5)
        check([s["name"] for s in d.get("/api/v1/sites")["sites"]] == ["site-one", "site-two"],
              "the running configuration was not kept")
        check(post(d, "/api/v1/receivers/pager/test") == 201, "the receiver was lost with the rejected file")
        check(still_open(r1) and d.proc.poll() is None, "the rejected reload disturbed the daemon")

        # the receiver removed again; a restart-only key changed: said so
        write(base + 'collector:\n  bmp_allow: ["127.0.0.1/32"]\n  http_rate_limit: 7\nsites:\n' + site("site-one", "r1"))
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: log_has(d, 'msg="configuration reloaded"', 2), 10, "the second reload is not logged")
        check(post(d, "/api/v1/receivers/pager/test") == 404, "a removed receiver still answers")
        wait_for(lambda: [s["name"] for s in d.get("/api/v1/sites")["sites"]] == ["site-one"], 10, "site-two stays")
        wait_for(lambda: "take effect only at the next restart" in d.log_text() and "keys=http_rate_limit" in d.log_text(),
                 10, "a restart-only change is not reported")
        check(still_open(r1), "r1 was dropped by the second reload")
        r1.close()
        r3.close()
    finally:
        d.stop()
        rx.shutdown()


def test_sigterm_flushes(tmp):
    db = os.path.join(tmp, "pw.db")
    d = Daemon(PW, db, tmp).start()
    n = 20000
    try:
        s = socket.create_connection(("127.0.0.1", d.bmp_port))
        s.sendall(start_stream("r1"))
        prefixes = [f"10.{i // 256}.{i % 256}.0/24" for i in range(n)]
        s.sendall(b"".join(announce(prefixes[i:i + 50]) for i in range(0, n, 50)))
        # received (in the live RIB), then SIGTERM at once, commits or not
        wait_for(lambda: d.get("/api/v1/status")["routes"] == n, 20, "routes not received")
        pending = d.get("/api/v1/status")["store_pending"]
        rc = d.stop()
        check(rc == 0, f"SIGTERM: exit status {rc}")
        check('msg="stopped"' in d.log_text(), "no clean stop in the log")
        s.close()
    finally:
        d.stop()
    d2 = Daemon(PW, db, tmp).start()
    try:
        check(len(d2.all_routes()) == n, f"after a restart, not all {n} routes are in the database "
              f"({pending} were pending at SIGTERM)")
        check(d2.get("/api/v1/status")["history_rows"] == n, "history rows lost")
    finally:
        d2.stop()


if __name__ == "__main__":
    sys.exit(run_tests([
        ("SIGHUP: sites, receivers, routes and allow-list reloaded, BMP kept; a bad file rejected", test_sighup),
        ("SIGTERM: routes received just before it are in the database after a restart", test_sigterm_flushes),
    ]))
