/* SPDX-License-Identifier: MIT */
/* hlx status: this organisation's removal-status log, and what every peer
 * has published about an item. */
#include "node/cli/cmds.h"
#include "node/cli/glance.h"
#include "node/lists.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_LIST "status"

struct set_opts {
	const char *state, *country;
	int64_t reported;   /* 0: not given */
};

static int status_set(struct hlx_cli *cli, struct hlx_node *n, const char *item,
		      const struct set_opts *o)
{
	struct hlx_status *st = malloc(sizeof(*st));
	struct hlx_changeset *cs = NULL;
	struct hlx_store_txn *t = NULL;
	struct hlx_apply_result r;
	struct hlx_list_rec rec;
	struct hlx_buf meta = HLX_BUF_INIT, line = HLX_BUF_INIT;
	int rc;

	if (!st)
		return hlx_err(HLX_ENOMEM, "out of memory");
	hlx_status_init(st);
	rc = hlx_hash_parse(item, strlen(item), &st->item);
	if (!rc)
		rc = hlx_state_parse(o->state, strlen(o->state), &st->state);
	if (!rc && o->country) {
		char cc[3] = "";

		/* --country de means DE */
		for (size_t i = 0; i < 2 && o->country[i]; i++)
			cc[i] = (char)(o->country[i] >= 'a' && o->country[i] <= 'z' ?
				       o->country[i] - 'a' + 'A' : o->country[i]);
		rc = strlen(o->country) == 2 ?
		     hlx_status_country_check(cc, 2) :
		     hlx_status_country_check(o->country, strlen(o->country));
		if (!rc)
			memcpy(st->country, cc, sizeof(st->country));
	}
	if (rc)
		goto out;
	/* the status log exists from the first record on */
	rc = hlx_list_get(n, STATUS_LIST, &rec);
	if (rc == HLX_ENOENT) {
		rc = hlx_list_create(n, STATUS_LIST);
		if (!rc)
			rc = hlx_list_get(n, STATUS_LIST, &rec);
	}
	if (rc)
		goto out;
	/* keep when it was first reported, and the country if not given */
	rc = hlx_store_begin(hlx_node_store(n), &t);
	if (!rc)
		rc = hlx_store_get(t, rec.id, &st->item, &meta);
	hlx_store_abort(t);
	if (rc == HLX_OK) {
		struct hlx_status *old = malloc(sizeof(*old));
		char text[HLX_HASH_TEXT_MAX];

		rc = old ? hlx_hash_format(&st->item, text, sizeof(text)) :
			   hlx_err(HLX_ENOMEM, "out of memory");
		if (!rc)
			rc = hlx_buf_printf(&line, "%s\t%.*s\n", text, (int)meta.len,
					    (const char *)meta.data);
		if (!rc)
			rc = hlx_status_decode((char *)line.data, line.len, old);
		if (!rc) {
			st->reported = old->reported;
			if (!st->country[0])
				memcpy(st->country, old->country, sizeof(st->country));
		}
		free(old);
		if (rc)
			goto out;
	} else if (rc != HLX_ENOENT) {
		goto out;
	} else {
		st->reported = o->reported ? o->reported : cli->now;
	}
	st->changed = st->state == HLX_STATE_REPORTED ? st->reported : cli->now;
	if (st->changed < st->reported)
		st->changed = st->reported;
	rc = hlx_changeset_new(&cs);
	if (!rc)
		rc = hlx_changeset_put_status(cs, st);
	if (!rc)
		rc = hlx_list_apply(n, STATUS_LIST, cs, "status", cli_getpass, cli,
				    cli->now, &r);
	if (!rc)
		fprintf(stderr, "hlx: status of '%s': %s%s%s (status log version %" PRIu64 ")\n",
			item, o->state, st->country[0] ? " in " : "", st->country,
			r.version);
out:
	hlx_changeset_free(cs);
	hlx_buf_free(&meta);
	hlx_buf_free(&line);
	free(st);
	return rc;
}

/* Records from JSON Lines (a case system's export) as one version; a bad
 * line stops it with its number and nothing is committed. */
static int status_import(struct hlx_cli *cli, struct hlx_node *n,
			 const char *file)
{
	struct hlx_status *st = malloc(sizeof(*st));
	struct hlx_changeset *cs = NULL;
	struct hlx_apply_result r;
	struct hlx_buf in = HLX_BUF_INIT;
	struct hlx_list_rec rec;
	size_t lineno = 0, count = 0, off = 0;
	int rc = st ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	if (!rc)
		rc = cli_read_file(file, (size_t)1 << 30, &in);
	if (!rc)
		rc = hlx_changeset_new(&cs);
	if (!rc && in.len >= 3 && !memcmp(in.data, CLI_BOM, 3))
		off = 3; /* a UTF-8 byte order mark */
	while (!rc && off < in.len) {
		const char *l = (const char *)in.data + off;
		const char *nl = memchr(l, '\n', in.len - off);
		size_t len = nl ? (size_t)(nl - l) : in.len - off;

		off += len + (nl ? 1 : 0);
		lineno++;
		if (len == 0 || (len == 1 && l[0] == '\r'))
			continue;
		rc = hlx_status_from_json(l, len, st);
		if (!rc)
			rc = hlx_changeset_put_status(cs, st);
		if (rc)
			rc = hlx_err_wrap(rc, "line %zu", lineno);
		count++;
	}
	if (!rc) {
		rc = hlx_list_get(n, STATUS_LIST, &rec);
		if (rc == HLX_ENOENT)
			rc = hlx_list_create(n, STATUS_LIST);
	}
	if (!rc)
		rc = hlx_list_apply(n, STATUS_LIST, cs, "status import", cli_getpass,
				    cli, cli->now, &r);
	if (!rc)
		fprintf(stderr, "hlx: %zu status records imported (status log version %"
			PRIu64 ")\n", count, r.version);
	hlx_changeset_free(cs);
	hlx_buf_free(&in);
	free(st);
	return rc;
}

