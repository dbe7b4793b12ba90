/* SPDX-License-Identifier: MIT */
/*
 * Matching (spec/match.md): query hashes against every list of the node,
 * exactly for the cryptographic and other exact hash types, and by Hamming
 * distance for PDQ.
 *
 * Three layers, each usable on its own:
 *
 *   struct hlx_pdqidx  an immutable in-memory PDQ index (multi-index
 *                      hashing) over an array of 32-byte hashes: build
 *                      once, then search from any number of threads.
 *   hlx_match_conf_*   the per-list settings: the PDQ threshold, and
 *                      whether the list is an allow-list.
 *   struct hlx_matcher the node's match index: every PDQ hash of every
 *                      list, persisted under the node home (match/) with
 *                      the list versions it reflects, brought up to date
 *                      from the lists' history diffs, plus the exact
 *                      lookups, allow-lists and per-list thresholds.
 *
 * Every fallible function returns HLX_OK or a negative HLX_E* code with an
 * hlx_err() detail.  libsodium must be initialised (sodium_init) first.
 */
#ifndef HLX_MATCH_H
#define HLX_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "node/lists.h"
#include "protocol/buf.h"
#include "protocol/hash.h"
#include "protocol/record.h"

#define HLX_PDQ_BYTES 32
/* A PDQ match is a Hamming distance of at most the threshold. */
#define HLX_MATCH_THRESHOLD_DEFAULT 31
/* Thresholds above 31 are exact too, but slower (see spec/match.md). */
#define HLX_MATCH_THRESHOLD_MAX 63
#define HLX_MATCH_THREADS_MAX 64
/* Most hashes one PDQ index holds. */
#define HLX_PDQIDX_MAX 0xfffffff0UL
/* An index of fewer hashes has no tables: it is scanned. */
#define HLX_PDQIDX_TABLES_MIN 2048

/* ---- the PDQ index ------------------------------------------------------ */

struct hlx_pdqidx;

/*
 * Index n hashes of 32 bytes each at hashes[0 .. 32n).  The array is
 * borrowed: it must stay valid and unchanged until hlx_pdqidx_free.  It
 * need not be sorted (sorted, from HLX_PDQIDX_WIDE_MIN hashes, it is
 * indexed in the wide layout, below); a hash given twice is found twice.
 * threads (0 or 1: the calling thread only) share the tables being built.
 */
int hlx_pdqidx_build(const uint8_t *hashes, size_t n, unsigned threads,
		     struct hlx_pdqidx **out);
/*
 * The layout of the tables (spec/match.md, "The PDQ index"): 16 tables of
 * 16-bit chunks (288 bytes a hash), or for large indexes the wide layout
 * of 11 chunks (about 160 bytes a hash), which wants strictly increasing
 * hashes.  hlx_pdqidx_build chooses the wide layout from
 * HLX_PDQIDX_WIDE_MIN hashes when they are strictly increasing;
 * hlx_pdqidx_build_layout takes the choice (HLX_EINVAL for the wide layout
 * over hashes that are not strictly increasing).  An index under
 * HLX_PDQIDX_TABLES_MIN hashes has no tables in any layout.
 */
#define HLX_PDQIDX_WIDE_MIN 33554432UL /* 2^25 */
enum {
	HLX_PDQ_LAYOUT_AUTO,
	HLX_PDQ_LAYOUT_16,
	HLX_PDQ_LAYOUT_WIDE,
	HLX_PDQ_LAYOUT_SCAN /* (as hlx_pdqidx_layout says of a small index) */
};
int hlx_pdqidx_build_layout(const uint8_t *hashes, size_t n,
			    unsigned threads, int layout,
			    struct hlx_pdqidx **out);
int hlx_pdqidx_layout(const struct hlx_pdqidx *x);
void hlx_pdqidx_free(struct hlx_pdqidx *x);
size_t hlx_pdqidx_count(const struct hlx_pdqidx *x);
/* Bytes used: the tables, plus the borrowed hashes (32 each). */
size_t hlx_pdqidx_memory(const struct hlx_pdqidx *x);
/* What hlx_pdqidx_memory will say of an index of n hashes once built. */
size_t hlx_pdqidx_memory_for(size_t n);

/*
 * The search tables as a file image, so that processes share one copy
 * through the page cache instead of each building its own: a header of
 * HLX_PDQIDX_HEAD bytes, written into head, then the tables, *tables[0 ..
 * *len) (the index's own memory: valid until hlx_pdqidx_free).  Write both,
 * in that order, to a file.  tag names the hash array (16 bytes of the
 * caller's: hlx_pdqidx_attach wants the same).  The image holds the
 * machine's byte order, and is only good on a machine of the same.  An
 * index under 2,048 hashes has no tables: HLX_ENOENT.
 */
