/* SPDX-License-Identifier: MIT */
/*
 * Minimal TAP producer for the C unit tests.  Each test program prints
 * "ok N - desc" / "not ok N - desc" lines and a plan at the end; the exit
 * status is non-zero when any test failed.  tests/run.sh tallies them.
 */
#ifndef HLX_TAP_H
#define HLX_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/err.h"

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused))
static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		if (hlx_err_detail()[0])
			printf("# last error detail: %s\n", hlx_err_detail());
	}
	fflush(stdout);
	return cond;
}

/* is_rc(got, want, desc): an hlx return code equals the expected one. */
#define is_rc(got, want, ...)                                               \
	do {                                                                \
		int got_ = (got), want_ = (want);                           \
		if (!ok(got_ == want_, __VA_ARGS__))                        \
			printf("#   got %d (%s), want %d (%s)\n", got_,     \
			       hlx_strerror(got_), want_,                   \
			       hlx_strerror(want_));                        \
	} while (0)

#define is_str(got, want, ...)                                              \
	do {                                                                \
		const char *g_ = (got), *w_ = (want);                       \
		if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))      \
			printf("#   got '%s'\n#  want '%s'\n",              \
			       g_ ? g_ : "(null)", w_ ? w_ : "(null)");     \
	} while (0)

__attribute__((unused))
static int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
