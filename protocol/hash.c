/* SPDX-License-Identifier: MIT */
/*
 * Typed hashes: parsing, formatting, ordering; URL normalisation.
 * The rules are spec/records.md, sections 1 and 2.
 */
#include "hash.h"
#include "err.h"

#include <arpa/inet.h>
#include <endian.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* Indexed by enum hlx_hash_type; min == max except for vpdq. */
static const struct {
	const char *name;
	size_t min, max;
} types[] = {
	[HLX_HASH_MD5] = { "md5", 16, 16 },
	[HLX_HASH_SHA1] = { "sha1", 20, 20 },
	[HLX_HASH_SHA256] = { "sha256", 32, 32 },
	[HLX_HASH_PDQ] = { "pdq", 32, 32 },
	[HLX_HASH_PHOTODNA] = { "photodna", 144, 144 },
	[HLX_HASH_TMK] = { "tmk", 1024, 1024 },
	[HLX_HASH_VPDQ] = { "vpdq", 32, 1024 },
	[HLX_HASH_URL_SHA256] = { "url-sha256", 32, 32 },
};

#define NTYPES (sizeof(types) / sizeof(types[0]))
#define VPDQ_FRAME 32

static int known(enum hlx_hash_type t)
{
	return (unsigned)t >= HLX_HASH_MD5 && (unsigned)t < NTYPES;
}


