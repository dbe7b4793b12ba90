/* SPDX-License-Identifier: MIT */
/*
 * Sharing policies and handling rules: parsing, canonical form, and the
 * evaluation of entries and status records.  The rules are
 * spec/policy.md.
 */
#include "protocol/policy.h"
#include "protocol/err.h"
#include "protocol/hash.h"
#include "protocol/head.h"
#include "protocol/rtime.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

/* Entry fields ("fields") and status fields ("status_fields"), as bits. */
enum {
	F_CATEGORY = 1 << 0,
	F_CONFIDENCE = 1 << 1,
	F_FIRST_SEEN = 1 << 2,
	F_TAGS = 1 << 3,
};
enum {
	S_COUNTRY = 1 << 0,
	S_TIMES = 1 << 1,
};

struct name_bit {
	const char *name;
	unsigned bit;
};

/* Sorted by name: the canonical order. */
static const struct name_bit entry_fields[] = {
	{ "category", F_CATEGORY },
	{ "confidence", F_CONFIDENCE },
	{ "first_seen", F_FIRST_SEEN },
	{ "tags", F_TAGS },
	{ NULL, 0 },
};
static const struct name_bit status_fields[] = {
	{ "country", S_COUNTRY },
	{ "times", S_TIMES },
	{ NULL, 0 },
};

/* The hash types, as bits 1 << type, in name order. */
static const enum hlx_hash_type all_types[] = {
	HLX_HASH_MD5,	   HLX_HASH_PDQ,    HLX_HASH_PHOTODNA,
	HLX_HASH_SHA1,	   HLX_HASH_SHA256, HLX_HASH_TMK,
	HLX_HASH_URL_SHA256, HLX_HASH_VPDQ,
};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

/* A set of strings: n NUL-terminated strings of width bytes each, sorted
 * (strcmp) and unique. */
struct set {
	size_t n, width;
	char *v;
};

struct hlx_policy {
	char name[HLX_TOKEN_MAX + 1];
	struct set lists;
	int all_own;            /* "*" in lists */
	unsigned types;         /* bit 1 << t for each hash type t given */
	int has_categories;     /* 0: every category (and none) */
	struct set categories;
	int min_confidence;     /* -1: no requirement */
	unsigned fields;        /* F_* kept */
	unsigned status_fields; /* S_* kept */
	struct set hold_tags;
	struct hlx_rules rules;
	int encrypt;
	uint8_t hash[32], view[32], entries[32];
};

static const char *set_at(const struct set *s, size_t i)
{
	return s->v + i * s->width;
}

static int set_has(const struct set *s, const char *x)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(set_at(s, mid), x);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
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

/* ---- handling rules ---------------------------------------------------- */

void hlx_rules_init(struct hlx_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->onward = 1;
}

int hlx_rules_validate(const struct hlx_rules *r)
{
	size_t n = strnlen(r->purpose, sizeof(r->purpose));
	int rc;

	if (r->onward != 0 && r->onward != 1)
		return hlx_err(HLX_EINVAL, "rules: onward %d is not 0 or 1",
			       r->onward);
	if (r->retention_days < 0 || r->retention_days > HLX_RETENTION_MAX)
		return hlx_err(HLX_EINVAL,
			       "rules: retention_days %lld outside 0..%d",
			       (long long)r->retention_days, HLX_RETENTION_MAX);
	if (n == sizeof(r->purpose))
		return hlx_err(HLX_EINVAL, "rules: purpose not terminated");
	if (n && (rc = hlx_entry_token_check(r->purpose, n, "purpose")))
		return hlx_err_wrap(rc, "rules");
	return HLX_OK;
}

