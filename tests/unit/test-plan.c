/* SPDX-License-Identifier: MIT */
/*
 * Response plans (spec/plan.md): strict parsing with a negative test for
 * every refusal rule of section 3.7 (and a detail naming the member), the
 * canonical form and hash (any spelling gives the same bytes; feeds take
 * only those bytes), hosts and locations, act bodies, which versions are
 * in force (sections 5.3 and 6), and the routing vectors of section 9
 * (precedence, host suffixes, ties between plans, withdrawals, the
 * all-withdrawn case).  Organisations, hosts and fingerprints are
 * synthetic.
 */
#include "tap.h"
#include "protocol/plan.h"
#include "protocol/rtime.h"

#include <sodium.h>

/* ---- the example plan of section 3.6 ------------------------------------ */

static const char *const orgs[] = { "hl-de", "hl-fr", "hl-gb", "hl-nl",
				    "host-a", "host-b", "le-nl" };

/* A synthetic fingerprint for organisation i (last character 'A': its two
 * low bits are zero, as in a real one). */
static void fpr(int i, char out[HLX_PLAN_ROOT_LEN + 1])
{
	snprintf(out, HLX_PLAN_ROOT_LEN + 1, "SHA256:%042dA", 1000 + i * 7919);
}

#define DL0 "\"deadlines\":{\"le_hold_hours\":0,\"notice_hours\":24,\"renotice_hours\":24,\"escalate_after\":0}"

static const char *const eu_rules =
	"{\"country\":\"*\",\"category\":\"*\",\"org\":\"hl-nl\",\"fallbacks\":[\"hl-de\",\"hl-gb\"],"
	" \"channel\":\"flagger\",\"languages\":[\"nl\",\"en\"],"
	" \"deadlines\":{\"le_hold_hours\":0,\"notice_hours\":24,\"renotice_hours\":24,"
	"  \"escalate_after\":3,\"escalate_to\":\"le-nl\"}},\n"
	"{\"country\":\"*\",\"category\":\"*\",\"host\":\"host-a.example\",\"org\":\"hl-nl\","
	" \"fallbacks\":[\"hl-de\"],\"channel\":\"host-node\",\"via\":\"host-a\","
	" \"languages\":[\"en\"],\"deadlines\":{\"le_hold_hours\":0,\"notice_hours\":4,"
	" \"renotice_hours\":12,\"escalate_after\":0}},\n"
	"{\"country\":\"NL\",\"category\":\"*\",\"org\":\"hl-nl\",\"fallbacks\":[\"hl-de\"],"
	" \"channel\":\"self\",\"languages\":[\"nl\",\"en\"],\"deadlines\":{\"le_hold_hours\":24,"
	" \"le_by\":\"le-nl\",\"notice_hours\":48,\"renotice_hours\":24,"
	" \"escalate_after\":3,\"escalate_to\":\"le-nl\"}},\n"
	"{\"country\":\"DE\",\"category\":\"*\",\"org\":\"hl-de\",\"fallbacks\":[\"hl-nl\"],"
	" \"channel\":\"self\",\"languages\":[\"de\",\"en\"]," DL0 "},\n"
	"{\"country\":\"FR\",\"category\":\"b2\",\"org\":\"hl-fr\",\"fallbacks\":[],"
	" \"channel\":\"police\",\"via\":\"le-nl\",\"languages\":[\"fr\"],"
	" \"deadlines\":{\"le_hold_hours\":0,\"notice_hours\":72,\"renotice_hours\":0,"
	" \"escalate_after\":0}},\n"
	"{\"country\":\"FR\",\"category\":\"*\",\"org\":\"hl-fr\",\"fallbacks\":[\"hl-de\"],"
	" \"channel\":\"self\",\"languages\":[\"fr\"],\"deadlines\":{\"le_hold_hours\":0,"
	" \"notice_hours\":48,\"renotice_hours\":0,\"escalate_after\":0}},\n"
	"{\"country\":\"GB\",\"category\":\"*\",\"org\":\"hl-gb\",\"fallbacks\":[\"hl-nl\"],"
	" \"channel\":\"self\",\"languages\":[\"en\"],\"deadlines\":{\"le_hold_hours\":48,"
	" \"notice_hours\":72,\"renotice_hours\":24,\"escalate_after\":0}}";

/* The example, version v, in a non-canonical spelling (signatories in
 * reverse, rules and languages unsorted, whitespace); extra is put before
 * the closing brace of the rules array (", {...}" or ""). */
static char *eu_text(int v, const char *extra)
{
	struct hlx_buf b = HLX_BUF_INIT;
	char f[HLX_PLAN_ROOT_LEN + 1];
	int i;

	hlx_buf_printf(&b, "{\n \"rules\": [%s%s],\n \"version\": %d,\n"
			   " \"name\": \"eu\", \"format\": \"hlx-plan-1\",\n"
			   " \"settle_seconds\": 300, \"lease_seconds\": 86400,\n"
			   " \"signatories\": [",
		       eu_rules, extra, v);
	for (i = 6; i >= 0; i--) {
		fpr(i, f);
		hlx_buf_printf(&b, "%s{\"root\":\"%s\",\"org\":\"%s\"}",
			       i == 6 ? "" : ",", f, orgs[i]);
	}
	hlx_buf_puts(&b, "]\n}\n");
	return (char *)b.data;
}

static struct hlx_plan *parse_ok(const char *text, unsigned flags)
{
	struct hlx_plan *p = NULL;

	if (hlx_plan_parse(text, strlen(text), flags, &p) != HLX_OK)
		return NULL;
	return p;
}

static char *canon(const struct hlx_plan *p)
{
	struct hlx_buf b = HLX_BUF_INIT;

	hlx_plan_canonical(p, &b);
	return (char *)b.data;
}

/* ---- refusals ----------------------------------------------------------- */

/* Walk a dotted path ("rules.2.deadlines.le_by") in a copy of the example
 * and set (value non-NULL, JSON text) or delete (NULL) the last member. */
static char *mutate(const char *path, const char *value)
{
	char *text = eu_text(2, ""), *out, buf[128], *tok, *save = NULL;
	json_t *root = json_loads(text, 0, NULL), *cur = root, *parent = NULL;
	const char *last = NULL;

	free(text);
	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok;
	     tok = strtok_r(NULL, ".", &save)) {
		parent = cur;
		last = tok;
		cur = json_is_array(cur) ? json_array_get(cur, strtoul(tok, 0, 10))
					 : json_object_get(cur, tok);
	}
	if (json_is_array(parent)) {
		size_t i = strtoul(last, 0, 10);

		if (value)
			json_array_set_new(parent, i,
					   json_loads(value, JSON_DECODE_ANY, 0));
		else
			json_array_remove(parent, i);
	} else if (value) {
		json_object_set_new(parent, last,
				    json_loads(value, JSON_DECODE_ANY, 0));
	} else {
		json_object_del(parent, last);
	}
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return out;
}

/* Parsing text fails with want and a detail holding needle. */
static void refuse_text(const char *text, size_t n, int want,
			const char *needle, const char *why)
{
	struct hlx_plan *p = NULL;
	int rc = hlx_plan_parse(text, n, 0, &p);

	is_rc(rc, want, "refused: %s", why);
	ok(p == NULL, "  and nothing is returned");
	if (rc == want)
		ok(strstr(hlx_err_detail(), needle) != NULL,
		   "  and the detail names %s: %s", needle, hlx_err_detail());
	hlx_plan_free(p);
}

