/* SPDX-License-Identifier: MIT */
/*
 * The node's plan store (node/plans.h) on real homes: node A (hl-a) with
 * peer B (hl-b).  B floods A with more one-signatory plans than a plans
 * head can list, and with plans that name A but that A never signed, all
 * sorting before A's own: the head A publishes still lists every plan A
 * signed, then those naming A, then the rest while room is left, sorted.
 * Withdrawals: a withdraw act held in two bundles counts once against the
 * 64 a plan name and organisation may hold, and counting them reads that
 * plan's acts only: 800 over the cap are dropped in well under a second
 * with 25,000 acts of other plans held.  Names and URLs are synthetic.
 */
#include "tap.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "keys/trust.h"
#include "node/files.h"
#include "node/home.h"
#include "node/node.h"
#include "node/peers.h"
#include "node/plans.h"
#include "protocol/plan_feed.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0 1796205600LL /* 2026-12-02T10:00:00Z */

static char dir[64], fa[HLX_FPR_LEN], fb[HLX_FPR_LEN];
static struct hlx_home *hb;
static struct hlx_seckey *kb;

static struct hlx_home *new_home(const char *name, const char *org)
{
	char p[PATH_MAX];
	struct hlx_home *h = NULL;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (hlx_home_create(p, org, 1, NULL, NULL, T0 - 86400, 365) ||
	    hlx_home_open(p, &h))
		abort();
	return h;
}

/* Peer NAME of home h pinned to the root of home of, holding its chain as
 * a verified pull leaves it. */
static void add_peer(struct hlx_home *h, const char *name, struct hlx_home *of)
{
	const struct hlx_trust *t = hlx_home_trust(of);
	struct hlx_peers *ps = NULL;
	struct hlx_buf b = HLX_BUF_INIT;
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/peers/%s", hlx_home_dir(h), name);
	if (hlx_peers_load(hlx_home_dir(h), &ps) ||
	    hlx_peers_add(ps, name, "https://example.org/feed/", hlx_trust_root(t), "") ||
	    hlx_peers_save(hlx_home_dir(h), ps) ||
	    hlx_file_mkdirs(p, 0700) || hlx_trust_serialize(t, &b))
		abort();
	snprintf(p, sizeof(p), "%s/peers/%s/trust.json", hlx_home_dir(h), name);
	if (hlx_file_write(p, b.data, b.len, 0600))
		abort();
	hlx_buf_free(&b);
	hlx_peers_free(ps);
}

/* Plan name@version: signatories hl-a (when a) and hl-b (when b). */
static struct hlx_plan *plan_of(const char *name, int64_t version, int a, int b)
{
	char sig[300], json[1024];
	struct hlx_plan *p = NULL;

	snprintf(sig, sizeof(sig), "%s%s%s%s%s%s%s",
		 a ? "{\"org\":\"hl-a\",\"root\":\"" : "", a ? fa : "", a ? "\"}" : "",
		 a && b ? "," : "",
		 b ? "{\"org\":\"hl-b\",\"root\":\"" : "", b ? fb : "", b ? "\"}" : "");
	snprintf(json, sizeof(json),
		 "{\"format\":\"hlx-plan-1\",\"name\":\"%s\",\"version\":%lld,"
		 "\"lease_seconds\":3600,\"settle_seconds\":0,\"signatories\":[%s],"
		 "\"rules\":[{\"country\":\"*\",\"category\":\"*\",\"org\":\"%s\","
		 "\"fallbacks\":[],\"channel\":\"self\",\"languages\":[\"en\"],"
		 "\"deadlines\":{\"le_hold_hours\":0,\"notice_hours\":24,"
		 "\"renotice_hours\":0,\"escalate_after\":0}}]}",
		 name, (long long)version, sig, a ? "hl-a" : "hl-b");
	if (hlx_plan_parse(json, strlen(json), 0, &p))
		abort();
	return p;
}

