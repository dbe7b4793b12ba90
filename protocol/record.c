/* SPDX-License-Identifier: MIT */
/*
 * Entries and status records: validation, canonical lines, JSON.
 * The rules are spec/records.md, sections 4 to 6.
 */
#include "record.h"
#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DETAIL_MAX 512

static const char *const state_names[] = {
	[HLX_STATE_REPORTED] = "reported",
	[HLX_STATE_NOTICE_SENT] = "notice-sent",
	[HLX_STATE_REMOVED] = "removed",
	[HLX_STATE_REAPPEARED] = "reappeared",
	[HLX_STATE_WITHDRAWN] = "withdrawn",
};

#define NSTATES (sizeof(state_names) / sizeof(state_names[0]))

/* ISO 3166-1 alpha-2 officially assigned codes, and XK (Kosovo, a
 * user-assigned code in common use), sorted. */
static const char countries[] =
	"ADAEAFAGAIALAMAOAQARASATAUAWAXAZ"
	"BABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ"
	"CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZ"
	"DEDJDKDMDODZ"
	"ECEEEGEHERESET"
	"FIFJFKFMFOFR"
	"GAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGY"
	"HKHMHNHRHTHU"
	"IDIEILIMINIOIQIRISIT"
	"JEJMJOJP"
	"KEKGKHKIKMKNKPKRKWKYKZ"
	"LALBLCLILKLRLSLTLULVLY"
	"MAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZ"
	"NANCNENFNGNINLNONPNRNUNZ"
	"OM"
	"PAPEPFPGPHPKPLPMPNPRPSPTPWPY"
	"QA"
	"RERORSRURW"
	"SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZ"
	"TCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZ"
	"UAUGUMUSUYUZ"
	"VAVCVEVGVIVNVU"
	"WFWS"
	"XK"
	"YEYT"
	"ZAZMZW";

/*
 * Prefix the detail of a failure from a field parser with the context:
 * "entry line 'md5:...': field 'category': <inner detail>".
 */
static int wrap(int rc, const char *ctx, const char *field)
{
	return hlx_err_wrap(rc, "%s: field '%s'", ctx, field);
}

/* Replace the "old: " prefix of the current detail by "ctx: ". */
static int rewrap(int rc, const char *ctx, const char *old)
{
	char inner[DETAIL_MAX];
	const char *d = hlx_err_detail();
	size_t k = strlen(old);

	if (!strncmp(d, old, k) && d[k] == ':' && d[k + 1] == ' ')
		d += k + 2;
	snprintf(inner, sizeof(inner), "%s", d);
	return hlx_err(rc, "%s: %s", ctx, inner);
}

const char *hlx_state_name(enum hlx_state s)
{
	return (unsigned)s >= 1 && (unsigned)s < NSTATES ? state_names[s]
							: NULL;
}

int hlx_state_parse(const char *s, size_t n, enum hlx_state *st)
{
	char q[HLX_QUOTE_SIZE];
	unsigned i;

	for (i = 1; i < NSTATES; i++) {
		if (strlen(state_names[i]) == n &&
		    memcmp(state_names[i], s, n) == 0) {
			*st = (enum hlx_state)i;
			return HLX_OK;
		}
	}
	return hlx_err(HLX_EINVAL,
		       "state '%s': unknown (reported, notice-sent, removed, reappeared or withdrawn)",
		       hlx_quote(q, s, n));
}

static int token_char(int c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (!first && (c == '.' || c == '_' || c == '-'));
}

