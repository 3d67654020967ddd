#!/usr/bin/env python3
"""Black-box abuse of the running daemon over TCP: wrong BMP version, a
length below the header, a length of 4 GiB, a stream cut mid-message, random
bytes, a peer trickling one byte a second (slowloris), 500 connections at
once, a reconnect storm, and a flood near the file descriptor limit. Each must
close only the offending feed, be logged and counted in /metrics, while a
healthy router keeps streaming routes that all arrive and the API keeps
answering.

usage: abuse.py PATHWATCH
"""
import os
import random
import socket
import struct
import sys
import threading
import time

import bmpwriter as bw
from pwtest import Daemon, Failure, check, run_tests, wait_for

PW = sys.argv[1]
TIMEOUT_S = 3  # bmp_message_timeout in these tests


def write_config(tmp, text):
    path = os.path.join(tmp, "pathwatch.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def peer_hdr():
    return bw.peer_header("192.0.2.1", 65001, bgp_id="192.0.2.1")


def router_start(name):
    return bw.initiation(name) + bw.peer_up(peer_hdr(), "192.0.2.2", 65000, 65001, "192.0.2.1")


def announce(prefix):
    return bw.route_monitoring(peer_hdr(), bw.update([prefix], path_attrs=bw.attrs((65001,), "192.0.2.1")))


class HealthyRouter(threading.Thread):
    """A router that keeps announcing a new /24 every 50 ms over one connection."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(router_start("healthy"))
        self.sent = 0
        self.error = None
        self.halt = threading.Event()

    def run(self):
        try:
            while not self.halt.is_set():
                self.sock.sendall(announce(f"10.{self.sent // 256}.{self.sent % 256}.0/24"))
                self.sent += 1
                time.sleep(0.05)
        except OSError as e:
            self.error = e

    def stop(self):
        self.halt.set()
        self.join(5)
        check(self.error is None, f"the healthy router's connection failed: {self.error}")
        return self.sent


def healthy_routes(d):
    return sum(1 for r in d.all_routes(router="healthy"))


def closed_by_server(s, within):
    """Seconds until the daemon closed the connection, or None if it did not within `within`."""
    t0 = time.time()
    s.settimeout(within)
    try:
        while True:
            if s.recv(4096) == b"":
                return time.time() - t0
    except ConnectionResetError:
        return time.time() - t0
    except socket.timeout:
        return None


def offend(port, data):
    s = socket.create_connection(("127.0.0.1", port))
    try:
        s.sendall(data)
    except OSError:
        pass
    return s


def closed(d, reason):
    return d.metric("pathwatch_bmp_feeds_closed_total", reason=reason)


def api_ok(d, what):
    st = d.get("/api/v1/status")
    check(st["version"], f"the API stopped answering ({what})")
    return st


def test_abuse(tmp):
    cfg = write_config(tmp, f"collector:\n  bmp_message_timeout: {TIMEOUT_S}s\n  max_routers: 100\n")
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, ["--config", cfg]).start()
    port = d.bmp_port
    h = HealthyRouter(port)
    h.start()
    try:
        wait_for(lambda: healthy_routes(d) > 5, 10, "the healthy router's routes do not arrive")
        quiet = offend(port, router_start("quiet"))  # sends whole messages, then nothing: must stay

        # framing: each closed at once, counted, logged
        cases = [
            ("wrong BMP version", struct.pack(">BIB", 2, 6, 4)),
            ("length below the header", struct.pack(">BIB", 3, 5, 4) + b"\0" * 16),
            ("length of 4 GiB", struct.pack(">BIB", 3, 0xFFFFFFFF, 0) + b"\0" * 1000),
            ("a valid message, then a bad version", router_start("framing-victim") + b"\x07" * 100),
        ]
        for i, (what, data) in enumerate(cases):
            s = offend(port, data)
            check(closed_by_server(s, 5) is not None, f"{what}: the feed was not closed")
            s.close()
            wait_for(lambda: closed(d, "framing") == i + 1, 5, f"{what}: not counted as a framing close")
            api_ok(d, what)
        log = d.log_text()
        for why in ("unsupported BMP version", "BMP length below the common header",
                    "BMP length above the configured maximum"):
            check(why in log, f"framing error not logged: {why}")
        routers = {r["name"]: r for r in d.get("/api/v1/routers")["routers"]}
        check(routers["framing-victim"]["counters"]["framing_errors"] == 1 and not routers["framing-victim"]["connected"],
              "a named router's framing error is not counted against it", routers.get("framing-victim"))

        # cut mid-message, the peer gone: closed, logged
        s = offend(port, bw.initiation("cut")[:20])
        s.close()
        wait_for(lambda: "BMP connection closed mid-message" in d.log_text(), 5, "a cut stream is not logged")

        # mid-message and silent; one byte a second (slowloris): closed by the message timeout
        held = offend(port, router_start("held")[:30])
        slow = socket.create_connection(("127.0.0.1", port))
        msg = bw.initiation("slowloris")
        t0 = time.time()
        gone = None
        for b in msg:
            try:
                slow.sendall(bytes([b]))
            except OSError:
                gone = time.time() - t0
                break
            slow.settimeout(1.0)
            try:
                if slow.recv(1) == b"":
                    gone = time.time() - t0
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                gone = time.time() - t0
                break
        check(gone is not None and TIMEOUT_S - 1 <= gone <= TIMEOUT_S + 3,
              f"slowloris was not closed after the {TIMEOUT_S}s message timeout", gone)
        check(closed_by_server(held, TIMEOUT_S + 3) is not None, "a half-sent message held the feed open")
        wait_for(lambda: closed(d, "timeout") >= 2, 5, "timeouts are not counted")
        check("not whole within the timeout" in d.log_text(), "timeouts are not logged")
        check(closed_by_server(quiet, 0.5) is None, "a quiet router with no partial message was closed")
        slow.close()
        held.close()

        # random bytes (first byte forced to the right version so the length is what is random)
        rnd = random.Random(7)
        for i in range(5):
            data = bytes([3]) + rnd.randbytes(65536)
            s = offend(port, data)
            check(closed_by_server(s, TIMEOUT_S + 3) is not None, f"random stream {i}: the feed was not closed")
            s.close()
        api_ok(d, "random bytes")

        # 500 connections at once: max_routers (100) holds, the rest refused at accept
        before = healthy_routes(d)
        flood = []
        for _ in range(500):
            flood.append(socket.create_connection(("127.0.0.1", port)))
        st = api_ok(d, "500 connections")
        wait_for(lambda: d.metric("pathwatch_bmp_connections_refused_total", reason="router_limit") >= 500 - 100, 10,
                 "the connections over max_routers were not refused")
        check(d.metric("pathwatch_bmp_feeds_connected") <= 100, "more feeds than max_routers")
        wait_for(lambda: healthy_routes(d) > before + 5, 10, "ingest of the healthy router stalled during the flood")
        for s in flood:
            s.close()
        wait_for(lambda: d.metric("pathwatch_bmp_feeds_connected") == 2, 10, "the flood's feeds were not released")

        # reconnect storm: a router connecting, dumping and leaving, 200 times
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(router_start("storm") + announce("198.51.100.0/24"))
            s.close()
        api_ok(d, "reconnect storm")
        wait_for(lambda: d.metric("pathwatch_bmp_feeds_connected") == 2, 10, "the storm's feeds were not released")
        # /routers is committed state: the store may still be writing the storm's sessions
        storm = lambda: [r for r in d.get("/api/v1/routers")["routers"] if r["name"].startswith("storm")]
        wait_for(lambda: storm() and not any(r["connected"] for r in storm()), 15,
                 "the storm router is not recorded as disconnected")
        check("BMP connection refused" in d.log_text(), "refusals are not logged")

        sent = h.stop()
        wait_for(lambda: healthy_routes(d) == sent, 15, f"not all {sent} healthy routes arrived")
        r = {x["name"]: x for x in d.get("/api/v1/routers")["routers"]}["healthy"]
        check(r["connected"] and r["counters"]["framing_errors"] == 0, "the healthy router was disturbed", r)
        check(closed(d, "error") + closed(d, "eof") + closed(d, "framing") + closed(d, "timeout") >= 200,
              "closes are not counted")
        quiet.close()
    finally:
        h.halt.set()
        d.stop()


def test_near_the_descriptor_limit(tmp):
    """A daemon allowed 160 descriptors, no router limit, 300 connections at
    once: the connections that would eat the descriptors kept for HTTP and
    SQLite are refused at accept and counted, the API answers during the
    flood, the healthy feed goes on, and routers get in again afterwards."""
    cfg = write_config(tmp, f"collector:\n  bmp_message_timeout: {TIMEOUT_S}s\n  max_routers: 0\n")
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, ["--config", cfg], fd_limit=160).start()
    port = d.bmp_port
    h = HealthyRouter(port)
    h.start()
    try:
        wait_for(lambda: healthy_routes(d) > 5, 10, "the healthy router's routes do not arrive")
        check("file descriptor limit may be reached" in d.log_text(), "the low descriptor limit is not warned about")
        flood = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
        before = healthy_routes(d)
        wait_for(lambda: d.metric("pathwatch_bmp_connections_refused_total", reason="fd_limit") >= 100, 10,
                 "connections near the descriptor limit are not refused")
        fds = len(os.listdir(f"/proc/{d.proc.pid}/fd"))
        check(fds <= 150, f"the daemon holds {fds} of its 160 descriptors")
        for i in range(20):  # the API keeps answering with the flood in place
            api_ok(d, f"flood, request {i}")
        wait_for(lambda: healthy_routes(d) > before + 5, 10, "ingest stalled during the flood")
        check("reason=fd_limit" in d.log_text(), "descriptor-limit refusals are not logged")
        for s in flood:
            s.close()
        wait_for(lambda: d.metric("pathwatch_bmp_feeds_connected") == 1, 10, "the flood's feeds were not released")
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(router_start("after-flood") + announce("203.0.113.0/24"))
        wait_for(lambda: any(r["name"] == "after-flood" and r["connected"]
                             for r in d.get("/api/v1/routers")["routers"]), 10, "accept did not recover")
        sent = h.stop()
        wait_for(lambda: healthy_routes(d) == sent, 15, f"not all {sent} healthy routes arrived")
        s.close()
    finally:
        h.halt.set()
        d.stop()


if __name__ == "__main__":
    sys.exit(run_tests([
        ("hostile feeds each closed, logged and counted; healthy router and API unaffected", test_abuse),
        ("near the descriptor limit: refused at accept, API and ingest unaffected, recovers", test_near_the_descriptor_limit),
    ]))
