/* SPDX-License-Identifier: MIT */
/*
 * Allowed signers files: OpenSSH pattern lists, times, options, validity
 * windows, the vector file checked against ssh-keygen
 * (spec/vectors/sshsig/allowed_checks.txt), the formatter, and the
 * rejection of every malformed line.
 */
#include "keys/allowed.h"
#include "keys/key.h"
#include "keys/sshkey.h"
#include "protocol/buf.h"
#include "protocol/err.h"
#include "tests/unit/tap.h"
#include "tests/unit/seeded.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VEC "spec/vectors/sshsig/"
#define T2024 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */

static struct hlx_pubkey key;      /* the vector key */
static char keyline[128];          /* "ssh-ed25519 AAAA..." */
static struct hlx_pubkey other;    /* a fresh key */

static void slurp(const char *path, struct hlx_buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	hlx_buf_reset(b);
	if (!f) {
		printf("Bail out! cannot open %s (run from the repository "
		       "root)\n", path);
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (hlx_buf_put(b, chunk, n))
			abort();
	fclose(f);
	if (!b->data && hlx_buf_put(b, "", 0))
		abort();
}

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* Parse text (with KEY replaced by the vector key) and check once. */
static int check1(const char *fmt, const char *principal,
		  const struct hlx_pubkey *k, const char *ns, int64_t now)
{
	struct hlx_buf t = HLX_BUF_INIT;
	struct hlx_allowed *a;
	const char *p, *q;
	int rc;

	for (p = fmt; (q = strstr(p, "KEY")); p = q + 3) {
		hlx_buf_put(&t, p, (size_t)(q - p));
		hlx_buf_puts(&t, keyline);
	}
	hlx_buf_puts(&t, p);
	rc = hlx_allowed_parse((char *)t.data, t.len, &a);
	hlx_buf_free(&t);
	if (rc)
		return rc;
	rc = hlx_allowed_check(a, principal, k, ns, now);
	hlx_allowed_free(a);
	return rc;
}

static int parse_rc(const char *fmt)
{
	struct hlx_buf t = HLX_BUF_INIT;
	struct hlx_allowed *a = NULL;
	const char *p, *q;
	int rc;

	for (p = fmt; (q = strstr(p, "KEY")); p = q + 3) {
		hlx_buf_put(&t, p, (size_t)(q - p));
		hlx_buf_puts(&t, keyline);
	}
	hlx_buf_puts(&t, p);
	rc = hlx_allowed_parse((char *)t.data, t.len, &a);
	if (!rc != !!a)
		rc = -1;
	hlx_allowed_free(a);
	hlx_buf_free(&t);
	return rc;
}

static void test_patterns(void)
{
	struct hlx_buf big = HLX_BUF_INIT;
	clock_t t0;
	int i;

	ok(hlx_allowed_match_list("a", "a") == 1, "'a' matches a");
	ok(hlx_allowed_match_list("a", "b") == 0, "'a' does not match b");
	ok(hlx_allowed_match_list("a", "A") == 0, "matching is case-sensitive");
	ok(hlx_allowed_match_list("abc", "*") == 1, "* matches anything");
	ok(hlx_allowed_match_list("", "*") == 1, "* matches empty");
	ok(hlx_allowed_match_list("abc", "a*") == 1, "a* matches abc");
	ok(hlx_allowed_match_list("abc", "?bc") == 1, "?bc matches abc");
	ok(hlx_allowed_match_list("abc", "a?") == 0, "a? does not match abc");
	ok(hlx_allowed_match_list("ab", "a**b") == 1, "a**b matches ab");
	ok(hlx_allowed_match_list("axxbyyb", "a*b") == 1,
	   "a*b matches axxbyyb (backtracking)");
	ok(hlx_allowed_match_list("axxbyyc", "a*b") == 0,
	   "a*b does not match axxbyyc");
	ok(hlx_allowed_match_list("a", "!a,*") == -1, "!a,* gives -1 for a");
	ok(hlx_allowed_match_list("b", "!a,*") == 1, "!a,* gives 1 for b");
	ok(hlx_allowed_match_list("b", "*,!b") == -1,
	   "a negation wins wherever it is");
	ok(hlx_allowed_match_list("b", "!a") == 0,
	   "a negation alone matches nothing");
	ok(hlx_allowed_match_list("b", "a,b,c") == 1, "a,b,c matches b");
	ok(hlx_allowed_match_list("x", "") == 0, "empty list matches nothing");
	ok(hlx_allowed_match_list("", "") == 0,
	   "empty list does not even match empty");
	ok(hlx_allowed_match_list("", "a,,b") == 1,
	   "an empty pattern matches the empty string");
	ok(hlx_allowed_match_list("a,b", "a,b") == 0,
	   "a comma cannot be matched");
	ok(hlx_allowed_match_list("alice@hotline.example",
				  "*@hotline.example,!mallory@*") == 1,
	   "domain pattern");
	ok(hlx_allowed_match_list("mallory@hotline.example",
				  "*@hotline.example,!mallory@*") == -1,
	   "negated user");

	/* pathological patterns stay fast */
	for (i = 0; i < 2000; i++)
		hlx_buf_putc(&big, 'a');
	t0 = clock();
	ok(hlx_allowed_match_list((char *)big.data,
				  "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b") == 0,
	   "a*a*...*b against 2000 a's: no match");
	ok(clock() - t0 < CLOCKS_PER_SEC, "and fast (no exponential "
	   "backtracking)");
	/* a pattern of 1023 characters makes the whole list fail, as in
	 * OpenSSH, even after a positive match */
	hlx_buf_reset(&big);
	hlx_buf_puts(&big, "x,");
	for (i = 0; i < HLX_ALLOWED_PATTERN_MAX + 1; i++)
		hlx_buf_putc(&big, '*');
	ok(hlx_allowed_match_list("x", (char *)big.data) == 0,
	   "over-long pattern: no match");
	big.len--;
	big.data[big.len] = '\0';
	ok(hlx_allowed_match_list("x", (char *)big.data) == 1,
	   "%d-character pattern is fine", HLX_ALLOWED_PATTERN_MAX);
	hlx_buf_free(&big);
}

static void time_is(const char *s, int64_t want, const char *desc)
{
	int64_t t = -1;
	int rc = hlx_allowed_parse_time(s, strlen(s), &t);

	ok(rc == HLX_OK && t == want, "time '%s' = %lld (%s)", s,
	   (long long)want, desc);
	if (rc || t != want)
		printf("#   got rc %d, %lld\n", rc, (long long)t);
}

static void time_bad(const char *s, const char *desc)
{
	int64_t t = 123;
	int rc = hlx_allowed_parse_time(s, strlen(s), &t);

	ok(rc == HLX_EINVAL && t == 0, "time '%s' rejected (%s)", s, desc);
}

static void test_times(void)
{
	char out[HLX_ALLOWED_TIME_LEN];
	int64_t t;
	int i, bad = 0;

	time_is("20240101Z", T2024, "date, UTC");
	time_is("20240101z", T2024, "lower-case z");
	time_is("20240101UTC", T2024, "UTC suffix");
	time_is("20240101utc", T2024, "lower-case utc");
	time_is("202401011230Z", T2024 + 45000, "minutes");
	time_is("20240101123045Z", T2024 + 45045, "seconds");
	time_is("20240229Z", T2024 + 59 * 86400, "leap day");
	time_is("19700101000001Z", 1, "first accepted second");
	time_is("99991231235959Z", INT64_C(253402300799), "last second");
	time_bad("19700101000000Z", "the epoch itself, as ssh-keygen");
	time_bad("19691231Z", "before 1970");
	time_bad("20230229Z", "no leap day in 2023");
	time_bad("20240230Z", "February 30 (ssh-keygen would roll over)");
	time_bad("20240431Z", "April 31");
	time_bad("20241301Z", "month 13");
	time_bad("20240001Z", "month 0");
	time_bad("20240100Z", "day 0");
	time_bad("20240101240000Z", "hour 24");
	time_bad("20240101006000Z", "minute 60");
	time_bad("20240101000060Z", "second 60");
	time_bad("2024010Z", "7 digits");
	time_bad("202401011Z", "9 digits");
	time_bad("2024010112Z", "10 digits");
	time_bad("202401011200000Z", "15 digits");
	time_bad("2024-01-01", "dashes");
	time_bad(" 20240101Z", "leading space");
	time_bad("20240101Z ", "trailing space");
	time_bad("+2024010Z", "sign");
	time_bad("Z", "Z only");
	time_bad("UTC", "UTC only");
	time_bad("", "empty");
	time_bad("20240101ZZ", "ZZ");
	time_bad("20240101GMT", "GMT");
	{
		int64_t t2 = 5;

		ok(hlx_allowed_parse_time("20240101Z\0", 10, &t2) ==
		   HLX_EINVAL, "embedded NUL rejected");
		ok(hlx_allowed_parse_time("20240101Zjunk", 9, &t2) == HLX_OK &&
		   t2 == T2024, "only n bytes are read");
	}

	/* local time: as ssh-keygen 9.2 reads it */
	set_tz("UTC");
	time_is("20240101", T2024, "local = UTC");
	set_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	time_is("20240101", T2024 - 3600, "local in winter, CET");
	time_is("20240701120000", T2024 + 182 * 86400 + 11 * 3600,
		"local in summer read as standard time (ssh-keygen's quirk)");
	time_is("20240701120000Z", T2024 + 182 * 86400 + 12 * 3600,
		"Z ignores TZ");
	time_bad("19700101", "local time before the epoch");
	set_tz("UTC");

	/* formatting */
	is_rc(hlx_allowed_format_time(T2024, out), HLX_OK, "format 2024");
	is_str(out, "20240101000000Z", "as YYYYMMDDHHMMSSZ");
	is_rc(hlx_allowed_format_time(1, out), HLX_OK, "format 1");
	is_str(out, "19700101000001Z", "one second after the epoch");
	is_rc(hlx_allowed_format_time(INT64_C(253402300799), out), HLX_OK,
	      "format the last second");
	is_str(out, "99991231235959Z", "9999-12-31T23:59:59Z");
	is_rc(hlx_allowed_format_time(0, out), HLX_EINVAL, "0 refused");
	is_rc(hlx_allowed_format_time(-1, out), HLX_EINVAL, "-1 refused");
	is_rc(hlx_allowed_format_time(INT64_C(253402300800), out), HLX_EINVAL,
	      "year 10000 refused");
	is_rc(hlx_allowed_format_time(INT64_MAX, out), HLX_EINVAL,
	      "INT64_MAX refused");
	for (i = 0; i < 10000; i++) {
		/* 1 .. 58 * 2^32 < 9999-12-31 */
		uint64_t r = (uint64_t)randombytes_uniform(UINT32_MAX) * 58 +
			     randombytes_uniform(58);
		int64_t v = 1 + (int64_t)r;

		if (hlx_allowed_format_time(v, out) ||
		    hlx_allowed_parse_time(out, strlen(out), &t) || t != v)
			bad++;
	}
	ok(bad == 0, "10000 random times round-trip through format/parse");
}

static void test_format_line(void)
{
	struct hlx_buf out = HLX_BUF_INIT, want = HLX_BUF_INIT;
	struct hlx_allowed *a;
	static const char *const badp[] = {
		"", "a b", "a,b", "a\"b", "a*", "a?", "!a", "#a", "a\tb",
		"a\nb", "a\x7f", "a\x01",
	};
	size_t i;

	is_rc(hlx_allowed_format_line("hotline-nl", &key, T2024,
				      T2024 + 86400, &out), HLX_OK,
	      "format a line with both bounds");
	hlx_buf_printf(&want, "hotline-nl valid-after=\"20240101000000Z\","
		       "valid-before=\"20240102000000Z\" %s\n", keyline);
	is_str((char *)out.data, (char *)want.data, "exact text");
	is_rc(hlx_allowed_parse((char *)out.data, out.len, &a), HLX_OK,
	      "it parses back");
	if (a) {
		is_rc(hlx_allowed_check(a, "hotline-nl", &key, "git", T2024),
		      HLX_OK, "valid at valid-after");
		is_rc(hlx_allowed_check(a, "hotline-nl", &key, "git",
					T2024 + 86399), HLX_OK,
		      "valid one second before valid-before");
		is_rc(hlx_allowed_check(a, "hotline-nl", &key, "git",
					T2024 + 86400), HLX_OK,
		      "valid at valid-before (inclusive, as OpenSSH)");
		is_rc(hlx_allowed_check(a, "hotline-nl", &key, "git",
					T2024 + 86401), HLX_EEXPIRED,
		      "expired after valid-before");
		is_rc(hlx_allowed_check(a, "hotline-nl", &key, "git",
					T2024 - 1), HLX_EEXPIRED,
		      "not yet valid before valid-after");
		hlx_allowed_free(a);
	}
	hlx_buf_reset(&out);
	hlx_buf_reset(&want);
	is_rc(hlx_allowed_format_line("org", &key, -1, T2024, &out), HLX_OK,
	      "only valid-before");
	hlx_buf_printf(&want, "org valid-before=\"20240101000000Z\" %s\n",
		       keyline);
	is_str((char *)out.data, (char *)want.data, "exact text");
	hlx_buf_reset(&out);
	hlx_buf_reset(&want);
	is_rc(hlx_allowed_format_line("org", &key, T2024, -1, &out), HLX_OK,
	      "only valid-after");
	hlx_buf_printf(&want, "org valid-after=\"20240101000000Z\" %s\n",
		       keyline);
	is_str((char *)out.data, (char *)want.data, "exact text");
	hlx_buf_reset(&out);
	hlx_buf_reset(&want);
	is_rc(hlx_allowed_format_line("hotline@example.org", &key, -1, -1,
				      &out), HLX_OK, "no bounds");
	hlx_buf_printf(&want, "hotline@example.org %s\n", keyline);
	is_str((char *)out.data, (char *)want.data, "exact text");
	is_rc(hlx_allowed_format_line("örg", &key, -1, -1, &out), HLX_OK,
	      "UTF-8 principal");

	hlx_buf_reset(&out);
	for (i = 0; i < sizeof(badp) / sizeof(badp[0]); i++)
		is_rc(hlx_allowed_format_line(badp[i], &key, -1, -1, &out),
		      HLX_EINVAL, "principal #%zu refused", i);
	is_rc(hlx_allowed_format_line(NULL, &key, -1, -1, &out), HLX_EINVAL,
	      "NULL principal refused");
	is_rc(hlx_allowed_format_line("o", &key, T2024 + 1, T2024, &out),
	      HLX_EINVAL, "valid-before < valid-after refused");
	is_rc(hlx_allowed_format_line("o", &key, 0, -1, &out), HLX_EINVAL,
	      "valid-after 0 refused (ssh-keygen rejects it)");
	is_rc(hlx_allowed_format_line("o", &key, -2, -1, &out), HLX_EINVAL,
	      "valid-after -2 refused");
	is_rc(hlx_allowed_format_line("o", &key, -1, INT64_C(253402300800),
				      &out), HLX_EINVAL,
	      "valid-before after 9999 refused");
	ok(out.len == 0, "refusals append nothing");
	is_rc(hlx_allowed_format_line("o", &key, T2024, T2024, &out), HLX_OK,
	      "valid-before == valid-after: a one-second window");
	hlx_buf_free(&out);
	hlx_buf_free(&want);
}

static void test_checks(void)
{
	int64_t now = T2024;

	is_rc(check1("alice KEY\n", "alice", &key, "file", now), HLX_OK,
	      "plain line");
	is_rc(check1("alice KEY\n", "bob", &key, "file", now),
	      HLX_EUNTRUSTED, "other principal");
	ok(strstr(hlx_err_detail(), "is not an allowed signer for 'bob'") &&
	   strstr(hlx_err_detail(), "SHA256:"), "detail: %s",
	   hlx_err_detail());
	is_rc(check1("alice KEY\n", "alice", &other, "file", now),
	      HLX_EUNTRUSTED, "other key");
	is_rc(check1("alice KEY\n", "", &key, "file", now), HLX_EINVAL,
	      "empty principal");
	is_rc(check1("alice KEY\n", NULL, &key, "file", now), HLX_EINVAL,
	      "NULL principal");
	is_rc(check1("alice KEY\n", "alice", &key, "", now), HLX_EINVAL,
	      "empty namespace");
	is_rc(check1("", "alice", &key, "file", now), HLX_EUNTRUSTED,
	      "empty file");
	is_rc(check1("# only\n\n  \t\n#a comment\n", "alice", &key, "file",
		     now), HLX_EUNTRUSTED, "comments only");
	is_rc(check1("  alice   KEY   trailing comment  \r\n", "alice", &key,
		     "file", now), HLX_OK, "white space, comment, CRLF");
	is_rc(check1("alice\tKEY", "alice", &key, "file", now), HLX_OK,
	      "tab separator, no final newline");
	is_rc(check1("\"alice smith\" KEY\n", "alice smith", &key, "file",
		     now), HLX_OK, "quoted principal with a space");
	is_rc(check1("\"a,b\" KEY\n", "b", &key, "file", now), HLX_OK,
	      "quoted pattern list");
	is_rc(check1("bob KEY\nalice KEY\n", "alice", &key, "file", now),
	      HLX_OK, "second line matches");
	is_rc(check1("*@hotline.example,!mallory@hotline.example KEY\n",
		     "mallory@hotline.example", &key, "file", now),
	      HLX_EUNTRUSTED, "negated principal");
	is_rc(check1("a* KEY\n", "a*", &key, "file", now), HLX_OK,
	      "wildcard principal also matches itself");

	/* namespaces */
	is_rc(check1("alice namespaces=\"git,file\" KEY\n", "alice", &key,
		     "file", now), HLX_OK, "namespaces list");
	is_rc(check1("alice namespaces=\"git\" KEY\n", "alice", &key, "file",
		     now), HLX_EUNTRUSTED, "namespace not allowed");
	ok(strstr(hlx_err_detail(), "namespace 'file'") != NULL, "detail: %s",
	   hlx_err_detail());
	is_rc(check1("alice namespaces=\"!git,*\" KEY\n", "alice", &key, "git",
		     now), HLX_EUNTRUSTED, "negated namespace");
	is_rc(check1("alice namespaces=\"hlx-*\" KEY\n", "alice", &key,
		     "hlx-list", now), HLX_OK, "namespace pattern");
	is_rc(check1("alice namespaces=\"a\\\"b\" KEY\n", "alice", &key,
		     "a\"b", now), HLX_OK, "escaped quote in a value");
	is_rc(check1("alice namespaces=\"has space\" KEY\n", "alice", &key,
		     "has space", now), HLX_OK, "space inside a value");
	is_rc(check1("alice namespaces=\"\" KEY\n", "alice", &key, "file",
		     now), HLX_EUNTRUSTED, "empty namespaces matches nothing");
	is_rc(check1("alice NameSpaces=\"file\" KEY\n", "alice", &key, "file",
		     now), HLX_OK, "option names are case-insensitive");

	/* validity */
	is_rc(check1("alice valid-after=\"20240101000000Z\" KEY\n", "alice",
		     &key, "file", now), HLX_OK, "at valid-after");
	is_rc(check1("alice valid-after=\"20240101000001Z\" KEY\n", "alice",
		     &key, "file", now), HLX_EEXPIRED, "before valid-after");
	ok(strstr(hlx_err_detail(), "not yet valid") &&
	   strstr(hlx_err_detail(), "2024-01-01T00:00:00Z") &&
	   strstr(hlx_err_detail(), "2024-01-01T00:00:01Z") &&
	   strstr(hlx_err_detail(), "line 1"), "detail: %s",
	   hlx_err_detail());
	is_rc(check1("alice valid-before=\"20240101000001Z\" KEY\n", "alice",
		     &key, "file", now), HLX_OK, "before valid-before");
	is_rc(check1("alice valid-before=\"20240101000000Z\" KEY\n", "alice",
		     &key, "file", now), HLX_OK,
	      "at valid-before (inclusive, as OpenSSH)");
	is_rc(check1("alice valid-before=\"20231231235959Z\" KEY\n", "alice",
		     &key, "file", now), HLX_EEXPIRED,
	      "after valid-before");
	ok(strstr(hlx_err_detail(), "expired") &&
	   strstr(hlx_err_detail(), "valid-before"), "detail: %s",
	   hlx_err_detail());
#define OLD "alice valid-after=\"20230101Z\",valid-before=\"20230601Z\" KEY\n"
	is_rc(check1(OLD "alice valid-after=\"20231201Z\" KEY\n", "alice",
		     &key, "file", now), HLX_OK,
	      "an old window and a current one: current wins");
	is_rc(check1(OLD, "bob", &key, "file", now), HLX_EUNTRUSTED,
	      "expired line of another principal: untrusted, not expired");
	is_rc(check1(OLD, "alice", &other, "file", now), HLX_EUNTRUSTED,
	      "expired line of another key: untrusted");
#undef OLD
	is_rc(check1("alice namespaces=\"git\",valid-before=\"20230601Z\" "
		     "KEY\n", "alice", &key, "file", now), HLX_EUNTRUSTED,
	      "wrong namespace trumps the window");
	is_rc(check1("alice valid-after=\"20240101\" KEY\n", "alice", &key,
		     "file", now), HLX_OK, "local time, TZ=UTC");

	/* lines that never match */
	is_rc(check1("alice cert-authority KEY\n", "alice", &key, "file", now),
	      HLX_EUNTRUSTED, "cert-authority line is ignored");
	ok(strstr(hlx_err_detail(), "cert-authority") != NULL, "detail: %s",
	   hlx_err_detail());
	is_rc(check1("alice CERT-AUTHORITY,namespaces=\"file\" KEY\n", "alice",
		     &key, "file", now), HLX_EUNTRUSTED,
	      "cert-authority with other options");
	is_rc(check1("alice cert-authority KEY\nalice KEY\n", "alice", &key,
		     "file", now), HLX_OK, "a plain line beside a CA line");
}

static void test_rejections(void)
{
	struct hlx_buf t = HLX_BUF_INIT, f = HLX_BUF_INIT;
	struct hlx_allowed *a;
	char *rsa;
	int i;

	is_rc(parse_rc("alice\n"), HLX_EINVAL, "principal only");
	ok(strstr(hlx_err_detail(), "line 1") != NULL, "detail: %s",
	   hlx_err_detail());
	is_rc(parse_rc("# c\n\nalice KEY\nbob\n"), HLX_EINVAL,
	      "bad fourth line");
	ok(strstr(hlx_err_detail(), "line 4") != NULL, "detail names line 4: "
	   "%s", hlx_err_detail());
	is_rc(parse_rc("KEY\n"), HLX_EINVAL, "key without principal");
	ok(strstr(hlx_err_detail(), "missing principals") != NULL,
	   "detail: %s", hlx_err_detail());
	is_rc(parse_rc("alice namespaces=\"git\"\n"), HLX_EINVAL,
	      "options without key");
	is_rc(parse_rc("alice namespaces=\"git\"   \n"), HLX_EINVAL,
	      "options and blanks without key");
	is_rc(parse_rc("alice no-touch-required KEY\n"), HLX_EINVAL,
	      "unknown option");
	ok(strstr(hlx_err_detail(), "'no-touch-required'") != NULL,
	   "detail: %s", hlx_err_detail());
	is_rc(parse_rc("alice cert-authorityx KEY\n"), HLX_EINVAL,
	      "cert-authorityx");
	is_rc(parse_rc("alice namespaces=git KEY\n"), HLX_EINVAL,
	      "unquoted value");
	is_rc(parse_rc("alice valid-after=20240101 KEY\n"), HLX_EINVAL,
	      "unquoted time (ssh-keygen: missing start quote)");
	is_rc(parse_rc("alice namespaces=\"git KEY\n"), HLX_EINVAL,
	      "unterminated quote");
	is_rc(parse_rc("alice namespaces=\"git\"x KEY\n"), HLX_EINVAL,
	      "text after the closing quote");
	is_rc(parse_rc("alice namespaces=\"git\", KEY\n"), HLX_EINVAL,
	      "trailing comma");
	is_rc(parse_rc("alice ,namespaces=\"git\" KEY\n"), HLX_EINVAL,
	      "leading comma");
	is_rc(parse_rc("alice namespaces=\"a\",namespaces=\"b\" KEY\n"),
	      HLX_EINVAL, "namespaces twice");
	is_rc(parse_rc("alice valid-after=\"20240101Z\",valid-after="
		       "\"20240102Z\" KEY\n"), HLX_EINVAL, "valid-after twice");
	is_rc(parse_rc("alice valid-before=\"20240101Z\",valid-before="
		       "\"20240102Z\" KEY\n"), HLX_EINVAL,
	      "valid-before twice");
	is_rc(parse_rc("alice valid-after=\"20240102Z\",valid-before="
		       "\"20240101Z\" KEY\n"), HLX_EINVAL,
	      "valid-before before valid-after");
	is_rc(parse_rc("alice valid-after=\"20240101Z\",valid-before="
		       "\"20240101Z\" KEY\n"), HLX_OK,
	      "valid-before equal to valid-after: one second");
	is_rc(parse_rc("alice valid-after=\"2024\" KEY\n"), HLX_EINVAL,
	      "bad time");
	ok(strstr(hlx_err_detail(), "valid-after") &&
	   strstr(hlx_err_detail(), "'2024'"), "detail: %s",
	   hlx_err_detail());
	is_rc(parse_rc("alice valid-after=\"19700101000000Z\" KEY\n"),
	      HLX_EINVAL, "time 0");
	is_rc(parse_rc("\"alice KEY\n"), HLX_EINVAL,
	      "unterminated quoted principals");
	is_rc(parse_rc("\"alice\"KEY\n"), HLX_EINVAL,
	      "no space after quoted principals");
	is_rc(parse_rc("\"\" KEY\n"), HLX_EINVAL, "empty quoted principals");
	is_rc(parse_rc("al\"ice KEY\n"), HLX_EINVAL, "stray quote");
	is_rc(parse_rc("alice ssh-ed25519 AAAA\n"), HLX_EINVAL,
	      "truncated base64 key");
	is_rc(parse_rc("alice ssh-ed25519\n"), HLX_EINVAL, "missing base64");
	is_rc(parse_rc("alice KEY\x01\n"), HLX_EINVAL, "control character");
	is_rc(hlx_allowed_parse("alice x\0y\n", 10, &a), HLX_EINVAL,
	      "NUL byte");
	ok(a == NULL, "*out is NULL after a failure");
	is_rc(parse_rc("alice KEY\rbob KEY\n"), HLX_EINVAL, "bare CR");

	/* a pattern over the limit */
	hlx_buf_puts(&t, "a");
	for (i = 0; i < HLX_ALLOWED_PATTERN_MAX; i++)
		hlx_buf_putc(&t, 'x');
	hlx_buf_puts(&t, " KEY\n");
	is_rc(parse_rc((char *)t.data), HLX_EINVAL, "principal pattern of %d "
	      "characters", HLX_ALLOWED_PATTERN_MAX + 1);
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, "a namespaces=\"");
	for (i = 0; i < HLX_ALLOWED_PATTERN_MAX + 1; i++)
		hlx_buf_putc(&t, 'x');
	hlx_buf_puts(&t, "\" KEY\n");
	is_rc(parse_rc((char *)t.data), HLX_EINVAL, "namespace pattern of %d "
	      "characters", HLX_ALLOWED_PATTERN_MAX + 1);

	/* size limits */
	hlx_buf_reset(&t);
	hlx_buf_puts(&t, "alice KEY ");
	while (t.len <= HLX_ALLOWED_LINE_MAX + 100)
		hlx_buf_putc(&t, 'c');
	is_rc(parse_rc((char *)t.data), HLX_ETOOBIG, "line too long");
	hlx_buf_reset(&t);
	while (t.len <= HLX_ALLOWED_MAX)
		hlx_buf_puts(&t, "# padding padding padding padding\n");
	is_rc(hlx_allowed_parse((char *)t.data, t.len, &a), HLX_ETOOBIG,
	      "file too large");

	/* unsupported key types are skipped, not errors */
	slurp(VEC "unsupported.pub", &f);
	rsa = strtok((char *)f.data, "\n");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "frank %s\nalice KEY\n", rsa);
	is_rc(parse_rc((char *)t.data), HLX_OK, "an ssh-rsa line parses");
	is_rc(check1((char *)t.data, "frank", &key, "file", T2024),
	      HLX_EUNTRUSTED, "but never matches");
	ok(strstr(hlx_err_detail(), "other than ssh-ed25519") != NULL,
	   "detail: %s", hlx_err_detail());
	is_rc(check1((char *)t.data, "alice", &key, "file", T2024), HLX_OK,
	      "the ssh-ed25519 line next to it still works");
	hlx_buf_reset(&t);
	hlx_buf_printf(&t, "frank namespaces=\"git\" %s\n", rsa);
	is_rc(parse_rc((char *)t.data), HLX_OK, "ssh-rsa line with options");
	hlx_buf_reset(&t);
	memcpy(rsa, "ssh-dss", 7);
	hlx_buf_printf(&t, "frank %s\n", rsa);
	is_rc(parse_rc((char *)t.data), HLX_EINVAL,
	      "key type and blob disagree");
	hlx_buf_free(&t);
	hlx_buf_free(&f);
}

