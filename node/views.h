/* SPDX-License-Identifier: MIT */
/*
 * Policy views (spec/policy.md): what a sharing policy lets through of the
 * node's lists.  A view is a signed history of its own, derived from one
 * list through one policy and kept in views/ID/NAME.git in the home (ID:
 * the audience, node/policies.h); it gets a new version when what the
 * policy lets through changes, and is pruned with its source.  Publishing
 * (node/sync.h, hlx_publish) serves the views; this module makes them.
 */
#ifndef HLX_VIEWS_H
#define HLX_VIEWS_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "node/history.h"
#include "node/lists.h"
#include "keys/key.h"
#include "protocol/buf.h"
#include "protocol/head.h"
#include "protocol/policy.h"

/* What policies let through, computed now as publishing would (for `hlx
 * policy check`): for each policy pols[i], list_cb once per view (its name
 * in the feed, the node's list it comes from, entries, handling rules),
 * then line_cb for each of its canonical lines.  Each list is read once.
 * Callbacks return non-zero to stop. */
typedef int hlx_view_list_fn(void *ctx, size_t i, const char *view,
			     const char *src, uint64_t count,
			     const struct hlx_rules *r);
typedef int hlx_view_line_fn(void *ctx, size_t i, const char *view,
			     int status, const char *line, size_t len);
int hlx_view_preview(struct hlx_node *n, const struct hlx_policy *const *pols,
		     size_t npols, hlx_view_list_fn *list_cb,
		     hlx_view_line_fn *line_cb, void *ctx);

/* ---- for publishing (node/publish.c) ---------------------------------- */

/* The node, the time of the versions made, and the signing key: loaded
 * through getpass on first need (hlx_view_signing_key), freed by the
 * caller with hlx_seckey_free. */
struct hlx_view_ctx {
	struct hlx_node *n;
	int64_t now;
	hlx_pass_fn getpass;
	void *pctx;
	struct hlx_seckey *key;
	/* the versions made so far, which another view may take as they
	 * are (views.c) */
	struct hlx_view_memo *memo;
	size_t nmemo;
	/* set while views are made on two threads (hlx_view_update_many):
	 * the memo and the sources' lines are shared under mu */
	struct hlx_view_par *par;
	/* the views of a list made whole so far, by what their lines
	 * depend on (views_memo.c, hlx_view_twin_take) */
	struct hlx_view_twin *twins;
	size_t ntwins;
};
struct hlx_view_par {
	pthread_mutex_t mu;
	pthread_cond_t cv;
};
int hlx_view_signing_key(struct hlx_view_ctx *c);
/* Free what c holds (the key, the versions made). */
void hlx_view_ctx_free(struct hlx_view_ctx *c);

/* Canonical lines, each with its '\n'. */
struct hlx_view_lines {
	struct hlx_buf a;
	size_t *off, n, cap;
};

/* A list of the node as the source of views. */
struct hlx_view_src {
	const char *name;            /* the node's list: NAME, PEER/NAME, status */
	struct hlx_list_rec rec;
	struct hlx_rules rules;      /* a peer's list: its handling rules */
	int status;
	int cases;                   /* the cases log (spec/cases.md 7.3) */
	char key[256];               /* what the views of it depend on */
	struct hlx_view_lines lines; /* its entries, read once when needed */
	int loaded;
	char ckpt[65];               /* SHA-256 of its checkpoint, "" if none */
	char diff_from[41];          /* changes since that commit, cached: */
	struct hlx_view_lines diff;  /* lines with a leading '+' or '-' */
};

/* The node's lists, as sources of views: own lists in name order, then
 * peers' lists, the status log last (its view depends on the others'
 * hold tags), each with the key its views depend on. */
struct hlx_view_srcs {
	struct hlx_view_ctx *c;
	struct hlx_view_src *v;
	size_t n;
	int rc;
};
int hlx_view_sources(struct hlx_view_ctx *c, struct hlx_view_srcs *s);
void hlx_view_sources_free(struct hlx_view_srcs *s);

/* The name of a source's view: NAME, or PEER.NAME for a peer's list. */
int hlx_view_name(const char *src, char out[HLX_NAME_MAX + 1]);
/* Two lists a policy gives must not be published under one name (an own
 * list "b.x" and a peer's list "b/x" would both be "b.x"): HLX_EPOLICY. */