/* B's act of kind k on doc (for version) at t, signed. */
static void act_b(struct hlx_plan_bact *x, const struct hlx_plan *doc,
		  enum hlx_plan_act_kind k, int64_t version, int64_t t)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;

	memset(x, 0, sizeof(*x));
	x->a.act = k;
	snprintf(x->a.org, sizeof(x->a.org), "hl-b");
	snprintf(x->a.plan, sizeof(x->a.plan), "%s", hlx_plan_name(doc));
	x->a.version = version;
	hlx_plan_hash(doc, x->a.doc);
	x->a.time = t;
	if (hlx_plan_act_body(&x->a, &body) ||
	    hlx_sshsig_sign(kb, HLX_PLAN_ACT_NAMESPACE, "sha512", body.data,
			    body.len, &sig))
		abort();
	x->body = strndup((char *)body.data, body.len);
	x->bodylen = body.len;
	x->sig = strndup((char *)sig.data, sig.len);
	x->siglen = sig.len;
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
}

static void acts_free(struct hlx_plan_bact *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].body);
		free(v[i].sig);
	}
}

/* Take the bundle of doc with acts into p, as a pull from B would. */
static int take(struct hlx_plans *p, const struct hlx_plan *doc,
		const struct hlx_plan_bact *acts, size_t nacts, int64_t now,
		size_t *added)
{
	struct hlx_plans_entry e;
	struct hlx_buf text = HLX_BUF_INIT;
	uint8_t h[32];
	int whole, rc;

	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "%s", hlx_plan_name(doc));
	e.version = hlx_plan_version(doc);
	hlx_plan_hash_hex(doc, e.doc);
	if (hlx_plan_bundle_encode(doc, acts, nacts, &text))
		abort();
	crypto_hash_sha256(h, text.data, text.len);
	sodium_bin2hex(e.bundle, sizeof(e.bundle), h, 32);
	rc = hlx_plans_take(p, (char *)text.data, text.len, &e, now, &whole, added);
	hlx_buf_free(&text);
	return rc;
}

/* B's plan name@1, signed by B, taken into p. */
static void flood_one(struct hlx_plans *p, const char *name, int names_a)
{
	struct hlx_plan *doc = plan_of(name, 1, names_a, 1);
	struct hlx_plan_bact act;
	size_t added = 0;
	int rc;

	act_b(&act, doc, HLX_PLAN_SIGN, 1, T0);
	rc = take(p, doc, &act, 1, T0 + 60, &added);
	if (rc || added != 1) {
		printf("# taking %s: %s (added %zu)\n", name, hlx_err_detail(), added);
		abort();
	}
	acts_free(&act, 1);
	hlx_plan_free(doc);
}

static int listed(const struct hlx_plans_pub *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].e.name, name))
			return 1;
	return 0;
}

#define NFOREIGN 300 /* B alone */
#define NNAMING 300  /* B and A, signed by B only */

/*
 * A proposes zz-own (A alone: complete at once) and zz-pend (A and B:
 * pending, signed by A).  B's plans f000.. (B alone, complete at once)
 * and n000.. (naming A, signed by B) all sort before them, more than a
 * head lists.  A's head lists both of its plans, then all of n..., then
 * f... while room is left; sorted.
 */