int hlx_entry_token_check(const char *s, size_t n, const char *what)
{
	char q[HLX_QUOTE_SIZE], qc[HLX_QUOTE_SIZE];
	size_t i;

	if (n == 0)
		return hlx_err(HLX_EINVAL, "%s '': empty", what);
	if (n > HLX_TOKEN_MAX)
		return hlx_err(HLX_EINVAL,
			       "%s '%s': longer than %d characters (%zu)", what,
			       hlx_quote(q, s, n), HLX_TOKEN_MAX, n);
	for (i = 0; i < n; i++)
		if (!token_char((unsigned char)s[i], i == 0))
			return hlx_err(HLX_EINVAL,
				       "%s '%s': character '%s' at position %zu not allowed (a token is [a-z0-9][a-z0-9._-]*)",
				       what, hlx_quote(q, s, n),
				       hlx_quote(qc, s + i, 1), i);
	return HLX_OK;
}

int hlx_status_country_check(const char *c, size_t n)
{
	char q[HLX_QUOTE_SIZE];
	size_t lo = 0, hi = (sizeof(countries) - 1) / 2;

	if (n == 2) {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int r = memcmp(countries + 2 * mid, c, 2);

			if (r == 0)
				return HLX_OK;
			if (r < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return hlx_err(HLX_EINVAL,
		       "country '%s': not an ISO 3166-1 alpha-2 code (two uppercase letters, e.g. DE)",
		       hlx_quote(q, c, n));
}

/* Length of a NUL-terminated field of an array of size max, or max if the
 * array holds no NUL. */
static size_t field_len(const char *s, size_t max)
{
	const char *z = memchr(s, '\0', max);

	return z ? (size_t)(z - s) : max;
}

void hlx_entry_init(struct hlx_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->first_seen = -1;
	e->confidence = -1;
}

int hlx_entry_add_tag(struct hlx_entry *e, const char *tag, size_t n)
{
	char q[HLX_QUOTE_SIZE];
	unsigned i, at;
	int rc;

	rc = hlx_entry_token_check(tag, n, "tag");
	if (rc)
		return rc;
	for (at = 0; at < e->ntags && at < HLX_TAGS_MAX; at++) {
		int c = strncmp(e->tags[at], tag, n);

		if (c == 0 && e->tags[at][n] == '\0')
			return hlx_err(HLX_EEXIST, "tag '%s': already present",
				       hlx_quote(q, tag, n));
		if (c > 0 || (c == 0 && e->tags[at][n] != '\0'))
			break;
	}
	if (e->ntags >= HLX_TAGS_MAX)
		return hlx_err(HLX_ETOOBIG, "tag '%s': more than %d tags",
			       hlx_quote(q, tag, n), HLX_TAGS_MAX);
	for (i = e->ntags; i > at; i--)
		memcpy(e->tags[i], e->tags[i - 1], sizeof(e->tags[i]));
	memcpy(e->tags[at], tag, n);
	e->tags[at][n] = '\0';
	e->ntags++;
	return HLX_OK;
}

int hlx_entry_validate(const struct hlx_entry *e)
{
	size_t n;
	unsigned i;
	int rc;

	rc = hlx_hash_validate(&e->hash);
	if (rc)
		return wrap(rc, "entry", "hash");
	n = field_len(e->category, sizeof(e->category));
	if (n == sizeof(e->category))
		return hlx_err(HLX_EINVAL, "entry: category not terminated");
	if (n && (rc = hlx_entry_token_check(e->category, n, "category")))
		return wrap(rc, "entry", "category");
	if (e->first_seen != -1 && !hlx_time_valid(e->first_seen))
		return hlx_err(HLX_EINVAL,
			       "entry: first_seen %lld outside 1970..9999",
			       (long long)e->first_seen);
	if (e->confidence < -1 || e->confidence > 100)
		return hlx_err(HLX_EINVAL,
			       "entry: confidence %d outside 0..100",
			       e->confidence);
	if (e->ntags > HLX_TAGS_MAX)
		return hlx_err(HLX_EINVAL, "entry: %u tags, at most %d",
			       e->ntags, HLX_TAGS_MAX);
	for (i = 0; i < e->ntags; i++) {
		n = field_len(e->tags[i], sizeof(e->tags[i]));
		if (n == sizeof(e->tags[i]))
			return hlx_err(HLX_EINVAL,
				       "entry: tag %u not terminated", i);
		rc = hlx_entry_token_check(e->tags[i], n, "tag");
		if (rc)
			return wrap(rc, "entry", "tags");
		if (i > 0 && strcmp(e->tags[i - 1], e->tags[i]) >= 0)
			return hlx_err(HLX_EINVAL,
				       "entry: tags '%s' and '%s' not sorted and unique",
				       e->tags[i - 1], e->tags[i]);
	}
	return HLX_OK;
}

/* Write the hash text at o; returns its length.  h must be valid. */
static size_t put_hash(const struct hlx_hash *h, char *o)
{
	size_t nl = strlen(hlx_hash_type_name(h->type));

	hlx_hash_format(h, o, HLX_HASH_TEXT_MAX);
	return nl + 1 + 2 * h->len;
}

static char *put_time(int64_t t, char *o)
{
	if (t == -1) {
		*o++ = '-';
		return o;
	}
	hlx_time_format(t, o);
	return o + HLX_TIME_TEXT - 1;
}

static char *put_str(const char *s, char *o)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

/* Start a line: make room, return where to write. */
static char *line_begin(struct hlx_buf *out, size_t max, int *rc)
{
	*rc = hlx_buf_reserve(out, max);
	return *rc ? NULL : (char *)out->data + out->len;
}

static void line_end(struct hlx_buf *out, char *o)
{
	*o++ = '\n';
	out->len = (size_t)((uint8_t *)o - out->data);
	out->data[out->len] = '\0';
}

int hlx_entry_encode(const struct hlx_entry *e, struct hlx_buf *out)
{
	unsigned i;
	char *o;
	int rc;

	rc = hlx_entry_validate(e);
	if (rc)
		return rc;
	o = line_begin(out, HLX_ENTRY_LINE_MAX, &rc);
	if (!o)
		return rc;
	o += put_hash(&e->hash, o);
	*o++ = '\t';
	o = e->category[0] ? put_str(e->category, o) : put_str("-", o);
	*o++ = '\t';
	o = put_time(e->first_seen, o);
	*o++ = '\t';
	if (e->confidence < 0) {
		*o++ = '-';
	} else { /* 0..100, validated: written without snprintf */
		if (e->confidence >= 100)
			*o++ = '1';
		if (e->confidence >= 10)
			*o++ = (char)('0' + e->confidence / 10 % 10);
		*o++ = (char)('0' + e->confidence % 10);
	}
	*o++ = '\t';
	if (!e->ntags)
		*o++ = '-';
	for (i = 0; i < e->ntags; i++) {
		if (i)
			*o++ = ',';
		o = put_str(e->tags[i], o);
	}
	line_end(out, o);
	return HLX_OK;
}

static const char *line_ctx(char *ctx, size_t size, const char *what,
			    const char *line, size_t n);

/* Split line[0, n - 1) (the line without its '\n') into exactly nf
 * tab-separated fields. */
static int split(const char *line, size_t n, const char **f, size_t *fl,
		 int nf, const char *what)
{
	const char *p = line, *end = line + n - 1, *tab;
	char ctx[HLX_QUOTE_SIZE + 32];
	int k;

	if (memchr(line, '\n', n - 1))
		return hlx_err(HLX_EINVAL, "%s: newline inside the line",
			       line_ctx(ctx, sizeof(ctx), what, line, n));
	for (k = 0; k < nf; k++) {
		tab = memchr(p, '\t', (size_t)(end - p));
		if (k == nf - 1) {
			if (tab)
				return hlx_err(HLX_EINVAL,
					       "%s: more than %d tab-separated fields",
					       line_ctx(ctx, sizeof(ctx), what,
							line, n),
					       nf);
			tab = end;
		} else if (!tab) {
			return hlx_err(HLX_EINVAL,
				       "%s: %d tab-separated fields, expected %d",
				       line_ctx(ctx, sizeof(ctx), what, line,
						n),
				       k + 1, nf);
		}
		f[k] = p;
		fl[k] = (size_t)(tab - p);
		p = tab + 1;
	}
	return HLX_OK;
}

static int absent(const char *f, size_t n)
{
	return n == 1 && f[0] == '-';
}

/* Canonical decimal 0..100 (no sign, no leading zero). */
static int parse_confidence(const char *f, size_t n, int *v)
{
	char q[HLX_QUOTE_SIZE];
	size_t i;
	int x = 0;

	if (n == 0 || n > 3 || (n > 1 && f[0] == '0'))
		goto bad;
	for (i = 0; i < n; i++) {
		if (f[i] < '0' || f[i] > '9')
			goto bad;
		x = x * 10 + (f[i] - '0');
	}
	if (x > 100)
		goto bad;
	*v = x;
	return HLX_OK;
bad:
	return hlx_err(HLX_EINVAL,
		       "confidence '%s': not a decimal 0..100 without leading zeros",
		       hlx_quote(q, f, n));
}

static int parse_tags(const char *f, size_t n, struct hlx_entry *e)
{
	const char *p = f, *end = f + n, *comma;
	size_t len;
	int rc;

	e->ntags = 0;
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		len = (size_t)((comma ? comma : end) - p);
		rc = hlx_entry_token_check(p, len, "tag");
		if (rc)
			return rc;
		if (e->ntags == HLX_TAGS_MAX)
			return hlx_err(HLX_EINVAL, "more than %d tags",
				       HLX_TAGS_MAX);
		memcpy(e->tags[e->ntags], p, len);
		e->tags[e->ntags][len] = '\0';
		if (e->ntags > 0 &&
		    strcmp(e->tags[e->ntags - 1], e->tags[e->ntags]) >= 0)
			return hlx_err(HLX_EINVAL,
				       "tags '%s' and '%s' not in strictly increasing order",
				       e->tags[e->ntags - 1],
				       e->tags[e->ntags]);
		e->ntags++;
		if (!comma)
			return HLX_OK;
		p = comma + 1;
	}
}

/* Check length and the final newline; fills ctx on failure paths only. */
static int line_check(const char *line, size_t n, size_t max,
		      const char *what)
{
	char q[HLX_QUOTE_SIZE];

	if (n == 0)
		return hlx_err(HLX_EINVAL, "%s line: empty", what);
	if (n > max)
		return hlx_err(HLX_ETOOBIG,
			       "%s line '%s': longer than %zu bytes (%zu)", what,
			       hlx_quote(q, line, n), max, n);
	if (line[n - 1] != '\n')
		return hlx_err(HLX_EINVAL,
			       "%s line '%s': missing the final newline", what,
			       hlx_quote(q, line, n));
	return HLX_OK;
}

static const char *line_ctx(char *ctx, size_t size, const char *what,
			    const char *line, size_t n)
{
	char q[HLX_QUOTE_SIZE];

	snprintf(ctx, size, "%s line '%s'", what,
		 hlx_quote(q, line, n));
	return ctx;
}

int hlx_entry_decode(const char *line, size_t n, struct hlx_entry *e)
{
	static const char *const names[5] = { "hash", "category",
					      "first_seen", "confidence",
					      "tags" };
	char ctx[HLX_QUOTE_SIZE + 32];
	const char *f[5];
	size_t fl[5];
	int rc, k = 0;

	rc = line_check(line, n, HLX_ENTRY_LINE_MAX, "entry");
	if (rc)
		return rc;
	rc = split(line, n, f, fl, 5, "entry");
	if (rc)
		return rc;
	rc = hlx_hash_parse_canonical(f[0], fl[0], &e->hash);
	if (rc)
		goto fail;
	k = 1;
	if (absent(f[1], fl[1])) {
		e->category[0] = '\0';
	} else {
		rc = hlx_entry_token_check(f[1], fl[1], "category");
		if (rc)
			goto fail;
		memcpy(e->category, f[1], fl[1]);
		e->category[fl[1]] = '\0';
	}
	k = 2;
	if (absent(f[2], fl[2]))
		e->first_seen = -1;
	else if ((rc = hlx_time_parse(f[2], fl[2], &e->first_seen)))
		goto fail;
	k = 3;
	if (absent(f[3], fl[3]))
		e->confidence = -1;
	else if ((rc = parse_confidence(f[3], fl[3], &e->confidence)))
		goto fail;
	k = 4;
	if (absent(f[4], fl[4]))
		e->ntags = 0;
	else if ((rc = parse_tags(f[4], fl[4], e)))
		goto fail;
	return HLX_OK;
fail:
	return wrap(rc, line_ctx(ctx, sizeof(ctx), "entry", line, n),
		    names[k]);
}

void hlx_status_init(struct hlx_status *s)
{
	memset(s, 0, sizeof(*s));
	s->reported = -1;
	s->changed = -1;
}

int hlx_status_validate(const struct hlx_status *s)
{
	size_t n;
	int rc;

	rc = hlx_hash_validate(&s->item);
	if (rc)
		return wrap(rc, "status", "item");
	n = field_len(s->country, sizeof(s->country));
	if (n == sizeof(s->country))
		return hlx_err(HLX_EINVAL, "status: country not terminated");
	if (n && (rc = hlx_status_country_check(s->country, n)))
		return wrap(rc, "status", "country");
	if (!hlx_state_name(s->state))
		return hlx_err(HLX_EINVAL, "status: unknown state %d",
			       (int)s->state);
	if (!hlx_time_valid(s->reported))
		return hlx_err(HLX_EINVAL,
			       "status: reported %lld outside 1970..9999",
			       (long long)s->reported);
	if (!hlx_time_valid(s->changed))
		return hlx_err(HLX_EINVAL,
			       "status: changed %lld outside 1970..9999",
			       (long long)s->changed);
	if (s->changed < s->reported)
		return hlx_err(HLX_EINVAL,
			       "status: changed is earlier than reported");
	if (s->state == HLX_STATE_REPORTED && s->changed != s->reported)
		return hlx_err(HLX_EINVAL,
			       "status: state 'reported' must have changed equal to reported");
	return HLX_OK;
}

int hlx_status_encode(const struct hlx_status *s, struct hlx_buf *out)
{
	char *o;
	int rc;

	rc = hlx_status_validate(s);
	if (rc)
		return rc;
	o = line_begin(out, HLX_STATUS_LINE_MAX, &rc);
	if (!o)
		return rc;
	o += put_hash(&s->item, o);
	*o++ = '\t';
	o = put_str(s->country[0] ? s->country : "-", o);
	*o++ = '\t';
	o = put_str(hlx_state_name(s->state), o);
	*o++ = '\t';
	o = put_time(s->reported, o);
	*o++ = '\t';
	o = put_time(s->changed, o);
	line_end(out, o);
	return HLX_OK;
}

int hlx_status_decode(const char *line, size_t n, struct hlx_status *s)
{
	static const char *const names[5] = { "item", "country", "state",
					      "reported", "changed" };
	char ctx[HLX_QUOTE_SIZE + 32];
	const char *f[5];
	size_t fl[5];
	int rc, k = 0;

	rc = line_check(line, n, HLX_STATUS_LINE_MAX, "status");
	if (rc)
		return rc;
	rc = split(line, n, f, fl, 5, "status");
	if (rc)
		return rc;
	rc = hlx_hash_parse_canonical(f[0], fl[0], &s->item);
	if (rc)
		goto fail;
	k = 1;
	if (absent(f[1], fl[1])) {
		s->country[0] = '\0';
	} else {
		rc = hlx_status_country_check(f[1], fl[1]);
		if (rc)
			goto fail;
		memcpy(s->country, f[1], 2);
		s->country[2] = '\0';
	}
	k = 2;
	rc = hlx_state_parse(f[2], fl[2], &s->state);
	if (rc)
		goto fail;
	k = 3;
	rc = hlx_time_parse(f[3], fl[3], &s->reported);
	if (rc)
		goto fail;
	k = 4;
	rc = hlx_time_parse(f[4], fl[4], &s->changed);
	if (rc)
		goto fail;
	rc = hlx_status_validate(s);
	if (rc)
		return rewrap(rc, line_ctx(ctx, sizeof(ctx), "status", line, n),
			      "status");
	return HLX_OK;
fail:
	return wrap(rc, line_ctx(ctx, sizeof(ctx), "status", line, n),
		    names[k]);
}

/* JSON */

/* jansson's error text may quote input: keep printable ASCII only. */
static const char *clean(char *out, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < size; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
	return out;
}

static int json_load(const char *s, size_t n, const char *what,
		     json_t **root)
{
	json_error_t je;
	char t[160];

	*root = NULL;
	if (n > HLX_JSON_MAX)
		return hlx_err(HLX_ETOOBIG,
			       "%s JSON: longer than %d bytes (%zu)", what,
			       HLX_JSON_MAX, n);
	*root = json_loadb(s, n, JSON_REJECT_DUPLICATES, &je);
	if (!*root)
		return hlx_err(HLX_EINVAL, "%s JSON: %s (line %d, column %d)",
			       what, clean(t, sizeof(t), je.text), je.line,
			       je.column);
	if (!json_is_object(*root)) {
		json_decref(*root);
		*root = NULL;
		return hlx_err(HLX_EINVAL, "%s JSON: expected an object",
			       what);
	}
	return HLX_OK;
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE: return "true";
	case JSON_FALSE: return "false";
	case JSON_NULL: return "null";
	}
	return "something else";
}

