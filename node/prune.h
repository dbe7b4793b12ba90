/* SPDX-License-Identifier: MIT */
/*
 * History pruning (spec/prune.md): `hlx prune LIST --before B` replaces a
 * list's history by one that starts at version B, so that what only older
 * versions held exists nowhere any more, and leaves a signed checkpoint
 * (protocol/checkpoint.h) that maps every kept version's old commit to its
 * new one, for subscribers to verify continuity against.
 *
 * Files, for the repository R of a list (HOME/lists/L.git, or
 * HOME/lists/PEER/L.git for a mirror):
 *
 *   R/hlx-checkpoint  the latest checkpoint of a pruned history (git
 *                     ignores the file; it travels with the repository)
 *   R.new             the new repository being built
 *   R.swap            the intent: "hlx-prune-1", old head, new head, one a
 *                     line; while it exists, R.new is complete and synced
 *   R.old             the old repository, where the file system cannot
 *                     exchange two directories atomically
 *
 * The swap, for the owner's prune and for a subscriber adopting a pruned
 * history alike:
 *   1. build R.new completely (objects, branch, checkpoint), sync it;
 *   2. hlx_prune_intent(): write R.swap;
 *   3. record the new head in the state (LMDB), durably;
 *   4. hlx_prune_replace_repo(): exchange R and R.new, delete the old one,
 *      remove R.swap.
 * A crash at any point is finished (state at the new head) or rolled back
 * (state at the old head) by hlx_prune_recover(), which
 * hlx_list_recover() runs before anything else.
 *
 * Every function returns HLX_OK or a negative HLX_E* code with a detail,
 * except where said otherwise.
 */
#ifndef HLX_PRUNE_H
#define HLX_PRUNE_H

#include <limits.h>
#include <stdint.h>

#include "keys/trust.h"
#include "node/history.h"
#include "node/lists.h"
#include "protocol/checkpoint.h"

/* The checkpoint's file name inside a repository. */
#define HLX_PRUNE_CHECKPOINT_FILE "hlx-checkpoint"

struct hlx_prune_result {
	uint64_t before;        /* the first version kept */
	uint64_t version;       /* the head's version (unchanged) */
	uint64_t kept;          /* versions rewritten: version - before + 1;
				   0 when the history started at before
				   already (nothing done: a retry) */
	char old_head[41], head[41];
	int match_reset;        /* the match index was removed (rebuilt on use) */
};

/*
 * Prune the node's own list before version before (2 <= before <= its
 * version), under the node's writer lock (hlx_node_open with lock): the
 * signing key is loaded first (getpass), so a wrong passphrase changes
 * nothing.  Refuses mirrored lists (HLX_EPERM: only the owner prunes).
 * Afterwards the state's old pages still hold what was pruned: the caller
 * closes the node and runs hlx_store_compact() on HOME/state.
 */
int hlx_prune(struct hlx_node *n, const char *list, uint64_t before,
	      hlx_pass_fn getpass, void *ctx, int64_t now,
	      struct hlx_prune_result *res);

/* The match index (HOME/match/pdq.base, pdq.delta, pdq.tables) keeps the PDQ hashes
 * of past versions, removed ones included: delete it (*done = 1 if there
 * was one); the next match builds it afresh from the histories. */
int hlx_prune_reset_match(struct hlx_node *n, int *done);

/* ---- the swap (also for a subscriber adopting a pruned history) ------- */

/* R.new for a repository R (out has PATH_MAX bytes). */
int hlx_prune_new_path(const char *repo, char out[PATH_MAX]);
/* Step 2: R.new is complete (its branch at new_head) and synced; record
 * the intent to replace R (at old_head, "" for none) by it. */
int hlx_prune_intent(const char *repo, const char *old_head,
		     const char *new_head);
/* Step 4, once the state names new_head: put R.new in R's place, delete
 * the old repository and the intent.  Idempotent. */
int hlx_prune_replace_repo(const char *repo);
/* Instead of step 4 when step 3 failed: delete R.new and the intent. */
int hlx_prune_abandon(const char *repo);
/* Steps 3 and 4 for t, the state's change to the new head (rc: how
 * making it went): on an error abort t and abandon R.new; else commit t
 * (a failed commit may still have reached the disk: recovery looks at the
 * state), close *h when h is set, replace R, reset the match index. */
