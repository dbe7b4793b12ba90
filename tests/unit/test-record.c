/* SPDX-License-Identifier: MIT */
/*
 * Times, entries and status records: spec/vectors/records.txt and every
 * rejection path.  Run from the repository root.
 */
#include "tests/unit/tap.h"
#include "protocol/buf.h"
#include "protocol/err.h"
#include "protocol/hash.h"
#include "protocol/record.h"
#include "protocol/rtime.h"
#include "tests/unit/seeded.h"

#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Vector files: TAB-separated fields with \t \n \\ \xHH escapes. */

#define VEC_FIELDS 8

struct vec {
	int nf;
	unsigned lineno;
	char *f[VEC_FIELDS];  /* NUL-terminated */
	size_t n[VEC_FIELDS];
	char *x[VEC_FIELDS];  /* exact-size heap copies: ASan sees over-reads */
};

static int unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescape s in place; returns the new length, or (size_t)-1. */
static size_t unescape(char *s, size_t n)
{
	size_t r = 0, w = 0;

	while (r < n) {
		if (s[r] != '\\') {
			s[w++] = s[r++];
			continue;
		}
		if (r + 1 >= n)
			return (size_t)-1;
		switch (s[r + 1]) {
		case 't': s[w++] = '\t'; r += 2; break;
		case 'n': s[w++] = '\n'; r += 2; break;
		case '\\': s[w++] = '\\'; r += 2; break;
		case 'x':
			if (r + 3 >= n || unhex(s[r + 2]) < 0 ||
			    unhex(s[r + 3]) < 0)
				return (size_t)-1;
			s[w++] = (char)(unhex(s[r + 2]) << 4 | unhex(s[r + 3]));
			r += 4;
			break;
		default:
			return (size_t)-1;
		}
	}
	s[w] = '\0';
	return w;
}

/* Next vector of fp into v (fields point into *line). 0 at EOF. */
static int vec_next(FILE *fp, struct vec *v, char **line, size_t *cap)
{
	ssize_t len;
	char *p;
	int k;

	for (k = 0; k < VEC_FIELDS; k++) {
		free(v->x[k]);
		v->x[k] = NULL;
	}
	while ((len = getline(line, cap, fp)) >= 0) {
		v->lineno++;
		if (len > 0 && (*line)[len - 1] == '\n')
			(*line)[--len] = '\0';
		if (len == 0 || (*line)[0] == '#')
			continue;
		v->nf = 0;
		p = *line;
		for (;;) {
			char *tab = strchr(p, '\t');

			if (v->nf == VEC_FIELDS)
				break;
			if (tab)
				*tab = '\0';
			v->f[v->nf] = p;
			v->n[v->nf] = unescape(p, strlen(p));
			if (v->n[v->nf] == (size_t)-1) {
				ok(0, "vector line %u: bad escape", v->lineno);
				v->n[v->nf] = 0;
			}
			v->x[v->nf] = malloc(v->n[v->nf] ? v->n[v->nf] : 1);
			if (!v->x[v->nf])
				abort();
			memcpy(v->x[v->nf], p, v->n[v->nf]);
			v->nf++;
			if (!tab)
				break;
			p = tab + 1;
		}
		return 1;
	}
	return 0;
}

static FILE *vec_open(const char *path)
{
	FILE *fp = fopen(path, "r");

	if (!ok(fp != NULL, "open %s (run from the repository root)", path))
		return NULL;
	return fp;
}

/* The last detail is set, has no raw control or non-ASCII byte. */
static int detail_clean(void)
{
	const unsigned char *d = (const unsigned char *)hlx_err_detail();

	if (!*d)
		return 0;
	for (; *d; d++)
		if (*d < 0x20 || *d >= 0x7f)
			return 0;
	return 1;
}

static int buf_is(const struct hlx_buf *b, const char *s, size_t n)
{
	return b->len == n && (n == 0 || !memcmp(b->data, s, n));
}

/* Times */

static void check_time_vector(const struct vec *v, int *good)
{
	char text[HLX_TIME_TEXT];
	int64_t t = 12345, want;

	if (!strcmp(v->f[0], "time")) {
		want = strtoll(v->f[2], NULL, 10);
		hlx_time_format(want, text);
		*good = hlx_time_parse(v->x[1], v->n[1], &t) == HLX_OK &&
			t == want && !strcmp(text, v->f[1]) &&
			hlx_time_valid(want);
	} else {
		*good = hlx_time_parse(v->x[1], v->n[1], &t) == HLX_EINVAL &&
			t == 12345 && detail_clean();
	}
}