static void refuse(const char *path, const char *value, int want,
		   const char *needle)
{
	char *text = mutate(path, value);
	char why[256];

	snprintf(why, sizeof(why), "%s = %s", path, value ? value : "(absent)");
	refuse_text(text, strlen(text), want, needle, why);
	free(text);
}

static void test_refusals(void)
{
	char big[200];
	struct hlx_buf b = HLX_BUF_INIT;
	int i;

	/* the document as a whole */
	refuse_text("[1]", 3, HLX_EINVAL, "expected an object", "an array");
	refuse_text("{\"format\":", 10, HLX_EINVAL, "not JSON", "truncated JSON");
	refuse_text("{\"format\":\"hlx-plan-1\",\"format\":\"hlx-plan-1\"}", 45,
		    HLX_EINVAL, "format", "a member twice");
	{
		char *t = eu_text(2, "");
		char *d = strstr(t, "\"org\":\"hl-nl\",\"fallbacks\"");

		/* a member twice inside a rule */
		memcpy(d, "\"org\":\"hl-nl\",\"org\":\"hl-gb\"  ", 30);
		refuse_text(t, strlen(t), HLX_EINVAL, "org", "org twice in a rule");
		free(t);
	}
	refuse_text("{}", HLX_PLAN_INPUT_MAX + 1, HLX_ETOOBIG, "at most",
		    "input over 1 MiB");
	refuse("extra", "1", HLX_EINVAL, "plan eu@2: unknown member 'extra'");
	/* format, name, version */
	refuse("format", NULL, HLX_EINVAL, "format: missing");
	refuse("format", "\"hlx-plan-2\"", HLX_EUNSUPPORTED, "format");
	refuse("format", "1", HLX_EINVAL, "format: expected a string");
	refuse("name", NULL, HLX_EINVAL, "name: missing");
	refuse("name", "\"EU\"", HLX_EINVAL, "name");
	refuse("name", "\"\"", HLX_EINVAL, "name");
	refuse("name", "null", HLX_EINVAL, "name: expected a string, got null");
	refuse("version", "0", HLX_EINVAL, "version: 0 outside 1..2147483647");
	refuse("version", "2147483648", HLX_EINVAL, "version");
	refuse("version", "\"1\"", HLX_EINVAL, "version: expected an integer");
	refuse("version", "1.0", HLX_EINVAL, "got a real number");
	refuse("version", NULL, HLX_EINVAL, "version: missing");
	refuse("lease_seconds", "59", HLX_EINVAL, "plan eu@2: lease_seconds");
	refuse("lease_seconds", "604801", HLX_EINVAL, "lease_seconds");
	refuse("lease_seconds", NULL, HLX_EINVAL, "lease_seconds: missing");
	refuse("settle_seconds", "-1", HLX_EINVAL, "settle_seconds");
	refuse("settle_seconds", "3601", HLX_EINVAL, "settle_seconds");
	refuse("settle_seconds", "true", HLX_EINVAL, "settle_seconds");
	/* signatories */
	refuse("signatories", "[]", HLX_EINVAL, "signatories: 0 items");
	refuse("signatories", "{}", HLX_EINVAL, "signatories: expected an array");
	refuse("signatories", NULL, HLX_EINVAL, "signatories: missing");
	refuse("signatories.0", "\"hl-de\"", HLX_EINVAL, "signatories: item 1");
	refuse("signatories.0.extra", "1", HLX_EINVAL, "unknown member 'extra'");
	refuse("signatories.0.org", NULL, HLX_EINVAL, "org: missing");
	refuse("signatories.0.org", "\"Le NL\"", HLX_EINVAL, "org");
	refuse("signatories.0.root", "\"SHA256:abc\"", HLX_EINVAL, "root");
	refuse("signatories.0.root",
	       "\"MD5:00000000000000000000000000000000000000000001000A\"",
	       HLX_EINVAL, "root");
	refuse("signatories.0.root",
	       "\"SHA256:000000000000000000000000000000000000000001000B\"",
	       HLX_EINVAL, "root"); /* not a 32-byte value's last character */
	refuse("signatories.0.root", NULL, HLX_EINVAL, "root: missing");
	refuse("signatories.0.org", "\"hl-de\"", HLX_EINVAL, "org 'hl-de' given twice");
	{
		char f[HLX_PLAN_ROOT_LEN + 3];

		f[0] = '"';
		fpr(0, f + 1);
		strcat(f, "\"");
		refuse("signatories.1.root", f, HLX_EINVAL, "given twice");
	}
	/* 65 signatories */
	hlx_buf_puts(&b, "[");
	for (i = 0; i < 65; i++) {
		char f[HLX_PLAN_ROOT_LEN + 1];

		fpr(i, f);
		hlx_buf_printf(&b, "%s{\"org\":\"o%d\",\"root\":\"%s\"}",
			       i ? "," : "", i, f);
	}
	hlx_buf_puts(&b, "]");
	refuse("signatories", (char *)b.data, HLX_ETOOBIG, "signatories: 65 items");
	hlx_buf_free(&b);
	/* rules: the array */
	refuse("rules", "[]", HLX_EINVAL, "rules: 0 items");
	refuse("rules", "7", HLX_EINVAL, "rules: expected an array");
	refuse("rules.3", "[]", HLX_EINVAL, "rule 4: expected an object");
	/* the example's rules in input order: 0 */ /*, 1 host, 2 NL, 3 DE,
	 * 4 FR/b2, 5 FR, 6 GB */
	refuse("rules.3.country", "\"UK\"", HLX_EINVAL, "rule 4: country");
	refuse("rules.3.country", "\"EU\"", HLX_EINVAL, "country");
	refuse("rules.3.country", "\"de\"", HLX_EINVAL, "country");
	refuse("rules.3.country", NULL, HLX_EINVAL, "rule 4: country: missing");
	refuse("rules.3.category", "\"A1\"", HLX_EINVAL, "rule 4: category");
	refuse("rules.3.category", "\"\"", HLX_EINVAL, "category");
	refuse("rules.3.category", "[\"a1\"]", HLX_EINVAL, "category");
	refuse("rules.1.host", "\"Host-A.example\"", HLX_EINVAL, "rule 2: host");
	refuse("rules.1.host", "\"host-a.example.\"", HLX_EINVAL, "host");
	refuse("rules.1.host", "\"a..example\"", HLX_EINVAL, "host");
	refuse("rules.1.host", "\"192.0.2.1\"", HLX_EINVAL, "host");
	refuse("rules.1.host", "\"[2001:db8::1]\"", HLX_EINVAL, "host");
	refuse("rules.1.host", "\"\"", HLX_EINVAL, "host");
	memset(big, 'a', 64);
	snprintf(big + 64, sizeof(big) - 64, ".example\"");
	{
		char v[220];

		snprintf(v, sizeof(v), "\"%s", big);
		refuse("rules.1.host", v, HLX_EINVAL, "host"); /* label of 64 */
	}
	refuse("rules.3.extra", "1", HLX_EINVAL, "rule DE/*: unknown member 'extra'");
	refuse("rules.3.org", NULL, HLX_EINVAL, "rule DE/*: org: missing");
	refuse("rules.3.org", "\"hl-xx\"", HLX_EINVAL,
	       "plan eu@2 rule DE/*: org: 'hl-xx' is not a signatory");
	refuse("rules.2.fallbacks.0", "\"hl-xx\"", HLX_EINVAL,
	       "plan eu@2 rule NL/*: fallbacks: 'hl-xx' is not a signatory");
	refuse("rules.2.fallbacks.0", "\"hl-nl\"", HLX_EINVAL,
	       "rule NL/*: fallbacks: 'hl-nl' is the rule's org");
	refuse("rules.2.fallbacks", "[\"hl-de\",\"hl-gb\",\"hl-de\"]", HLX_EINVAL,
	       "fallbacks: 'hl-de' given twice");
	refuse("rules.2.fallbacks",
	       "[\"hl-de\",\"hl-gb\",\"hl-fr\",\"host-a\",\"host-b\",\"le-nl\",\"o7\",\"o8\",\"o9\"]",
	       HLX_ETOOBIG, "fallbacks: 9 items");
	refuse("rules.2.fallbacks", NULL, HLX_EINVAL, "fallbacks: missing");
	refuse("rules.2.fallbacks", "\"hl-de\"", HLX_EINVAL, "fallbacks");
	refuse("rules.2.fallbacks.0", "3", HLX_EINVAL, "fallbacks: item 1");
	refuse("rules.3.channel", "\"email\"", HLX_EINVAL, "rule DE/*: channel");
	refuse("rules.3.channel", NULL, HLX_EINVAL, "channel: missing");
	refuse("rules.3.via", "\"le-nl\"", HLX_EINVAL,
	       "via: not allowed with channel self");
	refuse("rules.0.via", "\"le-nl\"", HLX_EINVAL,
	       "via: not allowed with channel flagger");
	refuse("rules.1.via", NULL, HLX_EINVAL, "rule */*/host-a.example: via: missing");
	refuse("rules.1.via", "\"hl-xx\"", HLX_EINVAL, "via: 'hl-xx' is not a signatory");
	refuse("rules.3.languages", "[]", HLX_EINVAL, "languages: 0 items");
	refuse("rules.3.languages",
	       "[\"aa\",\"bb\",\"cc\",\"dd\",\"ee\",\"ff\",\"gg\",\"hh\",\"ii\"]",
	       HLX_ETOOBIG, "languages: 9 items");
	refuse("rules.3.languages", "[\"EN\"]", HLX_EINVAL, "languages: 'EN'");
	refuse("rules.3.languages", "[\"e\"]", HLX_EINVAL, "languages");
	refuse("rules.3.languages", "[\"engl\"]", HLX_EINVAL, "languages");
	refuse("rules.3.languages", "[\"en\",\"de\",\"en\"]", HLX_EINVAL,
	       "languages: 'en' given twice");
	refuse("rules.3.languages", "[1]", HLX_EINVAL, "languages: item 1");
	refuse("rules.3.languages", NULL, HLX_EINVAL, "languages: missing");
	refuse("rules.3.deadlines", NULL, HLX_EINVAL, "deadlines: missing");
	refuse("rules.3.deadlines", "[]", HLX_EINVAL, "deadlines: expected an object");
	refuse("rules.3.deadlines.extra", "1", HLX_EINVAL,
	       "rule DE/*: deadlines: unknown member 'extra'");
	refuse("rules.3.deadlines.le_hold_hours", "721", HLX_EINVAL,
	       "deadlines: le_hold_hours");
	refuse("rules.3.deadlines.le_hold_hours", NULL, HLX_EINVAL,
	       "le_hold_hours: missing");
	refuse("rules.3.deadlines.le_by", "\"le-nl\"", HLX_EINVAL,
	       "le_by: not allowed when le_hold_hours is 0");
	refuse("rules.2.deadlines.le_by", "\"hl-xx\"", HLX_EINVAL,
	       "le_by: 'hl-xx' is not a signatory");
	refuse("rules.3.deadlines.notice_hours", "0", HLX_EINVAL, "notice_hours");
	refuse("rules.3.deadlines.notice_hours", "8761", HLX_EINVAL, "notice_hours");
	refuse("rules.3.deadlines.notice_hours", "24.0", HLX_EINVAL, "notice_hours");
	refuse("rules.3.deadlines.renotice_hours", "-1", HLX_EINVAL, "renotice_hours");
	refuse("rules.3.deadlines.renotice_hours", NULL, HLX_EINVAL, "renotice_hours");
	refuse("rules.3.deadlines.escalate_after", "101", HLX_EINVAL, "escalate_after");
	refuse("rules.3.deadlines.escalate_after", "2", HLX_EINVAL,
	       "escalate_to: missing (escalate_after is 2)");
	refuse("rules.3.deadlines.escalate_to", "\"le-nl\"", HLX_EINVAL,
	       "escalate_to: not allowed when escalate_after is 0");
	refuse("rules.0.deadlines.escalate_to", "\"hl-xx\"", HLX_EINVAL,
	       "escalate_to: 'hl-xx' is not a signatory");
	/* ids and the default rule */
	refuse("rules.5.category", "\"b2\"", HLX_EINVAL, "rule FR/b2: given twice");
	refuse("rules.0", NULL, HLX_EINVAL,
	       "plan eu@2: no default rule (*/*): a location would resolve to no one");
	refuse("rules.0.country", "\"BE\"", HLX_EINVAL, "no default rule");
}

