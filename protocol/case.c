/* SPDX-License-Identifier: MIT */
/*
 * Case lines, ownership actions, the state machine and who may act
 * (spec/cases.md, sections 1, 3, 6 and 9).  The owner function and the
 * log growth check are in caseown.c.
 */
#include "case.h"
#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DETAIL_MAX 512

static const char *const state_names[HLX_CASE_NSTATES] = {
	[HLX_CASE_REPORTED] = "reported",
	[HLX_CASE_ASSESSED] = "assessed",
	[HLX_CASE_LE_HOLD] = "le-hold",
	[HLX_CASE_LE_CLEARED] = "le-cleared",
	[HLX_CASE_NOTICE_SENT] = "notice-sent",
	[HLX_CASE_RE_NOTIFIED] = "re-notified",
	[HLX_CASE_ESCALATED] = "escalated",
	[HLX_CASE_REFUSED] = "refused-by-host",
	[HLX_CASE_REMOVED] = "removed",
	[HLX_CASE_REAPPEARED] = "reappeared",
	[HLX_CASE_WITHDRAWN] = "withdrawn",
};

#define B(s) (1u << (s))
/* Section 6.1: the states each state may go to. */
static const unsigned transitions[HLX_CASE_NSTATES] = {
	[HLX_CASE_REPORTED] = B(HLX_CASE_ASSESSED) | B(HLX_CASE_REMOVED) |
			      B(HLX_CASE_WITHDRAWN),
	[HLX_CASE_ASSESSED] = B(HLX_CASE_LE_HOLD) | B(HLX_CASE_NOTICE_SENT) |
			      B(HLX_CASE_REMOVED) | B(HLX_CASE_WITHDRAWN),
	[HLX_CASE_LE_HOLD] = B(HLX_CASE_LE_CLEARED) | B(HLX_CASE_REMOVED) |
			     B(HLX_CASE_WITHDRAWN),
	[HLX_CASE_LE_CLEARED] = B(HLX_CASE_NOTICE_SENT) |
				B(HLX_CASE_REMOVED) | B(HLX_CASE_WITHDRAWN),
	[HLX_CASE_NOTICE_SENT] = B(HLX_CASE_RE_NOTIFIED) |
				 B(HLX_CASE_ESCALATED) | B(HLX_CASE_REFUSED) |
				 B(HLX_CASE_REMOVED) | B(HLX_CASE_WITHDRAWN),
	[HLX_CASE_RE_NOTIFIED] = B(HLX_CASE_RE_NOTIFIED) |
				 B(HLX_CASE_ESCALATED) | B(HLX_CASE_REFUSED) |
				 B(HLX_CASE_REMOVED) | B(HLX_CASE_WITHDRAWN),
	[HLX_CASE_ESCALATED] = B(HLX_CASE_RE_NOTIFIED) | B(HLX_CASE_REFUSED) |
			       B(HLX_CASE_REMOVED) | B(HLX_CASE_WITHDRAWN),
	[HLX_CASE_REFUSED] = B(HLX_CASE_RE_NOTIFIED) | B(HLX_CASE_ESCALATED) |
			     B(HLX_CASE_REMOVED) | B(HLX_CASE_WITHDRAWN),
	[HLX_CASE_REMOVED] = B(HLX_CASE_REAPPEARED),
	[HLX_CASE_REAPPEARED] = B(HLX_CASE_LE_HOLD) |
				B(HLX_CASE_NOTICE_SENT) |
				B(HLX_CASE_REMOVED) | B(HLX_CASE_WITHDRAWN),
	[HLX_CASE_WITHDRAWN] = B(HLX_CASE_ASSESSED),
};
#undef B

const char *hlx_case_state_name(enum hlx_case_state s)
{
	return (unsigned)s >= 1 && (unsigned)s < HLX_CASE_NSTATES
		       ? state_names[s]
		       : NULL;
}

