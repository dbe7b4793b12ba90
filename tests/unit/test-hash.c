/* SPDX-License-Identifier: MIT */
/*
 * Typed hashes and URL normalisation: spec/vectors/hashes.txt,
 * spec/vectors/urls.txt, and every rejection path.  Run from the
 * repository root.
 */
#include "tests/unit/tap.h"
#include "protocol/buf.h"
#include "protocol/err.h"
#include "protocol/hash.h"
#include "tests/unit/seeded.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int same_hash(const struct hlx_hash *a, const struct hlx_hash *b)
{
	return a->type == b->type && a->len == b->len &&
	       memcmp(a->bytes, b->bytes, a->len) == 0;
}

static void test_hash_vectors(void)
{
	struct vec v = { 0 };
	char *line = NULL, text[HLX_HASH_TEXT_MAX];
	size_t cap = 0;
	unsigned nok = 0, nbad = 0, nlt = 0, fails = 0;
	FILE *fp = vec_open("spec/vectors/hashes.txt");

	if (!fp)
		return;
	while (vec_next(fp, &v, &line, &cap)) {
		struct hlx_hash h, c, a, b;
		int canon, good = 1;

		if (!strcmp(v.f[0], "ok") && v.nf >= 3) {
			nok++;
			good = hlx_hash_parse(v.x[1], v.n[1], &h) == HLX_OK &&
			       hlx_hash_format(&h, text, sizeof(text)) ==
				       HLX_OK &&
			       strlen(text) == v.n[2] &&
			       !memcmp(text, v.f[2], v.n[2]);
			canon = v.n[1] == v.n[2] &&
				!memcmp(v.f[1], v.f[2], v.n[1]);
			good = good &&
			       (hlx_hash_parse_canonical(v.x[1], v.n[1], &c) ==
				HLX_OK) == canon &&
			       hlx_hash_parse_canonical(v.x[2], v.n[2], &c) ==
				       HLX_OK &&
			       same_hash(&h, &c) && !hlx_hash_cmp(&h, &c);
			if (!canon)
				good = good && detail_clean();
		} else if (!strcmp(v.f[0], "bad") && v.nf >= 2) {
			nbad++;
			memset(&h, 0x5a, sizeof(h));
			memcpy(&c, &h, sizeof(h));
			good = hlx_hash_parse(v.x[1], v.n[1], &h) < 0 &&
			       detail_clean() &&
			       hlx_hash_parse_canonical(v.x[1], v.n[1], &h) <
				       0 &&
			       detail_clean() && !memcmp(&h, &c, sizeof(h));
		} else if (!strcmp(v.f[0], "lt") && v.nf >= 3) {
			nlt++;
			good = hlx_hash_parse_canonical(v.x[1], v.n[1], &a) ==
				       HLX_OK &&
			       hlx_hash_parse_canonical(v.x[2], v.n[2], &b) ==
				       HLX_OK &&
			       hlx_hash_cmp(&a, &b) < 0 &&
			       hlx_hash_cmp(&b, &a) > 0 &&
			       strcmp(v.f[1], v.f[2]) < 0;
		} else {
			good = 0;
		}
		if (!good) {
			fails++;
			ok(0, "hashes.txt line %u (%s)", v.lineno, v.f[0]);
		}
	}
	free(line);
	fclose(fp);
	ok(fails == 0 && nok >= 30 && nbad >= 100 && nlt >= 5,
	   "hashes.txt: %u ok, %u bad, %u order vectors, %u failed", nok,
	   nbad, nlt, fails);
}

static const struct {
	enum hlx_hash_type t;
	const char *name;
	size_t len;
} types[] = {
	{ HLX_HASH_MD5, "md5", 16 },
	{ HLX_HASH_SHA1, "sha1", 20 },
	{ HLX_HASH_SHA256, "sha256", 32 },
	{ HLX_HASH_PDQ, "pdq", 32 },
	{ HLX_HASH_PHOTODNA, "photodna", 144 },
	{ HLX_HASH_TMK, "tmk", 1024 },
	{ HLX_HASH_VPDQ, "vpdq", 32 },
	{ HLX_HASH_URL_SHA256, "url-sha256", 32 },
};