static int want_string(const json_t *v, const char *ctx, const char *field,
		       const char **s, size_t *n)
{
	if (!json_is_string(v))
		return hlx_err(HLX_EINVAL,
			       "%s: field '%s': expected a string, got %s", ctx,
			       field, json_kind(v));
	*s = json_string_value(v);
	*n = json_string_length(v);
	return HLX_OK;
}

static int unknown_key(const char *ctx, const char *key)
{
	char q[HLX_QUOTE_SIZE];

	return hlx_err(HLX_EINVAL, "%s: unknown field '%s'", ctx,
		       hlx_quote(q, key, strlen(key)));
}

static int json_time(const json_t *v, const char *ctx, const char *field,
		     int64_t *t)
{
	const char *s = NULL;
	size_t n = 0;
	int rc = want_string(v, ctx, field, &s, &n);

	if (!rc && (rc = hlx_time_parse(s, n, t)))
		rc = wrap(rc, ctx, field);
	return rc;
}

static int entry_field(struct hlx_entry *e, const char *key, json_t *v)
{
	static const char ctx[] = "entry JSON";
	const char *s = NULL;
	size_t n = 0, i;
	int rc;

	if (!strcmp(key, "hash")) {
		rc = want_string(v, ctx, key, &s, &n);
		if (!rc && (rc = hlx_hash_parse(s, n, &e->hash)))
			rc = wrap(rc, ctx, key);
		return rc;
	}
	if (!strcmp(key, "category")) {
		rc = want_string(v, ctx, key, &s, &n);
		if (!rc && (rc = hlx_entry_token_check(s, n, "category")))
			rc = wrap(rc, ctx, key);
		if (!rc) {
			memcpy(e->category, s, n);
			e->category[n] = '\0';
		}
		return rc;
	}
	if (!strcmp(key, "first_seen"))
		return json_time(v, ctx, key, &e->first_seen);
	if (!strcmp(key, "confidence")) {
		json_int_t x;

		if (!json_is_integer(v))
			return hlx_err(HLX_EINVAL,
				       "%s: field '%s': expected an integer 0..100, got %s",
				       ctx, key, json_kind(v));
		x = json_integer_value(v);
		if (x < 0 || x > 100)
			return hlx_err(HLX_EINVAL,
				       "%s: field '%s': %lld outside 0..100",
				       ctx, key, (long long)x);
		e->confidence = (int)x;
		return HLX_OK;
	}
	if (!strcmp(key, "tags")) {
		if (!json_is_array(v))
			return hlx_err(HLX_EINVAL,
				       "%s: field '%s': expected an array of strings, got %s",
				       ctx, key, json_kind(v));
		if (json_array_size(v) > HLX_TAGS_MAX)
			return hlx_err(HLX_EINVAL,
				       "%s: field '%s': %zu tags, at most %d",
				       ctx, key, json_array_size(v),
				       HLX_TAGS_MAX);
		for (i = 0; i < json_array_size(v); i++) {
			json_t *t = json_array_get(v, i);

			if (!json_is_string(t))
				return hlx_err(HLX_EINVAL,
					       "%s: field '%s': element %zu: expected a string, got %s",
					       ctx, key, i, json_kind(t));
			rc = hlx_entry_add_tag(e, json_string_value(t),
					       json_string_length(t));
			if (rc)
				return wrap(rc == HLX_EEXIST ? HLX_EINVAL : rc,
					    ctx, key);
		}
		return HLX_OK;
	}
	return unknown_key(ctx, key);
}

