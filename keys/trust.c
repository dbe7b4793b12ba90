/* SPDX-License-Identifier: MIT */
#include "keys/trust.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT "hlx-trust-1"

struct statement {
	char *body;
	char *sigs[2];
	int nsigs;
};

struct hlx_trust {
	char org[HLX_ORG_MAX + 1];
	struct hlx_pubkey root;
	uint8_t head[32];
	struct statement *st;
	size_t nst, capst;
	struct hlx_trust_key *keys;
	size_t nkeys, capkeys;
	/* every root key the chain has had, to find the pinned one */
	struct hlx_pubkey *roots;
	size_t nroots;
	int64_t last_time; /* of the last statement */
};

int hlx_org_validate(const char *org)
{
	size_t n = strlen(org);

	if (n == 0 || n > HLX_ORG_MAX)
		return hlx_err(HLX_EINVAL,
			       "organisation name '%.70s': must be 1 to %d characters",
			       org, HLX_ORG_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = org[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return hlx_err(HLX_EINVAL,
				       "organisation name '%.70s': character %zu is not allowed "
				       "(use a-z, 0-9 and . _ - , starting with a letter or digit)",
				       org, i + 1);
	}
	return HLX_OK;
}

static void statement_free(struct statement *s)
{
	free(s->body);
	free(s->sigs[0]);
	free(s->sigs[1]);
}

void hlx_trust_free(struct hlx_trust *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nst; i++)
		statement_free(&t->st[i]);
	free(t->st);
	free(t->keys);
	free(t->roots);
	free(t);
}

static const char *fpr(const struct hlx_pubkey *k, char buf[HLX_FPR_LEN])
{
	hlx_sshkey_fingerprint(k, buf);
	return buf;
}

static struct hlx_trust_key *find_key(const struct hlx_trust *t,
				      const struct hlx_pubkey *k)
{
	for (size_t i = 0; i < t->nkeys; i++)
		if (hlx_pubkey_eq(&t->keys[i].key, k))
			return &t->keys[i];
	return NULL;
}

static int is_root(const struct hlx_trust *t, const struct hlx_pubkey *k)
{
	for (size_t i = 0; i < t->nroots; i++)
		if (hlx_pubkey_eq(&t->roots[i], k))
			return 1;
	return 0;
}

/* Read the string member name of o as a key or a time. */
static int get_str(json_t *o, const char *name, const char **s, size_t *n)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_string(v))
		return hlx_err(HLX_EINVAL, "field '%s' missing or not a string",
			       name);
	*s = json_string_value(v);
	*n = json_string_length(v);
	return HLX_OK;
}

static int get_key(json_t *o, const char *name, struct hlx_pubkey *k)
{
	const char *s;
	size_t n;
	int rc = get_str(o, name, &s, &n);

	if (!rc)
		rc = hlx_sshkey_parse(s, n, k, NULL);
	return rc ? hlx_err_wrap(HLX_EINVAL, "field '%s'", name) : HLX_OK;
}

static int get_time(json_t *o, const char *name, int64_t *t)
{
	const char *s;
	size_t n;
	int rc = get_str(o, name, &s, &n);

	if (!rc)
		rc = hlx_time_parse(s, n, t);
	return rc ? hlx_err_wrap(HLX_EINVAL, "field '%s'", name) : HLX_OK;
}

/* The body must hold exactly these fields. */
static int check_fields(json_t *o, const char *const *names)
{
	size_t want = 0;

	for (; names[want]; want++)
		if (!json_object_get(o, names[want]))
			return hlx_err(HLX_EINVAL, "field '%s' missing",
				       names[want]);
	if (json_object_size(o) != want)
		return hlx_err(HLX_EINVAL, "unknown fields (want exactly %zu)",
			       want);
	return HLX_OK;
}

