/* SPDX-License-Identifier: MIT */
/* Plans in feeds and in the store: bundles (protocol/plan_feed.h). */
#include "protocol/plan_feed.h"
#include "protocol/err.h"
#include "protocol/signed.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void hlx_plan_bundle_free(struct hlx_plan_bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nacts; i++) {
		free(b->acts[i].body);
		free(b->acts[i].sig);
	}
	free(b->acts);
	hlx_plan_free(b->plan);
	memset(b, 0, sizeof(*b));
}

static char *dup_buf(const struct hlx_buf *b)
{
	char *s = malloc(b->len + 1);

	if (s) {
		if (b->len)
			memcpy(s, b->data, b->len);
		s[b->len] = '\0';
	}
	return s;
}

/* Act i of the array: parsed, in order after the one before, naming p. */
static int bundle_act(const json_t *o, size_t i, const struct hlx_plan *p,
		      const struct hlx_plan_bact *prev, struct hlx_plan_bact *a)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	uint8_t h[32];
	int rc, c;

	rc = hlx_plan_act_from_json(o, &a->a, &body, &sig);
	if (rc) {
		rc = hlx_err_wrap(rc, "plan bundle: act %zu", i + 1);
		goto out;
	}
	if (prev) {
		size_t m = prev->bodylen < body.len ? prev->bodylen : body.len;

		c = memcmp(prev->body, body.data, m);
		if (c > 0 || (c == 0 && prev->bodylen >= body.len)) {
			rc = hlx_err(HLX_EINVAL,
				     "plan bundle: act %zu: acts not sorted by body, or repeated",
				     i + 1);
			goto out;
		}
	}
	hlx_plan_hash(p, h);
	if (strcmp(a->a.plan, hlx_plan_name(p)) ||
	    (a->a.act == HLX_PLAN_SIGN &&
	     (a->a.version != hlx_plan_version(p) || memcmp(a->a.doc, h, 32))) ||
	    (a->a.act == HLX_PLAN_WITHDRAW && a->a.version < hlx_plan_version(p))) {
		rc = hlx_err(HLX_EINVAL,
			     "plan bundle: act %zu (of '%s') names %s@%lld, not this document",
			     i + 1, a->a.org, a->a.plan, (long long)a->a.version);
		goto out;
	}
	if (hlx_plan_signatory_find(p, a->a.org) < 0) {
		rc = hlx_err(HLX_EINVAL,
			     "plan bundle: act %zu: '%s' is not a signatory of %s@%lld",
			     i + 1, a->a.org, hlx_plan_name(p),
			     (long long)hlx_plan_version(p));
		goto out;
	}
	a->body = dup_buf(&body);
	a->sig = dup_buf(&sig);
	a->bodylen = body.len;
	a->siglen = sig.len;
	if (!a->body || !a->sig)
		rc = hlx_err(HLX_ENOMEM, "plan bundle");
out:
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

int hlx_plan_bundle_parse(const char *text, size_t n,
			  struct hlx_plan_bundle *out)
{
	struct hlx_plan_bundle b = { 0 };
	json_error_t je;
	json_t *o = NULL, *acts, *fmt, *plan;
	size_t i, na;
	int rc = HLX_OK;