#define NTYPES (sizeof(types) / sizeof(types[0]))

/* text = "name:" + 2 * len hex digits (pattern) */
static size_t make_text(char *text, const char *name, size_t digits)
{
	size_t nl = strlen(name), i;

	memcpy(text, name, nl);
	text[nl] = ':';
	for (i = 0; i < digits; i++)
		text[nl + 1 + i] = "0123456789abcdef"[(i * 7 + 3) % 16];
	text[nl + 1 + digits] = '\0';
	return nl + 1 + digits;
}

static void test_types(void)
{
	enum hlx_hash_type t;
	size_t i;
	char upper[16];

	for (i = 0; i < NTYPES; i++) {
		size_t k, nl = strlen(types[i].name);

		is_str(hlx_hash_type_name(types[i].t), types[i].name,
		       "type %d is named %s", (int)types[i].t, types[i].name);
		t = 0;
		is_rc(hlx_hash_type_parse(types[i].name, nl, &t), HLX_OK,
		      "type name %s parses", types[i].name);
		ok(t == types[i].t, "type name %s gives %d", types[i].name,
		   (int)types[i].t);
		for (k = 0; k <= nl; k++)
			upper[k] = (char)(types[i].name[k] >= 'a' &&
						  types[i].name[k] <= 'z'
					  ? types[i].name[k] - 32
					  : types[i].name[k]);
		is_rc(hlx_hash_type_parse(upper, nl, &t), HLX_EINVAL,
		      "type name %s (uppercase) rejected by type_parse", upper);
		is_rc(hlx_hash_type_parse(types[i].name, nl - 1, &t),
		      HLX_EINVAL, "truncated type name %.*s rejected",
		      (int)(nl - 1), types[i].name);
	}
	is_rc(hlx_hash_type_parse("", 0, &t), HLX_EINVAL, "empty type name");
	is_rc(hlx_hash_type_parse("md5 ", 4, &t), HLX_EINVAL,
	      "type name with space");
	is_rc(hlx_hash_type_parse("md5\0", 4, &t), HLX_EINVAL,
	      "type name with NUL");
	ok(hlx_hash_type_name(0) == NULL, "type 0 has no name");
	ok(hlx_hash_type_name(HLX_HASH_URL_SHA256 + 1) == NULL,
	   "type past the end has no name");
	ok(hlx_hash_type_name((enum hlx_hash_type)-1) == NULL,
	   "type -1 has no name");
}

