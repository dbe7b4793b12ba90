/* SPDX-License-Identifier: MIT */
#include "keys/allowed.h"
#include "keys/sshkey.h"
#include "protocol/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* 9999-12-31T23:59:59Z */
#define TIME_MAX INT64_C(253402300799)

struct entry {
	char *principals;	/* pattern list */
	char *namespaces;	/* pattern list, or NULL when unrestricted */
	int64_t valid_after;	/* 0: none */
	int64_t valid_before;	/* 0: none */
	int ca;			/* cert-authority: never matches */
	int supported;		/* ssh-ed25519 key */
	struct hlx_pubkey key;
	unsigned line;
};

struct hlx_allowed {
	struct entry *e;
	size_t n, cap;
};


static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* ---- patterns ----------------------------------------------------------- */

/* '*' and '?' glob, iterative with one backtrack point: O(sn * pn). */
static int glob(const char *s, size_t sn, const char *p, size_t pn)
{
	size_t si = 0, pi = 0, star = (size_t)-1, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && (p[pi] == '?' || p[pi] == s[si])) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return 0;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

int hlx_allowed_match_list(const char *s, const char *list)
{
	size_t sn = strlen(s), i = 0, len = strlen(list), st;
	int neg, positive = 0;

	while (i < len) {
		neg = list[i] == '!';
		if (neg)
			i++;
		for (st = i; i < len && list[i] != ','; i++)
			;
		if (i - st > HLX_ALLOWED_PATTERN_MAX)
			return 0; /* as OpenSSH: too long, no match at all */
		if (glob(s, sn, list + st, i - st)) {
			if (neg)
				return -1;
			positive = 1;
		}
		if (i < len)
			i++; /* the comma */
	}
	return positive;
}

static int check_list(const char *list, size_t n, const char *what,
		      unsigned line)
{
	size_t i = 0, st;

	while (i < n) {
		if (list[i] == '!')
			i++;
		for (st = i; i < n && list[i] != ','; i++)
			;
		if (i - st > HLX_ALLOWED_PATTERN_MAX)
			return hlx_err(HLX_EINVAL, "allowed signers line %u: "
				       "%s pattern of %zu bytes: longer than "
				       "%d", line, what, i - st,
				       HLX_ALLOWED_PATTERN_MAX);
		if (i < n)
			i++;
	}
	return HLX_OK;
}

/* ---- times -------------------------------------------------------------- */

static int digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int hlx_allowed_parse_time(const char *s, size_t n, int64_t *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	char q[HLX_QUOTE_SIZE];
	size_t l = n, i;
	int utc = 0, y, mo, d, h = 0, mi = 0, se = 0;
	struct tm tm;
	time_t t;

	*out = 0;
	if (l > 1 && (s[l - 1] == 'Z' || s[l - 1] == 'z')) {
		utc = 1;
		l--;
	} else if (l > 3 && strncasecmp(s + l - 3, "UTC", 3) == 0) {
		utc = 1;
		l -= 3;
	}
	for (i = 0; i < l; i++)
		if (s[i] < '0' || s[i] > '9')
			break;
	if ((l != 8 && l != 12 && l != 14) || i != l)
		return hlx_err(HLX_EINVAL, "time '%s': expected "
			       "YYYYMMDD[HHMM[SS]][Z]", hlx_quote(q, s, n));
	digits(s, 4, &y);
	digits(s + 4, 2, &mo);
	digits(s + 6, 2, &d);
	if (l >= 12) {
		digits(s + 8, 2, &h);
		digits(s + 10, 2, &mi);
	}
	if (l == 14)
		digits(s + 12, 2, &se);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
	    se > 59)
		return hlx_err(HLX_EINVAL, "time '%s': no such date or time "
			       "(or before 1970)", hlx_quote(q, s, n));
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	/* Without Z: local time, read as ssh-keygen 9.2 does (mktime with
	 * tm_isdst = 0, i.e. standard time even in summer). */
	tm.tm_isdst = 0;
	t = utc ? timegm(&tm) : mktime(&tm);
	if (t <= 0)
		return hlx_err(HLX_EINVAL, "time '%s': not after "
			       "1970-01-01T00:00:00Z", hlx_quote(q, s, n));
	*out = (int64_t)t;
	return HLX_OK;
}

