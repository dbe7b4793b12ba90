/* SPDX-License-Identifier: MIT */
/* Plans in feeds and in the store: bundles (protocol/plan_feed.h). */
#include "protocol/plan_feed.h"
#include "protocol/err.h"
#include "protocol/rtime.h"
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

/* ---- the plans head ----------------------------------------------------- */

void hlx_plans_head_free(struct hlx_plans_head *h)
{
	if (!h)
		return;
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

static int entry_cmp(const struct hlx_plans_entry *a,
		     const struct hlx_plans_entry *b)
{
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	if (a->version != b->version)
		return a->version < b->version ? -1 : 1;
	return strcmp(a->doc, b->doc);
}

int hlx_plans_head_same(const struct hlx_plans_head *a,
			const struct hlx_plans_head *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (entry_cmp(&a->v[i], &b->v[i]) ||
		    strcmp(a->v[i].bundle, b->v[i].bundle))
			return 0;
	return 1;
}

int hlx_plans_head_body(const struct hlx_plans_head *h, struct hlx_buf *out)
{
	char is[HLX_TIME_TEXT], ex[HLX_TIME_TEXT];
	json_t *o, *arr;
	char *s = NULL;
	int rc = HLX_OK;

	if (h->seq < 1 || h->n > HLX_PLANS_HEAD_PLANS_MAX ||
	    !hlx_time_valid(h->issued) || !hlx_time_valid(h->expires) ||
	    h->expires <= h->issued)
		return hlx_err(HLX_EINVAL, "plans head: not a valid head");
	for (size_t i = 1; i < h->n; i++)
		if (entry_cmp(&h->v[i - 1], &h->v[i]) >= 0)
			return hlx_err(HLX_EINVAL, "plans head: entries not sorted");
	hlx_time_format(h->issued, is);
	hlx_time_format(h->expires, ex);
	arr = json_array();
	o = json_pack("{s:s,s:s,s:I,s:s,s:s,s:I,s:s,s:o}", "format",
		      HLX_PLANS_HEAD_FORMAT, "org", h->org, "seq",
		      (json_int_t)h->seq, "issued", is, "expires", ex,
		      "trust_length", (json_int_t)h->trust_length, "trust_head",
		      h->trust_head, "plans", arr);
	if (!o)
		return hlx_err(HLX_ENOMEM, "cannot encode a plans head");
	if (h->audience[0] &&
	    json_object_set_new(o, "audience", json_string(h->audience)))
		rc = hlx_err(HLX_ENOMEM, "cannot encode a plans head");
	for (size_t i = 0; !rc && i < h->n; i++) {
		json_t *e = json_pack("{s:s,s:s,s:s,s:I}", "bundle", h->v[i].bundle,
				      "doc", h->v[i].doc, "name", h->v[i].name,
				      "version", (json_int_t)h->v[i].version);

		if (!e || json_array_append_new(arr, e))
			rc = hlx_err(HLX_ENOMEM, "cannot encode a plans head");
	}
	if (!rc && !(s = hlx_signed_canonical(o)))
		rc = hlx_err(HLX_ENOMEM, "cannot encode a plans head");
	json_decref(o);
	if (!rc)
		rc = hlx_buf_puts(out, s);
	free(s);
	return rc;
}

static int head_s(json_t *o, const char *k, const char **s, size_t *n)
{
	return hlx_signed_str("plans head", o, k, s, n);
}

static int head_entry(json_t *e, size_t i, struct hlx_plans_entry *x)
{
	const char *s;
	size_t n;
	json_t *v;
	int rc;

	if (!json_is_object(e) || json_object_size(e) != 4 ||
	    !json_object_get(e, "bundle") || !json_object_get(e, "doc") ||
	    !json_object_get(e, "name") || !json_object_get(e, "version"))
		return hlx_err(HLX_EINVAL,
			       "plans head: plan %zu: members must be exactly bundle, doc, name, version",
			       i + 1);
	if ((rc = head_s(e, "name", &s, &n)) ||
	    (rc = hlx_entry_token_check(s, n, "plan name")))
		return hlx_err_wrap(rc, "plans head: plan %zu", i + 1);
	memcpy(x->name, s, n + 1);
	v = json_object_get(e, "version");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > HLX_PLAN_VERSION_MAX)
		return hlx_err(HLX_EINVAL, "plans head: plan %zu: 'version' must be 1..%lld",
			       i + 1, HLX_PLAN_VERSION_MAX);
	x->version = json_integer_value(v);
	if ((rc = head_s(e, "doc", &s, &n)) ||
	    (rc = hlx_signed_hex("plans head", "doc", s, n, 64)))
		return rc;
	memcpy(x->doc, s, 65);
	if ((rc = head_s(e, "bundle", &s, &n)) ||
	    (rc = hlx_signed_hex("plans head", "bundle", s, n, 64)))
		return rc;
	memcpy(x->bundle, s, 65);
	return HLX_OK;
}