static void test_time(void)
{
	char text[HLX_TIME_TEXT], want[32];
	int64_t t, day;
	unsigned bad = 0;
	struct tm tm;

	/* every day from 1970 to 9999, at a varying time of day, against
	 * the C library as an independent oracle */
	for (day = 0; day * 86400 <= HLX_TIME_MAX; day++) {
		int64_t x = day * 86400 + (day * 7919) % 86400;
		time_t tt = (time_t)x;

		hlx_time_format(x, text);
		if (hlx_time_parse(text, 20, &t) || t != x) {
			bad++;
			continue;
		}
		if (day % 97 == 0) {
			gmtime_r(&tt, &tm);
			strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ",
				 &tm);
			if (strcmp(want, text))
				bad++;
		}
	}
	ok(bad == 0 && day == 2932897,
	   "every day 1970..9999: format -> parse round trip and matches gmtime (%lld days)",
	   (long long)day);
	hlx_time_format(-1, text);
	is_str(text, "1970-01-01T00:00:00Z", "format clamps -1");
	hlx_time_format(INT64_MIN, text);
	is_str(text, "1970-01-01T00:00:00Z", "format clamps INT64_MIN");
	hlx_time_format(HLX_TIME_MAX + 1, text);
	is_str(text, "9999-12-31T23:59:59Z", "format clamps HLX_TIME_MAX + 1");
	hlx_time_format(INT64_MAX, text);
	is_str(text, "9999-12-31T23:59:59Z", "format clamps INT64_MAX");
	ok(!hlx_time_valid(-1) && hlx_time_valid(0) &&
		   hlx_time_valid(HLX_TIME_MAX) &&
		   !hlx_time_valid(HLX_TIME_MAX + 1),
	   "hlx_time_valid bounds");
	is_rc(hlx_time_parse("2000-02-29T00:00:00Z", 20, &t), HLX_OK,
	      "2000-02-29 (divisible by 400)");
	is_rc(hlx_time_parse("1900-02-29T00:00:00Z", 20, &t), HLX_EINVAL,
	      "1900-02-29");
	is_rc(hlx_time_parse("2100-02-29T00:00:00Z", 20, &t), HLX_EINVAL,
	      "2100-02-29 (divisible by 100)");
	ok(strstr(hlx_err_detail(), "day 29 out of range for 2100-02") != NULL,
	   "2100-02-29: detail names day and month");
	is_rc(hlx_time_parse("2023-01-01T00:00:00Z", 19, &t), HLX_EINVAL,
	      "length 19");
	is_rc(hlx_time_parse("2023-01-01T00:00:00Z", 0, &t), HLX_EINVAL,
	      "length 0");
	is_rc(hlx_time_parse("2023-01-01T00:00:00\0", 20, &t), HLX_EINVAL,
	      "NUL instead of Z");
	ok(detail_clean(), "NUL: clean detail");
}

/* Records */

static int entry_round_trip(const char *json, size_t jn, const char *line,
			    size_t ln, int canonical_json)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_entry e, e2;
	int good;

	good = hlx_entry_from_json(json, jn, &e) == HLX_OK &&
	       hlx_entry_validate(&e) == HLX_OK &&
	       hlx_entry_encode(&e, &b) == HLX_OK && buf_is(&b, line, ln);
	if (good && canonical_json) {
		hlx_buf_reset(&b);
		good = hlx_entry_to_json(&e, &b) == HLX_OK &&
		       buf_is(&b, json, jn);
		hlx_buf_reset(&b);
		good = good && hlx_entry_decode(line, ln, &e2) == HLX_OK &&
		       hlx_entry_encode(&e2, &b) == HLX_OK &&
		       buf_is(&b, line, ln);
		hlx_buf_reset(&b);
		good = good && hlx_entry_to_json(&e2, &b) == HLX_OK &&
		       buf_is(&b, json, jn);
		/* decode needs the newline */
		good = good && hlx_entry_decode(line, ln - 1, &e2) < 0;
	}
	hlx_buf_free(&b);
	return good;
}

