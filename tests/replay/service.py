#!/usr/bin/env python3
"""The daemon as a service: dist/pathwatch.service passes systemd-analyze
(verify, and an exposure level of at most 2.0 from its security audit), and
the daemon runs as an unprivileged user (nobody, through setpriv, when the
test runs as root) with a state directory it owns: it ingests a router and
serves the API, and cannot write outside that directory.

usage: service.py PATHWATCH UNIT_FILE
"""
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile

import bmpwriter as bw
from pwtest import Daemon, check, run_tests, wait_for

PW, UNIT = os.path.abspath(sys.argv[1]), sys.argv[2]


def test_unit_file(tmp):
    sa = shutil.which("systemd-analyze")
    check(sa, "systemd-analyze is needed (apt-get install systemd)")
    text = open(UNIT).read()
    for line in ("DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=pathwatch", "NoNewPrivileges=yes",
                 "CapabilityBoundingSet=\n", "ExecReload=/bin/kill -HUP $MAINPID"):
        check(line in text, f"the unit lacks {line.strip()}")
    # verify needs ExecStart to exist: the same unit, pointed at this build
    unit = os.path.join(tmp, "pathwatch.service")
    with open(unit, "w") as f:
        f.write(text.replace("/usr/local/bin/pathwatch", PW))
    r = subprocess.run([sa, "verify", unit], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and not r.stderr.strip(), "systemd-analyze verify", r.stderr)
    r = subprocess.run([sa, "security", "--offline=true", unit], capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for pathwatch.service: ([0-9.]+)", r.stdout + r.stderr)
    check(m and float(m.group(1)) <= 2.0, "exposure level above 2.0", (r.stdout + r.stderr)[-600:])


def test_runs_unprivileged(tmp):
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        wrap = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        uid = user.pw_uid
    else:  # already unprivileged: run as we are
        wrap, uid = [], os.geteuid()
    state = tempfile.mkdtemp(prefix="pw-state-")  # under /tmp: reachable by nobody
    try:
        os.chown(state, uid, -1)
        os.chmod(state, 0o750)
        db = os.path.join(state, "pathwatch.db")
        d = Daemon(PW, db, tmp, wrap=wrap).start()
        try:
            status = open(f"/proc/{d.proc.pid}/status").read()
            uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
            check(all(int(u) == uid and int(u) != 0 for u in uids), "the daemon runs as root", uids)
            caps = re.search(r"^CapEff:\s+(\w+)", status, re.M).group(1)
            check(int(caps, 16) == 0, "the daemon holds capabilities", caps)
            hdr = bw.peer_header("192.0.2.1", 65001, bgp_id="192.0.2.1")
            s = socket.create_connection(("127.0.0.1", d.bmp_port))
            s.sendall(bw.initiation("svc-r1") + bw.peer_up(hdr, "192.0.2.2", 65000, 65001, "192.0.2.1") +
                      bw.route_monitoring(hdr, bw.update(["203.0.113.0/24"], path_attrs=bw.attrs((65001,), "192.0.2.1"))))
            wait_for(lambda: [r["prefix"] for r in d.all_routes()] == ["203.0.113.0/24"], 10, "the route did not arrive")
            st = d.settled()
            check(st["history_rows"] == 1 and st["store_ok"], "the store did not commit as the unprivileged user", st)
            check(os.stat(db).st_uid == uid, "the database is not owned by the service user")
            s.close()
        finally:
            d.stop()
        # outside its state directory it cannot write: a clear error, no crash
        r = subprocess.run(wrap + [PW, "--db", "/root/pathwatch-test.db", "--bmp-listen", "127.0.0.1:0",
                                   "--http-listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=20)
        if wrap:
            check(r.returncode == 1 and "cannot open the database" in r.stderr,
                  "an unwritable database path is not refused clearly", r.stderr[-500:])
            check(not os.path.exists("/root/pathwatch-test.db"), "the unprivileged daemon wrote to /root")
    finally:
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(run_tests([
        ("dist/pathwatch.service: hardening keys, systemd-analyze verify and security", test_unit_file),
        ("as an unprivileged user with its own state directory: ingests and serves", test_runs_unprivileged),
    ]))
