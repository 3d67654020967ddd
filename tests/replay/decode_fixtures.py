#!/usr/bin/env python3
"""Compares `pathwatch dump` of every real capture in tests/fixtures/bmp with
the independent decode beside it (.decoded.txt), message by message: type,
offset, peer, AS, RIB view, announced and withdrawn prefixes (with path ids),
LOCAL_PREF, AS_PATH, End-of-RIB, add-path negotiation and its mismatch,
statistics count, Peer Down reason, Initiation/Termination TLVs.

usage: decode_fixtures.py PATHWATCH FIXTURE_DIR
"""
import ast
import glob
import json
import os
import re
import subprocess
import sys

TYPES = {
    "Initiation": "initiation", "Termination": "termination", "PeerUp": "peer-up",
    "PeerDown": "peer-down", "RouteMonitoring": "route-monitoring",
    "StatisticsReport": "statistics",
}
VIEWS = {"adj-rib-in-pre": "pre-policy", "adj-rib-in-post": "post-policy", "loc-rib": "loc-rib"}
RM = re.compile(r"peer=(\S+) AS(\d+) (\S+)( \[path-id presence differs from Peer Up negotiation\])?"
                r" nlri=(\[.*?\]) withdrawn=(\[.*?\]) lp=(\S+) aspath=(\[.*?\])( \(End-of-RIB\))?$")
PEER = re.compile(r"peer=(\S+) AS(\d+) (\S+)(.*)$")


def compare(pathwatch, bmp, decoded):
    out = subprocess.run([pathwatch, "dump", bmp], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return [f"dump exited {out.returncode}: {out.stderr.strip()[-300:]}"]
    mine = [json.loads(line) for line in out.stdout.splitlines()]
    theirs = [line.rstrip("\n") for line in open(decoded) if line.startswith("@")]
    errors = []
    if len(mine) != len(theirs):
        errors.append(f"{len(mine)} messages decoded, reference has {len(theirs)}")
    for m, t in zip(mine, theirs):
        off, typ, rest = re.match(r"@(\d+) (\w+) ?(.*)$", t).groups()
        where = f"@{off} {typ}"

        def expect(what, got, want):
            if got != want:
                errors.append(f"{where}: {what}: got {got!r}, want {want!r}")

        expect("offset", m["offset"], int(off))
        expect("type", m["type"], TYPES[typ])
        if typ in ("Initiation", "Termination"):
            tlvs = dict(ast.literal_eval(rest[len("tlvs="):]))
            info = m.get("information") or {}
            if typ == "Initiation":
                expect("sysDescr", info.get("sys_descr"), tlvs.get(1))
                expect("sysName", info.get("sys_name"), tlvs.get(2))
            else:
                expect("reason", info.get("reason_code"), int(tlvs[1], 16))
            continue
        if typ == "RouteMonitoring":
            peer, asn, view, mismatch, nlri, wd, lp, aspath, eor = RM.match(rest).groups()
            expect("announced", m["announced"], ast.literal_eval(nlri))
            expect("withdrawn", m["withdrawn"], ast.literal_eval(wd))
            attrs = m["attributes"]
            expect("local_pref", attrs["local_pref"], None if lp == "None" else int(lp))
            if ast.literal_eval(nlri):
                expect("as_path", attrs["as_path"], ast.literal_eval(aspath))
            expect("addpath mismatch", m["addpath_mismatch"], bool(mismatch))
            if eor:
                expect("End-of-RIB", m["eor"], True)
            elif m["eor"]:
                # the reference does not label MP_UNREACH End-of-RIB markers;
                # they must at least carry no prefixes
                expect("empty End-of-RIB", m["announced"] + m["withdrawn"], [])
        else:
            peer, asn, view, extra = PEER.match(rest).groups()
            if typ == "PeerUp":
                ap = ast.literal_eval(extra.strip()[len("addpath="):])
                for fam, val in ap.items():
                    expect(f"add-path {fam}", m["addpath"].get(fam), val)
            elif typ == "PeerDown":
                expect("reason", m["down"]["code"], int(extra.strip()[len("reason="):]))
            elif typ == "StatisticsReport":
                expect("count", m["count"], int(extra.strip()[len("count="):]))
        expect("peer", m["peer"], peer)
        expect("peer AS", m["peer_asn"], int(asn))
        expect("view", m["view"], VIEWS[view])
    return errors


def main():
    pathwatch, fixtures = sys.argv[1], sys.argv[2]
    files = sorted(glob.glob(os.path.join(fixtures, "*.bmp")))
    if not files:
        print(f"no captures in {fixtures}")
        return 1
    failed = 0
    for bmp in files:
        errors = compare(pathwatch, bmp, bmp[:-4] + ".decoded.txt")
        print(f"{'ok  ' if not errors else 'FAIL'} {os.path.basename(bmp)}")
        for e in errors[:20]:
            print(f"     {e}")
        failed += bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
