/* SPDX-License-Identifier: MIT */
/*
 * Matching (spec/match.md): the PDQ index against brute force, with
 * planted near duplicates at every distance 0..32; the settings parser;
 * the index files; and the node's matcher over a real node home against a
 * model of the spec's rules: exact and PDQ matches, per-list thresholds,
 * allow-lists, incremental refresh equal to a fresh build, the overlay
 * merge, reopening and damaged files.  Synthetic random hashes only;
 * the seed is printed (HLX_SEED overrides it).
 */
#include "node/files.h"
#include "node/match.h"
#include "protocol/err.h"
#include "tap.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t rs;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void rand_bytes(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

/* Flip exactly d distinct bits of h.  With avoid, none of the bits set
 * there, and the flipped ones are added to it. */
static void flip(uint8_t h[32], unsigned d, uint8_t avoid[32])
{
	uint8_t used[32] = { 0 };

	if (!avoid)
		avoid = used;
	while (d) {
		unsigned b = (unsigned)(rnd() % 256);

		if (avoid[b / 8] >> (b % 8) & 1)
			continue;
		avoid[b / 8] |= (uint8_t)(1u << (b % 8));
		h[b / 8] ^= (uint8_t)(1u << (b % 8));
		d--;
	}
}

static unsigned dist(const uint8_t *a, const uint8_t *b)
{
	unsigned d = 0;

	for (int i = 0; i < 32; i++)
		d += (unsigned)__builtin_popcount(a[i] ^ b[i]);
	return d;
}

/* ---- the index against brute force -------------------------------------- */

static int brute(const uint8_t *h, size_t n, const uint8_t *q, size_t nq,
		 unsigned T, struct hlx_pdq_hits *out)
{
	for (size_t i = 0; i < nq; i++) {
		size_t first = out->n;

		for (size_t k = 0; k < n; k++) {
			unsigned d = dist(h + k * 32, q + i * 32);

			if (d > T)
				continue;
			if (out->n == out->cap) {
				size_t nc = out->cap ? out->cap * 2 : 256;
				void *p = realloc(out->v, nc * sizeof(*out->v));

				if (!p)
					return -1;
				out->v = p;
				out->cap = nc;
			}
			out->v[out->n++] = (struct hlx_pdq_hit){ (uint32_t)i,
							       (uint32_t)k, d };
		}
		/* sort this query's hits by distance, id (insertion sort) */
		for (size_t a = first + 1; a < out->n; a++)
			for (size_t b = a; b > first &&
			     (out->v[b - 1].distance > out->v[b].distance ||
			      (out->v[b - 1].distance == out->v[b].distance &&
			       out->v[b - 1].id > out->v[b].id)); b--) {
				struct hlx_pdq_hit t = out->v[b];

				out->v[b] = out->v[b - 1];
				out->v[b - 1] = t;
			}
	}
	return 0;
}

static int same_hits(const struct hlx_pdq_hits *a, const struct hlx_pdq_hits *b)
{
	if (a->n != b->n) {
		printf("#   %zu hits, brute force %zu\n", a->n, b->n);
		return 0;
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].query != b->v[i].query || a->v[i].id != b->v[i].id ||
		    a->v[i].distance != b->v[i].distance) {
			printf("#   hit %zu: q %u id %u d %u, brute force q %u id %u d %u\n",
			       i, a->v[i].query, a->v[i].id, a->v[i].distance,
			       b->v[i].query, b->v[i].id, b->v[i].distance);
			return 0;
		}
	return 1;
}

/*
 * A batch of 4,000 queries (half near stored hashes, at distances 0..32)
 * gives the same hits as the same queries one call each, and as brute
 * force: at threshold 31 it is past the point where the index sorts a
 * batch's probes differently (node/match_pdq.c, SPARSE_MAX) and where
 * it is shared between two threads (WORK_PER_THREAD), one call a query is
 * well below both.
 */
static void test_big_batch(const struct hlx_pdqidx *x, const uint8_t *h,
			   size_t n, const char *what)
{
	size_t nq = 4000;
	uint8_t *q = malloc(nq * 32);
	struct hlx_pdq_hits big = { 0 }, one = { 0 }, want = { 0 };
	int good = q != NULL;

	for (size_t i = 0; good && i < nq; i++)
		if (i % 2) {
			rand_bytes(q + i * 32, 32);
		} else {
			memcpy(q + i * 32, h + (rnd() % n) * 32, 32);
			flip(q + i * 32, (unsigned)(i / 2 % 33), NULL);
		}
	good = good && hlx_pdqidx_search(x, q, nq, 31, 2, &big) == HLX_OK;
	for (size_t i = 0; good && i < nq; i++) {
		size_t from = one.n;

		if (hlx_pdqidx_search(x, q + i * 32, 1, 31, i % 2 + 1, &one))
			good = 0;
		for (size_t k = from; k < one.n; k++)
			one.v[k].query = (uint32_t)i;
	}
	good = good && brute(h, n, q, nq, 31, &want) == 0;
	ok(good && big.n >= nq / 2 * 31 / 33 && same_hits(&big, &want),
	   "%s: a batch of %zu queries: the hits of brute force", what, nq);
	ok(good && same_hits(&one, &big),
	   "%s: the same queries one call each: the same hits as the batch",
	   what);
	hlx_pdq_hits_free(&big);
	hlx_pdq_hits_free(&one);
	hlx_pdq_hits_free(&want);
	free(q);
}

static int hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Sorted, duplicates dropped (as the wide layout wants); *n updated. */
static void sort_unique(uint8_t *h, size_t *n)
{
	size_t k = 0;

	qsort(h, *n, 32, hash_cmp);
	for (size_t i = 0; i < *n; i++)
		if (!k || memcmp(h + (k - 1) * 32, h + i * 32, 32) != 0)
			memmove(h + k++ * 32, h + i * 32, 32);
	*n = k;
}

/*
 * The wide layout at the pigeonhole's edge (spec/match.md, "The wide
 * layout"): for r = 2 and 3, a query r bits from a stored hash in one
 * chunk j (its first and last bits among them) and r + 1 in every
 * other, so that d = 11r + 10 = T and only table j can find it: found,
 * for every j, with that distance, and nothing else than brute force
 * finds.  Then a batch at T = 47 on 8 threads, split into table passes
 * of 323 queries: the same as brute force.
 */
static void test_wide_edges(const struct hlx_pdqidx *x, const uint8_t *h,
			    size_t n)
{
	static const unsigned at[12] = { 0, 24, 48, 72, 95, 118, 141, 164,
					 187, 210, 233, 256 };
	size_t nb = 400, id[11];
	uint8_t *q = malloc(nb * 32);
	struct hlx_pdq_hits got = { 0 }, want = { 0 };
	int good = q != NULL, rc;

	for (unsigned r = 2; good && r <= 3; r++) {
		unsigned T = 11 * r + 10;

		for (unsigned j = 0; j < 11; j++) {
			uint8_t *p = q + j * 32;

			id[j] = (size_t)(rnd() % n);
			memcpy(p, h + id[j] * 32, 32);
			for (unsigned c = 0; c < 11; c++)
				for (unsigned f = 0; f < (c == j ? r : r + 1); f++) {
					/* the chunk's first and last bits (the
					 * masks' highest and lowest), then others */
					unsigned b = f == 0 ? at[c] : f == 1 ?
						     at[c + 1] - 1 : at[c] + 2 + 3 * f;

					p[b / 8] ^= (uint8_t)(0x80u >> (b % 8));
				}
			if (dist(p, h + id[j] * 32) != T)
				good = 0;
		}
		got.n = want.n = 0;
		rc = hlx_pdqidx_search(x, q, 11, T, 2, &got);
		if (rc || brute(h, n, q, 11, T, &want) || !same_hits(&got, &want))
			good = 0;
		for (unsigned j = 0; j < 11; j++) {
			int found = 0;

			for (size_t i = 0; i < got.n; i++)
				found |= got.v[i].query == j && got.v[i].id == id[j] &&
					 got.v[i].distance == T;
			if (!found) {
				printf("#   r %u: the hash only chunk %u finds: missed\n", r, j);
				good = 0;
			}
		}
	}
	ok(good, "wide: a hash only one table can find, at d = T, found for every table (r = 2, 3)");
	for (size_t i = 0; q && i < nb; i++) {
		memcpy(q + i * 32, h + (rnd() % n) * 32, 32);
		flip(q + i * 32, (unsigned)(i % 48), NULL);
	}
	got.n = want.n = 0;
	rc = q ? hlx_pdqidx_search(x, q, nb, 47, 8, &got) : HLX_ENOMEM;
	ok(!rc && brute(h, n, q, nb, 47, &want) == 0 && want.n >= nb &&
		   same_hits(&got, &want),
	   "wide: %zu queries at T = 47 on 8 threads, in several passes: the hits of brute force (%zu)",
	   nb, got.n);
	hlx_pdq_hits_free(&got);
	hlx_pdq_hits_free(&want);
	free(q);
}

