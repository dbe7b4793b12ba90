/* SPDX-License-Identifier: MIT */
/* hlx plan propose|sign|withdraw|ls|show|route (spec/plan.md section 8). */
#include "node/cli/cmds.h"
#include "node/plans.h"
#include "protocol/err.h"
#include "protocol/plan.h"
#include "protocol/rtime.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A parse error of a plan names the plan itself: printed as it is. */
static int plan_fail(int rc, const char *what)
{
	if (rc == HLX_EINVAL || rc == HLX_ETOOBIG || rc == HLX_EUNSUPPORTED ||
	    rc == HLX_ESTATE || rc == HLX_ENOENT) {
		const char *d = hlx_err_detail();

		fprintf(stderr, "hlx: %s\n", d[0] ? d : hlx_strerror(rc));
		return cli_exit_code(rc);
	}
	return cli_fail(rc, "%s", what);
}

int cmd_plan_propose(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_plans_done r;
	int rc;

	rc = cli_read_file(a->argv[0], HLX_PLAN_INPUT_MAX, &b);
	if (rc) {
		hlx_buf_free(&b);
		return cli_fail(rc, "cannot read plan '%s'", a->argv[0]);
	}
	rc = hlx_plans_propose(cli->node, (char *)b.data, b.len, cli_getpass, cli,
			       cli->now, &r);
	hlx_buf_free(&b);
	if (rc)
		return plan_fail(rc, "cannot propose the plan");
	printf("proposed %s@%lld sha256:%s: signed by %zu of %zu\n", r.name,
	       (long long)r.version, r.hash, r.nsigned, r.of);
	if (r.in_force)
		printf("%s@%lld is in force\n", r.name, (long long)r.version);
	return HLX_EXIT_OK;
}

int cmd_plan_sign(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_plans_done *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return cli_fail(HLX_ENOMEM, "cannot sign");
	rc = hlx_plans_sign(cli->node, a->argv[0],
			    (int64_t)cli_num(a, "version", 0), cli_text(a, "doc"),
			    cli_getpass, cli, cli->now, r);
	if (rc) {
		free(r);
		return plan_fail(rc, "cannot sign plan");
	}
	printf("signed %s@%lld sha256:%s: signed by %zu of %zu\n", r->name,
	       (long long)r->version, r->hash, r->nsigned, r->of);
	if (r->in_force)
		printf("%s@%lld is in force\n", r->name, (long long)r->version);
	for (size_t i = 0; i < r->nnotpeer; i++)
		printf("not a peer: %s\n", r->notpeer[i]);
	free(r);
	return HLX_EXIT_OK;
}

/* The active chain of rule ru of f at t (section 4.1): into chain. */
static size_t rule_chain(const struct hlx_plan_force *f,
			 const struct hlx_plan_rule *ru, int64_t t, int *chain)
{
	const struct hlx_plan_rule *d = hlx_plan_default_rule(f->plan);
	int base[2 * (HLX_PLAN_FALLBACKS_MAX + 1)];
	size_t nb = 0, nc = 0, i, k;

#define ADD(x)                                                                 \
	do {                                                                   \
		for (k = 0; k < nb && base[k] != (x); k++)                     \
			;                                                      \
		if (k == nb)                                                   \
			base[nb++] = (x);                                      \
	} while (0)
	ADD(ru->org);
	for (i = 0; i < ru->nfallbacks; i++)
		ADD(ru->fallbacks[i]);
	ADD(d->org);
	for (i = 0; i < d->nfallbacks; i++)
		ADD(d->fallbacks[i]);
#undef ADD
	for (i = 0; i < nb; i++)
		if (f->withdrawn[base[i]] < 0 || f->withdrawn[base[i]] > t)
			chain[nc++] = base[i];
	if (nc)
		return nc;
	for (i = 0; i < hlx_plan_nsignatories(f->plan); i++)
		if (f->withdrawn[i] < 0 || f->withdrawn[i] > t)
			chain[nc++] = (int)i;
	return nc;
}