static int verify_sig(const char *armor, const char *body, size_t blen,
		      const struct hlx_pubkey *want, const char *who)
{
	struct hlx_sshsig *sig = NULL;
	struct hlx_pubkey signer;
	char f1[HLX_FPR_LEN], f2[HLX_FPR_LEN];
	int rc;

	rc = hlx_sshsig_parse_armor(armor, strlen(armor), &sig);
	if (rc)
		return hlx_err_wrap(rc, "signature by the %s", who);
	signer = *hlx_sshsig_signer(sig);
	if (!hlx_pubkey_eq(&signer, want)) {
		rc = hlx_err(HLX_EUNTRUSTED,
			     "signature by %s where the %s %s must sign",
			     fpr(&signer, f1), who, fpr(want, f2));
		goto out;
	}
	rc = hlx_sshsig_verify(sig, HLX_TRUST_NAMESPACE,
			       (const uint8_t *)body, blen);
	if (rc)
		rc = hlx_err_wrap(HLX_EBADSIG, "signature by the %s %s", who,
				  fpr(want, f1));
out:
	hlx_sshsig_free(sig);
	return rc;
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	void *q;
	size_t nc;

	if (n < *cap)
		return HLX_OK;
	nc = *cap ? *cap * 2 : 8;
	q = realloc(*p, nc * size);
	if (!q)
		return hlx_err(HLX_ENOMEM, "cannot grow the trust chain");
	*p = q;
	*cap = nc;
	return HLX_OK;
}

/* The kinds of statement (spec/trust.md). */
enum st_kind { ST_ROOT, ST_DELEGATE, ST_REVOKE };

/* A statement as read and checked, before it is applied. */
struct checked {
	enum st_kind kind;
	struct hlx_pubkey key;
	int64_t when;             /* "time" */
	const char *org;          /* root: in the JSON object */
	int64_t va, vb;           /* delegate: validity window */
	int64_t since;            /* revoke */
};

/* The body as a JSON object, which must be in canonical form. */
static int load_canonical(const char *body, size_t blen, json_t **o,
			  char **canon)
{
	json_error_t jerr;

	*o = json_loadb(body, blen, JSON_REJECT_DUPLICATES, &jerr);
	if (!*o || !json_is_object(*o))
		return hlx_err(HLX_EINVAL, "body is not a JSON object: %s",
			       *o ? "other type" : jerr.text);
	*canon = json_dumps(*o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!*canon || strlen(*canon) != blen || memcmp(*canon, body, blen) != 0)
		return hlx_err(HLX_EINVAL, "body is not in canonical form");
	return HLX_OK;
}

/* What every statement holds: its type and exactly its fields, the next
 * sequence number, the previous statement's hash, a key and a time; the
 * first statement is a root. */
static int check_common(const struct hlx_trust *t, json_t *o,
			struct checked *c)
{
	static const char *const root_f[] = { "type", "seq", "prev", "org",
					      "key", "time", NULL };
	static const char *const deleg_f[] = { "type", "seq", "prev", "key",
					       "valid_after", "valid_before",
					       "time", NULL };
	static const char *const revoke_f[] = { "type", "seq", "prev", "key",
						"since", "time", NULL };
	char prevhex[65];
	const char *type, *prev;
	size_t tl, pl;
	int64_t seq;
	int rc;

	rc = get_str(o, "type", &type, &tl);
	if (rc)
		return rc;
	if (!strcmp(type, "root"))
		c->kind = ST_ROOT, rc = check_fields(o, root_f);
	else if (!strcmp(type, "delegate"))
		c->kind = ST_DELEGATE, rc = check_fields(o, deleg_f);
	else if (!strcmp(type, "revoke"))
		c->kind = ST_REVOKE, rc = check_fields(o, revoke_f);
	else
		rc = hlx_err(HLX_EINVAL, "unknown statement type '%.20s'", type);
	if (rc)
		return rc;
	if (!json_is_integer(json_object_get(o, "seq")) ||
	    (seq = json_integer_value(json_object_get(o, "seq"))) !=
		    (int64_t)t->nst + 1)
		return hlx_err(HLX_EINVAL, "sequence number is not %zu", t->nst + 1);
	rc = get_str(o, "prev", &prev, &pl);
	if (rc)
		return rc;
	if (t->nst == 0)
		prevhex[0] = '\0';
	else
		sodium_bin2hex(prevhex, sizeof(prevhex), t->head, 32);
	if (strcmp(prev, prevhex) != 0)
		return hlx_err(HLX_EINVAL,
			       "'prev' does not name the previous statement");
	rc = get_key(o, "key", &c->key);
	if (!rc)
		rc = get_time(o, "time", &c->when);
	if (rc)
		return rc;
	if (t->nst == 0 && c->kind != ST_ROOT)
		return hlx_err(HLX_EINVAL, "the first statement must be 'root'");
	return HLX_OK;
}

