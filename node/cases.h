/* SPDX-License-Identifier: MIT */
/*
 * The cases engine (spec/cases.md): the node's cases log (the list
 * "cases", section 7) and those of its peers, read together; the owner and
 * state of every case computed from them and the plans the node holds
 * (sections 4 to 6); and the commands that record (report, claim,
 * release, hand-off, state).
 *
 * Reading: hlx_cases_load() takes a snapshot of every case line the node
 * holds (its own log and every PEER/cases it mirrors, read from their
 * histories, each line once), sorted by case id, and the plan book
 * (node/plans.h).  A peer's lines belong to the organisation of the
 * peer's verified trust chain; when a case is routed by a plan that names
 * that organisation, they count only if that chain introduced the root
 * the plan names for it (hlx_trust_has_root), else they are left out.
 * Owners are computed, never stored (section 10): each query passes the
 * time t it is asked at.  Work is linear in the lines held (one sort).
 *
 * Writing: every recording call runs under the node's writer lock (the
 * caller opened the node for writing), reads the lines it changes under
 * it, and makes one version of "cases" (created on first use).  A refused
 * command records nothing.  Times are the caller's "now" (HLX_NOW in the
 * program); nothing here reads a clock.
 */
#ifndef HLX_CASES_H
#define HLX_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "node/home.h"
#include "node/node.h"
#include "protocol/case.h"
#include "protocol/hash.h"

#define HLX_CASES_LIST "cases"
/* Lines read from standard input by `case report -`, at most. */
#define HLX_CASES_REPORT_LINE_MAX 65536

struct hlx_cases;

/* The snapshot of every case line held, with the plans. */
int hlx_cases_load(struct hlx_node *n, struct hlx_cases **out);
void hlx_cases_free(struct hlx_cases *c);
/* This node's organisation. */
const char *hlx_cases_self(const struct hlx_cases *c);

/*
 * One case as seen at time t.  Everything points into the snapshot or a
 * scratch area: valid during the callback only.
 */
struct hlx_case_view {
	char id[HLX_HASH_TEXT_MAX];          /* "url-sha256:HEX" */
	const struct hlx_hash *hash;         /* the case id */
	const struct hlx_case_src *srcs;     /* every line held that counts */
	unsigned nsrcs;
	int mine;                            /* index of our line, or -1 */
	const struct hlx_case_line *opening; /* the opening report */
	struct hlx_case_owner owner;         /* at t (owner.exists is 1) */
	const struct hlx_case_route *route;  /* route->routed 0: none */
	/* the route's description, when routed: plan, version, rule id,
	 * and the active chain at t */
	const char *plan;
	int64_t plan_version;
	const char *rule;
	const char *const *chain;
	unsigned nchain;
	const char *police_via;              /* the rule's via, channel police */
	/* routed: signatories of the routing plan whose cases log this
	 * node does not hold (their lines may be missing) */
	const char *const *lacking;
	unsigned nlacking;
	int url_held;                        /* urls/HEX is kept here */
	/* the root the owner's trust chain must have introduced (a
	 * fingerprint, as hlx_trust_has_root takes it): the routing plan's
	 * for its signatory, else that of the chain its lines came from;
	 * NULL when not known (no line of it, or lines under two roots) */
	const char *owner_root;
	int owner_root_plan;                 /* 1: owner_root is the plan's */
};

typedef int (*hlx_cases_fn)(void *ctx, const struct hlx_case_view *v);

/* Every case that exists at t, in case-id order; a non-zero return of fn
 * stops the walk and is returned. */
int hlx_cases_foreach(struct hlx_cases *c, int64_t t, hlx_cases_fn fn,
		      void *ctx);
/* One case: HLX_ENOENT ("no such case") when it does not exist at t. */
int hlx_cases_get(struct hlx_cases *c, const struct hlx_hash *id, int64_t t,
		  hlx_cases_fn fn, void *ctx);
/* Every case one of whose lines names item; HLX_ENOENT when none. */
int hlx_cases_by_item(struct hlx_cases *c, const struct hlx_hash *item,
		      int64_t t, hlx_cases_fn fn, void *ctx);
/* The replay of the case of v up to t, every event to cb (section 5.2). */
int hlx_cases_replay(const struct hlx_case_view *v, int64_t t,
		     hlx_case_ev_fn cb, void *ctx);
/* 1 if the state assertion of v->srcs[i] counts at t (section 6.2). */
int hlx_cases_counts(const struct hlx_case_view *v, unsigned i);

/* ---- recording ---- */

/* A report (section 2): url (raw, kept on this node) or id. */
struct hlx_case_new {
	const char *url;         /* NULL: id is given */
	size_t urllen;
	struct hlx_hash id;      /* url-sha256, when url is NULL */
	struct hlx_hash item;    /* type 0: none */
	char country[3];         /* "" none */
	char host[HLX_CASE_HOST_MAX + 1];     /* "" none: from the URL */
	char category[HLX_TOKEN_MAX + 1];     /* "" none */
};

/* HLX_OK if r is a report that can be recorded (a url-sha256 case id or
 * a URL, an item hash, an assigned country, a host name, a token). */
int hlx_cases_new_check(const struct hlx_case_new *r);

/* The outcome of one report, in input order: known (nothing recorded)
 * or reported, with the case as it is now. */
typedef int (*hlx_cases_report_fn)(void *ctx, size_t i, int known,
				   const struct hlx_case_view *v);

/*
 * Record reports r[0, nr) as one version of "cases" (none when every one
 * is known), the raw URLs kept as urls/HEX first; then call fn for each in
 * input order (v NULL when the case does not exist at now: a report of
 * it dated later).  A report of a case already held, or a second report of
 * one case in r, records nothing.  Duplicates are found by sorting.
 */
int hlx_cases_report(struct hlx_node *n, const struct hlx_case_new *r,
		     size_t nr, int64_t now, hlx_pass_fn getpass, void *pctx,
		     hlx_cases_report_fn fn, void *ctx);

enum hlx_cases_op {
	HLX_CASES_CLAIM = 1,     /* claim or renew */
	HLX_CASES_RELEASE,
	HLX_CASES_HANDOFF,       /* to org */
	HLX_CASES_SET,           /* state st */
};

/*
 * One action on case id at now, as section 9 allows it (owner, settle
 * time, valid target, the transition table, who may set a state);
 * HLX_ENOENT for an unknown case, HLX_ESTATE with the reason otherwise,
 * nothing recorded.  Then fn sees the case after it; *renewed (claim)
 * says whether the claim renewed a running period.
 */
int hlx_cases_act(struct hlx_node *n, const struct hlx_hash *id,
		  enum hlx_cases_op op, const char *org,
		  enum hlx_case_state st, int64_t now, hlx_pass_fn getpass,
		  void *pctx, int *renewed, hlx_cases_fn fn, void *ctx);

/*
 * Renew, in one version, the claim of every case this organisation owns
 * at now with a claim, not in a final state, whose lease has less than
 * half of L left (section 9, hlx run).  *count: the cases renewed.
 */
int hlx_cases_renew(struct hlx_node *n, int64_t now, hlx_pass_fn getpass,
		    void *pctx, uint64_t *count);

#endif
