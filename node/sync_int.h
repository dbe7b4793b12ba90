/* SPDX-License-Identifier: MIT */
/*
 * What the files of a pull share (not an API: node/sync.h is).
 * sync.c: the sync state, the phases of a pull, pruned histories and the
 * rounds over the peers; sync_verify.c: the checks of what a feed sends
 * (sealed files, the trust chain, the head, the commits, the delta) and
 * the steps that stage and apply it.
 */
#ifndef HLX_SYNC_INT_H
#define HLX_SYNC_INT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "node/history.h"
#include "node/lists.h"
#include "node/store.h"
#include "node/sync.h"
#include "keys/trust.h"
#include "protocol/buf.h"
#include "protocol/head.h"

#define CLOCK_SKEW 300
/* A sealed file: at most 4096 recipients (keys/seal.h) around n bytes. */
#define SEALED_MAX(n) ((n) + (n) / 16 + 4096 * 80 + 1024)

struct pull {
	struct hlx_node *n;
	const struct hlx_peer *peer;
	const char *list;
	struct hlx_fetch *f;
	int64_t now;
	char full[PATH_MAX];                /* PEER/LIST */
	struct hlx_trust *trust;            /* the peer's, verified */
	int trust_new;                      /* longer than the one stored */
	struct hlx_head head;
	int kind;                           /* enum hlx_list_kind */
	struct hlx_pull_keys *keys;         /* for sealed feeds */
};

/*
 * Changes between two versions, collected before they are applied, or
 * applied unit by unit as they come (t set: hlx_hist_check_delta's first
 * half, into a write transaction that is committed only once everything
 * is verified).  A unit's start (a line NULL, see hlx_hist_check_delta)
 * applies the unit before (t set), or is noted in cut (back set: the
 * second half, whose units come last first), or is ignored.
 */
struct delta {
	struct hlx_buf arena;
	size_t *off, n, cap;     /* lines, with a leading '+' or '-' */
	int kind;                /* enum hlx_list_kind */
	uint64_t added, removed;
	void *scratch;           /* hlx_pull_delta_checked's (freed by the owner) */
	int back;                /* note where each unit starts */
	size_t *cut, ncut, cutcap; /* indexes in off of the units' starts */
	struct hlx_store_txn *t; /* apply each unit as it ends */
	uint32_t list;           /* with t: as hlx_pull_apply_delta takes them */
	int retention, fresh;
	int64_t now;
};

/* The lines of the unit in hand applied (d->t set) and forgotten. */
int hlx_pull_delta_flush(struct delta *d);

/* The audience a feed URL names: its path ends in a/ID/ (or a/ID) with ID
 * 32 lowercase hex digits (spec/sync.md section 8); "" for the open feed. */
void hlx_pull_url_audience(const char *url, char out[33]);

/* A file of the feed as fetched: opened if sealed to us (keys/seal.h). */
int hlx_pull_open_sealed(struct pull *p, const char *rel, struct hlx_buf *b,
			 size_t max);

/* The peer's trust chain: the one we hold, extended from its server when
 * the head names a longer one (p->trust, p->trust_new). */
int hlx_pull_peer_trust(struct pull *p);

/* Store the peer's trust chain (once the pull succeeded). */
int hlx_pull_save_trust(struct pull *p);

/* Signature of the head by a key the peer's chain lets sign at issue time. */
int hlx_pull_verify_head(struct pull *p, const struct hlx_buf *body,
			 const struct hlx_buf *sig);

/* Every new commit: consecutive versions back to what we hold, each
 * signed by a key of the peer valid at its time. */
int hlx_pull_verify_commits(struct pull *p, struct hlx_hist *h,
			    const char *have, uint64_t have_version);

/* A hlx_hist_diff callback collecting the delta (ctx: struct delta). */
int hlx_pull_delta_line(void *ctx, const char *line, size_t len, int added);
/* The same, checking first that an added line decodes as the list's
 * kind of record (hlx_hist_check_delta leaves that to it). */
int hlx_pull_delta_checked(void *ctx, const char *line, size_t len, int added);

/* Every line of the delta decodes as the list's kind of record. */
/* The growth check of a peer's cases log (spec/cases.md section 7.2). */
int hlx_pull_check_cases(struct pull *p, struct hlx_hist *h, const char *old,
			 const char *new_);
int hlx_pull_check_delta(const struct delta *d);

/* Apply the delta to the state (retention: record arrival times; fresh:
 * the list holds nothing yet, its entries go in without a lookup).  Each
 * line was decoded when it was checked.  A delta with units noted
 * (d->cut) is applied unit by unit, the last noted first. */
int hlx_pull_apply_delta(struct hlx_store_txn *t, uint32_t list,
			 struct delta *d, int retention, int64_t now, int fresh);

/* Fetch the packs of versions from..to into a staging repository (blobs:
 * where the objects inflated on the way are kept, or NULL).  On success
 * *job is the last pack's indexer, maybe still at work (node/packs.h:
 * finish it before reading staging's own packs), or NULL. */
struct hlx_pack_job;
int hlx_pull_fetch_packs(struct pull *p, const char *staging, uint64_t from,
			 uint64_t to, struct hlx_hist_blobs *blobs,
			 struct hlx_pack_job **job);

/* Finish the indexer *job of the pack of version v (node/packs.h; NULL:
 * nothing), *job NULL after: HLX_OK when the pack is indexed, else the
 * indexer's error, naming the version. */
int hlx_pull_pack_indexed(struct hlx_pack_job **job, uint64_t v);

/* The handling rules of the verified head, kept before the data they
 * govern (rec NULL: a list not held yet). */
int hlx_pull_save_rules(struct pull *p, const struct hlx_list_rec *rec);

#endif
