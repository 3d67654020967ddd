#!/usr/bin/env python3
"""Smoke test of demo/pathwatch-demo in REPLAY mode, end to end, on free 127.0.0.1 ports:
start, site healthy, `fault vpn-down` -> vpn-session-down firing, `restore vpn-down` ->
resolved, `status`, stop with SIGINT (as Ctrl-C), nothing left (processes, socket).

usage: demo/smoke_test.py PATH/TO/pathwatch      (exit 0 = pass; < 60 s)
Python 3 standard library only.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "pathwatch-demo")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv):
    if len(argv) != 2:
        print("usage: %s PATH/TO/pathwatch" % argv[0], file=sys.stderr)
        return 2
    binary = os.path.abspath(argv[1])
    t0 = time.monotonic()
    state = tempfile.mkdtemp(prefix="pwdemo-smoke-")
    http, bmp = free_port(), free_port()
    env = dict(os.environ, PATHWATCH_DEMO_STATE=state)
    out_path = os.path.join(state, "demo.out")
    out = open(out_path, "w")
    demo = subprocess.Popen([sys.executable, DEMO, "start", "--mode", "replay", "--binary", binary,
                             "--http", "127.0.0.1:%d" % http, "--bmp-port", str(bmp)],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    out.close()
    failures = []

    def get(path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (http, path), timeout=5) as r:
            return json.loads(r.read())

    def wait(what, fn, timeout):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            if demo.poll() is not None:
                raise AssertionError("the demo exited (%s) while waiting for %s" % (demo.returncode, what))
            try:
                last = fn()
                if last:
                    print("ok: %s (%.1fs)" % (what, time.monotonic() - t0), flush=True)
                    return last
            except (OSError, ValueError, KeyError, IndexError) as e:
                last = e
            time.sleep(0.3)
        raise AssertionError("timed out after %ds waiting for %s; last: %s" % (timeout, what, last))

    def ctl(*args):
        r = subprocess.run([sys.executable, DEMO] + list(args), env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=30)
        print("$ pathwatch-demo %s -> %d\n%s" % (" ".join(args), r.returncode, r.stdout.rstrip()), flush=True)
        return r

    def alerts(state):
        return [a for a in get("/api/v1/alerts?state=%s" % state)["alerts"]
                if a["rule"] == "vpn-session-down" and a["peer"] == "10.17.11.76"]

    pw_pid = None
    try:
        wait("site healthy", lambda: get("/api/v1/sites")["sites"][0]["health"] == "ok", 20)
        with urllib.request.urlopen("http://127.0.0.1:%d/" % http, timeout=5) as r:
            if r.status != 200 or not r.headers["Content-Type"].startswith("text/html"):
                failures.append("the dashboard is not served at /")
        pw_pid = json.load(open(os.path.join(state, "demo.json")))["pathwatch_pid"]
        r = ctl("status")
        if r.returncode != 0 or "replay mode" not in r.stdout or str(http) not in r.stdout:
            failures.append("status: expected replay mode and the URL")
        if ctl("fault", "vpn-down").returncode != 0:
            failures.append("fault vpn-down failed")
        wait("vpn-session-down firing", lambda: alerts("firing"), 15)
        r = ctl("status")
        if "vpn-session-down" not in r.stdout:
            failures.append("status does not show the firing alert")
        if ctl("restore", "vpn-down").returncode != 0:
            failures.append("restore vpn-down failed")
        wait("vpn-session-down resolved", lambda: alerts("resolved") and not alerts("firing"), 20)
        wait("site healthy again", lambda: get("/api/v1/sites")["sites"][0]["health"] == "ok", 15)
        if ctl("fault", "no-such-fault").returncode == 0:
            failures.append("an unknown fault was accepted")
    except AssertionError as e:
        failures.append(str(e))
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)     # what Ctrl-C sends
            try:
                demo.wait(20)
            except subprocess.TimeoutExpired:
                failures.append("the demo did not stop within 20 s of SIGINT")
                demo.kill()
                demo.wait()
    if demo.returncode not in (0, None):
        failures.append("the demo exited with status %s" % demo.returncode)
    if pw_pid:
        try:
            os.kill(pw_pid, 0)
            failures.append("pathwatch (pid %d) still running after the demo stopped" % pw_pid)
            os.kill(pw_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    else:
        failures.append("pathwatch pid unknown")
    for left in ("control.sock", "demo.json"):
        if os.path.exists(os.path.join(state, left)):
            failures.append("%s left in the state dir" % left)
    if ctl("status").returncode != 3:
        failures.append("status after stop should say: no demo running (exit 3)")
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", http)) == 0:
            failures.append("the API port still answers after stop")
    if failures:
        print("--- demo output:\n" + open(out_path).read())
        print("--- pathwatch log (tail):\n" + "".join(open(os.path.join(state, "pathwatch.log")).readlines()[-30:]))
    shutil.rmtree(state, ignore_errors=True)
    for f in failures:
        print("FAIL: " + f)
    print("%s (%.1fs)" % ("PASS" if not failures else "FAIL", time.monotonic() - t0))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