int hlx_entry_from_json(const char *s, size_t n, struct hlx_entry *e)
{
	const char *key;
	json_t *root, *v;
	int rc;

	rc = json_load(s, n, "entry", &root);
	if (rc)
		return rc;
	hlx_entry_init(e);
	json_object_foreach(root, key, v) {
		rc = entry_field(e, key, v);
		if (rc)
			goto out;
	}
	if (!json_object_get(root, "hash"))
		rc = hlx_err(HLX_EINVAL, "entry JSON: field 'hash' missing");
out:
	json_decref(root);
	return rc;
}

/* Append json_dumps(root) to out; takes the reference to root. */
static int json_finish(json_t *root, int rc, struct hlx_buf *out)
{
	char *text = NULL;

	if (!rc) {
		text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
		rc = text ? hlx_buf_puts(out, text)
			  : hlx_err(HLX_ENOMEM, "JSON: cannot serialise");
	}
	free(text);
	json_decref(root);
	return rc;
}

static int set_str(json_t *o, const char *key, const char *s)
{
	if (json_object_set_new(o, key, json_string(s)))
		return hlx_err(HLX_ENOMEM, "JSON: cannot set '%s'", key);
	return HLX_OK;
}

static int set_time(json_t *o, const char *key, int64_t t)
{
	char text[HLX_TIME_TEXT];

	hlx_time_format(t, text);
	return set_str(o, key, text);
}