int hlx_case_state_parse(const char *s, size_t n, enum hlx_case_state *st)
{
	char q[HLX_QUOTE_SIZE];
	unsigned i;

	for (i = 1; i < HLX_CASE_NSTATES; i++) {
		if (strlen(state_names[i]) == n &&
		    memcmp(state_names[i], s, n) == 0) {
			*st = (enum hlx_case_state)i;
			return HLX_OK;
		}
	}
	return hlx_err(HLX_EINVAL,
		       "state '%s': unknown (reported, assessed, le-hold, le-cleared, notice-sent, re-notified, escalated, refused-by-host, removed, reappeared or withdrawn)",
		       hlx_quote(q, s, n));
}

int hlx_case_state_final(enum hlx_case_state s)
{
	return s == HLX_CASE_REMOVED || s == HLX_CASE_WITHDRAWN;
}

int hlx_case_transition_check(enum hlx_case_state from,
			      enum hlx_case_state to)
{
	const char *f = hlx_case_state_name(from);
	const char *t = hlx_case_state_name(to);

	if (!f || !t)
		return hlx_err(HLX_EINVAL, "state %d or %d: not a state",
			       (int)from, (int)to);
	if (!(transitions[from] & (1u << to)))
		return hlx_err(HLX_ESTATE, "cannot go from '%s' to '%s'", f, t);
	return HLX_OK;
}

int hlx_case_org_check(const char *s, size_t n)
{
	char q[HLX_QUOTE_SIZE];
	size_t i;

	if (n == 0 || n > HLX_CASE_ORG_MAX)
		goto bad;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		goto bad;
	}
	return HLX_OK;
bad:
	return hlx_err(HLX_EINVAL,
		       "organisation '%s': not an organisation name ([a-z0-9][a-z0-9._-], at most 64)",
		       hlx_quote(q, s, n));
}

int hlx_case_host_check(const char *s, size_t n)
{
	char q[HLX_QUOTE_SIZE];
	size_t i, label = 0;
	int digits_dots = 1;

	if (n == 0 || n > HLX_CASE_HOST_MAX)
		goto bad;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				goto bad;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			goto bad;
		if (!(c >= '0' && c <= '9'))
			digits_dots = 0;
		if (++label > 63)
			goto bad;
	}
	if (label == 0 || digits_dots)
		goto bad;
	return HLX_OK;
bad:
	return hlx_err(HLX_EINVAL,
		       "host '%s': not a host name (lowercase labels of a-z 0-9 - _, 1 to 63 characters, dot-separated, at most 253, not an IP address)",
		       hlx_quote(q, s, n));
}

void hlx_case_init(struct hlx_case_line *c)
{
	memset(c, 0, sizeof(*c));
	c->reported = -1;
	c->changed = -1;
}

static int bad_line(const char *field, const char *what)
{
	return hlx_err(HLX_EINVAL, "case line: %s: %s", field, what);
}

static int acts_validate(const struct hlx_case_line *c)
{
	unsigned i;

	if (c->nacts > HLX_CASE_ACTS_MAX)
		return bad_line("own", "more than 32 ownership actions");
	for (i = 0; i < c->nacts; i++) {
		const struct hlx_case_act *a = &c->acts[i];
		size_t on = strnlen(a->org, sizeof(a->org));

		if (!hlx_time_valid(a->a) || !hlx_time_valid(a->b))
			return bad_line("own", "time out of range");
		switch (a->kind) {
		case HLX_CASE_CLAIM:
			if (a->b < a->a)
				return bad_line("own",
						"a claim period ends before it starts");
			if (on)
				return bad_line("own", "a claim names no organisation");
			break;
		case HLX_CASE_RELEASE:
			if (a->b != a->a || on)
				return bad_line("own", "malformed release");
			break;
		case HLX_CASE_HANDOFF:
			if (a->b != a->a)
				return bad_line("own", "malformed handoff");
			if (hlx_case_org_check(a->org, on))
				return hlx_err_wrap(HLX_EINVAL,
						    "case line: own");
			break;
		default:
			return bad_line("own", "unknown action");
		}
		if (i > 0 && a->a < c->acts[i - 1].b)
			return bad_line("own",
					"an action is dated before the previous one");
	}
	return HLX_OK;
}

