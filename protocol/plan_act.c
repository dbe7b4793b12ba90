/* SPDX-License-Identifier: MIT */
/*
 * Response plans, part two: the acts that sign a plan version or withdraw
 * from a plan (spec/plan.md section 5.1), and the book of documents and
 * valid acts that says which versions are in force at a time (sections
 * 5.3 and 6).  Pure: the signatures are verified by the caller.
 */
#include "protocol/plan.h"
#include "protocol/err.h"
#include "protocol/rtime.h"
#include "protocol/signed.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- acts --------------------------------------------------------------- */

static const char *act_name(enum hlx_plan_act_kind k)
{
	return k == HLX_PLAN_SIGN ? "sign" : k == HLX_PLAN_WITHDRAW ? "withdraw"
								   : NULL;
}

int hlx_plan_act_body(const struct hlx_plan_act *a, struct hlx_buf *out)
{
	char doc[65], tm[HLX_TIME_TEXT];
	const char *kind = act_name(a->act);
	json_t *o;
	char *s;
	int rc;

	if (!kind || hlx_name_check(a->org, strnlen(a->org, sizeof(a->org)),
				    "organisation") ||
	    hlx_entry_token_check(a->plan, strnlen(a->plan, sizeof(a->plan)),
				  "plan name") ||
	    a->version < 1 || a->version > HLX_PLAN_VERSION_MAX ||
	    !hlx_time_valid(a->time))
		return hlx_err(HLX_EINVAL, "plan act: not a valid act");
	sodium_bin2hex(doc, sizeof(doc), a->doc, 32);
	hlx_time_format(a->time, tm);
	o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s}", "format",
		      HLX_PLAN_ACT_FORMAT, "act", kind, "org", a->org, "plan",
		      a->plan, "version", (json_int_t)a->version, "doc", doc,
		      "time", tm);
	s = o ? hlx_signed_canonical(o) : NULL;
	json_decref(o);
	if (!s)
		return hlx_err(HLX_ENOMEM, "cannot encode a plan act");
	rc = hlx_buf_puts(out, s);
	free(s);
	return rc;
}

static int act_str(json_t *o, const char *k, const char **s, size_t *n)
{
	return hlx_signed_str("plan act", o, k, s, n);
}

static int act_fields(json_t *o, struct hlx_plan_act *a)
{
	const char *s;
	size_t n;
	json_int_t v;
	int rc;

	if ((rc = act_str(o, "format", &s, &n)))
		return rc;
	if (n != strlen(HLX_PLAN_ACT_FORMAT) || memcmp(s, HLX_PLAN_ACT_FORMAT, n))
		return hlx_err(HLX_EUNSUPPORTED,
			       "plan act: 'format' unsupported (want " HLX_PLAN_ACT_FORMAT ")");
	if ((rc = act_str(o, "act", &s, &n)))
		return rc;
	if (n == 4 && !memcmp(s, "sign", 4))
		a->act = HLX_PLAN_SIGN;
	else if (n == 8 && !memcmp(s, "withdraw", 8))
		a->act = HLX_PLAN_WITHDRAW;
	else
		return hlx_err(HLX_EINVAL,
			       "plan act: 'act' must be sign or withdraw");
	if ((rc = act_str(o, "org", &s, &n)))
		return rc;
	if ((rc = hlx_name_check(s, n, "organisation")))
		return hlx_err_wrap(rc, "plan act: 'org'");
	memcpy(a->org, s, n + 1);
	if ((rc = act_str(o, "plan", &s, &n)))
		return rc;
	if ((rc = hlx_entry_token_check(s, n, "plan name")))
		return hlx_err_wrap(rc, "plan act: 'plan'");
	memcpy(a->plan, s, n + 1);
	if (!json_is_integer(json_object_get(o, "version")))
		return hlx_err(HLX_EINVAL,
			       "plan act: 'version' missing or not an integer");
	v = json_integer_value(json_object_get(o, "version"));
	if (v < 1 || v > HLX_PLAN_VERSION_MAX)
		return hlx_err(HLX_EINVAL, "plan act: 'version' %lld outside 1..%lld",
			       (long long)v, HLX_PLAN_VERSION_MAX);
	a->version = v;
	if ((rc = act_str(o, "doc", &s, &n)) ||
	    (rc = hlx_signed_hex("plan act", "doc", s, n, 64)))
		return rc;
	sodium_hex2bin(a->doc, 32, s, 64, NULL, NULL, NULL);
	if ((rc = act_str(o, "time", &s, &n)))
		return rc;
	if ((rc = hlx_time_parse(s, n, &a->time)))
		return hlx_err_wrap(rc, "plan act: 'time'");
	return HLX_OK;
}