int hlx_entry_to_json(const struct hlx_entry *e, struct hlx_buf *out)
{
	char hash[HLX_HASH_TEXT_MAX];
	json_t *root, *tags;
	unsigned i;
	int rc;

	rc = hlx_entry_validate(e);
	if (rc)
		return rc;
	root = json_object();
	if (!root)
		return hlx_err(HLX_ENOMEM, "JSON: cannot allocate");
	hlx_hash_format(&e->hash, hash, sizeof(hash));
	rc = set_str(root, "hash", hash);
	if (!rc && e->category[0])
		rc = set_str(root, "category", e->category);
	if (!rc && e->first_seen != -1)
		rc = set_time(root, "first_seen", e->first_seen);
	if (!rc && e->confidence != -1 &&
	    json_object_set_new(root, "confidence",
				json_integer(e->confidence)))
		rc = hlx_err(HLX_ENOMEM, "JSON: cannot set 'confidence'");
	if (!rc && e->ntags) {
		tags = json_array();
		for (i = 0; tags && i < e->ntags; i++) {
			if (json_array_append_new(tags,
						  json_string(e->tags[i]))) {
				json_decref(tags);
				tags = NULL;
			}
		}
		if (json_object_set_new(root, "tags", tags))
			rc = hlx_err(HLX_ENOMEM, "JSON: cannot set 'tags'");
	}
	return json_finish(root, rc, out);
}