static void test_index(size_t n, int layout, const char *what)
{
	static const unsigned th[] = { 0, 1, 15, 16, 17, 31, 32, 47, 48, 63 };
	size_t nplant = 33, ncl = 40, nrand = 64;
	size_t nq = nplant + 4 + nrand, total = n + ncl;
	uint8_t *h = malloc(total * 32), *q = malloc(nq * 32);
	struct hlx_pdqidx *x = NULL;
	struct hlx_pdq_hits got = { 0 }, want = { 0 }, one = { 0 };
	size_t planted[33];
	int rc, ok_all;

	rand_bytes(h, n * 32);
	/* a cluster: ncl hashes within 3 bits of a centre, and queries near
	 * it, found by many tables: each must come back once */
	rand_bytes(h + n * 32, 32);
	for (size_t i = 1; i < ncl; i++) {
		memcpy(h + (n + i) * 32, h + n * 32, 32);
		flip(h + (n + i) * 32, (unsigned)(rnd() % 4), NULL);
	}
	for (unsigned d = 0; d < nplant; d++) {
		planted[d] = (size_t)(rnd() % n);
		memcpy(q + d * 32, h + planted[d] * 32, 32);
		flip(q + d * 32, d, NULL);
	}
	for (size_t i = 0; i < 4; i++) {
		memcpy(q + (nplant + i) * 32, h + n * 32, 32);
		flip(q + (nplant + i) * 32, (unsigned)(i * 9), NULL);
	}
	rand_bytes(q + (nplant + 4) * 32, nrand * 32);
	if (layout == HLX_PDQ_LAYOUT_WIDE) {
		/* in place of cluster members 1..7: a family sharing their
		 * first 216 bits with the cluster's centre (identical entries
		 * in every table); then 16 sharing only its first 24 or 48
		 * bits, on either side of it in order (the search among the
		 * hashes of one table-0 bucket) */
		for (size_t i = 1; i < 8; i++) {
			uint8_t *f = h + (n + i) * 32;

			memcpy(f, h + n * 32, 32);
			f[31] = (uint8_t)(f[31] ^ (1u << i));
			f[27] = (uint8_t)(f[27] ^ (i * 37));
		}
		for (size_t i = 8; i < 24; i++) {
			uint8_t *f = h + (n + i) * 32;
			size_t at = i < 16 ? 3 : 6; /* the first byte to differ */

			memcpy(f, h + n * 32, 32);
			f[at] = (uint8_t)(i % 2 ? f[at] | 0x80 : f[at] & 0x7f);
			f[at] ^= (uint8_t)(1u << (i % 7));
		}
		uint8_t pl[33][32];

		for (unsigned d = 0; d < nplant; d++)
			memcpy(pl[d], h + planted[d] * 32, 32);
		sort_unique(h, &total);
		for (unsigned d = 0; d < nplant; d++) {
			/* the planted hash's place in the sorted hashes */
			const uint8_t *at = bsearch(pl[d], h, total, 32, hash_cmp);

			planted[d] = at ? (size_t)(at - h) / 32 : SIZE_MAX;
		}
	}

	rc = hlx_pdqidx_build_layout(h, total, 2, layout, &x);
	is_rc(rc, HLX_OK, "%s: build an index of %zu hashes", what, total);
	if (rc)
		goto out;
	ok(hlx_pdqidx_count(x) == total, "%s: it holds them all", what);
	ok(hlx_pdqidx_layout(x) == (layout == HLX_PDQ_LAYOUT_WIDE ?
				    HLX_PDQ_LAYOUT_WIDE :
				    total < HLX_PDQIDX_TABLES_MIN ?
				    HLX_PDQ_LAYOUT_SCAN : HLX_PDQ_LAYOUT_16),
	   "%s: in the layout asked for", what);
	ok_all = 1;
	for (size_t t = 0; t < sizeof(th) / sizeof(th[0]); t++) {
		got.n = want.n = 0;
		rc = hlx_pdqidx_search(x, q, nq, th[t], 2, &got);
		if (rc || brute(h, total, q, nq, th[t], &want) || !same_hits(&got, &want)) {
			ok_all = 0;
			printf("#   threshold %u differs from brute force\n", th[t]);
		}
	}
	ok(ok_all, "%s: same hits as brute force at thresholds 0 to 63", what);

	got.n = 0;
	rc = hlx_pdqidx_search(x, q, nq, 31, 2, &got);
	ok_all = !rc;
	for (unsigned d = 0; d < nplant; d++) {
		int found = 0;

		for (size_t i = 0; i < got.n; i++)
			if (got.v[i].query == d && got.v[i].id == planted[d]) {
				found = got.v[i].distance == d;
				break;
			}
		if (found != (d <= 31)) {
			ok_all = 0;
			printf("#   planted at distance %u: %s\n", d,
			       found ? "found" : "missed");
		}
	}
	ok(ok_all, "%s: planted near duplicates at 0..31 found with their distance, 32 not",
	   what);
	ok_all = 1;
	for (size_t i = 1; i < got.n; i++)
		if (got.v[i].query == got.v[i - 1].query &&
		    got.v[i].id == got.v[i - 1].id)
			ok_all = 0;
	ok(ok_all, "%s: each stored hash reported once per query", what);

	/* one query at a time, one thread: the same */
	ok_all = 1;
	for (size_t i = 0; i < nq; i++) {
		size_t from = one.n;

		if (hlx_pdqidx_search(x, q + i * 32, 1, 31, 1, &one))
			ok_all = 0;
		for (size_t k = from; k < one.n; k++)
			one.v[k].query = (uint32_t)i;
	}
	ok(ok_all && same_hits(&one, &got), "%s: one query at a time gives the same",
	   what);
	got.n = want.n = 0;
	rc = hlx_pdqidx_search(x, q, nq, 31, 5, &got);
	brute(h, total, q, nq, 31, &want);
	ok(!rc && same_hits(&got, &want), "%s: five threads give the same", what);
	test_big_batch(x, h, total, what);
	if (layout == HLX_PDQ_LAYOUT_WIDE)
		test_wide_edges(x, h, total);
	got.n = 0;
	is_rc(hlx_pdqidx_search(x, q, nq, 64, 1, &got), HLX_EINVAL,
	      "%s: threshold 64 refused", what);
	ok(got.n == 0, "%s: and nothing appended", what);
out:
	hlx_pdqidx_free(x);
	hlx_pdq_hits_free(&got);
	hlx_pdq_hits_free(&want);
	hlx_pdq_hits_free(&one);
	free(h);
	free(q);
}

/*
 * The tables' filter counted with AVX-512 (hlx_pdq_simd) against the
 * plain count and brute force.  The hashes' chunks each take one of 8
 * values, so that every probed bucket holds some 2,500 entries: the
 * filter runs over blocks of them, whole and cut (an odd count), and
 * both passes and rejects entries in every block; queries are stored
 * hashes with 0 to 40 bits flipped, and hashes of the same values.
 */
static void test_simd(void)
{
	static const unsigned th[] = { 0, 9, 31, 40, 63 };
	size_t n = 20001, nq = 48;
	uint8_t *h = malloc(n * 32), *q = malloc(nq * 32);
	uint16_t val[16][8];
	struct hlx_pdqidx *x = NULL;
	struct hlx_pdq_hits a = { 0 }, b = { 0 }, want = { 0 };
	int avail = hlx_pdq_simd(-1), all = 1, rc;
	size_t hits = 0;

	for (unsigned j = 0; j < 16; j++)
		for (unsigned k = 0; k < 8; k++)
			val[j][k] = (uint16_t)rnd();
	for (size_t i = 0; i < n + nq / 2; i++) {
		uint8_t *p = i < n ? h + i * 32 : q + (i - n) * 32;

		for (unsigned j = 0; j < 16; j++) {
			uint16_t v = val[j][rnd() % 8];

			p[2 * j] = (uint8_t)(v >> 8);
			p[2 * j + 1] = (uint8_t)v;
		}
	}
	for (size_t i = nq / 2; i < nq; i++) {
		memcpy(q + i * 32, h + (rnd() % n) * 32, 32);
		flip(q + i * 32, (unsigned)(rnd() % 41), NULL);
	}
	rc = hlx_pdqidx_build(h, n, 2, &x);
	is_rc(rc, HLX_OK, "simd: an index of %zu hashes in buckets of thousands", n);
	for (size_t t = 0; !rc && t < sizeof(th) / sizeof(th[0]); t++) {
		a.n = b.n = want.n = 0;
		hlx_pdq_simd(1);
		if (hlx_pdqidx_search(x, q, nq, th[t], 2, &a))
			all = 0;
		hlx_pdq_simd(0);
		if (hlx_pdqidx_search(x, q, nq, th[t], 2, &b))
			all = 0;
		if (brute(h, n, q, nq, th[t], &want) || !same_hits(&a, &want) ||
		    !same_hits(&b, &want)) {
			all = 0;
			printf("#   threshold %u differs\n", th[t]);
		}
		hits += want.n;
	}
	hlx_pdq_simd(1);
	ok(!rc && all && hits > 100,
	   "simd: the AVX-512 filter (%s) and the plain one give brute force's %zu hits "
	   "at thresholds 0 to 63", avail ? "used on this CPU" : "not on this CPU",
	   hits);
	ok(hlx_pdq_simd(0) == 0 && hlx_pdq_simd(-1) == 0 && hlx_pdq_simd(1) == avail,
	   "simd: turned off, then on again where the CPU has it");
	hlx_pdqidx_free(x);
	hlx_pdq_hits_free(&a);
	hlx_pdq_hits_free(&b);
	hlx_pdq_hits_free(&want);
	free(h);
	free(q);
}
static void test_index_edges(void)
{
	struct hlx_pdqidx *x = NULL;
	struct hlx_pdq_hits got = { 0 };
	uint8_t q[32] = { 0 };

	is_rc(hlx_pdqidx_build(q, 0, 1, &x), HLX_OK, "an empty index");
	is_rc(hlx_pdqidx_search(x, q, 1, 31, 1, &got), HLX_OK, "searching it works");
	ok(got.n == 0, "and finds nothing");
	hlx_pdqidx_free(x);
	hlx_pdqidx_free(NULL);
	is_rc(hlx_pdqidx_build(q, (size_t)HLX_PDQIDX_MAX + 1, 1, &x), HLX_ETOOBIG,
	      "an index too large is refused before allocating");
	is_rc(hlx_pdqidx_build_layout(q, 1, 1, HLX_PDQ_LAYOUT_SCAN, &x), HLX_EINVAL,
	      "a layout that cannot be asked for is refused");
	ok(!x, "and nothing built");
	hlx_pdq_hits_free(&got);
}

/*
 * The tables as a file image (hlx_pdqidx_image, hlx_pdqidx_attach): an
 * attached copy searches like the built index; every damage the check
 * covers is refused, and damage it cannot see (an entry's id) never reads
 * out of bounds nor reports beyond the threshold.
 */
#define PAD64(len) (((len) + 63) / 64 * 64)
#define OFFS_LEN PAD64(65537 * 4)

/* Where entry k of table j has its f0 (uint64), f1 or id (uint32) in an
 * image of n hashes (spec/match.md: the offset tables, then for each
 * table its f0, f1 and ids, each array padded to 64 bytes). */
