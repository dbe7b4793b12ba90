/* SPDX-License-Identifier: MIT */
/* hlx list create|ls|repo, add, retract: the lists and their entries. */
#include "node/cli/cmds.h"
#include "node/cli/glance.h"
#include "node/lists.h"
#include "node/remove.h"
#include "node/urls.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <errno.h>
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
	/* a peer's list: when its owner published the version (the time of
	 * the signed head it came with); ours: the version's own time */
	printf("%-24s %-16s v%-6" PRIu64 " %10" PRIu64 " %-7s  %s%s\n",
	       l->name, l->owner, l->version, l->count,
	       cli_noun(l->count, "entry", "entries"),
	       !l->version ? "" : strchr(l->name, '/') ? "published " : "signed ", t);
	return 0;
}

int cmd_list_create(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *name = a->argv[0];
	int rc = hlx_is_status_list(name) ?
		 hlx_err(HLX_EINVAL,
			 "'status' is the removal-status log: use 'hlx status set'") :
		 hlx_is_cases_list(name) ?
		 hlx_err(HLX_EINVAL,
			 "'cases' is the cases log: use 'hlx case report'") :
		 hlx_list_create(cli->node, name);

	if (rc)
		return cli_fail(rc, "cannot create list '%s'", name);
	fprintf(stderr, "hlx: created list '%s'\n", name);
	return 0;
}

int cmd_list_ls(struct hlx_cli *cli, const struct cli_args *a)
{
	int rc;

	if (cli_given(a, "json"))
		return cli_glance_json(cli, CLI_GLANCE_LISTS);
	printf("%-24s %-16s %-7s %18s  %s\n", "LIST", "OWNER", "VERSION",
	       "ENTRIES", "UPDATED");
	rc = hlx_store_list_foreach(hlx_node_store(cli->node), print_list, NULL);
	return rc ? cli_fail(rc, "cannot list the lists") : 0;
}

int cmd_list_repo(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_list_rec rec;
	char p[PATH_MAX];
	int rc = hlx_list_get(cli->node, a->argv[0], &rec);

	if (!rc)
		rc = hlx_list_repo_path(cli->node, a->argv[0], p);
	if (rc)
		return cli_fail(rc, "cannot open list '%s'", a->argv[0]);
	printf("%s\n", p);
	return 0;
}

/* An own list, its feeds and everything made from it (node/remove.h). */
int cmd_list_rm(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_remove_opts o = { cli_given(a, "force") != 0, NULL };
	struct hlx_remove_result r;
	char msg[256], dir[PATH_MAX];
	int rc = cli_publish_dir(cli, cli_text(a, "to"), dir);

	o.publish = dir;
	if (!rc)
		rc = hlx_remove_list(cli->node, a->argv[0], &o, &r);

	if (rc)
		return cli_fail(rc, "cannot remove list '%.64s'", a->argv[0]);
	hlx_remove_describe(&r, msg, sizeof(msg));
	fprintf(stderr, "hlx: removed list '%s': %s\n", a->argv[0], msg);
	return 0;
}

/* ---- applying changes --------------------------------------------------- */

static void print_result(const char *list, const struct hlx_apply_result *r)
{
	if (!r->changed) {
		fprintf(stderr, "hlx: list '%s' unchanged at version %" PRIu64
			" (%" PRIu64 " %s)\n", list, r->version, r->count,
			cli_noun(r->count, "entry", "entries"));
		return;
	}
	fprintf(stderr, "hlx: list '%s' version %" PRIu64 ": %" PRIu64
		" added, %" PRIu64 " updated, %" PRIu64 " retracted, %" PRIu64
		" unchanged, %" PRIu64 " duplicates merged; %" PRIu64
		" %s\n", list, r->version, r->added, r->updated,
		r->retracted, r->unchanged, r->merged, r->count,
		cli_noun(r->count, "entry", "entries"));
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

/* The metadata options of hlx add, as the table parsed them. */
struct add_opts {
	const char *category;
	const char *const *tags;
	size_t ntags;
	int64_t first_seen;
	int has_first_seen;
	int confidence;   /* -1: not given */
};

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
	for (size_t t = 0; !rc && t < o->ntags; t++)
		rc = hlx_entry_add_tag(e, o->tags[t], strlen(o->tags[t]));
	if (!rc && o->has_first_seen)
		e->first_seen = o->first_seen;
	if (!rc && o->confidence >= 0)
		e->confidence = o->confidence;
	return rc;
}

