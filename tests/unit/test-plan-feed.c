/* SPDX-License-Identifier: MIT */
/*
 * Plans in feeds (spec/plan.md section 7, protocol/plan_feed.h): a bundle
 * encodes canonically (acts sorted, repeats dropped) and parses back; a
 * bundle out of order, with a repeated act, an unknown member, another
 * format, a document not canonical or an act for another document or
 * organisation is refused; a plans head body round-trips, and unsorted
 * or repeated entries, a missing or unknown member, seq 0, too many plans
 * or a non-canonical body are refused.  Names and fingerprints are
 * synthetic; signatures are not checked here (node/plans.c does).
 */
#include "tap.h"
#include "protocol/plan_feed.h"
#include "protocol/rtime.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char *doc_text =
	"{\"format\":\"hlx-plan-1\",\"name\":\"eu\",\"version\":2,"
	"\"lease_seconds\":3600,\"settle_seconds\":0,"
	"\"signatories\":[{\"org\":\"hl-a\",\"root\":\"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},"
	"{\"org\":\"hl-b\",\"root\":\"SHA256:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA\"}],"
	"\"rules\":[{\"country\":\"*\",\"category\":\"*\",\"org\":\"hl-a\",\"fallbacks\":[\"hl-b\"],"
	"\"channel\":\"self\",\"languages\":[\"en\"],\"deadlines\":{\"le_hold_hours\":0,"
	"\"notice_hours\":24,\"renotice_hours\":0,\"escalate_after\":0}}]}";

static void act_of(struct hlx_plan_bact *x, const struct hlx_plan *p,
		   enum hlx_plan_act_kind k, const char *org, int64_t version,
		   int64_t t)
{
	struct hlx_buf b = HLX_BUF_INIT;

	memset(x, 0, sizeof(*x));
	x->a.act = k;
	snprintf(x->a.org, sizeof(x->a.org), "%s", org);
	snprintf(x->a.plan, sizeof(x->a.plan), "%s", hlx_plan_name(p));
	x->a.version = version;
	hlx_plan_hash(p, x->a.doc);
	x->a.time = t;
	hlx_plan_act_body(&x->a, &b);
	x->body = strndup((char *)b.data, b.len);
	x->bodylen = b.len;
	x->sig = strdup("-----BEGIN SSH SIGNATURE-----\nx\n-----END SSH SIGNATURE-----\n");
	x->siglen = strlen(x->sig);
	hlx_buf_free(&b);
}

/* The bundle b with one change made to its JSON by edit. */
static int parse_edited(const struct hlx_buf *b, void (*edit)(json_t *o))
{
	struct hlx_plan_bundle x;
	json_t *o = json_loadb((char *)b->data, b->len, 0, NULL);
	char *s;
	int rc;

	edit(o);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	rc = hlx_plan_bundle_parse(s, strlen(s), &x);
	if (!rc)
		hlx_plan_bundle_free(&x);
	free(s);
	json_decref(o);
	return rc;
}

static void swap_acts(json_t *o)
{
	json_t *a = json_object_get(o, "acts"), *first = json_incref(json_array_get(a, 0));

	json_array_remove(a, 0);
	json_array_append_new(a, first);
}

static void repeat_act(json_t *o)
{
	json_t *a = json_object_get(o, "acts");

	json_array_insert(a, 0, json_array_get(a, 0));
}

static void extra_member(json_t *o)
{
	json_object_set_new(o, "x", json_true());
}

static void other_format(json_t *o)
{
	json_object_set_new(o, "format", json_string("hlx-plan-bundle-2"));
}

static void pretty_plan(json_t *o)
{
	json_t *d = json_loads(json_string_value(json_object_get(o, "plan")), 0, NULL);
	char *s = json_dumps(d, JSON_INDENT(1));

	json_object_set_new(o, "plan", json_string(s));
	free(s);
	json_decref(d);
}

static void no_acts_array(json_t *o)
{
	json_object_set_new(o, "acts", json_object());
}

