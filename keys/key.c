/* SPDX-License-Identifier: MIT */
#include "keys/key.h"
#include "protocol/err.h"

#include <sodium.h>
#include <string.h>

struct hlx_seckey {
	uint8_t seed[HLX_SEED_LEN];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	struct hlx_pubkey pub;
};

static int init_sodium(void)
{
	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	return HLX_OK;
}

int hlx_seckey_from_seed(const uint8_t seed[HLX_SEED_LEN],
			 struct hlx_seckey **out)
{
	struct hlx_seckey *k;
	int rc;

	*out = NULL;
	rc = init_sodium();
	if (rc)
		return rc;
	k = sodium_malloc(sizeof(*k));
	if (!k)
		return hlx_err(HLX_ENOMEM, "cannot allocate guarded memory for a key");
	memcpy(k->seed, seed, HLX_SEED_LEN);
	if (crypto_sign_seed_keypair(k->pub.pk, k->sk, k->seed) != 0) {
		sodium_free(k);
		return hlx_err(HLX_ECRYPTO, "cannot derive an Ed25519 key pair");
	}
	*out = k;
	return HLX_OK;
}

int hlx_seckey_generate(struct hlx_seckey **out)
{
	uint8_t *seed;
	int rc;

	*out = NULL;
	rc = init_sodium();
	if (rc)
		return rc;
	seed = sodium_malloc(HLX_SEED_LEN);
	if (!seed)
		return hlx_err(HLX_ENOMEM, "cannot allocate guarded memory for a key");
	randombytes_buf(seed, HLX_SEED_LEN);
	rc = hlx_seckey_from_seed(seed, out);
	sodium_free(seed);
	return rc;
}

void hlx_seckey_free(struct hlx_seckey *k)
{
	if (k)
		sodium_free(k); /* wipes */
}

void hlx_seckey_public(const struct hlx_seckey *k, struct hlx_pubkey *pub)
{
	*pub = k->pub;
}

const uint8_t *hlx_seckey_seed(const struct hlx_seckey *k)
{
	return k->seed;
}

int hlx_seckey_sign(const struct hlx_seckey *k, const uint8_t *m, size_t n,
		    uint8_t sig[HLX_SIG_LEN])
{
	if (crypto_sign_detached(sig, NULL, m, n, k->sk) != 0)
		return hlx_err(HLX_ECRYPTO, "Ed25519 signing failed");
	return HLX_OK;
}

int hlx_pubkey_verify(const struct hlx_pubkey *pub, const uint8_t *m, size_t n,
		      const uint8_t sig[HLX_SIG_LEN])
{
	if (sodium_init() < 0)
		return hlx_err(HLX_ECRYPTO, "cannot initialise libsodium");
	if (crypto_sign_verify_detached(sig, m, n, pub->pk) != 0)
		return hlx_err(HLX_EBADSIG, "Ed25519 signature does not verify");
	return HLX_OK;
}

int hlx_pubkey_eq(const struct hlx_pubkey *a, const struct hlx_pubkey *b)
{
	return sodium_memcmp(a->pk, b->pk, HLX_PUBKEY_LEN) == 0;
}