int cmd_plan_withdraw(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_plans_done r;
	struct hlx_plans *p = NULL;
	struct hlx_plan_force *f = NULL;
	size_t nf = 0;
	const char *org = hlx_home_org(hlx_node_home(cli->node));
	int rc;

	rc = hlx_plans_withdraw(cli->node, a->argv[0], cli_getpass, cli, cli->now, &r);
	if (rc)
		return plan_fail(rc, "cannot withdraw");
	printf("withdrew from %s@%lld\n", r.name, (long long)r.version);
	/* who now takes over the rules that named this node */
	rc = hlx_plans_load(cli->node, &p);
	if (!rc)
		rc = hlx_plan_book_in_force(hlx_plans_book(p), cli->now, &f, &nf);
	for (size_t i = 0; !rc && i < nf; i++) {
		int me = hlx_plan_signatory_find(f[i].plan, org);

		if (strcmp(hlx_plan_name(f[i].plan), r.name) || me < 0)
			continue;
		for (size_t k = 0; k < hlx_plan_nrules(f[i].plan); k++) {
			const struct hlx_plan_rule *ru = hlx_plan_rule_at(f[i].plan, k);
			int chain[HLX_PLAN_SIGNATORIES_MAX];

			if (ru->org != me)
				continue;
			if (rule_chain(&f[i], ru, cli->now, chain))
				printf("%s: %s\n", ru->id,
				       hlx_plan_signatory(f[i].plan, (size_t)chain[0]));
			else
				printf("%s: -\n", ru->id);
		}
	}
	free(f);
	hlx_plans_free(p);
	if (rc)
		return cli_fail(rc, "cannot read the plans");
	return HLX_EXIT_OK;
}

/* ---- ls ----------------------------------------------------------------- */

static const struct hlx_plan_force *force_of(const struct hlx_plan_force *f,
					     size_t nf, const char *name)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(hlx_plan_name(f[i].plan), name))
			return &f[i];
	return NULL;
}

/* The newest complete version of name that counts here and started at or
 * before now, when every signatory had withdrawn (ended), or NULL. */
static const struct hlx_plan *ended_of(const struct hlx_plans *p,
				       const char *name, int64_t now)
{
	const struct hlx_plan_book *b = hlx_plans_book(p);
	const struct hlx_plan *best = NULL;
	int64_t s;

	for (size_t i = 0; i < hlx_plans_ndocs(p); i++) {
		const struct hlx_plan *d = hlx_plans_doc(p, i);

		if (strcmp(hlx_plan_name(d), name) || !hlx_plans_counts(p, d) ||
		    !hlx_plan_book_complete(b, d, &s) || s > now)
			continue;
		if (!best || hlx_plan_version(d) > hlx_plan_version(best))
			best = d;
	}
	return best;
}

static size_t nsigned(const struct hlx_plans *p, const struct hlx_plan *d)
{
	size_t k = 0;

	for (size_t i = 0; i < hlx_plan_nsignatories(d); i++)
		if (hlx_plan_book_signed(hlx_plans_book(p), d, i) >= 0)
			k++;
	return k;
}

static void ls_one(const struct hlx_plans *p, const struct hlx_plan_force *f,
		   size_t nf, size_t first, int64_t now, int json)
{
	const char *name = hlx_plan_name(hlx_plans_doc(p, first));
	const struct hlx_plan_force *inf = force_of(f, nf, name);
	long pi = hlx_plans_pending(p, name);
	const struct hlx_plan *pend = pi >= 0 ? hlx_plans_doc(p, (size_t)pi) : NULL;
	const struct hlx_plan *shown;
	const char *state = "pending";
	char wd[HLX_PLAN_SIGNATORIES_MAX * (HLX_NAME_MAX + 1) + 16] = "";
	json_t *w = json_array();

	if (inf) {
		shown = inf->plan;
		state = "in-force";
		for (size_t i = 0; i < hlx_plan_nsignatories(inf->plan); i++)
			if (inf->withdrawn[i] >= 0 && inf->withdrawn[i] <= now) {
				const char *o = hlx_plan_signatory(inf->plan, i);

				strcat(wd, wd[0] ? "," : ",withdrawn:");
				strcat(wd, o);
				json_array_append_new(w, json_string(o));
			}
	} else if ((shown = ended_of(p, name, now))) {
		state = "ended";
	} else if (pend) {
		shown = pend;
	} else { /* only documents that do not count here */
		shown = hlx_plans_doc(p, first);
		for (size_t i = first; i < hlx_plans_ndocs(p) &&
				       !strcmp(hlx_plan_name(hlx_plans_doc(p, i)), name); i++)
			shown = hlx_plans_doc(p, i);
	}
	if (pend && pend != shown && hlx_plan_version(pend) <= hlx_plan_version(shown))
		pend = NULL;
	if (json) {
		json_t *o = json_object();
		char hex[65], *s;

		json_object_set_new(o, "name", json_string(name));
		json_object_set_new(o, "version", json_integer(hlx_plan_version(shown)));
		json_object_set_new(o, "state", json_string(state));
		json_object_set_new(o, "withdrawn", w);
		w = NULL;
		if (pend) {
			hlx_plan_hash_hex(pend, hex);
			json_object_set_new(o, "pending",
					    json_pack("{s:I,s:s,s:I,s:I}", "version",
						      (json_int_t)hlx_plan_version(pend),
						      "doc", hex, "signed",
						      (json_int_t)nsigned(p, pend), "of",
						      (json_int_t)hlx_plan_nsignatories(pend)));
		} else {
			json_object_set_new(o, "pending", json_null());
		}
		s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		if (s)
			puts(s);
		free(s);
		json_decref(o);
	} else {
		printf("%s\t%lld\t%s%s\t", name, (long long)hlx_plan_version(shown),
		       state, wd);
		if (pend)
			printf("%zu/%zu\n", nsigned(p, pend), hlx_plan_nsignatories(pend));
		else
			printf("-\n");
	}
	json_decref(w);
}