	if (n > HLX_PLAN_BUNDLE_MAX)
		return hlx_err(HLX_ETOOBIG, "plan bundle: %zu bytes, at most %d", n,
			       HLX_PLAN_BUNDLE_MAX);
	o = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		rc = hlx_err(HLX_EINVAL, "plan bundle: not a JSON object");
		goto out;
	}
	fmt = json_object_get(o, "format");
	plan = json_object_get(o, "plan");
	acts = json_object_get(o, "acts");
	if (!fmt || !plan || !acts || json_object_size(o) != 3) {
		rc = hlx_err(HLX_EINVAL,
			     "plan bundle: members must be exactly format, plan and acts");
		goto out;
	}
	if (!json_is_string(fmt) ||
	    strcmp(json_string_value(fmt), HLX_PLAN_BUNDLE_FORMAT)) {
		rc = hlx_err(HLX_EUNSUPPORTED,
			     "plan bundle: 'format' unsupported (want " HLX_PLAN_BUNDLE_FORMAT ")");
		goto out;
	}
	if (!json_is_string(plan) || !json_is_array(acts)) {
		rc = hlx_err(HLX_EINVAL,
			     "plan bundle: 'plan' must be a string, 'acts' an array");
		goto out;
	}
	na = json_array_size(acts);
	if (na > HLX_PLAN_BUNDLE_ACTS_MAX) {
		rc = hlx_err(HLX_ETOOBIG, "plan bundle: %zu acts, at most %d", na,
			     HLX_PLAN_BUNDLE_ACTS_MAX);
		goto out;
	}
	rc = hlx_plan_parse(json_string_value(plan), json_string_length(plan),
			    HLX_PLAN_CANONICAL, &b.plan);
	if (rc) {
		rc = hlx_err_wrap(rc, "plan bundle");
		goto out;
	}
	if (na && !(b.acts = calloc(na, sizeof(*b.acts)))) {
		rc = hlx_err(HLX_ENOMEM, "plan bundle");
		goto out;
	}
	for (i = 0; i < na; i++) {
		rc = bundle_act(json_array_get(acts, i), i, b.plan,
				i ? &b.acts[i - 1] : NULL, &b.acts[i]);
		b.nacts = i + 1;
		if (rc)
			goto out;
	}
out:
	json_decref(o);
	if (rc)
		hlx_plan_bundle_free(&b);
	else
		*out = b;
	return rc;
}

static int cmp_bact(const void *x, const void *y)
{
	const struct hlx_plan_bact *a = *(const struct hlx_plan_bact *const *)x;
	const struct hlx_plan_bact *b = *(const struct hlx_plan_bact *const *)y;
	size_t m = a->bodylen < b->bodylen ? a->bodylen : b->bodylen;
	int c = memcmp(a->body, b->body, m);

	return c ? c : (a->bodylen > b->bodylen) - (a->bodylen < b->bodylen);
}

int hlx_plan_bundle_encode(const struct hlx_plan *p,
			   const struct hlx_plan_bact *acts, size_t nacts,
			   struct hlx_buf *out)
{
	struct hlx_buf doc = HLX_BUF_INIT;
	const struct hlx_plan_bact **v = NULL;
	json_t *o = NULL, *arr;
	char *s = NULL;
	size_t i;
	int rc;

	if ((rc = hlx_plan_canonical(p, &doc)))
		goto out;
	if (nacts && !(v = malloc(nacts * sizeof(*v)))) {
		rc = hlx_err(HLX_ENOMEM, "plan bundle");
		goto out;
	}
	for (i = 0; i < nacts; i++)
		v[i] = &acts[i];
	if (nacts)
		qsort(v, nacts, sizeof(*v), cmp_bact);
	o = json_object();
	arr = json_array();
	if (!o || !arr || json_object_set_new(o, "acts", arr) ||
	    json_object_set_new(o, "format", json_string(HLX_PLAN_BUNDLE_FORMAT)) ||
	    json_object_set_new(o, "plan", json_stringn((char *)doc.data, doc.len))) {
		rc = hlx_err(HLX_ENOMEM, "plan bundle");
		goto out;
	}
	for (i = 0; i < nacts; i++) {
		json_t *a;

		if (i && !cmp_bact(&v[i - 1], &v[i]))
			continue;
		a = json_object();
		if (!a || json_array_append_new(arr, a) ||
		    json_object_set_new(a, "body", json_stringn(v[i]->body, v[i]->bodylen)) ||
		    json_object_set_new(a, "signature", json_stringn(v[i]->sig, v[i]->siglen))) {
			rc = hlx_err(HLX_ENOMEM, "plan bundle");
			goto out;
		}
	}
	s = hlx_signed_canonical(o);
	rc = s ? hlx_buf_puts(out, s) : hlx_err(HLX_ENOMEM, "plan bundle");
out:
	free(s);
	free(v);
	json_decref(o);
	hlx_buf_free(&doc);
	return rc;
}
