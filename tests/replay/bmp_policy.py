#!/usr/bin/env python3
"""Who may send BMP: the listener's allow-list (IPv4 and IPv6 CIDRs) and the
limit on connected routers, against a running daemon over loopback (the
whole of 127.0.0.0/8 and ::1 are local, so a test can connect from several
source addresses). A refused connection must be closed at accept, logged
(with a rate limit) and counted in /metrics; the allowed routers' routes
must arrive.

usage: bmp_policy.py PATHWATCH
"""
import os
import socket
import subprocess
import sys
import time

import bmpwriter as bw
from pwtest import Daemon, check, run_tests, still_open, wait_for

PW = sys.argv[1]


def write_config(tmp, text):
    path = os.path.join(tmp, "pathwatch.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path


def connect(port, src, family=socket.AF_INET):
    dst = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.connect((dst, port))
    return s


def router_stream(name, prefix):
    hdr = bw.peer_header("192.0.2.1", 65001, bgp_id="192.0.2.1")
    return (bw.initiation(name) + bw.peer_up(hdr, "192.0.2.2", 65000, 65001, "192.0.2.1") +
            bw.route_monitoring(hdr, bw.update([prefix], path_attrs=bw.attrs((65001,), "192.0.2.1"))))


def closed_by_server(s, timeout=5.0):
    """True when the daemon closes the connection (EOF or reset) in time."""
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def routers(d):
    return {r["name"]: r for r in d.get("/api/v1/routers")["routers"]}


def test_allow_list_v4_v6(tmp):
    cfg = write_config(tmp, 'collector:\n  bmp_allow: ["127.0.0.2/32", "127.0.1.0/24", "::1/128"]\n')
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, ["--config", cfg])
    d.extra += ["--bmp-listen", f"[::]:{d.bmp_port}"]  # dual stack: IPv4 arrives as ::ffff:a.b.c.d
    d.start()
    try:
        ok4 = connect(d.bmp_port, "127.0.0.2")
        ok4.sendall(router_stream("allowed-v4", "203.0.113.0/24"))
        ok4b = connect(d.bmp_port, "127.0.1.77")
        ok4b.sendall(router_stream("allowed-v4-net", "203.0.113.128/25"))
        ok6 = connect(d.bmp_port, "::1", socket.AF_INET6)
        ok6.sendall(router_stream("allowed-v6", "198.51.100.0/24"))
        wait_for(lambda: {"allowed-v4", "allowed-v4-net", "allowed-v6"} <= set(routers(d)), 10,
                 "the allowed routers did not appear")
        wait_for(lambda: len(d.all_routes()) == 3, 10, "the allowed routers' routes did not arrive")

        bad = connect(d.bmp_port, "127.0.0.1")
        check(closed_by_server(bad), "a connection from 127.0.0.1 (not in the allow-list) was not closed")
        bad.close()
        check(d.metric("pathwatch_bmp_connections_refused_total", reason="not_allowed") == 1,
              "the refusal is not counted", d.metric("pathwatch_bmp_connections_refused_total", reason="not_allowed"))
        log = d.log_text()
        check('msg="BMP connection refused" address=127.0.0.1 reason=not_allowed' in log,
              "the refusal is not logged with its address and reason", log[-2000:])

        # many refused connections: each counted, the log rate limited
        for i in range(40):
            s = connect(d.bmp_port, f"127.0.2.{i + 1}")
            s.sendall(router_stream(f"intruder{i}", "10.66.0.0/16"))
            check(closed_by_server(s), f"connection from 127.0.2.{i + 1} was not closed")
            s.close()
        wait_for(lambda: d.metric("pathwatch_bmp_connections_refused_total", reason="not_allowed") == 41, 5,
                 "not every refusal was counted")
        lines = [l for l in d.log_text().splitlines() if "BMP connection refused" in l]
        check(len(lines) <= 12, f"refusals are not rate limited in the log ({len(lines)} lines)")
        check(not any(n.startswith("intruder") for n in routers(d)), "a refused connection reached the RIB")
        check(d.metric("pathwatch_bmp_connections_accepted_total") == 3, "accepted count is wrong")
        # the allowed feeds were not disturbed
        check(still_open(ok4) and still_open(ok4b) and still_open(ok6), "an allowed feed was closed")
        check(all(routers(d)[n]["connected"] for n in ("allowed-v4", "allowed-v4-net", "allowed-v6")),
              "an allowed router shows disconnected", routers(d))
        for s in (ok4, ok4b, ok6):
            s.close()
    finally:
        d.stop()


