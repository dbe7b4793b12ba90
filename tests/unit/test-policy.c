/* SPDX-License-Identifier: MIT */
/*
 * Sharing policies (spec/policy.md): strict parsing of every member, the
 * canonical form, hash and view id, handling rules, each filter rule for
 * entries and status records, and a randomised property test comparing
 * hlx_policy_entry/hlx_policy_status with a straightforward
 * re-implementation over random policies and random synthetic records.
 */
#include "rng.h"
#include "tap.h"
#include "protocol/hash.h"
#include "protocol/policy.h"
#include "protocol/record.h"
#include "protocol/rtime.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <time.h>

#define BASE "\"format\":\"hlx-policy-1\",\"name\":\"t\",\"lists\":[\"uk-a\"],\"fields\":[]"

/* ---- helpers ----------------------------------------------------------- */

static struct hlx_policy *load(const char *json)
{
	struct hlx_policy *p = NULL;

	if (hlx_policy_parse(json, strlen(json), &p) != HLX_OK)
		return NULL;
	return p;
}

__attribute__((format(printf, 1, 2)))
static int parse_rc(const char *fmt, ...)
{
	struct hlx_policy *p = NULL;
	char text[8192];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rc = hlx_policy_parse(text, strlen(text), &p);
	if (rc == HLX_OK && p == NULL)
		rc = 999;
	if (rc != HLX_OK && p != NULL)
		rc = 998; /* *out must only be set on success */
	hlx_policy_free(p);
	return rc;
}

/* The parse of BASE plus one member fails with want and a detail that
 * names the member. */
static void refuse(const char *member, const char *value, int want,
		   const char *why)
{
	char quoted[64];
	int rc = parse_rc("{" BASE ",\"%s\":%s}", member, value);

	snprintf(quoted, sizeof(quoted), "'%s'", member);
	is_rc(rc, want, "%s: %s refused", member, why);
	if (rc == want)
		ok(strstr(hlx_err_detail(), quoted) != NULL,
		   "  and the detail names %s: %s", quoted, hlx_err_detail());
}

static char *canon(const struct hlx_policy *p)
{
	struct hlx_buf b = HLX_BUF_INIT;

	if (hlx_policy_canonical(p, &b) != HLX_OK) {
		hlx_buf_free(&b);
		return strdup("(error)");
	}
	return (char *)b.data; /* NUL-terminated, malloc'd */
}

static void sample_entry(struct hlx_entry *e, enum hlx_hash_type t)
{
	hlx_entry_init(e);
	e->hash.type = t;
	switch (t) {
	case HLX_HASH_MD5: e->hash.len = 16; break;
	case HLX_HASH_SHA1: e->hash.len = 20; break;
	case HLX_HASH_PHOTODNA: e->hash.len = 144; break;
	case HLX_HASH_TMK: e->hash.len = 1024; break;
	default: e->hash.len = 32; break;
	}
	for (size_t i = 0; i < e->hash.len; i++)
		e->hash.bytes[i] = (uint8_t)(i * 7 + 3);
	strcpy(e->category, "a1");
	e->first_seen = 1700000000;
	e->confidence = 90;
	hlx_entry_add_tag(e, "verified", 8);
}

/* ---- rules ------------------------------------------------------------- */

static int rules_rc(const char *json, struct hlx_rules *r)
{
	json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
	int rc;

	if (!o)
		return 997;
	rc = hlx_rules_from_json(o, r);
	json_decref(o);
	return rc;
}

static void test_rules(void)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_rules r, a, c, m;

	hlx_rules_init(&r);
	ok(r.onward == 1 && r.retention_days == 0 && r.purpose[0] == '\0',
	   "rules: defaults onward, no retention limit, no purpose");
	is_rc(hlx_rules_json(&r, &b), HLX_OK, "rules: encode defaults");
	is_str((char *)b.data, "{\"onward\":true,\"retention_days\":0}",
	       "rules: defaults, canonical JSON without purpose");
	hlx_buf_reset(&b);
	r.onward = 0;
	r.retention_days = 90;
	strcpy(r.purpose, "detection");
	is_rc(hlx_rules_json(&r, &b), HLX_OK, "rules: encode");
	is_str((char *)b.data,
	       "{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":90}",
	       "rules: canonical JSON, members sorted");
	is_rc(rules_rc((char *)b.data, &c), HLX_OK, "rules: parse it back");
	ok(c.onward == 0 && c.retention_days == 90 &&
	   !strcmp(c.purpose, "detection"), "rules: same values");

	is_rc(rules_rc("{\"retention_days\":1,\"onward\":true}", &c), HLX_OK,
	      "rules: purpose optional");
	is_rc(rules_rc("{\"onward\":true,\"retention_days\":36500}", &c), HLX_OK,
	      "rules: retention 36500 days");
	is_rc(rules_rc("{\"retention_days\":1}", &c), HLX_EINVAL,
	      "rules: onward missing refused");
	is_rc(rules_rc("{\"onward\":true}", &c), HLX_EINVAL,
	      "rules: retention_days missing refused");
	is_rc(rules_rc("{\"onward\":1,\"retention_days\":1}", &c), HLX_EINVAL,
	      "rules: onward 1 (not a boolean) refused");
	is_rc(rules_rc("{\"onward\":null,\"retention_days\":1}", &c), HLX_EINVAL,
	      "rules: onward null refused");
	is_rc(rules_rc("{\"onward\":true,\"retention_days\":-1}", &c), HLX_EINVAL,
	      "rules: retention -1 refused");
	is_rc(rules_rc("{\"onward\":true,\"retention_days\":36501}", &c),
	      HLX_EINVAL, "rules: retention 36501 refused");
	is_rc(rules_rc("{\"onward\":true,\"retention_days\":9.5}", &c),
	      HLX_EINVAL, "rules: real retention refused");
	is_rc(rules_rc("{\"onward\":true,\"retention_days\":\"90\"}", &c),
	      HLX_EINVAL, "rules: string retention refused");
	is_rc(rules_rc("{\"onward\":true,\"retention_days\":1,\"purpose\":\"\"}",
		       &c), HLX_EINVAL, "rules: empty purpose refused");
	is_rc(rules_rc("{\"onward\":true,\"retention_days\":1,\"purpose\":\"Ads\"}",
		       &c), HLX_EINVAL, "rules: malformed purpose refused");
	is_rc(rules_rc("{\"onward\":true,\"retention_days\":1,\"purpose\":7}", &c),
	      HLX_EINVAL, "rules: numeric purpose refused");
	is_rc(rules_rc("{\"onward\":true,\"retention_days\":1,\"x\":1}", &c),
	      HLX_EINVAL, "rules: unknown member refused");
	ok(strstr(hlx_err_detail(), "'x'") != NULL, "  detail names it: %s",
	   hlx_err_detail());
	is_rc(rules_rc("[]", &c), HLX_EINVAL, "rules: an array refused");
	is_rc(hlx_rules_from_json(NULL, &c), HLX_EINVAL, "rules: NULL refused");

	hlx_rules_init(&a);
	a.onward = 7;
	is_rc(hlx_rules_validate(&a), HLX_EINVAL, "rules: onward 7 invalid");
	is_rc(hlx_rules_json(&a, &b), HLX_EINVAL, "  and not encoded");
	hlx_rules_init(&a);
	a.retention_days = -3;
	is_rc(hlx_rules_validate(&a), HLX_EINVAL, "rules: retention -3 invalid");
	hlx_rules_init(&a);
	strcpy(a.purpose, "No");
	is_rc(hlx_rules_validate(&a), HLX_EINVAL, "rules: purpose 'No' invalid");

	/* merge: the strictest of both */
	hlx_rules_init(&a);
	hlx_rules_init(&c);
	hlx_rules_merge(&a, &c, &m);
	ok(m.onward == 1 && m.retention_days == 0 && !m.purpose[0],
	   "merge: defaults stay defaults");
	a.onward = 0;
	a.retention_days = 0;
	c.retention_days = 30;
	strcpy(c.purpose, "research");
	hlx_rules_merge(&a, &c, &m);
	ok(m.onward == 0 && m.retention_days == 30 &&
	   !strcmp(m.purpose, "research"),
	   "merge: onward off wins, the only limit, b's purpose");
	a.retention_days = 10;
	strcpy(a.purpose, "detection");
	hlx_rules_merge(&a, &c, &m);
	ok(m.retention_days == 10 && !strcmp(m.purpose, "detection"),
	   "merge: the smaller limit, a's purpose");
	hlx_rules_merge(&c, &a, &m);
	ok(m.onward == 0 && m.retention_days == 10 &&
	   !strcmp(m.purpose, "research"), "merge: retention symmetric");
	hlx_rules_merge(&a, &c, &a);
	ok(a.onward == 0 && a.retention_days == 10 &&
	   !strcmp(a.purpose, "detection"), "merge: out may be a");
	hlx_buf_free(&b);
}

/* ---- parsing ----------------------------------------------------------- */

