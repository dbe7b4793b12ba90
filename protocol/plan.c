/* SPDX-License-Identifier: MIT */
/*
 * Response plans: parsing a plan document strictly, its canonical form
 * and hash, hosts and locations, and routing (spec/plan.md sections 2, 3,
 * 4 and 8).  Acts and the in-force computation are in plan_act.c.
 */
#include "protocol/plan.h"
#include "protocol/err.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct signatory {
	char org[HLX_NAME_MAX + 1];
	char root[HLX_PLAN_ROOT_LEN + 1];
};

struct hlx_plan {
	char name[HLX_TOKEN_MAX + 1];
	int64_t version, lease, settle;
	struct signatory sig[HLX_PLAN_SIGNATORIES_MAX];
	size_t nsig;
	struct hlx_plan_rule *rules; /* sorted by id */
	size_t nrules;
	size_t def; /* index of the default rule */
	char *canon;
	size_t canonlen;
	uint8_t hash[32];
};

/* Where an error is: "plan", "plan eu@2", "plan eu@2 rule NL/x", then
 * a part of the rule ("plan eu@2 rule NL/x: deadlines"). */
struct ctx {
	char plan[64];
	char rule[HLX_PLAN_ID_MAX + 8];
	char sub[40];
	char where[64 + HLX_PLAN_ID_MAX + 8 + 40];
};

static void set_where(struct ctx *c)
{
	snprintf(c->where, sizeof(c->where), "%s%s%s", c->plan, c->rule,
		 c->sub);
}

__attribute__((format(printf, 4, 5)))
static int fail(const struct ctx *c, int code, const char *member,
		const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (member)
		return hlx_err(code, "%s: %s: %s", c->where, member, msg);
	return hlx_err(code, "%s: %s", c->where, msg);
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	}
	return "something else";
}

/* Every member of o is one of names (NULL-terminated). */
static int only_members(const struct ctx *c, json_t *o,
			const char *const *names)
{
	char q[HLX_QUOTE_SIZE];
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		const char *const *k = names;

		while (*k && strcmp(*k, key))
			k++;
		if (!*k)
			return fail(c, HLX_EINVAL, NULL, "unknown member '%s'",
				    hlx_quote(q, key, strlen(key)));
	}
	return HLX_OK;
}

/* Member k of o as a string without NUL; NULL in *s when absent and not
 * required. */
static int get_str(const struct ctx *c, json_t *o, const char *k,
		   int required, const char **s, size_t *n)
{
	json_t *v = json_object_get(o, k);

	*s = NULL;
	*n = 0;
	if (!v)
		return required ? fail(c, HLX_EINVAL, k, "missing") : HLX_OK;
	if (!json_is_string(v))
		return fail(c, HLX_EINVAL, k, "expected a string, got %s",
			    json_kind(v));
	*s = json_string_value(v);
	*n = json_string_length(v);
	if (memchr(*s, '\0', *n))
		return fail(c, HLX_EINVAL, k, "holds a NUL");
	return HLX_OK;
}

static int get_int(const struct ctx *c, json_t *o, const char *k,
		   int64_t min, int64_t max, int64_t *out)
{
	json_t *v = json_object_get(o, k);
	json_int_t x;

	if (!v)
		return fail(c, HLX_EINVAL, k, "missing");
	if (!json_is_integer(v))
		return fail(c, HLX_EINVAL, k,
			    "expected an integer %lld..%lld, got %s",
			    (long long)min, (long long)max, json_kind(v));
	x = json_integer_value(v);
	if (x < min || x > max)
		return fail(c, HLX_EINVAL, k, "%lld outside %lld..%lld",
			    (long long)x, (long long)min, (long long)max);
	*out = x;
	return HLX_OK;
}

static int get_array(const struct ctx *c, json_t *o, const char *k,
		     size_t min, size_t max, json_t **a)
{
	json_t *v = json_object_get(o, k);
	size_t n;

	if (!v)
		return fail(c, HLX_EINVAL, k, "missing");
	if (!json_is_array(v))
		return fail(c, HLX_EINVAL, k, "expected an array, got %s",
			    json_kind(v));
	n = json_array_size(v);
	if (n < min || n > max)
		return fail(c, n > max ? HLX_ETOOBIG : HLX_EINVAL, k,
			    "%zu items, want %zu to %zu", n, min, max);
	*a = v;
	return HLX_OK;
}

