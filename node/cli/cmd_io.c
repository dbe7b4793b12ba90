/* SPDX-License-Identifier: MIT */
/* hlx import, export, log, show, diff, lookup, fsck, reindex. */
#include "node/cli/cmds.h"
#include "node/lists.h"
#include "node/lookup.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "protocol/csv.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_IN (256 * 1024)

/* ---- import ------------------------------------------------------------- */

enum { F_AUTO, F_CSV, F_JSONL };

int cmd_import(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *fmt = cli_text(a, "format");
	struct { int format, skip_invalid; } o = {
		!fmt ? F_AUTO : !strcmp(fmt, "csv") ? F_CSV : F_JSONL,
		cli_given(a, "skip-invalid") != 0 };
	struct hlx_changeset *cs = NULL;
	struct hlx_node *n = cli->node;
	struct hlx_entry *e = NULL;
	const char *list = a->argv[0], *path = a->argv[1];
	char *line = NULL;
	size_t cap = 0, lineno = 0, skipped = 0, rows = 0;
	ssize_t len;
	int cols[HLX_CSV_COLS_MAX], ncols = 0, header = 0, progress, ret, rc;
	FILE *in = NULL;

	if (o.format == F_AUTO) {
		size_t pl = strlen(path);

		if (pl > 4 && !strcmp(path + pl - 4, ".csv"))
			o.format = F_CSV;
		else if ((pl > 6 && !strcmp(path + pl - 6, ".jsonl")) ||
			 (pl > 7 && !strcmp(path + pl - 7, ".ndjson")))
			o.format = F_JSONL;
	}
	/* Check the list before reading a large input. */
	{
		struct hlx_list_rec rec;

		rc = hlx_list_get(n, list, &rec);
		if (rc) {
			ret = cli_fail(rc, "cannot import into list '%s'", list);
			goto out;
		}
	}
	in = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!in) {
		ret = cli_fail(errno == ENOENT ? HLX_ENOENT : HLX_EIO,
			       "cannot open '%s': %s", path, strerror(errno));
		goto out;
	}
	e = malloc(sizeof(*e));
	if (!e || hlx_changeset_new(&cs)) {
		ret = cli_fail(HLX_ENOMEM, "out of memory");
		goto out;
	}
	progress = isatty(STDERR_FILENO);
	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		if (len > LINE_MAX_IN) {
			rc = hlx_err(HLX_ETOOBIG, "line longer than %d bytes",
				     LINE_MAX_IN);
			goto bad;
		}
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if ((size_t)len != strlen(line)) {
			rc = hlx_err(HLX_EINVAL, "NUL byte in the line");
			goto bad;
		}
		if (len == 0)
			continue;
		if (o.format == F_AUTO)
			o.format = line[0] == '{' ? F_JSONL : F_CSV;
		if (o.format == F_CSV && !header) {
			rc = hlx_csv_header(line, cols, &ncols);
			if (rc) {
				ret = cli_fail(rc, "cannot import '%s' line %zu",
					       path, lineno);
				goto out;
			}
			header = 1;
			continue;
		}
		rows++;
		if (o.format == F_CSV)
			rc = hlx_csv_entry(line, cols, ncols, e);
		else
			rc = hlx_entry_from_json(line, (size_t)len, e);
		if (!rc)
			rc = hlx_changeset_put(cs, e);
		if (rc) {
bad:
			if (!o.skip_invalid || rc == HLX_ENOMEM) {
				ret = cli_fail(rc, "cannot import '%s' line %zu",
					       path, lineno);
				fprintf(stderr, "hlx: nothing was imported (use --skip-invalid to import the valid rows)\n");
				goto out;
			}
			fprintf(stderr, "hlx: skipped '%s' line %zu: %s\n", path,
				lineno, hlx_err_detail());
			skipped++;
		}
		if (progress && (lineno & 0xffff) == 0)
			fprintf(stderr, "\rhlx: import: %zu lines read", lineno);
	}
	if (ferror(in)) {
		ret = cli_fail(HLX_EIO, "cannot read '%s'", path);
		goto out;
	}
	if (progress && lineno > 0xffff)
		fprintf(stderr, "\rhlx: import: %zu lines read, writing the version\n",
			lineno);
	if (o.format == F_CSV && !header) {
		ret = cli_fail(HLX_EINVAL, "cannot import '%s'", path);
		fprintf(stderr, "hlx: a CSV file needs a header line\n");
		goto out;
	}
	ret = 0;
	{
		struct hlx_apply_result r;
		char summary[64];

		snprintf(summary, sizeof(summary), "import of %zu rows", rows - skipped);
		rc = hlx_list_apply(n, list, cs, summary, cli_getpass, cli,
				    cli->now, &r);
		if (rc) {
			ret = cli_fail(rc, "cannot import into list '%s'", list);
			goto out;
		}
		fprintf(stderr, "hlx: read %zu rows, %zu skipped\n", rows, skipped);
		if (!r.changed)
			fprintf(stderr, "hlx: list '%s' unchanged at version %" PRIu64
				" (%" PRIu64 " entries)\n", list, r.version, r.count);
		else
			fprintf(stderr, "hlx: list '%s' version %" PRIu64 ": %" PRIu64
				" added, %" PRIu64 " updated, %" PRIu64 " unchanged, %" PRIu64
				" duplicates merged; %" PRIu64 " entries\n", list,
				r.version, r.added, r.updated, r.unchanged, r.merged,
				r.count);
	}
