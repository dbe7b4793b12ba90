/* SPDX-License-Identifier: MIT */
/*
 * The wide layout of the PDQ index (spec/match.md, "The wide layout"),
 * for indexes of tens of millions of hashes.  Not an API: node/match.h is;
 * match_pdq.c chooses the layout and runs the threads.
 *
 * 11 chunks (3 of 24 bits, 8 of 23), so r = T / 11 (2 at T = 31).  The
 * hashes must be strictly increasing: they are table 0 themselves (its
 * offsets index their first 24 bits), and an entry of tables 1..10 is the
 * first 96 bits of the hash with chunk j taken out (12 bytes, no id): the
 * hash is found again in the sorted hashes from those bits.
 */
#ifndef HLX_MATCH_WIDE_H
#define HLX_MATCH_WIDE_H

#include <stddef.h>
#include <stdint.h>

#include "node/match.h"

#define HLX_PDQW_CHUNKS 11
#define HLX_PDQW_ENTRY 12         /* bytes of an entry of tables 1..10 */
#define HLX_PDQW_BUCKETS (1u << 24) /* of the widest chunk */

struct hlx_pdqw {
	uint32_t *off[HLX_PDQW_CHUNKS]; /* 2^width + 1 each */
	uint8_t *ent[HLX_PDQW_CHUNKS];  /* n entries each; [0] unused */
};

/* Bytes of the tables of n hashes, laid out by hlx_pdqw_place. */
size_t hlx_pdqw_len(size_t n);
void hlx_pdqw_place(struct hlx_pdqw *w, uint8_t *p, size_t n);
/* 1 if h[0 .. 32n) is strictly increasing. */
int hlx_pdqw_sorted(const uint8_t *h, size_t n);
/* Fill the (zeroed) tables placed by hlx_pdqw_place; threads share them. */
int hlx_pdqw_build(struct hlx_pdqw *w, const uint8_t *h, size_t n,
		   unsigned threads);
/* Every offset table whole and a sample of entries against the hashes:
 * 1 if good, 0 if not. */
int hlx_pdqw_check(const struct hlx_pdqw *w, const uint8_t *h, size_t n);

/* The masks of 24 bits within r bits (r <= 5), those of 23 first:
 * *n23 of them fit 23 bits.  Freed with free(). */
int hlx_pdqw_masks(unsigned r, uint32_t **mask, uint8_t **weight,
		   size_t *n, size_t *n23);

/* What one search of one table needs. */
struct hlx_pdqw_scan {
	const struct hlx_pdqw *w;
	const uint8_t *h;     /* the sorted hashes */
	size_t n;
	const uint8_t *q;     /* the batch's queries */
	unsigned T, r;
	const uint32_t *mask;
	const uint8_t *weight;
	size_t nmask, nmask23;
	uint64_t *probe;      /* 2 * probes a group, scratch */
	uint64_t *qhi;        /* a group's queries, scratch */
	uint32_t *qlo;
};
/* Queries [q0, q1) against table j; hits appended to hits. */
int hlx_pdqw_scan_table(const struct hlx_pdqw_scan *s, unsigned j,
			size_t q0, size_t q1, struct hlx_pdq_hits *hits);

/* Shared with match_pdq.c. */
int hlx_pdq_hits_push(struct hlx_pdq_hits *h, uint32_t q, uint32_t id,
		      uint32_t d);
int hlx_pdq_have_popcnt(void);
/* fn(arg) on threads threads at once (the caller's among them: fewer if
 * threads cannot start), all ended on return. */
void hlx_pdq_parallel(void *(*fn)(void *), void *arg, unsigned threads);

#endif
