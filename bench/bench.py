#!/usr/bin/env python3
"""pathwatch benchmark harness. Run it through bench/run.sh, which builds
bmpgen/bmpsend and pathwatch first; see bench/README.md.

For each scenario and run: generate (once, cached) a deterministic BMP stream
with bmpgen, start pathwatch on free 127.0.0.1 ports with a fresh database,
stream the file with bmpsend and measure from the first byte; then the same
stream into pmacct's pmbmpd (RIB kept in memory) and measure it the same
way. Medians over the runs, a table on stdout, everything in
bench/results/<timestamp>.json.

Standard library only. Processes are started here and stopped by their PID.
"""
import argparse
import datetime
import hashlib
import http.client
import ipaddress
import json
import math
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BIN = os.environ.get("BENCH_BIN", os.path.join(HERE, ".bin"))
# run.sh copies build/pathwatch here, so that a rebuild during a run does not
# mix two binaries in one result
PATHWATCH = os.path.join(BIN, "pathwatch")
BMPGEN = os.path.join(BIN, "bmpgen")
BMPSEND = os.path.join(BIN, "bmpsend")
sys.path.insert(0, os.path.join(TOP, "tests", "replay"))
import bmpwriter as bw  # noqa: E402  (the test suite's BMP writer: the alert probe's messages)

PMBMPD = shutil.which("pmbmpd") or "/usr/sbin/pmbmpd"
CLK_TCK = os.sysconf("SC_CLK_TCK")

M = 1_000_000

# Scenario parameters per size. Routes of a stream = peers * (v4 + v6).
SIZES = {
    "small": {
        "a": dict(peers=1, v4=100_000, v6=0),
        "b": dict(peers=1, v4=100_000, v6=20_000),
        "c": dict(peers=1, v4=100_000, v6=0, rate=50_000, secs=5),
        "d": dict(peers=1, v4=100_000, v6=0),
        "e": dict(peers=4, v4=25_000, v6=0, churn=2_000, requests=50),
        "f": dict(peers=1, v4=100_000, v6=0, rate=50_000, secs=5),
    },
    "full": {
        "a": dict(peers=1, v4=1_000_000, v6=0),
        "b": dict(peers=4, v4=1_000_000, v6=200_000),
        "c": dict(peers=1, v4=1_000_000, v6=0, rate=50_000, secs=60),
        "d": dict(peers=1, v4=1_000_000, v6=0),
        "e": dict(peers=4, v4=1_000_000, v6=0, churn=20_000, requests=300),
        "f": dict(peers=1, v4=1_000_000, v6=0, rate=50_000, secs=60),
    },
}
# scenarios with no pmbmpd counterpart (it has no query API and no rules)
PATHWATCH_ONLY = ("e", "f")
TITLES = {
    "a": "initial dump, {peers} peer x {v4} IPv4",
    "b": "initial dump, {peers} peer(s) x ({v4} IPv4 + {v6} IPv6)",
    "c": "churn {rate}/s for {secs} s on a loaded RIB ({peers} x {v4} IPv4)",
    "d": "reconnect: the same table ({peers} x {v4} IPv4) re-sent unchanged",
    "e": "API on a loaded RIB ({peers} x {v4} IPv4), {requests} requests per kind",
    "f": "alert decisions under churn {rate}/s for {secs} s ({peers} x {v4} IPv4 loaded)",
}

# The targets of the issue, per million routes so that a small run can be
# compared too (there, fixed costs weigh more: indicative only).
TARGETS = {
    "rib_s_per_M": 0.3,        # 1 peer x 1M: RIB complete <= 0.3 s
    "hist_s_per_M": 2.0,       # 1 peer x 1M: history committed <= 2 s; 4 x 1M <= 8 s end to end
    "peak_rss_B_per_route": 100,
    "resend_s_per_M": 1.0,     # unchanged re-send <= 1 s per million routes
    "resend_history_rows": 0,
    "lookup_p99_ms": 5,        # exact and longest-match look-up on a 4M-route RIB
    "page_ms": 20,             # a page of 100 routes with filters
    "asof_peer_ms": 200,       # RIB as of a past time for one peer
    "alert_p99_ms": 100,       # alert decision under churn
}

API_BUDGET_S = 60  # scenario e: seconds per kind of request, once 20 are timed
TIMEOUT = 900  # seconds, per waiting phase: a stuck collector fails the run, not the harness


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ /proc

def proc_cpu(pid, tid=None):
    """utime + stime in seconds, of the process or of one thread."""
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    with open(path) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu(pid):
    """CPU seconds per thread: {"main": loop thread, "busiest_other": the
    busiest other thread (the store writer, when the store is the work),
    "others": the rest together}."""
    main = busiest = rest = 0.0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            c = proc_cpu(pid, tid)
        except OSError:
            continue
        if int(tid) == pid:
            main = c
        elif c > busiest:
            rest += busiest
            busiest = c
        else:
            rest += c
    return {"main": main, "busiest_other": busiest, "others": rest}


def proc_mem(pid):
    """VmRSS and VmHWM in bytes."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) * 1024
    return out


def tcp_sockets():
    rows = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    p = line.split()
                    lport = int(p[1].rsplit(":", 1)[1], 16)
                    rport = int(p[2].rsplit(":", 1)[1], 16)
                    txq, rxq = (int(x, 16) for x in p[4].split(":"))
                    rows.append((lport, rport, p[3], txq, rxq, p[9]))
        except OSError:
            pass
    return rows


def queues_empty(port):
    """No byte of an established connection to `port` waits in a socket
    buffer (sender's send queue, collector's receive queue)."""
    for lport, rport, st, txq, rxq, _ in tcp_sockets():
        if st == "01" and port in (lport, rport) and (txq or rxq):
            return False
    return True


def listening_by(pid, port):
    """Is `port` listened on by process `pid` (and not by someone else)?"""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                t = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if t.startswith("socket:["):
                inodes.add(t[8:-1])
    except OSError:
        return False
    return any(st == "0A" and lport == port and ino in inodes for lport, _, st, _, _, ino in tcp_sockets())


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_listening(proc, port, what):
    end = time.monotonic() + 20
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited at start-up (status {proc.returncode})")
        if listening_by(proc.pid, port):
            return
        time.sleep(0.02)
    raise RuntimeError(f"{what} does not listen on 127.0.0.1:{port}")


def stop(proc):
    """Stop a process this harness started, by its PID."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ sender