/* 1024 rules with long hosts: over 262144 bytes in canonical form. */
static void test_too_big(void)
{
	struct hlx_buf b = HLX_BUF_INIT, r = HLX_BUF_INIT;
	char label[64], *text;
	int i;

	memset(label, 'h', 63);
	label[63] = '\0';
	hlx_buf_puts(&r, ",");
	for (i = 0; i < 1023; i++)
		hlx_buf_printf(&r, "%s{\"country\":\"*\",\"category\":\"*\",\"host\":\"h%d.%s.%s.example\","
				   "\"org\":\"hl-de\",\"fallbacks\":[],\"channel\":\"self\","
				   "\"languages\":[\"en\"]," DL0 "}",
			       i ? "," : "", i, label, label);
	text = eu_text(2, "");
	free(text);
	/* the default rule and 1023 host rules: 1024 rules */
	hlx_buf_reset(&b);
	{
		char f[HLX_PLAN_ROOT_LEN + 1];

		fpr(0, f);
		hlx_buf_printf(&b, "{\"format\":\"hlx-plan-1\",\"name\":\"big\",\"version\":1,"
				   "\"lease_seconds\":60,\"settle_seconds\":0,"
				   "\"signatories\":[{\"org\":\"hl-de\",\"root\":\"%s\"}],"
				   "\"rules\":[{\"country\":\"*\",\"category\":\"*\",\"org\":\"hl-de\","
				   "\"fallbacks\":[],\"channel\":\"self\",\"languages\":[\"en\"]," DL0 "}%s]}",
			       f, (char *)r.data);
	}
	refuse_text((char *)b.data, b.len, HLX_ETOOBIG,
		    "plan big@1: canonical form of", "1024 rules over 262144 bytes");
	/* the same with short hosts: 1024 rules are allowed */
	hlx_buf_reset(&r);
	hlx_buf_puts(&r, ",");
	for (i = 0; i < 1023; i++)
		hlx_buf_printf(&r, "%s{\"country\":\"*\",\"category\":\"*\",\"host\":\"h%d.example\","
				   "\"org\":\"hl-de\",\"fallbacks\":[],\"channel\":\"self\","
				   "\"languages\":[\"en\"]," DL0 "}",
			       i ? "," : "", i);
	{
		char f[HLX_PLAN_ROOT_LEN + 1];
		struct hlx_plan *p;
		char *t2;

		fpr(0, f);
		hlx_buf_reset(&b);
		hlx_buf_printf(&b, "{\"format\":\"hlx-plan-1\",\"name\":\"big\",\"version\":1,"
				   "\"lease_seconds\":60,\"settle_seconds\":0,"
				   "\"signatories\":[{\"org\":\"hl-de\",\"root\":\"%s\"}],"
				   "\"rules\":[{\"country\":\"*\",\"category\":\"*\",\"org\":\"hl-de\","
				   "\"fallbacks\":[],\"channel\":\"self\",\"languages\":[\"en\"]," DL0 "}%s]}",
			       f, (char *)r.data);
		p = parse_ok((char *)b.data, 0);
		ok(p && hlx_plan_nrules(p) == 1024, "1024 rules parse");
		hlx_plan_free(p);
		/* a 1025th is refused */
		t2 = (char *)b.data;
		t2[b.len - 2] = '\0';
		hlx_buf_printf(&r, ",{\"country\":\"DE\",\"category\":\"*\",\"org\":\"hl-de\","
				   "\"fallbacks\":[],\"channel\":\"self\",\"languages\":[\"en\"]," DL0 "}");
		hlx_buf_reset(&b);
		hlx_buf_printf(&b, "{\"format\":\"hlx-plan-1\",\"name\":\"big\",\"version\":1,"
				   "\"lease_seconds\":60,\"settle_seconds\":0,"
				   "\"signatories\":[{\"org\":\"hl-de\",\"root\":\"%s\"}],"
				   "\"rules\":[{\"country\":\"*\",\"category\":\"*\",\"org\":\"hl-de\","
				   "\"fallbacks\":[],\"channel\":\"self\",\"languages\":[\"en\"]," DL0 "}%s]}",
			       f, (char *)r.data);
		refuse_text((char *)b.data, b.len, HLX_ETOOBIG, "rules: 1025 items",
			    "1025 rules");
	}
	hlx_buf_free(&b);
	hlx_buf_free(&r);
}

