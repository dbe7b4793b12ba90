/* SPDX-License-Identifier: MIT */
#include "protocol/checkpoint.h"
#include "protocol/signed.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hlx_checkpoint_init(struct hlx_checkpoint *c)
{
	memset(c, 0, sizeof(*c));
}

void hlx_checkpoint_free(struct hlx_checkpoint *c)
{
	free(c->v);
	free(c->prior);
	hlx_checkpoint_init(c);
}

int hlx_checkpoint_add(struct hlx_checkpoint *c,
		       const struct hlx_checkpoint_version *v)
{
	struct hlx_checkpoint_version *p;

	if (c->n >= HLX_CHECKPOINT_VERSIONS_MAX)
		return hlx_err(HLX_ETOOBIG, "checkpoint: more than %d versions",
			       HLX_CHECKPOINT_VERSIONS_MAX);
	/* grow by doubling: n is a power of two or not, realloc at 2^k */
	if ((c->n & (c->n - 1)) == 0) {
		size_t cap = c->n ? c->n * 2 : 1;

		p = realloc(c->v, cap * sizeof(*p));
		if (!p)
			return hlx_err(HLX_ENOMEM, "checkpoint: out of memory");
		c->v = p;
	}
	c->v[c->n++] = *v;
	return HLX_OK;
}

int hlx_checkpoint_add_prior(struct hlx_checkpoint *c, uint64_t version,
			     const char *commit)
{
	struct hlx_checkpoint_prior *p;

	if (c->nprior >= HLX_CHECKPOINT_PRIOR_MAX)
		return hlx_err(HLX_ETOOBIG, "checkpoint: more than %d prior commits",
			       HLX_CHECKPOINT_PRIOR_MAX);
	if ((c->nprior & (c->nprior - 1)) == 0) {
		size_t cap = c->nprior ? c->nprior * 2 : 1;

		p = realloc(c->prior, cap * sizeof(*p));
		if (!p)
			return hlx_err(HLX_ENOMEM, "checkpoint: out of memory");
		c->prior = p;
	}
	p = &c->prior[c->nprior++];
	memset(p, 0, sizeof(*p));
	p->version = version;
	snprintf(p->commit, sizeof(p->commit), "%.40s", commit);
	return HLX_OK;
}

int hlx_checkpoint_prior_has(const struct hlx_checkpoint *c, uint64_t version,
			     const char *commit)
{
	for (size_t i = 0; i < c->nprior; i++)
		if (c->prior[i].version == version &&
		    strcmp(c->prior[i].commit, commit) == 0)
			return 1;
	return 0;
}

size_t hlx_checkpoint_prior_runs(const struct hlx_checkpoint_prior *p, size_t n)
{
	size_t runs = 0;

	for (size_t i = 0; i < n; i++)
		if (i == 0 || p[i].version != p[i - 1].version + 1)
			runs++;
	return runs;
}

size_t hlx_checkpoint_prior_keep(const struct hlx_checkpoint_prior *p, size_t n)
{
	size_t start = n, runs = 0;

	while (start > 0 && n - start < HLX_CHECKPOINT_PRIOR_MAX) {
		int newrun = start == n || p[start - 1].version + 1 != p[start].version;

		if (newrun && runs == HLX_CHECKPOINT_RUNS_MAX)
			break;
		runs += (size_t)newrun;
		start--;
	}
	return start;
}

const struct hlx_checkpoint_version *
hlx_checkpoint_find(const struct hlx_checkpoint *c, uint64_t version)
{
	if (version < c->before || version - c->before >= c->n)
		return NULL;
	return &c->v[version - c->before];
}

static int hex_check(const char *s, size_t n, size_t want, const char *what)
{
	return hlx_signed_hex("checkpoint", what, s, n, want);
}

/* Versions fit a JSON integer (jansson's json_int_t is 64-bit signed). */
#define VERSION_MAX ((uint64_t)INT64_MAX)

