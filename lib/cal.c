/*
 * cal: market time. Civil dates, time zones, trading days and the four
 * FX sessions.
 *
 * Zones are POSIX TZ rules ("GMT0BST,M3.5.0/1,M10.5.0"), the same rule
 * every TZif file carries in its footer for times past its table. Every
 * session rule in force since 2007 is expressible so, and the rules are
 * embedded: the predictor and the generator then agree on local time on
 * any machine, with or without tzdata, and no process-wide TZ variable
 * (localtime_r's global state) is touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cw.h"
#include "cal_int.h"
#include "key_int.h"

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Hinnant's method). */
int64_t
cw_cal_days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
cw_cal_civil_from_days(int64_t days, int *y, int *m, int *d)
{
	int64_t z = days + 719468, era, doe, yoe, doy, mp;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int
cw_cal_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (3 with Monday 0). */
	int64_t w = (days + 3) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

int64_t
cw_cal_floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t
cw_cal_tday(int64_t days)
{
	int64_t monday_based = days + 3;
	int64_t weeks = cw_cal_floor_div(monday_based, 7);
	int dow = (int)(monday_based - weeks * 7);

	return weeks * 5 + (dow > 4 ? 4 : dow);
}

int64_t
cw_cal_tday_days(int64_t tday)
{
	int64_t weeks = cw_cal_floor_div(tday, 5);

	return weeks * 7 + (tday - weeks * 5) - 3;
}

int
cw_cal_parse_utc(const char *s, int64_t *out_s, struct cw_err *err)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	char key[48];
	struct cw_key k;
	uint64_t u;
	const char *p = s;

	if (cw_num_parse_u64(s, 1, 100000000000ull, "time", &u, NULL) ==
	    CW_OK) {
		*out_s = (int64_t)u;
		return CW_OK;
	}
	if (sscanf(p, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		goto bad;
	/* The key grammar already knows which dates exist. */
	snprintf(key, sizeof(key), "t:i:g:%.10s", p);
	if (cw_key_parse(key, strlen(key), &k, NULL) != CW_OK)
		goto bad;
	p += 10;
	if (*p == 'T' || *p == ' ') {
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5)
			goto bad;
		p += 6;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &sec, &n) != 1 || n != 2)
				goto bad;
			p += 3;
		}
		if (*p == 'Z')
			p++;
	}
	if (*p != '\0' || h > 23 || mi > 59 || sec > 59)
		goto bad;
	*out_s = cw_cal_days_from_civil(y, mo, d) * 86400 + h * 3600 +
	    mi * 60 + sec;
	return CW_OK;
bad:
	return cw_err_set(err, CW_EDATA, 0, "'%.40s': not a time (Unix "
	    "seconds or YYYY-MM-DD[THH:MM[:SS]][Z])", s);
}

void
cw_cal_format_utc(int64_t s, char out[CW_CAL_UTC_LEN])
{
	int64_t days = cw_cal_floor_div(s, 86400), sec = s - days * 86400;
	int y, m, d;

	if (s < 0) {
		snprintf(out, CW_CAL_UTC_LEN, "-");
		return;
	}
	cw_cal_civil_from_days(days, &y, &m, &d);
	snprintf(out, CW_CAL_UTC_LEN, "%04d-%02d-%02dT%02d:%02d:%02dZ",
	    y % 10000, m, d, (int)(sec / 3600), (int)(sec % 3600 / 60),
	    (int)(sec % 60));
}

/* ---- POSIX TZ rules ---- */