struct hlx_store_txn;
int hlx_prune_commit_swap(struct hlx_node *n, const char *repo,
			  struct hlx_store_txn *t, int rc,
			  struct hlx_hist **h, int *match_reset);
/* Sync every file and directory under path (for step 1). */
int hlx_prune_sync_tree(const char *path);

/*
 * Finish or roll back an interrupted swap of list's repository, as the
 * state says: its head is the intent's new head (finish) or old head (roll
 * back); anything else is HLX_ESTATE.  Only a writer (holding the node's
 * lock) changes files; a reader gets 1 when the state is ahead of the
 * repository (it must answer from the state), else HLX_OK.  Without an
 * intent, a writer deletes a leftover R.new or R.old.
 */
int hlx_prune_recover(struct hlx_node *n, const char *list, int writer);

/* ---- checkpoints -------------------------------------------------------- */

/* What a subscriber holds of a list. */
struct hlx_prune_have {
	const char *org;       /* the list's owner */
	const char *list;      /* its name at the owner (no PEER/) */
	uint64_t version;      /* H, 0 if nothing */
	const char *commit;    /* C_H, "" if nothing */
	const char *tree;      /* the tree of C_H, "" if nothing */
	int64_t held_issued;   /* issued of the checkpoint held, -1 if none */
};

enum {
	HLX_PRUNE_REBASE = 1,  /* H = 0, or H < before and the checkpoint
				  lists C_H among its prior commits: take
				  the new history whole; the state follows
				  by a diff from C_H's tree to the new head's */
	HLX_PRUNE_MAPPED = 2,  /* C_H is version H's old commit or a prior
				  one, with its tree: version H is
				  new_commit in the new history */
	HLX_PRUNE_CURRENT = 3, /* C_H is already the new commit of H */
};

struct hlx_prune_cont {
	int kind;              /* HLX_PRUNE_* */
	char new_commit[41];   /* MAPPED, CURRENT: the new commit of H */
};

/*
 * Verify a fetched checkpoint file text[0..n): parsed strictly; its
 * signature (namespace hlx-checkpoint) by a key trust lets sign at
 * issued; org and list those of have; issued at most 5 minutes after now
 * and after have->held_issued; then continuity with what is held (see
 * enum above): the checkpoint must name C_H for version H (as its old,
 * new or a prior commit).  Any other commit is a fork (HLX_EUNTRUSTED,
 * "a fork: ..."), as is a version H after the checkpoint's last.  c
 * (init'd) receives the checkpoint.
 */
int hlx_prune_checkpoint_verify(const char *text, size_t n,
				const struct hlx_trust *trust,
				const struct hlx_prune_have *have, int64_t now,
				struct hlx_checkpoint *c,
				struct hlx_prune_cont *cont);

/*
 * Does the history h hold (a prefix of, or all and then more than) the
 * checkpoint's new history?  Its first commit is the checkpoint root of
 * version c->before replacing c->v[0].old; every version the checkpoint
 * covers, up to h's head, is the checkpoint's new commit with its tree.
 */
int hlx_prune_check_history(struct hlx_hist *h, const struct hlx_checkpoint *c);

/*
 * For fsck: if the history in repo (opened as h) starts at a checkpoint
 * root, repo/hlx-checkpoint must be there, verify with trust, name org
 * and list, and match the history (hlx_prune_check_history).  HLX_OK for
 * a history from version 1.
 */
int hlx_prune_fsck(struct hlx_hist *h, const char *repo,
		   const struct hlx_trust *trust, const char *org,
		   const char *list);

/* Prune a repository that is in no state (a view, node/publish.c): the
 * rewrite and its checkpoint, then the swap at once.  An interrupted swap
 * is finished by hlx_prune_replace_repo (its intent file R.swap). */
int hlx_prune_repo(const char *repo, const char *org, const char *list,
		   uint64_t before, struct hlx_seckey *key, int64_t now,
		   char new_head[41]);

#endif
