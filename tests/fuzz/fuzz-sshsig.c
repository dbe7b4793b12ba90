/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for keys/sshsig.c: the input is parsed as an armored
 * signature and as a raw blob, and verified against a fixed message.
 * Invariants: a parsed signature's blob re-armors and parses back to the
 * same blob, key, namespace and hash algorithm; a parsed raw blob is the
 * input itself; a dearmored blob re-armors and dearmors to itself; and a
 * signature that verifies for the fixed message must be by the fixed key
 * and byte-identical to what hlx signs for that namespace and hash
 * algorithm (no forgery, no malleability).  The seeds in
 * tests/fuzz/corpus/sshsig/ are signatures by the fixed key (seed bytes
 * 1, 2, ..., 32) over the fixed message.
 */
#include "keys/key.h"
#include "keys/sshsig.h"
#include "protocol/buf.h"
#include "protocol/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t msg[] = "hlx fuzz message\n";
static struct hlx_seckey *fixed;

static void canonical(const struct hlx_sshsig *s, const uint8_t *b, size_t bl)
{
	struct hlx_buf armor = HLX_BUF_INIT, blob = HLX_BUF_INIT;
	struct hlx_pubkey pub;
	uint8_t seed[HLX_SEED_LEN];
	size_t i;

	if (!fixed) {
		for (i = 0; i < sizeof(seed); i++)
			seed[i] = (uint8_t)(i + 1);
		if (hlx_seckey_from_seed(seed, &fixed))
			abort();
	}
	hlx_seckey_public(fixed, &pub);
	if (!hlx_pubkey_eq(&pub, hlx_sshsig_signer(s)))
		abort(); /* a valid signature by a key nobody here holds */
	if (hlx_sshsig_sign(fixed, hlx_sshsig_namespace(s),
			    hlx_sshsig_hashalg(s), msg, sizeof(msg) - 1,
			    &armor) ||
	    hlx_sshsig_dearmor((char *)armor.data, armor.len, &blob) ||
	    blob.len != bl || memcmp(blob.data, b, bl) != 0)
		abort(); /* accepted a blob hlx would not have made */
	hlx_buf_free(&armor);
	hlx_buf_free(&blob);
}

static void check(const struct hlx_sshsig *s)
{
	struct hlx_buf armor = HLX_BUF_INIT;
	struct hlx_sshsig *s2;
	const uint8_t *b, *b2;
	size_t bl, bl2;
	int rc;

	b = hlx_sshsig_blob(s, &bl);
	if (hlx_sshsig_armor(b, bl, &armor))
		abort();
	if (hlx_sshsig_parse_armor((char *)armor.data, armor.len, &s2))
		abort();
	b2 = hlx_sshsig_blob(s2, &bl2);
	if (bl != bl2 || memcmp(b, b2, bl) != 0 ||
	    !hlx_pubkey_eq(hlx_sshsig_signer(s), hlx_sshsig_signer(s2)) ||
	    strcmp(hlx_sshsig_namespace(s), hlx_sshsig_namespace(s2)) != 0 ||
	    strcmp(hlx_sshsig_hashalg(s), hlx_sshsig_hashalg(s2)) != 0 ||
	    !*hlx_sshsig_namespace(s))
		abort();
	hlx_sshsig_free(s2);

	rc = hlx_sshsig_verify(s, hlx_sshsig_namespace(s), msg,
			       sizeof(msg) - 1);
	if (rc != HLX_OK && rc != HLX_EBADSIG)
		abort();
	if (rc == HLX_OK)
		canonical(s, b, bl);
	if (hlx_sshsig_verify(s, "", msg, sizeof(msg) - 1) != HLX_EINVAL)
		abort();
	hlx_buf_free(&armor);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hlx_buf blob = HLX_BUF_INIT, re = HLX_BUF_INIT;
	struct hlx_buf blob2 = HLX_BUF_INIT;
	struct hlx_sshsig *s;
	const uint8_t *b;
	size_t bl;
	int rc;

	rc = hlx_sshsig_parse_armor((const char *)data, size, &s);
	if (rc == HLX_OK) {
		check(s);
		hlx_sshsig_free(s);
	} else if (s != NULL || (rc != HLX_EINVAL && rc != HLX_EUNSUPPORTED &&
				 rc != HLX_ETOOBIG)) {
		abort();
	}

	rc = hlx_sshsig_dearmor((const char *)data, size, &blob);
	if (rc == HLX_OK) {
		if (hlx_sshsig_armor(blob.data, blob.len, &re) ||
		    hlx_sshsig_dearmor((char *)re.data, re.len, &blob2) ||
		    blob2.len != blob.len ||
		    memcmp(blob2.data, blob.data, blob.len) != 0)
			abort();
	} else if (rc != HLX_EINVAL && rc != HLX_ETOOBIG) {
		abort();
	}

	rc = hlx_sshsig_parse_blob(data, size, &s);
	if (rc == HLX_OK) {
		b = hlx_sshsig_blob(s, &bl);
		if (bl != size || memcmp(b, data, size) != 0)
			abort();
		check(s);
		hlx_sshsig_free(s);
	} else if (rc != HLX_EINVAL && rc != HLX_EUNSUPPORTED &&
		   rc != HLX_ETOOBIG) {
		abort();
	}
	hlx_buf_free(&blob);
	hlx_buf_free(&blob2);
	hlx_buf_free(&re);
	return 0;
}
