/* SPDX-License-Identifier: MIT */
/*
 * Prune checkpoints (spec/prune.md): encoding and strict parsing
 * (protocol/checkpoint.h), and the subscriber's verification against a
 * trust chain with its continuity cases (node/prune.h).
 */
#include "tap.h"
#include "keys/sshsig.h"
#include "keys/trust.h"
#include "node/prune.h"
#include "protocol/checkpoint.h"
#include "protocol/rtime.h"

#include <sodium.h>

#define T0 1798000000LL /* 2026-12-23 */

static struct hlx_seckey *root, *signer, *stranger;
static struct hlx_trust *trust;

static const char *const OLD[] = { "1111111111111111111111111111111111111111",
				   "2222222222222222222222222222222222222222",
				   "3333333333333333333333333333333333333333" };
static const char *const NEW[] = { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				   "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
				   "cccccccccccccccccccccccccccccccccccccccc" };
static const char *const TREE[] = { "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a",
				    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
				    "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c" };

/* Commits of earlier histories: versions 1 to 3 pruned now, and the
 * commit version 5 had before an earlier prune. */
static const char *const PRI[] = { "d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1",
				   "d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2",
				   "d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3" };
static const char *const E5 = "e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5";

/* Versions 4, 5, 6 of list uk-a of hotline-a, pruned before 4. */
static void sample(struct hlx_checkpoint *c)
{
	hlx_checkpoint_init(c);
	strcpy(c->org, "hotline-a");
	strcpy(c->list, "uk-a");
	c->before = 4;
	c->issued = T0;
	for (int i = 0; i < 3; i++) {
		struct hlx_checkpoint_version v;

		v.version = 4 + (uint64_t)i;
		strcpy(v.old, OLD[i]);
		strcpy(v.new_, NEW[i]);
		strcpy(v.tree, TREE[i]);
		v.time = T0 - 86400 * (3 - i);
		if (hlx_checkpoint_add(c, &v))
			abort();
	}
	for (int i = 0; i < 3; i++)
		if (hlx_checkpoint_add_prior(c, 1 + (uint64_t)i, PRI[i]))
			abort();
	if (hlx_checkpoint_add_prior(c, 5, E5))
		abort();
}

/* The signed file of c, signed by k for namespace ns. */
static int make(const struct hlx_checkpoint *c, struct hlx_seckey *k,
		const char *ns, struct hlx_buf *file)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	int rc = hlx_checkpoint_body(c, &body);

	if (!rc)
		rc = hlx_sshsig_sign(k, ns, "sha512", body.data, body.len, &sig);
	if (!rc)
		rc = hlx_checkpoint_file((char *)body.data, body.len,
					 (char *)sig.data, sig.len, file);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

static int parse(const char *text, size_t n)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	struct hlx_checkpoint c;
	int rc;

	hlx_checkpoint_init(&c);
	rc = hlx_checkpoint_parse(text, n, &c, &body, &sig);
	hlx_checkpoint_free(&c);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

/* A file whose body is the JSON text given (with a signature that does not
 * matter for parsing). */
static int parse_body(const char *body)
{
	struct hlx_buf f = HLX_BUF_INIT;
	int rc = hlx_checkpoint_file(body, strlen(body), "x", 1, &f);

	if (!rc)
		rc = parse((char *)f.data, f.len);
	hlx_buf_free(&f);
	return rc;
}

/* The sample's body with from replaced by to (first occurrence). */
static int parse_edit(const char *from, const char *to)
{
	struct hlx_checkpoint c;
	struct hlx_buf b = HLX_BUF_INIT, e = HLX_BUF_INIT;
	const char *p;
	int rc;

	sample(&c);
	if (hlx_checkpoint_body(&c, &b) || hlx_buf_putc(&b, 0))
		abort();
	p = strstr((char *)b.data, from);
	if (!p)
		abort();
	hlx_buf_put(&e, b.data, (size_t)(p - (char *)b.data));
	hlx_buf_puts(&e, to);
	hlx_buf_puts(&e, p + strlen(from));
	hlx_buf_putc(&e, 0);
	rc = parse_body((char *)e.data);
	hlx_checkpoint_free(&c);
	hlx_buf_free(&b);
	hlx_buf_free(&e);
	return rc;
}

