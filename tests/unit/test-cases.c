/* SPDX-License-Identifier: MIT */
/*
 * The cases engine (node/cases.h) through its API on a real node home:
 * reports single and batched (duplicates in a batch and of held cases
 * record nothing; one version a batch; a bad report records nothing), the
 * actions and their refusals (unknown case, transitions, no route for a
 * hand-off), the iterator and item search, renewals at half the lease,
 * the cases log accepting case lines only, and a large batch in linear
 * time.  Seeded; the seed is printed.
 */
#include "node/cases.h"
#include "node/lists.h"
#include "node/node.h"
#include "protocol/err.h"
#include "tap.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rs;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static void rand_id(struct hlx_hash *h)
{
	memset(h, 0, sizeof(*h));
	h->type = HLX_HASH_URL_SHA256;
	h->len = 32;
	for (int i = 0; i < 32; i++)
		h->bytes[i] = (uint8_t)rnd();
}

static const int64_t T0 = 1796205600; /* 2026-12-02T10:00:00Z */

struct count {
	size_t known, reported, n;
	size_t last_known; /* index of the last known */
};

static int on_report(void *ctx, size_t i, int known,
		     const struct hlx_case_view *v)
{
	struct count *c = ctx;

	c->n++;
	if (known) {
		c->known++;
		c->last_known = i;
	} else {
		c->reported++;
	}
	return v ? 0 : -1;
}

static int count_case(void *ctx, const struct hlx_case_view *v)
{
	(*(size_t *)ctx)++;
	(void)v;
	return 0;
}

static uint64_t version(struct hlx_node *n)
{
	struct hlx_list_rec rec;

	return hlx_list_get(n, HLX_CASES_LIST, &rec) ? 0 : rec.version;
}

struct owner {
	char org[65];
	enum hlx_case_state st;
	int expl;
	int64_t until;
};

static int get_owner(void *ctx, const struct hlx_case_view *v)
{
	struct owner *o = ctx;

	snprintf(o->org, sizeof(o->org), "%s", v->owner.org);
	o->st = v->owner.state;
	o->expl = v->owner.explicit_lease;
	o->until = v->owner.until;
	return 0;
}

static void test_reports(struct hlx_node *n)
{
	struct hlx_case_new *r = calloc(1000, sizeof(*r));
	struct count c = { 0 };
	struct hlx_cases *cs = NULL;
	size_t seen = 0;

	if (!r)
		abort();
	r[0].url = "https://Example.test/a/../b";
	r[0].urllen = strlen(r[0].url);
	memcpy(r[0].country, "DE", 3);
	is_rc(hlx_cases_report(n, r, 1, T0, NULL, NULL, on_report, &c), HLX_OK,
	      "a report");
	ok(c.reported == 1 && c.known == 0, "is reported");
	ok(version(n) == 1, "the cases log is created, at version 1");
	r[0].url = "https://example.test/b";
	r[0].urllen = strlen(r[0].url);
	memset(&c, 0, sizeof(c));
	is_rc(hlx_cases_report(n, r, 1, T0 + 1, NULL, NULL, on_report, &c), HLX_OK,
	      "the same location spelt otherwise");
	ok(c.known == 1 && version(n) == 1, "is known and records nothing");

	/* a batch: 998 new ids, one duplicate of the batch, one held */
	memset(r, 0, 1000 * sizeof(*r));
	for (int i = 0; i < 998; i++)
		rand_id(&r[i].id);
	r[998].id = r[17].id;
	r[999].url = "https://example.test/b";
	r[999].urllen = strlen(r[999].url);
	memset(&c, 0, sizeof(c));
	is_rc(hlx_cases_report(n, r, 1000, T0 + 10, NULL, NULL, on_report, &c),
	      HLX_OK, "a batch of 1000");
	ok(c.n == 1000 && c.reported == 998 && c.known == 2 && c.last_known == 999,
	   "998 reported, 2 known, in input order");
	ok(version(n) == 2, "in one version");
	memcpy(r[5].country, "ZZ", 3);
	rand_id(&r[0].id);
	is_rc(hlx_cases_report(n, r, 1000, T0 + 20, NULL, NULL, on_report, &c),
	      HLX_EINVAL, "a batch with a bad country");
	ok(strstr(hlx_err_detail(), "report 6") != NULL, "names the report: %s",
	   hlx_err_detail());
	ok(version(n) == 2, "and records nothing");
	r[5].country[0] = '\0';
	r[5].id.type = HLX_HASH_MD5;
	r[5].id.len = 16;
	is_rc(hlx_cases_report(n, r + 5, 1, T0 + 20, NULL, NULL, NULL, NULL),
	      HLX_EINVAL, "a case id that is not a url-sha256");

	is_rc(hlx_cases_load(n, &cs), HLX_OK, "load");
	is_rc(hlx_cases_foreach(cs, T0 + 30, count_case, &seen), HLX_OK, "foreach");
	ok(seen == 999, "999 cases (%zu)", seen);
	seen = 0;
	is_rc(hlx_cases_foreach(cs, T0 + 5, count_case, &seen), HLX_OK,
	      "foreach before the batch");
	ok(seen == 1, "one case existed then");
	free(r);
	hlx_cases_free(cs);
}