int cmd_plan_ls(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_plans *p = NULL;
	struct hlx_plan_force *f = NULL;
	size_t nf = 0;
	int rc;

	rc = hlx_plans_load(cli->node, &p);
	if (!rc)
		rc = hlx_plan_book_in_force(hlx_plans_book(p), cli->now, &f, &nf);
	if (rc) {
		hlx_plans_free(p);
		return cli_fail(rc, "cannot read the plans");
	}
	for (size_t i = 0; i < hlx_plans_ndocs(p); i++) {
		const char *name = hlx_plan_name(hlx_plans_doc(p, i));

		if (i && !strcmp(name, hlx_plan_name(hlx_plans_doc(p, i - 1))))
			continue;
		ls_one(p, f, nf, i, cli->now, cli_given(a, "json") != 0);
	}
	free(f);
	hlx_plans_free(p);
	return fflush(stdout) ? cli_fail(HLX_EIO, "cannot write") : HLX_EXIT_OK;
}

/* ---- show --------------------------------------------------------------- */

static const char *org_at(const struct hlx_plan *p, int i)
{
	return i >= 0 ? hlx_plan_signatory(p, (size_t)i) : "-";
}

static void rule_line(const struct hlx_plan *p, const struct hlx_plan_rule *r)
{
	const struct hlx_plan_deadlines *d = &r->deadlines;

	printf("%s -> %s", r->id, org_at(p, r->org));
	for (size_t i = 0; i < r->nfallbacks; i++)
		printf(" %s", org_at(p, r->fallbacks[i]));
	printf(" channel %s", hlx_plan_channel_name(r->channel));
	if (r->via >= 0)
		printf(" via %s", org_at(p, r->via));
	printf(" languages ");
	for (size_t i = 0; i < r->nlanguages; i++)
		printf("%s%s", i ? "," : "", r->languages[i]);
	printf(" notice %dh renotice %dh escalate %d", d->notice_hours,
	       d->renotice_hours, d->escalate_after);
	if (d->escalate_after > 0)
		printf(" to %s", org_at(p, d->escalate_to));
	printf(" hold %dh", d->le_hold_hours);
	if (d->le_hold_hours > 0 && d->le_by >= 0)
		printf(" by %s", org_at(p, d->le_by));
	printf("\n");
}

/* The document show names: V's (of several, the one that counts or is
 * complete), else the one in force, else the highest pending, else the
 * highest held. */
