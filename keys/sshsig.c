/* SPDX-License-Identifier: MIT */
#include "keys/sshsig.h"
#include "keys/sshkey.h"
#include "protocol/err.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "SSHSIG"
#define MAGIC_LEN 6
#define SIG_VERSION 1
#define BEGIN_LINE "-----BEGIN SSH SIGNATURE-----"
#define END_LINE "-----END SSH SIGNATURE-----"

enum { ALG_SHA512, ALG_SHA256 };
static const char *const alg_names[] = { "sha512", "sha256" };

struct hlx_sshsig_hasher {
	int alg;
	int done;
	union {
		crypto_hash_sha256_state s256;
		crypto_hash_sha512_state s512;
	} u;
};

struct hlx_sshsig {
	struct hlx_pubkey key;
	uint8_t sig[HLX_SIG_LEN];
	int alg;
	size_t nslen;
	const char *ns;		/* into mem, NUL-terminated */
	size_t bloblen;
	const uint8_t *blob;	/* into mem */
	uint8_t mem[];		/* blob, then namespace and NUL */
};


static int alg_by_name(const char *name, int *alg)
{
	char q[HLX_QUOTE_SIZE];

	if (!name || strcmp(name, "sha512") == 0) {
		*alg = ALG_SHA512;
		return HLX_OK;
	}
	if (strcmp(name, "sha256") == 0) {
		*alg = ALG_SHA256;
		return HLX_OK;
	}
	return hlx_err(HLX_EUNSUPPORTED, "hash algorithm '%s' is not "
		       "supported (sha512 or sha256)",
		       hlx_quote(q, name, strlen(name)));
}

/* ---- hashing ------------------------------------------------------------ */

static void hasher_init(struct hlx_sshsig_hasher *h, int alg)
{
	h->alg = alg;
	h->done = 0;
	if (alg == ALG_SHA256)
		crypto_hash_sha256_init(&h->u.s256);
	else
		crypto_hash_sha512_init(&h->u.s512);
}

static void hasher_update(struct hlx_sshsig_hasher *h, const void *p,
			  size_t n)
{
	if (h->done || !n)
		return;
	if (h->alg == ALG_SHA256)
		crypto_hash_sha256_update(&h->u.s256, p, n);
	else
		crypto_hash_sha512_update(&h->u.s512, p, n);
}

static int hasher_final(struct hlx_sshsig_hasher *h,
			uint8_t out[crypto_hash_sha512_BYTES], size_t *len)
{
	if (h->done)
		return hlx_err(HLX_ESTATE, "signature hasher already used");
	h->done = 1;
	if (h->alg == ALG_SHA256) {
		crypto_hash_sha256_final(&h->u.s256, out);
		*len = crypto_hash_sha256_BYTES;
	} else {
		crypto_hash_sha512_final(&h->u.s512, out);
		*len = crypto_hash_sha512_BYTES;
	}
	return HLX_OK;
}

int hlx_sshsig_hasher_new(const char *hashalg, struct hlx_sshsig_hasher **out)
{
	struct hlx_sshsig_hasher *h;
	int alg = ALG_SHA512, rc;

	*out = NULL;
	rc = alg_by_name(hashalg, &alg);
	if (rc)
		return rc;
	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	h = malloc(sizeof(*h));
	if (!h)
		return hlx_err(HLX_ENOMEM, "cannot allocate a hash state");
	hasher_init(h, alg);
	*out = h;
	return HLX_OK;
}

void hlx_sshsig_hasher_update(struct hlx_sshsig_hasher *h, const void *p,
			      size_t n)
{
	hasher_update(h, p, n);
}

void hlx_sshsig_hasher_free(struct hlx_sshsig_hasher *h)
{
	free(h);
}

/* The data the Ed25519 signature covers (PROTOCOL.sshsig section 3). */
static int signed_data(struct hlx_buf *b, const char *ns, size_t nslen,
		       int alg, const uint8_t *h, size_t hl)
{
	int rc;

	rc = hlx_buf_put(b, MAGIC, MAGIC_LEN);
	if (!rc)
		rc = hlx_buf_put_string(b, ns, nslen);
	if (!rc)
		rc = hlx_buf_put_string(b, NULL, 0); /* reserved */
	if (!rc)
		rc = hlx_buf_put_cstring(b, alg_names[alg]);
	if (!rc)
		rc = hlx_buf_put_string(b, h, hl);
	return rc;
}

/* ---- armor -------------------------------------------------------------- */