/* ---- canonical form ----------------------------------------------------- */

static void test_canonical(void)
{
	char *t1 = eu_text(1, ""), *c1, *c2, *t2;
	struct hlx_plan *p, *q;
	const struct hlx_plan_rule *r;
	static const char *const ids[] = { "*/*", "*/*/host-a.example", "DE/*",
					   "FR/*", "FR/b2", "GB/*", "NL/*" };
	char hex[65];
	uint8_t h[32];
	size_t i;

	p = parse_ok(t1, 0);
	ok(p != NULL, "the example of section 3.6 parses");
	if (!p) {
		free(t1);
		return;
	}
	ok(hlx_plan_nrules(p) == 7, "seven rules");
	for (i = 0; i < 7; i++)
		is_str(hlx_plan_rule_at(p, i)->id, ids[i], "rule %zu in id order", i);
	for (i = 0; i < 7; i++)
		is_str(hlx_plan_signatory(p, i), orgs[i], "signatory %zu sorted", i);
	is_str(hlx_plan_default_rule(p)->id, "*/*", "the default rule");
	r = hlx_plan_rule_at(p, 6);
	ok(r->deadlines.le_by == hlx_plan_signatory_find(p, "le-nl") &&
	   r->deadlines.le_hold_hours == 24 && r->deadlines.escalate_after == 3 &&
	   r->channel == HLX_PLAN_SELF && r->nlanguages == 2 &&
	   !strcmp(r->languages[0], "en"), "NL/*: its values, languages sorted");
	r = hlx_plan_rule_at(p, 1);
	ok(r->host_labels == 2 && r->channel == HLX_PLAN_HOST_NODE &&
	   r->via == hlx_plan_signatory_find(p, "host-a"), "host rule: its values");
	c1 = canon(p);
	ok(strncmp(c1, "{\"format\":\"hlx-plan-1\",\"lease_seconds\":86400,\"name\":\"eu\",\"rules\":[{\"category\":\"*\",\"channel\":\"flagger\",\"country\":\"*\",\"deadlines\":{\"escalate_after\":3,\"escalate_to\":\"le-nl\",\"le_hold_hours\":0,\"notice_hours\":24,\"renotice_hours\":24},\"fallbacks\":[\"hl-de\",\"hl-gb\"],\"languages\":[\"en\",\"nl\"],\"org\":\"hl-nl\"},", 293) == 0,
	   "canonical form: compact, members sorted, languages sorted: %.120s", c1);
	ok(strstr(c1, "\"settle_seconds\":300,\"signatories\":[{\"org\":\"hl-de\"") &&
	   strstr(c1, "]}],\"version\":1}") == NULL &&
	   c1[strlen(c1) - 1] == '}' && !strchr(c1, '\n') && !strchr(c1, ' '),
	   "signatories sorted, no whitespace");
	q = parse_ok(c1, HLX_PLAN_CANONICAL);
	ok(q != NULL, "the canonical form parses as canonical");
	c2 = q ? canon(q) : strdup("");
	is_str(c2, c1, "and gives the same bytes");
	hlx_plan_hash(p, h);
	{
		uint8_t h2[32];

		crypto_hash_sha256(h2, (uint8_t *)c1, strlen(c1));
		ok(!memcmp(h, h2, 32), "the hash is SHA-256 of the canonical form");
	}
	hlx_plan_hash_hex(p, hex);
	ok(strlen(hex) == 64, "hash as 64 hex digits: %s", hex);
	is_rc(hlx_plan_parse(t1, strlen(t1), HLX_PLAN_CANONICAL, &q),
	      HLX_EINVAL, "another spelling is refused where only the canonical form is taken");
	ok(strstr(hlx_err_detail(), "plan eu@1: not in canonical form") != NULL,
	   "  naming the plan: %s", hlx_err_detail());
	t2 = malloc(strlen(c1) + 2);
	sprintf(t2, "%s\n", c1);
	is_rc(hlx_plan_parse(t2, strlen(t2), HLX_PLAN_CANONICAL, &q), HLX_EINVAL,
	      "the canonical form with a newline is refused");
	free(t2);
	/* another spelling of the same plan: same bytes, same hash */
	{
		json_t *o = json_loads(t1, 0, NULL);
		char *t3 = json_dumps(o, JSON_INDENT(3) | JSON_SORT_KEYS);
		struct hlx_plan *p3 = parse_ok(t3, 0);
		char *c3 = p3 ? canon(p3) : strdup("");

		is_str(c3, c1, "re-indented, sorted: the same canonical form");
		hlx_plan_free(p3);
		free(c3);
		free(t3);
		json_decref(o);
	}
	/* escapes in the input spell the same string */
	{
		char *t4 = malloc(strlen(t1) + 16), *at;
		struct hlx_plan *p4;
		char *c4;

		at = strstr(t1, "\"name\": \"eu\"");
		memcpy(t4, t1, (size_t)(at - t1));
		strcpy(t4 + (at - t1), "\"name\": \"\\u0065u\"");
		strcat(t4, at + strlen("\"name\": \"eu\""));
		p4 = parse_ok(t4, 0);
		c4 = p4 ? canon(p4) : strdup("");
		is_str(c4, c1, "a \\u escape in the input: the same canonical form");
		hlx_plan_free(p4);
		free(c4);
		free(t4);
	}
	hlx_plan_free(p);
	hlx_plan_free(q);
	free(c1);
	free(c2);
	free(t1);
}

