/* SPDX-License-Identifier: MIT */
/* hlx list, add, retract, import, export, log, show, diff, fsck, reindex. */
#include "node/cli/cmds.h"
#include "node/lists.h"
#include "node/urls.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- hlx list ----------------------------------------------------------- */

static int print_list(void *ctx, const struct hlx_list_rec *l)
{
	char t[HLX_TIME_TEXT] = "-";

	(void)ctx;
	if (l->version)
		hlx_time_format(l->updated, t);
	printf("%-24s %-16s v%-6" PRIu64 " %10" PRIu64 " entries  %s\n",
	       l->name, l->owner, l->version, l->count, t);
	return 0;
}

int cmd_list(struct hlx_cli *cli, int argc, char **argv)
{
	struct hlx_node *n = NULL;
	const char *sub;
	char p[PATH_MAX];
	int rc, ret;

	ret = cli_getopt(cli, argc, argv, "+h", NULL, NULL, NULL);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (optind >= argc)
		return cli_usage(cli->cmd, "which list command?");
	sub = argv[optind++];
	if (strcmp(sub, "ls") == 0 ? optind != argc : optind + 1 != argc)
		return cli_usage(cli->cmd, "wrong number of arguments for 'list %s'",
				 sub);
	if (strcmp(sub, "create") && strcmp(sub, "ls") && strcmp(sub, "repo"))
		return cli_usage(cli->cmd, "unknown list command '%s'", sub);
	ret = cli_open_node(cli, strcmp(sub, "create") == 0, &n);
	if (ret)
		return ret;
	if (!strcmp(sub, "create")) {
		rc = hlx_is_status_list(argv[optind]) ?
		     hlx_err(HLX_EINVAL,
			     "'status' is the removal-status log: use 'hlx status set'") :
		     hlx_list_create(n, argv[optind]);
		if (rc)
			ret = cli_fail(rc, "cannot create list '%s'", argv[optind]);
		else
			fprintf(stderr, "hlx: created list '%s'\n", argv[optind]);
	} else if (!strcmp(sub, "ls")) {
		rc = hlx_store_list_foreach(hlx_node_store(n), print_list, NULL);
		if (rc)
			ret = cli_fail(rc, "cannot list the lists");
	} else {
		struct hlx_list_rec rec;

		rc = hlx_list_get(n, argv[optind], &rec);
		if (!rc)
			rc = hlx_list_repo_path(n, argv[optind], p);
		if (rc)
			ret = cli_fail(rc, "cannot open list '%s'", argv[optind]);
		else
			printf("%s\n", p);
	}
	hlx_node_free(n);
	return ret;
}

/* ---- applying changes --------------------------------------------------- */

static void print_result(const char *list, const struct hlx_apply_result *r)
{
	if (!r->changed) {
		fprintf(stderr, "hlx: list '%s' unchanged at version %" PRIu64
			" (%" PRIu64 " entries)\n", list, r->version, r->count);
		return;
	}
	fprintf(stderr, "hlx: list '%s' version %" PRIu64 ": %" PRIu64
		" added, %" PRIu64 " updated, %" PRIu64 " retracted, %" PRIu64
		" unchanged, %" PRIu64 " duplicates merged; %" PRIu64
		" entries\n", list, r->version, r->added, r->updated,
		r->retracted, r->unchanged, r->merged, r->count);
}

static int apply(struct hlx_cli *cli, struct hlx_node *n, const char *list,
		 struct hlx_changeset *cs, const char *summary)
{
	struct hlx_apply_result r;
	int rc = hlx_list_apply(n, list, cs, summary, cli_getpass, cli, cli->now,
				&r);

	if (rc)
		return cli_fail(rc, "cannot change list '%s'", list);
	print_result(list, &r);
	return 0;
}

struct add_opts {
	const char *category;
	const char *tags[HLX_TAGS_MAX + 1];
	int ntags;
	const char *first_seen, *confidence, *reason;
	const char **urls; /* room for argc */
	int nurls;
};

static int add_opt(void *ctx, int c, const char *arg)
{
	struct add_opts *o = ctx;

	switch (c) {
	case 'c': o->category = arg; return 0;
	case 't':
		if (o->ntags > HLX_TAGS_MAX)
			return 1;
		o->tags[o->ntags++] = arg;
		return 0;
	case 'f': o->first_seen = arg; return 0;
	case 'C': o->confidence = arg; return 0;
	case 'r': o->reason = arg; return 0;
	case 'u':
		if (!o->urls)
			return 1;
		o->urls[o->nurls++] = arg;
		return 0;
	}
	return 1;
}

/* The metadata options of hlx add, on an entry whose hash is set. */
static int add_meta(const struct add_opts *o, struct hlx_entry *e)
{
	int rc = HLX_OK;

	if (o->category) {
		rc = hlx_entry_token_check(o->category, strlen(o->category),
					   "category");
		if (!rc)
			snprintf(e->category, sizeof(e->category), "%s",
				 o->category);
	}
	for (int t = 0; !rc && t < o->ntags; t++)
		rc = hlx_entry_add_tag(e, o->tags[t], strlen(o->tags[t]));
	if (!rc && o->first_seen)
		rc = hlx_time_parse(o->first_seen, strlen(o->first_seen),
				    &e->first_seen);
	if (!rc && o->confidence) {
		char *end;
		long v = strtol(o->confidence, &end, 10);

		if (!*o->confidence || *end || v < 0 || v > 100)
			rc = hlx_err(HLX_EINVAL,
				     "confidence '%.20s': want 0 to 100",
				     o->confidence);
		e->confidence = (int)v;
	}
	return rc;
}