static void test_lengths(void)
{
	static char text[HLX_HASH_TEXT_MAX + 64];
	struct hlx_hash h;
	char want[128];
	size_t i, n;

	for (i = 0; i < NTYPES; i++) {
		const char *name = types[i].name;
		size_t len = types[i].len;

		n = make_text(text, name, 2 * len);
		is_rc(hlx_hash_parse(text, n, &h), HLX_OK, "%s: %zu bytes",
		      name, len);
		ok(h.type == types[i].t && h.len == len, "%s: type and length",
		   name);
		is_rc(hlx_hash_check_len(types[i].t, len), HLX_OK,
		      "%s: check_len(%zu)", name, len);
		is_rc(hlx_hash_check_len(types[i].t, len - 1), HLX_EINVAL,
		      "%s: check_len(%zu)", name, len - 1);
		is_rc(hlx_hash_check_len(types[i].t, len + 1), HLX_EINVAL,
		      "%s: check_len(%zu)", name, len + 1);

		n = make_text(text, name, 2 * len - 2);
		is_rc(hlx_hash_parse(text, n, &h), HLX_EINVAL,
		      "%s: one byte short", name);
		if (types[i].t == HLX_HASH_VPDQ)
			snprintf(want, sizeof(want),
				 "vpdq needs a multiple of 64 hex digits, 64 to 2048, got %zu",
				 2 * len - 2);
		else
			snprintf(want, sizeof(want),
				 "%s needs %zu hex digits, got %zu", name,
				 2 * len, 2 * len - 2);
		ok(strstr(hlx_err_detail(), want) != NULL,
		   "%s: detail says '%s'", name, want);
		n = make_text(text, name, 2 * len + 2);
		is_rc(hlx_hash_parse(text, n, &h), HLX_EINVAL,
		      "%s: one byte long", name);
		n = make_text(text, name, 2 * len - 1);
		is_rc(hlx_hash_parse(text, n, &h), HLX_EINVAL,
		      "%s: one digit short", name);
		n = make_text(text, name, 2 * len + 1);
		is_rc(hlx_hash_parse(text, n, &h), HLX_EINVAL,
		      "%s: one digit long", name);
		n = make_text(text, name, 0);
		is_rc(hlx_hash_parse(text, n, &h), HLX_EINVAL,
		      "%s: no hex digits", name);
		ok(strstr(hlx_err_detail(), "got 0") != NULL,
		   "%s: detail says got 0", name);
		is_rc(hlx_hash_parse_canonical(text, n, &h), HLX_EINVAL,
		      "%s: no hex digits (canonical)", name);
	}
	/* vpdq: every frame count, and a non-multiple */
	for (n = 1; n <= 33; n++) {
		size_t m = make_text(text, "vpdq", 64 * n);

		is_rc(hlx_hash_parse(text, m, &h),
		      n <= 32 ? HLX_OK : HLX_ETOOBIG,
		      "vpdq with %zu frames", n);
	}
	n = make_text(text, "vpdq", 64 + 32);
	is_rc(hlx_hash_parse(text, n, &h), HLX_EINVAL, "vpdq with 1.5 frames");

	/* oversized input: longer than any text form */
	n = make_text(text, "md5", HLX_HASH_TEXT_MAX);
	is_rc(hlx_hash_parse(text, n, &h), HLX_ETOOBIG, "oversized hash text");
	ok(detail_clean() && strlen(hlx_err_detail()) < 200,
	   "oversized: short detail");
	n = make_text(text, "url-sha256", 2 * HLX_HASH_MAX);
	ok(n == HLX_HASH_TEXT_MAX - 1, "longest text is HLX_HASH_TEXT_MAX - 1");
	is_rc(hlx_hash_parse(text, n, &h), HLX_EINVAL,
	      "url-sha256 of 1024 bytes: too long but not oversized");
	n = make_text(text, "vpdq", 2 * HLX_HASH_MAX);
	is_rc(hlx_hash_parse(text, n, &h), HLX_OK, "vpdq of 1024 bytes");
	n = make_text(text, "vpdq", 2 * HLX_HASH_MAX + 64);
	is_rc(hlx_hash_parse(text, n, &h), HLX_ETOOBIG, "vpdq of 1056 bytes");
}

