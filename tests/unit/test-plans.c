/* SPDX-License-Identifier: MIT */
/*
 * The node's plan store (node/plans.h) on real homes: node A (hl-a) with
 * peers B (hl-b) and C (hl-c).  A's store holds more one-signatory plans
 * of B than a plans head can list, and plans of B that name A but that A
 * never signed (written there directly: more than the quota lets pulls
 * bring, as an older store or many organisations hold), all sorting
 * before A's own: the head A publishes still lists every plan A
 * signed, then those naming A, then the rest while room is left, sorted.
 * Withdrawals: a withdraw act held in two bundles counts once against the
 * 64 a plan name and organisation may hold, and counting them reads that
 * plan's acts only: 800 over the cap are dropped in well under a second
 * with 25,000 acts of other plans held.  The quota of documents per
 * organisation (section 5.4), on fresh homes with a third organisation C
 * (test_quota).  Names and URLs are synthetic.
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

static char dir[64], fa[HLX_FPR_LEN], fb[HLX_FPR_LEN], fc[HLX_FPR_LEN];
static struct hlx_seckey *ka, *kb, *kc;

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

/* Plan name@version: signatories hl-a (when a), hl-b (when b) and hl-c
 * (when c); the first of them routes everything. */
static struct hlx_plan *plan_abc(const char *name, int64_t version, int a, int b,
				 int c)
{
	char sig[400], json[1024];
	struct hlx_plan *p = NULL;
	size_t k = 0;

	sig[0] = '\0';
	if (a)
		k += (size_t)snprintf(sig + k, sizeof(sig) - k,
				      "{\"org\":\"hl-a\",\"root\":\"%s\"}", fa);
	if (b)
		k += (size_t)snprintf(sig + k, sizeof(sig) - k,
				      "%s{\"org\":\"hl-b\",\"root\":\"%s\"}", k ? "," : "", fb);
	if (c)
		k += (size_t)snprintf(sig + k, sizeof(sig) - k,
				      "%s{\"org\":\"hl-c\",\"root\":\"%s\"}", k ? "," : "", fc);
	snprintf(json, sizeof(json),
		 "{\"format\":\"hlx-plan-1\",\"name\":\"%s\",\"version\":%lld,"
		 "\"lease_seconds\":3600,\"settle_seconds\":0,\"signatories\":[%s],"
		 "\"rules\":[{\"country\":\"*\",\"category\":\"*\",\"org\":\"%s\","
		 "\"fallbacks\":[],\"channel\":\"self\",\"languages\":[\"en\"],"
		 "\"deadlines\":{\"le_hold_hours\":0,\"notice_hours\":24,"
		 "\"renotice_hours\":0,\"escalate_after\":0}}]}",
		 name, (long long)version, sig, a ? "hl-a" : b ? "hl-b" : "hl-c");
	if (hlx_plan_parse(json, strlen(json), 0, &p))
		abort();
	return p;
}

/* Plan name@version: signatories hl-a (when a) and hl-b (when b). */
static struct hlx_plan *plan_of(const char *name, int64_t version, int a, int b)
{
	return plan_abc(name, version, a, b, 0);
}

/* The act of org (key k) of kind k on doc (for version) at t, signed. */
static void act_by(struct hlx_plan_bact *x, const char *org,
		   const struct hlx_seckey *key, const struct hlx_plan *doc,
		   enum hlx_plan_act_kind k, int64_t version, int64_t t)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;

	memset(x, 0, sizeof(*x));
	x->a.act = k;
	snprintf(x->a.org, sizeof(x->a.org), "%s", org);
	snprintf(x->a.plan, sizeof(x->a.plan), "%s", hlx_plan_name(doc));
	x->a.version = version;
	hlx_plan_hash(doc, x->a.doc);
	x->a.time = t;
	if (hlx_plan_act_body(&x->a, &body) ||
	    hlx_sshsig_sign(key, HLX_PLAN_ACT_NAMESPACE, "sha512", body.data,
			    body.len, &sig))
		abort();
	x->body = strndup((char *)body.data, body.len);
	x->bodylen = body.len;
	x->sig = strndup((char *)sig.data, sig.len);
	x->siglen = sig.len;
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
}

/* B's act of kind k on doc (for version) at t, signed. */
static void act_b(struct hlx_plan_bact *x, const struct hlx_plan *doc,
		  enum hlx_plan_act_kind k, int64_t version, int64_t t)
{
	act_by(x, "hl-b", kb, doc, k, version, t);
}

static void acts_free(struct hlx_plan_bact *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].body);
		free(v[i].sig);
	}
}