/* An organisation name that must be one of p's signatories. */
static int org_index(const struct ctx *c, const struct hlx_plan *p,
		     const char *member, const char *s, size_t n, int *idx)
{
	char q[HLX_QUOTE_SIZE];
	int rc = hlx_name_check(s, n, "organisation");
	size_t i;

	if (rc)
		return hlx_err_wrap(rc, "%s: %s", c->where, member);
	for (i = 0; i < p->nsig; i++)
		if (strlen(p->sig[i].org) == n && !memcmp(p->sig[i].org, s, n)) {
			*idx = (int)i;
			return HLX_OK;
		}
	return fail(c, HLX_EINVAL, member, "'%s' is not a signatory",
		    hlx_quote(q, s, n));
}

/* Optional organisation member: -1 when absent. */
static int get_org(const struct ctx *c, const struct hlx_plan *p, json_t *o,
		   const char *k, int required, int *idx)
{
	const char *s;
	size_t n;
	int rc = get_str(c, o, k, required, &s, &n);

	*idx = -1;
	if (rc || !s)
		return rc;
	return org_index(c, p, k, s, n, idx);
}

/* ---- hosts and locations ------------------------------------------------ */

int hlx_plan_host_check(const char *s, size_t n)
{
	char q[HLX_QUOTE_SIZE];
	size_t i, label = 0;
	int other = 0;

	if (n == 0 || n > HLX_PLAN_HOST_MAX)
		return hlx_err(HLX_EINVAL, "host '%s': must be 1 to %d characters",
			       hlx_quote(q, s, n), HLX_PLAN_HOST_MAX);
	for (i = 0; i <= n; i++) {
		char ch = i < n ? s[i] : '.';

		if (ch == '.') {
			if (label == 0 || label > 63)
				return hlx_err(HLX_EINVAL,
					       "host '%s': labels must be 1 to 63 characters",
					       hlx_quote(q, s, n));
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_'))
			return hlx_err(HLX_EINVAL,
				       "host '%s': character %zu is not allowed (a-z 0-9 - _ and dots)",
				       hlx_quote(q, s, n), i + 1);
		if (ch < '0' || ch > '9')
			other = 1;
		label++;
	}
	if (!other)
		return hlx_err(HLX_EINVAL,
			       "host '%s': an address, not a host name",
			       hlx_quote(q, s, n));
	return HLX_OK;
}

int hlx_plan_host_matches(const char *rule_host, const char *h)
{
	size_t rn = strlen(rule_host), hn = strlen(h);

	if (rn == 0 || rn > hn)
		return 0;
	if (rn == hn)
		return !memcmp(rule_host, h, hn);
	return h[hn - rn - 1] == '.' && !memcmp(h + hn - rn, rule_host, rn);
}

static int count_labels(const char *h)
{
	int n = 1;

	for (; *h; h++)
		n += *h == '.';
	return n;
}

int hlx_plan_loc_parse(const char *s, size_t n, struct hlx_plan_loc *loc)
{
	char q[HLX_QUOTE_SIZE];
	const char *part[3];
	size_t len[3], np = 0, i, start = 0;
	struct hlx_plan_loc t;
	int rc = HLX_OK;

	memset(&t, 0, sizeof(t));
	for (i = 0; i <= n; i++)
		if (i == n || s[i] == '/') {
			if (np == 3)
				goto bad;
			part[np] = s + start;
			len[np++] = i - start;
			start = i + 1;
		}
	if (np < 2)
		goto bad;
	if (!(len[0] == 1 && part[0][0] == '-')) {
		if (len[0] != 2)
			goto bad;
		for (i = 0; i < 2; i++) {
			char ch = part[0][i];

			t.country[i] = ch >= 'a' && ch <= 'z' ? ch - 32 : ch;
		}
		if ((rc = hlx_status_country_check(t.country, 2)))
			goto wrap;
	}
	if (!(len[1] == 1 && part[1][0] == '-')) {
		if ((rc = hlx_entry_token_check(part[1], len[1], "category")))
			goto wrap;
		memcpy(t.category, part[1], len[1]);
	}
	if (np == 3) {
		if (len[2] > HLX_PLAN_HOST_MAX)
			len[2] = HLX_PLAN_HOST_MAX + 1; /* refused below */
		for (i = 0; i < len[2] && i < HLX_PLAN_HOST_MAX; i++) {
			char ch = part[2][i];

			t.host[i] = ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
		}
		if ((rc = hlx_plan_host_check(t.host, len[2])))
			goto wrap;
	}
	*loc = t;
	return HLX_OK;
bad:
	return hlx_err(HLX_EINVAL,
		       "location '%s': expected COUNTRY/CATEGORY[/HOST]",
		       hlx_quote(q, s, n));
wrap:
	return hlx_err_wrap(rc, "location '%s'", hlx_quote(q, s, n));
}

void hlx_plan_loc_format(const struct hlx_plan_loc *loc,
			 char out[HLX_PLAN_ID_MAX])
{
	snprintf(out, HLX_PLAN_ID_MAX, "%s/%s%s%s",
		 loc->country[0] ? loc->country : "-",
		 loc->category[0] ? loc->category : "-",
		 loc->host[0] ? "/" : "", loc->host);
}

/* ---- parsing ------------------------------------------------------------ */

/* OpenSSH SHA256 fingerprint: 43 characters of unpadded base64 of 32
 * bytes, so the last one carries 4 bits and 2 zero bits. */
static int check_root(const char *s, size_t n)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	if (n != HLX_PLAN_ROOT_LEN || memcmp(s, "SHA256:", 7))
		return -1;
	for (i = 7; i < n; i++) {
		const char *at = memchr(b64, s[i], 64);

		if (!s[i] || !at)
			return -1;
		if (i == n - 1 && ((at - b64) & 3))
			return -1;
	}
	return 0;
}