static void test_parse(void)
{
	struct hlx_buf big = HLX_BUF_INIT;
	struct hlx_policy *p = NULL;
	char name33[40];
	int i;

	is_rc(parse_rc("{" BASE "}"), HLX_OK, "minimal policy parses");
	is_rc(parse_rc("not json"), HLX_EINVAL, "not JSON refused");
	is_rc(parse_rc("[]"), HLX_EINVAL, "an array refused");
	is_rc(parse_rc("{" BASE "} x"), HLX_EINVAL, "trailing text refused");
	is_rc(hlx_policy_parse("", 0, &p), HLX_EINVAL, "empty input refused");
	is_rc(hlx_policy_parse("{}", 2, &p), HLX_EINVAL, "empty object refused");
	ok(p == NULL, "  *out untouched");

	/* oversized input */
	hlx_buf_puts(&big, "{" BASE ",\"hold_tags\":[\"hold\"");
	while (big.len <= HLX_POLICY_MAX)
		hlx_buf_puts(&big, "                ");
	hlx_buf_puts(&big, "]}");
	is_rc(hlx_policy_parse((char *)big.data, big.len, &p), HLX_ETOOBIG,
	      "a policy over 64 KiB refused");
	hlx_buf_reset(&big);

	/* unknown and duplicate members */
	refuse("extra", "1", HLX_EINVAL, "unknown member");
	refuse("Name", "\"x\"", HLX_EINVAL, "member with a wrong case");
	is_rc(parse_rc("{" BASE ",\"name\":\"u\"}"), HLX_EINVAL,
	      "duplicate member refused");
	is_rc(parse_rc("{" BASE ",\"encrypt\":true,\"encrypt\":true}"),
	      HLX_EINVAL, "duplicate member (same value) refused");

	/* format */
	is_rc(parse_rc("{\"name\":\"t\",\"lists\":[\"a\"],\"fields\":[]}"),
	      HLX_EINVAL, "format: missing refused");
	ok(strstr(hlx_err_detail(), "'format'") != NULL, "  detail: %s",
	   hlx_err_detail());
	is_rc(parse_rc("{\"format\":\"hlx-policy-2\",\"name\":\"t\",\"lists\":[\"a\"],\"fields\":[]}"),
	      HLX_EUNSUPPORTED, "format: hlx-policy-2 unsupported");
	is_rc(parse_rc("{\"format\":1,\"name\":\"t\",\"lists\":[\"a\"],\"fields\":[]}"),
	      HLX_EINVAL, "format: a number refused");

	/* name */
	is_rc(parse_rc("{\"format\":\"hlx-policy-1\",\"lists\":[\"a\"],\"fields\":[]}"),
	      HLX_EINVAL, "name: missing refused");
	ok(strstr(hlx_err_detail(), "'name'") != NULL, "  detail: %s",
	   hlx_err_detail());
	memset(name33, 'a', 33);
	name33[33] = '\0';
	{
		const char *bad[] = { "\"\"", "\"Companies\"", "\"-x\"",
				      "\"a b\"", "1", "null", "[\"a\"]" };

		for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
			is_rc(parse_rc("{\"format\":\"hlx-policy-1\",\"name\":%s,\"lists\":[\"a\"],\"fields\":[]}",
				       bad[i]), HLX_EINVAL, "name: %s refused",
			      bad[i]);
			ok(strstr(hlx_err_detail(), "'name'") != NULL,
			   "  detail: %s", hlx_err_detail());
		}
	}
	is_rc(parse_rc("{\"format\":\"hlx-policy-1\",\"name\":\"%s\",\"lists\":[\"a\"],\"fields\":[]}",
		       name33), HLX_EINVAL, "name: 33 characters refused");
	name33[32] = '\0';
	is_rc(parse_rc("{\"format\":\"hlx-policy-1\",\"name\":\"%s\",\"lists\":[\"a\"],\"fields\":[]}",
		       name33), HLX_OK, "name: 32 characters accepted");
	is_rc(parse_rc("{\"format\":\"hlx-policy-1\",\"name\":\"t\\u0000x\",\"lists\":[\"a\"],\"fields\":[]}"),
	      HLX_EINVAL, "name: NUL refused");

	/* lists */
#define L(v) "{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"fields\":[],\"lists\":" v "}"
	is_rc(parse_rc("{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"fields\":[]}"),
	      HLX_EINVAL, "lists: missing refused");
	ok(strstr(hlx_err_detail(), "'lists'") != NULL, "  detail: %s",
	   hlx_err_detail());
	{
		const char *bad[] = {
			"[]",	       "\"uk-a\"",     "[\"UK-A\"]",
			"[\"\"]",      "[\"a/b/c\"]",  "[\"/x\"]",
			"[\"a/\"]",    "[\"a//b\"]",   "[1]",
			"[null]",      "[\"uk-a\",\"uk-a\"]",
			"[\"*\",\"uk-a\"]", "[\"**\"]", "[\"*/x\"]",
			"[\"a b\"]",   "{}",	       "null",
			"[[\"a\"]]",
		};

		for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
			is_rc(parse_rc(L("%s"), bad[i]), HLX_EINVAL,
			      "lists: %s refused", bad[i]);
			ok(strstr(hlx_err_detail(), "'lists'") != NULL,
			   "  detail: %s", hlx_err_detail());
		}
	}
	is_rc(parse_rc(L("[\"*\",\"status\",\"peer-b/x\",\"peer-b/y\"]")), HLX_OK,
	      "lists: '*' with status and mirrored lists");
	is_rc(parse_rc(L("[\"status\"]")), HLX_OK, "lists: status only");
	{
		char n65[70];

		memset(n65, 'b', 65);
		n65[65] = '\0';
		is_rc(parse_rc(L("[\"%s\"]"), n65), HLX_EINVAL,
		      "lists: a 65-character name refused");
		is_rc(parse_rc(L("[\"p/%s\"]"), n65), HLX_EINVAL,
		      "lists: a 65-character mirrored name refused");
		is_rc(parse_rc(L("[\"%s/x\"]"), n65), HLX_EINVAL,
		      "lists: a 65-character peer name refused");
		n65[64] = '\0';
		is_rc(parse_rc(L("[\"%s/%s\"]"), n65, n65), HLX_OK,
		      "lists: 64/64 characters accepted");
	}
	/* 4096 items at most */
	hlx_buf_puts(&big, "{" BASE ",\"hold_tags\":[");
	for (i = 0; i < HLX_POLICY_ITEMS_MAX; i++)
		hlx_buf_printf(&big, "%s\"t%d\"", i ? "," : "", i);
	hlx_buf_puts(&big, "]}");
	is_rc(hlx_policy_parse((char *)big.data, big.len, &p), HLX_OK,
	      "4096 hold tags accepted");
	hlx_policy_free(p);
	p = NULL;
	big.len -= 2;
	hlx_buf_puts(&big, ",\"t4096\"]}");
	is_rc(hlx_policy_parse((char *)big.data, big.len, &p), HLX_ETOOBIG,
	      "4097 hold tags refused");
	ok(strstr(hlx_err_detail(), "'hold_tags'") != NULL, "  detail: %s",
	   hlx_err_detail());
	hlx_buf_reset(&big);
	hlx_buf_puts(&big, L("["));
	big.len -= 1; /* drop the closing brace */
	for (i = 0; i <= HLX_POLICY_ITEMS_MAX; i++)
		hlx_buf_printf(&big, "%s\"l%d\"", i ? "," : "", i);
	hlx_buf_puts(&big, "]}");
	is_rc(hlx_policy_parse((char *)big.data, big.len, &p), HLX_ETOOBIG,
	      "4097 lists refused");