/* ---- hosts and locations ------------------------------------------------ */

static void test_locations(void)
{
	static const struct {
		const char *in, *out;
	} good[] = {
		{ "DE/a1", "DE/a1" },
		{ "de/a1", "DE/a1" },
		{ "-/-", "-/-" },
		{ "BR/-", "BR/-" },
		{ "-/b2/IMG.Host-A.example", "-/b2/img.host-a.example" },
		{ "NL/a1/host_a.example", "NL/a1/host_a.example" },
		{ "XK/a1", "XK/a1" },
	};
	static const char *const bad[] = {
		"UK/a1", "EU/a1", "D/a1", "DEU/a1", "DE", "DE/", "/a1", "DE/A1",
		"DE/a1/", "DE/a1/a..b", "DE/a1/x.example.", "DE/a1/192.0.2.1",
		"DE/a1/h/x", "DE/a1/h st", "", "*/*",
	};
	struct hlx_plan_loc loc;
	char out[HLX_PLAN_ID_MAX];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		is_rc(hlx_plan_loc_parse(good[i].in, strlen(good[i].in), &loc),
		      HLX_OK, "location '%s' parses", good[i].in);
		hlx_plan_loc_format(&loc, out);
		is_str(out, good[i].out, "  normalised");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		is_rc(hlx_plan_loc_parse(bad[i], strlen(bad[i]), &loc), HLX_EINVAL,
		      "location '%s' refused", bad[i]);
		ok(strstr(hlx_err_detail(), "location '") != NULL, "  naming it: %s",
		   hlx_err_detail());
	}
	ok(hlx_plan_host_matches("host-a.example", "host-a.example"), "host matches itself");
	ok(hlx_plan_host_matches("host-a.example", "img.host-a.example"),
	   "a label-aligned suffix matches");
	ok(!hlx_plan_host_matches("host-a.example", "evilhost-a.example"),
	   "a suffix that is not label-aligned does not");
	ok(!hlx_plan_host_matches("img.host-a.example", "host-a.example"),
	   "a longer rule host does not match a shorter host");
	ok(!hlx_plan_host_matches("example", ""), "no host matches no rule host");
	is_rc(hlx_plan_host_check("a-.b_c.example", 14), HLX_OK, "- and _ in labels");
	is_rc(hlx_plan_host_check("1.2.3.4", 7), HLX_EINVAL, "digits and dots: no");
	is_rc(hlx_plan_host_check("1.2.3.x", 7), HLX_OK, "one letter makes a name");
}

/* ---- acts --------------------------------------------------------------- */

static void make_act(struct hlx_plan_act *a, enum hlx_plan_act_kind k,
		     const char *org, const struct hlx_plan *p, int64_t t)
{
	memset(a, 0, sizeof(*a));
	a->act = k;
	snprintf(a->org, sizeof(a->org), "%s", org);
	snprintf(a->plan, sizeof(a->plan), "%s", hlx_plan_name(p));
	a->version = hlx_plan_version(p);
	hlx_plan_hash(p, a->doc);
	a->time = t;
}

static void body_refused(const char *body, int want, const char *why)
{
	struct hlx_plan_act a;

	is_rc(hlx_plan_act_parse_body(body, strlen(body), &a), want,
	      "act body refused: %s", why);
}

static void test_acts(void)
{
	struct hlx_buf b = HLX_BUF_INIT, f = HLX_BUF_INIT, bb = HLX_BUF_INIT,
		       sb = HLX_BUF_INIT;
	struct hlx_plan_act a, c;
	char *t = eu_text(1, "");
	struct hlx_plan *p = parse_ok(t, 0), *p2;
	char *t2 = eu_text(2, "");
	json_t *o;

	p2 = parse_ok(t2, 0);
	memset(&a, 0, sizeof(a));
	a.act = HLX_PLAN_SIGN;
	strcpy(a.org, "hl-de");
	strcpy(a.plan, "eu");
	a.version = 2;
	memset(a.doc, 0xab, 32);
	hlx_time_parse("2026-12-01T00:00:00Z", 20, &a.time);
	is_rc(hlx_plan_act_body(&a, &b), HLX_OK, "act body encodes");
	is_str((char *)b.data,
	       "{\"act\":\"sign\",\"doc\":\"abababababababababababababababababababababababababababababababab\",\"format\":\"hlx-plan-act-1\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":2}",
	       "act body: canonical JSON, the bytes that are signed");
	is_rc(hlx_plan_act_parse_body((char *)b.data, b.len, &c), HLX_OK,
	      "act body parses");
	ok(!memcmp(&a, &c, sizeof(a)), "  to the same act");
	is_rc(hlx_plan_act_file((char *)b.data, b.len, "SIG", 3, &f), HLX_OK,
	      "act file encodes");
	is_rc(hlx_plan_act_parse((char *)f.data, f.len, &c, &bb, &sb), HLX_OK,
	      "act file parses");
	ok(bb.len == b.len && !memcmp(bb.data, b.data, b.len) && sb.len == 3,
	   "  body and signature texts");
	o = json_loads((char *)f.data, 0, NULL);
	is_rc(hlx_plan_act_from_json(o, &c, NULL, NULL), HLX_OK,
	      "act as a JSON object (in a bundle) parses");
	json_object_set_new(o, "x", json_integer(1));
	is_rc(hlx_plan_act_from_json(o, &c, NULL, NULL), HLX_EINVAL,
	      "act object with a third member refused");
	json_object_del(o, "x");
	json_object_set_new(o, "signature", json_string(""));
	is_rc(hlx_plan_act_from_json(o, &c, NULL, NULL), HLX_EINVAL,
	      "act with an empty signature refused");
	json_object_set_new(o, "signature", json_integer(1));
	is_rc(hlx_plan_act_from_json(o, &c, NULL, NULL), HLX_EINVAL,
	      "act with a signature that is not a string refused");
	json_decref(o);
	{
		char *big = malloc(HLX_PLAN_ACT_MAX + 10);

		memset(big, ' ', HLX_PLAN_ACT_MAX + 10);
		is_rc(hlx_plan_act_parse(big, HLX_PLAN_ACT_MAX + 1, &c, NULL, NULL),
		      HLX_ETOOBIG, "act file over 16384 bytes refused");
		free(big);
	}
	a.act = HLX_PLAN_WITHDRAW;
	hlx_buf_reset(&b);
	hlx_plan_act_body(&a, &b);
	ok(strstr((char *)b.data, "\"act\":\"withdraw\"") != NULL, "withdraw act body");
	body_refused("{\"act\": \"sign\",\"doc\":\"abababababababababababababababababababababababababababababababab\",\"format\":\"hlx-plan-act-1\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":2}",
		     HLX_EINVAL, "not canonical (a space)");
	body_refused("{\"doc\":\"abababababababababababababababababababababababababababababababab\",\"format\":\"hlx-plan-act-1\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":2}",
		     HLX_EINVAL, "act missing");
	body_refused("{\"act\":\"sign\",\"doc\":\"abababababababababababababababababababababababababababababababab\",\"format\":\"hlx-plan-act-1\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":2,\"x\":1}",
		     HLX_EINVAL, "unknown member");
	body_refused("{\"act\":\"join\",\"doc\":\"abababababababababababababababababababababababababababababababab\",\"format\":\"hlx-plan-act-1\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":2}",
		     HLX_EINVAL, "unknown act");
	body_refused("{\"act\":\"sign\",\"doc\":\"ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB\",\"format\":\"hlx-plan-act-1\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":2}",
		     HLX_EINVAL, "uppercase doc");
	body_refused("{\"act\":\"sign\",\"doc\":\"abab\",\"format\":\"hlx-plan-act-1\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":2}",
		     HLX_EINVAL, "short doc");
	body_refused("{\"act\":\"sign\",\"doc\":\"abababababababababababababababababababababababababababababababab\",\"format\":\"hlx-plan-act-1\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01 00:00:00\",\"version\":2}",
		     HLX_EINVAL, "bad time");
	body_refused("{\"act\":\"sign\",\"doc\":\"abababababababababababababababababababababababababababababababab\",\"format\":\"hlx-plan-act-1\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":0}",
		     HLX_EINVAL, "version 0");
	body_refused("{\"act\":\"sign\",\"doc\":\"abababababababababababababababababababababababababababababababab\",\"format\":\"hlx-plan-act-1\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":\"2\"}",
		     HLX_EINVAL, "version a string");
	body_refused("{\"act\":\"sign\",\"doc\":\"abababababababababababababababababababababababababababababababab\",\"format\":\"hlx-plan-act-2\",\"org\":\"hl-de\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":2}",
		     HLX_EUNSUPPORTED, "another format");
	body_refused("{\"act\":\"sign\",\"doc\":\"abababababababababababababababababababababababababababababababab\",\"format\":\"hlx-plan-act-1\",\"org\":\"HL\",\"plan\":\"eu\",\"time\":\"2026-12-01T00:00:00Z\",\"version\":2}",
		     HLX_EINVAL, "bad org");
	{
		char big[HLX_PLAN_ACT_BODY_MAX + 2];

		memset(big, ' ', sizeof(big));
		is_rc(hlx_plan_act_parse_body(big, sizeof(big), &c), HLX_ETOOBIG,
		      "act body over 1024 bytes refused");
	}
	/* conditions 1 and 2 of section 5.2 */
	make_act(&a, HLX_PLAN_SIGN, "hl-fr", p, 1);
	is_rc(hlx_plan_act_for(&a, p), HLX_OK, "an act names its document");
	is_rc(hlx_plan_act_for(&a, p2), HLX_EINVAL, "not another one");
	strcpy(a.org, "hl-xx");
	is_rc(hlx_plan_act_for(&a, p), HLX_EINVAL, "an act of a non-signatory");
	make_act(&a, HLX_PLAN_SIGN, "hl-fr", p, 1);
	a.version = 2;
	is_rc(hlx_plan_act_for(&a, p), HLX_EINVAL, "an act with the wrong version");
	hlx_plan_free(p);
	hlx_plan_free(p2);
	free(t);
	free(t2);
	hlx_buf_free(&b);
	hlx_buf_free(&f);
	hlx_buf_free(&bb);
	hlx_buf_free(&sb);
}

