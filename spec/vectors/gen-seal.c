/* SPDX-License-Identifier: MIT */
/*
 * Writes spec/vectors/seal.txt (format described at its top).  Envelopes
 * are random (fresh file key, ephemeral keys), so running it again gives
 * other, equally valid vectors.  Build from the repository root:
 *   cc -std=c11 -D_GNU_SOURCE -I. -o /tmp/gen-seal spec/vectors/gen-seal.c \
 *      keys/seal.c keys/key.c protocol/buf.c protocol/err.c \
 *      $(pkg-config --cflags --libs libsodium)
 *   /tmp/gen-seal >spec/vectors/seal.txt
 */
#include "keys/seal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hex(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", ((const uint8_t *)p)[i]);
}

static void line(const char *kind, const char *key, const char *ctx,
		 const char *mid, const void *env, size_t n)
{
	printf("%s\t%s\t%s\t%s\t", kind, key, ctx, mid);
	hex(env, n);
	printf("\n");
}

int main(void)
{
	static const char *const names[] = { "A", "B", "C" };
	static const char ctx[] = "hlx-feed:0f1e2d3c/lists/uk-a/head";
	struct hlx_seckey *sk[3];
	struct hlx_boxkey *bk[3];
	struct hlx_boxpub bp[3];
	struct hlx_buf b = HLX_BUF_INIT, t = HLX_BUF_INIT;
	uint8_t seed[32], pt[100], *env;
	char phex[2 * sizeof(pt) + 1];
	size_t n;

	if (sodium_init() < 0)
		return 1;
	printf("# hlx sealed envelopes (spec/encryption.md), made by gen-seal.c\n"
	       "#\n"
	       "# Fields are separated by a single TAB; '#' lines and empty lines\n"
	       "# are ignored.  Keys are synthetic.\n"
	       "#\n"
	       "# key<TAB>NAME<TAB>SEED<TAB>BOXPUB\n"
	       "#     SEED: 32-byte Ed25519 seed (hex) of key NAME, defined as\n"
	       "#     SHA-256(\"hlx seal vector \" NAME); BOXPUB: the text form of its\n"
	       "#     box key (from the secret and from the Ed25519 public key).\n"
	       "# ok<TAB>NAME<TAB>CONTEXT<TAB>PLAINTEXT<TAB>ENVELOPE\n"
	       "#     hlx_unseal_buf(ENVELOPE, key NAME, CONTEXT) gives PLAINTEXT\n"
	       "#     (hex; '-' for empty).\n"
	       "# bad<TAB>NAME<TAB>CONTEXT<TAB>ERROR<TAB>ENVELOPE\n"
	       "#     hlx_unseal_buf fails with ERROR (EPERM, EBADSIG or EINVAL).\n");
	for (int i = 0; i < 3; i++) {
		char label[32];

		snprintf(label, sizeof(label), "hlx seal vector %s", names[i]);
		crypto_hash_sha256(seed, (const uint8_t *)label, strlen(label));
		hlx_seckey_from_seed(seed, &sk[i]);
		hlx_boxkey_from_seckey(sk[i], &bk[i]);
		hlx_boxkey_pub(bk[i], &bp[i]);
		hlx_buf_reset(&t);
		hlx_boxpub_format(&bp[i], &t);
		printf("key\t%s\t", names[i]);
		hex(seed, 32);
		printf("\t%s\n", (const char *)t.data);
	}
	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 7 + 3);
	sodium_bin2hex(phex, sizeof(phex), pt, sizeof(pt));

	hlx_seal_buf("", 0, bp, 1, ctx, &b);
	line("ok", "A", ctx, "-", b.data, b.len);
	hlx_buf_reset(&b);
	hlx_seal_buf(pt, sizeof(pt), bp, 2, ctx, &b);
	line("ok", "A", ctx, phex, b.data, b.len);
	line("ok", "B", ctx, phex, b.data, b.len);
	line("bad", "C", ctx, "EPERM", b.data, b.len);
	line("bad", "A", "hlx-feed:0f1e2d3c/lists/uk-b/head", "EBADSIG",
	     b.data, b.len);
	line("bad", "A", ctx, "EBADSIG", b.data, b.len - 1);
	env = malloc(b.len + 1);
	memcpy(env, b.data, b.len);
	env[b.len] = 0;
	line("bad", "A", ctx, "EBADSIG", env, b.len + 1);
	n = HLX_SEAL_HEADER_LEN(2) + 5;
	env[n] ^= 0x20;
	line("bad", "A", ctx, "EBADSIG", env, b.len);
	env[n] ^= 0x20;
	env[12 + 80 + 7] ^= 0x01; /* B's wrapped key: A still opens its own */
	line("bad", "A", ctx, "EBADSIG", env, b.len);
	env[12 + 80 + 7] ^= 0x01;
	env[11] = 0;
	line("bad", "A", ctx, "EINVAL", env, b.len);
	env[11] = 2;
	env[7] = '2';
	line("bad", "A", ctx, "EINVAL", env, b.len);
	free(env);
	hlx_buf_free(&b);
	hlx_buf_free(&t);
	for (int i = 0; i < 3; i++) {
		hlx_boxkey_free(bk[i]);
		hlx_seckey_free(sk[i]);
	}
	return 0;
}