#define HLX_PDQIDX_HEAD 64
#define HLX_PDQIDX_TAG 16
int hlx_pdqidx_image(const struct hlx_pdqidx *x,
		     const uint8_t tag[HLX_PDQIDX_TAG],
		     uint8_t head[HLX_PDQIDX_HEAD], const void **tables,
		     size_t *len);
/*
 * An index over hashes[0 .. 32n) whose tables are the image p[0 .. len)
 * (header included; p aligned to 64 bytes, as a mapping is), made by
 * hlx_pdqidx_image for the same tag and hashes.  Both are borrowed: they
 * must stay valid and unchanged until hlx_pdqidx_free.  Checked in
 * O(tables), not O(n): the header, the sizes, every offset table (0
 * first, n last, never decreasing) and a sample of entries against the
 * hashes; HLX_EINVAL if any is wrong.  The search never follows an entry
 * out of bounds, so an image damaged beyond what is checked can lose
 * matches, never read outside it nor report a hash beyond the threshold.
 */
int hlx_pdqidx_attach(const uint8_t *hashes, size_t n,
		      const uint8_t tag[HLX_PDQIDX_TAG], const void *p,
		      size_t len, struct hlx_pdqidx **out);
/* 1 if the tables are an attached image, not the index's own memory. */
int hlx_pdqidx_borrowed(const struct hlx_pdqidx *x);

struct hlx_pdq_hit {
	uint32_t query;    /* index of the query in the batch */
	uint32_t id;       /* index of the stored hash */
	uint32_t distance; /* Hamming distance, <= the threshold */
};

/* A growable result array: zero-initialise, release with _free. */
struct hlx_pdq_hits {
	struct hlx_pdq_hit *v;
	size_t n, cap;
	uint64_t scanned; /* index entries examined, for statistics */
};
void hlx_pdq_hits_free(struct hlx_pdq_hits *h);

/* Whether searches of the 16 tables count their filters' bits with the
 * CPU's AVX-512 (x86-64 with AVX512F, AVX512BW and AVX512-VPOPCNTDQ):
 * the hits are the same either way.  on = 0 turns it off for the
 * process, 1 back on where the CPU has it (the default), -1 only asks.
 * For tests and benchmarks. */
int hlx_pdq_simd(int on);

/*
 * Every stored hash within threshold (0..HLX_MATCH_THRESHOLD_MAX) of each
 * of the nq queries at q[0 .. 32nq), each exactly once: no false
 * negatives, no false positives.  The hits are appended to out, sorted by
 * query, distance, id; on failure out is as it was.  Larger batches are
 * faster per query (each bucket is read once per batch).  At most
 * threads (0 or 1: the calling thread only) share the work; a small batch
 * runs on fewer, since starting a thread costs more than its share.
 * Reentrant: any number of threads may search one index at once.
 */
int hlx_pdqidx_search(const struct hlx_pdqidx *x, const uint8_t *q,
		      size_t nq, unsigned threshold, unsigned threads,
		      struct hlx_pdq_hits *out);

/* ---- per-list settings (HOME/match/config.json) ------------------------- */

struct hlx_match_conf {
	int threshold; /* PDQ threshold, 0..HLX_MATCH_THRESHOLD_MAX */
	int allow;     /* 1: an allow-list (spec/match.md, "Allow-lists") */
};

struct hlx_match_conf_entry {
	char list[HLX_LIST_NAME_MAX + 1];
	struct hlx_match_conf c;
};

/* Defaults: threshold 31, not an allow-list. */
void hlx_match_conf_init(struct hlx_match_conf *c);
/*
 * Parse the settings file (JSON, at most 1 MiB): *out is a malloc'd array
 * of *n entries sorted by list name, freed by the caller with free().
 * Unknown keys, bad names, out-of-range values are refused.
 */
int hlx_match_conf_parse(const char *s, size_t len,
			 struct hlx_match_conf_entry **out, size_t *n);
/* Append the canonical form (entries equal to the defaults left out). */
int hlx_match_conf_format(const struct hlx_match_conf_entry *e, size_t n,
			  struct hlx_buf *out);
/* The settings of a list (the defaults if it has none). */
int hlx_match_conf_get(struct hlx_node *n, const char *list,
		       struct hlx_match_conf *out);
/* Store the settings of an existing list.  The caller holds the node's
 * writer lock (hlx_node_open with lock). */
int hlx_match_conf_set(struct hlx_node *n, const char *list,
		       const struct hlx_match_conf *c);

/* ---- the node's matcher ------------------------------------------------- */

struct hlx_matcher;

struct hlx_match_opts {
	unsigned threads; /* search threads per call; 0: one per CPU */
	int threshold;    /* -1: each list's own; else 0..63 for every list */
	int rebuild;      /* 1: ignore the persisted index, build afresh */
	size_t compact_min; /* overlay size that may trigger a merge into a
			     * new base; 0: 65536 (the merge also waits for
			     * the overlay to reach 1/16 of the base) */
};