static int status_round_trip(const char *json, size_t jn, const char *line,
			     size_t ln, int canonical_json)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_status s, s2;
	int good;

	good = hlx_status_from_json(json, jn, &s) == HLX_OK &&
	       hlx_status_validate(&s) == HLX_OK &&
	       hlx_status_encode(&s, &b) == HLX_OK && buf_is(&b, line, ln);
	if (good && canonical_json) {
		hlx_buf_reset(&b);
		good = hlx_status_to_json(&s, &b) == HLX_OK &&
		       buf_is(&b, json, jn);
		hlx_buf_reset(&b);
		good = good && hlx_status_decode(line, ln, &s2) == HLX_OK &&
		       hlx_status_encode(&s2, &b) == HLX_OK &&
		       buf_is(&b, line, ln);
		hlx_buf_reset(&b);
		good = good && hlx_status_to_json(&s2, &b) == HLX_OK &&
		       buf_is(&b, json, jn);
		good = good && hlx_status_decode(line, ln - 1, &s2) < 0;
	}
	hlx_buf_free(&b);
	return good;
}

static void test_vectors(void)
{
	struct vec v = { 0 };
	char *line = NULL;
	size_t cap = 0;
	unsigned count[12] = { 0 }, fails = 0;
	static const char *const kinds[12] = {
		"time", "time-bad", "entry", "entry-json", "entry-bad-line",
		"entry-bad-json", "status", "status-json", "status-bad-line",
		"status-bad-json", NULL, NULL
	};
	FILE *fp = vec_open("spec/vectors/records.txt");

	if (!fp)
		return;
	while (vec_next(fp, &v, &line, &cap)) {
		struct hlx_entry e;
		struct hlx_status s;
		int k, good = 0;

		for (k = 0; kinds[k]; k++)
			if (!strcmp(v.f[0], kinds[k]))
				break;
		if (!kinds[k] || v.nf < 3) {
			ok(0, "records.txt line %u: unknown kind", v.lineno);
			fails++;
			continue;
		}
		count[k]++;
		switch (k) {
		case 0:
		case 1:
			check_time_vector(&v, &good);
			break;
		case 2:
		case 3:
			good = entry_round_trip(v.x[1], v.n[1], v.x[2], v.n[2],
						k == 2);
			break;
		case 4:
			good = hlx_entry_decode(v.x[1], v.n[1], &e) < 0 &&
			       detail_clean();
			break;
		case 5:
			good = hlx_entry_from_json(v.x[1], v.n[1], &e) < 0 &&
			       detail_clean();
			break;
		case 6:
		case 7:
			good = status_round_trip(v.x[1], v.n[1], v.x[2],
						 v.n[2], k == 6);
			break;
		case 8:
			good = hlx_status_decode(v.x[1], v.n[1], &s) < 0 &&
			       detail_clean();
			break;
		case 9:
			good = hlx_status_from_json(v.x[1], v.n[1], &s) < 0 &&
			       detail_clean();
			break;
		}
		if (!good) {
			fails++;
			ok(0, "records.txt line %u (%s) %.80s", v.lineno,
			   v.f[0], v.f[v.nf - 1]);
		}
	}
	free(line);
	fclose(fp);
	ok(fails == 0 && count[0] >= 20 && count[1] >= 30 && count[2] >= 10 &&
		   count[4] >= 40 && count[5] >= 30 && count[6] >= 5 &&
		   count[8] >= 20 && count[9] >= 10,
	   "records.txt: %u time, %u time-bad, %u entry, %u entry-json, %u entry-bad-line, %u entry-bad-json, %u status, %u status-json, %u status-bad-line, %u status-bad-json; %u failed",
	   count[0], count[1], count[2], count[3], count[4], count[5],
	   count[6], count[7], count[8], count[9], fails);
}

static void make_hash(struct hlx_hash *h, enum hlx_hash_type t, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->type = t;
	h->len = len;
	randombytes_buf(h->bytes, len);
}