const char *hlx_hash_type_name(enum hlx_hash_type t)
{
	return known(t) ? types[t].name : NULL;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Exact (fold == 0) or ASCII case-insensitive lookup; 0 if unknown. */
static enum hlx_hash_type lookup(const char *name, size_t n, int fold)
{
	size_t t, i;

	for (t = HLX_HASH_MD5; t < NTYPES; t++) {
		const char *tn = types[t].name;

		if (strlen(tn) != n)
			continue;
		for (i = 0; i < n; i++) {
			int c = (unsigned char)name[i];

			if ((fold ? lower(c) : c) != tn[i])
				break;
		}
		if (i == n)
			return (enum hlx_hash_type)t;
	}
	return (enum hlx_hash_type)0;
}

int hlx_hash_type_parse(const char *name, size_t n, enum hlx_hash_type *t)
{
	char q[HLX_QUOTE_SIZE];
	enum hlx_hash_type r = lookup(name, n, 0);

	if (!r)
		return hlx_err(HLX_EINVAL, "unknown hash type '%s'",
			       hlx_quote(q, name, n));
	*t = r;
	return HLX_OK;
}

int hlx_hash_check_len(enum hlx_hash_type t, size_t len)
{
	if (!known(t))
		return HLX_EINVAL;
	if (len < types[t].min || len > types[t].max)
		return HLX_EINVAL;
	if (t == HLX_HASH_VPDQ && len % VPDQ_FRAME)
		return HLX_EINVAL;
	return HLX_OK;
}

int hlx_hash_validate(const struct hlx_hash *h)
{
	if (!known(h->type))
		return hlx_err(HLX_EINVAL, "hash: unknown type %d",
			       (int)h->type);
	if (hlx_hash_check_len(h->type, h->len))
		return hlx_err(HLX_EINVAL, "hash: %s cannot be %zu bytes long",
			       types[h->type].name, h->len);
	return HLX_OK;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 1 for lowercase hex digits, 2 for uppercase ones, 0 otherwise. */
static const uint8_t hexclass[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['A'] = 2, ['B'] = 2, ['C'] = 2, ['D'] = 2, ['E'] = 2, ['F'] = 2,
};

/* Value of a hex digit already known to be one. */
static inline unsigned hexdigit(char c)
{
	return (unsigned)(c & 0xf) + (c >> 6) * 9u;
}

/* Index of the first byte of s[0, n) whose class is not in allowed
 * (a mask of hexclass values), or n. */
static size_t hex_span(const char *s, size_t n, unsigned allowed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(hexclass[(unsigned char)s[i]] & allowed))
			break;
	return i;
}

/* A hash pasted without its type: name the types of its length. */
static int bare_hex(const char *s, size_t n)
{
	char q[HLX_QUOTE_SIZE], hint[160] = "";
	size_t k = 0, fit[NTYPES], t;

	for (t = HLX_HASH_MD5; t < NTYPES; t++)
		if (n % 2 == 0 && hlx_hash_check_len((enum hlx_hash_type)t, n / 2) == HLX_OK)
			fit[k++] = t;
	for (size_t i = 0; i < k; i++) {
		size_t l = strlen(hint);

		snprintf(hint + l, sizeof(hint) - l, "%s%s:...",
			 i == 0 ? "" : i + 1 == k ? " or " : ", ",
			 types[fit[i]].name);
	}
	if (!k)
		return hlx_err(HLX_EINVAL,
			       "hash '%s': no type prefix (TYPE:HEX), and no hash type has %zu hex digits",
			       hlx_quote(q, s, n), n);
	return hlx_err(HLX_EINVAL,
		       "hash '%s': no type prefix (TYPE:HEX); %zu hex digits: %s?",
		       hlx_quote(q, s, n), n, hint);
}

/* The type whose exact (lowercase) name is s[0, n), or 0. */
static inline enum hlx_hash_type exact_type(const char *s, size_t n)
{
	switch (n) {
	case 3:
		return !memcmp(s, "md5", 3) ? HLX_HASH_MD5 :
		       !memcmp(s, "pdq", 3) ? HLX_HASH_PDQ :
		       !memcmp(s, "tmk", 3) ? HLX_HASH_TMK : (enum hlx_hash_type)0;
	case 4:
		return !memcmp(s, "sha1", 4) ? HLX_HASH_SHA1 :
		       !memcmp(s, "vpdq", 4) ? HLX_HASH_VPDQ : (enum hlx_hash_type)0;
	case 6:
		return !memcmp(s, "sha256", 6) ? HLX_HASH_SHA256 : (enum hlx_hash_type)0;
	case 8:
		return !memcmp(s, "photodna", 8) ? HLX_HASH_PHOTODNA :
		       (enum hlx_hash_type)0;
	case 10:
		return !memcmp(s, "url-sha256", 10) ? HLX_HASH_URL_SHA256 :
		       (enum hlx_hash_type)0;
	}
	return (enum hlx_hash_type)0;
}

/* Eight bytes at p, the first in the lowest byte. */
static inline uint64_t load8(const char *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return le64toh(x);
}

/* The four bytes that the eight lowercase hex digits of x stand for, as
 * a little-endian number, or -1 if any of them is not one.  Eight at once
 * (SWAR): each range check adds a constant that sets a byte's top bit
 * exactly when the byte is at least (or, negated, at most) a bound, with
 * no carry from one byte into the next since every byte is below 0x80. */
static inline int64_t unhex8(uint64_t x)
{
	const uint64_t top = 0x8080808080808080ULL;
	uint64_t digit, letter, v;

	digit = (x + 0x5050505050505050ULL) & ~(x + 0x4646464646464646ULL);
	letter = (x + 0x1f1f1f1f1f1f1f1fULL) & ~(x + 0x1919191919191919ULL);
	if ((x & top) || ((digit | letter) & top) != top)
		return -1; /* not '0'..'9' nor 'a'..'f' */
	/* a digit's value is its low nibble; a letter's is that plus 9 */
	v = (x & 0x0f0f0f0f0f0f0f0fULL) + ((x >> 6) & 0x0101010101010101ULL) * 9;
	/* pairs of nibbles into bytes, the bytes together */
	v = (v << 4 | v >> 8) & 0x00ff00ff00ff00ffULL;
	v = (v | v >> 8) & 0x0000ffff0000ffffULL;
	return (int64_t)((v | v >> 16) & 0xffffffffULL);
}

/* The usual hash, quickly: an exact lowercase type name, then lowercase
 * hex digits of a length the type takes.  0 (h set) or -1 (h untouched):
 * parse() then decides, and says what is wrong.  It accepts nothing
 * parse() refuses, with the same result; every type's digits come in
 * eights. */
static int parse_fast(const char *s, size_t n, struct hlx_hash *h)
{
	uint8_t b[HLX_HASH_MAX];
	enum hlx_hash_type t;
	size_t tl, hn, len, i;
	const char *hex;

	if (n > HLX_HASH_TEXT_MAX - 1)
		return -1;
	for (tl = 0; tl < n && tl < 11 && s[tl] != ':'; tl++)
		;
	if (tl == n || tl == 11 || !(t = exact_type(s, tl)))
		return -1;
	hex = s + tl + 1;
	hn = n - tl - 1;
	len = hn / 2;
	if (hn % 8 || len < types[t].min || len > types[t].max ||
	    (t == HLX_HASH_VPDQ && len % VPDQ_FRAME))
		return -1;
	for (i = 0; i < hn; i += 8) {
		int64_t v = unhex8(load8(hex + i));
		uint32_t w;

		if (v < 0)
			return -1;
		w = htole32((uint32_t)v);
		memcpy(b + i / 2, &w, sizeof(w));
	}
	memcpy(h->bytes, b, len);
	h->type = t;
	h->len = len;
	return 0;
}

/* h is written only once the input is known to be valid. */
static int parse(const char *s, size_t n, struct hlx_hash *h, int strict)
{
	char q[HLX_QUOTE_SIZE], qc[HLX_QUOTE_SIZE];
	const char *colon, *hex;
	enum hlx_hash_type t;
	size_t i, hn, len;

	if (n == 0)
		return hlx_err(HLX_EINVAL, "hash '': empty");
	if (n > HLX_HASH_TEXT_MAX - 1)
		return hlx_err(HLX_ETOOBIG,
			       "hash '%s': longer than %d characters (%zu)",
			       hlx_quote(q, s, n), HLX_HASH_TEXT_MAX - 1,
			       n);
	colon = memchr(s, ':', n);
	if (!colon && hex_span(s, n, 3) == n)
		return bare_hex(s, n);
	if (!colon)
		return hlx_err(HLX_EINVAL,
			       "hash '%s': no type prefix (TYPE:HEX, e.g. md5:...)",
			       hlx_quote(q, s, n));
	t = lookup(s, (size_t)(colon - s), 0);
	if (!t) {
		t = lookup(s, (size_t)(colon - s), 1);
		if (!t)
			return hlx_err(HLX_EINVAL,
				       "hash '%s': unknown hash type '%s'",
				       hlx_quote(q, s, n),
				       hlx_quote(qc, s,
						      (size_t)(colon - s)));
		if (strict)
			return hlx_err(HLX_EINVAL,
				       "hash '%s': hash type must be lowercase '%s'",
				       hlx_quote(q, s, n), types[t].name);
	}
	hex = colon + 1;
	hn = n - (size_t)(hex - s);
	i = hex_span(hex, hn, strict ? 1 : 3);
	if (i < hn) {
		int c = (unsigned char)hex[i];

		if (hexclass[c])
			return hlx_err(HLX_EINVAL,
				       "hash '%s': uppercase hex digit '%c' at position %zu (must be lowercase)",
				       hlx_quote(q, s, n), c,
				       (size_t)(hex - s) + i);
		return hlx_err(HLX_EINVAL,
			       "hash '%s': invalid hex digit '%s' at position %zu",
			       hlx_quote(q, s, n),
			       hlx_quote(qc, &hex[i], 1),
			       (size_t)(hex - s) + i);
	}
	len = hn / 2;
	if (t == HLX_HASH_VPDQ) {
		if (hn % (2 * VPDQ_FRAME) || len < types[t].min ||
		    len > types[t].max)
			return hlx_err(HLX_EINVAL,
				       "hash '%s': vpdq needs a multiple of %d hex digits, %d to %d, got %zu",
				       hlx_quote(q, s, n), 2 * VPDQ_FRAME,
				       2 * VPDQ_FRAME, 2 * HLX_HASH_MAX, hn);
	} else if (hn != 2 * types[t].min) {
		return hlx_err(HLX_EINVAL,
			       "hash '%s': %s needs %zu hex digits, got %zu",
			       hlx_quote(q, s, n), types[t].name,
			       2 * types[t].min, hn);
	}
	/* The digits are valid: decode them.  Hashes are public, so this need
	 * not be constant-time like sodium_hex2bin, which is several times
	 * slower and sits on the path of every lookup and import. */
	for (i = 0; i < len; i++)
		h->bytes[i] = (uint8_t)(hexdigit(hex[2 * i]) << 4 |
				      hexdigit(hex[2 * i + 1]));
	h->type = t;
	h->len = len;
	return HLX_OK;
}

int hlx_hash_parse(const char *s, size_t n, struct hlx_hash *h)
{
	return parse_fast(s, n, h) == 0 ? HLX_OK : parse(s, n, h, 0);
}

int hlx_hash_parse_canonical(const char *s, size_t n, struct hlx_hash *h)
{
	return parse_fast(s, n, h) == 0 ? HLX_OK : parse(s, n, h, 1);
}

int hlx_hash_format(const struct hlx_hash *h, char *out, size_t outlen)
{
	size_t nl;
	int rc = hlx_hash_validate(h);

	if (rc)
		return rc;
	nl = strlen(types[h->type].name);
	if (outlen < nl + 1 + 2 * h->len + 1)
		return hlx_err(HLX_ETOOBIG,
			       "hash: %zu bytes cannot hold a %s text form",
			       outlen, types[h->type].name);
	memcpy(out, types[h->type].name, nl);
	out[nl] = ':';
	/* Hashes are public: no need for sodium_bin2hex's constant time,
	 * several times slower on the path of every import (as parse). */
	out += nl + 1;
	for (size_t i = 0; i < h->len; i++) {
		*out++ = "0123456789abcdef"[h->bytes[i] >> 4];
		*out++ = "0123456789abcdef"[h->bytes[i] & 15];
	}
	*out = '\0';
	return HLX_OK;
}

int hlx_hash_cmp(const struct hlx_hash *a, const struct hlx_hash *b)
{
	size_t m;
	int c;

	if (a->type != b->type) {
		if (!known(a->type) || !known(b->type))
			return (int)a->type < (int)b->type ? -1 : 1;
		return strcmp(types[a->type].name, types[b->type].name);
	}
	m = a->len < b->len ? a->len : b->len;
	if (m > HLX_HASH_MAX)
		m = HLX_HASH_MAX;
	c = memcmp(a->bytes, b->bytes, m);
	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* URL normalisation: spec/records.md, section 2. */

#define HOST_MAX 253
#define LABEL_MAX 63

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_unreserved(int c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' ||
	       c == '_' || c == '~';
}

static int is_subdelim(int c)
{
	return c && strchr("!$&'()*+,;=", c) != NULL;
}

/* Characters left as they are in a path or query (RFC 3986 pchar, '/'
 * and '?'); everything else is percent-encoded. */
static int is_pathchar(int c)
{
	return is_unreserved(c) || is_subdelim(c) || c == ':' || c == '@' ||
	       c == '/' || c == '?';
}

/* s[0, n) equals the lowercase word w, ignoring ASCII case (not locale). */
static int ascii_caseeq(const char *s, size_t n, const char *w)
{
	size_t i;

	if (strlen(w) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)s[i]) != w[i])
			return 0;
	return 1;
}