#undef L

	/* types */
	refuse("types", "[]", HLX_EINVAL, "empty");
	refuse("types", "[\"md4\"]", HLX_EINVAL, "unknown type");
	refuse("types", "[\"MD5\"]", HLX_EINVAL, "upper case");
	refuse("types", "[\"md5\",\"md5\"]", HLX_EINVAL, "duplicate");
	refuse("types", "[\"md5\",5]", HLX_EINVAL, "a number item");
	refuse("types", "\"md5\"", HLX_EINVAL, "a string");
	refuse("types", "[\"\"]", HLX_EINVAL, "an empty item");
	refuse("types", "[\"url-sha256x\"]", HLX_EINVAL, "a long name");
	is_rc(parse_rc("{" BASE ",\"types\":[\"vpdq\",\"url-sha256\",\"tmk\"]}"),
	      HLX_OK, "types: vpdq, url-sha256, tmk");

	/* categories */
	refuse("categories", "[]", HLX_EINVAL, "empty");
	refuse("categories", "[\"A1\"]", HLX_EINVAL, "upper case");
	refuse("categories", "[\"\"]", HLX_EINVAL, "an empty item");
	refuse("categories", "[\"a1\",\"b1\",\"a1\"]", HLX_EINVAL, "duplicate");
	refuse("categories", "\"a1\"", HLX_EINVAL, "a string");
	refuse("categories", "null", HLX_EINVAL, "null");
	refuse("categories", "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]", HLX_EINVAL,
	       "33 characters");

	/* min_confidence */
	refuse("min_confidence", "-1", HLX_EINVAL, "-1");
	refuse("min_confidence", "101", HLX_EINVAL, "101");
	refuse("min_confidence", "50.5", HLX_EINVAL, "a real");
	refuse("min_confidence", "50.0", HLX_EINVAL, "50.0");
	refuse("min_confidence", "\"50\"", HLX_EINVAL, "a string");
	refuse("min_confidence", "true", HLX_EINVAL, "true");
	refuse("min_confidence", "null", HLX_EINVAL, "null");
	is_rc(parse_rc("{" BASE ",\"min_confidence\":99999999999999999999}"),
	      HLX_EINVAL, "min_confidence: an integer too large for JSON refused");
	is_rc(parse_rc("{" BASE ",\"min_confidence\":0}"), HLX_OK,
	      "min_confidence: 0 accepted");
	is_rc(parse_rc("{" BASE ",\"min_confidence\":100}"), HLX_OK,
	      "min_confidence: 100 accepted");

	/* fields */
	is_rc(parse_rc("{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"lists\":[\"a\"]}"),
	      HLX_EINVAL, "fields: missing refused");
	ok(strstr(hlx_err_detail(), "'fields'") != NULL, "  detail: %s",
	   hlx_err_detail());
	{
		const char *bad[] = { "[\"hash\"]", "[\"tags\",\"tags\"]",
				      "\"tags\"", "[\"Tags\"]", "[\"\"]",
				      "[true]", "null", "[\"country\"]" };

		for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++)
			is_rc(parse_rc("{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"lists\":[\"a\"],\"fields\":%s}",
				       bad[i]), HLX_EINVAL, "fields: %s refused",
			      bad[i]);
	}

	/* status_fields */
	refuse("status_fields", "[\"state\"]", HLX_EINVAL, "unknown field");
	refuse("status_fields", "[\"times\",\"times\"]", HLX_EINVAL, "duplicate");
	refuse("status_fields", "\"country\"", HLX_EINVAL, "a string");
	refuse("status_fields", "[\"category\"]", HLX_EINVAL, "an entry field");
	refuse("status_fields", "[null]", HLX_EINVAL, "a null item");

	/* hold_tags */
	refuse("hold_tags", "[\"Hold\"]", HLX_EINVAL, "upper case");
	refuse("hold_tags", "[\"\"]", HLX_EINVAL, "an empty item");
	refuse("hold_tags", "[\"hold\",\"hold\"]", HLX_EINVAL, "duplicate");
	refuse("hold_tags", "\"hold\"", HLX_EINVAL, "a string");
	refuse("hold_tags", "[\"le hold\"]", HLX_EINVAL, "a space");
	is_rc(parse_rc("{" BASE ",\"hold_tags\":[]}"), HLX_OK,
	      "hold_tags: [] (no embargo) accepted");

	/* rules */
	refuse("rules", "[]", HLX_EINVAL, "an array");
	refuse("rules", "{}", HLX_EINVAL, "an empty object");
	refuse("rules", "{\"onward\":false}", HLX_EINVAL, "missing retention_days");
	refuse("rules", "{\"onward\":false,\"retention_days\":0,\"why\":\"x\"}",
	       HLX_EINVAL, "an unknown member");
	refuse("rules", "{\"onward\":\"no\",\"retention_days\":0}", HLX_EINVAL,
	       "onward a string");
	refuse("rules", "{\"onward\":true,\"retention_days\":40000}", HLX_EINVAL,
	       "retention 40000");
	refuse("rules", "{\"onward\":true,\"retention_days\":0,\"purpose\":\"\"}",
	       HLX_EINVAL, "an empty purpose");
	is_rc(parse_rc("{" BASE ",\"rules\":{\"onward\":true,\"retention_days\":0,\"onward\":true}}"),
	      HLX_EINVAL, "rules: a duplicate member refused");

	/* encrypt */
	refuse("encrypt", "1", HLX_EINVAL, "1");
	refuse("encrypt", "\"true\"", HLX_EINVAL, "a string");
	refuse("encrypt", "null", HLX_EINVAL, "null");
	hlx_buf_free(&big);
}

/* ---- canonical form, hash, view id --------------------------------------- */