/* ---- in force and routing ----------------------------------------------- */

static int64_t T(const char *s)
{
	int64_t t = -1;

	hlx_time_parse(s, strlen(s), &t);
	return t;
}

/* Add a document to the book; returns it (owned by the book). */
static const struct hlx_plan *add(struct hlx_plan_book *b, const char *text)
{
	struct hlx_plan *p = parse_ok(text, 0);
	uint8_t h[32];

	if (!p)
		return NULL;
	hlx_plan_hash(p, h);
	if (hlx_plan_book_add(b, p))
		return NULL;
	return hlx_plan_book_find(b, h);
}

static int act(struct hlx_plan_book *b, enum hlx_plan_act_kind k,
	       const char *org, const struct hlx_plan *p, int64_t t)
{
	struct hlx_plan_act a;

	make_act(&a, k, org, p, t);
	return hlx_plan_book_act(b, &a);
}

static void sign_all(struct hlx_plan_book *b, const struct hlx_plan *p,
		     int64_t last)
{
	size_t n = hlx_plan_nsignatories(p);

	for (size_t i = 0; i < n; i++)
		act(b, HLX_PLAN_SIGN, hlx_plan_signatory(p, i), p,
		    i + 1 == n ? last : last - 3600 * (int64_t)(n - i));
}

/* Route loc at t: "ORG<TAB>PLAN@V<TAB>RULE<TAB>FALLBACKS" or "-". */
static void route(const struct hlx_plan_book *b, const char *loc, int64_t t,
		  char *out, size_t outlen)
{
	struct hlx_plan_force *f = NULL;
	struct hlx_plan_route r;
	struct hlx_plan_loc l;
	size_t n, i, k;

	if (hlx_plan_loc_parse(loc, strlen(loc), &l) ||
	    hlx_plan_book_in_force(b, t, &f, &n) ||
	    hlx_plan_route(f, n, &l, t, &r)) {
		snprintf(out, outlen, "error");
		free(f);
		return;
	}
	if (!r.plan) {
		snprintf(out, outlen, "-");
		free(f);
		return;
	}
	k = (size_t)snprintf(out, outlen, "%s\t%s@%lld\t%s\t",
			     r.nchain ? hlx_plan_signatory(r.plan, r.chain[0]) : "?",
			     hlx_plan_name(r.plan), (long long)hlx_plan_version(r.plan),
			     r.rule->id);
	for (i = 1; i < r.nchain && k < outlen; i++)
		k += (size_t)snprintf(out + k, outlen - k, "%s%s", i > 1 ? "," : "",
				      hlx_plan_signatory(r.plan, r.chain[i]));
	if (r.nchain < 2 && k < outlen)
		snprintf(out + k, outlen - k, "-");
	free(f);
}

#define ROUTE(b, loc, t, want)                                                \
	do {                                                                  \
		char got_[512];                                               \
		route((b), (loc), (t), got_, sizeof(got_));                   \
		is_str(got_, (want), "route %s at %lld", (loc), (long long)(t)); \
	} while (0)