/* Take the bundle of doc with acts into p, as a pull would; *whole:
 * whether the pull records the bundle as taken. */
static int take_w(struct hlx_plans *p, const struct hlx_plan *doc,
		  const struct hlx_plan_bact *acts, size_t nacts, int64_t now,
		  size_t *added, int *whole)
{
	struct hlx_plans_entry e;
	struct hlx_buf text = HLX_BUF_INIT;
	uint8_t h[32];
	int rc;

	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "%s", hlx_plan_name(doc));
	e.version = hlx_plan_version(doc);
	hlx_plan_hash_hex(doc, e.doc);
	if (hlx_plan_bundle_encode(doc, acts, nacts, &text))
		abort();
	crypto_hash_sha256(h, text.data, text.len);
	sodium_bin2hex(e.bundle, sizeof(e.bundle), h, 32);
	rc = hlx_plans_take(p, (char *)text.data, text.len, &e, now, whole, added);
	hlx_buf_free(&text);
	return rc;
}

static int take(struct hlx_plans *p, const struct hlx_plan *doc,
		const struct hlx_plan_bact *acts, size_t nacts, int64_t now,
		size_t *added)
{
	int whole;

	return take_w(p, doc, acts, nacts, now, added, &whole);
}

/* The bundle of doc with acts written into the store of home as is (a
 * store the quota of section 5.4 did not shape: older, or filled by many
 * organisations). */
static void store(const char *home, const struct hlx_plan *doc,
		  const struct hlx_plan_bact *acts, size_t nacts)
{
	struct hlx_buf text = HLX_BUF_INIT;
	char path[PATH_MAX], hex[65];

	hlx_plan_hash_hex(doc, hex);
	if (hlx_plan_bundle_encode(doc, acts, nacts, &text) ||
	    hlx_home_path(path, home, HLX_HOME_PLAN_DIR, hlx_plan_name(doc), NULL) ||
	    hlx_file_mkdirs(path, 0755) ||
	    hlx_home_path(path, home, HLX_HOME_PLAN, hlx_plan_name(doc), hex) ||
	    hlx_file_write(path, text.data, text.len, 0644))
		abort();
	hlx_buf_free(&text);
}

/* B's plan name@1, signed by B, into the store of home (more than the
 * quota lets a pull bring: what A publishes of a store that holds them). */
static void flood_one(const char *home, const char *name, int names_a)
{
	struct hlx_plan *doc = plan_of(name, 1, names_a, 1);
	struct hlx_plan_bact act;

	act_b(&act, doc, HLX_PLAN_SIGN, 1, T0);
	store(home, doc, &act, 1);
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
static void test_flood(struct hlx_node *n, const char *home)
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
		flood_one(home, name, 0);
	}
	for (int i = 0; p && i < NNAMING; i++) {
		snprintf(name, sizeof(name), "n%03d", i);
		flood_one(home, name, 1);
	}
	ok(p != NULL, "B's %d plans stored", NFOREIGN + NNAMING);
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

		snprintf(name, sizeof(name), "g%03d", i);
		g = plan_of(name, 1, 0, 1);
		act_unsigned(&acts[0], g, HLX_PLAN_SIGN, 1, T0);
		for (int j = 1; j < FILL_ACTS; j++)
			act_unsigned(&acts[j], g, HLX_PLAN_WITHDRAW, 1, T0 + j);
		store(home, g, acts, FILL_ACTS);
		acts_free(acts, FILL_ACTS);
		hlx_plan_free(g);
	}
	is_rc(hlx_plans_load(n, &p), HLX_OK, "load A's plans with %d acts of %d other plans",
	      NFILL * FILL_ACTS, NFILL);
	for (int i = 0; i < NLATE; i++)
		act_b(&acts[i], v2, HLX_PLAN_WITHDRAW, 2, T0 + 300 + i);
	/* CPU time, not wall time: a loaded machine (make check runs
	 * programs side by side) must not make it fail */
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	is_rc(p ? take(p, v2, acts, NLATE, T0 + 1000, &added) : HLX_EINVAL, HLX_OK,
	      "wd@2 with %d more withdrawals", NLATE);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t2);
	secs = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
	printf("# %d withdrawals over the cap, %d acts held: %.3f s of CPU\n", NLATE,
	       NFILL * FILL_ACTS, secs);
	ok(added == 0, "all dropped: 64 are held (%zu added)", added);
	/* checking the 800 signatures takes a fraction of a second; the old
	 * count took seconds (64 x 25,000 comparisons, 800 times: 1.9 s
	 * in a release build, 8.5 s under the sanitizers) */
	ok(secs < 1.5, "in %.3f s of CPU, well under 1.5 s", secs);
	acts_free(acts, NLATE);
	free(acts);
	hlx_plans_free(p);
	hlx_plan_free(v2);
}

