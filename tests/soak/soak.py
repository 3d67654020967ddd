#!/usr/bin/env python3
"""Soak: pathwatch for a long time under real routers and generated churn.

Runs the demo's live topology (demo/pathwatch-demo start --mode live: seven
FRR routers in network namespaces, examples/sea-cust11.yaml) with PATHWATCH
(build it with ASan+UBSan+LSan: scripts/test.sh runs this on build-asan),
and on top:
  - faults set off and restored on the real routers in turn (vpn-down,
    routes-missing, lp-removed, er-down), one every PERIOD seconds;
  - a generated router (bench/bmpgen: 2 peers x 20k routes) whose churn
    (withdraws, re-announces, attribute changes from two seeds in turn) is
    streamed at RATE messages per second for the whole run.
Every 5 s it samples the collector's RSS, open file descriptors and API
latency. It fails on: RSS growth after the warm-up beyond 15 % + 24 MB
(the RIB stays the same size: the churn re-sends the same prefixes),
any growth of file descriptors beyond 8, an API answer slower than 2 s,
a sanitizer report (leak, memory error, undefined behaviour) in the
collector's log at exit, or an unclean exit.

usage: soak.py PATHWATCH BMPGEN [--minutes M] [--rate R] [--period S] [--report FILE]
       documented full run: --minutes 30 (CI runs --minutes 2)
Needs root and FRR. Ends with "N passed, N failed".
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(TOP, "demo", "pathwatch-demo")
sys.path.insert(0, os.path.join(TOP, "tests", "replay"))
import bmpwriter as bw  # noqa: E402

SANITIZER = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
FAULTS = ("vpn-down", "routes-missing", "lp-removed", "er-down")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_bmp_address():
    """The demo's BMP listener address (the root side of its veth)."""
    m = re.search(r'^COL_ROOT, COL_NS = "([0-9.]+)"', open(DEMO).read(), re.M)
    return m.group(1)