static const char *
parse_name(const char *p)
{
	const char *start = p;

	if (*p == '<') {
		while (*p != '\0' && *p != '>')
			p++;
		return *p == '>' ? p + 1 : NULL;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - start >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] into seconds; hours up to 167 for rule times. */
static const char *
parse_hms(const char *p, int signed_ok, int32_t *out)
{
	int sign = 1, h = 0, m = 0, s = 0, n = 0;

	if (signed_ok && (*p == '+' || *p == '-'))
		sign = *p++ == '-' ? -1 : 1;
	if (sscanf(p, "%3d%n", &h, &n) != 1 || n == 0 || h < 0 || h > 167)
		return NULL;
	p += n;
	if (*p == ':') {
		if (sscanf(p + 1, "%2d%n", &m, &n) != 1 || m < 0 || m > 59)
			return NULL;
		p += 1 + n;
		if (*p == ':') {
			if (sscanf(p + 1, "%2d%n", &s, &n) != 1 || s < 0 ||
			    s > 59)
				return NULL;
			p += 1 + n;
		}
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *
parse_rule(const char *p, struct cw_tz_rule *r)
{
	int n = 0;

	if (sscanf(p, "M%2d.%1d.%1d%n", &r->month, &r->week, &r->wday,
	    &n) != 3 || n == 0 || r->month < 1 || r->month > 12 ||
	    r->week < 1 || r->week > 5 || r->wday < 0 || r->wday > 6)
		return NULL;
	p += n;
	r->time_s = 2 * 3600;
	if (*p == '/')
		p = parse_hms(p + 1, 1, &r->time_s);
	return p;
}

int
cw_cal_tz_parse(const char *spec, struct cw_tz *tz, struct cw_err *err)
{
	const char *p = spec;
	int32_t west;

	memset(tz, 0, sizeof(*tz));
	if ((p = parse_name(p)) == NULL || (p = parse_hms(p, 1, &west)) ==
	    NULL)
		goto bad;
	/* POSIX counts west of Greenwich as positive. */
	tz->std_offset_s = -west;
	if (*p == '\0')
		return CW_OK;
	if ((p = parse_name(p)) == NULL)
		goto bad;
	tz->dst_offset_s = tz->std_offset_s + 3600;
	if (*p != ',' && *p != '\0') {
		if ((p = parse_hms(p, 1, &west)) == NULL)
			goto bad;
		tz->dst_offset_s = -west;
	}
	if (*p != ',' || (p = parse_rule(p + 1, &tz->start)) == NULL ||
	    *p != ',' || (p = parse_rule(p + 1, &tz->end)) == NULL ||
	    *p != '\0')
		goto bad;
	tz->has_dst = 1;
	return CW_OK;
bad:
	return cw_err_set(err, CW_EDATA, 0,
	    "time zone rule '%s': not a POSIX TZ rule with Mm.w.d dates",
	    spec);
}

/* Unix seconds at which rule r fires in year y, r given in local time
 * at offset offset_s. */
static int64_t
rule_utc(const struct cw_tz_rule *r, int y, int32_t offset_s)
{
	int64_t first = cw_cal_days_from_civil(y, r->month, 1), day;
	/* POSIX weekdays count from Sunday; cw_cal_weekday from Monday. */
	int first_wday = (cw_cal_weekday(first) + 1) % 7;
	int ny = r->month == 12 ? y + 1 : y, nm = r->month % 12 + 1;
	int64_t month_days = cw_cal_days_from_civil(ny, nm, 1) - first;

	day = first + (r->wday - first_wday + 7) % 7 + 7 * (r->week - 1);
	while (day - first >= month_days)	/* week 5: the last one */
		day -= 7;
	return day * 86400 + r->time_s - offset_s;
}

int32_t
cw_cal_tz_offset_s(const struct cw_tz *tz, int64_t utc_s)
{
	int64_t start, end;
	int y, m, d;

	if (!tz->has_dst)
		return tz->std_offset_s;
	cw_cal_civil_from_days(cw_cal_floor_div(utc_s + tz->std_offset_s,
	    86400), &y, &m, &d);
	start = rule_utc(&tz->start, y, tz->std_offset_s);
	end = rule_utc(&tz->end, y, tz->dst_offset_s);
	if (start < end)	/* northern: summer inside the year */
		return utc_s >= start && utc_s < end ? tz->dst_offset_s :
		    tz->std_offset_s;
	return utc_s >= end && utc_s < start ? tz->std_offset_s :
	    tz->dst_offset_s;
}

void
cw_cal_tz_local(const struct cw_tz *tz, int64_t utc_s, struct cw_local *out)
{
	int64_t local = utc_s + cw_cal_tz_offset_s(tz, utc_s);
	int64_t days = cw_cal_floor_div(local, 86400);
	int64_t sec = local - days * 86400;

	out->days = days;
	out->weekday = cw_cal_weekday(days);
	out->hour = (int)(sec / 3600);
	out->minute = (int)(sec % 3600 / 60);
}

/* ---- sessions ---- */

/*
 * The seed's UTC table (Sydney 22-07, Tokyo 00-09, London 08-17, New York
 * 13-22) read as local hours in each city's winter, so that DST moves
 * them with the city. FX trades from Sunday 17:00 to Friday 17:00 New
 * York time.
 */
static const struct cw_session sessions[CW_SESSION_COUNT] = {
	{ "sydney", "Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3",
	    9 * 60, 18 * 60, "AUD NZD" },
	{ "tokyo", "Asia/Tokyo", "JST-9", 9 * 60, 18 * 60, "JPY CNH" },
	{ "london", "Europe/London", "GMT0BST,M3.5.0/1,M10.5.0",
	    8 * 60, 17 * 60, "EUR GBP CHF" },
	{ "new_york", "America/New_York", "EST5EDT,M3.2.0,M11.1.0",
	    8 * 60, 17 * 60, "USD CAD MXN" },
};

const struct cw_session *
cw_cal_session_get(unsigned i)
{
	return i < CW_SESSION_COUNT ? &sessions[i] : NULL;
}

int
cw_cal_session_tz(unsigned i, struct cw_tz *tz)
{
	/* The table's rules are fixed and parse; checked by a unit test. */
	return i < CW_SESSION_COUNT ?
	    cw_cal_tz_parse(sessions[i].posix_tz, tz, NULL) : CW_EUSAGE;
}

int
cw_cal_session_is_open(const struct cw_session *s, const struct cw_local *l)
{
	int minute = l->hour * 60 + l->minute;

	return l->weekday < 5 && minute >= s->open_min &&
	    minute < s->close_min;
}

int
cw_cal_fx_open(const struct cw_tz *new_york, int64_t utc_s)
{
	struct cw_local l;

	cw_cal_tz_local(new_york, utc_s, &l);
	switch (l.weekday) {
	case 4:		/* Friday: until 17:00 */
		return l.hour < 17;
	case 5:
		return 0;
	case 6:		/* Sunday: from 17:00 */
		return l.hour >= 17;
	default:
		return 1;
	}
}

int
cw_cal_currency_session(const char *ccy, size_t len)
{
	if (len != 3)
		return -1;
	for (unsigned i = 0; i < CW_SESSION_COUNT; i++) {
		/* "AUD NZD": codes of three letters, a space between. */
		for (const char *c = cw_cal_session_get(i)->currencies;
		    strlen(c) >= 3; c += c[3] == ' ' ? 4 : 3)
			if (memcmp(c, ccy, 3) == 0)
				return (int)i;
	}
	return -1;
}
