/* SPDX-License-Identifier: MIT */
/*
 * Feed heads (spec/sync.md section 3): the vector in spec/vectors/heads/
 * is reproduced byte for byte from a fixed key, parses, verifies, and every
 * kind of defect is refused; handling rules in the body round-trip and
 * malformed or non-canonical ones are refused.
 */
#include "tap.h"
#include "keys/sshsig.h"
#include "protocol/head.h"
#include "protocol/rtime.h"

#include <sodium.h>

#define VECTOR "spec/vectors/heads/uk-a.head"

static struct hlx_seckey *key;

static void sample(struct hlx_head *h)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->org, "hotline-a");
	strcpy(h->list, "uk-a");
	h->version = 12;
	strcpy(h->commit, "4f0c6b2e9a1d3c5e7f8091a2b3c4d5e6f708192a");
	hlx_time_parse("2026-11-28T20:10:00Z", 20, &h->issued);
	hlx_time_parse("2026-12-05T20:10:00Z", 20, &h->expires);
	h->trust_length = 2;
	strcpy(h->trust_head,
	       "9b1e0d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0");
}

static int make(const struct hlx_head *h, struct hlx_buf *file)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	int rc = hlx_head_body(h, &body);

	if (!rc)
		rc = hlx_sshsig_sign(key, HLX_HEAD_NAMESPACE, "sha512", body.data,
				     body.len, &sig);
	if (!rc)
		rc = hlx_head_file((char *)body.data, body.len, (char *)sig.data,
				   sig.len, file);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

static int parse(const char *text, size_t n)
{
	struct hlx_buf body = HLX_BUF_INIT, sig = HLX_BUF_INIT;
	struct hlx_head h;
	int rc = hlx_head_parse(text, n, &h, &body, &sig);

	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return rc;
}

/* Replace the first occurrence of from by to in the vector's body, keep
 * the (now wrong) signature, and parse. */
static int parse_edited(const char *vec, const char *from, const char *to)
{
	struct hlx_buf b = HLX_BUF_INIT;
	const char *p = strstr(vec, from);
	int rc;

	if (!p)
		return 999;
	hlx_buf_put(&b, vec, (size_t)(p - vec));
	hlx_buf_puts(&b, to);
	hlx_buf_puts(&b, p + strlen(from));
	rc = parse((char *)b.data, b.len);
	hlx_buf_free(&b);
	return rc;
}

/* Parse a head file made of body and a dummy signature (the parse does
 * not verify it). */
static int parse_body(const char *body, struct hlx_head *h)
{
	struct hlx_buf f = HLX_BUF_INIT, b = HLX_BUF_INIT, s = HLX_BUF_INIT;
	int rc = hlx_head_file(body, strlen(body), "x", 1, &f);

	if (!rc)
		rc = hlx_head_parse((char *)f.data, f.len, h, &b, &s);
	hlx_buf_free(&f);
	hlx_buf_free(&b);
	hlx_buf_free(&s);
	return rc;
}

/* The body of h with the first from replaced by to, parsed. */
static int parse_body_edited(const struct hlx_head *h, const char *from,
			     const char *to)
{
	struct hlx_buf body = HLX_BUF_INIT, b = HLX_BUF_INIT;
	struct hlx_head got;
	const char *p;
	int rc = hlx_head_body(h, &body);

	if (rc || !(p = strstr((char *)body.data, from))) {
		hlx_buf_free(&body);
		return 999;
	}
	hlx_buf_put(&b, body.data, (size_t)(p - (char *)body.data));
	hlx_buf_puts(&b, to);
	hlx_buf_puts(&b, p + strlen(from));
	rc = parse_body((char *)b.data, &got);
	hlx_buf_free(&body);
	hlx_buf_free(&b);
	return rc;
}

