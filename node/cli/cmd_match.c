/* SPDX-License-Identifier: MIT */
/* hlx match: exact and PDQ near matching against the node's lists. */
#include "node/cli/cmds.h"
#include "node/cli/glance.h"
#include "node/match.h"
#include "protocol/err.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#define BATCH 32768
/* Longest input line: the longest hash text, a CR and a LF. */
#define LINE_MAX_IN (HLX_HASH_TEXT_MAX + 2)

/* Peak resident memory of this process in KiB (Linux), or 0. */
static unsigned long peak_rss_kib(void)
{
	char line[256];
	unsigned long v = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %lu kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- matching ----------------------------------------------------------- */

struct out_ctx {
	const struct hlx_hash *q; /* the batch */
	struct hlx_buf out;
	uint64_t matches;
	size_t last;              /* query whose text is in qt, or SIZE_MAX */
	char qt[HLX_HASH_TEXT_MAX];
};

/* Needs no JSON escaping: [a-z0-9._-], as list, organisation and
 * category tokens are. */
static int plain(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int put_str(struct hlx_buf *b, const char *key, const char *v)
{
	int rc = hlx_buf_puts(b, key);

	if (!rc)
		rc = hlx_buf_puts(b, v);
	return rc;
}

static int put_u64(struct hlx_buf *b, const char *key, uint64_t v)
{
	char d[24], *p = d + sizeof(d);
	int rc = hlx_buf_puts(b, key);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return rc ? rc : hlx_buf_put(b, p, (size_t)(d + sizeof(d) - p));
}

/*
 * One JSON object a line.  The hash texts are canonical (type:lowercase
 * hex, from hlx_hash_format), and list, organisation and category are
 * tokens validated on their way into the node, so none needs escaping and
 * the line is put together directly; should a token not be plain, jansson
 * writes the line.  "status" lists the removal-status records of every
 * status log (ours and peers') for the matched hash, or is null.
 */
static int on_match(void *ctx, const struct hlx_match *m)
{
	struct out_ctx *c = ctx;
	struct hlx_buf *b = &c->out;
	char mt[HLX_HASH_TEXT_MAX];
	int rc;

	if (c->last != m->query) {
		rc = hlx_hash_format(&c->q[m->query], c->qt, sizeof(c->qt));
		if (rc)
			return rc;
		c->last = m->query;
	}
	rc = hlx_hash_format(m->hash, mt, sizeof(mt));
	if (rc)
		return rc;
	if (plain(m->list->name) && plain(m->list->owner) && plain(m->category)) {
		rc = put_str(b, "{\"query\":\"", c->qt);
		if (!rc)
			rc = put_str(b, "\",\"match\":\"", mt);
		if (!rc)
			rc = put_u64(b, "\",\"distance\":", m->distance);
		if (!rc)
			rc = put_str(b, ",\"list\":\"", m->list->name);
		if (!rc)
			rc = put_u64(b, "\",\"version\":", m->list->version);
		if (!rc)
			rc = put_str(b, ",\"origin\":\"", m->list->owner);
		if (!rc && m->category[0])
			rc = put_str(b, "\",\"category\":\"", m->category);
		if (!rc)
			rc = hlx_buf_puts(b, m->category[0] ? "\",\"status\":" :
					  "\",\"category\":null,\"status\":");
		if (!rc && m->status)
			rc = hlx_buf_put(b, m->status, m->status_len);
		else if (!rc)
			rc = hlx_buf_puts(b, "null");
		if (!rc)
			rc = hlx_buf_puts(b, "}\n");
	} else {
		json_t *st = m->status ? json_loadb(m->status, m->status_len, 0, NULL) :
					 json_null();
		json_t *o = json_pack("{s:s,s:s,s:i,s:s,s:I,s:s,s:s?,s:o}",
				      "query", c->qt, "match", mt, "distance",
				      (int)m->distance, "list", m->list->name,
				      "version", (json_int_t)m->list->version,
				      "origin", m->list->owner, "category",
				      m->category[0] ? m->category : NULL,
				      "status", st ? st : json_null());
		char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
			      NULL;

		json_decref(o);
		if (!s)
			return hlx_err(HLX_ENOMEM, "out of memory");
		rc = hlx_buf_puts(b, s);
		free(s);
		if (!rc)
			rc = hlx_buf_putc(b, '\n');
	}
	c->matches++;
	return rc ? rc : cli_flush_out(b, 0);
}

/* A stream of queries matched in batches. */
struct stream {
	struct hlx_matcher *m;
	struct out_ctx c;
	struct hlx_hash *q;            /* BATCH queries */
	const struct hlx_hash **qp;    /* pointers to them */
	size_t nq, total, skipped;
	double t_open, t_match;
};

static int stream_batch(struct stream *s)
{
	double t0 = now_s();
	int rc = s->nq ? hlx_matcher_match(s->m, s->qp, s->nq, on_match, &s->c) :
		 HLX_OK;

	s->t_match += now_s() - t0;
	s->total += s->nq;
	s->nq = 0;
	s->c.last = SIZE_MAX;
	return rc;
}

/* Every line of the input, a hash each (blank lines skipped); what came
 * before a bad line is still answered. */
static int stream_read(struct stream *s, struct cli_lines *r, const char *path,
		       int skip_invalid)
{
	char *line;
	size_t len;
	int rc = HLX_OK, got;

	while ((got = cli_lines_next(r, &line, &len)) != 0) {
		if (got == HLX_EIO) {
			rc = hlx_err(HLX_EIO, "cannot read '%s'", path);
			break;
		}
		if (got > 0 && len == 0)
			continue;
		rc = got < 0 ? got : hlx_hash_parse(line, len, &s->q[s->nq]);
		if (rc && skip_invalid) {
			fprintf(stderr, "hlx: skipped '%s' line %zu: %s\n", path,
				r->lineno, hlx_err_detail());
			s->skipped++;
			rc = HLX_OK;
			continue;
		}
		if (rc) {
			rc = hlx_err_wrap(rc, "'%s' line %zu", path, r->lineno);
			break;
		}
		if (++s->nq == BATCH && (rc = stream_batch(s)))
			return rc;
	}
	got = stream_batch(s);
	return rc ? rc : got;
}

static void stream_stats(struct stream *s)
{
	struct hlx_match_status st;
	double search;

	hlx_matcher_status(s->m, &st);
	/* the tables were built during the first pdq batch */
	search = s->t_match - st.build_seconds;
	fprintf(stderr,
		"hlx: match: index of %" PRIu64 " lists: %" PRIu64 " PDQ hashes (base %"
		PRIu64 ", added %" PRIu64 ", removed %" PRIu64 "), %.1f MiB, %.1f bytes a hash\n",
		st.lists, st.base + st.added - st.removed, st.base, st.added,
		st.removed, (double)st.memory / (1 << 20),
		st.base + st.added ? (double)st.memory /
				     (double)(st.base + st.added) : 0.0);
	fprintf(stderr,
		"hlx: match: opened in %.3f s (%s); search tables %s%.3f s",
		s->t_open, st.rebuilt ? "built afresh from the histories" :
		st.loaded ? "loaded" : "built", st.write_seconds > 0 ?
		"built and written to the index files in " : st.tables_shared ?
		"mapped from the index files in " : st.tables ? "built in " :
		"not needed, ", st.build_seconds);
	if (st.write_seconds > 0)
		fprintf(stderr, " (writing them %.3f s)", st.write_seconds);
	fputc('\n', stderr);
	fprintf(stderr,
		"hlx: match: %zu queries (%" PRIu64 " pdq) in %.3f s: %.0f queries/s; %"
		PRIu64 " matches; %.0f index entries examined a pdq query\n",
		s->total, st.pdq_queries, search,
		search > 0 ? (double)s->total / search : 0.0, s->c.matches,
		st.pdq_queries ? (double)st.scanned / (double)st.pdq_queries : 0.0);
	fprintf(stderr, "hlx: match: peak resident memory %.1f MiB\n",
		(double)peak_rss_kib() / 1024);
}

static int match_stream(struct hlx_cli *cli, const struct cli_args *a,
			const char *path)
{
	struct hlx_match_opts mo = {
		.threads = (unsigned)cli_num(a, "threads", 0),
		.threshold = (int)cli_num(a, "threshold", (uint64_t)-1) };
	struct stream s = { 0 };
	struct cli_lines r = { 0 };
	int rc, ret;

	s.t_open = now_s();
	hlx_buf_init(&s.c.out);
	s.c.last = SIZE_MAX;
	s.q = malloc(BATCH * sizeof(*s.q));
	s.qp = malloc(BATCH * sizeof(*s.qp));
	rc = s.q && s.qp ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < BATCH; i++)
		s.qp[i] = &s.q[i];
	s.c.q = s.q;
	if (!rc)
		rc = cli_lines_open(&r, path, LINE_MAX_IN);
	if (!rc && (rc = hlx_matcher_open(cli->node, &mo, &s.m)))
		rc = hlx_err_wrap(rc, "cannot open the match index");
	s.t_open = now_s() - s.t_open;
	if (!rc)
		rc = stream_read(&s, &r, path, cli_given(a, "skip-invalid") != 0);
	if (cli_flush_out(&s.c.out, 1) && !rc)
		rc = hlx_err(HLX_EIO, "cannot write standard output");
	if (rc) {
		ret = cli_fail(rc, "cannot match");
	} else {
		if (cli_given(a, "stats"))
			stream_stats(&s);
		if (s.skipped)
			fprintf(stderr, "hlx: %zu invalid lines skipped\n", s.skipped);
		ret = s.c.matches ? HLX_EXIT_OK : HLX_EXIT_FAILED;
	}
	cli_lines_close(&r);
	hlx_matcher_free(s.m);
	hlx_buf_free(&s.c.out);
	free(s.q);
	free(s.qp);
	return ret;
}

/* ---- config, status, rebuild ------------------------------------------- */

static void print_conf(const char *list, const struct hlx_match_conf *c)
{
	printf("%s: threshold %d, %s\n", list, c->threshold,
	       c->allow ? "allow-list" : "not an allow-list");
}

int cmd_match_config(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *thr = cli_text(a, "threshold"), *list = a->argv[0];
	int change = thr || cli_given(a, "allow") || cli_given(a, "no-allow");
	struct hlx_match_conf c;
	int rc;

	if (cli_given(a, "allow") && cli_given(a, "no-allow"))
		return cli_usage(cli->cmd, "--allow or --no-allow, not both");
	rc = hlx_match_conf_get(cli->node, list, &c);
	if (!rc && change) {
		if (thr)
			c.threshold = (int)cli_num(a, "threshold",
						   HLX_MATCH_THRESHOLD_DEFAULT);
		if (cli_given(a, "allow") || cli_given(a, "no-allow"))
			c.allow = cli_given(a, "allow") != 0;
		rc = hlx_match_conf_set(cli->node, list, &c);
	}
	if (rc)
		return cli_fail(rc, "cannot %s the match settings of list '%s'",
				change ? "change" : "read", list);
	print_conf(list, &c);
	return 0;
}

static int print_list(void *ctx, const struct hlx_list_rec *l)
{
	struct hlx_match_conf c;
	int rc = hlx_match_conf_get(ctx, l->name, &c);

	if (rc)
		return rc;
	printf("list %s: version %" PRIu64 ", %" PRIu64 " %s, threshold %d, %s\n",
	       l->name, l->version, l->count,
	       cli_noun(l->count, "entry", "entries"), c.threshold,
	       c.allow ? "allow-list" : "not an allow-list");
	return 0;
}

static int match_status(struct hlx_cli *cli, const struct cli_args *a,
			int rebuild)
{
	struct hlx_match_opts mo = {
		.threads = (unsigned)cli_num(a, "threads", 0), .threshold = -1,
		.rebuild = rebuild };
	struct hlx_match_status st;
	struct hlx_matcher *m = NULL;
	struct hlx_node *n = cli->node;
	const char *what;
	int rc, ret = 0;

	rc = hlx_matcher_open(n, &mo, &m);
	if (rc) {
		ret = cli_fail(rc, "cannot %s the match index",
			       rebuild ? "rebuild" : "open");
		goto out;
	}
	hlx_matcher_status(m, &st);
	if (cli_given(a, "json")) {
		ret = cli_glance_match(n, &st);
		goto out;
	}
	if (st.rebuilt)
		what = "built afresh from the histories";
	else if (st.compacted)
		what = "incremental, overlay merged into a new base";
	else if (st.lists_changed)
		what = "incremental";
	else
		what = "up to date";
	printf("lists:           %" PRIu64 "\n", st.lists);
	printf("pdq hashes:      %" PRIu64 "\n", st.base + st.added - st.removed);
	printf("base:            %" PRIu64 "\n", st.base);
	printf("overlay added:   %" PRIu64 "\n", st.added);
	printf("overlay removed: %" PRIu64 "\n", st.removed);
	printf("memory:          %.1f MiB (%" PRIu64 " bytes, search tables %s)\n",
	       (double)st.memory / (1 << 20), st.memory,
	       st.tables ? "included" : "included as they will be built");
	printf("search tables:   %s\n", st.tables_shared ?
	       "mapped from match/pdq.tables (shared between processes)" :
	       st.tables ? "built in memory" :
	       "not built yet (built by the first pdq query)");
	printf("refresh:         %s\n", what);
	printf("lists changed:   %" PRIu64 "\n", st.lists_changed);
	printf("lines read:      %" PRIu64 "\n", st.diff_lines);
	printf("pdq added:       %" PRIu64 "\n", st.pdq_added);
	printf("pdq removed:     %" PRIu64 "\n", st.pdq_removed);
	printf("seconds:         %.3f\n", st.refresh_seconds);
	if (st.note[0])
		printf("note:            %s\n", st.note);
	rc = hlx_store_list_foreach(hlx_node_store(n), print_list, n);
	if (rc)
		ret = cli_fail(rc, "cannot list the lists");
out:
	hlx_matcher_free(m);
	return ret;
}

int cmd_match_status(struct hlx_cli *cli, const struct cli_args *a)
{
	return match_status(cli, a, 0);
}

int cmd_match_rebuild(struct hlx_cli *cli, const struct cli_args *a)
{
	return match_status(cli, a, 1);
}

int cmd_match(struct hlx_cli *cli, const struct cli_args *a)
{
	return match_stream(cli, a, a->argc ? a->argv[0] : "-");
}
