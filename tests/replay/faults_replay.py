#!/usr/bin/env python3
"""Faults: what a NOC meets on a bad day, against the real daemon.

- the database file is garbage (or truncated): a clear error, the file untouched;
- the database is locked by an outside writer: commits fail loudly (log, status,
  metric) and are retried; when the lock goes, everything queued is committed;
- kill -9 at random moments during a full-table ingest, many times: after each
  restart PRAGMA integrity_check is ok and no committed history row is lost or
  changed; after the router's re-dump the history agrees with the live RIB;
- disk full (a small tmpfs made by the test; needs root): ingest goes on, the
  failure is reported, and it recovers by itself when space returns.

usage: faults_replay.py PATHWATCH BMPGEN
"""
import hashlib
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

from pwtest import Daemon, Failure, Receiver, check, run_tests, wait_for
from promparse import parse as prom_parse
from rules_replay import SITE

PW, BMPGEN = sys.argv[1], sys.argv[2]


def generate(tmp, routes, seed=7, name="GEN"):
    """A full table from bench/bmpgen: Initiation, Peer Up, `routes` IPv4 routes, End-of-RIB."""
    path = os.path.join(tmp, f"table-{routes}-{seed}.bmp")
    if not os.path.exists(path):
        subprocess.run([BMPGEN, "--peers", "1", "--v4", str(routes), "--seed", str(seed), "--sysname", name,
                        "-o", path], check=True, capture_output=True)
    return path


def sender(port, path):
    """Streams a file to the BMP port in a thread; the connection stays open until closed."""
    s = socket.create_connection(("127.0.0.1", port))
    data = open(path, "rb").read()

    def run():
        try:
            s.sendall(data)
        except OSError:
            pass  # the collector was killed
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return s


def ro(db):
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def history_digest(db, upto):
    """Count and digest of the committed history rows with id <= upto."""
    c = ro(db)
    try:
        h = hashlib.sha256()
        n = 0
        for row in c.execute("SELECT id, route_id, time, action, attr_id FROM history WHERE id <= ? ORDER BY id",
                             (upto,)):
            h.update(repr(row).encode())
            n += 1
        return n, h.hexdigest()
    finally:
        c.close()


def metric(d, name):
    """An unlabelled sample's value from /metrics (parsed strictly)."""
    return prom_parse(urllib_get(d, "/metrics")).get((name, frozenset()))


def urllib_get(d, path):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{d.http_port}{path}", timeout=10) as r:
        return r.read().decode()


# ---------------------------------------------------------------- tests

