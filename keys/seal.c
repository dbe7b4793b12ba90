/* SPDX-License-Identifier: MIT */
#include "keys/seal.h"
#include "protocol/err.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BOX_PREFIX "hlx-box "
#define BOX_PREFIX_LEN 8
#define B64_LEN 44 /* 32 bytes in padded base64 */
#define FILEKEY_LEN crypto_secretstream_xchacha20poly1305_KEYBYTES
#define WRAP_LEN (FILEKEY_LEN + crypto_box_SEALBYTES)
#define SS_HEADER_LEN crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define CT_CHUNK (HLX_SEAL_CHUNK + SS_ABYTES)
#define TAG_MSG crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

_Static_assert(FILEKEY_LEN == 32 && WRAP_LEN == 80 && SS_HEADER_LEN == 24 &&
		       SS_ABYTES == 17,
	       "envelope layout (spec/encryption.md)");
_Static_assert(crypto_box_PUBLICKEYBYTES == HLX_BOXPUB_LEN &&
		       crypto_box_SECRETKEYBYTES == 32,
	       "X25519 key sizes");

struct hlx_boxkey {
	uint8_t sk[crypto_box_SECRETKEYBYTES];
	struct hlx_boxpub pub;
};

/* Secret working state, in guarded memory. */
struct secrets {
	uint8_t filekey[FILEKEY_LEN];
	crypto_secretstream_xchacha20poly1305_state st;
};

static int init_sodium(void)
{
	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	return HLX_OK;
}

/* ---- box keys ----------------------------------------------------------- */

/* X25519 refuses (returns -1) a point whose product is the identity: the
 * points of small order, with any clamped scalar. */
static int small_order(const uint8_t pk[HLX_BOXPUB_LEN])
{
	static const uint8_t one[crypto_scalarmult_SCALARBYTES] = { 1 };
	uint8_t q[crypto_scalarmult_BYTES];
	int bad = crypto_scalarmult(q, one, pk) != 0;

	sodium_memzero(q, sizeof(q));
	return bad;
}

