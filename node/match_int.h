/* SPDX-License-Identifier: MIT */
/*
 * What the files of the node's matcher share (not an API: node/match.h
 * is).  match_conf.c: the per-list settings; match_index.c: the index in
 * memory and its files under HOME/match/ (spec/match.md, "Files");
 * match_refresh.c: bringing it up to date from the lists' history diffs;
 * match.c: the matcher's life and the match calls.
 */
#ifndef HLX_MATCH_INT_H
#define HLX_MATCH_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "node/files.h"
#include "node/home.h"
#include "node/match.h"

#define CONF_MAX (1 << 20)
#define LISTS_MAX 1000000u
#define BASE_MAGIC "HLXPDQB1"
#define DELTA_MAGIC "HLXPDQD1"
#define MAGIC_LEN 8
#define ID_LEN 16
#define ALIGN 64
#define COMPACT_MIN 65536
#define LOOKUP_BATCH 4096
#define WINDOW_MAX 65536        /* PDQ queries searched together */
#define WINDOW_MIN 256
#define HITS_TARGET (1u << 21)  /* hits a window aims at */

static inline double hlx_match_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A list's version an index file reflects. */
struct lver {
	uint32_t id;
	uint64_t version;
	char head[41];
};

struct lstate {
	struct hlx_list_rec rec; /* name[0] == 0: no such list */
	struct hlx_match_conf c;
};

struct hlx_matcher {
	struct hlx_node *node;
	char dir[PATH_MAX];
	pthread_rwlock_t lock;      /* match calls (read) vs refresh (write) */
	pthread_mutex_t store_lock; /* the node's store and histories, but
				     * hlx_store_lookup (thread-safe) */
	pthread_mutex_t build_lock; /* building the tables on demand */
	double build_seconds;       /* under build_lock */
	double write_seconds;       /* of which writing pdq.tables */
	unsigned threads;
	int override;               /* -1 or a threshold for every list */
	size_t compact_min;

	/* the base snapshot: mmapped file or malloc'd array */
	uint8_t base_id[ID_LEN];
	void *map;
	size_t maplen;
	uint8_t *owned;
	const uint8_t *base;
	size_t nbase;
	struct hlx_pdqidx *bidx;
	void *tmap;                 /* pdq.tables mapped: bidx's tables */
	size_t tmaplen;
	uint8_t *dead;              /* bit per base hash: removed */
	size_t ndead;
	/* the overlay's additions */
	uint8_t *add;
	size_t nadd;
	struct hlx_pdqidx *didx;
	int have_base;
	/* What a refresh changed and the files do not hold yet: a new base
	 * (with an empty overlay), or the overlay.  A refresh reads, builds
	 * and writes its files (unnamed) without the node's writer lock,
	 * then takes it, checks the lists are still those it read, and puts
	 * them in place; without it the index stays in memory, still dirty.
	 * All under wrlock: never with a search or a lazy build of the
	 * tables. */
	int base_dirty, delta_dirty;

	struct lver *ver;           /* versions indexed, by id */
	size_t nver;
	struct lstate *lists;       /* by id - 1 */
	size_t nlists;
	unsigned radius;            /* largest threshold in use */

	struct hlx_match_status st;
	atomic_uint_fast64_t queries, pdq_queries, matches, scanned;
	atomic_size_t window;       /* PDQ queries per search window */
};

static inline int hlx_match_is_dead(const struct hlx_matcher *m, size_t i)
{
	return m->dead[i / 8] >> (i % 8) & 1;
}

/* ---- match_index.c ---------------------------------------------------- */

/* Sort n hashes of 32 bytes and drop duplicates; returns the new count. */
size_t hlx_match_sort_unique(uint8_t *a, size_t n);
/* Index of h in the sorted array a[0..n), or -1. */
ptrdiff_t hlx_match_find32(const uint8_t *a, size_t n, const uint8_t *h);
/* The node's writer lock for writing the index files, taken without
 * waiting: 1 and *fd (-1 when the node holds it), or 0 when it is not to
 * be had now (held by
 * another process, a home this user may not write): the index then stays
 * in memory only.  hlx_match_unlock releases what it took. */