static void test_bundle(void)
{
	struct hlx_plan *p = NULL, *q = NULL;
	struct hlx_plan_bact acts[4];
	struct hlx_plan_bundle b;
	struct hlx_buf e = HLX_BUF_INIT, e2 = HLX_BUF_INIT;
	int64_t t = 1796515200;

	is_rc(hlx_plan_parse(doc_text, strlen(doc_text), 0, &p), HLX_OK, "the document parses");
	act_of(&acts[0], p, HLX_PLAN_SIGN, "hl-b", 2, t + 1);
	act_of(&acts[1], p, HLX_PLAN_SIGN, "hl-a", 2, t);
	act_of(&acts[2], p, HLX_PLAN_WITHDRAW, "hl-b", 3, t + 2);
	act_of(&acts[3], p, HLX_PLAN_SIGN, "hl-a", 2, t); /* a repeat */
	is_rc(hlx_plan_bundle_encode(p, acts, 4, &e), HLX_OK, "encode a bundle");
	is_rc(hlx_plan_bundle_parse((char *)e.data, e.len, &b), HLX_OK, "it parses");
	ok(b.nacts == 3, "the repeated act once");
	ok(b.nacts == 3 && strcmp(b.acts[0].body, b.acts[1].body) < 0 &&
	   strcmp(b.acts[1].body, b.acts[2].body) < 0, "acts sorted by body");
	is_rc(hlx_plan_bundle_encode(b.plan, b.acts, b.nacts, &e2), HLX_OK, "encode again");
	ok(e.len == e2.len && !memcmp(e.data, e2.data, e.len), "the same bytes");
	hlx_plan_bundle_free(&b);
	is_rc(parse_edited(&e, swap_acts), HLX_EINVAL, "acts out of order refused");
	is_rc(parse_edited(&e, repeat_act), HLX_EINVAL, "a repeated act refused");
	is_rc(parse_edited(&e, extra_member), HLX_EINVAL, "an unknown member refused");
	is_rc(parse_edited(&e, other_format), HLX_EUNSUPPORTED, "another format refused");
	is_rc(parse_edited(&e, pretty_plan), HLX_EINVAL, "a document not in canonical form refused");
	is_rc(parse_edited(&e, no_acts_array), HLX_EINVAL, "acts not an array refused");
	is_rc(hlx_plan_bundle_parse((char *)e.data, e.len - 1, &b), HLX_EINVAL, "a truncated bundle refused");
	/* acts that do not belong */
	{
		struct hlx_plan_bact bad[2];
		struct hlx_buf x = HLX_BUF_INIT;

		act_of(&bad[0], p, HLX_PLAN_SIGN, "hl-c", 2, t);
		hlx_plan_bundle_encode(p, bad, 1, &x);
		is_rc(hlx_plan_bundle_parse((char *)x.data, x.len, &b), HLX_EINVAL,
		      "an act of an organisation that is no signatory refused");
		hlx_buf_reset(&x);
		act_of(&bad[1], p, HLX_PLAN_WITHDRAW, "hl-a", 1, t);
		hlx_plan_bundle_encode(p, &bad[1], 1, &x);
		is_rc(hlx_plan_bundle_parse((char *)x.data, x.len, &b), HLX_EINVAL,
		      "a withdrawal from a lower version refused");
		hlx_buf_reset(&x);
		bad[1].a.act = HLX_PLAN_SIGN;
		free(bad[1].body);
		{
			struct hlx_buf bb = HLX_BUF_INIT;

			bad[1].a.doc[0] ^= 1;
			bad[1].a.version = 2;
			hlx_plan_act_body(&bad[1].a, &bb);
			bad[1].body = strndup((char *)bb.data, bb.len);
			bad[1].bodylen = bb.len;
			hlx_buf_free(&bb);
		}
		hlx_plan_bundle_encode(p, &bad[1], 1, &x);
		is_rc(hlx_plan_bundle_parse((char *)x.data, x.len, &b), HLX_EINVAL,
		      "a sign act for another document refused");
		for (int i = 0; i < 2; i++) {
			free(bad[i].body);
			free(bad[i].sig);
		}
		hlx_buf_free(&x);
	}
	{
		struct hlx_buf big = HLX_BUF_INIT;

		hlx_buf_put(&big, e.data, e.len);
		while (big.len <= HLX_PLAN_BUNDLE_MAX)
			hlx_buf_puts(&big, "                ");
		is_rc(hlx_plan_bundle_parse((char *)big.data, big.len, &b), HLX_ETOOBIG,
		      "a bundle over 1 MiB refused before it is parsed");
		hlx_buf_free(&big);
	}
	for (int i = 0; i < 4; i++) {
		free(acts[i].body);
		free(acts[i].sig);
	}
	hlx_buf_free(&e);
	hlx_buf_free(&e2);
	hlx_plan_free(p);
	hlx_plan_free(q);
}

static int head_parse_body(const char *body, struct hlx_plans_head *h)
{
	json_t *f = json_pack("{s:s,s:s}", "body", body, "signature", "sig");
	char *s = json_dumps(f, JSON_COMPACT);
	struct hlx_buf b1 = HLX_BUF_INIT, b2 = HLX_BUF_INIT;
	int rc = hlx_plans_head_parse(s, strlen(s), h, &b1, &b2);

	free(s);
	json_decref(f);
	hlx_buf_free(&b1);
	hlx_buf_free(&b2);
	return rc;
}