/* Handling rules in the body (spec/sync.md 3.2, spec/policy.md). */
static void test_rules(const struct hlx_buf *vec)
{
	static const char rules[] =
		"\"rules\":{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":90}";
	struct hlx_buf file = HLX_BUF_INIT, body = HLX_BUF_INIT,
		       sig = HLX_BUF_INIT, again = HLX_BUF_INIT;
	struct hlx_head h, got;

	memset(&got, 0x5a, sizeof(got));
	is_rc(hlx_head_parse((char *)vec->data, vec->len, &got, &body, &sig),
	      HLX_OK, "rules: the old vector still parses");
	ok(got.has_rules == 0 && got.rules.onward == 1 &&
	   got.rules.retention_days == 0 && !got.rules.purpose[0],
	   "rules: a head without rules has none (defaults set)");
	ok(hlx_head_body(&got, &again) == HLX_OK && again.len == body.len &&
	   !memcmp(again.data, body.data, body.len),
	   "rules: a head without rules re-encodes byte for byte");

	sample(&h);
	h.has_rules = 1;
	h.rules.onward = 0;
	h.rules.retention_days = 90;
	strcpy(h.rules.purpose, "detection");
	hlx_buf_reset(&again);
	is_rc(hlx_head_body(&h, &again), HLX_OK, "rules: encode a head with rules");
	ok(strstr((char *)again.data, rules) != NULL,
	   "rules: the body carries the canonical rules object: %s",
	   (char *)again.data);
	is_rc(make(&h, &file), HLX_OK, "rules: sign a head with rules");
	is_rc(hlx_head_parse((char *)file.data, file.len, &got, &body, &sig),
	      HLX_OK, "rules: it parses");
	ok(got.has_rules == 1 && got.rules.onward == 0 &&
	   got.rules.retention_days == 90 &&
	   !strcmp(got.rules.purpose, "detection") && got.version == 12,
	   "rules: as made");
	hlx_buf_reset(&again);
	ok(hlx_head_body(&got, &again) == HLX_OK && again.len == body.len &&
	   !memcmp(again.data, body.data, body.len),
	   "rules: the body re-encodes byte for byte");
	{
		struct hlx_sshsig *s = NULL;
		struct hlx_pubkey pub;

		hlx_seckey_public(key, &pub);
		ok(hlx_sshsig_parse_armor((char *)sig.data, sig.len, &s) == HLX_OK &&
		   hlx_sshsig_verify_key(s, &pub, HLX_HEAD_NAMESPACE, body.data,
					 body.len) == HLX_OK,
		   "rules: the signature covers the rules");
		hlx_sshsig_free(s);
	}

	/* default rules, carried explicitly */
	hlx_rules_init(&h.rules);
	hlx_buf_reset(&again);
	is_rc(hlx_head_body(&h, &again), HLX_OK, "rules: default rules encode");
	ok(strstr((char *)again.data,
		  "\"rules\":{\"onward\":true,\"retention_days\":0}") != NULL,
	   "rules: defaults written out, no purpose");
	is_rc(parse_body((char *)again.data, &got), HLX_OK,
	      "rules: and parse");
	ok(got.has_rules == 1 && got.rules.onward == 1, "rules: as made");

	/* the encoder refuses rules it cannot write */
	h.rules.retention_days = -1;
	is_rc(hlx_head_body(&h, &again), HLX_EINVAL,
	      "rules: encoding retention -1 refused");
	h.rules.retention_days = 90;
	strcpy(h.rules.purpose, "Bad");
	is_rc(hlx_head_body(&h, &again), HLX_EINVAL,
	      "rules: encoding purpose 'Bad' refused");
	strcpy(h.rules.purpose, "detection");
	h.rules.onward = 0;

	/* non-canonical or malformed rules are refused */
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"purpose\":\"detection\",\"onward\":false,\"retention_days\":90}"),
	      HLX_EINVAL, "rules: members out of order refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"onward\":false, \"purpose\":\"detection\",\"retention_days\":90}"),
	      HLX_EINVAL, "rules: a space refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"onward\":false,\"purpose\":\"\",\"retention_days\":90}"),
	      HLX_EINVAL, "rules: an empty purpose refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"onward\":false,\"purpose\":\"Detection\",\"retention_days\":90}"),
	      HLX_EINVAL, "rules: a malformed purpose refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"onward\":0,\"purpose\":\"detection\",\"retention_days\":90}"),
	      HLX_EINVAL, "rules: onward 0 refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":-1}"),
	      HLX_EINVAL, "rules: retention -1 refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":36501}"),
	      HLX_EINVAL, "rules: retention 36501 refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":90.0}"),
	      HLX_EINVAL, "rules: retention 90.0 refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":90,\"x\":1}"),
	      HLX_EINVAL, "rules: an unknown member refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"purpose\":\"detection\",\"retention_days\":90}"),
	      HLX_EINVAL, "rules: onward missing refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"onward\":false,\"purpose\":\"detection\"}"),
	      HLX_EINVAL, "rules: retention_days missing refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{}"), HLX_EINVAL,
	      "rules: an empty object refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":null"), HLX_EINVAL,
	      "rules: null refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":[]"), HLX_EINVAL,
	      "rules: an array refused");
	is_rc(parse_body_edited(&h, rules, "\"rule\":{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":90}"),
	      HLX_EINVAL, "rules: a misspelt member refused");
	is_rc(parse_body_edited(&h, rules, "\"rules\":{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":90},\"rules\":{\"onward\":false,\"purpose\":\"detection\",\"retention_days\":90}"),
	      HLX_EINVAL, "rules: a duplicate member refused");
	is_rc(parse_body_edited(&h, rules, rules), HLX_OK,
	      "rules: (the unedited body parses)");

	hlx_buf_free(&file);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	hlx_buf_free(&again);
}