static void test_canonical(void)
{
	static const char full[] =
		"{\n  \"encrypt\": true,\n  \"rules\": {\"purpose\": \"detection\", \"retention_days\": 90, \"onward\": false},\n"
		"  \"hold_tags\": [\"le-hold\", \"hold\"],\n  \"status_fields\": [\"times\", \"country\"],\n"
		"  \"fields\": [\"tags\", \"confidence\", \"first_seen\", \"category\"],\n"
		"  \"min_confidence\": 80,\n  \"categories\": [\"b2\", \"a1\"],\n"
		"  \"types\": [\"pdq\", \"md5\"],\n  \"lists\": [\"uk-a\", \"status\", \"peer-b/x\"],\n"
		"  \"name\": \"companies\",\n  \"format\": \"hlx-policy-1\"\n}\n";
	static const char full_canon[] =
		"{\"categories\":[\"a1\",\"b2\"],\"encrypt\":true,"
		"\"fields\":[\"category\",\"confidence\",\"first_seen\",\"tags\"],"
		"\"format\":\"hlx-policy-1\",\"hold_tags\":[\"hold\",\"le-hold\"],"
		"\"lists\":[\"peer-b/x\",\"status\",\"uk-a\"],\"min_confidence\":80,"
		"\"name\":\"companies\","
		"\"rules\":{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":90},"
		"\"status_fields\":[\"country\",\"times\"],\"types\":[\"md5\",\"pdq\"]}";
	static const char min_canon[] =
		"{\"encrypt\":false,\"fields\":[],\"format\":\"hlx-policy-1\","
		"\"hold_tags\":[\"hold\"],\"lists\":[\"uk-a\"],\"name\":\"t\","
		"\"rules\":{\"onward\":true,\"retention_days\":0},"
		"\"status_fields\":[],"
		"\"types\":[\"md5\",\"pdq\",\"photodna\",\"sha1\",\"sha256\",\"tmk\",\"url-sha256\",\"vpdq\"]}";
	/* Each differs from the base in one member that shapes the view. */
	static const char *const variants[] = {
		"{" BASE ",\"encrypt\":true}",
		"{" BASE ",\"types\":[\"md5\"]}",
		"{" BASE ",\"categories\":[\"a1\"]}",
		"{" BASE ",\"min_confidence\":0}",
		"{" BASE ",\"min_confidence\":1}",
		"{" BASE ",\"status_fields\":[\"times\"]}",
		"{" BASE ",\"hold_tags\":[]}",
		"{" BASE ",\"hold_tags\":[\"le-hold\"]}",
		"{" BASE ",\"rules\":{\"onward\":false,\"retention_days\":0}}",
		"{" BASE ",\"rules\":{\"onward\":true,\"retention_days\":1}}",
		"{" BASE ",\"rules\":{\"onward\":true,\"retention_days\":0,\"purpose\":\"x\"}}",
		"{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"lists\":[\"uk-b\"],\"fields\":[]}",
		"{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"lists\":[\"uk-a\"],\"fields\":[\"tags\"]}",
	};
	struct hlx_policy *p, *q, *b;
	uint8_t h1[32], h2[32], v1[32], v2[32];
	struct hlx_rules r;
	char *c1, *c2;
	size_t i;
	int distinct = 1;

	p = load(full);
	ok(p != NULL, "the full example parses");
	if (!p)
		return;
	c1 = canon(p);
	is_str(c1, full_canon, "its canonical form");
	is_str(hlx_policy_name(p), "companies", "name");
	ok(hlx_policy_encrypt(p) == 1, "encrypt");
	hlx_policy_rules(p, &r);
	ok(r.onward == 0 && r.retention_days == 90 &&
	   !strcmp(r.purpose, "detection"), "rules");
	ok(hlx_policy_nlists(p) == 3 &&
	   !strcmp(hlx_policy_list_at(p, 0), "peer-b/x") &&
	   !strcmp(hlx_policy_list_at(p, 2), "uk-a") &&
	   hlx_policy_list_at(p, 3) == NULL, "lists, sorted");
	q = load(c1);
	ok(q != NULL, "the canonical form parses");
	c2 = q ? canon(q) : strdup("");
	is_str(c2, c1, "and is its own canonical form");
	hlx_policy_hash(p, h1);
	{
		uint8_t want[32];

		crypto_hash_sha256(want, (const uint8_t *)c1, strlen(c1));
		ok(!memcmp(h1, want, 32), "hash = SHA-256 of the canonical form");
	}
	hlx_policy_view_id(p, v1);
	{
		/* view id = SHA-256 of the canonical form without "name" */
		const char *want_text =
			"{\"categories\":[\"a1\",\"b2\"],\"encrypt\":true,"
			"\"fields\":[\"category\",\"confidence\",\"first_seen\",\"tags\"],"
			"\"format\":\"hlx-policy-1\",\"hold_tags\":[\"hold\",\"le-hold\"],"
			"\"lists\":[\"peer-b/x\",\"status\",\"uk-a\"],\"min_confidence\":80,"
			"\"rules\":{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":90},"
			"\"status_fields\":[\"country\",\"times\"],\"types\":[\"md5\",\"pdq\"]}";
		uint8_t want[32];

		crypto_hash_sha256(want, (const uint8_t *)want_text,
				   strlen(want_text));
		ok(!memcmp(v1, want, 32),
		   "view id = SHA-256 of the canonical form without the name");
	}
	{
		/* entries id: without name, status_fields, rules, encrypt */
		const char *want_text =
			"{\"categories\":[\"a1\",\"b2\"],"
			"\"fields\":[\"category\",\"confidence\",\"first_seen\",\"tags\"],"
			"\"format\":\"hlx-policy-1\",\"hold_tags\":[\"hold\",\"le-hold\"],"
			"\"lists\":[\"peer-b/x\",\"status\",\"uk-a\"],\"min_confidence\":80,"
			"\"types\":[\"md5\",\"pdq\"]}";
		uint8_t want[32], e1[32], e2[32];
		struct hlx_policy *o;

		crypto_hash_sha256(want, (const uint8_t *)want_text,
				   strlen(want_text));
		hlx_policy_entries_id(p, e1);
		ok(!memcmp(e1, want, 32),
		   "entries id = SHA-256 of the canonical form without name, "
		   "status_fields, rules and encrypt");
		o = load("{\"format\":\"hlx-policy-1\",\"name\":\"plain\","
			 "\"lists\":[\"status\",\"peer-b/x\",\"uk-a\"],"
			 "\"types\":[\"md5\",\"pdq\"],\"categories\":[\"a1\",\"b2\"],"
			 "\"min_confidence\":80,"
			 "\"fields\":[\"category\",\"tags\",\"first_seen\",\"confidence\"],"
			 "\"status_fields\":[],\"hold_tags\":[\"le-hold\",\"hold\"],"
			 "\"rules\":{\"onward\":true,\"retention_days\":0},\"encrypt\":false}");
		if (o) {
			hlx_policy_entries_id(o, e2);
			hlx_policy_view_id(o, want);
		}
		ok(o && !memcmp(e1, e2, 32) && memcmp(v1, want, 32) != 0,
		   "  equal for a plain policy with other rules and status "
		   "fields (whose view id differs)");
		hlx_policy_free(o);
		o = load("{\"format\":\"hlx-policy-1\",\"name\":\"plain\","
			 "\"lists\":[\"status\",\"peer-b/x\",\"uk-a\"],"
			 "\"types\":[\"md5\"],\"categories\":[\"a1\",\"b2\"],"
			 "\"min_confidence\":80,"
			 "\"fields\":[\"category\",\"tags\",\"first_seen\",\"confidence\"],"
			 "\"status_fields\":[\"country\",\"times\"],\"hold_tags\":[\"le-hold\",\"hold\"],"
			 "\"rules\":{\"retention_days\":90,\"onward\":false,\"purpose\":\"detection\"},"
			 "\"encrypt\":true}");
		if (o)
			hlx_policy_entries_id(o, e2);
		ok(o && memcmp(e1, e2, 32) != 0, "  and differs when the types do");
		hlx_policy_free(o);
	}
	{
		/* each member that decides a list's lines changes it alone */
		static const char *const base =
			"{\"format\":\"hlx-policy-1\",\"name\":\"n\",\"lists\":[\"uk-a\"],"
			"\"types\":[\"md5\"],\"categories\":[\"a1\"],\"min_confidence\":10,"
			"\"fields\":[\"category\"],\"hold_tags\":[\"hold\"]}";
		static const char *const apart[][2] = {
			{ "lists", "{\"format\":\"hlx-policy-1\",\"name\":\"n\",\"lists\":[\"uk-b\"],"
				   "\"types\":[\"md5\"],\"categories\":[\"a1\"],\"min_confidence\":10,"
				   "\"fields\":[\"category\"],\"hold_tags\":[\"hold\"]}" },
			{ "categories", "{\"format\":\"hlx-policy-1\",\"name\":\"n\",\"lists\":[\"uk-a\"],"
					"\"types\":[\"md5\"],\"categories\":[\"a2\"],\"min_confidence\":10,"
					"\"fields\":[\"category\"],\"hold_tags\":[\"hold\"]}" },
			{ "min_confidence", "{\"format\":\"hlx-policy-1\",\"name\":\"n\",\"lists\":[\"uk-a\"],"
					    "\"types\":[\"md5\"],\"categories\":[\"a1\"],\"min_confidence\":11,"
					    "\"fields\":[\"category\"],\"hold_tags\":[\"hold\"]}" },
			{ "fields", "{\"format\":\"hlx-policy-1\",\"name\":\"n\",\"lists\":[\"uk-a\"],"
				    "\"types\":[\"md5\"],\"categories\":[\"a1\"],\"min_confidence\":10,"
				    "\"fields\":[\"category\",\"first_seen\"],\"hold_tags\":[\"hold\"]}" },
			{ "hold_tags", "{\"format\":\"hlx-policy-1\",\"name\":\"n\",\"lists\":[\"uk-a\"],"
				       "\"types\":[\"md5\"],\"categories\":[\"a1\"],\"min_confidence\":10,"
				       "\"fields\":[\"category\"],\"hold_tags\":[\"hold\",\"le-hold\"]}" },
		};
		struct hlx_policy *pb = load(base), *o;
		uint8_t eb[32], eo[32];

		if (pb)
			hlx_policy_entries_id(pb, eb);
		for (size_t k = 0; k < sizeof(apart) / sizeof(apart[0]); k++) {
			o = load(apart[k][1]);
			if (o)
				hlx_policy_entries_id(o, eo);
			ok(pb && o && memcmp(eb, eo, 32) != 0,
			   "  entries id differs when only %s does", apart[k][0]);
			hlx_policy_free(o);
		}
		hlx_policy_free(pb);
	}
	free(c1);
	free(c2);
	hlx_policy_free(q);

	/* same meaning, other name: same view, other hash */
	q = load("{\"format\":\"hlx-policy-1\",\"name\":\"hosts\",\"lists\":[\"status\",\"peer-b/x\",\"uk-a\"],"
		 "\"types\":[\"md5\",\"pdq\"],\"categories\":[\"a1\",\"b2\"],\"min_confidence\":80,"
		 "\"fields\":[\"category\",\"tags\",\"first_seen\",\"confidence\"],"
		 "\"status_fields\":[\"country\",\"times\"],\"hold_tags\":[\"le-hold\",\"hold\"],"
		 "\"rules\":{\"retention_days\":90,\"onward\":false,\"purpose\":\"detection\"},\"encrypt\":true}");
	ok(q != NULL, "the same policy reordered, named 'hosts', parses");
	if (q) {
		hlx_policy_hash(q, h2);
		hlx_policy_view_id(q, v2);
		ok(memcmp(h1, h2, 32) != 0, "  its hash differs (name)");
		ok(!memcmp(v1, v2, 32), "  its view id is the same");
		hlx_policy_free(q);
	}
	hlx_policy_free(p);

	/* defaults written out */
	b = load("{" BASE "}");
	ok(b != NULL, "minimal policy parses");
	if (!b)
		return;
	c1 = canon(b);
	is_str(c1, min_canon, "minimal policy: defaults written out");
	free(c1);
	ok(hlx_policy_encrypt(b) == 0, "encrypt defaults to false");
	hlx_policy_rules(b, &r);
	ok(r.onward == 1 && r.retention_days == 0 && !r.purpose[0],
	   "rules default to onward, no limit, no purpose");
	{
		/* every default spelled out gives the same policy */
		const char *explicit_ =
			"{\"types\":[\"vpdq\",\"url-sha256\",\"tmk\",\"sha256\",\"sha1\",\"photodna\",\"pdq\",\"md5\"],"
			"\"status_fields\":[],\"hold_tags\":[\"hold\"],\"encrypt\":false,"
			"\"rules\":{\"onward\":true,\"retention_days\":0}," BASE "}";

		q = load(explicit_);
		ok(q != NULL, "the defaults spelled out parse");
		c1 = q ? canon(q) : strdup("");
		is_str(c1, min_canon, "  to the same canonical form");
		hlx_policy_hash(b, h1);
		if (q)
			hlx_policy_hash(q, h2);
		ok(q && !memcmp(h1, h2, 32), "  and the same hash");
		free(c1);
		hlx_policy_free(q);
	}
	hlx_policy_view_id(b, v1);
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		q = load(variants[i]);
		if (!q) {
			distinct = 0;
			printf("# variant %zu does not parse: %s\n", i,
			       hlx_err_detail());
			continue;
		}
		hlx_policy_view_id(q, v2);
		if (!memcmp(v1, v2, 32)) {
			distinct = 0;
			printf("# variant %zu has the base's view id\n", i);
		}
		for (size_t j = 0; j < i; j++) {
			struct hlx_policy *o = load(variants[j]);
			uint8_t v3[32];

			if (o) {
				hlx_policy_view_id(o, v3);
				if (!memcmp(v2, v3, 32)) {
					distinct = 0;
					printf("# variants %zu and %zu share a view id\n",
					       j, i);
				}
			}
			hlx_policy_free(o);
		}
		hlx_policy_free(q);
	}
	ok(distinct, "%zu policies differing in one member have distinct view ids",
	   sizeof(variants) / sizeof(variants[0]) + 1);
	hlx_policy_free(b);
}