int cmd_add(struct hlx_cli *cli, const struct cli_args *a)
{
	struct add_opts o = { cli_text(a, "category"), NULL, 0,
			      cli_time(a, "first-seen", 0),
			      cli_given(a, "first-seen") != 0,
			      (int)cli_num(a, "confidence", (uint64_t)-1) };
	const char *const *urls;
	size_t nurls;
	struct hlx_changeset *cs = NULL;
	struct hlx_node *n = cli->node;
	struct hlx_entry *e = NULL;
	const char *list = a->argv[0];
	int rc, ret = 0, i;

	o.tags = cli_all(a, "tag", &o.ntags);
	urls = cli_all(a, "url", &nurls);
	if (o.ntags > HLX_TAGS_MAX)
		return cli_usage(cli->cmd, "at most %d tags", HLX_TAGS_MAX);
	if (a->argc < 2 && !nurls)
		return cli_usage(cli->cmd,
				 "nothing to add to '%s': give a TYPE:HASH or --url URL",
				 list);
	e = malloc(sizeof(*e));
	if (!e || hlx_changeset_new(&cs)) {
		ret = cli_fail(HLX_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 1; i < a->argc; i++) {
		hlx_entry_init(e);
		rc = hlx_hash_parse(a->argv[i], strlen(a->argv[i]), &e->hash);
		if (!rc)
			rc = add_meta(&o, e);
		if (!rc)
			rc = hlx_changeset_put(cs, e);
		if (rc) {
			ret = cli_fail(rc, "cannot add '%.200s'", a->argv[i]);
			goto out;
		}
	}
	/* check every URL before keeping any; their errors never quote
	 * them (node/urls.h) */
	for (i = 0; i < (int)nurls; i++) {
		hlx_entry_init(e);
		rc = hlx_urls_item(urls[i], strlen(urls[i]), &e->hash, NULL);
		if (!rc)
			rc = add_meta(&o, e);
		if (rc) {
			ret = cli_fail(rc, "cannot add --url number %d", i + 1);
			goto out;
		}
	}
	/* keep each raw URL, sealed, before the list holds its hash */
	for (i = 0; i < (int)nurls; i++) {
		hlx_entry_init(e);
		rc = hlx_urls_put(hlx_node_home(n), urls[i], strlen(urls[i]),
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
	hlx_changeset_free(cs);
	free(e);
	return ret;
}

int cmd_retract(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *reason = cli_text(a, "reason") ? cli_text(a, "reason") : "other";
	struct hlx_changeset *cs = NULL;
	struct hlx_hash *h = NULL;
	char summary[64];
	int rc, ret = 0;

	h = malloc(sizeof(*h));
	if (!h || hlx_changeset_new(&cs)) {
		free(h);
		return cli_fail(HLX_ENOMEM, "out of memory");
	}
	for (int i = 1; i < a->argc; i++) {
		rc = hlx_hash_parse(a->argv[i], strlen(a->argv[i]), h);
		if (!rc)
			rc = hlx_changeset_retract(cs, h);
		if (rc) {
			ret = cli_fail(rc, "cannot retract '%.200s'", a->argv[i]);
			goto out;
		}
	}
	snprintf(summary, sizeof(summary), "retract (%s)", reason);
	ret = apply(cli, cli->node, a->argv[0], cs, summary);
	/* a withdrawn URL item's raw URL goes with it */
	if (!ret && (rc = hlx_urls_forget_unlisted(cli->node, NULL)))
		ret = cli_fail(rc, "cannot forget the raw URLs of retracted items");
out:
	hlx_changeset_free(cs);
	free(h);
	return ret;
}