static void test_actions(struct hlx_node *n)
{
	struct hlx_case_new r;
	struct owner o;
	struct hlx_hash *unk = malloc(sizeof(*unk)), *item = malloc(sizeof(*item));
	struct hlx_cases *cs = NULL;
	uint64_t cnt = 0;
	size_t hits = 0;
	int renewed = -1;

	if (!unk || !item)
		abort();
	memset(&r, 0, sizeof(r));
	rand_id(&r.id);
	memset(item, 0, sizeof(*item));
	item->type = HLX_HASH_MD5;
	item->len = 16;
	memset(item->bytes, 0x5a, 16);
	r.item = *item;
	is_rc(hlx_cases_report(n, &r, 1, T0 + 100, NULL, NULL, NULL, NULL), HLX_OK,
	      "report a case with an item");
	rand_id(unk);
	is_rc(hlx_cases_act(n, unk, HLX_CASES_CLAIM, NULL, HLX_CASE_NONE, T0 + 200,
			    NULL, NULL, NULL, NULL, NULL), HLX_ENOENT,
	      "claiming an unknown case");
	is_rc(hlx_cases_act(n, &r.id, HLX_CASES_SET, NULL, HLX_CASE_ASSESSED,
			    T0 + 200, NULL, NULL, NULL, NULL, NULL), HLX_ESTATE,
	      "setting a state before claiming");
	is_rc(hlx_cases_act(n, &r.id, HLX_CASES_CLAIM, NULL, HLX_CASE_NONE,
			    T0 + 200, NULL, NULL, &renewed, get_owner, &o), HLX_OK,
	      "the reporter claims");
	ok(renewed == 0 && o.expl && o.until == T0 + 200 + 86400 &&
	   o.st == HLX_CASE_REPORTED, "a new claim, lease a day");
	is_rc(hlx_cases_act(n, &r.id, HLX_CASES_SET, NULL, HLX_CASE_NOTICE_SENT,
			    T0 + 210, NULL, NULL, NULL, NULL, NULL), HLX_ESTATE,
	      "reported -> notice-sent is refused");
	ok(strstr(hlx_err_detail(), "'reported' to 'notice-sent'") != NULL,
	   "naming both states");
	is_rc(hlx_cases_act(n, &r.id, HLX_CASES_SET, NULL, HLX_CASE_ASSESSED,
			    T0 + 220, NULL, NULL, NULL, get_owner, &o), HLX_OK,
	      "reported -> assessed");
	ok(o.st == HLX_CASE_ASSESSED, "the case is assessed");
	is_rc(hlx_cases_act(n, &r.id, HLX_CASES_HANDOFF, "hl-x", HLX_CASE_NONE,
			    T0 + 230, NULL, NULL, NULL, NULL, NULL), HLX_ESTATE,
	      "a hand-off without a route");

	/* renewals: only with less than half the lease left */
	is_rc(hlx_cases_renew(n, T0 + 300, NULL, NULL, &cnt), HLX_OK, "renew early");
	ok(cnt == 0, "renews nothing with most of the lease left");
	is_rc(hlx_cases_renew(n, T0 + 200 + 43201, NULL, NULL, &cnt), HLX_OK,
	      "renew past half");
	ok(cnt == 1, "renews the one claimed case");
	is_rc(hlx_cases_load(n, &cs), HLX_OK, "load");
	is_rc(hlx_cases_get(cs, &r.id, T0 + 200 + 43300, get_owner, &o), HLX_OK,
	      "get");
	ok(o.until == T0 + 200 + 43201 + 86400, "the lease runs from the renewal");
	is_rc(hlx_cases_by_item(cs, item, T0 + 200 + 43300, count_case, &hits),
	      HLX_OK, "by item");
	ok(hits == 1, "finds the one case");
	item->bytes[0] ^= 1;
	is_rc(hlx_cases_by_item(cs, item, T0 + 200 + 43300, count_case, &hits),
	      HLX_ENOENT, "another item finds none");
	hlx_cases_free(cs);
	is_rc(hlx_cases_act(n, &r.id, HLX_CASES_SET, NULL, HLX_CASE_REMOVED,
			    T0 + 50000, NULL, NULL, NULL, NULL, NULL), HLX_OK,
	      "removed");
	is_rc(hlx_cases_renew(n, T0 + 200 + 43201 + 86400 - 100, NULL, NULL, &cnt),
	      HLX_OK, "renew near the end of the lease");
	ok(cnt == 0, "a case in a final state is not renewed");
	free(unk);
	free(item);
}

