/* SPDX-License-Identifier: MIT */
/*
 * The trust chain of an organisation (format in spec/keys.md).
 *
 * A chain is an ordered list of statements, each a canonical JSON body
 * signed in the SSHSIG format (namespace "hlx-trust"):
 *
 *   root      the first statement, self-signed by the first root key; later
 *             ones rotate the root and are signed by the old and the new
 *             root (TUF's N to N+1 rule);
 *   delegate  the root delegates a signing key for a validity window;
 *   revoke    the root revokes a delegated signing key for good, from a
 *             given time on (what it signed before stays valid).
 *
 * Each body carries its sequence number and the SHA-256 of the previous
 * body, so the chain can only grow at its end.  hlx_trust_load() verifies a
 * whole chain against a pinned root key and yields an opaque handle that
 * answers "may this key sign at this time?".  Whoever holds the root secret
 * key extends the chain with hlx_trust_delegate(), _revoke() and
 * _rotate_root(); each extension is verified like a loaded one before the
 * handle changes, and a failed extension leaves the handle as it was.
 */
#ifndef HLX_TRUST_H
#define HLX_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "keys/key.h"
#include "protocol/buf.h"

#define HLX_TRUST_NAMESPACE "hlx-trust"
#define HLX_TRUST_MAX (1024 * 1024)    /* bytes of a serialised chain */
#define HLX_TRUST_MAX_STATEMENTS 4096
#define HLX_ORG_MAX 64

struct hlx_trust;

/* Start a chain for org: a root statement self-signed by root. */
int hlx_trust_create(const char *org, const struct hlx_seckey *root,
		     int64_t now, struct hlx_trust **out);

/* Parse and verify a serialised chain.  pinned must be one of the chain's
 * root keys (the first, or one a rotation introduced).  HLX_EBADSIG,
 * HLX_EUNTRUSTED or HLX_EINVAL on any defect; *out is set only on success. */
int hlx_trust_load(const char *text, size_t n, const struct hlx_pubkey *pinned,
		   struct hlx_trust **out);

void hlx_trust_free(struct hlx_trust *t);

/* Append the canonical serialisation (JSON, ends with a newline). */
int hlx_trust_serialize(const struct hlx_trust *t, struct hlx_buf *out);

/* May key sign something made at time when?  HLX_OK, HLX_EREVOKED (revoked
 * at or before when), HLX_EEXPIRED (outside its window) or HLX_EUNTRUSTED
 * (never delegated). */
int hlx_trust_check(const struct hlx_trust *t, const struct hlx_pubkey *key,
		    int64_t when);

const char *hlx_trust_org(const struct hlx_trust *t);
const struct hlx_pubkey *hlx_trust_root(const struct hlx_trust *t);
/* 1 if fingerprint ("SHA256:..." as hlx_sshkey_fingerprint writes it) is
 * one of the root keys the chain has introduced (the first, or one a
 * rotation brought; not only the current one), else 0. */
int hlx_trust_has_root(const struct hlx_trust *t, const char *fingerprint);
/* Number of statements, and the SHA-256 of the last body (its head). */
uint64_t hlx_trust_length(const struct hlx_trust *t);
void hlx_trust_head(const struct hlx_trust *t, uint8_t hash[32]);

/* The SHA-256 of statement number len (1-based): the head the chain had
 * when it was len statements long.  HLX_EINVAL if len is out of range. */
int hlx_trust_head_at(const struct hlx_trust *t, uint64_t len,
		      uint8_t hash[32]);

/* Delegated keys, in order of delegation (revoked ones included). */
struct hlx_trust_key {
	struct hlx_pubkey key;
	int64_t valid_after;  /* inclusive */
	int64_t valid_before; /* exclusive */
	int revoked;
	int64_t revoked_since; /* with revoked: invalid for times >= this */
};
size_t hlx_trust_nkeys(const struct hlx_trust *t);
const struct hlx_trust_key *hlx_trust_key(const struct hlx_trust *t, size_t i);
/* The most recently delegated key that is valid at now and not revoked, or
 * NULL. */
const struct hlx_trust_key *hlx_trust_current(const struct hlx_trust *t,
					      int64_t now);

int hlx_trust_delegate(struct hlx_trust *t, const struct hlx_seckey *root,
		       const struct hlx_pubkey *key, int64_t valid_after,
		       int64_t valid_before, int64_t now);
/* Revoke key for everything made at or after since (<= now). */
int hlx_trust_revoke(struct hlx_trust *t, const struct hlx_seckey *root,
		     const struct hlx_pubkey *key, int64_t since, int64_t now);
/* The time of the last statement: anything that names this chain must be
 * made after it. */
int64_t hlx_trust_last_time(const struct hlx_trust *t);
int hlx_trust_rotate_root(struct hlx_trust *t, const struct hlx_seckey *old_root,
			  const struct hlx_seckey *new_root, int64_t now);

/* Organisation names: [a-z0-9][a-z0-9._-]{0,63}. */
int hlx_org_validate(const char *org);

#endif