int hlx_sshsig_armor(const uint8_t *blob, size_t n, struct hlx_buf *out)
{
	size_t b64cap, b64len, i, mark = out->len;
	char *b64;
	int rc;

	if (n > HLX_SSHSIG_ARMOR_MAX)
		return hlx_err(HLX_ETOOBIG, "signature blob of %zu bytes: "
			       "larger than %d", n, HLX_SSHSIG_ARMOR_MAX);
	b64cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	b64 = malloc(b64cap);
	if (!b64)
		return hlx_err(HLX_ENOMEM, "cannot allocate %zu bytes", b64cap);
	sodium_bin2base64(b64, b64cap, blob, n, sodium_base64_VARIANT_ORIGINAL);
	b64len = strlen(b64);
	rc = hlx_buf_puts(out, BEGIN_LINE "\n");
	for (i = 0; !rc && i < b64len; i += HLX_SSHSIG_LINE_WIDTH) {
		size_t l = b64len - i;

		if (l > HLX_SSHSIG_LINE_WIDTH)
			l = HLX_SSHSIG_LINE_WIDTH;
		rc = hlx_buf_put(out, b64 + i, l);
		if (!rc)
			rc = hlx_buf_putc(out, '\n');
	}
	if (!rc)
		rc = hlx_buf_puts(out, END_LINE "\n");
	free(b64);
	if (rc && out->data) {
		out->len = mark;
		out->data[mark] = '\0';
	}
	return rc;
}

