/* SPDX-License-Identifier: MIT */
/* hlx prune: rewrite a list's history from a version on (spec/prune.md). */
#include "node/cli/cmds.h"
#include "node/lists.h"
#include "node/prune.h"
#include "node/urls.h"
#include "protocol/err.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Also in node/cmds.h once main.c registers the command. */

struct prune_opts {
	const char *before;
};

static int prune_opt(void *ctx, int c, const char *arg)
{
	struct prune_opts *o = ctx;

	if (c != 'b')
		return 1;
	o->before = arg;
	return 0;
}

int cmd_prune(struct hlx_cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "before", required_argument, NULL, 'b' },
		{ 0 }
	};
	struct prune_opts o = { NULL };
	struct hlx_prune_result r;
	struct hlx_node *n = NULL;
	uint64_t before, sz0, sz1;
	char *end;
	const char *list;
	int rc, ret;

	ret = cli_getopt(cli, argc, argv, "h", extra, prune_opt, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (argc - optind != 1)
		return cli_usage(cli->cmd, "one LIST");
	if (!o.before)
		return cli_usage(cli->cmd, "--before VERSION is required");
	list = argv[optind];
	errno = 0;
	before = strtoull(o.before, &end, 10);
	if (!*o.before || *end || o.before[0] < '0' || o.before[0] > '9' ||
	    errno)
		return cli_usage(cli->cmd, "--before '%.40s': want a version number",
				 o.before);
	ret = cli_open_node(cli, 1, &n);
	if (ret)
		return ret;
	rc = hlx_prune(n, list, before, cli_getpass, cli, cli->now, &r);
	if (rc) {
		ret = cli_fail(rc, "cannot prune list '%s'", list);
		goto out;
	}
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
	if (rc) {
		ret = cli_fail(rc, "cannot forget the raw URLs of pruned items");
		goto out;
	}
	/* The state's free pages still hold what was pruned: compact it,
	 * with no handle open on it, before the writer lock goes. */
	rc = hlx_node_compact_free(n, &sz0, &sz1);
	n = NULL;
	if (rc) {
		ret = cli_fail(rc, "list '%s' is pruned, but the state database was not compacted "
			       "and may still hold pruned data; run the same 'hlx prune' again later", list);
		goto out;
	}
	fprintf(stderr, "hlx: state compacted: %" PRIu64 " to %" PRIu64 " bytes\n",
		sz0, sz1);
out:
	hlx_node_free(n);
	return ret;
}
