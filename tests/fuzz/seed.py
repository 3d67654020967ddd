#!/usr/bin/env python3
"""Seed inputs for every fuzz target, from what the project already holds:
the real BMP captures (tests/fixtures/bmp/*.bmp) and the hand-built vectors
(tests/vectors/*.bin) split into messages, the example and test
configuration files, and the query strings the tests and the dashboard send.

    tests/fuzz/seed.py OUTDIR            # writes OUTDIR/TARGET/<sha1>

Then merge into the committed corpus (keeps only inputs that add coverage):

    build-fuzz/tests/fuzz/fuzz-T -merge=1 -use_counters=0 tests/fuzz/corpus/T OUTDIR/T

Each input is laid out as its target reads it (see the target's comment):
bmp_msg: type byte + message after the common header; bgp_update: session
byte + UPDATE body; bgp_open: kind byte + OPEN/NOTIFICATION body;
config: YAML text; http_query: 16-bit allowed mask + query string.
Standard library only.
"""
import ast
import glob
import hashlib
import os
import re
import struct
import sys
import urllib.parse

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PEER_HDR, COMMON_HDR, BGP_HDR = 42, 6, 19
FLAG_A = 0x20
CONFIG_KEYS = ("collector", "sites", "receivers", "routes", "routers", "api")


def frames(data, hdr_len, len_at, fmt):
    """Whole length-prefixed messages one after the other (a trailing
    partial one is dropped): BMP (length at 1, 4 bytes) or BGP (at 16, 2)."""
    off, size = 0, struct.calcsize(fmt)
    while off + hdr_len <= len(data):
        (n,) = struct.unpack(fmt, data[off + len_at:off + len_at + size])
        if n < hdr_len or off + n > len(data):
            return
        yield data[off:off + n]
        off += n


def messages(data):
    return frames(data, COMMON_HDR, 1, ">I")


def bgp_pdus(data):
    """BGP PDUs one after the other (Peer Up: sent OPEN, received OPEN)."""
    return frames(data, BGP_HDR, 16, ">H")


def bmp_seeds(add):
    files = sorted(glob.glob(os.path.join(TOP, "tests/fixtures/bmp/*.bmp")) +
                   glob.glob(os.path.join(TOP, "tests/vectors/*.bin")))
    for path in files:
        for m in messages(open(path, "rb").read()):
            mtype, body = m[5], m[COMMON_HDR:]
            add("bmp_msg", bytes([mtype]) + body)
            if mtype not in (0, 2, 3) or len(body) < PEER_HDR:
                continue
            flags, rest = body[1], body[PEER_HDR:]
            if mtype == 0:  # Route Monitoring: the UPDATE, 2-byte AS or not, with and without add-path
                for pdu in bgp_pdus(rest):
                    session = 1 if flags & FLAG_A and body[0] != 3 else 0
                    add("bgp_update", bytes([session]) + pdu[BGP_HDR:])
                    add("bgp_update", bytes([session | 6]) + pdu[BGP_HDR:])
            elif mtype == 3:  # Peer Up: local address, ports, then two OPENs
                for pdu in bgp_pdus(rest[20:]):
                    add("bgp_open", b"\0" + pdu[BGP_HDR:])
            elif mtype == 2 and rest[:1] in (b"\x01", b"\x03"):  # Peer Down with a NOTIFICATION
                for pdu in bgp_pdus(rest[1:]):
                    add("bgp_open", b"\1" + pdu[BGP_HDR:])


def looks_like_config(text):
    return "\n" in text and any(re.search(r"^%s:" % k, text, re.M) for k in CONFIG_KEYS)


def config_seeds(add):
    for path in sorted(glob.glob(os.path.join(TOP, "examples/*.yaml")) + glob.glob(os.path.join(TOP, "demo/*.yaml"))):
        add("config", open(path, "rb").read())
    # configuration files the tests write: string constants in their code
    for path in sorted(glob.glob(os.path.join(TOP, "tests/**/*.py"), recursive=True)):
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and looks_like_config(node.value):
                add("config", node.value.encode())


def query(allowed, q):
    return struct.pack(">H", allowed) + q.encode()


def http_seeds(add):
    every = 0xFFFF
    # the tests' requests: d.get("/api/v1/...", key=value, ...)
    for path in sorted(glob.glob(os.path.join(TOP, "tests/**/*.py"), recursive=True)):
        for node in ast.walk(ast.parse(open(path).read())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).startswith("/api/v1/")):
                params = {k.arg: k.value.value for k in node.keywords
                          if k.arg and isinstance(k.value, ast.Constant)}
                add("http_query", query(every, urllib.parse.urlencode(params)))
    # the dashboard's and the docs' URLs
    for path in sorted(glob.glob(os.path.join(TOP, "web/static/**/*.js"), recursive=True) + glob.glob(os.path.join(TOP, "docs/*.md"))
                       + [os.path.join(TOP, "README.md")]):
        for m in re.finditer(r"/api/v1/[a-z/]+\?([^\s\"'`)<>]+)", open(path, errors="replace").read()):
            add("http_query", query(every, m.group(1)))
    # values the above do not show: other time forms, IPv6, a /rib cursor, paths with ids
    for q in ("at=1764072000.25", "from=2026-11-25T12:00:00.5+01:00&to=2026-11-25T13:00:00Z",
              "prefix=2001:db8::/32&match=shorter", "view=adj-rib-out-post&order=desc&limit=10000",
              "cursor=010a110b000000000000000000000000000019.42", "rule=er-not-redundant&state=firing&alert=3",
              "/api/v1/alerts/17/ack"):
        add("http_query", query(every, q))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: seed.py OUTDIR")
    out = sys.argv[1]
    count = {}

    def add(target, data):
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)
        count[target] = count.get(target, 0) + 1

    bmp_seeds(add)
    config_seeds(add)
    http_seeds(add)
    for t in sorted(count):
        print(f"{t}: {count[t]} seeds in {os.path.join(out, t)}")


if __name__ == "__main__":
    main()