static int is_b64(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/*
 * Next line of text[*pos..n): [*ls, *le) without its terminator, which
 * is LF or CRLF (or nothing at the end).  A CR elsewhere is an error.
 */
static int next_line(const char *text, size_t n, size_t *pos, size_t *ls,
		     size_t *le, unsigned lineno)
{
	size_t i = *pos;

	*ls = i;
	while (i < n && text[i] != '\n' && text[i] != '\r')
		i++;
	*le = i;
	if (i < n && text[i] == '\r') {
		if (i + 1 >= n || text[i + 1] != '\n')
			return hlx_err(HLX_EINVAL, "signature armor line %u: "
				       "carriage return not followed by a line "
				       "feed", lineno);
		i++;
	}
	if (i < n)
		i++;
	*pos = i;
	return HLX_OK;
}

int hlx_sshsig_dearmor(const char *text, size_t n, struct hlx_buf *out)
{
	const size_t bl = strlen(BEGIN_LINE), el = strlen(END_LINE);
	struct hlx_buf b64 = HLX_BUF_INIT;
	size_t pos = 0, ls, le, i, binlen, cap;
	const char *end;
	unsigned lineno = 1;
	char q[HLX_QUOTE_SIZE];
	int rc, ended = 0;

	hlx_buf_reset(out);
	if (n > HLX_SSHSIG_ARMOR_MAX)
		return hlx_err(HLX_ETOOBIG, "signature of %zu bytes: larger "
			       "than %d", n, HLX_SSHSIG_ARMOR_MAX);
	rc = next_line(text, n, &pos, &ls, &le, lineno);
	if (rc)
		return rc;
	if (le - ls != bl || memcmp(text + ls, BEGIN_LINE, bl) != 0)
		return hlx_err(HLX_EINVAL, "signature does not start with "
			       "the line '" BEGIN_LINE "': got '%s'",
			       hlx_quote(q, text + ls, le - ls));
	while (pos < n) {
		lineno++;
		rc = next_line(text, n, &pos, &ls, &le, lineno);
		if (rc)
			goto out;
		if (le - ls >= el && memcmp(text + ls, END_LINE, el) == 0) {
			ended = 1;
			break;
		}
		if (le == ls) {
			rc = hlx_err(HLX_EINVAL, "signature armor line %u is "
				     "empty", lineno);
			goto out;
		}
		for (i = ls; i < le; i++)
			if (!is_b64((unsigned char)text[i])) {
				rc = hlx_err(HLX_EINVAL, "signature armor line "
					     "%u: '%s' is not base64", lineno,
					     hlx_quote(q, text + ls, le - ls));
				goto out;
			}
		rc = hlx_buf_put(&b64, text + ls, le - ls);
		if (rc)
			goto out;
	}
	if (!ended) {
		rc = hlx_err(HLX_EINVAL, "signature armor has no line '"
			     END_LINE "'");
		goto out;
	}
	/* After the END marker: only white space. */
	for (i = ls + el; i < n; i++)
		if (!strchr(" \t\r\n", text[i]) || !text[i]) {
			rc = hlx_err(HLX_EINVAL, "signature armor: unexpected "
				     "data after the END line: '%s'",
				     hlx_quote(q, text + i, n - i));
			goto out;
		}
	if (!b64.len) {
		rc = hlx_err(HLX_EINVAL, "signature armor holds no base64");
		goto out;
	}
	cap = b64.len / 4 * 3 + 3;
	rc = hlx_buf_reserve(out, cap);
	if (rc)
		goto out;
	if (sodium_base642bin(out->data, cap, (const char *)b64.data, b64.len,
			      NULL, &binlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != (const char *)b64.data + b64.len) {
		rc = hlx_err(HLX_EINVAL, "signature armor: invalid base64 "
			     "(bad length, padding or trailing bits)");
		goto out;
	}
	out->len = binlen;
	out->data[binlen] = '\0';
out:
	hlx_buf_free(&b64);
	if (rc)
		hlx_buf_reset(out);
	return rc;
}

/* ---- parsing ------------------------------------------------------------ */

static int field(struct hlx_rd *r, const uint8_t **p, size_t *n,
		 const char *what)
{
	if (hlx_rd_string(r, p, n))
		return hlx_err(HLX_EINVAL, "signature blob: %s is truncated "
			       "(%zu bytes left)", what, r->left);
	return HLX_OK;
}

int hlx_sshsig_parse_blob(const uint8_t *p, size_t n, struct hlx_sshsig **out)
{
	struct hlx_rd r = hlx_rd_make(p, n), sr;
	const uint8_t *magic, *kb, *ns, *res, *ha, *sb, *st, *sv;
	size_t kbl, nsl, resl, hal, sbl, stl, svl;
	struct hlx_pubkey key;
	struct hlx_sshsig *s;
	char q[HLX_QUOTE_SIZE];
	uint32_t ver;
	int rc, alg;

	*out = NULL;
	if (n > HLX_SSHSIG_ARMOR_MAX)
		return hlx_err(HLX_ETOOBIG, "signature blob of %zu bytes: "
			       "larger than %d", n, HLX_SSHSIG_ARMOR_MAX);
	if (hlx_rd_bytes(&r, MAGIC_LEN, &magic) ||
	    memcmp(magic, MAGIC, MAGIC_LEN) != 0)
		return hlx_err(HLX_EINVAL, "signature blob does not start "
			       "with '" MAGIC "'");
	if (hlx_rd_u32(&r, &ver))
		return hlx_err(HLX_EINVAL, "signature blob: version is "
			       "truncated");
	if (ver != SIG_VERSION)
		return hlx_err(HLX_EUNSUPPORTED, "signature version %lu is not "
			       "supported (only %d)", (unsigned long)ver,
			       SIG_VERSION);
	rc = field(&r, &kb, &kbl, "public key");
	if (rc)
		return rc;
	rc = hlx_sshkey_decode_blob(kb, kbl, &key);
	if (rc)
		return hlx_err_wrap(rc, "signature public key");
	rc = field(&r, &ns, &nsl, "namespace");
	if (rc)
		return rc;
	if (!nsl)
		return hlx_err(HLX_EINVAL, "signature has an empty namespace");
	if (memchr(ns, '\0', nsl))
		return hlx_err(HLX_EINVAL, "signature namespace '%s' holds a "
			       "NUL byte", hlx_quote(q, ns, nsl));
	rc = field(&r, &res, &resl, "reserved field");
	if (rc)
		return rc;
	rc = field(&r, &ha, &hal, "hash algorithm");
	if (rc)
		return rc;
	rc = field(&r, &sb, &sbl, "signature");
	if (rc)
		return rc;
	if (r.left)
		return hlx_err(HLX_EINVAL, "signature blob: %zu trailing bytes",
			       r.left);
	if (resl)
		return hlx_err(HLX_EUNSUPPORTED, "signature reserved field "
			       "is not empty (%zu bytes)", resl);
	if (hal == 6 && memcmp(ha, "sha512", 6) == 0)
		alg = ALG_SHA512;
	else if (hal == 6 && memcmp(ha, "sha256", 6) == 0)
		alg = ALG_SHA256;
	else
		return hlx_err(HLX_EUNSUPPORTED, "signature hash algorithm "
			       "'%s' is not supported (sha512 or sha256)",
			       hlx_quote(q, ha, hal));

	sr = hlx_rd_make(sb, sbl);
	if (hlx_rd_string(&sr, &st, &stl))
		return hlx_err(HLX_EINVAL, "signature blob: signature type is "
			       "truncated");
	if (stl != strlen(HLX_SSHKEY_TYPE) ||
	    memcmp(st, HLX_SSHKEY_TYPE, stl) != 0)
		return hlx_err(HLX_EUNSUPPORTED, "signature algorithm '%s' is "
			       "not supported or does not match the "
			       HLX_SSHKEY_TYPE " key", hlx_quote(q, st, stl));
	if (hlx_rd_string(&sr, &sv, &svl))
		return hlx_err(HLX_EINVAL, "signature blob: " HLX_SSHKEY_TYPE
			       " signature is truncated");
	if (svl != HLX_SIG_LEN)
		return hlx_err(HLX_EINVAL, "signature blob: " HLX_SSHKEY_TYPE
			       " signature of %zu bytes, expected %d", svl,
			       HLX_SIG_LEN);
	if (sr.left)
		return hlx_err(HLX_EINVAL, "signature blob: %zu trailing bytes "
			       "after the " HLX_SSHKEY_TYPE " signature",
			       sr.left);

	s = malloc(sizeof(*s) + n + nsl + 1);
	if (!s)
		return hlx_err(HLX_ENOMEM, "cannot allocate a signature");
	s->key = key;
	memcpy(s->sig, sv, HLX_SIG_LEN);
	s->alg = alg;
	memcpy(s->mem, p, n);
	s->blob = s->mem;
	s->bloblen = n;
	memcpy(s->mem + n, ns, nsl);
	s->mem[n + nsl] = '\0';
	s->ns = (const char *)s->mem + n;
	s->nslen = nsl;
	*out = s;
	return HLX_OK;
}

int hlx_sshsig_parse_armor(const char *text, size_t n, struct hlx_sshsig **out)
{
	struct hlx_buf blob = HLX_BUF_INIT;
	int rc;

	*out = NULL;
	rc = hlx_sshsig_dearmor(text, n, &blob);
	if (!rc)
		rc = hlx_sshsig_parse_blob(blob.data, blob.len, out);
	hlx_buf_free(&blob);
	return rc;
}

void hlx_sshsig_free(struct hlx_sshsig *s)
{
	free(s);
}

const struct hlx_pubkey *hlx_sshsig_signer(const struct hlx_sshsig *s)
{
	return &s->key;
}

const char *hlx_sshsig_namespace(const struct hlx_sshsig *s)
{
	return s->ns;
}

const char *hlx_sshsig_hashalg(const struct hlx_sshsig *s)
{
	return alg_names[s->alg];
}

const uint8_t *hlx_sshsig_blob(const struct hlx_sshsig *s, size_t *n)
{
	*n = s->bloblen;
	return s->blob;
}

/* ---- signing ------------------------------------------------------------ */

static int check_ns(const char *ns, const char *what)
{
	size_t l;

	if (!ns || !*ns)
		return hlx_err(HLX_EINVAL, "%s namespace is empty", what);
	l = strlen(ns);
	if (l > HLX_SSHSIG_NS_MAX)
		return hlx_err(HLX_ETOOBIG, "%s namespace of %zu bytes: "
			       "longer than %d", what, l, HLX_SSHSIG_NS_MAX);
	return HLX_OK;
}

static int sign_digest(const struct hlx_seckey *k, const char *ns, int alg,
		       const uint8_t *h, size_t hl, struct hlx_buf *out)
{
	struct hlx_buf data = HLX_BUF_INIT, blob = HLX_BUF_INIT;
	struct hlx_buf sigblob = HLX_BUF_INIT;
	uint8_t sig[HLX_SIG_LEN];
	struct hlx_pubkey pub;
	int rc;

	rc = signed_data(&data, ns, strlen(ns), alg, h, hl);
	if (!rc)
		rc = hlx_seckey_sign(k, data.data, data.len, sig);
	if (rc)
		goto out;
	hlx_seckey_public(k, &pub);
	rc = hlx_buf_put_cstring(&sigblob, HLX_SSHKEY_TYPE);
	if (!rc)
		rc = hlx_buf_put_string(&sigblob, sig, HLX_SIG_LEN);
	if (!rc)
		rc = hlx_buf_put(&blob, MAGIC, MAGIC_LEN);
	if (!rc)
		rc = hlx_buf_put_u32(&blob, SIG_VERSION);
	if (!rc)
		rc = hlx_buf_put_u32(&blob, HLX_SSHKEY_BLOB_LEN);
	if (!rc)
		rc = hlx_sshkey_encode_blob(&pub, &blob);
	if (!rc)
		rc = hlx_buf_put_cstring(&blob, ns);
	if (!rc)
		rc = hlx_buf_put_string(&blob, NULL, 0); /* reserved */
	if (!rc)
		rc = hlx_buf_put_cstring(&blob, alg_names[alg]);
	if (!rc)
		rc = hlx_buf_put_string(&blob, sigblob.data, sigblob.len);
	if (!rc)
		rc = hlx_sshsig_armor(blob.data, blob.len, out);
out:
	hlx_buf_free(&data);
	hlx_buf_free(&blob);
	hlx_buf_free(&sigblob);
	return rc;
}

int hlx_sshsig_sign_hasher(struct hlx_sshsig_hasher *h,
			   const struct hlx_seckey *k, const char *ns,
			   struct hlx_buf *out)
{
	uint8_t d[crypto_hash_sha512_BYTES];
	size_t dl = 0;
	int rc;

	rc = check_ns(ns, "signing");
	if (!rc)
		rc = hasher_final(h, d, &dl);
	if (!rc)
		rc = sign_digest(k, ns, h->alg, d, dl, out);
	return rc;
}

int hlx_sshsig_sign(const struct hlx_seckey *k, const char *ns,
		    const char *hashalg, const uint8_t *msg, size_t n,
		    struct hlx_buf *out)
{
	struct hlx_sshsig_hasher h;
	int alg = ALG_SHA512, rc;

	rc = alg_by_name(hashalg, &alg);
	if (rc)
		return rc;
	rc = check_ns(ns, "signing");
	if (rc)
		return rc;
	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	hasher_init(&h, alg);
	hasher_update(&h, msg, n);
	return hlx_sshsig_sign_hasher(&h, k, ns, out);
}

/* ---- verifying ---------------------------------------------------------- */

static int verify_digest(const struct hlx_sshsig *s, const char *ns,
			 const uint8_t *h, size_t hl)
{
	struct hlx_buf data = HLX_BUF_INIT;
	char fpr[HLX_FPR_LEN], q[HLX_QUOTE_SIZE], q2[HLX_QUOTE_SIZE];
	int rc;

	if (strlen(ns) != s->nslen || memcmp(ns, s->ns, s->nslen) != 0)
		return hlx_err(HLX_EBADSIG, "signature is for namespace '%s', "
			       "not '%s'", hlx_quote(q, s->ns, s->nslen),
			       hlx_quote(q2, ns, strlen(ns)));
	rc = signed_data(&data, s->ns, s->nslen, s->alg, h, hl);
	if (!rc) {
		rc = hlx_pubkey_verify(&s->key, data.data, data.len, s->sig);
		if (rc == HLX_EBADSIG) {
			hlx_sshkey_fingerprint(&s->key, fpr);
			rc = hlx_err(HLX_EBADSIG, "signature by %s does not "
				     "verify: the message or the signature "
				     "was altered", fpr);
		}
	}
	hlx_buf_free(&data);
	return rc;
}

int hlx_sshsig_verify_hasher(const struct hlx_sshsig *s,
			     struct hlx_sshsig_hasher *h, const char *ns)
{
	uint8_t d[crypto_hash_sha512_BYTES];
	size_t dl = 0;
	int rc;

	if (!ns || !*ns)
		return hlx_err(HLX_EINVAL, "expected signature namespace is "
			       "empty");
	if (h->alg != s->alg)
		return hlx_err(HLX_EINVAL, "message hashed with %s but the "
			       "signature uses %s", alg_names[h->alg],
			       alg_names[s->alg]);
	rc = hasher_final(h, d, &dl);
	if (!rc)
		rc = verify_digest(s, ns, d, dl);
	return rc;
}

int hlx_sshsig_verify(const struct hlx_sshsig *s, const char *ns,
		      const uint8_t *msg, size_t n)
{
	struct hlx_sshsig_hasher h;

	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	hasher_init(&h, s->alg);
	hasher_update(&h, msg, n);
	return hlx_sshsig_verify_hasher(s, &h, ns);
}

int hlx_sshsig_check_signer(const struct hlx_sshsig *s,
			    const struct hlx_pubkey *expected)
{
	char got[HLX_FPR_LEN], want[HLX_FPR_LEN];

	if (hlx_pubkey_eq(&s->key, expected))
		return HLX_OK;
	hlx_sshkey_fingerprint(&s->key, got);
	hlx_sshkey_fingerprint(expected, want);
	return hlx_err(HLX_EUNTRUSTED, "signature made by key %s, not by the "
		       "expected key %s", got, want);
}

int hlx_sshsig_verify_key(const struct hlx_sshsig *s,
			  const struct hlx_pubkey *expected, const char *ns,
			  const uint8_t *msg, size_t n)
{
	int rc = hlx_sshsig_check_signer(s, expected);

	return rc ? rc : hlx_sshsig_verify(s, ns, msg, n);
}