struct url {
	const char *s;
	size_t n;
	char q[HLX_QUOTE_SIZE];
};

static int url_fail(struct url *u, int code, const char *what, size_t pos)
{
	char qc[HLX_QUOTE_SIZE];

	if (pos < u->n)
		return hlx_err(code, "url '%s': %s ('%s' at position %zu)",
			       u->q, what, hlx_quote(qc, &u->s[pos], 1),
			       pos);
	return hlx_err(code, "url '%s': %s", u->q, what);
}

static int pct_ok(const struct url *u, size_t i, size_t end)
{
	return i + 2 < end && hexval((unsigned char)u->s[i + 1]) >= 0 &&
	       hexval((unsigned char)u->s[i + 2]) >= 0;
}

/*
 * Append s[from, to) with its percent-encoding normalised: escapes of
 * unreserved characters decoded, other escapes uppercased, characters that
 * are not pchar / '/' / '?' encoded.
 */
static int put_component(struct url *u, size_t from, size_t to,
			 struct hlx_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;
	char *o;
	int rc;

	rc = hlx_buf_reserve(out, 3 * (to - from));
	if (rc)
		return rc;
	o = (char *)out->data + out->len;
	for (i = from; i < to; i++) {
		int c = (unsigned char)u->s[i];

		if (c == '%') {
			if (!pct_ok(u, i, to))
				return url_fail(u, HLX_EINVAL,
						"'%' not followed by two hex digits",
						i);
			c = hexval((unsigned char)u->s[i + 1]) << 4 |
			    hexval((unsigned char)u->s[i + 2]);
			i += 2;
			if (is_unreserved(c)) {
				*o++ = (char)c;
				continue;
			}
		} else if (is_pathchar(c)) {
			*o++ = (char)c;
			continue;
		}
		*o++ = '%';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	}
	out->len = (size_t)((uint8_t *)o - out->data);
	out->data[out->len] = '\0';
	return HLX_OK;
}