static void test_kinds(struct hlx_node *n)
{
	struct hlx_changeset *cs = NULL;
	struct hlx_entry e;
	struct hlx_apply_result res;

	memset(&e, 0, sizeof(e));
	hlx_entry_init(&e);
	e.hash.type = HLX_HASH_MD5;
	e.hash.len = 16;
	memset(e.hash.bytes, 7, 16);
	is_rc(hlx_changeset_new(&cs), HLX_OK, "changeset");
	is_rc(hlx_changeset_put(cs, &e), HLX_OK, "an entry");
	is_rc(hlx_list_apply(n, HLX_CASES_LIST, cs, "x", NULL, NULL, T0 + 60000,
			     &res), HLX_EINVAL, "is refused by the cases log");
	hlx_changeset_free(cs);
	ok(hlx_list_kind("cases") == HLX_LIST_CASES &&
	   hlx_list_kind("peer/cases") == HLX_LIST_CASES &&
	   hlx_list_kind("status") == HLX_LIST_STATUS &&
	   hlx_list_kind("cases2") == HLX_LIST_ENTRIES, "kinds by name");
}

static void test_big(struct hlx_node *n, size_t nr)
{
	struct hlx_case_new *r = calloc(nr, sizeof(*r));
	struct count c = { 0 };
	struct timespec a, b;
	double s;

	if (!r)
		abort();
	for (size_t i = 0; i < nr; i++)
		rand_id(&r[i].id);
	for (size_t i = 0; i < nr / 100; i++)
		r[nr - 1 - i].id = r[i].id; /* 1% duplicates */
	clock_gettime(CLOCK_MONOTONIC, &a);
	is_rc(hlx_cases_report(n, r, nr, T0 + 70000, NULL, NULL, on_report, &c),
	      HLX_OK, "%zu reports in one batch", nr);
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("# %zu reports: %.2f s\n", nr, s);
	ok(c.reported == nr - nr / 100 && c.known == nr / 100,
	   "duplicates found by sorting");
	free(r);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/hlx-test-cases.XXXXXX", cmd[128];
	struct hlx_node *n = NULL;
	size_t big = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 5000;

	rs = getenv("HLX_SEED") ? strtoull(getenv("HLX_SEED"), NULL, 10) : 0;
	if (!rs)
		rs = 930;
	printf("# seed %" PRIu64 "\n", rs);
	if (!mkdtemp(dir))
		return 1;
	is_rc(hlx_home_create(dir, "hl-test", 1, NULL, NULL, T0 - 86400, 365),
	      HLX_OK, "node home");
	is_rc(hlx_node_open(dir, 1, &n), HLX_OK, "node opened for writing");
	if (n) {
		test_reports(n);
		test_actions(n);
		test_kinds(n);
		test_big(n, big);
	}
	hlx_node_free(n);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dir);
	return done_testing();
}
