/* SPDX-License-Identifier: MIT */
/*
 * SSHSIG: the vectors made by ssh-keygen in spec/vectors/sshsig/ parse and
 * verify, hlx signs them byte for byte the same, and every forged,
 * truncated, malformed or unsupported variant is rejected.
 */
#include "keys/key.h"
#include "keys/sshkey.h"
#include "keys/sshsig.h"
#include "protocol/buf.h"
#include "protocol/err.h"
#include "tests/unit/tap.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC "spec/vectors/sshsig/"

static void slurp(const char *path, struct hlx_buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	hlx_buf_reset(b);
	if (!f) {
		printf("Bail out! cannot open %s (run from the repository "
		       "root)\n", path);
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (hlx_buf_put(b, chunk, n))
			abort();
	fclose(f);
	if (!b->data && hlx_buf_put(b, "", 0))
		abort();
}

static struct hlx_seckey *vector_key(void)
{
	struct hlx_buf hex = HLX_BUF_INIT;
	uint8_t seed[HLX_SEED_LEN];
	struct hlx_seckey *k = NULL;
	size_t len;

	slurp(VEC "seed.hex", &hex);
	if (sodium_hex2bin(seed, sizeof(seed), (const char *)hex.data,
			   hex.len, "\n", &len, NULL) != 0 ||
	    len != sizeof(seed) || hlx_seckey_from_seed(seed, &k)) {
		printf("Bail out! bad %sseed.hex\n", VEC);
		exit(1);
	}
	sodium_memzero(seed, sizeof(seed));
	hlx_buf_free(&hex);
	return k;
}

/* Does the last error detail hold only printable ASCII? */
static int detail_clean(void)
{
	const char *d = hlx_err_detail();

	if (!*d)
		return 0;
	for (; *d; d++)
		if ((unsigned char)*d < 0x20 || (unsigned char)*d > 0x7e)
			return 0;
	return 1;
}

/* Parse then verify armored text; returns the first failure. */
static int parse_verify(const char *text, size_t n, const char *ns,
			const struct hlx_buf *msg)
{
	struct hlx_sshsig *s;
	int rc;

	rc = hlx_sshsig_parse_armor(text, n, &s);
	if (rc)
		return rc;
	rc = hlx_sshsig_verify(s, ns, msg->data, msg->len);
	hlx_sshsig_free(s);
	return rc;
}

/* The fields of a signature blob, to rebuild forged variants. */
struct fields {
	const uint8_t *key, *ns, *res, *hash, *sig;
	size_t keyl, nsl, resl, hashl, sigl;
};

static void split(const struct hlx_buf *blob, struct fields *f)
{
	struct hlx_rd r = hlx_rd_make(blob->data, blob->len);
	const uint8_t *m;
	uint32_t v;

	if (hlx_rd_bytes(&r, 6, &m) || hlx_rd_u32(&r, &v) ||
	    hlx_rd_string(&r, &f->key, &f->keyl) ||
	    hlx_rd_string(&r, &f->ns, &f->nsl) ||
	    hlx_rd_string(&r, &f->res, &f->resl) ||
	    hlx_rd_string(&r, &f->hash, &f->hashl) ||
	    hlx_rd_string(&r, &f->sig, &f->sigl) || r.left) {
		printf("Bail out! vector blob does not split\n");
		exit(1);
	}
}

static void build(struct hlx_buf *b, const char *magic, uint32_t ver,
		  const void *key, size_t keyl, const void *ns, size_t nsl,
		  const void *res, size_t resl, const char *hash,
		  const void *sig, size_t sigl)
{
	hlx_buf_reset(b);
	if (hlx_buf_put(b, magic, 6) || hlx_buf_put_u32(b, ver) ||
	    hlx_buf_put_string(b, key, keyl) ||
	    hlx_buf_put_string(b, ns, nsl) ||
	    hlx_buf_put_string(b, res, resl) ||
	    hlx_buf_put_cstring(b, hash) || hlx_buf_put_string(b, sig, sigl))
		abort();
}

/* Parse a raw blob, then verify it for ns. */
static int blob_rc(const struct hlx_buf *b, const char *ns,
		   const struct hlx_buf *msg)
{
	struct hlx_buf armor = HLX_BUF_INIT;
	int rc;

	if (hlx_sshsig_armor(b->data, b->len, &armor))
		abort();
	rc = parse_verify((const char *)armor.data, armor.len, ns, msg);
	hlx_buf_free(&armor);
	return rc;
}

static const struct {
	const char *file, *ns, *hash, *msg;
} vectors[] = {
	{ VEC "message.file.sha512.sig", "file", "sha512", VEC "message" },
	{ VEC "message.file.sha256.sig", "file", "sha256", VEC "message" },
	{ VEC "message.git.sha512.sig", "git", "sha512", VEC "message" },
	{ VEC "message.git.sha256.sig", "git", "sha256", VEC "message" },
	{ VEC "empty.file.sha512.sig", "file", "sha512", VEC "empty" },
};
#define NVEC (sizeof(vectors) / sizeof(vectors[0]))

static void test_vectors(const struct hlx_seckey *k,
			 const struct hlx_pubkey *pub)
{
	struct hlx_buf text = HLX_BUF_INIT, msg = HLX_BUF_INIT;
	struct hlx_buf out = HLX_BUF_INIT, blob = HLX_BUF_INIT;
	struct hlx_sshsig *s;
	const uint8_t *bp;
	size_t i, bl, j;
	int rc;

	for (i = 0; i < NVEC; i++) {
		struct hlx_sshsig_hasher *h;

		slurp(vectors[i].file, &text);
		slurp(vectors[i].msg, &msg);
		rc = hlx_sshsig_parse_armor((const char *)text.data, text.len,
					    &s);
		is_rc(rc, HLX_OK, "%s parses", vectors[i].file);
		if (rc)
			continue;
		is_str(hlx_sshsig_namespace(s), vectors[i].ns,
		       "%s: namespace", vectors[i].file);
		is_str(hlx_sshsig_hashalg(s), vectors[i].hash,
		       "%s: hash algorithm", vectors[i].file);
		ok(hlx_pubkey_eq(hlx_sshsig_signer(s), pub),
		   "%s: signer is the vector key", vectors[i].file);
		is_rc(hlx_sshsig_check_signer(s, pub), HLX_OK,
		      "%s: check_signer accepts the vector key",
		      vectors[i].file);
		is_rc(hlx_sshsig_verify(s, vectors[i].ns, msg.data, msg.len),
		      HLX_OK, "%s verifies", vectors[i].file);
		is_rc(hlx_sshsig_verify_key(s, pub, vectors[i].ns, msg.data,
					    msg.len), HLX_OK,
		      "%s verifies with the expected key", vectors[i].file);

		/* streaming verification, one byte at a time */
		rc = hlx_sshsig_hasher_new(hlx_sshsig_hashalg(s), &h);
		for (j = 0; !rc && j < msg.len; j++)
			hlx_sshsig_hasher_update(h, msg.data + j, 1);
		if (!rc)
			rc = hlx_sshsig_verify_hasher(s, h, vectors[i].ns);
		is_rc(rc, HLX_OK, "%s verifies through a hasher",
		      vectors[i].file);
		if (h)
			is_rc(hlx_sshsig_verify_hasher(s, h, vectors[i].ns),
			      HLX_ESTATE, "a used hasher is refused");
		hlx_sshsig_hasher_free(h);

		/* the blob accessor re-armors to the very same text */
		bp = hlx_sshsig_blob(s, &bl);
		hlx_buf_reset(&out);
		ok(hlx_sshsig_armor(bp, bl, &out) == HLX_OK &&
		   out.len == text.len && !memcmp(out.data, text.data, out.len),
		   "%s: blob re-armors byte-identically", vectors[i].file);
		ok(hlx_sshsig_dearmor((const char *)text.data, text.len,
				      &blob) == HLX_OK && blob.len == bl &&
		   !memcmp(blob.data, bp, bl), "%s: dearmor gives the blob",
		   vectors[i].file);

		/* hlx signs byte-identically to ssh-keygen */
		hlx_buf_reset(&out);
		rc = hlx_sshsig_sign(k, vectors[i].ns, vectors[i].hash,
				     msg.data, msg.len, &out);
		ok(rc == HLX_OK && out.len == text.len &&
		   !memcmp(out.data, text.data, text.len),
		   "hlx_sshsig_sign output is byte-identical to %s",
		   vectors[i].file);
		if (rc == HLX_OK && (out.len != text.len ||
				     memcmp(out.data, text.data, text.len)))
			printf("# hlx:\n%s# ssh-keygen:\n%s", out.data,
			       text.data);

		hlx_buf_reset(&out);
		rc = hlx_sshsig_hasher_new(vectors[i].hash, &h);
		for (j = 0; !rc && j < msg.len; j += 7) {
			size_t l = msg.len - j < 7 ? msg.len - j : 7;

			hlx_sshsig_hasher_update(h, msg.data + j, l);
		}
		if (!rc)
			rc = hlx_sshsig_sign_hasher(h, k, vectors[i].ns, &out);
		ok(rc == HLX_OK && out.len == text.len &&
		   !memcmp(out.data, text.data, text.len),
		   "streaming signature is byte-identical to %s",
		   vectors[i].file);
		if (h)
			is_rc(hlx_sshsig_sign_hasher(h, k, vectors[i].ns, &out),
			      HLX_ESTATE, "a used hasher cannot sign again");
		hlx_sshsig_hasher_free(h);
		hlx_sshsig_free(s);
	}
	/* default hash algorithm is sha512, like ssh-keygen */
	slurp(VEC "message.file.sha512.sig", &text);
	slurp(VEC "message", &msg);
	hlx_buf_reset(&out);
	ok(hlx_sshsig_sign(k, "file", NULL, msg.data, msg.len, &out) ==
	   HLX_OK && out.len == text.len &&
	   !memcmp(out.data, text.data, text.len),
	   "NULL hash algorithm means sha512");
	hlx_buf_free(&text);
	hlx_buf_free(&msg);
	hlx_buf_free(&out);
	hlx_buf_free(&blob);
}

/*
 * Every single-byte change of every vector's blob is rejected: each byte
 * position takes each of the 255 other values.
 */
static void test_every_byte(void)
{
	uint8_t flips[255];
	struct hlx_buf text = HLX_BUF_INIT, msg = HLX_BUF_INIT;
	struct hlx_buf blob = HLX_BUF_INIT, armor = HLX_BUF_INIT;
	size_t i, pos, f, total = 0, bad, inval, unsup, badsig, other;
	int rc;

	for (i = 0; i < sizeof(flips); i++)
		flips[i] = (uint8_t)(i + 1);
	for (i = 0; i < NVEC; i++) {
		slurp(vectors[i].file, &text);
		slurp(vectors[i].msg, &msg);
		if (hlx_sshsig_dearmor((const char *)text.data, text.len,
				       &blob))
			abort();
		bad = inval = unsup = badsig = other = 0;
		for (pos = 0; pos < blob.len; pos++) {
			for (f = 0; f < sizeof(flips); f++) {
				blob.data[pos] ^= flips[f];
				hlx_buf_reset(&armor);
				if (hlx_sshsig_armor(blob.data, blob.len,
						     &armor))
					abort();
				rc = parse_verify((const char *)armor.data,
						  armor.len, vectors[i].ns,
						  &msg);
				blob.data[pos] ^= flips[f];
				total++;
				if (rc == HLX_OK) {
					bad++;
					printf("# accepted: byte %zu ^ "
					       "0x%02x\n", pos, flips[f]);
				} else if (!detail_clean()) {
					bad++;
					printf("# unclean detail at byte %zu: "
					       "%s\n", pos, hlx_err_detail());
				}
				if (rc == HLX_EINVAL)
					inval++;
				else if (rc == HLX_EUNSUPPORTED)
					unsup++;
				else if (rc == HLX_EBADSIG)
					badsig++;
				else if (rc != HLX_OK)
					other++;
			}
		}
		ok(bad == 0 && other == 0, "%s: all %zu single-byte changes "
		   "(%zu positions x %zu values) rejected: %zu EINVAL, %zu "
		   "EUNSUPPORTED, %zu EBADSIG", vectors[i].file,
		   blob.len * sizeof(flips), blob.len, sizeof(flips), inval,
		   unsup, badsig);
	}
	printf("# %zu forged single-byte variants tried in all\n", total);
	hlx_buf_free(&text);
	hlx_buf_free(&msg);
	hlx_buf_free(&blob);
	hlx_buf_free(&armor);
}

static void test_message_and_namespace(const struct hlx_pubkey *pub)
{
	struct hlx_buf text = HLX_BUF_INIT, msg = HLX_BUF_INIT;
	struct hlx_seckey *other;
	struct hlx_pubkey opub;
	struct hlx_sshsig *s;
	size_t pos, bad = 0;
	int rc;

	slurp(VEC "message.file.sha512.sig", &text);
	slurp(VEC "message", &msg);
	if (hlx_sshsig_parse_armor((const char *)text.data, text.len, &s))
		abort();
	for (pos = 0; pos < msg.len; pos++) {
		msg.data[pos] ^= 0x01;
		if (hlx_sshsig_verify(s, "file", msg.data, msg.len) !=
		    HLX_EBADSIG)
			bad++;
		msg.data[pos] ^= 0x01;
	}
	ok(bad == 0, "a bit flipped anywhere in the message (%zu "
	   "positions) fails with EBADSIG", msg.len);
	is_rc(hlx_sshsig_verify(s, "file", msg.data, msg.len - 1),
	      HLX_EBADSIG, "truncated message fails");
	if (hlx_buf_putc(&msg, '\n'))
		abort();
	is_rc(hlx_sshsig_verify(s, "file", msg.data, msg.len), HLX_EBADSIG,
	      "message with a byte appended fails");
	ok(strstr(hlx_err_detail(), "SHA256:") != NULL,
	   "the EBADSIG detail names the signer: %s", hlx_err_detail());
	msg.len--;
	is_rc(hlx_sshsig_verify(s, "file", NULL, 0), HLX_EBADSIG,
	      "empty message fails");

	is_rc(hlx_sshsig_verify(s, "git", msg.data, msg.len), HLX_EBADSIG,
	      "wrong namespace 'git' fails");
	ok(strstr(hlx_err_detail(), "'file'") &&
	   strstr(hlx_err_detail(), "'git'"),
	   "wrong-namespace detail names both: %s", hlx_err_detail());
	is_rc(hlx_sshsig_verify(s, "fil", msg.data, msg.len), HLX_EBADSIG,
	      "namespace prefix 'fil' fails");
	is_rc(hlx_sshsig_verify(s, "file ", msg.data, msg.len), HLX_EBADSIG,
	      "namespace 'file ' fails");
	is_rc(hlx_sshsig_verify(s, "FILE", msg.data, msg.len), HLX_EBADSIG,
	      "namespace is case-sensitive");
	is_rc(hlx_sshsig_verify(s, "", msg.data, msg.len), HLX_EINVAL,
	      "empty expected namespace is EINVAL");
	is_rc(hlx_sshsig_verify(s, NULL, msg.data, msg.len), HLX_EINVAL,
	      "NULL expected namespace is EINVAL");

	/* wrong key */
	if (hlx_seckey_generate(&other))
		abort();
	hlx_seckey_public(other, &opub);
	is_rc(hlx_sshsig_check_signer(s, &opub), HLX_EUNTRUSTED,
	      "check_signer with another key fails");
	ok(strstr(hlx_err_detail(), "SHA256:") != NULL,
	   "wrong-key detail names fingerprints: %s", hlx_err_detail());
	is_rc(hlx_sshsig_verify_key(s, &opub, "file", msg.data, msg.len),
	      HLX_EUNTRUSTED, "verify_key with another key fails");
	is_rc(hlx_sshsig_verify_key(s, pub, "git", msg.data, msg.len),
	      HLX_EBADSIG, "verify_key with the right key, wrong namespace");
	hlx_sshsig_free(s);

	/* a signature by the other key does not pass as the vector key's */
	hlx_buf_reset(&text);
	rc = hlx_sshsig_sign(other, "file", NULL, msg.data, msg.len, &text);
	is_rc(rc, HLX_OK, "signing with a fresh key");
	rc = hlx_sshsig_parse_armor((const char *)text.data, text.len, &s);
	is_rc(rc, HLX_OK, "fresh signature parses");
	if (!rc) {
		is_rc(hlx_sshsig_verify(s, "file", msg.data, msg.len), HLX_OK,
		      "fresh signature verifies");
		is_rc(hlx_sshsig_verify_key(s, pub, "file", msg.data, msg.len),
		      HLX_EUNTRUSTED, "but not as the vector key");
		hlx_sshsig_free(s);
	}
	hlx_seckey_free(other);
	hlx_buf_free(&text);
	hlx_buf_free(&msg);
}

static void test_forged_fields(const struct hlx_seckey *k)
{
	static const uint8_t rsa_blob[] = {
		0, 0, 0, 7, 's', 's', 'h', '-', 'r', 's', 'a',
		0, 0, 0, 3, 1, 0, 1, 0, 0, 0, 3, 0, 0xc5, 0x01,
	};
	struct hlx_buf text = HLX_BUF_INIT, msg = HLX_BUF_INIT;
	struct hlx_buf blob = HLX_BUF_INIT, b = HLX_BUF_INIT;
	struct hlx_buf kb = HLX_BUF_INIT, sb = HLX_BUF_INIT;
	struct hlx_seckey *other;
	struct hlx_pubkey opub;
	struct fields f;
	uint8_t sig63[63];

	slurp(VEC "message.file.sha512.sig", &text);
	slurp(VEC "message", &msg);
	if (hlx_sshsig_dearmor((const char *)text.data, text.len, &blob))
		abort();
	split(&blob, &f);

#define BUILD(magic, ver, key, keyl, ns, nsl, res, resl, hash, sig, sigl) \
	build(&b, magic, ver, key, keyl, ns, nsl, res, resl, hash, sig, sigl)

	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_OK, "rebuilt blob verifies");

	BUILD("SSHSIG", 2, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED, "version 2");
	ok(strstr(hlx_err_detail(), "version 2") != NULL, "detail: %s",
	   hlx_err_detail());
	BUILD("SSHSIG", 0, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED, "version 0");
	BUILD("SSHSIG", 0xffffffffu, f.key, f.keyl, f.ns, f.nsl, f.res,
	      f.resl, "sha512", f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED,
	      "version 0xffffffff");
	BUILD("SSHSIH", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EINVAL, "wrong magic SSHSIH");
	BUILD("sshsig", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EINVAL, "lower-case magic");

	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha1",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED,
	      "hash algorithm sha1");
	ok(strstr(hlx_err_detail(), "'sha1'") != NULL, "detail: %s",
	   hlx_err_detail());
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "md5",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED,
	      "hash algorithm md5");
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "SHA512",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED,
	      "hash algorithm SHA512 (case matters)");
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED,
	      "empty hash algorithm");
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha256",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EBADSIG,
	      "hash algorithm swapped to sha256: signature fails");

	BUILD("SSHSIG", 1, rsa_blob, sizeof(rsa_blob), f.ns, f.nsl, f.res,
	      f.resl, "sha512", f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED, "ssh-rsa key");
	ok(strstr(hlx_err_detail(), "'ssh-rsa'") != NULL, "detail: %s",
	   hlx_err_detail());
	hlx_buf_reset(&kb);
	if (hlx_buf_put_cstring(&kb, "sk-ssh-ed25519@openssh.com") ||
	    hlx_buf_put(&kb, f.key + 15, 36) ||
	    hlx_buf_put_cstring(&kb, "ssh:"))
		abort();
	BUILD("SSHSIG", 1, kb.data, kb.len, f.ns, f.nsl, f.res, f.resl,
	      "sha512", f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED,
	      "sk-ssh-ed25519 key");
	BUILD("SSHSIG", 1, f.key, f.keyl - 1, f.ns, f.nsl, f.res, f.resl,
	      "sha512", f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EINVAL, "31-byte key");
	hlx_buf_reset(&kb);
	if (hlx_buf_put(&kb, f.key, f.keyl) || hlx_buf_putc(&kb, 0))
		abort();
	BUILD("SSHSIG", 1, kb.data, kb.len, f.ns, f.nsl, f.res, f.resl,
	      "sha512", f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EINVAL,
	      "trailing byte in the key blob");

	/* the signature's algorithm disagrees with the ed25519 key */
	hlx_buf_reset(&sb);
	if (hlx_buf_put_cstring(&sb, "rsa-sha2-512") ||
	    hlx_buf_put(&sb, f.sig + 15, f.sigl - 15))
		abort();
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      sb.data, sb.len);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED,
	      "rsa-sha2-512 signature with an ed25519 key");
	hlx_buf_reset(&sb);
	if (hlx_buf_put_cstring(&sb, "ssh-ed448") ||
	    hlx_buf_put(&sb, f.sig + 15, f.sigl - 15))
		abort();
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      sb.data, sb.len);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED,
	      "ssh-ed448 signature type");
	memcpy(sig63, f.sig + 19, 63);
	hlx_buf_reset(&sb);
	if (hlx_buf_put_cstring(&sb, "ssh-ed25519") ||
	    hlx_buf_put_string(&sb, sig63, 63))
		abort();
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      sb.data, sb.len);
	is_rc(blob_rc(&b, "file", &msg), HLX_EINVAL, "63-byte signature");
	hlx_buf_reset(&sb);
	if (hlx_buf_put(&sb, f.sig, f.sigl) || hlx_buf_putc(&sb, 0))
		abort();
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      sb.data, sb.len);
	is_rc(blob_rc(&b, "file", &msg), HLX_EINVAL,
	      "trailing byte in the signature");

	BUILD("SSHSIG", 1, f.key, f.keyl, "", 0, f.res, f.resl, "sha512",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EINVAL, "empty namespace");
	BUILD("SSHSIG", 1, f.key, f.keyl, "file\0x", 6, f.res, f.resl,
	      "sha512", f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EINVAL, "NUL in the namespace");
	ok(detail_clean(), "detail quotes the NUL: %s", hlx_err_detail());
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, "x", 1, "sha512",
	      f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EUNSUPPORTED,
	      "non-empty reserved field");

	/* the public key swapped for another: the signature fails */
	if (hlx_seckey_generate(&other))
		abort();
	hlx_seckey_public(other, &opub);
	hlx_buf_reset(&kb);
	if (hlx_sshkey_encode_blob(&opub, &kb))
		abort();
	BUILD("SSHSIG", 1, kb.data, kb.len, f.ns, f.nsl, f.res, f.resl,
	      "sha512", f.sig, f.sigl);
	is_rc(blob_rc(&b, "file", &msg), HLX_EBADSIG,
	      "signer key swapped for another");
	hlx_seckey_free(other);

	/* trailing data after the blob, and truncated blobs */
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      f.sig, f.sigl);
	if (hlx_buf_putc(&b, 0))
		abort();
	is_rc(blob_rc(&b, "file", &msg), HLX_EINVAL, "trailing byte");
	{
		size_t l, bad = 0;
		struct hlx_sshsig *s;

		for (l = 0; l < blob.len; l++) {
			if (hlx_sshsig_parse_blob(blob.data, l, &s) !=
			    HLX_EINVAL || s != NULL)
				bad++;
		}
		ok(bad == 0, "every truncation of the blob (%zu) is EINVAL",
		   blob.len);
	}
	/* a namespace length that points past the end */
	BUILD("SSHSIG", 1, f.key, f.keyl, f.ns, f.nsl, f.res, f.resl, "sha512",
	      f.sig, f.sigl);
	b.data[10 + 4 + f.keyl] = 0xff;
	is_rc(blob_rc(&b, "file", &msg), HLX_EINVAL,
	      "namespace length 0xff...: truncated");
	(void)k;
	hlx_buf_free(&text);
	hlx_buf_free(&msg);
	hlx_buf_free(&blob);
	hlx_buf_free(&b);
	hlx_buf_free(&kb);
	hlx_buf_free(&sb);
}