def test_garbage_database(tmp):
    for name, content in (("garbage.db", os.urandom(65536)),
                          ("truncated.db", b"SQLite format 3\0" + os.urandom(3000)),
                          ("text.db", b"not a database at all\n" * 100)):
        db = os.path.join(tmp, name)
        with open(db, "wb") as f:
            f.write(content)
        before = hashlib.sha256(content).hexdigest()
        r = subprocess.run([PW, "--db", db, "--bmp-listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode != 0, f"{name}: the collector refuses to start", r.stderr[-500:])
        check("cannot open the database" in r.stderr and name in r.stderr and "not a database" in r.stderr,
              f"{name}: the error names the file and says what is wrong", r.stderr[-500:])
        with open(db, "rb") as f:
            check(hashlib.sha256(f.read()).hexdigest() == before, f"{name}: the file is left as it was")
        r = subprocess.run([PW, "replay", os.devnull, "--db", db], capture_output=True, text=True, timeout=20)
        check(r.returncode != 0 and "not a database" in r.stderr, f"{name}: replay refuses it too", r.stderr[-300:])


def paged_config(tmp, rcv):
    """The lab site of rules_replay.py and a generic webhook receiver."""
    cfg = os.path.join(tmp, "paged.yaml")
    with open(cfg, "w") as f:
        f.write(SITE + f"""
receivers:
  - {{ name: noc, format: generic, url: "http://127.0.0.1:{rcv.port}/hook", timeout: 2s }}
routes:
  - {{ receiver: noc, group_wait: 0s }}
""")
    return cfg


def store_pages(rcv, state):
    """store-failing alerts in the generic webhook's requests, in the given state."""
    return [a for r in rcv.got("/hook") for a in r["body"]["alerts"]
            if a["rule"] == "store-failing" and a["state"] == state]


def test_locked_database(tmp):
    db = os.path.join(tmp, "pw.db")
    table = generate(tmp, 20000)
    rcv = Receiver().start()
    d = Daemon(PW, db, tmp, extra=["--config", paged_config(tmp, rcv)]).start()
    lock = None
    try:
        lock = sqlite3.connect(db, timeout=1, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # an outside writer holds the write lock
        s = sender(d.bmp_port, table)
        wait_for(lambda: d.get("/api/v1/status")["store_ok"] is False, 30, "status store_ok false while locked")
        check(metric(d, "pathwatch_store_failing") == 1, "metric pathwatch_store_failing is 1")
        wait_for(lambda: "store commit failed" in open(d.log_path, errors="replace").read(), 5, "a log line")
        st = wait_for(lambda: (lambda st: st if st["routes"] == 20000 else None)(d.get("/api/v1/status")), 30,
                      "the live RIB keeps ingesting while the store is locked")
        check(st["store_pending"] > 0 and st["history_rows"] == 0, "changes wait in the queue, uncommitted", st)
        check(d.get_status("/api/v1/rib", limit=1)[0] == 200, "reads still answer (WAL)")
        check("BMP session ended" not in open(d.log_path, errors="replace").read(), "the router's feed is kept")
        # the NOC is paged although the database takes nothing
        page = wait_for(lambda: store_pages(rcv, "firing"), 30, "a store-failing page while the lock is held")[0]
        check("does not take commits" in page["summary"] and page["evidence"]["db"] == db,
              "the page says what is wrong and which database", page)
        lock.execute("ROLLBACK")
        lock.close()
        lock = None
        wait_for(lambda: d.get("/api/v1/status")["store_ok"] and d.get("/api/v1/status")["store_pending"] == 0
                 and d.get("/api/v1/status")["routes"] == 20000, 60, "recovered and everything committed")
        check(metric(d, "pathwatch_store_failing") == 0, "metric back to 0")
        c = ro(db)
        n = c.execute("SELECT count(*) FROM history").fetchone()[0]
        live = c.execute("SELECT count(*) FROM routes WHERE attr_id IS NOT NULL").fetchone()[0]
        c.close()
        check(n == 20000 and live == 20000, "every route and its history row committed after the lock", [n, live])
        wait_for(lambda: store_pages(rcv, "resolved"), 30, "the resolve page")
        al = d.get("/api/v1/alerts", rule="store-failing")["alerts"]
        check(len(al) == 1 and al[0]["state"] == "resolved", "the alert is kept, resolved, in the database", al)
        s.close()
    finally:
        if lock:
            lock.close()
        d.stop()
        rcv.stop()


def test_database_replaced_while_running(tmp):
    db = os.path.join(tmp, "pw.db")
    d = Daemon(PW, db, tmp).start()
    try:
        first = generate(tmp, 5000, seed=5, name="ONE")
        s1 = sender(d.bmp_port, first)
        wait_for(lambda: d.get("/api/v1/status")["history_rows"] == 5000, 30, "the first table committed")
        os.link(db, db + ".kept")                   # the real file, under another name
        garbage = os.path.join(tmp, "garbage")
        with open(garbage, "wb") as f:
            f.write(os.urandom(1 << 16))
        os.replace(garbage, db)                     # someone puts another file in its place
        s2 = sender(d.bmp_port, generate(tmp, 5000, seed=6, name="TWO"))
        wait_for(lambda: d.get("/api/v1/status")["store_ok"] is False, 20, "the store stops committing, loudly")
        log = open(d.log_path, errors="replace").read()
        check("replaced by another file" in log, "the log says the file was replaced", log[-1500:])
        wait_for(lambda: d.get("/api/v1/status")["routes"] == 10000, 30, "the live RIB keeps ingesting")
        os.replace(db + ".kept", db)                # the file is put back
        wait_for(lambda: d.get("/api/v1/status")["store_ok"] and d.get("/api/v1/status")["store_pending"] == 0, 30,
                 "commits resume into the real file")
        c = ro(db)
        n = c.execute("SELECT count(*) FROM history").fetchone()[0]
        c.close()
        check(n == 10000, "both tables committed, nothing lost while the file was away", n)
        s1.close()
        s2.close()
    finally:
        d.stop()


def test_kill9_during_full_table(tmp):
    db = os.path.join(tmp, "pw.db")
    n_routes = 200000
    table = generate(tmp, n_routes, seed=11)
    rnd = random.Random(int(os.environ.get("PW_FAULT_SEED", "1")))
    kept = (0, 0, None)  # (max id, count, digest) committed before the last kill
    for round_ in range(6):
        d = Daemon(PW, db, tmp).start()
        c = ro(db)
        ok = c.execute("PRAGMA integrity_check").fetchone()[0]
        c.close()
        check(ok == "ok", f"round {round_}: integrity_check after kill -9", ok)
        if kept[0]:
            n, dg = history_digest(db, kept[0])
            check((n, dg) == (kept[1], kept[2]), f"round {round_}: every history row committed before the kill is "
                  "still there, unchanged", [n, kept[1]])
        s = sender(d.bmp_port, table)
        time.sleep(rnd.uniform(0.05, 2.5))
        c = ro(db)
        top = c.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0]
        c.close()
        n, dg = history_digest(db, top)
        kept = (top, n, dg)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        d.stop()
        s.close()
    # the router comes back and re-sends its table: the history ends up consistent
    d = Daemon(PW, db, tmp).start()
    try:
        s = sender(d.bmp_port, table)
        wait_for(lambda: d.get("/api/v1/status")["routes"] == n_routes and d.get("/api/v1/status")["store_pending"] == 0,
                 120, "the re-dump complete and committed")
        n, dg = history_digest(db, kept[0])
        check((n, dg) == (kept[1], kept[2]), "rows committed before the last kill unchanged after the re-dump")
        c = ro(db)
        bad = c.execute(
            "SELECT count(*) FROM routes r LEFT JOIN (SELECT route_id, max(id) AS id FROM history GROUP BY route_id) l"
            " ON l.route_id = r.id LEFT JOIN history h ON h.id = l.id WHERE (r.attr_id IS NULL) != (h.action IS NULL OR h.action = 3)"
            " OR (r.attr_id IS NOT NULL AND h.attr_id IS NOT r.attr_id)"
            " OR r.hist IS NOT h.id").fetchone()[0]
        live = c.execute("SELECT count(*) FROM routes WHERE attr_id IS NOT NULL").fetchone()[0]
        c.close()
        check(live == n_routes, "every route of the table is live", live)
        check(bad == 0, "each route's last history row agrees with the live RIB and heads its chain", bad)
        # each row links to the route's row before it (the chains rib?at= and history walk)
        c = ro(db)
        broken = c.execute(
            "SELECT count(*) FROM (SELECT prev, lag(id) OVER (PARTITION BY route_id ORDER BY id) AS want"
            " FROM history) WHERE prev IS NOT want").fetchone()[0]
        c.close()
        check(broken == 0, "every history row links to its route's previous row", broken)
        s.close()
    finally:
        d.stop()


def test_disk_full(tmp):
    if os.geteuid() != 0:
        raise Failure("needs root to mount a small tmpfs")
    mnt = os.path.join(tmp, "small")
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "pwtest-full", mnt], check=True)
    d = None
    try:
        db = os.path.join(mnt, "pw.db")
        table = generate(tmp, 30000, seed=3)
        d = Daemon(PW, db, tmp).start()
        # fill the filesystem, leaving almost nothing
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (1 << 20))
                    f.flush()
            except OSError:
                pass
        s = sender(d.bmp_port, table)
        wait_for(lambda: d.get("/api/v1/status")["store_ok"] is False, 30, "the store reports the failure")
        check(metric(d, "pathwatch_store_failing") == 1, "metric pathwatch_store_failing is 1")
        check("store commit failed" in open(d.log_path, errors="replace").read(), "logged")
        wait_for(lambda: d.get("/api/v1/status")["routes"] == 30000, 30, "the live RIB keeps ingesting")
        check("BMP session ended" not in open(d.log_path, errors="replace").read(), "the router's feed is kept")
        os.unlink(filler)  # space returns
        wait_for(lambda: d.get("/api/v1/status")["store_ok"] and d.get("/api/v1/status")["store_pending"] == 0
                 and d.get("/api/v1/status")["routes"] == 30000, 60, "recovered by itself, everything committed")
        c = ro(db)
        n = c.execute("SELECT count(*) FROM history").fetchone()[0]
        ok = c.execute("PRAGMA integrity_check").fetchone()[0]
        c.close()
        check(n == 30000 and ok == "ok", "no history row lost, database intact", [n, ok])
        s.close()
    finally:
        if d:
            d.stop()
        subprocess.run(["umount", "-l", mnt], check=False)


