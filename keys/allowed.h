/* SPDX-License-Identifier: MIT */
/*
 * OpenSSH allowed signers files (ssh-keygen(1), ALLOWED SIGNERS), the trust
 * list of `ssh-keygen -Y verify` and of git's gpg.ssh.allowedSignersFile:
 *
 *     # comment
 *     principal[,pattern...] [option[,option...]] ssh-ed25519 AAAA... [comment]
 *
 * Options (names case-insensitive, values in double quotes):
 * cert-authority, namespaces="pattern-list", valid-after="TIME",
 * valid-before="TIME".  TIME is YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS,
 * followed by "Z" (or "UTC") for UTC, else local time as ssh-keygen reads
 * it.  See spec/signatures.md for the exact rules and where hlx is stricter
 * than ssh-keygen.
 *
 * The whole file is parsed up front: any malformed line fails the parse
 * with HLX_EINVAL naming the line.  Lines whose key is well-formed but not
 * ssh-ed25519 (ssh-rsa, ecdsa, ...) and cert-authority lines are kept but
 * never match, as they cannot match a plain ssh-ed25519 signer in
 * ssh-keygen either.
 */
#ifndef HLX_ALLOWED_H
#define HLX_ALLOWED_H

#include <stddef.h>
#include <stdint.h>

#include "keys/key.h"
#include "protocol/buf.h"

/* Largest file and longest line accepted (HLX_ETOOBIG beyond). */
#define HLX_ALLOWED_MAX (1024 * 1024)
#define HLX_ALLOWED_LINE_MAX 8192
/* Longest single pattern in a pattern list (OpenSSH's match.c gives up
 * on longer ones). */
#define HLX_ALLOWED_PATTERN_MAX 1022
/* "YYYYMMDDHHMMSSZ" + NUL */
#define HLX_ALLOWED_TIME_LEN 16

struct hlx_allowed;

/* Parse a whole file.  *out is NULL on failure; free with
 * hlx_allowed_free. */
int hlx_allowed_parse(const char *text, size_t n, struct hlx_allowed **out);
void hlx_allowed_free(struct hlx_allowed *a);
/* Number of entries (lines that are neither blank nor comments). */
size_t hlx_allowed_count(const struct hlx_allowed *a);

/*
 * HLX_OK if some entry has a principal pattern list matching principal,
 * the same key (and no cert-authority option), a namespaces option (if
 * any) matching ns, and valid-after <= now < valid-before (each if
 * present).  Otherwise HLX_EEXPIRED if an entry matched in everything but
 * its validity window (the detail names the bound and both times), else
 * HLX_EUNTRUSTED ("key SHA256:... is not an allowed signer for
 * 'PRINCIPAL'").  principal and ns must be non-empty (HLX_EINVAL).
 */
int hlx_allowed_check(const struct hlx_allowed *a, const char *principal,
		      const struct hlx_pubkey *key, const char *ns,
		      int64_t now);

/*
 * Append one line "PRINCIPAL [valid-after="T"][,valid-before="T"]
 * ssh-ed25519 AAAA...\n" with times as YYYYMMDDHHMMSSZ (UTC).  -1 means no
 * bound; otherwise 0 < valid_after < valid_before <= 9999-12-31T23:59:59Z.
 * The principal must be non-empty printable ASCII or UTF-8 without white
 * space, '"', ',', '*', '?' or '!' and must not start with '#'.
 */
int hlx_allowed_format_line(const char *principal, const struct hlx_pubkey *k,
			    int64_t valid_after, int64_t valid_before,
			    struct hlx_buf *out);

/* Parse an allowed-signers TIME (see above) of n bytes into seconds since
 * the epoch (> 0). */
int hlx_allowed_parse_time(const char *s, size_t n, int64_t *out);
/* Format t (1 .. 253402300799) as YYYYMMDDHHMMSSZ. */
int hlx_allowed_format_time(int64_t t, char out[HLX_ALLOWED_TIME_LEN]);

/*
 * OpenSSH match_pattern_list: list is comma-separated patterns with '*'
 * and '?' wildcards, each optionally negated with a leading '!'.  Returns
 * -1 if a negated pattern matches s, else 1 if a plain one does, else 0.
 * Case-sensitive; runs in O(len(s) * len(list)).
 */
int hlx_allowed_match_list(const char *s, const char *list);

#endif