static void test_head(void)
{
	struct hlx_plans_entry v[3] = {
		{ "eu", 1, "", "" }, { "eu", 2, "", "" }, { "gb", 1, "", "" },
	};
	struct hlx_plans_head h = { 0 }, g;
	struct hlx_buf body = HLX_BUF_INIT;
	char *s;

	for (int i = 0; i < 3; i++) {
		memset(v[i].doc, i == 1 ? 'a' : 'a' + i, 64);
		memset(v[i].bundle, '0' + i, 64);
	}
	snprintf(h.org, sizeof(h.org), "hl-a");
	h.seq = 3;
	h.issued = 1796515200;
	h.expires = h.issued + 86400;
	h.trust_length = 2;
	memset(h.trust_head, 'f', 64);
	h.v = v;
	h.n = 3;
	is_rc(hlx_plans_head_body(&h, &body), HLX_OK, "encode a plans head body");
	is_rc(head_parse_body((char *)body.data, &g), HLX_OK, "it parses");
	ok(g.n == 3 && g.seq == 3 && hlx_plans_head_same(&g, &h) &&
	   !strcmp(g.org, "hl-a") && g.audience[0] == 0, "the same head");
	hlx_plans_head_free(&g);
	/* edits of the body */
	{
		static const struct {
			const char *from, *to, *what;
			int rc;
		} ed[] = {
			{ "\"seq\":3", "\"seq\":0", "seq 0 refused", HLX_EINVAL },
			{ "\"hlx-plans-1\"", "\"hlx-plans-2\"", "another format refused", HLX_EUNSUPPORTED },
			{ "\"name\":\"gb\"", "\"name\":\"da\"", "entries out of order refused", HLX_EINVAL },
			{ "\"version\":2", "\"version\":1", "a repeated entry refused", HLX_EINVAL },
			{ "\"org\":\"hl-a\"", "\"org\":\"hl-a\",\"x\":1", "an unknown member refused", HLX_EINVAL },
			{ "\"seq\":3,", "", "seq missing refused", HLX_EINVAL },
			{ "\"version\":2", "\"version\":0", "version 0 refused", HLX_EINVAL },
			{ "\"org\":\"hl-a\"", "\"org\": \"hl-a\"", "a body not in canonical form refused", HLX_EINVAL },
		};
		for (size_t i = 0; i < sizeof(ed) / sizeof(ed[0]); i++) {
			char *b = strdup((char *)body.data), *at = strstr(b, ed[i].from);
			struct hlx_buf n = HLX_BUF_INIT;

			if (at) {
				hlx_buf_put(&n, b, (size_t)(at - b));
				hlx_buf_puts(&n, ed[i].to);
				hlx_buf_puts(&n, at + strlen(ed[i].from));
				hlx_buf_put(&n, "", 1);
			}
			is_rc(at ? head_parse_body((char *)n.data, &g) : -1, ed[i].rc, "%s",
			      ed[i].what);
			free(b);
			hlx_buf_free(&n);
		}
	}
	/* more than 512 plans */
	{
		struct hlx_plans_entry *many = calloc(513, sizeof(*many));
		struct hlx_buf mb = HLX_BUF_INIT;

		for (int i = 0; i < 513; i++) {
			snprintf(many[i].name, sizeof(many[i].name), "p%04d", i);
			many[i].version = 1;
			memset(many[i].doc, 'a', 64);
			memset(many[i].bundle, 'b', 64);
		}
		h.v = many;
		h.n = 513;
		is_rc(hlx_plans_head_body(&h, &mb), HLX_EINVAL, "513 plans are not encoded");
		h.n = 512;
		hlx_plans_head_body(&h, &mb);
		s = strdup((char *)mb.data);
		{
			char *at = strstr(s, "\"plans\":[");
			struct hlx_buf n = HLX_BUF_INIT;

			hlx_buf_put(&n, s, (size_t)(at - s) + 9);
			hlx_buf_puts(&n, "{\"bundle\":\"");
			for (int i = 0; i < 64; i++)
				hlx_buf_puts(&n, "b");
			hlx_buf_puts(&n, "\",\"doc\":\"");
			for (int i = 0; i < 64; i++)
				hlx_buf_puts(&n, "a");
			hlx_buf_puts(&n, "\",\"name\":\"a\",\"version\":1},");
			hlx_buf_puts(&n, at + 9);
			hlx_buf_put(&n, "", 1);
			is_rc(head_parse_body((char *)n.data, &g), HLX_ETOOBIG, "a head of 513 plans refused");
			hlx_buf_free(&n);
		}
		free(s);
		free(many);
		hlx_buf_free(&mb);
	}
	hlx_buf_free(&body);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_bundle();
	test_head();
	return done_testing();
}
