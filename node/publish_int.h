/* SPDX-License-Identifier: MIT */
/*
 * What the files of publishing share (not an API: node/sync.h has
 * hlx_publish).  publish.c decides which feeds there are and which views
 * each serves; publish_feed.c writes one feed: its lists' packs,
 * checkpoints and heads, its trust chain, and the audit records first.
 */
#ifndef HLX_PUBLISH_INT_H
#define HLX_PUBLISH_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "node/policies.h"
#include "node/sync.h"
#include "node/views.h"
#include "protocol/policy.h"

/* A publish under way. */
struct pub_ctx {
	struct hlx_view_ctx v;             /* the node, now, the signing key */
	const char *dir;
	int64_t validity;
	struct hlx_publish_stats *st;
	const struct hlx_policies *pols;   /* NULL for the open feed */
	unsigned audience, audiences;      /* progress */
	/* the plans every feed lists (node/plans.h), loaded on first need */
	struct hlx_plans_pub *plans;
	size_t nplans;
	int plans_loaded;
	/* the packs of versions found as they are in a history, by commits
	 * (publish_feed.c): every feed of the same version links or seals
	 * the same file */
	struct pub_pack *packs;
	size_t npacks;
	/* the highest plans seq this node signed, in any feed and any
	 * publish directory (plans-seq in the home), read with the plans */
	uint64_t plans_seq;
};

struct pub_pack {
	char from[41], to[41];   /* the version's parent ("" none), commit */
	char path[PATH_MAX];     /* objects/pack/pack-X.pack of a history */
};

/* One feed directory: the open feed, or an audience's. */
struct feed {
	char dir[PATH_MAX];               /* where it is served from */
	const char *root;                 /* the publish directory: no link
					     below it is followed */
	char side[PATH_MAX];              /* views/ID in the home, or "" */
	const char *home;                 /* the node's home */
	const char *view;                 /* ID of views/ID ("open") */
	const struct hlx_boxpub *to;      /* sealed to these, or NULL */
	size_t nto;
	int reseal;                       /* recipients changed, or a new
					     directory (sealed): rewrite all */
	int trust_last;                   /* a directory without trust.json:
					   * it is written after all else, so
					   * that a publish cut short leaves
					   * the feed marked unfinished */
	const struct hlx_audience *au;    /* NULL for the open feed */
	const char *id;                   /* its directory name a/ID/ */
	const struct hlx_peer *const *mem; /* who reads it */
	size_t nmem;
	const char *const *fresh;         /* members new to the audience */
	size_t nfresh;
};

/* What one list of a feed is at: a history to publish from. */
struct feed_list {
	const char *name;         /* in the feed */
	const char *owner;
	uint64_t version;
	const char *commit;
	const char *repo;
	const struct hlx_rules *rules;   /* NULL: none (the open feed) */
	uint64_t count;                  /* entries, for the audit log */
};

/* trust.json of a feed, first: heads name it. */
int hlx_publish_feed_trust(struct pub_ctx *c, const struct feed *f);

/* Bring one list of a feed up to date: its packs, then its head, the
 * audit records first of all. */
int hlx_publish_feed_list(struct pub_ctx *c, const struct feed *f,
			  const struct feed_list *l);

/* plans/head and the bundles it lists (spec/plan.md section 7), after
 * trust.json: the head names its chain. */
int hlx_publish_feed_plans(struct pub_ctx *c, const struct feed *f);

#endif