/* A root: the first one signed by its own key; a rotation keeps the
 * organisation, takes a key never used, and is signed by the current root
 * and the new one. */
static int check_root(const struct hlx_trust *t, json_t *o, struct checked *c,
		      const char *body, size_t blen, const char *const *sigs,
		      int nsigs)
{
	char f[HLX_FPR_LEN];
	size_t ol;
	int rc;

	rc = get_str(o, "org", &c->org, &ol);
	if (rc)
		return rc;
	if (t->nst == 0) {
		rc = hlx_org_validate(c->org);
		if (rc)
			return rc;
		if (nsigs != 1)
			return hlx_err(HLX_EINVAL,
				       "first root statement needs 1 signature, has %d",
				       nsigs);
		return verify_sig(sigs[0], body, blen, &c->key, "new root");
	}
	if (strcmp(c->org, t->org) != 0)
		return hlx_err(HLX_EINVAL,
			       "root rotation changes the organisation to '%.64s'",
			       c->org);
	if (is_root(t, &c->key) || find_key(t, &c->key))
		return hlx_err(HLX_EINVAL,
			       "root rotation to a key already used: %s",
			       fpr(&c->key, f));
	if (nsigs != 2)
		return hlx_err(HLX_EINVAL,
			       "root rotation needs 2 signatures (old and new root), has %d",
			       nsigs);
	rc = verify_sig(sigs[0], body, blen, &t->root, "current root");
	if (!rc)
		rc = verify_sig(sigs[1], body, blen, &c->key, "new root");
	return rc;
}

/* A delegation or a revocation: one signature, by the current root. */
static int check_root_signed(const struct hlx_trust *t, const char *body,
			     size_t blen, const char *const *sigs, int nsigs)
{
	if (nsigs != 1)
		return hlx_err(HLX_EINVAL,
			       "statement needs 1 signature, has %d", nsigs);
	return verify_sig(sigs[0], body, blen, &t->root, "current root");
}

/* A delegation: a non-empty validity window, for a key never delegated
 * and not a root key. */
static int check_delegate(const struct hlx_trust *t, json_t *o,
			  struct checked *c, const char *body, size_t blen,
			  const char *const *sigs, int nsigs)
{
	char f[HLX_FPR_LEN];
	int rc;

	rc = get_time(o, "valid_after", &c->va);
	if (!rc)
		rc = get_time(o, "valid_before", &c->vb);
	if (rc)
		return rc;
	if (c->va >= c->vb)
		return hlx_err(HLX_EINVAL, "empty validity window");
	if (find_key(t, &c->key) || is_root(t, &c->key))
		return hlx_err(HLX_EINVAL,
			       "key %s is already delegated or a root key",
			       fpr(&c->key, f));
	return check_root_signed(t, body, blen, sigs, nsigs);
}

/* A revocation: from a time not after the statement, of a delegated key
 * not revoked yet. */
static int check_revoke(const struct hlx_trust *t, json_t *o,
			struct checked *c, const char *body, size_t blen,
			const char *const *sigs, int nsigs)
{
	struct hlx_trust_key *tk;
	char f[HLX_FPR_LEN];
	int rc;

	rc = get_time(o, "since", &c->since);
	if (rc)
		return rc;
	if (c->since > c->when)
		return hlx_err(HLX_EINVAL,
			       "revocation from a time after the statement");
	if (!((tk = find_key(t, &c->key)) && !tk->revoked))
		return hlx_err(HLX_EINVAL,
			       "revocation of %s, which is not a delegated, unrevoked key",
			       fpr(&c->key, f));
	return check_root_signed(t, body, blen, sigs, nsigs);
}

