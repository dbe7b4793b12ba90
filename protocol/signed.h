/* SPDX-License-Identifier: MIT */
/*
 * Signed JSON files: the form heads (spec/sync.md section 3.1) and
 * checkpoints (spec/prune.md section 3.1) share,
 *
 *     {"body": BODY, "signature": ARMOR}
 *
 * where BODY is canonical JSON (compact, members sorted, ASCII) and ARMOR
 * an armored SSHSIG signature of BODY's bytes.  Pure code: the signature
 * is checked by the caller.  what names the kind of file in errors
 * ("head", "checkpoint").
 */
#ifndef HLX_SIGNED_H
#define HLX_SIGNED_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/buf.h"

/* Append the file (indented, members sorted) and a newline. */
int hlx_signed_file(const char *what, const char *body, size_t bodylen,
		    const char *armor, size_t armorlen, struct hlx_buf *out);

/* The canonical form of a JSON value (malloc'd; NULL when out of memory). */
char *hlx_signed_canonical(const json_t *o);

/* A parsed file: the body object and where the body and signature texts
 * are (inside file, valid until hlx_signed_free). */
struct hlx_signed {
	json_t *file, *body;
	const char *b, *a;
	size_t bl, al;
};

/* Parse a file of at most max bytes: exactly the two members, both strings
 * without NUL, the body a JSON object in canonical form.  On failure *s
 * holds nothing to free. */
int hlx_signed_parse(const char *what, const char *text, size_t n, size_t max,
		     struct hlx_signed *s);
void hlx_signed_free(struct hlx_signed *s);

/* Members of a body, with errors naming what (NULL: nothing, for a
 * caller that says where itself) and the member k: a string without NUL,
 * an integer >= 0, and a text s[0 .. n) of exactly want lowercase hex
 * digits ("head: 'commit' must be 40 hex digits, got 12"). */
int hlx_signed_str(const char *what, json_t *o, const char *k, const char **s,
		   size_t *n);
int hlx_signed_count(const char *what, json_t *o, const char *k, uint64_t *u);
int hlx_signed_hex(const char *what, const char *k, const char *s, size_t n,
		   size_t want);

#endif
