/*
 * cal_int.h: market time's arithmetic (days, trading days, POSIX zone
 * rules, the four FX sessions) for the calendar, the predictor, the
 * workload and the fills. Programs see times only as the calendar and
 * cw_cal_parse_utc give them.
 */
#ifndef CW_CAL_INT_H
#define CW_CAL_INT_H

#include "cw.h"

/* a / b rounded toward minus infinity (b > 0): the day of a time, the
 * week of a day, for times before 1970 as after. */
int64_t cw_cal_floor_div(int64_t a, int64_t b);
/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t cw_cal_days_from_civil(int y, int m, int d);
void cw_cal_civil_from_days(int64_t days, int *y, int *m, int *d);
/* Day of the week of a day number: 0 Monday .. 6 Sunday. */
int cw_cal_weekday(int64_t days);
/* The trading day of a day number: weekdays count 0, 1, 2, ... and a
 * Saturday or Sunday shares the Friday before it, so that "one trading
 * day back" from a Monday is the Friday. */
int64_t cw_cal_tday(int64_t days);
/* The weekday a trading day number names, as a day number. */
int64_t cw_cal_tday_days(int64_t tday);

/* Local time of a moment in a zone. */
struct cw_local {
	int64_t days;		/* local day number */
	int weekday;		/* 0 Monday .. 6 Sunday */
	int hour, minute;
};

/* Parse a POSIX TZ rule; CW_EDATA when it is not one. */
int cw_cal_tz_parse(const char *spec, struct cw_tz *tz, struct cw_err *err);
/* Seconds east of UTC in force at a moment. */
int32_t cw_cal_tz_offset_s(const struct cw_tz *tz, int64_t utc_s);
void cw_cal_tz_local(const struct cw_tz *tz, int64_t utc_s, struct cw_local *out);

struct cw_session {
	const char *name;	/* "london" */
	const char *zone;	/* IANA name, for people */
	const char *posix_tz;	/* the rule used */
	int open_min, close_min;	/* local minutes after midnight */
	const char *currencies;	/* space-separated ISO codes */
};

/* The session whose currencies include ccy (three letters), -1 for
 * none. */
int cw_cal_currency_session(const char *ccy, size_t len);

/* Session i (0 .. CW_SESSION_COUNT-1), or NULL. */
const struct cw_session *cw_cal_session_get(unsigned i);
/* The zone of session i. */
int cw_cal_session_tz(unsigned i, struct cw_tz *tz);
/* Nonzero when a local time is inside the session (weekdays only). */
int cw_cal_session_is_open(const struct cw_session *s, const struct cw_local *l);
/* Nonzero while FX trades: Sunday 17:00 to Friday 17:00 New York time;
 * new_york is that session's zone. */
int cw_cal_fx_open(const struct cw_tz *new_york, int64_t utc_s);

#endif /* CW_CAL_INT_H */
