/* SPDX-License-Identifier: MIT */
/* hlx case show and hlx case ls (spec/cases.md section 9). */
#include "node/cli/cmd_case.h"
#include "node/caseurl.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- show: the history ---- */

struct hist {
	int64_t time;
	int rank;       /* report -1, then the replay's ranks, states 5 */
	size_t seq;
	char text[HLX_HASH_TEXT_MAX + 640];
};

struct evs {
	struct hlx_case_ev *v;
	size_t n, cap;
	struct hist *h;
	size_t nh, caph;
	int failed;
};

static void on_ev(void *ctx, const struct hlx_case_ev *ev)
{
	struct evs *e = ctx;

	if (e->n == e->cap) {
		size_t nc = e->cap ? e->cap * 2 : 64;
		void *p = realloc(e->v, nc * sizeof(*e->v));

		if (!p) {
			e->failed = 1;
			return;
		}
		e->v = p;
		e->cap = nc;
	}
	e->v[e->n++] = *ev;
}

static struct hist *add(struct evs *e, int64_t t, int rank)
{
	struct hist *h;

	if (e->nh == e->caph) {
		size_t nc = e->caph ? e->caph * 2 : 64;
		void *p = realloc(e->h, nc * sizeof(*e->h));

		if (!p) {
			e->failed = 1;
			return NULL;
		}
		e->h = p;
		e->caph = nc;
	}
	h = &e->h[e->nh];
	h->time = t;
	h->rank = rank;
	h->seq = e->nh++;
	h->text[0] = '\0';
	return h;
}

static int hist_cmp(const void *a_, const void *b_)
{
	const struct hist *a = a_, *b = b_;

	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Did the replay count the action (kind, org, time)? */
static int counted(const struct evs *e, enum hlx_case_ev_kind k,
		   const char *org, int64_t t)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].kind == k && e->v[i].time == t &&
		    !strcmp(e->v[i].org, org))
			return e->v[i].counted;
	return 0;
}

static const char *or_dash(const char *s)
{
	return s && s[0] ? s : "-";
}

static void line_history(struct evs *e, const struct hlx_case_view *v,
			 unsigned i)
{
	const struct hlx_case_line *l = v->srcs[i].line;
	const char *org = v->srcs[i].org;
	int64_t settle = v->route->routed ? v->route->settle : 0;
	char t[HLX_TIME_TEXT], item[HLX_HASH_TEXT_MAX] = "";
	struct hist *h;

	if (l->reported >= 0 && (h = add(e, l->reported, -1))) {
		if (l->item.type)
			hlx_hash_format(&l->item, item, sizeof(item));
		snprintf(h->text, sizeof(h->text), "%s reported %s/%s%s%s%s%s", org,
			 or_dash(l->country), or_dash(l->category),
			 l->host[0] ? "/" : "", l->host, item[0] ? " " : "", item);
	}
	for (unsigned k = 0; k < l->nacts; k++) {
		const struct hlx_case_act *a = &l->acts[k];
		int ok;

		if (a->kind == HLX_CASE_CLAIM) {
			int64_t u = a->a > v->owner.t0 + settle ? a->a :
				    v->owner.t0 + settle;

			ok = counted(e, HLX_CASE_EV_CLAIM, org, u);
			if ((h = add(e, a->a, 4)))
				snprintf(h->text, sizeof(h->text), "%s claimed%s", org,
					 ok ? "" : " (ignored: not the owner)");
			if (a->b > a->a && (h = add(e, a->a, 4))) {
				hlx_time_format(a->b, t);
				snprintf(h->text, sizeof(h->text),
					 "%s renewed until %s%s", org, t,
					 ok ? "" : " (ignored: not the owner)");
			}
		} else if (a->kind == HLX_CASE_RELEASE) {
			ok = counted(e, HLX_CASE_EV_RELEASE, org, a->a);
			if ((h = add(e, a->a, 2)))
				snprintf(h->text, sizeof(h->text), "%s released%s", org,
					 ok ? "" : " (ignored: not the owner)");
		} else {
			ok = counted(e, HLX_CASE_EV_HANDOFF, org, a->a);
			if ((h = add(e, a->a, 3)))
				snprintf(h->text, sizeof(h->text), "%s handed to %s%s",
					 org, a->org,
					 ok ? "" : " (ignored: not the owner)");
		}
	}
	if (l->state != HLX_CASE_NONE &&
	    !(l->state == HLX_CASE_REPORTED && l->changed == l->reported) &&
	    (h = add(e, l->changed, 5)))
		snprintf(h->text, sizeof(h->text), "%s %s%s", org,
			 hlx_case_state_name(l->state),
			 hlx_cases_counts(v, i) ? "" : " (ignored: not the owner)");
}