/* Apply a checked statement: room and copies first, then the change
 * without any failure point. */
static int record(struct hlx_trust *t, const struct checked *c,
		  const char *body, size_t blen, const char *const *sigs,
		  int nsigs)
{
	struct statement s = { 0 };
	struct hlx_trust_key *tk;
	int rc;

	rc = grow((void **)&t->st, &t->capst, t->nst, sizeof(*t->st));
	if (!rc)
		rc = grow((void **)&t->keys, &t->capkeys, t->nkeys,
			  sizeof(*t->keys));
	if (!rc && c->kind == ST_ROOT) {
		struct hlx_pubkey *r = realloc(t->roots,
					       (t->nroots + 1) * sizeof(*r));
		if (!r)
			rc = hlx_err(HLX_ENOMEM, "cannot grow the trust chain");
		else
			t->roots = r;
	}
	if (rc)
		return rc;
	s.body = strndup(body, blen);
	s.nsigs = nsigs;
	for (int i = 0; i < nsigs; i++)
		s.sigs[i] = strdup(sigs[i]);
	if (!s.body || !s.sigs[0] || (nsigs == 2 && !s.sigs[1])) {
		statement_free(&s);
		return hlx_err(HLX_ENOMEM, "cannot copy a statement");
	}
	t->st[t->nst++] = s;
	crypto_hash_sha256(t->head, (const uint8_t *)body, blen);
	t->last_time = c->when;
	switch (c->kind) {
	case ST_ROOT:
		if (t->nroots == 0)
			snprintf(t->org, sizeof(t->org), "%s", c->org);
		t->roots[t->nroots++] = c->key;
		t->root = c->key;
		break;
	case ST_DELEGATE:
		tk = &t->keys[t->nkeys++];
		tk->key = c->key;
		tk->valid_after = c->va;
		tk->valid_before = c->vb;
		tk->revoked = 0;
		tk->revoked_since = 0;
		break;
	case ST_REVOKE:
		tk = find_key(t, &c->key);
		tk->revoked = 1;
		tk->revoked_since = c->since;
		break;
	}
	return HLX_OK;
}

/*
 * Verify one statement against the chain so far and, only if all of it
 * holds, apply it.  Takes ownership of nothing: copies what it keeps.
 */
static int apply(struct hlx_trust *t, const char *body, size_t blen,
		 const char *const *sigs, int nsigs)
{
	json_t *o = NULL;
	char *canon = NULL;
	struct checked c = { 0 };
	int rc;

	if (t->nst >= HLX_TRUST_MAX_STATEMENTS)
		return hlx_err(HLX_ETOOBIG, "more than %d statements",
			       HLX_TRUST_MAX_STATEMENTS);
	if (blen > 4096 || memchr(body, '\0', blen))
		return hlx_err(HLX_EINVAL, "body too long or holds NUL");
	rc = load_canonical(body, blen, &o, &canon);
	if (!rc)
		rc = check_common(t, o, &c);
	if (rc)
		goto out;
	switch (c.kind) {
	case ST_ROOT:
		rc = check_root(t, o, &c, body, blen, sigs, nsigs);
		break;
	case ST_DELEGATE:
		rc = check_delegate(t, o, &c, body, blen, sigs, nsigs);
		break;
	case ST_REVOKE:
		rc = check_revoke(t, o, &c, body, blen, sigs, nsigs);
		break;
	}
	if (!rc)
		rc = record(t, &c, body, blen, sigs, nsigs);
out:
	free(canon);
	json_decref(o);
	return rc;
}

static struct hlx_trust *alloc_trust(void)
{
	return calloc(1, sizeof(struct hlx_trust));
}

int hlx_trust_load(const char *text, size_t n, const struct hlx_pubkey *pinned,
		   struct hlx_trust **out)
{
	json_error_t jerr;
	json_t *doc = NULL, *arr, *v;
	struct hlx_trust *t = NULL;
	char f[HLX_FPR_LEN];
	size_t i;
	int rc = HLX_OK;