static int report_validate(const struct hlx_case_line *c)
{
	size_t n;

	if (c->item.type && hlx_hash_validate(&c->item))
		return hlx_err_wrap(HLX_EINVAL, "case line: item");
	n = strnlen(c->country, sizeof(c->country));
	if (n && hlx_status_country_check(c->country, n))
		return hlx_err_wrap(HLX_EINVAL, "case line: country");
	n = strnlen(c->host, sizeof(c->host));
	if (n == sizeof(c->host) || (n && hlx_case_host_check(c->host, n)))
		return hlx_err_wrap(HLX_EINVAL, "case line: host");
	n = strnlen(c->category, sizeof(c->category));
	if (n == sizeof(c->category) ||
	    (n && hlx_entry_token_check(c->category, n, "category")))
		return hlx_err_wrap(HLX_EINVAL, "case line: category");
	if (c->reported == -1) {
		if (c->item.type || c->country[0] || c->host[0] ||
		    c->category[0])
			return bad_line("reported",
					"'-' (no report) but the report fields are set");
	} else if (!hlx_time_valid(c->reported)) {
		return bad_line("reported", "time out of range");
	}
	return HLX_OK;
}

int hlx_case_validate(const struct hlx_case_line *c)
{
	int rc;

	if (c->id.type != HLX_HASH_URL_SHA256 || hlx_hash_validate(&c->id))
		return bad_line("case", "not a url-sha256 hash");
	rc = report_validate(c);
	if (!rc)
		rc = acts_validate(c);
	if (rc)
		return rc;
	if (c->state != HLX_CASE_NONE && !hlx_case_state_name(c->state))
		return bad_line("state", "not a state");
	if ((c->state == HLX_CASE_NONE) != (c->changed == -1))
		return bad_line("changed",
				"'state' and 'changed' must both be set or both '-'");
	if (c->changed != -1 && !hlx_time_valid(c->changed))
		return bad_line("changed", "time out of range");
	if (c->reported != -1 && c->state == HLX_CASE_NONE)
		return bad_line("state", "a line with a report has a state");
	if (c->state == HLX_CASE_REPORTED &&
	    (c->reported == -1 || c->changed != c->reported))
		return bad_line("state",
				"'reported' only on a line with a report and changed == reported");
	if (c->reported != -1 && c->changed != -1 &&
	    c->changed < c->reported)
		return bad_line("changed", "before 'reported'");
	if (c->notices > HLX_CASE_NOTICES_MAX)
		return bad_line("notices", "more than 9999");
	if ((c->state == HLX_CASE_NONE || c->state == HLX_CASE_REPORTED) &&
	    c->notices)
		return bad_line("notices",
				"not 0 while no notice state was set");
	if ((c->state == HLX_CASE_NOTICE_SENT ||
	     c->state == HLX_CASE_RE_NOTIFIED) && !c->notices)
		return bad_line("notices", "0 in a notice state");
	if (c->reported == -1 && !c->nacts && c->state == HLX_CASE_NONE)
		return bad_line("case",
				"the line says nothing (no report, action or state)");
	return HLX_OK;
}

/* ---- encoding ---- */

static int put_time(struct hlx_buf *b, int64_t t)
{
	char text[HLX_TIME_TEXT];

	if (t == -1)
		return hlx_buf_putc(b, '-');
	hlx_time_format(t, text);
	return hlx_buf_put(b, text, HLX_TIME_TEXT - 1);
}

static int put_opt(struct hlx_buf *b, const char *s)
{
	return hlx_buf_puts(b, s[0] ? s : "-");
}

static int put_act(struct hlx_buf *b, const struct hlx_case_act *a)
{
	int rc;

	switch (a->kind) {
	case HLX_CASE_CLAIM:
		rc = hlx_buf_puts(b, "claim/");
		if (!rc)
			rc = put_time(b, a->a);
		if (!rc)
			rc = hlx_buf_putc(b, '/');
		if (!rc)
			rc = put_time(b, a->b);
		return rc;
	case HLX_CASE_RELEASE:
		rc = hlx_buf_puts(b, "release/");
		return rc ? rc : put_time(b, a->a);
	default:
		rc = hlx_buf_puts(b, "handoff/");
		if (!rc)
			rc = put_time(b, a->a);
		if (!rc)
			rc = hlx_buf_putc(b, '/');
		return rc ? rc : hlx_buf_puts(b, a->org);
	}
}

