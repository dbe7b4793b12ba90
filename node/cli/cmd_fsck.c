/* SPDX-License-Identifier: MIT */
/* hlx fsck, hlx reindex: every list (or those named) checked or rebuilt. */
#include "node/cli/cmds.h"
#include "node/lists.h"
#include "protocol/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct names {
	char (*v)[HLX_LIST_NAME_MAX + 1];
	size_t n;
};

static int add_name(void *ctx, const struct hlx_list_rec *l)
{
	struct names *nm = ctx;
	void *p = realloc(nm->v, (nm->n + 1) * sizeof(*nm->v));

	if (!p)
		return hlx_err(HLX_ENOMEM, "out of memory");
	nm->v = p;
	memcpy(nm->v[nm->n++], l->name, sizeof(l->name));
	return 0;
}

static void report(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "hlx: fsck: %s\n", msg);
}

static int each_list(struct hlx_cli *cli, const struct cli_args *a, int fsck)
{
	struct names nm = { 0 };
	struct hlx_node *n = cli->node;
	uint64_t versions, entries, tv = 0, te = 0;
	size_t bad = 0, total;
	int rc, ret;

	rc = HLX_OK;
	if (a->argc == 0)
		rc = hlx_store_list_foreach(hlx_node_store(n), add_name, &nm);
	for (int i = 0; !rc && i < a->argc; i++) {
		struct hlx_list_rec rec;

		rc = hlx_list_name_check(a->argv[i]);
		if (!rc)
			rc = hlx_store_list_get(hlx_node_store(n), a->argv[i], &rec);
		if (!rc)
			rc = add_name(&nm, &rec);
	}
	if (rc) {
		ret = cli_fail(rc, "cannot %s", fsck ? "fsck" : "reindex");
		goto out;
	}
	total = nm.n;
	for (size_t i = 0; i < nm.n; i++) {
		if (fsck) {
			rc = hlx_list_fsck(n, nm.v[i], report, NULL, &versions,
					   &entries);
			tv += versions;
		} else {
			rc = hlx_list_reindex(n, nm.v[i], &entries);
		}
		te += entries;
		if (rc) {
			bad++;
			cli_fail(rc, "%s of list '%s' failed", fsck ? "fsck" : "reindex",
				 nm.v[i]);
		}
	}
	if (fsck)
		fprintf(stderr, "hlx: fsck: %zu %s, %" PRIu64 " %s, %" PRIu64
			" %s, %zu with problems\n", total,
			cli_noun(total, "list", "lists"), tv,
			cli_noun(tv, "version", "versions"), te,
			cli_noun(te, "entry", "entries"), bad);
	else
		fprintf(stderr, "hlx: reindexed %zu %s, %" PRIu64 " %s%s\n",
			total - bad, cli_noun(total - bad, "list", "lists"), te,
			cli_noun(te, "entry", "entries"), bad ? " (some failed)" : "");
	ret = bad ? (fsck ? HLX_EXIT_FAILED : HLX_EXIT_SYSTEM) : 0;
out:
	free(nm.v);
	return ret;
}

int cmd_fsck(struct hlx_cli *cli, const struct cli_args *a)
{
	return each_list(cli, a, 1);
}

int cmd_reindex(struct hlx_cli *cli, const struct cli_args *a)
{
	return each_list(cli, a, 0);
}
