/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for keys/allowed.c: the input is parsed as an allowed
 * signers file and checked for a fixed principal, key, namespace and time;
 * its first bytes also drive the time parser, the pattern matcher and the
 * line formatter.  Invariants: check returns only its documented codes;
 * a UTC time formats and parses back to itself; a formatted line parses
 * to one entry that accepts the key inside its window and rejects it
 * outside, with the documented codes.
 */
#include "keys/allowed.h"
#include "keys/key.h"
#include "keys/sshkey.h"
#include "protocol/buf.h"
#include "protocol/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define T2024 INT64_C(1704067200)

static struct hlx_pubkey key;	/* seed bytes 1, 2, ..., 32 */

static void init(void)
{
	static int done;
	struct hlx_seckey *sk;
	uint8_t seed[HLX_SEED_LEN];
	size_t i;

	if (done)
		return;
	done = 1;
	setenv("TZ", "UTC", 1);
	tzset();
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i + 1);
	if (hlx_seckey_from_seed(seed, &sk))
		abort();
	hlx_seckey_public(sk, &key);
	hlx_seckey_free(sk);
}

static int64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)(v % UINT64_C(253402300800));
}

static void formatted(const uint8_t *data, size_t size)
{
	struct hlx_buf line = HLX_BUF_INIT;
	struct hlx_allowed *a;
	int64_t va, vb;
	int rc;

	if (size < 16)
		return;
	va = get64(data);
	vb = get64(data + 8);
	if (va == 0)
		va = -1;
	if (vb == 0)
		vb = -1;
	rc = hlx_allowed_format_line("fuzz@hlx", &key, va, vb, &line);
	if (rc) {
		if (rc != HLX_EINVAL || va == -1 || vb == -1 || vb >= va)
			abort();
		return;
	}
	if (hlx_allowed_parse((char *)line.data, line.len, &a) ||
	    hlx_allowed_count(a) != 1)
		abort();
	/* both bounds inclusive, as OpenSSH */
	if (hlx_allowed_check(a, "fuzz@hlx", &key, "file",
			      va == -1 ? 1 : va) != HLX_OK)
		abort();
	if (vb != -1 && hlx_allowed_check(a, "fuzz@hlx", &key, "file",
					  vb) != HLX_OK)
		abort();
	if (va > 1 && hlx_allowed_check(a, "fuzz@hlx", &key, "file",
					va - 1) != HLX_EEXPIRED)
		abort();
	if (vb != -1 && hlx_allowed_check(a, "fuzz@hlx", &key, "file",
					  vb + 1) != HLX_EEXPIRED)
		abort();
	if (hlx_allowed_check(a, "fuzz@hlx.", &key, "file",
			      va == -1 ? 1 : va) != HLX_EUNTRUSTED)
		abort();
	hlx_allowed_free(a);
	hlx_buf_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[HLX_ALLOWED_TIME_LEN], *s, *nul;
	struct hlx_allowed *a;
	size_t tl;
	int64_t t, t2;
	int rc;

	init();
	rc = hlx_allowed_parse((const char *)data, size, &a);
	if (rc == HLX_OK) {
		rc = hlx_allowed_check(a, "alice", &key, "file", T2024);
		if (rc != HLX_OK && rc != HLX_EUNTRUSTED && rc != HLX_EEXPIRED)
			abort();
		rc = hlx_allowed_check(a, "bob@hotline.example", &key, "git",
				       INT64_MAX);
		if (rc != HLX_OK && rc != HLX_EUNTRUSTED && rc != HLX_EEXPIRED)
			abort();
		hlx_allowed_free(a);
	} else if (a != NULL || (rc != HLX_EINVAL && rc != HLX_ETOOBIG)) {
		abort();
	}

	/* times: UTC ones round-trip */
	tl = size < 20 ? size : 20;
	if (hlx_allowed_parse_time((const char *)data, tl, &t) == HLX_OK) {
		if (t <= 0)
			abort();
		if (data[tl - 1] == 'Z' || data[tl - 1] == 'z' ||
		    data[tl - 1] == 'C' || data[tl - 1] == 'c') {
			if (hlx_allowed_format_time(t, out) ||
			    hlx_allowed_parse_time(out, strlen(out), &t2) ||
			    t2 != t)
				abort();
		}
	}

	/* patterns: "string\0list" */
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	nul = memchr(s, '\0', size);
	if (nul && nul < s + size) {
		rc = hlx_allowed_match_list(s, nul + 1);
		if (rc < -1 || rc > 1)
			abort();
	}
	free(s);

	formatted(data, size);
	return 0;
}