int cmd_add(struct hlx_cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "category", required_argument, NULL, 'c' },
		{ "tag", required_argument, NULL, 't' },
		{ "first-seen", required_argument, NULL, 'f' },
		{ "confidence", required_argument, NULL, 'C' },
		{ "url", required_argument, NULL, 'u' },
		{ 0 }
	};
	struct add_opts o = { 0 };
	struct hlx_changeset *cs = NULL;
	struct hlx_node *n = NULL;
	struct hlx_entry *e = NULL;
	const char *list;
	int rc, ret, i;

	o.urls = calloc((size_t)argc + 1, sizeof(*o.urls));
	if (!o.urls)
		return cli_fail(HLX_ENOMEM, "out of memory");
	ret = cli_getopt(cli, argc, argv, "h", extra, add_opt, &o);
	if (ret) {
		ret = ret < 0 ? 0 : ret;
		goto out;
	}
	if (o.ntags > HLX_TAGS_MAX) {
		ret = cli_usage(cli->cmd, "at most %d tags", HLX_TAGS_MAX);
		goto out;
	}
	if (argc - optind < 1 || (argc - optind < 2 && !o.nurls)) {
		ret = cli_usage(cli->cmd,
				"a LIST and at least one TYPE:HASH or --url URL");
		goto out;
	}
	list = argv[optind];
	e = malloc(sizeof(*e));
	if (!e || hlx_changeset_new(&cs)) {
		ret = cli_fail(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (i = optind + 1; i < argc; i++) {
		hlx_entry_init(e);
		rc = hlx_hash_parse(argv[i], strlen(argv[i]), &e->hash);
		if (!rc)
			rc = add_meta(&o, e);
		if (!rc)
			rc = hlx_changeset_put(cs, e);
		if (rc) {
			ret = cli_fail(rc, "cannot add '%.200s'", argv[i]);
			goto out;
		}
	}
	/* check the URLs before taking the lock; their errors never quote
	 * them (node/urls.h) */
	for (i = 0; i < o.nurls; i++) {
		hlx_entry_init(e);
		rc = hlx_urls_item(o.urls[i], strlen(o.urls[i]), &e->hash, NULL);
		if (!rc)
			rc = add_meta(&o, e);
		if (rc) {
			ret = cli_fail(rc, "cannot add --url number %d", i + 1);
			goto out;
		}
	}
	ret = cli_open_node(cli, 1, &n);
	if (ret)
		goto out;
	/* keep each raw URL, sealed, before the list holds its hash */
	for (i = 0; i < o.nurls; i++) {
		hlx_entry_init(e);
		rc = hlx_urls_put(hlx_node_home(n), o.urls[i], strlen(o.urls[i]),
				  &e->hash);
		if (!rc)
			rc = add_meta(&o, e);
		if (!rc)
			rc = hlx_changeset_put(cs, e);
		if (rc) {
			ret = cli_fail(rc, "cannot keep --url number %d", i + 1);
			goto out;
		}
	}
	ret = apply(cli, n, list, cs, "add");
out:
	hlx_node_free(n);
	hlx_changeset_free(cs);
	free(e);
	free(o.urls);
	return ret;
}

static const char *const reasons[] = { "false-positive", "duplicate", "legal",
				       "expired", "other", NULL };

int cmd_retract(struct hlx_cli *cli, int argc, char **argv)
{
	static const struct option extra[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ 0 }
	};
	struct add_opts o = { 0 };
	struct hlx_changeset *cs = NULL;
	struct hlx_node *n = NULL;
	struct hlx_hash *h = NULL;
	char summary[64];
	int rc, ret, ok_reason = 0;

	ret = cli_getopt(cli, argc, argv, "h", extra, add_opt, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (argc - optind < 2)
		return cli_usage(cli->cmd, "a LIST and at least one TYPE:HASH");
	if (!o.reason)
		o.reason = "other";
	for (int i = 0; reasons[i]; i++)
		ok_reason |= strcmp(reasons[i], o.reason) == 0;
	if (!ok_reason)
		return cli_usage(cli->cmd,
				 "reason '%.40s': use false-positive, duplicate, legal, expired or other",
				 o.reason);
	h = malloc(sizeof(*h));
	if (!h || hlx_changeset_new(&cs)) {
		free(h);
		return cli_fail(HLX_ENOMEM, "out of memory");
	}
	for (int i = optind + 1; i < argc; i++) {
		rc = hlx_hash_parse(argv[i], strlen(argv[i]), h);
		if (!rc)
			rc = hlx_changeset_retract(cs, h);
		if (rc) {
			ret = cli_fail(rc, "cannot retract '%.200s'", argv[i]);
			goto out;
		}
	}
	snprintf(summary, sizeof(summary), "retract (%s)", o.reason);
	ret = cli_open_node(cli, 1, &n);
	if (!ret)
		ret = apply(cli, n, argv[optind], cs, summary);
	/* a withdrawn URL item's raw URL goes with it */
	if (!ret && (rc = hlx_urls_forget_unlisted(n, NULL)))
		ret = cli_fail(rc, "cannot forget the raw URLs of retracted items");
out:
	hlx_node_free(n);
	hlx_changeset_free(cs);
	free(h);
	return ret;
}