static int status_field(struct hlx_status *st, const char *key, json_t *v)
{
	static const char ctx[] = "status JSON";
	const char *s = NULL;
	size_t n = 0;
	int rc;

	if (!strcmp(key, "item")) {
		rc = want_string(v, ctx, key, &s, &n);
		if (!rc && (rc = hlx_hash_parse(s, n, &st->item)))
			rc = wrap(rc, ctx, key);
		return rc;
	}
	if (!strcmp(key, "country")) {
		rc = want_string(v, ctx, key, &s, &n);
		if (!rc && (rc = hlx_status_country_check(s, n)))
			rc = wrap(rc, ctx, key);
		if (!rc)
			memcpy(st->country, s, 3); /* two letters and NUL */
		return rc;
	}
	if (!strcmp(key, "state")) {
		rc = want_string(v, ctx, key, &s, &n);
		if (!rc && (rc = hlx_state_parse(s, n, &st->state)))
			rc = wrap(rc, ctx, key);
		return rc;
	}
	if (!strcmp(key, "reported"))
		return json_time(v, ctx, key, &st->reported);
	if (!strcmp(key, "changed"))
		return json_time(v, ctx, key, &st->changed);
	return unknown_key(ctx, key);
}

int hlx_status_from_json(const char *str, size_t n, struct hlx_status *s)
{
	static const char *const required[] = { "item", "state", "reported",
						"changed" };
	const char *key;
	json_t *root, *v;
	size_t i;
	int rc;

	rc = json_load(str, n, "status", &root);
	if (rc)
		return rc;
	hlx_status_init(s);
	json_object_foreach(root, key, v) {
		rc = status_field(s, key, v);
		if (rc)
			goto out;
	}
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!json_object_get(root, required[i])) {
			rc = hlx_err(HLX_EINVAL,
				     "status JSON: field '%s' missing",
				     required[i]);
			goto out;
		}
	}
	rc = hlx_status_validate(s);
	if (rc)
		rc = rewrap(rc, "status JSON", "status");
