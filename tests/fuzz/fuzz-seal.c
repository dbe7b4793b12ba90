/* SPDX-License-Identifier: MIT */
/* Sealed envelopes: unseal arbitrary input with a fixed key (the seeds are
 * sealed to it).  Also box-key text.  Invariants: a failed unseal leaves
 * its output as it was; what opens, sealed again, opens to the same
 * bytes; parse(format(parse(x))) == parse(x). */
#include "keys/seal.h"
#include "protocol/err.h"

#include <stdlib.h>
#include <string.h>

#define CTX "hlx-fuzz"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed seed: tests/fuzz/corpus/seal/ holds envelopes sealed to it. */
static const uint8_t seed[HLX_SEED_LEN] = "hlx fuzz seal key, 32 bytes ok!";

static struct hlx_boxkey *key(void)
{
	static struct hlx_boxkey *k;
	struct hlx_seckey *sk;

	if (!k) {
		if (hlx_seckey_from_seed(seed, &sk) ||
		    hlx_boxkey_from_seckey(sk, &k))
			abort();
		hlx_seckey_free(sk);
	}
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_buf out = HLX_BUF_INIT, env = HLX_BUF_INIT, again = HLX_BUF_INIT;
	struct hlx_boxpub pub, p2;
	int rc;

	rc = hlx_unseal_buf(data, size, key(), CTX, 1 << 20, &out);
	if (rc != HLX_OK && out.len != 0)
		abort();
	if (rc == HLX_OK) {
		if (!hlx_seal_is(data, size))
			abort();
		hlx_boxkey_pub(key(), &pub);
		if (hlx_seal_buf(out.data, out.len, &pub, 1, CTX, &env) ||
		    hlx_unseal_buf(env.data, env.len, key(), CTX, 1 << 20, &again) ||
		    again.len != out.len ||
		    (out.len && memcmp(again.data, out.data, out.len)))
			abort();
	}
	if (hlx_boxpub_parse((const char *)data, size, &pub) == HLX_OK) {
		hlx_buf_reset(&env);
		if (hlx_boxpub_format(&pub, &env) ||
		    hlx_boxpub_parse((const char *)env.data, env.len, &p2) ||
		    !hlx_boxpub_eq(&pub, &p2))
			abort();
	}
	hlx_buf_free(&out);
	hlx_buf_free(&env);
	hlx_buf_free(&again);
	return 0;
}