static void test_routing(void)
{
	struct hlx_plan_book *b = NULL;
	const struct hlx_plan *eu1, *gb;
	char *t = eu_text(1, "");
	char gbt[1024], f0[HLX_PLAN_ROOT_LEN + 1], f1[HLX_PLAN_ROOT_LEN + 1];
	int64_t now = T("2026-12-02T00:00:00Z"), start = T("2026-12-01T00:00:00Z");
	int64_t s;

	hlx_plan_book_new(&b);
	eu1 = add(b, t);
	ok(eu1 != NULL, "eu@1 in the book");
	ROUTE(b, "DE/a1", now, "-");
	ok(!hlx_plan_book_complete(b, eu1, &s), "not complete without acts");
	sign_all(b, eu1, start);
	ok(hlx_plan_book_complete(b, eu1, &s) && s == start,
	   "complete, started at the last sign act");
	is_rc(act(b, HLX_PLAN_SIGN, "hl-de", eu1, start + 999), HLX_OK,
	      "a later sign act of the same org");
	ok(hlx_plan_book_signed(b, eu1, 0) == start - 7 * 3600,
	   "  the earliest counts");
	ROUTE(b, "DE/a1", start - 1, "-");
	/* the vectors of section 9 */
	ROUTE(b, "DE/a1", now, "hl-de\teu@1\tDE/*\thl-nl,hl-gb");
	ROUTE(b, "de/a1", now, "hl-de\teu@1\tDE/*\thl-nl,hl-gb");
	ROUTE(b, "BR/a1", now, "hl-nl\teu@1\t*/*\thl-de,hl-gb");
	ROUTE(b, "-/-", now, "hl-nl\teu@1\t*/*\thl-de,hl-gb");
	ROUTE(b, "FR/b2", now, "hl-fr\teu@1\tFR/b2\thl-nl,hl-de,hl-gb");
	ROUTE(b, "FR/a1", now, "hl-fr\teu@1\tFR/*\thl-de,hl-nl,hl-gb");
	ROUTE(b, "DE/a1/img.host-a.example", now,
	      "hl-nl\teu@1\t*/*/host-a.example\thl-de,hl-gb");
	ROUTE(b, "DE/a1/evilhost-a.example", now, "hl-de\teu@1\tDE/*\thl-nl,hl-gb");
	ROUTE(b, "NL/a1/host-a.example", now,
	      "hl-nl\teu@1\t*/*/host-a.example\thl-de,hl-gb");
	ROUTE(b, "-/b2", now, "hl-nl\teu@1\t*/*\thl-de,hl-gb");
	ROUTE(b, "UK/a1", now, "error");

	/* two plans: gb-local@1 (hl-gb, hl-nl) */
	fpr(2, f0);
	fpr(3, f1);
	snprintf(gbt, sizeof(gbt),
		 "{\"format\":\"hlx-plan-1\",\"name\":\"gb-local\",\"version\":1,"
		 "\"lease_seconds\":3600,\"settle_seconds\":0,\"signatories\":["
		 "{\"org\":\"hl-gb\",\"root\":\"%s\"},{\"org\":\"hl-nl\",\"root\":\"%s\"}],"
		 "\"rules\":[{\"country\":\"*\",\"category\":\"*\",\"org\":\"hl-gb\","
		 "\"fallbacks\":[],\"channel\":\"self\",\"languages\":[\"en\"]," DL0 "},"
		 "{\"country\":\"GB\",\"category\":\"*\",\"org\":\"hl-nl\","
		 "\"fallbacks\":[],\"channel\":\"self\",\"languages\":[\"en\"]," DL0 "},"
		 "{\"country\":\"US\",\"category\":\"a1\",\"org\":\"hl-nl\","
		 "\"fallbacks\":[\"hl-gb\"],\"channel\":\"self\",\"languages\":[\"en\"]," DL0 "}]}",
		 f0, f1);
	gb = add(b, gbt);
	sign_all(b, gb, start);
	ROUTE(b, "GB/a1", now, "hl-gb\teu@1\tGB/*\thl-nl,hl-de");
	ROUTE(b, "GB/a1/x.host-a.example", now,
	      "hl-nl\teu@1\t*/*/host-a.example\thl-de,hl-gb");
	ROUTE(b, "US/a2", now, "hl-nl\teu@1\t*/*\thl-de,hl-gb");
	ROUTE(b, "US/a1", now, "hl-nl\tgb-local@1\tUS/a1\thl-gb");

	/* withdrawal */
	is_rc(act(b, HLX_PLAN_WITHDRAW, "hl-de", eu1, T("2026-12-03T00:00:00Z")),
	      HLX_OK, "hl-de withdraws from eu@1");
	ok(hlx_plan_book_withdrawn(b, eu1, 0) == T("2026-12-03T00:00:00Z"),
	   "  from its time");
	ROUTE(b, "DE/a1", T("2026-12-02T23:59:59Z"), "hl-de\teu@1\tDE/*\thl-nl,hl-gb");
	ROUTE(b, "DE/a1", T("2026-12-03T00:00:00Z"), "hl-nl\teu@1\tDE/*\thl-gb");
	ROUTE(b, "FR/a1", T("2026-12-04T00:00:00Z"), "hl-fr\teu@1\tFR/*\thl-nl,hl-gb");
	act(b, HLX_PLAN_WITHDRAW, "hl-nl", eu1, T("2026-12-04T00:00:00Z"));
	act(b, HLX_PLAN_WITHDRAW, "hl-gb", eu1, T("2026-12-04T00:00:00Z"));
	ROUTE(b, "DE/a1", T("2026-12-05T00:00:00Z"),
	      "hl-fr\teu@1\tDE/*\thost-a,host-b,le-nl");
	/* gb-local is not withdrawn from: it still routes its US/a1 rule, and
	 * eu still wins GB by name */
	ROUTE(b, "GB/a1", T("2026-12-05T00:00:00Z"),
	      "hl-fr\teu@1\tGB/*\thost-a,host-b,le-nl");
	act(b, HLX_PLAN_WITHDRAW, "hl-fr", eu1, T("2026-12-05T00:00:00Z"));
	act(b, HLX_PLAN_WITHDRAW, "host-a", eu1, T("2026-12-05T00:00:00Z"));
	act(b, HLX_PLAN_WITHDRAW, "host-b", eu1, T("2026-12-05T00:00:00Z"));
	ROUTE(b, "DE/a1", T("2026-12-06T00:00:00Z"), "le-nl\teu@1\tDE/*\t-");
	act(b, HLX_PLAN_WITHDRAW, "le-nl", eu1, T("2026-12-06T00:00:00Z"));
	/* every signatory of eu@1 withdrew: only gb-local is left */
	ROUTE(b, "DE/a1", T("2026-12-06T00:00:00Z"), "hl-gb\tgb-local@1\t*/*\t-");
	ROUTE(b, "DE/a1", T("2026-12-05T23:59:59Z"), "le-nl\teu@1\tDE/*\t-");
	{
		/* a route taken when eu was in force, its chain at a later
		 * time when all withdrew: empty (cases.md: the reporter) */
		struct hlx_plan_force *f = NULL;
		struct hlx_plan_route r;
		struct hlx_plan_loc l;
		size_t n;

		hlx_plan_loc_parse("DE/a1", 5, &l);
		hlx_plan_book_in_force(b, now, &f, &n);
		hlx_plan_route(f, n, &l, T("2026-12-07T00:00:00Z"), &r);
		ok(r.plan == eu1 && r.nchain == 0 && r.nbase == 7 && r.nprimary == 3,
		   "route at the time eu was in force, chain when all withdrew: empty");
		free(f);
	}
	hlx_plan_book_free(b);
	free(t);
}

/* Across plans the specificity decides before the name: a country rule
 * of a plan later by name beats a category rule of an earlier one. */
static void test_across_plans(void)
{
	struct hlx_plan_book *b = NULL;
	char text[1024], f[HLX_PLAN_ROOT_LEN + 1];
	const char *const names[] = { "aa", "zz" };
	const char *const rules[] = { "\"country\":\"*\",\"category\":\"a2\"",
				      "\"country\":\"BR\",\"category\":\"*\"" };
	int64_t t0 = T("2026-12-01T00:00:00Z");

	hlx_plan_book_new(&b);
	for (int i = 0; i < 2; i++) {
		fpr(i, f);
		snprintf(text, sizeof(text),
			 "{\"format\":\"hlx-plan-1\",\"name\":\"%s\",\"version\":1,"
			 "\"lease_seconds\":3600,\"settle_seconds\":0,\"signatories\":["
			 "{\"org\":\"org-%s\",\"root\":\"%s\"}],\"rules\":["
			 "{\"country\":\"*\",\"category\":\"*\",\"org\":\"org-%s\","
			 "\"fallbacks\":[],\"channel\":\"self\",\"languages\":[\"en\"]," DL0 "},"
			 "{%s,\"org\":\"org-%s\",\"fallbacks\":[],\"channel\":\"self\","
			 "\"languages\":[\"en\"]," DL0 "}]}",
			 names[i], names[i], f, names[i], rules[i], names[i]);
		sign_all(b, add(b, text), t0);
	}
	ROUTE(b, "BR/a2", t0, "org-zz\tzz@1\tBR/*\t-");
	ROUTE(b, "US/a2", t0, "org-aa\taa@1\t*/a2\t-");
	ROUTE(b, "US/a1", t0, "org-aa\taa@1\t*/*\t-");
	ROUTE(b, "BR/-", t0, "org-zz\tzz@1\tBR/*\t-");
	hlx_plan_book_free(b);
}