out:
	json_decref(root);
	return rc;
}

int hlx_status_to_json(const struct hlx_status *s, struct hlx_buf *out)
{
	char item[HLX_HASH_TEXT_MAX];
	json_t *root;
	int rc;

	rc = hlx_status_validate(s);
	if (rc)
		return rc;
	root = json_object();
	if (!root)
		return hlx_err(HLX_ENOMEM, "JSON: cannot allocate");
	hlx_hash_format(&s->item, item, sizeof(item));
	rc = set_str(root, "item", item);
	if (!rc && s->country[0])
		rc = set_str(root, "country", s->country);
	if (!rc)
		rc = set_str(root, "state", hlx_state_name(s->state));
	if (!rc)
		rc = set_time(root, "reported", s->reported);
	if (!rc)
		rc = set_time(root, "changed", s->changed);
	return json_finish(root, rc, out);
}

size_t hlx_line_hash_len(const char *line, size_t n)
{
	const char *t = memchr(line, '\t', n);

	return t ? (size_t)(t - line) : n;
}

int hlx_line_hash_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t fa = hlx_line_hash_len(a, an), fb = hlx_line_hash_len(b, bn);
	int c = memcmp(a, b, fa < fb ? fa : fb);

	return c ? c : (fa > fb) - (fa < fb);
}
