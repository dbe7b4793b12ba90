/* SPDX-License-Identifier: MIT */
/* hlx audit: the verified log of disclosures (versions of lists, raw URLs of
 * cases), filtered by peer and time. */
#include "node/cli/cmds.h"
#include "node/audit.h"
#include "node/cli/cli.h"
#include "node/home.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct collect {
	const char *peer;
	int64_t since;
	struct hlx_audit_rec *v;
	size_t n, cap;
};

/* Keep the records that pass the filters; print only once all verified. */
static int collect(void *ctx, const struct hlx_audit_rec *r)
{
	struct collect *c = ctx;

	if (c->peer && strcmp(c->peer, r->peer) != 0)
		return 0;
	if (r->time < c->since)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		void *p = reallocarray(c->v, cap, sizeof(*c->v));

		if (!p)
			return hlx_err(HLX_ENOMEM, "out of memory");
		c->v = p;
		c->cap = cap;
	}
	c->v[c->n++] = *r;
	return 0;
}

static int print_json(const struct hlx_audit_rec *r)
{
	char t[HLX_TIME_TEXT];
	json_t *o;
	char *s = NULL;

	hlx_time_format(r->time, t);
	if (r->kind == HLX_AUDIT_URL)
		o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			      "seq", (json_int_t)r->seq, "time", t, "peer", r->peer,
			      "kind", "url", "case", r->case_id, "org", r->org,
			      "path", r->path, "key", r->key);
	else
		o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}",
			      "seq", (json_int_t)r->seq, "time", t, "peer", r->peer,
			      "list", r->list, "audience", r->audience,
			      "from", (json_int_t)r->from, "to", (json_int_t)r->to,
			      "entries", (json_int_t)r->entries, "policy", r->policy,
			      "key", r->key);
	if (o)
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(o);
	if (!s)
		return hlx_err(HLX_ENOMEM, "cannot encode an audit record");
	printf("%s\n", s);
	free(s);
	return HLX_OK;
}

static void print_row(const struct hlx_audit_rec *r)
{
	char t[HLX_TIME_TEXT], v[48];

	hlx_time_format(r->time, t);
	if (r->kind == HLX_AUDIT_URL) {
		/* the raw URL of a case, sealed to the peer of org */
		printf("%-6" PRIu64 " %-20s %-16s raw URL of %s to %s at %s\n",
		       r->seq, t, r->peer, r->case_id, r->org, r->path);
		return;
	}
	if (r->from == r->to)
		snprintf(v, sizeof(v), "%" PRIu64, r->to);
	else
		snprintf(v, sizeof(v), "%" PRIu64 "..%" PRIu64, r->from, r->to);
	printf("%-6" PRIu64 " %-20s %-16s %-20s %-11s %9" PRIu64 " %.12s %.12s\n",
	       r->seq, t, r->peer, r->list, v, r->entries, r->audience, r->policy);
}

int cmd_audit(struct hlx_cli *cli, const struct cli_args *a)
{
	struct collect c = { cli_text(a, "peer"), cli_time(a, "since", HLX_TIME_MIN),
			     NULL, 0, 0 };
	struct hlx_home *h = cli->homeh;
	int json = cli_given(a, "json") != 0, rc, ret = 0;
	char path[PATH_MAX];

	if (hlx_home_path(path, hlx_home_dir(h), HLX_HOME_AUDIT, NULL, NULL))
		path[0] = 0;
	rc = hlx_audit_read(hlx_home_dir(h), hlx_home_trust(h), collect, &c);
	if (rc) {
		const char *d = hlx_err_detail();

		/* "hlx: audit log 'PATH' line N: what" */
		if (!strncmp(d, "line ", 5)) {
			fprintf(stderr, "hlx: audit log '%s' %s\n", path, d);
			ret = cli_exit_code(rc);
		} else {
			ret = cli_fail(rc, "cannot read the audit log '%s'", path);
		}
		goto out;
	}
	if (!json && c.n)
		printf("%-6s %-20s %-16s %-20s %-11s %9s %-12s %s\n", "SEQ",
		       "TIME", "PEER", "LIST", "VERSIONS", "ENTRIES", "AUDIENCE",
		       "POLICY");
	for (size_t i = 0; i < c.n; i++) {
		if (!json) {
			print_row(&c.v[i]);
			continue;
		}
		rc = print_json(&c.v[i]);
		if (rc) {
			ret = cli_fail(rc, "cannot print the audit log");
			break;
		}
	}
out:
	free(c.v);
	return ret;
}
