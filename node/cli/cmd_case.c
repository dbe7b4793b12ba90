/* SPDX-License-Identifier: MIT */
/* hlx case: report, claim, release, hand off and set the state of cases,
 * and show them (spec/cases.md section 9).  The work is node/cases.h;
 * show and ls print in cmd_case_show.c. */
#include "node/cli/cmd_case.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void case_owner_line(const struct hlx_case_view *v, FILE *f)
{
	char t[HLX_TIME_TEXT];

	hlx_time_format(v->owner.since, t);
	fprintf(f, "handled by %s since %s (%s)", v->owner.org, t,
		hlx_case_state_name(v->owner.state));
}

int case_id_arg(const char *s, struct hlx_hash *id)
{
	return hlx_case_id_parse(s, strlen(s), id);
}

/* CC in either case. */
static int country_arg(const char *s, char out[3])
{
	char cc[3] = "";

	if (strlen(s) != 2)
		return hlx_err(HLX_EINVAL, "country '%.8s': not a two-letter code", s);
	for (int i = 0; i < 2; i++)
		cc[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
	if (hlx_status_country_check(cc, 2))
		return hlx_err_wrap(HLX_EINVAL, "country");
	memcpy(out, cc, 3);
	return HLX_OK;
}

static int host_arg(const char *s, char out[HLX_CASE_HOST_MAX + 1])
{
	size_t n = strlen(s);

	if (n == 0 || n > HLX_CASE_HOST_MAX)
		return hlx_err(HLX_EINVAL, "host: empty or too long");
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	return hlx_case_host_check(out, n);
}

/* The optional fields of a report; any of the texts may be NULL. */
static int report_fields(struct hlx_case_new *r, const char *item,
			 const char *country, const char *host,
			 const char *category)
{
	int rc = HLX_OK;

	if (item) {
		rc = hlx_hash_parse(item, strlen(item), &r->item);
		if (rc)
			return hlx_err_wrap(rc, "item");
	}
	if (country && (rc = country_arg(country, r->country)))
		return rc;
	if (host && (rc = host_arg(host, r->host)))
		return hlx_err_wrap(rc, "host");
	if (category) {
		if (strlen(category) > HLX_TOKEN_MAX)
			return hlx_err(HLX_EINVAL, "category: too long");
		snprintf(r->category, sizeof(r->category), "%s", category);
	}
	return hlx_cases_new_check(r);
}

static int report_target(struct hlx_case_new *r, const char *s)
{
	const char *colon = strchr(s, ':');

	/* TYPE:HEX is a hash: a case id, or refused */
	if (colon && colon[1] != '/' && hlx_hash_parse(s, strlen(s), &r->id) == HLX_OK)
		return case_id_arg(s, &r->id);
	hlx_err_clear();
	r->url = s;
	r->urllen = strlen(s);
	return HLX_OK;
}

static int print_report(void *ctx, size_t i, int known,
			const struct hlx_case_view *v)
{
	(void)ctx;
	(void)i;
	if (!v)
		return 0; /* a report of it dated after now: not open yet */
	printf("%s %s: ", known ? "known" : "reported", v->id);
	case_owner_line(v, stdout);
	putchar('\n');
	return 0;
}

static const char *jstr(json_t *o, const char *k, int *bad)
{
	json_t *x = json_object_get(o, k);

	if (!x)
		return NULL;
	if (!json_is_string(x)) {
		*bad = 1;
		return NULL;
	}
	return json_string_value(x);
}

/* One JSON object of `case report -`. */
static int report_json(const char *line, size_t len, struct hlx_case_new *r,
		       char **keep)
{
	json_error_t je;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	const char *k, *url, *cs;
	json_t *val;
	int bad = 0, rc;

	*keep = NULL;
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return hlx_err(HLX_EINVAL, "not a JSON object");
	}
	json_object_foreach(o, k, val) {
		if (strcmp(k, "url") && strcmp(k, "case") && strcmp(k, "item") &&
		    strcmp(k, "country") && strcmp(k, "host") &&
		    strcmp(k, "category")) {
			json_decref(o);
			return hlx_err(HLX_EINVAL, "unknown key '%.40s'", k);
		}
	}
	url = jstr(o, "url", &bad);
	cs = jstr(o, "case", &bad);
	if (!bad && !url == !cs) {
		json_decref(o);
		return hlx_err(HLX_EINVAL, "give one of 'url' and 'case'");
	}
	rc = HLX_OK;
	if (url) {
		*keep = strdup(url);
		if (!*keep)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		r->url = *keep;
		r->urllen = *keep ? strlen(*keep) : 0;
	} else if (cs) {
		rc = case_id_arg(cs, &r->id);
	}
	if (!rc) {
		const char *it = jstr(o, "item", &bad), *cc = jstr(o, "country", &bad);
		const char *h = jstr(o, "host", &bad), *cat = jstr(o, "category", &bad);

		rc = bad ? hlx_err(HLX_EINVAL, "a member that is not a string") :
			   report_fields(r, it, cc, h, cat);
	}
	json_decref(o);
	return rc;
}

