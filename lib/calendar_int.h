/*
 * calendar_int.h: the calendar's looks over time that only the library's
 * warm planner and replay use (cw.h has what programs call).
 */
#ifndef CW_CALENDAR_INT_H
#define CW_CALENDAR_INT_H

#include "cw.h"
#include "cal_int.h"

/* Every session open from a day before from_s to to_s, ascending, into
 * *out (the caller frees it). CW_ENOMEM. */
int cw_calendar_opens(const struct cw_calendar *cal, int64_t from_s,
    int64_t to_s, int64_t **out, size_t *n, struct cw_err *err);

/* The releases due within [at_s, at_s + lead_s], in file order; returns
 * how many (at most cap). Their `session` is the release's keys. */
size_t cw_calendar_releasing(const struct cw_calendar *cal, int64_t at_s,
    int64_t lead_s, struct cw_cal_open *out, size_t cap);

/* ---- the calendar's looks that the planner, the replay and the tests use ---- */

/* The session called name, else the release's keys, or NULL. */
const struct cw_cal_session *cw_calendar_session(
    const struct cw_calendar *cal, const char *name);
/* A weekday that is not a holiday. */
int cw_calendar_trading_day(const struct cw_calendar *cal, int64_t day);

/* The sessions that open within [at_s, at_s + lead_s] on a trading day
 * outside the FX weekend, in calendar order; returns how many (at most
 * cap). */
size_t cw_calendar_opening(const struct cw_calendar *cal, int64_t at_s,
    int64_t lead_s, struct cw_cal_open *out, size_t cap);
/* Session s's trading day at at_s: its local day then, or the next one
 * it opens on. CW_ENOTFOUND when none within two weeks. For a release's
 * keys: its next date at or after at_s's local day, however far. */
int cw_calendar_day_of(const struct cw_calendar *cal,
    const struct cw_cal_session *s, int64_t at_s, struct cw_cal_open *out);

/* Append the keys an opening warms, one a line: every instrument of the
 * session x type x granularity x (its day and days_back trading days
 * before), TYPE:INSTRUMENT:GRAN:YYYY-MM-DD. */
int cw_calendar_keys(const struct cw_calendar *cal,
    const struct cw_cal_open *o, struct cw_buf *out, struct cw_err *err);

#endif /* CW_CALENDAR_INT_H */