static int armor_rc(const char *text, const struct hlx_buf *msg)
{
	return parse_verify(text, strlen(text), "file", msg);
}

static void test_armor(void)
{
	struct hlx_buf text = HLX_BUF_INIT, msg = HLX_BUF_INIT;
	struct hlx_buf t = HLX_BUF_INIT;
	size_t l, bad = 0, i;
	char *body, *p;
	int rc;

	slurp(VEC "message.file.sha512.sig", &text);
	slurp(VEC "message", &msg);
	is_rc(armor_rc((const char *)text.data, &msg), HLX_OK,
	      "the armored vector verifies");

	/* every proper prefix fails, except the one without the final LF */
	for (l = 0; l + 1 < text.len; l++) {
		rc = parse_verify((const char *)text.data, l, "file", &msg);
		if (rc == HLX_OK || !detail_clean())
			bad++;
	}
	ok(bad == 0, "every truncation of the armor (%zu prefixes) fails",
	   text.len - 1);
	is_rc(parse_verify((const char *)text.data, text.len - 1, "file",
			   &msg), HLX_OK,
	      "missing final newline is tolerated (as by ssh-keygen)");

	body = strdup((const char *)text.data);
	p = strchr(body, '\n') + 1;     /* start of base64 */

	is_rc(armor_rc(p, &msg), HLX_EINVAL, "missing BEGIN line");
	hlx_buf_reset(&t);
	hlx_buf_put(&t, text.data, strstr((char *)text.data, "-----END") -
		    (char *)text.data);
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL, "missing END line");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, " %s", text.data);
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "leading space before BEGIN");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "garbage\n%s", text.data);
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "garbage line before BEGIN");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "%sgarbage\n", text.data);
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "garbage after END");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "%s%s", text.data, text.data);
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "two signatures concatenated");
	hlx_buf_reset(&t);
	hlx_buf_put(&t, text.data, text.len);
	hlx_buf_putc(&t, 0);
	is_rc(parse_verify((char *)t.data, t.len, "file", &msg), HLX_EINVAL,
	      "NUL after END");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "%s \t\n\n", text.data);
	is_rc(armor_rc((char *)t.data, &msg), HLX_OK,
	      "trailing white space after END is tolerated");

	/* CRLF line endings are accepted (as by OpenSSH since 2024) */
	hlx_buf_reset(&t);
	for (i = 0; i < text.len; i++) {
		if (text.data[i] == '\n')
			hlx_buf_putc(&t, '\r');
		hlx_buf_putc(&t, text.data[i]);
	}
	is_rc(armor_rc((char *)t.data, &msg), HLX_OK,
	      "CRLF line endings accepted");
	hlx_buf_reset(&t);
	for (i = 0; i < text.len; i++)
		hlx_buf_putc(&t, text.data[i] == '\n' ? '\r' : text.data[i]);
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "CR-only line endings rejected");
	hlx_buf_reset(&t);
	hlx_buf_put(&t, text.data, 40);
	hlx_buf_putc(&t, '\r');
	hlx_buf_puts(&t, (char *)text.data + 40);
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "stray CR inside a base64 line");

	/* bad base64 */
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, (char *)text.data);
	t.data[40] = '!';
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "'!' in the base64");
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, (char *)text.data);
	t.data[40] = ' ';
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "space in the base64");
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, (char *)text.data);
	t.data[40] = '=';
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "padding in the middle of the base64");
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, (char *)text.data);
	p = strstr((char *)t.data, "\n-----END");
	memmove(p - 1, p, strlen(p) + 1);
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "one base64 character missing");
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, (char *)text.data);
	p = strchr((char *)t.data, '\n');
	memmove(p + 1, p, strlen(p) + 1); /* empty line after BEGIN */
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "empty line inside the armor");
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, "-----BEGIN SSH SIGNATURE-----\n"
		     "-----END SSH SIGNATURE-----\n");
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL, "empty armor");
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, "-----BEGIN SSH SIGNATURE----- \n");
	hlx_buf_puts(&t, p + 1);
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "space after the BEGIN marker");
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, (char *)text.data);
	memcpy(strstr((char *)t.data, "BEGIN SSH"), "BEGIN PGP", 9);
	is_rc(armor_rc((char *)t.data, &msg), HLX_EINVAL,
	      "PGP armor header");
	is_rc(armor_rc("", &msg), HLX_EINVAL, "empty input");

	/* re-wrapped at 76 and at 64 columns: still the same blob */
	{
		struct hlx_buf blob = HLX_BUF_INIT, b64 = HLX_BUF_INIT;
		static const size_t widths[] = { 76, 64, 4, 1000 };
		size_t w;

		hlx_sshsig_dearmor((char *)text.data, text.len, &blob);
		for (w = 0; w < 4; w++) {
			char *enc;
			size_t el = sodium_base64_ENCODED_LEN(blob.len,
					sodium_base64_VARIANT_ORIGINAL);

			enc = malloc(el);
			sodium_bin2base64(enc, el, blob.data, blob.len,
					  sodium_base64_VARIANT_ORIGINAL);
			hlx_buf_reset(&b64);
			hlx_buf_puts(&b64, "-----BEGIN SSH SIGNATURE-----\n");
			for (i = 0; i < strlen(enc); i += widths[w]) {
				hlx_buf_put(&b64, enc + i,
					    strlen(enc) - i < widths[w] ?
					    strlen(enc) - i : widths[w]);
				hlx_buf_putc(&b64, '\n');
			}
			hlx_buf_puts(&b64, "-----END SSH SIGNATURE-----\n");
			is_rc(armor_rc((char *)b64.data, &msg), HLX_OK,
			      "armor wrapped at %zu columns accepted",
			      widths[w]);
			free(enc);
		}
		hlx_buf_free(&blob);
		hlx_buf_free(&b64);
	}

	/* oversized */
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, (char *)text.data);
	while (t.len <= HLX_SSHSIG_ARMOR_MAX)
		hlx_buf_putc(&t, '\n');
	is_rc(armor_rc((char *)t.data, &msg), HLX_ETOOBIG,
	      "armor over %d bytes", HLX_SSHSIG_ARMOR_MAX);
	free(body);
	hlx_buf_free(&text);
	hlx_buf_free(&msg);
	hlx_buf_free(&t);
}