/* ---- lists ------------------------------------------------------------- */

static void test_lists(void)
{
	struct hlx_policy *p;

	p = load("{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"fields\":[],\"lists\":[\"uk-a\",\"peer-b/x\"]}");
	ok(p != NULL, "lists policy parses");
	if (!p)
		return;
	ok(hlx_policy_list(p, "uk-a") == 1, "named own list given");
	ok(hlx_policy_list(p, "uk-b") == 0, "other own list not given");
	ok(hlx_policy_list(p, "peer-b/x") == 1, "named mirrored list given");
	ok(hlx_policy_list(p, "peer-b/y") == 0, "other mirrored list not given");
	ok(hlx_policy_list(p, "status") == 0, "status not given unless named");
	ok(hlx_policy_list(p, "*") == 0, "'*' is not a list");
	hlx_policy_free(p);
	p = load("{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"fields\":[],\"lists\":[\"*\"]}");
	ok(p != NULL, "'*' policy parses");
	if (!p)
		return;
	ok(hlx_policy_list(p, "uk-a") && hlx_policy_list(p, "x"),
	   "'*' gives every own list");
	ok(hlx_policy_list(p, "status") == 0, "'*' does not give status");
	ok(hlx_policy_list(p, "peer-b/x") == 0, "'*' gives no mirrored list");
	hlx_policy_free(p);
	p = load("{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"fields\":[],\"lists\":[\"*\",\"status\"]}");
	ok(p && hlx_policy_list(p, "status") == 1 && hlx_policy_list(p, "a"),
	   "'*' and status give both");
	hlx_policy_free(p);
}

/* ---- entry filter ------------------------------------------------------ */

static int shared(const char *json, const struct hlx_entry *e,
		  struct hlx_entry *out)
{
	struct hlx_policy *p = load(json);
	int r;

	if (!p) {
		printf("# policy does not parse: %s\n", hlx_err_detail());
		return -1;
	}
	r = hlx_policy_entry(p, e, out);
	hlx_policy_free(p);
	return r;
}

#define ALLF "\"fields\":[\"category\",\"confidence\",\"first_seen\",\"tags\"]"
#define P(extra) "{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"lists\":[\"uk-a\"]," ALLF extra "}"

static void test_entry(void)
{
	struct hlx_entry e, out, keep;
	struct hlx_policy *p;

	/* types */
	sample_entry(&e, HLX_HASH_PDQ);
	ok(shared(P(""), &e, &out) == 1, "types: every type by default (pdq)");
	sample_entry(&e, HLX_HASH_TMK);
	ok(shared(P(""), &e, &out) == 1, "types: every type by default (tmk)");
	ok(shared(P(",\"types\":[\"md5\",\"pdq\"]"), &e, &out) == 0,
	   "types: tmk withheld from md5+pdq");
	sample_entry(&e, HLX_HASH_MD5);
	ok(shared(P(",\"types\":[\"md5\",\"pdq\"]"), &e, &out) == 1,
	   "types: md5 shared with md5+pdq");
	sample_entry(&e, HLX_HASH_URL_SHA256);
	ok(shared(P(",\"types\":[\"sha256\"]"), &e, &out) == 0,
	   "types: url-sha256 withheld from sha256");

	/* categories */
	sample_entry(&e, HLX_HASH_MD5);
	ok(shared(P(",\"categories\":[\"a1\",\"b2\"]"), &e, &out) == 1,
	   "categories: a1 shared");
	strcpy(e.category, "b1");
	ok(shared(P(",\"categories\":[\"a1\",\"b2\"]"), &e, &out) == 0,
	   "categories: b1 withheld");
	e.category[0] = '\0';
	ok(shared(P(",\"categories\":[\"a1\",\"b2\"]"), &e, &out) == 0,
	   "categories: no category withheld when categories is given");
	ok(shared(P(""), &e, &out) == 1,
	   "categories: no category shared when categories is not given");
	strcpy(e.category, "zz");
	ok(shared(P(""), &e, &out) == 1,
	   "categories: any category shared by default");

	/* min_confidence */
	sample_entry(&e, HLX_HASH_MD5);
	e.confidence = 80;
	ok(shared(P(",\"min_confidence\":80"), &e, &out) == 1,
	   "min_confidence: 80 >= 80 shared");
	e.confidence = 79;
	ok(shared(P(",\"min_confidence\":80"), &e, &out) == 0,
	   "min_confidence: 79 < 80 withheld");
	e.confidence = -1;
	ok(shared(P(",\"min_confidence\":80"), &e, &out) == 0,
	   "min_confidence: absent confidence withheld");
	ok(shared(P(",\"min_confidence\":0"), &e, &out) == 0,
	   "min_confidence 0: absent confidence withheld");
	e.confidence = 0;
	ok(shared(P(",\"min_confidence\":0"), &e, &out) == 1,
	   "min_confidence 0: confidence 0 shared");
	e.confidence = -1;
	ok(shared(P(""), &e, &out) == 1,
	   "no min_confidence: absent confidence shared");

	/* hold tags */
	sample_entry(&e, HLX_HASH_MD5);
	hlx_entry_add_tag(&e, "hold", 4);
	ok(shared(P(""), &e, &out) == 0, "hold_tags default: 'hold' withheld");
	p = load(P(""));
	ok(p && hlx_policy_held(p, &e) == 1, "  hlx_policy_held says held");
	hlx_policy_free(p);
	ok(shared(P(",\"hold_tags\":[\"le-hold\"]"), &e, &out) == 1,
	   "hold_tags [le-hold]: 'hold' shared");
	ok(shared(P(",\"hold_tags\":[]"), &e, &out) == 1,
	   "hold_tags []: nothing held");
	sample_entry(&e, HLX_HASH_MD5);
	hlx_entry_add_tag(&e, "le-hold", 7);
	ok(shared(P(""), &e, &out) == 1, "hold_tags default: 'le-hold' shared");
	ok(shared(P(",\"hold_tags\":[\"le-hold\",\"x\"]"), &e, &out) == 0,
	   "hold_tags [le-hold, x]: 'le-hold' withheld");
	p = load(P(",\"hold_tags\":[\"le-hold\",\"x\"]"));
	ok(p && hlx_policy_held(p, &e) == 1, "  held");
	sample_entry(&e, HLX_HASH_MD5);
	ok(p && hlx_policy_held(p, &e) == 0, "  an entry without it is not");
	e.ntags = 0;
	ok(p && hlx_policy_held(p, &e) == 0, "  nor one without tags");
	hlx_policy_free(p);
	/* held beats every other rule */
	sample_entry(&e, HLX_HASH_MD5);
	hlx_entry_add_tag(&e, "hold", 4);
	hlx_entry_add_tag(&e, "zzz", 3);
	ok(shared(P(",\"types\":[\"md5\"],\"categories\":[\"a1\"]"), &e, &out) == 0,
	   "a held entry is withheld even if every other rule lets it pass");

	/* fields, each kept and dropped */
	sample_entry(&e, HLX_HASH_PDQ);
	hlx_entry_add_tag(&e, "t2", 2);
	ok(shared(P(""), &e, &out) == 1 && !memcmp(&out, &e, sizeof(e)),
	   "fields: all kept gives the entry unchanged");
	{
		static const struct {
			const char *field;
		} f[] = { { "category" }, { "confidence" }, { "first_seen" },
			  { "tags" } };
		char json[512];

		for (int i = 0; i < 4; i++) {
			int r;

			snprintf(json, sizeof(json),
				 "{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"lists\":[\"uk-a\"],\"fields\":[\"%s\"]}",
				 f[i].field);
			r = shared(json, &e, &out);
			ok(r == 1 && hlx_entry_validate(&out) == HLX_OK &&
			   !memcmp(&out.hash, &e.hash, sizeof(e.hash)) &&
			   (i == 0 ? !strcmp(out.category, "a1") : !out.category[0]) &&
			   (i == 1 ? out.confidence == 90 : out.confidence == -1) &&
			   (i == 2 ? out.first_seen == 1700000000 : out.first_seen == -1) &&
			   (i == 3 ? out.ntags == 2 && !strcmp(out.tags[0], "t2") &&
					     !strcmp(out.tags[1], "verified")
				   : out.ntags == 0),
			   "fields [%s]: only %s kept, valid", f[i].field,
			   f[i].field);
			snprintf(json, sizeof(json), "{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"lists\":[\"uk-a\"],\"fields\":[%s%s%s%s%s%s%s]}",
				 i != 0 ? "\"category\"" : "",
				 i != 0 ? "," : "",
				 i != 1 ? "\"confidence\"" : "",
				 i != 1 ? "," : "",
				 i != 2 ? "\"first_seen\"" : "",
				 i != 2 && i != 3 ? "," : "",
				 i != 3 ? "\"tags\"" : "");
			r = shared(json, &e, &out);
			ok(r == 1 && hlx_entry_validate(&out) == HLX_OK &&
			   (i == 0 ? !out.category[0] : !strcmp(out.category, "a1")) &&
			   (i == 1 ? out.confidence == -1 : out.confidence == 90) &&
			   (i == 2 ? out.first_seen == -1 : out.first_seen == 1700000000) &&
			   (i == 3 ? out.ntags == 0 : out.ntags == 2),
			   "fields without %s: only %s dropped, valid", f[i].field,
			   f[i].field);
		}
		ok(shared("{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"lists\":[\"uk-a\"],\"fields\":[]}",
			  &e, &out) == 1 &&
		   hlx_entry_validate(&out) == HLX_OK && !out.category[0] &&
		   out.first_seen == -1 && out.confidence == -1 && out.ntags == 0 &&
		   !memcmp(&out.hash, &e.hash, sizeof(e.hash)),
		   "fields []: only the hash");
	}
	{
		struct hlx_buf b = HLX_BUF_INIT;

		ok(hlx_entry_encode(&out, &b) == HLX_OK &&
		   strstr((char *)b.data, "\t-\t-\t-\t-\n") != NULL,
		   "  its canonical line has every field absent");
		hlx_buf_free(&b);
	}

	/* out untouched when withheld, out may be in */
	sample_entry(&e, HLX_HASH_MD5);
	memset(&out, 0x5a, sizeof(out));
	keep = out;
	ok(shared(P(",\"types\":[\"sha1\"]"), &e, &out) == 0 &&
	   !memcmp(&out, &keep, sizeof(out)), "withheld: *out untouched");
	p = load("{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"lists\":[\"uk-a\"],\"fields\":[\"tags\"]}");
	ok(p && hlx_policy_entry(p, &e, &e) == 1 && !e.category[0] &&
	   e.confidence == -1 && e.first_seen == -1 && e.ntags == 1,
	   "in place: out may be in");
	hlx_policy_free(p);
}