static int show_text(const struct hlx_case_view *v, int64_t now, int first,
		     const char *rawurl)
{
	struct evs e = { 0 };
	char t[HLX_TIME_TEXT];
	int rc;

	rc = hlx_cases_replay(v, now, on_ev, &e);
	for (unsigned i = 0; !rc && i < v->nsrcs; i++)
		line_history(&e, v, i);
	for (size_t i = 0; !rc && i < e.n; i++) {
		struct hist *h;

		if (e.v[i].kind == HLX_CASE_EV_LAPSE && (h = add(&e, e.v[i].time, 0))) {
			snprintf(h->text, sizeof(h->text), "- lapsed: %s -> %s",
				 e.v[i].org, e.v[i].to);
			if (e.v[i].count > 1)
				snprintf(h->text + strlen(h->text),
					 sizeof(h->text) - strlen(h->text),
					 " (%llu lapses)", (unsigned long long)e.v[i].count);
		} else if (e.v[i].kind == HLX_CASE_EV_WITHDRAW &&
			   (h = add(&e, e.v[i].time, 1))) {
			snprintf(h->text, sizeof(h->text), "%s withdrew%s%s", e.v[i].org,
				 e.v[i].to ? ": -> " : "", e.v[i].to ? e.v[i].to : "");
		}
	}
	if (!rc && e.failed)
		rc = hlx_err(HLX_ENOMEM, "out of memory");
	if (!rc) {
		if (!first)
			putchar('\n');
		printf("case %s\n", v->id);
		case_owner_line(v, stdout);
		hlx_time_format(v->owner.until, t);
		printf("\nlease: %s %s\n", v->owner.explicit_lease ?
		       "claimed until" : "unclaimed, lapses at", t);
		if (v->route->routed) {
			printf("route: %s@%lld %s ->", v->plan,
			       (long long)v->plan_version, v->rule);
			for (unsigned i = 0; i < v->nchain; i++)
				printf("%c%s", i ? ',' : ' ', v->chain[i]);
			putchar('\n');
		} else {
			puts("route: none: the reporter handles it");
		}
		printf("raw URL: %s\n", rawurl);
		if (v->nlacking) {
			fputs("logs lacking:", stdout);
			for (unsigned i = 0; i < v->nlacking; i++)
				printf("%c%s", i ? ',' : ' ', v->lacking[i]);
			puts(" (the owner may be out of date)");
		}
		puts("history:");
		if (e.nh)
			qsort(e.h, e.nh, sizeof(*e.h), hist_cmp);
		for (size_t i = 0; i < e.nh; i++) {
			hlx_time_format(e.h[i].time, t);
			printf("%s %s\n", t, e.h[i].text);
		}
	}
	free(e.v);
	free(e.h);
	return rc;
}

/* ---- show --json ---- */

static int show_json(const struct hlx_case_view *v)
{
	json_t *o = json_object(), *lines = json_array(), *route = NULL;
	char t[HLX_TIME_TEXT], e[HLX_TIME_TEXT];
	struct hlx_buf b = HLX_BUF_INIT;
	int rc = o && lines ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");
	char *s;

	hlx_time_format(v->owner.since, t);
	hlx_time_format(v->owner.until, e);
	for (unsigned i = 0; !rc && i < v->nsrcs; i++) {
		json_t *l;

		hlx_buf_reset(&b);
		rc = hlx_case_to_json(v->srcs[i].line, &b);
		l = rc ? NULL : json_loadb((const char *)b.data, b.len, 0, NULL);
		if (!rc && !l)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		if (!rc)
			json_array_append_new(lines, json_pack("{s:s,s:o}", "org",
							       v->srcs[i].org, "line", l));
	}
	if (!rc && v->route->routed) {
		json_t *ch = json_array();

		for (unsigned i = 0; ch && i < v->nchain; i++)
			json_array_append_new(ch, json_string(v->chain[i]));
		route = json_pack("{s:s,s:I,s:s,s:o}", "plan", v->plan, "version",
				  (json_int_t)v->plan_version, "rule", v->rule,
				  "chain", ch);
	}
	if (!rc) {
		json_object_set_new(o, "case", json_string(v->id));
		json_object_set_new(o, "owner", json_string(v->owner.org));
		json_object_set_new(o, "since", json_string(t));
		json_object_set_new(o, "state",
				    json_string(hlx_case_state_name(v->owner.state)));
		json_object_set_new(o, "lease_until", json_string(e));
		json_object_set_new(o, "claimed", json_boolean(v->owner.explicit_lease));
		json_object_set_new(o, "url", json_string(v->url_held ? "held" :
							  "not received"));
		if (route)
			json_object_set_new(o, "route", route);
		route = NULL;
		json_object_set(o, "lines", lines);
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
		if (!s)
			rc = hlx_err(HLX_ENOMEM, "out of memory");
		else
			puts(s);
		free(s);
	}
	json_decref(route);
	json_decref(lines);
	json_decref(o);
	hlx_buf_free(&b);
	return rc;
}