static int cmp_sig(const void *a, const void *b)
{
	return strcmp(((const struct signatory *)a)->org,
		      ((const struct signatory *)b)->org);
}

static int parse_signatories(const struct ctx *c, struct hlx_plan *p,
			     json_t *root)
{
	static const char *const members[] = { "org", "root", NULL };
	char q[HLX_QUOTE_SIZE];
	struct ctx ic = *c;
	json_t *a;
	size_t i, j, n;
	int rc;

	if ((rc = get_array(c, root, "signatories", 1,
			    HLX_PLAN_SIGNATORIES_MAX, &a)))
		return rc;
	n = json_array_size(a);
	for (i = 0; i < n; i++) {
		json_t *o = json_array_get(a, i);
		const char *s;
		size_t sl;

		snprintf(ic.sub, sizeof(ic.sub), ": signatories: item %u",
			 (unsigned)(i + 1));
		set_where(&ic);
		if (!json_is_object(o))
			return fail(&ic, HLX_EINVAL, NULL,
				    "expected an object, got %s", json_kind(o));
		if ((rc = only_members(&ic, o, members)) ||
		    (rc = get_str(&ic, o, "org", 1, &s, &sl)))
			return rc;
		if ((rc = hlx_name_check(s, sl, "organisation")))
			return hlx_err_wrap(rc, "%s: org", ic.where);
		memcpy(p->sig[i].org, s, sl + 1);
		if ((rc = get_str(&ic, o, "root", 1, &s, &sl)))
			return rc;
		if (check_root(s, sl))
			return fail(&ic, HLX_EINVAL, "root",
				    "'%s' is not a key fingerprint (SHA256: and 43 base64 characters)",
				    hlx_quote(q, s, sl));
		memcpy(p->sig[i].root, s, sl + 1);
		for (j = 0; j < i; j++)
			if (!strcmp(p->sig[j].org, p->sig[i].org) ||
			    !strcmp(p->sig[j].root, p->sig[i].root))
				return fail(c, HLX_EINVAL, "signatories",
					    "%s '%s' given twice",
					    strcmp(p->sig[j].org, p->sig[i].org)
						    ? "root" : "org",
					    strcmp(p->sig[j].org, p->sig[i].org)
						    ? p->sig[i].root
						    : p->sig[i].org);
	}
	p->nsig = n;
	qsort(p->sig, n, sizeof(p->sig[0]), cmp_sig);
	return HLX_OK;
}

static int cmp_lang(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int parse_languages(const struct ctx *c, json_t *o,
			   struct hlx_plan_rule *r)
{
	char q[HLX_QUOTE_SIZE];
	json_t *a;
	size_t i, j, n;
	int rc;

	if ((rc = get_array(c, o, "languages", 1, HLX_PLAN_LANGUAGES_MAX, &a)))
		return rc;
	n = json_array_size(a);
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(a, i);
		const char *s;
		size_t sl;

		if (!json_is_string(e))
			return fail(c, HLX_EINVAL, "languages",
				    "item %zu: expected a string, got %s", i + 1,
				    json_kind(e));
		s = json_string_value(e);
		sl = json_string_length(e);
		for (j = 0; j < sl && s[j] >= 'a' && s[j] <= 'z'; j++)
			;
		if (sl < 2 || sl > 3 || j != sl)
			return fail(c, HLX_EINVAL, "languages",
				    "'%s' is not a language code (2 or 3 lowercase letters)",
				    hlx_quote(q, s, sl));
		memcpy(r->languages[i], s, sl + 1);
	}
	r->nlanguages = n;
	qsort(r->languages, n, sizeof(r->languages[0]), cmp_lang);
	for (i = 1; i < n; i++)
		if (!strcmp(r->languages[i - 1], r->languages[i]))
			return fail(c, HLX_EINVAL, "languages", "'%s' given twice",
				    r->languages[i]);
	return HLX_OK;
}

