/* SPDX-License-Identifier: MIT */
/*
 * What the files of the list histories share (not an API: node/history.h
 * is).  history.c: opening, commit metadata, the version chain;
 * history_write.c: writing a version; history_read.c: reading versions
 * and checking a history; history_prune.c: reachability and the prune
 * rewrite (spec/prune.md).
 */
#ifndef HLX_HISTORY_INT_H
#define HLX_HISTORY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <git2.h>

#include "node/history.h"
#include "protocol/buf.h"

#define EMAIL_DOMAIN "hlx.invalid"
/* The trailer of a checkpoint root (spec/prune.md). */
#define CHECKPOINT_TRAILER "Hlx-Checkpoint: "
/* Tree levels: root (hash types), TYPE (first byte), TYPE/ab (shards). */
#define LEVEL_SHARDS 2

struct hlx_hist {
	git_repository *repo;
	git_odb *odb;
	git_odb_backend *mempack; /* owned by odb */
	int pack_config;          /* PACK_CONFIG added to repo's */
};

/* A commit's metadata, as hlx_hist_parse_commit reads it. */
struct cmeta {
	struct hlx_hist_version v;
	char org[HLX_HIST_NAME_MAX + 1];
	char list[HLX_HIST_NAME_MAX + 1];
	git_oid parent;
	int has_parent;
	/* a checkpoint root (spec/prune.md): the commit it replaces */
	char checkpoint[41];
};

/* What a hlx_hist_walk callback returns to stop: the version looked for
 * is found, or passed (the chain is below it). */
#define FOUND 1
#define PASSED 2

/* A version holds entry lines, or status lines for a status log: a line
 * must be one or the other in its canonical form. */
int hlx_hist_decode_line(const char *line, size_t n);

/*
 * The name of a checked hash field's directory or file at a tree level:
 * "md5", "ab" or "cd".  Type names are short: the colon comes early.
 */
void hlx_hist_field_key(const char *f, size_t fn, int level, const char **k,
			size_t *kn);

void hlx_hist_fmt_oid(const git_oid *oid, char out[41]);

__attribute__((format(printf, 1, 2)))
int hlx_hist_gerr(const char *fmt, ...);

int hlx_hist_key_eq(const char *a, size_t an, const char *b, size_t bn);

/* Organisation and list names: [a-z0-9][a-z0-9._-]{0,63}. */
int hlx_hist_name_check(const char *s, const char *what);

int hlx_hist_parse_oid(const char *s, git_oid *oid, const char *what);

int hlx_hist_summary_check(const char *s, size_t n);

int hlx_hist_is_lhex(int c);

int hlx_hist_build_message(struct hlx_buf *b, const char *list, uint64_t v,
			   const char *summary, size_t sn);

int hlx_hist_head_oid(struct hlx_hist *h, git_oid *oid);
/* The same, but a history without a version yet is 1 (no error left
 * standing) rather than HLX_ENOENT. */
int hlx_hist_head_opt(struct hlx_hist *h, git_oid *oid);

int hlx_hist_lookup_commit(struct hlx_hist *h, const git_oid *oid,
			   git_commit **c);

/* The form of one commit; the version chain is checked by the callers. */
int hlx_hist_parse_commit(git_commit *c, struct cmeta *out);

/* child's version must follow parent's (or be 1 without a parent, or
 * more than 1 for a checkpoint root, which has no parent). */
int hlx_hist_check_number(const struct cmeta *child, const struct cmeta *parent);

/* Walk the first-parent chain from the head, checking the numbering. */
int hlx_hist_walk(struct hlx_hist *h,
		  int (*cb)(void *ctx, const struct cmeta *m), void *ctx);

/*
 * Write ids[0..n) (in the mempack) as one pack in objects/pack.  The
 * indexer checks every object and fsyncs pack, index and directory before
 * renaming them into place (GIT_OPT_ENABLE_FSYNC_GITDIR).
 */
int hlx_hist_flush_objects(struct hlx_hist *h, const git_oid *ids, size_t n);

#endif
