/* SPDX-License-Identifier: MIT */
/* Reading a list's history: hlx export, log, show, diff. */
#include "node/cli/cmds.h"
#include "node/lists.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading versions --------------------------------------------------- */

/* The commit of --version V, or of the head. */
static int pick_version(struct hlx_hist *h, const char *v,
			struct hlx_hist_version *out)
{
	char head[41];
	uint64_t num;
	int rc;

	if (!v) {
		rc = hlx_hist_head(h, head);
		if (rc == HLX_ENOENT)
			return hlx_err(HLX_ENOENT, "the list has no version yet");
		return rc ? rc : hlx_hist_read_version(h, head, out);
	}
	if (cli_parse_uint(v, 1, UINT64_MAX, &num))
		return hlx_err(HLX_EINVAL, "version '%.20s': want a number from 1",
			       v);
	return hlx_hist_find_version(h, num, out);
}

struct export_ctx {
	int jsonl, status;   /* status: removal-status records, not entries */
	struct hlx_entry *e;
	struct hlx_status *st;
	struct hlx_buf out;
	uint64_t n;
};

static int export_line(void *ctx, const char *line, size_t len)
{
	struct export_ctx *c = ctx;
	int rc;

	c->n++;
	if (c->status) {
		rc = hlx_status_decode(line, len, c->st);
		if (!rc)
			rc = hlx_status_to_json(c->st, &c->out);
		if (!rc)
			rc = hlx_buf_putc(&c->out, '\n');
		return rc ? rc : cli_flush_out(&c->out, 0);
	}
	if (c->jsonl) {
		rc = hlx_entry_decode(line, len, c->e);
		if (!rc)
			rc = hlx_entry_to_json(c->e, &c->out);
		if (!rc)
			rc = hlx_buf_putc(&c->out, '\n');
		return rc ? rc : cli_flush_out(&c->out, 0);
	}
	/* CSV straight from the canonical line: TAB -> ',', '-' -> empty,
	 * tags ',' -> ';' */
	{
		int field = 0;
		size_t start = 0;

		for (size_t i = 0; i < len; i++) {
			if (line[i] != '\t' && line[i] != '\n')
				continue;
			if (!(i - start == 1 && line[start] == '-')) {
				for (size_t j = start; j < i; j++) {
					rc = hlx_buf_putc(&c->out,
							  field == 4 && line[j] == ',' ?
							  ';' : (uint8_t)line[j]);
					if (rc)
						return rc;
				}
			}
			rc = hlx_buf_putc(&c->out, line[i] == '\n' ? '\n' : ',');
			if (rc)
				return rc;
			field++;
			start = i + 1;
		}
	}
	return cli_flush_out(&c->out, 0);
}

int cmd_export(struct hlx_cli *cli, const struct cli_args *a)
{
	struct export_ctx c = { 0 };
	struct hlx_hist_version v;
	struct hlx_list_rec rec;
	struct hlx_hist *h = NULL;
	int rc, ret = 0;

	c.jsonl = cli_text(a, "format") && !strcmp(cli_text(a, "format"), "jsonl");
	/* a status log, ours or a peer's, exports as 'status import' reads */
	c.status = hlx_is_status_list(a->argv[0]);
	if (c.status && cli_text(a, "format") && !c.jsonl)
		return cli_usage(cli->cmd, "a status log exports as JSON Lines only "
				 "(what 'hlx status import' reads)");
	hlx_buf_init(&c.out);
	c.e = malloc(sizeof(*c.e));
	c.st = malloc(sizeof(*c.st));
	rc = c.e && c.st ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");
	if (!rc)
		rc = hlx_list_open(cli->node, a->argv[0], &rec, &h);
	if (!rc)
		rc = pick_version(h, cli_text(a, "version"), &v);
	if (!rc && !c.jsonl && !c.status)
		rc = hlx_buf_puts(&c.out, "hash,category,first_seen,confidence,tags\n");
	if (!rc)
		rc = hlx_hist_foreach(h, v.oid, export_line, &c);
	if (!rc)
		rc = cli_flush_out(&c.out, 1);
	if (rc)
		ret = cli_fail(rc, "cannot export list '%s'", a->argv[0]);
	hlx_buf_free(&c.out);
	free(c.e);
	free(c.st);
	hlx_hist_free(h);
	return ret;
}