static void test_encoding(void)
{
	struct hlx_checkpoint c, d;
	struct hlx_buf f = HLX_BUF_INIT, body = HLX_BUF_INIT, sig = HLX_BUF_INIT,
		       again = HLX_BUF_INIT;

	sample(&c);
	hlx_checkpoint_init(&d);
	is_rc(hlx_checkpoint_validate(&c), HLX_OK, "the sample is valid");
	is_rc(make(&c, signer, HLX_CHECKPOINT_NAMESPACE, &f), HLX_OK, "encode and sign");
	is_rc(hlx_checkpoint_parse((char *)f.data, f.len, &d, &body, &sig), HLX_OK,
	      "parse it back");
	ok(d.n == 3 && d.before == 4 && d.issued == T0 && !strcmp(d.org, "hotline-a") &&
	   !strcmp(d.list, "uk-a") && !strcmp(d.v[2].new_, NEW[2]) &&
	   d.v[0].time == T0 - 3 * 86400, "every field survives");
	ok(d.nprior == 4 && d.prior[0].version == 1 && !strcmp(d.prior[2].commit, PRI[2]) &&
	   d.prior[3].version == 5 && !strcmp(d.prior[3].commit, E5),
	   "the prior commits survive");
	ok(strstr((char *)body.data, "\"prior\":[{\"commits\":[\"d1d1") &&
	   strstr((char *)body.data, "\"d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3\"],\"first\":1},"
		  "{\"commits\":[\"e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5\"],\"first\":5}],"),
	   "prior commits are written as runs of consecutive versions");
	ok(hlx_checkpoint_prior_has(&d, 3, PRI[2]) && hlx_checkpoint_prior_has(&d, 5, E5) &&
	   !hlx_checkpoint_prior_has(&d, 2, PRI[2]) && !hlx_checkpoint_prior_has(&d, 5, OLD[1]),
	   "prior_has: that commit at that version only");
	is_rc(hlx_checkpoint_body(&d, &again), HLX_OK, "re-encode");
	ok(again.len == body.len && !memcmp(again.data, body.data, body.len),
	   "the body is canonical: re-encoding gives the same bytes");
	ok(strstr((char *)body.data, "{\"before\":4,\"format\":\"hlx-checkpoint-2\","
		  "\"issued\":\"2026-12-23T") == (char *)body.data,
	   "members sorted, compact");
	ok(hlx_checkpoint_find(&d, 3) == NULL && hlx_checkpoint_find(&d, 7) == NULL &&
	   hlx_checkpoint_find(&d, 5) == &d.v[1], "find: covered versions only");
	hlx_checkpoint_free(&d);
	ok(d.n == 0 && d.v == NULL, "free leaves an empty checkpoint");

	/* malformed bodies */
	is_rc(parse_edit("\"before\":4", "\"before\":1"), HLX_EINVAL, "before 1 refused");
	is_rc(parse_edit("\"before\":4", "\"before\":-4"), HLX_EINVAL, "negative before refused");
	is_rc(parse_edit("\"before\":4", "\"before\":5"), HLX_EINVAL,
	      "versions not starting at before refused");
	is_rc(parse_edit("\"version\":5", "\"version\":6"), HLX_EINVAL,
	      "versions not consecutive refused");
	is_rc(parse_edit("1111111111", "111111111A"), HLX_EINVAL, "upper-case hex refused");
	is_rc(parse_edit("1111111111111111111111111111111111111111", "1111"), HLX_EINVAL,
	      "short hex refused");
	is_rc(parse_edit("\"tree\":\"0a0a", "\"tree\":\"0g0a"), HLX_EINVAL, "non-hex tree refused");
	is_rc(parse_edit("\"time\":\"", "\"time\":\"x"), HLX_EINVAL, "bad time refused");
	is_rc(parse_edit("\"issued\":\"2026", "\"issued\":\"1926"), HLX_EINVAL,
	      "issued out of range refused");
	is_rc(parse_edit("\"list\":\"uk-a\"", "\"list\":\"UK A\""), HLX_EINVAL, "bad list name refused");
	is_rc(parse_edit("\"org\":\"hotline-a\"", "\"org\":\"\""), HLX_EINVAL, "empty org refused");
	is_rc(parse_edit("hlx-checkpoint-2", "hlx-checkpoint-1"), HLX_EUNSUPPORTED,
	      "another format (the first, without prior commits) is unsupported");
	is_rc(parse_edit("\"prior\":[{", "\"prior\":{},\"x\":[{"), HLX_EINVAL,
	      "prior not an array refused");
	is_rc(parse_edit("\"first\":1}", "\"first\":0}"), HLX_EINVAL,
	      "a prior run from version 0 refused");
	is_rc(parse_edit("\"first\":5}", "\"first\":7}"), HLX_EINVAL,
	      "a prior commit after the checkpoint's last version refused");
	is_rc(parse_edit("\"first\":5}", "\"first\":4}"), HLX_EINVAL,
	      "a prior run that continues the one before it refused (not canonical)");
	is_rc(parse_edit("\"first\":5}", "\"first\":\"5\"}"), HLX_EINVAL,
	      "a string first refused");
	is_rc(parse_edit("[\"e5e5", "[\"E5e5"), HLX_EINVAL, "an upper-case prior commit refused");
	is_rc(parse_edit("[\"e5e5", "[5,\"e5e5"), HLX_EINVAL, "a prior commit not a string refused");
	is_rc(parse_edit("{\"commits\":[\"e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5\"],\"first\":5}",
			 "{\"commits\":[],\"first\":5}"), HLX_EINVAL, "an empty prior run refused");
	is_rc(parse_edit("{\"commits\":[\"e5", "{\"a\":1,\"commits\":[\"e5"), HLX_EINVAL,
	      "an unknown member in a prior run refused");
	is_rc(parse_edit("\"first\":5}", "\"first\":18446744073709551615}"), HLX_EINVAL,
	      "a prior run past the largest version refused");
	is_rc(parse_edit("\"before\":4,", ""), HLX_EINVAL, "a missing member refused");
	is_rc(parse_edit("\"before\":4,", "\"before\":4,\"extra\":1,"), HLX_EINVAL,
	      "an unknown member refused");
	is_rc(parse_edit("{\"new\"", "{\"comment\":\"x\",\"new\""), HLX_EINVAL,
	      "an unknown member in a version refused");
	is_rc(parse_edit("\"before\":4", "\"before\":4.0"), HLX_EINVAL, "a real number refused");
	is_rc(parse_edit("\"before\":4", "\"before\":\"4\""), HLX_EINVAL, "a string number refused");
	is_rc(parse_body("{\"before\":4,\"format\":\"hlx-checkpoint-2\",\"issued\":\"2026-12-23T00:00:00Z\","
			 "\"list\":\"uk-a\",\"org\":\"hotline-a\",\"prior\":[],\"versions\":[]}"),
	      HLX_EINVAL, "no versions refused");
	is_rc(parse_edit("\"prior\":[", "\"x\":["), HLX_EINVAL,
	      "a checkpoint without prior commits refused");
	is_rc(parse_body("{\"before\":4,\"format\":\"hlx-checkpoint-1\",\"issued\":\"2026-12-23T00:00:00Z\","
			 "\"list\":\"uk-a\",\"org\":\"hotline-a\",\"versions\":[{\"new\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
			 "\"old\":\"1111111111111111111111111111111111111111\",\"time\":\"2026-12-23T00:00:00Z\","
			 "\"tree\":\"0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a\",\"version\":4}]}"),
	      HLX_EUNSUPPORTED, "a checkpoint of the first format is unsupported (not malformed)");
	is_rc(parse_edit("\"before\":4,", "\"before\":4,\"before\":4,"), HLX_EINVAL,
	      "duplicate members refused");
	is_rc(parse_edit("{\"before\":4,", "{ \"before\":4,"), HLX_EINVAL,
	      "a body not in canonical form refused");
	is_rc(parse_body("[1]"), HLX_EINVAL, "a body that is not an object refused");
	is_rc(parse("{\"body\":\"{}\"}", 13), HLX_EINVAL, "a file without signature refused");
	is_rc(parse((char *)f.data, f.len - 30), HLX_EINVAL, "a truncated file refused");
	is_rc(parse("{\"body\":\"x\",\"signature\":\"y\",\"z\":1}", 35), HLX_EINVAL,
	      "a file with a third member refused");
	is_rc(parse((char *)f.data, HLX_CHECKPOINT_MAX + 1), HLX_ETOOBIG,
	      "an oversized file refused before parsing");
	{
		struct hlx_checkpoint big;
		struct hlx_checkpoint_version v = c.v[0];
		int rc = HLX_OK;

		hlx_checkpoint_init(&big);
		for (int i = 0; i < HLX_CHECKPOINT_VERSIONS_MAX && !rc; i++)
			rc = hlx_checkpoint_add(&big, &v);
		is_rc(rc, HLX_OK, "%d versions fit", HLX_CHECKPOINT_VERSIONS_MAX);
		is_rc(hlx_checkpoint_add(&big, &v), HLX_ETOOBIG, "one more is too many");
		rc = HLX_OK;
		for (int i = 0; i < HLX_CHECKPOINT_PRIOR_MAX && !rc; i++)
			rc = hlx_checkpoint_add_prior(&big, 1, OLD[0]);
		is_rc(rc, HLX_OK, "%d prior commits fit", HLX_CHECKPOINT_PRIOR_MAX);
		is_rc(hlx_checkpoint_add_prior(&big, 1, OLD[0]), HLX_ETOOBIG,
		      "one more is too many");
		hlx_checkpoint_free(&big);
	}
	{
		/* what a prune keeps of too many prior commits: the newest */
		size_t n = HLX_CHECKPOINT_PRIOR_MAX + 10;
		struct hlx_checkpoint_prior *p = calloc(n, sizeof(*p));

		for (size_t i = 0; i < n; i++)
			p[i].version = 1 + i;
		ok(hlx_checkpoint_prior_keep(p, n) == 10, "one long run: its last %d commits",
		   HLX_CHECKPOINT_PRIOR_MAX);
		ok(hlx_checkpoint_prior_keep(p, 5) == 0, "under the bounds: all");
		for (size_t i = 0; i < n; i++)
			p[i].version = 1 + 2 * i; /* a run each */
		ok(hlx_checkpoint_prior_keep(p, n) == n - HLX_CHECKPOINT_RUNS_MAX,
		   "runs of one: the last %d runs", HLX_CHECKPOINT_RUNS_MAX);
		for (size_t i = 0; i < 40; i++)
			p[i].version = 1 + i / 4 * 5 + i % 4; /* runs of 4 */
		ok(hlx_checkpoint_prior_keep(p, 40) == 0 &&
		   hlx_checkpoint_prior_runs(p, 40) == 10, "10 runs of 4 kept whole");
		free(p);
	}
	{
		/* the largest a prune writes: every bound reached, version
		 * numbers of 19 digits; it must fit in a checkpoint file */
		struct hlx_checkpoint big;
		struct hlx_buf bb = HLX_BUF_INIT, bf = HLX_BUF_INIT;
		struct hlx_checkpoint_version v = c.v[0];
		const uint64_t b0 = 1000000000000000000ULL;
		int rc = HLX_OK;
		char armor[400];

		hlx_checkpoint_init(&big);
		strcpy(big.org, "hotline-a");
		strcpy(big.list, "uk-a");
		big.before = b0 + HLX_CHECKPOINT_PRIOR_MAX;
		big.issued = T0;
		for (int i = 0; i < HLX_CHECKPOINT_VERSIONS_MAX && !rc; i++) {
			v.version = big.before + (uint64_t)i;
			rc = hlx_checkpoint_add(&big, &v);
		}
		/* runs of 150 commits, one version apart */
		for (uint64_t i = 0; i < HLX_CHECKPOINT_PRIOR_MAX && !rc; i++)
			rc = hlx_checkpoint_add_prior(&big, b0 + i + i / 150, OLD[1]);
		memset(armor, 'A', sizeof(armor) - 1);
		armor[sizeof(armor) - 1] = '\0';
		if (!rc)
			rc = hlx_checkpoint_body(&big, &bb);
		if (!rc)
			rc = hlx_checkpoint_file((char *)bb.data, bb.len, armor,
						 strlen(armor), &bf);
		is_rc(rc, HLX_OK, "a checkpoint at every bound encodes (%zu runs)",
		      hlx_checkpoint_prior_runs(big.prior, big.nprior));
		ok(bf.len < HLX_CHECKPOINT_MAX, "and its file (%zu bytes) fits", bf.len);
		big.prior[HLX_CHECKPOINT_PRIOR_MAX - 1].version += 2;
		hlx_buf_reset(&bb);
		is_rc(hlx_checkpoint_body(&big, &bb), HLX_ETOOBIG, "one run more is too many");
		hlx_checkpoint_free(&big);
		hlx_buf_free(&bb);
		hlx_buf_free(&bf);
	}
	{
		struct hlx_checkpoint bad;

		sample(&bad);
		bad.v[1].version = 9;
		is_rc(hlx_checkpoint_body(&bad, &again), HLX_EINVAL,
		      "encoding validates first");
		hlx_checkpoint_free(&bad);
	}
	hlx_checkpoint_free(&c);
	hlx_buf_free(&f);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	hlx_buf_free(&again);
}