enum { ENT_F0, ENT_F1, ENT_ID };

static size_t ent_at(size_t n, unsigned j, int field, size_t k)
{
	size_t at = HLX_PDQIDX_HEAD + 16 * (size_t)OFFS_LEN +
		    j * (PAD64(n * 8) + 2 * PAD64(n * 4));

	switch (field) {
	case ENT_F0:
		return at + k * 8;
	case ENT_F1:
		return at + PAD64(n * 8) + k * 4;
	default:
		return at + PAD64(n * 8) + PAD64(n * 4) + k * 4;
	}
}

static int attach_copy(const uint8_t *h, size_t n, const uint8_t *tag,
		       const uint8_t *img, size_t len, struct hlx_pdqidx **x)
{
	return hlx_pdqidx_attach(h, n, tag, img, len, x);
}

/* How many of the image's header bytes, each flipped alone, are refused. */
static int header_flips_refused(const uint8_t *h, size_t n, const uint8_t *tag,
				uint8_t *img, size_t len)
{
	struct hlx_pdqidx *y = NULL;
	int refused = 0;

	for (size_t i = 0; i < HLX_PDQIDX_HEAD; i++) {
		img[i] ^= 0x10;
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		hlx_pdqidx_free(y);
		y = NULL;
		img[i] ^= 0x10;
	}
	return refused;
}

/* Every entry of every table read where the spec puts it: each bucket's
 * entries name hashes of that chunk value, each hash once a table, with
 * its filter bits computed here from the spec (chunk i of h: bytes 2i and
 * 2i+1, i mod 16; f0 = chunks j+1..j+4, f1 = j+5, j+6, most significant
 * first).  Returns the entries found wrong. */
static size_t image_entries_wrong(const uint8_t *img, const uint8_t *h, size_t n)
{
	size_t wrong = 0;
	uint8_t *seen = calloc(n, 1);

	if (!seen)
		abort();
	for (unsigned j = 0; j < 16; j++) {
		const uint32_t *off = (const uint32_t *)(const void *)(img +
			HLX_PDQIDX_HEAD + (size_t)j * OFFS_LEN);

		memset(seen, 0, n);
		for (unsigned v = 0; v < 65536; v++) {
			if (off[v] > off[v + 1] || off[v + 1] > n) {
				wrong++; /* not where the spec puts them */
				continue;
			}
			for (size_t k = off[v]; k < off[v + 1]; k++) {
				uint64_t f0, w0 = 0;
				uint32_t f1, id, w1 = 0;
				const uint8_t *x;

				memcpy(&f0, img + ent_at(n, j, ENT_F0, k), 8);
				memcpy(&f1, img + ent_at(n, j, ENT_F1, k), 4);
				memcpy(&id, img + ent_at(n, j, ENT_ID, k), 4);
				if (id >= n || seen[id]) {
					wrong++;
					continue;
				}
				seen[id] = 1;
				x = h + (size_t)id * 32;
				for (unsigned i = 1; i <= 4; i++)
					w0 = w0 << 16 | (unsigned)x[2 * ((j + i) % 16)] << 8 |
					     x[2 * ((j + i) % 16) + 1];
				for (unsigned i = 5; i <= 6; i++)
					w1 = w1 << 16 | (unsigned)x[2 * ((j + i) % 16)] << 8 |
					     x[2 * ((j + i) % 16) + 1];
				wrong += ((unsigned)x[2 * j] << 8 | x[2 * j + 1]) != v ||
					 f0 != w0 || f1 != w1;
			}
		}
	}
	free(seen);
	return wrong;
}

static void test_index_image(void)
{
	/* not a multiple of 16: every array is padded to 64 bytes */
	size_t n = 20001, nq = 300, len, tlen;
	uint8_t *h = malloc(n * 32), *q = malloc(nq * 32), *img = NULL;
	uint8_t tag[16], other[16], head[HLX_PDQIDX_HEAD];
	struct hlx_pdqidx *x = NULL, *y = NULL;
	struct hlx_pdq_hits got = { 0 }, want = { 0 };
	const void *t;
	uint32_t *off;
	int rc, refused;

	rand_bytes(h, n * 32);
	rand_bytes(tag, 16);
	memcpy(other, tag, 16);
	other[5] ^= 1;
	for (size_t i = 0; i < nq; i++) {
		memcpy(q + i * 32, h + (rnd() % n) * 32, 32);
		flip(q + i * 32, (unsigned)(i % 40), NULL);
	}
	rc = hlx_pdqidx_build(h, n, 2, &x);
	if (!rc)
		rc = hlx_pdqidx_image(x, tag, head, &t, &tlen);
	is_rc(rc, HLX_OK, "image: the tables of %zu hashes as a file image", n);
	if (rc)
		goto out;
	len = sizeof(head) + tlen;
	img = aligned_alloc(64, (len + 64) / 64 * 64);
	if (!img)
		abort();
	memcpy(img, head, sizeof(head));
	memcpy(img + sizeof(head), t, tlen);
	ok(!memcmp(img, "HLXPDQT2", 8) && image_entries_wrong(img, h, n) == 0,
	   "image: HLXPDQT2, every entry of the 16 tables where the spec puts it");
	rc = attach_copy(h, n, tag, img, len, &y);
	is_rc(rc, HLX_OK, "image: attached");
	ok(hlx_pdqidx_borrowed(y) && !hlx_pdqidx_borrowed(x),
	   "image: the attached index borrows its tables");
	if (!rc) {
		rc = hlx_pdqidx_search(x, q, nq, 31, 2, &want);
		if (!rc)
			rc = hlx_pdqidx_search(y, q, nq, 31, 2, &got);
		ok(!rc && want.n > 0 && same_hits(&got, &want),
		   "image: the attached index finds the same (%zu hits)", got.n);
	}
	hlx_pdqidx_free(y);
	y = NULL;

	/* refused: wrong hashes, sizes, header, offsets, sampled entries */
	refused = attach_copy(h, n, other, img, len, &y) == HLX_EINVAL;
	refused += attach_copy(h, n - 1, tag, img, len, &y) == HLX_EINVAL;
	refused += attach_copy(h, n, tag, img, len - 1, &y) == HLX_EINVAL;
	refused += attach_copy(h, n, tag, img, len - 4096, &y) == HLX_EINVAL;
	refused += attach_copy(h, n, tag, img, 63, &y) == HLX_EINVAL;
	refused += attach_copy(h, n, tag, img, 0, &y) == HLX_EINVAL;
	refused += attach_copy(h, 300, tag, img, len, &y) == HLX_EINVAL;
	ok(refused == 7 && !y, "image: another tag, count or length refused (%d of 7)",
	   refused);
	refused = header_flips_refused(h, n, tag, img, len);
	ok(refused == HLX_PDQIDX_HEAD, "image: every header byte flipped refused (%d of %d)",
	   refused, HLX_PDQIDX_HEAD);
	img[7] = '1'; /* HLXPDQT1: the 16 tables' entries of 16 bytes */
	ok(attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL && !y,
	   "image: the 16 tables under the former magic HLXPDQT1 refused");
	img[7] = '2';
	refused = 0;
	for (unsigned j = 0; j < 16; j++) {
		uint32_t v, k = (uint32_t)(1 + rnd() % 65535);

		off = (uint32_t *)(void *)(img + HLX_PDQIDX_HEAD + (size_t)j * OFFS_LEN);
		v = off[k];
		off[k] = off[k + 1] + 1; /* decreasing after k */
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		off[k] = (uint32_t)n + 1; /* beyond the entries */
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		off[k] = v;
		v = off[65536];
		off[65536] = v - 1; /* does not end at n */
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		off[65536] = v;
		v = off[0];
		off[0] = 1; /* does not start at 0 */
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		off[0] = v;
	}
	ok(refused == 64 && !y, "image: offsets out of order or bounds refused in every table (%d of 64)",
	   refused);
	{
		/* the first entry of a bucket 256v of table 7 is sampled: its
		 * id out of range, or another hash's, or one bit of its filter
		 * changed, is refused */
		uint32_t id, *o7 = (uint32_t *)(void *)(img + HLX_PDQIDX_HEAD +
							7 * (size_t)OFFS_LEN);
		unsigned v = 0;
		size_t at, f0, f1;

		while (o7[v] == o7[v + 1])
			v += 256;
		at = ent_at(n, 7, ENT_ID, o7[v]);
		f0 = ent_at(n, 7, ENT_F0, o7[v]);
		f1 = ent_at(n, 7, ENT_F1, o7[v]);

		memcpy(&id, img + at, 4);
		memcpy(img + at, &(uint32_t){ (uint32_t)n + 5 }, 4);
		refused = attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		memcpy(img + at, &(uint32_t){ id ^ 1 }, 4);
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		memcpy(img + at, &id, 4);
		img[f0 + 3] ^= 0x04;
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		img[f0 + 3] ^= 0x04;
		img[f1 + 1] ^= 0x80;
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		img[f1 + 1] ^= 0x80;
		ok(refused == 4, "image: a sampled entry naming another hash or with other filter bits refused (%d of 4)",
		   refused);
		is_rc(attach_copy(h, n, tag, img, len, &y), HLX_OK, "image: restored, attached again");
		hlx_pdqidx_free(y);
		y = NULL;
	}
	{
		/* every id out of range in the second entry of every bucket of
		 * every table (not sampled): attached, searched without
		 * reading out of bounds (ASan), and no hit beyond 31 */
		size_t bad = 0;
		int good = 1;

		for (unsigned j = 0; j < 16; j++) {
			off = (uint32_t *)(void *)(img + HLX_PDQIDX_HEAD + (size_t)j * OFFS_LEN);
			for (unsigned v = 0; v < 65536; v++)
				if (off[v + 1] - off[v] >= 2) {
					size_t at = ent_at(n, j, ENT_ID, off[v] + 1);

					memcpy(img + at, &(uint32_t){ 0xfffffff0u }, 4);
					bad++;
				}
		}
		rc = attach_copy(h, n, tag, img, len, &y);
		got.n = 0;
		if (!rc)
			rc = hlx_pdqidx_search(y, q, nq, 31, 2, &got);
		for (size_t i = 0; i < got.n; i++)
			good &= got.v[i].distance <= 31 && got.v[i].id < n;
		ok(!rc && good && bad > 0,
		   "image: %zu entries naming no hash: searched without following them (%zu hits, all within 31)",
		   bad, got.n);
		hlx_pdqidx_free(y);
		y = NULL;
	}
	{
		/* offsets changed after the attach, as by another process
		 * writing the mapped file in place: bucket ends far beyond
		 * the entries in every table, searched without reading out
		 * of bounds (ASan), one query at a time and in a batch */
		uint32_t keep[16];
		int good = 1;

		rc = attach_copy(h, n, tag, img, len, &y);
		for (unsigned j = 0; j < 16; j++) {
			off = (uint32_t *)(void *)(img + HLX_PDQIDX_HEAD + (size_t)j * OFFS_LEN);
			keep[j] = off[1000];
			off[1000] = 0xfffffff0u;
		}
		got.n = 0;
		for (size_t i = 0; !rc && i < 20; i++)
			rc = hlx_pdqidx_search(y, q + i * 32, 1, 31, 1, &got);
		if (!rc)
			rc = hlx_pdqidx_search(y, q, nq, 31, 2, &got);
		for (size_t i = 0; i < got.n; i++)
			good &= got.v[i].distance <= 31 && got.v[i].id < n;
		ok(!rc && good,
		   "image: offsets changed under a mapping: searched within the tables (%zu hits, all within 31)",
		   got.n);
		for (unsigned j = 0; j < 16; j++) {
			off = (uint32_t *)(void *)(img + HLX_PDQIDX_HEAD + (size_t)j * OFFS_LEN);
			off[1000] = keep[j];
		}
		hlx_pdqidx_free(y);
		y = NULL;
	}
	{
		/* an index too small for tables has no image */
		struct hlx_pdqidx *s = NULL;

		rc = hlx_pdqidx_build(h, 100, 1, &s);
		if (!rc)
			rc = hlx_pdqidx_image(s, tag, head, &t, &tlen);
		is_rc(rc, HLX_ENOENT, "image: an index of 100 hashes has none");
		hlx_pdqidx_free(s);
	}
out:
	hlx_pdqidx_free(x);
	hlx_pdqidx_free(y);
	hlx_pdq_hits_free(&got);
	hlx_pdq_hits_free(&want);
	free(img);
	free(h);
	free(q);
}

