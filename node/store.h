/* SPDX-License-Identifier: MIT */
/*
 * The node's state in LMDB: lists and the entries of their current
 * versions, derived from the lists' histories (node/history.h) and
 * rebuildable from them.  Format in spec/lists.md, "State".
 *
 * Handles: struct hlx_store (one environment) and struct hlx_store_txn (one
 * write transaction; at most one at a time).  Reads use short read
 * transactions internally, never held across calls.
 */
#ifndef HLX_STORE_H
#define HLX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "protocol/hash.h"

/* A list's full name: NAME for the node's own lists, PEER/NAME for a
 * peer's list mirrored here. */
#define HLX_LIST_NAME_MAX 129

struct hlx_store;
struct hlx_store_txn;

struct hlx_list_rec {
	uint32_t id;                          /* internal, never reused */
	char name[HLX_LIST_NAME_MAX + 1];
	char owner[HLX_LIST_NAME_MAX + 1];    /* organisation */
	uint64_t version;                     /* 0: no version yet */
	char head[41];                        /* commit of version, "" if 0 */
	uint64_t count;                       /* entries in the version */
	int64_t updated;                      /* time of the version */
};

/* List names: NAME or PEER/NAME, each [a-z0-9][a-z0-9._-]{0,63}. */
int hlx_list_name_check(const char *name);

int hlx_store_open(const char *dir, struct hlx_store **out);
void hlx_store_free(struct hlx_store *s);

int hlx_store_list_get(struct hlx_store *s, const char *name,
		       struct hlx_list_rec *out);
int hlx_store_list_by_id(struct hlx_store *s, uint32_t id,
			 struct hlx_list_rec *out);
/* Lists in name order; cb returns non-zero to stop. */
int hlx_store_list_foreach(struct hlx_store *s,
			   int (*cb)(void *ctx, const struct hlx_list_rec *l),
			   void *ctx);
/* A new, empty list (version 0).  HLX_EEXIST if the name is taken. */
int hlx_store_list_create(struct hlx_store *s, const char *name,
			  const char *owner, struct hlx_list_rec *out);
/* The same inside the write transaction t (there only when t commits). */
int hlx_store_list_create_txn(struct hlx_store_txn *t, const char *name,
			      const char *owner, struct hlx_list_rec *out);

int hlx_store_begin(struct hlx_store *s, struct hlx_store_txn **out);
/* Durable on success; the handle is freed either way. */
int hlx_store_commit(struct hlx_store_txn *t);
void hlx_store_abort(struct hlx_store_txn *t);

/* meta: the canonical entry line after the hash field, without its
 * leading TAB and final '\n'.  Up to 400 bytes it is kept as it is; a
 * longer one (a case line, up to HLX_STORE_LINE_MAX) is kept as its
 * digest "sha256=HEX" (hlx_store_digest): compare with hlx_store_meta_eq. */
#define HLX_STORE_LINE_MAX 4096
#define HLX_STORE_DIGEST_LEN 71
void hlx_store_digest(const char *meta, size_t n,
		      char out[HLX_STORE_DIGEST_LEN + 1]);
/* 1 if stored (as hlx_store_get gives it) is what meta is kept as. */
int hlx_store_meta_eq(const char *stored, size_t sn, const char *meta,
		      size_t n);
int hlx_store_put(struct hlx_store_txn *t, uint32_t list,
		  const struct hlx_hash *h, const char *meta, size_t metalen);
/* The same for an h that list does not hold (a list that holds nothing
 * yet): no lookup first.  With h held already, list would hold it twice. */
int hlx_store_put_new(struct hlx_store_txn *t, uint32_t list,
		      const struct hlx_hash *h, const char *meta, size_t metalen);
/* HLX_ENOENT if the list does not hold h. */
int hlx_store_del(struct hlx_store_txn *t, uint32_t list,
		  const struct hlx_hash *h);
/* The stored meta of h in list, into out (reset first); HLX_ENOENT. */
int hlx_store_get(struct hlx_store_txn *t, uint32_t list,
		  const struct hlx_hash *h, struct hlx_buf *out);
int hlx_store_set_list(struct hlx_store_txn *t, const struct hlx_list_rec *l);
/* Remove every entry of a list (for reindex). */
int hlx_store_clear_list(struct hlx_store_txn *t, uint32_t list);

/* Lookups outside a write transaction: for each of n hashes, cb is called
 * once per list that holds it (in list-id order).  One read transaction
 * per call: callers batch (a few thousand hashes a call).  Safe to call
 * from several threads at once on one store (cb runs in the caller's
 * thread); the other functions are not. */