	*out = NULL;
	if (n > HLX_TRUST_MAX)
		return hlx_err(HLX_ETOOBIG, "trust chain of %zu bytes (at most %d)",
			       n, HLX_TRUST_MAX);
	doc = json_loadb(text, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc || !json_is_object(doc)) {
		rc = hlx_err(HLX_EINVAL, "trust chain is not a JSON object%s%s",
			     doc ? "" : ": ", doc ? "" : jerr.text);
		goto out;
	}
	v = json_object_get(doc, "format");
	arr = json_object_get(doc, "statements");
	if (!json_is_string(v) || strcmp(json_string_value(v), FORMAT) != 0 ||
	    !json_is_array(arr) || json_object_size(doc) != 2) {
		rc = hlx_err(HLX_EINVAL,
			     "trust chain: want exactly 'format' = \"" FORMAT
			     "\" and 'statements'");
		goto out;
	}
	if (json_array_size(arr) == 0) {
		rc = hlx_err(HLX_EINVAL, "trust chain has no statements");
		goto out;
	}
	t = alloc_trust();
	if (!t) {
		rc = hlx_err(HLX_ENOMEM, "cannot allocate a trust chain");
		goto out;
	}
	json_array_foreach(arr, i, v) {
		json_t *body = json_object_get(v, "body");
		json_t *sigs = json_object_get(v, "signatures");
		const char *sv[2];
		size_t ns;

		if (!json_is_object(v) || json_object_size(v) != 2 ||
		    !json_is_string(body) || !json_is_array(sigs) ||
		    (ns = json_array_size(sigs)) < 1 || ns > 2) {
			rc = hlx_err(HLX_EINVAL,
				     "trust chain statement %zu: want 'body' and 1 or 2 'signatures'",
				     i + 1);
			goto out;
		}
		for (size_t j = 0; j < ns; j++) {
			sv[j] = json_string_value(json_array_get(sigs, j));
			if (!sv[j]) {
				rc = hlx_err(HLX_EINVAL,
					     "trust chain statement %zu: signature %zu is not a string",
					     i + 1, j + 1);
				goto out;
			}
		}
		rc = apply(t, json_string_value(body), json_string_length(body),
			   sv, (int)ns);
		if (rc) {
			rc = hlx_err_wrap(rc, "trust chain statement %zu", i + 1);
			goto out;
		}
	}
	if (!is_root(t, pinned)) {
		rc = hlx_err(HLX_EUNTRUSTED,
			     "trust chain of '%s' does not lead from the pinned root %s",
			     t->org, fpr(pinned, f));
		goto out;
	}
	*out = t;
	t = NULL;
out:
	hlx_trust_free(t);
	json_decref(doc);
	return rc;
}

int hlx_trust_serialize(const struct hlx_trust *t, struct hlx_buf *out)
{
	json_t *doc = json_object(), *arr = json_array();
	char *s = NULL;
	int rc = HLX_OK;

	if (!doc || !arr || json_object_set_new(doc, "format", json_string(FORMAT)) ||
	    json_object_set(doc, "statements", arr)) {
		rc = hlx_err(HLX_ENOMEM, "cannot build the trust chain");
		goto out;
	}
	for (size_t i = 0; i < t->nst; i++) {
		json_t *st = json_object(), *sigs = json_array();

		if (!st || !sigs || json_array_append_new(arr, st) ||
		    json_object_set_new(st, "body", json_string(t->st[i].body)) ||
		    json_object_set_new(st, "signatures", sigs)) {
			json_decref(sigs);
			rc = hlx_err(HLX_ENOMEM, "cannot build the trust chain");
			goto out;
		}
		for (int j = 0; j < t->st[i].nsigs; j++)
			if (json_array_append_new(sigs,
						  json_string(t->st[i].sigs[j]))) {
				rc = hlx_err(HLX_ENOMEM, "cannot build the trust chain");
				goto out;
			}
	}
	s = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!s) {
		rc = hlx_err(HLX_ENOMEM, "cannot encode the trust chain");
		goto out;
	}
	rc = hlx_buf_puts(out, s);
	if (!rc)
		rc = hlx_buf_putc(out, '\n');