class Soak:
    def __init__(self, a):
        self.a = a
        self.work = tempfile.mkdtemp(prefix="pw-soak-")
        self.http = free_port()
        self.bmp_port = free_port()
        self.base = f"http://127.0.0.1:{self.http}"
        self.demo = None
        self.stop_churn = threading.Event()
        self.samples = []
        self.sent = 0
        self.errors = []

    def api(self, path):
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return json.loads(r.read())

    def demo_cmd(self, *args):
        return subprocess.run([sys.executable, DEMO, "--state", self.work, *args], capture_output=True, text=True,
                              timeout=120).stdout

    def start(self):
        env = dict(os.environ)
        # a small quarantine: RSS then measures pathwatch, not ASan's free-list
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:quarantine_size_mb=16")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        self.log = open(os.path.join(self.work, "demo.log"), "ab")
        self.demo = subprocess.Popen([sys.executable, DEMO, "--state", self.work, "start", "--mode", "live",
                                      "--http", f"127.0.0.1:{self.http}", "--bmp-port", str(self.bmp_port),
                                      "--binary", self.a.pathwatch], stdout=self.log, stderr=subprocess.STDOUT, env=env)
        t = time.monotonic()
        while time.monotonic() - t < 240:
            if self.demo.poll() is not None:
                raise RuntimeError(f"the demo exited with {self.demo.returncode}: {self.tail()}")
            try:
                if self.api("/api/v1/sites")["sites"][0]["health"] == "ok":
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            raise RuntimeError("the demo site never became healthy: " + self.tail())
        st = self.demo_cmd("status")
        self.pid = int(re.search(r"pathwatch:\s+pid (\d+)", st).group(1))

    def tail(self, n=3000):
        try:
            return open(os.path.join(self.work, "demo.log"), errors="replace").read()[-n:]
        except OSError:
            return ""

    def generated_router(self):
        """Table of 2 peers x 20k routes, then churn from two seeds in turn at RATE msgs/s."""
        streams = []
        for seed in (1, 2):
            path = os.path.join(self.work, f"gen{seed}.bmp")
            meta = os.path.join(self.work, f"gen{seed}.json")
            subprocess.run([self.a.bmpgen, "--peers", "2", "--v4", "20000", "--churn", "60000", "--seed", str(seed),
                            "--sysname", "SOAK-GEN", "-o", path, "--meta", meta], check=True, capture_output=True)
            data, m = open(path, "rb").read(), json.load(open(meta))
            streams.append((data[:m["load_bytes"]], bw.split(data[m["load_bytes"]:])))
        s = socket.create_connection((demo_bmp_address(), self.bmp_port))
        s.sendall(streams[0][0])
        k = 0
        while not self.stop_churn.is_set():
            churn = streams[k % 2][1]
            k += 1
            for i in range(0, len(churn), max(1, self.a.rate // 10)):
                if self.stop_churn.is_set():
                    break
                chunk = churn[i:i + max(1, self.a.rate // 10)]
                s.sendall(b"".join(chunk))
                self.sent += len(chunk)
                time.sleep(0.1)
        s.close()

    def faults(self):
        i = 0
        while not self.stop_churn.wait(self.a.period / 2):
            f = FAULTS[i % len(FAULTS)]
            self.demo_cmd("fault", f)
            if self.stop_churn.wait(self.a.period / 2):
                break
            self.demo_cmd("restore", f)
            i += 1

    def sample(self):
        status = open(f"/proc/{self.pid}/status").read()
        rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
        fds = len(os.listdir(f"/proc/{self.pid}/fd"))
        t0 = time.monotonic()
        st = self.api("/api/v1/status")
        lat = time.monotonic() - t0
        self.samples.append({"t": round(time.monotonic() - self.t0, 1), "rss": rss, "fds": fds, "api_s": round(lat, 3),
                             "routes": st["routes"], "pending": st["store_pending"], "sent": self.sent})

    def run(self):
        self.start()
        self.t0 = time.monotonic()
        threads = [threading.Thread(target=self.generated_router, daemon=True),
                   threading.Thread(target=self.faults, daemon=True)]
        for t in threads:
            t.start()
        end = self.t0 + self.a.minutes * 60
        while time.monotonic() < end:
            self.sample()
            print("     t=%(t)6.1fs rss=%(rss)d fds=%(fds)d api=%(api_s).3fs routes=%(routes)d pending=%(pending)d "
                  "sent=%(sent)d" % self.samples[-1], flush=True)
            time.sleep(5)
        self.stop_churn.set()
        for t in threads:
            t.join(60)
        self.demo_cmd("restore", "all")

    def stop(self):
        if self.demo and self.demo.poll() is None:
            self.demo.send_signal(signal.SIGINT)   # Ctrl-C: the demo stops pathwatch with SIGTERM
            try:
                self.demo.wait(90)
            except subprocess.TimeoutExpired:
                self.demo.kill()
                self.demo.wait()
        return self.demo.returncode if self.demo else None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("pathwatch")
    p.add_argument("bmpgen")
    p.add_argument("--minutes", type=float, default=2)
    p.add_argument("--rate", type=int, default=2000, help="churn messages per second")
    p.add_argument("--period", type=float, default=40, help="seconds per fault (set off, then restored)")
    p.add_argument("--report", help="write the samples as JSON here")
    a = p.parse_args()
    a.pathwatch = os.path.abspath(a.pathwatch)
    if os.geteuid() != 0 or not os.path.exists("/usr/lib/frr/bgpd"):
        print("FAIL soak needs root and FRR (apt-get install frr)\n0 passed, 1 failed")
        return 1
    soak = Soak(a)
    results = []

    def check(ok, what, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {what}" + ("" if ok else f"\n     {detail}"), flush=True)

    rc = None
    try:
        soak.run()
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        check(False, "the soak ran", f"{type(e).__name__}: {e}\n{soak.tail()}")
    finally:
        rc = soak.stop()
    s = soak.samples
    if a.report:
        with open(a.report, "w") as f:
            json.dump(s, f, indent=1)
    if len(s) >= 4:
        warm = s[max(1, len(s) // 4)]
        rest = s[s.index(warm):]
        peak = max(x["rss"] for x in rest)
        limit = warm["rss"] * 1.15 + 24 * 2**20
        check(peak <= limit, f"RSS after warm-up stays within 15 % + 24 MB ({warm['rss'] >> 20} MB at "
              f"t={warm['t']}s, peak {peak >> 20} MB)", json.dumps([(x["t"], x["rss"] >> 20) for x in s]))
        fds = max(x["fds"] for x in rest)
        check(fds <= warm["fds"] + 8, f"file descriptors do not grow ({warm['fds']} at warm-up, at most {fds})",
              json.dumps([(x["t"], x["fds"]) for x in s]))
        slow = [x for x in s if x["api_s"] > 2]
        check(not slow, "the API answered within 2 s all along", json.dumps(slow))
        check(s[-1]["sent"] > 0, f"the generated churn was ingested ({s[-1]['sent']} messages)")
    else:
        check(False, "enough samples", json.dumps(s))
    log = os.path.join(soak.work, "pathwatch.log")
    text = open(log, errors="replace").read() if os.path.exists(log) else ""
    hits = [m for m in SANITIZER if m in text]
    check(not hits, "no sanitizer report (leak, memory error, undefined behaviour) at exit",
          text[text.index(hits[0]) - 200:][:4000] if hits else "")
    check(rc == 0 and "stopped" in text, "Ctrl-C stopped the demo and pathwatch cleanly", f"demo exit {rc}; "
          + soak.tail(1500))
    failed = results.count(False)
    if not failed:
        shutil.rmtree(soak.work, ignore_errors=True)
    else:
        print(f"     work dir kept: {soak.work}")
    print(f"{results.count(True)} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
