/* SPDX-License-Identifier: MIT */
/*
 * Lists: the node's hash lists, each a signed git history (node/history.h)
 * with its current version mirrored in the state (node/store.h).
 *
 * The node handle (struct hlx_node) is in node/node.h.  struct hlx_changeset collects the changes of
 * one version (puts and retractions, duplicates merged); hlx_list_apply()
 * turns it into one signed version: history objects first, then the state
 * (durable), then the history's ref.  A crash between the last two is
 * finished by hlx_list_recover(), which every list operation runs first,
 * so a list is always at the previous or the new version, never between.
 */
#ifndef HLX_LISTS_H
#define HLX_LISTS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "node/history.h"
#include "node/home.h"
#include "node/node.h"
#include "node/store.h"
#include "keys/key.h"
#include "protocol/case.h"
#include "protocol/record.h"

int hlx_list_repo_path(struct hlx_node *n, const char *list,
		       char out[PATH_MAX]);
int hlx_list_create(struct hlx_node *n, const char *list);
/* The list's record, after recovery; HLX_ENOENT "no such list". */
int hlx_list_get(struct hlx_node *n, const char *list, struct hlx_list_rec *out);
int hlx_list_open_hist(struct hlx_node *n, const char *list,
		       struct hlx_hist **out);
/* hlx_list_get, then hlx_list_open_hist: a list's record and history,
 * after recovery.  *out is NULL on failure. */
int hlx_list_open(struct hlx_node *n, const char *list,
		  struct hlx_list_rec *rec, struct hlx_hist **out);
/* Make state and history agree after a crash (see above). */
int hlx_list_recover(struct hlx_node *n, const char *list);

struct hlx_changeset;
int hlx_changeset_new(struct hlx_changeset **out);
void hlx_changeset_free(struct hlx_changeset *cs);
/* Add or replace an entry (validated). */
int hlx_changeset_put(struct hlx_changeset *cs, const struct hlx_entry *e);
/* A removal-status record, for the status log (the list "status"). */
int hlx_changeset_put_status(struct hlx_changeset *cs,
			     const struct hlx_status *st);
/* A case line, for the cases log (the list "cases"). */
int hlx_changeset_put_case(struct hlx_changeset *cs,
			   const struct hlx_case_line *c);
int hlx_changeset_retract(struct hlx_changeset *cs, const struct hlx_hash *h);
size_t hlx_changeset_size(const struct hlx_changeset *cs);

struct hlx_apply_result {
	uint64_t version;      /* the new version, or the current if no change */
	char head[41];
	uint64_t added, updated, unchanged, retracted, merged, count;
	int changed;           /* 0: nothing to commit, no version made */
};

/* Signing key: from the node home (passphrase through getpass). */
int hlx_list_apply(struct hlx_node *n, const char *list,
		   struct hlx_changeset *cs, const char *summary,
		   hlx_pass_fn getpass, void *ctx, int64_t now,
		   struct hlx_apply_result *res);

/* The hlx_hist_sign_fn of lists and views: ctx is the struct hlx_seckey *
 * to sign with (SSHSIG, namespace "git"). */
int hlx_list_sign_commit(void *ctx, const uint8_t *data, size_t n,
			 struct hlx_buf *out);

/* Rebuild the state of a list from its history. */
int hlx_list_reindex(struct hlx_node *n, const char *list, uint64_t *count);

/* Verify a list: every version's signature (signer delegated and valid at
 * the version's time, not revoked), the history's shape, and that the state
 * equals the head version.  Problems are reported through report (one line
 * each); returns HLX_OK only if there were none. */
int hlx_list_fsck(struct hlx_node *n, const char *list,
		  void (*report)(void *ctx, const char *msg), void *ctx,
		  uint64_t *versions, uint64_t *entries);

/* The signer of version v of list (its history h): its fingerprint into
 * fpr ("-" when unsigned), and HLX_OK when the signature verifies and the
 * list's trust chain (ours, or the peer's for a mirror PEER/LIST) lets
 * the signer sign at the version's time; else the error, its detail
 * saying why ("no signature", "BAD signature", or the chain's verdict). */
int hlx_list_check_signer(struct hlx_node *n, const char *list,
			  struct hlx_hist *h, const struct hlx_hist_version *v,
			  char fpr[HLX_FPR_LEN]);

/* What a list's lines are, by its name (NAME, or PEER/NAME for a
 * peer's): the status log "status" holds removal-status records, the
 * cases log "cases" case lines (spec/cases.md section 7), every other
 * list entries. */
enum hlx_list_kind {
	HLX_LIST_ENTRIES = 0,
	HLX_LIST_STATUS,
	HLX_LIST_CASES,
};
enum hlx_list_kind hlx_list_kind(const char *name);
int hlx_is_status_list(const char *name);
int hlx_is_cases_list(const char *name);

#endif
