/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: case lines, the owner function and the growth check
 * of a cases log (spec/cases.md).  Invariants (abort() on violation):
 *   - a decoded line validates, encodes back to exactly the input, and has
 *     a JSON form;
 *   - the input's lines that decode, given to the owner function with a
 *     fixed route, give an owner that is in the base order or the opening
 *     reporter, with since <= t < until, exactly when a report is dated at
 *     or before t;
 *   - the input split at its first NUL into an old and a new log: when the
 *     growth check accepts, the new log checked against itself passes;
 *   - failures set a printable detail.
 */
#include "protocol/buf.h"
#include "protocol/case.h"
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

static const char *const base[] = { "hl-de", "hl-nl", "hl-gb", "hl-fr",
				    "le-nl" };
static const char *const orgs[] = { "hl-de", "hl-nl", "hl-gb", "hl-fr",
				    "le-nl", "rep-x", "hl-de", "hl-nl" };

static uint32_t data_word(const char *s, size_t n)
{
	uint32_t w = 0;
	size_t i;

	for (i = 0; i < 4 && i < n; i++)
		w = w << 8 | (uint8_t)s[i];
	return w;
}

static void owner_checks(const char *s, size_t size)
{
	static struct hlx_case_line lines[8];
	struct hlx_case_src srcs[8];
	struct hlx_case_wd wd = { "hl-de", 1796220000 };
	struct hlx_case_route r = { 1, base, 5, 2, &wd, 1, 300, 60, "le-nl" };
	struct hlx_case_owner o;
	const char *p = s, *end = s + size, *nl;
	unsigned n = 0, i;
	int64_t t = 1796202000, tmin = -1;
	int in = 0;

	while (p < end && n < 8) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		if (!hlx_case_decode(p, (size_t)(nl - p) + 1, &lines[n])) {
			srcs[n].org = orgs[n];
			srcs[n].root = "SHA256:x";
			srcs[n].line = &lines[n];
			n++;
		}
		p = nl + 1;
	}
	if (size >= 4)
		t = 1796202000 + (int64_t)(data_word(s, size) % 400000);
	if (size & 1)
		r.routed = 0;
	if (hlx_case_owner(&r, srcs, n, t, &o, NULL, NULL))
		abort();
	for (i = 0; i < n; i++)
		if (lines[i].reported != -1 &&
		    (tmin == -1 || lines[i].reported < tmin))
			tmin = lines[i].reported;
	if (o.exists != (tmin != -1 && tmin <= t))
		abort();
	if (!o.exists)
		return;
	if (o.since > t || o.until <= t || o.since < o.t0 || !o.org)
		abort();
	for (i = 0; i < 5; i++)
		in |= !strcmp(o.org, base[i]);
	if (!in && strcmp(o.org, srcs[o.opening].org))
		abort();
	if (!r.routed && strcmp(o.org, srcs[o.opening].org))
		abort();
}

static void line_checks(const char *s, size_t size)
{
	struct hlx_case_line l, l2;
	struct hlx_buf b = HLX_BUF_INIT, j = HLX_BUF_INIT;

	if (hlx_case_decode(s, size, &l)) {
		check_detail();
		return;
	}
	if (hlx_case_validate(&l) || hlx_case_encode(&l, &b) ||
	    b.len != size || memcmp(b.data, s, size) ||
	    hlx_case_decode((char *)b.data, b.len, &l2) ||
	    hlx_case_to_json(&l, &j) || !j.len)
		abort();
	hlx_buf_free(&b);
	hlx_buf_free(&j);
}

static void log_checks(const char *s, size_t size)
{
	const char *z = memchr(s, '\0', size);
	size_t oldn;
	int64_t now = 1796212800 + 86400;

	if (!z)
		return;
	oldn = (size_t)(z - s);
	if (hlx_case_log_check(s, oldn, z + 1, size - oldn - 1, now, now)) {
		check_detail();
		return;
	}
	if (hlx_case_log_check(z + 1, size - oldn - 1, z + 1,
			       size - oldn - 1, now, now))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	if (size > 65536)
		return 0;
	line_checks(s, size);
	owner_checks(s, size);
	log_checks(s, size);
	return 0;
}
