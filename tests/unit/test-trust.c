/* SPDX-License-Identifier: MIT */
/*
 * Trust chains: delegation, validity windows, revocation, root rotation
 * (N to N+1), and every forgery the loader must refuse.
 */
#include "tap.h"
#include "keys/trust.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"

#include <jansson.h>
#include <sodium.h>

#define T0 1800000000LL /* 2027-01-15 */
#define DAY 86400LL

static struct hlx_seckey *root, *root2, *sign1, *sign2, *stranger;
static struct hlx_pubkey proot, proot2, psign1, psign2, pstranger;

static struct hlx_seckey *key(struct hlx_pubkey *pub)
{
	struct hlx_seckey *k = NULL;

	hlx_seckey_generate(&k);
	hlx_seckey_public(k, pub);
	return k;
}

/* Serialise t and load it again with pinned; returns the rc. */
static int reload(const struct hlx_trust *t, const struct hlx_pubkey *pinned,
		  struct hlx_trust **out)
{
	struct hlx_buf b = HLX_BUF_INIT;
	int rc = hlx_trust_serialize(t, &b);

	if (!rc)
		rc = hlx_trust_load((char *)b.data, b.len, pinned, out);
	hlx_buf_free(&b);
	return rc;
}

static int load_text(const char *s, const struct hlx_pubkey *pinned)
{
	struct hlx_trust *t = NULL;
	int rc = hlx_trust_load(s, strlen(s), pinned, &t);

	ok(rc != HLX_OK || t != NULL, "handle set exactly on success");
	hlx_trust_free(t);
	return rc;
}

static void test_basic(void)
{
	struct hlx_trust *t = NULL, *l = NULL;

	is_rc(hlx_trust_create("uk-test", root, T0, &t), HLX_OK, "create a chain");
	is_rc(hlx_trust_check(t, &psign1, T0), HLX_EUNTRUSTED,
	      "undelegated key not trusted");
	is_rc(hlx_trust_delegate(t, root, &psign1, T0, T0 + 10 * DAY, T0),
	      HLX_OK, "delegate a signing key for 10 days");
	is_rc(hlx_trust_check(t, &psign1, T0 + DAY), HLX_OK,
	      "delegated key valid inside its window");
	is_rc(hlx_trust_check(t, &psign1, T0 - 1), HLX_EEXPIRED,
	      "not valid before valid_after");
	is_rc(hlx_trust_check(t, &psign1, T0 + 10 * DAY), HLX_EEXPIRED,
	      "not valid at valid_before (exclusive)");
	is_rc(hlx_trust_check(t, &proot, T0), HLX_EUNTRUSTED,
	      "the root itself is not a signing key");
	is_rc(hlx_trust_delegate(t, root, &psign1, T0, T0 + DAY, T0),
	      HLX_EINVAL, "delegating the same key twice refused");
	is_rc(hlx_trust_delegate(t, root, &psign2, T0 + DAY, T0 + DAY, T0),
	      HLX_EINVAL, "empty window refused");
	is_rc(hlx_trust_delegate(t, stranger, &psign2, T0, T0 + DAY, T0),
	      HLX_EUNTRUSTED, "delegation signed by a non-root key refused");
	is_rc(hlx_trust_check(t, &psign2, T0), HLX_EUNTRUSTED,
	      "failed delegation left the chain unchanged");
	ok(hlx_trust_length(t) == 2, "chain has 2 statements");

	is_rc(reload(t, &proot, &l), HLX_OK, "serialised chain loads");
	is_rc(l ? hlx_trust_check(l, &psign1, T0 + 1) : -1, HLX_OK,
	      "loaded chain trusts the delegated key");
	is_str(l ? hlx_trust_org(l) : NULL, "uk-test", "org survives");
	hlx_trust_free(l);
	l = NULL;
	is_rc(reload(t, &pstranger, &l), HLX_EUNTRUSTED,
	      "chain refused against another pinned root");
	ok(l == NULL, "nothing returned on failure");

	is_rc(hlx_trust_revoke(t, root, &psign1, T0 + 2 * DAY, T0 + DAY), HLX_EINVAL,
	      "revocation from after the statement refused");
	is_rc(hlx_trust_revoke(t, root, &psign1, T0 + DAY, T0 + DAY), HLX_OK, "revoke");
	is_rc(hlx_trust_check(t, &psign1, T0 + 2 * DAY), HLX_EREVOKED,
	      "revoked key refused inside its window");
	is_rc(hlx_trust_check(t, &psign1, T0 + DAY), HLX_EREVOKED,
	      "revoked from the revocation time on (inclusive)");
	is_rc(hlx_trust_check(t, &psign1, T0 + DAY - 1), HLX_OK,
	      "what it signed before the revocation stays valid");
	ok(hlx_trust_last_time(t) == T0 + DAY, "last statement time");
	is_rc(hlx_trust_revoke(t, root, &psign1, T0 + DAY, T0 + DAY), HLX_EINVAL,
	      "revoking twice refused");
	is_rc(hlx_trust_revoke(t, root, &pstranger, T0 + DAY, T0 + DAY), HLX_EINVAL,
	      "revoking an unknown key refused");
	is_rc(hlx_trust_delegate(t, root, &psign1, T0, T0 + DAY, T0), HLX_EINVAL,
	      "a revoked key cannot be delegated again");
	is_rc(reload(t, &proot, &l), HLX_OK, "chain with revocation loads");
	is_rc(l ? hlx_trust_check(l, &psign1, T0 + 2 * DAY) : -1, HLX_EREVOKED,
	      "revocation survives serialisation");
	hlx_trust_free(l);
	hlx_trust_free(t);
}