static int parse_fallbacks(const struct ctx *c, const struct hlx_plan *p,
			   json_t *o, struct hlx_plan_rule *r)
{
	json_t *a;
	size_t i, j, n;
	int rc;

	if ((rc = get_array(c, o, "fallbacks", 0, HLX_PLAN_FALLBACKS_MAX, &a)))
		return rc;
	n = json_array_size(a);
	for (i = 0; i < n; i++) {
		json_t *e = json_array_get(a, i);

		if (!json_is_string(e))
			return fail(c, HLX_EINVAL, "fallbacks",
				    "item %zu: expected a string, got %s", i + 1,
				    json_kind(e));
		if ((rc = org_index(c, p, "fallbacks", json_string_value(e),
				    json_string_length(e), &r->fallbacks[i])))
			return rc;
		if (r->fallbacks[i] == r->org)
			return fail(c, HLX_EINVAL, "fallbacks",
				    "'%s' is the rule's org",
				    p->sig[r->org].org);
		for (j = 0; j < i; j++)
			if (r->fallbacks[j] == r->fallbacks[i])
				return fail(c, HLX_EINVAL, "fallbacks",
					    "'%s' given twice",
					    p->sig[r->fallbacks[i]].org);
	}
	r->nfallbacks = n;
	return HLX_OK;
}

static int parse_deadlines(const struct ctx *c, const struct hlx_plan *p,
			   json_t *o, struct hlx_plan_deadlines *d)
{
	static const char *const members[] = {
		"le_hold_hours", "le_by", "notice_hours", "renotice_hours",
		"escalate_after", "escalate_to", NULL
	};
	struct ctx dc = *c;
	json_t *v = json_object_get(o, "deadlines");
	int64_t x;
	int rc;

	if (!v)
		return fail(c, HLX_EINVAL, "deadlines", "missing");
	if (!json_is_object(v))
		return fail(c, HLX_EINVAL, "deadlines",
			    "expected an object, got %s", json_kind(v));
	snprintf(dc.sub, sizeof(dc.sub), ": deadlines");
	set_where(&dc);
	if ((rc = only_members(&dc, v, members)))
		return rc;
	if ((rc = get_int(&dc, v, "le_hold_hours", 0, 720, &x)))
		return rc;
	d->le_hold_hours = (int)x;
	if ((rc = get_org(&dc, p, v, "le_by", 0, &d->le_by)))
		return rc;
	if (d->le_by >= 0 && !d->le_hold_hours)
		return fail(&dc, HLX_EINVAL, "le_by",
			    "not allowed when le_hold_hours is 0");
	if ((rc = get_int(&dc, v, "notice_hours", 1, 8760, &x)))
		return rc;
	d->notice_hours = (int)x;
	if ((rc = get_int(&dc, v, "renotice_hours", 0, 8760, &x)))
		return rc;
	d->renotice_hours = (int)x;
	if ((rc = get_int(&dc, v, "escalate_after", 0, 100, &x)))
		return rc;
	d->escalate_after = (int)x;
	if ((rc = get_org(&dc, p, v, "escalate_to", 0, &d->escalate_to)))
		return rc;
	if (d->escalate_to >= 0 && !d->escalate_after)
		return fail(&dc, HLX_EINVAL, "escalate_to",
			    "not allowed when escalate_after is 0");
	if (d->escalate_to < 0 && d->escalate_after)
		return fail(&dc, HLX_EINVAL, "escalate_to",
			    "missing (escalate_after is %d)", d->escalate_after);
	return HLX_OK;
}

static const char *const channels[] = { "self", "police", "host-node",
					"flagger" };

const char *hlx_plan_channel_name(enum hlx_plan_channel c)
{
	return (unsigned)c < 4 ? channels[c] : "?";
}

/* country, category and host of rule i, and its id. */
static int parse_rule_place(const struct ctx *c, json_t *o,
			    struct hlx_plan_rule *r)
{
	const char *s;
	size_t n;
	int rc;