/*
 * Remove dot segments from the absolute path p[0, n) in place (RFC 3986
 * section 5.2.4, for a path that starts with '/').  Returns the new length.
 */
static size_t remove_dots(char *p, size_t n)
{
	size_t r = 0, w = 0;

	while (r < n) {
		size_t end, len;
		const char *seg;
		int last;

		/* p[r] == '/'; the segment is p[r + 1, end). */
		end = r + 1;
		while (end < n && p[end] != '/')
			end++;
		seg = p + r + 1;
		len = end - r - 1;
		last = end == n;
		if ((len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.')) {
			if (len == 2)
				while (w > 0 && p[--w] != '/')
					;
			if (last)
				p[w++] = '/';
		} else {
			memmove(p + w, p + r, end - r);
			w += end - r;
		}
		r = end;
	}
	return w ? w : (p[0] = '/', 1);
}

static int ipv6_format(const uint8_t a[16], char *out)
{
	unsigned g[8];
	int i, best = -1, bestlen = 1, run, len;
	char *o = out;

	for (i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	/* RFC 5952 4.2: the longest run of two or more zero groups, the
	 * first one if tied. */
	for (i = 0; i < 8; i += len > 0 ? len : 1) {
		len = 0;
		for (run = i; run < 8 && g[run] == 0; run++)
			len++;
		if (len > bestlen) {
			best = i;
			bestlen = len;
		}
	}
	for (i = 0; i < 8; i++) {
		if (i == best) {
			*o++ = ':';
			*o++ = ':';
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && i != best + bestlen)
			*o++ = ':';
		o += snprintf(o, 5, "%x", g[i]);
	}
	*o = '\0';
	return (int)(o - out);
}

static int put_host(struct url *u, size_t from, size_t to,
		    struct hlx_buf *out)
{
	size_t i, n, label = 0;

	if (from < to && u->s[from] == '[') {
		char tmp[INET6_ADDRSTRLEN], txt[INET6_ADDRSTRLEN + 2];
		uint8_t a[16];
		int len;

		n = to - from - 2; /* caller checked s[to - 1] == ']' */
		for (i = from + 1; i < to - 1; i++) {
			int c = (unsigned char)u->s[i];

			if (hexval(c) < 0 && c != ':' && c != '.')
				return url_fail(u, HLX_EINVAL,
						"invalid character in IPv6 address",
						i);
		}
		if (n == 0 || n >= sizeof(tmp))
			return url_fail(u, HLX_EINVAL, "invalid IPv6 address",
					(size_t)-1);
		memcpy(tmp, u->s + from + 1, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET6, tmp, a) != 1)
			return url_fail(u, HLX_EINVAL, "invalid IPv6 address",
					(size_t)-1);
		txt[0] = '[';
		len = ipv6_format(a, txt + 1);
		txt[len + 1] = ']';
		return hlx_buf_put(out, txt, (size_t)len + 2);
	}
	n = to - from;
	if (n > 0 && u->s[to - 1] == '.')
		n--; /* one trailing dot */
	if (n == 0)
		return url_fail(u, HLX_EINVAL, "missing host", (size_t)-1);
	if (n > HOST_MAX)
		return url_fail(u, HLX_EINVAL, "host longer than 253 characters",
				(size_t)-1);
	for (i = from; i < from + n; i++) {
		int c = (unsigned char)u->s[i];

		if (c == '.') {
			if (label == 0)
				return url_fail(u, HLX_EINVAL,
						"empty label in host", i);
			label = 0;
			continue;
		}
		if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
			return url_fail(u, HLX_EINVAL,
					"invalid character in host", i);
		if (++label > LABEL_MAX)
			return url_fail(u, HLX_EINVAL,
					"host label longer than 63 characters",
					(size_t)-1);
	}
	if (label == 0)
		return url_fail(u, HLX_EINVAL, "empty label in host",
				(size_t)-1);
	if (hlx_buf_reserve(out, n))
		return HLX_ENOMEM;
	for (i = from; i < from + n; i++)
		out->data[out->len++] = (uint8_t)lower((unsigned char)u->s[i]);
	out->data[out->len] = '\0';
	return HLX_OK;
}

/* The scheme, http or https (*https), and the "//" after it; *auth: where
 * the authority starts. */
static int url_scheme(struct url *u, int *https, size_t *auth)
{
	const char *s = u->s;
	size_t i, n = u->n;

	for (i = 0; i < n && s[i] != ':'; i++) {
		int c = (unsigned char)s[i];

		if (!is_alpha(c) &&
		    (i == 0 || (!is_digit(c) && c != '+' && c != '-' &&
				c != '.')))
			return url_fail(u, HLX_EINVAL, "missing or invalid scheme",
					(size_t)-1);
	}
	if (i == n || i == 0)
		return url_fail(u, HLX_EINVAL, "missing or invalid scheme",
				(size_t)-1);
	if (ascii_caseeq(s, i, "http")) {
		*https = 0;
	} else if (ascii_caseeq(s, i, "https")) {
		*https = 1;
	} else {
		char qs[HLX_QUOTE_SIZE];

		return hlx_err(HLX_EINVAL,
			       "url '%s': scheme '%s' not accepted (only http and https)",
			       u->q, hlx_quote(qs, s, i));
	}
	if (n - i < 3 || s[i + 1] != '/' || s[i + 2] != '/')
		return url_fail(u, HLX_EINVAL, "missing '//' and host",
				(size_t)-1);
	*auth = i + 3;
	return HLX_OK;
}

/* The userinfo of the authority s[auth..end), dropped but validated; *at:
 * where the host starts. */
static int url_userinfo(struct url *u, size_t auth, size_t end, size_t *at)
{
	const char *s = u->s;
	size_t i;

	*at = auth;
	for (i = auth; i < end; i++) {
		if (s[i] == '@') {
			if (*at != auth)
				return url_fail(u, HLX_EINVAL,
						"more than one '@' in authority",
						i);
			*at = i + 1;
		}
	}
	for (i = auth; *at != auth && i < *at - 1; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if (!pct_ok(u, i, *at - 1))
				return url_fail(u, HLX_EINVAL,
						"'%' not followed by two hex digits",
						i);
			i += 2;
		} else if (!is_unreserved(c) && !is_subdelim(c) && c != ':') {
			return url_fail(u, HLX_EINVAL,
					"invalid character in userinfo", i);
		}
	}
	return HLX_OK;
}