static const struct hlx_plan *show_doc(const struct hlx_plans *p,
				       const char *name, int64_t v,
				       const struct hlx_plan_force *inf)
{
	const struct hlx_plan *best = NULL;
	int64_t s;
	long pi;

	if (!v && inf)
		return inf->plan;
	if (!v && (pi = hlx_plans_pending(p, name)) >= 0)
		return hlx_plans_doc(p, (size_t)pi);
	for (size_t i = 0; i < hlx_plans_ndocs(p); i++) {
		const struct hlx_plan *d = hlx_plans_doc(p, i);

		if (strcmp(hlx_plan_name(d), name) || (v && hlx_plan_version(d) != v))
			continue;
		if (inf && d == inf->plan)
			return d;
		if (!best || hlx_plan_version(d) > hlx_plan_version(best) ||
		    (!hlx_plan_book_complete(hlx_plans_book(p), best, &s) &&
		     hlx_plan_book_complete(hlx_plans_book(p), d, &s)))
			best = d;
	}
	return best;
}

static const char *doc_state(const struct hlx_plans *p, const struct hlx_plan *d,
			     const struct hlx_plan_force *inf, int64_t now)
{
	const struct hlx_plan_book *b = hlx_plans_book(p);
	int64_t s;
	size_t left = 0;

	if (inf && inf->plan == d)
		return "in-force";
	if (!hlx_plan_book_complete(b, d, &s)) {
		long pi = hlx_plans_pending(p, hlx_plan_name(d));

		for (size_t i = 0; pi >= 0 && i < hlx_plans_ndocs(p); i++)
			if (hlx_plans_doc(p, i) == d)
				return hlx_plan_version(d) >
						       hlx_plan_version(hlx_plans_doc(p, (size_t)pi)) - 1
					       ? "pending"
					       : "superseded";
		return "superseded";
	}
	if (!hlx_plans_counts(p, d))
		return "not-signed-here";
	if (s > now)
		return "complete";
	for (size_t i = 0; i < hlx_plan_nsignatories(d); i++) {
		int64_t w = hlx_plan_book_withdrawn(b, d, i);

		if (w < 0 || w > now)
			left++;
	}
	return left ? "superseded" : "ended";
}

int cmd_plan_show(struct hlx_cli *cli, const struct cli_args *a)
{
	const char *name = a->argv[0];
	struct hlx_plans *p = NULL;
	struct hlx_plan_force *f = NULL;
	const struct hlx_plan_book *b;
	const struct hlx_plan *d = NULL;
	size_t nf = 0;
	int64_t start = -1;
	char hex[65], tm[HLX_TIME_TEXT];
	int rc, json = cli_given(a, "json") != 0;

	rc = hlx_plans_load(cli->node, &p);
	if (!rc)
		rc = hlx_plan_book_in_force(hlx_plans_book(p), cli->now, &f, &nf);
	if (!rc) {
		d = show_doc(p, name, (int64_t)cli_num(a, "version", 0),
			     force_of(f, nf, name));
		if (!d)
			rc = cli_given(a, "version")
				     ? hlx_err(HLX_ENOENT, "plan '%s' has no version %llu",
					       name, (unsigned long long)cli_num(a, "version", 0))
				     : hlx_err(HLX_ENOENT, "no such plan '%s'", name);
	}
	if (rc) {
		free(f);
		hlx_plans_free(p);
		return plan_fail(rc, "cannot read the plans");
	}
	b = hlx_plans_book(p);
	hlx_plan_hash_hex(d, hex);
	if (!hlx_plan_book_complete(b, d, &start))
		start = -1;
	if (json) {
		struct hlx_buf c = HLX_BUF_INIT;
		json_t *st = json_object(), *sigs = json_array();
		char *s;

		if (!hlx_plan_canonical(d, &c))
			printf("%.*s\n", (int)c.len, (char *)c.data);
		hlx_buf_free(&c);
		json_object_set_new(st, "name", json_string(name));
		json_object_set_new(st, "version", json_integer(hlx_plan_version(d)));
		json_object_set_new(st, "doc", json_string(hex));
		json_object_set_new(st, "state",
				    json_string(doc_state(p, d, force_of(f, nf, name), cli->now)));
		if (start >= 0) {
			hlx_time_format(start, tm);
			json_object_set_new(st, "start", json_string(tm));
		} else {
			json_object_set_new(st, "start", json_null());
		}
		for (size_t i = 0; i < hlx_plan_nsignatories(d); i++) {
			int64_t sg = hlx_plan_book_signed(b, d, i);
			int64_t w = hlx_plan_book_withdrawn(b, d, i);
			json_t *o = json_object();

			json_object_set_new(o, "org", json_string(hlx_plan_signatory(d, i)));
			json_object_set_new(o, "chain", json_boolean(hlx_plans_chain_held(p, d, i)));
			if (sg >= 0)
				hlx_time_format(sg, tm);
			json_object_set_new(o, "signed", sg >= 0 ? json_string(tm) : json_null());
			if (w >= 0)
				hlx_time_format(w, tm);
			json_object_set_new(o, "withdrawn", w >= 0 ? json_string(tm) : json_null());
			json_array_append_new(sigs, o);
		}
		json_object_set_new(st, "signatories", sigs);
		s = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
		if (s)
			printf("{\"status\":%s}\n", s);
		free(s);
		json_decref(st);
	} else {
		printf("plan %s@%lld\nhash sha256:%s\n", name,
		       (long long)hlx_plan_version(d), hex);
		if (start >= 0)
			hlx_time_format(start, tm);
		printf("start %s\nstate %s\n", start >= 0 ? tm : "-",
		       doc_state(p, d, force_of(f, nf, name), cli->now));
		for (size_t i = 0; i < hlx_plan_nsignatories(d); i++) {
			int64_t sg = hlx_plan_book_signed(b, d, i);
			int64_t w = hlx_plan_book_withdrawn(b, d, i);

			printf("signatory %s ", hlx_plan_signatory(d, i));
			if (w >= 0) {
				hlx_time_format(w, tm);
				printf("withdrawn %s\n", tm);
			} else if (sg >= 0) {
				hlx_time_format(sg, tm);
				printf("signed %s\n", tm);
			} else {
				printf("%s\n", hlx_plans_chain_held(p, d, i)
						       ? "missing"
						       : "missing (no chain)");
			}
		}
		for (size_t i = 0; i < hlx_plan_nrules(d); i++)
			rule_line(d, hlx_plan_rule_at(d, i));
	}
	free(f);
	hlx_plans_free(p);
	return fflush(stdout) ? cli_fail(HLX_EIO, "cannot write") : HLX_EXIT_OK;
}