static void test_details(void)
{
	struct hlx_hash h;
	static const char zz[] = "sha1:zz00000000000000000000000000000000000000";

	is_rc(hlx_hash_parse("md5:abc", 7, &h), HLX_EINVAL, "md5:abc");
	is_str(hlx_err_detail(), "hash 'md5:abc': md5 needs 32 hex digits, got 3",
	       "md5:abc detail");
	is_rc(hlx_hash_parse("foo:00", 6, &h), HLX_EINVAL, "foo:00");
	is_str(hlx_err_detail(), "hash 'foo:00': unknown hash type 'foo'",
	       "foo:00 detail");
	is_rc(hlx_hash_parse(zz, strlen(zz), &h), HLX_EINVAL, "sha1:zz...");
	ok(strstr(hlx_err_detail(), "invalid hex digit 'z' at position 5") &&
		   strstr(hlx_err_detail(), "hash 'sha1:zz"),
	   "sha1:zz detail: %s", hlx_err_detail());
	is_rc(hlx_hash_parse("md5", 3, &h), HLX_EINVAL, "md5 without colon");
	is_str(hlx_err_detail(), "hash 'md5': no type prefix (TYPE:HEX, e.g. md5:...)",
	       "no colon: the detail asks for TYPE:HEX");
	is_rc(hlx_hash_parse("xx", 2, &h), HLX_EINVAL, "xx: no colon, not hex");
	is_str(hlx_err_detail(), "hash 'xx': no type prefix (TYPE:HEX, e.g. md5:...)",
	       "xx: the detail does not take it for a type");
	/* a bare hex hash: the types of its length (issue 12) */
	is_rc(hlx_hash_parse("D41D8CD98F00B204E9800998ECF8427E", 32, &h),
	      HLX_EINVAL, "bare hex md5");
	ok(strstr(hlx_err_detail(), "32 hex digits: md5:...?") != NULL,
	   "bare 32 hex digits: md5:...? (%s)", hlx_err_detail());
	{
		char b64[65];

		memset(b64, 'a', 64);
		b64[64] = '\0';
		is_rc(hlx_hash_parse(b64, 64, &h), HLX_EINVAL, "bare hex 64");
		ok(strstr(hlx_err_detail(),
			  "64 hex digits: sha256:..., pdq:..., vpdq:... or url-sha256:...?") != NULL,
		   "bare 64 hex digits: every type of that length (%s)",
		   hlx_err_detail());
	}
	is_rc(hlx_hash_parse("abcdef", 6, &h), HLX_EINVAL, "bare hex of no length");
	ok(strstr(hlx_err_detail(), "no hash type has 6 hex digits") != NULL,
	   "bare 6 hex digits: no type (%s)", hlx_err_detail());
	is_rc(hlx_hash_parse("", 0, &h), HLX_EINVAL, "empty");
	is_rc(hlx_hash_parse("md5:\x01\xff", 6, &h), HLX_EINVAL,
	      "control byte and 0xff");
	ok(detail_clean() && strstr(hlx_err_detail(), "\\x01"),
	   "non-printable bytes shown as \\xHH: %s", hlx_err_detail());
	is_rc(hlx_hash_parse("md5:\0", 5, &h), HLX_EINVAL, "NUL byte");
	ok(detail_clean() && strstr(hlx_err_detail(), "\\x00"),
	   "NUL shown as \\x00");
	is_rc(hlx_hash_parse_canonical("MD5:00000000000000000000000000000000",
				       36, &h),
	      HLX_EINVAL, "canonical parser: uppercase type");
	ok(strstr(hlx_err_detail(), "lowercase") != NULL,
	   "uppercase type: detail says lowercase");
	is_rc(hlx_hash_parse_canonical("md5:0000000000000000000000000000000A",
				       36, &h),
	      HLX_EINVAL, "canonical parser: uppercase hex");
	ok(strstr(hlx_err_detail(), "position 35") != NULL,
	   "uppercase hex: detail gives the position");
	is_rc(hlx_hash_parse("Md5:0000000000000000000000000000000A", 36, &h),
	      HLX_OK, "lenient parser: mixed case type and hex");
}

static void test_format(void)
{
	struct hlx_hash h;
	char text[HLX_HASH_TEXT_MAX];
	size_t i;

	memset(&h, 0, sizeof(h));
	h.type = HLX_HASH_MD5;
	h.len = 16;
	memset(h.bytes, 0xab, 16);
	is_rc(hlx_hash_format(&h, text, 37), HLX_OK, "format into 37 bytes");
	is_str(text, "md5:abababababababababababababababab", "md5 text");
	is_rc(hlx_hash_format(&h, text, 36), HLX_ETOOBIG,
	      "format into 36 bytes");
	is_rc(hlx_hash_format(&h, text, 0), HLX_ETOOBIG, "format into 0 bytes");
	h.len = 15;
	is_rc(hlx_hash_format(&h, text, sizeof(text)), HLX_EINVAL,
	      "format md5 of 15 bytes");
	is_rc(hlx_hash_validate(&h), HLX_EINVAL, "validate md5 of 15 bytes");
	h.len = 16;
	h.type = 0;
	is_rc(hlx_hash_format(&h, text, sizeof(text)), HLX_EINVAL,
	      "format type 0");
	h.type = 99;
	is_rc(hlx_hash_validate(&h), HLX_EINVAL, "validate type 99");
	h.type = HLX_HASH_VPDQ;
	for (i = 0; i <= HLX_HASH_MAX + 32; i += 16)
		if ((hlx_hash_check_len(HLX_HASH_VPDQ, i) == HLX_OK) !=
		    (i >= 32 && i <= 1024 && i % 32 == 0))
			break;
	ok(i > HLX_HASH_MAX + 32, "vpdq lengths: multiples of 32, 32..1024");
	h.len = HLX_HASH_MAX + 32;
	is_rc(hlx_hash_format(&h, text, sizeof(text)), HLX_EINVAL,
	      "format vpdq longer than HLX_HASH_MAX");
}