/*
 * The wide layout's image: attached, it finds what the built index finds;
 * its header names the layout (a 16-table header over it is refused);
 * offsets out of order, out of bounds or not ending at n in any table,
 * and a sampled entry naming no hash, are refused; entries damaged
 * beyond the sample are searched without reading out of bounds.
 */
static size_t wide_off_len(unsigned j)
{
	return ((((size_t)1 << (j < 3 ? 24 : 23)) + 1) * 4 + 63) / 64 * 64;
}

static void test_wide_image(void)
{
	size_t n = 20000, nq = 300, len, tlen, offs = 0;
	uint8_t *h = malloc(n * 32), *q = malloc(nq * 32), *img = NULL;
	uint8_t tag[16], head[HLX_PDQIDX_HEAD];
	struct hlx_pdqidx *x = NULL, *y = NULL;
	struct hlx_pdq_hits got = { 0 }, want = { 0 };
	const void *t;
	int rc, refused = 0;

	rand_bytes(h, n * 32);
	sort_unique(h, &n);
	rand_bytes(tag, 16);
	for (size_t i = 0; i < nq; i++) {
		memcpy(q + i * 32, h + (rnd() % n) * 32, 32);
		flip(q + i * 32, (unsigned)(i % 40), NULL);
	}
	is_rc(hlx_pdqidx_build_layout(h, n, 2, HLX_PDQ_LAYOUT_WIDE, &x), HLX_OK,
	      "wide image: built");
	{
		/* a hash repeated: the wide layout refused */
		uint8_t *u = malloc(n * 32);
		struct hlx_pdqidx *z = NULL;

		memcpy(u, h, n * 32);
		memcpy(u + 500 * 32, h + 501 * 32, 32);
		is_rc(hlx_pdqidx_build_layout(u, n, 1, HLX_PDQ_LAYOUT_WIDE, &z),
		      HLX_EINVAL, "wide: a repeated hash refused");
		ok(!z, "wide: and nothing built");
		free(u);
	}
	rc = x ? hlx_pdqidx_image(x, tag, head, &t, &tlen) : HLX_EINVAL;
	is_rc(rc, HLX_OK, "wide image: the tables as a file image");
	if (rc)
		goto out;
	for (unsigned j = 0; j < 11; j++)
		offs += wide_off_len(j);
	ok(tlen == offs + 10 * ((n * 12 + 63) / 64 * 64),
	   "wide image: %zu bytes, 120 a hash and the offsets", tlen);
	len = sizeof(head) + tlen;
	img = aligned_alloc(64, (len + 64) / 64 * 64);
	if (!img)
		abort();
	memcpy(img, head, sizeof(head));
	memcpy(img + sizeof(head), t, tlen);
	rc = attach_copy(h, n, tag, img, len, &y);
	is_rc(rc, HLX_OK, "wide image: attached");
	ok(!memcmp(img, "HLXPDQT1", 8), "wide image: its magic kept, HLXPDQT1");
	if (!rc) {
		struct hlx_pdqidx *z = NULL;

		img[7] = '2'; /* the 16 tables' magic on the wide layout */
		ok(attach_copy(h, n, tag, img, len, &z) == HLX_EINVAL && !z,
		   "wide image: under the 16 tables' magic refused");
		img[7] = '1';
	}
	if (!rc) {
		rc = hlx_pdqidx_search(x, q, nq, 31, 2, &want);
		if (!rc)
			rc = hlx_pdqidx_search(y, q, nq, 31, 2, &got);
		ok(!rc && want.n >= nq / 2 && same_hits(&got, &want) &&
			   hlx_pdqidx_layout(y) == HLX_PDQ_LAYOUT_WIDE,
		   "wide image: the attached index finds the same (%zu hits)", got.n);
	}
	hlx_pdqidx_free(y);
	y = NULL;
	refused = header_flips_refused(h, n, tag, img, len);
	ok(refused == HLX_PDQIDX_HEAD, "wide image: every header byte flipped refused (%d of %d)",
	   refused, HLX_PDQIDX_HEAD);
	refused = 0;
	for (unsigned j = 0, at = 0; j < 11; at += (unsigned)wide_off_len(j), j++) {
		uint32_t *off = (uint32_t *)(void *)(img + HLX_PDQIDX_HEAD + at);
		size_t nb = (size_t)1 << (j < 3 ? 24 : 23), k = 1 + rnd() % (nb - 2);
		uint32_t v = off[k];

		off[k] = off[k + 1] + 1; /* decreasing after k */
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		off[k] = (uint32_t)n + 1; /* beyond the entries */
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		off[k] = v;
		v = off[nb];
		off[nb] = v - 1; /* does not end at n */
		refused += attach_copy(h, n, tag, img, len, &y) == HLX_EINVAL;
		off[nb] = v;
	}
	ok(refused == 33 && !y, "wide image: offsets out of order or bounds refused in every table (%d of 33)",
	   refused);
	{
		/* the first entry of a sampled bucket (a multiple of 4096) of
		 * table 6, a bit changed: it names no hash, refused */
		size_t e6 = HLX_PDQIDX_HEAD + offs + 5 * ((n * 12 + 63) / 64 * 64), at6 = 0;
		uint32_t *o6;
		size_t v = 0;

		for (unsigned j = 0; j < 6; j++)
			at6 += wide_off_len(j);
		o6 = (uint32_t *)(void *)(img + HLX_PDQIDX_HEAD + at6);
		while (v < ((size_t)1 << 23) && o6[v] == o6[v + 1])
			v += 4096;
		ok(v < ((size_t)1 << 23), "wide image: a sampled bucket of table 6 holds a hash");
		if (v < ((size_t)1 << 23)) {
			img[e6 + (size_t)o6[v] * 12 + 7] ^= 0x04;
			is_rc(attach_copy(h, n, tag, img, len, &y), HLX_EINVAL,
			      "wide image: a sampled entry naming no hash refused");
			img[e6 + (size_t)o6[v] * 12 + 7] ^= 0x04;
		}
		is_rc(attach_copy(h, n, tag, img, len, &y), HLX_OK,
		      "wide image: restored, attached again");
		hlx_pdqidx_free(y);
		y = NULL;
	}
	{
		/* every entry of tables 1..10 but the sampled ones (the first
		 * of buckets 4096v) changed, so that it names no hash: attached
		 * (not sampled), searched without reading out of bounds (ASan),
		 * every hit a true one within 31.  Then table 0's offsets moved
		 * by one between its samples: refused, or searched likewise. */
		size_t e1 = HLX_PDQIDX_HEAD + offs, at = 0;
		size_t elen = (n * 12 + 63) / 64 * 64;
		uint8_t *keep = calloc(10 * elen / 12 + 1, 1);
		uint32_t *o0 = (uint32_t *)(void *)(img + HLX_PDQIDX_HEAD);
		int good = 1;

		if (!keep)
			abort();
		for (unsigned j = 0; j < 11; at += wide_off_len(j), j++) {
			const uint32_t *o = (const uint32_t *)(const void *)
				(img + HLX_PDQIDX_HEAD + at);
			size_t nb = (size_t)1 << (j < 3 ? 24 : 23);

			for (size_t v = 0; j && v < nb; v += 4096)
				if (o[v] < o[v + 1])
					keep[((j - 1) * elen) / 12 + o[v]] = 1;
		}
		for (unsigned j = 1; j < 11; j++)
			for (size_t i = 0; i < n; i++)
				if (!keep[((j - 1) * elen) / 12 + i])
					img[e1 + (j - 1) * elen + i * 12 + 11] ^= 0x01;
		free(keep);
		rc = attach_copy(h, n, tag, img, len, &y);
		got.n = 0;
		if (!rc)
			rc = hlx_pdqidx_search(y, q, nq, 31, 2, &got);
		for (size_t i = 0; i < got.n; i++)
			good &= got.v[i].distance <= 31 && got.v[i].id < n &&
				dist(h + (size_t)got.v[i].id * 32,
				     q + (size_t)got.v[i].query * 32) == got.v[i].distance;
		ok(!rc && good, "wide image: entries damaged beyond the sample: searched within bounds (%zu hits, all true)",
		   got.n);
		hlx_pdqidx_free(y);
		y = NULL;
		for (size_t v = 1; v < ((size_t)1 << 24); v++)
			if (v % 4096 && o0[v] < o0[v + 1])
				o0[v]++;
		rc = attach_copy(h, n, tag, img, len, &y);
		got.n = 0;
		if (!rc)
			rc = hlx_pdqidx_search(y, q, nq, 31, 2, &got);
		else
			rc = rc == HLX_EINVAL ? HLX_OK : rc;
		for (size_t i = 0; i < got.n; i++)
			good &= got.v[i].distance <= 31 && got.v[i].id < n &&
				dist(h + (size_t)got.v[i].id * 32,
				     q + (size_t)got.v[i].query * 32) == got.v[i].distance;
		ok(!rc && good, "wide image: offsets of table 0 moved: refused, or searched within bounds (%zu hits, all true)",
		   got.n);
		hlx_pdqidx_free(y);
		y = NULL;
	}
out:
	hlx_pdqidx_free(x);
	hlx_pdqidx_free(y);
	hlx_pdq_hits_free(&got);
	hlx_pdq_hits_free(&want);
	free(img);
	free(h);
	free(q);
}

