/* SPDX-License-Identifier: MIT */
#include "keys/sshkey.h"
#include "protocol/err.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Key type names known to OpenSSH 9.x (sshkey.c), supported or not. */
static const char *const known_types[] = {
	"ssh-ed25519",
	"ssh-ed25519-cert-v01@openssh.com",
	"sk-ssh-ed25519@openssh.com",
	"sk-ssh-ed25519-cert-v01@openssh.com",
	"ssh-xmss@openssh.com",
	"ssh-xmss-cert-v01@openssh.com",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"ecdsa-sha2-nistp384-cert-v01@openssh.com",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com",
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
	"ssh-rsa",
	"rsa-sha2-256",
	"rsa-sha2-512",
	"ssh-rsa-cert-v01@openssh.com",
	"rsa-sha2-256-cert-v01@openssh.com",
	"rsa-sha2-512-cert-v01@openssh.com",
	"ssh-dss",
	"ssh-dss-cert-v01@openssh.com",
};


static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int is_space(char c)
{
	return is_blank(c) || c == '\r' || c == '\n';
}

int hlx_sshkey_known_type(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(known_types) / sizeof(known_types[0]); i++)
		if (strlen(known_types[i]) == n &&
		    memcmp(known_types[i], name, n) == 0)
			return 1;
	return 0;
}

static int unsupported_type(const void *t, size_t n)
{
	char q[HLX_QUOTE_SIZE];

	return hlx_err(HLX_EUNSUPPORTED,
		       "key type '%s' is not supported: hlx accepts only "
		       HLX_SSHKEY_TYPE " keys", hlx_quote(q, t, n));
}

int hlx_sshkey_decode_blob(const uint8_t *p, size_t n, struct hlx_pubkey *out)
{
	struct hlx_rd r = hlx_rd_make(p, n);
	const uint8_t *t, *k;
	size_t tl, kl;

	if (hlx_rd_string(&r, &t, &tl))
		return hlx_err(HLX_EINVAL, "public key blob of %zu bytes: "
			       "truncated key type", n);
	if (tl != strlen(HLX_SSHKEY_TYPE) ||
	    memcmp(t, HLX_SSHKEY_TYPE, tl) != 0)
		return unsupported_type(t, tl);
	if (hlx_rd_string(&r, &k, &kl))
		return hlx_err(HLX_EINVAL, HLX_SSHKEY_TYPE " public key blob: "
			       "truncated key");
	if (kl != HLX_PUBKEY_LEN)
		return hlx_err(HLX_EINVAL, HLX_SSHKEY_TYPE " public key blob: "
			       "key of %zu bytes, expected %d", kl,
			       HLX_PUBKEY_LEN);
	if (r.left)
		return hlx_err(HLX_EINVAL, HLX_SSHKEY_TYPE " public key blob: "
			       "%zu trailing bytes", r.left);
	memcpy(out->pk, k, HLX_PUBKEY_LEN);
	return HLX_OK;
}

int hlx_sshkey_encode_blob(const struct hlx_pubkey *k, struct hlx_buf *out)
{
	int rc;

	rc = hlx_buf_put_cstring(out, HLX_SSHKEY_TYPE);
	if (!rc)
		rc = hlx_buf_put_string(out, k->pk, HLX_PUBKEY_LEN);
	return rc;
}

static void blob_of(const struct hlx_pubkey *k,
		    uint8_t blob[HLX_SSHKEY_BLOB_LEN])
{
	size_t tl = strlen(HLX_SSHKEY_TYPE);

	blob[0] = blob[1] = blob[2] = 0;
	blob[3] = (uint8_t)tl;
	memcpy(blob + 4, HLX_SSHKEY_TYPE, tl);
	blob[4 + tl] = blob[5 + tl] = blob[6 + tl] = 0;
	blob[7 + tl] = HLX_PUBKEY_LEN;
	memcpy(blob + 8 + tl, k->pk, HLX_PUBKEY_LEN);
}

void hlx_sshkey_fingerprint(const struct hlx_pubkey *k, char out[HLX_FPR_LEN])
{
	uint8_t blob[HLX_SSHKEY_BLOB_LEN], h[crypto_hash_sha256_BYTES];

	blob_of(k, blob);
	crypto_hash_sha256(h, blob, sizeof(blob));
	memcpy(out, "SHA256:", 7);
	sodium_bin2base64(out + 7, HLX_FPR_LEN - 7, h, sizeof(h),
			  sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
}

static int check_comment(const char *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return hlx_err(HLX_EINVAL, "key comment: control "
				       "character 0x%02x at offset %zu", ch, i);
	}
	return HLX_OK;
}