/* What the index holds and what its last refresh did. */
struct hlx_match_status {
	uint64_t lists;        /* lists indexed */
	uint64_t base;         /* PDQ hashes in the base snapshot */
	uint64_t added;        /* overlay: hashes added since the base */
	uint64_t removed;      /* overlay: base hashes removed since */
	uint64_t memory;       /* bytes of index in memory when matching:
				* with its search tables, built or not */
	int tables;            /* the search tables are built */
	int tables_shared;     /* ... and mapped from HOME/match/pdq.tables,
				* one copy for every process (not built) */
	double build_seconds;  /* making them ready: mapping them, or
				* building them (once, on demand) */
	double write_seconds;  /* of which writing them to pdq.tables */
	/* the last refresh */
	int loaded;            /* started from the persisted index */
	int rebuilt;           /* built afresh from the lists' histories */
	int compacted;         /* the overlay was merged into a new base */
	uint64_t lists_changed;/* lists whose version changed */
	uint64_t diff_lines;   /* lines read from history diffs */
	uint64_t pdq_added;    /* PDQ hashes that entered the index */
	uint64_t pdq_removed;  /* PDQ hashes that left it */
	double load_seconds;   /* reading the files, or building afresh */
	double refresh_seconds;
	char note[256];        /* why a rebuild happened, or "" */
	/* since open */
	uint64_t queries, pdq_queries, matches, scanned;
};

/*
 * Open the match index of node n, which is borrowed: it must outlive the
 * matcher, and nothing else may use it while a matcher call runs.  Loads
 * HOME/match/, or builds it from the histories when it is missing or
 * damaged, then refreshes it (hlx_matcher_refresh).  A refresh reads,
 * builds and writes its files (unnamed) without the node's writer lock,
 * then puts them in HOME/match/ only if it gets the lock without waiting
 * (or n holds it) and the lists are still those it read; else the index
 * stays in memory, to be written by a later refresh, and the status note
 * says why (spec/match.md section 5).
 */
int hlx_matcher_open(struct hlx_node *n, const struct hlx_match_opts *o,
		     struct hlx_matcher **out);
void hlx_matcher_free(struct hlx_matcher *m);

/*
 * Bring the index up to the lists' current versions: for each list whose
 * version changed since the index last saw it, read only the history diff
 * between the two versions, apply its PDQ changes to an overlay, and
 * persist the overlay (or, once it is large, merge it into a new base).
 * Also rereads the settings.  Waits for running match calls.  st may be
 * NULL.
 */
int hlx_matcher_refresh(struct hlx_matcher *m, struct hlx_match_status *st);
/* The same, building the whole index afresh from the histories. */
int hlx_matcher_rebuild(struct hlx_matcher *m, struct hlx_match_status *st);
void hlx_matcher_status(struct hlx_matcher *m, struct hlx_match_status *st);
/*
 * Build the PDQ search tables now.  They are otherwise built by the first
 * match call with a pdq query (and after a refresh that changed them), so
 * that exact-only use never pays for them; a pipeline that wants its first
 * answer fast calls this after opening or refreshing.
 */
int hlx_matcher_prepare(struct hlx_matcher *m);

/* One match: valid only during the callback. */
struct hlx_match {
	size_t query;                    /* index into the query array */
	unsigned distance;               /* 0 for the exact types */
	const struct hlx_hash *hash;     /* the stored hash */
	const char *category;            /* its category token, "" if none */
	const char *fields;              /* the rest of its canonical entry */
	size_t fields_len;               /* line: category TAB first seen ... */
	const struct hlx_list_rec *list; /* its list: name, owner, version */
	const char *status;              /* JSON array of the removal-status
					    records known for the stored hash
					    (every status log, ours and
					    peers'), or NULL if none */
	size_t status_len;
};

/* The whole stored entry of a match (hash, category, first seen,
 * confidence, tags), decoded into *e. */
int hlx_match_entry(const struct hlx_match *m, struct hlx_entry *e);

/* Return 0 to go on; any other value stops the call and is returned. */
typedef int (*hlx_match_fn)(void *ctx, const struct hlx_match *m);

/*
 * Match n hashes: cb is called once per (query, stored entry, list) that
 * matches, in the order of query, distance, stored hash, list id.  Exact
 * for every type but pdq; pdq by threshold (spec/match.md), with the
 * allow-lists applied.  Batch the queries: thousands a call run much
 * faster than one.  Thread-safe: many threads may call it on one matcher
 * at once.
 */
int hlx_matcher_match(struct hlx_matcher *m, const struct hlx_hash *const *q,
		      size_t n, hlx_match_fn cb, void *ctx);

/*
 * Check a persisted index file image (HOME/match/pdq.base or pdq.delta):
 * HLX_OK if it is well formed.  For fsck and fuzzing.
 */
int hlx_match_file_check(const uint8_t *p, size_t len);

#endif