int hlx_plan_act_parse_body(const char *body, size_t n, struct hlx_plan_act *a)
{
	static const char *const members[] = { "act", "doc", "format", "org",
					       "plan", "time", "version" };
	struct hlx_buf canon = HLX_BUF_INIT;
	struct hlx_plan_act t;
	json_error_t je;
	json_t *o;
	size_t i;
	int rc;

	if (n > HLX_PLAN_ACT_BODY_MAX)
		return hlx_err(HLX_ETOOBIG, "plan act: body of %zu bytes, at most %d",
			       n, HLX_PLAN_ACT_BODY_MAX);
	o = json_loadb(body, n, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return hlx_err(HLX_EINVAL, "plan act: body is not a JSON object");
	}
	memset(&t, 0, sizeof(t));
	rc = HLX_OK;
	for (i = 0; !rc && i < sizeof(members) / sizeof(members[0]); i++)
		if (!json_object_get(o, members[i]))
			rc = hlx_err(HLX_EINVAL, "plan act: '%s' missing",
				     members[i]);
	if (!rc && json_object_size(o) != sizeof(members) / sizeof(members[0]))
		rc = hlx_err(HLX_EINVAL, "plan act: unknown member in the body");
	if (!rc)
		rc = act_fields(o, &t);
	json_decref(o);
	if (!rc)
		rc = hlx_plan_act_body(&t, &canon);
	if (!rc && (canon.len != n || memcmp(canon.data, body, n)))
		rc = hlx_err(HLX_EINVAL, "plan act: body is not in canonical form");
	hlx_buf_free(&canon);
	if (!rc)
		*a = t;
	return rc;
}

/* Body and signature strings of an act object: check and copy. */
static int act_parts(const char *b, size_t bl, const char *s, size_t sl,
		     struct hlx_plan_act *a, struct hlx_buf *body,
		     struct hlx_buf *sig)
{
	int rc;

	if (sl == 0)
		return hlx_err(HLX_EINVAL, "plan act: empty 'signature'");
	if ((rc = hlx_plan_act_parse_body(b, bl, a)))
		return rc;
	if (body && (rc = hlx_buf_put(body, b, bl)))
		return rc;
	if (sig && (rc = hlx_buf_put(sig, s, sl)))
		return rc;
	return HLX_OK;
}

int hlx_plan_act_parse(const char *text, size_t n, struct hlx_plan_act *a,
		       struct hlx_buf *body, struct hlx_buf *sig)
{
	struct hlx_signed sf;
	int rc = hlx_signed_parse("plan act", text, n, HLX_PLAN_ACT_MAX, &sf);

	if (rc)
		return rc;
	rc = act_parts(sf.b, sf.bl, sf.a, sf.al, a, body, sig);
	hlx_signed_free(&sf);
	return rc;
}

int hlx_plan_act_from_json(const json_t *o, struct hlx_plan_act *a,
			   struct hlx_buf *body, struct hlx_buf *sig)
{
	const char *b, *s;
	size_t bl, sl;
	char *whole;
	int rc;