static int report_stdin(struct hlx_cli *cli)
{
	struct cli_lines in;
	struct hlx_case_new *r = NULL;
	char **urls = NULL;
	size_t n = 0, cap = 0;
	char *line;
	size_t len;
	int rc, got;

	rc = cli_lines_open(&in, "-", HLX_CASES_REPORT_LINE_MAX);
	if (rc)
		return cli_fail(rc, "cannot read reports");
	while ((got = cli_lines_next(&in, &line, &len)) != 0) {
		if (got < 0) {
			rc = got;
			break;
		}
		if (len == 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			void *a = realloc(r, nc * sizeof(*r));
			void *b = a ? realloc(urls, nc * sizeof(*urls)) : NULL;

			if (a)
				r = a;
			if (b)
				urls = b;
			if (!a || !b) {
				rc = hlx_err(HLX_ENOMEM, "out of memory");
				break;
			}
			cap = nc;
		}
		memset(&r[n], 0, sizeof(r[n]));
		rc = report_json(line, len, &r[n], &urls[n]);
		n++;
		if (rc)
			break;
	}
	if (rc) {
		rc = rc == HLX_EIO ? cli_fail(rc, "cannot read reports") :
		     cli_fail(HLX_EINVAL, "cannot report: line %zu", in.lineno);
	} else {
		rc = hlx_cases_report(cli->node, r, n, cli->now, cli_getpass, cli,
				      print_report, NULL);
		rc = rc ? cli_fail(rc, "cannot report") : 0;
	}
	cli_lines_close(&in);
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	free(r);
	return rc;
}

int cmd_case_report(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_case_new *r;
	const char *what = a->argv[0];
	int rc;

	if (!strcmp(what, "-")) {
		if (cli_given(a, "item") || cli_given(a, "country") ||
		    cli_given(a, "host") || cli_given(a, "category"))
			return cli_usage(cli->cmd,
					 "with '-' the fields come with each report");
		return report_stdin(cli);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return cli_fail(HLX_ENOMEM, "cannot report");
	rc = report_target(r, what);
	if (!rc)
		rc = report_fields(r, cli_text(a, "item"), cli_text(a, "country"),
				   cli_text(a, "host"), cli_text(a, "category"));
	if (!rc)
		rc = hlx_cases_report(cli->node, r, 1, cli->now, cli_getpass, cli,
				      print_report, NULL);
	free(r);
	return rc ? cli_fail(rc, "cannot report '%.200s'", what) : 0;
}

struct act_out {
	enum hlx_cases_op op;
	const char *to;
	const int *renewed;
};

static int print_act(void *ctx, const struct hlx_case_view *v)
{
	static const char *const done[] = { "", "claimed", "released", "handed",
					    "set" };
	const struct act_out *o = ctx;
	char t[HLX_TIME_TEXT];

	printf("%s %s", o->op == HLX_CASES_CLAIM && *o->renewed ? "renewed" :
	       done[o->op], v->id);
	if (o->to)
		printf(" to %s", o->to);
	fputs(": ", stdout);
	case_owner_line(v, stdout);
	if (o->op == HLX_CASES_CLAIM) {
		hlx_time_format(v->owner.until, t);
		printf(", lease until %s", t);
	}
	putchar('\n');
	return 0;
}

static int act(struct hlx_cli *cli, const char *arg, enum hlx_cases_op op,
	       const char *org, enum hlx_case_state st, const char *verb)
{
	struct hlx_hash *id = malloc(sizeof(*id));
	int renewed = 0, rc;
	struct act_out o = { op, op == HLX_CASES_HANDOFF ? org : NULL,
			     &renewed };

	if (!id)
		return cli_fail(HLX_ENOMEM, "cannot %s case", verb);
	rc = case_id_arg(arg, id);
	if (!rc)
		rc = hlx_cases_act(cli->node, id, op, org, st, cli->now, cli_getpass,
				   cli, &renewed, print_act, &o);
	free(id);
	if (!rc)
		return 0;
	if (op == HLX_CASES_SET && rc == HLX_ESTATE)
		return cli_fail(rc, "case %.200s", arg);
	if (op == HLX_CASES_CLAIM && !strncmp(hlx_err_detail(), "before ", 7)) {
		fprintf(stderr, "hlx: cannot claim case %.200s %s\n", arg,
			hlx_err_detail());
		return cli_exit_code(rc);
	}
	return cli_fail(rc, "cannot %s case %.200s", verb, arg);
}

int cmd_case_claim(struct hlx_cli *cli, const struct cli_args *a)
{
	return act(cli, a->argv[0], HLX_CASES_CLAIM, NULL, HLX_CASE_NONE,
		   "claim");
}

int cmd_case_release(struct hlx_cli *cli, const struct cli_args *a)
{
	return act(cli, a->argv[0], HLX_CASES_RELEASE, NULL, HLX_CASE_NONE,
		   "release");
}

int cmd_case_handoff(struct hlx_cli *cli, const struct cli_args *a)
{
	if (hlx_case_org_check(a->argv[1], strlen(a->argv[1])))
		return cli_fail(HLX_EINVAL, "cannot hand off case %.200s",
				a->argv[0]);
	return act(cli, a->argv[0], HLX_CASES_HANDOFF, a->argv[1],
		   HLX_CASE_NONE, "hand off");
}

int cmd_case_set(struct hlx_cli *cli, const struct cli_args *a)
{
	enum hlx_case_state st;

	if (hlx_case_state_parse(a->argv[1], strlen(a->argv[1]), &st))
		return cli_fail(HLX_EINVAL, "cannot set case %.200s", a->argv[0]);
	return act(cli, a->argv[0], HLX_CASES_SET, NULL, st, "set");
}
