/* SPDX-License-Identifier: MIT */
/*
 * The sharing policies of a node (spec/policy.md) and the audiences they
 * make.
 *
 * Policies live in the home as policies/NAME.json, in canonical form; a
 * peer is bound to one by name (node/peers.h).  An audience is the set of
 * peers whose policies give the same view (protocol/policy.h,
 * hlx_policy_view_id): they share one view (views/ID/ in the home, ID a
 * keyed hash of the view id under a secret of the node, keys/feed.secret,
 * so that the name tells nothing about the policy).  An encrypted
 * audience's feed is PUBLISH/a/ID/, sealed to its members; a plain
 * audience's feed is published once per member, under PUBLISH/a/DIR/ with
 * DIR keyed over the view id and the member's name, so that a member that
 * leaves can read nothing published after.
 */
#ifndef HLX_POLICIES_H
#define HLX_POLICIES_H

#include <stddef.h>

#include "node/home.h"
#include "node/peers.h"
#include "protocol/policy.h"

#define HLX_POLICIES_MAX 4096

struct hlx_policies {
	size_t n;
	struct hlx_policy **v;   /* sorted by name */
};

/* Every policy of a home (none: n = 0). */
int hlx_policies_load(const char *home, struct hlx_policies **out);
void hlx_policies_free(struct hlx_policies *p);
const struct hlx_policy *hlx_policies_find(const struct hlx_policies *p,
					   const char *name);
/* Store a policy (JSON text, checked); HLX_EEXIST if its name is taken
 * and !replace.  name receives the policy's name. */
int hlx_policies_add(const char *home, const char *json, size_t n, int replace,
		     char name[65]);
/* The tags that hold an entry back from the open feed (spec/policy.md
 * section 6): "hold", and every hold tag a policy of the home ever had
 * (policies/hold-tags), one a line in byte order, into out.  With add, its
 * hold tags are remembered too (the file is written when that changes). */
int hlx_hold_tags(const char *home, const struct hlx_policy *add,
		  struct hlx_buf *out);
/* HLX_ESTATE if a peer is bound to it. */
int hlx_policies_remove(const char *home, const struct hlx_peers *peers,
			const char *name);

struct hlx_audience {
	char id[33];                      /* 32 hex digits */
	const struct hlx_policy *policy;  /* the first (by name) with its view */
	size_t n;                         /* members */
	const struct hlx_peer **members;  /* in peers.json order */
	/* each member's feed directory a/DIR/: the audience's id when the
	 * feed is encrypted (one feed, sealed to the members), the member's
	 * own (hlx_audience_dir) when it is plain */
	char (*dirs)[33];
};

/* A peer left out of every audience: its setting cannot be applied. */
struct hlx_audience_skip {
	const struct hlx_peer *peer;
	int rc;                           /* hlx_peer_policy_check's */
	char why[300];                    /* its detail */
};

struct hlx_audiences {
	size_t n;
	struct hlx_audience *v;           /* in id order */
	size_t nskipped;                  /* in peers.json order */
	struct hlx_audience_skip *skipped;
};

/* A peer's policy setting as it can be applied: HLX_OK for no policy or a
 * policy that exists and, if it encrypts, a peer with a box key; else
 * HLX_ENOENT (no such policy) or HLX_EPOLICY (no box key). */
int hlx_peer_policy_check(const struct hlx_policies *pols,
			  const struct hlx_peer *pe);
/* A policy as it is entered: every list it names exists (an own list, or
 * PEER/LIST subscribed from a peer: else HLX_ENOENT; "*" and "status"
 * always do), and every peer bound to it by name passes
 * hlx_peer_policy_check with it. */
struct hlx_node;
int hlx_policy_check_node(struct hlx_node *n, const struct hlx_policy *p,
			  const struct hlx_peers *peers);

/* Group the peers that have a policy into audiences.  A peer whose setting
 * hlx_peer_policy_check refuses (a policy that does not exist, an
 * encrypted view without its box key) is in no audience: it is listed in
 * skipped, and the others are grouped all the same. */
int hlx_audiences_make(const char *home, const struct hlx_policies *pols,
		       const struct hlx_peers *peers, struct hlx_audiences **out);
void hlx_audiences_free(struct hlx_audiences *a);
/* The audience a peer belongs to, or NULL. */
const struct hlx_audience *hlx_audiences_of(const struct hlx_audiences *a,
					    const char *peer);
/* The feed directory a peer reads, or NULL (no policy). */
const char *hlx_audiences_dir(const struct hlx_audiences *a, const char *peer);
/* The node's secret (hlx_node_secret) is in node/home.h. */
/* The feed directory name of a policy's audience under the secret. */
void hlx_audience_id(const uint8_t secret[32], const struct hlx_policy *p,
		     char id[33]);

/* The feed directory name of a member of a plain audience: keyed over the
 * view id, the peer's name and its pinned root key, so that each member
 * reads its own copy, and a name reused for another organisation (or a
 * peer pinned anew) never reads the old one's. */
void hlx_audience_dir(const uint8_t secret[32], const struct hlx_policy *p,
		      const char *peer, const uint8_t root[32], char id[33]);

#endif