class Sender:
    """bmpsend on one TCP connection, held open until close()."""

    def __init__(self, port, path, pause_at=None, rate=None):
        args = [BMPSEND, "--connect", f"127.0.0.1:{port}", "--file", path, "--hold"]
        if pause_at is not None:
            args += ["--pause-at", str(pause_at)]
        if rate:
            args += ["--rate-from", str(pause_at), "--rate", str(rate)]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.events = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            with self.cv:
                self.events.append(ev)
                self.cv.notify_all()
        with self.cv:
            self.events.append({"event": "exit"})
            self.cv.notify_all()

    def get(self, name):
        with self.cv:
            for ev in self.events:
                if ev["event"] == name:
                    return ev
        return None

    def progress(self):
        with self.cv:
            return [e for e in self.events if e["event"] == "progress"]

    def wait(self, name, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for ev in self.events:
                    if ev["event"] == name:
                        return ev
                    if ev["event"] == "exit":
                        raise RuntimeError(f"bmpsend exited before '{name}' (status {self.proc.poll()})")
                left = end - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"bmpsend: no '{name}' within {timeout} s")
                self.cv.wait(left)

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def wait_consumed(pid, port, snd, tid=None, idle=0.3, timeout=TIMEOUT):
    """The collector has read every byte the sender wrote and its CPU (the
    process, or thread `tid`) stopped moving: returns the time of the last
    CPU increase (never before the sender's last byte)."""
    last = proc_cpu(pid, tid)
    t_change = time.monotonic()
    end = t_change + timeout
    while True:
        time.sleep(0.005)
        now = time.monotonic()
        c = proc_cpu(pid, tid)
        if c != last:
            last, t_change = c, now
        done = snd.get("done")
        if done and now - t_change >= idle and queues_empty(port):
            return max(t_change, done["t_last"])
        if now > end:
            raise RuntimeError("collector did not consume the stream in time")


# ---------------------------------------------------------------- pathwatch

class Api:
    """pathwatch's HTTP API over one keep-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def timed(self, path, **params):
        """GET path?params: (seconds from the request to the whole body read,
        the parsed JSON). Retried on a dropped connection."""
        if params:
            path += "?" + urllib.parse.urlencode(params)
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                t = time.perf_counter()
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                dt = time.perf_counter() - t
                if r.status != 200:
                    raise RuntimeError(f"GET {path}: HTTP {r.status} {body[:200]!r}")
                return dt, json.loads(body)
            except (OSError, http.client.HTTPException):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.05)

    def get(self, path, **params):
        """GET path?params: the parsed JSON."""
        return self.timed(path, **params)[1]

    def status(self):
        return self.get("/api/v1/status")


def pw_wait_loaded(api, t0, exp_routes, exp_hist, samples, stable=0.3, period=0.01):
    """Poll /status until routes reach exp_routes (RIB complete), then until
    store_pending is 0 and history_rows reached exp_hist and stays put for
    `stable` s (history committed). Returns (t_rib, t_hist, last status)."""
    t_rib = t_hist = None
    hist_seen = None
    end = time.monotonic() + TIMEOUT
    while True:
        s = api.status()
        t = time.monotonic()
        samples.append((round(t - t0, 4), s["routes"], s["history_rows"], s["store_pending"]))
        if t_rib is None and s["routes"] >= exp_routes:
            t_rib = t
        if t_rib is not None and s["store_pending"] == 0 and s["history_rows"] >= exp_hist:
            if hist_seen != s["history_rows"]:
                hist_seen, t_hist = s["history_rows"], t
            elif t - t_hist >= stable:
                return t_rib, t_hist, s
        else:
            hist_seen = None
        if t > end:
            raise RuntimeError(f"pathwatch: not loaded in time (last status {s})")
        time.sleep(period)


def db_bytes(dbpath):
    """The database and its prefix index (collector/store_keys.h), with their WALs."""
    total = 0
    for suffix in ("", "-wal", "-keys", "-keys-wal"):
        try:
            total += os.path.getsize(dbpath + suffix)
        except OSError:
            pass
    return total


# The harness polls /status every 10 ms and times hundreds of requests: the
# per-client HTTP rate limit (50/s by default) is off for the bench.
PW_CONFIG = "collector:\n  http_rate_limit: 0\n"
# Scenario f: a site whose one VPN instance is a session of the probe's router
# FW (AlertProbe); the rules decide with no for:/hold: delay.
PROBE_ROUTER, PROBE_PEER, PROBE_ASN, PROBE_PREFIX = "FW", "10.17.11.76", 65515, "10.17.11.0/25"
PW_CONFIG_SITE = f"""sites:
  - name: bench
    routers: [{PROBE_ROUTER}]
    vpn:
      - {{ name: instance0, router: {PROBE_ROUTER}, peer: {PROBE_PEER} }}
    azure_prefixes: [{PROBE_PREFIX}]
    asns: {{ vpn_gateway: {PROBE_ASN} }}
    initial_sync_timeout: 1s
    rules:
      default: {{ for: 0s, hold: 0s }}