static int print_line(void *ctx, const char *line, size_t len)
{
	(void)ctx;
	fwrite(line, 1, len, stdout);
	return 0;
}

struct show_ctx {
	struct hlx_list_rec *lists;
	size_t nlists;
	const char *item;
	unsigned hits;
	struct cli_glance_arr *json;   /* --json: the records, or NULL */
};

static int collect(void *ctx, const struct hlx_list_rec *l)
{
	struct show_ctx *c = ctx;
	void *p;

	if (!hlx_is_status_list(l->name))
		return 0;
	p = realloc(c->lists, (c->nlists + 1) * sizeof(*c->lists));
	if (!p)
		return hlx_err(HLX_ENOMEM, "out of memory");
	c->lists = p;
	c->lists[c->nlists++] = *l;
	return 0;
}

static int show_hit(void *ctx, size_t q, uint32_t list, const char *meta,
		    size_t metalen)
{
	struct show_ctx *c = ctx;
	int rc;

	(void)q;
	for (size_t i = 0; i < c->nlists; i++) {
		if (c->lists[i].id != list)
			continue;
		rc = c->json ? cli_glance_status_add(c->json, c->lists[i].owner,
						     c->item, meta, metalen) : 0;
		if (rc)
			return rc;
		if (!c->json)
			printf("%s\t%s\t%.*s\n", c->lists[i].owner, c->item,
			       (int)metalen, meta);
		c->hits++;
	}
	return 0;
}

int cmd_status_set(struct hlx_cli *cli, const struct cli_args *a)
{
	struct set_opts o = { cli_text(a, "state"), cli_text(a, "country"),
			      cli_time(a, "reported", 0) };
	int rc;

	if (!o.state)
		return cli_usage(cli->cmd, "--state STATE is required");
	rc = status_set(cli, cli->node, a->argv[0], &o);
	return rc ? cli_fail(rc, "cannot set the status of '%.200s'", a->argv[0]) : 0;
}

int cmd_status_import(struct hlx_cli *cli, const struct cli_args *a)
{
	int rc = status_import(cli, cli->node, a->argv[0]);

	return rc ? cli_fail(rc, "cannot import status records from '%.200s'",
			     a->argv[0]) : 0;
}

int cmd_status_ls(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_list_rec rec;
	struct hlx_hist *h = NULL;
	char head[41];
	int rc = hlx_list_get(cli->node, STATUS_LIST, &rec);

	(void)a;
	if (rc == HLX_ENOENT)
		return 0; /* no record yet */
	if (!rc)
		rc = hlx_list_open_hist(cli->node, STATUS_LIST, &h);
	if (!rc && (rc = hlx_hist_head(h, head)) == HLX_OK)
		rc = hlx_hist_foreach(h, head, print_line, NULL);
	if (rc == HLX_ENOENT)
		rc = HLX_OK;
	hlx_hist_free(h);
	return rc ? cli_fail(rc, "cannot list the status log") : 0;
}

int cmd_status_show(struct hlx_cli *cli, const struct cli_args *a)
{
	struct show_ctx c = { NULL, 0, a->argv[0], 0, NULL };
	struct hlx_hash *q = malloc(sizeof(*q));
	const struct hlx_hash *qp = q;
	struct hlx_store *s = hlx_node_store(cli->node);
	int rc, ret = 0;

	rc = q ? hlx_hash_parse(a->argv[0], strlen(a->argv[0]), q) :
		 hlx_err(HLX_ENOMEM, "out of memory");
	if (!rc && cli_given(a, "json"))
		rc = cli_glance_status_new(&c.json);
	if (!rc)
		rc = hlx_store_list_foreach(s, collect, &c);
	if (!rc)
		rc = hlx_store_lookup(s, &qp, 1, show_hit, &c);
	if (rc)
		ret = cli_fail(rc, "cannot show the status of '%.200s'", a->argv[0]);
	else if (c.json)
		ret = cli_glance_status_print(c.json);   /* [] when none */
	if (!ret && !c.hits)
		ret = HLX_EXIT_FAILED;
	if (rc)
		cli_glance_status_free(c.json);
	free(c.lists);
	free(q);
	return ret;
}