static void test_entry_api(void)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_entry e, e2;
	char tag[8];
	unsigned i;

	hlx_entry_init(&e);
	ok(e.category[0] == 0 && e.first_seen == -1 && e.confidence == -1 &&
		   e.ntags == 0,
	   "init: all fields absent");
	is_rc(hlx_entry_validate(&e), HLX_EINVAL, "init: no hash yet");
	is_rc(hlx_entry_encode(&e, &b), HLX_EINVAL, "encode without hash");
	ok(b.len == 0, "encode failure appends nothing");
	make_hash(&e.hash, HLX_HASH_MD5, 16);
	is_rc(hlx_entry_validate(&e), HLX_OK, "hash only: valid");

	is_rc(hlx_entry_add_tag(&e, "m", 1), HLX_OK, "add tag m");
	is_rc(hlx_entry_add_tag(&e, "b", 1), HLX_OK, "add tag b");
	is_rc(hlx_entry_add_tag(&e, "ba", 2), HLX_OK, "add tag ba");
	is_rc(hlx_entry_add_tag(&e, "a", 1), HLX_OK, "add tag a");
	is_rc(hlx_entry_add_tag(&e, "b", 1), HLX_EEXIST, "add tag b again");
	is_rc(hlx_entry_add_tag(&e, "bab", 2), HLX_EEXIST,
	      "add tag ba (n = 2) again");
	ok(e.ntags == 4 && !strcmp(e.tags[0], "a") &&
		   !strcmp(e.tags[1], "b") && !strcmp(e.tags[2], "ba") &&
		   !strcmp(e.tags[3], "m"),
	   "tags sorted and unique: %s %s %s %s", e.tags[0], e.tags[1],
	   e.tags[2], e.tags[3]);
	is_rc(hlx_entry_add_tag(&e, "", 0), HLX_EINVAL, "empty tag");
	is_rc(hlx_entry_add_tag(&e, "A", 1), HLX_EINVAL, "uppercase tag");
	is_rc(hlx_entry_add_tag(&e, "-a", 2), HLX_EINVAL, "tag starting with -");
	is_rc(hlx_entry_add_tag(&e, "a b", 3), HLX_EINVAL, "tag with space");
	is_rc(hlx_entry_add_tag(&e, "a,b", 3), HLX_EINVAL, "tag with comma");
	is_rc(hlx_entry_add_tag(&e, "a\0", 2), HLX_EINVAL, "tag with NUL");
	is_rc(hlx_entry_add_tag(&e, "0123456789abcdef0123456789abcdef", 32),
	      HLX_OK, "tag of 32 characters");
	is_rc(hlx_entry_add_tag(&e, "0123456789abcdef0123456789abcdefg", 33),
	      HLX_EINVAL, "tag of 33 characters");
	for (i = 0; e.ntags < HLX_TAGS_MAX; i++) {
		snprintf(tag, sizeof(tag), "z%u", i);
		hlx_entry_add_tag(&e, tag, strlen(tag));
	}
	is_rc(hlx_entry_add_tag(&e, "zz", 2), HLX_ETOOBIG, "ninth tag");
	is_rc(hlx_entry_validate(&e), HLX_OK, "eight tags: valid");
	is_rc(hlx_entry_encode(&e, &b), HLX_OK, "encode eight tags");
	is_rc(hlx_entry_decode((char *)b.data, b.len, &e2), HLX_OK,
	      "decode eight tags");
	for (i = 0; i < e.ntags && i < e2.ntags; i++)
		if (strcmp(e.tags[i], e2.tags[i]))
			break;
	ok(e2.ntags == 8 && i == 8, "tags survive the round trip");

	/* validate: every field out of range */
	e2 = e;
	strcpy(e2.tags[0], "zzzz");
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "unsorted tags");
	e2 = e;
	strcpy(e2.tags[1], e2.tags[0]);
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "duplicate tags");
	e2 = e;
	e2.ntags = 9;
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "ntags 9");
	e2 = e;
	memset(e2.tags[2], 'a', sizeof(e2.tags[2]));
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "unterminated tag");
	e2 = e;
	memset(e2.category, 'a', sizeof(e2.category));
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "unterminated category");
	e2 = e;
	strcpy(e2.category, "Bad");
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "uppercase category");
	ok(strstr(hlx_err_detail(), "category") != NULL,
	   "detail names the category");
	e2 = e;
	e2.confidence = 101;
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "confidence 101");
	e2.confidence = -2;
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "confidence -2");
	e2 = e;
	e2.first_seen = -2;
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "first_seen -2");
	e2.first_seen = HLX_TIME_MAX + 1;
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "first_seen past 9999");
	e2.first_seen = HLX_TIME_MAX;
	is_rc(hlx_entry_validate(&e2), HLX_OK, "first_seen 9999-12-31");
	e2 = e;
	e2.hash.len = 17;
	is_rc(hlx_entry_validate(&e2), HLX_EINVAL, "md5 of 17 bytes");
	hlx_buf_reset(&b);
	hlx_buf_puts(&b, "keep");
	is_rc(hlx_entry_encode(&e2, &b), HLX_EINVAL, "encode invalid entry");
	is_rc(hlx_entry_to_json(&e2, &b), HLX_EINVAL, "to_json invalid entry");
	ok(buf_is(&b, "keep", 4), "failed encoders leave the buffer as it was");
	hlx_buf_free(&b);
}