int hlx_checkpoint_validate(const struct hlx_checkpoint *c)
{
	int rc;

	if ((rc = hlx_name_check(c->org, strnlen(c->org, sizeof(c->org)),
				 "organisation")) ||
	    (rc = hlx_name_check(c->list, strnlen(c->list, sizeof(c->list)),
				 "list")))
		return hlx_err_wrap(rc, "checkpoint");
	if (c->before < 2 || c->before > VERSION_MAX)
		return hlx_err(HLX_EINVAL,
			       "checkpoint: 'before' must be at least 2");
	if (!hlx_time_valid(c->issued))
		return hlx_err(HLX_EINVAL, "checkpoint: 'issued' out of range");
	if (c->n == 0 || !c->v)
		return hlx_err(HLX_EINVAL, "checkpoint: no versions");
	if (c->n > HLX_CHECKPOINT_VERSIONS_MAX)
		return hlx_err(HLX_ETOOBIG, "checkpoint: more than %d versions",
			       HLX_CHECKPOINT_VERSIONS_MAX);
	if (c->n - 1 > VERSION_MAX - c->before)
		return hlx_err(HLX_EINVAL, "checkpoint: version numbers overflow");
	for (size_t i = 0; i < c->n; i++) {
		const struct hlx_checkpoint_version *v = &c->v[i];

		if (v->version != c->before + i)
			return hlx_err(HLX_EINVAL,
				       "checkpoint: entry %zu is version %llu, expected %llu",
				       i + 1, (unsigned long long)v->version,
				       (unsigned long long)(c->before + i));
		if ((rc = hex_check(v->old, strnlen(v->old, 41), 40, "old")) ||
		    (rc = hex_check(v->new_, strnlen(v->new_, 41), 40, "new")) ||
		    (rc = hex_check(v->tree, strnlen(v->tree, 41), 40, "tree")))
			return hlx_err_wrap(rc, "version %llu",
					    (unsigned long long)v->version);
		if (!hlx_time_valid(v->time))
			return hlx_err(HLX_EINVAL,
				       "checkpoint: version %llu: time out of range",
				       (unsigned long long)v->version);
	}
	if (c->nprior > HLX_CHECKPOINT_PRIOR_MAX || (c->nprior && !c->prior))
		return hlx_err(HLX_ETOOBIG, "checkpoint: more than %d prior commits",
			       HLX_CHECKPOINT_PRIOR_MAX);
	if (hlx_checkpoint_prior_runs(c->prior, c->nprior) > HLX_CHECKPOINT_RUNS_MAX)
		return hlx_err(HLX_ETOOBIG, "checkpoint: more than %d runs of prior commits",
			       HLX_CHECKPOINT_RUNS_MAX);
	for (size_t i = 0; i < c->nprior; i++) {
		const struct hlx_checkpoint_prior *p = &c->prior[i];

		if (p->version < 1 || p->version > c->before + c->n - 1)
			return hlx_err(HLX_EINVAL,
				       "checkpoint: a prior commit of version %llu, not 1 to %llu",
				       (unsigned long long)p->version,
				       (unsigned long long)(c->before + c->n - 1));
		if ((rc = hex_check(p->commit, strnlen(p->commit, 41), 40, "prior commit")))
			return rc;
	}
	return HLX_OK;
}

static char *canonical(json_t *o)
{
	return hlx_signed_canonical(o);
}

int hlx_checkpoint_body(const struct hlx_checkpoint *c, struct hlx_buf *out)
{
	char is[HLX_TIME_TEXT], t[HLX_TIME_TEXT];
	json_t *o = NULL, *a, *pr, *run = NULL;
	char *s = NULL;
	int rc = hlx_checkpoint_validate(c);

	if (rc)
		return rc;
	hlx_time_format(c->issued, is);
	a = json_array();
	for (size_t i = 0; a && i < c->n; i++) {
		const struct hlx_checkpoint_version *v = &c->v[i];

		hlx_time_format(v->time, t);
		if (json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:s, s:s}",
				"version", (json_int_t)v->version, "old", v->old,
				"new", v->new_, "tree", v->tree, "time", t))) {
			json_decref(a);
			a = NULL;
		}
	}
	/* the prior commits, a run of consecutive versions at a time */
	pr = json_array();
	for (size_t i = 0; pr && i < c->nprior; i++) {
		const struct hlx_checkpoint_prior *p = &c->prior[i];

		if (i == 0 || p->version != c->prior[i - 1].version + 1) {
			run = json_array();
			if (json_array_append_new(pr, json_pack("{s:I, s:o}",
					"first", (json_int_t)p->version, "commits", run)))
				run = NULL;
		}
		if (!run || json_array_append_new(run, json_string(p->commit))) {
			json_decref(pr);
			pr = NULL;
		}
	}
	if (a && pr)
		o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o, s:o}",
			      "format", HLX_CHECKPOINT_FORMAT, "org", c->org,
			      "list", c->list, "before", (json_int_t)c->before,
			      "issued", is, "prior", pr, "versions", a);
	else {
		json_decref(a);
		json_decref(pr);
	}
	if (o)
		s = canonical(o);
	json_decref(o);
	if (!s)
		return hlx_err(HLX_ENOMEM, "cannot encode a checkpoint");
	rc = hlx_buf_puts(out, s);
	free(s);
	return rc;
}