static void test_sign_args(const struct hlx_seckey *k)
{
	struct hlx_buf out = HLX_BUF_INIT;
	struct hlx_sshsig_hasher *h;
	struct hlx_sshsig *s;
	char ns[HLX_SSHSIG_NS_MAX + 2];
	static const uint8_t m[] = "synthetic";
	int rc;

	is_rc(hlx_sshsig_sign(k, "file", "sha1", m, 9, &out),
	      HLX_EUNSUPPORTED, "signing with sha1 refused");
	is_rc(hlx_sshsig_sign(k, "file", "SHA512", m, 9, &out),
	      HLX_EUNSUPPORTED, "signing with SHA512 refused");
	is_rc(hlx_sshsig_sign(k, "", NULL, m, 9, &out), HLX_EINVAL,
	      "signing with an empty namespace refused");
	is_rc(hlx_sshsig_sign(k, NULL, NULL, m, 9, &out), HLX_EINVAL,
	      "signing with a NULL namespace refused");
	memset(ns, 'n', sizeof(ns) - 1);
	ns[sizeof(ns) - 1] = '\0';
	is_rc(hlx_sshsig_sign(k, ns, NULL, m, 9, &out), HLX_ETOOBIG,
	      "signing with a %zu-byte namespace refused", strlen(ns));
	ok(out.len == 0, "failed signing leaves the output empty");
	ns[sizeof(ns) - 2] = '\0';
	rc = hlx_sshsig_sign(k, ns, NULL, m, 9, &out);
	is_rc(rc, HLX_OK, "signing with a %zu-byte namespace", strlen(ns));
	rc = hlx_sshsig_parse_armor((char *)out.data, out.len, &s);
	is_rc(rc, HLX_OK, "and it parses back");
	if (!rc) {
		is_rc(hlx_sshsig_verify(s, ns, m, 9), HLX_OK,
		      "and verifies");
		hlx_sshsig_free(s);
	}
	is_rc(hlx_sshsig_hasher_new("md5", &h), HLX_EUNSUPPORTED,
	      "md5 hasher refused");
	ok(h == NULL, "and *out is NULL");

	hlx_buf_reset(&out);
	rc = hlx_sshsig_sign(k, "hlx list öäü with spaces", "sha256", NULL,
			     0, &out);
	is_rc(rc, HLX_OK, "UTF-8 namespace with spaces, empty message");
	rc = hlx_sshsig_parse_armor((char *)out.data, out.len, &s);
	if (!rc) {
		is_rc(hlx_sshsig_verify(s, "hlx list öäü with spaces", NULL,
					0), HLX_OK, "verifies");
		rc = hlx_sshsig_hasher_new("sha512", &h);
		if (!rc) {
			is_rc(hlx_sshsig_verify_hasher(s, h, "hlx list öäü "
						       "with spaces"),
			      HLX_EINVAL, "hasher of the wrong algorithm");
			hlx_sshsig_hasher_free(h);
		}
		hlx_sshsig_free(s);
	}
	hlx_buf_free(&out);
}

int main(void)
{
	struct hlx_buf line = HLX_BUF_INIT;
	struct hlx_pubkey pub, kpub;
	struct hlx_seckey *k;
	struct hlx_sshsig *s = (struct hlx_sshsig *)&line;

	if (sodium_init() < 0)
		return 1;
	k = vector_key();
	hlx_seckey_public(k, &kpub);
	slurp(VEC "key.pub", &line);
	is_rc(hlx_sshkey_parse((char *)line.data, line.len, &pub, NULL),
	      HLX_OK, "vector key.pub parses");
	ok(hlx_pubkey_eq(&pub, &kpub), "seed.hex matches key.pub");

	test_vectors(k, &pub);
	test_every_byte();
	test_message_and_namespace(&pub);
	test_forged_fields(k);
	test_armor();
	test_sign_args(k);

	is_rc(hlx_sshsig_parse_armor("x", 1, &s), HLX_EINVAL,
	      "garbage does not parse");
	ok(s == NULL, "failed parse sets *out to NULL");
	hlx_sshsig_free(NULL);

	hlx_seckey_free(k);
	hlx_buf_free(&line);
	return done_testing();
}
