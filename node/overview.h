/* SPDX-License-Identifier: MIT */
/*
 * The node at a glance (hlx overview, and the --json of the listings):
 * its identity and keys, its lists, its peers and how their subscriptions
 * fare, its policies and audiences, what its publish directory serves,
 * and what needs the operator's attention.  Gathered from the node into
 * plain structures; nothing is printed and nothing changed here.
 *
 * Each part is filled by a function of its own, so that a listing takes
 * only what it shows; hlx_overview_gather fills them all and then the
 * attention items.
 */
#ifndef HLX_OVERVIEW_H
#define HLX_OVERVIEW_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "node/node.h"
#include "node/peers.h"
#include "node/policies.h"
#include "keys/sshkey.h"
#include "protocol/policy.h"

/* What needs attention, and how far ahead. */
#define HLX_OV_KEY_WARN (30 * 86400)   /* a signing key expiring within */
#define HLX_OV_PEER_WARN 86400         /* a subscription failing for */

/* The root key, or a signing key of the trust chain. */
struct hlx_ov_key {
	int root;                      /* 1: the root key (no window) */
	char fpr[HLX_FPR_LEN];         /* SHA256:... as ssh-keygen -l */
	int64_t valid_after, valid_before;   /* signing keys */
	int revoked;
	int64_t revoked_since;
	const char *state;             /* "valid", "expired", "not-yet-valid",
					  "revoked"; the root: "valid" */
	int current;                   /* the key signatures are made with */
};

/* A list held here: one of ours, or a peer's (PEER/NAME). */
struct hlx_ov_list {
	struct hlx_list_rec rec;
	int own;
};

/* One subscribed list of a peer. */
struct hlx_ov_sub {
	const char *peer, *list;       /* into ov->peers */
	uint64_t held, remote;         /* versions: here, last verified head */
	int64_t last_ok, last_try;     /* 0: never */
	int64_t head_expires;          /* of the last verified head, or 0 */
	char error[600];               /* the last try's, escaped, or "" */
	int has_rules;                 /* handling rules that are not the
					  default ones came with it */
	struct hlx_rules rules;
};

struct hlx_ov_peer {
	const struct hlx_peer *p;      /* into ov->peers */
	char fpr[HLX_FPR_LEN];         /* its pinned root */
	const char *feed;              /* the feed directory a/DIR/ it reads,
					  or NULL (no policy, or none made) */
	size_t first, nsubs;           /* its subscriptions in ov->subs */
};

struct hlx_ov_policy {
	const struct hlx_policy *pol;  /* into ov->pols */
	char sha256[65];               /* of its canonical form */
	const char *audience;          /* an encrypted audience's feed
					  directory, or NULL */
	int bound;                     /* peers bound to it */
};

/* A head found in the publish directory (or, for a sealed feed, the plain
 * copy kept in the home). */
struct hlx_ov_head {
	char feed[40];                 /* "" for the open feed, or "a/ID" */
	char list[65];
	uint64_t version;
	int64_t issued, expires;
};

struct hlx_ov_attention {
	const char *kind;              /* "key-expiring", "no-signing-key",
					  "peer-failing", "head-expiring",
					  "policies" */
	char subject[200];             /* the key, PEER/LIST, FEED/LIST */
	char message[800];
	int64_t when;                  /* the expiry, the last success; 0 */
};

struct hlx_overview {
	int64_t now;
	char org[65];
	char home[PATH_MAX];
	size_t nkeys;                  /* keys[0] is the root */
	struct hlx_ov_key *keys;
	int box;                       /* the node has a box key */
	size_t nlists;
	struct hlx_ov_list *lists;
	struct hlx_peers *peers;       /* owned */
	size_t npeers;
	struct hlx_ov_peer *peer;
	size_t nsubs;
	struct hlx_ov_sub *subs;
	struct hlx_policies *pols;     /* owned */
	struct hlx_audiences *aus;     /* owned; NULL when they cannot be made */
	char policy_error[400];        /* why, or "" */
	size_t npols;
	struct hlx_ov_policy *pol;
	char publish_dir[PATH_MAX];
	size_t nheads;
	struct hlx_ov_head *heads;
	int64_t last_signed;           /* newest head's issue time, or 0 */
	int64_t next_expiry;           /* soonest head's expiry, or 0 */
	size_t natt;
	struct hlx_ov_attention *att;
};

/* Start empty: every part unfilled; now is the time states are judged
 * at. */
void hlx_overview_init(struct hlx_overview *ov, int64_t now);
/* Free what the parts hold; ov can be filled again after init. */
void hlx_overview_free(struct hlx_overview *ov);

/* The organisation, the root and signing keys, the box key. */
int hlx_overview_keys(struct hlx_overview *ov, struct hlx_home *h);
/* Every list the state holds, in name order. */
int hlx_overview_lists(struct hlx_overview *ov, struct hlx_node *n);
/* The peers (read from the home) and, with n, each subscription's sync
 * state. */
int hlx_overview_peers(struct hlx_overview *ov, const char *home,
		       struct hlx_node *n);
/* The policies and the audiences, and the feed each peer reads (after
 * hlx_overview_peers).  Audiences that cannot be made (a peer naming no
 * policy) are not an error: the reason is kept in policy_error. */
int hlx_overview_policies(struct hlx_overview *ov, const char *home);
/* The heads the publish directory dir serves (and the plain copies of
 * sealed ones in the home): an absent directory is none. */
int hlx_overview_published(struct hlx_overview *ov, const char *dir);
/* What needs attention, from the parts filled. */
int hlx_overview_attention(struct hlx_overview *ov);

/* Every part, then the attention items. */
int hlx_overview_gather(struct hlx_overview *ov, struct hlx_node *n,
			const char *publish_dir);

#endif