	if (!json_is_object(o) || json_object_size(o) != 2)
		return hlx_err(HLX_EINVAL,
			       "plan act: not a JSON object with 'body' and 'signature'");
	if ((rc = hlx_signed_str("plan act", (json_t *)o, "body", &b, &bl)) ||
	    (rc = hlx_signed_str("plan act", (json_t *)o, "signature", &s, &sl)))
		return rc;
	if (bl + sl > HLX_PLAN_ACT_MAX)
		return hlx_err(HLX_ETOOBIG, "plan act: more than %d bytes",
			       HLX_PLAN_ACT_MAX);
	whole = hlx_signed_canonical(o);
	if (!whole)
		return hlx_err(HLX_ENOMEM, "plan act");
	rc = strlen(whole) > HLX_PLAN_ACT_MAX
		     ? hlx_err(HLX_ETOOBIG, "plan act: more than %d bytes",
			       HLX_PLAN_ACT_MAX)
		     : HLX_OK;
	free(whole);
	return rc ? rc : act_parts(b, bl, s, sl, a, body, sig);
}

int hlx_plan_act_file(const char *body, size_t bodylen, const char *sig,
		      size_t siglen, struct hlx_buf *out)
{
	json_t *o = json_object();
	char *s = NULL;
	int rc;

	if (o && !json_object_set_new(o, "body", json_stringn(body, bodylen)) &&
	    !json_object_set_new(o, "signature", json_stringn(sig, siglen)))
		s = hlx_signed_canonical(o);
	json_decref(o);
	if (!s)
		return hlx_err(HLX_ENOMEM, "cannot encode a plan act");
	rc = hlx_buf_puts(out, s);
	free(s);
	return rc;
}

int hlx_plan_act_for(const struct hlx_plan_act *a, const struct hlx_plan *p)
{
	uint8_t h[32];

	hlx_plan_hash(p, h);
	if (memcmp(h, a->doc, 32))
		return hlx_err(HLX_EINVAL,
			       "plan act of '%s': names another document", a->org);
	if (strcmp(a->plan, hlx_plan_name(p)) ||
	    a->version != hlx_plan_version(p))
		return hlx_err(HLX_EINVAL,
			       "plan act of '%s': names %s@%lld, the document is %s@%lld",
			       a->org, a->plan, (long long)a->version,
			       hlx_plan_name(p), (long long)hlx_plan_version(p));
	if (hlx_plan_signatory_find(p, a->org) < 0)
		return hlx_err(HLX_EINVAL,
			       "plan act: '%s' is not a signatory of %s@%lld",
			       a->org, a->plan, (long long)a->version);
	return HLX_OK;
}

/* ---- the book ----------------------------------------------------------- */

struct doc {
	struct hlx_plan *p;
	uint8_t hash[32];
	int64_t sign[HLX_PLAN_SIGNATORIES_MAX]; /* -1: none */
	int excluded; /* hlx_plan_book_exclude: never in force */
};

struct withdrawal {
	char plan[HLX_TOKEN_MAX + 1];
	char org[HLX_NAME_MAX + 1];
	int64_t version, time;
};

struct hlx_plan_book {
	struct doc *d;
	size_t nd, capd;
	struct withdrawal *w;
	size_t nw, capw;
};

int hlx_plan_book_new(struct hlx_plan_book **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? HLX_OK : hlx_err(HLX_ENOMEM, "plan book");
}

void hlx_plan_book_free(struct hlx_plan_book *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nd; i++)
		hlx_plan_free(b->d[i].p);
	free(b->d);
	free(b->w);
	free(b);
}

static struct doc *find_doc(const struct hlx_plan_book *b,
			    const uint8_t hash[32])
{
	for (size_t i = 0; i < b->nd; i++)
		if (!memcmp(b->d[i].hash, hash, 32))
			return &b->d[i];
	return NULL;
}

static const struct doc *doc_of(const struct hlx_plan_book *b,
				const struct hlx_plan *p)
{
	for (size_t i = 0; i < b->nd; i++)
		if (b->d[i].p == p)
			return &b->d[i];
	return NULL;
}