/* The audience a head is bound to (spec/sync.md section 8). */
static void test_audience(void)
{
	struct hlx_buf file = HLX_BUF_INIT, body = HLX_BUF_INIT,
		       sig = HLX_BUF_INIT, again = HLX_BUF_INIT;
	struct hlx_head h, got;

	sample(&h);
	strcpy(h.audience, "0123456789abcdef0123456789abcdef");
	is_rc(make(&h, &file), HLX_OK, "audience: sign a head with an audience");
	ok(strstr((char *)file.data,
		  "\\\"audience\\\":\\\"0123456789abcdef0123456789abcdef\\\"") != NULL,
	   "audience: the body names it");
	is_rc(hlx_head_parse((char *)file.data, file.len, &got, &body, &sig),
	      HLX_OK, "audience: it parses");
	ok(!strcmp(got.audience, h.audience), "audience: as made");
	ok(hlx_head_body(&got, &again) == HLX_OK && again.len == body.len &&
	   !memcmp(again.data, body.data, body.len),
	   "audience: the body re-encodes byte for byte");
	is_rc(parse_edited((char *)file.data, "0123456789abcdef0123456789abcdef",
			   "0123456789ABCDEF0123456789abcdef"), HLX_EINVAL,
	      "audience: upper-case hex refused");
	is_rc(parse_edited((char *)file.data, "0123456789abcdef0123456789abcdef",
			   "0123456789abcdef0123456789abcde"), HLX_EINVAL,
	      "audience: 31 digits refused");
	strcpy(h.audience, "xyz");
	hlx_buf_reset(&again);
	is_rc(hlx_head_body(&h, &again), HLX_EINVAL,
	      "audience: a malformed one is not encoded");
	hlx_buf_free(&file);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	hlx_buf_free(&again);
}

