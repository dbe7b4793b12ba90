/* SPDX-License-Identifier: MIT */
/*
 * Ed25519 keys.
 *
 * struct hlx_pubkey is a plain value (32 bytes).  struct hlx_seckey is an
 * opaque handle whose key material lives in sodium_malloc memory (guard
 * pages, mlock'd, wiped by sodium_free); create it with hlx_seckey_generate
 * or hlx_seckey_from_seed and release it with hlx_seckey_free.
 */
#ifndef HLX_KEY_H
#define HLX_KEY_H

#include <stddef.h>
#include <stdint.h>

#define HLX_PUBKEY_LEN 32
#define HLX_SEED_LEN 32
#define HLX_SIG_LEN 64
/* "SHA256:" + 43 base64 characters + NUL */
#define HLX_FPR_LEN 51

struct hlx_pubkey {
	uint8_t pk[HLX_PUBKEY_LEN];
};

struct hlx_seckey;

int hlx_seckey_generate(struct hlx_seckey **out);
int hlx_seckey_from_seed(const uint8_t seed[HLX_SEED_LEN],
			 struct hlx_seckey **out);
void hlx_seckey_free(struct hlx_seckey *k);
void hlx_seckey_public(const struct hlx_seckey *k, struct hlx_pubkey *pub);
/* The 32-byte seed, for storing the key.  Points into guarded memory owned
 * by k; valid until hlx_seckey_free. */
const uint8_t *hlx_seckey_seed(const struct hlx_seckey *k);
/* Detached Ed25519 signature of m. */
int hlx_seckey_sign(const struct hlx_seckey *k, const uint8_t *m, size_t n,
		    uint8_t sig[HLX_SIG_LEN]);

/* HLX_OK, or HLX_EBADSIG. */
int hlx_pubkey_verify(const struct hlx_pubkey *pub, const uint8_t *m, size_t n,
		      const uint8_t sig[HLX_SIG_LEN]);
/* 1 if equal (constant time), 0 otherwise. */
int hlx_pubkey_eq(const struct hlx_pubkey *a, const struct hlx_pubkey *b);

#endif
