/*
 * bgp_attr (internal to the decoders): the attribute table. One row per
 * known path attribute type with its name, expected flags, length bounds,
 * RFC 7606 outcome and JSON writer. bgp_update.c asks it to judge each
 * attribute; bgp_attrs_to_json (public, bgp.h) renders a canonical set.
 */
#ifndef PW_BGP_ATTR_H
#define PW_BGP_ATTR_H

#include "bgp.h"

/* RFC 7606 outcomes, named as in BIRD's attrs.c */
enum bgp_attr_outcome {
	BGP_ATTR_KEEP = 0,      /* well-formed, or unknown (kept raw) */
	BGP_ATTR_DISCARD,       /* attribute discard */
	BGP_ATTR_WITHDRAW,      /* treat-as-withdraw */
};

/* Judges one attribute as received (AS widths already 4 bytes for AS_PATH
 * and AGGREGATOR). Sets *why on a finding. */
enum bgp_attr_outcome bgp_attr_judge(uint8_t flags, uint8_t type, struct rbuf v, const char **why);
const char *bgp_attr_name(uint8_t type);

/* AS_PATH segments with `width`-byte ASNs: 0 if well-formed (RFC 7606:
 * known segment types, non-empty segments, exact length). *n_count gets the
 * path length as RFC 4271 counts it (a set counts 1, confed segments 0). */
int bgp_as_path_check(struct rbuf v, int width, int *n_count);
/* Rewrites 2-byte AS_PATH `v` into 4-byte segments at `out` (room for
 * 2*len). Returns the bytes written. Input must have passed the check. */
size_t bgp_as_path_widen(struct rbuf v, uint8_t *out);
/* RFC 6793 4.2.3 merge of a (4-byte-widened) AS_PATH with AS4_PATH into
 * `out` (room for both lengths). Returns the bytes written. */
size_t bgp_as_path_merge(struct rbuf as_path, int n_path, struct rbuf as4_path, int n_as4,
			 uint8_t *out);

#endif
