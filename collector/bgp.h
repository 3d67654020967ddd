/*
 * bgp: decoding of the BGP PDUs that BMP carries (stage ③ of the flow).
 *
 *   bmp decode --(BGP PDU bytes)--> [bgp_update_parse] --> canonical attribute
 *   set + NLRI regions --> rib apply
 *                   (Peer Up OPENs) --> [bgp_open_*] --> session capabilities
 *                (Peer Down NOTIF.) --> [bgp_notification_*]
 *
 * Every byte is read through rbuf. Attributes are handled by one table
 * (bgp_attr.c) that knows, per type, its flags, length bounds, RFC 7606
 * outcome and JSON writer.
 *
 * The canonical attribute set is this project's own compact, comparable form
 * of an UPDATE's path attributes, stored once per distinct set (interned):
 *   repeated { flags(1) type(1) length(2, big-endian) value(length) },
 *   sorted by type, duplicates removed, AS numbers always 4 bytes (AS4_PATH
 *   and AS4_AGGREGATOR merged in), MP_REACH_NLRI reduced to
 *   afi(2) safi(1) nh_len(1) next_hop, MP_UNREACH_NLRI omitted, attributes
 *   discarded under RFC 7606 omitted, unknown attributes kept as raw bytes.
 * Two UPDATEs with the same attributes give byte-identical sets.
 */
#ifndef PW_BGP_H
#define PW_BGP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/prefix.h"
#include "common/rbuf.h"

enum bgp_msg_type { BGP_OPEN = 1, BGP_UPDATE = 2, BGP_NOTIFICATION = 3, BGP_KEEPALIVE = 4 };
#define BGP_HDR_LEN 19
#define BGP_MAX_EXT_LEN 65535

enum bgp_attr_type {
	BGP_ATTR_ORIGIN = 1, BGP_ATTR_AS_PATH = 2, BGP_ATTR_NEXT_HOP = 3, BGP_ATTR_MED = 4,
	BGP_ATTR_LOCAL_PREF = 5, BGP_ATTR_ATOMIC_AGGREGATE = 6, BGP_ATTR_AGGREGATOR = 7,
	BGP_ATTR_COMMUNITIES = 8, BGP_ATTR_ORIGINATOR_ID = 9, BGP_ATTR_CLUSTER_LIST = 10,
	BGP_ATTR_MP_REACH = 14, BGP_ATTR_MP_UNREACH = 15, BGP_ATTR_EXT_COMMUNITIES = 16,
	BGP_ATTR_AS4_PATH = 17, BGP_ATTR_AS4_AGGREGATOR = 18, BGP_ATTR_LARGE_COMMUNITIES = 32,
	BGP_ATTR_OTC = 35,
};
enum { BGP_AS_SET = 1, BGP_AS_SEQUENCE = 2, BGP_AS_CONFED_SEQUENCE = 3, BGP_AS_CONFED_SET = 4 };

/* Splits one BGP message: checks the marker and that the header length
 * equals the bytes given. Returns 0 with *type and *body set, or -1. */
int bgp_pdu_split(struct rbuf pdu, uint8_t *type, struct rbuf *body, const char **why);

/* ---- OPEN (from BMP Peer Up) ---- */

enum { BGP_ADDPATH_RECEIVE = 1, BGP_ADDPATH_SEND = 2 };
struct bgp_open {
	uint8_t version;
	uint32_t asn;      /* 4-byte AS capability if present, else the 2-byte field */
	uint16_t hold_time;
	uint32_t bgp_id;
	bool as4;          /* 4-byte AS capability advertised */
	/* add-path send/receive bits, [0] IPv4 unicast, [1] IPv6 unicast */
	uint8_t addpath[2];
};
/* Decodes an OPEN message (full PDU with header). Fills `o`; if `json` is
 * non-NULL, *json gets a new object with every capability decoded (unknown
 * ones as code + hex). Returns 0 or -1 with *why. */
int bgp_open_decode(struct rbuf pdu, struct bgp_open *o, json_t **json, const char **why);