static int put_acts(struct hlx_buf *b, const struct hlx_case_line *c)
{
	unsigned i;
	int rc = HLX_OK;

	if (!c->nacts)
		return hlx_buf_putc(b, '-');
	for (i = 0; !rc && i < c->nacts; i++) {
		if (i)
			rc = hlx_buf_putc(b, ',');
		if (!rc)
			rc = put_act(b, &c->acts[i]);
	}
	return rc;
}

static int encode_fields(const struct hlx_case_line *c, struct hlx_buf *b)
{
	char h[HLX_HASH_TEXT_MAX];
	int rc;

	hlx_hash_format(&c->id, h, sizeof(h));
	rc = hlx_buf_printf(b, "%s\t", h);
	if (!rc && c->item.type) {
		hlx_hash_format(&c->item, h, sizeof(h));
		rc = hlx_buf_puts(b, h);
	} else if (!rc) {
		rc = hlx_buf_putc(b, '-');
	}
	if (!rc)
		rc = hlx_buf_putc(b, '\t');
	if (!rc)
		rc = put_opt(b, c->country);
	if (!rc)
		rc = hlx_buf_putc(b, '\t');
	if (!rc)
		rc = put_opt(b, c->host);
	if (!rc)
		rc = hlx_buf_putc(b, '\t');
	if (!rc)
		rc = put_opt(b, c->category);
	if (!rc)
		rc = hlx_buf_putc(b, '\t');
	if (!rc)
		rc = put_time(b, c->reported);
	if (!rc)
		rc = hlx_buf_putc(b, '\t');
	if (!rc)
		rc = put_acts(b, c);
	if (!rc)
		rc = hlx_buf_printf(b, "\t%s\t",
				    c->state ? hlx_case_state_name(c->state)
					     : "-");
	if (!rc)
		rc = put_time(b, c->changed);
	if (!rc)
		rc = hlx_buf_printf(b, "\t%u\n", c->notices);
	return rc;
}

int hlx_case_encode(const struct hlx_case_line *c, struct hlx_buf *out)
{
	struct hlx_buf b = HLX_BUF_INIT;
	int rc;

	rc = hlx_case_validate(c);
	if (!rc)
		rc = encode_fields(c, &b);
	if (!rc && b.len > HLX_CASE_LINE_MAX)
		rc = hlx_err(HLX_ETOOBIG,
			     "case line: longer than %d bytes (%zu)",
			     HLX_CASE_LINE_MAX, b.len);
	if (!rc)
		rc = hlx_buf_put(out, b.data, b.len);
	hlx_buf_free(&b);
	return rc;
}

void hlx_case_id_text(const struct hlx_case_line *c,
		      char out[HLX_HASH_TEXT_MAX])
{
	if (hlx_hash_format(&c->id, out, HLX_HASH_TEXT_MAX))
		snprintf(out, HLX_HASH_TEXT_MAX, "-");
}

int hlx_case_id_from_url(const char *url, size_t n, struct hlx_hash *id)
{
	return hlx_url_hash(url, n, id);
}

int hlx_case_id_parse(const char *s, size_t n, struct hlx_hash *id)
{
	char q[HLX_QUOTE_SIZE];
	struct hlx_hash h;
	int rc;

	rc = hlx_hash_parse(s, n, &h);
	if (rc)
		return hlx_err_wrap(rc, "case");
	if (h.type != HLX_HASH_URL_SHA256)
		return hlx_err(HLX_EINVAL, "case '%s': not a url-sha256 hash",
			       hlx_quote(q, s, n));
	*id = h;
	return HLX_OK;
}

/* ---- decoding ---- */

#define NFIELDS 10
static const char *const field_names[NFIELDS] = {
	"case", "item", "country", "host", "category",
	"reported", "own", "state", "changed", "notices",
};

static int absent(const char *f, size_t n)
{
	return n == 1 && f[0] == '-';
}