static int head_fields(json_t *o, struct hlx_plans_head *h)
{
	static const char *const keys[] = { "format", "org", "seq", "issued",
					    "expires", "trust_length",
					    "trust_head", "plans", NULL };
	const char *s;
	size_t n, nk, np;
	json_t *arr;
	int rc;

	for (nk = 0; keys[nk]; nk++)
		if (!json_object_get(o, keys[nk]))
			return hlx_err(HLX_EINVAL, "plans head: '%s' missing", keys[nk]);
	if (json_object_size(o) != nk + (json_object_get(o, "audience") != NULL))
		return hlx_err(HLX_EINVAL, "plans head: unknown members in the body");
	if ((rc = head_s(o, "format", &s, &n)))
		return rc;
	if (strcmp(s, HLX_PLANS_HEAD_FORMAT))
		return hlx_err(HLX_EUNSUPPORTED, "plans head: format '%.20s' (want "
			       HLX_PLANS_HEAD_FORMAT ")", s);
	if (json_object_get(o, "audience")) {
		if ((rc = head_s(o, "audience", &s, &n)) ||
		    (rc = hlx_signed_hex("plans head", "audience", s, n, 32)))
			return rc;
		memcpy(h->audience, s, 33);
	}
	if ((rc = head_s(o, "org", &s, &n)) ||
	    (rc = hlx_name_check(s, n, "organisation")))
		return rc;
	memcpy(h->org, s, n + 1);
	if ((rc = hlx_signed_count("plans head", o, "seq", &h->seq)) ||
	    (rc = hlx_signed_count("plans head", o, "trust_length", &h->trust_length)))
		return rc;
	if (h->seq == 0 || h->trust_length == 0)
		return hlx_err(HLX_EINVAL, "plans head: seq and trust_length start at 1");
	if ((rc = head_s(o, "trust_head", &s, &n)) ||
	    (rc = hlx_signed_hex("plans head", "trust_head", s, n, 64)))
		return rc;
	memcpy(h->trust_head, s, 65);
	if ((rc = head_s(o, "issued", &s, &n)) ||
	    (rc = hlx_time_parse(s, n, &h->issued)) ||
	    (rc = head_s(o, "expires", &s, &n)) ||
	    (rc = hlx_time_parse(s, n, &h->expires)))
		return hlx_err_wrap(HLX_EINVAL, "plans head");
	if (h->expires <= h->issued)
		return hlx_err(HLX_EINVAL, "plans head: expires before it is issued");
	arr = json_object_get(o, "plans");
	if (!json_is_array(arr))
		return hlx_err(HLX_EINVAL, "plans head: 'plans' must be an array");
	np = json_array_size(arr);
	if (np > HLX_PLANS_HEAD_PLANS_MAX)
		return hlx_err(HLX_ETOOBIG, "plans head: %zu plans, at most %d", np,
			       HLX_PLANS_HEAD_PLANS_MAX);
	if (np && !(h->v = calloc(np, sizeof(*h->v))))
		return hlx_err(HLX_ENOMEM, "plans head");
	for (size_t i = 0; i < np; i++) {
		if ((rc = head_entry(json_array_get(arr, i), i, &h->v[i])))
			return rc;
		h->n = i + 1;
		if (i && entry_cmp(&h->v[i - 1], &h->v[i]) >= 0)
			return hlx_err(HLX_EINVAL,
				       "plans head: plan %zu: not sorted by name, version, doc, or repeated",
				       i + 1);
	}
	return HLX_OK;
}

int hlx_plans_head_parse(const char *text, size_t n, struct hlx_plans_head *h,
			 struct hlx_buf *body, struct hlx_buf *sig)
{
	struct hlx_plans_head t;
	struct hlx_signed sf;
	int rc;

	rc = hlx_signed_parse("plans head", text, n, HLX_PLANS_HEAD_MAX, &sf);
	if (rc)
		return rc;
	memset(&t, 0, sizeof(t));
	rc = head_fields(sf.body, &t);
	if (!rc && body) {
		hlx_buf_reset(body);
		rc = hlx_buf_put(body, sf.b, sf.bl);
	}
	if (!rc && sig) {
		hlx_buf_reset(sig);
		rc = hlx_buf_put(sig, sf.a, sf.al);
	}
	hlx_signed_free(&sf);
	if (rc)
		hlx_plans_head_free(&t);
	else
		*h = t;
	return rc;
}