static int cmp_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_hash(const void *a, const void *b)
{
	return hlx_hash_cmp(a, b);
}

/* Random hashes: format/parse round trips, and hlx_hash_cmp orders like
 * strcmp of the text forms. */
static void test_random(void)
{
	enum { N = 2000 };
	struct hlx_hash *hs = calloc(N, sizeof(*hs));
	char **texts = calloc(N, sizeof(*texts));
	unsigned i, bad = 0;

	if (!ok(hs && texts, "allocate"))
		goto out;
	for (i = 0; i < N; i++) {
		struct hlx_hash back;
		size_t k = randombytes_uniform(NTYPES);

		hs[i].type = types[k].t;
		hs[i].len = types[k].t == HLX_HASH_VPDQ
				    ? 32 * (1 + randombytes_uniform(32))
				    : types[k].len;
		randombytes_buf(hs[i].bytes, hs[i].len);
		if (i % 7 == 1) { /* share prefixes */
			memcpy(hs[i].bytes, hs[i - 1].bytes,
			       hs[i].len < hs[i - 1].len ? hs[i].len
							 : hs[i - 1].len);
			hs[i].bytes[hs[i].len - 1] ^= 1;
		}
		texts[i] = malloc(HLX_HASH_TEXT_MAX);
		if (!texts[i] ||
		    hlx_hash_format(&hs[i], texts[i], HLX_HASH_TEXT_MAX) ||
		    hlx_hash_parse_canonical(texts[i], strlen(texts[i]),
					     &back) ||
		    !same_hash(&back, &hs[i]) || hlx_hash_cmp(&back, &hs[i]))
			bad++;
	}
	ok(bad == 0, "%d random hashes: format -> parse round trip", N);
	qsort(hs, N, sizeof(*hs), cmp_hash);
	qsort(texts, N, sizeof(*texts), cmp_text);
	for (i = 0; i < N; i++) {
		char t[HLX_HASH_TEXT_MAX];

		if (hlx_hash_format(&hs[i], t, sizeof(t)) ||
		    strcmp(t, texts[i]))
			bad++;
	}
	ok(bad == 0, "hlx_hash_cmp order == strcmp order of the text forms");
out:
	for (i = 0; texts && i < N; i++)
		free(texts[i]);
	free(texts);
	free(hs);
}

