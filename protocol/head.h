/* SPDX-License-Identifier: MIT */
/*
 * Signed heads of published feeds (spec/sync.md, "Heads").
 *
 * A head says: list L of organisation O is at version V, commit C; issued
 * at I, valid until E; signed under the trust chain of length N whose last
 * statement hashes to T.  Its body is canonical JSON (as trust statements
 * are), signed in the SSHSIG format with namespace "hlx-head".  The file
 * is {"body": BODY, "signature": ARMOR}.
 *
 * A head may carry the handling rules of the list (spec/policy.md): the
 * optional member "rules", present iff has_rules; heads without it parse
 * as they always did.
 *
 * This module only encodes and parses (pure, no I/O); the signature is
 * checked by the caller against the peer's trust chain.
 */
#ifndef HLX_HEAD_H
#define HLX_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "protocol/policy.h"

#define HLX_HEAD_NAMESPACE "hlx-head"
#define HLX_HEAD_MAX 16384     /* bytes of a head file */
#define HLX_NAME_MAX 64        /* organisation and list names */

struct hlx_head {
	char org[HLX_NAME_MAX + 1];
	char list[HLX_NAME_MAX + 1];
	uint64_t version;        /* >= 1 */
	char commit[41];         /* lowercase hex */
	int64_t issued, expires; /* issued < expires */
	uint64_t trust_length;   /* statements in the signer's trust chain */
	char trust_head[65];     /* SHA-256 of its last statement, hex */
	int has_rules;           /* 1: the body carries "rules" */
	struct hlx_rules rules;  /* handling rules of the list (policy.h) */
	char audience[33];       /* the audience's feed (a/ID/), 32 lowercase
				  * hex digits, or "" (the open feed) */
};

/* Names of organisations and lists: [a-z0-9][a-z0-9._-]{0,63}. */
int hlx_name_check(const char *s, size_t n, const char *what);

/* Append the canonical body (no newline). */
int hlx_head_body(const struct hlx_head *h, struct hlx_buf *out);
/* Append the head file: {"body":...,"signature":...} and a newline. */
int hlx_head_file(const char *body, size_t bodylen, const char *armor,
		  size_t armorlen, struct hlx_buf *out);

/* Parse a head file: the body (into h, validated, canonical form required)
 * and where the body and signature text are (copied into body and sig). */
int hlx_head_parse(const char *text, size_t n, struct hlx_head *h,
		   struct hlx_buf *body, struct hlx_buf *sig);

#endif
