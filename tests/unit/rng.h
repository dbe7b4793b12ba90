/* SPDX-License-Identifier: MIT */
/*
 * splitmix64 for the C unit tests: rnd() draws from rng_state, which a
 * test sets from its fixed seed (or HLX_SEED) and prints first.
 */
#ifndef HLX_TEST_RNG_H
#define HLX_TEST_RNG_H

#include <stdint.h>

static uint64_t rng_state;

__attribute__((unused))
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
