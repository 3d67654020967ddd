/* bmpgen: a deterministic generator of realistic BMP (RFC 7854) streams for
 * the pathwatch benchmark.
 *
 *   bmpgen [--peers P] [--v4 N] [--v6 M] [--churn C] [--seed S]
 *          [--nlri-per-update K] [--churn-nlri K] [--sysname NAME]
 *          [-o FILE|-] [--meta FILE]
 *
 * The stream: Initiation (sysDescr, sysName), one Peer Up per peer (both
 * OPENs: 4-byte AS, multiprotocol IPv4/IPv6 unicast, route refresh), then
 * per peer its IPv4 table (UPDATEs of 1..2K-1 NLRI sharing one attribute
 * set, K=4 on average), the IPv4 End-of-RIB, its IPv6 table (MP_REACH_NLRI)
 * and the IPv6 End-of-RIB; then C churn events (withdraws, re-announces of
 * withdrawn prefixes, attribute changes), --churn-nlri prefixes per
 * Route Monitoring message. Every peer announces the same prefixes (a full
 * table each) in its own order with its own attributes.
 *
 * Prefix lengths follow the shape of the public tables: IPv4 ~60% /24, most
 * of the rest /16-/23, a few /8-/15; IPv6 mostly /48, /32, /44, /40.
 * AS paths have 2 to 7 hops (first hop the peer's AS, some prepending,
 * 4-byte ASNs), 0-4 communities, sometimes MED and large communities.
 *
 * Everything derives from --seed: the same flags give the same bytes.
 * The meta file (JSON) gives the sizes and the counts the benchmark waits
 * for: routes after the initial dump, routes and history rows after churn,
 * and the byte offset where churn starts (a live sender rate-limits from
 * there).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ randomness */

static uint64_t rng_state;

static uint64_t rnd(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

static double rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* pick an index from a weight table */
static int pick(const double *w, int n)
{
	double total = 0;
	for (int i = 0; i < n; i++)
		total += w[i];
	double x = rnd_unit() * total;
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p) {
		fprintf(stderr, "bmpgen: out of memory\n");
		exit(1);
	}
	return p;
}

/* --------------------------------------------------------------- output */

static FILE *out;
static uint64_t out_bytes, out_msgs;

static uint8_t msg[65536];
static size_t mlen;

static void put8(uint8_t v) { msg[mlen++] = v; }
static void put16(uint16_t v) { put8((uint8_t)(v >> 8)); put8((uint8_t)v); }
static void put32(uint32_t v) { put16((uint16_t)(v >> 16)); put16((uint16_t)v); }
static void putn(const void *p, size_t n) { memcpy(msg + mlen, p, n); mlen += n; }
static void set16(size_t at, uint16_t v) { msg[at] = (uint8_t)(v >> 8); msg[at + 1] = (uint8_t)v; }
static void set32(size_t at, uint32_t v) { set16(at, (uint16_t)(v >> 16)); set16(at + 2, (uint16_t)v); }

enum { BMP_RM = 0, BMP_PEER_UP = 3, BMP_INIT = 4 };

static size_t bmp_begin(uint8_t type)
{
	mlen = 0;
	put8(3);
	put32(0);
	put8(type);
	return 0;
}

static void bmp_end(void)
{
	set32(1, (uint32_t)mlen);
	if (fwrite(msg, 1, mlen, out) != mlen) {
		perror("bmpgen: write");
		exit(1);
	}
	out_bytes += mlen;
	out_msgs++;
}

/* ---------------------------------------------------------------- model */

struct peer {
	uint32_t addr; /* IPv4 session address */
	uint32_t asn;
	uint32_t bgp_id;
	uint32_t local_addr;
};

static const uint32_t peer_asns[] = { 3356, 1299, 174, 2914, 6939, 6453, 3257, 6762, 6830, 3491, 1273, 5511 };
enum { LOCAL_ASN = 64512 + 1 };
static const uint32_t LOCAL_ID = 0xc0000201; /* 192.0.2.1 */
static uint32_t ts_base = 1767225600;    /* 2026-01-01T00:00:00Z */
static uint32_t ts_now, ts_usec;