	if ((rc = get_str(c, o, "country", 1, &s, &n)))
		return rc;
	if (!(n == 1 && s[0] == '*')) {
		if ((rc = hlx_status_country_check(s, n)))
			return hlx_err_wrap(rc, "%s: country", c->where);
		memcpy(r->country, s, 2);
	}
	if ((rc = get_str(c, o, "category", 1, &s, &n)))
		return rc;
	if (!(n == 1 && s[0] == '*')) {
		if ((rc = hlx_entry_token_check(s, n, "category")))
			return hlx_err_wrap(rc, "%s: category", c->where);
		memcpy(r->category, s, n);
	}
	if ((rc = get_str(c, o, "host", 0, &s, &n)))
		return rc;
	if (s) {
		if ((rc = hlx_plan_host_check(s, n)))
			return hlx_err_wrap(rc, "%s: host", c->where);
		memcpy(r->host, s, n);
		r->host_labels = count_labels(r->host);
	}
	snprintf(r->id, sizeof(r->id), "%s/%s%s%s",
		 r->country[0] ? r->country : "*",
		 r->category[0] ? r->category : "*", r->host[0] ? "/" : "",
		 r->host);
	return HLX_OK;
}

static int parse_rule(const struct ctx *pc, const struct hlx_plan *p,
		      json_t *o, size_t i, struct hlx_plan_rule *r)
{
	static const char *const members[] = {
		"country", "category", "host", "org", "fallbacks", "channel",
		"via", "languages", "deadlines", NULL
	};
	char q[HLX_QUOTE_SIZE];
	struct ctx c = *pc;
	const char *s;
	size_t n, k;
	int rc;

	memset(r, 0, sizeof(*r));
	snprintf(c.rule, sizeof(c.rule), " rule %zu", i + 1);
	set_where(&c);
	if (!json_is_object(o))
		return fail(&c, HLX_EINVAL, NULL, "expected an object, got %s",
			    json_kind(o));
	if ((rc = parse_rule_place(&c, o, r)))
		return rc;
	snprintf(c.rule, sizeof(c.rule), " rule %s", r->id);
	set_where(&c);
	if ((rc = only_members(&c, o, members)) ||
	    (rc = get_org(&c, p, o, "org", 1, &r->org)) ||
	    (rc = parse_fallbacks(&c, p, o, r)) ||
	    (rc = get_str(&c, o, "channel", 1, &s, &n)))
		return rc;
	for (k = 0; k < 4; k++)
		if (strlen(channels[k]) == n && !memcmp(channels[k], s, n))
			break;
	if (k == 4)
		return fail(&c, HLX_EINVAL, "channel",
			    "'%s' unknown (one of self, police, host-node, flagger)",
			    hlx_quote(q, s, n));
	r->channel = (enum hlx_plan_channel)k;
	if ((rc = get_org(&c, p, o, "via", 0, &r->via)))
		return rc;
	if (r->via < 0 && r->channel == HLX_PLAN_HOST_NODE)
		return fail(&c, HLX_EINVAL, "via",
			    "missing (required with channel host-node)");
	if (r->via >= 0 && (r->channel == HLX_PLAN_SELF ||
			    r->channel == HLX_PLAN_FLAGGER))
		return fail(&c, HLX_EINVAL, "via",
			    "not allowed with channel %s", channels[k]);
	if ((rc = parse_languages(&c, o, r)))
		return rc;
	return parse_deadlines(&c, p, o, &r->deadlines);
}

static int cmp_rule(const void *a, const void *b)
{
	return strcmp(((const struct hlx_plan_rule *)a)->id,
		      ((const struct hlx_plan_rule *)b)->id);
}

static int parse_rules(const struct ctx *c, struct hlx_plan *p, json_t *root)
{
	json_t *a;
	size_t i, n;
	int rc;

	if ((rc = get_array(c, root, "rules", 1, HLX_PLAN_RULES_MAX, &a)))
		return rc;
	n = json_array_size(a);
	p->rules = calloc(n, sizeof(p->rules[0]));
	if (!p->rules)
		return hlx_err(HLX_ENOMEM, "%s: rules", c->where);
	for (i = 0; i < n; i++) {
		if ((rc = parse_rule(c, p, json_array_get(a, i), i,
				     &p->rules[i])))
			return rc;
		p->nrules++;
	}
	qsort(p->rules, n, sizeof(p->rules[0]), cmp_rule);
	for (i = 1; i < n; i++)
		if (!strcmp(p->rules[i - 1].id, p->rules[i].id))
			return hlx_err(HLX_EINVAL, "%s rule %s: given twice",
				       c->where, p->rules[i].id);
	/* "*" sorts before every country code, "*" / "*" first of all. */
	if (strcmp(p->rules[0].id, "*/*"))
		return hlx_err(HLX_EINVAL,
			       "%s: no default rule (*/*): a location would resolve to no one",
			       c->where);
	p->def = 0;
	return HLX_OK;
}