/* ---- status filter ----------------------------------------------------- */

static void sample_status(struct hlx_status *s, enum hlx_hash_type t,
			  enum hlx_state st)
{
	struct hlx_entry e;

	sample_entry(&e, t);
	hlx_status_init(s);
	s->item = e.hash;
	strcpy(s->country, "DE");
	s->state = st;
	hlx_time_parse("2026-03-04T05:06:07Z", 20, &s->reported);
	if (st == HLX_STATE_REPORTED)
		s->changed = s->reported;
	else
		hlx_time_parse("2026-03-09T23:59:59Z", 20, &s->changed);
}

#define S(lists, extra) \
	"{\"format\":\"hlx-policy-1\",\"name\":\"t\",\"fields\":[],\"lists\":" lists extra "}"

static void test_status(void)
{
	struct hlx_status s, out, keep;
	struct hlx_policy *p;
	int64_t day1, day2;

	hlx_time_parse("2026-03-04T00:00:00Z", 20, &day1);
	hlx_time_parse("2026-03-09T00:00:00Z", 20, &day2);
	sample_status(&s, HLX_HASH_MD5, HLX_STATE_REMOVED);

	p = load(S("[\"uk-a\"]", ""));
	ok(p && hlx_policy_status(p, &s, 0, &out) == 0,
	   "status: withheld when 'status' is not in lists");
	hlx_policy_free(p);
	p = load(S("[\"*\"]", ""));
	ok(p && hlx_policy_status(p, &s, 0, &out) == 0,
	   "status: '*' does not give status");
	hlx_policy_free(p);

	p = load(S("[\"status\"]", ""));
	ok(p && hlx_policy_status(p, &s, 0, &out) == 1,
	   "status: shared when 'status' is in lists");
	ok(p && hlx_status_validate(&out) == HLX_OK && !out.country[0] &&
	   out.reported == day1 && out.changed == day2 &&
	   out.state == HLX_STATE_REMOVED &&
	   !memcmp(&out.item, &s.item, sizeof(s.item)),
	   "status default: country dropped, times cut to midnight UTC, valid");
	memset(&out, 0x5a, sizeof(out));
	keep = out;
	ok(p && hlx_policy_status(p, &s, 1, &out) == 0 &&
	   !memcmp(&out, &keep, sizeof(out)),
	   "status: a held item withheld, *out untouched");
	hlx_policy_free(p);

	p = load(S("[\"status\"]", ",\"status_fields\":[\"country\"]"));
	ok(p && hlx_policy_status(p, &s, 0, &out) == 1 &&
	   !strcmp(out.country, "DE") && out.reported == day1 &&
	   out.changed == day2, "status_fields [country]: country kept, times cut");
	hlx_policy_free(p);
	p = load(S("[\"status\"]", ",\"status_fields\":[\"times\"]"));
	ok(p && hlx_policy_status(p, &s, 0, &out) == 1 && !out.country[0] &&
	   out.reported == s.reported && out.changed == s.changed,
	   "status_fields [times]: times kept, country dropped");
	hlx_policy_free(p);
	p = load(S("[\"status\"]", ",\"status_fields\":[\"times\",\"country\"]"));
	ok(p && hlx_policy_status(p, &s, 0, &out) == 1 &&
	   !memcmp(&out, &s, sizeof(s)), "status_fields [country, times]: unchanged");
	hlx_policy_free(p);

	/* times cut keep the reported rule */
	sample_status(&s, HLX_HASH_MD5, HLX_STATE_REPORTED);
	p = load(S("[\"status\"]", ""));
	ok(p && hlx_policy_status(p, &s, 0, &out) == 1 &&
	   hlx_status_validate(&out) == HLX_OK && out.changed == out.reported &&
	   out.reported == day1, "state reported: changed == reported after the cut");
	/* changed and reported on the same day */
	sample_status(&s, HLX_HASH_MD5, HLX_STATE_NOTICE_SENT);
	s.changed = s.reported + 60;
	ok(p && hlx_policy_status(p, &s, 0, &out) == 1 &&
	   hlx_status_validate(&out) == HLX_OK && out.changed == out.reported,
	   "same-day change: both cut to the same midnight, valid");
	s.reported = 0;
	s.changed = 86399;
	ok(p && hlx_policy_status(p, &s, 0, &out) == 1 && out.reported == 0 &&
	   out.changed == 0, "the epoch day");
	s.reported = HLX_TIME_MAX;
	s.changed = HLX_TIME_MAX;
	ok(p && hlx_policy_status(p, &s, 0, &out) == 1 &&
	   hlx_status_validate(&out) == HLX_OK &&
	   out.reported == HLX_TIME_MAX - 86399, "the last day");
	/* in place */
	sample_status(&s, HLX_HASH_MD5, HLX_STATE_REMOVED);
	ok(p && hlx_policy_status(p, &s, 0, &s) == 1 && !s.country[0] &&
	   s.reported == day1, "in place: out may be in");
	hlx_policy_free(p);

	/* types */
	sample_status(&s, HLX_HASH_PDQ, HLX_STATE_REMOVED);
	p = load(S("[\"status\"]", ",\"types\":[\"md5\"]"));
	ok(p && hlx_policy_status(p, &s, 0, &out) == 0,
	   "status: a pdq item withheld from types [md5]");
	sample_status(&s, HLX_HASH_MD5, HLX_STATE_REMOVED);
	ok(p && hlx_policy_status(p, &s, 0, &out) == 1,
	   "status: an md5 item shared with types [md5]");
	hlx_policy_free(p);
}

/* ---- randomised property test ------------------------------------------ */

static unsigned below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static const char *const cat_vocab[] = { "a1", "a2", "b1", "b2", "c1", "x9" };
static const char *const tag_vocab[] = { "hold", "le-hold", "t1", "t2",
					 "verified", "x" };
static const char *const list_vocab[] = { "uk-a", "de-b", "status",
					  "peer-b/x", "peer-c/y", "*" };
#define NCAT 6
#define NTAG 6
#define NLIST 6

/* A random policy as the test generator sees it. */
struct rpol {
	unsigned lists;      /* bits of list_vocab */
	unsigned types;      /* bits 1 << hash type */
	int types_given;
	unsigned cats;       /* bits of cat_vocab; 0 = member absent */
	int min_conf;        /* -1 = absent */
	unsigned fields;     /* 1 category, 2 confidence, 4 first_seen, 8 tags */
	unsigned sfields;    /* 1 country, 2 times */
	int sfields_given;
	unsigned holds;      /* bits of tag_vocab */
	int holds_given;
	int onward, retention, encrypt, rules_given;
};

static void rand_policy(struct rpol *r)
{
	memset(r, 0, sizeof(*r));
	do
		r->lists = below(1u << NLIST);
	while (!r->lists);
	if (r->lists & (1u << 5)) /* "*" given: no own list names */
		r->lists &= ~3u;
	r->types_given = below(4) != 0;
	if (r->types_given) {
		do
			r->types = (unsigned)below(256) << 1;
		while (!r->types);
	} else {
		r->types = 0x1fe;
	}
	r->cats = below(2) ? below(1u << NCAT) : 0;
	r->min_conf = below(2) ? (int)below(101) : -1;
	r->fields = below(16);
	r->sfields = below(4);
	r->sfields_given = r->sfields || below(2);
	r->holds_given = below(3) != 0;
	r->holds = r->holds_given ? below(1u << NTAG) : 1; /* default: hold */
	r->rules_given = below(2);
	r->onward = r->rules_given ? (int)below(2) : 1;
	r->retention = r->rules_given && below(2) ? (int)below(36501) : 0;
	r->encrypt = below(2);
}