out:
	if (in && in != stdin)
		fclose(in);
	free(line);
	free(e);
	hlx_changeset_free(cs);
	return ret;
}

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
	int jsonl;
	struct hlx_entry *e;
	struct hlx_buf out;
	uint64_t n;
};

static int flush_out(struct hlx_buf *b, int force)
{
	if (b->len >= (1 << 16) || (force && b->len)) {
		if (fwrite(b->data, 1, b->len, stdout) != b->len)
			return hlx_err(HLX_EIO, "cannot write standard output: %s",
				       strerror(errno));
		hlx_buf_reset(b);
	}
	return HLX_OK;
}

static int export_line(void *ctx, const char *line, size_t len)
{
	struct export_ctx *c = ctx;
	int rc;

	c->n++;
	if (c->jsonl) {
		rc = hlx_entry_decode(line, len, c->e);
		if (!rc)
			rc = hlx_entry_to_json(c->e, &c->out);
		if (!rc)
			rc = hlx_buf_putc(&c->out, '\n');
		return rc ? rc : flush_out(&c->out, 0);
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
	return flush_out(&c->out, 0);
}

int cmd_export(struct hlx_cli *cli, const struct cli_args *a)
{
	struct export_ctx c = { 0 };
	struct hlx_hist_version v;
	struct hlx_list_rec rec;
	struct hlx_hist *h = NULL;
	int rc, ret = 0;

	c.jsonl = cli_text(a, "format") && !strcmp(cli_text(a, "format"), "jsonl");
	hlx_buf_init(&c.out);
	c.e = malloc(sizeof(*c.e));
	rc = c.e ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");
	if (!rc)
		rc = hlx_list_open(cli->node, a->argv[0], &rec, &h);
	if (!rc)
		rc = pick_version(h, cli_text(a, "version"), &v);
	if (!rc && !c.jsonl)
		rc = hlx_buf_puts(&c.out, "hash,category,first_seen,confidence,tags\n");
	if (!rc)
		rc = hlx_hist_foreach(h, v.oid, export_line, &c);
	if (!rc)
		rc = flush_out(&c.out, 1);
	if (rc)
		ret = cli_fail(rc, "cannot export list '%s'", a->argv[0]);
	hlx_buf_free(&c.out);
	free(c.e);
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
	struct hlx_buf sig = HLX_BUF_INIT, data = HLX_BUF_INIT;
	struct hlx_sshsig *s = NULL;
	struct hlx_hist_version v;
	struct hlx_list_rec rec;
	struct hlx_node *n = cli->node;
	struct hlx_hist *h = NULL;
	char t[HLX_TIME_TEXT], f[HLX_FPR_LEN] = "-";
	uint64_t count = 0;
	const char *verdict = "no signature";
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
	if (hlx_hist_signature(h, v.oid, &sig, &data) == HLX_OK &&
	    hlx_sshsig_parse_armor((char *)sig.data, sig.len, &s) == HLX_OK) {
		hlx_sshkey_fingerprint(hlx_sshsig_signer(s), f);
		if (hlx_sshsig_verify(s, "git", data.data, data.len) != HLX_OK)
			verdict = "BAD signature";
		else if (hlx_trust_check(hlx_home_trust(hlx_node_home(n)),
					 hlx_sshsig_signer(s), v.time) != HLX_OK)
			verdict = hlx_err_detail();
		else
			verdict = "good signature";
	}
	hlx_time_format(v.time, t);
	printf("list:      %s\nowner:     %s\nversion:   %" PRIu64 "\ncommit:    %s\n"
	       "parent:    %s\ntime:      %s\nentries:   %" PRIu64 "\nsummary:   %s\n"
	       "signer:    %s (%s)\n", rec.name, rec.owner, v.version, v.oid,
	       v.parent[0] ? v.parent : "-", t, count, v.summary, f, verdict);
out:
	hlx_sshsig_free(s);
	hlx_buf_free(&sig);
	hlx_buf_free(&data);
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

static int write_stdout(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	if (fwrite(p, 1, n, stdout) != n)
		return hlx_err(HLX_EIO, "cannot write standard output: %s",
			       strerror(errno));
	return HLX_OK;
}

int cmd_lookup(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_lookup *lk = NULL;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc, ret, from_stdin = a->argc == 1 && !strcmp(a->argv[0], "-");

	rc = hlx_lookup_new(cli->node, cli_given(a, "json") != 0, write_stdout,
			    NULL, &lk);
	for (int ai = 0; !rc;) {
		const char *q;
		size_t ql;

		if (from_stdin) {
			len = getline(&line, &cap, stdin);
			if (len < 0)
				break;
			lineno++;
			if (len && line[len - 1] == '\n')
				line[--len] = '\0';
			if (len && line[len - 1] == '\r')
				line[--len] = '\0';
			if (len == 0)
				continue;
			q = line;
			ql = (size_t)len;
		} else {
			if (ai >= a->argc)
				break;
			q = a->argv[ai++];
			ql = strlen(q);
			lineno++;
		}
		rc = hlx_lookup_add(lk, q, ql);
		if (rc == HLX_EINVAL || rc == HLX_EUNSUPPORTED || rc == HLX_ETOOBIG)
			rc = hlx_err_wrap(rc, "%s %zu", from_stdin ? "line" : "argument",
					  lineno);
	}
	if (!rc)
		rc = hlx_lookup_flush(lk);
	if (!rc && fflush(stdout) != 0)
		rc = hlx_err(HLX_EIO, "cannot write standard output");
	if (rc)
		ret = cli_fail(rc, "cannot look up");
	else
		ret = hlx_lookup_hits(lk) ? 0 : HLX_EXIT_FAILED;
	free(line);
	hlx_lookup_free(lk);
	return ret;
}

/* ---- fsck and reindex --------------------------------------------------- */

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
		fprintf(stderr, "hlx: fsck: %zu lists, %" PRIu64 " versions, %" PRIu64
			" entries, %zu with problems\n", total, tv, te, bad);
	else
		fprintf(stderr, "hlx: reindexed %zu lists, %" PRIu64 " entries%s\n",
			total - bad, te, bad ? " (some failed)" : "");
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