/* ---- route -------------------------------------------------------------- */

static int route_json(struct hlx_buf *out, const char *loc,
		      const struct hlx_plan_route *r)
{
	json_t *o = json_object(), *fb = json_array(), *lang = json_array();
	const struct hlx_plan *p = r->plan;
	char *s;
	int rc;

	json_object_set_new(o, "location", json_string(loc));
	if (p && r->nchain) {
		const struct hlx_plan_rule *ru = r->rule;
		const struct hlx_plan_deadlines *d = &ru->deadlines;
		json_t *dl = json_object();

		json_object_set_new(o, "org", json_string(org_at(p, r->chain[0])));
		json_object_set_new(o, "plan", json_string(hlx_plan_name(p)));
		json_object_set_new(o, "version", json_integer(hlx_plan_version(p)));
		json_object_set_new(o, "rule", json_string(ru->id));
		for (size_t i = 1; i < r->nchain; i++)
			json_array_append_new(fb, json_string(org_at(p, r->chain[i])));
		json_object_set_new(o, "channel",
				    json_string(hlx_plan_channel_name(ru->channel)));
		json_object_set_new(o, "via", ru->via >= 0 ? json_string(org_at(p, ru->via))
							  : json_null());
		for (size_t i = 0; i < ru->nlanguages; i++)
			json_array_append_new(lang, json_string(ru->languages[i]));
		json_object_set_new(dl, "le_hold_hours", json_integer(d->le_hold_hours));
		if (d->le_by >= 0)
			json_object_set_new(dl, "le_by", json_string(org_at(p, d->le_by)));
		json_object_set_new(dl, "notice_hours", json_integer(d->notice_hours));
		json_object_set_new(dl, "renotice_hours", json_integer(d->renotice_hours));
		json_object_set_new(dl, "escalate_after", json_integer(d->escalate_after));
		if (d->escalate_to >= 0)
			json_object_set_new(dl, "escalate_to",
					    json_string(org_at(p, d->escalate_to)));
		json_object_set_new(o, "deadlines", dl);
	} else {
		json_object_set_new(o, "org", json_null());
		json_object_set_new(o, "plan", json_null());
		json_object_set_new(o, "version", json_null());
		json_object_set_new(o, "rule", json_null());
		json_object_set_new(o, "channel", json_null());
		json_object_set_new(o, "via", json_null());
		json_object_set_new(o, "deadlines", json_null());
	}
	json_object_set_new(o, "fallbacks", fb);
	json_object_set_new(o, "languages", lang);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		return hlx_err(HLX_ENOMEM, "route");
	rc = hlx_buf_puts(out, s);
	if (!rc)
		rc = hlx_buf_puts(out, "\n");
	free(s);
	return rc;
}

