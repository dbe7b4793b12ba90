/* SPDX-License-Identifier: MIT */
/*
 * Federation (spec/sync.md): publishing this node's lists as static signed
 * feeds, and pulling peers' feeds, verifying everything before applying
 * anything.
 */
#ifndef HLX_SYNC_H
#define HLX_SYNC_H

#include <stdint.h>

#include "node/fetch.h"
#include "node/lists.h"
#include "node/peers.h"
#include "node/views.h"   /* the views publishing serves */
#include "keys/seal.h"
#include "protocol/policy.h"

#define HLX_HEAD_VALIDITY (7 * 86400)  /* default lifetime of a head */
#define HLX_PACK_MAX (2ULL << 30)      /* largest pack accepted */

struct hlx_publish_stats {
	unsigned lists, heads_signed, packs_written;
	uint64_t purged;      /* entries purged for retention first */
	/* in: called (if set) before each audience's list is brought up to
	 * date, for progress on long publications */
	void (*progress)(void *ctx, unsigned audience, unsigned audiences,
			 const char *list);
	void *progress_ctx;
	/* out: raw URLs of cases sent to their owners this time, and those
	 * that could not be (no peer of the owner, no box key ...): each
	 * told through notice (if set), none a failure of the publish */
	unsigned urls_sent, urls_refused;
	void (*notice)(void *ctx, const char *who, const char *why);
	void *notice_ctx;
	/* out: audiences or peers not published this time, each reported
	 * (if failure is set) with whom it names and why; the others are
	 * published all the same */
	unsigned failed;
	void (*failure)(void *ctx, const char *who, int rc, const char *why);
	void *failure_ctx;
};

/* Write (or bring up to date) the feeds of every list this node owns into
 * dir: trust.json, lists/NAME/head, lists/NAME/packs/V.pack.  A head is
 * re-signed when its version changed or less than half its validity is
 * left.  Files are replaced atomically, packs before the head.  One
 * audience's or peer's failure stops no other: HLX_OK with st->failed. */
int hlx_publish(struct hlx_node *n, const char *dir, int64_t now,
		int64_t validity, hlx_pass_fn getpass, void *ctx,
		struct hlx_publish_stats *st);

/* What a pull of one list did. */
struct hlx_pull_result {
	int changed;          /* a new version was applied */
	int not_modified;     /* the head had not changed (conditional GET) */
	int none;             /* a cases log the peer has not begun (no head,
				 and none held): nothing to pull yet */
	int pruned;           /* the peer pruned the history: compact the
				 state once the node is closed */
	uint64_t from, to;    /* versions */
	uint64_t added, removed;
};

/* Keys for pulling sealed feeds: the box key is loaded (through getpass)
 * on first need and kept for the caller to free (hlx_boxkey_free). */
struct hlx_pull_keys {
	hlx_pass_fn getpass;
	void *ctx;
	struct hlx_boxkey *box;
};

/* Pull one subscribed list of a peer: fetch its head, verify it (trust
 * chain from the pinned root, signature, expiry, no rollback), fetch the
 * packs, verify every commit, then apply atomically.  On any failure the
 * local state is as it was, and the error is recorded for peer status. */
int hlx_pull(struct hlx_node *n, const struct hlx_peer *peer, const char *list,
	     struct hlx_fetch *f, int64_t now, struct hlx_pull_keys *keys,
	     struct hlx_pull_result *res);

/* What a pull of a peer's plans did (spec/plan.md section 7.3). */
struct hlx_plans_pull_result {
	int none;            /* the peer publishes no plans (404) */
	int not_modified;    /* its plans head had not changed */
	int changed;         /* acts (and documents) were added */
	uint64_t seq;        /* of the head verified */
	size_t fetched, added; /* bundles fetched, acts added */
};

/* Pull a peer's plans: its plans head, verified (chain, namespace
 * hlx-plans, freshness, audience, no rollback or fork), then the bundles
 * not taken in whole before, every act checked (node/plans.h).  All or
 * nothing: on failure the plans and peers/P/plans.sync are as they were,
 * and peers/P/plans.error says why. */
int hlx_pull_plans(struct hlx_node *n, const struct hlx_peer *peer,
		   struct hlx_fetch *f, int64_t now, struct hlx_pull_keys *keys,
		   struct hlx_plans_pull_result *res);
/* The seq and time of the last verified plans head of a peer, and the
 * error of its last pull ("" if it succeeded): HLX_ENOENT when its plans
 * were never pulled nor refused. */
int hlx_plans_sync_status(struct hlx_node *n, const char *peer, uint64_t *seq,
			  int64_t *last_ok, char *err, size_t errlen);