/* One field of a line that is its own error: "field: detail". */
static int field_err(int k, const char *what, const char *f, size_t n)
{
	char q[HLX_QUOTE_SIZE];

	return hlx_err(HLX_EINVAL, "%s '%s': %s", field_names[k],
		       hlx_quote(q, f, n), what);
}

static int parse_time_field(const char *f, size_t n, int64_t *t)
{
	if (absent(f, n)) {
		*t = -1;
		return HLX_OK;
	}
	return hlx_time_parse(f, n, t);
}

static int parse_act(const char *p, size_t n, struct hlx_case_act *a)
{
	char q[HLX_QUOTE_SIZE];
	const char *t;
	size_t rest;

	memset(a, 0, sizeof(*a));
	if (n > 6 && !memcmp(p, "claim/", 6)) {
		a->kind = HLX_CASE_CLAIM;
		t = p + 6;
		rest = n - 6;
		if (rest != 2 * (HLX_TIME_TEXT - 1) + 1 ||
		    t[HLX_TIME_TEXT - 1] != '/' ||
		    hlx_time_parse(t, HLX_TIME_TEXT - 1, &a->a) ||
		    hlx_time_parse(t + HLX_TIME_TEXT, HLX_TIME_TEXT - 1,
				   &a->b))
			goto bad;
		if (a->b < a->a)
			return hlx_err(HLX_EINVAL,
				       "action '%s': the claim period ends before it starts",
				       hlx_quote(q, p, n));
		return HLX_OK;
	}
	if (n > 8 && !memcmp(p, "release/", 8)) {
		a->kind = HLX_CASE_RELEASE;
		if (hlx_time_parse(p + 8, n - 8, &a->a))
			goto bad;
		a->b = a->a;
		return HLX_OK;
	}
	if (n > 8 && !memcmp(p, "handoff/", 8)) {
		a->kind = HLX_CASE_HANDOFF;
		t = p + 8;
		rest = n - 8;
		if (rest < HLX_TIME_TEXT + 1 || t[HLX_TIME_TEXT - 1] != '/' ||
		    hlx_time_parse(t, HLX_TIME_TEXT - 1, &a->a) ||
		    hlx_case_org_check(t + HLX_TIME_TEXT,
				       rest - HLX_TIME_TEXT))
			goto bad;
		memcpy(a->org, t + HLX_TIME_TEXT, rest - HLX_TIME_TEXT);
		a->b = a->a;
		return HLX_OK;
	}
bad:
	return hlx_err(HLX_EINVAL,
		       "action '%s': not claim/TIME/TIME, release/TIME or handoff/TIME/ORG",
		       hlx_quote(q, p, n));
}

static int parse_own(const char *f, size_t n, struct hlx_case_line *c)
{
	const char *p = f, *end = f + n, *comma;
	int rc;

	c->nacts = 0;
	if (absent(f, n))
		return HLX_OK;
	for (;;) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (c->nacts == HLX_CASE_ACTS_MAX)
			return hlx_err(HLX_EINVAL,
				       "more than %d ownership actions",
				       HLX_CASE_ACTS_MAX);
		rc = parse_act(p, (size_t)((comma ? comma : end) - p),
			       &c->acts[c->nacts]);
		if (rc)
			return rc;
		if (c->nacts &&
		    c->acts[c->nacts].a < c->acts[c->nacts - 1].b)
			return hlx_err(HLX_EINVAL,
				       "action %u is dated before the one before it",
				       c->nacts + 1);
		c->nacts++;
		if (!comma)
			return HLX_OK;
		p = comma + 1;
	}
}

static int parse_notices(const char *f, size_t n, unsigned *v)
{
	size_t i;
	unsigned x = 0;

	if (n == 0 || n > 4 || (n > 1 && f[0] == '0'))
		return field_err(9,
				 "not a decimal 0..9999 without leading zeros",
				 f, n);
	for (i = 0; i < n; i++) {
		if (f[i] < '0' || f[i] > '9')
			return field_err(9,
					 "not a decimal 0..9999 without leading zeros",
					 f, n);
		x = x * 10 + (unsigned)(f[i] - '0');
	}
	*v = x;
	return HLX_OK;
}