/* Versions and documents: which one is in force (sections 5.3 and 6). */
static void test_in_force(void)
{
	struct hlx_plan_book *b = NULL;
	const struct hlx_plan *v1, *v2, *v2b, *v3;
	char *t1 = eu_text(1, ""), *t2 = eu_text(2, ""), *t3 = eu_text(3, "");
	char *t2b = eu_text(2, ",{\"country\":\"BE\",\"category\":\"*\",\"org\":\"hl-nl\","
			       "\"fallbacks\":[],\"channel\":\"self\",\"languages\":[\"nl\"]," DL0 "}");
	int64_t d = 86400, s0 = T("2026-12-01T00:00:00Z");
	struct hlx_plan_force *f = NULL;
	size_t n, i;
	uint8_t h[32];

	hlx_plan_book_new(&b);
	v1 = add(b, t1);
	v2 = add(b, t2);
	v2b = add(b, t2b);
	v3 = add(b, t3);
	ok(v1 && v2 && v2b && v3 && v2 != v2b, "four documents, two of version 2");
	{
		struct hlx_plan *dup = parse_ok(t1, 0);

		is_rc(hlx_plan_book_add(b, dup), HLX_OK, "a document held again: dropped");
	}
	sign_all(b, v1, s0);
	ROUTE(b, "BE/a1", s0 + d, "hl-nl\teu@1\t*/*\thl-de,hl-gb");
	/* version 2 signed by six of seven: not in force */
	for (i = 0; i < 6; i++)
		act(b, HLX_PLAN_SIGN, orgs[i], v2, s0 + 2 * d);
	ROUTE(b, "BE/a1", s0 + 3 * d, "hl-nl\teu@1\t*/*\thl-de,hl-gb");
	ok(!hlx_plan_book_complete(b, v2, &(int64_t){ 0 }), "six of seven: not complete");
	/* the seventh signs at T: version 2 in force from T, version 1 no longer */
	act(b, HLX_PLAN_SIGN, "le-nl", v2, s0 + 4 * d);
	ROUTE(b, "BE/a1", s0 + 4 * d - 1, "hl-nl\teu@1\t*/*\thl-de,hl-gb");
	hlx_plan_book_in_force(b, s0 + 4 * d, &f, &n);
	ok(n == 1 && f[0].plan == v2 && f[0].start == s0 + 4 * d,
	   "version 2 in force from the seventh act");
	free(f);
	/* a second document of version 2 completed later: never in force */
	sign_all(b, v2b, s0 + 5 * d);
	hlx_plan_book_in_force(b, s0 + 6 * d, &f, &n);
	ok(n == 1 && f[0].plan == v2, "of two complete documents of one version, the earlier start counts");
	free(f);
	/* the same start: the smaller hash counts */
	{
		struct hlx_plan_book *b2 = NULL;
		const struct hlx_plan *x = add(b2 = (hlx_plan_book_new(&b2), b2), t2),
				      *y = add(b2, t2b);
		uint8_t hx[32], hy[32];

		sign_all(b2, x, s0);
		sign_all(b2, y, s0);
		hlx_plan_hash(x, hx);
		hlx_plan_hash(y, hy);
		hlx_plan_book_in_force(b2, s0, &f, &n);
		ok(n == 1 && f[0].plan == (memcmp(hx, hy, 32) < 0 ? x : y),
		   "the same start: the document with the smaller hash counts");
		free(f);
		hlx_plan_book_free(b2);
	}
	/* an act naming a document the book does not hold */
	{
		struct hlx_plan_act a;

		make_act(&a, HLX_PLAN_SIGN, "hl-de", v1, s0);
		a.doc[0] ^= 1;
		is_rc(hlx_plan_book_act(b, &a), HLX_ENOENT, "an act for an unknown document");
		make_act(&a, HLX_PLAN_SIGN, "hl-de", v1, s0);
		a.version = 3;
		is_rc(hlx_plan_book_act(b, &a), HLX_EINVAL,
		      "an act whose version is not its document's");
	}
	/* version 3 complete, then everyone withdraws from it: nothing is in
	 * force, version 2 does not come back */
	sign_all(b, v3, s0 + 10 * d);
	hlx_plan_book_in_force(b, s0 + 10 * d, &f, &n);
	ok(n == 1 && f[0].plan == v3, "version 3 in force");
	free(f);
	for (i = 0; i < 7; i++)
		act(b, HLX_PLAN_WITHDRAW, orgs[i], v3, s0 + 11 * d + (int64_t)i);
	ok(hlx_plan_book_withdrawn(b, v2, 0) == s0 + 11 * d,
	   "a withdrawal from version 3 covers version 2");
	hlx_plan_book_in_force(b, s0 + 11 * d + 5, &f, &n);
	ok(n == 1 && f[0].plan == v3 && f[0].withdrawn[6] == s0 + 11 * d + 6,
	   "in force while one signatory is left");
	free(f);
	hlx_plan_book_in_force(b, s0 + 11 * d + 6, &f, &n);
	ok(n == 0 && f == NULL, "all withdrew from version 3: nothing in force, no older version");
	ROUTE(b, "DE/a1", s0 + 12 * d, "-");
	/* before version 3 started, version 2 was */
	hlx_plan_book_in_force(b, s0 + 9 * d, &f, &n);
	ok(n == 1 && f[0].plan == v2, "at an earlier time, version 2");
	hlx_plan_hash(v2, h);
	ok(hlx_plan_book_find(b, h) == v2, "find by hash");
	free(f);
	/* an excluded document is never in force and supersedes nothing */
	is_rc(hlx_plan_book_exclude(b, h), HLX_OK, "exclude version 2");
	hlx_plan_book_in_force(b, s0 + 9 * d, &f, &n);
	ok(n == 1 && f[0].plan == v2b, "that document excluded: the other of version 2");
	free(f);
	hlx_plan_hash(v2b, h);
	hlx_plan_book_exclude(b, h);
	hlx_plan_book_in_force(b, s0 + 9 * d, &f, &n);
	ok(n == 1 && f[0].plan == v1, "both excluded: version 1 again");
	free(f);
	h[0] ^= 1;
	is_rc(hlx_plan_book_exclude(b, h), HLX_ENOENT, "exclude an unknown document");
	hlx_plan_book_free(b);
	free(t1);
	free(t2);
	free(t2b);
	free(t3);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_canonical();
	test_refusals();
	test_too_big();
	test_locations();
	test_acts();
	test_routing();
	test_across_plans();
	test_in_force();
	return done_testing();
}
