/* SPDX-License-Identifier: MIT */
/*
 * libsodium's random bytes, in a C unit test, from a seed that is fixed
 * (1) and printed first, HLX_SEED overriding it, so that a failing run
 * can be repeated.  seed_sodium() installs them before sodium_init; from
 * then on randombytes_buf, _random and _uniform, the test's and the
 * library's alike, draw from ChaCha20 keyed by a hash of the seed and the
 * program's name (so two tests draw different bytes; the same test of
 * two builds, and a forked child with its parent, draw the same: a
 * temporary name must come from mkdtemp or mkstemp, as in these tests),
 * a fresh nonce each call.
 */
#ifndef HLX_TEST_SEEDED_H
#define HLX_TEST_SEEDED_H

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char seeded_key[crypto_stream_chacha20_KEYBYTES];
static atomic_uint_fast64_t seeded_calls;

static const char *seeded_name(void)
{
	return "hlx-test-seeded";
}

static void seeded_buf(void *p, size_t n)
{
	uint64_t c = (uint64_t)atomic_fetch_add(&seeded_calls, 1);
	unsigned char nonce[crypto_stream_chacha20_NONCEBYTES];

	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (unsigned char)(c >> (8 * i));
	crypto_stream_chacha20((unsigned char *)p, (unsigned long long)n, nonce,
			       seeded_key);
}

static uint32_t seeded_random(void)
{
	uint32_t v;

	seeded_buf(&v, sizeof(v));
	return v;
}

/* randombytes_uniform falls back on randombytes_random where uniform is
 * NULL; stir and close have nothing to do. */
static struct randombytes_implementation seeded_impl = {
	seeded_name, seeded_random, NULL, NULL, seeded_buf, NULL
};

/* Before sodium_init.  Returns 0, or -1 (printed) if HLX_SEED is not a
 * decimal number. */
__attribute__((unused))
static int seed_sodium(void)
{
	const char *s = getenv("HLX_SEED");
	uint64_t seed = 1;
	unsigned char in[8];
	crypto_generichash_state st;

	if (s && *s) {
		char *end;

		errno = 0;
		seed = strtoull(s, &end, 10);
		if (errno || *end || *s < '0' || *s > '9') {
			printf("Bail out! HLX_SEED '%s' is not a decimal number\n", s);
			return -1;
		}
	}
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(seed >> (8 * i));
	crypto_generichash_init(&st, NULL, 0, sizeof(seeded_key));
	crypto_generichash_update(&st, in, sizeof(in));
	crypto_generichash_update(&st,
				  (const unsigned char *)program_invocation_short_name,
				  strlen(program_invocation_short_name));
	crypto_generichash_final(&st, seeded_key, sizeof(seeded_key));
	randombytes_set_implementation(&seeded_impl);
	printf("# seed %" PRIu64 " (libsodium's random bytes; HLX_SEED=n to change)\n",
	       seed);
	fflush(stdout);
	return 0;
}

#endif