/* The vector file, with verdicts checked against ssh-keygen. */
static void test_vector_file(void)
{
	struct hlx_buf text = HLX_BUF_INIT, checks = HLX_BUF_INIT;
	struct hlx_allowed *a;
	char *line, *save = NULL;
	int rc, n = 0;

	slurp(VEC "allowed_signers", &text);
	slurp(VEC "allowed_checks.txt", &checks);
	rc = hlx_allowed_parse((char *)text.data, text.len, &a);
	is_rc(rc, HLX_OK, "vector allowed_signers parses");
	if (rc)
		return;
	ok(hlx_allowed_count(a) == 9, "9 entries (got %zu)",
	   hlx_allowed_count(a));
	for (line = strtok_r((char *)checks.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4], *p = line;
		int64_t t;
		int want, i;

		if (*line == '#' || !*line)
			continue;
		for (i = 0; i < 4; i++) {
			f[i] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
			else if (i < 3)
				break;
		}
		if (i < 4 || hlx_allowed_parse_time(f[3], strlen(f[3]), &t)) {
			ok(0, "malformed check line '%s'", line);
			continue;
		}
		want = !strcmp(f[0], "good") ? HLX_OK :
		       !strcmp(f[0], "expired") ? HLX_EEXPIRED :
		       HLX_EUNTRUSTED;
		is_rc(hlx_allowed_check(a, f[1], &key, f[2], t), want,
		      "vector: %s '%s' %s %s", f[0], f[1], f[2], f[3]);
		n++;
	}
	ok(n >= 20, "%d vector checks", n);
	hlx_allowed_free(a);
	hlx_buf_free(&text);
	hlx_buf_free(&checks);
}

int main(void)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_seckey *sk;

	if (seed_sodium() || sodium_init() < 0)
		return 1;
	set_tz("UTC");
	slurp(VEC "key.pub", &b);
	if (hlx_sshkey_parse((char *)b.data, b.len, &key, NULL))
		return 1;
	hlx_buf_reset(&b);
	if (hlx_sshkey_format(&key, NULL, &b) || b.len >= sizeof(keyline))
		return 1;
	memcpy(keyline, b.data, b.len + 1);
	if (hlx_seckey_generate(&sk))
		return 1;
	hlx_seckey_public(sk, &other);
	hlx_seckey_free(sk);
	hlx_buf_free(&b);

	test_patterns();
	test_times();
	test_format_line();
	test_checks();
	test_rejections();
	test_vector_file();
	return done_testing();
}