static int print_version(void *ctx, const struct hlx_hist_version *v)
{
	char t[HLX_TIME_TEXT];

	(void)ctx;
	hlx_time_format(v->time, t);
	printf("version %-6" PRIu64 " %s  %s  %s\n", v->version, v->oid, t,
	       v->summary);
	return 0;
}

int cmd_log(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_list_rec rec;
	struct hlx_hist *h = NULL;
	int rc = hlx_list_open(cli->node, a->argv[0], &rec, &h), ret = 0;

	if (!rc && rec.version)
		rc = hlx_hist_log(h, print_version, NULL);
	if (rc)
		ret = cli_fail(rc, "cannot read the log of list '%s'", a->argv[0]);
	hlx_hist_free(h);
	return ret;
}

static int count_line(void *ctx, const char *line, size_t len)
{
	(void)line;
	(void)len;
	++*(uint64_t *)ctx;
	return 0;
}

int cmd_show(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_hist_version v;
	struct hlx_list_rec rec;
	struct hlx_node *n = cli->node;
	struct hlx_hist *h = NULL;
	char t[HLX_TIME_TEXT], f[HLX_FPR_LEN] = "-";
	uint64_t count = 0;
	const char *verdict;
	int rc, ret = 0;

	rc = hlx_list_open(n, a->argv[0], &rec, &h);
	if (!rc)
		rc = pick_version(h, cli_text(a, "version"), &v);
	if (!rc)
		rc = hlx_hist_foreach(h, v.oid, count_line, &count);
	if (rc) {
		ret = cli_fail(rc, "cannot show list '%s'", a->argv[0]);
		goto out;
	}
	verdict = hlx_list_check_signer(n, a->argv[0], h, &v, f) == HLX_OK ?
		  "good signature" : hlx_err_detail();
	hlx_time_format(v.time, t);
	/* two times for a peer's version: its own, signed in its commit (as
	 * 'log' shows), and that of the peer's signed head it came with (as
	 * 'list ls' shows) */
	printf("list:      %s\nowner:     %s\nversion:   %" PRIu64 "\ncommit:    %s\n"
	       "parent:    %s\ntime:      %s (the version's own, signed in its commit)\n",
	       rec.name, rec.owner, v.version, v.oid,
	       v.parent[0] ? v.parent : "-", t);
	if (strchr(rec.name, '/') && v.version == rec.version && rec.updated) {
		hlx_time_format(rec.updated, t);
		printf("published: %s (the head '%s' signed that this node took it from)\n",
		       t, rec.owner);
	}
	printf("entries:   %" PRIu64 "\nsummary:   %s\nsigner:    %s (%s)\n",
	       count, v.summary, f, verdict);
out:
	hlx_hist_free(h);
	return ret;
}

static int print_diff(void *ctx, const char *line, size_t len, int added)
{
	(void)ctx;
	putchar(added ? '+' : '-');
	fwrite(line, 1, len, stdout);
	return 0;
}

int cmd_diff(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_hist_version va, vb;
	struct hlx_list_rec rec;
	struct hlx_hist *h = NULL;
	int rc, ret = 0;

	rc = hlx_list_open(cli->node, a->argv[0], &rec, &h);
	if (!rc)
		rc = pick_version(h, a->argv[1], &va);
	if (!rc)
		rc = pick_version(h, a->argv[2], &vb);
	if (!rc)
		rc = hlx_hist_diff(h, va.oid, vb.oid, print_diff, NULL);
	if (rc)
		ret = cli_fail(rc, "cannot diff list '%s'", a->argv[0]);
	hlx_hist_free(h);
	return ret;
}
