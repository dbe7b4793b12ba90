/* SPDX-License-Identifier: MIT */
/*
 * List histories: one bare git repository per list, one signed commit per
 * version (spec/lists.md).
 *
 * The tree of a version holds the list's canonical entry lines
 * (protocol/record.h) sharded by hash: "TYPE/ab/cd" holds the lines whose
 * hash field is "TYPE:abcd...", sorted by hash field (byte order), one line
 * per hash; only non-empty shards exist.  Each commit is signed in the
 * SSHSIG format in its "gpgsig" header, so that `git log --show-signature`
 * with gpg.format=ssh verifies it, and carries its version number in an
 * "Hlx-Version:" trailer: 1 for the first version, then parent's + 1
 * (a pruned history starts at a checkpoint root: see below).
 *
 * struct hlx_hist is an opaque handle on one repository; it is not safe to
 * use one handle from two threads at once.  Writing a version is two steps:
 * hlx_hist_commit() writes the objects durably (one pack) and returns the
 * commit id without moving anything; the caller records its state, then
 * moves the branch with hlx_hist_set_head().
 *
 * Every function returns HLX_OK or a negative HLX_E* code with a detail:
 * HLX_EHISTORY carries libgit2's message; HLX_ENOENT for an unknown commit,
 * a missing version or an empty history; HLX_EINVAL for malformed
 * arguments and for repository content that breaks the format.  Callbacks
 * return 0 to go on; any other value stops the walk and is returned as is.
 * Pointers passed to callbacks are valid only during the call.
 */
#ifndef HLX_HISTORY_H
#define HLX_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"

#define HLX_HIST_BRANCH "refs/heads/main"
/* Longest version summary, in bytes (printable ASCII, no newline). */
#define HLX_HIST_SUMMARY_MAX 127
/* Longest organisation and list names ([a-z0-9][a-z0-9._-]*). */
#define HLX_HIST_NAME_MAX 64
/* Latest version time accepted: 9999-12-31T23:59:59Z. */
#define HLX_HIST_TIME_MAX 253402300799LL

struct hlx_hist;
struct hlx_hist_blobs;

/* git_libgit2_init(), once for good the first time (libgit2 then stays
 * set up for the process: its setup is costly); pair with
 * git_libgit2_shutdown() as usual.  <0 on failure. */
int hlx_hist_git_init(void);
/* Whether libgit2 hashes every object it reads again, process-wide: off
 * from the first init (as git, which hashes objects when it indexes or
 * writes them), on for fsck. */
void hlx_hist_verify_reads(int on);

/*
 * Open the bare repository at path.  With create, a missing repository is
 * initialised (bare, HEAD -> refs/heads/main, directories made as needed);
 * without, it is HLX_ENOENT.  Also turns on libgit2's fsync of everything
 * it writes in a git directory (process-wide).  *out is NULL on failure.
 */
int hlx_hist_open(const char *path, int create, struct hlx_hist **out);
void hlx_hist_free(struct hlx_hist *h);

/*
 * One change.  A put carries a full canonical entry line, '\n' included,
 * and adds the entry or replaces the line with the same hash field.  A
 * retraction carries only the hash field text ("md5:..."), no '\n'.
 */
struct hlx_hist_op {
	const char *line;
	size_t len;
	int retract;
};

struct hlx_hist_meta {
	const char *org;     /* owner: author and committer name */
	const char *list;    /* list name */
	uint64_t version;    /* must be the parent's + 1, or 1 */
	int64_t time;        /* seconds since the epoch, UTC */
	const char *summary; /* e.g. "import: 1000 added" */
};

/*
 * Sign data[0..n): append an armored SSHSIG signature (namespace "git") to
 * armored and return HLX_OK, or an error that aborts the commit.
 */
typedef int (*hlx_hist_sign_fn)(void *ctx, const uint8_t *data, size_t n,
				struct hlx_buf *armored);

/*
 * Write a new version on top of the current head (or as the first
 * version) and put its commit id (40 lowercase hex digits and a NUL) in
 * oid.  The branch is NOT moved.  ops[0..n) must be sorted by hash field
 * (byte order) with no hash twice (else HLX_EINVAL); retracting an absent
 * hash is HLX_ENOENT.  On failure nothing is written.  n may be 0 (a
 * version with the parent's content).
 */
int hlx_hist_commit(struct hlx_hist *h, const struct hlx_hist_op *ops,
		    size_t n, const struct hlx_hist_meta *m,
		    hlx_hist_sign_fn sign, void *ctx, char oid[41]);

/*
 * Make commit oid, which another history (the repository at from) wrote
 * with hlx_hist_commit on the commit that is h's head (or as its first
 * version), a commit of h too: the pack that commit wrote is linked (not
 * copied) into h's objects/pack, so both histories hold its objects once.
 * The branch is NOT moved.  HLX_ENOENT when from has no such pack.
 */
int hlx_hist_adopt(struct hlx_hist *h, const char *from, const char *oid);

/*
 * Move refs/heads/main from expected (NULL: the branch must not exist yet)
 * to oid, atomically and durably.  HLX_ESTATE if the branch is not at
 * expected; HLX_ENOENT if oid is not a commit of this repository.
 */