static int parse_field(int k, const char *f, size_t n,
		       struct hlx_case_line *c)
{
	switch (k) {
	case 0:
		return hlx_hash_parse_canonical(f, n, &c->id) ? HLX_EINVAL
			: c->id.type == HLX_HASH_URL_SHA256
				? HLX_OK
				: field_err(0, "not url-sha256", f, n);
	case 1:
		if (absent(f, n))
			return HLX_OK;
		return hlx_hash_parse_canonical(f, n, &c->item);
	case 2:
		if (absent(f, n))
			return HLX_OK;
		if (hlx_status_country_check(f, n))
			return HLX_EINVAL;
		memcpy(c->country, f, 2);
		return HLX_OK;
	case 3:
		if (absent(f, n))
			return HLX_OK;
		if (hlx_case_host_check(f, n))
			return HLX_EINVAL;
		memcpy(c->host, f, n);
		return HLX_OK;
	case 4:
		if (absent(f, n))
			return HLX_OK;
		if (hlx_entry_token_check(f, n, "category"))
			return HLX_EINVAL;
		memcpy(c->category, f, n);
		return HLX_OK;
	case 5:
		return parse_time_field(f, n, &c->reported);
	case 6:
		return parse_own(f, n, c);
	case 7:
		if (absent(f, n))
			return HLX_OK;
		return hlx_case_state_parse(f, n, &c->state);
	case 8:
		return parse_time_field(f, n, &c->changed);
	default:
		return parse_notices(f, n, &c->notices);
	}
}

int hlx_case_decode(const char *line, size_t n, struct hlx_case_line *c)
{
	char q[HLX_QUOTE_SIZE], ctx[HLX_QUOTE_SIZE + 32];
	const char *p, *end, *tab;
	int k, rc;

	hlx_case_init(c);
	if (n == 0)
		return hlx_err(HLX_EINVAL, "case line: empty");
	snprintf(ctx, sizeof(ctx), "case line '%s'", hlx_quote(q, line, n));
	if (n > HLX_CASE_LINE_MAX)
		return hlx_err(HLX_ETOOBIG, "%s: longer than %d bytes (%zu)",
			       ctx, HLX_CASE_LINE_MAX, n);
	if (line[n - 1] != '\n')
		return hlx_err(HLX_EINVAL, "%s: missing the final newline",
			       ctx);
	if (memchr(line, '\n', n - 1))
		return hlx_err(HLX_EINVAL, "%s: newline inside the line", ctx);
	p = line;
	end = line + n - 1;
	for (k = 0; k < NFIELDS; k++) {
		tab = memchr(p, '\t', (size_t)(end - p));
		if (k == NFIELDS - 1 && tab)
			return hlx_err(HLX_EINVAL,
				       "%s: more than 10 tab-separated fields",
				       ctx);
		if (k < NFIELDS - 1 && !tab)
			return hlx_err(HLX_EINVAL,
				       "%s: %d tab-separated fields, expected 10",
				       ctx, k + 1);
		if (!tab)
			tab = end;
		rc = parse_field(k, p, (size_t)(tab - p), c);
		if (rc)
			return hlx_err_wrap(rc, "%s: field '%s'", ctx,
					    field_names[k]);
		p = tab + 1;
	}
	rc = hlx_case_validate(c);
	if (rc)
		return hlx_err_wrap(rc, "%s", ctx);
	return HLX_OK;
}

/* ---- JSON (section 3.3) ---- */

static int set_str(json_t *o, const char *key, const char *s)
{
	if (json_object_set_new(o, key, json_string(s)))
		return hlx_err(HLX_ENOMEM, "JSON: cannot set '%s'", key);
	return HLX_OK;
}

static int set_time(json_t *o, const char *key, int64_t t)
{
	char text[HLX_TIME_TEXT];

	if (t == -1)
		return HLX_OK;
	hlx_time_format(t, text);
	return set_str(o, key, text);
}