/* Where the host s[at..) ends (*host_end), and the port after it, kept
 * (*has_port) only when it is not the scheme's default. */
static int url_host_port(struct url *u, size_t at, size_t end, int https,
			 size_t *host_end, unsigned long *port, int *has_port)
{
	const char *s = u->s;
	size_t i, he;

	if (at < end && s[at] == '[') {
		for (he = at; he < end && s[he] != ']'; he++)
			;
		if (he == end)
			return url_fail(u, HLX_EINVAL, "'[' without ']'",
					(size_t)-1);
		he++;
		if (he < end && s[he] != ':')
			return url_fail(u, HLX_EINVAL,
					"unexpected character after ']'", he);
	} else {
		for (he = at; he < end && s[he] != ':'; he++)
			;
	}
	*host_end = he;
	if (he < end) {
		size_t digits = end - he - 1;

		if (digits > 5)
			return url_fail(u, HLX_EINVAL,
					"port longer than 5 digits",
					(size_t)-1);
		for (i = he + 1; i < end; i++) {
			if (!is_digit((unsigned char)s[i]))
				return url_fail(u, HLX_EINVAL,
						"invalid character in port", i);
			*port = *port * 10 + (unsigned long)(s[i] - '0');
		}
		if (digits > 0) {
			if (*port == 0 || *port > 65535)
				return url_fail(u, HLX_EINVAL,
						"port out of range 1..65535",
						(size_t)-1);
			*has_port = *port != (https ? 443u : 80u);
		}
	}
	return HLX_OK;
}