struct show {
	int json, n;
	int64_t now;
	struct hlx_node *node;      /* and c: for the raw URL line */
	struct hlx_cases *c;
};

static int show_one(void *ctx, const struct hlx_case_view *v)
{
	struct show *s = ctx;
	struct hlx_buf raw = HLX_BUF_INIT;
	int rc = s->json ? HLX_OK :
		 hlx_caseurl_show(s->node, hlx_cases_self(s->c), v, &raw);

	if (!rc && !s->json)
		rc = hlx_buf_putc(&raw, '\0');
	if (!rc)
		rc = s->json ? show_json(v) :
		     show_text(v, s->now, s->n == 0, (const char *)raw.data);
	hlx_buf_free(&raw);
	s->n++;
	return rc;
}

int cmd_case_show(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *what = a->argv[0];
	struct hlx_hash *h = malloc(sizeof(*h));
	struct show s = { cli_given(a, "json") != 0, 0, cli->now, cli->node, NULL };
	struct hlx_cases *c = NULL;
	int rc = h ? HLX_OK : hlx_err(HLX_ENOMEM, "out of memory");

	if (!rc && hlx_hash_parse(what, strlen(what), h) != HLX_OK) {
		hlx_err_clear();
		rc = hlx_case_id_from_url(what, strlen(what), h);
	}
	if (!rc)
		rc = hlx_cases_load(cli->node, &c);
	s.c = c;
	if (!rc)
		rc = h->type == HLX_HASH_URL_SHA256 ?
		     hlx_cases_get(c, h, cli->now, show_one, &s) :
		     hlx_cases_by_item(c, h, cli->now, show_one, &s);
	hlx_cases_free(c);
	free(h);
	if (rc == HLX_ENOENT) {
		fprintf(stderr, "hlx: no case matches '%.200s'\n", what);
		return HLX_EXIT_FAILED;
	}
	return rc ? cli_fail(rc, "cannot show case '%.200s'", what) : 0;
}

/* ---- ls ---- */

struct ls {
	int mine, all, json;
	const char *self;
	char country[3];
	enum hlx_case_state state;  /* HLX_CASE_NONE: any */
};

static int ls_one(void *ctx, const struct hlx_case_view *v)
{
	const struct ls *l = ctx;
	const struct hlx_case_line *op = v->opening;
	enum hlx_case_state st = v->owner.state;
	char t[HLX_TIME_TEXT];

	if (l->state != HLX_CASE_NONE ? st != l->state :
	    !l->all && hlx_case_state_final(st))
		return 0;
	if (l->mine && strcmp(v->owner.org, l->self))
		return 0;
	if (l->country[0] && strcmp(op->country, l->country))
		return 0;
	hlx_time_format(v->owner.since, t);
	if (!l->json) {
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", v->id, hlx_case_state_name(st),
		       v->owner.org, t, or_dash(op->country), or_dash(op->category));
		return 0;
	}
	/* canonical: keys in byte order, absent ones left out */
	printf("{\"case\":\"%s\",", v->id);
	if (op->category[0])
		printf("\"category\":\"%s\",", op->category);
	if (op->country[0])
		printf("\"country\":\"%s\",", op->country);
	printf("\"owner\":\"%s\",\"since\":\"%s\",\"state\":\"%s\"}\n",
	       v->owner.org, t, hlx_case_state_name(st));
	return 0;
}

int cmd_case_ls(struct hlx_cli *cli, const struct cli_args *a)
{
	struct ls l = { cli_given(a, "mine") != 0, cli_given(a, "all") != 0,
			cli_given(a, "json") != 0, NULL, "", HLX_CASE_NONE };
	const char *cc = cli_text(a, "country"), *st = cli_text(a, "state");
	struct hlx_cases *c = NULL;
	int rc = HLX_OK;

	if (cc) {
		if (strlen(cc) != 2)
			return cli_usage(cli->cmd, "--country takes a two-letter code");
		for (int i = 0; i < 2; i++)
			l.country[i] = (char)(cc[i] >= 'a' && cc[i] <= 'z' ?
					      cc[i] - 'a' + 'A' : cc[i]);
	}
	if (st && hlx_case_state_parse(st, strlen(st), &l.state))
		return cli_fail(HLX_EINVAL, "cannot list cases");
	rc = hlx_cases_load(cli->node, &c);
	if (!rc) {
		l.self = hlx_cases_self(c);
		rc = hlx_cases_foreach(c, cli->now, ls_one, &l);
	}
	hlx_cases_free(c);
	return rc ? cli_fail(rc, "cannot list cases") : 0;
}