def test_router_limit(tmp):
    cfg = write_config(tmp, "collector:\n  max_routers: 2\n")
    d = Daemon(PW, os.path.join(tmp, "pw.db"), tmp, ["--config", cfg]).start()
    try:
        a = connect(d.bmp_port, "127.0.0.1")
        a.sendall(router_stream("rtr-a", "203.0.113.0/24"))
        b = connect(d.bmp_port, "127.0.0.1")
        b.sendall(router_stream("rtr-b", "198.51.100.0/24"))
        wait_for(lambda: d.metric("pathwatch_bmp_feeds_connected") == 2, 10, "two feeds not connected")
        c = connect(d.bmp_port, "127.0.0.1")
        c.sendall(router_stream("rtr-c", "192.0.2.0/24"))
        check(closed_by_server(c), "a third router was accepted over max_routers: 2")
        c.close()
        check(d.metric("pathwatch_bmp_connections_refused_total", reason="router_limit") == 1,
              "the router-limit refusal is not counted")
        check("reason=router_limit" in d.log_text(), "the router-limit refusal is not logged")
        check(still_open(a) and still_open(b), "the connected routers were disturbed")
        a.close()  # a slot frees up: the next router gets in
        wait_for(lambda: d.metric("pathwatch_bmp_feeds_connected") == 1, 10, "the closed feed still counts")
        c = connect(d.bmp_port, "127.0.0.1")
        c.sendall(router_stream("rtr-c", "192.0.2.0/24"))
        wait_for(lambda: routers(d).get("rtr-c", {}).get("connected"), 10, "rtr-c not accepted after a slot freed")
        check(still_open(c), "rtr-c was closed")
        c.close()
        b.close()
    finally:
        d.stop()


def test_config_errors(tmp):
    cfg = write_config(tmp, "collector:\n"
                            "  bmp_allow:\n"
                            "    - 10.0.0.0/8\n"
                            "    - 10.1.2.3/16\n"          # line 4: host bits
                            "    - fe80::zz/64\n"          # line 5: not an address
                            "  max_routers: lots\n"        # line 6
                            "  bmp_alow: [10.0.0.0/8]\n"   # line 7: a typo
                            "  bmp_message_timeout: 3 weeks\n")  # line 8
    r = subprocess.run([PW, "check-config", cfg], capture_output=True, text=True)
    check(r.returncode != 0, "check-config accepted a broken file", r.stdout)
    for line, what in ((4, "host bits"), (5, "fe80::zz"), (6, "max_routers"), (7, 'unknown key "bmp_alow"'),
                       (8, "bmp_message_timeout")):
        check(any(l.startswith(f"{cfg}:{line}:") and what in l for l in r.stderr.splitlines()),
              f"no error for line {line} ({what})", r.stderr)
    empty = write_config(tmp, "collector:\n  bmp_allow: []\n")
    r = subprocess.run([PW, "check-config", empty], capture_output=True, text=True)
    check(r.returncode != 0 and f"{empty}:2:" in r.stderr and "refuses every router" in r.stderr,
          "an empty allow-list is not an error", r.stderr)
    good = write_config(tmp, 'collector:\n  bmp_allow: ["192.0.2.0/24", "2001:db8::/32", "127.0.0.1"]\n'
                             "  max_routers: 10\n  bmp_message_timeout: 30s\n")
    r = subprocess.run([PW, "check-config", good], capture_output=True, text=True)
    check(r.returncode == 0, "a valid policy was refused", r.stderr)
    ex = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "pathwatch.yaml")
    r = subprocess.run([PW, "check-config", ex], capture_output=True, text=True)
    check(r.returncode == 0, "examples/pathwatch.yaml does not validate", r.stderr)


if __name__ == "__main__":
    sys.exit(run_tests([
        ("allow-list: IPv4 and IPv6 CIDRs, refusals closed, logged (rate limited) and counted", test_allow_list_v4_v6),
        ("max_routers: over the limit refused at accept, a freed slot is reused", test_router_limit),
        ("policy keys: errors with their line", test_config_errors),
    ]))
