/* SPDX-License-Identifier: MIT */
/* What node/cases.c and node/cases_write.c share: the snapshot of the
 * case lines held (not an API). */
#ifndef HLX_CASES_INT_H
#define HLX_CASES_INT_H

#include "node/cases.h"
#include "node/plans.h"
#include "node/store.h"
#include "keys/key.h"
#include "keys/trust.h"
#include "protocol/buf.h"
#include "protocol/plan.h"

/* One cases log held: ours (index 0) or a peer's. */
struct hlx_cases_source {
	char org[HLX_CASE_ORG_MAX + 1];
	char root[HLX_FPR_LEN];            /* first root fingerprint (ties) */
	char list[HLX_LIST_NAME_MAX + 1];  /* "cases" or "PEER/cases" */
	const struct hlx_trust *trust;     /* its verified chain */
	struct hlx_trust *own_trust;       /* the same, when loaded here */
};

/* One line held: its case id, its log, and where its text is. */
struct hlx_cases_ref {
	uint8_t id[32];
	uint32_t src;
	uint32_t len;
	size_t off;
};

struct hlx_cases {
	struct hlx_node *n;
	char self[HLX_CASE_ORG_MAX + 1];
	struct hlx_plans *plans;
	const struct hlx_plan_book *book;
	struct hlx_cases_source *src;
	unsigned nsrc;
	struct hlx_buf arena;              /* the lines' text */
	struct hlx_cases_ref *refs;        /* sorted by (id, src) */
	size_t nrefs, cap;
	uint8_t (*urls)[32];               /* raw URLs kept, sorted */
	size_t nurls, urlcap;
	/* the plans in force at force_t (a cache of one) */
	struct hlx_plan_force *force;
	size_t nforce;
	int64_t force_t;
	int have_force;
	/* scratch of one case view */
	struct hlx_case_line *lines;
	struct hlx_case_src *srcs;
	uint32_t *srcidx;                  /* the log of each of srcs */
	struct hlx_hash hash;
	struct hlx_case_route route;
	const char *base[HLX_PLAN_SIGNATORIES_MAX];
	struct hlx_case_wd wd[HLX_PLAN_SIGNATORIES_MAX];
	const char *chain[HLX_PLAN_SIGNATORIES_MAX];
	const char *lacking[HLX_PLAN_SIGNATORIES_MAX];
	unsigned nchain, nlacking;
	const struct hlx_plan *plan;
	const char *rule;
	const char *police_via;
};

/* The first ref of case id, or c->nrefs. */
size_t hlx_cases_find(const struct hlx_cases *c, const uint8_t id[32]);
/* The case id at t into v (*exists 0: it does not exist at t). */
int hlx_cases_view(struct hlx_cases *c, const uint8_t id[32], int64_t t,
		   struct hlx_case_view *v, int *exists);
/* The host a report records (section 3.2): the longest rule host of the
 * plans in force at t that matches host, or "". */
int hlx_cases_record_host(struct hlx_cases *c, const char *host, int64_t t,
			  char out[HLX_CASE_HOST_MAX + 1]);

#endif