int hlx_checkpoint_file(const char *body, size_t bodylen, const char *armor,
			size_t armorlen, struct hlx_buf *out)
{
	return hlx_signed_file("checkpoint", body, bodylen, armor, armorlen, out);
}

static int get_s(json_t *o, const char *k, const char **s, size_t *n)
{
	return hlx_signed_str("checkpoint", o, k, s, n);
}

static int get_u(json_t *o, const char *k, uint64_t *u)
{
	return hlx_signed_count("checkpoint", o, k, u);
}

static int get_time(json_t *o, const char *k, int64_t *t)
{
	const char *s;
	size_t n;
	int rc = get_s(o, k, &s, &n);

	if (!rc && hlx_time_parse(s, n, t))
		rc = hlx_err_wrap(HLX_EINVAL, "checkpoint: '%s'", k);
	return rc;
}

/* o has exactly the members keys[] (NULL-terminated). */
static int exact_members(json_t *o, const char *const *keys, const char *what)
{
	size_t nk;

	if (!json_is_object(o))
		return hlx_err(HLX_EINVAL, "checkpoint: %s is not an object", what);
	for (nk = 0; keys[nk]; nk++)
		if (!json_object_get(o, keys[nk]))
			return hlx_err(HLX_EINVAL, "checkpoint: %s: '%s' missing",
				       what, keys[nk]);
	if (json_object_size(o) != nk)
		return hlx_err(HLX_EINVAL, "checkpoint: %s: unknown members", what);
	return HLX_OK;
}

static int copy_hex(json_t *o, const char *k, char out[41])
{
	const char *s;
	size_t n;
	int rc = get_s(o, k, &s, &n);

	if (!rc)
		rc = hex_check(s, n, 40, k);
	if (!rc)
		memcpy(out, s, 41);
	return rc;
}