const struct hlx_plan *hlx_plan_book_find(const struct hlx_plan_book *b,
					  const uint8_t hash[32])
{
	const struct doc *d = find_doc(b, hash);

	return d ? d->p : NULL;
}

int hlx_plan_book_add(struct hlx_plan_book *b, struct hlx_plan *p)
{
	struct doc *d;
	uint8_t h[32];

	hlx_plan_hash(p, h);
	if (find_doc(b, h)) {
		hlx_plan_free(p);
		return HLX_OK;
	}
	if (b->nd == b->capd) {
		size_t cap = b->capd ? 2 * b->capd : 8;

		d = realloc(b->d, cap * sizeof(*d));
		if (!d) {
			hlx_plan_free(p);
			return hlx_err(HLX_ENOMEM, "plan book");
		}
		b->d = d;
		b->capd = cap;
	}
	d = &b->d[b->nd++];
	d->p = p;
	memcpy(d->hash, h, 32);
	for (size_t i = 0; i < HLX_PLAN_SIGNATORIES_MAX; i++)
		d->sign[i] = -1;
	d->excluded = 0;
	return HLX_OK;
}

int hlx_plan_book_exclude(struct hlx_plan_book *b, const uint8_t hash[32])
{
	struct doc *d = find_doc(b, hash);

	if (!d)
		return hlx_err(HLX_ENOENT, "no such plan document in the book");
	d->excluded = 1;
	return HLX_OK;
}

static int add_withdrawal(struct hlx_plan_book *b, const struct hlx_plan_act *a)
{
	struct withdrawal *w;
	size_t i;

	for (i = 0; i < b->nw; i++) {
		w = &b->w[i];
		if (w->version == a->version && !strcmp(w->plan, a->plan) &&
		    !strcmp(w->org, a->org)) {
			if (a->time < w->time)
				w->time = a->time;
			return HLX_OK;
		}
	}
	if (b->nw == b->capw) {
		size_t cap = b->capw ? 2 * b->capw : 8;

		w = realloc(b->w, cap * sizeof(*w));
		if (!w)
			return hlx_err(HLX_ENOMEM, "plan book");
		b->w = w;
		b->capw = cap;
	}
	w = &b->w[b->nw++];
	memcpy(w->plan, a->plan, sizeof(w->plan));
	memcpy(w->org, a->org, sizeof(w->org));
	w->version = a->version;
	w->time = a->time;
	return HLX_OK;
}

int hlx_plan_book_act(struct hlx_plan_book *b, const struct hlx_plan_act *a)
{
	struct doc *d = find_doc(b, a->doc);
	int rc, i;

	if (!d)
		return hlx_err(HLX_ENOENT,
			       "plan act of '%s': no such document of %s@%lld",
			       a->org, a->plan, (long long)a->version);
	if ((rc = hlx_plan_act_for(a, d->p)))
		return rc;
	if (!hlx_time_valid(a->time))
		return hlx_err(HLX_EINVAL, "plan act: time outside 1970..9999");
	if (a->act == HLX_PLAN_WITHDRAW)
		return add_withdrawal(b, a);
	if (a->act != HLX_PLAN_SIGN)
		return hlx_err(HLX_EINVAL, "plan act: unknown kind");
	i = hlx_plan_signatory_find(d->p, a->org);
	if (d->sign[i] < 0 || a->time < d->sign[i])
		d->sign[i] = a->time;
	return HLX_OK;
}

int64_t hlx_plan_book_signed(const struct hlx_plan_book *b,
			     const struct hlx_plan *p, size_t i)
{
	const struct doc *d = doc_of(b, p);

	return d && i < hlx_plan_nsignatories(p) ? d->sign[i] : -1;
}