/* ---- NOTIFICATION (from BMP Peer Down) ---- */
/* Decodes a NOTIFICATION PDU into a new JSON object {code, subcode, name,
 * data}; NULL on malformed input with *why set. */
json_t *bgp_notification_json(struct rbuf pdu, const char **why);
const char *bgp_notification_name(uint8_t code, uint8_t subcode);

/* ---- UPDATE ---- */

/* One region of NLRI (announced or withdrawn) for one address family,
 * already validated: bgp_nlri_next cannot fail on it. */
struct bgp_nlri_set {
	struct rbuf r;
	uint8_t afi;   /* PW_AFI_IPV4 / PW_AFI_IPV6 */
	bool addpath;  /* path identifiers present (decided from the bytes) */
};

struct bgp_update_ctx {
	bool as2;          /* legacy 2-byte AS_PATH (BMP per-peer A flag) */
	bool addpath[2];   /* add-path negotiated for IPv4 / IPv6 unicast in this direction */
};

struct bgp_update {
	struct bgp_nlri_set withdrawn[4]; /* + announced ones under treat-as-withdraw */
	int n_withdrawn;
	int taw_from;             /* withdrawn[taw_from..] came from treat-as-withdraw */
	struct bgp_nlri_set announced[2]; /* IPv4 field, MP_REACH */
	int n_announced;
	uint8_t *attrs;           /* canonical set, in the caller's scratch */
	size_t attrs_len;
	bool treat_as_withdraw;   /* RFC 7606: announced NLRI are to be withdrawn */
	bool eor;                 /* End-of-RIB marker */
	uint8_t eor_afi;
	uint16_t n_discarded;     /* attributes discarded under RFC 7606 */
	uint16_t n_other_afi;     /* MP regions of AFI/SAFIs not kept (skipped) */
	bool addpath_mismatch;    /* path-id presence differed from negotiation */
	bool as_width_mismatch;   /* AS_PATH width differed from the A flag */
	const char *problem;      /* first RFC 7606 finding, static text, or NULL */
};

/* Scratch needed for the canonical set of an UPDATE body of `len` bytes. */
static inline size_t bgp_update_scratch_len(size_t len) { return 3 * len + 64; }

/* Parses an UPDATE body (after the 19-byte header). Returns 0 (possibly
 * with treat_as_withdraw or discards noted), or -1 when the message cannot
 * be used at all (NLRI cannot be located or decoded: RFC 7606's session
 * reset class), with *why. */
int bgp_update_parse(struct rbuf body, const struct bgp_update_ctx *ctx, uint8_t *scratch,
		     size_t scratch_len, struct bgp_update *u, const char **why);

/* Next prefix of a validated region: 1 and fills p/path_id, 0 at the end. */
int bgp_nlri_next(struct bgp_nlri_set *s, struct pw_prefix *p, uint32_t *path_id);

/* ---- canonical attribute sets ---- */

/* Iterates a canonical set: 1 with flags/type/value, 0 at the end. */
int bgp_attrs_next(struct rbuf *r, uint8_t *flags, uint8_t *type, struct rbuf *value);
/* Finds one attribute's value in a canonical set. */
bool bgp_attrs_find(const uint8_t *attrs, size_t len, uint8_t type, struct rbuf *value);

struct bgp_render_opts {
	uint8_t afi;          /* the route's family, picks NEXT_HOP or MP next hop */
	uint32_t strip_first_as; /* if non-zero and the path starts with it, as_path
				   omits it (FRR's eBGP prepend in BMP); as_path_raw
				   then shows the path as sent */
};
/* Adds the decoded attributes to `route`: origin, as_path, next_hop, med,
 * local_pref, communities, large_communities, extended_communities and the
 * rest; absent ones as null or []. */
void bgp_attrs_to_json(const uint8_t *attrs, size_t len, const struct bgp_render_opts *o,
		       json_t *route);

/* Flat list of the AS_PATH's ASNs (sets flattened), for filters/rules.
 * Returns the count written (up to max). */
int bgp_attrs_as_path(const uint8_t *attrs, size_t len, uint32_t *out, int max);

#endif