static void put_digits(char *o, int v, int w)
{
	while (w-- > 0) {
		o[w] = (char)('0' + v % 10);
		v /= 10;
	}
}

int hlx_allowed_format_time(int64_t t, char out[HLX_ALLOWED_TIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	out[0] = '\0';
	if (t < 1 || t > TIME_MAX)
		return hlx_err(HLX_EINVAL, "time %lld: outside 1970-01-01 .. "
			       "9999-12-31", (long long)t);
	if (!gmtime_r(&tt, &tm))
		return hlx_err(HLX_EINVAL, "time %lld: cannot convert",
			       (long long)t);
	put_digits(out, tm.tm_year + 1900, 4);
	put_digits(out + 4, tm.tm_mon + 1, 2);
	put_digits(out + 6, tm.tm_mday, 2);
	put_digits(out + 8, tm.tm_hour, 2);
	put_digits(out + 10, tm.tm_min, 2);
	put_digits(out + 12, tm.tm_sec, 2);
	out[14] = 'Z';
	out[15] = '\0';
	return HLX_OK;
}

/* Human-readable UTC time for error details. */
#define ISO_LEN 80

static const char *iso(char buf[ISO_LEN], int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || t > TIME_MAX || !gmtime_r(&tt, &tm))
		snprintf(buf, ISO_LEN, "@%lld", (long long)t);
	else
		snprintf(buf, ISO_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

/* ---- parsing ------------------------------------------------------------ */

static void entry_free(struct entry *e)
{
	free(e->principals);
	free(e->namespaces);
}

void hlx_allowed_free(struct hlx_allowed *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		entry_free(&a->e[i]);
	free(a->e);
	free(a);
}

size_t hlx_allowed_count(const struct hlx_allowed *a)
{
	return a->n;
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/*
 * An option value: '"', then anything up to the next '"' not preceded by
 * a backslash ("\"" stands for '"'), then '"'.  *k is just past the '='.
 */
static int dequote(const char *p, size_t m, size_t *k, const char *opt,
		   unsigned line, char **val, size_t *vl)
{
	size_t i = *k, o = 0;
	char *v;

	if (i >= m || p[i] != '"')
		return hlx_err(HLX_EINVAL, "allowed signers line %u: option "
			       "%s: value must be in double quotes", line, opt);
	v = malloc(m - i + 1);
	if (!v)
		return hlx_err(HLX_ENOMEM, "cannot allocate an option value");
	for (i++; i < m && p[i] != '"'; i++) {
		if (p[i] == '\\' && i + 1 < m && p[i + 1] == '"')
			i++;
		v[o++] = p[i];
	}
	if (i >= m) {
		free(v);
		return hlx_err(HLX_EINVAL, "allowed signers line %u: option "
			       "%s: missing closing quote", line, opt);
	}
	v[o] = '\0';
	*k = i + 1;
	*val = v;
	*vl = o;
	return HLX_OK;
}

static int opt_is(const char *p, size_t m, size_t k, const char *name)
{
	size_t l = strlen(name);

	return m - k >= l && strncasecmp(p + k, name, l) == 0;
}

static int time_opt(const char *p, size_t m, size_t *k, const char *opt,
		    unsigned line, int64_t *t)
{
	char *v;
	size_t vl;
	int rc;

	if (*t)
		return hlx_err(HLX_EINVAL, "allowed signers line %u: option "
			       "%s given twice", line, opt);
	rc = dequote(p, m, k, opt, line, &v, &vl);
	if (rc)
		return rc;
	rc = hlx_allowed_parse_time(v, vl, t);
	free(v);
	if (rc)
		return hlx_err_wrap(rc, "allowed signers line %u: option %s",
				    line, opt);
	return HLX_OK;
}

static int unknown_option(const char *p, size_t m, size_t st, unsigned line)
{
	char q[HLX_QUOTE_SIZE];
	size_t k;

	for (k = st; k < m && p[k] != ','; k++)
		;
	return hlx_err(HLX_EINVAL, "allowed signers line %u: unknown option "
		       "'%s'", line, hlx_quote(q, p + st, k - st));
}

static int parse_options(const char *p, size_t m, struct entry *e)
{
	size_t k = 0, st, vl;
	int rc;

	while (k < m) {
		st = k;
		if (opt_is(p, m, k, "cert-authority")) {
			k += strlen("cert-authority");
			e->ca = 1;
		} else if (opt_is(p, m, k, "namespaces=")) {
			k += strlen("namespaces=");
			if (e->namespaces)
				return hlx_err(HLX_EINVAL, "allowed signers "
					       "line %u: option namespaces "
					       "given twice", e->line);
			rc = dequote(p, m, &k, "namespaces", e->line,
				     &e->namespaces, &vl);
			if (!rc)
				rc = check_list(e->namespaces, vl, "namespaces",
						e->line);
			if (rc)
				return rc;
		} else if (opt_is(p, m, k, "valid-after=")) {
			k += strlen("valid-after=");
			rc = time_opt(p, m, &k, "valid-after", e->line,
				      &e->valid_after);
			if (rc)
				return rc;
		} else if (opt_is(p, m, k, "valid-before=")) {
			k += strlen("valid-before=");
			rc = time_opt(p, m, &k, "valid-before", e->line,
				      &e->valid_before);
			if (rc)
				return rc;
		} else {
			return unknown_option(p, m, st, e->line);
		}
		if (k == m)
			break;
		if (p[k] != ',')
			return unknown_option(p, m, st, e->line);
		k++; /* the comma */
		if (k == m)
			return hlx_err(HLX_EINVAL, "allowed signers line %u: "
				       "options end with a comma", e->line);
	}
	if (e->valid_after && e->valid_before &&
	    e->valid_before < e->valid_after)
		return hlx_err(HLX_EINVAL, "allowed signers line %u: "
			       "valid-before is before valid-after",
			       e->line);
	return HLX_OK;
}

static int parse_line(const char *l, size_t n, struct entry *e)
{
	char q[HLX_QUOTE_SIZE];
	size_t i = 0, ps, pe, ts, j;
	int rc, quoted = 0;

	/* principals: a word, or a double-quoted string */
	if (l[i] == '"') {
		for (j = i + 1; j < n && l[j] != '"'; j++)
			;
		if (j >= n)
			return hlx_err(HLX_EINVAL, "allowed signers line %u: "
				       "unterminated quote in the principals",
				       e->line);
		ps = i + 1;
		pe = j;
		i = j + 1;
		if (i < n && !is_blank(l[i]))
			return hlx_err(HLX_EINVAL, "allowed signers line %u: "
				       "no space after the quoted principals",
				       e->line);
	} else {
		for (j = i; j < n && !is_blank(l[j]); j++)
			if (l[j] == '"')
				return hlx_err(HLX_EINVAL, "allowed signers "
					       "line %u: stray quote in the "
					       "principals '%s'", e->line,
					       hlx_quote(q, l + i, n - i));
		ps = i;
		pe = i = j;
	}
	if (ps == pe)
		return hlx_err(HLX_EINVAL, "allowed signers line %u: empty "
			       "principals", e->line);
	if (hlx_sshkey_known_type(l + ps, pe - ps))
		return hlx_err(HLX_EINVAL, "allowed signers line %u: missing "
			       "principals before the key '%s'", e->line,
			       hlx_quote(q, l + ps, pe - ps));
	rc = check_list(l + ps, pe - ps, "principals", e->line);
	if (rc)
		return rc;
	e->principals = dup_n(l + ps, pe - ps);
	if (!e->principals)
		return hlx_err(HLX_ENOMEM, "cannot allocate principals");

	while (i < n && is_blank(l[i]))
		i++;
	if (i == n)
		return hlx_err(HLX_EINVAL, "allowed signers line %u: missing "
			       "key after the principals", e->line);
	ts = i;
	for (j = ts; j < n && !is_blank(l[j]); j++)
		;
	if (!hlx_sshkey_known_type(l + ts, j - ts)) {
		/* options: up to the first blank outside double quotes */
		for (j = ts; j < n && (quoted || !is_blank(l[j])); j++) {
			if (l[j] == '\\' && j + 1 < n && l[j + 1] == '"')
				j++;
			else if (l[j] == '"')
				quoted = !quoted;
		}
		if (quoted)
			return hlx_err(HLX_EINVAL, "allowed signers line %u: "
				       "unterminated quote in the options",
				       e->line);
		rc = parse_options(l + ts, j - ts, e);
		if (rc)
			return rc;
		for (i = j; i < n && is_blank(l[i]); i++)
			;
		if (i == n)
			return hlx_err(HLX_EINVAL, "allowed signers line %u: "
				       "missing key after the options",
				       e->line);
	}
	rc = hlx_sshkey_parse(l + i, n - i, &e->key, NULL);
	if (rc == HLX_OK) {
		e->supported = 1;
	} else if (rc == HLX_EUNSUPPORTED) {
		e->supported = 0;
	} else {
		return hlx_err_wrap(HLX_EINVAL, "allowed signers line %u",
				    e->line);
	}
	return HLX_OK;
}

int hlx_allowed_parse(const char *text, size_t n, struct hlx_allowed **out)
{
	struct hlx_allowed *a;
	size_t pos = 0, ls, le, i;
	unsigned line = 0;
	struct entry *ne;
	int rc = HLX_OK;

	*out = NULL;
	if (n > HLX_ALLOWED_MAX)
		return hlx_err(HLX_ETOOBIG, "allowed signers file of %zu "
			       "bytes: larger than %d", n, HLX_ALLOWED_MAX);
	a = calloc(1, sizeof(*a));
	if (!a)
		return hlx_err(HLX_ENOMEM, "cannot allocate allowed signers");
	while (pos < n) {
		line++;
		ls = pos;
		while (pos < n && text[pos] != '\n')
			pos++;
		le = pos;
		if (pos < n)
			pos++;
		if (le > ls && text[le - 1] == '\r')
			le--;
		if (le - ls > HLX_ALLOWED_LINE_MAX) {
			rc = hlx_err(HLX_ETOOBIG, "allowed signers line %u of "
				     "%zu bytes: longer than %d", line,
				     le - ls, HLX_ALLOWED_LINE_MAX);
			goto out;
		}
		for (i = ls; i < le; i++) {
			unsigned char c = (unsigned char)text[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f) {
				rc = hlx_err(HLX_EINVAL, "allowed signers line "
					     "%u: control character 0x%02x",
					     line, c);
				goto out;
			}
		}
		while (ls < le && is_blank(text[ls]))
			ls++;
		while (le > ls && is_blank(text[le - 1]))
			le--;
		if (ls == le || text[ls] == '#')
			continue;
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 8;

			ne = realloc(a->e, cap * sizeof(*ne));
			if (!ne) {
				rc = hlx_err(HLX_ENOMEM, "cannot allocate "
					     "allowed signers");
				goto out;
			}
			a->e = ne;
			a->cap = cap;
		}
		ne = &a->e[a->n];
		memset(ne, 0, sizeof(*ne));
		ne->line = line;
		a->n++;
		rc = parse_line(text + ls, le - ls, ne);
		if (rc)
			goto out;
	}
out:
	if (rc) {
		hlx_allowed_free(a);
		return rc;
	}
	*out = a;
	return HLX_OK;
}

/* ---- checking ----------------------------------------------------------- */

int hlx_allowed_check(const struct hlx_allowed *a, const char *principal,
		      const struct hlx_pubkey *key, const char *ns,
		      int64_t now)
{
	char fpr[HLX_FPR_LEN], q[HLX_QUOTE_SIZE], q2[HLX_QUOTE_SIZE];
	char t1[ISO_LEN], t2[ISO_LEN];
	const struct entry *early = NULL, *late = NULL, *nsref = NULL;
	size_t i, ca = 0, unsup = 0;

	if (!principal || !*principal)
		return hlx_err(HLX_EINVAL, "signer principal is empty");
	if (!ns || !*ns)
		return hlx_err(HLX_EINVAL, "signature namespace is empty");
	for (i = 0; i < a->n; i++) {
		const struct entry *e = &a->e[i];

		if (hlx_allowed_match_list(principal, e->principals) != 1)
			continue;
		if (e->ca) {
			ca++;
			continue;
		}
		if (!e->supported) {
			unsup++;
			continue;
		}
		if (!hlx_pubkey_eq(&e->key, key))
			continue;
		if (e->namespaces &&
		    hlx_allowed_match_list(ns, e->namespaces) != 1) {
			nsref = e;
			continue;
		}
		if (e->valid_after && now < e->valid_after) {
			early = e;
			continue;
		}
		/* inclusive, as OpenSSH: valid-before is the last second */
		if (e->valid_before && now > e->valid_before) {
			late = e;
			continue;
		}
		return HLX_OK;
	}
	hlx_sshkey_fingerprint(key, fpr);
	hlx_quote(q, principal, strlen(principal));
	if (late)
		return hlx_err(HLX_EEXPIRED, "key %s for '%s' has expired: "
			       "time %s is after valid-before %s (allowed "
			       "signers line %u)", fpr, q, iso(t1, now),
			       iso(t2, late->valid_before), late->line);
	if (early)
		return hlx_err(HLX_EEXPIRED, "key %s for '%s' is not yet "
			       "valid: time %s is before valid-after %s "
			       "(allowed signers line %u)", fpr, q,
			       iso(t1, now), iso(t2, early->valid_after),
			       early->line);
	if (nsref)
		return hlx_err(HLX_EUNTRUSTED, "key %s is not allowed to sign "
			       "namespace '%s' for '%s' (allowed signers line "
			       "%u)", fpr, hlx_quote(q2, ns, strlen(ns)), q,
			       nsref->line);
	return hlx_err(HLX_EUNTRUSTED, "key %s is not an allowed signer for "
		       "'%s'%s", fpr, q,
		       ca ? " (cert-authority lines are ignored: hlx does not "
			    "support certificates)" :
		       unsup ? " (lines with key types other than ssh-ed25519 "
			       "are ignored)" : "");
}

/* ---- formatting --------------------------------------------------------- */

int hlx_allowed_format_line(const char *principal, const struct hlx_pubkey *k,
			    int64_t valid_after, int64_t valid_before,
			    struct hlx_buf *out)
{
	char q[HLX_QUOTE_SIZE], qc[HLX_QUOTE_SIZE];
	char ta[HLX_ALLOWED_TIME_LEN], tb[HLX_ALLOWED_TIME_LEN];
	size_t i, pl = principal ? strlen(principal) : 0, mark = out->len;
	int rc;

	if (!pl)
		return hlx_err(HLX_EINVAL, "allowed signer: empty principal");
	if (pl > HLX_ALLOWED_PATTERN_MAX)
		return hlx_err(HLX_EINVAL, "allowed signer principal of %zu "
			       "bytes: longer than %d", pl,
			       HLX_ALLOWED_PATTERN_MAX);
	for (i = 0; i < pl; i++) {
		unsigned char c = (unsigned char)principal[i];

		if (c <= ' ' || c == 0x7f || strchr("\",*?!", c) ||
		    (i == 0 && c == '#'))
			return hlx_err(HLX_EINVAL, "allowed signer principal "
				       "'%s': character '%s' is not allowed",
				       hlx_quote(q, principal, pl),
				       hlx_quote(qc, principal + i, 1));
	}
	if (valid_after != -1 && (rc = hlx_allowed_format_time(valid_after,
							       ta)))
		return rc;
	if (valid_before != -1 && (rc = hlx_allowed_format_time(valid_before,
								tb)))
		return rc;
	if (valid_after != -1 && valid_before != -1 &&
	    valid_before < valid_after)
		return hlx_err(HLX_EINVAL, "allowed signer '%s': valid-before "
			       "%s is before valid-after %s",
			       hlx_quote(q, principal, pl), tb, ta);
	rc = hlx_buf_puts(out, principal);
	if (!rc && valid_after != -1)
		rc = hlx_buf_printf(out, " valid-after=\"%s\"", ta);
	if (!rc && valid_before != -1)
		rc = hlx_buf_printf(out, "%svalid-before=\"%s\"",
				    valid_after != -1 ? "," : " ", tb);
	if (!rc)
		rc = hlx_buf_putc(out, ' ');
	if (!rc)
		rc = hlx_sshkey_format(k, NULL, out);
	if (!rc)
		rc = hlx_buf_putc(out, '\n');
	if (rc && out->data) {
		out->len = mark;
		out->data[mark] = '\0';
	}
	return rc;
}
