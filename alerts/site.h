/*
 * site: a monitored site as configured (data only). A site names its
 * routers, which peers carry the ExpressRoute links and the VPN instances,
 * the on-prem and Azure prefixes, expected ASNs and local-preference, and
 * per-rule thresholds. Parsed by collector/config.c; read by rules.c and
 * alerts.c on the loop thread. Everything is owned by the configuration.
 */
#ifndef PW_SITE_H
#define PW_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/prefix.h"

enum rule_id {
	RULE_VPN_SESSION_DOWN, RULE_VPN_ROUTES_MISSING, RULE_VPN_ADVERT_MISSING, RULE_ASYMMETRIC_PREFERENCE,
	RULE_VPN_MORE_SPECIFIC, RULE_ER_NOT_REDUNDANT, RULE_UNEXPECTED_ORIGIN, RULE_FAILOVER_SLOW,
	RULE_DRILL_OVERDUE, RULE_FEED_DOWN, RULE_NOTIFY_FAILED, RULE_STORE_FAILING, RULE_COUNT
};
const char *rule_name(enum rule_id r);
int rule_parse(const char *s, enum rule_id *r);

enum severity { SEV_INFO, SEV_WARNING, SEV_CRITICAL };
const char *severity_name(enum severity s);
int severity_parse(const char *s, enum severity *out);

struct rule_conf {
	int64_t for_ms;    /* a finding must hold this long before it fires */
	int64_t hold_ms;   /* and be gone this long before it resolves */
	enum severity severity;
	bool enabled;
};

/* One BGP session as the site names it: a router (by name) and a peer. */
struct site_peer_ref {
	char *router;
	char *peer;          /* address text, as configured */
	uint8_t afi;
	uint8_t addr[16];
	char *name;          /* VPN instance name, or NULL */
	int link;            /* er_paths: 0 primary, 1 secondary */
};

struct site {
	char *name, *description;
	char **routers;
	size_t n_routers;
	struct site_peer_ref er[2];        /* [0] primary, [1] secondary: CE + MSEE peer */
	bool has_er[2];
	struct site_peer_ref *er_paths;    /* on the router facing both paths */
	size_t n_er_paths;
	struct site_peer_ref *vpn;
	size_t n_vpn;
	struct pw_prefix *onprem, *azure;
	size_t n_onprem, n_azure;
	uint32_t asn_msee, asn_vpn, asn_onprem;
	uint32_t er_local_pref;
	int64_t failover_ms, drill_period_ms, initial_sync_ms, feed_silence_ms;
	struct rule_conf rules[RULE_COUNT];
};

void site_free(struct site *s);

#endif