static int normalise(struct url *u, struct hlx_buf *out)
{
	size_t i, n = u->n, auth = 0, end, at = 0, host_end = 0, path, query,
		  frag;
	unsigned long port = 0;
	int https = 0, has_port = 0, rc;
	const char *s = u->s;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f)
			return url_fail(u, HLX_EINVAL,
					"control character or space", i);
	}
	rc = url_scheme(u, &https, &auth);
	if (rc)
		return rc;
	for (end = auth; end < n; end++)
		if (s[end] == '/' || s[end] == '?' || s[end] == '#')
			break;
	rc = url_userinfo(u, auth, end, &at);
	if (!rc)
		rc = url_host_port(u, at, end, https, &host_end, &port,
				   &has_port);
	if (rc)
		return rc;
	for (frag = end; frag < n && s[frag] != '#'; frag++)
		;
	for (query = end; query < frag && s[query] != '?'; query++)
		;
	/* build */
	rc = hlx_buf_puts(out, https ? "https://" : "http://");
	if (!rc)
		rc = put_host(u, at, host_end, out);
	if (!rc && has_port)
		rc = hlx_buf_printf(out, ":%lu", port);
	if (rc)
		return rc;
	path = out->len;
	if (end == query) {
		rc = hlx_buf_putc(out, '/');
	} else {
		rc = put_component(u, end, query, out);
		if (!rc) {
			out->len = path + remove_dots((char *)out->data + path,
						      out->len - path);
			out->data[out->len] = '\0';
		}
	}
	if (!rc && query < frag)
		rc = put_component(u, query, frag, out);
	return rc;
}