/* ---- canonical form ----------------------------------------------------- */

static json_t *org_string(const struct hlx_plan *p, int i)
{
	return json_string(p->sig[i].org);
}

static json_t *rule_object(const struct hlx_plan *p,
			   const struct hlx_plan_rule *r)
{
	const struct hlx_plan_deadlines *d = &r->deadlines;
	json_t *o = json_object(), *fb = json_array(), *la = json_array();
	json_t *dl = json_object();
	int bad = !o || !fb || !la || !dl;
	size_t i;

#define SET(obj, k, v) (bad = bad || json_object_set_new((obj), (k), (v)))
	for (i = 0; !bad && i < r->nfallbacks; i++)
		bad = json_array_append_new(fb, org_string(p, r->fallbacks[i]));
	for (i = 0; !bad && i < r->nlanguages; i++)
		bad = json_array_append_new(la, json_string(r->languages[i]));
	SET(dl, "le_hold_hours", json_integer(d->le_hold_hours));
	if (d->le_by >= 0)
		SET(dl, "le_by", org_string(p, d->le_by));
	SET(dl, "notice_hours", json_integer(d->notice_hours));
	SET(dl, "renotice_hours", json_integer(d->renotice_hours));
	SET(dl, "escalate_after", json_integer(d->escalate_after));
	if (d->escalate_to >= 0)
		SET(dl, "escalate_to", org_string(p, d->escalate_to));
	SET(o, "country", json_string(r->country[0] ? r->country : "*"));
	SET(o, "category", json_string(r->category[0] ? r->category : "*"));
	if (r->host[0])
		SET(o, "host", json_string(r->host));
	SET(o, "org", org_string(p, r->org));
	SET(o, "channel", json_string(channels[r->channel]));
	if (r->via >= 0)
		SET(o, "via", org_string(p, r->via));
	if (!bad) {
		bad = json_object_set(o, "fallbacks", fb) ||
		      json_object_set(o, "languages", la) ||
		      json_object_set(o, "deadlines", dl);
	}
#undef SET
	json_decref(fb);
	json_decref(la);
	json_decref(dl);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int build_canonical(const struct ctx *c, struct hlx_plan *p)
{
	json_t *o = json_object(), *sa = json_array(), *ra = json_array();
	int bad = !o || !sa || !ra;
	size_t i;

	for (i = 0; !bad && i < p->nsig; i++)
		bad = json_array_append_new(
			sa, json_pack("{s:s,s:s}", "org", p->sig[i].org, "root",
				      p->sig[i].root));
	for (i = 0; !bad && i < p->nrules; i++)
		bad = json_array_append_new(ra, rule_object(p, &p->rules[i]));
	bad = bad ||
	      json_object_set_new(o, "format", json_string(HLX_PLAN_FORMAT)) ||
	      json_object_set_new(o, "name", json_string(p->name)) ||
	      json_object_set_new(o, "version", json_integer(p->version)) ||
	      json_object_set_new(o, "lease_seconds", json_integer(p->lease)) ||
	      json_object_set_new(o, "settle_seconds",
				  json_integer(p->settle)) ||
	      json_object_set(o, "signatories", sa) ||
	      json_object_set(o, "rules", ra);
	if (!bad)
		p->canon = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
						 JSON_ENSURE_ASCII);
	json_decref(sa);
	json_decref(ra);
	json_decref(o);
	if (!p->canon)
		return hlx_err(HLX_ENOMEM, "%s: cannot encode", c->where);
	p->canonlen = strlen(p->canon);
	if (p->canonlen > HLX_PLAN_MAX)
		return hlx_err(HLX_ETOOBIG,
			       "%s: canonical form of %zu bytes, at most %d",
			       c->where, p->canonlen, HLX_PLAN_MAX);
	crypto_hash_sha256(p->hash, (const uint8_t *)p->canon, p->canonlen);
	return HLX_OK;
}