/* ---- settings ----------------------------------------------------------- */

static void test_conf(void)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"lists\":[]}",
		"{\"lists\":{},\"x\":1}",
		"{\"lists\":{\"A\":{}}}",
		"{\"lists\":{\"a\":{\"threshold\":64}}}",
		"{\"lists\":{\"a\":{\"threshold\":-1}}}",
		"{\"lists\":{\"a\":{\"threshold\":\"31\"}}}",
		"{\"lists\":{\"a\":{\"threshold\":31.5}}}",
		"{\"lists\":{\"a\":{\"allow\":1}}}",
		"{\"lists\":{\"a\":{\"note\":\"free text\"}}}",
		"{\"lists\":{\"a\":{},\"a\":{}}}",
		"{\"lists\":{\"a\":[]}}",
		"{\"lists\":{}} x",
	};
	const char *good = "{\"lists\":{\"b\":{\"allow\":true},"
			   "\"a\":{\"threshold\":12,\"allow\":false},"
			   "\"c\":{\"threshold\":31,\"allow\":false}}}";
	struct hlx_match_conf_entry *e = NULL, *e2 = NULL;
	struct hlx_buf b = HLX_BUF_INIT, big = HLX_BUF_INIT;
	size_t n = 0, n2 = 0;
	int rc;

	rc = hlx_match_conf_parse(good, strlen(good), &e, &n);
	is_rc(rc, HLX_OK, "settings parse");
	ok(!rc && n == 3 && !strcmp(e[0].list, "a") && e[0].c.threshold == 12 &&
	   !e[0].c.allow && !strcmp(e[1].list, "b") && e[1].c.allow &&
	   e[1].c.threshold == 31, "settings sorted by list, defaults filled in");
	rc = hlx_match_conf_format(e, n, &b);
	is_rc(rc, HLX_OK, "settings format");
	ok(!rc && !strstr((char *)b.data, "\"c\""), "default settings are left out");
	rc = hlx_match_conf_parse((char *)b.data, b.len, &e2, &n2);
	ok(!rc && n2 == 2 && !strcmp(e2[0].list, "a") && e2[0].c.threshold == 12 &&
	   !strcmp(e2[1].list, "b") && e2[1].c.allow, "format then parse round-trips");
	free(e);
	free(e2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = NULL;
		rc = hlx_match_conf_parse(bad[i], strlen(bad[i]), &e, &n);
		ok(rc == HLX_EINVAL && !e, "settings refused: %s", bad[i]);
	}
	hlx_buf_puts(&big, "{\"lists\":{");
	while (big.len <= (1 << 20))
		hlx_buf_puts(&big, "                ");
	is_rc(hlx_match_conf_parse((char *)big.data, big.len, &e, &n), HLX_ETOOBIG,
	      "settings over 1 MiB refused");
	hlx_buf_free(&b);
	hlx_buf_free(&big);
}

/* ---- the matcher against a model ---------------------------------------- */

struct ment {
	enum hlx_hash_type type;
	size_t len;
	uint8_t b[32];
	char cat[HLX_TOKEN_MAX + 1];
};

struct mlist {
	const char *name;
	uint32_t id;
	struct hlx_match_conf c;
	struct ment *e;
	size_t n, cap;
};

#define NLISTS 3
static struct mlist model[NLISTS] = { { .name = "a" }, { .name = "b" },
				      { .name = "ok" } };
static struct hlx_node *node;
static int64_t tnow;

static struct mlist *ml(const char *name)
{
	for (int i = 0; i < NLISTS; i++)
		if (!strcmp(model[i].name, name))
			return &model[i];
	abort();
}

static int fresh; /* the hashes being put are new: skip the search */

static int put(struct hlx_changeset *cs, const char *list,
	       enum hlx_hash_type t, const uint8_t *b, size_t len,
	       const char *cat)
{
	struct mlist *l = ml(list);
	struct hlx_entry *e = malloc(sizeof(*e));
	size_t i;
	int rc;

	if (!e)
		return -1;
	hlx_entry_init(e);
	e->hash.type = t;
	e->hash.len = len;
	memcpy(e->hash.bytes, b, len);
	snprintf(e->category, sizeof(e->category), "%s", cat);
	rc = hlx_changeset_put(cs, e);
	free(e);
	for (i = fresh ? l->n : 0; i < l->n; i++)
		if (l->e[i].type == t && !memcmp(l->e[i].b, b, len))
			break;
	if (i == l->n) {
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->e = realloc(l->e, l->cap * sizeof(*l->e));
			if (!l->e)
				abort();
		}
		l->n++;
	}
	l->e[i].type = t;
	l->e[i].len = len;
	memcpy(l->e[i].b, b, len);
	snprintf(l->e[i].cat, sizeof(l->e[i].cat), "%s", cat);
	return rc;
}

static int retract(struct hlx_changeset *cs, const char *list, size_t idx)
{
	struct mlist *l = ml(list);
	struct hlx_hash h;

	h.type = l->e[idx].type;
	h.len = l->e[idx].len;
	memcpy(h.bytes, l->e[idx].b, h.len);
	l->e[idx] = l->e[--l->n];
	return hlx_changeset_retract(cs, &h);
}

static int apply(const char *list, struct hlx_changeset *cs)
{
	struct hlx_apply_result r;
	int rc = hlx_list_apply(node, list, cs, "test", NULL, NULL, tnow++, &r);

	hlx_changeset_free(cs);
	return rc;
}

static void conf_model(const char *list, int threshold, int allow)
{
	struct hlx_match_conf c = { .threshold = threshold, .allow = allow };

	ml(list)->c = c;
	if (hlx_match_conf_set(node, list, &c) != HLX_OK)
		printf("# cannot set the settings of '%s': %s\n", list,
		       hlx_err_detail());
}

struct cand {
	unsigned d;
	const struct ment *e;
	const struct mlist *l;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	c = memcmp(x->e->b, y->e->b, x->e->len < y->e->len ? x->e->len : y->e->len);
	if (c)
		return c;
	if (x->e->len != y->e->len)
		return x->e->len < y->e->len ? -1 : 1;
	return x->l->id < y->l->id ? -1 : x->l->id > y->l->id;
}

static void put_line(struct hlx_buf *out, size_t q, unsigned d,
		     enum hlx_hash_type t, const uint8_t *b, size_t len,
		     const char *list, const char *cat)
{
	hlx_buf_printf(out, "q%zu d%u %s:", q, d, hlx_hash_type_name(t));
	for (size_t i = 0; i < len; i++)
		hlx_buf_printf(out, "%02x", b[i]);
	hlx_buf_printf(out, " %s %s\n", list, cat);
}

/* The spec's rules, by brute force, for threshold override ov (-1: none). */
static void model_match(const struct hlx_hash *q, size_t nq, int ov,
			struct hlx_buf *out)
{
	for (size_t i = 0; i < nq; i++) {
		struct cand c[512];
		size_t nc = 0;
		unsigned R = 0, allow_min = UINT32_MAX;

		for (int k = 0; k < NLISTS; k++) {
			unsigned t = ov >= 0 ? (unsigned)ov : (unsigned)model[k].c.threshold;

			R = t > R ? t : R;
		}
		for (int k = 0; k < NLISTS; k++)
			for (size_t j = 0; j < model[k].n; j++) {
				const struct ment *e = &model[k].e[j];
				unsigned d;

				if (e->type != q[i].type || e->len != q[i].len)
					continue;
				if (e->type == HLX_HASH_PDQ)
					d = dist(e->b, q[i].bytes);
				else if (memcmp(e->b, q[i].bytes, e->len))
					continue;
				else
					d = 0;
				if (d <= R && nc < 512)
					c[nc++] = (struct cand){ d, e, &model[k] };
			}
		for (size_t j = 0; j < nc; j++) {
			unsigned t = ov >= 0 ? (unsigned)ov : (unsigned)c[j].l->c.threshold;

			if (c[j].l->c.allow && c[j].d <= t && c[j].d < allow_min)
				allow_min = c[j].d;
		}
		qsort(c, nc, sizeof(*c), cand_cmp);
		for (size_t j = 0; j < nc; j++) {
			unsigned t = ov >= 0 ? (unsigned)ov : (unsigned)c[j].l->c.threshold;
			int allowed = 0;

			for (size_t k = 0; k < nc; k++)
				if (c[k].l->c.allow && c[k].e->type == c[j].e->type &&
				    !memcmp(c[k].e->b, c[j].e->b, c[j].e->len))
					allowed = 1;
			if (allowed || c[j].d > allow_min ||
			    (c[j].e->type == HLX_HASH_PDQ && c[j].d > t))
				continue;
			put_line(out, i, c[j].d, c[j].e->type, c[j].e->b, c[j].e->len,
				 c[j].l->name, c[j].e->cat[0] ? c[j].e->cat : "-");
		}
	}
}