static void test_status_api(void)
{
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_status s, s2;
	const char *p;
	unsigned n = 0, i;
	enum hlx_state st;
	char cc[3];
	static const char *const names[] = { "reported", "notice-sent",
					     "removed", "reappeared",
					     "withdrawn" };

	for (i = 0; i < 5; i++) {
		is_str(hlx_state_name((enum hlx_state)(i + 1)), names[i],
		       "state %u is %s", i + 1, names[i]);
		is_rc(hlx_state_parse(names[i], strlen(names[i]), &st), HLX_OK,
		      "parse state %s", names[i]);
		ok(st == (enum hlx_state)(i + 1), "state %s value", names[i]);
	}
	ok(!hlx_state_name(0) && !hlx_state_name(6), "no name for 0 and 6");
	is_rc(hlx_state_parse("Removed", 7, &st), HLX_EINVAL, "Removed");
	is_rc(hlx_state_parse("removed ", 8, &st), HLX_EINVAL, "removed + space");
	is_rc(hlx_state_parse("remove", 6, &st), HLX_EINVAL, "remove");
	is_rc(hlx_state_parse("", 0, &st), HLX_EINVAL, "empty state");

	/* countries: exactly the 249 ISO codes and XK */
	for (cc[0] = 'A'; cc[0] <= 'Z'; cc[0]++)
		for (cc[1] = 'A'; cc[1] <= 'Z'; cc[1]++)
			n += hlx_status_country_check(cc, 2) == HLX_OK;
	ok(n == 250, "250 country codes accepted (249 ISO 3166-1 + XK): %u", n);
	for (p = "DE\0NL\0GB\0US\0XK\0ZW\0AD\0"; *p; p += 3)
		is_rc(hlx_status_country_check(p, 2), HLX_OK, "country %s", p);
	for (p = "UK\0EU\0XX\0de\0D1\0AA\0ZZ\0"; *p; p += 3)
		is_rc(hlx_status_country_check(p, 2), HLX_EINVAL,
		      "not a country: %s", p);
	is_rc(hlx_status_country_check("DEU", 3), HLX_EINVAL, "alpha-3");
	is_rc(hlx_status_country_check("D", 1), HLX_EINVAL, "one letter");
	is_rc(hlx_status_country_check("", 0), HLX_EINVAL, "empty country");

	hlx_status_init(&s);
	is_rc(hlx_status_validate(&s), HLX_EINVAL, "init: invalid");
	make_hash(&s.item, HLX_HASH_URL_SHA256, 32);
	s.state = HLX_STATE_REMOVED;
	s.reported = 1000;
	s.changed = 2000;
	is_rc(hlx_status_validate(&s), HLX_OK, "valid status");
	s2 = s;
	s2.changed = 999;
	is_rc(hlx_status_validate(&s2), HLX_EINVAL, "changed < reported");
	s2 = s;
	s2.state = HLX_STATE_REPORTED;
	is_rc(hlx_status_validate(&s2), HLX_EINVAL,
	      "state reported with changed != reported");
	s2.changed = s2.reported;
	is_rc(hlx_status_validate(&s2), HLX_OK,
	      "state reported with changed == reported");
	s2 = s;
	s2.state = 0;
	is_rc(hlx_status_validate(&s2), HLX_EINVAL, "state 0");
	s2.state = 6;
	is_rc(hlx_status_validate(&s2), HLX_EINVAL, "state 6");
	s2 = s;
	s2.reported = -1;
	is_rc(hlx_status_validate(&s2), HLX_EINVAL, "reported -1");
	s2 = s;
	s2.changed = HLX_TIME_MAX + 1;
	is_rc(hlx_status_validate(&s2), HLX_EINVAL, "changed past 9999");
	s2 = s;
	memcpy(s2.country, "DEX", 3);
	is_rc(hlx_status_validate(&s2), HLX_EINVAL, "unterminated country");
	memcpy(s2.country, "de", 3);
	is_rc(hlx_status_validate(&s2), HLX_EINVAL, "lowercase country");
	memcpy(s2.country, "D", 2);
	is_rc(hlx_status_validate(&s2), HLX_EINVAL, "one-letter country");
	hlx_buf_puts(&b, "keep");
	is_rc(hlx_status_encode(&s2, &b), HLX_EINVAL, "encode invalid status");
	is_rc(hlx_status_to_json(&s2, &b), HLX_EINVAL,
	      "to_json invalid status");
	ok(buf_is(&b, "keep", 4), "failed encoders leave the buffer as it was");
	hlx_buf_reset(&b);
	memcpy(s.country, "SE", 3);
	is_rc(hlx_status_encode(&s, &b), HLX_OK, "encode status");
	ok(b.len > 0 && b.data[b.len - 1] == '\n' &&
		   strstr((char *)b.data,
			  "\tSE\tremoved\t1970-01-01T00:16:40Z\t1970-01-01T00:33:20Z\n"),
	   "status line: %s", (char *)b.data);
	is_rc(hlx_status_decode((char *)b.data, b.len, &s2), HLX_OK,
	      "decode status");
	ok(s.item.type == s2.item.type && s.item.len == s2.item.len &&
		   !memcmp(s.item.bytes, s2.item.bytes, s.item.len) &&
		   !strcmp(s2.country, "SE") && s2.state == s.state &&
		   s2.reported == 1000 && s2.changed == 2000,
	   "status round trip");
	hlx_buf_free(&b);
}