/* a pool of transit and origin ASNs: fixed per seed */
enum { N_TRANSIT = 400, N_ORIGIN = 60000 };
static uint32_t transit[N_TRANSIT], origin_as[N_ORIGIN];

static void make_as_pools(void)
{
	for (int i = 0; i < N_TRANSIT; i++)
		transit[i] = 1000 + rnd_below(60000);
	for (int i = 0; i < N_ORIGIN; i++) {
		if (rnd_below(100) < 25)
			origin_as[i] = 131072 + rnd_below(270000); /* 4-byte ASNs */
		else
			origin_as[i] = 1 + rnd_below(64000);
	}
}

/* a prefix: IPv4 in the low 32 bits of hi; IPv6 the first 64 bits */
struct pfx {
	uint64_t hi;
	uint8_t len;
	uint8_t v6;
};

static int pfx_bytes(const struct pfx *p)
{
	return (p->len + 7) / 8;
}

static void put_pfx(const struct pfx *p)
{
	put8(p->len);
	int n = pfx_bytes(p);
	if (!p->v6) {
		uint32_t a = (uint32_t)p->hi;
		for (int i = 0; i < n; i++)
			put8((uint8_t)(a >> (24 - 8 * i)));
	} else {
		for (int i = 0; i < n; i++)
			put8((uint8_t)(p->hi >> (56 - 8 * i)));
	}
}

/* open addressing set of prefixes, for uniqueness: (hi, len|v6|present) */
static uint64_t *set_keys;
static size_t set_cap;

