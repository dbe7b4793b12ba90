/* SPDX-License-Identifier: MIT */
/*
 * RFC 3339 UTC timestamps with pure calendar arithmetic: days_from_civil
 * and civil_from_days as described by Howard Hinnant ("chrono-Compatible
 * Low-Level Date Algorithms"), restricted to years 1970..9999.
 */
#include "rtime.h"
#include "err.h"
#include "hash.h"

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400; /* y >= 1969 here, so no negative division */
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = z / 146097; /* z >= 0 here */
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Value of the digits s[0, n), or -1 if one is not a digit. */
static int digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int hlx_time_valid(int64_t t)
{
	return t >= HLX_TIME_MIN && t <= HLX_TIME_MAX;
}

int hlx_time_parse(const char *s, size_t n, int64_t *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	char q[HLX_QUOTE_SIZE];
	int y, mo, d, h, mi, sec;
	size_t i;

	if (n != 20)
		return hlx_err(HLX_EINVAL,
			       "time '%s': expected YYYY-MM-DDTHH:MM:SSZ (20 characters), got %zu",
			       hlx_quote(q, s, n), n);
	for (i = 0; i < 20; i++) {
		int ok = shape[i] == 'd' ? s[i] >= '0' && s[i] <= '9'
					 : s[i] == shape[i];

		if (!ok)
			return hlx_err(HLX_EINVAL,
				       "time '%s': expected %s at position %zu (format YYYY-MM-DDTHH:MM:SSZ)",
				       hlx_quote(q, s, n),
				       shape[i] == 'd' ? "a digit" :
				       shape[i] == '-' ? "'-'" :
				       shape[i] == 'T' ? "'T'" :
				       shape[i] == ':' ? "':'" : "'Z'",
				       i);
	}
	y = digits(s, 4);
	mo = digits(s + 5, 2);
	d = digits(s + 8, 2);
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (y < 1970)
		return hlx_err(HLX_EINVAL, "time '%s': year before 1970",
			       hlx_quote(q, s, n));
	if (mo < 1 || mo > 12)
		return hlx_err(HLX_EINVAL, "time '%s': month %02d out of range",
			       hlx_quote(q, s, n), mo);
	if (d < 1 || d > days_in_month(y, mo))
		return hlx_err(HLX_EINVAL,
			       "time '%s': day %02d out of range for %04d-%02d",
			       hlx_quote(q, s, n), d, y, mo);
	if (h > 23)
		return hlx_err(HLX_EINVAL, "time '%s': hour %02d out of range",
			       hlx_quote(q, s, n), h);
	if (mi > 59)
		return hlx_err(HLX_EINVAL, "time '%s': minute %02d out of range",
			       hlx_quote(q, s, n), mi);
	if (sec > 59)
		return hlx_err(HLX_EINVAL,
			       "time '%s': second %02d out of range (no leap seconds)",
			       hlx_quote(q, s, n), sec);
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return HLX_OK;
}

void hlx_time_format(int64_t t, char out[HLX_TIME_TEXT])
{
	int64_t y, days, secs;
	int m, d, i;
	char *o = out;
	int v[6];
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	static const char sep[6] = { '-', '-', 'T', ':', ':', 'Z' };

	if (t < HLX_TIME_MIN)
		t = HLX_TIME_MIN;
	if (t > HLX_TIME_MAX)
		t = HLX_TIME_MAX;
	days = t / 86400;
	secs = t % 86400;
	civil_from_days(days, &y, &m, &d);
	v[0] = (int)y;
	v[1] = m;
	v[2] = d;
	v[3] = (int)(secs / 3600);
	v[4] = (int)(secs / 60 % 60);
	v[5] = (int)(secs % 60);
	for (i = 0; i < 6; i++) {
		int k, x = v[i];

		for (k = width[i] - 1; k >= 0; k--) {
			o[k] = (char)('0' + x % 10);
			x /= 10;
		}
		o += width[i];
		*o++ = sep[i];
	}
	*o = '\0';
}