static void test_url_vectors(void)
{
	struct vec v = { 0 };
	struct hlx_buf b = HLX_BUF_INIT, b2 = HLX_BUF_INIT;
	char *line = NULL, text[HLX_HASH_TEXT_MAX];
	size_t cap = 0;
	unsigned nok = 0, nbad = 0, fails = 0;
	FILE *fp = vec_open("spec/vectors/urls.txt");

	if (!fp)
		return;
	while (vec_next(fp, &v, &line, &cap)) {
		struct hlx_hash h;
		int good;

		hlx_buf_reset(&b);
		hlx_buf_reset(&b2);
		hlx_buf_puts(&b, "prefix");
		if (!strcmp(v.f[0], "ok") && v.nf >= 4) {
			nok++;
			good = hlx_url_normalise(v.x[1], v.n[1], &b) ==
				       HLX_OK &&
			       b.len == 6 + v.n[2] &&
			       !memcmp(b.data, "prefix", 6) &&
			       !memcmp(b.data + 6, v.f[2], v.n[2]) &&
			       b.data[b.len] == '\0' &&
			       hlx_url_normalise(v.x[2], v.n[2], &b2) ==
				       HLX_OK &&
			       b2.len == v.n[2] &&
			       !memcmp(b2.data, v.f[2], v.n[2]) &&
			       hlx_url_hash(v.x[1], v.n[1], &h) == HLX_OK &&
			       hlx_hash_format(&h, text, sizeof(text)) ==
				       HLX_OK &&
			       !strcmp(text, v.f[3]);
		} else if (!strcmp(v.f[0], "bad") && v.nf >= 2) {
			nbad++;
			good = hlx_url_normalise(v.x[1], v.n[1], &b) < 0 &&
			       detail_clean() && b.len == 6 &&
			       !strcmp((char *)b.data, "prefix") &&
			       hlx_url_hash(v.x[1], v.n[1], &h) < 0;
		} else {
			good = 0;
		}
		if (!good) {
			fails++;
			ok(0, "urls.txt line %u (%s): %.200s", v.lineno, v.f[0],
			   b.data ? (char *)b.data : "");
		}
	}
	free(line);
	fclose(fp);
	hlx_buf_free(&b);
	hlx_buf_free(&b2);
	ok(fails == 0 && nok >= 80 && nbad >= 60,
	   "urls.txt: %u ok, %u bad, %u failed", nok, nbad, fails);
}

static void test_url_more(void)
{
	static char big[HLX_URL_MAX + 2];
	struct hlx_buf b = HLX_BUF_INIT;
	struct hlx_hash h;
	unsigned c, fails = 0;
	int rc;

	memcpy(big, "http://example.com/", 19);
	memset(big + 19, 'a', sizeof(big) - 19);
	is_rc(hlx_url_normalise(big, HLX_URL_MAX + 1, &b), HLX_ETOOBIG,
	      "URL of 8193 bytes");
	is_rc(hlx_url_normalise(big, HLX_URL_MAX, &b), HLX_OK,
	      "URL of 8192 bytes");
	hlx_buf_reset(&b);
	is_rc(hlx_url_normalise("ftp://example.com/", 18, &b), HLX_EINVAL,
	      "ftp URL");
	ok(strstr(hlx_err_detail(), "scheme 'ftp'") != NULL,
	   "ftp: detail names the scheme");
	is_rc(hlx_url_normalise("http://exa mple.com/", 20, &b), HLX_EINVAL,
	      "space in host");
	ok(strstr(hlx_err_detail(), "position 10") != NULL,
	   "space: detail gives the position: %s", hlx_err_detail());
	/* every single byte after the host: controls rejected, the rest
	 * either kept or percent-encoded, and idempotent */
	for (c = 0; c < 256; c++) {
		char u[32];
		struct hlx_buf o2 = HLX_BUF_INIT;
		int bad = c <= 0x20 || c == 0x7f || c == '%';

		hlx_buf_reset(&b);
		memcpy(u, "http://example.com/a", 20);
		u[20] = (char)c;
		rc = hlx_url_normalise(u, 21, &b);
		if (bad != (rc != HLX_OK))
			fails++;
		if (!rc && (hlx_url_normalise((char *)b.data, b.len, &o2) ||
			    o2.len != b.len || memcmp(o2.data, b.data, b.len)))
			fails++;
		hlx_buf_free(&o2);
	}
	ok(fails == 0, "every byte after the path start: %u failures", fails);
	is_rc(hlx_url_hash("http://example.com", 18, &h), HLX_OK, "url_hash");
	ok(h.type == HLX_HASH_URL_SHA256 && h.len == 32, "url_hash type");
	hlx_buf_free(&b);
}

int main(void)
{
	if (seed_sodium() || sodium_init() < 0)
		return 1;
	test_hash_vectors();
	test_types();
	test_lengths();
	test_details();
	test_format();
	test_random();
	test_url_vectors();
	test_url_more();
	return done_testing();
}
