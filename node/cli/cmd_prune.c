/* SPDX-License-Identifier: MIT */
/* hlx prune: rewrite a list's history from a version on (spec/prune.md). */
#include "node/cli/cmds.h"
#include "node/lists.h"
#include "node/prune.h"
#include "node/urls.h"
#include "protocol/err.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_prune(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_prune_result r;
	struct hlx_node *n = cli->node;
	uint64_t before = cli_num(a, "before", 0), sz0, sz1;
	const char *list = a->argv[0];
	int rc;

	if (!cli_given(a, "before"))
		return cli_usage(cli->cmd, "--before VERSION is required");
	rc = hlx_prune(n, list, before, cli_getpass, cli, cli->now, &r);
	if (rc)
		return cli_fail(rc, "cannot prune list '%s'", list);
	if (r.kept)
		fprintf(stderr, "hlx: list '%s' pruned before version %" PRIu64
			": versions %" PRIu64 " to %" PRIu64 " kept, head %s (was %s)\n",
			list, r.before, r.before, r.version, r.head, r.old_head);
	else
		fprintf(stderr, "hlx: list '%s' already starts at version %" PRIu64
			": nothing to rewrite\n", list, r.before);
	if (r.match_reset)
		fprintf(stderr, "hlx: the match index will be rebuilt on its next use\n");
	/* raw URLs of items no list holds any more go too */
	rc = hlx_urls_forget_unlisted(n, NULL);
	if (rc)
		return cli_fail(rc, "cannot forget the raw URLs of pruned items");
	/* The state's free pages still hold what was pruned: compact it,
	 * with no handle open on it, before the writer lock goes. */
	rc = cli_compact(cli, &sz0, &sz1);
	if (rc)
		return cli_fail(rc, "list '%s' is pruned, but the state database was not compacted "
				"and may still hold pruned data; run the same 'hlx prune' again later",
				list);
	fprintf(stderr, "hlx: state compacted: %" PRIu64 " to %" PRIu64 " bytes\n",
		sz0, sz1);
	return 0;
}