int hlx_sshkey_format(const struct hlx_pubkey *k, const char *comment,
		      struct hlx_buf *out)
{
	uint8_t blob[HLX_SSHKEY_BLOB_LEN];
	char b64[sodium_base64_ENCODED_LEN(HLX_SSHKEY_BLOB_LEN,
					   sodium_base64_VARIANT_ORIGINAL)];
	size_t cl = comment ? strlen(comment) : 0;
	int rc;

	if (cl > HLX_SSHKEY_LINE_MAX - sizeof(b64) - sizeof(HLX_SSHKEY_TYPE))
		return hlx_err(HLX_ETOOBIG, "key comment of %zu bytes: too "
			       "long", cl);
	rc = check_comment(comment, cl);
	if (rc)
		return rc;
	blob_of(k, blob);
	sodium_bin2base64(b64, sizeof(b64), blob, sizeof(blob),
			  sodium_base64_VARIANT_ORIGINAL);
	rc = hlx_buf_printf(out, "%s %s", HLX_SSHKEY_TYPE, b64);
	if (!rc && cl) {
		rc = hlx_buf_putc(out, ' ');
		if (!rc)
			rc = hlx_buf_put(out, comment, cl);
	}
	return rc;
}

int hlx_sshkey_parse(const char *line, size_t n, struct hlx_pubkey *out,
		     struct hlx_buf *comment)
{
	char q[HLX_QUOTE_SIZE], q2[HLX_QUOTE_SIZE];
	size_t i, e, ts, te, bs, be, binlen, cap;
	const char *end;
	uint8_t *bin = NULL;
	struct hlx_rd r;
	const uint8_t *bt;
	size_t btl;
	int rc;

	if (n > HLX_SSHKEY_LINE_MAX)
		return hlx_err(HLX_ETOOBIG, "public key line of %zu bytes: "
			       "longer than %d", n, HLX_SSHKEY_LINE_MAX);
	for (i = 0; i < n && is_space(line[i]); i++)
		;
	for (e = n; e > i && is_space(line[e - 1]); e--)
		;
	if (i == e)
		return hlx_err(HLX_EINVAL, "public key line is empty");
	for (ts = i; ts < e; ts++) {
		unsigned char ch = (unsigned char)line[ts];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return hlx_err(HLX_EINVAL, "public key line '%s': "
				       "control character 0x%02x at offset "
				       "%zu", hlx_quote(q, line + i, e - i), ch,
				       ts - i);
	}
	ts = i;
	while (i < e && !is_blank(line[i]))
		i++;
	te = i;
	while (i < e && is_blank(line[i]))
		i++;
	bs = i;
	while (i < e && !is_blank(line[i]))
		i++;
	be = i;
	while (i < e && is_blank(line[i]))
		i++;
	if (bs == be)
		return hlx_err(HLX_EINVAL, "public key line '%s': expected "
			       "'TYPE BASE64 [COMMENT]'",
			       hlx_quote(q, line + ts, e - ts));

	cap = (be - bs) / 4 * 3 + 3;
	bin = malloc(cap);
	if (!bin)
		return hlx_err(HLX_ENOMEM, "cannot allocate %zu bytes", cap);
	if (sodium_base642bin(bin, cap, line + bs, be - bs, NULL, &binlen,
			      &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != line + be) {
		rc = hlx_err(HLX_EINVAL, "public key '%s': invalid base64",
			     hlx_quote(q, line + bs, be - bs));
		goto out;
	}
	r = hlx_rd_make(bin, binlen);
	if (hlx_rd_string(&r, &bt, &btl)) {
		rc = hlx_err(HLX_EINVAL, "public key '%s': blob of %zu bytes "
			     "has no key type", hlx_quote(q, line + bs, be - bs),
			     binlen);
		goto out;
	}
	if (btl != te - ts || memcmp(bt, line + ts, btl) != 0) {
		rc = hlx_err(HLX_EINVAL, "public key line says type '%s' but "
			     "its blob holds '%s'",
			     hlx_quote(q, line + ts, te - ts), hlx_quote(q2, bt, btl));
		goto out;
	}
	rc = hlx_sshkey_decode_blob(bin, binlen, out);
	if (rc)
		goto out;
	if (comment) {
		hlx_buf_reset(comment);
		rc = hlx_buf_put(comment, line + i, e - i);
	}
out:
	free(bin);
	return rc;
}