out:
	free(s);
	json_decref(arr);
	json_decref(doc);
	return rc;
}

/* Build a body from o (consumed), sign it with each key, and apply it. */
static int append(struct hlx_trust *t, json_t *o,
		  const struct hlx_seckey *const *signers, int nsigners)
{
	struct hlx_buf sig[2] = { HLX_BUF_INIT, HLX_BUF_INIT };
	const char *sv[2];
	char *body = NULL, prevhex[65] = "";
	int rc = HLX_OK;

	if (t->nst)
		sodium_bin2hex(prevhex, sizeof(prevhex), t->head, 32);
	if (!o || json_object_set_new(o, "seq", json_integer((json_int_t)t->nst + 1)) ||
	    json_object_set_new(o, "prev", json_string(prevhex))) {
		rc = hlx_err(HLX_ENOMEM, "cannot build a statement");
		goto out;
	}
	body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!body) {
		rc = hlx_err(HLX_ENOMEM, "cannot encode a statement");
		goto out;
	}
	for (int i = 0; i < nsigners && !rc; i++) {
		rc = hlx_sshsig_sign(signers[i], HLX_TRUST_NAMESPACE, "sha512",
				     (const uint8_t *)body, strlen(body),
				     &sig[i]);
		sv[i] = (const char *)sig[i].data;
	}
	if (!rc)
		rc = apply(t, body, strlen(body), sv, nsigners);
out:
	hlx_buf_free(&sig[0]);
	hlx_buf_free(&sig[1]);
	free(body);
	json_decref(o);
	return rc;
}

static json_t *stmt(const char *type, const struct hlx_pubkey *key,
		    int64_t now)
{
	struct hlx_buf kb = HLX_BUF_INIT;
	char ts[HLX_TIME_TEXT];
	json_t *o = json_object();

	hlx_time_format(now, ts);
	if (!o || hlx_sshkey_format(key, NULL, &kb) ||
	    json_object_set_new(o, "type", json_string(type)) ||
	    json_object_set_new(o, "key", json_stringn((const char *)kb.data,
							 kb.len)) ||
	    json_object_set_new(o, "time", json_string(ts))) {
		json_decref(o);
		o = NULL;
	}
	hlx_buf_free(&kb);
	return o;
}

static int set_time(json_t *o, const char *name, int64_t v)
{
	char ts[HLX_TIME_TEXT];

	hlx_time_format(v, ts);
	return o && json_object_set_new(o, name, json_string(ts)) == 0;
}

int hlx_trust_create(const char *org, const struct hlx_seckey *root,
		     int64_t now, struct hlx_trust **out)
{
	struct hlx_trust *t;
	struct hlx_pubkey pub;
	json_t *o;
	int rc;

	*out = NULL;
	rc = hlx_org_validate(org);
	if (rc)
		return rc;
	t = alloc_trust();
	if (!t)
		return hlx_err(HLX_ENOMEM, "cannot allocate a trust chain");
	hlx_seckey_public(root, &pub);
	o = stmt("root", &pub, now);
	if (o && json_object_set_new(o, "org", json_string(org))) {
		json_decref(o);
		o = NULL;
	}
	rc = append(t, o, &root, 1);
	if (rc) {
		hlx_trust_free(t);
		return rc;
	}
	*out = t;
	return HLX_OK;
}

int hlx_trust_delegate(struct hlx_trust *t, const struct hlx_seckey *root,
		       const struct hlx_pubkey *key, int64_t valid_after,
		       int64_t valid_before, int64_t now)
{
	json_t *o = stmt("delegate", key, now);

	if (o && !(set_time(o, "valid_after", valid_after) &&
		   set_time(o, "valid_before", valid_before))) {
		json_decref(o);
		o = NULL;
	}
	return append(t, o, &root, 1);
}