/* format, name and version, then the name of the plan in errors. */
static int parse_head(struct ctx *c, struct hlx_plan *p, json_t *root)
{
	char q[HLX_QUOTE_SIZE];
	const char *s;
	size_t n;
	int rc;

	if ((rc = get_str(c, root, "format", 1, &s, &n)))
		return rc;
	if (n != strlen(HLX_PLAN_FORMAT) || memcmp(s, HLX_PLAN_FORMAT, n))
		return fail(c, HLX_EUNSUPPORTED, "format",
			    "'%s' unsupported (want " HLX_PLAN_FORMAT ")",
			    hlx_quote(q, s, n));
	if ((rc = get_str(c, root, "name", 1, &s, &n)))
		return rc;
	if ((rc = hlx_entry_token_check(s, n, "plan name")))
		return hlx_err_wrap(rc, "%s: name", c->where);
	memcpy(p->name, s, n + 1);
	if ((rc = get_int(c, root, "version", 1, HLX_PLAN_VERSION_MAX,
			  &p->version)))
		return rc;
	snprintf(c->plan, sizeof(c->plan), "plan %s@%lld", p->name,
		 (long long)p->version);
	set_where(c);
	return HLX_OK;
}

int hlx_plan_parse(const char *json, size_t n, unsigned flags,
		   struct hlx_plan **out)
{
	static const char *const members[] = {
		"format", "name", "version", "lease_seconds", "settle_seconds",
		"signatories", "rules", NULL
	};
	size_t max = (flags & HLX_PLAN_CANONICAL) ? HLX_PLAN_MAX
						  : HLX_PLAN_INPUT_MAX;
	struct ctx c = { "plan", "", "", "plan" };
	struct hlx_plan *p = NULL;
	json_t *root = NULL;
	json_error_t je;
	int rc;

	if (n > max)
		return hlx_err(HLX_ETOOBIG, "plan: %zu bytes, at most %zu", n,
			       max);
	root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		char q[HLX_QUOTE_SIZE];

		return hlx_err(HLX_EINVAL,
			       "plan: not JSON: %s (line %d, column %d)",
			       hlx_quote(q, je.text, strlen(je.text)), je.line,
			       je.column);
	}
	if (!json_is_object(root)) {
		rc = hlx_err(HLX_EINVAL, "plan: expected an object, got %s",
			     json_kind(root));
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		rc = hlx_err(HLX_ENOMEM, "plan");
		goto out;
	}
	if ((rc = parse_head(&c, p, root)) ||
	    (rc = only_members(&c, root, members)) ||
	    (rc = get_int(&c, root, "lease_seconds", 60, 604800, &p->lease)) ||
	    (rc = get_int(&c, root, "settle_seconds", 0, 3600, &p->settle)) ||
	    (rc = parse_signatories(&c, p, root)) ||
	    (rc = parse_rules(&c, p, root)) || (rc = build_canonical(&c, p)))
		goto out;
	if ((flags & HLX_PLAN_CANONICAL) &&
	    (n != p->canonlen || memcmp(json, p->canon, n))) {
		rc = hlx_err(HLX_EINVAL, "%s: not in canonical form", c.where);
		goto out;
	}
	*out = p;
	p = NULL;
out:
	hlx_plan_free(p);
	json_decref(root);
	return rc;
}

void hlx_plan_free(struct hlx_plan *p)
{
	if (!p)
		return;
	free(p->rules);
	free(p->canon);
	free(p);
}

/* ---- accessors ---------------------------------------------------------- */

const char *hlx_plan_name(const struct hlx_plan *p)
{
	return p->name;
}

int64_t hlx_plan_version(const struct hlx_plan *p)
{
	return p->version;
}

int64_t hlx_plan_lease_seconds(const struct hlx_plan *p)
{
	return p->lease;
}

int64_t hlx_plan_settle_seconds(const struct hlx_plan *p)
{
	return p->settle;
}

int hlx_plan_canonical(const struct hlx_plan *p, struct hlx_buf *out)
{
	return hlx_buf_put(out, p->canon, p->canonlen);
}

void hlx_plan_hash(const struct hlx_plan *p, uint8_t out[32])
{
	memcpy(out, p->hash, 32);
}

void hlx_plan_hash_hex(const struct hlx_plan *p, char out[65])
{
	sodium_bin2hex(out, 65, p->hash, 32);
}

size_t hlx_plan_nsignatories(const struct hlx_plan *p)
{
	return p->nsig;
}

const char *hlx_plan_signatory(const struct hlx_plan *p, size_t i)
{
	return i < p->nsig ? p->sig[i].org : NULL;
}