static int set_own(json_t *o, const struct hlx_case_line *c)
{
	struct hlx_buf b = HLX_BUF_INIT;
	json_t *arr;
	unsigned i;
	int rc = HLX_OK;

	if (!c->nacts)
		return HLX_OK;
	arr = json_array();
	if (!arr)
		return hlx_err(HLX_ENOMEM, "JSON: cannot allocate");
	for (i = 0; !rc && i < c->nacts; i++) {
		hlx_buf_reset(&b);
		rc = put_act(&b, &c->acts[i]);
		if (!rc && json_array_append_new(
				   arr, json_string((char *)b.data)))
			rc = hlx_err(HLX_ENOMEM, "JSON: cannot set 'own'");
	}
	hlx_buf_free(&b);
	if (!rc && json_object_set_new(o, "own", arr))
		return hlx_err(HLX_ENOMEM, "JSON: cannot set 'own'");
	if (rc)
		json_decref(arr);
	return rc;
}

int hlx_case_to_json(const struct hlx_case_line *c, struct hlx_buf *out)
{
	char h[HLX_HASH_TEXT_MAX], *text = NULL;
	json_t *o;
	int rc;

	rc = hlx_case_validate(c);
	if (rc)
		return rc;
	o = json_object();
	if (!o)
		return hlx_err(HLX_ENOMEM, "JSON: cannot allocate");
	hlx_hash_format(&c->id, h, sizeof(h));
	rc = set_str(o, "case", h);
	if (!rc && c->item.type) {
		hlx_hash_format(&c->item, h, sizeof(h));
		rc = set_str(o, "item", h);
	}
	if (!rc && c->country[0])
		rc = set_str(o, "country", c->country);
	if (!rc && c->host[0])
		rc = set_str(o, "host", c->host);
	if (!rc && c->category[0])
		rc = set_str(o, "category", c->category);
	if (!rc)
		rc = set_time(o, "reported", c->reported);
	if (!rc)
		rc = set_own(o, c);
	if (!rc && c->state)
		rc = set_str(o, "state", hlx_case_state_name(c->state));
	if (!rc)
		rc = set_time(o, "changed", c->changed);
	if (!rc && json_object_set_new(o, "notices",
				       json_integer(c->notices)))
		rc = hlx_err(HLX_ENOMEM, "JSON: cannot set 'notices'");
	if (!rc) {
		text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
					     JSON_ENSURE_ASCII);
		rc = text ? hlx_buf_puts(out, text)
			  : hlx_err(HLX_ENOMEM, "JSON: cannot serialise");
	}
	free(text);
	json_decref(o);
	return rc;
}

/* ---- writing one's own line ---- */

static int last_time(const struct hlx_case_line *c, int64_t now)
{
	if (c->nacts && now < c->acts[c->nacts - 1].b) {
		char a[HLX_TIME_TEXT], b[HLX_TIME_TEXT];

		hlx_time_format(now, a);
		hlx_time_format(c->acts[c->nacts - 1].b, b);
		return hlx_err(HLX_ESTATE,
			       "cannot record an action at %s: the last one is dated %s",
			       a, b);
	}
	return HLX_OK;
}

static int append(struct hlx_case_line *c, enum hlx_case_act_kind k,
		  int64_t a, int64_t b, const char *org)
{
	struct hlx_case_act *x;
	int rc;

	if (!hlx_time_valid(a) || !hlx_time_valid(b))
		return hlx_err(HLX_EINVAL, "case action: time out of range");
	rc = last_time(c, a);
	if (rc)
		return rc;
	if (c->nacts >= HLX_CASE_ACTS_MAX)
		return hlx_err(HLX_ESTATE,
			       "cannot record a 33rd ownership action: a line holds at most %d",
			       HLX_CASE_ACTS_MAX);
	x = &c->acts[c->nacts];
	memset(x, 0, sizeof(*x));
	x->kind = k;
	x->a = a;
	x->b = b;
	if (org)
		snprintf(x->org, sizeof(x->org), "%s", org);
	c->nacts++;
	return HLX_OK;
}

/* Keep the change only if the line still encodes (4096 bytes). */
static int still_fits(struct hlx_case_line *c, const struct hlx_case_act *old,
		      unsigned oldn)
{
	struct hlx_buf b = HLX_BUF_INIT;
	int rc = hlx_case_encode(c, &b);

	hlx_buf_free(&b);
	if (rc) {
		c->nacts = oldn;
		if (old)
			c->acts[oldn - 1] = *old;
		return rc == HLX_ETOOBIG ? hlx_err_wrap(HLX_ESTATE,
							"cannot record")
					 : rc;
	}
	return HLX_OK;
}