int hlx_match_trylock(struct hlx_matcher *m, int *fd);
void hlx_match_unlock(struct hlx_matcher *m, int fd);
/* Add to the status note (after "; " when it has one already). */
void hlx_match_note(struct hlx_matcher *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* HOME/match, made when create. */
int hlx_match_dir(struct hlx_node *n, char out[PATH_MAX], int create);
/* Remove the temporary files of writers that died before their rename. */
void hlx_match_clean_temporaries(const char *dir);
/* Drop the base, the overlay and their tables. */
void hlx_match_base_drop(struct hlx_matcher *m);
/* A fresh bit per base hash (none removed). */
int hlx_match_dead_alloc(struct hlx_matcher *m);
void hlx_match_set_dead(struct hlx_matcher *m, size_t i, int v);
/* The versions indexed: a copy of l[0..n). */
int hlx_match_versions_set(struct hlx_matcher *m, const struct lver *l,
			   size_t n);
/* Load pdq.base and, if it applies to it, pdq.delta. */
int hlx_match_load_files(struct hlx_matcher *m);
/* The base's search tables (m->bidx, which is NULL): pdq.tables mapped
 * when it holds this base's, else built here, written there (while
 * pdq.base is still this base) and mapped; or, when it cannot be
 * written, kept in memory. */
int hlx_match_base_tables(struct hlx_matcher *m);
/* A file of the index written whole, unnamed (O_TMPFILE) and without the
 * writer lock, or named (a temporary name) under it where the file
 * system has no unnamed files; put in place by a commit, under the lock. */
struct hlx_match_pending {
	struct hlx_file_new w;
	int ready;                  /* written, not in place yet */
};
/* Write pdq.base, pdq.delta (for the versions m holds) or pdq.tables (the
 * base's tables m built, when it has some to share: else nothing, and
 * HLX_OK), unnamed, or named when named: *pd is ready on success.
 * HLX_EUNSUPPORTED when unnamed files cannot be made here; another
 * failure is noted in the status, and the part stays dirty. */
int hlx_match_prepare_base(struct hlx_matcher *m, int named,
			   struct hlx_match_pending *pd);
int hlx_match_prepare_delta(struct hlx_matcher *m, int named,
			    struct hlx_match_pending *pd);
int hlx_match_prepare_tables(struct hlx_matcher *m, int named,
			     struct hlx_match_pending *pd);
/* Under the writer lock (hlx_match_trylock), the lists checked: put a
 * ready file in place and clear its dirty flag.  A new base removes the
 * old pdq.delta and pdq.tables; new tables, and an overlay, are put in
 * place only while pdq.base holds this base (tables are then mapped from
 * there).  What is not put in place is noted.  No-ops when *pd is not
 * ready. */
void hlx_match_commit_base(struct hlx_matcher *m, struct hlx_match_pending *pd);
void hlx_match_commit_tables(struct hlx_matcher *m, struct hlx_match_pending *pd);
void hlx_match_commit_delta(struct hlx_matcher *m, struct hlx_match_pending *pd);
/* Drop a file not put in place (nothing when it is not ready). */
void hlx_match_pending_abort(struct hlx_match_pending *pd);

/* ---- match.c ---------------------------------------------------------- */

/* The tables of the base and the overlay, if not built yet.  Callers hold
 * the read or the write lock. */
int hlx_match_ensure_tables(struct hlx_matcher *m);

/* ---- match_conf.c ----------------------------------------------------- */

/* Every list's settings (sorted by name), from match/config.json. */
int hlx_match_conf_load(struct hlx_node *n, struct hlx_match_conf_entry **e,
			size_t *ne);
/* The settings of list in e[0..n), or NULL. */
const struct hlx_match_conf *
hlx_match_conf_find(const struct hlx_match_conf_entry *e, size_t n,
		    const char *list);

/* ---- match_refresh.c -------------------------------------------------- */

/* Refresh (or rebuild) under the write lock; the status into st if set. */
int hlx_match_do_refresh(struct hlx_matcher *m, int rebuild,
			 struct hlx_match_status *st);

#endif
