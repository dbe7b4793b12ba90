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

#endif
