/* SPDX-License-Identifier: MIT */
/* CSV import records (protocol/csv.h). */
#include "tap.h"
#include "protocol/csv.h"

static int header(const char *h, int *cols, int *n)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", h);
	return hlx_csv_header(buf, cols, n);
}

static int row(const char *h, const char *r, struct hlx_entry *e)
{
	int cols[HLX_CSV_COLS_MAX], n, rc = header(h, cols, &n);
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", r);
	return rc ? rc : hlx_csv_entry(buf, cols, n, e);
}

int main(void)
{
	static struct hlx_entry e;
	int cols[HLX_CSV_COLS_MAX], n;
	const char *h5 = "hash,category,first_seen,confidence,tags";
	const char *md5 = "md5:0123456789abcdef0123456789abcdef";
	char line[512];

	is_rc(header(h5, cols, &n), HLX_OK, "full header");
	ok(n == 5 && cols[0] == HLX_CSV_HASH && cols[4] == HLX_CSV_TAGS, "columns mapped");
	is_rc(header("tags,hash", cols, &n), HLX_OK, "any order");
	is_rc(header("category", cols, &n), HLX_EINVAL, "no hash column refused");
	is_rc(header("hash,comment", cols, &n), HLX_EINVAL, "unknown column refused");
	ok(strstr(hlx_err_detail(), "'comment'") != NULL, "and named");
	is_rc(header("hash,hash", cols, &n), HLX_EINVAL, "a column twice refused");

	/* what people paste: a byte order mark, blanks after commas */
	is_rc(header("\xef\xbb\xbfhash,category", cols, &n), HLX_OK,
	      "a UTF-8 byte order mark before the header is skipped");
	ok(n == 2 && cols[0] == HLX_CSV_HASH && cols[1] == HLX_CSV_CATEGORY,
	   "and the first column is hash");
	is_rc(header("hash, category, first_seen,\tconfidence , tags", cols, &n),
	      HLX_OK, "blanks around column names are tolerated");
	ok(n == 5 && cols[1] == HLX_CSV_CATEGORY && cols[3] == HLX_CSV_CONFIDENCE &&
	   cols[4] == HLX_CSV_TAGS, "and the columns mapped");
	is_rc(header("\xef\xbb\xbf hash ,category", cols, &n), HLX_OK,
	      "both at once");
	is_rc(header("\xef\xbb\xbf\xef\xbb\xbfhash", cols, &n), HLX_EINVAL,
	      "a second byte order mark is a character of the name");
	ok(strstr(hlx_err_detail(), "'\\xef\\xbb\\xbfhash'") != NULL,
	   "shown escaped, not as an invisible character: %s", hlx_err_detail());
	is_rc(header("hash,\xc2\xa0" "category", cols, &n), HLX_EINVAL,
	      "a no-break space is not a blank");
	ok(strstr(hlx_err_detail(), "'\\xc2\\xa0category'") != NULL,
	   "and is shown escaped: %s", hlx_err_detail());
	is_rc(header("hash,cat\x1b[31megory", cols, &n), HLX_EINVAL,
	      "a control byte in a name refused");
	ok(strstr(hlx_err_detail(), "'cat\\x1b[31megory'") != NULL &&
	   !strchr(hlx_err_detail(), '\x1b'), "and shown escaped");
	is_rc(header("hash,c\\x41t", cols, &n), HLX_EINVAL, "a backslash refused");
	ok(strstr(hlx_err_detail(), "'c\\x5cx41t'") != NULL,
	   "and shown as \\x5c, so an escape cannot be faked");
	is_rc(header("hash,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", cols, &n),
	      HLX_EINVAL, "a long unknown name refused");
	ok(strstr(hlx_err_detail(), "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'") != NULL,
	   "and shown cut at 40 bytes");
	is_rc(header("hash,\"category\"", cols, &n), HLX_OK, "a quoted name");
	snprintf(line, sizeof(line), "%s, csam-a", md5);
	is_rc(row("hash, category", line, &e), HLX_EINVAL,
	      "rows stay strict: a blank before a value is refused");
	is_rc(header("hash,category,first_seen,confidence,tags,hash", cols, &n),
	      HLX_EINVAL, "too many columns refused");

	snprintf(line, sizeof(line), "%s,csam-a,2026-01-02T03:04:05Z,90,b;a", md5);
	is_rc(row(h5, line, &e), HLX_OK, "a full row");
	ok(e.confidence == 90 && !strcmp(e.category, "csam-a") && e.ntags == 2 &&
	   !strcmp(e.tags[0], "a"), "fields, tags sorted");
	snprintf(line, sizeof(line), "\"%s\",,,,", md5);
	is_rc(row(h5, line, &e), HLX_OK, "quoted hash, empty fields");
	ok(e.confidence == -1 && e.first_seen == -1 && !e.category[0] && !e.ntags,
	   "empty fields absent");
	snprintf(line, sizeof(line), "%s,csam-a", md5);
	is_rc(row(h5, line, &e), HLX_EINVAL, "too few fields refused");
	snprintf(line, sizeof(line), "%s,,,101,", md5);
	is_rc(row(h5, line, &e), HLX_EINVAL, "confidence 101 refused");
	snprintf(line, sizeof(line), "%s,,,-1,", md5);
	is_rc(row(h5, line, &e), HLX_EINVAL, "confidence -1 refused");
	snprintf(line, sizeof(line), "%s,,,9x,", md5);
	is_rc(row(h5, line, &e), HLX_EINVAL, "confidence 9x refused");
	snprintf(line, sizeof(line), "%s,,,,a;", md5);
	is_rc(row(h5, line, &e), HLX_EINVAL, "empty tag refused");
	snprintf(line, sizeof(line), "%s,Free Text,,,", md5);
	is_rc(row(h5, line, &e), HLX_EINVAL, "free text as category refused");
	snprintf(line, sizeof(line), "\"%s,,,,", md5);
	is_rc(row(h5, line, &e), HLX_EINVAL, "unterminated quote refused");
	snprintf(line, sizeof(line), "\"%s\"x,,,,", md5);
	is_rc(row(h5, line, &e), HLX_EINVAL, "text after a quote refused");
	is_rc(row(h5, ",,,,", &e), HLX_EINVAL, "empty hash refused");
	is_rc(row(h5, "md5:12,,,,", &e), HLX_EINVAL, "short hash refused");
	return done_testing();
}