static int route_line(struct hlx_buf *out, const char *loc,
		      const struct hlx_plan_route *r)
{
	const struct hlx_plan *p = r->plan;
	char v[32];
	int rc;

	if (!p || !r->nchain)
		return hlx_buf_printf(out, "%s\t-\t-\t-\t-\n", loc);
	snprintf(v, sizeof(v), "%lld", (long long)hlx_plan_version(p));
	rc = hlx_buf_printf(out, "%s\t%s\t%s@%s\t%s\t", loc,
			    org_at(p, r->chain[0]), hlx_plan_name(p), v, r->rule->id);
	for (size_t i = 1; !rc && i < r->nchain; i++)
		rc = hlx_buf_printf(out, "%s%s", i > 1 ? "," : "",
				    org_at(p, r->chain[i]));
	if (!rc)
		rc = hlx_buf_puts(out, r->nchain > 1 ? "\n" : "-\n");
	return rc;
}

static int route_one(const struct hlx_plan_force *f, size_t nf, int64_t now,
		     const char *s, size_t n, int json, struct hlx_buf *out)
{
	struct hlx_plan_loc loc;
	struct hlx_plan_route r;
	char text[HLX_PLAN_ID_MAX];
	int rc;

	if ((rc = hlx_plan_loc_parse(s, n, &loc)))
		return rc;
	hlx_plan_loc_format(&loc, text);
	hlx_plan_route(f, nf, &loc, now, &r);
	rc = json ? route_json(out, text, &r) : route_line(out, text, &r);
	return rc ? rc : cli_flush_out(out, 0);
}

int cmd_plan_route(struct hlx_cli *cli, const struct cli_args *a)
{
	struct hlx_plans *p = NULL;
	struct hlx_plan_force *f = NULL;
	struct hlx_buf out = HLX_BUF_INIT;
	struct cli_lines lr = { 0 };
	size_t nf = 0;
	int rc, json = cli_given(a, "json") != 0, ret = HLX_EXIT_OK;
	int from_stdin = a->argc == 1 && !strcmp(a->argv[0], "-");

	if (a->argc == 0)
		return cli_usage(a->row, "give a LOCATION, or - to read them");
	rc = hlx_plans_load(cli->node, &p);
	if (!rc)
		rc = hlx_plan_book_in_force(hlx_plans_book(p), cli->now, &f, &nf);
	if (rc) {
		hlx_plans_free(p);
		return cli_fail(rc, "cannot read the plans");
	}
	if (from_stdin) {
		char *line;
		size_t len;

		rc = cli_lines_open(&lr, "-", HLX_PLAN_ID_MAX + 2);
		while (!rc) {
			int got = cli_lines_next(&lr, &line, &len);

			if (got == 0)
				break;
			if (got < 0) {
				rc = got == HLX_EIO ? got
						    : hlx_err_wrap(got, "line %zu", lr.lineno);
				break;
			}
			rc = route_one(f, nf, cli->now, line, len, json, &out);
			if (rc == HLX_EINVAL || rc == HLX_ETOOBIG)
				rc = hlx_err_wrap(rc, "line %zu", lr.lineno);
		}
		cli_lines_close(&lr);
	} else {
		for (int i = 0; !rc && i < a->argc; i++) {
			rc = route_one(f, nf, cli->now, a->argv[i], strlen(a->argv[i]),
				       json, &out);
			if (rc == HLX_EINVAL || rc == HLX_ETOOBIG)
				rc = hlx_err_wrap(rc, "location '%s'", a->argv[i]);
		}
	}
	if (cli_flush_out(&out, 1) && !rc)
		rc = hlx_err(HLX_EIO, "cannot write standard output");
	if (rc)
		ret = cli_fail(rc, "cannot route");
	hlx_buf_free(&out);
	free(f);
	hlx_plans_free(p);
	return ret;
}
