/* SPDX-License-Identifier: MIT */
/*
 * Timestamps (spec/records.md, section 3).
 *
 * A time is an int64_t count of seconds since 1970-01-01T00:00:00Z, without
 * leap seconds, between HLX_TIME_MIN and HLX_TIME_MAX.  Its one text form
 * is RFC 3339 in UTC with whole seconds: "YYYY-MM-DDTHH:MM:SSZ".  The
 * arithmetic is pure (days from civil), never the C library's time zone
 * or locale code.
 */
#ifndef HLX_RTIME_H
#define HLX_RTIME_H

#include <stddef.h>
#include <stdint.h>

#define HLX_TIME_MIN 0LL                /* 1970-01-01T00:00:00Z */
#define HLX_TIME_MAX 253402300799LL     /* 9999-12-31T23:59:59Z */
#define HLX_TIME_TEXT 21                /* 20 characters and a NUL */

/*
 * Parse exactly "YYYY-MM-DDTHH:MM:SSZ" (uppercase T and Z), years 1970 to
 * 9999, day valid for the month (leap years included), hour 0..23, minute
 * and second 0..59.  No other form is accepted: no lowercase, no offsets,
 * no fractions, no leap second.  *t is only written on success.
 */
int hlx_time_parse(const char *s, size_t n, int64_t *t);

/* 1 if t is within HLX_TIME_MIN..HLX_TIME_MAX, else 0. */
int hlx_time_valid(int64_t t);

/* Write the text form and a NUL.  A t outside the valid range is clamped
 * to it; check hlx_time_valid() first where that matters. */
void hlx_time_format(int64_t t, char out[HLX_TIME_TEXT]);

#endif
