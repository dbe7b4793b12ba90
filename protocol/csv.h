/* SPDX-License-Identifier: MIT */
/*
 * The CSV form of entries (hlx import, hlx export; spec/records.md): a
 * header naming the columns, from hash (required), category, first_seen,
 * confidence and tags (tags separated by ';'), then one entry a record.
 * RFC 4180 quoting is accepted; no other column exists, so no free text
 * gets in.  Lines are handed in without their line end, NUL-terminated,
 * and are rewritten in place.
 */
#ifndef HLX_CSV_H
#define HLX_CSV_H

#include "protocol/record.h"

enum { HLX_CSV_HASH, HLX_CSV_CATEGORY, HLX_CSV_FIRST_SEEN, HLX_CSV_CONFIDENCE, HLX_CSV_TAGS,
       HLX_CSV_NCOLS };
#define HLX_CSV_COLS_MAX (HLX_CSV_NCOLS + 1)

/* Split a record into at most max fields; *nf is set on success. */
int hlx_csv_split(char *s, char **f, int max, int *nf);
/* Parse the header, the file's first line: cols[i] is the column of
 * field i.  A UTF-8 byte order mark before it is skipped, and spaces and
 * tabs around a column name; an unknown name is quoted in the error with
 * every byte that is not printable ASCII as \xHH. */
int hlx_csv_header(char *line, int *cols, int *ncols);
/* Parse one record into e (initialised here). */
int hlx_csv_entry(char *line, const int *cols, int ncols, struct hlx_entry *e);

#endif
