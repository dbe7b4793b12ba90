/* SPDX-License-Identifier: MIT */
/*
 * List entries and removal-status records (spec/records.md, sections 4-6).
 *
 * Both are small transparent value types with three forms:
 *   - the struct, checked by *_validate();
 *   - the canonical line: tab-separated fields, "-" for an absent field,
 *     ending with '\n'.  It is what is signed, hashed and stored in the list
 *     files, so it has exactly one spelling: *_decode() accepts only the
 *     bytes *_encode() writes, and encode(decode(x)) == x byte for byte;
 *   - JSON, for people and bridges: *_from_json() is strict about keys and
 *     types but accepts any JSON spelling (key order, whitespace, hash case);
 *     *_to_json() writes the one compact, key-sorted form.
 *
 * Entries carry no free text on purpose: only a hash, a category token, a
 * first-seen time, a confidence and up to eight tag tokens.
 *
 * The encoders append to a struct hlx_buf owned by the caller and leave it
 * as it was on failure.  Decoders write *e / *s; on failure its content is
 * unspecified.  Nothing here keeps a pointer to its input.
 */
#ifndef HLX_RECORD_H
#define HLX_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"
#include "protocol/hash.h"
#include "protocol/rtime.h"

/* A token (category, tag) is [a-z0-9][a-z0-9._-]{0,31}. */
#define HLX_TOKEN_MAX 32
#define HLX_TAGS_MAX 8
/* Largest JSON text the *_from_json functions accept, in bytes. */
#define HLX_JSON_MAX 65536

/* Longest canonical lines, '\n' included. */
#define HLX_ENTRY_LINE_MAX                                                  \
	((HLX_HASH_TEXT_MAX - 1) + 1 + HLX_TOKEN_MAX + 1 +                  \
	 (HLX_TIME_TEXT - 1) + 1 + 3 + 1 +                                  \
	 (HLX_TAGS_MAX * (HLX_TOKEN_MAX + 1) - 1) + 1)
#define HLX_STATUS_LINE_MAX                                                 \
	((HLX_HASH_TEXT_MAX - 1) + 1 + 2 + 1 + 11 + 1 + (HLX_TIME_TEXT - 1) + \
	 1 + (HLX_TIME_TEXT - 1) + 1)

struct hlx_entry {
	struct hlx_hash hash;
	char category[HLX_TOKEN_MAX + 1]; /* token, or "" if absent */
	int64_t first_seen;               /* hlx_time, or -1 if absent */
	int confidence;                   /* 0..100, or -1 if absent */
	unsigned ntags;                   /* 0..HLX_TAGS_MAX */
	char tags[HLX_TAGS_MAX][HLX_TOKEN_MAX + 1]; /* sorted, unique */
};

enum hlx_state {
	HLX_STATE_REPORTED = 1, /* "reported" */
	HLX_STATE_NOTICE_SENT,  /* "notice-sent" */
	HLX_STATE_REMOVED,      /* "removed" */
	HLX_STATE_REAPPEARED,   /* "reappeared" */
	HLX_STATE_WITHDRAWN,    /* "withdrawn" */
};

struct hlx_status {
	struct hlx_hash item;
	char country[3];  /* ISO 3166-1 alpha-2 (or XK), uppercase; "" unknown */
	enum hlx_state state;
	int64_t reported; /* when first reported */
	int64_t changed;  /* when this state began: >= reported, and
			   * == reported while the state is "reported" */
};

/* Static name, or NULL for a value outside the enum. */
const char *hlx_state_name(enum hlx_state s);
/* Exact lowercase name. */
int hlx_state_parse(const char *s, size_t n, enum hlx_state *st);

/* HLX_OK if s[0, n) is a token; the detail names it as what ("tag"). */
int hlx_entry_token_check(const char *s, size_t n, const char *what);
/* HLX_OK if c[0, n) is an assigned ISO 3166-1 alpha-2 code or XK. */
int hlx_status_country_check(const char *c, size_t n);

/* All fields absent, hash type 0 (invalid until set). */
void hlx_entry_init(struct hlx_entry *e);
/*
 * Add a tag, keeping tags sorted and unique.  HLX_EINVAL for a malformed
 * tag, HLX_EEXIST if already present (e unchanged), HLX_ETOOBIG if
 * e already has HLX_TAGS_MAX tags.
 */
int hlx_entry_add_tag(struct hlx_entry *e, const char *tag, size_t n);
int hlx_entry_validate(const struct hlx_entry *e);
/* Append the canonical line, '\n' included. */
int hlx_entry_encode(const struct hlx_entry *e, struct hlx_buf *out);
/*
 * Decode one canonical line.  n INCLUDES the final '\n', which is required
 * (a last line without it is a truncated file).  Lines longer than
 * HLX_ENTRY_LINE_MAX fail with HLX_ETOOBIG.  Does not allocate.
 */
int hlx_entry_decode(const char *line, size_t n, struct hlx_entry *e);
/*
 * One JSON object of at most HLX_JSON_MAX bytes with the keys "hash"
 * (required; "type:hex", any case), "category", "first_seen" (RFC 3339
 * string), "confidence" (integer 0..100), "tags" (array of distinct
 * tokens, any order).  Unknown keys, duplicate keys, null and wrong types
 * are rejected with a detail naming the field.
 */
int hlx_entry_from_json(const char *s, size_t n, struct hlx_entry *e);
/* Append compact JSON, keys sorted, absent fields omitted, no newline. */
int hlx_entry_to_json(const struct hlx_entry *e, struct hlx_buf *out);

/* country "", state 0, times -1: invalid until set. */
void hlx_status_init(struct hlx_status *s);
int hlx_status_validate(const struct hlx_status *s);
int hlx_status_encode(const struct hlx_status *s, struct hlx_buf *out);
/* As hlx_entry_decode: n includes the required final '\n'. */
int hlx_status_decode(const char *line, size_t n, struct hlx_status *s);
/* Keys "item" (required, any case), "country" (omit if unknown), "state",
 * "reported", "changed" (all required). */
int hlx_status_from_json(const char *str, size_t n, struct hlx_status *s);
int hlx_status_to_json(const struct hlx_status *s, struct hlx_buf *out);

/* A canonical line's first field, its hash: the length up to the first
 * tab, or n if there is none (a field alone is its own field). */
size_t hlx_line_hash_len(const char *line, size_t n);
/* Two lines in the order of their hash fields: byte order, a prefix
 * first (the order of a list's shards and of a version's changes). */
int hlx_line_hash_cmp(const char *a, size_t an, const char *b, size_t bn);

#endif