/* Each match as a line; its decoded entry must agree with it. */
static int collect(void *ctx, const struct hlx_match *m)
{
	struct hlx_entry e;
	int rc = hlx_match_entry(m, &e);

	if (rc)
		return rc;
	if (e.hash.type != m->hash->type || e.hash.len != m->hash->len ||
	    memcmp(e.hash.bytes, m->hash->bytes, e.hash.len) ||
	    strcmp(e.category, m->category))
		return hlx_err(HLX_EINVAL, "decoded entry differs");
	put_line(ctx, m->query, m->distance, m->hash->type, m->hash->bytes,
		 m->hash->len, m->list->name,
		 m->category[0] ? m->category : "-");
	return 0;
}

static int run_matcher(struct hlx_matcher *m, const struct hlx_hash *q,
		       size_t nq, struct hlx_buf *out)
{
	const struct hlx_hash **qp = malloc((nq ? nq : 1) * sizeof(*qp));
	int rc;

	if (!qp)
		return HLX_ENOMEM;
	for (size_t i = 0; i < nq; i++)
		qp[i] = &q[i];
	hlx_buf_reset(out);
	rc = hlx_matcher_match(m, qp, nq, collect, out);
	free(qp);
	return rc;
}

struct par {
	struct hlx_matcher *m;
	const struct hlx_hash *q;
	size_t nq;
	struct hlx_buf out;
	int rc;
};

static void *par_run(void *arg)
{
	struct par *p = arg;

	for (int i = 0; i < 5 && !p->rc; i++)
		p->rc = run_matcher(p->m, p->q, p->nq, &p->out);
	return NULL;
}

/* Several threads matching on one matcher at once get what one gets. */
static void check_threads(const struct hlx_match_opts *o,
			  const struct hlx_hash *q, size_t nq)
{
	struct par p[4];
	pthread_t t[4];
	struct hlx_buf want = HLX_BUF_INIT;
	struct hlx_matcher *m = NULL;
	int good;

	good = hlx_matcher_open(node, o, &m) == HLX_OK &&
	       run_matcher(m, q, nq, &want) == HLX_OK;
	for (int i = 0; good && i < 4; i++) {
		p[i] = (struct par){ m, q, nq, HLX_BUF_INIT, 0 };
		if (pthread_create(&t[i], NULL, par_run, &p[i]) != 0)
			good = 0;
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		if (p[i].rc || p[i].out.len != want.len ||
		    memcmp(p[i].out.data, want.data, want.len)) {
			printf("#   thread %d: rc %d, %zu bytes, want %zu\n", i,
			       p[i].rc, p[i].out.len, want.len);
			good = 0;
		}
		hlx_buf_free(&p[i].out);
	}
	ok(good, "four threads matching at once on one matcher get the same");
	hlx_matcher_free(m);
	hlx_buf_free(&want);
}

/* Open a matcher, match the queries and compare with the model. */
static int check(const char *what, const struct hlx_match_opts *o,
		 const struct hlx_hash *q, size_t nq,
		 struct hlx_match_status *st)
{
	struct hlx_buf got = HLX_BUF_INIT, want = HLX_BUF_INIT;
	struct hlx_matcher *m = NULL;
	int rc, good;

	rc = hlx_matcher_open(node, o, &m);
	if (!rc)
		rc = run_matcher(m, q, nq, &got);
	if (!rc && st)
		hlx_matcher_status(m, st);
	model_match(q, nq, o ? o->threshold : -1, &want);
	good = !rc && got.len == want.len &&
	       (!got.len || !memcmp(got.data, want.data, got.len));
	ok(good, "%s", what);
	if (!good) {
		printf("#   rc %d (%s)\n", rc, hlx_err_detail());
		printf("# got:\n%.2000s# want:\n%.2000s", got.len ? (char *)got.data : "",
		       want.len ? (char *)want.data : "");
	}
	hlx_matcher_free(m);
	hlx_buf_free(&got);
	hlx_buf_free(&want);
	return good;
}

static void rand_pdq_list(const char *list, size_t n, struct hlx_changeset *cs)
{
	uint8_t b[32];
	static const char *const cats[] = { "csam-a", "csam-b", "", "x1" };

	fresh = 1; /* 2^-256: no collision */
	for (size_t i = 0; i < n; i++) {
		rand_bytes(b, 32);
		put(cs, list, HLX_HASH_PDQ, b, 32, cats[rnd() % 4]);
	}
	fresh = 0;
}

static void set_q(struct hlx_hash *q, enum hlx_hash_type t, const uint8_t *b,
		  size_t len)
{
	q->type = t;
	q->len = len;
	memcpy(q->bytes, b, len);
}

static void corrupt(const char *path, long off, int truncate_it)
{
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return;
	if (truncate_it) {
		if (ftruncate(fd, off) != 0)
			printf("# cannot truncate\n");
	} else {
		uint8_t c;

		if (pread(fd, &c, 1, off) == 1) {
			c ^= 0x40;
			if (pwrite(fd, &c, 1, off) != 1)
				printf("# cannot write\n");
		}
	}
	close(fd);
}

static ino_t inode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

/* Match q on an open matcher and compare with the model. */
static int same_as_model(struct hlx_matcher *m, const struct hlx_hash *q,
			 size_t nq, int ov)
{
	struct hlx_buf got = HLX_BUF_INIT, want = HLX_BUF_INIT;
	int rc = run_matcher(m, q, nq, &got), good;

	model_match(q, nq, ov, &want);
	good = !rc && got.len == want.len &&
	       (!got.len || !memcmp(got.data, want.data, got.len));
	hlx_buf_free(&got);
	hlx_buf_free(&want);
	return good;
}

/*
 * The base's search tables in match/pdq.tables (a base of over 2,048
 * hashes): mapped by every matcher that opens it; a damaged file refused
 * and written again; a matcher keeps its mapping while another process
 * writes a new index.
 */
static void test_shared_tables(const char *dir, const struct hlx_match_opts *o,
			       const struct hlx_hash *q, size_t nq)
{
	struct hlx_match_opts r = *o;
	struct hlx_match_status st;
	struct hlx_matcher *a = NULL;
	char path[4096];
	ino_t ino;
	int rc;

	snprintf(path, sizeof(path), "%s/match/pdq.tables", dir);
	ino = inode_of(path);
	ok(ino != 0, "the rebuild wrote the search tables beside the base");
	check("a matcher on the written tables matches like the model", o, q, nq,
	      &st);
	ok(st.loaded && st.tables && st.tables_shared && inode_of(path) == ino,
	   "and mapped them from the file, not built (%.3f s)", st.build_seconds);

	/* damaged files: refused, built again and written again */
	corrupt(path, 4096, 1);
	check("truncated tables: refused, the matches are the model's", o, q, nq,
	      &st);
	ok(st.tables_shared && inode_of(path) != ino,
	   "and the tables were written again and mapped");
	ino = inode_of(path);
	corrupt(path, 64 + 3 * 262208 + 4 * 1000, 0); /* an offset of table 3 */
	check("tables with a damaged offset: refused, the model's matches", o, q,
	      nq, &st);
	ok(st.tables_shared && inode_of(path) != ino,
	   "and the tables were written again");
	ino = inode_of(path);
	corrupt(path, 9, 0); /* the tag: the tables of another base */
	check("tables of another base: refused, the model's matches", o, q, nq,
	      &st);
	ok(st.tables_shared && inode_of(path) != ino,
	   "and the tables were written again");
	unlink(path);
	check("no tables file: the model's matches", o, q, nq, &st);
	ok(st.tables_shared && inode_of(path) != 0, "and it is written again");

	/* a matcher keeps its mapping while the index is written anew */
	rc = hlx_matcher_open(node, o, &a);
	if (!rc)
		rc = hlx_matcher_prepare(a);
	if (!rc)
		hlx_matcher_status(a, &st);
	ok(!rc && st.tables_shared, "matcher A maps the tables");
	ino = inode_of(path);
	r.rebuild = 1;
	check("matcher B rebuilds the index: new base, new tables", &r, q, nq,
	      &st);
	ok(st.rebuilt && inode_of(path) != ino, "the tables file was replaced");
	/* the new file cut short in place: only a process that mapped it
	 * could notice; A mapped the old one */
	corrupt(path, 100, 1);
	ok(!rc && same_as_model(a, q, nq, o->threshold),
	   "matcher A still matches correctly from its old mapping");
	hlx_matcher_free(a);
	check("a new matcher refuses the cut file: the model's matches", o, q, nq,
	      &st);
	ok(st.tables_shared, "and maps the tables written again");
}