int main(void)
{
	uint8_t seed[HLX_SEED_LEN];
	struct hlx_buf file = HLX_BUF_INIT, vec = HLX_BUF_INIT, body = HLX_BUF_INIT,
		       sig = HLX_BUF_INIT;
	struct hlx_sshsig *s = NULL;
	struct hlx_head h, got;
	struct hlx_pubkey pub;
	FILE *f;
	char chunk[4096];
	size_t n;

	if (sodium_init() < 0)
		return 1;
	memset(seed, 1, sizeof(seed));
	hlx_seckey_from_seed(seed, &key);
	hlx_seckey_public(key, &pub);
	sample(&h);
	is_rc(make(&h, &file), HLX_OK, "make a head");
	f = fopen(VECTOR, "rb");
	if (!f && getenv("HLX_WRITE_VECTORS")) {
		f = fopen(VECTOR, "wb");
		fwrite(file.data, 1, file.len, f);
		fclose(f);
		f = fopen(VECTOR, "rb");
	}
	ok(f != NULL, "vector %s exists", VECTOR);
	while (f && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		hlx_buf_put(&vec, chunk, n);
	if (f)
		fclose(f);
	ok(vec.len == file.len && memcmp(vec.data, file.data, vec.len) == 0,
	   "the vector is reproduced byte for byte (Ed25519 is deterministic)");

	is_rc(hlx_head_parse((char *)vec.data, vec.len, &got, &body, &sig), HLX_OK,
	      "the vector parses");
	ok(got.version == 12 && !strcmp(got.org, "hotline-a") &&
	   !strcmp(got.list, "uk-a") && got.trust_length == 2 &&
	   got.issued == h.issued && got.expires == h.expires,
	   "fields as made");
	is_rc(hlx_sshsig_parse_armor((char *)sig.data, sig.len, &s), HLX_OK,
	      "its signature parses");
	is_rc(s ? hlx_sshsig_verify_key(s, &pub, HLX_HEAD_NAMESPACE, body.data,
					body.len) : -1, HLX_OK,
	      "and verifies by the key, namespace hlx-head");
	is_rc(s ? hlx_sshsig_verify(s, "git", body.data, body.len) : -1,
	      HLX_EBADSIG, "not in another namespace");
	hlx_sshsig_free(s);

	/* every truncation is refused */
	{
		size_t accepted = 0;

		for (n = 0; n < vec.len - 1; n++)
			if (parse((char *)vec.data, n) == HLX_OK)
				accepted++;
		ok(accepted == 0, "all %zu truncations refused", vec.len - 1);
	}
	/* body defects: the parse refuses before any signature check */
	is_rc(parse_edited((char *)vec.data, "\\\"version\\\":12", "\\\"version\\\":0"),
	      HLX_EINVAL, "version 0 refused");
	is_rc(parse_edited((char *)vec.data, "\\\"version\\\":12", "\\\"version\\\":-1"),
	      HLX_EINVAL, "negative version refused");
	is_rc(parse_edited((char *)vec.data, "\\\"format\\\":\\\"hlx-head-1\\\"",
			   "\\\"format\\\":\\\"hlx-head-2\\\""),
	      HLX_EUNSUPPORTED, "format hlx-head-2 unsupported");
	is_rc(parse_edited((char *)vec.data, "\\\"list\\\":\\\"uk-a\\\"",
			   "\\\"list\\\":\\\"UK A\\\""), HLX_EINVAL, "bad list name refused");
	is_rc(parse_edited((char *)vec.data, "\\\"commit\\\":\\\"4f0c",
			   "\\\"commit\\\":\\\"4F0C"), HLX_EINVAL, "upper-case commit refused");
	is_str(hlx_err_detail(), "head: 'commit' is not lowercase hex",
	       "the detail names the file and the member");
	is_rc(parse_edited((char *)vec.data, "\\\"commit\\\":\\\"4f0c",
			   "\\\"commit\\\":\\\"4f0"), HLX_EINVAL, "short commit refused");
	is_str(hlx_err_detail(), "head: 'commit' must be 40 hex digits, got 39",
	       "the detail says how long it was");
	is_rc(parse_edited((char *)vec.data, "\\\"expires\\\":\\\"2026-12-05",
			   "\\\"expires\\\":\\\"2026-11-01"), HLX_EINVAL,
	      "expiry before issue refused");
	is_rc(parse_edited((char *)vec.data, "{\\\"commit", "{\\\"extra\\\":1,\\\"commit"),
	      HLX_EINVAL, "unknown field refused");
	is_rc(parse_edited((char *)vec.data, "{\\\"commit", "{ \\\"commit"),
	      HLX_EINVAL, "non-canonical body refused");
	is_rc(parse_edited((char *)vec.data, "\"signature\"", "\"sig\""), HLX_EINVAL,
	      "missing signature member refused");
	is_rc(parse("[]", 2), HLX_EINVAL, "not an object");
	{
		struct hlx_buf big = HLX_BUF_INIT;

		hlx_buf_put(&big, vec.data, vec.len);
		for (int i = 0; i < HLX_HEAD_MAX; i++)
			hlx_buf_putc(&big, ' ');
		is_rc(parse((char *)big.data, big.len), HLX_ETOOBIG,
		      "a head over 16 KiB refused");
		hlx_buf_free(&big);
	}
	test_rules(&vec);
	test_audience();
	is_rc(hlx_name_check("a", 1, "x"), HLX_OK, "name 'a'");
	is_rc(hlx_name_check("-a", 2, "x"), HLX_EINVAL, "name '-a' refused");

	hlx_seckey_free(key);
	hlx_buf_free(&file);
	hlx_buf_free(&vec);
	hlx_buf_free(&body);
	hlx_buf_free(&sig);
	return done_testing();
}
