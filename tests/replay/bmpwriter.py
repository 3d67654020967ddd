"""A small BMP writer for tests: builds RFC 7854 / 8671 / 9069 messages
that no Debian router sends (Adj-RIB-Out, crafted faults), and rewrites
captured messages. Standard library only."""
import ipaddress
import struct

ROUTE_MONITORING, STATISTICS, PEER_DOWN, PEER_UP, INITIATION, TERMINATION = 0, 1, 2, 3, 4, 5
FLAG_V, FLAG_L, FLAG_A, FLAG_O = 0x80, 0x40, 0x20, 0x10


def msg(mtype, body):
    return struct.pack(">BIB", 3, 6 + len(body), mtype) + body


def tlv(t, v):
    return struct.pack(">HH", t, len(v)) + v


def initiation(sys_name, sys_descr="pathwatch test writer"):
    return msg(INITIATION, tlv(1, sys_descr.encode()) + tlv(2, sys_name.encode()))


def peer_header(addr, asn, bgp_id="10.0.0.1", flags=0, ptype=0, ts=0):
    ip = ipaddress.ip_address(addr)
    if ip.version == 6:
        flags |= FLAG_V
        a = ip.packed
    else:
        a = b"\0" * 12 + ip.packed
    return (struct.pack(">BBQ", ptype, flags, 0) + a + struct.pack(">I", asn) +
            ipaddress.ip_address(bgp_id).packed + struct.pack(">II", ts, 0))


def bgp(mtype, body):
    return b"\xff" * 16 + struct.pack(">HB", 19 + len(body), mtype) + body


def open_msg(asn, bgp_id):
    caps = bytes([2, 6, 65, 4]) + struct.pack(">I", asn)
    return bgp(1, struct.pack(">BHHIB", 4, min(asn, 23456), 90, int(ipaddress.ip_address(bgp_id)), len(caps)) + caps)


def peer_up(hdr, local_addr, local_asn, peer_asn, peer_id):
    la = ipaddress.ip_address(local_addr).packed
    la = b"\0" * 12 + la if len(la) == 4 else la
    return msg(PEER_UP, hdr + la + struct.pack(">HH", 179, 40000) + open_msg(local_asn, local_addr) +
               open_msg(peer_asn, peer_id))


def peer_down(hdr, reason=4):
    return msg(PEER_DOWN, hdr + bytes([reason]))


def nlri(prefix):
    n = ipaddress.ip_network(prefix)
    return bytes([n.prefixlen]) + n.network_address.packed[:(n.prefixlen + 7) // 8]


def attrs(as_path=(), next_hop="10.0.0.1", local_pref=None, origin=0, communities=(), large_communities=()):
    path = b"".join(struct.pack(">I", a) for a in as_path)
    seg = struct.pack(">BB", 2, len(as_path)) + path if as_path else b""
    out = bytes([0x40, 1, 1, origin]) + bytes([0x40, 2, len(seg)]) + seg
    out += bytes([0x40, 3, 4]) + ipaddress.ip_address(next_hop).packed
    if local_pref is not None:
        out += bytes([0x40, 5, 4]) + struct.pack(">I", local_pref)
    if communities:  # "A:B" strings, RFC 1997
        v = b"".join(struct.pack(">HH", *map(int, c.split(":"))) for c in communities)
        out += bytes([0xC0, 8, len(v)]) + v
    if large_communities:  # "A:B:C" strings, RFC 8092
        v = b"".join(struct.pack(">III", *map(int, c.split(":"))) for c in large_communities)
        out += bytes([0xC0, 32, len(v)]) + v
    return out


def update(announce=(), withdraw=(), path_attrs=b""):
    wd = b"".join(nlri(p) for p in withdraw)
    nl = b"".join(nlri(p) for p in announce)
    return bgp(2, struct.pack(">H", len(wd)) + wd + struct.pack(">H", len(path_attrs)) + path_attrs + nl)


def route_monitoring(hdr, upd):
    return msg(ROUTE_MONITORING, hdr + upd)


def end_of_rib(hdr):
    return route_monitoring(hdr, bgp(2, struct.pack(">HH", 0, 0)))


def split(data):
    """A capture's bytes -> list of messages."""
    out, off = [], 0
    while off < len(data):
        (n,) = struct.unpack(">I", data[off + 1:off + 5])
        out.append(data[off:off + n])
        off += n
    return out


def peer_of(m):
    """(type, IPv4 peer address text) of a message with a per-peer header."""
    return m[5], str(ipaddress.ip_address(m[28:32]))


def header_of(m):
    """The 42-byte per-peer header of a captured message."""
    return m[6:48]