static int parse_body(json_t *o, struct hlx_checkpoint *c)
{
	static const char *const keys[] = { "format", "org", "list", "before",
					    "issued", "prior", "versions", NULL };
	static const char *const rkeys[] = { "first", "commits", NULL };
	static const char *const vkeys[] = { "version", "old", "new", "tree",
					     "time", NULL };
	struct hlx_checkpoint_version v;
	const char *s;
	size_t sl;
	json_t *a;
	int rc;

	/* the format first: another format has other members */
	if (json_is_object(o) && json_object_get(o, "format") &&
	    (rc = get_s(o, "format", &s, &sl)) == HLX_OK &&
	    strcmp(s, HLX_CHECKPOINT_FORMAT) != 0)
		return hlx_err(HLX_EUNSUPPORTED,
			       "checkpoint: format '%.20s' (want " HLX_CHECKPOINT_FORMAT ")",
			       s);
	if ((rc = exact_members(o, keys, "body")) ||
	    (rc = get_s(o, "format", &s, &sl)))
		return rc;
	if ((rc = get_s(o, "org", &s, &sl)) ||
	    (rc = hlx_name_check(s, sl, "organisation")))
		return rc;
	memcpy(c->org, s, sl + 1);
	if ((rc = get_s(o, "list", &s, &sl)) || (rc = hlx_name_check(s, sl, "list")))
		return rc;
	memcpy(c->list, s, sl + 1);
	if ((rc = get_u(o, "before", &c->before)) ||
	    (rc = get_time(o, "issued", &c->issued)))
		return rc;
	a = json_object_get(o, "versions");
	if (!json_is_array(a) || json_array_size(a) == 0)
		return hlx_err(HLX_EINVAL, "checkpoint: 'versions' is not a non-empty array");
	if (json_array_size(a) > HLX_CHECKPOINT_VERSIONS_MAX)
		return hlx_err(HLX_ETOOBIG, "checkpoint: %zu versions (at most %d)",
			       json_array_size(a), HLX_CHECKPOINT_VERSIONS_MAX);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);

		memset(&v, 0, sizeof(v));
		if ((rc = exact_members(e, vkeys, "version entry")) ||
		    (rc = get_u(e, "version", &v.version)) ||
		    (rc = copy_hex(e, "old", v.old)) ||
		    (rc = copy_hex(e, "new", v.new_)) ||
		    (rc = copy_hex(e, "tree", v.tree)) ||
		    (rc = get_time(e, "time", &v.time)) ||
		    (rc = hlx_checkpoint_add(c, &v)))
			return hlx_err_wrap(rc, "entry %zu", i + 1);
	}
	a = json_object_get(o, "prior");
	if (!json_is_array(a))
		return hlx_err(HLX_EINVAL, "checkpoint: 'prior' is not an array");
	if (json_array_size(a) > HLX_CHECKPOINT_RUNS_MAX)
		return hlx_err(HLX_ETOOBIG, "checkpoint: %zu runs of prior commits (at most %d)",
			       json_array_size(a), HLX_CHECKPOINT_RUNS_MAX);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i), *cs;
		uint64_t first;
		char oid[41];

		if ((rc = exact_members(e, rkeys, "prior run")) ||
		    (rc = get_u(e, "first", &first)))
			return hlx_err_wrap(rc, "prior run %zu", i + 1);
		cs = json_object_get(e, "commits");
		if (!json_is_array(cs) || json_array_size(cs) == 0)
			return hlx_err(HLX_EINVAL,
				       "checkpoint: prior run %zu: 'commits' is not a non-empty array",
				       i + 1);
		if (first < 1 || json_array_size(cs) - 1 > VERSION_MAX - first)
			return hlx_err(HLX_EINVAL,
				       "checkpoint: prior run %zu: versions out of range", i + 1);
		/* canonical: a run is as long as it can be */
		if (c->nprior && c->prior[c->nprior - 1].version + 1 == first)
			return hlx_err(HLX_EINVAL,
				       "checkpoint: prior run %zu continues the one before it",
				       i + 1);
		for (size_t j = 0; j < json_array_size(cs); j++) {
			json_t *x = json_array_get(cs, j);

			if (!json_is_string(x))
				return hlx_err(HLX_EINVAL,
					       "checkpoint: prior run %zu: a commit is not a string",
					       i + 1);
			if ((rc = hex_check(json_string_value(x), json_string_length(x),
					    40, "prior commit")))
				return hlx_err_wrap(rc, "prior run %zu", i + 1);
			memcpy(oid, json_string_value(x), 41);
			if ((rc = hlx_checkpoint_add_prior(c, first + j, oid)))
				return rc;
		}
	}
	return hlx_checkpoint_validate(c);
}

int hlx_checkpoint_parse(const char *text, size_t n, struct hlx_checkpoint *c,
			 struct hlx_buf *body, struct hlx_buf *sig)
{
	struct hlx_checkpoint got;
	struct hlx_signed sf;
	int rc;

	hlx_checkpoint_init(&got);
	rc = hlx_signed_parse("checkpoint", text, n, HLX_CHECKPOINT_MAX, &sf);
	if (rc)
		return rc;
	rc = parse_body(sf.body, &got);
	if (rc)
		goto out;
	hlx_buf_reset(body);
	hlx_buf_reset(sig);
	rc = hlx_buf_put(body, sf.b, sf.bl);
	if (!rc)
		rc = hlx_buf_put(sig, sf.a, sf.al);
	if (!rc) {
		hlx_checkpoint_free(c);
		*c = got;
		hlx_checkpoint_init(&got);
	}
out:
	hlx_checkpoint_free(&got);
	hlx_signed_free(&sf);
	return rc;
}