/* Per peer and list: the version held, when it last synced, last error. */
struct hlx_sync_state {
	char etag[256], last_modified[64];
	int64_t last_try, last_ok;
	uint64_t remote_version;   /* version of the last verified head */
	int64_t expires;           /* when that head expires */
	char error[300];           /* "" if the last try succeeded */
};
int hlx_sync_state_get(struct hlx_node *n, const char *peer, const char *list,
		       struct hlx_sync_state *out);
/* Record error (one line; "" clears it) as the last error of peer's list,
 * for peer status, leaving the rest of its sync state as it is: what a
 * step after the pull refused (a case's raw URL, node/caseurl.h). */
int hlx_sync_state_error(struct hlx_node *n, const char *peer, const char *list,
			 const char *error);

/*
 * One pull round: every subscribed list of every peer with a feed (or of
 * the peer named only), then the purge of entries past their retention.
 * Each outcome reaches report as it happens: a list pulled or failed, a
 * peer that could not be reached at all, the purge.  A failure of one
 * list never stops the others.  Returns HLX_OK (failures are counted in
 * out) or an error that stopped the round before it began.
 */
enum hlx_sync_event_kind {
	HLX_SYNC_LIST,   /* peer, list, rc and (when rc is 0) result */
	HLX_SYNC_PEER,   /* peer: rc, it could not be pulled at all */
	HLX_SYNC_PURGE,  /* rc, purged */
	HLX_SYNC_WAIT,   /* peer, list: failed lately, left until next */
	HLX_SYNC_PLANS,  /* peer, rc and (when rc is 0) plans */
};

struct hlx_sync_event {
	enum hlx_sync_event_kind kind;
	const char *peer, *list;
	int rc;                              /* hlx_err_detail() says why */
	const struct hlx_pull_result *result;
	uint64_t purged;
	int64_t next;                        /* HLX_SYNC_WAIT: when it is due */
	const struct hlx_plans_pull_result *plans; /* HLX_SYNC_PLANS */
};

/*
 * What rounds keep across rounds (hlx run).  Back-off of each peer's
 * list: a list whose pull failed is left out of the rounds until its next
 * try, its delay doubling with each failure from base up to cap (seconds;
 * 0: 60 and 3600); a success forgets it.  A list that fails never delays
 * another list or peer.  And each peer's fetch handle (conns), so that
 * the next round asks on the connection this one made (no new TCP and
 * TLS handshake a round: two round trips less to see a change), while
 * the server keeps it open and rounds are less than two minutes apart
 * (libcurl's limit on a connection's idle time); a handle is made anew
 * when the peer's CA file changed (path, inode, size, times), and ten
 * minutes after it was made (its TLS settings, the CA stores included,
 * read again).  The caller keeps it zeroed at first and frees it with
 * hlx_sync_backoff_free, which closes the connections.
 */
struct hlx_sync_wait {
	char peer[65], list[65];
	int64_t next, delay;
	int seen;                            /* still subscribed this round */
};
struct hlx_sync_conn;
struct hlx_sync_backoff {
	int64_t base, cap;
	size_t n;
	struct hlx_sync_wait *v;
	size_t nconns;
	struct hlx_sync_conn *conns;         /* node/round.c */
};
void hlx_sync_backoff_free(struct hlx_sync_backoff *b);

struct hlx_sync_opts {
	const char *only;             /* one peer's name, or NULL for all */
	int64_t now;                  /* 0: the clock */
	long timeout_s;               /* a whole transfer, 0 for the default */
	hlx_pass_fn getpass;          /* for the box key of sealed feeds */
	void *pass_ctx;
	void (*report)(void *ctx, const struct hlx_sync_event *ev);
	void *report_ctx;
	struct hlx_sync_backoff *backoff;    /* NULL: every list every round */
};

struct hlx_sync_totals {
	int failures;   /* lists or peers that failed, and a failed purge */
	int changed;    /* something new was applied or purged */
	int compact;    /* a prune or purge freed pages: compact the state */
};

int hlx_sync_round(struct hlx_node *n, const struct hlx_peers *ps,
		   const struct hlx_sync_opts *o, struct hlx_sync_totals *out);

/*
 * Does peer p publish list for this node?  Its feed's lists/LIST/head is
 * fetched (only whether it is there counts): *published 1.  No such head
 * but the feed's trust.json is there: HLX_OK and *published 0.  Anything
 * else (no feed there yet, the server unreachable): that error, and the
 * caller cannot tell.  At most 30 s (or timeout_s when less).
 */
int hlx_sync_probe(const struct hlx_peer *p, const char *list, long timeout_s,
		   int *published);

#endif
