/* SPDX-License-Identifier: MIT */
/*
 * Prune checkpoints (spec/prune.md).
 *
 * When the owner of a list prunes its history before version B, it writes
 * a new history whose first commit (a "checkpoint root", no parent) is
 * version B, and signs a checkpoint saying, for every version B..N that it
 * rewrote, which commit it was (old), which commit it is now (new), its
 * tree (the same in both) and its original time.  Subscribers verify their
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
#define HLX_CHECKPOINT_FORMAT "hlx-checkpoint-1"
/* Most versions a checkpoint lists, and most bytes of a checkpoint file. */
#define HLX_CHECKPOINT_VERSIONS_MAX 100000
#define HLX_CHECKPOINT_MAX (32 * 1024 * 1024)

struct hlx_checkpoint_version {
	uint64_t version;
	char old[41];   /* the commit before the prune, lowercase hex */
	char new_[41];  /* the commit after it */
	char tree[41];  /* the tree of both */
	int64_t time;   /* the original version's time */
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
};

/* An empty checkpoint (no versions); call before filling or parsing. */
void hlx_checkpoint_init(struct hlx_checkpoint *c);
/* Release the versions; c is empty (init'd) afterwards. */
void hlx_checkpoint_free(struct hlx_checkpoint *c);
/* Append one version (the next number: before + n). */
int hlx_checkpoint_add(struct hlx_checkpoint *c,
		       const struct hlx_checkpoint_version *v);
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
 * (reset first).  HLX_ETOOBIG past HLX_CHECKPOINT_MAX bytes or
 * HLX_CHECKPOINT_VERSIONS_MAX versions, HLX_EUNSUPPORTED for another
 * format, HLX_EINVAL for anything else malformed.
 */
int hlx_checkpoint_parse(const char *text, size_t n, struct hlx_checkpoint *c,
			 struct hlx_buf *body, struct hlx_buf *sig);

#endif