static void test_flood(struct hlx_node *n)
{
	struct hlx_plans *p = NULL;
	struct hlx_plans_pub *v = NULL;
	struct hlx_plans_done r;
	struct hlx_plan *own;
	struct hlx_buf canon = HLX_BUF_INIT;
	size_t nv = 0, nn = 0, nf = 0, sorted = 1;
	char name[32];
	struct timespec t1, t2;

	own = plan_of("zz-own", 1, 1, 0);
	if (hlx_plan_canonical(own, &canon))
		abort();
	is_rc(hlx_plans_propose(n, (char *)canon.data, canon.len, NULL, NULL, T0, &r),
	      HLX_OK, "A proposes zz-own");
	ok(r.in_force, "zz-own is in force (A is its only signatory)");
	hlx_plan_free(own);
	hlx_buf_free(&canon);
	own = plan_of("zz-pend", 1, 1, 1);
	if (hlx_plan_canonical(own, &canon))
		abort();
	is_rc(hlx_plans_propose(n, (char *)canon.data, canon.len, NULL, NULL, T0, &r),
	      HLX_OK, "A proposes zz-pend");
	ok(r.nsigned == 1 && r.of == 2, "zz-pend is pending, signed by A");
	hlx_plan_free(own);
	hlx_buf_free(&canon);

	is_rc(hlx_plans_load(n, &p), HLX_OK, "load A's plans");
	for (int i = 0; p && i < NFOREIGN; i++) {
		snprintf(name, sizeof(name), "f%03d", i);
		flood_one(p, name, 0);
	}
	for (int i = 0; p && i < NNAMING; i++) {
		snprintf(name, sizeof(name), "n%03d", i);
		flood_one(p, name, 1);
	}
	is_rc(p ? hlx_plans_save(p) : HLX_EINVAL, HLX_OK, "B's %d plans kept",
	      NFOREIGN + NNAMING);
	hlx_plans_free(p);
	p = NULL;

	is_rc(hlx_plans_load(n, &p), HLX_OK, "load A's plans again");
	ok(p && hlx_plans_ndocs(p) == 4 + NFOREIGN + NNAMING, "A holds %zu documents",
	   p ? hlx_plans_ndocs(p) : 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	is_rc(p ? hlx_plans_publishable(p, &v, &nv) : HLX_EINVAL, HLX_OK,
	      "what A publishes");
	clock_gettime(CLOCK_MONOTONIC, &t2);
	printf("# publishable over %d documents: %.2f s\n", 4 + NFOREIGN + NNAMING,
	       (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9);
	ok(nv == HLX_PLANS_HEAD_PLANS_MAX, "a full head: %zu plans", nv);
	ok(listed(v, nv, "zz-own"), "lists A's complete plan zz-own");
	ok(listed(v, nv, "zz-pend"), "lists A's pending plan zz-pend");
	for (size_t i = 0; i < nv; i++) {
		nn += v[i].e.name[0] == 'n';
		nf += v[i].e.name[0] == 'f';
		if (i && (strcmp(v[i - 1].e.name, v[i].e.name) > 0 ||
			  (!strcmp(v[i - 1].e.name, v[i].e.name) &&
			   v[i - 1].e.version >= v[i].e.version)))
			sorted = 0;
	}
	ok(nn == NNAMING, "then every plan naming A: %zu", nn);
	ok(nf == HLX_PLANS_HEAD_PLANS_MAX - 2 - NNAMING, "then the rest while room is left: %zu",
	   nf);
	ok(listed(v, nv, "f000") && listed(v, nv, "f209") && !listed(v, nv, "f210"),
	   "the first of the rest in name order (f000..f209)");
	ok(sorted, "the head is sorted by name, then version");
	{
		struct hlx_plans_head h;
		struct hlx_buf body = HLX_BUF_INIT;

		memset(&h, 0, sizeof(h));
		snprintf(h.org, sizeof(h.org), "hl-a");
		h.seq = 1;
		h.issued = T0;
		h.expires = T0 + 86400;
		h.trust_length = 1;
		memset(h.trust_head, '0', 64);
		h.n = nv;
		h.v = calloc(nv ? nv : 1, sizeof(*h.v));
		for (size_t i = 0; h.v && i < nv; i++)
			h.v[i] = v[i].e;
		is_rc(hlx_plans_head_body(&h, &body), HLX_OK, "the head encodes (sorted, at most 512)");
		free(h.v);
		hlx_buf_free(&body);
	}
	hlx_plans_pub_free(v, nv);
	hlx_plans_free(p);
}

/*
 * Plan wd (B alone), versions 1 and 2, both complete.  40 withdraw acts
 * of B for version 2 arrive in the bundle of version 1, then the same 40
 * and 30 more in the bundle of version 2: the 40 held twice count once,
 * so version 2 holds 64 (the cap), not 24.
 */
static void test_withdrawals(struct hlx_node *n)
{
	struct hlx_plans *p = NULL;
	struct hlx_plan *v1 = plan_of("wd", 1, 0, 1), *v2 = plan_of("wd", 2, 0, 1);
	struct hlx_plan_bact acts[71];
	size_t added = 0, nw = 0;
	int64_t now = T0 + 1000;
	struct hlx_plans_pub *v = NULL;
	size_t nv = 0;

	is_rc(hlx_plans_load(n, &p), HLX_OK, "load A's plans");
	if (!p)
		goto out;
	act_b(&acts[0], v2, HLX_PLAN_SIGN, 2, T0);
	is_rc(take(p, v2, acts, 1, now, &added), HLX_OK, "wd@2 taken");
	acts_free(acts, 1);
	act_b(&acts[0], v1, HLX_PLAN_SIGN, 1, T0);
	for (int i = 0; i < 40; i++)
		act_b(&acts[1 + i], v2, HLX_PLAN_WITHDRAW, 2, T0 + 100 + i);
	is_rc(take(p, v1, acts, 41, now, &added), HLX_OK, "wd@1 taken, 40 withdrawals");
	ok(added == 41, "all 41 acts added (%zu)", added);
	acts_free(acts, 41);
	for (int i = 0; i < 70; i++)
		act_b(&acts[i], v2, HLX_PLAN_WITHDRAW, 2, T0 + 100 + i);
	is_rc(take(p, v2, acts, 70, now, &added), HLX_OK, "wd@2 again, 70 withdrawals");
	ok(added == 64, "the 40 held, then 24 new ones up to 64: %zu added", added);
	acts_free(acts, 70);
	is_rc(hlx_plans_publishable(p, &v, &nv), HLX_OK, "published");
	for (size_t i = 0; i < nv; i++)
		if (!strcmp(v[i].e.name, "wd") && v[i].e.version == 2) {
			const char *s = (const char *)v[i].text.data;

			for (size_t k = 0; k + 8 < v[i].text.len; k++)
				nw += !memcmp(s + k, "withdraw", 8);
		}
	ok(nw == 64, "wd@2's bundle carries 64 withdrawals (%zu)", nw);
	hlx_plans_pub_free(v, nv);
	is_rc(hlx_plans_save(p), HLX_OK, "wd kept");
out:
	hlx_plans_free(p);
	hlx_plan_free(v1);
	hlx_plan_free(v2);
}

/* An act of B that is held but was never signed (a store may hold acts
 * that no longer count: only the count of held withdrawals is read). */
static void act_unsigned(struct hlx_plan_bact *x, const struct hlx_plan *doc,
			 enum hlx_plan_act_kind k, int64_t version, int64_t t)
{
	struct hlx_buf body = HLX_BUF_INIT;

	memset(x, 0, sizeof(*x));
	x->a.act = k;
	snprintf(x->a.org, sizeof(x->a.org), "hl-b");
	snprintf(x->a.plan, sizeof(x->a.plan), "%s", hlx_plan_name(doc));
	x->a.version = version;
	hlx_plan_hash(doc, x->a.doc);
	x->a.time = t;
	if (hlx_plan_act_body(&x->a, &body))
		abort();
	x->body = strndup((char *)body.data, body.len);
	x->bodylen = body.len;
	x->sig = strdup("-----BEGIN SSH SIGNATURE-----\nx\n-----END SSH SIGNATURE-----\n");
	x->siglen = strlen(x->sig);
	hlx_buf_free(&body);
}

#define NFILL 25      /* plans g000.. in the store */
#define FILL_ACTS 1000 /* acts held for each */
#define NLATE 800     /* withdrawals of wd beyond the cap */

/*
 * The count of withdrawals reads the acts of one plan name only, each
 * once: with 25,000 acts of other plans held (a peer that withdraws 64
 * times from each of its plans brings that many in one pull), 800
 * withdrawals of wd beyond the cap are dropped at once.  The old count
 * scanned every act held for every act it counted, 800 times.
 */
static void test_withdrawals_scale(struct hlx_node *n, const char *home)
{
	struct hlx_plans *p = NULL;
	struct hlx_plan *v2 = plan_of("wd", 2, 0, 1);
	struct hlx_plan_bact *acts = calloc(NLATE > FILL_ACTS ? NLATE : FILL_ACTS,
					    sizeof(*acts));
	struct timespec t1, t2;
	size_t added = 0;
	double secs;
	char name[32];

	if (!acts)
		abort();
	for (int i = 0; i < NFILL; i++) {
		struct hlx_plan *g;
		struct hlx_buf text = HLX_BUF_INIT;
		char path[PATH_MAX], hex[65];

		snprintf(name, sizeof(name), "g%03d", i);
		g = plan_of(name, 1, 0, 1);
		act_unsigned(&acts[0], g, HLX_PLAN_SIGN, 1, T0);
		for (int j = 1; j < FILL_ACTS; j++)
			act_unsigned(&acts[j], g, HLX_PLAN_WITHDRAW, 1, T0 + j);
		hlx_plan_hash_hex(g, hex);
		if (hlx_plan_bundle_encode(g, acts, FILL_ACTS, &text) ||
		    hlx_home_path(path, home, HLX_HOME_PLAN_DIR, name, NULL) ||
		    hlx_file_mkdirs(path, 0755) ||
		    hlx_home_path(path, home, HLX_HOME_PLAN, name, hex) ||
		    hlx_file_write(path, text.data, text.len, 0644))
			abort();
		acts_free(acts, FILL_ACTS);
		hlx_buf_free(&text);
		hlx_plan_free(g);
	}
	is_rc(hlx_plans_load(n, &p), HLX_OK, "load A's plans with %d acts of %d other plans",
	      NFILL * FILL_ACTS, NFILL);
	for (int i = 0; i < NLATE; i++)
		act_b(&acts[i], v2, HLX_PLAN_WITHDRAW, 2, T0 + 300 + i);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	is_rc(p ? take(p, v2, acts, NLATE, T0 + 1000, &added) : HLX_EINVAL, HLX_OK,
	      "wd@2 with %d more withdrawals", NLATE);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	secs = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
	printf("# %d withdrawals over the cap, %d acts held: %.3f s\n", NLATE,
	       NFILL * FILL_ACTS, secs);
	ok(added == 0, "all dropped: 64 are held (%zu added)", added);
	/* checking the 800 signatures takes a fraction of a second; the old
	 * count took seconds (64 x 25,000 comparisons, 800 times) */
	ok(secs < 1.0, "in %.3f s, well under 1 s", secs);
	acts_free(acts, NLATE);
	free(acts);
	hlx_plans_free(p);
	hlx_plan_free(v2);
}

int main(void)
{
	char cmd[128], pa[PATH_MAX];
	struct hlx_home *ha;
	struct hlx_node *n = NULL;

	snprintf(dir, sizeof(dir), "/tmp/hlx-test-plans.XXXXXX");
	if (sodium_init() < 0 || !mkdtemp(dir))
		return 1;
	ha = new_home("a", "hl-a");
	hb = new_home("b", "hl-b");
	hlx_sshkey_fingerprint(hlx_trust_root(hlx_home_trust(ha)), fa);
	hlx_sshkey_fingerprint(hlx_trust_root(hlx_home_trust(hb)), fb);
	if (hlx_home_signing_key(hb, NULL, NULL, T0, &kb))
		abort();
	add_peer(ha, "hl-b", hb);
	snprintf(pa, sizeof(pa), "%s", hlx_home_dir(ha));
	hlx_home_free(ha);
	is_rc(hlx_node_open(pa, 1, &n), HLX_OK, "node A opened for writing");
	if (n) {
		test_withdrawals(n);
		test_flood(n);
		test_withdrawals_scale(n, pa);
	}
	hlx_node_free(n);
	hlx_seckey_free(kb);
	hlx_home_free(hb);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dir);
	return done_testing();
}
