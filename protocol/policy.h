/* SPDX-License-Identifier: MIT */
/*
 * Sharing policies and handling rules (spec/policy.md).
 *
 * A policy says what one peer, or a group of peers, may receive: which
 * lists, hash types and categories, which entry and status fields (the
 * others are dropped), which entries are held back (embargo), the handling
 * rules that travel with the data, and whether its feed is encrypted.
 *
 * Everything here is pure: no I/O, no clock.  A parsed policy is an opaque
 * handle made by hlx_policy_parse() and released by hlx_policy_free(); the
 * strings it returns live as long as the handle.  Encoders append to a
 * struct hlx_buf owned by the caller.
 */
#ifndef HLX_POLICY_H
#define HLX_POLICY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "protocol/record.h"

#define HLX_POLICY_FORMAT "hlx-policy-1"
/* Largest policy file, in bytes, and most items in any of its arrays. */
#define HLX_POLICY_MAX 65536
#define HLX_POLICY_ITEMS_MAX 4096
/* Longest retention, in days (100 years). */
#define HLX_RETENTION_MAX 36500
/* Longest list name a policy names: PEER/NAME, NUL included. */
#define HLX_POLICY_LIST_MAX (2 * 64 + 2)

/* Handling rules that travel with the data (in signed heads). */
struct hlx_rules {
	int onward;              /* 1: receivers may share onward; 0: never */
	int64_t retention_days;  /* 0: no limit; else 1..HLX_RETENTION_MAX */
	char purpose[HLX_TOKEN_MAX + 1]; /* token, "" if none */
};

/* onward 1, retention 0, purpose "". */
void hlx_rules_init(struct hlx_rules *r);
/* HLX_OK if r holds values the JSON form can carry. */
int hlx_rules_validate(const struct hlx_rules *r);
/*
 * Canonical JSON object, members sorted, e.g.
 *   {"onward":true,"purpose":"x","retention_days":90}
 * ("purpose" omitted when ""), appended to out, no newline.  Fails with
 * HLX_EINVAL (out unchanged) when r is not valid.
 */
int hlx_rules_json(const struct hlx_rules *r, struct hlx_buf *out);
/*
 * Parse a jansson object, strictly: "onward" (boolean) and
 * "retention_days" (integer 0..HLX_RETENTION_MAX) required, "purpose"
 * (token) optional, nothing else.  *r is only written on success.
 */
int hlx_rules_from_json(const json_t *o, struct hlx_rules *r);
/*
 * The strictest of two (for relays): onward a && b, retention the smaller
 * non-zero one, purpose a's if set else b's.  out may be a or b.
 */
void hlx_rules_merge(const struct hlx_rules *a, const struct hlx_rules *b,
		     struct hlx_rules *out);

struct hlx_policy; /* opaque */

/*
 * Parse a policy file (at most HLX_POLICY_MAX bytes of JSON), strictly:
 * unknown, duplicate, missing or mistyped members, values out of range and
 * malformed or duplicate set members are refused with a detail naming the
 * member.  *out is set on success only; free it with hlx_policy_free().
 */
int hlx_policy_parse(const char *json, size_t n, struct hlx_policy **out);
void hlx_policy_free(struct hlx_policy *p);
/* The policy's name (a token); lives as long as p. */
const char *hlx_policy_name(const struct hlx_policy *p);
/*
 * Canonical JSON of the whole policy (compact, ASCII, members sorted, sets
 * sorted and unique, defaults written out), appended to out, no newline.
 * Two policies that mean the same thing have the same canonical JSON, and
 * parsing it gives the same policy again.
 */
int hlx_policy_canonical(const struct hlx_policy *p, struct hlx_buf *out);
/* SHA-256 of the canonical JSON (what the audit log records). */
void hlx_policy_hash(const struct hlx_policy *p, uint8_t out[32]);
/* SHA-256 of the canonical JSON without "name": equal for policies that
 * give the same view. */
void hlx_policy_view_id(const struct hlx_policy *p, uint8_t out[32]);
/* SHA-256 of the canonical JSON without "name", "status_fields", "rules"
 * and "encrypt": equal for policies whose views of an own list of
 * entries hold the same lines (an encrypted and a plain audience of one
 * selection).  Not for views of the status or cases log, nor of a peer's
 * list: status fields and rules decide those. */
void hlx_policy_entries_id(const struct hlx_policy *p, uint8_t out[32]);
int hlx_policy_encrypt(const struct hlx_policy *p); /* 1 or 0 */
/* Its hold tags, in byte order. */
size_t hlx_policy_nhold(const struct hlx_policy *p);
const char *hlx_policy_hold_at(const struct hlx_policy *p, size_t i);
/* 1 if the policy gives times to the second: for a status log, its
 * status times ("times" in status_fields); for a list, when entries were
 * first seen ("first_seen" in fields).  0: a view of that list tells no
 * time finer than the day (spec/policy.md section 6). */
int hlx_policy_exact_times(const struct hlx_policy *p, int status);
void hlx_policy_rules(const struct hlx_policy *p, struct hlx_rules *out);
/* The members of "lists", sorted ("*" and "status" included as written). */
size_t hlx_policy_nlists(const struct hlx_policy *p);
const char *hlx_policy_list_at(const struct hlx_policy *p, size_t i);
/*
 * Does the policy give list (own "NAME", mirrored "PEER/NAME", "status")
 * at all?  1 or 0.  "*" in the policy gives every own list (a name without
 * '/') except "status" and "cases", which are given only when named.
 */
int hlx_policy_list(const struct hlx_policy *p, const char *list);
/*
 * Filter and minimise one entry, which must be valid (hlx_entry_validate):
 * 1 = shared, and *out is what the peer gets (valid; dropped fields are
 * absent); 0 = withheld, and *out is untouched.  out may be in.
 */
int hlx_policy_entry(const struct hlx_policy *p, const struct hlx_entry *in,
		     struct hlx_entry *out);
/*
 * Same for a valid removal-status record.  held: the item is held
 * (embargo) in one of the node's own lists given by this policy (the
 * caller works that out with hlx_policy_held).  1 = shared (*out valid),
 * 0 = withheld (*out untouched).  out may be in.
 */
int hlx_policy_status(const struct hlx_policy *p, const struct hlx_status *in,
		      int held, struct hlx_status *out);
/* 1 if the entry carries one of the policy's hold tags, else 0. */
int hlx_policy_held(const struct hlx_policy *p, const struct hlx_entry *e);

#endif
