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
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BIN = os.environ.get("BENCH_BIN", os.path.join(HERE, ".bin"))
# run.sh copies build/pathwatch here, so that a rebuild during a run does not
# mix two binaries in one result
PATHWATCH = os.path.join(BIN, "pathwatch")
BMPGEN = os.path.join(BIN, "bmpgen")
BMPSEND = os.path.join(BIN, "bmpsend")
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
    },
    "full": {
        "a": dict(peers=1, v4=1_000_000, v6=0),
        "b": dict(peers=4, v4=1_000_000, v6=200_000),
        "c": dict(peers=1, v4=1_000_000, v6=0, rate=50_000, secs=60),
        "d": dict(peers=1, v4=1_000_000, v6=0),
    },
}
TITLES = {
    "a": "initial dump, {peers} peer x {v4} IPv4",
    "b": "initial dump, {peers} peer(s) x ({v4} IPv4 + {v6} IPv6)",
    "c": "churn {rate}/s for {secs} s on a loaded RIB ({peers} x {v4} IPv4)",
    "d": "reconnect: the same table ({peers} x {v4} IPv4) re-sent unchanged",
}

# The targets of the issue, per million routes so that a small run can be
# compared too (there, fixed costs weigh more: indicative only).
TARGETS = {
    "rib_s_per_M": 0.3,        # 1 peer x 1M: RIB complete <= 0.3 s
    "hist_s_per_M": 2.0,       # 1 peer x 1M: history committed <= 2 s; 4 x 1M <= 8 s end to end
    "peak_rss_B_per_route": 100,
    "resend_s_per_M": 1.0,     # unchanged re-send <= 1 s per million routes
    "resend_history_rows": 0,
}

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
    def __init__(self, port):
        self.port = port
        self.conn = None

    def get(self, path):
        for attempt in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                body = r.read()
                if r.status != 200:
                    raise RuntimeError(f"GET {path}: HTTP {r.status}")
                return json.loads(body)
            except (OSError, http.client.HTTPException):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.05)

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
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.path.getsize(dbpath + suffix)
        except OSError:
            pass
    return total


def run_pathwatch(key, sc, stream, meta, work):
    d = tempfile.mkdtemp(prefix=f"pw-{key}-", dir=work)
    dbpath = os.path.join(d, "pathwatch.db")
    bport, hport = free_port(), free_port()
    logf = open(os.path.join(d, "pathwatch.log"), "wb")
    proc = subprocess.Popen([PATHWATCH, "--bmp-listen", f"127.0.0.1:{bport}", "--http-listen",
                             f"127.0.0.1:{hport}", "--db", dbpath, "--log-level", "warn"],
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
    res = {}
    senders = []
    try:
        wait_listening(proc, bport, "pathwatch")
        api = Api(hport)
        api.status()
        res["rss_start_bytes"] = proc_mem(proc.pid)["VmRSS"]
        routes = meta["routes_after_load"]
        samples = []
        churn = key == "c"
        snd = Sender(bport, stream, pause_at=meta["load_bytes"] if churn else None,
                     rate=sc.get("rate") if churn else None)
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

        if churn:
            res.update(pw_churn(proc, api, snd, sc, meta, t0))
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
    churn = sc.get("rate", 0) * sc.get("secs", 0)
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
        row("database (db + wal)", pw.get("db_bytes"), unit="B", r=False)
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
    ap.add_argument("--scenarios", default="a,b,c,d", help="subset, e.g. a,d")
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
           "not_measured": ["alert-decision latency (from the BMP message that changes a rule's outcome "
                            "to the alert transition): not measured yet",
                            "API on a 4M-route RIB (exact/longest-match look-up p99, a filtered page of 100, "
                            "RIB as of a past time for one peer): not measured yet"],
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
                    if name == "pmbmpd" and not use_pm:
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
    print("\nNot measured yet: alert-decision latency; the API on a 4M-route RIB.")
    os.makedirs(a.results, exist_ok=True)
    name = os.path.join(a.results, started.strftime("%Y%m%dT%H%M%SZ") + f"-{a.size}.json")
    with open(name, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"results: {os.path.relpath(name, TOP)}")
    return 1 if any("errors" in s for s in out["scenarios"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