int hlx_trust_revoke(struct hlx_trust *t, const struct hlx_seckey *root,
		     const struct hlx_pubkey *key, int64_t since, int64_t now)
{
	json_t *o = stmt("revoke", key, now);

	if (o && !set_time(o, "since", since)) {
		json_decref(o);
		o = NULL;
	}
	return append(t, o, &root, 1);
}

int64_t hlx_trust_last_time(const struct hlx_trust *t)
{
	return t->last_time;
}

int hlx_trust_rotate_root(struct hlx_trust *t, const struct hlx_seckey *old_root,
			  const struct hlx_seckey *new_root, int64_t now)
{
	const struct hlx_seckey *signers[2] = { old_root, new_root };
	struct hlx_pubkey pub;
	json_t *o;

	hlx_seckey_public(new_root, &pub);
	o = stmt("root", &pub, now);
	if (o && json_object_set_new(o, "org", json_string(t->org))) {
		json_decref(o);
		o = NULL;
	}
	return append(t, o, signers, 2);
}

int hlx_trust_check(const struct hlx_trust *t, const struct hlx_pubkey *key,
		    int64_t when)
{
	const struct hlx_trust_key *k = find_key(t, key);
	char f[HLX_FPR_LEN], ts[HLX_TIME_TEXT], b[HLX_TIME_TEXT];

	if (!k)
		return hlx_err(HLX_EUNTRUSTED,
			       "key %s is not delegated by the root of '%s'",
			       fpr(key, f), t->org);
	if (k->revoked && when >= k->revoked_since) {
		hlx_time_format(k->revoked_since, b);
		return hlx_err(HLX_EREVOKED, "key %s of '%s' has been revoked (from %s)",
			       fpr(key, f), t->org, b);
	}
	if (when < k->valid_after || when >= k->valid_before) {
		hlx_time_format(when, ts);
		hlx_time_format(when < k->valid_after ? k->valid_after :
			       k->valid_before, b);
		return hlx_err(HLX_EEXPIRED, "key %s of '%s' is not valid at %s (%s %s)",
			       fpr(key, f), t->org, ts,
			       when < k->valid_after ? "valid only from" :
			       "expired at", b);
	}
	return HLX_OK;
}

const char *hlx_trust_org(const struct hlx_trust *t)
{
	return t->org;
}

const struct hlx_pubkey *hlx_trust_root(const struct hlx_trust *t)
{
	return &t->root;
}

int hlx_trust_has_root(const struct hlx_trust *t, const char *fingerprint)
{
	char fpr[HLX_FPR_LEN];

	if (t == NULL || fingerprint == NULL)
		return 0;
	for (size_t i = 0; i < t->nroots; i++) {
		hlx_sshkey_fingerprint(&t->roots[i], fpr);
		if (!strcmp(fpr, fingerprint))
			return 1;
	}
	return 0;
}

uint64_t hlx_trust_length(const struct hlx_trust *t)
{
	return t->nst;
}

void hlx_trust_head(const struct hlx_trust *t, uint8_t hash[32])
{
	memcpy(hash, t->head, 32);
}

int hlx_trust_head_at(const struct hlx_trust *t, uint64_t len,
		      uint8_t hash[32])
{
	if (len == 0 || len > t->nst)
		return hlx_err(HLX_EINVAL, "the trust chain has no statement %llu",
			       (unsigned long long)len);
	crypto_hash_sha256(hash, (const uint8_t *)t->st[len - 1].body,
			   strlen(t->st[len - 1].body));
	return HLX_OK;
}

size_t hlx_trust_nkeys(const struct hlx_trust *t)
{
	return t->nkeys;
}

const struct hlx_trust_key *hlx_trust_key(const struct hlx_trust *t, size_t i)
{
	return i < t->nkeys ? &t->keys[i] : NULL;
}

const struct hlx_trust_key *hlx_trust_current(const struct hlx_trust *t,
					      int64_t now)
{
	for (size_t i = t->nkeys; i-- > 0;) {
		const struct hlx_trust_key *k = &t->keys[i];

		if ((!k->revoked || now < k->revoked_since) &&
		    now >= k->valid_after && now < k->valid_before)
			return k;
	}
	return NULL;
}
