/* SPDX-License-Identifier: MIT */
/*
 * Removing what a node may no longer hold: a peer's list it mirrors
 * (`hlx unsubscribe PEER LIST --purge`), everything of a peer (`hlx peer
 * rm`), one of its own lists (`hlx list rm`).  A removal deletes, for
 * each list:
 *
 *   - its repository (HOME/lists/L.git, or lists/PEER/L.git, with any
 *     R.new, R.swap, R.old a prune left);
 *   - its state: the list record, its entries, arrival times and purged
 *     marks (one LMDB transaction), then the state is compacted so that
 *     no free page keeps their bytes (spec/prune.md 4.4);
 *   - the match index (HOME/match/ but its settings, rebuilt on use) and
 *     the list's match settings;
 *   - for a peer's list, its sync state (peers/PEER/L.sync, .rules,
 *     .rebase); every staging repository a killed pull left;
 *   - every view made from it (views/ID/V.git, .src, .head, .checkpoint
 *     and what a killed prune of the view left; V is the name it is
 *     published under: L, or PEER.L) and every feed that serves one
 *     (PUBLISH/a/DIR/lists/V/, and PUBLISH/lists/L/ and views/open/ for an
 *     own list);
 *   - for an own list, the raw URLs (urls/HEX) of the url-sha256 items its
 *     history ever held that no list holds any more.
 * `peer rm` also deletes the peer from peers.json, peers/PEER/ (its trust
 * chain) and lists/PEER/, and takes down the plain feed directories made
 * for it (PUBLISH/a/DIR/ for each policy); `unsubscribe --purge` drops the
 * subscription.  The audit log is kept as it is: it records disclosures
 * by list name and counts, never entries.
 *
 * Dependencies: a removal is refused (HLX_ESTATE, nothing changed) while
 * a policy names the list (an own list by name, not through "*"; a peer's
 * list as PEER/L; for `peer rm` any PEER/...), unless force: the policy
 * is left as it is (changing it would change every audience's directory)
 * and gives nothing for that name while no such list exists; the views
 * and feeds of the list are taken down all the same.
 *
 * Crash safety: roll forward.  The caller holds the writer lock
 * (hlx_node_open with lock).  Everything is decided and checked first;
 * then the removal is written durably to HOME/remove.intent (the lists,
 * the peer, the publish directory, the URL items); then each step above
 * is done, each one idempotent; the state is compacted; the intent is
 * deleted last.  A removal killed after the intent was written is
 * finished by the next writer that opens the node (hlx_remove_recover,
 * which hlx_node_open runs under the lock), whatever the command; killed
 * before, nothing changed.  Running the same command again after a
 * crash finds the removal finished.  When the state cannot be compacted
 * (another process has it open: HLX_ESTATE), everything else is done and
 * the intent stays, so that the next writer compacts it.
 */
#ifndef HLX_REMOVE_H
#define HLX_REMOVE_H

#include <stddef.h>
#include <stdint.h>

#include "node/lists.h"

struct hlx_remove_opts {
	int force;            /* remove even though a policy names it */
	const char *publish;  /* the publish directory; NULL: HOME/publish */
};

struct hlx_remove_result {
	unsigned lists;       /* lists removed from the state */
	uint64_t entries;     /* entries they held */
	unsigned views;       /* view repositories deleted */
	unsigned feeds;       /* feed lists and directories taken down */
	unsigned urls;        /* raw URLs deleted */
	uint64_t before, after; /* state size before and after compaction */
};

/* unsubscribe PEER LIST --purge: also when the subscription is gone but
 * the mirror is still here (HLX_ENOENT when neither). */
int hlx_remove_mirror(struct hlx_node *n, const char *peer, const char *list,
		      const struct hlx_remove_opts *o,
		      struct hlx_remove_result *res);
/* peer rm NAME: the peer and every list of it (HLX_ENOENT when neither
 * peers.json nor the state knows it). */
int hlx_remove_peer(struct hlx_node *n, const char *peer,
		    const struct hlx_remove_opts *o,
		    struct hlx_remove_result *res);
/* list rm NAME, an own list (not the status log). */
int hlx_remove_list(struct hlx_node *n, const char *list,
		    const struct hlx_remove_opts *o,
		    struct hlx_remove_result *res);
/* One line saying what was removed, for people. */
void hlx_remove_describe(const struct hlx_remove_result *r, char *out,
			 size_t n);
/* Finish a removal a crash interrupted (HOME/remove.intent), if any.
 * hlx_node_open runs it for writers. */
int hlx_remove_recover(struct hlx_node *n);

#endif
