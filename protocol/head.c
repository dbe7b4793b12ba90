/* SPDX-License-Identifier: MIT */
#include "protocol/head.h"
#include "protocol/signed.h"
#include "protocol/err.h"
#include "protocol/rtime.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT "hlx-head-1"

int hlx_name_check(const char *s, size_t n, const char *what)
{
	if (n == 0 || n > HLX_NAME_MAX)
		return hlx_err(HLX_EINVAL, "%s name: must be 1 to %d characters",
			       what, HLX_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return hlx_err(HLX_EINVAL,
				       "%s name '%.*s': character %zu is not allowed",
				       what, (int)(n < 64 ? n : 64), s, i + 1);
	}
	return HLX_OK;
}

static int hex_check(const char *s, size_t n, size_t want, const char *what)
{
	return hlx_signed_hex("head", what, s, n, want);
}

int hlx_head_body(const struct hlx_head *h, struct hlx_buf *out)
{
	char is[HLX_TIME_TEXT], ex[HLX_TIME_TEXT];
	json_t *o;
	char *s = NULL;
	int rc;

	hlx_time_format(h->issued, is);
	hlx_time_format(h->expires, ex);
	o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:I, s:s}",
		      "format", FORMAT, "org", h->org, "list", h->list,
		      "version", (json_int_t)h->version, "commit", h->commit,
		      "issued", is, "expires", ex,
		      "trust_length", (json_int_t)h->trust_length,
		      "trust_head", h->trust_head);
	if (o && h->audience[0]) {
		rc = hex_check(h->audience, strlen(h->audience), 32, "audience");
		if (rc) {
			json_decref(o);
			return rc;
		}
		if (json_object_set_new(o, "audience", json_string(h->audience))) {
			json_decref(o);
			return hlx_err(HLX_ENOMEM, "cannot encode a head");
		}
	}
	if (o && h->has_rules) {
		struct hlx_buf rb = HLX_BUF_INIT;
		json_t *r = NULL;

		rc = hlx_rules_json(&h->rules, &rb);
		if (!rc)
			r = json_loadb((char *)rb.data, rb.len, 0, NULL);
		hlx_buf_free(&rb);
		if (rc) {
			json_decref(o);
			return hlx_err_wrap(rc, "head");
		}
		if (!r || json_object_set_new(o, "rules", r)) {
			json_decref(o);
			o = NULL; /* json_object_set_new took r */
		}
	}
	if (o)
		s = hlx_signed_canonical(o);
	json_decref(o);
	if (!s)
		return hlx_err(HLX_ENOMEM, "cannot encode a head");
	rc = hlx_buf_puts(out, s);
	free(s);
	return rc;
}

int hlx_head_file(const char *body, size_t bodylen, const char *armor,
		  size_t armorlen, struct hlx_buf *out)
{
	return hlx_signed_file("head", body, bodylen, armor, armorlen, out);
}

static int get_s(json_t *o, const char *k, const char **s, size_t *n)
{
	return hlx_signed_str("head", o, k, s, n);
}

static int get_u(json_t *o, const char *k, uint64_t *u)
{
	return hlx_signed_count("head", o, k, u);
}

int hlx_head_parse(const char *text, size_t n, struct hlx_head *h,
		   struct hlx_buf *body, struct hlx_buf *sig)
{
	static const char *const keys[] = { "format", "org", "list", "version",
					    "commit", "issued", "expires",
					    "trust_length", "trust_head", NULL };
	struct hlx_signed sf;
	json_t *o;
	const char *s;
	size_t sl, nk;
	int rc;

	rc = hlx_signed_parse("head", text, n, HLX_HEAD_MAX, &sf);
	if (rc)
		return rc;
	o = sf.body;
	for (nk = 0; keys[nk]; nk++)
		if (!json_object_get(o, keys[nk])) {
			rc = hlx_err(HLX_EINVAL, "head: '%s' missing", keys[nk]);
			goto out;
		}
	if (json_object_size(o) != nk + (json_object_get(o, "rules") != NULL) +
				   (json_object_get(o, "audience") != NULL)) {
		rc = hlx_err(HLX_EINVAL, "head: unknown fields in the body");
		goto out;
	}
	memset(h, 0, sizeof(*h));
	hlx_rules_init(&h->rules);
	if (json_object_get(o, "audience")) {
		if ((rc = get_s(o, "audience", &s, &sl)) ||
		    (rc = hex_check(s, sl, 32, "audience")))
			goto out;
		memcpy(h->audience, s, 33);
	}
	if (json_object_get(o, "rules")) {
		rc = hlx_rules_from_json(json_object_get(o, "rules"), &h->rules);
		if (rc) {
			rc = hlx_err_wrap(rc, "head");
			goto out;
		}
		h->has_rules = 1;
	}
	if ((rc = get_s(o, "format", &s, &sl)))
		goto out;
	if (strcmp(s, FORMAT) != 0) {
		rc = hlx_err(HLX_EUNSUPPORTED, "head: format '%.20s' (want " FORMAT ")", s);
		goto out;
	}
	if ((rc = get_s(o, "org", &s, &sl)) || (rc = hlx_name_check(s, sl, "organisation")))
		goto out;
	memcpy(h->org, s, sl + 1);
	if ((rc = get_s(o, "list", &s, &sl)) || (rc = hlx_name_check(s, sl, "list")))
		goto out;
	memcpy(h->list, s, sl + 1);
	if ((rc = get_u(o, "version", &h->version)) ||
	    (rc = get_u(o, "trust_length", &h->trust_length)))
		goto out;
	if (h->version == 0 || h->trust_length == 0) {
		rc = hlx_err(HLX_EINVAL, "head: version and trust_length start at 1");
		goto out;
	}
	if ((rc = get_s(o, "commit", &s, &sl)) || (rc = hex_check(s, sl, 40, "commit")))
		goto out;
	memcpy(h->commit, s, 41);
	if ((rc = get_s(o, "trust_head", &s, &sl)) ||
	    (rc = hex_check(s, sl, 64, "trust_head")))
		goto out;
	memcpy(h->trust_head, s, 65);
	if ((rc = get_s(o, "issued", &s, &sl)) ||
	    (rc = hlx_time_parse(s, sl, &h->issued)) ||
	    (rc = get_s(o, "expires", &s, &sl)) ||
	    (rc = hlx_time_parse(s, sl, &h->expires))) {
		rc = hlx_err_wrap(HLX_EINVAL, "head");
		goto out;
	}
	if (h->expires <= h->issued) {
		rc = hlx_err(HLX_EINVAL, "head: expires before it is issued");
		goto out;
	}
	hlx_buf_reset(body);
	hlx_buf_reset(sig);
	rc = hlx_buf_put(body, sf.b, sf.bl);
	if (!rc)
		rc = hlx_buf_put(sig, sf.a, sf.al);
out:
	hlx_signed_free(&sf);
	return rc;
}
