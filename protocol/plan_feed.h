/* SPDX-License-Identifier: MIT */
/*
 * Plans in feeds and in the node's store (spec/plan.md section 7): the
 * bundle of one plan document with the acts that sign it or withdraw
 * from it (7.2), which is also the file the node keeps (7.4).
 *
 * Pure: no I/O.  The acts of a parsed bundle are parsed (their bodies
 * canonical, section 5.1) but their signatures are not verified: that
 * is the caller's (keys/, trust chains).
 */
#ifndef HLX_PLAN_FEED_H
#define HLX_PLAN_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "protocol/plan.h"

#define HLX_PLAN_BUNDLE_FORMAT "hlx-plan-bundle-1"
#define HLX_PLAN_BUNDLE_MAX (1024 * 1024)
#define HLX_PLAN_BUNDLE_ACTS_MAX 1024

/* One act of a bundle: parsed, with its body and signature texts
 * (NUL-terminated, malloc'd). */
struct hlx_plan_bact {
	struct hlx_plan_act a;
	char *body, *sig;
	size_t bodylen, siglen;
};

struct hlx_plan_bundle {
	struct hlx_plan *plan; /* owned; set to NULL to keep it */
	struct hlx_plan_bact *acts;
	size_t nacts;
};

/*
 * Parse a bundle of at most HLX_PLAN_BUNDLE_MAX bytes strictly: exactly
 * the members format, plan (the canonical form of a valid document) and
 * acts (0 to HLX_PLAN_BUNDLE_ACTS_MAX acts, each {"body","signature"}
 * with a canonical body, sorted by body without repetition).  Each act
 * names a plan of the document's name; a sign act names the document
 * itself (its version and hash), a withdrawal a version at or above it.
 * HLX_EINVAL, HLX_ETOOBIG or HLX_EUNSUPPORTED; *out is set on success
 * only.
 */
int hlx_plan_bundle_parse(const char *text, size_t n,
			  struct hlx_plan_bundle *out);
void hlx_plan_bundle_free(struct hlx_plan_bundle *b);

/* Append the canonical bundle of p with acts (any order: they are sorted
 * and repetitions dropped), without a newline. */
int hlx_plan_bundle_encode(const struct hlx_plan *p,
			   const struct hlx_plan_bact *acts, size_t nacts,
			   struct hlx_buf *out);

/* ---- the plans head (section 7.1) -------------------------------------- */

#define HLX_PLANS_HEAD_FORMAT "hlx-plans-1"
#define HLX_PLANS_HEAD_NAMESPACE "hlx-plans"
#define HLX_PLANS_HEAD_MAX 262144
#define HLX_PLANS_HEAD_PLANS_MAX 512
/* The feed's layout (section 7): its plans head, and the bundle of plan
 * NAME's document HASH (a format taking the two). */
#define HLX_PLANS_FEED_HEAD "plans/head"
#define HLX_PLANS_FEED_BUNDLE "plans/%s/%s.json"

struct hlx_plans_entry {
	char name[HLX_TOKEN_MAX + 1];
	int64_t version;
	char doc[65];    /* the document's hash, hex */
	char bundle[65]; /* SHA-256 of the bundle file's bytes, hex */
};

struct hlx_plans_head {
	char org[HLX_NAME_MAX + 1];
	uint64_t seq;            /* >= 1 */
	int64_t issued, expires; /* issued < expires */
	uint64_t trust_length;
	char trust_head[65];
	char audience[33];       /* "" for the open feed */
	size_t n;                /* entries, sorted by name, version, doc */
	struct hlx_plans_entry *v; /* malloc'd (hlx_plans_head_free) */
};

void hlx_plans_head_free(struct hlx_plans_head *h);
/* Append the canonical body of h (entries must be sorted and distinct). */
int hlx_plans_head_body(const struct hlx_plans_head *h, struct hlx_buf *out);
/*
 * Parse a plans head file of at most HLX_PLANS_HEAD_MAX bytes: {"body",
 * "signature"}, the body canonical with exactly the members of section
 * 7.1 (audience only when present), at most HLX_PLANS_HEAD_PLANS_MAX
 * entries sorted by name, version, doc and distinct.  The body and
 * signature texts are copied into body and sig.  *h is set on success only
 * (free it with hlx_plans_head_free).
 */
int hlx_plans_head_parse(const char *text, size_t n, struct hlx_plans_head *h,
			 struct hlx_buf *body, struct hlx_buf *sig);
/* Do two heads list the same plans (entries equal, in order)? */
int hlx_plans_head_same(const struct hlx_plans_head *a,
			const struct hlx_plans_head *b);

#endif