typedef int (*hlx_store_hit_fn)(void *ctx, size_t query, uint32_t list,
				const char *meta, size_t metalen);
int hlx_store_lookup(struct hlx_store *s, const struct hlx_hash *const *q,
		     size_t n, hlx_store_hit_fn cb, void *ctx);

/* The state's key of a hash, as hlx_store_lookup_keys takes it: its
 * length in key[0], then that many bytes (at most HLX_STORE_KEY_MAX - 1).
 * Keys order as their bytes do (memcmp, then the shorter first), which is
 * the order of the hashes' text forms. */
#define HLX_STORE_KEY_MAX 66
size_t hlx_store_key(const struct hlx_hash *h, uint8_t key[HLX_STORE_KEY_MAX]);
/* hlx_store_lookup for n keys of hlx_store_key in ascending order (equal
 * keys may repeat): one cursor walks the state forward, so neighbouring
 * keys cost a search within a page, not from the root.  The same
 * callbacks, the same thread safety; keys out of order are found all the
 * same, only slower. */
int hlx_store_lookup_keys(struct hlx_store *s, const uint8_t *const *keys,
			  size_t n, hlx_store_hit_fn cb, void *ctx);

/*
 * Retention of peers' lists (spec/policy.md): when each entry arrived,
 * and which entries were purged for being past their retention period.
 * A purged entry stays out of the state until its list retracts it; it is
 * remembered only blinded, by a BLAKE2b digest of its key under the
 * node's secret (hlx_store_set_secret; without one, nothing counts as
 * purged and nothing can be purged).
 */
/* The blinding key: BLAKE2b of ctx[0..n) keyed with the node's secret. */
int hlx_store_set_secret(struct hlx_store *s, const uint8_t key[32],
			 const uint8_t *ctx, size_t n);
/* Record when h arrived in list (kept if already recorded). */
int hlx_store_received_put(struct hlx_store_txn *t, uint32_t list,
			   const struct hlx_hash *h, int64_t when);
int hlx_store_received_del(struct hlx_store_txn *t, uint32_t list,
			   const struct hlx_hash *h);
/* Remove from the state every entry of list that arrived at or before
 * cutoff, and record it as purged at now. */
int hlx_store_purge(struct hlx_store_txn *t, uint32_t list, int64_t cutoff,
		    int64_t now, uint64_t *count);
int hlx_store_is_purged(struct hlx_store_txn *t, uint32_t list,
			const struct hlx_hash *h, int *yes);
/* Whether anything of list is marked purged (*yes): when not, no entry
 * of it is, and a caller spares itself a keyed hash an entry. */
int hlx_store_any_purged(struct hlx_store_txn *t, uint32_t list, int *yes);
/* Forget that h was purged (*was: whether it was). */
int hlx_store_unpurge(struct hlx_store_txn *t, uint32_t list,
		      const struct hlx_hash *h, int *was);
/* The blinded digest of h, as the purged table keeps it. */
int hlx_store_purged_digest(struct hlx_store *s, const struct hlx_hash *h,
			    uint8_t out[32]);
/* The digests of the entries purged from list, in order (own read
 * transaction). */
int hlx_store_purged_foreach(struct hlx_store *s, uint32_t list,
			     int (*cb)(void *ctx, const uint8_t digest[32]),
			     void *ctx);

/* Delete a list from the state: its record and id, every entry, arrival
 * and purged mark of it (*entries, may be NULL: the entries deleted).
 * HLX_ENOENT if there is no such list.  Its bytes stay in free pages
 * until hlx_store_compact. */
int hlx_store_list_delete(struct hlx_store_txn *t, const char *name,
			  uint64_t *entries);

/* Number of entries the state holds for list (a full scan: for fsck). */
int hlx_store_count_list(struct hlx_store *s, uint32_t list, uint64_t *count);

/*
 * Rewrite the state database in dir (HOME/state) without its free pages,
 * which still hold the data of deleted entries (spec/prune.md): a
 * compacted copy (mdb_env_copy2 with MDB_CP_COMPACT) is written beside
 * data.mdb, synced and renamed over it.  No handle on dir may be open in
 * this process (free the node first).  It holds LMDB's lock file
 * exclusively meanwhile: HLX_ESTATE if another process has the database
 * open (stop 'hlx run' and retry); a process that opens it meanwhile
 * waits.  *before and *after (may be NULL) get the file sizes.
 */
int hlx_store_compact(const char *dir, uint64_t *before, uint64_t *after);

#endif
