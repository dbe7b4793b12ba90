/* SPDX-License-Identifier: MIT */
/*
 * match-one: what an upload pipeline embeds, in thirty lines.  It links
 * against libhlx.a alone (protocol/, keys/, node/: no node/cli/), opens a
 * node home read-only and matches hashes against every list of the node.
 *
 *   match-one HOME TYPE:HASH...
 *
 * Prints "QUERY<TAB>LIST<TAB>VERSION<TAB>DISTANCE" per match; exits 0 when
 * something matched, 1 when nothing did, 2 on an error.
 */
#include "node/lists.h"
#include "node/match.h"
#include "protocol/err.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static int print_match(void *ctx, const struct hlx_match *m)
{
	char **argv = ctx;

	printf("%s\t%s\t%" PRIu64 "\t%u\n", argv[2 + m->query], m->list->name,
	       m->list->version, m->distance);
	return 0;
}

int main(int argc, char **argv)
{
	struct hlx_match_opts o = { 1, -1, 0, 0 };
	struct hlx_hash q[16], *qp[16];
	struct hlx_matcher *m = NULL;
	struct hlx_node *n = NULL;
	size_t nq = (size_t)(argc - 2);
	int rc;

	if (argc < 3 || nq > 16 || sodium_init() < 0) {
		fprintf(stderr, "usage: match-one HOME TYPE:HASH... (at most 16)\n");
		return 2;
	}
	for (size_t i = 0; i < nq; i++) {
		rc = hlx_hash_parse(argv[2 + i], strlen(argv[2 + i]), &q[i]);
		if (rc)
			goto fail;
		qp[i] = &q[i];
	}
	rc = hlx_node_open(argv[1], 0, &n);
	if (!rc)
		rc = hlx_matcher_open(n, &o, &m);
	if (!rc)
		rc = hlx_matcher_match(m, (const struct hlx_hash *const *)qp, nq,
				       print_match, argv);
	if (!rc) {
		struct hlx_match_status st;

		hlx_matcher_status(m, &st);
		hlx_matcher_free(m);
		hlx_node_free(n);
		return st.matches ? 0 : 1;
	}
fail:
	fprintf(stderr, "match-one: %s\n", hlx_err_detail());
	hlx_matcher_free(m);
	hlx_node_free(n);
	return 2;
}
