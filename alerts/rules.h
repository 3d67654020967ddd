/*
 * rules: one small pure function per stale-backup failure of DOMAIN.md:
 * (RIB state, site) -> findings with evidence (stage ⑥).
 *
 *   rib (read on the loop thread) + site --> [rules_evaluate] --> findings
 *   --> alerts.c (lifecycle)
 *
 * A finding either FIREs (the failure is there, with evidence) or is
 * UNKNOWN with a reason (the router's feed is down, its initial table is
 * not complete, it does not export the view the rule needs): a rule never
 * answers "healthy" on missing data. No finding means healthy.
 * The stateful rules (failover-slow, drill-overdue) live in alerts.c and use
 * rules_best_path.
 */
#ifndef PW_RULES_H
#define PW_RULES_H

#include <jansson.h>

#include "rib.h"
#include "site.h"

enum verdict { VERDICT_FIRE, VERDICT_UNKNOWN };

struct finding {
	enum rule_id rule;
	enum verdict verdict;
	char router[64];   /* "" when the finding is site-wide */
	char peer[48];     /* "" when not about one peer */
	char prefix[56];   /* "" when not about one prefix */
	char summary[256];
	char reason[200];  /* UNKNOWN: why the rule cannot decide */
	json_t *evidence;  /* FIRE: owned by the finding */
};

struct findings {
	struct finding *v;
	size_t n, cap;
};
void findings_clear(struct findings *f);
/* Appends a finding (FIRE: with an empty evidence object). prefix is text or NULL. */
struct finding *findings_add(struct findings *out, enum rule_id rule, enum verdict v, const char *router,
			     const char *peer, const char *prefix);
void findings_free(struct findings *f);

/* Rules 1-7 and 10 for one site. Appends to out. */
void rules_evaluate(const struct site *s, struct rib *rib, int64_t now_us, struct findings *out);

/* Which path is best for an Azure prefix on the router facing both paths:
 * from its Loc-RIB when it exports one, else by BGP's best-path order over
 * the post-policy Adj-RIB-In of the ER and VPN sessions. */
enum best_kind { BEST_UNKNOWN = 0, BEST_NONE, BEST_ER, BEST_VPN };
const char *best_kind_name(enum best_kind k);
struct best_path {
	enum best_kind kind;
	char decided_by[120];     /* "loc-rib" or "post-policy best-path: <step>" */
	char why_unknown[200];
	const char *peer;         /* winning session's address, or NULL */
	int64_t changed_us;       /* router time the winning route last changed */
	json_t *candidates;       /* owned: each path considered */
	bool er_present, vpn_present;
};
void rules_best_path(const struct site *s, struct rib *rib, const struct pw_prefix *pfx, struct best_path *out);
void best_path_free(struct best_path *b);

/* Why a site router's rules cannot decide (NULL if they can). */
const char *rules_router_blind(const struct site *s, struct rib *rib, const char *name, char *buf, size_t n);

#endif