static void test_rotation(void)
{
	struct hlx_trust *t = NULL, *l = NULL;

	hlx_trust_create("uk-test", root, T0, &t);
	hlx_trust_delegate(t, root, &psign1, T0, T0 + 100 * DAY, T0);
	is_rc(hlx_trust_rotate_root(t, stranger, root2, T0), HLX_EUNTRUSTED,
	      "rotation signed by a non-root refused");
	is_rc(hlx_trust_rotate_root(t, root, root2, T0 + DAY), HLX_OK,
	      "rotate the root, signed by old and new");
	ok(hlx_pubkey_eq(hlx_trust_root(t), &proot2), "new root is current");
	is_rc(hlx_trust_delegate(t, root, &psign2, T0, T0 + DAY, T0),
	      HLX_EUNTRUSTED, "old root can no longer delegate");
	is_rc(hlx_trust_delegate(t, root2, &psign2, T0, T0 + DAY, T0),
	      HLX_OK, "new root delegates");
	is_rc(hlx_trust_check(t, &psign1, T0 + 2 * DAY), HLX_OK,
	      "key delegated by the old root stays valid");
	is_rc(reload(t, &proot, &l), HLX_OK,
	      "rotated chain loads against the first root");
	hlx_trust_free(l);
	l = NULL;
	is_rc(reload(t, &proot2, &l), HLX_OK,
	      "rotated chain loads against the new root");
	hlx_trust_free(l);
	is_rc(hlx_trust_rotate_root(t, root2, root, T0), HLX_EINVAL,
	      "rotation back to an old root refused");
	{
		char f1[HLX_FPR_LEN], f2[HLX_FPR_LEN], f3[HLX_FPR_LEN];

		hlx_sshkey_fingerprint(&proot, f1);
		hlx_sshkey_fingerprint(&proot2, f2);
		hlx_sshkey_fingerprint(&psign1, f3);
		ok(hlx_trust_has_root(t, f1), "has_root: the first root");
		ok(hlx_trust_has_root(t, f2), "has_root: the rotated-in root");
		ok(!hlx_trust_has_root(t, f3), "has_root: a signing key is no root");
		f1[10] ^= 1;
		ok(!hlx_trust_has_root(t, f1), "has_root: one byte off");
		ok(!hlx_trust_has_root(t, ""), "has_root: empty");
	}
	hlx_trust_free(t);
}

