/* SPDX-License-Identifier: MIT */
/*
 * match-worker: one worker of an upload pipeline, for tests/bench/b0600:
 * it embeds the matcher (node/match.h, libhlx.a alone), opens the node's
 * match index, makes its search tables ready, and matches queries.
 *
 *   match-worker HOME QUERIES N [READY]
 *
 * QUERIES: a file of 32-byte PDQ hashes, of which the first N are
 * matched, in one call, on one thread.  Prints one line:
 *
 *   open SECONDS prepare SECONDS match SECONDS qps RATE matches M shared S
 *
 * (open: hlx_matcher_open; prepare: hlx_matcher_prepare, the search tables
 * mapped or built; shared: 1 if they are mapped from the index files).
 * With READY, it then creates the file READY and waits for a signal, so
 * that the benchmark can read its memory (/proc/PID/smaps_rollup) while
 * it holds the index, as a worker waiting for its next upload does.
 */
#include "node/lists.h"
#include "node/match.h"
#include "protocol/err.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int count(void *ctx, const struct hlx_match *m)
{
	(void)m;
	(*(uint64_t *)ctx)++;
	return 0;
}

int main(int argc, char **argv)
{
	struct hlx_match_opts o = { .threads = 1, .threshold = -1 };
	struct hlx_match_status st;
	struct hlx_matcher *m = NULL;
	struct hlx_node *n = NULL;
	struct hlx_hash *q = NULL;
	const struct hlx_hash **qp = NULL;
	uint64_t matches = 0;
	double t0, t1, t2, t3;
	size_t nq;
	FILE *f;
	int rc = HLX_OK;

	if ((argc != 4 && argc != 5) || sodium_init() < 0) {
		fprintf(stderr, "usage: match-worker HOME QUERIES N [READY]\n");
		return 2;
	}
	nq = (size_t)strtoull(argv[3], NULL, 10);
	q = calloc(nq ? nq : 1, sizeof(*q));
	qp = calloc(nq ? nq : 1, sizeof(*qp));
	f = fopen(argv[2], "rb");
	if (!q || !qp || !f) {
		fprintf(stderr, "match-worker: cannot read '%s'\n", argv[2]);
		return 2;
	}
	for (size_t i = 0; i < nq; i++) {
		q[i].type = HLX_HASH_PDQ;
		q[i].len = HLX_PDQ_BYTES;
		if (fread(q[i].bytes, 1, HLX_PDQ_BYTES, f) != HLX_PDQ_BYTES) {
			fprintf(stderr, "match-worker: '%s' has fewer than %zu hashes\n",
				argv[2], nq);
			return 2;
		}
		qp[i] = &q[i];
	}
	fclose(f);
	t0 = now();
	rc = hlx_node_open(argv[1], 0, &n);
	if (!rc)
		rc = hlx_matcher_open(n, &o, &m);
	t1 = now();
	if (!rc)
		rc = hlx_matcher_prepare(m);
	t2 = now();
	if (!rc)
		rc = hlx_matcher_match(m, qp, nq, count, &matches);
	t3 = now();
	if (rc) {
		fprintf(stderr, "match-worker: %s\n", hlx_err_detail());
		return 2;
	}
	hlx_matcher_status(m, &st);
	printf("open %.6f prepare %.6f match %.6f qps %.0f matches %" PRIu64
	       " shared %d\n", t1 - t0, t2 - t1, t3 - t2,
	       t3 > t2 ? (double)nq / (t3 - t2) : 0.0, matches, st.tables_shared);
	fflush(stdout);
	if (argc == 5) {
		int fd = open(argv[4], O_WRONLY | O_CREAT | O_EXCL, 0600);

		if (fd < 0)
			return 2;
		close(fd);
		for (;;)
			pause();
	}
	hlx_matcher_free(m);
	hlx_node_free(n);
	free(q);
	free(qp);
	return 0;
}