const char *hlx_plan_signatory_root(const struct hlx_plan *p, size_t i)
{
	return i < p->nsig ? p->sig[i].root : NULL;
}

int hlx_plan_signatory_find(const struct hlx_plan *p, const char *org)
{
	size_t lo = 0, hi = p->nsig;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(p->sig[mid].org, org);

		if (!r)
			return (int)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

size_t hlx_plan_nrules(const struct hlx_plan *p)
{
	return p->nrules;
}

const struct hlx_plan_rule *hlx_plan_rule_at(const struct hlx_plan *p,
					     size_t i)
{
	return i < p->nrules ? &p->rules[i] : NULL;
}

const struct hlx_plan_rule *hlx_plan_default_rule(const struct hlx_plan *p)
{
	return &p->rules[p->def];
}

/* ---- routing ------------------------------------------------------------ */

static const struct hlx_plan_rule *find_rule(const struct hlx_plan *p,
					     const char *id)
{
	size_t lo = 0, hi = p->nrules;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(p->rules[mid].id, id);

		if (!r)
			return &p->rules[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * The most specific rule of p matching loc (section 4): host suffixes from
 * the longest (the whole host) down to none, and for each the country and
 * category pairs in order of specificity.  The default rule always
 * matches, so this never returns NULL.  *spec gets the specificity as one
 * number (labels, country, category).
 */
static const struct hlx_plan_rule *best_rule(const struct hlx_plan *p,
					     const struct hlx_plan_loc *loc,
					     int *spec)
{
	const char *h = loc->host[0] ? loc->host : NULL;
	int labels = h ? count_labels(h) : 0;
	char id[HLX_PLAN_ID_MAX];

	for (;;) {
		for (int k = 0; k < 4; k++) {
			const char *cc = k < 2 ? loc->country : "*";
			const char *kk = k % 2 == 0 ? loc->category : "*";
			const struct hlx_plan_rule *r;

			if (!cc[0] || !kk[0])
				continue;
			snprintf(id, sizeof(id), "%s/%s%s%s", cc, kk,
				 h ? "/" : "", h ? h : "");
			if ((r = find_rule(p, id))) {
				*spec = labels * 4 + (k < 2) * 2 +
					(k % 2 == 0);
				return r;
			}
		}
		if (!h)
			break;
		h = strchr(h, '.');
		if (h)
			h++, labels--;
		else
			labels = 0;
	}
	*spec = 0;
	return hlx_plan_default_rule(p);
}

static void base_add(struct hlx_plan_route *r, int i)
{
	for (size_t k = 0; k < r->nbase; k++)
		if (r->base[k] == i)
			return;
	r->base[r->nbase++] = i;
}

static int gone(const struct hlx_plan_force *f, int i, int64_t t)
{
	return f->withdrawn[i] >= 0 && f->withdrawn[i] <= t;
}

int hlx_plan_route(const struct hlx_plan_force *f, size_t n,
		   const struct hlx_plan_loc *loc, int64_t t,
		   struct hlx_plan_route *r)
{
	const struct hlx_plan_force *bf = NULL;
	const struct hlx_plan_rule *d;
	int best = -1;
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++) {
		int spec;
		const struct hlx_plan_rule *ru = best_rule(f[i].plan, loc, &spec);

		if (spec > best ||
		    (spec == best && strcmp(f[i].plan->name, bf->plan->name) < 0)) {
			best = spec;
			bf = &f[i];
			r->rule = ru;
		}
	}
	if (!bf)
		return HLX_OK;
	r->plan = bf->plan;
	d = hlx_plan_default_rule(bf->plan);
	base_add(r, r->rule->org);
	for (i = 0; i < r->rule->nfallbacks; i++)
		base_add(r, r->rule->fallbacks[i]);
	base_add(r, d->org);
	for (i = 0; i < d->nfallbacks; i++)
		base_add(r, d->fallbacks[i]);
	r->nprimary = r->nbase;
	for (i = 0; i < bf->plan->nsig; i++)
		base_add(r, (int)i);
	for (i = 0; i < r->nprimary; i++)
		if (!gone(bf, r->base[i], t))
			r->chain[r->nchain++] = r->base[i];
	if (r->nchain) /* else the signatories left, in name order */
		return HLX_OK;
	for (i = 0; i < bf->plan->nsig; i++)
		if (!gone(bf, (int)i, t))
			r->chain[r->nchain++] = (int)i;
	return HLX_OK;
}