static void test_matcher(const char *dir)
{
	struct hlx_match_opts o = { .threads = 2, .threshold = -1 };
	struct hlx_match_status st;
	struct hlx_changeset *cs;
	struct hlx_hash *q = calloc(200, sizeof(*q));
	struct hlx_list_rec rec;
	uint8_t b[32], c[32], mark[32], shared[32];
	char path[4096];
	size_t nq = 0;
	int rc;

	if (!q)
		abort();
	tnow = (int64_t)time(NULL);
	rc = hlx_home_create(dir, "org-test", 1, NULL, NULL, tnow, 365);
	is_rc(rc, HLX_OK, "node home created");
	rc = hlx_node_open(dir, 1, &node);
	is_rc(rc, HLX_OK, "node opened");
	if (rc)
		goto out;
	for (int i = 0; i < NLISTS; i++) {
		hlx_list_create(node, model[i].name);
		hlx_list_get(node, model[i].name, &rec);
		model[i].id = rec.id;
		hlx_match_conf_init(&model[i].c);
	}
	/* an empty node */
	rand_bytes(b, 32);
	set_q(&q[0], HLX_HASH_PDQ, b, 32);
	check("a node without versions matches nothing", &o, q, 1, &st);
	ok(st.rebuilt && !st.loaded, "the first open builds from the histories");

	/* version 1: random pdq hashes; near duplicates planted at every
	 * distance 0..32 from queries; exact types; a hash in two lists */
	hlx_changeset_new(&cs);
	rand_pdq_list("a", 1500, cs);
	for (unsigned d = 0; d <= 32; d++) {
		rand_bytes(b, 32);
		set_q(&q[nq++], HLX_HASH_PDQ, b, 32);
		flip(b, d, NULL);
		put(cs, "a", HLX_HASH_PDQ, b, 32, "csam-a");
	}
	is_rc(apply("a", cs), HLX_OK, "version 1 of list a");
	hlx_changeset_new(&cs);
	rand_pdq_list("b", 300, cs);
	memcpy(shared, ml("a")->e[7].b, 32);
	put(cs, "b", HLX_HASH_PDQ, shared, 32, "csam-b");
	set_q(&q[nq++], HLX_HASH_PDQ, shared, 32);
	{
		static const struct { enum hlx_hash_type t; size_t len; } ex[] = {
			{ HLX_HASH_MD5, 16 }, { HLX_HASH_SHA1, 20 },
			{ HLX_HASH_SHA256, 32 }, { HLX_HASH_URL_SHA256, 32 },
		};
		for (size_t i = 0; i < 4; i++) {
			rand_bytes(b, 32);
			put(cs, "b", ex[i].t, b, ex[i].len, "csam-c");
			set_q(&q[nq++], ex[i].t, b, ex[i].len);
			b[0] ^= 1; /* one bit off: no match for exact types */
			set_q(&q[nq++], ex[i].t, b, ex[i].len);
		}
		/* an md5 as long as a pdq prefix: no cross-type match */
		set_q(&q[nq++], HLX_HASH_MD5, shared, 16);
	}
	is_rc(apply("b", cs), HLX_OK, "version 1 of list b");
	for (int i = 0; i < 20; i++) { /* random queries */
		rand_bytes(b, 32);
		set_q(&q[nq++], HLX_HASH_PDQ, b, 32);
	}
	check("fresh build: planted at 0..31 found with their distance, 32 not; exact types; a hash in two lists",
	      &o, q, nq, &st);
	ok(st.loaded && !st.rebuilt && st.lists_changed == 2 &&
	   st.pdq_added == 1500 + 33 + 300,
	   "the first versions are applied from their diffs (+%" PRIu64 ")",
	   st.pdq_added);
	check("reopened from the files: the same", &o, q, nq, &st);
	check_threads(&o, q, nq);
	ok(st.loaded && !st.rebuilt && st.lists_changed == 0,
	   "reopening loads the files and reads no history");

	/* per-list thresholds and the override */
	conf_model("a", 10, 0);
	check("list a at threshold 10: planted beyond 10 silent in a, still found in b",
	      &o, q, nq, NULL);
	o.threshold = 20;
	check("--threshold 20 for every list", &o, q, nq, NULL);
	o.threshold = 0;
	check("--threshold 0: exact matches only", &o, q, nq, NULL);
	o.threshold = 47;
	check("--threshold 47: exact beyond 31 as well", &o, q, nq, NULL);
	o.threshold = -1;
	conf_model("a", 31, 0);

	/* version 2: add, retract, change metadata; refresh incrementally */
	hlx_changeset_new(&cs);
	for (int i = 0; i < 40; i++)
		retract(cs, "a", (size_t)(rnd() % ml("a")->n));
	rand_pdq_list("a", 60, cs);
	for (unsigned d = 0; d <= 32; d += 4) {
		memcpy(b, q[d].bytes, 32);
		flip(b, d, NULL);
		put(cs, "a", HLX_HASH_PDQ, b, 32, "csam-b");
	}
	put(cs, "a", HLX_HASH_PDQ, shared, 32, "x1"); /* metadata only */
	is_rc(apply("a", cs), HLX_OK, "version 2 of list a");
	check("after version 2: the incremental refresh equals the model", &o, q,
	      nq, &st);
	ok(st.loaded && !st.rebuilt && !st.compacted && st.lists_changed == 1 &&
	   st.pdq_added > 0 && st.pdq_removed > 0 && st.added > 0,
	   "only list a's diff was read (%" PRIu64 " lines, +%" PRIu64 " -%" PRIu64 ")",
	   st.diff_lines, st.pdq_added, st.pdq_removed);
	ok(st.diff_lines < 300, "the diff read is small (%" PRIu64 " lines)",
	   st.diff_lines);
	{
		struct hlx_match_opts r = o;

		r.rebuild = 1;
		check("a fresh rebuild gives the same matches", &r, q, nq, &st);
		ok(st.rebuilt, "and it was a rebuild");
	}
	/* retract a hash from one of two lists: still found in the other */
	hlx_changeset_new(&cs);
	for (size_t i = 0; i < ml("b")->n; i++)
		if (!memcmp(ml("b")->e[i].b, shared, 32)) {
			retract(cs, "b", i);
			break;
		}
	is_rc(apply("b", cs), HLX_OK, "version 2 of list b");
	check("a hash retracted from b stays in a", &o, q, nq, &st);
	ok(st.pdq_removed == 0, "and is not removed from the index");

	/* the overlay merges into a new base once large enough */
	hlx_changeset_new(&cs);
	rand_pdq_list("b", 150, cs);
	is_rc(apply("b", cs), HLX_OK, "version 3 of list b: 150 more");
	{
		struct hlx_match_opts r = o;

		r.compact_min = 100;
		check("an overlay past its limit is merged: same matches", &r, q, nq,
		      &st);
		ok(st.compacted && !st.rebuilt && st.added == 0 && st.removed == 0,
		   "merged into a new base without a rebuild (%" PRIu64 " hashes)",
		   st.base);
	}
	check("reopened after the merge: the same", &o, q, nq, &st);
	ok(st.loaded && !st.rebuilt && !st.lists_changed, "loaded, nothing to do");

	/* allow-lists: queries a0 .. a0 + 5 */
	{
		size_t a0 = nq;
		uint8_t md5[16], h[32];
		struct hlx_changeset *ca, *cb;

		hlx_changeset_new(&cs); /* the allow-list */
		hlx_changeset_new(&ca);
		hlx_changeset_new(&cb);
		/* 1: a listed hash that is also allow-listed: silent, also
		 * for a query 7 bits from it */
		memcpy(b, ml("a")->e[3].b, 32);
		put(cs, "ok", HLX_HASH_PDQ, b, 32, "");
		set_q(&q[nq++], HLX_HASH_PDQ, b, 32);
		flip(b, 7, NULL);
		set_q(&q[nq++], HLX_HASH_PDQ, b, 32);
		/* 2: the query is 5 bits from an allow-listed hash and 20
		 * from a listed one: silent */
		rand_bytes(c, 32);
		put(cs, "ok", HLX_HASH_PDQ, c, 32, "");
		memset(mark, 0, sizeof(mark));
		memcpy(b, c, 32);
		flip(b, 5, mark);
		set_q(&q[nq++], HLX_HASH_PDQ, b, 32);
		memcpy(h, c, 32);
		flip(h, 15, mark);
		put(ca, "a", HLX_HASH_PDQ, h, 32, "csam-a");
		/* 3: 3 bits from a listed hash, 12 from an allow-listed one:
		 * reported */
		rand_bytes(c, 32);
		put(cs, "ok", HLX_HASH_PDQ, c, 32, "");
		memset(mark, 0, sizeof(mark));
		memcpy(b, c, 32);
		flip(b, 12, mark);
		set_q(&q[nq++], HLX_HASH_PDQ, b, 32);
		memcpy(h, b, 32);
		flip(h, 3, mark);
		put(ca, "a", HLX_HASH_PDQ, h, 32, "csam-a");
		/* 4: 6 bits from both: a tie is reported */
		rand_bytes(b, 32);
		set_q(&q[nq++], HLX_HASH_PDQ, b, 32);
		memset(mark, 0, sizeof(mark));
		memcpy(c, b, 32);
		flip(c, 6, mark);
		put(cs, "ok", HLX_HASH_PDQ, c, 32, "");
		memcpy(h, b, 32);
		flip(h, 6, mark);
		put(cb, "b", HLX_HASH_PDQ, h, 32, "csam-b");
		/* 5: an exact type in both */
		rand_bytes(md5, 16);
		put(cs, "ok", HLX_HASH_MD5, md5, 16, "");
		put(cb, "b", HLX_HASH_MD5, md5, 16, "csam-c");
		set_q(&q[nq++], HLX_HASH_MD5, md5, 16);
		is_rc(apply("ok", cs), HLX_OK, "version 1 of list 'ok'");
		is_rc(apply("a", ca), HLX_OK, "version 4 of list a");
		is_rc(apply("b", cb), HLX_OK, "version 4 of list b");
		check("before it is an allow-list, the list 'ok' matches like any",
		      &o, q + a0, 6, NULL);
		conf_model("ok", 31, 1);
		check("allow-list: its hashes never reported, and a query nearer an allow-listed hash than a listed one is silent for it",
		      &o, q + a0, 6, NULL);
		{
			struct hlx_buf got = HLX_BUF_INIT;
			struct hlx_matcher *m = NULL;

			rc = hlx_matcher_open(node, &o, &m);
			if (!rc)
				rc = run_matcher(m, q + a0, 3, &got);
			ok(!rc && got.len == 0,
			   "nothing for an allow-listed hash, a query 7 bits from it, nor one nearer it than a listed hash");
			hlx_buf_reset(&got);
			if (!rc)
				rc = run_matcher(m, q + a0 + 3, 2, &got);
			ok(!rc && got.len && strstr((char *)got.data, "q0 d3 ") &&
			   strstr((char *)got.data, "q1 d6 ") &&
			   !strstr((char *)got.data, " ok "),
			   "nearer a listed hash, or as near: reported, never the allow-listed one");
			hlx_buf_reset(&got);
			if (!rc)
				rc = run_matcher(m, q + a0 + 5, 1, &got);
			ok(!rc && got.len == 0, "an allow-listed md5 reports nothing");
			hlx_matcher_free(m);
			hlx_buf_free(&got);
		}
		conf_model("ok", 4, 1);
		check("allow-list at threshold 4: the query 5 bits from it reports the listed hash again",
		      &o, q + a0, 6, NULL);
		check("all queries with the allow-list", &o, q, nq, NULL);
	}

	/* damaged files: never trusted */
	snprintf(path, sizeof(path), "%s/match/pdq.delta", dir);
	hlx_changeset_new(&cs);
	rand_pdq_list("a", 10, cs);
	apply("a", cs);
	check("an overlay", &o, q, nq, &st);
	ok(st.added > 0, "there is an overlay file");
	corrupt(path, 70, 0);
	check("a damaged overlay is ignored: the base and diffs give the same",
	      &o, q, nq, &st);
	ok(st.loaded && !st.rebuilt && st.lists_changed > 0 && strstr(st.note, "overlay"),
	   "loaded the base, reread the diffs (%s)", st.note);
	snprintf(path, sizeof(path), "%s/match/pdq.base", dir);
	corrupt(path, 200, 1);
	check("a truncated base is rebuilt", &o, q, nq, &st);
	ok(st.rebuilt && st.note[0], "with a note: %s", st.note);
	corrupt(path, 8 + 4 + 16 + 4 + 4 + 8 + 4 + 5, 0);
	check("a base with a damaged header is rebuilt", &o, q, nq, &st);
	ok(st.rebuilt, "rebuilt");
	{
		/* file check: the good file, then every header byte flipped
		 * in turn and every truncation: refused, never a crash */
		struct hlx_buf f = HLX_BUF_INIT;
		FILE *fp = fopen(path, "rb");
		size_t refused = 0, len;

		if (fp) {
			hlx_buf_reserve(&f, 1 << 20);
			f.len = fread(f.data, 1, 1 << 20, fp);
			fclose(fp);
		}
		is_rc(hlx_match_file_check(f.data, f.len), HLX_OK, "the base file checks");
		len = f.len < 256 ? f.len : 256; /* the header of 3 lists */
		for (size_t i = 0; i < len; i++) {
			f.data[i] ^= 0x81;
			refused += hlx_match_file_check(f.data, f.len) != HLX_OK;
			f.data[i] ^= 0x81;
		}
		ok(refused > len * 3 / 4, "flipped header bytes refused (%zu of %zu; the snapshot id and versions may take any value)",
		   refused, len);
		refused = 0;
		for (size_t i = 0; i < f.len; i += 7)
			refused += hlx_match_file_check(f.data, i) != HLX_OK;
		ok(refused == (f.len + 6) / 7, "every truncation refused");
		hlx_buf_free(&f);
	}
	/* more than 65,536 hashes: the fresh build's radix sort */
	hlx_changeset_new(&cs);
	rand_pdq_list("b", 70000, cs);
	is_rc(apply("b", cs), HLX_OK, "70,000 more hashes in list b");
	{
		struct hlx_match_opts r = o;

		r.rebuild = 1;
		check("a fresh build of over 65,536 hashes equals the model", &r, q,
		      nq, &st);
		ok(st.rebuilt && st.base > 70000, "rebuilt: %" PRIu64 " hashes", st.base);
	}
	test_shared_tables(dir, &o, q, nq);

	/* A reader's refresh writes only under the node's writer lock.  A
	 * child process holds it (this one lets its node go: one LMDB
	 * environment a process): a read-only matcher rebuilds in memory,
	 * writes nothing and says so; once the child lets go, the matcher's
	 * next refresh writes the base it built (with its tables), and a new
	 * matcher loads them. */
	{
		struct hlx_node *ro = NULL;
		struct hlx_matcher *m = NULL;
		struct hlx_match_opts r = o;
		char base[4096], lock[4096], ch = 0;
		int ready[2], go[2];
		ino_t ino;
		pid_t pid;

		snprintf(base, sizeof(base), "%s/match/pdq.base", dir);
		snprintf(lock, sizeof(lock), "%s/lock", dir);
		ino = inode_of(base);
		r.rebuild = 1;
		hlx_node_free(node);
		node = NULL;
		if (pipe(ready) || pipe(go))
			abort();
		pid = fork();
		if (pid == 0) {
			int fd = open(lock, O_RDWR | O_CLOEXEC);

			if (fd < 0 || flock(fd, LOCK_EX) || write(ready[1], "x", 1) != 1)
				_exit(1);
			(void)!read(go[0], &ch, 1);
			_exit(0);
		}
		if (pid < 0 || read(ready[0], &ch, 1) != 1)
			abort();
		rc = hlx_node_open(dir, 0, &ro);
		if (!rc)
			rc = hlx_matcher_open(ro, &r, &m);
		if (!rc)
			hlx_matcher_status(m, &st);
		ok(!rc && st.rebuilt && ino && inode_of(base) == ino &&
		   strstr(st.note, "index not written: another process holds"),
		   "a reader's rebuild while another process holds the lock writes nothing (%s)",
		   rc ? hlx_err_detail() : st.note);
		ok(!rc && same_as_model(m, q, nq, o.threshold),
		   "and it matches from memory like the model");
		if (write(go[1], "x", 1) != 1 || waitpid(pid, NULL, 0) != pid)
			abort();
		close(ready[0]);
		close(ready[1]);
		close(go[0]);
		close(go[1]);
		if (!rc)
			rc = hlx_matcher_refresh(m, &st);
		ok(!rc && inode_of(base) != ino && !st.note[0],
		   "the lock free, its next refresh writes the base it built (%s)",
		   rc ? hlx_err_detail() : st.note);
		hlx_matcher_free(m);
		hlx_node_free(ro);
		rc = hlx_node_open(dir, 1, &node);
		is_rc(rc, HLX_OK, "the node opened again, with the lock");
		if (rc)
			goto out;
		check("a new matcher loads what it wrote: the model's matches", &o,
		      q, nq, &st);
		ok(st.loaded && !st.rebuilt && st.tables_shared,
		   "loaded, not rebuilt, its tables mapped");
	}

	/* An overlay goes only beside the base it names.  Another process
	 * wrote a newer pdq.base (here: the file's snapshot id changed, as a
	 * newer snapshot's is, put in place by a rename); a refresh of this
	 * matcher that moved only its overlay keeps that in memory and says
	 * so, and pdq.delta is not replaced by one naming the old base. */
	{
		struct hlx_matcher *m = NULL;
		struct hlx_buf img = HLX_BUF_INIT;
		char base[4096], delta[4096], tmp[4096];
		ino_t dino;

		snprintf(base, sizeof(base), "%s/match/pdq.base", dir);
		snprintf(delta, sizeof(delta), "%s/match/pdq.delta", dir);
		snprintf(tmp, sizeof(tmp), "%s/match/other.base", dir);
		rc = hlx_matcher_open(node, &o, &m);
		if (!rc)
			rc = hlx_file_read(base, (size_t)1 << 30, &img);
		if (!rc && img.len > 12) {
			img.data[12] ^= 1; /* the id, after the magic and its length */
			rc = hlx_file_write(tmp, img.data, img.len, 0600);
		}
		if (!rc && rename(tmp, base) != 0)
			rc = HLX_EIO;
		hlx_buf_free(&img);
		dino = inode_of(delta);
		rand_bytes(b, sizeof(b));
		cs = NULL;
		if (!rc)
			rc = hlx_changeset_new(&cs);
		if (!rc)
			rc = put(cs, "a", HLX_HASH_PDQ, b, 32, "csam-a");
		if (!rc)
			rc = apply("a", cs);
		if (!rc)
			rc = hlx_matcher_refresh(m, &st);
		ok(!rc && !st.rebuilt && strstr(st.note, "pdq.delta not written: "
						"pdq.base on disk is not the base it applies to") &&
		   inode_of(delta) == dino,
		   "a refresh beside another process's newer base leaves pdq.delta alone (%s)",
		   rc ? hlx_err_detail() : st.note);
		ok(!rc && same_as_model(m, q, nq, o.threshold),
		   "and matches from memory like the model");
		if (!rc)
			rc = hlx_matcher_refresh(m, &st);
		ok(!rc && !st.note[0] && inode_of(delta) == dino,
		   "its next refresh, nothing changed, writes nothing again (%s)",
		   rc ? hlx_err_detail() : st.note);
		hlx_matcher_free(m);
		check("a new matcher on that base: the model's matches", &o, q, nq, &st);
	}

	/* settings errors */
	{
		struct hlx_match_conf cf = { .threshold = 64 };

		is_rc(hlx_match_conf_set(node, "a", &cf), HLX_EINVAL, "threshold 64 refused");
		cf.threshold = 3;
		is_rc(hlx_match_conf_set(node, "nope", &cf), HLX_ENOENT,
		      "settings of an unknown list refused");
		o.threshold = 64;
		{
			struct hlx_matcher *m = NULL;

			is_rc(hlx_matcher_open(node, &o, &m), HLX_EINVAL,
			      "override 64 refused");
		}
	}
out:
	hlx_node_free(node);
	for (int i = 0; i < NLISTS; i++)
		free(model[i].e);
	free(q);
}

int main(void)
{
	const char *s = getenv("HLX_SEED");
	char dir[] = "/tmp/hlx-test-match.XXXXXX";
	char cmd[128];

	if (sodium_init() < 0)
		return 1;
	rs = s && *s ? strtoull(s, NULL, 10) : 600;
	if (!rs)
		rs = 1;
	printf("# seed %" PRIu64 "\n", rs);
	test_index(20000, HLX_PDQ_LAYOUT_AUTO, "tables");
	test_index(300, HLX_PDQ_LAYOUT_AUTO, "small");
	test_index(20000, HLX_PDQ_LAYOUT_WIDE, "wide");
	test_simd();
	test_index_edges();
	test_index_image();
	test_wide_image();
	test_conf();
	if (!mkdtemp(dir))
		return 1;
	test_matcher(dir);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dir);
	return done_testing();
}