/* Write the names of the set bits of a vocabulary as a JSON array, in a
 * random order. */
static void emit_array(struct hlx_buf *b, const char *const *vocab, size_t n,
		       unsigned bits)
{
	size_t order[16], k = 0, i;

	for (i = 0; i < n; i++)
		if (bits & (1u << i))
			order[k++] = i;
	for (i = k; i > 1; i--) {
		size_t j = below((unsigned)i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	hlx_buf_putc(b, '[');
	for (i = 0; i < k; i++)
		hlx_buf_printf(b, "%s\"%s\"", i ? ", " : "", vocab[order[i]]);
	hlx_buf_putc(b, ']');
}

static const char *const type_vocab[] = { NULL,	    "md5",   "sha1",
					  "sha256", "pdq",   "photodna",
					  "tmk",    "vpdq",  "url-sha256" };
static const char *const field_vocab[] = { "category", "confidence",
					   "first_seen", "tags" };
static const char *const sfield_vocab[] = { "country", "times" };

/* The policy as JSON, members in a random order. */
static void emit_policy(const struct rpol *r, int id, struct hlx_buf *b)
{
	int order[12], n = 0, i;

	for (i = 0; i < 12; i++)
		order[i] = i;
	for (i = 11; i > 0; i--) {
		int j = (int)below((unsigned)i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	hlx_buf_putc(b, '{');
	for (i = 0; i < 12; i++) {
		size_t before = b->len;

		if (n)
			hlx_buf_puts(b, ", ");
		switch (order[i]) {
		case 0: hlx_buf_puts(b, "\"format\": \"hlx-policy-1\""); break;
		case 1: hlx_buf_printf(b, "\"name\": \"p%d\"", id); break;
		case 2:
			hlx_buf_puts(b, "\"lists\": ");
			emit_array(b, list_vocab, NLIST, r->lists);
			break;
		case 3:
			if (!r->types_given)
				goto skip;
			hlx_buf_puts(b, "\"types\": ");
			emit_array(b, type_vocab, 9, r->types);
			break;
		case 4:
			if (!r->cats)
				goto skip;
			hlx_buf_puts(b, "\"categories\": ");
			emit_array(b, cat_vocab, NCAT, r->cats);
			break;
		case 5:
			if (r->min_conf < 0)
				goto skip;
			hlx_buf_printf(b, "\"min_confidence\": %d", r->min_conf);
			break;
		case 6:
			hlx_buf_puts(b, "\"fields\": ");
			emit_array(b, field_vocab, 4, r->fields);
			break;
		case 7:
			if (!r->sfields_given)
				goto skip;
			hlx_buf_puts(b, "\"status_fields\": ");
			emit_array(b, sfield_vocab, 2, r->sfields);
			break;
		case 8:
			if (!r->holds_given)
				goto skip;
			hlx_buf_puts(b, "\"hold_tags\": ");
			emit_array(b, tag_vocab, NTAG, r->holds);
			break;
		case 9:
			if (!r->rules_given)
				goto skip;
			if (below(2))
				hlx_buf_printf(b, "\"rules\": {\"retention_days\": %d, \"onward\": %s}",
					       r->retention, r->onward ? "true" : "false");
			else
				hlx_buf_printf(b, "\"rules\": {\"onward\": %s, \"retention_days\": %d}",
					       r->onward ? "true" : "false", r->retention);
			break;
		case 10:
			if (!r->encrypt && below(2))
				goto skip;
			hlx_buf_printf(b, "\"encrypt\": %s",
				       r->encrypt ? "true" : "false");
			break;
		default:
			goto skip;
		}
		n++;
		continue;
skip:
		b->len = before;
		b->data[b->len] = '\0';
	}
	hlx_buf_putc(b, '}');
}

static int ref_has(const char *const *vocab, size_t n, unsigned bits,
		   const char *s)
{
	for (size_t i = 0; i < n; i++)
		if ((bits & (1u << i)) && !strcmp(vocab[i], s))
			return 1;
	return 0;
}

/* The reference: spec/policy.md section "Entries", written plainly. */
static int ref_entry(const struct rpol *r, const struct hlx_entry *e,
		     struct hlx_entry *out)
{
	unsigned i;

	if (!(r->types & (1u << e->hash.type)))
		return 0;
	for (i = 0; i < e->ntags; i++)
		if (ref_has(tag_vocab, NTAG, r->holds, e->tags[i]))
			return 0;
	if (r->cats && (e->category[0] == '\0' ||
			!ref_has(cat_vocab, NCAT, r->cats, e->category)))
		return 0;
	if (r->min_conf >= 0 &&
	    (e->confidence == -1 || e->confidence < r->min_conf))
		return 0;
	hlx_entry_init(out);
	out->hash = e->hash;
	if (r->fields & 1)
		strcpy(out->category, e->category);
	if (r->fields & 2)
		out->confidence = e->confidence;
	if (r->fields & 4)
		out->first_seen = e->first_seen;
	if (r->fields & 8)
		for (i = 0; i < e->ntags; i++)
			hlx_entry_add_tag(out, e->tags[i], strlen(e->tags[i]));
	return 1;
}

static int ref_status(const struct rpol *r, const struct hlx_status *s,
		      int held, struct hlx_status *out)
{
	if (!(r->lists & (1u << 2)) || !(r->types & (1u << s->item.type)) || held)
		return 0;
	*out = *s;
	if (!(r->sfields & 1))
		out->country[0] = '\0';
	if (!(r->sfields & 2)) {
		struct hlx_status t = *s;

		/* the long way round: the day of the text form */
		char text[HLX_TIME_TEXT];

		hlx_time_format(t.reported, text);
		memcpy(text + 11, "00:00:00", 8);
		hlx_time_parse(text, 20, &out->reported);
		hlx_time_format(t.changed, text);
		memcpy(text + 11, "00:00:00", 8);
		hlx_time_parse(text, 20, &out->changed);
	}
	return 1;
}

static int ref_list(const struct rpol *r, const char *l)
{
	if (ref_has(list_vocab, NLIST, r->lists, l))
		return strcmp(l, "*") != 0;
	return (r->lists & (1u << 5)) && !strchr(l, '/') && strcmp(l, "status") &&
	       strcmp(l, "*");
}

static void rand_hash(struct hlx_hash *h)
{
	static const enum hlx_hash_type t[] = {
		HLX_HASH_MD5, HLX_HASH_SHA1, HLX_HASH_SHA256, HLX_HASH_PDQ,
		HLX_HASH_PHOTODNA, HLX_HASH_TMK, HLX_HASH_VPDQ,
		HLX_HASH_URL_SHA256,
	};

	h->type = t[below(8)];
	switch (h->type) {
	case HLX_HASH_MD5: h->len = 16; break;
	case HLX_HASH_SHA1: h->len = 20; break;
	case HLX_HASH_PHOTODNA: h->len = 144; break;
	case HLX_HASH_TMK: h->len = 1024; break;
	case HLX_HASH_VPDQ: h->len = 32 * (1 + below(4)); break;
	default: h->len = 32; break;
	}
	for (size_t i = 0; i < h->len; i += 8) {
		uint64_t x = rnd();

		memcpy(h->bytes + i, &x, h->len - i < 8 ? h->len - i : 8);
	}
}

static void rand_entry(struct hlx_entry *e)
{
	unsigned i, n;

	hlx_entry_init(e);
	rand_hash(&e->hash);
	if (below(4))
		strcpy(e->category, cat_vocab[below(NCAT)]);
	if (below(5))
		e->first_seen = (int64_t)(rnd() % 4000000000ULL);
	if (below(4))
		e->confidence = (int)below(101);
	n = below(4);
	for (i = 0; i < n; i++) {
		const char *t = tag_vocab[below(NTAG)];

		hlx_entry_add_tag(e, t, strlen(t)); /* duplicates ignored */
	}
}

static void rand_status(struct hlx_status *s)
{
	static const char *const cc[] = { "", "DE", "GB", "FR", "NL" };

	hlx_status_init(s);
	rand_hash(&s->item);
	strcpy(s->country, cc[below(5)]);
	s->state = (enum hlx_state)(1 + below(5));
	s->reported = (int64_t)(rnd() % 4000000000ULL);
	s->changed = s->state == HLX_STATE_REPORTED
			     ? s->reported
			     : s->reported + (int64_t)below(3 * 86400);
}

static int same_entry(const struct hlx_entry *a, const struct hlx_entry *b)
{
	unsigned i;

	if (a->hash.type != b->hash.type || a->hash.len != b->hash.len ||
	    memcmp(a->hash.bytes, b->hash.bytes, a->hash.len) ||
	    strcmp(a->category, b->category) || a->first_seen != b->first_seen ||
	    a->confidence != b->confidence || a->ntags != b->ntags)
		return 0;
	for (i = 0; i < a->ntags; i++)
		if (strcmp(a->tags[i], b->tags[i]))
			return 0;
	return 1;
}

static int same_status(const struct hlx_status *a, const struct hlx_status *b)
{
	return a->item.type == b->item.type && a->item.len == b->item.len &&
	       !memcmp(a->item.bytes, b->item.bytes, a->item.len) &&
	       !strcmp(a->country, b->country) && a->state == b->state &&
	       a->reported == b->reported && a->changed == b->changed;
}

#define NPOLICIES 1000
#define NENTRIES 100000
#define NSTATUS 100000
#define PER_POLICY 5000 /* entries and status records each policy sees */

static void test_random(void)
{
	static const char *const names[] = { "uk-a", "de-b", "fr-c", "status",
					     "peer-b/x", "peer-c/y",
					     "peer-b/y", "*" };
	uint64_t seed = 0x686c78706f6c6963ULL; /* "hlxpolic" */
	struct hlx_entry *ents = malloc(NENTRIES * sizeof(*ents));
	struct hlx_status *sts = malloc(NSTATUS * sizeof(*sts));
	unsigned char *held = malloc(NSTATUS);
	struct hlx_buf j1 = HLX_BUF_INIT, j2 = HLX_BUF_INIT, c1 = HLX_BUF_INIT,
		       c2 = HLX_BUF_INIT;
	uint64_t nent = 0, nst = 0, shared_e = 0, shared_s = 0, held_n = 0;
	unsigned bad_parse = 0, bad_canon = 0, bad_entry = 0, bad_status = 0,
		 bad_valid = 0, bad_list = 0, bad_held = 0, bad_view = 0,
		 bad_meta = 0;
	clock_t t0 = clock();
	size_t i, k;
	int pi;

	if (getenv("HLX_SEED"))
		seed = strtoull(getenv("HLX_SEED"), NULL, 0);
	printf("# random policies: seed 0x%016" PRIx64
	       " (set HLX_SEED to change)\n", seed);
	rng_state = seed;
	if (!ents || !sts || !held) {
		ok(0, "random: memory");
		goto out;
	}
	for (i = 0; i < NENTRIES; i++)
		rand_entry(&ents[i]);
	for (i = 0; i < NSTATUS; i++) {
		rand_status(&sts[i]);
		held[i] = below(10) == 0;
	}
	for (i = 0; i < NENTRIES; i++)
		if (hlx_entry_validate(&ents[i]) || hlx_status_validate(&sts[i]))
			break;
	ok(i == NENTRIES, "random: %d entries and %d status records, all valid",
	   NENTRIES, NSTATUS);

	for (pi = 0; pi < NPOLICIES; pi++) {
		struct hlx_policy *p = NULL, *q = NULL;
		struct rpol r;
		struct hlx_rules rules;
		uint8_t v1[32], v2[32];

		rand_policy(&r);
		hlx_buf_reset(&j1);
		hlx_buf_reset(&j2);
		emit_policy(&r, pi, &j1);
		emit_policy(&r, pi + 1, &j2); /* other order, other name */
		if (hlx_policy_parse((char *)j1.data, j1.len, &p) ||
		    hlx_policy_parse((char *)j2.data, j2.len, &q)) {
			if (!bad_parse++)
				printf("# does not parse: %s\n# %s\n",
				       hlx_err_detail(), (char *)j1.data);
			hlx_policy_free(p);
			continue;
		}
		/* canonical: reordering does not matter, and it is a fixed
		 * point */
		hlx_buf_reset(&c1);
		hlx_buf_reset(&c2);
		hlx_policy_canonical(p, &c1);
		hlx_policy_free(q);
		q = NULL;
		if (hlx_policy_parse((char *)c1.data, c1.len, &q) ||
		    hlx_policy_canonical(q, &c2) || c1.len != c2.len ||
		    memcmp(c1.data, c2.data, c1.len)) {
			if (!bad_canon++)
				printf("# canonical form not stable: %s\n",
				       (char *)c1.data);
		}
		hlx_policy_free(q);
		q = NULL;
		if (!hlx_policy_parse((char *)j2.data, j2.len, &q)) {
			hlx_policy_view_id(p, v1);
			hlx_policy_view_id(q, v2);
			if (memcmp(v1, v2, 32))
				bad_view++;
			hlx_policy_hash(p, v1);
			hlx_policy_hash(q, v2);
			if (!memcmp(v1, v2, 32))
				bad_view++;
		}
		hlx_policy_free(q);
		hlx_policy_rules(p, &rules);
		if (rules.onward != r.onward ||
		    rules.retention_days != r.retention ||
		    hlx_policy_encrypt(p) != r.encrypt)
			bad_meta++;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (hlx_policy_list(p, names[k]) != ref_list(&r, names[k]) &&
			    !bad_list++)
				printf("# list '%s': got %d, want %d: %s\n",
				       names[k], hlx_policy_list(p, names[k]),
				       ref_list(&r, names[k]), (char *)c1.data);

		for (k = 0; k < PER_POLICY; k++) {
			const struct hlx_entry *e =
				&ents[((size_t)pi * 100 + k) % NENTRIES];
			struct hlx_entry got, want;
			int a = hlx_policy_entry(p, e, &got);
			int b = ref_entry(&r, e, &want);
			int h = 0;

			for (unsigned t = 0; t < e->ntags; t++)
				h |= ref_has(tag_vocab, NTAG, r.holds, e->tags[t]);
			if (hlx_policy_held(p, e) != h)
				bad_held++;
			held_n += h;
			nent++;
			if (a != b || (a && !same_entry(&got, &want))) {
				if (!bad_entry++) {
					struct hlx_buf x = HLX_BUF_INIT;

					hlx_entry_to_json(e, &x);
					printf("# entry mismatch (got %d, want %d): policy %s entry %s\n",
					       a, b, (char *)c1.data, (char *)x.data);
					hlx_buf_free(&x);
				}
			}
			if (a == 1) {
				shared_e++;
				if (hlx_entry_validate(&got))
					bad_valid++;
			}
		}
		for (k = 0; k < PER_POLICY; k++) {
			size_t at = ((size_t)pi * 100 + k) % NSTATUS;
			struct hlx_status got, want;
			int a = hlx_policy_status(p, &sts[at], held[at], &got);
			int b = ref_status(&r, &sts[at], held[at], &want);

			nst++;
			if (a != b || (a && !same_status(&got, &want))) {
				if (!bad_status++) {
					struct hlx_buf x = HLX_BUF_INIT;

					hlx_status_to_json(&sts[at], &x);
					printf("# status mismatch (got %d, want %d): policy %s status %s\n",
					       a, b, (char *)c1.data, (char *)x.data);
					hlx_buf_free(&x);
				}
			}
			if (a == 1) {
				shared_s++;
				if (hlx_status_validate(&got))
					bad_valid++;
			}
		}
		hlx_policy_free(p);
	}
	printf("# %d policies, %d distinct entries, %d distinct status records;\n"
	       "# %" PRIu64 " entry decisions (%" PRIu64 " shared, %" PRIu64
	       " held), %" PRIu64 " status decisions (%" PRIu64 " shared), %.1f s\n",
	       NPOLICIES, NENTRIES, NSTATUS, nent, shared_e, held_n, nst,
	       shared_s, (double)(clock() - t0) / CLOCKS_PER_SEC);
	ok(bad_parse == 0, "random: all %d policies parse (%u failed)",
	   NPOLICIES, bad_parse);
	ok(bad_canon == 0,
	   "random: canonical form parses to itself (%u failed)", bad_canon);
	ok(bad_view == 0,
	   "random: reordered and renamed: same view id, other hash (%u failed)",
	   bad_view);
	ok(bad_meta == 0, "random: rules and encrypt as written (%u failed)",
	   bad_meta);
	ok(bad_list == 0, "random: hlx_policy_list as the reference (%u failed)",
	   bad_list);
	ok(bad_held == 0, "random: hlx_policy_held as the reference (%u failed)",
	   bad_held);
	ok(bad_entry == 0 && nent >= 1000000 && shared_e > 0 && shared_e < nent,
	   "random: %" PRIu64 " entry decisions as the reference (%u differ)",
	   nent, bad_entry);
	ok(bad_status == 0 && shared_s > 0 && shared_s < nst,
	   "random: %" PRIu64 " status decisions as the reference (%u differ)",
	   nst, bad_status);
	ok(bad_valid == 0, "random: everything shared is valid (%u not)",
	   bad_valid);
	/* every entry and status record was seen by at least one policy */
	ok((size_t)(NPOLICIES - 1) * 100 + PER_POLICY >= NENTRIES,
	   "random: every one of the %d entries and %d status records decided",
	   NENTRIES, NSTATUS);
out:
	free(ents);
	free(sts);
	free(held);
	hlx_buf_free(&j1);
	hlx_buf_free(&j2);
	hlx_buf_free(&c1);
	hlx_buf_free(&c2);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_rules();
	test_parse();
	test_canonical();
	test_lists();
	test_entry();
	test_status();
	test_random();
	return done_testing();
}