static int set_add(const struct pfx *p)
{
	uint64_t tag = (uint64_t)p->len | (uint64_t)p->v6 << 8 | 1ULL << 16;
	uint64_t h = (p->hi ^ tag * 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;
	size_t i = (size_t)(h >> 17) & (set_cap - 1);
	for (;;) {
		if (!set_keys[2 * i + 1]) {
			set_keys[2 * i] = p->hi;
			set_keys[2 * i + 1] = tag;
			return 1;
		}
		if (set_keys[2 * i] == p->hi && set_keys[2 * i + 1] == tag)
			return 0;
		i = (i + 1) & (set_cap - 1);
	}
}

static void set_init(size_t n)
{
	set_cap = 1024;
	while (set_cap < 2 * n)
		set_cap <<= 1;
	free(set_keys);
	set_keys = xcalloc(2 * set_cap, sizeof *set_keys);
}

/* IPv4 lengths 8..24, weights in percent (shape of the public table) */
static const double v4_len_w[17] = {
	/* 8 */ 0.004, 0.008, 0.015, 0.025, 0.04, 0.06, 0.07, 0.08,
	/* 16 */ 1.4, 0.8, 1.3, 2.5, 4.0, 4.2, 12.0, 10.0,
	/* 24 */ 60.0,
};

static struct pfx gen_v4(void)
{
	for (int tries = 0;; tries++) {
		int len = tries < 50 ? 8 + pick(v4_len_w, 17) : 24;
		uint32_t first;
		do
			first = 1 + rnd_below(223);
		while (first == 10 || first == 127 || first == 100 || first == 169 || first == 172 || first == 192);
		uint32_t a = (first << 24) | (uint32_t)(rnd() & 0xffffff);
		a &= len ? ~0u << (32 - len) : 0;
		struct pfx p = { .hi = a, .len = (uint8_t)len, .v6 = 0 };
		if (set_add(&p))
			return p;
	}
}

/* IPv6 lengths and weights */
static const int v6_lens[] = { 19, 20, 22, 24, 28, 29, 30, 31, 32, 33, 34, 35, 36, 40, 42, 44, 45, 46, 47, 48 };
static const double v6_len_w[] = { 0.1, 0.2, 0.2, 0.3, 0.6, 4.0, 0.8, 0.7, 12.0, 1.5, 1.0, 0.6, 3.0,
				   5.0, 1.0, 8.0, 1.5, 2.5, 2.0, 50.0 };

static struct pfx gen_v6(void)
{
	for (int tries = 0;; tries++) {
		int len = tries < 50 ? v6_lens[pick(v6_len_w, (int)(sizeof v6_lens / sizeof v6_lens[0]))] : 48;
		uint64_t hi = (0x2ULL << 60) | (rnd() >> 4); /* 2000::/3 ... 3fff: keep it in 2000::/4 */
		hi &= ~0ULL << (64 - len);
		struct pfx p = { .hi = hi, .len = (uint8_t)len, .v6 = 1 };
		if (set_add(&p))
			return p;
	}
}

/* ------------------------------------------------------------ BGP bits */

static void per_peer_header(const struct peer *p)
{
	put8(0);  /* global instance peer */
	put8(0);  /* IPv4 peer, pre-policy, 4-byte AS_PATH */
	put32(0); /* RD */
	put32(0);
	put32(0); /* address: 12 zero bytes then IPv4 */
	put32(0);
	put32(0);
	put32(p->addr);
	put32(p->asn);
	put32(p->bgp_id);
	put32(ts_now);
	put32(ts_usec);
}

static void bgp_open(uint32_t asn, uint32_t id, int v6)
{
	size_t start = mlen;
	for (int i = 0; i < 16; i++)
		put8(0xff);
	put16(0); /* length */
	put8(1);  /* OPEN */
	put8(4);
	put16(asn > 65535 ? 23456 : (uint16_t)asn);
	put16(180);
	put32(id);
	size_t optlen_at = mlen;
	put8(0);
	put8(2); /* capabilities parameter */
	size_t plen_at = mlen;
	put8(0);
	/* multiprotocol IPv4 unicast */
	put8(1); put8(4); put16(1); put8(0); put8(1);
	if (v6) {
		put8(1); put8(4); put16(2); put8(0); put8(1);
	}
	put8(2); put8(0);          /* route refresh */
	put8(65); put8(4); put32(asn); /* 4-octet AS */
	put8(70); put8(0);          /* enhanced route refresh */
	msg[plen_at] = (uint8_t)(mlen - plen_at - 1);
	msg[optlen_at] = (uint8_t)(mlen - optlen_at - 1);
	set16(start + 16, (uint16_t)(mlen - start));
}

static void emit_initiation(const char *sysname)
{
	bmp_begin(BMP_INIT);
	const char *descr = "bmpgen synthetic router (pathwatch bench)";
	put16(1);
	put16((uint16_t)strlen(descr));
	putn(descr, strlen(descr));
	put16(2);
	put16((uint16_t)strlen(sysname));
	putn(sysname, strlen(sysname));
	bmp_end();
}

static void emit_peer_up(const struct peer *p, int v6)
{
	bmp_begin(BMP_PEER_UP);
	per_peer_header(p);
	put32(0); put32(0); put32(0);
	put32(p->local_addr);
	put16(179);
	put16((uint16_t)(40000 + (p->addr & 0xff)));
	bgp_open(LOCAL_ASN, LOCAL_ID, v6);  /* sent OPEN */
	bgp_open(p->asn, p->bgp_id, v6);    /* received OPEN */
	bmp_end();
}

/* an attribute set, as chosen for one UPDATE */
struct attrs {
	uint8_t origin;
	uint8_t n_as;
	uint32_t as[10];
	int has_med;
	uint32_t med;
	uint8_t n_comm;
	uint32_t comm[4];
	int has_large;
};

static void random_attrs(const struct peer *p, struct attrs *a)
{
	static const double origin_w[] = { 90, 2, 8 };
	static const double hops_w[] = { 10, 30, 30, 18, 8, 4 }; /* 2..7 hops */
	memset(a, 0, sizeof *a);
	a->origin = (uint8_t)pick(origin_w, 3);
	int hops = 2 + pick(hops_w, 6);
	a->as[a->n_as++] = p->asn;
	for (int i = 1; i < hops - 1; i++)
		a->as[a->n_as++] = transit[rnd_below(N_TRANSIT)];
	uint32_t orig = origin_as[rnd_below(N_ORIGIN)];
	a->as[a->n_as++] = orig;
	if (rnd_below(100) < 6) { /* prepending */
		int extra = 1 + (int)rnd_below(3);
		while (extra-- && a->n_as < 10)
			a->as[a->n_as++] = orig;
	}
	if (rnd_below(100) < 40) {
		a->has_med = 1;
		a->med = rnd_below(1001);
	}
	a->n_comm = (uint8_t)rnd_below(5);
	for (int i = 0; i < a->n_comm; i++)
		a->comm[i] = ((p->asn & 0xffff) << 16) | (100 + rnd_below(2900));
	a->has_large = rnd_below(100) < 5;
}

static void attr_hdr(uint8_t flags, uint8_t type, size_t len)
{
	if (len > 255) {
		put8(flags | 0x10);
		put8(type);
		put16((uint16_t)len);
	} else {
		put8(flags);
		put8(type);
		put8((uint8_t)len);
	}
}

static void put_attrs_common(const struct attrs *a, uint32_t next_hop, int v4)
{
	attr_hdr(0x40, 1, 1);
	put8(a->origin);
	attr_hdr(0x40, 2, 2 + 4 * (size_t)a->n_as);
	put8(2);
	put8(a->n_as);
	for (int i = 0; i < a->n_as; i++)
		put32(a->as[i]);
	if (v4) {
		attr_hdr(0x40, 3, 4);
		put32(next_hop);
	}
	if (a->has_med) {
		attr_hdr(0x80, 4, 4);
		put32(a->med);
	}
	if (a->n_comm) {
		attr_hdr(0xc0, 8, 4 * (size_t)a->n_comm);
		for (int i = 0; i < a->n_comm; i++)
			put32(a->comm[i]);
	}
}

static void put_large(const struct attrs *a)
{
	if (!a->has_large)
		return;
	attr_hdr(0xc0, 32, 12);
	put32(a->as[0]);
	put32(1);
	put32(a->as[a->n_as - 1]);
}

static size_t bgp_update_begin(void)
{
	size_t start = mlen;
	for (int i = 0; i < 16; i++)
		put8(0xff);
	put16(0);
	put8(2);
	return start;
}

static void bgp_update_end(size_t start)
{
	set16(start + 16, (uint16_t)(mlen - start));
}

static uint64_t v6_next_hop_hi(const struct peer *p)
{
	return 0x20010db800000000ULL | (p->addr & 0xffff);
}

static void put_v6_nh(const struct peer *p)
{
	put32((uint32_t)(v6_next_hop_hi(p) >> 32));
	put32((uint32_t)v6_next_hop_hi(p));
	put32(0);
	put32(p->addr);
}

/* one Route Monitoring message: announce n prefixes of one family with a */
static void emit_announce(const struct peer *p, const struct attrs *a, struct pfx *const *px, int n)
{
	bmp_begin(BMP_RM);
	per_peer_header(p);
	size_t u = bgp_update_begin();
	put16(0); /* no withdrawn */
	size_t alen_at = mlen;
	put16(0);
	int v6 = px[0]->v6;
	put_attrs_common(a, p->addr, !v6);
	if (v6) {
		size_t len = 4 + 16 + 1; /* AFI, SAFI, NH length, NH, reserved */
		for (int i = 0; i < n; i++)
			len += 1 + (size_t)pfx_bytes(px[i]);
		attr_hdr(0x80, 14, len);
		put16(2);
		put8(1);
		put8(16);
		put_v6_nh(p);
		put8(0);
		for (int i = 0; i < n; i++)
			put_pfx(px[i]);
	}
	put_large(a);
	set16(alen_at, (uint16_t)(mlen - alen_at - 2));
	if (!v6)
		for (int i = 0; i < n; i++)
			put_pfx(px[i]);
	bgp_update_end(u);
	bmp_end();
}

static void emit_withdraw(const struct peer *p, struct pfx *const *px, int n)
{
	bmp_begin(BMP_RM);
	per_peer_header(p);
	size_t u = bgp_update_begin();
	if (!px[0]->v6) {
		size_t wl_at = mlen;
		put16(0);
		for (int i = 0; i < n; i++)
			put_pfx(px[i]);
		set16(wl_at, (uint16_t)(mlen - wl_at - 2));
		put16(0);
	} else {
		put16(0);
		size_t len = 3;
		for (int i = 0; i < n; i++)
			len += 1 + (size_t)pfx_bytes(px[i]);
		put16((uint16_t)(len + (len > 255 ? 4 : 3)));
		attr_hdr(0x80, 15, len);
		put16(2);
		put8(1);
		for (int i = 0; i < n; i++)
			put_pfx(px[i]);
	}
	bgp_update_end(u);
	bmp_end();
}

static void emit_eor(const struct peer *p, int v6)
{
	bmp_begin(BMP_RM);
	per_peer_header(p);
	size_t u = bgp_update_begin();
	put16(0);
	if (!v6) {
		put16(0);
	} else {
		put16(6);
		attr_hdr(0x80, 15, 3);
		put16(2);
		put8(1);
	}
	bgp_update_end(u);
	bmp_end();
}

/* ----------------------------------------------------------------- main */

static void usage(void)
{
	fprintf(stderr,
		"usage: bmpgen [--peers P] [--v4 N] [--v6 M] [--churn C] [--seed S]\n"
		"              [--nlri-per-update K] [--churn-nlri K] [--sysname NAME]\n"
		"              [-o FILE|-] [--meta FILE]\n"
		"  --peers P            BGP peers of the monitored router (default 1)\n"
		"  --v4 N, --v6 M       prefixes per peer (default 100000, 0)\n"
		"  --churn C            churn events after the dump: withdraws, re-announces,\n"
		"                       attribute changes (default 0)\n"
		"  --nlri-per-update K  mean NLRI per UPDATE in the dump (default 4)\n"
		"  --churn-nlri K       prefixes per churn UPDATE (default 1)\n"
		"  --seed S             everything derives from it (default 1)\n"
		"  -o FILE              output (default or '-': stdout)\n"
		"  --meta FILE          JSON with sizes and expected counts (default: stderr)\n");
	exit(2);
}

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || end == s) {
		fprintf(stderr, "bmpgen: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	uint64_t n_peers = 1, n4 = 100000, n6 = 0, churn = 0, seed = 1, per_update = 4, churn_nlri = 1;
	const char *path = "-", *meta_path = NULL, *sysname = "bench-r1";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			usage();
		const char *v = argv[++i];
		if (!strcmp(a, "--peers"))
			n_peers = num(v);
		else if (!strcmp(a, "--v4"))
			n4 = num(v);
		else if (!strcmp(a, "--v6"))
			n6 = num(v);
		else if (!strcmp(a, "--churn"))
			churn = num(v);
		else if (!strcmp(a, "--seed"))
			seed = num(v);
		else if (!strcmp(a, "--nlri-per-update"))
			per_update = num(v);
		else if (!strcmp(a, "--churn-nlri"))
			churn_nlri = num(v);
		else if (!strcmp(a, "--sysname"))
			sysname = v;
		else if (!strcmp(a, "-o"))
			path = v;
		else if (!strcmp(a, "--meta"))
			meta_path = v;
		else
			usage();
	}
	if (n_peers < 1 || n_peers > 250 || per_update < 1 || per_update > 64 || churn_nlri < 1 || churn_nlri > 64 ||
	    n4 > 16000000 || n6 > 16000000 || (churn && ((n4 && n4 < 1024) || (n6 && n6 < 1024) || n4 + n6 == 0))) {
		fprintf(stderr, "bmpgen: flags out of range\n");
		return 2;
	}
	out = strcmp(path, "-") ? fopen(path, "wb") : stdout;
	if (!out) {
		perror(path);
		return 1;
	}
	static char obuf[1 << 20];
	setvbuf(out, obuf, _IOFBF, sizeof obuf);
	rng_state = seed * 0x2545f4914f6cdd1dULL + 12345;
	ts_now = ts_base;
	make_as_pools();

	/* the prefixes, shared by every peer */
	uint64_t n_all = n4 + n6;
	struct pfx *pf = xcalloc(n_all, sizeof *pf);
	set_init(n_all);
	for (uint64_t i = 0; i < n4; i++)
		pf[i] = gen_v4();
	for (uint64_t i = 0; i < n6; i++)
		pf[n4 + i] = gen_v6();
	free(set_keys);
	set_keys = NULL;

	struct peer *peers = xcalloc(n_peers, sizeof *peers);
	for (uint64_t i = 0; i < n_peers; i++) {
		peers[i].addr = 0xcb007100 | (uint32_t)(i + 2); /* 203.0.113.x */
		peers[i].asn = i < sizeof peer_asns / sizeof peer_asns[0] ? peer_asns[i] : 64600 + (uint32_t)i;
		peers[i].bgp_id = peers[i].addr;
		peers[i].local_addr = 0xcb007101;
	}

	emit_initiation(sysname);
	for (uint64_t i = 0; i < n_peers; i++)
		emit_peer_up(&peers[i], n6 > 0);

	/* the dump: per peer, its own order, K NLRI per UPDATE on average */
	uint32_t *order = xcalloc(n_all, sizeof *order);
	struct pfx *batch[128];
	uint64_t dump_updates = 0;
	for (uint64_t pi = 0; pi < n_peers; pi++) {
		const struct peer *p = &peers[pi];
		for (int fam = 0; fam < 2; fam++) {
			uint64_t base = fam ? n4 : 0, n = fam ? n6 : n4;
			if (fam && !n6)
				break;
			for (uint64_t i = 0; i < n; i++)
				order[i] = (uint32_t)(base + i);
			for (uint64_t i = n; i > 1; i--) {
				uint32_t j = rnd_below((uint32_t)i);
				uint32_t t = order[i - 1];
				order[i - 1] = order[j];
				order[j] = t;
			}
			uint64_t i = 0;
			while (i < n) {
				int k = 1 + (int)rnd_below((uint32_t)(2 * per_update - 1)); /* mean per_update */
				if ((uint64_t)k > n - i)
					k = (int)(n - i);
				for (int j = 0; j < k; j++)
					batch[j] = &pf[order[i + (uint64_t)j]];
				struct attrs a;
				random_attrs(p, &a);
				emit_announce(p, &a, batch, k);
				dump_updates++;
				i += (uint64_t)k;
				if ((dump_updates & 1023) == 0)
					ts_usec = (ts_usec + 1000) % 1000000;
			}
			emit_eor(p, fam);
		}
	}
	free(order);
	uint64_t load_bytes = out_bytes, load_msgs = out_msgs;

	/* churn: withdraws, re-announces of withdrawn routes (FIFO), and
	 * attribute changes (a MED no earlier announce used, so each one is a
	 * change); each prefix event is exactly one history row */
	enum { RING = 8192 };
	uint64_t min_fam = n6 && n6 < n4 ? n6 : (n4 ? n4 : n6);
	uint64_t lim = min_fam / 4 < RING ? min_fam / 4 : RING;
	uint64_t n_routes = n_peers * n_all;
	uint8_t *gone = xcalloc((n_routes + 7) / 8, 1);
	uint64_t *ring = xcalloc(RING, sizeof *ring);
	size_t r_head = 0, r_n = 0;
	uint64_t ev = 0, n_wd = 0, n_re = 0, n_chg = 0, churn_msgs = 0;
	uint64_t ts_step = 0;
	while (ev < churn) {
		int kind = (int)rnd_below(10); /* 0-3 withdraw, 4-7 re-announce, 8-9 change */
		if (r_n == 0 && kind >= 4 && kind < 8)
			kind = 0;
		if (r_n + churn_nlri > lim && kind < 4)
			kind = 4;
		uint64_t k = churn_nlri;
		if (k > churn - ev)
			k = churn - ev;
		if (kind >= 4 && kind < 8 && k > r_n)
			k = r_n;
		/* one peer and one family per message */
		uint64_t pi = rnd_below((uint32_t)n_peers);
		int fam = n6 && (!n4 || rnd_below((uint32_t)n_all) >= n4);
		uint64_t base = fam ? n4 : 0, n = fam ? n6 : n4;
		uint64_t idx[64];
		uint64_t got = 0;
		if (kind >= 4 && kind < 8) {
			/* re-announce the oldest withdrawn routes (any peer/family:
			 * take them one by one, each its own message if they differ) */
			uint64_t rid = ring[r_head];
			pi = rid / n_all;
			fam = (rid % n_all) >= n4;
			while (got < k && r_n) {
				uint64_t r = ring[r_head];
				if (r / n_all != pi || ((r % n_all) >= n4) != fam)
					break;
				idx[got++] = r;
				r_head = (r_head + 1) % RING;
				r_n--;
				gone[r / 8] &= (uint8_t)~(1u << (r % 8));
			}
		} else {
			while (got < k) {
				uint64_t r = pi * n_all + base + rnd_below((uint32_t)n);
				if (gone[r / 8] & (1u << (r % 8)))
					continue;
				int dup = 0;
				for (uint64_t j = 0; j < got; j++)
					dup |= idx[j] == r;
				if (dup)
					continue;
				idx[got++] = r;
			}
		}
		for (uint64_t j = 0; j < got; j++)
			batch[j] = &pf[idx[j] % n_all];
		ts_step += got;
		ts_now = ts_base + 60 + (uint32_t)(ts_step / 50000);
		ts_usec = (uint32_t)((ts_step % 50000) * 20);
		if (kind < 4) {
			emit_withdraw(&peers[pi], batch, (int)got);
			for (uint64_t j = 0; j < got; j++) {
				gone[idx[j] / 8] |= (uint8_t)(1u << (idx[j] % 8));
				ring[(r_head + r_n) % RING] = idx[j];
				r_n++;
			}
			n_wd += got;
		} else {
			struct attrs a;
			random_attrs(&peers[pi], &a);
			if (kind >= 8) {
				a.has_med = 1;
				a.med = 1001 + (uint32_t)ev;
				n_chg += got;
			} else {
				n_re += got;
			}
			emit_announce(&peers[pi], &a, batch, (int)got);
		}
		churn_msgs++;
		ev += got;
	}
	if (fflush(out) || (out != stdout && fclose(out))) {
		perror("bmpgen: write");
		return 1;
	}

	FILE *m = meta_path ? fopen(meta_path, "w") : stderr;
	if (!m) {
		perror(meta_path);
		return 1;
	}
	fprintf(m,
		"{\"peers\": %llu, \"v4_per_peer\": %llu, \"v6_per_peer\": %llu, \"seed\": %llu,"
		" \"bytes\": %llu, \"messages\": %llu, \"dump_updates\": %llu,"
		" \"load_bytes\": %llu, \"load_messages\": %llu, \"routes_after_load\": %llu,"
		" \"churn_events\": %llu, \"churn_messages\": %llu, \"churn_withdraws\": %llu,"
		" \"churn_reannounces\": %llu, \"churn_changes\": %llu,"
		" \"routes_final\": %llu, \"history_rows_final\": %llu}\n",
		(unsigned long long)n_peers, (unsigned long long)n4, (unsigned long long)n6, (unsigned long long)seed,
		(unsigned long long)out_bytes, (unsigned long long)out_msgs, (unsigned long long)dump_updates,
		(unsigned long long)load_bytes, (unsigned long long)load_msgs, (unsigned long long)n_routes,
		(unsigned long long)ev, (unsigned long long)churn_msgs, (unsigned long long)n_wd,
		(unsigned long long)n_re, (unsigned long long)n_chg, (unsigned long long)(n_routes - r_n),
		(unsigned long long)(n_routes + ev));
	if (m != stderr)
		fclose(m);
	free(gone);
	free(ring);
	free(peers);
	free(pf);
	return 0;
}