int hlx_view_check_names(const struct hlx_policy *p,
			 const struct hlx_view_src *v, size_t n);

/* A view brought up to date. */
struct hlx_view_made {
	char name[HLX_NAME_MAX + 1]; /* its name in a feed */
	char repo[PATH_MAX];         /* its history */
	char head[41];
	uint64_t version;
	uint64_t count;              /* entries */
	struct hlx_rules rules;      /* the policy's, merged with a peer's */
};

/* Bring the view of source s under policy p, in the side directory
 * views/ID of the home (view: ID, "open" for the open feed), up to date:
 * a new version when what p lets through changed, pruned when its source
 * was, and its mark (NAME.src) written. */
int hlx_view_update(struct hlx_view_ctx *c, const struct hlx_policy *p,
		    const char *view, struct hlx_view_src *s,
		    struct hlx_view_made *out);

/* About how many entries making the view of source s under policy p
 * whole would hold (from one line in 64 of s, loaded if it was not); 0
 * when it was made before, and is then made from the list's changes, or
 * found up to date. */
uint64_t hlx_view_weight(struct hlx_view_ctx *c, const struct hlx_policy *p,
			 const char *view, struct hlx_view_src *s);

/* hlx_view_update of each job, on two threads, ahead of publishing: the
 * publish that follows finds each view up to date.  For the views of own
 * lists that were never pruned (no other source may be given); what fails
 * is left for that publish to do again and report.  The signing key is
 * loaded first.  The largest views are made first, and those that hold
 * the same lines as another's (hlx_policy_entries_id) last, so that one
 * thread is seldom left waiting on the other. */
struct hlx_view_job {
	const struct hlx_policy *p;
	const char *view;
	struct hlx_view_src *s;
};
int hlx_view_update_many(struct hlx_view_ctx *c, const struct hlx_view_job *jobs,
			 size_t n);

/* Version m of the view in repo (history h, at head parent, "" for none)
 * from the sorted ops[0..k), its commit id into oid (the branch is not
 * moved): the very same version of another view, if one was made with c
 * (its pack linked, hlx_hist_adopt), else built and signed with c's key
 * (views_memo.c). */
int hlx_view_memo_commit(struct hlx_view_ctx *c, struct hlx_hist *h,
			 const char *repo, const char *parent,
			 const struct hlx_hist_op *ops, size_t k,
			 const struct hlx_hist_meta *m, char oid[41]);

/*
 * A view of an own list made whole (not from the list's changes) holds
 * what the list's lines give under the members of its policy that
 * hlx_policy_entries_id covers, over what the view held (its head): two
 * views that agree on all three get the very same version (the commit is
 * made of its parent, content and metadata, signed with the same key).
 * hlx_view_twin_take gives the view in h (at head, "" for none) the
 * version another view made of s under a policy with p's entries id, if
 * one was made with c: its pack linked (hlx_hist_adopt), the branch
 * moved, *version, head and *count (its entries) set, 1 returned.  One
 * being made on another thread is waited for.  Else 0, and *ticket is
 * what the caller hands hlx_view_twin_done when it has made its version
 * (rc its result, oid "" when the view did not change), so that others
 * may take it; -1 when there is nothing to hand.
 */
int hlx_view_twin_take(struct hlx_view_ctx *c, const struct hlx_view_src *s,
		       const struct hlx_policy *p, struct hlx_hist *h,
		       const char *repo, char head[41], uint64_t *version,
		       int64_t *count, long *ticket);
void hlx_view_twin_done(struct hlx_view_ctx *c, long ticket, int rc,
			const char *oid, uint64_t version, int64_t count);

/* The pack file that holds exactly the objects of version oid over its
 * parent ("" none), as a view's history wrote it when c made it (found
 * on the thread that made it, node/packs.h hlx_pack_find): a publish
 * links or seals that file instead of looking for it again.  NULL when c
 * made no such version or its pack was not found. */
const char *hlx_view_memo_pack(const struct hlx_view_ctx *c, const char *parent,
			       const char *oid);

/* The view of the cases log under policy p (spec/cases.md 7.3): its
 * lines whole, but for those of cases in an early state when a member of
 * the policy's audience is none of the organisations that may see them,
 * and those a hold tag of p covers (node/views_cases.c). */
int hlx_view_cases(struct hlx_view_ctx *c, const struct hlx_policy *p,
		   const struct hlx_view_src *s, struct hlx_view_lines *out);

#endif