#define NQUOTA 100 /* plans C offers, C alone */

/* Take the bundle of doc with acts; 1 if the document was kept.  *taken:
 * the pull would record the bundle as taken (not fetched again). */
static int offer(struct hlx_plans *p, const struct hlx_plan *doc,
		 const struct hlx_plan_bact *acts, size_t nacts, int *taken)
{
	size_t added = 0;
	int whole = 0, rc = take_w(p, doc, acts, nacts, T0 + 60, &added, &whole);

	if (rc)
		printf("# taking %s: %s\n", hlx_plan_name(doc), hlx_err_detail());
	if (taken)
		*taken = whole;
	return !rc && added > 0;
}

/* name@1 with signatories a, b, c, signed by those in sa, sb, sc; 1 if
 * it was kept. */
static int offer_plan(struct hlx_plans *p, const char *name, int a, int b, int c,
		      int sa, int sb, int sc)
{
	struct hlx_plan *doc = plan_abc(name, 1, a, b, c);
	struct hlx_plan_bact acts[3];
	size_t k = 0;
	int kept;

	if (sa)
		act_by(&acts[k++], "hl-a", ka, doc, HLX_PLAN_SIGN, 1, T0);
	if (sb)
		act_by(&acts[k++], "hl-b", kb, doc, HLX_PLAN_SIGN, 1, T0);
	if (sc)
		act_by(&acts[k++], "hl-c", kc, doc, HLX_PLAN_SIGN, 1, T0);
	kept = offer(p, doc, acts, k, NULL);
	acts_free(acts, k);
	hlx_plan_free(doc);
	return kept;
}

/* How many documents of p have a name starting with c. */
static size_t docs_of(const struct hlx_plans *p, char c)
{
	size_t k = 0;

	for (size_t i = 0; p && i < hlx_plans_ndocs(p); i++)
		k += hlx_plan_name(hlx_plans_doc(p, i))[0] == c;
	return k;
}

/*
 * The quota (spec/plan.md section 5.4), on fresh homes: C offers 100
 * plans with C its only signatory (each complete at once), every bundle
 * with a second act of C dated an hour ahead (deferred).  At most 64 are
 * kept; a dropped one is no error and its bundle counts as taken, so the
 * pull does not fetch it every round though it carries a deferred act.
 * B's plans, a plan B and C signed, a plan A and C signed (complete,
 * routing A) and A's own are kept all the same; a plan naming A that
 * only C signed is dropped (it is charged to C alone).  The quota holds
 * across a reload.
 */