static int verify(const struct hlx_buf *f, uint64_t ver, const char *commit,
		  const char *tree, int64_t held, struct hlx_prune_cont *cont)
{
	struct hlx_prune_have have = { "hotline-a", "uk-a", ver, commit, tree, held };
	struct hlx_checkpoint c;
	int rc;

	hlx_checkpoint_init(&c);
	rc = hlx_prune_checkpoint_verify((char *)f->data, f->len, trust, &have,
					 T0 + 60, &c, cont);
	hlx_checkpoint_free(&c);
	return rc;
}

static void test_verify(void)
{
	struct hlx_checkpoint c;
	struct hlx_buf f = HLX_BUF_INIT, g = HLX_BUF_INIT;
	struct hlx_prune_have have = { "hotline-b", "uk-a", 4, OLD[0], TREE[0], -1 };
	struct hlx_prune_cont k;
	const char *other = "9999999999999999999999999999999999999999";

	sample(&c);
	if (make(&c, signer, HLX_CHECKPOINT_NAMESPACE, &f))
		abort();
	is_rc(verify(&f, 0, "", "", -1, &k), HLX_OK, "nothing held: verifies");
	ok(k.kind == HLX_PRUNE_REBASE, "nothing held: re-baseline");
	is_rc(verify(&f, 3, PRI[2], other, -1, &k), HLX_OK, "version 3 held: verifies");
	ok(k.kind == HLX_PRUNE_REBASE,
	   "a version before the checkpoint, a commit it lists as pruned: re-baseline");
	is_rc(verify(&f, 3, other, other, -1, &k), HLX_EUNTRUSTED,
	      "a version before the checkpoint, a commit it does not list: refused");
	ok(k.kind == 0 && strstr(hlx_err_detail(), "fork"), "as a fork");
	is_rc(verify(&f, 2, PRI[2], other, -1, &k), HLX_EUNTRUSTED,
	      "a pruned commit listed for another version: a fork");
	is_rc(verify(&f, 5, E5, TREE[1], -1, &k), HLX_OK,
	      "the commit an earlier prune replaced, same tree: verifies");
	ok(k.kind == HLX_PRUNE_MAPPED && !strcmp(k.new_commit, NEW[1]),
	   "it maps to the new commit");
	is_rc(verify(&f, 5, E5, other, -1, &k), HLX_EUNTRUSTED,
	      "that commit with another tree: a fork");
	is_rc(verify(&f, 5, OLD[1], TREE[1], -1, &k), HLX_OK, "version 5 held: verifies");
	ok(k.kind == HLX_PRUNE_MAPPED && !strcmp(k.new_commit, NEW[1]),
	   "its old commit maps to the new one");
	is_rc(verify(&f, 6, NEW[2], TREE[2], -1, &k), HLX_OK, "the new commit held");
	ok(k.kind == HLX_PRUNE_CURRENT, "already on the pruned history");
	is_rc(verify(&f, 4, other, TREE[0], -1, &k), HLX_EUNTRUSTED,
	      "a commit the checkpoint does not list, even with the same tree: a fork");
	is_rc(verify(&f, 4, other, other, -1, &k), HLX_EUNTRUSTED,
	      "another commit and tree: a fork");
	ok(k.kind == 0, "no continuity given on failure");
	is_rc(verify(&f, 7, other, other, -1, &k), HLX_EUNTRUSTED,
	      "a version after the checkpoint's last");
	is_rc(verify(&f, 5, OLD[1], TREE[1], T0, &k), HLX_EUNTRUSTED,
	      "not newer than the checkpoint held: a replay");
	is_rc(verify(&f, 5, OLD[1], TREE[1], T0 - 1, &k), HLX_OK,
	      "newer than the checkpoint held");
	hlx_checkpoint_free(&c);
	is_rc(hlx_prune_checkpoint_verify((char *)f.data, f.len, trust, &have, T0,
					  &c, &k), HLX_EUNTRUSTED, "another organisation's");
	hlx_checkpoint_free(&c);
	have.org = "hotline-a";
	have.list = "uk-b";
	is_rc(hlx_prune_checkpoint_verify((char *)f.data, f.len, trust, &have, T0,
					  &c, &k), HLX_EUNTRUSTED, "another list's");
	hlx_checkpoint_free(&c);
	have.list = "uk-a";
	is_rc(hlx_prune_checkpoint_verify((char *)f.data, f.len, trust, &have,
					  T0 - 301, &c, &k), HLX_EUNTRUSTED,
	      "issued more than 5 minutes in the future");
	hlx_checkpoint_free(&c);

	sample(&c);
	is_rc(make(&c, stranger, HLX_CHECKPOINT_NAMESPACE, &g), HLX_OK, "(a stranger signs)");
	is_rc(verify(&g, 5, OLD[1], TREE[1], -1, &k), HLX_EUNTRUSTED,
	      "signed by a key the chain never delegated");
	hlx_buf_reset(&g);
	is_rc(make(&c, signer, "hlx-head", &g), HLX_OK, "(signed as a head)");
	is_rc(verify(&g, 5, OLD[1], TREE[1], -1, &k), HLX_EBADSIG,
	      "another namespace does not verify");
	hlx_buf_reset(&g);
	c.issued = T0 + 400 * 86400;
	is_rc(make(&c, signer, HLX_CHECKPOINT_NAMESPACE, &g), HLX_OK, "(issued late)");
	{
		struct hlx_prune_have h2 = { "hotline-a", "uk-a", 5, OLD[1], TREE[1], -1 };
		struct hlx_checkpoint d;

		hlx_checkpoint_init(&d);
		is_rc(hlx_prune_checkpoint_verify((char *)g.data, g.len, trust, &h2,
						  T0 + 400 * 86400, &d, &k),
		      HLX_EEXPIRED, "signed outside the key's window");
		hlx_checkpoint_free(&d);
	}
	hlx_checkpoint_free(&c);
	{
		/* the body altered after signing (still canonical) */
		char *t = malloc(f.len + 1), *p;

		memcpy(t, f.data, f.len);
		t[f.len] = 0;
		p = strstr(t, "aaaaaaaa");
		p[0] = 'd';
		is_rc(verify(&(struct hlx_buf){ (uint8_t *)t, f.len, f.len + 1, 0 },
			     5, OLD[1], TREE[1], -1, &k), HLX_EBADSIG,
		      "a tampered body does not verify");
		free(t);
	}
	hlx_buf_free(&f);
	hlx_buf_free(&g);
}

int main(void)
{
	uint8_t seed[32];
	struct hlx_pubkey pub;

	if (sodium_init() < 0)
		return 1;
	memset(seed, 1, sizeof(seed));
	hlx_seckey_from_seed(seed, &root);
	memset(seed, 2, sizeof(seed));
	hlx_seckey_from_seed(seed, &signer);
	memset(seed, 3, sizeof(seed));
	hlx_seckey_from_seed(seed, &stranger);
	hlx_seckey_public(signer, &pub);
	if (hlx_trust_create("hotline-a", root, T0 - 10 * 86400, &trust) ||
	    hlx_trust_delegate(trust, root, &pub, T0 - 10 * 86400, T0 + 365 * 86400,
			       T0 - 10 * 86400)) {
		printf("Bail out! cannot make a trust chain: %s\n", hlx_err_detail());
		return 1;
	}
	test_encoding();
	test_verify();
	hlx_trust_free(trust);
	hlx_seckey_free(root);
	hlx_seckey_free(signer);
	hlx_seckey_free(stranger);
	return done_testing();
}
