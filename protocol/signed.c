/* SPDX-License-Identifier: MIT */
#include "protocol/signed.h"
#include "protocol/err.h"

#include <stdlib.h>
#include <string.h>

int hlx_signed_file(const char *what, const char *body, size_t bodylen,
		    const char *armor, size_t armorlen, struct hlx_buf *out)
{
	json_t *o = json_object();
	char *s = NULL;
	int rc;

	if (!o || json_object_set_new(o, "body", json_stringn(body, bodylen)) ||
	    json_object_set_new(o, "signature", json_stringn(armor, armorlen)) ||
	    !(s = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENSURE_ASCII))) {
		json_decref(o);
		return hlx_err(HLX_ENOMEM, "cannot encode a %s file", what);
	}
	json_decref(o);
	rc = hlx_buf_puts(out, s);
	if (!rc)
		rc = hlx_buf_putc(out, '\n');
	free(s);
	return rc;
}

char *hlx_signed_canonical(const json_t *o)
{
	return json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
}

/* "what: " before a member's error, or nothing when what is NULL. */
#define WHAT(what) (what) ? (what) : "", (what) ? ": " : ""

int hlx_signed_str(const char *what, json_t *o, const char *k, const char **s,
		   size_t *n)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_string(v))
		return hlx_err(HLX_EINVAL, "%s%s'%s' missing or not a string",
			       WHAT(what), k);
	*s = json_string_value(v);
	*n = json_string_length(v);
	if (memchr(*s, '\0', *n))
		return hlx_err(HLX_EINVAL, "%s%s'%s' holds a NUL", WHAT(what), k);
	return HLX_OK;
}

int hlx_signed_count(const char *what, json_t *o, const char *k, uint64_t *u)
{
	json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return hlx_err(HLX_EINVAL, "%s%s'%s' missing or not a count",
			       WHAT(what), k);
	*u = (uint64_t)json_integer_value(v);
	return HLX_OK;
}

int hlx_signed_hex(const char *what, const char *k, const char *s, size_t n,
		   size_t want)
{
	if (n != want)
		return hlx_err(HLX_EINVAL, "%s%s'%s' must be %zu hex digits, got %zu",
			       WHAT(what), k, want, n);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return hlx_err(HLX_EINVAL, "%s%s'%s' is not lowercase hex",
				       WHAT(what), k);
	return HLX_OK;
}

void hlx_signed_free(struct hlx_signed *s)
{
	json_decref(s->body);
	json_decref(s->file);
	memset(s, 0, sizeof(*s));
}

int hlx_signed_parse(const char *what, const char *text, size_t n, size_t max,
		     struct hlx_signed *s)
{
	json_error_t jerr;
	char *canon = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	if (n > max)
		return hlx_err(HLX_ETOOBIG, "%s of %zu bytes (at most %zu)", what, n,
			       max);
	s->file = json_loadb(text, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!s->file || !json_is_object(s->file) || json_object_size(s->file) != 2) {
		rc = hlx_err(HLX_EINVAL,
			     "%s: not a JSON object with 'body' and 'signature'%s%.80s",
			     what, s->file ? "" : ": ", s->file ? "" : jerr.text);
		goto fail;
	}
	if ((rc = hlx_signed_str(what, s->file, "body", &s->b, &s->bl)) ||
	    (rc = hlx_signed_str(what, s->file, "signature", &s->a, &s->al)))
		goto fail;
	s->body = json_loadb(s->b, s->bl, JSON_REJECT_DUPLICATES, &jerr);
	if (!s->body || !json_is_object(s->body)) {
		rc = hlx_err(HLX_EINVAL, "%s: body is not a JSON object", what);
		goto fail;
	}
	canon = hlx_signed_canonical(s->body);
	if (!canon || strlen(canon) != s->bl || memcmp(canon, s->b, s->bl) != 0) {
		rc = hlx_err(HLX_EINVAL, "%s: body is not in canonical form", what);
		goto fail;
	}
	free(canon);
	return HLX_OK;
fail:
	free(canon);
	hlx_signed_free(s);
	return rc;
}
