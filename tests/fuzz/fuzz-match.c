/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the matcher's inputs from disk (spec/match.md).  The
 * first byte picks the parser, the rest is its input:
 *   even: an index file image (pdq.base or pdq.delta);
 *   odd:  the per-list settings (config.json).
 * Invariants (abort() on violation):
 *   - a failure sets a printable detail;
 *   - settings that parse format canonically, and that form parses back
 *     to the same settings, less the entries equal to the defaults; its
 *     format is a fixed point.
 */
#include "node/match.h"
#include "protocol/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_detail(void)
{
	const unsigned char *d = (const unsigned char *)hlx_err_detail();

	if (!*d)
		abort();
	for (; *d; d++)
		if (*d < 0x20 || *d >= 0x7f)
			abort();
}

static void fuzz_conf(const char *s, size_t n)
{
	struct hlx_match_conf_entry *a = NULL, *b = NULL;
	struct hlx_buf f1 = HLX_BUF_INIT, f2 = HLX_BUF_INIT;
	size_t na = 0, nb = 0, k = 0;

	if (hlx_match_conf_parse(s, n, &a, &na) != HLX_OK) {
		check_detail();
		if (a || na)
			abort();
		return;
	}
	if (hlx_match_conf_format(a, na, &f1) != HLX_OK)
		abort();
	if (hlx_match_conf_parse((const char *)f1.data, f1.len, &b, &nb) != HLX_OK)
		abort();
	for (size_t i = 0; i < na; i++) {
		if (a[i].c.threshold == HLX_MATCH_THRESHOLD_DEFAULT && !a[i].c.allow)
			continue;
		if (k >= nb || strcmp(a[i].list, b[k].list) ||
		    a[i].c.threshold != b[k].c.threshold ||
		    a[i].c.allow != b[k].c.allow)
			abort();
		k++;
	}
	if (k != nb)
		abort();
	if (hlx_match_conf_format(b, nb, &f2) != HLX_OK || f1.len != f2.len ||
	    memcmp(f1.data, f2.data, f1.len) != 0)
		abort();
	free(a);
	free(b);
	hlx_buf_free(&f1);
	hlx_buf_free(&f2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size == 0)
		return 0;
	/* an exact-size copy, so that reading past the end is caught */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 1, size - 1);
	if (data[0] % 2 == 0) {
		if (hlx_match_file_check(copy, size - 1) != HLX_OK)
			check_detail();
	} else {
		fuzz_conf((const char *)copy, size - 1);
	}
	free(copy);
	return 0;
}