"""


def run_pathwatch(key, sc, stream, meta, work):
    d = tempfile.mkdtemp(prefix=f"pw-{key}-", dir=work)
    dbpath = os.path.join(d, "pathwatch.db")
    cfg = os.path.join(d, "pathwatch.yaml")
    with open(cfg, "w") as f:
        f.write(PW_CONFIG + (PW_CONFIG_SITE if key == "f" else ""))
    bport, hport = free_port(), free_port()
    logf = open(os.path.join(d, "pathwatch.log"), "wb")
    proc = subprocess.Popen([PATHWATCH, "--config", cfg, "--bmp-listen", f"127.0.0.1:{bport}", "--http-listen",
                             f"127.0.0.1:{hport}", "--db", dbpath, "--log-level", "warn"],
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
    res = {}
    senders = []
    probe = None
    try:
        wait_listening(proc, bport, "pathwatch")
        api = Api(hport)
        api.status()
        res["rss_start_bytes"] = proc_mem(proc.pid)["VmRSS"]
        routes = meta["routes_after_load"]
        samples = []
        churn = "rate" in sc
        snd = Sender(bport, stream, pause_at=meta["load_bytes"] if meta["churn_events"] else None,
                     rate=sc.get("rate"))
        senders.append(snd)
        t0 = snd.wait("connected")["t"]
        cpu0 = proc_cpu(proc.pid)
        t_rib, t_hist, st = pw_wait_loaded(api, t0, routes, routes, samples)
        th = thread_cpu(proc.pid)
        res.update(cpu_load_main_thread_s=th["main"], cpu_load_busiest_other_thread_s=th["busiest_other"])
        res.update(routes=st["routes"], history_rows=st["history_rows"],
                   rib_complete_s=t_rib - t0, history_committed_s=t_hist - t0,
                   prefixes_per_s=routes / (t_rib - t0), cpu_load_s=proc_cpu(proc.pid) - cpu0)
        res["db_bytes"] = db_bytes(dbpath)
        res["db_bytes_per_route"] = res["db_bytes"] / routes
        res["load_series"] = samples[:: max(1, len(samples) // 200)]

        if key == "f":
            probe = AlertProbe(bport, hport)
        if churn:
            res.update(pw_churn(proc, api, snd, sc, meta, t0))
        if probe:  # the cycles sent while the churn ran
            done = snd.get("done")
            res.update(probe.finish(done["t_rate_start"], done["t_last"]))
            if not res["alert_fire_n"] or res["alert_fire_missing"] or res["alert_resolve_missing"]:
                raise RuntimeError(f"alert probe: {res['alert_fire_n']} decisions, "
                                   f"{res['alert_fire_missing'] + res['alert_resolve_missing']} never came")
        if key == "e":
            res.update(pw_api(api, snd, sc, meta, t0))
        if key == "d":
            res.update(pw_resend(proc, api, snd, bport, stream, meta, senders))

        mem = proc_mem(proc.pid)
        res["peak_rss_bytes"] = mem["VmHWM"]
        final_routes = api.status()["routes"]
        res["peak_rss_bytes_per_route"] = mem["VmHWM"] / max(1, final_routes)
        res["peak_rss_above_start_per_route"] = (mem["VmHWM"] - res["rss_start_bytes"]) / max(1, final_routes)
        res["cpu_total_s"] = proc_cpu(proc.pid)
        th = thread_cpu(proc.pid)
        res["cpu_main_thread_s"] = th["main"]
        res["cpu_busiest_other_thread_s"] = th["busiest_other"]
        res["cpu_other_threads_s"] = th["others"]
        res["db_bytes_end"] = db_bytes(dbpath)
    finally:
        if probe:
            probe.close()
        for s in senders:
            s.close()
        stop(proc)
        logf.close()
        with open(os.path.join(d, "pathwatch.log"), errors="replace") as f:
            lines = f.read().splitlines()
        res["log_warnings"] = sum(1 for line in lines if "level=warn" in line or "level=error" in line)
        if res["log_warnings"]:
            res["log_sample"] = lines[:5]
        shutil.rmtree(d, ignore_errors=True)
    return res


def pw_churn(proc, api, snd, sc, meta, t0):
    rate, events = sc["rate"], meta["churn_events"]
    per_msg = events / max(1, meta["churn_messages"])
    snd.wait("paused")
    s = api.status()
    hist0, cpu0, th0 = s["history_rows"], proc_cpu(proc.pid), thread_cpu(proc.pid)
    snd.go()
    series = []  # (t, pending, history rows added)
    while not snd.get("done"):
        s = api.status()
        series.append((time.monotonic(), s["store_pending"], s["history_rows"] - hist0))
        time.sleep(0.05)
    done = snd.get("done")
    t_start, t_last = done["t_rate_start"], done["t_last"]
    dur = t_last - t_start
    cpu_churn = proc_cpu(proc.pid) - cpu0
    th1 = thread_cpu(proc.pid)
    # backlog = churn events written by the sender - history rows committed
    backlog = []
    for p in snd.progress():
        committed = max((h for (t, _, h) in series if t <= p["t"]), default=0)
        backlog.append((p["t"] - t_start, p["messages"] * per_msg - committed))
    committed_at_end = max((h for (t, _, h) in series if t <= t_last), default=0)
    final_backlog = events - committed_at_end
    samples = []
    _, t_hist, st = pw_wait_loaded(api, t0, meta["routes_final"], meta["history_rows_final"], samples,
                                   period=0.02)
    pend = [p for (_, p, _) in series]
    thirds = max(1, len(pend) // 3)
    out = {
        "churn_target_rate": rate,
        "churn_seconds": dur,
        "churn_achieved_rate": done["rate_achieved"],
        "churn_sender_max_lag_messages": done["max_lag_messages"],
        "churn_commit_rate": committed_at_end / dur if dur > 0 else None,
        "churn_store_pending_max": max(pend) if pend else 0,
        "churn_store_pending_first_third_mean": statistics.mean(pend[:thirds]) if pend else 0,
        "churn_store_pending_last_third_mean": statistics.mean(pend[-thirds:]) if pend else 0,
        "churn_backlog_slope_per_s": slope(backlog),
        "churn_backlog_at_end": final_backlog,
        "churn_drain_s": t_hist - t_last,
        "churn_cpu_s": cpu_churn,
        "churn_cpu_util": cpu_churn / dur if dur > 0 else None,
        "churn_cpu_us_per_event": cpu_churn / events * 1e6 if events else None,
        "churn_cpu_util_main_thread": (th1["main"] - th0["main"]) / dur if dur > 0 else None,
        "churn_cpu_util_busiest_other_thread": (th1["busiest_other"] - th0["busiest_other"]) / dur if dur > 0 else None,
        "churn_routes_final": st["routes"],
        "churn_history_rows_final": st["history_rows"],
        "churn_backlog_series": [(round(t, 2), round(b)) for t, b in backlog],
    }
    out["churn_bounded"] = churn_bounded(out["churn_achieved_rate"], out["churn_backlog_slope_per_s"], rate)
    out["churn_counts_ok"] = (st["routes"] == meta["routes_final"] and
                              st["history_rows"] == meta["history_rows_final"])
    return out


def pw_resend(proc, api, snd, bport, stream, meta, senders):
    hist_before = api.status()["history_rows"]
    snd.close()
    end = time.monotonic() + 30
    while api.status()["routers_connected"] != 0:
        if time.monotonic() > end:
            raise RuntimeError("pathwatch: the first feed is still connected")
        time.sleep(0.02)
    time.sleep(0.2)
    snd2 = Sender(bport, stream)
    senders.append(snd2)
    t0 = snd2.wait("connected")["t"]
    cpu0 = proc_cpu(proc.pid)
    # done when the main (loop) thread has read and applied every byte (its
    # CPU stopped moving, no byte left in the socket buffers) and the store
    # has nothing left to commit: both watched together, so that neither
    # wait adds to the other's time
    last_cpu, t_cpu = proc_cpu(proc.pid, proc.pid), time.monotonic()
    t_p0 = None  # first sample of store_pending == 0 after the last non-zero one
    next_status = 0.0
    end = time.monotonic() + TIMEOUT
    while True:
        time.sleep(0.005)
        now = time.monotonic()
        c = proc_cpu(proc.pid, proc.pid)
        if c != last_cpu:
            last_cpu, t_cpu = c, now
        if now >= next_status:
            s = api.status()
            next_status = now + 0.01
            if s["store_pending"]:
                t_p0 = None
            elif t_p0 is None:
                t_p0 = now
        done = snd2.get("done")
        if (done and t_p0 is not None and now - t_cpu >= 0.3 and now - t_p0 >= 0.3
                and queues_empty(bport)):
            t_loop = max(t_cpu, done["t_last"])
            t_done = max(t_loop, t_p0)
            break
        if now > end:
            raise RuntimeError("pathwatch: re-send not consumed in time")
    # history rows stay put?
    time.sleep(0.5)
    s = api.status()
    routes = meta["routes_after_load"]
    # the router's message counter (flushed by the 1 s tick) proves every message was applied
    time.sleep(1.2)
    routers = api.get("/api/v1/routers")["routers"]
    counters = routers[0].get("counters") or {} if routers else {}
    return {
        "resend_s": t_done - t0,
        "resend_s_per_M": (t_done - t0) / (routes / M),
        "resend_loop_s": t_loop - t0,
        "resend_history_rows": s["history_rows"] - hist_before,
        "resend_cpu_s": proc_cpu(proc.pid) - cpu0,
        "resend_routes": s["routes"],
        "resend_messages_counted": counters.get("messages"),
        "resend_messages_expected": 2 * meta["messages"],
    }


def pct(vals, q):
    """The q-th percentile (nearest rank) of vals, or None."""
    if not vals:
        return None
    v = sorted(vals)
    return v[max(0, math.ceil(q / 100 * len(v)) - 1)]


def latency_stats(prefix, secs):
    """{prefix_n, prefix_p50_ms, prefix_p99_ms, prefix_max_ms} of durations in seconds."""
    ms = [x * 1000 for x in secs]
    return {f"{prefix}_n": len(ms), f"{prefix}_p50_ms": pct(ms, 50), f"{prefix}_p99_ms": pct(ms, 99),
            f"{prefix}_max_ms": max(ms) if ms else None}


def sample_routes(api, rng, router, peer, want):
    """About `want` routes of one peer, from random /8s (match=longer, 1000
    a block), in random order: the prefixes the API scenario looks up."""
    got = []
    for _ in range(400):
        if len(got) >= want:
            break
        block = api.get("/api/v1/rib", router=router, peer=peer, prefix=f"{rng.randrange(1, 224)}.0.0.0/8",
                        match="longer", limit=1000)["routes"]
        got += rng.sample(block, min(len(block), max(1, want // 20)))
    rng.shuffle(got)
    return got[:want]


def random_host(rng, prefix):
    """A random /32 inside an IPv4 prefix."""
    net = ipaddress.ip_network(prefix)
    return f"{net.network_address + rng.randrange(net.num_addresses)}/32"


def pw_api(api, snd, sc, meta, t0):
    """Scenario e. The dump is committed and the sender paused before its
    churn: take T, let the churn through (so the RIB as of T differs from the
    live one), then time the API's kinds of request, one after the other on
    one keep-alive connection with nothing else running."""
    rng = random.Random(1)
    router = api.get("/api/v1/routers")["routers"][0]["name"]
    peers = sorted(p["address"] for p in api.get("/api/v1/peers", router=router)["peers"])
    peer = peers[0]
    T = int(time.time()) + 1  # every dump row is older; the churn comes after
    while time.time() < T + 0.2:
        time.sleep(0.05)
    snd.go()
    pw_wait_loaded(api, t0, meta["routes_final"], meta["history_rows_final"], [])
    n = sc["requests"]
    routes = sample_routes(api, rng, router, peer, n)
    view = routes[0]["view"]
    flt = dict(router=router, peer=peer, view=view, limit=100)

    # Each kind below times one request (or a list of them) for route r and
    # says whether the answer was right (only look-ups can be wrong here).
    def slash8(r):  # the /8 holding r: the block a filtered page walks
        return r["prefix"].split(".")[0] + ".0.0.0/8"

    def exact(r):  # the prefix itself, all peers and views
        dt, ans = api.timed("/api/v1/rib", prefix=r["prefix"], match="exact")
        return dt, any(x["prefix"] == r["prefix"] for x in ans["routes"])

    def longest(r):
        # the API has no longest-match mode: a client takes the most specific
        # of the covering routes (match=shorter, all peers: a few dozen at most)
        dt, ans = api.timed("/api/v1/rib", prefix=random_host(rng, r["prefix"]), match="shorter")
        best = max((ipaddress.ip_network(x["prefix"]).prefixlen for x in ans["routes"]), default=-1)
        return dt, best >= ipaddress.ip_network(r["prefix"]).prefixlen and ans["next"] is None

    def page_longer(r):  # page 1 of router+peer+view+/8
        return api.timed("/api/v1/rib", prefix=slash8(r), match="longer", **flt)[0], True

    def page_next(r):
        # pages 2..5 of the same, each by the previous page's cursor
        ans, dts = api.get("/api/v1/rib", prefix=slash8(r), match="longer", **flt), []
        for _ in range(4):
            if not ans["next"]:
                break
            dt, ans = api.timed("/api/v1/rib", prefix=slash8(r), match="longer", cursor=ans["next"], **flt)
            dts.append(dt)
        return dts, True

    def page_as_path(r):  # page 1 of router+peer+view, origin AS of r
        path = r.get("as_path") or []
        if not path or not isinstance(path[-1], int):
            return None, True
        dt, ans = api.timed("/api/v1/rib", as_path=f"{path[-1]}$", **flt)
        # every route has that origin (the path flattened, as the filter reads
        # it: an AS_SET shows as a list), and a last page holds r itself
        def origin(x):
            flat = [a for seg in (x.get("as_path") or []) for a in (seg if isinstance(seg, list) else [seg])]
            return flat[-1] if flat else None
        right = all(origin(x) == path[-1] for x in ans["routes"]) and (
            ans["next"] or any(x["prefix"] == r["prefix"] for x in ans["routes"]))
        return dt, right

    def page_community(r):  # page 1 of router+peer+view, one of r's communities
        if not r.get("communities"):
            return None, True
        c = rng.choice(r["communities"])
        dt, ans = api.timed("/api/v1/rib", community=c, **flt)
        right = all(c in (x.get("communities") or []) for x in ans["routes"]) and (
            ans["next"] or any(x["prefix"] == r["prefix"] for x in ans["routes"]))
        return dt, right

    out = {"api_wrong_answers": 0}
    # each kind over the sampled routes, for at most API_BUDGET_S once 20 are timed
    for fn in (exact, longest, page_longer, page_next, page_as_path, page_community):
        times, t_kind = [], time.monotonic()
        for r in routes:
            dt, right = fn(r)
            out["api_wrong_answers"] += not right
            times += dt if isinstance(dt, list) else [] if dt is None else [dt]
            if len(times) >= 20 and time.monotonic() - t_kind > API_BUDGET_S:
                break
        out.update(latency_stats(f"api_{fn.__name__}", times))
        if fn is page_as_path and times:  # the first filtered page after start builds the filter index
            out["api_first_filtered_page_ms"] = times[0] * 1000
    out.update(api_router=router, api_peer=peer, api_view=view, api_at=T)
    # the whole peer as of T, 10000 routes a page (the API's largest)
    pages, cursor, count, t_start = [], None, 0, time.perf_counter()
    while True:
        dt, ans = api.timed("/api/v1/rib", at=T, router=router, peer=peer, limit=10000,
                            **({"cursor": cursor} if cursor else {}))
        pages.append(dt)
        count += len(ans["routes"])
        cursor = ans["next"]
        if not cursor:
            break
    out["api_asof_peer_total_s"] = time.perf_counter() - t_start
    out["api_asof_peer_routes"] = count
    out["api_asof_peer_routes_expected"] = meta["routes_after_load"] // meta["peers"]
    out["api_asof_peer_live_routes"] = next(
        (sum(v for v in p["prefixes"].values()) for p in api.get("/api/v1/peers", router=router)["peers"]
         if p["address"] == peer), None)
    out.update(latency_stats("api_asof_page10k", pages))
    if out["api_wrong_answers"] or count != out["api_asof_peer_routes_expected"]:
        raise RuntimeError(f"API answers wrong: {out['api_wrong_answers']} look-ups, "
                           f"{count} routes as of T ({out['api_asof_peer_routes_expected']} expected)")
    # and its first page of 100, as a browser asks for it
    out.update(latency_stats("api_asof_page100", [
        api.timed("/api/v1/rib", at=T, router=router, peer=peer, limit=100)[0] for _ in range(min(n, 50))]))
    return out


class AlertProbe:
    """Scenario f. A second BMP feed, router FW, whose peer PROBE_PEER is the
    site's VPN instance, and an SSE listener on /api/v1/events. Until
    finish(), it repeatedly sends a Peer Down for the VPN peer (at a random
    phase of the 1 s rules tick) and waits for the vpn-session-down alert to
    fire, then a Peer Up with its route and End-of-RIB and waits for the
    alert to resolve. A latency is from the sendall() of the message to the
    SSE event's arrival."""

    RULE = "vpn-session-down"

    def __init__(self, bport, hport):
        self.alerts = []  # (monotonic arrival, event data)
        self.cv = threading.Condition()
        self.samples = []  # (kind, t sent, latency or None when none came)
        self.stopping = False
        self.sse = http.client.HTTPConnection("127.0.0.1", hport, timeout=300)
        self.sse.request("GET", "/api/v1/events")
        self.resp = self.sse.getresponse()
        threading.Thread(target=self._listen, daemon=True).start()
        self.hdr = bw.peer_header(PROBE_PEER, PROBE_ASN, bgp_id=PROBE_PEER)
        self.bmp = socket.create_connection(("127.0.0.1", bport))
        self.bmp.sendall(bw.initiation(PROBE_ROUTER) + self._up())
        # the rules decide once the router's table is in (End-of-RIB) and the
        # site's initial sync is over: wait until the alert list holds no probe alert
        time.sleep(2.5)
        self.thread = threading.Thread(target=self._cycle, daemon=True)
        self.thread.start()

    def _up(self):
        """Peer Up for the VPN peer, its route, End-of-RIB."""
        upd = bw.update(announce=[PROBE_PREFIX], path_attrs=bw.attrs(as_path=(PROBE_ASN,), next_hop=PROBE_PEER))
        return (bw.peer_up(self.hdr, "10.17.11.1", 65020, PROBE_ASN, PROBE_PEER) +
                bw.route_monitoring(self.hdr, upd) + bw.end_of_rib(self.hdr))

    def _listen(self):
        """Reads the SSE stream; keeps the probe rule's alert events."""
        event = None
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                line = line.decode(errors="replace").rstrip("\r\n")
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "alert":
                    t = time.monotonic()
                    try:
                        d = json.loads(line[5:])
                    except ValueError:
                        continue
                    if d.get("rule") == self.RULE and d.get("peer") == PROBE_PEER:
                        with self.cv:
                            self.alerts.append((t, d))
                            self.cv.notify_all()
                elif not line:
                    event = None
        except (OSError, http.client.HTTPException, ValueError, AttributeError):
            pass  # closed by close(): http.client then has no socket left

    def _wait_state(self, state, after, timeout=10):
        """Arrival time of the first probe alert event in `state` after `after`, or None."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for t, d in self.alerts:
                    if t >= after and d.get("state") == state:
                        return t
                left = end - time.monotonic()
                if left <= 0 or self.stopping:
                    return None
                self.cv.wait(min(left, 0.2))

    def _cycle(self):
        """Peer Down -> firing, Peer Up -> resolved, at random phases."""
        rng = random.Random()  # unseeded: each run probes other phases of the tick
        while not self.stopping:
            for kind, data, state in (("down", bw.peer_down(self.hdr), "firing"), ("up", self._up(), "resolved")):
                time.sleep(rng.uniform(0.2, 1.2))
                if self.stopping:
                    return
                t = time.monotonic()
                self.bmp.sendall(data)
                got = self._wait_state(state, t)
                if got is None and self.stopping:
                    return  # cut short by finish(): not a sample
                self.samples.append((kind, t, None if got is None else got - t))
                if got is None:
                    return  # no decision within 10 s: counted as missing, stop probing

    def finish(self, t_from=None, t_to=None):
        """Stop probing; latencies of the cycles sent in [t_from, t_to] (all by default)."""
        self.stopping = True
        with self.cv:
            self.cv.notify_all()
        self.thread.join(30)
        out = {}
        for kind, name in (("down", "alert_fire"), ("up", "alert_resolve")):
            sel = [s for s in self.samples if s[0] == kind and (t_from is None or t_from <= s[1] <= t_to)]
            lat = [s[2] for s in sel if s[2] is not None]
            out.update(latency_stats(name, lat))
            out[f"{name}_samples_ms"] = [round(x * 1000, 1) for x in lat]
            out[f"{name}_missing"] = sum(1 for s in sel if s[2] is None)
        return out

    def close(self):
        """Close both connections (idempotent)."""
        self.stopping = True
        for c in (self.bmp, self.sse):
            try:
                c.close()
            except OSError:
                pass


def churn_bounded(achieved, backlog_slope, rate):
    """No backlog growth: the sender kept (>= 95%) the offered rate, i.e. the
    collector read what was offered, and the backlog (churn events written -
    history rows committed) grew by less than 1% of the offered rate per
    second, i.e. the store commits what is offered. A median of runs is
    judged the same way."""
    if achieved is None or backlog_slope is None:
        return None
    return bool(achieved >= 0.95 * rate and backlog_slope <= 0.01 * rate)


def slope(points):
    """Least-squares slope of (x, y) points, or None."""
    if len(points) < 3:
        return None
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx


# ------------------------------------------------------------------ pmbmpd

def run_pmbmpd(key, sc, stream, meta, work):
    d = tempfile.mkdtemp(prefix=f"pm-{key}-", dir=work)
    port = free_port()
    conf = os.path.join(d, "pmbmpd.conf")
    with open(conf, "w") as f:
        # pmbmpd keeps its RIB only when a dump backend is configured
        # (otherwise skip_rib): a daily dump that never fires during a run.
        f.write(f"bmp_daemon_ip: 127.0.0.1\n"
                f"bmp_daemon_port: {port}\n"
                f"bmp_daemon_max_peers: 10\n"
                f"logfile: {d}/pmbmpd.log\n"
                f"bmp_dump_file: {d}/dump-$bmp_router.json\n"
                f"bmp_dump_refresh_time: 86400\n")
    proc = subprocess.Popen([PMBMPD, "-f", conf], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = {}
    senders = []
    try:
        wait_listening(proc, port, "pmbmpd")
        res["rss_start_bytes"] = proc_mem(proc.pid)["VmRSS"]
        routes = meta["routes_after_load"]
        churn = key == "c"
        snd = Sender(port, stream, pause_at=meta["load_bytes"] if churn else None,
                     rate=sc.get("rate") if churn else None)
        senders.append(snd)
        t0 = snd.wait("connected")["t"]
        if churn:
            snd.wait("paused")
            # 'done' comes only after the churn: wait on the paused stream
            t_end = wait_consumed_paused(proc.pid, port, snd)
        else:
            t_end = wait_consumed(proc.pid, port, snd)
        res.update(consumed_s=t_end - t0, prefixes_per_s=routes / (t_end - t0), cpu_load_s=proc_cpu(proc.pid))
        mem_load = proc_mem(proc.pid)
        res["peak_rss_load_bytes"] = mem_load["VmHWM"]
        if churn:
            cpu0 = proc_cpu(proc.pid)
            snd.go()
            t_end = wait_consumed(proc.pid, port, snd)
            done = snd.get("done")
            dur = done["t_last"] - done["t_rate_start"]
            cpu = proc_cpu(proc.pid) - cpu0
            res.update(churn_seconds=dur, churn_achieved_rate=done["rate_achieved"],
                       churn_sender_max_lag_messages=done["max_lag_messages"],
                       churn_drain_s=t_end - done["t_last"], churn_cpu_s=cpu,
                       churn_cpu_util=cpu / dur if dur > 0 else None,
                       churn_cpu_us_per_event=cpu / meta["churn_events"] * 1e6)
            res["churn_bounded"] = bool(done["rate_achieved"] >= 0.95 * sc["rate"] and res["churn_drain_s"] <= 1.0)
        if key == "d":
            snd.close()
            # pmbmpd frees the router's RIB when the BMP session closes
            t_close = time.monotonic()
            wait_idle(proc.pid)
            res["close_cleanup_s"] = time.monotonic() - t_close - 0.3
            snd2 = Sender(port, stream)
            senders.append(snd2)
            t1 = snd2.wait("connected")["t"]
            cpu0 = proc_cpu(proc.pid)
            t_end = wait_consumed(proc.pid, port, snd2)
            res.update(resend_s=t_end - t1, resend_s_per_M=(t_end - t1) / (routes / M),
                       resend_cpu_s=proc_cpu(proc.pid) - cpu0)
        mem = proc_mem(proc.pid)
        res["peak_rss_bytes"] = mem["VmHWM"]
        res["peak_rss_bytes_per_route"] = mem["VmHWM"] / routes
        res["peak_rss_above_start_per_route"] = (mem["VmHWM"] - res["rss_start_bytes"]) / routes
        res["cpu_total_s"] = proc_cpu(proc.pid)
    finally:
        for s in senders:
            s.close()
        stop(proc)
        shutil.rmtree(d, ignore_errors=True)
    return res


def wait_consumed_paused(pid, port, snd, idle=0.3):
    last = proc_cpu(pid)
    t_change = time.monotonic()
    t_paused = snd.get("paused")["t"]
    end = t_change + TIMEOUT
    while True:
        time.sleep(0.005)
        now = time.monotonic()
        c = proc_cpu(pid)
        if c != last:
            last, t_change = c, now
        if now - t_change >= idle and queues_empty(port):
            return max(t_change, t_paused)
        if now > end:
            raise RuntimeError("pmbmpd did not consume the dump in time")


def wait_idle(pid, idle=0.3):
    last = proc_cpu(pid)
    t_change = time.monotonic()
    while time.monotonic() - t_change < idle:
        time.sleep(0.01)
        c = proc_cpu(pid)
        if c != last:
            last, t_change = c, time.monotonic()


# ------------------------------------------------------------------ streams

def stream_for(sc, seed, cache):
    churn = sc.get("churn", sc.get("rate", 0) * sc.get("secs", 0))
    with open(os.path.join(HERE, "bmpgen.c"), "rb") as f:
        gen = hashlib.sha1(f.read()).hexdigest()[:8]
    name = f"p{sc['peers']}-v4_{sc['v4']}-v6_{sc['v6']}-churn{churn}-seed{seed}-{gen}"
    path = os.path.join(cache, name + ".bmp")
    mpath = os.path.join(cache, name + ".json")
    if not (os.path.exists(path) and os.path.exists(mpath)):
        log(f"  generating {name}.bmp")
        subprocess.run([BMPGEN, "--peers", str(sc["peers"]), "--v4", str(sc["v4"]), "--v6", str(sc["v6"]),
                        "--churn", str(churn), "--seed", str(seed), "-o", path + ".tmp", "--meta", mpath + ".tmp"],
                       check=True)
        os.replace(path + ".tmp", path)
        os.replace(mpath + ".tmp", mpath)
    with open(mpath) as f:
        return path, json.load(f)


# ------------------------------------------------------------------ report

def median(vals):
    vals = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return statistics.median(vals) if vals else None


def medians(runs):
    keys = []
    for r in runs:
        for k, v in r.items():
            if k not in keys and isinstance(v, (int, float)) and not isinstance(v, bool):
                keys.append(k)
    out = {k: median([r.get(k) for r in runs]) for k in keys}
    vals = [r["churn_counts_ok"] for r in runs if "churn_counts_ok" in r]
    if vals:
        out["churn_counts_ok"] = all(vals)
    vals = [r["churn_bounded"] for r in runs if "churn_bounded" in r]
    if vals:
        out["churn_bounded_runs"] = f"{sum(vals)}/{len(vals)}"
        if "churn_backlog_slope_per_s" in out:
            out["churn_bounded"] = churn_bounded(out.get("churn_achieved_rate"), out["churn_backlog_slope_per_s"],
                                                 out.get("churn_target_rate"))
        else:
            out["churn_bounded"] = all(vals)
    return out


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if unit == "s":
        return f"{v:.3f} s" if v < 10 else f"{v:.1f} s"
    if unit == "B":
        for u, div in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
            if v >= div:
                return f"{v / div:.1f} {u}"
        return f"{v:.0f} B"
    if unit == "/s":
        return f"{v / 1e6:.2f} M/s" if v >= 1e6 else f"{v / 1e3:.0f} k/s"
    if isinstance(v, float):
        if v.is_integer():
            return str(int(v))
        return f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def table_rows(key, sc, meta, pw, pm):
    """(metric, pathwatch, pmbmpd, ratio pw/pm, target, verdict)"""
    routes = meta["routes_after_load"]
    per_m = routes / M
    rows = []

    def row(name, a, b=None, unit="", target=None, ok=None, r=True):
        rows.append((name, fmt(a, unit), fmt(b, unit) if b is not None else "", 
                     fmt(ratio(a, b)) + "x" if r and ratio(a, b) is not None else "",
                     target or "", "" if ok is None else ("met" if ok else "MISSED")))

    pm_t = pm.get("consumed_s")
    rib_pm = pw.get("rib_complete_s") / per_m if pw.get("rib_complete_s") is not None else None
    hist_pm = pw.get("history_committed_s") / per_m if pw.get("history_committed_s") is not None else None
    rss_pr = pw.get("peak_rss_bytes_per_route")
    row("routes (expected)", routes, r=False)
    if key in ("a", "b"):
        row("RIB complete", pw.get("rib_complete_s"), pm_t, "s",
            f"<= {TARGETS['rib_s_per_M']} s/M" if key == "a" else "",
            None if key != "a" or rib_pm is None else rib_pm <= TARGETS["rib_s_per_M"])
        row("  per million routes", rib_pm, pm_t / per_m if pm_t else None, "s")
        row("history committed (end to end)", pw.get("history_committed_s"), pm_t, "s",
            f"<= {TARGETS['hist_s_per_M']} s/M" + (" (8 s for 4x1M)" if key == "b" else ""),
            None if hist_pm is None else hist_pm <= TARGETS["hist_s_per_M"])
        row("  per million routes", hist_pm, pm_t / per_m if pm_t else None, "s")
        row("prefixes/s to RIB complete", pw.get("prefixes_per_s"), pm.get("prefixes_per_s"), "/s")
        row("CPU time, load", pw.get("cpu_load_s"), pm.get("cpu_load_s"), "s")
        row("  pathwatch loop thread / busiest other", None if pw.get("cpu_load_main_thread_s") is None else
            f"{pw['cpu_load_main_thread_s']:.2f} / {pw['cpu_load_busiest_other_thread_s']:.2f} s", r=False)
        row("peak RSS", pw.get("peak_rss_bytes"), pm.get("peak_rss_bytes"), "B")
        row("peak RSS per route", rss_pr, pm.get("peak_rss_bytes_per_route"), "",
            f"<= {TARGETS['peak_rss_B_per_route']} B", None if rss_pr is None else rss_pr <= TARGETS["peak_rss_B_per_route"])
        row("  above start-up RSS, per route", pw.get("peak_rss_above_start_per_route"),
            pm.get("peak_rss_above_start_per_route"))
        row("database (db, keys + wals)", pw.get("db_bytes"), unit="B", r=False)
        row("  per route", pw.get("db_bytes_per_route"), r=False)
    elif key == "c":
        row("load: history committed", pw.get("history_committed_s"), pm_t, "s")
        row("churn offered (target rate)", sc["rate"], r=False)
        row("churn achieved by the sender", pw.get("churn_achieved_rate"), pm.get("churn_achieved_rate"), "/s")
        row("history rows committed/s in churn", pw.get("churn_commit_rate"), unit="/s", r=False)
        row("store_pending max / 1st third / last third",
            None if pw.get("churn_store_pending_max") is None else
            f"{pw['churn_store_pending_max']:.0f} / {pw['churn_store_pending_first_third_mean']:.0f} / "
            f"{pw['churn_store_pending_last_third_mean']:.0f}", r=False)
        row("backlog slope (events/s per s)", pw.get("churn_backlog_slope_per_s"), r=False)
        row("backlog at churn end (events)", pw.get("churn_backlog_at_end"), r=False)
        row("drain after last byte", pw.get("churn_drain_s"), pm.get("churn_drain_s"), "s")
        row("CPU us per churn event", pw.get("churn_cpu_us_per_event"), pm.get("churn_cpu_us_per_event"))
        row("CPU utilisation in churn (cores)", pw.get("churn_cpu_util"), pm.get("churn_cpu_util"))
        row("  pathwatch loop thread / busiest other", None if pw.get("churn_cpu_util_main_thread") is None else
            f"{pw['churn_cpu_util_main_thread']:.2f} / {pw['churn_cpu_util_busiest_other_thread']:.2f}", r=False)
        row("no backlog growth (runs)", None if pw.get("churn_bounded") is None else
            f"{fmt(pw['churn_bounded'])} ({pw.get('churn_bounded_runs')})",
            None if pm.get("churn_bounded") is None else f"{fmt(pm['churn_bounded'])} ({pm.get('churn_bounded_runs')})",
            target="slope <= 1% of rate", ok=pw.get("churn_bounded"), r=False)
        row("final routes & history as expected", pw.get("churn_counts_ok"), r=False)
        row("peak RSS", pw.get("peak_rss_bytes"), pm.get("peak_rss_bytes"), "B")
    elif key == "d":
        row("first load: history committed", pw.get("history_committed_s"), pm_t, "s")
        row("re-send: consumed and committed", pw.get("resend_s"), pm.get("resend_s"), "s")
        row("  per million routes", pw.get("resend_s_per_M"), pm.get("resend_s_per_M"), "s",
            f"<= {TARGETS['resend_s_per_M']} s/M",
            None if pw.get("resend_s_per_M") is None else pw["resend_s_per_M"] <= TARGETS["resend_s_per_M"])
        row("  CPU time", pw.get("resend_cpu_s"), pm.get("resend_cpu_s"), "s")
        row("history rows added by the re-send", pw.get("resend_history_rows"), target="0",
            ok=None if pw.get("resend_history_rows") is None else pw["resend_history_rows"] == 0, r=False)
        row("messages counted (expected)",
            None if pw.get("resend_messages_counted") is None else
            f"{pw['resend_messages_counted']:.0f} ({pw.get('resend_messages_expected', 0):.0f})", r=False)
        row("peak RSS", pw.get("peak_rss_bytes"), pm.get("peak_rss_bytes"), "B")
    elif key == "e":
        def lat(name, k, target=None):
            p50, p99 = pw.get(f"api_{k}_p50_ms"), pw.get(f"api_{k}_p99_ms")
            row(name, None if p99 is None else f"{p50:.1f} / {p99:.1f} ms (n={pw.get(f'api_{k}_n', 0):.0f})",
                target=f"p99 <= {target} ms" if target else "", ok=None if target is None or p99 is None else p99 <= target,
                r=False)
        row("load: history committed", pw.get("history_committed_s"), unit="s", r=False)
        row("request kind: p50 / p99", "", r=False)
        lat("  exact look-up (all peers)", "exact", TARGETS["lookup_p99_ms"])
        lat("  longest match (/32, match=shorter)", "longest", TARGETS["lookup_p99_ms"])
        lat("  page of 100: router+peer+view+/8 longer", "page_longer", TARGETS["page_ms"])
        lat("  the same, pages 2-5 by cursor", "page_next", TARGETS["page_ms"])
        lat("  page of 100: ... + as_path=ORIGIN$", "page_as_path", TARGETS["page_ms"])
        lat("  page of 100: ... + community=A:B", "page_community", TARGETS["page_ms"])
        first = pw.get("api_first_filtered_page_ms")
        row("  the first of them after start (builds the filter index)",
            None if first is None else f"{first:.0f} ms", r=False)
        lat("  as of T, one peer, first page of 100", "asof_page100", TARGETS["asof_peer_ms"])
        lat("  as of T, one peer, pages of 10000", "asof_page10k")
        tot = pw.get("api_asof_peer_total_s")
        row("as of T, one peer, whole (all pages)", tot, unit="s", target=f"<= {TARGETS['asof_peer_ms']} ms",
            ok=None if tot is None else tot * 1000 <= TARGETS["asof_peer_ms"], r=False)
        row("  routes as of T (expected) / live now",
            None if pw.get("api_asof_peer_routes") is None else
            f"{pw['api_asof_peer_routes']:.0f} ({pw.get('api_asof_peer_routes_expected', 0):.0f}) / "
            f"{pw.get('api_asof_peer_live_routes') or 0:.0f}", r=False)
        row("wrong answers (exact/longest/filtered)", pw.get("api_wrong_answers"), target="0",
            ok=None if pw.get("api_wrong_answers") is None else pw["api_wrong_answers"] == 0, r=False)
    elif key == "f":
        row("churn achieved by the sender", pw.get("churn_achieved_rate"), unit="/s", r=False)
        row("no backlog growth", pw.get("churn_bounded"), r=False)
        for name, k in (("Peer Down -> alert firing (SSE)", "alert_fire"),
                        ("Peer Up -> alert resolved (SSE)", "alert_resolve")):
            p50, p99 = pw.get(f"{k}_p50_ms"), pw.get(f"{k}_p99_ms")
            row(name + ": p50 / p99 / max", None if p99 is None else
                f"{p50:.0f} / {p99:.0f} / {pw.get(f'{k}_max_ms'):.0f} ms (n={pw.get(f'{k}_n', 0):.0f}, "
                f"none within 10 s: {pw.get(f'{k}_missing', 0):.0f})",
                target=f"p99 <= {TARGETS['alert_p99_ms']} ms" if k == "alert_fire" else "",
                ok=None if p99 is None or k != "alert_fire" else p99 <= TARGETS["alert_p99_ms"], r=False)
    return rows


def print_table(title, rows):
    heads = ("metric", "pathwatch", "pmbmpd", "pw/pm", "target", "")
    widths = [max(len(str(r[i])) for r in list(rows) + [heads]) for i in range(6)]
    print(f"\n== {title}")
    print("  ".join(h.ljust(w) for h, w in zip(heads, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())


def machine_info():
    info = {"host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
            "loadavg_start": os.getloadavg()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            info["mem_total_kB"] = int(f.readline().split()[1])
    except OSError:
        pass
    try:
        info["git_commit"] = subprocess.run(["git", "-C", TOP, "rev-parse", "HEAD"], capture_output=True,
                                            text=True).stdout.strip()
        info["git_dirty"] = bool(subprocess.run(["git", "-C", TOP, "status", "--porcelain", "--untracked-files=no"],
                                                capture_output=True, text=True).stdout.strip())
    except OSError:
        pass
    try:
        v = subprocess.run([PMBMPD, "-V"], capture_output=True, text=True).stdout.splitlines()
        info["pmbmpd"] = v[0] if v else None
    except OSError:
        info["pmbmpd"] = None
    return info


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description="pathwatch benchmark (see bench/README.md)")
    ap.add_argument("--size", choices=("small", "full"), default="small")
    ap.add_argument("--runs", type=int, default=None, help="runs per scenario (default: 1 small, 3 full)")
    ap.add_argument("--scenarios", default="a,b,c,d,e,f", help="subset, e.g. a,d")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-pmbmpd", action="store_true", help="skip the pmbmpd comparison")
    ap.add_argument("--cache", default=os.environ.get("BENCH_CACHE", f"/tmp/pathwatch-bench-{os.getuid()}"),
                    help="where generated streams are kept (default /tmp/pathwatch-bench-UID)")
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    a = ap.parse_args()
    runs = a.runs or (1 if a.size == "small" else 3)
    keys = [k.strip() for k in a.scenarios.split(",") if k.strip()]
    for k in keys:
        if k not in SIZES[a.size]:
            ap.error(f"unknown scenario {k}")
    use_pm = not a.no_pmbmpd and os.path.exists(PMBMPD)
    if not use_pm and not a.no_pmbmpd:
        log("pmbmpd not found: the comparison is skipped (apt-get install pmacct)")
    os.makedirs(a.cache, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=a.cache)
    started = datetime.datetime.now(datetime.timezone.utc)
    out = {"started": started.isoformat(timespec="seconds"), "size": a.size, "runs": runs, "seed": a.seed,
           "machine": machine_info(), "targets": TARGETS,
           "scenarios": {}}
    streams = {}
    for k in keys:
        sc = SIZES[a.size][k]
        streams[k] = stream_for(sc, a.seed, a.cache)
        out["scenarios"][k] = {"title": TITLES[k].format(**sc), "params": sc, "stream": streams[k][1],
                               "runs": []}
    try:
        for run in range(runs):
            for k in keys:
                sc = SIZES[a.size][k]
                path, meta = streams[k]
                entry = {}
                for name, fn in (("pathwatch", run_pathwatch), ("pmbmpd", run_pmbmpd)):
                    if name == "pmbmpd" and (not use_pm or k in PATHWATCH_ONLY):
                        continue
                    log(f"run {run + 1}/{runs}  scenario {k}  {name}")
                    t = time.monotonic()
                    try:
                        entry[name] = fn(k, sc, path, meta, work)
                    except Exception as e:  # one failed run must not lose the others
                        log(f"  FAILED: {e}")
                        entry[name] = {"error": str(e)}
                    log(f"  {time.monotonic() - t:.1f} s")
                out["scenarios"][k]["runs"].append(entry)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\npathwatch bench, size {a.size}, {runs} run(s), medians; {out['machine'].get('cpus')} CPUs, "
          f"load at start {out['machine']['loadavg_start'][0]:.2f}")
    for k in keys:
        s = out["scenarios"][k]
        pw = medians([r["pathwatch"] for r in s["runs"] if "pathwatch" in r and "error" not in r["pathwatch"]])
        pm = medians([r["pmbmpd"] for r in s["runs"] if "pmbmpd" in r and "error" not in r["pmbmpd"]])
        s["median"] = {"pathwatch": pw, "pmbmpd": pm}
        errors = [r[n]["error"] for r in s["runs"] for n in r if "error" in r[n]]
        if errors:
            s["errors"] = errors
        rows = table_rows(k, SIZES[a.size][k], s["stream"], pw, pm)
        print_table(f"({k}) {s['title']}", rows)
        for e in errors:
            print(f"  error: {e}")
    os.makedirs(a.results, exist_ok=True)
    name = os.path.join(a.results, started.strftime("%Y%m%dT%H%M%SZ") + f"-{a.size}.json")
    with open(name, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"results: {os.path.relpath(name, TOP)}")
    return 1 if any("errors" in s for s in out["scenarios"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