int hlx_boxpub_parse(const char *text, size_t n, struct hlx_boxpub *out)
{
	uint8_t pk[HLX_BOXPUB_LEN];
	char q[HLX_QUOTE_SIZE];
	size_t len;
	int rc = init_sodium();

	if (rc)
		return rc;
	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (n != BOX_PREFIX_LEN + B64_LEN ||
	    memcmp(text, BOX_PREFIX, BOX_PREFIX_LEN) != 0)
		return hlx_err(HLX_EINVAL,
			       "box key '%s': want 'hlx-box' and 44 base64 characters",
			       hlx_quote(q, text, n));
	if (sodium_base642bin(pk, sizeof(pk), text + BOX_PREFIX_LEN, B64_LEN,
			      NULL, &len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    len != sizeof(pk))
		return hlx_err(HLX_EINVAL, "box key '%s': bad base64",
			       hlx_quote(q, text, n));
	if (small_order(pk))
		return hlx_err(HLX_EINVAL,
			       "box key '%s': not a usable X25519 key (small order)",
			       hlx_quote(q, text, n));
	memcpy(out->pk, pk, sizeof(pk));
	return HLX_OK;
}

int hlx_boxpub_format(const struct hlx_boxpub *k, struct hlx_buf *out)
{
	char b64[B64_LEN + 1];

	sodium_bin2base64(b64, sizeof(b64), k->pk, sizeof(k->pk),
			  sodium_base64_VARIANT_ORIGINAL);
	return hlx_buf_printf(out, "%s%s", BOX_PREFIX, b64);
}

int hlx_boxpub_from_pubkey(const struct hlx_pubkey *ed25519,
			   struct hlx_boxpub *out)
{
	int rc = init_sodium();

	if (rc)
		return rc;
	if (crypto_sign_ed25519_pk_to_curve25519(out->pk, ed25519->pk) != 0)
		return hlx_err(HLX_EINVAL,
			       "Ed25519 public key: not a valid point, no box key");
	if (small_order(out->pk))
		return hlx_err(HLX_EINVAL,
			       "Ed25519 public key: box key of small order");
	return HLX_OK;
}

int hlx_boxpub_eq(const struct hlx_boxpub *a, const struct hlx_boxpub *b)
{
	return sodium_memcmp(a->pk, b->pk, HLX_BOXPUB_LEN) == 0;
}

int hlx_boxkey_from_seckey(const struct hlx_seckey *k,
			   struct hlx_boxkey **out)
{
	struct hlx_boxkey *bk = NULL;
	uint8_t *edsk = NULL;
	uint8_t edpk[crypto_sign_PUBLICKEYBYTES];
	int rc;

	*out = NULL;
	rc = init_sodium();
	if (rc)
		return rc;
	bk = sodium_malloc(sizeof(*bk));
	edsk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (!bk || !edsk) {
		rc = hlx_err(HLX_ENOMEM, "cannot allocate guarded memory for a key");
		goto out;
	}
	if (crypto_sign_seed_keypair(edpk, edsk, hlx_seckey_seed(k)) != 0 ||
	    crypto_sign_ed25519_sk_to_curve25519(bk->sk, edsk) != 0 ||
	    crypto_scalarmult_base(bk->pub.pk, bk->sk) != 0) {
		rc = hlx_err(HLX_ECRYPTO, "cannot derive the box key");
		goto out;
	}
	*out = bk;
	bk = NULL;
out:
	sodium_free(edsk);
	sodium_free(bk);
	return rc;
}

void hlx_boxkey_free(struct hlx_boxkey *k)
{
	if (k)
		sodium_free(k); /* wipes */
}

void hlx_boxkey_pub(const struct hlx_boxkey *k, struct hlx_boxpub *out)
{
	*out = k->pub;
}

/* ---- byte sources and sinks --------------------------------------------- */

/* A file descriptor (fd >= 0) or a memory range. */
struct src {
	int fd;
	const uint8_t *p;
	size_t left;
};

struct sink {
	int fd;
	struct hlx_buf *b;
};

/* Read up to n bytes, fewer only at the end of the input. */
static int src_read(struct src *s, uint8_t *buf, size_t n, size_t *got)
{
	ssize_t r;

	*got = 0;
	if (s->fd < 0) {
		*got = n < s->left ? n : s->left;
		memcpy(buf, s->p, *got);
		s->p += *got;
		s->left -= *got;
		return HLX_OK;
	}
	while (*got < n) {
		r = read(s->fd, buf + *got, n - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return hlx_err(HLX_EIO, "sealed envelope: cannot read: %s",
				       strerror(errno));
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return HLX_OK;
}

static int sink_write(struct sink *s, const uint8_t *p, size_t n)
{
	ssize_t r;

	if (s->b)
		return hlx_buf_put(s->b, p, n);
	while (n > 0) {
		r = write(s->fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return hlx_err(HLX_EIO, "sealed envelope: cannot write: %s",
				       strerror(errno));
		p += r;
		n -= (size_t)r;
	}
	return HLX_OK;
}

/* ---- envelopes ---------------------------------------------------------- */

static int check_context(const char *context, size_t *len)
{
	*len = context ? strlen(context) : 0;
	if (*len > HLX_SEAL_CONTEXT_MAX)
		return hlx_err(HLX_EINVAL,
			       "sealed envelope: context of %zu bytes (at most %d)",
			       *len, HLX_SEAL_CONTEXT_MAX);
	return HLX_OK;
}

/* The additional data of every chunk: SHA-256 of the header and the
 * context (the header's length follows from its count: no ambiguity). */
static void make_ad(const uint8_t *hdr, size_t hlen, const char *context,
		    size_t clen, uint8_t ad[crypto_hash_sha256_BYTES])
{
	crypto_hash_sha256_state h;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, hdr, hlen);
	crypto_hash_sha256_update(&h, (const uint8_t *)(context ? context : ""),
				  clen);
	crypto_hash_sha256_final(&h, ad);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int seal(struct src *in, struct sink *out,
		const struct hlx_boxpub *to, size_t nto, const char *context)
{
	struct secrets *sec = NULL;
	uint8_t *hdr = NULL, *pt = NULL, *ct = NULL;
	uint8_t ad[crypto_hash_sha256_BYTES];
	size_t clen, hlen, got;
	unsigned long long ctlen;
	int rc;

	rc = init_sodium();
	if (!rc)
		rc = check_context(context, &clen);
	if (rc)
		return rc;
	if (nto < 1 || nto > HLX_SEAL_MAX_RECIPIENTS)
		return hlx_err(HLX_EINVAL,
			       "sealed envelope: %zu recipients (1 to %d)", nto,
			       HLX_SEAL_MAX_RECIPIENTS);
	hlen = HLX_SEAL_HEADER_LEN(nto);
	sec = sodium_malloc(sizeof(*sec));
	pt = sodium_malloc(HLX_SEAL_CHUNK);
	hdr = malloc(hlen);
	ct = malloc(CT_CHUNK);
	if (!sec || !pt || !hdr || !ct) {
		rc = hlx_err(HLX_ENOMEM, "sealed envelope: out of memory");
		goto out;
	}
	crypto_secretstream_xchacha20poly1305_keygen(sec->filekey);
	memcpy(hdr, HLX_SEAL_MAGIC, HLX_SEAL_MAGIC_LEN);
	put_u32(hdr + 8, (uint32_t)nto);
	for (size_t i = 0; i < nto; i++) {
		if (crypto_box_seal(hdr + 12 + WRAP_LEN * i, sec->filekey,
				    FILEKEY_LEN, to[i].pk) != 0) {
			rc = hlx_err(HLX_EINVAL,
				     "sealed envelope: recipient %zu is not a usable box key",
				     i + 1);
			goto out;
		}
	}
	crypto_secretstream_xchacha20poly1305_init_push(
		&sec->st, hdr + hlen - SS_HEADER_LEN, sec->filekey);
	make_ad(hdr, hlen, context, clen, ad);
	rc = sink_write(out, hdr, hlen);
	while (!rc) {
		/* a short chunk, maybe empty, is the last (FINAL) one */
		rc = src_read(in, pt, HLX_SEAL_CHUNK, &got);
		if (rc)
			break;
		crypto_secretstream_xchacha20poly1305_push(
			&sec->st, ct, &ctlen, pt, got, ad, sizeof(ad),
			got < HLX_SEAL_CHUNK ? TAG_FINAL : TAG_MSG);
		rc = sink_write(out, ct, (size_t)ctlen);
		if (got < HLX_SEAL_CHUNK)
			break;
	}
out:
	sodium_free(sec);
	sodium_free(pt);
	free(hdr);
	free(ct);
	return rc;
}

int hlx_seal_buf(const void *in, size_t n, const struct hlx_boxpub *to,
		 size_t nto, const char *context, struct hlx_buf *out)
{
	struct src s = { -1, in, n };
	struct sink k = { 0, out };
	size_t start = out->len;
	int rc = seal(&s, &k, to, nto, context);

	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc;
}

int hlx_seal_fd(int in, int out, const struct hlx_boxpub *to, size_t nto,
		const char *context)
{
	struct src s = { in, NULL, 0 };
	struct sink k = { out, NULL };

	if (in < 0 || out < 0)
		return hlx_err(HLX_EINVAL, "sealed envelope: bad file descriptor");
	return seal(&s, &k, to, nto, context);
}

int hlx_seal_is(const void *data, size_t n)
{
	return n >= HLX_SEAL_MAGIC_LEN &&
	       memcmp(data, HLX_SEAL_MAGIC, HLX_SEAL_MAGIC_LEN) == 0;
}

static int bad_chunk(uint64_t i)
{
	return hlx_err(HLX_EBADSIG,
		       "sealed envelope: chunk %llu does not authenticate "
		       "(damaged, truncated, extended, or made for another context)",
		       (unsigned long long)i + 1);
}

static int unseal(struct src *in, struct sink *out, const struct hlx_boxkey *k,
		  const char *context, uint64_t max)
{
	struct secrets *sec = NULL;
	uint8_t *hdr = NULL, *pt = NULL, *ct = NULL;
	uint8_t ad[crypto_hash_sha256_BYTES], tag;
	uint8_t fixed[12];
	size_t clen, hlen, got, nto;
	unsigned long long ptlen;
	uint64_t total = 0, i;
	int rc, found = 0;

	rc = init_sodium();
	if (!rc)
		rc = check_context(context, &clen);
	if (!rc)
		rc = src_read(in, fixed, sizeof(fixed), &got);
	if (rc)
		return rc;
	if (got < HLX_SEAL_MAGIC_LEN ||
	    memcmp(fixed, HLX_SEAL_MAGIC, HLX_SEAL_MAGIC_LEN) != 0)
		return hlx_err(HLX_EINVAL,
			       "not a sealed envelope (no '%s' magic)",
			       HLX_SEAL_MAGIC);
	if (got < sizeof(fixed))
		return hlx_err(HLX_EBADSIG, "sealed envelope: header truncated");
	nto = (size_t)fixed[8] << 24 | (size_t)fixed[9] << 16 |
	      (size_t)fixed[10] << 8 | fixed[11];
	if (nto < 1 || nto > HLX_SEAL_MAX_RECIPIENTS)
		return hlx_err(HLX_EINVAL,
			       "sealed envelope: %zu recipients (1 to %d)", nto,
			       HLX_SEAL_MAX_RECIPIENTS);
	hlen = HLX_SEAL_HEADER_LEN(nto);
	sec = sodium_malloc(sizeof(*sec));
	pt = sodium_malloc(HLX_SEAL_CHUNK);
	hdr = malloc(hlen);
	ct = malloc(CT_CHUNK);
	if (!sec || !pt || !hdr || !ct) {
		rc = hlx_err(HLX_ENOMEM, "sealed envelope: out of memory");
		goto out;
	}
	memcpy(hdr, fixed, sizeof(fixed));
	rc = src_read(in, hdr + sizeof(fixed), hlen - sizeof(fixed), &got);
	if (rc)
		goto out;
	if (got != hlen - sizeof(fixed)) {
		rc = hlx_err(HLX_EBADSIG, "sealed envelope: header truncated");
		goto out;
	}
	/* recipients are not named: try every wrapped copy */
	for (i = 0; i < nto; i++)
		if (!found && crypto_box_seal_open(sec->filekey,
						   hdr + 12 + WRAP_LEN * i,
						   WRAP_LEN, k->pub.pk,
						   k->sk) == 0)
			found = 1;
	if (!found) {
		rc = hlx_err(HLX_EPERM, "not a recipient of this envelope");
		goto out;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(
		    &sec->st, hdr + hlen - SS_HEADER_LEN, sec->filekey) != 0) {
		rc = bad_chunk(0);
		goto out;
	}
	make_ad(hdr, hlen, context, clen, ad);
	for (i = 0;; i++) {
		rc = src_read(in, ct, CT_CHUNK, &got);
		if (rc)
			break;
		/* a full chunk is a MESSAGE chunk, a short one the FINAL
		 * one: anything else was cut or extended */
		if (got < SS_ABYTES ||
		    crypto_secretstream_xchacha20poly1305_pull(
			    &sec->st, pt, &ptlen, &tag, ct, got, ad,
			    sizeof(ad)) != 0 ||
		    tag != (got == CT_CHUNK ? TAG_MSG : TAG_FINAL)) {
			rc = bad_chunk(i);
			break;
		}
		if (ptlen > max - total) {
			rc = hlx_err(HLX_ETOOBIG,
				     "sealed envelope: content larger than %llu bytes",
				     (unsigned long long)max);
			break;
		}
		total += ptlen;
		rc = sink_write(out, pt, (size_t)ptlen);
		if (rc || tag == TAG_FINAL)
			break;
	}
out:
	sodium_free(sec);
	sodium_free(pt);
	free(hdr);
	free(ct);
	return rc;
}

int hlx_unseal_buf(const void *in, size_t n, const struct hlx_boxkey *k,
		   const char *context, size_t max, struct hlx_buf *out)
{
	struct src s = { -1, in, n };
	struct sink kk = { 0, out };
	size_t start = out->len;
	int rc = unseal(&s, &kk, k, context, max);

	if (rc) {
		if (out->data) {
			sodium_memzero(out->data + start, out->len - start);
			out->data[start] = '\0';
		}
		out->len = start;
	}
	return rc;
}

int hlx_unseal_fd(int in, int out, const struct hlx_boxkey *k,
		  const char *context, uint64_t max)
{
	struct src s = { in, NULL, 0 };
	struct sink kk = { out, NULL };

	if (in < 0 || out < 0)
		return hlx_err(HLX_EINVAL, "sealed envelope: bad file descriptor");
	return unseal(&s, &kk, k, context, max);
}