int hlx_case_claim(struct hlx_case_line *c, int64_t now, int64_t lease,
		   int *renewed)
{
	struct hlx_case_act *l, old;
	unsigned n = c->nacts;
	int rc;

	l = n ? &c->acts[n - 1] : NULL;
	if (l && l->kind == HLX_CASE_CLAIM && now >= l->b &&
	    now < l->b + lease) {
		old = *l;
		l->b = now;
		*renewed = 1;
		return still_fits(c, &old, n);
	}
	rc = append(c, HLX_CASE_CLAIM, now, now, NULL);
	if (rc)
		return rc;
	*renewed = 0;
	return still_fits(c, NULL, n);
}

int hlx_case_release(struct hlx_case_line *c, int64_t now)
{
	unsigned n = c->nacts;
	int rc = append(c, HLX_CASE_RELEASE, now, now, NULL);

	return rc ? rc : still_fits(c, NULL, n);
}

int hlx_case_handoff(struct hlx_case_line *c, int64_t now, const char *org)
{
	unsigned n = c->nacts;
	int rc = hlx_case_org_check(org, strlen(org));

	if (!rc)
		rc = append(c, HLX_CASE_HANDOFF, now, now, org);
	return rc ? rc : still_fits(c, NULL, n);
}

int hlx_case_set_state(struct hlx_case_line *c, enum hlx_case_state st,
		       int64_t now)
{
	int notice = st == HLX_CASE_NOTICE_SENT || st == HLX_CASE_RE_NOTIFIED;

	if (!hlx_case_state_name(st) || st == HLX_CASE_REPORTED)
		return hlx_err(HLX_EINVAL, "state: cannot be set");
	if (!hlx_time_valid(now) || (c->changed != -1 && now < c->changed) ||
	    (c->reported != -1 && now < c->reported))
		return hlx_err(HLX_ESTATE,
			       "cannot set a state dated before the line's last one");
	if (notice && c->notices >= HLX_CASE_NOTICES_MAX)
		return hlx_err(HLX_ESTATE, "more than %d notices",
			       HLX_CASE_NOTICES_MAX);
	c->state = st;
	c->changed = now;
	if (notice)
		c->notices++;
	return HLX_OK;
}

/* ---- who may act ---- */

int hlx_case_may_set(const struct hlx_case_owner *o, const char *org,
		     const char *le_by, enum hlx_case_state to)
{
	char since[HLX_TIME_TEXT];

	if (!o->exists)
		return hlx_err(HLX_ESTATE, "no such case");
	if ((to == HLX_CASE_LE_HOLD || to == HLX_CASE_LE_CLEARED) && le_by &&
	    !strcmp(org, le_by))
		return HLX_OK;
	hlx_time_format(o->since, since);
	if (strcmp(org, o->org))
		return hlx_err(HLX_ESTATE, "handled by %s since %s (%s)",
			       o->org, since,
			       hlx_case_state_name(o->state));
	if (!o->explicit_lease)
		return hlx_err(HLX_ESTATE,
			       "not claimed: claim the case before setting its state");
	return HLX_OK;
}

int hlx_case_may_claim(const struct hlx_case_owner *o, const char *org,
		       const struct hlx_case_route *r, int64_t now)
{
	char t[HLX_TIME_TEXT];
	int64_t settle = r && r->routed ? r->settle : 0;

	if (!o->exists)
		return hlx_err(HLX_ESTATE, "no such case");
	if (strcmp(org, o->org)) {
		hlx_time_format(o->since, t);
		return hlx_err(HLX_ESTATE, "handled by %s since %s (%s)",
			       o->org, t, hlx_case_state_name(o->state));
	}
	if (now < o->t0 + settle) {
		hlx_time_format(o->t0 + settle, t);
		return hlx_err(HLX_ESTATE,
			       "before %s: reports may still arrive", t);
	}
	return HLX_OK;
}