def test_retention(tmp):
    import bmpwriter as bw
    cfg = os.path.join(tmp, "retention.yaml")
    with open(cfg, "w") as f:
        f.write("collector:\n  retention: 3s\n  series_interval: 1s\n")
    db = os.path.join(tmp, "pw.db")
    d = Daemon(PW, db, tmp, extra=["--config", cfg]).start()
    try:
        hdr = bw.peer_header("192.0.2.1", 64999, "192.0.2.1")
        n = 4000
        pfx = [f"100.{64 + i // 256}.{i % 256}.0/24" for i in range(n)]

        def announce(prefixes, origin):
            return [bw.route_monitoring(hdr, bw.update(announce=prefixes[i:i + 100], path_attrs=bw.attrs(
                as_path=[64999, origin]))) for i in range(0, len(prefixes), 100)]
        s = socket.create_connection(("127.0.0.1", d.bmp_port))
        s.sendall(b"".join([bw.initiation("CHURN"), bw.peer_up(hdr, "192.0.2.2", 65020, 64999, "192.0.2.1")]
                           + announce(pfx, 1)))
        # withdraw a tenth: their withdraws become their routes' last rows, older than the horizon
        s.sendall(bw.route_monitoring(hdr, bw.update(withdraw=pfx[:400])))
        wait_for(lambda: d.get("/api/v1/status")["routes"] == n - 400, 20, "table loaded")
        live = pfx[400:]
        # steady churn: 1000 attribute changes every 0.2 s for 16 s (5000 rows/s)
        pages, rows = [], []
        c = ro(db)
        for k in range(80):
            part = live[(k * 1000) % len(live):][:1000]
            s.sendall(b"".join(announce(part, 2 + k)))
            time.sleep(0.2)
            if k % 10 == 9:
                rows.append(c.execute("SELECT count(*) FROM history").fetchone()[0])
                pages.append(c.execute("PRAGMA page_count").fetchone()[0])
        bound = len(live) + 5000 * (3 + 4)  # the in-force rows + 3 s of churn + slack for the steps
        print(f"     (history rows {rows}, pages {pages})")
        check(max(rows[2:]) <= bound, f"history stays bounded under churn (≤ {bound} rows)", rows)
        check(pages[-1] <= pages[3] * 1.25, "the database file stops growing (freed pages reused)", pages)
        # quiet: once the horizon passes the churn, one in-force row per live route remains
        wait_for(lambda: c.execute("SELECT count(*) FROM history").fetchone()[0] == len(live), 30,
                 "only the rows in force at the horizon are left")
        st = d.get("/api/v1/status")
        check(st["history_kept_since"] is not None, "status says since when history is kept", st)
        now = d.get("/api/v1/status")["time"]
        at_rib = {r["prefix"]: r["as_path"] for r in d.all_routes(at=now)}
        live_rib = {r["prefix"]: r["as_path"] for r in d.all_routes()}
        check(at_rib == live_rib and len(at_rib) == len(live), "rib?at= inside the window still gives the whole RIB",
              [len(at_rib), len(live_rib)])
        code, body = d.get_status("/api/v1/rib", at="2020-01-01T00:00:00Z")
        check(code == 400 and body.get("parameter") == "at" and "pruned" in body["detail"],
              "rib?at= before the horizon is refused, not answered wrong", [code, body])
        c.close()
        s.close()
    finally:
        d.stop()


if __name__ == "__main__":
    sys.exit(run_tests([
        ("a garbage database file: a clear error, the file untouched", test_garbage_database),
        ("database locked by an outside writer: loud, retried, nothing lost", test_locked_database),
        ("database file replaced while running: commits stop, loudly, and resume", test_database_replaced_while_running),
        ("kill -9 during a full-table ingest, six times: nothing committed lost", test_kill9_during_full_table),
        ("disk full: reported, ingest goes on, recovers by itself", test_disk_full),
        ("retention: history pruned in steps, bounded under churn, as-of still right", test_retention),
    ]))
