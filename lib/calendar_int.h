/*
 * calendar_int.h: the calendar's looks over time that only the library's
 * warm planner and replay use (cw.h has what programs call).
 */
#ifndef CW_CALENDAR_INT_H
#define CW_CALENDAR_INT_H

#include "cw.h"

/* Every session open from a day before from_s to to_s, ascending, into
 * *out (the caller frees it). CW_ENOMEM. */
int cw_calendar_opens(const struct cw_calendar *cal, int64_t from_s,
    int64_t to_s, int64_t **out, size_t *n, struct cw_err *err);

/* The releases due within [at_s, at_s + lead_s], in file order; returns
 * how many (at most cap). Their `session` is the release's keys. */
size_t cw_calendar_releasing(const struct cw_calendar *cal, int64_t at_s,
    int64_t lead_s, struct cw_cal_open *out, size_t cap);

#endif /* CW_CALENDAR_INT_H */
