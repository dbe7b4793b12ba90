/* SPDX-License-Identifier: MIT */
/*
 * match-calls: the matcher as an upload pipeline embeds it, timed through
 * node/match.h (built against libhlx.a by make bench, run by b0600).
 *
 *   match-calls HOME QUERIES.bin SINGLES RUNS SIZE...
 *
 * Opens the node at HOME read-only, prepares the search tables, then
 * matches the PDQ queries of QUERIES.bin (32 bytes each, used round
 * robin): SINGLES calls of one query each (latency: median and 99th
 * percentile), then for each batch SIZE, RUNS runs of calls of SIZE
 * queries (queries a second: median of the runs).  A run makes calls
 * until it has matched 20,000 queries or for 1 s, whichever comes first
 * (one call at least).
 */
#include "node/lists.h"
#include "node/match.h"
#include "protocol/err.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int count(void *ctx, const struct hlx_match *m)
{
	(void)m;
	(*(unsigned long *)ctx)++;
	return 0;
}

static struct hlx_hash *qs;
static const struct hlx_hash **qp;
static size_t nq;

/* Queries [at, at + k) round robin, in one call. */
static int call(struct hlx_matcher *m, size_t at, size_t k,
		unsigned long *matches)
{
	const struct hlx_hash *p[1];
	const struct hlx_hash *const *v;

	at %= nq;
	if (k == 1) {
		p[0] = &qs[at];
		v = p;
	} else {
		v = qp + at; /* qp holds 2 * nq pointers */
	}
	return hlx_matcher_match(m, v, k, count, matches);
}

int main(int argc, char **argv)
{
	struct hlx_match_opts o = { 0, -1, 0, 0 };
	struct hlx_matcher *m = NULL;
	struct hlx_node *n = NULL;
	unsigned long matches = 0;
	size_t singles, runs;
	double *lat = NULL, t0;
	FILE *f;
	long len;
	int rc = HLX_OK;

	if (argc < 5 || sodium_init() < 0) {
		fprintf(stderr, "usage: match-calls HOME QUERIES.bin SINGLES RUNS SIZE...\n");
		return 2;
	}
	singles = strtoul(argv[3], NULL, 10);
	runs = strtoul(argv[4], NULL, 10);
	f = fopen(argv[2], "rb");
	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 32 ||
	    fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "match-calls: cannot read %s\n", argv[2]);
		return 2;
	}
	nq = (size_t)len / 32;
	qs = calloc(nq, sizeof(*qs));
	qp = calloc(2 * nq, sizeof(*qp));
	lat = calloc(singles + 1, sizeof(*lat));
	if (!qs || !qp || !lat)
		return 2;
	for (size_t i = 0; i < nq; i++) {
		qs[i].type = HLX_HASH_PDQ;
		qs[i].len = 32;
		if (fread(qs[i].bytes, 1, 32, f) != 32)
			return 2;
		qp[i] = qp[nq + i] = &qs[i];
	}
	fclose(f);
	t0 = now();
	rc = hlx_node_open(argv[1], 0, &n);
	if (!rc)
		rc = hlx_matcher_open(n, &o, &m);
	if (!rc)
		rc = hlx_matcher_prepare(m);
	if (rc)
		goto fail;
	printf("opened, search tables ready, in %.2f s; %zu distinct queries\n",
	       now() - t0, nq);
	/* warm up: the first calls fault the tables in */
	for (size_t i = 0; i < 100 && !rc; i++)
		rc = call(m, i, 1, &matches);
	for (size_t i = 0; i < singles && !rc; i++) {
		double a = now();

		rc = call(m, i, 1, &matches);
		lat[i] = now() - a;
	}
	if (rc)
		goto fail;
	if (singles) {
		qsort(lat, singles, sizeof(*lat), dbl_cmp);
		printf("single query: median %.1f us, 99th percentile %.1f us (%zu calls)\n",
		       lat[(singles - 1) / 2] * 1e6,
		       lat[(singles * 99 + 99) / 100 - 1] * 1e6, singles);
	}
	for (int a = 5; a < argc; a++) {
		size_t size = strtoul(argv[a], NULL, 10);
		double qps[16];
		size_t r;

		if (size == 0 || size > nq || runs == 0 || runs > 16) {
			fprintf(stderr, "match-calls: batch of %zu: 1..%zu, runs 1..16\n",
				size, nq);
			return 2;
		}
		for (r = 0; r < runs && !rc; r++) {
			size_t done = 0, at = r * 7919;
			double start = now(), el;

			do {
				rc = call(m, at, size, &matches);
				at += size;
				done += size;
				el = now() - start;
			} while (!rc && done < 20000 && el < 1.0);
			qps[r] = (double)done / el;
		}
		if (rc)
			goto fail;
		qsort(qps, runs, sizeof(*qps), dbl_cmp);
		printf("batches of %zu: %.0f queries/s (median of %zu)\n", size,
		       qps[(runs - 1) / 2], runs);
	}
	hlx_matcher_free(m);
	hlx_node_free(n);
	free(qs);
	free(qp);
	free(lat);
	return 0;
fail:
	fprintf(stderr, "match-calls: %s\n", hlx_err_detail());
	hlx_matcher_free(m);
	hlx_node_free(n);
	return 2;
}