int64_t hlx_plan_book_withdrawn(const struct hlx_plan_book *b,
				const struct hlx_plan *p, size_t i)
{
	const char *org = hlx_plan_signatory(p, i);
	int64_t t = -1;

	if (!org)
		return -1;
	for (size_t k = 0; k < b->nw; k++) {
		const struct withdrawal *w = &b->w[k];

		if (w->version >= hlx_plan_version(p) &&
		    !strcmp(w->plan, hlx_plan_name(p)) && !strcmp(w->org, org) &&
		    (t < 0 || w->time < t))
			t = w->time;
	}
	return t;
}

static int doc_complete(const struct doc *d, int64_t *start)
{
	size_t n = hlx_plan_nsignatories(d->p);
	int64_t s = -1;

	for (size_t i = 0; i < n; i++) {
		if (d->sign[i] < 0)
			return 0;
		if (d->sign[i] > s)
			s = d->sign[i];
	}
	*start = s;
	return 1;
}

int hlx_plan_book_complete(const struct hlx_plan_book *b,
			   const struct hlx_plan *p, int64_t *start)
{
	const struct doc *d = doc_of(b, p);

	return d ? doc_complete(d, start) : 0;
}

/* d (complete, started at s) counts for its version: no other complete
 * document of that version started earlier, or at the same time with a
 * smaller hash. */
static int counts(const struct hlx_plan_book *b, const struct doc *d,
		  int64_t s)
{
	for (size_t k = 0; k < b->nd; k++) {
		const struct doc *o = &b->d[k];
		int64_t os;

		if (o == d || o->excluded ||
		    hlx_plan_version(o->p) != hlx_plan_version(d->p) ||
		    strcmp(hlx_plan_name(o->p), hlx_plan_name(d->p)) ||
		    !doc_complete(o, &os))
			continue;
		if (os < s || (os == s && memcmp(o->hash, d->hash, 32) < 0))
			return 0;
	}
	return 1;
}

/* d is the newest complete version of its plan started at or before t. */
static int newest(const struct hlx_plan_book *b, const struct doc *d,
		  int64_t t)
{
	for (size_t k = 0; k < b->nd; k++) {
		const struct doc *o = &b->d[k];
		int64_t os;

		if (!o->excluded && hlx_plan_version(o->p) > hlx_plan_version(d->p) &&
		    !strcmp(hlx_plan_name(o->p), hlx_plan_name(d->p)) &&
		    doc_complete(o, &os) && os <= t)
			return 0;
	}
	return 1;
}

static int cmp_force(const void *a, const void *b)
{
	return strcmp(hlx_plan_name(((const struct hlx_plan_force *)a)->plan),
		      hlx_plan_name(((const struct hlx_plan_force *)b)->plan));
}

int hlx_plan_book_in_force(const struct hlx_plan_book *b, int64_t t,
			   struct hlx_plan_force **out, size_t *n)
{
	struct hlx_plan_force *f = NULL;
	size_t nf = 0, k, i;

	*out = NULL;
	*n = 0;
	for (k = 0; k < b->nd; k++) {
		const struct doc *d = &b->d[k];
		struct hlx_plan_force *e;
		size_t ns = hlx_plan_nsignatories(d->p), left = 0;
		int64_t s;

		if (d->excluded || !doc_complete(d, &s) || s > t ||
		    !counts(b, d, s) ||
		    !newest(b, d, t))
			continue;
		if (!f && !(f = calloc(b->nd, sizeof(*f))))
			return hlx_err(HLX_ENOMEM, "plans in force");
		e = &f[nf];
		e->plan = d->p;
		e->start = s;
		for (i = 0; i < HLX_PLAN_SIGNATORIES_MAX; i++)
			e->withdrawn[i] = -1;
		for (i = 0; i < ns; i++) {
			e->withdrawn[i] = hlx_plan_book_withdrawn(b, d->p, i);
			if (e->withdrawn[i] < 0 || e->withdrawn[i] > t)
				left++;
		}
		if (left)
			nf++;
	}
	if (!nf) {
		free(f);
		return HLX_OK;
	}
	qsort(f, nf, sizeof(*f), cmp_force);
	*out = f;
	*n = nf;
	return HLX_OK;
}
