/* SPDX-License-Identifier: MIT */
#include "protocol/csv.h"
#include "protocol/err.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* a shown column name: 40 bytes, each as \xHH at most, and "..." */
#define CSV_SHOW_MAX (40 * 4 + 4)

static const char *const colnames[HLX_CSV_NCOLS] = { "hash", "category", "first_seen",
					     "confidence", "tags" };

/* Split a CSV record into at most max fields (RFC 4180 quotes allowed).
 * Fields are rewritten in place and NUL-terminated. */
int hlx_csv_split(char *s, char **f, int max, int *nf)
{
	char *w = s;
	int n = 0;

	for (;;) {
		if (n == max)
			return hlx_err(HLX_EINVAL, "more than %d fields", max);
		f[n++] = w;
		if (*s == '"') {
			s++;
			for (;;) {
				if (!*s)
					return hlx_err(HLX_EINVAL, "unterminated quote");
				if (*s == '"' && s[1] == '"') {
					*w++ = '"';
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else {
					*w++ = *s++;
				}
			}
			if (*s && *s != ',')
				return hlx_err(HLX_EINVAL, "text after a closing quote");
		} else {
			while (*s && *s != ',')
				*w++ = *s++;
		}
		if (!*s) {
			*w = '\0';
			break;
		}
		*w++ = '\0';
		s++;
	}
	*nf = n;
	return HLX_OK;
}

int hlx_csv_entry(char *line, const int *cols, int ncols,
		  struct hlx_entry *e)
{
	char *f[HLX_CSV_NCOLS + 1];
	int nf, rc;

	rc = hlx_csv_split(line, f, HLX_CSV_NCOLS + 1, &nf);
	if (rc)
		return rc;
	if (nf != ncols)
		return hlx_err(HLX_EINVAL, "%d fields, the header has %d", nf, ncols);
	hlx_entry_init(e);
	for (int i = 0; i < nf && !rc; i++) {
		const char *v = f[i];
		size_t vl = strlen(v);

		if (vl == 0 && cols[i] != HLX_CSV_HASH)
			continue;
		switch (cols[i]) {
		case HLX_CSV_HASH:
			rc = hlx_hash_parse(v, vl, &e->hash);
			break;
		case HLX_CSV_CATEGORY:
			rc = hlx_entry_token_check(v, vl, "category");
			if (!rc)
				memcpy(e->category, v, vl + 1);
			break;
		case HLX_CSV_FIRST_SEEN:
			rc = hlx_time_parse(v, vl, &e->first_seen);
			break;
		case HLX_CSV_CONFIDENCE: {
			char *end;
			long c = strtol(v, &end, 10);

			if (!isdigit((unsigned char)v[0]) || *end || c > 100)
				rc = hlx_err(HLX_EINVAL,
					     "confidence '%.20s': want 0 to 100", v);
			e->confidence = (int)c;
			break;
		}
		case HLX_CSV_TAGS:
			for (const char *p = v; !rc && *p;) {
				const char *q = strchr(p, ';');
				size_t tl = q ? (size_t)(q - p) : strlen(p);

				rc = hlx_entry_add_tag(e, p, tl);
				p += tl + (q ? 1 : 0);
				if (q && !*p)
					rc = hlx_err(HLX_EINVAL, "empty tag");
			}
			break;
		}
	}
	return rc;
}

/* A column name as typed, between blanks (a space after a comma). */
static char *trim_blanks(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Quote an unknown column name with every byte that is not printable
 * ASCII as \xHH: a byte order mark or a no-break space pasted into a name
 * must not look like the name itself. */
static void show_name(char out[CSV_SHOW_MAX], const char *name)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	for (i = 0; name[i] && i < 40; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (name[i]) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

int hlx_csv_header(char *line, int *cols, int *ncols)
{
	char *f[HLX_CSV_NCOLS + 1], shown[CSV_SHOW_MAX];
	int nf, rc, seen = 0, have_hash = 0;

	/* a UTF-8 byte order mark, as some spreadsheets write */
	if (strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	rc = hlx_csv_split(line, f, HLX_CSV_NCOLS + 1, &nf);
	if (rc)
		return hlx_err_wrap(rc, "header");
	for (int i = 0; i < nf; i++) {
		const char *name = trim_blanks(f[i]);
		int c;

		for (c = 0; c < HLX_CSV_NCOLS; c++)
			if (strcmp(name, colnames[c]) == 0)
				break;
		if (c == HLX_CSV_NCOLS) {
			show_name(shown, name);
			return hlx_err(HLX_EINVAL,
				       "header: unknown column '%s' (columns: hash, category, first_seen, confidence, tags)",
				       shown);
		}
		if (seen & (1 << c))
			return hlx_err(HLX_EINVAL, "header: column '%s' twice",
				       colnames[c]);
		seen |= 1 << c;
		have_hash |= c == HLX_CSV_HASH;
		cols[i] = c;
	}
	if (!have_hash)
		return hlx_err(HLX_EINVAL, "header: no 'hash' column");
	*ncols = nf;
	return HLX_OK;
}