int hlx_hist_set_head(struct hlx_hist *h, const char *expected,
		      const char *oid);
/* The branch's commit; HLX_ENOENT when the list has no version yet. */
int hlx_hist_head(struct hlx_hist *h, char oid[41]);

struct hlx_hist_version {
	char oid[41];
	char parent[41]; /* "" for the first version */
	uint64_t version;
	int64_t time;
	char summary[HLX_HIST_SUMMARY_MAX + 1];
};

/*
 * A version's metadata.  Checks the commit's form (one parent at most,
 * author and committer, message and trailers) and that its version is
 * its parent's + 1 (1 without a parent); HLX_EINVAL otherwise.
 */
int hlx_hist_read_version(struct hlx_hist *h, const char *oid,
			  struct hlx_hist_version *out);
/* The history from the head back to version 1, newest first.  An empty
 * history calls nothing and returns HLX_OK. */
int hlx_hist_log(struct hlx_hist *h,
		 int (*cb)(void *ctx, const struct hlx_hist_version *v),
		 void *ctx);
/* The version numbered version in the head's history; HLX_ENOENT. */
int hlx_hist_find_version(struct hlx_hist *h, uint64_t version,
			  struct hlx_hist_version *out);

/* Every entry line of a version ('\n' included), in order: type
 * directories, then shards, then lines, each in byte order. */
int hlx_hist_foreach(struct hlx_hist *h, const char *oid,
		     int (*cb)(void *ctx, const char *line, size_t len),
		     void *ctx);

/*
 * The lines that differ between two versions (old NULL: the empty list),
 * shard by shard, in hash order within a shard: a removed line with
 * added 0, a new line with added 1, a changed entry as both (removed
 * first).  Only the shards whose blobs differ are read.
 */
int hlx_hist_diff(struct hlx_hist *h, const char *old, const char *new_,
		  int (*cb)(void *ctx, const char *line, size_t len,
			    int added),
		  void *ctx);

/*
 * The armored signature of a commit (the "gpgsig" header) and the bytes
 * it signs (the commit without that header).  Both buffers are reset
 * first.  HLX_EBADSIG if the commit is unsigned.
 */
int hlx_hist_signature(struct hlx_hist *h, const char *oid,
		       struct hlx_buf *sig, struct hlx_buf *signed_data);

/*
 * Check the whole history from the head (fsck): every commit signed, with
 * at most one parent, well-formed metadata, the same list and owner
 * throughout, versions numbered 1, 2, 3...; every tree of the right shape
 * (TYPE/ab/cd, known hash types, no other entries, no empty shard or
 * directory) and every shard holding canonical entry lines in the right
 * shard, strictly sorted by hash.  Only what changed from the parent is
 * read, so the cost is that of all the changes, not of all the versions.
 * The first defect found gives HLX_EINVAL with a detail naming the
 * version and the path.  It does not verify signatures (see
 * hlx_hist_signature).  An empty history is fine.
 */
int hlx_hist_check_chain(struct hlx_hist *h);

/*
 * New versions received on top of the version held (old; NULL: none),
 * checked as hlx_hist_check_chain checks a history (new_ back to old,
 * not old itself, which was checked when it came), and their difference
 * given to cb as hlx_hist_diff gives it.  When new_ is old's child (the
 * usual pull), one reading of the changed shards does both: a line held
 * already is only checked for its place, so cb must check the form of
 * every added line (it is given each line the held version lacks).
 * With several versions, each is checked whole, then cb gets the
 * difference.  The commits' signatures are not verified here.
 * With ctx2, the one version's shards are read in two halves on two
 * threads, cb called with ctx for the first half's lines (from the
 * calling thread) and ctx2 for the second's (from another).  The shards
 * come in units (the shards of one TYPE/ab directory), and before each
 * unit's lines cb is called with line NULL (len 0, added 0): a unit
 * starts.  The first half's units come in order, the second half's in
 * reverse order (each unit's lines in order), and every unit of the
 * first half comes before every unit of the second: ctx's lines, then
 * ctx2's units taken last to first, are the difference in order.  The
 * halves are not of fixed size: each takes the next unit when it is
 * done with one.  Several versions give every line to ctx, with no unit
 * marks.
 * blobs (NULL: none) holds shards already inflated by id (below): one
 * found there is not read from the object store again.
 */
int hlx_hist_check_delta(struct hlx_hist *h, const char *old, const char *new_,
			 int (*cb)(void *ctx, const char *line, size_t len,
				   int added),
			 void *ctx, void *ctx2,
			 const struct hlx_hist_blobs *blobs);

/*
 * Blobs by id, as the bounded scan of a received pack inflated them
 * (node/packs.h): the check of a delta takes a shard from here instead of
 * inflating it from the pack a second time.  An id is the hash of the
 * blob's content (git_odb_hash), computed here, so a blob found by id is
 * the object the history names.  At most budget bytes are held, the
 * table of ids included (so that many tiny blobs cannot grow it past the
 * budget); what does not fit is read from the object store as before.  Filled from one
 * thread, then read from any number.  It holds the commits and trees of
 * the pack as well as its blobs (type: git's number of the kind, 1 a
 * commit, 2 a tree, 3 a blob, as in a pack), so that, whole, it can
 * serve a history's reading before the pack is indexed
 * (hlx_hist_blobs_serve).
 */