static void test_quota(struct hlx_node *n)
{
	struct hlx_plans *p = NULL;
	struct hlx_plans_done r;
	struct hlx_plan *doc;
	struct hlx_plan_bact acts[2];
	struct hlx_buf canon = HLX_BUF_INIT;
	size_t kept = 0, dropped_taken = 0, errs = 0;
	char name[32];

	is_rc(hlx_plans_load(n, &p), HLX_OK, "quota: load A's plans");
	if (!p)
		return;
	for (int i = 0; i < NQUOTA; i++) {
		int k, taken = 0;
		size_t before = hlx_plans_ndocs(p);

		snprintf(name, sizeof(name), "c%03d", i);
		doc = plan_abc(name, 1, 0, 0, 1);
		act_by(&acts[0], "hl-c", kc, doc, HLX_PLAN_SIGN, 1, T0);
		act_by(&acts[1], "hl-c", kc, doc, HLX_PLAN_WITHDRAW, 1, T0 + 4000);
		k = offer(p, doc, acts, 2, &taken);
		kept += k;
		errs += !k && hlx_plans_ndocs(p) != before;
		dropped_taken += !k && taken;
		acts_free(acts, 2);
		hlx_plan_free(doc);
	}
	ok(kept == HLX_PLANS_ORG_DOCS_MAX, "of %d plans C alone signed, %d kept: %zu",
	   NQUOTA, HLX_PLANS_ORG_DOCS_MAX, kept);
	ok(dropped_taken == NQUOTA - HLX_PLANS_ORG_DOCS_MAX && !errs,
	   "each of the %zu dropped is no error and counts as taken (%zu), deferred act and all",
	   NQUOTA - kept, dropped_taken);
	ok(offer_plan(p, "b-legit", 0, 1, 0, 0, 1, 0), "B's own plan is kept");
	ok(offer_plan(p, "bc-both", 0, 1, 1, 0, 1, 1),
	   "a plan B and C signed is kept (charged to B too)");
	ok(offer_plan(p, "ac-both", 1, 0, 1, 1, 0, 1),
	   "a plan A and C signed, complete and routing A, is kept");
	ok(!offer_plan(p, "ca-pend", 1, 0, 1, 0, 0, 1),
	   "a plan naming A that only C signed is dropped");
	is_rc(hlx_plans_save(p), HLX_OK, "quota: saved");
	hlx_plans_free(p);
	p = NULL;

	doc = plan_abc("a-own", 1, 1, 0, 0);
	if (hlx_plan_canonical(doc, &canon))
		abort();
	is_rc(hlx_plans_propose(n, (char *)canon.data, canon.len, NULL, NULL, T0, &r),
	      HLX_OK, "A proposes a-own after C's flood");
	ok(r.in_force, "a-own is in force");
	hlx_buf_free(&canon);
	hlx_plan_free(doc);

	is_rc(hlx_plans_load(n, &p), HLX_OK, "quota: load A's plans again");
	ok(docs_of(p, 'c') == HLX_PLANS_ORG_DOCS_MAX && docs_of(p, 'b') == 2 &&
	   docs_of(p, 'a') == 2 && p && hlx_plans_ndocs(p) == HLX_PLANS_ORG_DOCS_MAX + 4,
	   "A holds C's %d, B's 2, its own 2: %zu in all", HLX_PLANS_ORG_DOCS_MAX,
	   p ? hlx_plans_ndocs(p) : 0);
	ok(p && !offer_plan(p, "c999", 0, 0, 1, 0, 0, 1),
	   "after a reload, C's next plan is still dropped");
	ok(p && offer_plan(p, "b-more", 0, 1, 0, 0, 1, 0), "and B's next one kept");
	hlx_plans_free(p);
}

/* Homes TAG-a (hl-a), TAG-b (hl-b) and TAG-c (hl-c), their roots and
 * signing keys into the globals; A pins B and C.  Node A, opened for
 * writing, into *n; its home directory into pa. */
static void homes(const char *tag, struct hlx_node **n, char pa[PATH_MAX])
{
	struct hlx_home *ha, *hb, *hc;
	char name[32];

	snprintf(name, sizeof(name), "%s-a", tag);
	ha = new_home(name, "hl-a");
	snprintf(name, sizeof(name), "%s-b", tag);
	hb = new_home(name, "hl-b");
	snprintf(name, sizeof(name), "%s-c", tag);
	hc = new_home(name, "hl-c");
	hlx_sshkey_fingerprint(hlx_trust_root(hlx_home_trust(ha)), fa);
	hlx_sshkey_fingerprint(hlx_trust_root(hlx_home_trust(hb)), fb);
	hlx_sshkey_fingerprint(hlx_trust_root(hlx_home_trust(hc)), fc);
	hlx_seckey_free(ka);
	hlx_seckey_free(kb);
	hlx_seckey_free(kc);
	if (hlx_home_signing_key(ha, NULL, NULL, T0, &ka) ||
	    hlx_home_signing_key(hb, NULL, NULL, T0, &kb) ||
	    hlx_home_signing_key(hc, NULL, NULL, T0, &kc))
		abort();
	add_peer(ha, "hl-b", hb);
	add_peer(ha, "hl-c", hc);
	snprintf(pa, PATH_MAX, "%s", hlx_home_dir(ha));
	hlx_home_free(ha);
	hlx_home_free(hb);
	hlx_home_free(hc);
	*n = NULL;
	is_rc(hlx_node_open(pa, 1, n), HLX_OK, "node %s-a opened for writing", tag);
}

int main(void)
{
	char cmd[128], pa[PATH_MAX];
	struct hlx_node *n = NULL;

	snprintf(dir, sizeof(dir), "/tmp/hlx-test-plans.XXXXXX");
	if (sodium_init() < 0 || !mkdtemp(dir))
		return 1;
	homes("q", &n, pa);
	if (n)
		test_quota(n);
	hlx_node_free(n);
	homes("m", &n, pa);
	if (n) {
		test_withdrawals(n);
		test_flood(n, pa);
		test_withdrawals_scale(n, pa);
	}
	hlx_node_free(n);
	hlx_seckey_free(ka);
	hlx_seckey_free(kb);
	hlx_seckey_free(kc);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# cannot remove %s\n", dir);
	return done_testing();
}