static void test_line_details(void)
{
	static const char line[] =
		"md5:00112233445566778899aabbccddeeff\t-\t-\t101\t-\n";
	static const char sline[] =
		"md5:00112233445566778899aabbccddeeff\tDE\tremoved\t2021-01-01T00:00:00Z\t2020-01-01T00:00:00Z\n";
	static char big[HLX_ENTRY_LINE_MAX + 2];
	struct hlx_entry e;
	struct hlx_status s;
	size_t n;

	is_rc(hlx_entry_decode(line, strlen(line), &e), HLX_EINVAL,
	      "confidence 101 in a line");
	ok(strstr(hlx_err_detail(), "entry line 'md5:0011") &&
		   strstr(hlx_err_detail(), "field 'confidence'"),
	   "detail names the line and the field: %s", hlx_err_detail());
	is_rc(hlx_status_decode(sline, strlen(sline), &s), HLX_EINVAL,
	      "changed before reported in a line");
	ok(strstr(hlx_err_detail(), "status line 'md5:0011") &&
		   strstr(hlx_err_detail(), "earlier"),
	   "detail: %s", hlx_err_detail());
	/* oversized */
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	is_rc(hlx_entry_decode(big, sizeof(big), &e), HLX_ETOOBIG,
	      "entry line longer than HLX_ENTRY_LINE_MAX");
	is_rc(hlx_status_decode(big, HLX_STATUS_LINE_MAX + 1, &s),
	      HLX_ETOOBIG, "status line longer than HLX_STATUS_LINE_MAX");
	/* the longest valid entry line is exactly HLX_ENTRY_LINE_MAX */
	{
		struct hlx_buf b = HLX_BUF_INIT;
		char tag[40];
		unsigned i;

		hlx_entry_init(&e);
		make_hash(&e.hash, HLX_HASH_TMK, 1024);
		strcpy(e.category, "0123456789abcdef0123456789abcdef");
		e.first_seen = 0;
		e.confidence = 100;
		for (i = 0; i < HLX_TAGS_MAX; i++) {
			snprintf(tag, sizeof(tag),
				 "%u123456789abcdef0123456789abcdef", i);
			hlx_entry_add_tag(&e, tag, 32);
		}
		/* url-sha256 is the longest name, but tmk/vpdq the longest
		 * hashes: "vpdq:" + 2048 */
		make_hash(&e.hash, HLX_HASH_VPDQ, 1024);
		is_rc(hlx_entry_encode(&e, &b), HLX_OK, "encode longest entry");
		n = b.len;
		ok(n <= HLX_ENTRY_LINE_MAX, "longest entry line %zu <= %d", n,
		   HLX_ENTRY_LINE_MAX);
		is_rc(hlx_entry_decode((char *)b.data, b.len, &e), HLX_OK,
		      "decode longest entry");
		hlx_buf_free(&b);
	}
}