int hlx_url_normalise(const char *url, size_t n, struct hlx_buf *out)
{
	struct url u;
	size_t start = out->len;
	int rc;

	u.s = url;
	u.n = n;
	hlx_quote(u.q, url, n);
	if (n == 0)
		return hlx_err(HLX_EINVAL, "url '': empty");
	if (n > HLX_URL_MAX)
		return hlx_err(HLX_ETOOBIG,
			       "url '%s': longer than %d bytes (%zu)", u.q,
			       HLX_URL_MAX, n);
	rc = normalise(&u, out);
	if (!rc && out->len - start > HLX_URL_MAX)
		rc = hlx_err(HLX_ETOOBIG,
			     "url '%s': normalised form longer than %d bytes (%zu)",
			     u.q, HLX_URL_MAX, out->len - start);
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc;
}

int hlx_url_hash(const char *url, size_t n, struct hlx_hash *h)
{
	struct hlx_buf b = HLX_BUF_INIT;
	int rc = hlx_url_normalise(url, n, &b);

	if (!rc) {
		crypto_hash_sha256(h->bytes, b.data, b.len);
		h->type = HLX_HASH_URL_SHA256;
		h->len = crypto_hash_sha256_BYTES;
	}
	hlx_buf_free(&b);
	return rc;
}
