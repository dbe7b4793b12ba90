/* SPDX-License-Identifier: MIT */
/*
 * Prune checkpoints (spec/prune.md).
 *
 * When the owner of a list prunes its history before version B, it writes
 * a new history whose first commit (a "checkpoint root", no parent) is
 * version B, and signs a checkpoint saying, for every version B..N that it
 * rewrote, which commit it was (old), which commit it is now (new), its
 * tree (the same in both) and its original time.  It also lists the
 * commits the list's earlier histories had and the new one does not (the
 * versions pruned away now, and those that earlier prunes replaced): a
 * subscriber holding one of those continues into the new history; one
 * holding any other commit holds a fork.  Subscribers verify their
 * continuity against it.
 *
 * The body is canonical JSON (compact, members sorted, ASCII), signed in
 * the SSHSIG format with namespace "hlx-checkpoint"; the file is
 * {"body": BODY, "signature": ARMOR}, as heads are (protocol/head.h).
 *
 * This module only encodes and parses (pure, no I/O).  Verifying the
 * signature against a trust chain is node/prune.h's business.
 */
#ifndef HLX_CHECKPOINT_H
#define HLX_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "protocol/head.h"

#define HLX_CHECKPOINT_NAMESPACE "hlx-checkpoint"
#define HLX_CHECKPOINT_FORMAT "hlx-checkpoint-2"
/* Most versions a checkpoint lists, and most bytes of a checkpoint file. */
#define HLX_CHECKPOINT_VERSIONS_MAX 100000
#define HLX_CHECKPOINT_MAX (32 * 1024 * 1024)
/* Most commits of earlier histories a checkpoint lists ('prior'), and
 * most runs (consecutive versions) they are written in.  With 100,000
 * versions, the largest checkpoint is about 31 MB: under the 32 MiB. */
#define HLX_CHECKPOINT_PRIOR_MAX 150000
#define HLX_CHECKPOINT_RUNS_MAX 1000

struct hlx_checkpoint_version {
	uint64_t version;
	char old[41];   /* the commit before the prune, lowercase hex */
	char new_[41];  /* the commit after it */
	char tree[41];  /* the tree of both */
	int64_t time;   /* the original version's time */
};

/* A commit an earlier history of the list had for a version, and the
 * new history has not. */
struct hlx_checkpoint_prior {
	uint64_t version;
	char commit[41];
};

struct hlx_checkpoint {
	char org[HLX_NAME_MAX + 1];
	char list[HLX_NAME_MAX + 1];
	uint64_t before;  /* versions < before were pruned; >= 2 */
	int64_t issued;   /* when the checkpoint was signed */
	/* versions before, before+1, ..., before+n-1, in order; n >= 1.
	 * Owned by the struct (malloc'd): hlx_checkpoint_free releases it. */
	struct hlx_checkpoint_version *v;
	size_t n;
	/* the commits of earlier histories ('prior'), oldest history first,
	 * each history's by version; runs of consecutive versions are one
	 * JSON run.  0 to HLX_CHECKPOINT_PRIOR_MAX of them, every version at
	 * most the last the checkpoint covers.  Owned (malloc'd). */
	struct hlx_checkpoint_prior *prior;
	size_t nprior;
};

/* An empty checkpoint (no versions); call before filling or parsing. */
void hlx_checkpoint_init(struct hlx_checkpoint *c);
/* Release the versions; c is empty (init'd) afterwards. */
void hlx_checkpoint_free(struct hlx_checkpoint *c);
/* Append one version (the next number: before + n). */
int hlx_checkpoint_add(struct hlx_checkpoint *c,
		       const struct hlx_checkpoint_version *v);
/* Append one commit of an earlier history (HLX_ETOOBIG past
 * HLX_CHECKPOINT_PRIOR_MAX). */
int hlx_checkpoint_add_prior(struct hlx_checkpoint *c, uint64_t version,
			     const char *commit);
/* Does the checkpoint list commit as one an earlier history had for
 * version?  1 or 0. */
int hlx_checkpoint_prior_has(const struct hlx_checkpoint *c, uint64_t version,
			     const char *commit);
/* The runs the prior commits make (a run: consecutive versions). */
size_t hlx_checkpoint_prior_runs(const struct hlx_checkpoint_prior *p, size_t n);
/* Where the newest of n prior commits p[] that fit the bounds start: the
 * last HLX_CHECKPOINT_PRIOR_MAX commits at most, in the last
 * HLX_CHECKPOINT_RUNS_MAX runs at most (a prune leaves the oldest out). */
size_t hlx_checkpoint_prior_keep(const struct hlx_checkpoint_prior *p, size_t n);
/* The entry of a version, or NULL when the checkpoint does not cover it. */
const struct hlx_checkpoint_version *
hlx_checkpoint_find(const struct hlx_checkpoint *c, uint64_t version);

/* Check every field (names, numbers, hex, times, consecutive versions). */
int hlx_checkpoint_validate(const struct hlx_checkpoint *c);
/* Append the canonical body (validated first; no newline). */
int hlx_checkpoint_body(const struct hlx_checkpoint *c, struct hlx_buf *out);
/* Append the file: {"body":...,"signature":...} and a newline. */
int hlx_checkpoint_file(const char *body, size_t bodylen, const char *armor,
			size_t armorlen, struct hlx_buf *out);
/*
 * Parse a checkpoint file: the body into c (which must be init'd or
 * freed; it is replaced only on success), validated, canonical form
 * required; the body and signature text are copied into body and sig
 * (reset first).  HLX_ETOOBIG past HLX_CHECKPOINT_MAX bytes,
 * HLX_CHECKPOINT_VERSIONS_MAX versions, HLX_CHECKPOINT_PRIOR_MAX prior
 * commits or HLX_CHECKPOINT_RUNS_MAX runs, HLX_EUNSUPPORTED for another
 * format, HLX_EINVAL for anything else malformed.
 */
int hlx_checkpoint_parse(const char *text, size_t n, struct hlx_checkpoint *c,
			 struct hlx_buf *body, struct hlx_buf *sig);

#endif