static void test_json_more(void)
{
	static char big[HLX_JSON_MAX + 2];
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_entry e;
	struct hlx_status s;
	static const char h[] = "md5:00112233445566778899aabbccddeeff";
	char js[256];
	int n;

	n = snprintf(js, sizeof(js), "{\"hash\":\"%s\",\"confidence\":\"9\"}",
		     h);
	is_rc(hlx_entry_from_json(js, (size_t)n, &e), HLX_EINVAL,
	      "string confidence");
	ok(strstr(hlx_err_detail(), "'confidence'") &&
		   strstr(hlx_err_detail(), "got a string"),
	   "detail names the field and type: %s", hlx_err_detail());
	n = snprintf(js, sizeof(js), "{\"hash\":\"%s\",\"note\":\"x\"}", h);
	is_rc(hlx_entry_from_json(js, (size_t)n, &e), HLX_EINVAL,
	      "unknown key");
	ok(strstr(hlx_err_detail(), "unknown field 'note'") != NULL,
	   "detail names the unknown field: %s", hlx_err_detail());
	n = snprintf(js, sizeof(js), "{\"hash\":\"%s\",\"hash\":\"%s\"}", h,
		     h);
	is_rc(hlx_entry_from_json(js, (size_t)n, &e), HLX_EINVAL,
	      "duplicate key");
	ok(strstr(hlx_err_detail(), "hash") != NULL,
	   "detail names the duplicate key: %s", hlx_err_detail());
	n = snprintf(js, sizeof(js), "{\"hash\":\"%s\",\"tags\":[\"a\",\"a\"]}",
		     h);
	is_rc(hlx_entry_from_json(js, (size_t)n, &e), HLX_EINVAL,
	      "duplicate tag");
	ok(strstr(hlx_err_detail(), "'tags'") != NULL,
	   "detail names tags: %s", hlx_err_detail());
	n = snprintf(js, sizeof(js), "{\"hash\":\"%.10s\"}", h);
	is_rc(hlx_entry_from_json(js, (size_t)n, &e), HLX_EINVAL, "short hash");
	ok(strstr(hlx_err_detail(), "field 'hash'") &&
		   strstr(hlx_err_detail(), "md5 needs 32 hex digits"),
	   "detail: %s", hlx_err_detail());
	n = snprintf(js, sizeof(js), "{\"\\u0001\":1,\"hash\":\"%s\"}", h);
	is_rc(hlx_entry_from_json(js, (size_t)n, &e), HLX_EINVAL,
	      "control character key");
	ok(detail_clean(), "control character key: clean detail");

	/* size bound */
	n = snprintf(js, sizeof(js), "{\"hash\":\"%s\"}", h);
	memset(big, ' ', sizeof(big));
	memcpy(big, js, (size_t)n);
	is_rc(hlx_entry_from_json(big, HLX_JSON_MAX, &e), HLX_OK,
	      "JSON of exactly HLX_JSON_MAX bytes");
	is_rc(hlx_entry_from_json(big, HLX_JSON_MAX + 1, &e), HLX_ETOOBIG,
	      "JSON of HLX_JSON_MAX + 1 bytes");
	is_rc(hlx_status_from_json(big, HLX_JSON_MAX + 1, &s), HLX_ETOOBIG,
	      "status JSON of HLX_JSON_MAX + 1 bytes");
	memset(big, '[', HLX_JSON_MAX);
	is_rc(hlx_entry_from_json(big, HLX_JSON_MAX, &e), HLX_EINVAL,
	      "64 KiB of '['");
	/* output */
	n = snprintf(js, sizeof(js),
		     "{\"tags\":[\"b\",\"a\"],\"confidence\":5,\"hash\":\"%s\",\"first_seen\":\"2020-02-29T01:02:03Z\",\"category\":\"c\"}",
		     h);
	is_rc(hlx_entry_from_json(js, (size_t)n, &e), HLX_OK, "full entry");
	hlx_buf_puts(&b, "x");
	is_rc(hlx_entry_to_json(&e, &b), HLX_OK, "to_json appends");
	n = snprintf(js, sizeof(js),
		     "x{\"category\":\"c\",\"confidence\":5,\"first_seen\":\"2020-02-29T01:02:03Z\",\"hash\":\"%s\",\"tags\":[\"a\",\"b\"]}",
		     h);
	is_str((char *)b.data, js, "compact, sorted keys, sorted tags");
	hlx_buf_free(&b);
}