/* New object for valid rules, or NULL when out of memory. */
static json_t *rules_object(const struct hlx_rules *r)
{
	json_t *o = json_object();

	if (!o ||
	    json_object_set_new(o, "onward", json_boolean(r->onward)) ||
	    json_object_set_new(o, "retention_days",
				json_integer((json_int_t)r->retention_days)) ||
	    (r->purpose[0] &&
	     json_object_set_new(o, "purpose", json_string(r->purpose)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Append json_dumps of o in the canonical spelling; takes o. */
static int dump_canonical(json_t *o, struct hlx_buf *out, const char *what)
{
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
					    JSON_ENSURE_ASCII)
		    : NULL;
	int rc;

	json_decref(o);
	if (!s)
		return hlx_err(HLX_ENOMEM, "cannot encode %s", what);
	rc = hlx_buf_puts(out, s);
	free(s);
	return rc;
}

int hlx_rules_json(const struct hlx_rules *r, struct hlx_buf *out)
{
	int rc = hlx_rules_validate(r);

	if (rc)
		return rc;
	return dump_canonical(rules_object(r), out, "rules");
}

int hlx_rules_from_json(const json_t *o, struct hlx_rules *r)
{
	char q[HLX_QUOTE_SIZE];
	struct hlx_rules t;
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(o))
		return hlx_err(HLX_EINVAL, "rules: expected an object, got %s",
			       o ? json_kind(o) : "nothing");
	hlx_rules_init(&t);
	json_object_foreach((json_t *)o, key, v) {
		if (!strcmp(key, "onward")) {
			if (!json_is_boolean(v))
				return hlx_err(HLX_EINVAL,
					       "rules: member 'onward': expected true or false, got %s",
					       json_kind(v));
			t.onward = json_is_true(v);
		} else if (!strcmp(key, "retention_days")) {
			json_int_t x;

			if (!json_is_integer(v))
				return hlx_err(HLX_EINVAL,
					       "rules: member 'retention_days': expected an integer 0..%d, got %s",
					       HLX_RETENTION_MAX, json_kind(v));
			x = json_integer_value(v);
			if (x < 0 || x > HLX_RETENTION_MAX)
				return hlx_err(HLX_EINVAL,
					       "rules: member 'retention_days': %lld outside 0..%d (0 = no limit)",
					       (long long)x, HLX_RETENTION_MAX);
			t.retention_days = x;
		} else if (!strcmp(key, "purpose")) {
			const char *s;
			size_t n;

			if (!json_is_string(v))
				return hlx_err(HLX_EINVAL,
					       "rules: member 'purpose': expected a token, got %s",
					       json_kind(v));
			s = json_string_value(v);
			n = json_string_length(v);
			rc = hlx_entry_token_check(s, n, "purpose");
			if (rc)
				return hlx_err_wrap(rc, "rules: member 'purpose'");
			memcpy(t.purpose, s, n + 1);
		} else {
			return hlx_err(HLX_EINVAL, "rules: unknown member '%s'",
				       hlx_quote(q, key, strlen(key)));
		}
	}
	if (!json_object_get(o, "onward"))
		return hlx_err(HLX_EINVAL, "rules: member 'onward' missing");
	if (!json_object_get(o, "retention_days"))
		return hlx_err(HLX_EINVAL,
			       "rules: member 'retention_days' missing");
	*r = t;
	return HLX_OK;
}

void hlx_rules_merge(const struct hlx_rules *a, const struct hlx_rules *b,
		     struct hlx_rules *out)
{
	struct hlx_rules m;

	hlx_rules_init(&m);
	m.onward = a->onward && b->onward;
	if (!a->retention_days)
		m.retention_days = b->retention_days;
	else if (!b->retention_days)
		m.retention_days = a->retention_days;
	else
		m.retention_days = a->retention_days < b->retention_days
					   ? a->retention_days
					   : b->retention_days;
	memcpy(m.purpose, a->purpose[0] ? a->purpose : b->purpose,
	       sizeof(m.purpose));
	m.purpose[sizeof(m.purpose) - 1] = '\0';
	*out = m;
}

/* ---- parsing ----------------------------------------------------------- */

typedef int (*item_check)(const char *s, size_t n);

static int check_list(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	int rc;

	if (n == 1 && s[0] == '*')
		return HLX_OK;
	if (!slash)
		return hlx_name_check(s, n, "list");
	rc = hlx_name_check(s, (size_t)(slash - s), "peer");
	if (!rc)
		rc = hlx_name_check(slash + 1, n - (size_t)(slash - s) - 1,
				    "list");
	return rc;
}

static int check_category(const char *s, size_t n)
{
	return hlx_entry_token_check(s, n, "category");
}

static int check_tag(const char *s, size_t n)
{
	return hlx_entry_token_check(s, n, "tag");
}

static int check_type(const char *s, size_t n)
{
	enum hlx_hash_type t;

	return hlx_hash_type_parse(s, n, &t);
}

static int check_in(const struct name_bit *tab, const char *s, size_t n,
		    const char *what)
{
	char q[HLX_QUOTE_SIZE];
	char names[128] = "";

	for (; tab->name; tab++) {
		if (strlen(tab->name) == n && !memcmp(tab->name, s, n))
			return HLX_OK;
		snprintf(names + strlen(names), sizeof(names) - strlen(names),
			 "%s%s", names[0] ? ", " : "", tab->name);
	}
	return hlx_err(HLX_EINVAL, "%s '%s': unknown (one of %s)", what,
		       hlx_quote(q, s, n), names);
}

static int check_field(const char *s, size_t n)
{
	return check_in(entry_fields, s, n, "field");
}

static int check_status_field(const char *s, size_t n)
{
	return check_in(status_fields, s, n, "status field");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * Parse an array of distinct strings, each checked by check, into *out
 * (sorted).  allow_empty: whether [] is a valid value.
 */
static int parse_set(const json_t *v, const char *member, size_t width,
		     item_check check, int allow_empty, struct set *out)
{
	char q[HLX_QUOTE_SIZE];
	size_t i, n;
	int rc;

	if (!json_is_array(v))
		return hlx_err(HLX_EINVAL,
			       "policy: member '%s': expected an array of strings, got %s",
			       member, json_kind(v));
	n = json_array_size(v);
	if (n > HLX_POLICY_ITEMS_MAX)
		return hlx_err(HLX_ETOOBIG,
			       "policy: member '%s': %zu items, at most %d",
			       member, n, HLX_POLICY_ITEMS_MAX);
	if (n == 0 && !allow_empty)
		return hlx_err(HLX_EINVAL, "policy: member '%s': empty",
			       member);
	out->n = 0;
	out->width = width;
	out->v = calloc(n ? n : 1, width);
	if (!out->v)
		return hlx_err(HLX_ENOMEM, "policy: member '%s'", member);
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		const char *s;
		size_t sl;

		if (!json_is_string(e))
			return hlx_err(HLX_EINVAL,
				       "policy: member '%s': item %zu: expected a string, got %s",
				       member, i + 1, json_kind(e));
		s = json_string_value(e);
		sl = json_string_length(e);
		if (memchr(s, '\0', sl))
			return hlx_err(HLX_EINVAL,
				       "policy: member '%s': item %zu holds a NUL",
				       member, i + 1);
		rc = check(s, sl);
		if (rc)
			return hlx_err_wrap(rc, "policy: member '%s': item %zu '%s'",
					    member, i + 1, hlx_quote(q, s, sl));
		if (sl >= width) /* the checks refuse longer items first */
			return hlx_err(HLX_EINVAL,
				       "policy: member '%s': item %zu too long",
				       member, i + 1);
		memcpy(out->v + i * width, s, sl + 1);
		out->n++;
	}
	qsort(out->v, n, width, cmp_str);
	for (i = 1; i < n; i++)
		if (!strcmp(set_at(out, i - 1), set_at(out, i)))
			return hlx_err(HLX_EINVAL,
				       "policy: member '%s': '%s' given twice",
				       member,
				       hlx_quote(q, set_at(out, i),
						 strlen(set_at(out, i))));
	return HLX_OK;
}

static unsigned set_bits(const struct set *s, const struct name_bit *tab)
{
	unsigned bits = 0;

	for (size_t i = 0; i < s->n; i++)
		for (const struct name_bit *t = tab; t->name; t++)
			if (!strcmp(set_at(s, i), t->name))
				bits |= t->bit;
	return bits;
}

static void set_free(struct set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void hlx_policy_free(struct hlx_policy *p)
{
	if (!p)
		return;
	set_free(&p->lists);
	set_free(&p->categories);
	set_free(&p->hold_tags);
	free(p);
}

static int want_string(const json_t *v, const char *member, const char **s,
		       size_t *n)
{
	if (!json_is_string(v))
		return hlx_err(HLX_EINVAL,
			       "policy: member '%s': expected a string, got %s",
			       member, json_kind(v));
	*s = json_string_value(v);
	*n = json_string_length(v);
	return HLX_OK;
}

static int parse_member(struct hlx_policy *p, const char *key, json_t *v)
{
	char q[HLX_QUOTE_SIZE];
	struct set tmp = { 0, 0, NULL };
	const char *s = NULL;
	size_t n = 0, i;
	int rc;

	if (!strcmp(key, "format")) {
		if ((rc = want_string(v, key, &s, &n)))
			return rc;
		if (n != strlen(HLX_POLICY_FORMAT) ||
		    memcmp(s, HLX_POLICY_FORMAT, n))
			return hlx_err(HLX_EUNSUPPORTED,
				       "policy: member 'format': '%s' (want " HLX_POLICY_FORMAT ")",
				       hlx_quote(q, s, n));
		return HLX_OK;
	}
	if (!strcmp(key, "name")) {
		if ((rc = want_string(v, key, &s, &n)))
			return rc;
		if ((rc = hlx_entry_token_check(s, n, "policy name")))
			return hlx_err_wrap(rc, "policy: member 'name'");
		memcpy(p->name, s, n + 1);
		return HLX_OK;
	}
	if (!strcmp(key, "lists")) {
		rc = parse_set(v, key, HLX_POLICY_LIST_MAX, check_list, 0,
			       &p->lists);
		if (rc)
			return rc;
		p->all_own = set_has(&p->lists, "*");
		for (i = 0; p->all_own && i < p->lists.n; i++) {
			const char *l = set_at(&p->lists, i);

			if (strcmp(l, "*") && strcmp(l, "status") &&
			    strcmp(l, "cases") && !strchr(l, '/'))
				return hlx_err(HLX_EINVAL,
					       "policy: member 'lists': '%s' is already given by '*'",
					       l);
		}
		return HLX_OK;
	}
	if (!strcmp(key, "types")) {
		rc = parse_set(v, key, 16, check_type, 0, &tmp);
		if (!rc) {
			p->types = 0;
			for (i = 0; i < tmp.n; i++) {
				enum hlx_hash_type t;

				hlx_hash_type_parse(set_at(&tmp, i),
						    strlen(set_at(&tmp, i)), &t);
				p->types |= 1u << t;
			}
		}
		set_free(&tmp);
		return rc;
	}
	if (!strcmp(key, "categories")) {
		p->has_categories = 1;
		return parse_set(v, key, HLX_TOKEN_MAX + 1, check_category, 0,
				 &p->categories);
	}
	if (!strcmp(key, "min_confidence")) {
		json_int_t x;

		if (!json_is_integer(v))
			return hlx_err(HLX_EINVAL,
				       "policy: member 'min_confidence': expected an integer 0..100, got %s",
				       json_kind(v));
		x = json_integer_value(v);
		if (x < 0 || x > 100)
			return hlx_err(HLX_EINVAL,
				       "policy: member 'min_confidence': %lld outside 0..100",
				       (long long)x);
		p->min_confidence = (int)x;
		return HLX_OK;
	}
	if (!strcmp(key, "fields") || !strcmp(key, "status_fields")) {
		int st = key[0] == 's';

		rc = parse_set(v, key, 16, st ? check_status_field : check_field,
			       1, &tmp);
		if (!rc && st)
			p->status_fields = set_bits(&tmp, status_fields);
		else if (!rc)
			p->fields = set_bits(&tmp, entry_fields);
		set_free(&tmp);
		return rc;
	}
	if (!strcmp(key, "hold_tags")) {
		set_free(&p->hold_tags); /* the default */
		return parse_set(v, key, HLX_TOKEN_MAX + 1, check_tag, 1,
				 &p->hold_tags);
	}
	if (!strcmp(key, "rules")) {
		rc = hlx_rules_from_json(v, &p->rules);
		return rc ? hlx_err_wrap(rc, "policy: member 'rules'") : rc;
	}
	if (!strcmp(key, "encrypt")) {
		if (!json_is_boolean(v))
			return hlx_err(HLX_EINVAL,
				       "policy: member 'encrypt': expected true or false, got %s",
				       json_kind(v));
		p->encrypt = json_is_true(v);
		return HLX_OK;
	}
	return hlx_err(HLX_EINVAL, "policy: unknown member '%s'",
		       hlx_quote(q, key, strlen(key)));
}

/* Build the canonical JSON object; with_name 0 leaves "name" out. */
static json_t *canonical_object(const struct hlx_policy *p, int with_name)
{
	json_t *o = json_object(), *a;
	size_t i;
	int bad = !o;

#define SET(k, val) (bad = bad || json_object_set_new(o, (k), (val)))
#define ARRAY_OF_SET(k, s)                                                    \
	do {                                                                  \
		a = json_array();                                             \
		for (i = 0; a && i < (s)->n; i++)                             \
			if (json_array_append_new(a,                          \
						  json_string(set_at((s), i)))) { \
				json_decref(a);                               \
				a = NULL;                                     \
			}                                                     \
		SET((k), a);                                                  \
	} while (0)
#define ARRAY_OF_BITS(k, tab, bits)                                           \
	do {                                                                  \
		a = json_array();                                             \
		for (i = 0; a && (tab)[i].name; i++)                          \
			if (((bits) & (tab)[i].bit) &&                        \
			    json_array_append_new(a,                          \
						  json_string((tab)[i].name))) { \
				json_decref(a);                               \
				a = NULL;                                     \
			}                                                     \
		SET((k), a);                                                  \
	} while (0)

	SET("format", json_string(HLX_POLICY_FORMAT));
	if (with_name)
		SET("name", json_string(p->name));
	ARRAY_OF_SET("lists", &p->lists);
	a = json_array();
	for (i = 0; a && i < NTYPES; i++)
		if ((p->types & (1u << all_types[i])) &&
		    json_array_append_new(
			    a, json_string(hlx_hash_type_name(all_types[i])))) {
			json_decref(a);
			a = NULL;
		}
	SET("types", a);
	if (p->has_categories)
		ARRAY_OF_SET("categories", &p->categories);
	if (p->min_confidence >= 0)
		SET("min_confidence", json_integer(p->min_confidence));
	ARRAY_OF_BITS("fields", entry_fields, p->fields);
	ARRAY_OF_BITS("status_fields", status_fields, p->status_fields);
	ARRAY_OF_SET("hold_tags", &p->hold_tags);
	SET("rules", rules_object(&p->rules));
	SET("encrypt", json_boolean(p->encrypt));
#undef SET
#undef ARRAY_OF_SET
#undef ARRAY_OF_BITS
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* with_name 1: the whole policy; 0: without its name; -1: without what
 * makes no difference to the view of an own list of entries (name,
 * status fields, rules and whether it is encrypted). */
static int digest(const struct hlx_policy *p, int with_name, uint8_t out[32])
{
	struct hlx_buf b = HLX_BUF_INIT;
	json_t *o = canonical_object(p, with_name > 0);
	int rc;

	if (o && with_name < 0 &&
	    (json_object_del(o, "status_fields") || json_object_del(o, "rules") ||
	     json_object_del(o, "encrypt"))) {
		json_decref(o);
		o = NULL;
	}
	rc = dump_canonical(o, &b, "a policy");

	if (!rc)
		crypto_hash_sha256(out, b.data, b.len);
	hlx_buf_free(&b);
	return rc;
}

int hlx_policy_parse(const char *json, size_t n, struct hlx_policy **out)
{
	static const char *const required[] = { "format", "name", "lists",
						"fields" };
	struct hlx_policy *p = NULL;
	json_error_t je;
	const char *key;
	json_t *root = NULL, *v;
	size_t i;
	int rc;

	if (n > HLX_POLICY_MAX)
		return hlx_err(HLX_ETOOBIG,
			       "policy: %zu bytes, at most %d", n,
			       HLX_POLICY_MAX);
	root = json_loadb(json, n, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		char q[HLX_QUOTE_SIZE];

		return hlx_err(HLX_EINVAL,
			       "policy: not JSON: %s (line %d, column %d)",
			       hlx_quote(q, je.text, strlen(je.text)), je.line,
			       je.column);
	}
	if (!json_is_object(root)) {
		rc = hlx_err(HLX_EINVAL, "policy: expected an object, got %s",
			     json_kind(root));
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		rc = hlx_err(HLX_ENOMEM, "policy");
		goto out;
	}
	p->min_confidence = -1;
	for (i = 0; i < NTYPES; i++)
		p->types |= 1u << all_types[i];
	hlx_rules_init(&p->rules);
	p->hold_tags.n = 1;
	p->hold_tags.width = HLX_TOKEN_MAX + 1;
	p->hold_tags.v = calloc(1, HLX_TOKEN_MAX + 1);
	if (!p->hold_tags.v) {
		rc = hlx_err(HLX_ENOMEM, "policy");
		goto out;
	}
	strcpy(p->hold_tags.v, "hold");
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!json_object_get(root, required[i])) {
			rc = hlx_err(HLX_EINVAL, "policy: member '%s' missing",
				     required[i]);
			goto out;
		}
	json_object_foreach(root, key, v) {
		rc = parse_member(p, key, v);
		if (rc)
			goto out;
	}
	if ((rc = digest(p, 1, p->hash)) || (rc = digest(p, 0, p->view)) ||
	    (rc = digest(p, -1, p->entries)))
		goto out;
	*out = p;
	p = NULL;
out:
	hlx_policy_free(p);
	json_decref(root);
	return rc;
}

/* ---- accessors --------------------------------------------------------- */

const char *hlx_policy_name(const struct hlx_policy *p)
{
	return p->name;
}

int hlx_policy_canonical(const struct hlx_policy *p, struct hlx_buf *out)
{
	return dump_canonical(canonical_object(p, 1), out, "a policy");
}

void hlx_policy_hash(const struct hlx_policy *p, uint8_t out[32])
{
	memcpy(out, p->hash, 32);
}

void hlx_policy_view_id(const struct hlx_policy *p, uint8_t out[32])
{
	memcpy(out, p->view, 32);
}

void hlx_policy_entries_id(const struct hlx_policy *p, uint8_t out[32])
{
	memcpy(out, p->entries, 32);
}

int hlx_policy_encrypt(const struct hlx_policy *p)
{
	return p->encrypt;
}

size_t hlx_policy_nhold(const struct hlx_policy *p)
{
	return p->hold_tags.n;
}

const char *hlx_policy_hold_at(const struct hlx_policy *p, size_t i)
{
	return i < p->hold_tags.n ? set_at(&p->hold_tags, i) : NULL;
}

int hlx_policy_exact_times(const struct hlx_policy *p, int status)
{
	return status ? !!(p->status_fields & S_TIMES) :
			!!(p->fields & F_FIRST_SEEN);
}

void hlx_policy_rules(const struct hlx_policy *p, struct hlx_rules *out)
{
	*out = p->rules;
}

size_t hlx_policy_nlists(const struct hlx_policy *p)
{
	return p->lists.n;
}

const char *hlx_policy_list_at(const struct hlx_policy *p, size_t i)
{
	return i < p->lists.n ? set_at(&p->lists, i) : NULL;
}

/* ---- evaluation -------------------------------------------------------- */

int hlx_policy_list(const struct hlx_policy *p, const char *list)
{
	if (!strcmp(list, "*")) /* a pattern, not a list */
		return 0;
	if (set_has(&p->lists, list))
		return 1;
	/* the status and cases logs only when named (cases.md 7.3) */
	return p->all_own && !strchr(list, '/') && strcmp(list, "status") &&
	       strcmp(list, "cases");
}

int hlx_policy_held(const struct hlx_policy *p, const struct hlx_entry *e)
{
	unsigned i, n = e->ntags < HLX_TAGS_MAX ? e->ntags : HLX_TAGS_MAX;

	for (i = 0; i < n; i++)
		if (set_has(&p->hold_tags, e->tags[i]))
			return 1;
	return 0;
}

static int type_given(const struct hlx_policy *p, enum hlx_hash_type t)
{
	return (unsigned)t >= 1 && (unsigned)t < 32 &&
	       (p->types & (1u << t));
}

int hlx_policy_entry(const struct hlx_policy *p, const struct hlx_entry *in,
		     struct hlx_entry *out)
{
	if (!type_given(p, in->hash.type) || hlx_policy_held(p, in))
		return 0;
	if (p->has_categories &&
	    (!in->category[0] || !set_has(&p->categories, in->category)))
		return 0;
	if (p->min_confidence >= 0 &&
	    (in->confidence < 0 || in->confidence < p->min_confidence))
		return 0;
	if (out != in)
		*out = *in;
	if (!(p->fields & F_CATEGORY))
		memset(out->category, 0, sizeof(out->category));
	if (!(p->fields & F_FIRST_SEEN))
		out->first_seen = -1;
	if (!(p->fields & F_CONFIDENCE))
		out->confidence = -1;
	if (!(p->fields & F_TAGS)) {
		out->ntags = 0;
		memset(out->tags, 0, sizeof(out->tags));
	}
	return 1;
}

int hlx_policy_status(const struct hlx_policy *p, const struct hlx_status *in,
		      int held, struct hlx_status *out)
{
	if (!set_has(&p->lists, "status") || !type_given(p, in->item.type) ||
	    held)
		return 0;
	if (out != in)
		*out = *in;
	if (!(p->status_fields & S_COUNTRY))
		memset(out->country, 0, sizeof(out->country));
	if (!(p->status_fields & S_TIMES)) {
		out->reported -= out->reported % DAY;
		out->changed -= out->changed % DAY;
	}
	return 1;
}