int hlx_hist_blobs_new(size_t budget, struct hlx_hist_blobs **out);
void hlx_hist_blobs_free(struct hlx_hist_blobs *b);
/* A buffer for an object of n bytes, counted against the budget (NULL:
 * over it, or out of memory); then exactly one of keep (filled: hashed
 * and kept) or drop (not kept).  Anything offered and not kept (no buffer,
 * dropped, a second copy of one held) leaves the store not whole. */
void *hlx_hist_blobs_reserve(struct hlx_hist_blobs *b, size_t n);
void hlx_hist_blobs_keep(struct hlx_hist_blobs *b, void *p, size_t n,
			 int type);
void hlx_hist_blobs_drop(struct hlx_hist_blobs *b, void *p, size_t n);
/* Bytes held, the objects and their table (at most the budget, but for
 * the first table of 1,024 slots), and the number of objects kept. */
size_t hlx_hist_blobs_memory(const struct hlx_hist_blobs *b);
size_t hlx_hist_blobs_count(const struct hlx_hist_blobs *b);
/* 1 when every object offered was kept (none over the budget or
 * refused), 0 otherwise or for NULL. */
int hlx_hist_blobs_whole(const struct hlx_hist_blobs *b);
/* Put b in front of h's object store: h reads the objects b holds from
 * b (each hashed when kept, so the object named), and the rest from its
 * store as before.  Freeing b first takes it out again (it then answers
 * "not found"); h and b must be used and freed on one thread at a time,
 * and b no longer filled.  Used to read a received pack's commits and
 * trees while libgit2 still indexes it. */
int hlx_hist_blobs_serve(struct hlx_hist *h, struct hlx_hist_blobs *b);

/*
 * Every object of h's object store that the branch does not reach
 * (spec/sync.md: a mirror keeps only what was verified): cb is called for
 * each of the first max of them with its id and type name; *n counts all.
 * Not counted (*left counts them): what an interrupted change left, a
 * commit whose one parent is on the branch (or is such a commit) and that
 * keep (given its id) returns HLX_OK for, and what it reaches.
 */
int hlx_hist_unreachable(struct hlx_hist *h, size_t max,
			 void (*cb)(void *ctx, const char *oid,
				    const char *type),
			 void *ctx, int (*keep)(void *ctx, const char *oid),
			 void *kctx, uint64_t *n, uint64_t *left);

/*
 * Checkpoint roots (spec/prune.md).  A pruned history starts at a version
 * B > 1 whose commit has no parent and carries one more trailer after
 * "Hlx-Version: B": "Hlx-Checkpoint: C", C being the id of the commit of
 * version B it replaces.  Every reader above accepts such a root (and no
 * other parentless commit numbered above 1, nor the trailer on a commit
 * with a parent).
 *
 * hlx_hist_commit_info: the tree of a version (40 hex digits and a NUL)
 * and, for a checkpoint root, the commit it replaces ("" otherwise).
 */
int hlx_hist_commit_info(struct hlx_hist *h, const char *oid, char tree[41],
			 char replaces[41]);

/* Most versions a prune keeps (the checkpoint lists them all). */
#define HLX_HIST_REWRITE_MAX 100000

/* One version of a rewritten history. */
struct hlx_hist_rewritten {
	uint64_t version;
	char old[41];   /* its commit in h */
	char new_[41];  /* its commit in the new repository */
	char tree[41];  /* the tree of both */
	int64_t time;   /* its time in h */
};

/*
 * Prune: write into dest, a new repository (created; if it exists it must
 * have no version yet), versions before..head of h as a new history:
 * version before as a checkpoint root replacing its commit in h, each
 * later version on top of the previous new one, with the same trees,
 * summaries and numbers, all dated time and signed by sign.  Only the
 * objects reachable from the new commits are written (one pack, synced),
 * then dest's branch is set to the new head.  h is not modified.  *out
 * (malloc'd, *n entries, oldest first) maps every version kept.
 * HLX_EINVAL unless 2 <= before <= the head's version and the history
 * goes back past before; HLX_ETOOBIG past HLX_HIST_REWRITE_MAX versions.
 * On failure dest may hold objects: the caller removes it.
 */
int hlx_hist_rewrite(struct hlx_hist *h, uint64_t before, const char *dest,
		     int64_t time, hlx_hist_sign_fn sign, void *ctx,
		     struct hlx_hist_rewritten **out, size_t *n);

/* The configuration that packing handles add on top of a repository's: no
 * delta search (see history.c, "Packing"); node/packs.c uses it too. */
#define HLX_HIST_PACK_CONFIG "hlx-pack.config"
#define HLX_HIST_PACK_CONFIG_TEXT                                           \
	"# hlx: packing a new version never looks for deltas (spec/lists.md)\n" \
	"[core]\n\tbigFileThreshold = 1\n[pack]\n\tdeltaCacheSize = 1\n"

#endif