/* Random records: encode/decode and JSON round trips. */
static void test_random(void)
{
	static const enum hlx_hash_type ts[] = {
		HLX_HASH_MD5, HLX_HASH_SHA1, HLX_HASH_SHA256, HLX_HASH_PDQ,
		HLX_HASH_PHOTODNA, HLX_HASH_TMK, HLX_HASH_VPDQ,
		HLX_HASH_URL_SHA256
	};
	static const size_t lens[] = { 16, 20, 32, 32, 144, 1024, 0, 32 };
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz0123456789._-";
	struct hlx_buf b = HLX_BUF_INIT, b2 = HLX_BUF_INIT;
	unsigned i, k, bad = 0;

	for (i = 0; i < 3000; i++) {
		struct hlx_entry e, d;
		struct hlx_status s, sd;
		unsigned t = randombytes_uniform(8);
		size_t len = lens[t] ? lens[t]
				     : 32 * (1 + randombytes_uniform(32));
		char tag[HLX_TOKEN_MAX + 1];

		hlx_entry_init(&e);
		make_hash(&e.hash, ts[t], len);
		if (randombytes_uniform(2)) {
			size_t cl = 1 + randombytes_uniform(HLX_TOKEN_MAX);

			for (k = 0; k < cl; k++)
				e.category[k] = alpha[randombytes_uniform(
					k ? sizeof(alpha) - 1 : 36)];
			e.category[cl] = 0;
		}
		if (randombytes_uniform(2))
			e.first_seen = (int64_t)randombytes_uniform(UINT32_MAX) *
				       59 % (HLX_TIME_MAX + 1);
		if (randombytes_uniform(2))
			e.confidence = (int)randombytes_uniform(101);
		for (k = randombytes_uniform(HLX_TAGS_MAX + 1); k > 0; k--) {
			size_t tl = 1 + randombytes_uniform(4), j;

			for (j = 0; j < tl; j++)
				tag[j] = alpha[randombytes_uniform(
					j ? sizeof(alpha) - 1 : 36)];
			tag[tl] = 0;
			hlx_entry_add_tag(&e, tag, tl);
		}
		hlx_buf_reset(&b);
		hlx_buf_reset(&b2);
		if (hlx_entry_encode(&e, &b) ||
		    hlx_entry_decode((char *)b.data, b.len, &d) ||
		    hlx_entry_encode(&d, &b2) || b.len != b2.len ||
		    memcmp(b.data, b2.data, b.len)) {
			bad++;
			continue;
		}
		hlx_buf_reset(&b);
		hlx_buf_reset(&b2);
		if (hlx_entry_to_json(&e, &b) ||
		    hlx_entry_from_json((char *)b.data, b.len, &d) ||
		    hlx_entry_to_json(&d, &b2) || b.len != b2.len ||
		    memcmp(b.data, b2.data, b.len))
			bad++;

		hlx_status_init(&s);
		make_hash(&s.item, ts[t], len);
		s.state = (enum hlx_state)(1 + randombytes_uniform(5));
		s.reported = randombytes_uniform(UINT32_MAX);
		s.changed = s.state == HLX_STATE_REPORTED
				    ? s.reported
				    : s.reported + randombytes_uniform(1000000);
		if (randombytes_uniform(2))
			memcpy(s.country, "FR", 3);
		hlx_buf_reset(&b);
		hlx_buf_reset(&b2);
		if (hlx_status_encode(&s, &b) ||
		    hlx_status_decode((char *)b.data, b.len, &sd) ||
		    hlx_status_encode(&sd, &b2) || b.len != b2.len ||
		    memcmp(b.data, b2.data, b.len)) {
			bad++;
			continue;
		}
		hlx_buf_reset(&b);
		hlx_buf_reset(&b2);
		if (hlx_status_to_json(&s, &b) ||
		    hlx_status_from_json((char *)b.data, b.len, &sd) ||
		    hlx_status_to_json(&sd, &b2) || b.len != b2.len ||
		    memcmp(b.data, b2.data, b.len))
			bad++;
	}
	ok(bad == 0, "3000 random entries and status records round trip (%u bad)",
	   bad);
	hlx_buf_free(&b);
	hlx_buf_free(&b2);
}

/* Cross-check the country table with the iso-codes package if present. */
static void test_iso_codes(void)
{
	json_t *root = json_load_file("/usr/share/iso-codes/json/iso_3166-1.json",
				      0, NULL);
	json_t *list, *c;
	size_t i;
	unsigned bad = 0, n = 0;

	if (!root) {
		ok(1, "# SKIP iso-codes not installed");
		return;
	}
	list = json_object_get(root, "3166-1");
	json_array_foreach(list, i, c) {
		const char *a2 = json_string_value(json_object_get(c, "alpha_2"));

		n++;
		if (!a2 || hlx_status_country_check(a2, strlen(a2)))
			bad++;
	}
	ok(bad == 0 && n == 249, "every code of iso-codes accepted (%u of %u)",
	   n - bad, n);
	json_decref(root);
}

int main(void)
{
	if (seed_sodium() || sodium_init() < 0)
		return 1;
	test_time();
	test_vectors();
	test_entry_api();
	test_status_api();
	test_line_details();
	test_json_more();
	test_random();
	test_iso_codes();
	return done_testing();
}