/* Build a chain, then forge it in the JSON in many ways. */
static void test_forgeries(void)
{
	struct hlx_trust *t = NULL, *evil = NULL;
	struct hlx_buf b = HLX_BUF_INIT, e = HLX_BUF_INIT;
	json_t *doc, *st, *arr, *copy;
	char *s;
	size_t n, flips = 0, accepted = 0;

	hlx_trust_create("uk-test", root, T0, &t);
	hlx_trust_delegate(t, root, &psign1, T0, T0 + DAY, T0);
	hlx_trust_revoke(t, root, &psign1, T0, T0);
	hlx_trust_serialize(t, &b);
	is_rc(load_text((char *)b.data, &proot), HLX_OK, "genuine chain loads");

	/* Every single-byte change anywhere in the file. */
	for (size_t i = 0; i < b.len; i += 3) {
		uint8_t c = b.data[i];

		b.data[i] = c == 'A' ? 'B' : 'A';
		struct hlx_trust *x = NULL;
		if (hlx_trust_load((char *)b.data, b.len, &proot, &x) == HLX_OK) {
			/* only harmless JSON whitespace may change */
			if (c != ' ' && c != '\n')
				accepted++;
		}
		hlx_trust_free(x);
		b.data[i] = c;
		flips++;
	}
	ok(accepted == 0, "%zu byte changes all rejected (%zu accepted)", flips,
	   accepted);

	doc = json_loadb((char *)b.data, b.len, 0, NULL);
	arr = json_object_get(doc, "statements");
	n = json_array_size(arr);

	/* Truncation drops the revocation: must be noticed by whoever pinned
	 * the length; the chain itself still verifies, so it is the caller's
	 * rollback check.  Here: removing a middle statement breaks 'prev'. */
	copy = json_deep_copy(doc);
	json_array_remove(json_object_get(copy, "statements"), 1);
	s = json_dumps(copy, 0);
	ok(load_text(s, &proot) != HLX_OK, "removing a middle statement rejected");
	free(s);
	json_decref(copy);

	/* Reordering */
	copy = json_deep_copy(doc);
	st = json_deep_copy(json_array_get(json_object_get(copy, "statements"), 2));
	json_array_remove(json_object_get(copy, "statements"), 2);
	json_array_insert_new(json_object_get(copy, "statements"), 1, st);
	s = json_dumps(copy, 0);
	ok(load_text(s, &proot) != HLX_OK, "reordered statements rejected");
	free(s);
	json_decref(copy);

	/* A statement's signature swapped for another statement's */
	copy = json_deep_copy(doc);
	json_object_set(json_array_get(json_object_get(copy, "statements"), 1),
			"signatures",
			json_object_get(json_array_get(
				json_object_get(copy, "statements"), 2), "signatures"));
	s = json_dumps(copy, 0);
	ok(load_text(s, &proot) != HLX_OK, "signature of another statement rejected");
	free(s);
	json_decref(copy);

	/* Extra signature, missing signature, unknown top-level field */
	copy = json_deep_copy(doc);
	json_array_clear(json_object_get(json_array_get(
		json_object_get(copy, "statements"), 1), "signatures"));
	s = json_dumps(copy, 0);
	ok(load_text(s, &proot) != HLX_OK, "statement without signature rejected");
	free(s);
	json_decref(copy);
	copy = json_deep_copy(doc);
	json_object_set_new(copy, "extra", json_true());
	s = json_dumps(copy, 0);
	is_rc(load_text(s, &proot), HLX_EINVAL, "unknown top-level field rejected");
	free(s);
	json_decref(copy);
	is_rc(load_text("{}", &proot), HLX_EINVAL, "empty object rejected");
	is_rc(load_text("[", &proot), HLX_EINVAL, "bad JSON rejected");
	is_rc(load_text("{\"format\":\"hlx-trust-1\",\"statements\":[]}", &proot),
	      HLX_EINVAL, "chain without statements rejected");

	/* An attacker's own chain that claims the org, signed by his root,
	 * with a valid delegation: refused against the pinned root. */
	hlx_trust_create("uk-test", stranger, T0, &evil);
	hlx_trust_delegate(evil, stranger, &psign2, T0, T0 + DAY, T0);
	hlx_trust_serialize(evil, &e);
	is_rc(load_text((char *)e.data, &proot), HLX_EUNTRUSTED,
	      "chain from another root rejected");
	hlx_trust_free(evil);

	/* Non-canonical body: re-encode a body with a space */
	copy = json_deep_copy(doc);
	st = json_array_get(json_object_get(copy, "statements"), 1);
	{
		const char *body = json_string_value(json_object_get(st, "body"));
		struct hlx_buf nb = HLX_BUF_INIT;

		hlx_buf_put(&nb, body, 1);
		hlx_buf_puts(&nb, " ");
		hlx_buf_puts(&nb, body + 1);
		json_object_set_new(st, "body", json_string((char *)nb.data));
		hlx_buf_free(&nb);
	}
	s = json_dumps(copy, 0);
	is_rc(load_text(s, &proot), HLX_EINVAL, "non-canonical body rejected");
	free(s);
	json_decref(copy);

	ok(n == 3, "chain had 3 statements");
	json_decref(doc);
	hlx_buf_free(&b);
	hlx_buf_free(&e);
	hlx_trust_free(t);
}

static void test_org(void)
{
	is_rc(hlx_org_validate("uk-iwf"), HLX_OK, "org 'uk-iwf' valid");
	is_rc(hlx_org_validate("a.b_c-9"), HLX_OK, "org 'a.b_c-9' valid");
	is_rc(hlx_org_validate(""), HLX_EINVAL, "empty org refused");
	is_rc(hlx_org_validate("-x"), HLX_EINVAL, "leading '-' refused");
	is_rc(hlx_org_validate("UK"), HLX_EINVAL, "upper case refused");
	is_rc(hlx_org_validate("a b"), HLX_EINVAL, "space refused");
	is_rc(hlx_org_validate(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	      HLX_EINVAL, "65 characters refused");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	root = key(&proot);
	root2 = key(&proot2);
	sign1 = key(&psign1);
	sign2 = key(&psign2);
	stranger = key(&pstranger);
	test_basic();
	test_rotation();
	test_forgeries();
	test_org();
	hlx_seckey_free(root);
	hlx_seckey_free(root2);
	hlx_seckey_free(sign1);
	hlx_seckey_free(sign2);
	hlx_seckey_free(stranger);
	return done_testing();
}
