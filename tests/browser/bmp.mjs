// A small BMP writer for the browser tests (the Node twin of
// tests/replay/bmpwriter.py): RFC 7854 messages, captures split into
// messages, per-peer headers reused from captures.
import net from 'node:net';

export const ROUTE_MONITORING = 0, STATISTICS = 1, PEER_DOWN = 2, PEER_UP = 3, INITIATION = 4, TERMINATION = 5;
export const FLAG_V = 0x80, FLAG_L = 0x40, FLAG_A = 0x20, FLAG_O = 0x10;

const u8 = (...b) => Buffer.from(b);
const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };

export function ip4(addr) {
  const p = addr.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) throw new Error(`not an IPv4 address: ${addr}`);
  return Buffer.from(p);
}

export function msg(type, body) {
  return Buffer.concat([u8(3), u32(6 + body.length), u8(type), body]);
}

export function tlv(t, v) {
  const val = Buffer.isBuffer(v) ? v : Buffer.from(v);
  return Buffer.concat([u16(t), u16(val.length), val]);
}

export function initiation(sysName, sysDescr = 'pathwatch browser test writer') {
  return msg(INITIATION, Buffer.concat([tlv(1, sysDescr), tlv(2, sysName)]));
}

/** The 42-byte per-peer header (IPv4 peer). */
export function peerHeader(addr, asn, bgpId = '10.0.0.1', { flags = 0, type = 0, ts = 0 } = {}) {
  return Buffer.concat([u8(type, flags), Buffer.alloc(8), Buffer.alloc(12), ip4(addr), u32(asn), ip4(bgpId), u32(ts), u32(0)]);
}

export function bgp(type, body) {
  return Buffer.concat([Buffer.alloc(16, 0xff), u16(19 + body.length), u8(type), body]);
}

export function openMsg(asn, bgpId) {
  const caps = Buffer.concat([u8(2, 6, 65, 4), u32(asn)]);
  return bgp(1, Buffer.concat([u8(4), u16(Math.min(asn, 23456)), u16(90), ip4(bgpId), u8(caps.length), caps]));
}

export function peerUp(hdr, localAddr, localAsn, peerAsn, peerId) {
  return msg(PEER_UP, Buffer.concat([hdr, Buffer.alloc(12), ip4(localAddr), u16(179), u16(40000),
    openMsg(localAsn, localAddr), openMsg(peerAsn, peerId)]));
}

export function peerDown(hdr, reason = 4) {
  return msg(PEER_DOWN, Buffer.concat([hdr, u8(reason)]));
}

export function nlri(prefix) {
  const [a, l] = prefix.split('/');
  const len = Number(l);
  return Buffer.concat([u8(len), ip4(a).subarray(0, (len + 7) >> 3)]);
}

export function attrs({ asPath = [], nextHop = '10.0.0.1', localPref = null, origin = 0 } = {}) {
  const seg = asPath.length ? Buffer.concat([u8(2, asPath.length), ...asPath.map(u32)]) : Buffer.alloc(0);
  const parts = [u8(0x40, 1, 1, origin), u8(0x40, 2, seg.length), seg, u8(0x40, 3, 4), ip4(nextHop)];
  if (localPref !== null) parts.push(u8(0x40, 5, 4), u32(localPref));
  return Buffer.concat(parts);
}

export function update({ announce = [], withdraw = [], pathAttrs = Buffer.alloc(0) } = {}) {
  const wd = Buffer.concat(withdraw.map(nlri));
  const nl = Buffer.concat(announce.map(nlri));
  return bgp(2, Buffer.concat([u16(wd.length), wd, u16(pathAttrs.length), pathAttrs, nl]));
}

export const routeMonitoring = (hdr, upd) => msg(ROUTE_MONITORING, Buffer.concat([hdr, upd]));
export const endOfRib = (hdr) => routeMonitoring(hdr, bgp(2, Buffer.concat([u16(0), u16(0)])));

/** A capture's bytes -> its messages. */
export function split(data) {
  const out = [];
  for (let off = 0; off < data.length;) {
    const n = data.readUInt32BE(off + 1);
    if (n < 6 || off + n > data.length) throw new Error(`bad BMP framing at ${off}`);
    out.push(data.subarray(off, off + n));
    off += n;
  }
  return out;
}

export const typeOf = (m) => m[5];
/** IPv4 peer address of a message with a per-peer header. */
export const peerOf = (m) => [...m.subarray(28, 32)].join('.');
/** The 42-byte per-peer header of a captured message. */
export const headerOf = (m) => Buffer.from(m.subarray(6, 48));
/** A captured message as a router would send it now: its per-peer header's timestamp set to the current time. */
export function stampedNow(m) {
  const c = Buffer.from(m);
  const now = Date.now();
  c.writeUInt32BE(Math.floor(now / 1000), 6 + 34);
  c.writeUInt32BE((now % 1000) * 1000, 6 + 38);
  return c;
}

/** A BMP "router": a TCP connection to the collector. */
export async function connect(port, ...messages) {
  const sock = net.createConnection({ host: '127.0.0.1', port });
  await new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  sock.on('error', () => {});
  if (messages.length) await send(sock, ...messages);
  return sock;
}

export function send(sock, ...messages) {
  return new Promise((res, rej) => sock.write(Buffer.concat(messages.flat()), (e) => e ? rej(e) : res()));
}
